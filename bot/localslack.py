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
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from socketserver import ThreadingMixIn

import requests


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
    """A loopback HTTP server standing in for Slack's response_url endpoints."""

    def __init__(self, host: str = "127.0.0.1"):
        self._posted: list[Posted] = []
        self._cond = threading.Condition()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                inbox._add(Posted(self.path.rsplit("/", 1)[-1], payload))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://{host}:{self._server.server_address[1]}/respond"
        self._ids = itertools.count(1)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

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
                timeout: float = 10.0) -> tuple[requests.Response, str]:
        """Post `/profiles text`; answers the HTTP response (the ack) and the response_url key."""
        key, url = self.inbox.new_url()
        form = {
            "token": "legacy-verification-token", "team_id": self.team, "team_domain": "local",
            "channel_id": channel, "channel_name": "local", "user_id": user,
            "user_name": user.lower(), "command": "/profiles", "text": _as_slack_sends(text),
            "api_app_id": "A0LOCAL", "is_enterprise_install": "false", "response_url": url,
            "trigger_id": f"{time.time():.0f}.local",
        }
        return self.post(urllib.parse.urlencode(form).encode(), timeout), key

    def click(self, action_id: str, value: str, user: str = "U0DEMO", channel: str = "C0DEMO",
              timeout: float = 10.0) -> tuple[requests.Response, str]:
        """Click a button on an ephemeral message, as `block_actions` with its own response_url."""
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
            "actions": [{"action_id": action_id, "block_id": "b", "value": value,
                         "type": "button", "action_ts": f"{time.time():.6f}",
                         "text": {"type": "plain_text", "text": "button"}}],
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, timeout), key

    def post(self, body: bytes, timeout: float = 10.0, headers: dict | None = None):
        return self.session.post(
            self.events_url, data=body, timeout=timeout,
            headers=headers if headers is not None else sign(self.signing_secret, body),
        )


def _as_slack_sends(text: str) -> str:
    """Slack escapes these three characters in command text before posting it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def serve_wsgi(app, host: str = "127.0.0.1", port: int = 0) -> tuple[WSGIServer, str]:
    """Serve a WSGI app on loopback in a daemon thread; answers the server and its base URL."""
    server = make_server(host, port, app, server_class=_ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_port}"
