"""The bot end to end: signed requests in, the stand-in upstream, answers at the response_url."""

import time
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from bot.localslack import sign
from tests.helpers import buttons, live_mentions, page_buttons, text_of


def upstream(bot, method=None):
    return [r for r in bot.standin.requests if method is None or r.method == method]


# Reading


def test_list_shows_a_page_table_with_a_next_button(bot):
    message = bot.ask("list 1001")

    text = text_of(message)
    assert "*Account 1001* · 60 profiles · page 1 of 3" in text
    assert "```" in text and "50060" in text and "50036" in text and "50035" not in text
    assert list(page_buttons(message)) == ["Next ▶"]
    [sent] = upstream(bot)
    assert (sent.method, sent.path) == ("GET", "/api/v1/accounts/1001/profiles")
    assert sent.query == {"page_number": "1", "profiles_per_page": "25"}
    assert sent.authorized


def test_list_options_reach_the_api(bot):
    bot.ask("list 1001 --page 2 --per-page 10 --since 2025-01-01 --until 2026-06-30T00:00:00Z "
            "--order asc")

    [sent] = upstream(bot)
    assert sent.query == {
        "page_number": "2", "profiles_per_page": "10", "start_date": "2025-01-01",
        "end_date": "2026-06-30T00:00:00Z", "order": "asc",
    }


def test_next_and_previous_replace_the_message_with_one_get_each(bot):
    first = bot.ask("list 1001 --per-page 20")
    bot.standin.clear_requests()

    ack, key = bot.click(buttons(first)["Next ▶"])
    assert ack.status_code == 200
    second = bot.answer(key)
    assert second["replace_original"] is True
    assert "page 2 of 3" in text_of(second)
    assert list(page_buttons(second)) == ["◀ Previous", "Next ▶"]

    ack, key = bot.click(buttons(second)["Next ▶"])
    third = bot.answer(key)
    assert "page 3 of 3" in text_of(third) and list(page_buttons(third)) == ["◀ Previous"]
    assert [r.query["page_number"] for r in upstream(bot)] == ["2", "3"]
    assert all(r.query["profiles_per_page"] == "20" for r in upstream(bot))


def test_a_click_on_an_old_message_shows_the_page_its_button_names(bot):
    first = bot.ask("list 1001")
    next_button = buttons(first)["Next ▶"]
    bot.click(next_button)
    _, key = bot.click(next_button)

    assert "page 2 of 3" in text_of(bot.answer(key))


def test_a_single_page_has_no_buttons(bot):
    message = bot.ask("list 1002")

    assert "page 1 of 1" in text_of(message)
    assert page_buttons(message) == {}


def test_an_empty_account_says_so(bot):
    message = bot.ask("list 1003")

    assert "No profiles here yet." in text_of(message)
    assert page_buttons(message) == {}


def test_a_page_past_the_end_offers_the_last_page(bot):
    message = bot.ask("list 1001 --page 9")

    assert "page 9, past the last (3)" in text_of(message)
    assert "Page 9 is past the end: the last page is 3." in text_of(message)
    assert list(page_buttons(message)) == ["◀ Last page (3)"]


def test_a_full_page_of_250_long_names_is_split_over_sections_without_losing_rows(bot):
    names = [f"<!channel> & {'W' * 300} {i:03d}" for i in range(250)]
    bot.standin.add_account(2001, "Big", names=names)

    message = bot.ask("list 2001 --per-page 250")

    tables = [b for b in message["blocks"]
              if b["type"] == "section" and b["text"]["text"].startswith("```")]
    assert len(tables) > 1
    rows = sum(b["text"]["text"].count("\n") - 3 for b in tables)
    assert rows == 250
    assert live_mentions(message) == []


@pytest.mark.parametrize("shape", ["list", "bare"])
def test_get_shows_one_profile_from_either_answer_shape(bot, shape):
    bot.standin.single_shape = shape

    text = text_of(bot.ask("get 1002 60001"))

    assert "Smith &amp; Sons &lt;Main&gt;" in text
    assert "60001" in text and "2025" in text
    [sent] = upstream(bot)
    assert (sent.method, sent.path) == ("GET", "/api/v1/accounts/1002/profiles/60001")


# Writing


def test_create_sends_the_name_and_answers_with_the_new_id(bot):
    message = bot.ask("create 1002 Smith & Sons – Uptown <!here>")

    [sent] = upstream(bot)
    assert (sent.method, sent.path) == ("POST", "/api/v1/accounts/1002/profiles")
    assert sent.form == {"profile_name": "Smith & Sons – Uptown <!here>"}
    new = bot.standin.profiles(1002)[0]
    assert new["profile_name"] == "Smith & Sons – Uptown <!here>"
    assert f"Created profile {new['profile_id']}" in text_of(message)
    assert live_mentions(message) == []


def test_rename_posts_the_new_name_to_the_profile(bot):
    message = bot.ask("rename 1002 60003 “Smith’s LSA”")

    read, sent = upstream(bot)  # the old name is read first, for the audit trail
    assert (read.method, read.path) == ("GET", "/api/v1/accounts/1002/profiles/60003")
    assert (sent.method, sent.path) == ("POST", "/api/v1/accounts/1002/profiles/60003")
    assert sent.form == {"profile_name": "Smith's LSA"}
    assert "Renamed profile 60003" in text_of(message)


# Deleting


def ask_delete(bot, user="U0PAT"):
    prompt = bot.ask("delete 1002 60002", user=user)
    bot.standin.clear_requests()
    return prompt


def test_delete_asks_first_and_sends_nothing_until_confirmed(bot):
    prompt = bot.ask("delete 1002 60002")

    assert "Delete Smith &amp; Sons – Storm Damage (60002) from account 1002?" in text_of(prompt)
    delete = buttons(prompt)["Delete"]
    assert delete["style"] == "danger" and delete["confirm"]["confirm"]["text"] == "Delete"
    assert "Cancel" in buttons(prompt)
    assert [r.method for r in upstream(bot)] == ["GET"]


def test_confirming_deletes_once_and_replaces_the_prompt(bot):
    prompt = ask_delete(bot)

    _, key = bot.click(buttons(prompt)["Delete"])
    done = bot.answer(key, count=2)

    assert done["replace_original"] is True
    assert "Smith &amp; Sons – Storm Damage (60002) deleted from account 1002 by <@U0PAT>" in (
        text_of(done))
    assert buttons(done) == {}
    [sent] = upstream(bot)
    assert (sent.method, sent.path) == ("DELETE", "/api/v1/accounts/1002/profiles/60002")
    assert 60002 not in [p["profile_id"] for p in bot.standin.profiles(1002)]


def test_two_quick_clicks_send_exactly_one_delete(bot):
    prompt = ask_delete(bot)
    bot.standin.latency = 0.3

    _, first = bot.click(buttons(prompt)["Delete"])
    _, second = bot.click(buttons(prompt)["Delete"])

    assert "already been answered" in text_of(bot.answer(second))
    bot.answer(first, count=2)
    assert len(upstream(bot, "DELETE")) == 1


def test_someone_else_cannot_confirm(bot):
    prompt = ask_delete(bot)

    _, key = bot.click(buttons(prompt)["Delete"], user="U0SAM")

    refusal = bot.answer(key)
    assert "Only <@U0PAT> or an admin can answer this delete prompt." in text_of(refusal)
    assert refusal["replace_original"] is False
    assert upstream(bot) == []


def test_cancel_sends_nothing_and_a_later_confirm_does_nothing(bot):
    prompt = ask_delete(bot)

    _, key = bot.click(buttons(prompt)["Cancel"])
    assert "Cancelled" in text_of(bot.answer(key))
    _, key = bot.click(buttons(prompt)["Delete"])
    assert "already been answered" in text_of(bot.answer(key))
    assert upstream(bot) == []


def test_deleting_a_profile_already_gone_says_so_plainly(bot):
    prompt = ask_delete(bot)
    bot.standin.profiles(1002)  # still there when asked...
    bot.ask("list 1002")
    requests_before = len(upstream(bot))
    # ...and gone by the time someone confirms.
    from bot.whatconverts import WhatConverts
    WhatConverts(bot.standin.url, "test-token", "test-secret").delete_profile(1002, 60002)

    _, key = bot.click(buttons(prompt)["Delete"])

    assert "was already gone from account 1002" in text_of(bot.answer(key, count=2))
    assert len(upstream(bot, "DELETE")) == 2 and requests_before >= 1


def test_delete_of_an_unknown_profile_never_prompts(bot):
    message = bot.ask("delete 1002 99999")

    assert "Profile 99999 was not found in account 1002" in text_of(message)
    assert buttons(message) == {}


def test_an_expired_prompt_deletes_nothing(bot, database):
    prompt = ask_delete(bot)
    engine = create_engine(database)
    with engine.begin() as connection:
        connection.execute(text("UPDATE delete_prompts SET expires_at = :past"),
                           {"past": datetime.now(UTC) - timedelta(seconds=1)})
    engine.dispose()

    _, key = bot.click(buttons(prompt)["Delete"])

    assert "expired" in text_of(bot.answer(key))
    assert upstream(bot) == []


# Bad input and failures


@pytest.mark.parametrize("text, expected", [
    ("list abc", "ACCOUNT must be a WhatConverts id (a whole number from 1), not `abc`."),
    ("list 1001 --pgae 2", "Unknown option `--pgae`. Did you mean `--page`?"),
    ("list 1001 --since 2024-13-01", "`--since` takes a date like"),
    ("list 1001 --per-page 251", "`--per-page` takes a number from 1 to 250, not `251`."),
    ("list 1001 --per-page 0", "`--per-page` takes a number from 1 to 250, not `0`."),
    ("create 1001 ''", "The NAME is empty."),
    ("create 1001 \"  \"", "The NAME is empty."),
    ("rename 1001 5", "`rename` needs a NAME after the ids."),
    ("get 1001", "`get` needs ACCOUNT and PROFILE."),
    ("delete 1001 x", "PROFILE must be a WhatConverts id (a whole number from 1), not `x`."),
])
def test_bad_input_gets_a_short_answer_and_no_upstream_call(bot, text, expected):
    ack, _ = bot.command(text)

    assert ack.status_code == 200
    assert expected in text_of(ack.json())
    assert "Use `/profiles" in text_of(ack.json())
    assert upstream(bot) == []


@pytest.mark.parametrize("text", ["", "help", "HELP", "frobnicate 1001"])
def test_help_lists_every_verb_with_an_example(bot, text):
    ack, _ = bot.command(text)

    answer = text_of(ack.json())
    for verb in ("list", "get", "create", "rename", "delete"):
        assert f"`/profiles {verb} 1001" in answer
    assert upstream(bot) == []


def test_an_unknown_verb_is_named_and_the_closest_suggested(bot):
    ack, _ = bot.command("lsit 1001")

    assert "I don't know the command `lsit`. Did you mean `list`?" in text_of(ack.json())


@pytest.mark.parametrize("status, body, expected", [
    (401, "Invalid API token or secret.", "WhatConverts refused the bot's API key"),
    (400, "Invalid account ID.", "Account 1001 was not found"),
    (200, "Invalid account ID.", "Account 1001 was not found"),
    (503, "Service unavailable.", "WhatConverts is not answering right now"),
    (429, "Daily API request limit reached.", "used up today's WhatConverts API requests"),
    (400, None, "Account 1001 was not found"),
])
def test_upstream_failures_become_a_sentence_without_raw_json(bot, status, body, expected):
    bot.standin.fail_next(status, body, times=10)

    message = bot.ask("list 1001")

    assert expected in text_of(message)
    assert "{" not in text_of(message) and "Traceback" not in text_of(message)


def test_an_answer_that_is_not_json_is_reported_as_unavailable(bot):
    bot.standin.fail_next(200, None, body="<html>maintenance</html>")

    assert "not answering right now" in text_of(bot.ask("get 1002 60001"))


# Signing


def signed_command_body(text="list 1001"):
    return urllib.parse.urlencode({"command": "/profiles", "text": text, "user_id": "U0PAT",
                                   "team_id": "T0001", "response_url": "http://127.0.0.1:9/x"})


@pytest.mark.parametrize("headers", [
    {},
    {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64},
    "stale",
    "wrong-secret",
])
def test_unsigned_wrongly_signed_or_stale_requests_get_401_and_no_upstream_call(bot, headers):
    body = signed_command_body().encode()
    if headers == "stale":
        headers = sign(bot.signing_secret, body, timestamp=int(time.time()) - 301)
    elif headers == "wrong-secret":
        headers = sign("not-the-secret", body)

    response = bot.slack.post(body, headers=headers)

    assert response.status_code == 401
    time.sleep(0.2)
    assert upstream(bot) == []


def test_the_ack_does_not_wait_for_a_slow_api(bot):
    bot.standin.latency = 1.0

    ack, key = bot.command("list 1001")

    assert ack.status_code == 200
    assert bot.slack.inbox.posted(key) == []  # acknowledged before the answer existed
    assert "page 1 of 3" in text_of(bot.answer(key))


def test_a_rename_to_the_name_it_has_changes_nothing(bot):
    message = bot.ask("rename 1002 60002 Smith & Sons – Storm Damage")

    assert "already called “Smith &amp; Sons – Storm Damage”; nothing changed" in text_of(message)
    assert [r.method for r in upstream(bot)] == ["GET"]
    assert bot.slack.inbox.calls("chat.postMessage") == []


def test_a_name_longer_than_a_form_can_hold_is_refused_before_any_call(bot):
    refusal = bot.refusal("create 1002 " + "x" * 3001)

    assert "The NAME has 3,001 characters; it can have at most 3,000." in refusal
    assert upstream(bot) == []


@pytest.mark.parametrize("text, channel_name", [
    ("find 1002 payload", "ops"), ("list 1002", "payload-team")])
def test_a_command_with_the_word_payload_in_it_is_still_answered(bot, text, channel_name):
    ack, key = bot.slack.command(text, user="U0PAT", channel_name=channel_name)

    assert ack.status_code == 200
    assert "Account 1002" in text_of(bot.answer(key))
