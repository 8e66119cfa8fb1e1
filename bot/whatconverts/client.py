"""One pooled `requests` session for the WhatConverts profiles API.

The connection pool is the concurrency cap: it holds at most `max_connections` connections and
blocks further callers until one is free, so however many threads call in, WhatConverts never sees
more than that many requests from this process at once.
"""

import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime, timedelta

import requests
from pydantic import ValidationError
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry

from bot.whatconverts.errors import (
    CredentialsRefused,
    InputRejected,
    NotFound,
    QuotaExhausted,
    RateLimited,
    Unavailable,
    WhatConvertsError,
)
from bot.whatconverts.models import AccountPage, Deleted, Profile, ProfilePage

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.05
MAX_PER_PAGE = 250
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Only reads and deletes are repeated after a request may have reached the server: a repeated
# create makes a second profile. Connection failures (nothing sent) are retried for every verb.
RETRY_METHODS = frozenset({"GET", "DELETE"})
# A write answered with one of these was refused before any work: it did not apply. Any other
# server error (500, a gateway's 502 or 504) or a 2xx we cannot read may come after the work.
NOT_APPLIED_STATUSES = frozenset({429, 503})
_INVALID_ID = re.compile(r"invalid (account|profile) id", re.IGNORECASE)
_QUOTA_WORDS = re.compile(r"daily|per day|for the day|quota", re.IGNORECASE)
_CREDENTIAL_WORDS = re.compile(r"api (token|key|secret)|unauthori[sz]ed|master account", re.I)


class CappedRetry(Retry):
    """urllib3's Retry with two ceilings, so that a user always hears back within a minute.

    WhatConverts does not document its throttling answer; a long `Retry-After` would otherwise
    hold a user's command for as long as the server asks. And no retry starts more than
    `BUDGET_SECONDS` after the first failure. Worst case: a first attempt (13 s of timeouts),
    the budget (20 s), one capped wait (8 s) and a last attempt (13 s): 54 s.
    """

    MAX_RETRY_AFTER = 8.0
    BUDGET_SECONDS = 20.0

    def __init__(self, *args, first_failure_at: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.first_failure_at = first_failure_at

    def new(self, **kwargs):
        # urllib3 calls new() on every failure: the first one starts the clock.
        kwargs.setdefault("first_failure_at", self.first_failure_at or time.monotonic())
        return super().new(**kwargs)

    def is_exhausted(self) -> bool:
        started = self.first_failure_at
        late = started is not None and time.monotonic() - started > self.BUDGET_SECONDS
        return late or super().is_exhausted()

    def get_retry_after(self, response):
        try:
            seconds = super().get_retry_after(response)
        except InvalidHeader:
            # A header we cannot read must not turn a retryable answer into a failure: back off.
            return None
        return None if seconds is None else min(seconds, self.MAX_RETRY_AFTER)


def default_retry() -> Retry:
    """At most 3 retries with jittered exponential backoff: the user hears back within a minute."""
    return CappedRetry(
        total=3,
        connect=3,
        read=2,
        status=3,
        other=0,
        allowed_methods=RETRY_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.5,
        backoff_max=8,
        backoff_jitter=0.5,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def next_quota_reset(now: datetime | None = None) -> datetime:
    """The daily quota resets at midnight UTC."""
    now = now or datetime.now(UTC)
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


class WhatConverts:
    """The profiles resource of one WhatConverts master account."""

    def __init__(
        self,
        base_url: str,
        token: str,
        secret: str,
        *,
        max_connections: int = 10,
        timeout: float = 10.0,
        retry: Retry | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.max_connections = max_connections
        self._timeout = (CONNECT_TIMEOUT, timeout)

        adapter = HTTPAdapter(
            pool_connections=1,
            pool_maxsize=max_connections,
            pool_block=True,
            max_retries=retry or default_retry(),
        )
        self._session = requests.Session()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.auth = (token, secret)
        self._session.headers.update({"Accept": "application/json", "User-Agent": "profiles-bot"})
        self._calls = threading.local()

    def calls_made(self) -> int:
        """Requests this thread has sent through the client (retries not counted), for logs."""
        return getattr(self._calls, "count", 0)

    def close(self) -> None:
        self._session.close()

    # The profiles resource

    def list_profiles(
        self,
        account_id: int,
        *,
        page: int = 1,
        per_page: int = 25,
        since: str | None = None,
        until: str | None = None,
        order: str | None = None,
    ) -> ProfilePage:
        params = {"page_number": page, "profiles_per_page": per_page}
        for key, value in (("start_date", since), ("end_date", until), ("order", order)):
            if value is not None:
                params[key] = value

        body, _ = self._call("GET", f"/accounts/{account_id}/profiles", params=params)
        return self._parse(ProfilePage, body)

    def get_profile(self, account_id: int, profile_id: int) -> Profile:
        path = f"/accounts/{account_id}/profiles/{profile_id}"
        body, _ = self._call("GET", path)

        # Documented as the list's answer; some servers send the bare profile instead.
        if isinstance(body.get("profiles"), list):
            if not body["profiles"]:
                raise NotFound("no profile in the answer", what="profile")
            body = body["profiles"][0]
        return self._parse(Profile, body)

    def create_profile(self, account_id: int, name: str) -> Profile:
        path = f"/accounts/{account_id}/profiles"
        body, _ = self._call("POST", path, data={"profile_name": name})
        return self._parse(Profile, body, wrote=True)

    def rename_profile(self, account_id: int, profile_id: int, name: str) -> Profile:
        path = f"/accounts/{account_id}/profiles/{profile_id}"
        body, _ = self._call("POST", path, data={"profile_name": name})
        return self._parse(Profile, body, wrote=True)

    def delete_profile(self, account_id: int, profile_id: int) -> Deleted:
        path = f"/accounts/{account_id}/profiles/{profile_id}"
        try:
            self._call("DELETE", path)
        except NotFound as error:
            # Our own earlier attempt deleted it and its answer was lost: that is success.
            if error.retried and error.what == "profile":
                return Deleted(profile_id=profile_id, already_gone=True)
            raise
        return Deleted(profile_id=profile_id)

    def list_accounts(self, *, page: int = 1, per_page: int = 25) -> AccountPage:
        params = {"page_number": page, "accounts_per_page": per_page}
        body, _ = self._call("GET", "/accounts", params=params)
        return self._parse(AccountPage, body)

    def all_profiles(
        self,
        account_id: int,
        *,
        since: str | None = None,
        until: str | None = None,
        on_page: Callable[[int, int], None] | None = None,
    ) -> list[Profile]:
        """Every matching profile, newest first, fetched a full page (250) at a time.

        The first page tells how many there are; the rest are fetched in parallel, as many at
        once as the connection pool allows. `on_page(done, total)` follows the progress.
        """
        def fetch(page: int) -> ProfilePage:
            return self.list_profiles(account_id, page=page, per_page=MAX_PER_PAGE,
                                      since=since, until=until)

        first = fetch(1)
        total = max(first.total_pages, 1)
        pages = {1: first.profiles}
        if on_page:
            on_page(1, total)
        if total > 1:
            with ThreadPoolExecutor(max_workers=self.max_connections,
                                    thread_name_prefix="pages") as pool:
                futures = {pool.submit(fetch, page): page for page in range(2, total + 1)}
                try:
                    for done, future in enumerate(as_completed(futures), start=2):
                        pages[futures[future]] = future.result().profiles
                        if on_page:
                            on_page(done, total)
                except BaseException:
                    for future in futures:  # one page failed: the rest would be wasted calls
                        future.cancel()
                    raise
                finally:
                    self._calls.count = self.calls_made() + sum(
                        f.done() and not f.cancelled() for f in futures)
        # A profile created while paging shifts the rest down a row: keep its first sighting.
        unique: dict[int, Profile] = {}
        for page in sorted(pages):
            for profile in pages[page]:
                unique.setdefault(profile.profile_id, profile)
        return list(unique.values())

    # Transport

    def _call(self, method: str, path: str, *, params=None, data=None) -> tuple[dict, int]:
        """Send one request (urllib3 retries it where allowed); answer the JSON body and retries."""
        what = "profile" if "/profiles/" in path else "account"
        self._calls.count = self.calls_made() + 1
        started = time.monotonic()
        try:
            response = self._session.request(
                method, self.base_url + path, params=params, data=data, timeout=self._timeout
            )
        except requests.RequestException as error:
            sent = _may_have_been_sent(error)
            logger.warning(
                "whatconverts %s %s failed after %.0f ms: %s",
                method, path, _ms(started), type(error).__name__,
            )
            raise Unavailable(
                f"could not reach WhatConverts ({type(error).__name__})",
                may_have_applied=sent and method not in RETRY_METHODS,
            ) from None

        retries = len(response.raw.retries.history) if response.raw.retries else 0
        logger.info(
            "whatconverts %s %s -> %s in %.0f ms (retries %d)",
            method, path, response.status_code, _ms(started), retries,
        )
        try:
            return _check(response, what), retries
        except WhatConvertsError as error:
            error.retried = retries > 0
            if isinstance(error, Unavailable) and method not in RETRY_METHODS:
                error.may_have_applied = response.status_code not in NOT_APPLIED_STATUSES
            raise

    @staticmethod
    def _parse(model, body: dict, wrote: bool = False):
        try:
            return model.model_validate(body)
        except ValidationError as error:
            logger.warning("whatconverts answer did not fit %s: %s", model.__name__, error)
            # A write answered 2xx was done, whatever shape the answer came in.
            raise Unavailable(
                "WhatConverts answered in an unexpected shape", may_have_applied=wrote
            ) from None


def _check(response: requests.Response, what: str) -> dict:
    """The JSON body, or the error it stands for: `error_message` counts whatever the status."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None

    message = body.get("error_message") if isinstance(body, dict) else None
    if status < 400 and not message:
        if not isinstance(body, dict):
            raise Unavailable("WhatConverts answered with something other than JSON", status)
        return body

    message = str(message or "")
    if status in (401, 403) or _CREDENTIAL_WORDS.search(message):
        raise CredentialsRefused(message or f"refused with status {status}", status)
    if status == 429:
        if _QUOTA_WORDS.search(message):
            raise QuotaExhausted(message, resets_at=next_quota_reset(), status=status)
        retry_after = response.headers.get("Retry-After")
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        raise RateLimited(message or "too many requests", retry_after=seconds, status=status)
    if status >= 500:
        raise Unavailable(message or f"WhatConverts answered {status}", status)

    invalid = _INVALID_ID.search(message)
    if invalid:
        raise NotFound(message, what=invalid.group(1).lower(), status=status)
    if status == 404:
        raise NotFound(message or "not found", what=what, status=status)
    raise InputRejected(message or f"refused with status {status}", status)


def _may_have_been_sent(error: requests.RequestException) -> bool:
    """False only when the connection was never made, so the server cannot have seen the request."""
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return not isinstance(reason, ConnectTimeoutError) and not isinstance(
        error, requests.exceptions.ConnectTimeout
    )


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
