"""Accounts, channel defaults, forms, export and find: one step each, through signed requests."""

import csv
import io
import json

import pytest

from bot.commands import render
from bot.storage import Store
from bot.whatconverts import WhatConverts
from tests.conftest import start_bot
from tests.helpers import buttons, menus, page_buttons, text_of

HUGE = 3001  # an account with 10,000 profiles: 40 pages of 250


def upstream(bot, method=None):
    return [r for r in bot.standin.requests if method is None or r.method == method]


def writes(bot):
    return [r for r in bot.standin.requests if r.method in ("POST", "DELETE")]


@pytest.fixture
def huge_bot(bot):
    bot.standin.add_account(HUGE, "Huge & Co", profile_count=10_000)
    bot.standin.clear_requests()
    return bot


@pytest.fixture
def team_bot(standin, database):
    server, bot = start_bot(standin, database, write_users="U0PAT",
                            channel_accounts={"C0ACME": [1001]})
    yield bot
    bot.slack.close()
    server.shutdown()


# accounts

def test_accounts_lists_ids_names_and_profile_counts(bot):
    message = bot.ask("accounts")

    text = text_of(message)
    assert "*Accounts* · 3 · page 1 of 1" in text
    assert "1001  Acme Dental Group" in text and "60" in text
    assert "Smith &amp; Sons Roofing" in text
    assert page_buttons(message) == {}
    [sent] = upstream(bot)
    assert (sent.method, sent.path) == ("GET", "/api/v1/accounts")
    assert sent.query == {"page_number": "1", "accounts_per_page": "25"}


def test_accounts_page_in_place_with_one_get_per_page(bot):
    for number in range(30):
        bot.standin.add_account(4000 + number, f"Client {number}")
    bot.standin.clear_requests()

    first = bot.ask("accounts")
    ack, key = bot.click(page_buttons(first)["Next ▶"])
    second = bot.answer(key)

    assert ack.status_code == 200
    assert second["replace_original"] is True
    assert "page 2 of 2" in text_of(second)
    assert [r.query["page_number"] for r in upstream(bot)] == ["1", "2"]
    assert "--page" in bot.refusal("accounts --page x")


def test_a_channel_limited_to_some_accounts_shows_neither_every_account_nor_their_audit(
        team_bot):
    accounts = team_bot.ask("accounts", channel="C0ACME")
    audit = team_bot.ask("audit", channel="C0ACME")
    own_audit = team_bot.ask("audit 1001", channel="C0ACME")

    assert "works only with account 1001, so it does not show the others" in text_of(accounts)
    assert "`/profiles audit 1001`" in text_of(audit)
    assert "Audit trail, account 1001" in text_of(own_audit)
    assert upstream(team_bot) == []


# use: a channel's account

def test_a_bound_channel_may_leave_the_account_out(bot, database):
    assert "This channel has no account" in text_of(bot.ask("use"))

    bound = bot.ask("use 1002")
    listed = bot.ask("list")
    shown = bot.ask("use")

    assert "now uses account 1002" in text_of(bound)
    assert "*Account 1002* · 3 profiles" in text_of(listed)
    assert "uses account 1002" in text_of(shown)
    assert upstream(bot)[-1].path == "/api/v1/accounts/1002/profiles"
    assert "60003" in text_of(bot.ask("get 60003"))
    assert upstream(bot)[-1].path == "/api/v1/accounts/1002/profiles/60003"
    assert "1001" in text_of(bot.ask("list 1001"))  # an account typed still wins

    store = Store(database)
    try:
        assert store.channel_account("C0DEMO") == 1002
        [entry] = [e for e in store.audit_page(None, 1, 10)[0] if e.verb == "use"]
        assert (entry.account_id, entry.user_id, entry.outcome) == (1002, "U0PAT", "ok")
    finally:
        store.close()


def test_a_binding_outlives_the_process_and_stays_in_its_channel(standin, database):
    server, first = start_bot(standin, database)
    first.ask("use 1002")
    first.slack.close()
    server.shutdown()

    server, second = start_bot(standin, database)
    try:
        assert "*Account 1002*" in text_of(second.ask("list"))
        assert "needs an ACCOUNT" in second.refusal("list", channel="C0OTHER")
    finally:
        second.slack.close()
        server.shutdown()


def test_use_none_clears_the_binding(bot):
    bot.ask("use 1002")

    cleared = bot.ask("use none")

    assert "no longer has an account" in text_of(cleared)
    assert "needs an ACCOUNT" in bot.refusal("list")


def test_binding_to_an_account_that_does_not_exist_binds_nothing(bot, database):
    answer = bot.ask("use 9999")

    assert "9999" in text_of(answer) and "not found" in text_of(answer).lower()
    assert "has no account" in text_of(bot.ask("use"))


def test_a_limited_channel_binds_only_to_its_accounts(team_bot):
    refused = team_bot.ask("use 1002", channel="C0ACME")
    allowed = team_bot.ask("use 1001", channel="C0ACME")

    assert ":no_entry: This channel works only with account 1001." in text_of(refused)
    assert "now uses account 1001" in text_of(allowed)
    assert all(r.path != "/api/v1/accounts/1002/profiles" for r in upstream(team_bot))


def test_only_writers_change_a_binding_but_everyone_sees_it(team_bot):
    refused = team_bot.ask("use 1002", user="U0READER")
    shown = team_bot.ask("use", user="U0READER")

    assert ":no_entry:" in text_of(refused)
    assert "has no account" in text_of(shown)
    assert upstream(team_bot) == []


# Forms

def test_create_without_a_name_opens_a_form_and_saving_it_creates(bot):
    ack, key = bot.command("create 1002")
    form = bot.form()

    assert ack.status_code == 200
    assert form["type"] == "modal" and form["callback_id"] == "profiles.form.create"
    assert form["title"]["text"] == "New profile"
    assert form["blocks"][0]["elements"][0]["text"] == "In account 1002"
    assert bot.slack.inbox.calls("views.open")[0]["trigger_id"].endswith(".local")
    assert writes(bot) == []

    saved = bot.submit(form, "  Smith & Sons <Uptown>  ")
    [answer] = bot.slack.inbox.wait_for_call("chat.postEphemeral")

    assert saved.status_code == 200 and not saved.content
    [sent] = writes(bot)
    assert (sent.method, sent.path) == ("POST", "/api/v1/accounts/1002/profiles")
    assert sent.form == {"profile_name": "Smith & Sons <Uptown>"}
    assert answer["user"] == "U0PAT" and answer["channel"] == "C0DEMO"
    assert "Created profile 60004" in json.dumps(answer)
    assert "&lt;Uptown&gt;" in json.dumps(answer)


def test_a_blank_name_is_refused_inside_the_form(bot):
    bot.command("create 1002")

    saved = bot.submit(bot.form(), " \u00a0 ")

    assert saved.json() == {"response_action": "errors",
                            "errors": {"name": "The name cannot be empty."}}
    assert writes(bot) == []


def test_a_list_page_carries_a_new_profile_button_that_opens_the_form(bot):
    listed = bot.ask("list 1002")

    ack, _ = bot.click(buttons(listed)["New profile"])
    form = bot.form()

    assert ack.status_code == 200 and form["callback_id"] == "profiles.form.create"
    bot.submit(form, "From the button")
    bot.slack.inbox.wait_for_call("chat.postEphemeral")
    [sent] = writes(bot)
    assert sent.path == "/api/v1/accounts/1002/profiles"
    assert sent.form == {"profile_name": "From the button"}


def test_a_row_menu_renames_through_a_form_filled_with_the_old_name(bot):
    listed = bot.ask("list 1002")

    ack, _ = bot.choose(menus(listed)["Rename…"], 60002)
    form = bot.form()

    assert ack.status_code == 200
    assert form["callback_id"] == "profiles.form.rename"
    assert form["blocks"][1]["element"]["initial_value"] == "Smith & Sons – Storm Damage"
    assert form["blocks"][0]["elements"][0]["text"] == "Profile 60002 in account 1002"
    bot.submit(form, "Smith & Sons – Hail")
    bot.slack.inbox.wait_for_call("chat.postEphemeral")
    [sent] = writes(bot)
    assert (sent.method, sent.path) == ("POST", "/api/v1/accounts/1002/profiles/60002")
    assert sent.form == {"profile_name": "Smith & Sons – Hail"}


def test_the_rename_form_opens_before_a_slow_api_has_sent_the_old_name(bot):
    listed = bot.ask("list 1002")
    bot.standin.latency = 1.0

    bot.choose(menus(listed)["Rename…"], 60002)
    [opened] = bot.slack.inbox.wait_for_call("views.open")

    assert "Fetching the current name" in json.dumps(opened["view"])  # opened first...
    form = bot.form()  # ...filled in once the name came
    assert form["blocks"][1]["element"]["initial_value"] == "Smith & Sons – Storm Damage"


def test_a_rename_form_for_a_profile_gone_meanwhile_says_so_in_the_form(bot):
    listed = bot.ask("list 1002")
    bot.ask("delete 1002 60002")
    WhatConverts(bot.standin.url, "test-token", "test-secret").delete_profile(1002, 60002)

    bot.choose(menus(listed)["Rename…"], 60002)
    [update] = bot.slack.inbox.wait_for_call("views.update")

    assert "Profile 60002 was not found in account 1002" in json.dumps(update["view"])
    assert "submit" not in update["view"]


@pytest.mark.parametrize("typed, refused, sent", [
    ('"Bob\'s Shop"', False, "Bob's Shop"),
    ("\u201cAcme \u2013 North\u201d", False, "Acme – North"),
    ('""', True, None),
])
def test_a_form_reads_quotes_as_the_command_does(bot, typed, refused, sent):
    bot.command("create 1002")

    saved = bot.submit(bot.form(), typed)

    if refused:
        assert saved.json()["errors"] == {"name": "The name cannot be empty."}
        assert writes(bot) == []
    else:
        bot.slack.inbox.wait_for_call("chat.postEphemeral")
        assert [r.form for r in writes(bot)] == [{"profile_name": sent}]


def test_a_row_menu_delete_asks_for_the_same_confirmation(bot):
    listed = bot.ask("list 1002")

    _, key = bot.choose(menus(listed)["Delete…"], 60001)
    prompt = bot.answer(key)

    assert "Delete Smith &amp; Sons &lt;Main&gt; (60001) from account 1002?" in text_of(prompt)
    assert writes(bot) == []
    _, first = bot.click(buttons(prompt)["Delete"])
    _, second = bot.click(buttons(prompt)["Delete"])
    bot.answer(first, count=2)
    assert [(r.method, r.path) for r in writes(bot)] == [
        ("DELETE", "/api/v1/accounts/1002/profiles/60001")]


def test_a_large_page_keeps_the_table_and_the_new_profile_button_but_no_row_menus(bot):
    bot.standin.add_account(2001, "Big", profile_count=150)

    message = bot.ask("list 2001 --per-page 150")

    assert menus(message) == {}
    assert "New profile" in buttons(message)
    assert text_of(message).count("Big – Profile") == 150
    assert len(menus(bot.ask("list 2001 --per-page 100"))) == 2


def test_a_reader_cannot_open_or_submit_a_form(team_bot):
    _, key = team_bot.command("create 1002", user="U0READER")
    refusal = team_bot.answer(key)

    assert ":no_entry:" in text_of(refusal)
    assert team_bot.slack.inbox.calls("views.open") == []

    team_bot.command("create 1002")  # a writer's form, saved by a reader
    form = team_bot.form()
    team_bot.submit(form, "Sneaky", user="U0READER")
    [answer] = team_bot.slack.inbox.wait_for_call("chat.postEphemeral")
    assert answer["user"] == "U0READER" and ":no_entry:" in json.dumps(answer)
    assert writes(team_bot) == []


def test_a_form_answer_slack_will_not_show_in_the_channel_comes_as_a_direct_message(bot):
    bot.command("create 1002")
    form = bot.form()
    bot.slack.inbox.fail_method = "chat.postEphemeral"

    bot.submit(form, "Smith & Sons – Direct")
    direct = [m for m in bot.slack.inbox.wait_for_call("chat.postMessage", 2)
              if m["channel"] == "U0PAT"]

    assert len(direct) == 1 and "Created profile 60004" in json.dumps(direct[0])
    assert len(writes(bot)) == 1


def test_a_form_that_slack_could_not_open_says_how_to_type_the_name(bot):
    bot.slack.inbox.fail_method = "views.open"

    _, key = bot.command("create 1002")

    assert "create ACCOUNT NAME" in text_of(bot.answer(key))
    assert writes(bot) == []


def test_a_crash_while_opening_a_form_still_gets_an_answer(bot, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(render, "name_form", broken)

    _, key = bot.command("create 1002")

    assert "Something went wrong on our side" in text_of(bot.answer(key))
    assert "RuntimeError: a bug" in caplog.text


# export

def uploaded_csv(bot) -> tuple[dict, list[list[str]]]:
    [complete] = bot.slack.inbox.wait_for_call("files.completeUploadExternal", timeout=60)
    files = complete["files"]
    [file] = json.loads(files) if isinstance(files, str) else files
    content = bot.slack.inbox.uploads[file["id"]].decode("utf-8")
    return complete, list(csv.reader(io.StringIO(content)))


def test_export_uploads_every_profile_of_a_10000_profile_account_as_csv(huge_bot):
    _, key = huge_bot.command(f"export {HUGE}")
    complete, rows = uploaded_csv(huge_bot)
    done = huge_bot.answer(key, timeout=60)

    expected = [[str(p["profile_id"]), p["profile_name"], p["date_created"]]
                for p in huge_bot.standin.profiles(HUGE)]
    assert rows[0] == ["profile_id", "profile_name", "date_created"]
    assert rows[1:] == expected and len(expected) == 10_000
    assert complete["channel_id"] == "C0DEMO"
    assert "10,000 profiles" in text_of(done)

    gets = upstream(huge_bot, "GET")
    assert sorted(int(r.query["page_number"]) for r in gets) == list(range(1, 41))
    assert {r.query["profiles_per_page"] for r in gets} == {"250"}
    assert huge_bot.standin.peak_in_flight <= 10


def test_export_shows_its_progress_in_the_channel(huge_bot):
    _, key = huge_bot.command(f"export {HUGE}")
    uploaded_csv(huge_bot)
    huge_bot.answer(key, timeout=60)

    [started] = huge_bot.slack.inbox.calls("chat.postMessage")
    updates = [u["text"] for u in huge_bot.slack.inbox.calls("chat.update")]
    assert "Exporting account 3001" in started["text"]
    assert any("page 1 of 40" in text for text in updates)
    assert "page 40 of 40" in updates[-2]
    assert "Exported 10,000 profiles of account 3001" in updates[-1]
    assert {(u["channel"], u["ts"]) for u in huge_bot.slack.inbox.calls("chat.update")} == {
        ("C0DEMO", huge_bot.slack.inbox.calls("chat.update")[0]["ts"])}


def test_export_passes_its_dates_to_every_page(bot):
    _, key = bot.command("export 1001 --since 2024-06-01 --until 2025-01-31")
    _, rows = uploaded_csv(bot)
    bot.answer(key)

    for sent in upstream(bot, "GET"):
        assert (sent.query["start_date"], sent.query["end_date"]) == ("2024-06-01", "2025-01-31")
    assert rows[1:] and all("2024-06" <= row[2] <= "2025-02" for row in rows[1:])


def test_an_export_slack_refuses_to_upload_says_to_invite_the_bot(bot):
    bot.slack.inbox.fail_method = "files.getUploadURLExternal"

    _, key = bot.command("export 1002")

    assert "/invite" in text_of(bot.answer(key))


def test_an_export_of_a_missing_account_says_so_and_uploads_nothing(bot):
    _, key = bot.command("export 9999")

    assert "9999" in text_of(bot.answer(key))
    assert bot.slack.inbox.calls("files.getUploadURLExternal") == []
    [stopped] = bot.slack.inbox.wait_for_call("chat.update")
    assert "Export of account 9999 stopped: nothing was uploaded" in stopped["text"]


def test_an_exported_name_a_spreadsheet_would_run_is_written_as_text(bot):
    bot.ask('create 1002 =HYPERLINK("http://example.invalid","click")')
    bot.ask("create 1002 @SUM(1+1)")

    _, key = bot.command("export 1002")
    _, rows = uploaded_csv(bot)
    bot.answer(key)

    names = [row[1] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://example.invalid\",\"click\")" in names
    assert "'@SUM(1+1)" in names
    assert "Smith & Sons – Storm Damage" in names


# find

def test_find_matches_names_case_insensitively_across_all_pages(huge_bot):
    message = huge_bot.ask(f"find {HUGE} PROFILE 99")

    expected = [p for p in huge_bot.standin.profiles(HUGE) if "profile 99" in
                p["profile_name"].lower()]
    text = text_of(message)
    assert f"{len(expected)} matches for “PROFILE 99”" in text
    assert str(expected[0]["profile_id"]) in text
    assert len(upstream(huge_bot, "GET")) == 40


def test_paging_through_found_profiles_costs_no_new_calls(huge_bot):
    first = huge_bot.ask(f"find {HUGE} profile 1")
    calls = len(upstream(huge_bot))

    _, key = huge_bot.click(page_buttons(first)["Next ▶"])
    second = huge_bot.answer(key)
    again = huge_bot.ask(f"find {HUGE} Profile 2")

    assert "page 2 of" in text_of(second) and second["replace_original"] is True
    assert "matches for “Profile 2”" in text_of(again)
    assert len(upstream(huge_bot)) == calls


def test_a_change_made_here_is_found_at_once(bot):
    bot.ask("find 1002 uptown")
    bot.ask("create 1002 Smith & Sons – Uptown")

    assert "1 match for “uptown”" in text_of(bot.ask("find 1002 uptown"))


def test_find_text_that_looks_like_a_mention_is_shown_as_text(bot):
    message = bot.ask("find 1002 <!channel>")

    assert "&lt;!channel&gt;" in text_of(message)
    assert "No profile names contain that text." in text_of(message)


def test_a_reader_picking_delete_from_a_row_menu_is_told_beside_the_list(team_bot):
    listed = team_bot.ask("list 1002", user="U0READER")

    _, key = team_bot.choose(menus(listed)["Delete…"], 60001, user="U0READER")
    refusal = team_bot.answer(key)

    assert ":no_entry:" in text_of(refusal)
    assert refusal["replace_original"] is False
    assert writes(team_bot) == []


def test_an_export_of_an_account_without_profiles_uploads_nothing(bot):
    _, key = bot.command("export 1003")

    assert "no matching profiles, so there was nothing to upload" in text_of(bot.answer(key))
    assert bot.slack.inbox.calls("files.getUploadURLExternal") == []
    finished = bot.slack.inbox.wait_for_call("chat.update")[-1]
    assert "has no profiles to export" in finished["text"]
