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
from urllib3.exceptions import ConnectTimeoutError, InvalidHeader, MaxRetryError, ResponseError
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
INTERACTIVE_RESERVE = 2  # connections bulk fetches (export, find) leave to single commands
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

    WhatConverts does not document its throttling answer. An answer asking for a wait longer than
    `MAX_RETRY_AFTER` is not retried at all: waiting would hold a user's command for as long as
    the server asks, and sending again sooner goes against what it asked; the caller gets the
    answer, `Retry-After` and all. And no retry starts more than `BUDGET_SECONDS` after the first
    failure. Worst case: a first attempt (13 s of timeouts), the budget (20 s), one wait (8 s)
    and a last attempt (13 s): 54 s.
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

    def increment(self, method=None, url=None, response=None, error=None, _pool=None,
                  _stacktrace=None):
        asked = _asked_wait(response.headers) if response is not None else None
        if asked is not None and asked > self.MAX_RETRY_AFTER:
            # With raise_on_status off, urllib3's urlopen answers this response at once.
            raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {asked:.0f} s"))

        try:
            return super().increment(method, url, response, error, _pool, _stacktrace)
        except MaxRetryError as exhausted:
            # The last error alone would hide an earlier attempt that reached the server.
            exhausted.earlier = self.history
            raise

    def get_retry_after(self, response):
        seconds = _asked_wait(response.headers)
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


# urllib3's own reading of Retry-After, seconds or an HTTP date (it caps either at six hours).
_RETRY_AFTER_READER = Retry()


def _asked_wait(headers) -> float | None:
    """`Retry-After` in seconds, given as seconds or as an HTTP date; None if absent or unreadable.

    A header we cannot read must not turn a retryable answer into a failure: urllib3 backs off.
    """
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(_RETRY_AFTER_READER.parse_retry_after(value))
    except InvalidHeader:
        return None


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
        # A 40-page export must not make a teammate's `list` wait behind it for the pool.
        self._bulk_size = max(1, max_connections - INTERACTIVE_RESERVE)
        self._bulk = threading.BoundedSemaphore(self._bulk_size)
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
        return self._one_profile(body)

    def create_profile(self, account_id: int, name: str) -> Profile:
        path = f"/accounts/{account_id}/profiles"
        body, _ = self._call("POST", path, data={"profile_name": name})
        return self._one_profile(body, wrote=True)

    def rename_profile(self, account_id: int, profile_id: int, name: str) -> Profile:
        path = f"/accounts/{account_id}/profiles/{profile_id}"
        body, _ = self._call("POST", path, data={"profile_name": name})
        return self._one_profile(body, wrote=True)

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

        The first page tells how many there are; the rest are fetched in parallel, leaving
        `INTERACTIVE_RESERVE` connections of the pool to everyone else's commands, however many
        exports and finds run at once. `on_page(done, total)` follows the progress.
        """
        def fetch(page: int) -> ProfilePage:
            with self._bulk:
                return self.list_profiles(account_id, page=page, per_page=MAX_PER_PAGE,
                                          since=since, until=until)

        first = fetch(1)
        total = max(first.total_pages, 1)
        pages = {1: first.profiles}
        if on_page:
            on_page(1, total)
        if total > 1:
            with ThreadPoolExecutor(max_workers=self._bulk_size,
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
        """Send one request (urllib3 retries it where allowed); answer the JSON body and retries.

        Only a read is harmless to have lost: any other request (a delete too) whose answer was
        lost after it may have reached the server is `Unavailable(may_have_applied=True)`.
        """
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
                may_have_applied=sent and method != "GET",
            ) from None

        retries = len(response.raw.retries.history) if response.raw.retries else 0
        logger.info(
            "whatconverts %s %s -> %s in %.0f ms (retries %d)",
            method, path, response.status_code, _ms(started), retries,
        )
        try:
            return _check(response, _subject(path), read=method == "GET"), retries
        except WhatConvertsError as error:
            error.retried = retries > 0
            if isinstance(error, Unavailable) and method != "GET":
                earlier = response.raw.retries.history if response.raw.retries else ()
                error.may_have_applied = response.status_code not in NOT_APPLIED_STATUSES or any(
                    _attempt_may_have_applied(attempt.error, attempt.status) for attempt in earlier
                )
            raise

    def _one_profile(self, body: dict, wrote: bool = False) -> Profile:
        """The profile an answer is about: the list's wrapper with one item, or the bare object."""
        profiles = body.get("profiles")
        if isinstance(profiles, list):
            if not profiles and not wrote:
                raise NotFound("no profile in the answer", what="profile")
            # A write answered with an empty list was done all the same: _parse says so.
            body = profiles[0] if profiles else {}
        return self._parse(Profile, body, wrote=wrote)

    @staticmethod
    def _parse(model, body: dict, wrote: bool = False):
        try:
            return model.model_validate(body)
        except ValidationError as error:
            # Where and what, never the input: pydantic's own text quotes profile names.
            problems = [
                f"{'.'.join(map(str, problem['loc'])) or 'body'} {problem['type']}"
                for problem in error.errors(include_url=False, include_input=False)[:5]
            ]
            logger.warning(
                "whatconverts answer did not fit %s: %d problems (%s)",
                model.__name__, error.error_count(), ", ".join(problems),
            )
            # A write answered 2xx was done, whatever shape the answer came in.
            raise Unavailable(
                "WhatConverts answered in an unexpected shape", may_have_applied=wrote
            ) from None


def _subject(path: str) -> str | None:
    """What a path's last id names: the account or the profile; None for the accounts list."""
    if "/profiles/" in path:
        return "profile"
    return "account" if path.startswith("/accounts/") else None


def _check(response: requests.Response, what: str | None, read: bool) -> dict:
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
    # The quota's status is undocumented: its words decide, before a 403 could blame the key.
    if _QUOTA_WORDS.search(message):
        raise QuotaExhausted(message, resets_at=next_quota_reset(), status=status)
    if status in (401, 403) or _CREDENTIAL_WORDS.search(message):
        raise CredentialsRefused(message or f"refused with status {status}", status)
    if status == 429:
        seconds = _asked_wait(response.headers)
        raise RateLimited(message or "too many requests", retry_after=seconds, status=status)
    if status >= 500:
        raise Unavailable(message or f"WhatConverts answered {status}", status)

    invalid = _INVALID_ID.search(message)
    if invalid:
        raise NotFound(message, what=invalid.group(1).lower(), status=status)
    if status == 404:
        raise NotFound(message or "not found", what=what or "account", status=status)
    if status == 400 and read and what and not message:
        # The bot checks every parameter it sends, so a read refused without a word has a bad
        # id: an old client saw an unknown account answered so.
        raise NotFound("refused with status 400, no reason given", what=what, status=status)
    if not message:
        raise InputRejected(f"refused with status {status}, no reason given", status,
                            reason_given=False)
    raise InputRejected(message, status)


def _may_have_been_sent(error: requests.RequestException) -> bool:
    """False only when no connection was ever made, so the server cannot have seen the request."""
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        earlier = getattr(reason, "earlier", ())
        return _attempt_may_have_applied(reason.reason, None) or any(
            _attempt_may_have_applied(attempt.error, attempt.status) for attempt in earlier
        )
    return not isinstance(reason, ConnectTimeoutError) and not isinstance(
        error, requests.exceptions.ConnectTimeout
    )


def _attempt_may_have_applied(error: Exception | None, status: int | None) -> bool:
    """One attempt in urllib3's history: did it reach the server without being told "not done"?"""
    if error is not None:
        # NewConnectionError (refused, unreachable) is a ConnectTimeoutError too: nothing sent.
        return not isinstance(error, ConnectTimeoutError)
    return status not in NOT_APPLIED_STATUSES


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
