"""Fixtures: the WhatConverts stand-in, the bot served on loopback, and Slack's side (LocalSlack).

Every message the bot sends in a test, as an ack or to a response_url, is checked against Slack's
limits when the test ends.
"""

import os
import secrets
import shutil

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from bot.app import create_wsgi_app
from bot.localslack import LocalSlack, serve_wsgi
from bot.standin import StandIn
from bot.storage.migrate import upgrade
from tests.helpers import Bot, assert_valid_message

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """One SQLite file migrated once; each bot gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database(migrated_template, tmp_path):
    path = tmp_path / "bot.db"
    shutil.copy(migrated_template, path)
    return f"sqlite:///{path}"


POSTGRES = os.environ.get("TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_schema():
    """An empty schema of its own on the test PostgreSQL server; answers a URL that uses it.

    Without the server, a developer's `make test` skips these tests and says how to start it; CI
    (CI set) fails instead, so that no storage guarantee goes untested there unnoticed.
    """
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 2})
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError:
        admin.dispose()
        if os.environ.get("CI"):
            raise
        where = make_url(POSTGRES)
        pytest.skip(f"no PostgreSQL at {where.host}:{where.port}, database {where.database}: "
                    "start it as .ci/run does (as root, `bash .ci/run` installs and starts it, "
                    "creates the database and runs every test), or set TEST_POSTGRES_URL")
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def standin():
    with StandIn(token="test-token", secret="test-secret") as server:
        yield server


def start_bot(standin: StandIn, database: str, **overrides):
    """The bot on loopback with its own Slack side; Web API calls go to that side too."""
    secret = secrets.token_hex(16)
    slack = LocalSlack("", secret)
    settings_values = dict(
        slack_bot_token="xoxb-test-token", slack_signing_secret=secret,
        whatconverts_api_token="test-token", whatconverts_api_secret="test-secret",
        whatconverts_api_url=standin.url, slack_api_url=slack.inbox.api_url,
        database_url=database,
    )
    settings_values.update(overrides)
    server, base = serve_wsgi(create_wsgi_app(**settings_values))
    slack.events_url = f"{base}/slack/events"
    return server, Bot(slack, standin, secret, slack.events_url, [])


@pytest.fixture
def bot(standin, database):
    server, harness = start_bot(standin, database)
    yield harness

    for message in harness.acks + [p.payload for p in harness.slack.inbox.posted()]:
        assert_valid_message(message)
    harness.slack.close()
    server.shutdown()
    server.server_close()
