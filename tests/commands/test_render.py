"""What goes out: every message inert, whole, aligned and within Slack's limits."""

import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.views import View
from wcwidth import wcswidth

from bot.commands import render, state
from bot.commands.parse import AuditLog, FindProfiles, ListProfiles
from bot.commands.text import PLACEHOLDER, escape
from bot.storage.store import Entry, Prompt
from bot.whatconverts import Account, AccountPage, Profile, ProfilePage
from tests.helpers import assert_valid_message, buttons, live_mentions, page_buttons

FENCE = "```"
TRICKY = [
    "<!channel>", "<!here>", "<!subteam^S0123|dentists>", "<@U0PAT>", "<#C0123|general>",
    "<http://evil.example|click me>", "<https://evil.example>", "```", "`", "a```b```c",
    "東京歯科クリニック", "🦷😀", "👨\u200d👩\u200d👧", "☺\ufe0f", "&amp;", "&", "\u0301", "\u200b",
    "\x00\x1b[31m", "\r\n", "\u2028", "", "   ", "\t\u00a0", "*bold* _it_ ~s~",
]
PIECES = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12))
NAMES = st.one_of(
    st.none(),
    st.text(),
    st.lists(PIECES, max_size=6).map("".join),
    # up to 5000 characters without asking Hypothesis for 5000 draws
    st.builds(lambda piece, times: (piece * times)[:5000], PIECES, st.integers(1, 5000)),
)
WHEN = st.one_of(st.none(), st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1),
                                         timezones=st.just(UTC)))
REQUESTS = st.builds(
    ListProfiles,
    account=st.integers(1, 10**18 - 1),
    page=st.integers(1, 1_000_000),
    per_page=st.integers(1, 250),
    since=st.sampled_from([None, "2024-06-30", "2024-06-30T14:00:00Z"]),
    until=st.sampled_from([None, "2025-06-30", "2025-06-30T14:00:00Z"]),
    order=st.sampled_from([None, "asc", "desc"]),
)


def table_sections(message: dict) -> list[str]:
    return [
        block["text"]["text"] for block in message["blocks"]
        if block["type"] == "section" and FENCE in block["text"]["text"]
    ]


def table_lines(section: str) -> list[str]:
    """The table's lines in one code block, entities decoded as Slack shows them."""
    lines = section.split("\n")
    assert lines[0] == FENCE and lines[-1] == FENCE
    return [html.unescape(line) for line in lines[1:-1]]


@st.composite
def pages(draw):
    """A request and an answer holding up to its page size of profiles, names from a small pool."""
    request = draw(REQUESTS)
    pool = draw(st.lists(NAMES, min_size=1, max_size=6))
    count = draw(st.one_of(st.just(request.per_page), st.integers(0, request.per_page)))
    first_id = draw(st.integers(1, 10**12))
    when = draw(WHEN)
    profiles = [
        Profile(profile_id=first_id + i, profile_name=pool[i % len(pool)], date_created=when)
        for i in range(count)
    ]
    total_pages = draw(st.integers(0, 10_000))
    page = ProfilePage(
        page_number=request.page, profiles_per_page=request.per_page, total_pages=total_pages,
        total_profiles=draw(st.integers(count, 10**7)), profiles=profiles,
    )
    return request, page


def shown(message: dict) -> dict:
    """The message without button values: data Slack hands back on a click, never shown."""
    return {
        **message,
        "blocks": [
            {**block, "elements": [
                {key: item for key, item in element.items() if key != "value"}
                for element in block.get("elements", [])
            ]}
            for block in message["blocks"]
        ],
    }


ANY_TEXT = st.text()


def prompts(names=ANY_TEXT):
    return st.builds(
        Prompt,
        id=st.text(alphabet="0123456789abcdefXYZ_-", min_size=16, max_size=32),
        account_id=st.integers(1, 10**18 - 1), profile_id=st.integers(1, 10**18 - 1),
        profile_name=names, requester=st.just("U0PAT"), channel=st.just("C0OPS"),
        state=st.just("pending"),
    )


# Properties

@given(pages())
def test_any_page_is_a_valid_inert_message_that_keeps_every_row(request_and_page):
    request, page = request_and_page

    message = render.profile_page(request, page)

    assert_valid_message(message)
    assert len(message["blocks"]) <= 50
    assert live_mentions(message) == []
    sections = table_sections(message)
    for section in sections:
        assert section.count(FENCE) == 2
    rows = sum(len(table_lines(section)) - 2 for section in sections)  # less header and rule
    assert rows == len(page.profiles)


@given(pages())
def test_page_buttons_carry_the_request_for_the_page_they_name(request_and_page):
    request, page = request_and_page

    message = render.profile_page(request, page)

    for button in buttons(message).values():
        if not button["action_id"].startswith("profiles.page."):
            continue
        read = state.read_page_value(button["value"])
        assert replace(read, page=request.page) == request
        step = 1 if button["action_id"] == "profiles.page.next" else -1
        assert read.page == request.page + step or read.page == max(page.total_pages, 1)


HEADLINES = st.sampled_from([None, ":white_check_mark: Created"])


@given(NAMES, st.integers(1, 10**18 - 1), WHEN, HEADLINES)
def test_details_show_any_name_whole_and_escaped(name, profile_id, when, headline):
    profile = Profile(profile_id=profile_id, profile_name=name, date_created=when)

    message = render.profile_details(1001, profile, headline)

    assert_valid_message(message)
    assert live_mentions(message) == []
    texts = [block["text"]["text"] for block in message["blocks"] if "text" in block]
    shown = "".join(texts[1:] if headline else texts)
    assert shown.startswith("*Name:* ")
    if name is not None and name.strip():
        assert shown.removeprefix("*Name:* ") == escape(name)
    else:
        assert shown == f"*Name:* {PLACEHOLDER}"


@given(prompts(names=st.one_of(st.text(), NAMES.filter(lambda name: name is not None))))
def test_a_delete_prompt_for_any_name_is_valid_and_its_buttons_read_back(prompt):
    message = render.delete_prompt(prompt)

    assert_valid_message(message)
    assert live_mentions(shown(message)) == []
    delete, cancel = buttons(message)["Delete"], buttons(message)["Cancel"]
    assert len(delete["confirm"]["text"]["text"]) <= 300
    for button in (delete, cancel):
        assert state.read_prompt_id(button["value"]) == prompt.id


@given(prompts())
def test_a_deleted_note_for_any_name_mentions_only_who_deleted(prompt):
    message = render.deleted(prompt, "U0PAT")

    assert_valid_message(message)
    assert live_mentions(message, allowed=("<@U0PAT>",)) == []


# Examples

WIDE = ["東京歯科クリニック", "🦷 Dental 😀", "Acme", "한국어 이름", "ｆｕｌｌｗｉｄｔｈ",
        "中" * 30, "👨\u200d👩\u200d👧 family", "Smith & <Sons>"]


def page_of(names, when=datetime(2024, 6, 30, 14, 0, tzinfo=UTC)):
    profiles = [Profile(profile_id=50000 + i, profile_name=n, date_created=when)
                for i, n in enumerate(names)]
    return ProfilePage(total_pages=1, total_profiles=len(profiles), profiles=profiles)


def test_wide_characters_keep_the_table_columns_aligned():
    [section] = table_sections(render.profile_page(ListProfiles(1001), page_of(WIDE)))

    header, rule, *rows = table_lines(section)
    assert {wcswidth(line) for line in [rule] + rows} == {wcswidth(rule)}
    # tabulate trims the header's trailing padding; its columns still start where the rule's do
    starts = [match.start() for match in re.finditer(r"-+", rule)]
    assert [header.index(title) for title in ("ID", "Name", "Created (UTC)")] == starts
    for row in rows:
        assert row.endswith("  2024-06-30 14:00")
        assert wcswidth(row[:-len("2024-06-30 14:00")]) == starts[2]
        assert wcswidth(row[:starts[1]]) == starts[1]  # the ids are all five digits


def test_a_long_name_is_shortened_with_an_ellipsis_in_the_table_and_whole_in_details():
    name = "Acme Dental of the Greater Metropolitan Area – Uptown Branch"
    [section] = table_sections(render.profile_page(ListProfiles(1001), page_of([name])))

    [row] = table_lines(section)[2:]
    cell = row.split("  ")[1]
    assert cell.endswith("…") and name.startswith(cell[:-1]) and wcswidth(cell) == 40
    details = render.profile_details(1001, Profile(profile_id=50000, profile_name=name))
    assert f"*Name:* {escape(name)}" in str(details)


def test_a_name_of_zero_width_characters_is_shortened_too():
    name = "e" + "\u0301" * 5000

    message = render.profile_page(ListProfiles(1001), page_of([name]))

    assert_valid_message(message)
    [section] = table_sections(message)
    assert "…" in section and len(section) < 1000


@pytest.mark.parametrize("name", [None, "", "   ", "\t\u00a0\n"])
def test_a_missing_or_blank_name_shows_a_placeholder(name):
    page = render.profile_page(ListProfiles(1001), page_of([name]))
    details = render.profile_details(1001, Profile(profile_id=50000, profile_name=name))

    [section] = table_sections(page)
    assert PLACEHOLDER in table_lines(section)[2]
    assert details["blocks"][0]["text"]["text"] == f"*Name:* {PLACEHOLDER}"


@pytest.mark.parametrize("name", ["```", "a```b", "``` <!channel> ```", "`" * 300, "````"])
def test_backticks_in_a_name_never_close_the_code_block_early(name):
    message = render.profile_page(ListProfiles(1001), page_of([name, "Acme"]))

    for section in table_sections(message):
        assert section.count(FENCE) == 2
        assert "`" not in section.strip("`")


def test_a_full_page_of_the_widest_names_fits_in_fifty_blocks():
    names = ["&" * 40 + "\u0301" * 200, "<!channel>" * 500, "中" * 2500]

    message = render.profile_page(ListProfiles(1001, per_page=250), page_of((names * 84)[:250]))

    assert_valid_message(message)
    sections = table_sections(message)
    assert sum(len(table_lines(s)) - 2 for s in sections) == 250


def test_a_name_too_long_for_any_message_is_cut_with_an_ellipsis_in_details():
    name = "<!channel>" * 20_000

    message = render.profile_details(1001, Profile(profile_id=50000, profile_name=name), "Done")

    assert_valid_message(message)
    assert live_mentions(message) == []
    assert message["blocks"][-2]["text"]["text"] == "…"


def test_a_delete_prompt_for_a_long_name_keeps_its_dialog_short():
    prompt = Prompt("abcdefghijklmnop", 1001, 50012, "&" * 5000, "U0PAT", "C0OPS", "pending")

    message = render.delete_prompt(prompt)

    assert_valid_message(message)
    assert len(buttons(message)["Delete"]["confirm"]["text"]["text"]) <= 300


def test_filters_keep_the_case_of_times():
    request = ListProfiles(1001, since="2024-06-30T14:00:00Z", until="2025-01-01", order="asc")

    message = render.profile_page(request, page_of(["Acme"]))

    context = message["blocks"][1]["elements"][0]["text"]
    assert context == "Since 2024-06-30T14:00:00Z · until 2025-01-01 · oldest first"


IDS = st.integers(1, 10**18 - 1)


@given(IDS, st.one_of(st.none(), IDS), NAMES)
def test_a_name_form_for_any_ids_and_old_name_is_a_valid_modal(account, profile, old_name):
    context = state.FormContext("rename" if profile else "create", account, "C0123", profile)

    initial = (old_name or "")[:render.NAME_FORM_LIMIT]

    view = render.name_form("profiles.form.x", state.form_metadata(context), account, profile,
                            initial=initial)

    assert View(**view).validate_json() is None
    assert state.read_form_metadata(view["private_metadata"]) == context
    assert live_mentions(view["blocks"][0]) == []  # the mrkdwn line; the field is plain text
    assert view["blocks"][1]["element"].get("initial_value") == (initial or None)


@given(IDS, st.text(min_size=1, max_size=200), st.lists(NAMES, max_size=300),
       st.integers(1, 250), st.integers(1, 50))
def test_found_pages_for_any_text_and_names_are_valid_inert_messages(account, text, names,
                                                                     per_page, page):
    request = FindProfiles(account, text, page, per_page)
    matches = [Profile(profile_id=i + 1, profile_name=name) for i, name in enumerate(names)]

    message = render.found_page(request, matches)

    assert_valid_message(message)
    assert live_mentions(shown(message)) == []
    for button in page_buttons(message).values():
        assert state.read_find_value(button["value"]) == replace(request,
                                                                page=button_page(button))


def button_page(button: dict) -> int:
    return json.loads(button["value"])["page"]


@given(st.lists(st.tuples(IDS, NAMES, st.integers(0, 10_000)), max_size=250),
       st.integers(1, 1000), st.integers(0, 1000))
def test_accounts_pages_for_any_names_are_valid_inert_messages(accounts, page, total_pages):
    answer = AccountPage(
        page_number=page, total_pages=total_pages, total_accounts=len(accounts),
        accounts=[Account(account_id=i, account_name=n, profiles=[{}] * count)
                  for i, n, count in accounts])

    message = render.accounts_page(page, answer)

    assert_valid_message(message)
    assert live_mentions(shown(message)) == []


def test_an_audit_rename_of_names_that_share_a_start_shows_what_changed():
    entry = Entry(datetime(2026, 12, 3, tzinfo=UTC), "U0PAT", "C0OPS", "rename", 1002, 60003,
                  "Smith & Sons – Google LSA", "Smith & Sons – Google Ads", "ok")

    text = json.dumps(render.audit_log(AuditLog(1002), [entry], 1), ensure_ascii=False)

    assert "…Google LSA → …Google Ads" in text


def test_a_page_past_the_last_says_so_in_its_heading():
    page = ProfilePage(page_number=9, total_pages=3, total_profiles=60, profiles=[])

    text = json.dumps(render.profile_page(ListProfiles(1001, page=9), page))

    assert "page 9, past the last (3)" in text and "of 3" not in text
