"""Any name typed reaches WhatConverts exactly, through the whole bot, and comes back inert."""

import shutil

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.commands.text import unquote_name
from bot.standin import StandIn
from tests.conftest import start_bot
from tests.helpers import assert_valid_message, live_mentions, text_of

NAMES = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=120)


@pytest.fixture(scope="module")
def names_bot(migrated_template, tmp_path_factory):
    """One bot for every example: a signed round trip each, not a server each."""
    database = tmp_path_factory.mktemp("names") / "bot.db"
    shutil.copy(migrated_template, database)
    with StandIn(token="test-token", secret="test-secret") as standin:
        server, bot = start_bot(standin, f"sqlite:///{database}", announce_changes=False)
        yield bot
        bot.slack.close()
        server.shutdown()


@given(name=NAMES, padding=st.sampled_from([" ", "  ", "\t", "\u00a0"]))
def test_any_name_typed_reaches_the_api_exactly_and_is_shown_inert(names_bot, name, padding):
    meant = unquote_name(name)
    assume(meant.strip())
    names_bot.standin.clear_requests()

    answer = names_bot.ask(f"create{padding}1002{padding}{name}")

    [sent] = [r for r in names_bot.standin.requests if r.method == "POST"]
    assert sent.form == {"profile_name": meant}
    assert "Created profile" in text_of(answer)
    assert_valid_message(answer)
    assert live_mentions(answer) == []
