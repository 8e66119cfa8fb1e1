"""Every storage test runs on SQLite and on the PostgreSQL server on this machine."""

import secrets

import pytest
from sqlalchemy import create_engine, text

from bot.storage import Store
from bot.storage.migrate import upgrade

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A migrated, empty database; answers its URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bot.db'}"
        upgrade(url)
        yield url
        return

    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def store(database):
    store = Store(database)
    yield store
    store.close()
