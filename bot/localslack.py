"""Slack's side of the conversation, on loopback: for the demo, the tests and the benchmark.

It posts slash commands and button clicks to the bot exactly as Slack does (form-encoded and
signed with the signing secret) and runs a small HTTP server that receives what the bot sends to
each `response_url`.
"""

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from bot.serving import serve_wsgi  # noqa: F401  (the demo and tests serve the bot with it)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds to every request it sends an app."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


@dataclass
class Posted:
    """One message the bot sent to a response_url."""

    key: str
    payload: dict
    at: float = field(default_factory=time.monotonic)


class ResponseInbox:
    """A loopback HTTP server standing in for Slack: `response_url` endpoints and the Web API.

    Web API methods answer from `users` (for users.info; a user not listed there is a full
    member) and record every call in `web_calls`; files uploaded through the external upload
    flow land in `uploads`.
    """

    def __init__(self, host: str = "127.0.0.1"):
        self._posted: list[Posted] = []
        self._cond = threading.Condition()
        self.users: dict[str, dict] = {}
        self.fail_method: str | None = None  # a Web API method to answer with an error
        self.web_calls: list[tuple[str, dict]] = []
        self.uploads: dict[str, bytes] = {}
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                kind, _, rest = self.path.lstrip("/").partition("/")
                if kind == "respond":
                    inbox._add(Posted(rest, json.loads(raw or b"{}")))
                    self._answer(b"ok", "text/plain")
                elif kind == "api":
                    params = _params(raw, self.headers.get("Content-Type", ""))
                    answer = inbox._web_api(rest.split("?")[0], params,
                                            self.headers.get("Authorization", ""))
                    self._answer(json.dumps(answer).encode(), "application/json")
                elif kind == "upload":
                    inbox.uploads[rest] = raw
                    inbox._note("upload", {"file_id": rest})
                    self._answer(b"OK - " + str(len(raw)).encode(), "text/plain")
                else:
                    self.send_error(404)

            def _answer(self, body: bytes, content_type: str):
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        root = f"http://{host}:{self._server.server_address[1]}"
        self.base_url = f"{root}/respond"
        self.api_url = f"{root}/api/"
        self._upload_url = f"{root}/upload"
        self._ids = itertools.count(1)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _web_api(self, method: str, params: dict, authorization: str) -> dict:
        self._note(method, params)
        if not authorization.startswith("Bearer xoxb-"):
            return {"ok": False, "error": "not_authed"}
        if method == self.fail_method:
            return {"ok": False, "error": "internal_error"}
        if method == "users.info":
            user = self.users.get(params.get("user"), {"is_restricted": False})
            return {"ok": True, "user": {"id": params.get("user"), **user}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids):08d}"
            return {"ok": True, "upload_url": f"{self._upload_url}/{file_id}",
                    "file_id": file_id}
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            return {"ok": True, "channel": params.get("channel"),
                    "ts": params.get("ts") or f"{time.time():.6f}"}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title"),
                                           "name": f.get("title")} for f in files]}
        if method == "views.open":
            params["view_id"] = f"V{next(self._ids):08d}"  # so a test can follow its updates
            return {"ok": True, "view": {"id": params["view_id"]}}
        if method == "views.update":
            return {"ok": True, "view": {"id": params.get("view_id")}}
        if method == "auth.test":
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    def _note(self, method: str, params: dict) -> None:
        with self._cond:
            self.web_calls.append((method, params))
            self._cond.notify_all()

    def calls(self, method: str) -> list[dict]:
        with self._cond:
            return [params for name, params in self.web_calls if name == method]

    def wait_for_call(self, method: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.calls(method)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"expected {count} {method} calls")
                self._cond.wait(left)
            return self.calls(method)

    def new_url(self) -> tuple[str, str]:
        key = f"r{next(self._ids)}"
        return key, f"{self.base_url}/{key}"

    def _add(self, posted: Posted) -> None:
        with self._cond:
            self._posted.append(posted)
            self._cond.notify_all()

    def posted(self, key: str | None = None) -> list[Posted]:
        with self._cond:
            return [p for p in self._posted if key is None or p.key == key]

    def wait(self, key: str | None = None, count: int = 1, timeout: float = 10.0) -> list[Posted]:
        """The posts to `key` (all keys if None) once there are `count`; raises on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.posted(key)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"expected {count} answers at {key}, got "
                                       f"{len(self.posted(key))}")
                self._cond.wait(left)
            return self.posted(key)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class LocalSlack:
    """Sends signed commands and clicks to the bot; answers arrive in `inbox`."""

    def __init__(self, events_url: str, signing_secret: str, team: str = "T0001"):
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.team = team
        self.inbox = ResponseInbox()
        self.session = requests.Session()

    def close(self) -> None:
        self.inbox.close()
        self.session.close()

    def command(self, text: str, user: str = "U0DEMO", channel: str = "C0DEMO",
                timeout: float = 10.0, channel_name: str = "local"
                ) -> tuple[requests.Response, str]:
        """Post `/profiles text`; answers the HTTP response (the ack) and the response_url key."""
        key, url = self.inbox.new_url()
        form = {
            "token": "legacy-verification-token", "team_id": self.team, "team_domain": "local",
            "channel_id": channel, "channel_name": channel_name, "user_id": user,
            "user_name": user.lower(), "command": "/profiles", "text": _as_slack_sends(text),
            "api_app_id": "A0LOCAL", "is_enterprise_install": "false", "response_url": url,
            "trigger_id": f"{time.time():.0f}.local",
        }
        return self.post(urllib.parse.urlencode(form).encode(), timeout), key

    def click(self, action_id: str, value: str, user: str = "U0DEMO", channel: str = "C0DEMO",
              timeout: float = 10.0) -> tuple[requests.Response, str]:
        """Click a button on an ephemeral message, as `block_actions` with its own response_url."""
        action = {"action_id": action_id, "block_id": "b", "value": value, "type": "button",
                  "action_ts": f"{time.time():.6f}",
                  "text": {"type": "plain_text", "text": "button"}}
        return self._act(action, user, channel, timeout)

    def choose(self, action_id: str, option: dict, user: str = "U0DEMO",
               channel: str = "C0DEMO", timeout: float = 10.0) -> tuple[requests.Response, str]:
        """Pick `option` in a select menu, as `block_actions` with its own response_url."""
        action = {"action_id": action_id, "block_id": "b", "type": "static_select",
                  "selected_option": option, "action_ts": f"{time.time():.6f}"}
        return self._act(action, user, channel, timeout)

    def _act(self, action: dict, user: str, channel: str, timeout: float):
        key, url = self.inbox.new_url()
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(),
                     "team_id": self.team},
            "api_app_id": "A0LOCAL", "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": "1700000000.000100",
                          "channel_id": channel, "is_ephemeral": True},
            "trigger_id": f"{time.time():.0f}.local",
            "team": {"id": self.team, "domain": "local"},
            "channel": {"id": channel, "name": "local"},
            "state": {"values": {}}, "response_url": url,
            "actions": [action],
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, timeout), key

    def submit(self, view: dict, values: dict[str, str], user: str = "U0DEMO",
               timeout: float = 10.0) -> requests.Response:
        """Press a modal's submit button with `values` typed into its inputs (block id: text)."""
        state = {"values": {block: {block: {"type": "plain_text_input", "value": text}}
                            for block, text in values.items()}}
        payload = {
            "type": "view_submission",
            "team": {"id": self.team, "domain": "local"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(),
                     "team_id": self.team},
            "api_app_id": "A0LOCAL", "token": "legacy-verification-token",
            "trigger_id": f"{time.time():.0f}.local",
            "view": {"id": "V0LOCAL", "team_id": self.team, "app_id": "A0LOCAL",
                     "hash": f"{time.time():.6f}", "state": state, **view},
            "response_urls": [], "is_enterprise_install": False,
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, timeout)

    def post(self, body: bytes, timeout: float = 10.0, headers: dict | None = None):
        return self.session.post(
            self.events_url, data=body, timeout=timeout,
            headers=headers if headers is not None else sign(self.signing_secret, body),
        )


def _params(raw: bytes, content_type: str) -> dict:
    """A Web API call's arguments, sent as a form or as JSON."""
    if "json" in content_type:
        return json.loads(raw or b"{}")
    return {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}


def _as_slack_sends(text: str) -> str:
    """Slack escapes these three characters in command text before posting it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
