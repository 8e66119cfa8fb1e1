"""Every storage test runs on SQLite and on the PostgreSQL server on this machine."""

import pytest

from bot.storage import Store
from bot.storage.migrate import upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A migrated, empty database; answers its URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bot.db'}"
        upgrade(url)
        return url
    url = request.getfixturevalue("postgres_schema")
    upgrade(url)
    return url


@pytest.fixture
def store(database):
    store = Store(database)
    yield store
    store.close()
