"""Bring the database up to date with Alembic: `python -m bot.storage.migrate`.

The Procfile's `release:` phase runs it before each deploy, and the demo runs it at start.
"""

import logging
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from bot import logs
from bot.storage.store import database_url

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url  # kept out of the ini options, where % would need escaping
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(database_url(url)), "head")


def main() -> int:
    from bot.config import SettingsError, load_settings

    logs.configure()
    try:
        settings = load_settings()
    except SettingsError as problem:
        logger.error("%s", problem)
        return 2
    url = settings.database_url.get_secret_value() if settings.database_url else None
    upgrade(url)
    logger.info("database is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
