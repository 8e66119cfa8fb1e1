"""What can go wrong with a WhatConverts call, grouped by what the caller can do about it."""

from datetime import datetime


class WhatConvertsError(Exception):
    """Base of every client error. `status` is the HTTP status, when there was one."""

    def __init__(self, detail: str, status: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.status = status
        # Set by the client when urllib3 sent the request more than once before this answer.
        self.retried = False


class CredentialsRefused(WhatConvertsError):
    """The API token or secret was refused, or cannot reach profiles (not a master key)."""


class NotFound(WhatConvertsError):
    """The account or profile does not exist (or the key cannot see it)."""

    def __init__(self, detail: str, what: str, status: int | None = None):
        super().__init__(detail, status)
        self.what = what


class InputRejected(WhatConvertsError):
    """WhatConverts refused what was sent; `detail` is its own words when `reason_given`.

    A refusal without a word (a bare 400) has `reason_given` false and a `detail` of our own.
    """

    def __init__(self, detail: str, status: int | None = None, reason_given: bool = True):
        super().__init__(detail, status)
        self.reason_given = reason_given


class RateLimited(WhatConvertsError):
    """Too many requests; `retry_after` is seconds to wait, when known."""

    def __init__(self, detail: str, retry_after: float | None = None, status: int | None = 429):
        super().__init__(detail, status)
        self.retry_after = retry_after


class QuotaExhausted(RateLimited):
    """The daily request quota is spent; every request fails until `resets_at` (midnight UTC)."""

    def __init__(self, detail: str, resets_at: datetime, status: int | None = 429):
        super().__init__(detail, retry_after=None, status=status)
        self.resets_at = resets_at


class Unavailable(WhatConvertsError):
    """WhatConverts could not be reached or answered nonsense.

    `may_have_applied` is true when a write may have reached the server before the answer was
    lost: the caller must not send it again blindly.
    """

    def __init__(self, detail: str, status: int | None = None, may_have_applied: bool = False):
        super().__init__(detail, status)
        self.may_have_applied = may_have_applied
