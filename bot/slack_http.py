"""Bolt's WSGI adapter, with one correction to how it reads a form-encoded body.

Bolt takes any form body that contains the letters "payload" anywhere for an interactive
payload, and a slash command whose text, user or channel name holds the word (`/profiles find
1001 payload`) becomes an empty request that no listener handles: the user sees an error. Here
such a body is read as the form it is. Signature checks are untouched: they use the raw body.
"""

from urllib.parse import parse_qsl

from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.context.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_bolt.response import BoltResponse


class FormSafeRequestHandler(SlackRequestHandler):
    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        bolt_request = BoltRequest(body=request.get_body(), query=request.query_string,
                                   headers=request.get_headers())
        raw = bolt_request.raw_body
        if not bolt_request.body and raw and not raw.startswith("{"):
            form = dict(parse_qsl(raw, keep_blank_values=True))
            if "payload" not in form:
                bolt_request.body = form
                bolt_request.context = build_context(BoltContext({}), form)
        return self.app.dispatch(bolt_request)
