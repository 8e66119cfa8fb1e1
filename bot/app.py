"""Entry point: settings, logging, the Bolt app, its listeners, the WSGI handler. Nothing else.

    gunicorn 'bot.app:create_wsgi_app()'    (see Procfile)
"""

import logging
import sys

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot import logs
from bot.commands.listeners import ProfilesCommand
from bot.config import Settings, SettingsError, load_settings
from bot.confirmations import Confirmations
from bot.whatconverts import WhatConverts
from bot.work import WorkPool

logger = logging.getLogger(__name__)

# gunicorn halts on this exit status instead of starting new workers that fail the same way.
APP_LOAD_ERROR = 4


def build_app(settings: Settings) -> App:
    """The Bolt app with every listener. Makes no network call."""
    web_client = WebClient(
        **({"base_url": settings.slack_api_url} if settings.slack_api_url else {}),
    )
    bot_token = settings.slack_bot_token.get_secret_value()

    def authorize(enterprise_id, team_id, user_id) -> AuthorizeResult:
        # Bolt's default calls auth.test before the first request: a network call that can cost
        # a just-woken dyno its 3 seconds. One workspace, one token: nothing to look up.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                               bot_token=bot_token)

    app = App(
        client=web_client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        authorize=authorize,
    )

    whatconverts = WhatConverts(
        settings.whatconverts_api_url,
        settings.whatconverts_api_token.get_secret_value(),
        settings.whatconverts_api_secret.get_secret_value(),
        max_connections=settings.upstream_concurrency,
        timeout=settings.upstream_timeout_seconds,
    )
    pool = WorkPool(settings.workers, settings.work_queue)
    ProfilesCommand(
        whatconverts, pool, Confirmations(settings.confirm_ttl_seconds),
        settings.confirm_ttl_seconds,
    ).register(app)
    return app


def create_wsgi_app(**overrides) -> SlackRequestHandler:
    """The WSGI application gunicorn serves: Slack's commands and clicks at POST /slack/events."""
    try:
        settings = load_settings(**overrides)
    except SettingsError as problem:
        logs.configure()
        logger.error("%s. Set them in the environment or in a .env file.", problem)
        sys.exit(APP_LOAD_ERROR)

    logs.configure(settings.log_level)
    handler = SlackRequestHandler(build_app(settings))
    logger.info("ready: WhatConverts at %s, %d workers, upstream cap %d",
                settings.whatconverts_api_url, settings.workers, settings.upstream_concurrency)
    return handler
