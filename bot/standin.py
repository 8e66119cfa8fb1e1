"""A local stand-in of the WhatConverts API, in the spirit of stripe-mock.

It serves the account and profile endpoints on loopback from memory, so the tests, the
benchmark and the demo never touch the real API. It can also misbehave on request: answer
an error, lose the answer to a write, run out of daily quota, or answer slowly.

    with StandIn(latency=0.05) as api:
        requests.get(f"{api.url}/accounts/1001/profiles", auth=("demo-token", "demo-secret"))

Run it alone with `python -m bot.standin --port 8099`.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import logging
import math
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger(__name__)

BASE_PATH = "/api/v1"
MAX_PER_PAGE = 250
DEFAULT_PER_PAGE = 25
WRITE_METHODS = frozenset({"POST", "DELETE"})
SINGLE_SHAPES = ("list", "bare")

INVALID_CREDENTIALS = "Invalid API token or secret."
INVALID_ACCOUNT = "Invalid account ID."
INVALID_PROFILE = "Invalid profile ID."
NAME_REQUIRED = "Profile name is required."
QUOTA_REACHED = "Daily API request limit reached."
NOT_FOUND = "Not found."

DATE_FORMAT = "%Y-%m-%d"
DATE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# 12 locations and 5 name forms, paired by index modulo each (12 and 5 are coprime), make
# 60 distinct agency-style profile names with the forms mixed on every page.
ACME_LOCATIONS = (
    "Downtown", "Westside", "Northgate", "Riverside", "Lakeview", "Eastwood",
    "Hillcrest", "Midtown", "Harbor Point", "Oak Park", "Southfield", "Cedar Grove",
)
ACME_NAME_FORMS = (
    "Acme Dental – {place}",
    "Acme Dental – {place} – Google Ads",
    "Acme Dental {place} (Facebook Ads)",
    "Acme Dental – {place} Implants Landing Page",
    "Acme Dental – {place} – Bing & Yelp",
)
SMITH_PROFILES = (
    ("Smith & Sons <Main>", "2025-06-03T09:12:45Z"),
    ("Smith & Sons – Storm Damage", "2025-09-17T16:40:02Z"),
    ("Smith & Sons – Google LSA", "2026-02-11T11:05:37Z"),
)


@dataclass(frozen=True)
class Recorded:
    """One request as the stand-in received it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    authorized: bool


@dataclass
class _Failure:
    status: int
    body: bytes
    headers: dict[str, str]
    times: int
    method: str | None


@dataclass
class _Account:
    account_id: int
    name: str
    date_created: datetime
    profiles: dict[int, dict]


class _ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _utc(text: str) -> datetime:
    return datetime.strptime(text, DATE_TIME_FORMAT).replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.strftime(DATE_TIME_FORMAT)


def _profile_view(profile: dict) -> dict:
    return {
        "profile_id": profile["profile_id"],
        "profile_name": profile["profile_name"],
        "date_created": _iso(profile["date_created"]),
    }


def _json_bytes(payload) -> bytes:
    return json.dumps(payload).encode("utf-8")


def _single_values(pairs: dict[str, list[str]]) -> dict[str, str]:
    # Like a PHP backend, the last of repeated parameters wins.
    return {key: values[-1] for key, values in pairs.items()}


def _parse_form(body: bytes, content_type: str) -> dict[str, str]:
    if not body:
        return {}

    if "json" in content_type.lower():
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return {}
        if not isinstance(document, dict):
            return {}
        return {
            str(key): value if isinstance(value, str) else json.dumps(value)
            for key, value in document.items()
        }

    text = body.decode("utf-8", errors="replace")
    return _single_values(parse_qs(text, keep_blank_values=True))


def _parse_id(text: str, message: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise _ApiError(400, message)
    return int(text)


def _parse_moment(text: str, name: str, end_of_day: bool) -> tuple[datetime, bool]:
    """Return the moment and whether it is exclusive (a date-only end covers its whole day)."""
    try:
        return _utc(text), False
    except ValueError:
        pass

    try:
        day = datetime.strptime(text, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise _ApiError(400, f"Invalid {name}.") from None
    if end_of_day:
        return day + timedelta(days=1), True
    return day, False


def _bounded_int(query: dict[str, str], name: str, default: int, top: int | None) -> int:
    text = query.get(name)
    if text is None:
        return default

    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        raise _ApiError(400, f"Invalid {name}.")
    number = int(text)
    if number < 1 or (top is not None and number > top):
        raise _ApiError(400, f"Invalid {name}.")
    return number


def _page(items: list, query: dict[str, str], noun: str, key_of) -> dict:
    """Filter, order and cut one page of `items`, each holding a datetime `date_created`."""
    per_page_name = f"{noun}_per_page"
    per_page = _bounded_int(query, per_page_name, DEFAULT_PER_PAGE, MAX_PER_PAGE)
    page_number = _bounded_int(query, "page_number", 1, None)
    order = query.get("order", "desc").strip().lower()
    if order not in ("asc", "desc"):
        raise _ApiError(400, "Invalid order.")

    if "start_date" in query:
        start, _ = _parse_moment(query["start_date"], "start_date", end_of_day=False)
        items = [item for item in items if item["date_created"] >= start]
    if "end_date" in query:
        end, exclusive = _parse_moment(query["end_date"], "end_date", end_of_day=True)
        if exclusive:
            items = [item for item in items if item["date_created"] < end]
        else:
            items = [item for item in items if item["date_created"] <= end]

    items = sorted(items, key=lambda item: (item["date_created"], key_of(item)),
                   reverse=order == "desc")
    total = len(items)
    first = (page_number - 1) * per_page
    return {
        "page_number": page_number,
        per_page_name: per_page,
        "total_pages": math.ceil(total / per_page),
        f"total_{noun}": total,
        noun: items[first:first + per_page],
    }


class StandIn:
    """Running stand-in server. Use as a context manager or call start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str = "demo-token",
                 secret: str = "demo-secret", latency: float = 0.0, seed: bool = True,
                 single_shape: str = "list", write_shape: str = "bare"):
        self.host = host
        self.port = port
        self.latency = latency
        self.single_shape = single_shape
        self.write_shape = write_shape
        self.requests: list[Recorded] = []
        self._token = token
        self._secret = secret

        self._data_lock = threading.RLock()
        self._accounts: dict[int, _Account] = {}
        self._next_profile_id = 1

        self._control_lock = threading.Lock()
        self._failures: list[_Failure] = []
        self._drops_left = 0
        self._daily_quota: int | None = None
        self._quota_used = 0
        self._in_flight = 0
        self._peak_in_flight = 0
        self._connections_opened = 0

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if seed:
            self._seed()

    def __repr__(self) -> str:
        # The token and secret stay out of reprs, and so out of logs and test reports.
        return f"StandIn(url={self.url if self._server else None!r})"

    # Lifecycle

    def start(self) -> StandIn:
        if self._server is not None:
            raise RuntimeError("The stand-in is already running.")

        self._server = _Server((self.host, self.port), self)
        # A short poll keeps stop() quick: shutdown() waits for the loop's next poll.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.005,),
                                        name="whatconverts-standin", daemon=True)
        self._thread.start()
        logger.debug("Stand-in listening on %s", self.url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return

        server.shutdown()
        server.server_close()
        server.close_open_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        logger.debug("Stand-in stopped")

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("The stand-in has no address until start() is called.")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{BASE_PATH}"

    # Behaviour switches

    @property
    def single_shape(self) -> str:
        return self._single_shape

    @single_shape.setter
    def single_shape(self, shape: str) -> None:
        if shape not in SINGLE_SHAPES:
            raise ValueError(f"single_shape must be one of {SINGLE_SHAPES}, not {shape!r}.")
        self._single_shape = shape

    @property
    def write_shape(self) -> str:
        """How a create or an edit answers: the bare profile (documented) or the list wrapper."""
        return self._write_shape

    @write_shape.setter
    def write_shape(self, shape: str) -> None:
        if shape not in SINGLE_SHAPES:
            raise ValueError(f"write_shape must be one of {SINGLE_SHAPES}, not {shape!r}.")
        self._write_shape = shape

    @property
    def daily_quota(self) -> int | None:
        return self._daily_quota

    @daily_quota.setter
    def daily_quota(self, quota: int | None) -> None:
        # Setting a quota starts a fresh day: `quota` more requests succeed from now on.
        with self._control_lock:
            self._daily_quota = quota
            self._quota_used = 0

    def fail_next(self, status: int, error_message: str | None = "Service unavailable.",
                  headers: dict | None = None, times: int = 1, method: str | None = None,
                  body: str | None = None) -> None:
        """Answer the next `times` requests (of `method`, or any) with `status`, doing nothing.

        `body` is sent as is; otherwise `{"error_message": ...}`, or an empty body when
        `error_message` is None. A 200 status with an error message is allowed: the API does it.
        """
        if body is not None:
            payload = body.encode("utf-8")
        elif error_message is not None:
            payload = _json_bytes({"error_message": error_message})
        else:
            payload = b""

        failure = _Failure(status=status, body=payload, headers=dict(headers or {}),
                           times=times, method=method.upper() if method else None)
        with self._control_lock:
            self._failures.append(failure)

    def drop_after_write_next(self, times: int = 1) -> None:
        """Perform the next `times` POST/DELETE requests, then close without answering."""
        with self._control_lock:
            self._drops_left += times

    # Observations

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def peak_in_flight(self) -> int:
        return self._peak_in_flight

    @property
    def connections_opened(self) -> int:
        return self._connections_opened

    def reset_stats(self) -> None:
        with self._control_lock:
            self._peak_in_flight = self._in_flight
            self._connections_opened = 0

    def clear_requests(self) -> None:
        with self._control_lock:
            self.requests.clear()

    # Data

    def add_account(self, account_id: int, name: str, profile_count: int = 0,
                    names: list[str] | None = None) -> None:
        """Add an account with generated profiles; `names` (oldest first) replaces their names.

        Profile dates run back from mid-2026 a few hours apart, so every one is in the past.
        """
        names = list(names or [])
        count = max(profile_count, len(names))
        step = timedelta(hours=9, minutes=13, seconds=7)
        newest = _utc("2026-06-30T18:00:00Z")

        with self._data_lock:
            if account_id in self._accounts:
                raise ValueError(f"Account {account_id} already exists.")
            account = _Account(account_id, name, _now(), {})
            self._accounts[account_id] = account
            for index in range(count):
                generated = f"{name} – Profile {index + 1}"
                profile_name = names[index] if index < len(names) else generated
                self._add_profile(account, profile_name, newest - step * (count - 1 - index))

    def profiles(self, account_id: int) -> list[dict]:
        """The account's profiles as the API would show them, newest first."""
        with self._data_lock:
            account = self._accounts[account_id]
            ordered = sorted(account.profiles.values(),
                             key=lambda p: (p["date_created"], p["profile_id"]), reverse=True)
            return [_profile_view(profile) for profile in ordered]

    def _seed(self) -> None:
        acme = _Account(1001, "Acme Dental Group", _utc("2023-12-18T10:00:00Z"), {})
        smith = _Account(1002, "Smith & Sons Roofing", _utc("2025-05-30T08:30:00Z"), {})
        empty = _Account(1003, "Empty Co", _utc("2026-03-02T13:45:00Z"), {})
        for account in (acme, smith, empty):
            self._accounts[account.account_id] = account

        self._next_profile_id = 50001
        first = _utc("2024-01-08T14:03:11Z")
        step = timedelta(days=14, hours=5, minutes=17, seconds=23)
        for index in range(len(ACME_LOCATIONS) * len(ACME_NAME_FORMS)):
            place = ACME_LOCATIONS[index % len(ACME_LOCATIONS)]
            form = ACME_NAME_FORMS[index % len(ACME_NAME_FORMS)]
            self._add_profile(acme, form.format(place=place), first + step * index)

        self._next_profile_id = 60001
        for profile_name, created in SMITH_PROFILES:
            self._add_profile(smith, profile_name, _utc(created))

    def _add_profile(self, account: _Account, name: str, created: datetime) -> dict:
        with self._data_lock:
            profile = {
                "profile_id": self._next_profile_id,
                "profile_name": name,
                "date_created": created,
            }
            self._next_profile_id += 1
            account.profiles[profile["profile_id"]] = profile
            return profile

    # Request handling, called from the server's threads

    def _record(self, entry: Recorded) -> None:
        with self._control_lock:
            self.requests.append(entry)

    def _connection_opened(self) -> None:
        with self._control_lock:
            self._connections_opened += 1

    def _enter(self) -> None:
        with self._control_lock:
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._control_lock:
            self._in_flight -= 1

    def _over_quota(self) -> bool:
        with self._control_lock:
            self._quota_used += 1
            return self._daily_quota is not None and self._quota_used > self._daily_quota

    def _take_failure(self, method: str) -> _Failure | None:
        with self._control_lock:
            for failure in self._failures:
                if failure.method in (None, method):
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                    return failure
        return None

    def _take_drop(self) -> bool:
        with self._control_lock:
            if self._drops_left <= 0:
                return False
            self._drops_left -= 1
            return True

    def _is_authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[len("Basic "):], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return user == self._token and password == self._secret

    def _account(self, text: str) -> _Account:
        account = self._accounts.get(_parse_id(text, INVALID_ACCOUNT))
        if account is None:
            raise _ApiError(400, INVALID_ACCOUNT)
        return account

    def _profile(self, account: _Account, text: str) -> dict:
        profile = account.profiles.get(_parse_id(text, INVALID_PROFILE))
        if profile is None:
            raise _ApiError(400, INVALID_PROFILE)
        return profile

    def _answer(self, method: str, path: str, query: dict[str, str],
                form: dict[str, str]) -> tuple[int, dict]:
        """Do the work of one authorized request and return (status, JSON payload)."""
        if path != BASE_PATH and not path.startswith(BASE_PATH + "/"):
            raise _ApiError(404, NOT_FOUND)
        parts = path[len(BASE_PATH):].strip("/").split("/")
        if parts[0] != "accounts" or len(parts) not in (1, 3, 4):
            raise _ApiError(404, NOT_FOUND)
        if len(parts) > 1 and parts[2] != "profiles":
            raise _ApiError(404, NOT_FOUND)

        with self._data_lock:
            if len(parts) == 1 and method == "GET":
                return 200, self._list_accounts(query)
            if len(parts) == 1:
                raise _ApiError(404, NOT_FOUND)

            account = self._account(parts[1])
            if len(parts) == 3 and method == "GET":
                return 200, self._list_profiles(account, query)
            if len(parts) == 3 and method == "POST":
                name = self._required_name(form)
                return 200, self._shaped(self._add_profile(account, name, _now()),
                                         self.write_shape)
            if len(parts) == 3 or method not in ("GET", "POST", "DELETE"):
                raise _ApiError(404, NOT_FOUND)

            profile = self._profile(account, parts[3])
            if method == "GET":
                return 200, self._shaped(profile, self.single_shape)
            if method == "POST":
                profile["profile_name"] = self._required_name(form)
                return 200, self._shaped(profile, self.write_shape)
            del account.profiles[profile["profile_id"]]
            return 200, {"profile_id": profile["profile_id"]}

    def _list_accounts(self, query: dict[str, str]) -> dict:
        accounts = [
            {"account_id": account.account_id, "account_name": account.name,
             "date_created": account.date_created, "profiles": self.profiles(account.account_id)}
            for account in self._accounts.values()
        ]
        page = _page(accounts, query, "accounts", key_of=lambda item: item["account_id"])
        for account in page["accounts"]:
            account["date_created"] = _iso(account["date_created"])
            account["profiles"] = [
                {"profile_id": p["profile_id"], "profile_name": p["profile_name"]}
                for p in account["profiles"]
            ]
        return page

    def _list_profiles(self, account: _Account, query: dict[str, str]) -> dict:
        profiles = list(account.profiles.values())
        page = _page(profiles, query, "profiles", key_of=lambda item: item["profile_id"])
        page["profiles"] = [_profile_view(profile) for profile in page["profiles"]]
        return page

    @staticmethod
    def _shaped(profile: dict, shape: str) -> dict:
        if shape == "bare":
            return _profile_view(profile)
        return {
            "page_number": 1,
            "profiles_per_page": 1,
            "total_pages": 1,
            "total_profiles": 1,
            "profiles": [_profile_view(profile)],
        }

    @staticmethod
    def _required_name(form: dict[str, str]) -> str:
        name = form.get("profile_name", "")
        if not name.strip():
            raise _ApiError(400, NAME_REQUIRED)
        return name


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's backlog of 5 drops bursts of new connections, and each dropped SYN
    # costs the client a 1 s retransmit: the API itself allows 20 concurrent requests.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], standin: StandIn):
        self.standin = standin
        self._open_lock = threading.Lock()
        self._open: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def get_request(self):
        connection, address = super().get_request()
        self.standin._connection_opened()
        with self._open_lock:
            self._open.add(connection)
        return connection, address

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        # Keep-alive connections would otherwise hold their handler threads after stop().
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        # A client hanging up mid-answer is routine here; keep it out of stderr.
        logger.debug("Connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WhatConvertsStandIn/1.0"
    # Headers and body leave in two writes; with Nagle on, a kept-alive connection would
    # stall each answer about 40 ms on the client's delayed ACK.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def log_request(self, code="-", size="-") -> None:
        # _handle logs its own line, with the duration.
        pass

    def log_message(self, format: str, *args) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)

    def _handle(self) -> None:
        started = time.monotonic()
        standin = self.server.standin
        method = self.command
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""

        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = _single_values(parse_qs(parts.query, keep_blank_values=True))
        form = _parse_form(body, self.headers.get("Content-Type", ""))
        authorized = standin._is_authorized(self.headers.get("Authorization"))
        standin._record(Recorded(method, path, query, form, authorized))

        standin._enter()
        try:
            if standin.latency > 0:
                time.sleep(standin.latency)
            status = self._respond(standin, method, path, query, form, authorized)
        finally:
            standin._leave()

        elapsed_ms = (time.monotonic() - started) * 1000
        shown = "dropped" if status is None else status
        logger.debug("%s %s -> %s (%.0f ms)", method, path, shown, elapsed_ms)

    def _respond(self, standin: StandIn, method: str, path: str, query: dict[str, str],
                 form: dict[str, str], authorized: bool) -> int | None:
        """Answer the request; return the status sent, or None when the answer was dropped."""
        if standin._over_quota():
            return self._send_json(429, {"error_message": QUOTA_REACHED})

        failure = standin._take_failure(method)
        if failure is not None:
            self._send(failure.status, failure.body, failure.headers)
            return failure.status

        if not authorized:
            return self._send_json(401, {"error_message": INVALID_CREDENTIALS})

        try:
            status, payload = standin._answer(method, path, query, form)
        except _ApiError as error:
            status, payload = error.status, {"error_message": error.message}
        except Exception:
            logger.exception("Stand-in failed on %s %s", method, path)
            status, payload = 500, {"error_message": "Internal stand-in error."}

        if method in WRITE_METHODS and standin._take_drop():
            # The work is done; the client never hears about it.
            self.close_connection = True
            return None
        return self._send_json(status, payload)

    def _send_json(self, status: int, payload: dict) -> int:
        self._send(status, _json_bytes(payload), {})
        return status

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        merged = {"Content-Type": "application/json"}
        for name, value in headers.items():
            if name.lower() == "content-type":
                merged.pop("Content-Type")
            if name.lower() != "content-length":
                merged[name] = str(value)
        merged["Content-Length"] = str(len(body))

        self.send_response(status)
        for name, value in merged.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bot.standin",
        description="Serve a local stand-in of the WhatConverts API until Ctrl-C.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds to wait before answering each request")
    parser.add_argument("--token", default="demo-token")
    parser.add_argument("--secret", default="demo-secret")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logger.setLevel(logging.DEBUG)

    standin = StandIn(host=args.host, port=args.port, token=args.token,
                      secret=args.secret, latency=args.latency)
    try:
        standin.start()
    except OSError as error:
        parser.error(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}")
    print(standin.url, flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
