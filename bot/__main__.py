"""`python -m bot`: the container's entry point.

Brings the database up to date, then either connects out to Slack over Socket Mode (when
`SLACK_APP_TOKEN` is set: no public URL needed) or serves HTTP with gunicorn as the Procfile does.
"""

import os
import sys

from bot import logs
from bot.config import SettingsError, load_settings


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as problem:
        logs.configure()
        print(problem.advice(), file=sys.stderr)
        return 2

    from bot.storage.migrate import upgrade
    from bot.storage.store import database_url

    logs.configure(settings.log_level, settings.log_format)
    upgrade(database_url(_secret(settings.database_url)))

    if settings.slack_app_token:
        from bot.app import run_socket_mode

        run_socket_mode(settings)
        return 0

    gunicorn = [sys.executable, "-m", "gunicorn", "--config", "python:bot.gunicorn_conf",
                "bot.app:create_wsgi_app()"]
    os.execv(sys.executable, gunicorn)


def _secret(value) -> str | None:
    return value.get_secret_value() if value else None


if __name__ == "__main__":
    sys.exit(main())
