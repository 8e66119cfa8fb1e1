"""Team-shared operations: who may write, where, the audit trail and channel announcements."""

import logging

import pytest

from bot.storage import Store
from tests.conftest import start_bot
from tests.helpers import buttons, text_of


@pytest.fixture
def team_bot(standin, database):
    server, bot = start_bot(standin, database, write_users="U0PAT, U0GUEST",
                            admin_users="U0BOSS",
                            channel_accounts={"C0ACME": [1001]})
    yield bot
    bot.slack.close()
    server.shutdown()


def writes(bot):
    return [r for r in bot.standin.requests if r.method in ("POST", "DELETE")]


def audit(database, account=None):
    store = Store(database)
    try:
        return store.audit_page(account, 1, 100)[0]
    finally:
        store.close()


def test_a_user_not_among_the_writers_is_refused_and_it_is_recorded(team_bot, database):
    message = team_bot.ask("create 1002 Not Allowed", user="U0SAM")

    assert "Only the bot's writers may change profiles" in text_of(message)
    assert team_bot.standin.requests == []
    [entry] = audit(database)
    assert (entry.user_id, entry.verb, entry.outcome, entry.account_id, entry.new_name) == (
        "U0SAM", "create", "refused", 1002, "Not Allowed")


def test_everyone_may_read(team_bot):
    message = team_bot.ask("list 1002", user="U0SAM")

    assert "page 1 of 1" in text_of(message)


def test_a_writer_may_create_and_the_change_is_recorded_and_announced(team_bot, database):
    _, key = team_bot.command("create 1002 Smith & Sons – North", user="U0PAT",
                                channel="C0OPS")
    message = team_bot.answer(key)

    assert "Created profile" in text_of(message)
    [entry] = audit(database)
    assert (entry.verb, entry.outcome, entry.channel, entry.new_name) == (
        "create", "ok", "C0OPS", "Smith & Sons – North")
    [post] = team_bot.slack.inbox.wait_for_call("chat.postMessage")
    assert post["channel"] == "C0OPS"
    assert "<@U0PAT> created profile Smith &amp; Sons – North" in post["text"]


def test_a_guest_never_writes_whatever_the_lists_say(team_bot):
    team_bot.slack.inbox.users["U0GUEST"] = {"is_restricted": True}

    first = team_bot.ask("create 1002 Guest Profile", user="U0GUEST")
    second = team_bot.ask("rename 1002 60001 Guest Rename", user="U0GUEST")

    assert "Guests can look at profiles but not change them." in text_of(first)
    assert "Guests can" in text_of(second)
    assert writes(team_bot) == []
    assert len(team_bot.slack.inbox.calls("users.info")) == 1  # cached between commands


def test_an_ultra_restricted_guest_may_still_read(team_bot):
    team_bot.slack.inbox.users["U0GUEST"] = {"is_ultra_restricted": True}

    assert "page 1 of 1" in text_of(team_bot.ask("list 1002", user="U0GUEST"))


def test_a_channel_limited_to_some_accounts_refuses_others(team_bot, database):
    ack, key = team_bot.command("list 1002", channel="C0ACME")
    refused = team_bot.answer(key)
    ack, key = team_bot.command("list 1001", channel="C0ACME")
    allowed = team_bot.answer(key)

    assert "This channel works only with account 1001." in text_of(refused)
    assert "page 1 of 3" in text_of(allowed)
    assert [r.path for r in team_bot.standin.requests] == ["/api/v1/accounts/1001/profiles"]
    assert [(e.verb, e.outcome, e.channel) for e in audit(database)] == [
        ("list", "refused", "C0ACME")]


def test_an_admin_may_confirm_someone_elses_delete(team_bot, database):
    prompt = team_bot.ask("delete 1002 60002", user="U0PAT")

    _, key = team_bot.click(buttons(prompt)["Delete"], user="U0BOSS")

    assert "deleted from account 1002 by <@U0BOSS>" in text_of(team_bot.answer(key, count=2))
    assert [r.method for r in writes(team_bot)] == ["DELETE"]
    [entry] = audit(database)
    assert (entry.user_id, entry.verb, entry.outcome, entry.old_name) == (
        "U0BOSS", "delete", "ok", "Smith & Sons – Storm Damage")


def test_another_writer_may_not_confirm_and_the_refusal_is_recorded(team_bot, database):
    team_bot.slack.inbox.users["U0GUEST"] = {"is_restricted": False}
    prompt = team_bot.ask("delete 1002 60002", user="U0PAT")

    _, key = team_bot.click(buttons(prompt)["Delete"], user="U0GUEST")

    assert "Only <@U0PAT> or an admin" in text_of(team_bot.answer(key))
    assert writes(team_bot) == []
    assert [(e.user_id, e.outcome) for e in audit(database)] == [("U0GUEST", "refused")]


def test_a_confirm_click_by_a_non_writer_is_recorded_with_the_profile_it_named(team_bot,
                                                                              database):
    prompt = team_bot.ask("delete 1002 60002", user="U0PAT")

    _, key = team_bot.click(buttons(prompt)["Delete"], user="U0SAM")

    assert "Only the bot's writers" in text_of(team_bot.answer(key))
    assert writes(team_bot) == []
    [entry] = audit(database, 1002)
    assert (entry.user_id, entry.verb, entry.outcome, entry.profile_id, entry.old_name) == (
        "U0SAM", "delete", "refused", 60002, "Smith & Sons – Storm Damage")


def test_a_rename_of_a_missing_profile_is_on_record(bot, database):
    bot.ask("rename 1002 99999 Nobody")

    [entry] = audit(database, 1002)
    assert (entry.verb, entry.profile_id, entry.outcome, entry.new_name) == (
        "rename", 99999, "failed: not found", "Nobody")


def test_users_info_failing_refuses_the_write_without_sending_it(team_bot):
    team_bot.slack.inbox.users["U0PAT"] = {"is_restricted": False}
    team_bot.slack.inbox.fail_method = "users.info"

    message = team_bot.ask("create 1002 Unchecked", user="U0PAT")

    assert "couldn't check your Slack account" in text_of(message)
    assert writes(team_bot) == []


def test_renames_and_deletes_are_announced_with_old_and_new_names(bot):
    bot.ask("rename 1002 60003 Smith LSA")
    prompt = bot.ask("delete 1002 60001")
    _, key = bot.click(buttons(prompt)["Delete"])
    bot.answer(key, count=2)

    rename, delete = bot.slack.inbox.wait_for_call("chat.postMessage", count=2)
    assert ("renamed profile 60003 in account 1002: Smith &amp; Sons – Google LSA → "
            "Smith LSA (60003)") in rename["text"]
    assert "deleted profile Smith &amp; Sons &lt;Main&gt; (60001)" in delete["text"]


def test_announcements_can_be_turned_off(standin, database):
    server, bot = start_bot(standin, database, announce_changes=False)
    try:
        bot.ask("create 1002 Quiet")
        assert bot.slack.inbox.calls("chat.postMessage") == []
    finally:
        bot.slack.close()
        server.shutdown()


def test_an_empty_writer_list_is_warned_about_at_start(standin, database, caplog):
    with caplog.at_level(logging.WARNING):
        server, bot = start_bot(standin, database)
    bot.slack.close()
    server.shutdown()

    assert "WRITE_USERS is empty: every full member" in caplog.text


def test_the_audit_command_pages_the_newest_entries_first(bot):
    for number in range(25):
        bot.ask(f"create 1002 Profile {number:02d}")

    first = bot.ask("audit 1002")
    assert "*Audit trail, account 1002* · 25 entries · page 1 of 2" in text_of(first)
    assert "Profile 24" in text_of(first) and "Profile 04" not in text_of(first)

    _, key = bot.click(buttons(first)["Next ▶"])
    second = bot.answer(key)
    assert "page 2 of 2" in text_of(second) and "Profile 04" in text_of(second)
    assert second["replace_original"] is True


def test_the_audit_of_a_quiet_account_says_so(bot):
    assert "Nothing on record yet." in text_of(bot.ask("audit 1003"))
