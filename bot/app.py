"""Entry point: settings, logging, the Bolt app, its listeners, the server. Nothing else.

    gunicorn 'bot.app:create_wsgi_app()'    HTTP (see Procfile)
    python -m bot                           Socket Mode when SLACK_APP_TOKEN is set, else HTTP
"""

import logging
import signal
import sys
import threading
from dataclasses import dataclass

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot import logs
from bot.commands.listeners import ProfilesCommand
from bot.config import Settings, SettingsError, load_settings, require_http
from bot.permissions import Permissions
from bot.slack_http import FormSafeRequestHandler
from bot.storage import Store, database_url
from bot.whatconverts import WhatConverts
from bot.work import WorkPool

logger = logging.getLogger(__name__)

# gunicorn halts on this exit status instead of starting new workers that fail the same way.
APP_LOAD_ERROR = 4
_running: list["Bot"] = []


@dataclass
class Bot:
    """Everything one process runs, so that it can be stopped in order."""

    app: App
    pool: WorkPool
    store: Store
    client: WhatConverts

    def stop(self) -> None:
        """Take no new work, finish what was admitted (a confirmed delete is never dropped)."""
        self.pool.close(wait=True)
        self.client.close()
        self.store.close()


def build(settings: Settings) -> Bot:
    """The Bolt app with every listener. Makes no network call."""
    api = {"base_url": settings.slack_api_url} if settings.slack_api_url else {}
    bot_token = settings.slack_bot_token.get_secret_value()
    web_client = WebClient(token=bot_token, **api)  # ours: users.info, chat.postMessage

    def authorize(enterprise_id, team_id, user_id) -> AuthorizeResult:
        # Bolt's default calls auth.test before the first request: a network call that can cost
        # a just-woken dyno its 3 seconds. One workspace, one token: nothing to look up.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                               bot_token=bot_token)

    signing_secret = settings.slack_signing_secret
    _quiet_about_refused_requests()
    app = App(
        client=WebClient(**api),  # Bolt's: it takes the token from authorize()
        signing_secret=signing_secret.get_secret_value() if signing_secret else "",
        authorize=authorize,
    )

    whatconverts = WhatConverts(
        settings.whatconverts_api_url,
        settings.whatconverts_api_token.get_secret_value(),
        settings.whatconverts_api_secret.get_secret_value(),
        max_connections=settings.upstream_concurrency,
        timeout=settings.upstream_timeout_seconds,
    )
    database = settings.database_url.get_secret_value() if settings.database_url else None
    store = Store(database_url(database))
    permissions = Permissions(web_client, set(settings.write_users), set(settings.admin_users),
                              {c: set(a) for c, a in settings.channel_accounts.items()})
    pool = WorkPool(settings.workers, settings.work_queue)
    ProfilesCommand(
        whatconverts, pool, store, permissions, web_client,
        confirm_ttl=settings.confirm_ttl_seconds, announce=settings.announce_changes,
    ).register(app)
    return Bot(app, pool, store, whatconverts)


def _quiet_about_refused_requests() -> None:
    verification = logging.getLogger("slack_bolt.RequestVerification")
    if not any(isinstance(f, logs.RefusedRequestFilter) for f in verification.filters):
        verification.addFilter(logs.RefusedRequestFilter())


def build_app(settings: Settings) -> App:
    return build(settings).app


def health_routes(bot: Bot, slack_handler):
    """WSGI: /healthz (the process answers), /readyz (and its database), the rest to Bolt."""
    unavailable = "503 Service Unavailable"

    def readiness() -> tuple[str, bytes]:
        try:
            migrated = bot.store.is_migrated()
        except Exception as error:
            logger.warning("not ready: database unreachable (%s)", type(error).__name__)
            return unavailable, b"database unreachable\n"
        if not migrated:
            # An empty database answers SELECT 1 but keeps no prompt, audit entry or binding.
            logger.warning("not ready: database not migrated")
            return unavailable, b"database not migrated: run python -m bot.storage.migrate\n"
        return "200 OK", b"ok\n"

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "GET" and path in ("/healthz", "/readyz"):
            status, body = "200 OK", b"ok\n"
            if path == "/readyz":
                status, body = readiness()
            start_response(status, [("Content-Type", "text/plain"),
                                    ("Content-Length", str(len(body)))])
            return [body]
        return slack_handler(environ, start_response)

    return application


def create_wsgi_app(**overrides):
    """The WSGI application gunicorn serves: Slack's commands and clicks at POST /slack/events."""
    try:
        settings = load_settings(**overrides)
        # Without it every request would be refused with 500 after a "ready" line.
        require_http(settings)
    except SettingsError as problem:
        logs.configure()
        logger.error("%s", problem.advice())
        sys.exit(APP_LOAD_ERROR)
    logs.configure(settings.log_level, settings.log_format)
    bot = build(settings)
    _running.append(bot)
    logger.info("ready: WhatConverts at %s, %d workers, upstream cap %d",
                settings.whatconverts_api_url, settings.workers, settings.upstream_concurrency)
    return health_routes(bot, FormSafeRequestHandler(bot.app))


def stop_all() -> None:
    """gunicorn's worker_exit hook: let admitted work finish before the process goes."""
    while _running:
        _running.pop().stop()


def socket_mode_handler(bot: Bot, settings: Settings):
    """Bolt's Socket Mode adapter for the app; nothing connects until `connect()`."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(bot.app, settings.slack_app_token.get_secret_value())


def run_socket_mode(settings: Settings) -> None:
    """Connect out to Slack over Socket Mode; serve only /healthz and /readyz on $PORT."""
    from bot.serving import serve_wsgi

    bot = build(settings)
    health, _ = serve_wsgi(health_routes(bot, _not_found), host="0.0.0.0", port=settings.port)
    handler = socket_mode_handler(bot, settings)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    handler.connect()
    logger.info("connected to Slack over Socket Mode")
    stopping.wait()
    logger.info("stopping: finishing admitted work")
    handler.close()
    bot.stop()
    health.shutdown()


def _not_found(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]
