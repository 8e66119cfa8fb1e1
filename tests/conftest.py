"""Fixtures: the WhatConverts stand-in, the bot served on loopback, and Slack's side (LocalSlack).

Every message the bot sends in a test, as an ack or to a response_url, is checked against Slack's
limits when the test ends.
"""

import os
import re
import secrets
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from slack_sdk.models.blocks import Block

from bot.app import create_wsgi_app
from bot.localslack import LocalSlack, serve_wsgi
from bot.standin import StandIn
from tests.helpers import Bot, assert_valid_message

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

@pytest.fixture
def standin():
    with StandIn(token="test-token", secret="test-secret") as server:
        yield server


def start_bot(standin: StandIn, **overrides):
    secret = secrets.token_hex(16)
    settings_values = dict(
        slack_bot_token="xoxb-test-token", slack_signing_secret=secret,
        whatconverts_api_token="test-token", whatconverts_api_secret="test-secret",
        whatconverts_api_url=standin.url,
    )
    settings_values.update(overrides)
    server, base = serve_wsgi(create_wsgi_app(**settings_values))
    slack = LocalSlack(f"{base}/slack/events", secret)
    return server, Bot(slack, standin, secret, f"{base}/slack/events", [])


@pytest.fixture
def bot(standin):
    server, harness = start_bot(standin)
    yield harness

    for message in harness.acks + [p.payload for p in harness.slack.inbox.posted()]:
        assert_valid_message(message)
    harness.slack.close()
    server.shutdown()
    server.server_close()
