"""What comes in: command text as Slack delivers it, read into a request or a ParseError."""

import re
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import render
from bot.commands.parse import (
    AuditLog,
    Command,
    CreateProfile,
    DeleteProfile,
    ExportProfiles,
    FindProfiles,
    GetProfile,
    Help,
    ListProfiles,
    OpenCreateForm,
    ParseError,
    RenameProfile,
    parse,
)
from bot.commands.text import inline_code
from tests.helpers import assert_valid_message, live_mentions

COMMANDS = typing.get_args(Command)
SPACES = " \t\u00a0\u2003\u3000\n"
CURLY = "\u2018\u2019\u201c\u201d"


def slack_sends(text: str) -> str:
    """The command text as Slack delivers it: `&`, `<` and `>` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def refused(text: str, default_account: int | None = None) -> str:
    """The ParseError message for `text`, checked to be a safe Slack message."""
    with pytest.raises(ParseError) as problem:
        parse(text, default_account)
    message = render.note(str(problem.value))
    assert_valid_message(message)
    assert live_mentions(message) == []
    return str(problem.value)


# What comes in: entities

@pytest.mark.parametrize(
    "text, name",
    [
        ("create 1001 Smith &amp; Sons", "Smith & Sons"),
        ("create 1001 &lt;!channel&gt; Dental", "<!channel> Dental"),
        ("create 1001 a &amp;lt; b", "a &lt; b"),
        ("create 1001 Fish &amp;amp; Chips", "Fish &amp; Chips"),
        ("create 1001 &amp;gt;&amp;amp;&lt;", "&gt;&amp;<"),
    ],
)
def test_entities_are_decoded_once(text, name):
    assert parse(text) == CreateProfile(1001, name)


# What comes in: quotes

@pytest.mark.parametrize(
    "text, name",
    [
        ('create 1001 "Acme Dental"', "Acme Dental"),
        ("create 1001 'Acme Dental'", "Acme Dental"),
        ("create 1001 \u201cAcme Dental\u201d", "Acme Dental"),
        ("create 1001 \u2018Acme Dental\u2019", "Acme Dental"),
        ("create 1001 Bob's Shop", "Bob's Shop"),
        ("create 1001 Bob\u2019s Shop", "Bob's Shop"),
        ("create 1001 'Bob's Shop'", "Bob's Shop"),
        ("create 1001 '", "'"),
        ('create 1001 "Acme', '"Acme'),
        ("create 1001 'Acme\"", "'Acme\""),
        ("create 1001 \"'Quoted'\"", "'Quoted'"),
    ],
)
def test_a_quoted_name_loses_its_quotes_and_a_lone_apostrophe_stays(text, name):
    assert parse(text) == CreateProfile(1001, name)


def test_a_renamed_name_in_curly_quotes_is_one_name():
    assert parse("rename 1001 50012 \u201cAcme \u2013 Midtown\u201d") == RenameProfile(
        1001, 50012, "Acme \u2013 Midtown"
    )


# What comes in: whitespace, case, options

@pytest.mark.parametrize(
    "text, command",
    [
        ("\tlist\u00a0\u00a01001 \t --per-page\u3000 50 ", ListProfiles(1001, per_page=50)),
        ("get\t\t1001\u00a050012", GetProfile(1001, 50012)),
        ("\u2003delete 1001\n50012\n", DeleteProfile(1001, 50012)),
        ("create\u00a01001\t Acme  Dental\t", CreateProfile(1001, "Acme  Dental")),
        ("rename\t1001\u00a050012\u3000Acme", RenameProfile(1001, 50012, "Acme")),
    ],
)
def test_any_run_of_whitespace_separates_tokens(text, command):
    assert parse(text) == command


@pytest.mark.parametrize(
    "text, command",
    [
        ("LIST 1001", ListProfiles(1001)),
        ("Get 1001 50012", GetProfile(1001, 50012)),
        ("CREATE 1001 Acme", CreateProfile(1001, "Acme")),
        ("ReNaMe 1001 50012 Acme", RenameProfile(1001, 50012, "Acme")),
        ("DELETE 1001 50012", DeleteProfile(1001, 50012)),
        ("HELP", Help()),
        ("list 1001 --PER-PAGE 50 --Order ASC", ListProfiles(1001, per_page=50, order="asc")),
        ("list 1001 --Page=3", ListProfiles(1001, page=3)),
    ],
)
def test_verbs_and_options_ignore_case(text, command):
    assert parse(text) == command


@pytest.mark.parametrize(
    "text",
    [
        "list 1001 --per-page=50",
        "list 1001 --per-page 50",
        "list --per-page 50 1001",
        "list 1001 \u2014per-page 50",
        "list 1001 \u2013per-page=50",
    ],
)
def test_an_option_takes_its_value_after_a_space_or_an_equals_sign(text):
    assert parse(text) == ListProfiles(1001, per_page=50)


@pytest.mark.parametrize(
    "text, unknown, closest",
    [
        ("list 1001 --per-pgae 50", "--per-pgae", "--per-page"),
        ("list 1001 --pages=2", "--pages", "--page"),
        ("list 1001 --snce 2024-06-30", "--snce", "--since"),
        ("list 1001 --ORDR asc", "--ordr", "--order"),
    ],
)
def test_an_unknown_option_names_itself_and_the_closest_real_one(text, unknown, closest):
    problem = refused(text)

    assert f"Unknown option `{unknown}`" in problem
    assert f"Did you mean `{closest}`?" in problem


def test_an_unknown_option_like_nothing_real_gets_no_suggestion():
    assert "Did you mean" not in refused("list 1001 --xyzzy 1")


@pytest.mark.parametrize(
    "text",
    [
        "list 1001 --since 2024-07-01 --until 2024-06-30",
        "list 1001 --until 2024-06-30 --since 2024-07-01",
        "list 1001 --since 2024-06-30T14:00:01Z --until 2024-06-30T14:00:00Z",
    ],
)
def test_since_after_until_is_refused(text):
    assert "`--since` must not be after `--until`" in refused(text)


def test_an_until_date_covers_its_whole_day():
    command = parse("list 1001 --since 2024-06-30T23:59:59Z --until 2024-06-30")

    assert command == ListProfiles(1001, since="2024-06-30T23:59:59Z", until="2024-06-30")


def test_a_date_time_before_the_year_1000_keeps_four_digits_for_the_api():
    assert parse("list 1001 --since 0999-01-02T03:04:05Z").since == "0999-01-02T03:04:05Z"


@pytest.mark.parametrize("option", ["--page", "--per-page"])
def test_a_number_too_long_for_int_is_refused_not_a_crash(option):
    assert f"`{option}` takes a number" in refused(f"list 1001 {option} " + "9" * 5000)


@pytest.mark.parametrize(
    "text",
    [
        "list 1001 --order " + "&lt;!channel&gt;" * 400,
        "list " + "&amp;" * 3000,
        "get 1001 " + "&lt;@U123&gt;" * 500,
        "list 1001 --since " + "`" * 5000,
    ],
)
def test_a_very_long_token_quoted_back_still_fits_a_message(text):
    refused(text)


def test_a_very_long_unknown_verb_still_fits_the_help_message():
    command = parse("&lt;!here&gt;" * 1000)

    message = render.help_message(command.problem)
    assert_valid_message(message)
    assert live_mentions(message) == []


# What comes in: empty names

@pytest.mark.parametrize(
    "text",
    [
        'create 1001 ""',
        "create 1001 ''",
        'create 1001 "   "',
        "create 1001 '\t\u00a0'",
        "create 1001 \u201c \u201d",
        "rename 1001 50012",
        'rename 1001 50012 ""',
        "rename 1001 50012 \u2018\u3000\u2019",
    ],
)
def test_an_empty_or_blank_name_is_refused(text):
    assert "NAME" in refused(text)


# A bound channel: which account a write goes to

BOUND = 1002


@pytest.mark.parametrize(
    "text",
    [
        "create 2025 Spring Campaign",
        "create 2025",
        "create 1001 Acme Dental",
        "CREATE 0 Acme",
        "create \uff12\uff10\uff12\uff15 Spring",
        "rename 50012 2025 Budget",
        "rename 50012 2025",
        "rename 1001 50012 Acme Dental",
    ],
)
def test_a_write_whose_first_number_is_not_the_bound_account_is_refused_as_ambiguous(text):
    problem = refused(text, BOUND)

    assert "This channel uses account 1002" in problem
    assert "could be an account or" in problem
    assert "another channel or a direct message" in problem


def test_the_ambiguous_create_shows_the_bound_account_typed_out_and_the_name_quoted():
    problem = refused("create 2025 Spring Campaign", BOUND)

    assert "`2025` could be an account or the start of the name" in problem
    assert "`/profiles create 1002 2025 Spring Campaign`" in problem
    assert '`/profiles create "2025 Spring Campaign"`' in problem


def test_the_ambiguous_rename_shows_the_bound_account_typed_out_and_the_name_quoted():
    problem = refused("rename 50012 2025 Budget", BOUND)

    assert "`50012` could be an account or the profile" in problem
    assert "`/profiles rename 1002 50012 2025 Budget`" in problem
    assert '`/profiles rename 50012 "2025 Budget"`' in problem


@pytest.mark.parametrize(
    "text, command",
    [
        ("create 1002 2025 Spring", CreateProfile(BOUND, "2025 Spring")),
        ("create 01002 2025 Spring", CreateProfile(BOUND, "2025 Spring")),
        ("create 1002 Acme", CreateProfile(BOUND, "Acme")),
        ("create 1002", OpenCreateForm(BOUND)),
        ("rename 1002 50012 2025 Budget", RenameProfile(BOUND, 50012, "2025 Budget")),
        ("rename 1002 50012 Budget", RenameProfile(BOUND, 50012, "Budget")),
    ],
)
def test_in_a_bound_channel_the_bound_account_typed_out_is_just_the_account(text, command):
    assert parse(text, BOUND) == command


@pytest.mark.parametrize(
    "text, command",
    [
        ('create "24 Hour Plumbing"', CreateProfile(BOUND, "24 Hour Plumbing")),
        ("create \u201c24 Hour Plumbing\u201d", CreateProfile(BOUND, "24 Hour Plumbing")),
        ("create '2025'", CreateProfile(BOUND, "2025")),
        ("create Acme \u2013 Uptown", CreateProfile(BOUND, "Acme \u2013 Uptown")),
        ("create", OpenCreateForm(BOUND)),
        ('rename 50012 "2025 Budget"', RenameProfile(BOUND, 50012, "2025 Budget")),
        ("rename 50012 Budget 2025", RenameProfile(BOUND, 50012, "Budget 2025")),
    ],
)
def test_in_a_bound_channel_a_quoted_or_wordy_name_goes_to_the_bound_account(text, command):
    assert parse(text, BOUND) == command


@pytest.mark.parametrize(
    "text, command",
    [
        ("create 2025 Spring Campaign", CreateProfile(2025, "Spring Campaign")),
        ("create 2025", OpenCreateForm(2025)),
        ("rename 50012 2025 Budget", RenameProfile(50012, 2025, "Budget")),
    ],
)
def test_outside_a_bound_channel_the_first_number_is_the_account(text, command):
    assert parse(text) == command


@pytest.mark.parametrize(
    "text, command",
    [
        ("list 1001", ListProfiles(1001)),
        ("get 1001 50012", GetProfile(1001, 50012)),
        ("get 50012", GetProfile(BOUND, 50012)),
        ("find 1001 implants", FindProfiles(1001, "implants")),
        ("find 2025 Spring", FindProfiles(2025, "Spring")),
        ("export 1001", ExportProfiles(1001)),
        ("delete 1001 50012", DeleteProfile(1001, 50012)),
        ("delete 50012", DeleteProfile(BOUND, 50012)),
        ("audit 1001", AuditLog(1001)),
    ],
)
def test_in_a_bound_channel_a_read_or_delete_keeps_a_typed_account(text, command):
    assert parse(text, BOUND) == command


# audit

def test_audit_without_an_account_in_a_bound_channel_is_the_bound_accounts():
    assert parse("audit", BOUND) == AuditLog(account=BOUND)
    assert parse("audit --page 2", BOUND) == AuditLog(account=BOUND, page=2)


def test_audit_without_an_account_elsewhere_is_every_accounts():
    assert parse("audit") == AuditLog(account=None)


# ids

@pytest.mark.parametrize(
    "text, label, token",
    [
        ("list 0", "ACCOUNT", "0"),
        ("list 00", "ACCOUNT", "00"),
        ("get 1001 0", "PROFILE", "0"),
        ("list abc", "ACCOUNT", "abc"),
    ],
)
def test_an_id_that_is_not_a_whole_number_from_1_says_so(text, label, token):
    problem = refused(text)

    assert f"{label} must be a WhatConverts id (a whole number from 1), not `{token}`." in problem


# find

@pytest.mark.parametrize(
    "text, option",
    [
        ("find 1001 implants --page 2", "--page"),
        ("find 1001 --per-page=50 implants", "--per-page"),
        ("find 1001 implants \u2014page 2", "--page"),
        ("find 1001 implants \u2013SINCE 2024-01-01", "--since"),
        ("find 1001 implants --until=2024-01-01", "--until"),
        ("find 1001 a --Order asc", "--order"),
    ],
)
def test_find_refuses_an_option_in_its_text_and_points_to_the_buttons(text, option):
    problem = refused(text)

    assert f"`find` takes no options such as `{option}`" in problem
    assert "Previous and Next buttons" in problem


def test_find_in_a_bound_channel_refuses_an_option_in_its_text_too():
    assert "`find` takes no options" in refused("find implants --page 2", BOUND)


@pytest.mark.parametrize(
    "text, needle",
    [
        ('find 1001 "--page"', "--page"),
        ("find 1001 'implants --page 2'", "implants --page 2"),
        ("find 1001 \u201cimplants \u2014page 2\u201d", "implants \u2014page 2"),
        ("find 1001 --pages", "--pages"),
        ("find 1001 pre--page", "pre--page"),
        ("find 1001 - page", "- page"),
    ],
)
def test_find_searches_for_quoted_option_text_or_text_that_is_no_option(text, needle):
    assert parse(text) == FindProfiles(1001, needle)


# Properties

@given(st.text())
def test_any_text_is_a_command_or_a_parse_error_that_renders_safely(text):
    try:
        command = parse(text)
    except ParseError as problem:
        message = render.note(str(problem))
        assert_valid_message(message)
        assert live_mentions(message) == []
        return

    assert isinstance(command, COMMANDS)
    if isinstance(command, Help):
        message = render.help_message(command.problem)
        assert_valid_message(message)
        assert live_mentions(message) == []


WORDS = st.sampled_from([
    "list", "get", "create", "rename", "delete", "help", "LIST", "accounts", "use", "none",
    "find", "export", "audit", "1001", "50012", "0", "-1",
    "--page", "--per-page", "--since", "--until", "--order", "--per-page=250", "--page=",
    "\u2014page", "asc", "DESC", "2024-06-30", "2024-06-30T14:00:00Z", "2024-06-30T14:00:00+02:00",
    "9999-12-31", "0001-01-01T00:00:00Z", '"', "'", "\u201c", "&amp;", "&lt;!channel&gt;", "`",
])
SPACE_RUNS = st.text(alphabet=SPACES, min_size=1, max_size=3)


@given(st.lists(st.tuples(st.one_of(WORDS, st.text(max_size=12)), SPACE_RUNS), max_size=8))
def test_command_like_text_is_a_command_or_a_parse_error_that_renders_safely(pieces):
    text = "".join(word + space for word, space in pieces)
    try:
        command = parse(text)
    except ParseError as problem:
        message = render.note(str(problem))
        assert_valid_message(message)
        assert live_mentions(message) == []
    else:
        assert isinstance(command, COMMANDS)


def is_quoted(name: str) -> bool:
    """Starts and ends with the same quote: the parser reads those quotes as the user's wrapping.

    A user who types `"Acme"` means Acme, so a name such as `"Acme"` or `''` cannot be told apart
    from a quoted one when sent bare; it must be wrapped in another pair of quotes.
    """
    return len(name) >= 2 and name[0] in "'\"" and name[-1] == name[0]


# Any non-blank name without surrounding whitespace (the parser trims it, as a user would expect)
# and without curly quotes (they are straightened, since phones type them for straight ones).
TYPED_NAMES = st.text(min_size=1).filter(
    lambda name: name.strip() == name and not any(c in CURLY for c in name)
)


@given(TYPED_NAMES.filter(lambda name: not is_quoted(name)), SPACE_RUNS, SPACE_RUNS, SPACE_RUNS,
       SPACE_RUNS)
def test_any_typed_name_reaches_create_and_rename_exactly(name, before, gap, between, after):
    sent = slack_sends(name)

    created = parse(f"{before}create{gap}1001{between}{sent}{after}")
    renamed = parse(f"{before}rename{gap}1001{between}50012{gap}{sent}{after}")

    assert created == CreateProfile(1001, name)
    assert renamed == RenameProfile(1001, 50012, name)


@given(TYPED_NAMES, st.sampled_from("'\""), SPACE_RUNS)
def test_any_typed_name_in_quotes_reaches_create_exactly(name, quote, gap):
    sent = slack_sends(f"{quote}{name}{quote}")

    assert parse(f"create{gap}1001{gap}{sent}") == CreateProfile(1001, name)


def any_case(word: str):
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda uppers: "".join(c.upper() if up else c for c, up in zip(word, uppers, strict=True))
    )


@st.composite
def list_commands(draw):
    """A `list` command spelt any way a user may, and the request it must parse to."""
    days = draw(st.lists(st.dates(), min_size=2, max_size=2).map(sorted))
    values = {
        "--page": draw(st.integers(1, 1_000_000)),
        "--per-page": draw(st.integers(1, 250)),
        "--since": days[0].isoformat(),
        "--until": days[1].isoformat(),
        "--order": draw(st.sampled_from(["asc", "desc"])),
    }
    given_options = draw(st.lists(st.sampled_from(list(values)), unique=True))
    expected = ListProfiles(
        1001,
        page=values["--page"] if "--page" in given_options else 1,
        per_page=values["--per-page"] if "--per-page" in given_options else 25,
        since=values["--since"] if "--since" in given_options else None,
        until=values["--until"] if "--until" in given_options else None,
        order=values["--order"] if "--order" in given_options else None,
    )

    tokens = []
    for option in given_options:
        key = draw(any_case(option))
        value = draw(any_case(str(values[option])))
        joined = draw(st.booleans())
        tokens.append([f"{key}={value}"] if joined else [key, value])
    tokens.insert(draw(st.integers(0, len(tokens))), ["1001"])
    words = [draw(any_case("list"))] + [word for group in tokens for word in group]
    text = "".join(draw(SPACE_RUNS) + word for word in words)
    return text, expected


@given(list_commands())
def test_options_in_any_case_form_and_order_parse_to_the_same_request(command):
    text, expected = command

    assert parse(text) == expected


@pytest.mark.parametrize("text", ["create 1001", "create 1001 \t\u00a0", "CREATE 1001"])
def test_create_without_a_name_asks_for_it_in_a_form(text):
    assert parse(text) == OpenCreateForm(1001)


# Properties: a bound channel's writes, and find's TEXT

IDS = st.integers(1, 10**18 - 1)  # the ids a WhatConverts account or profile may have
NUMBERS = st.integers(0, 10**25).map(str)  # what a name may begin with


@st.composite
def bound_writes(draw):
    """A bound account, and a create or rename in its channel built of ids, numbers and words."""
    bound = draw(IDS)
    word = st.one_of(
        st.sampled_from([str(bound), f"0{bound}", str(bound + 1)]), NUMBERS, WORDS,
        st.text(max_size=12),
    )
    verb = draw(st.sampled_from(["create", "rename"]).flatmap(any_case))
    words = draw(st.lists(st.tuples(SPACE_RUNS, word), max_size=6))
    return bound, verb + "".join(space + text for space, text in words)


@given(bound_writes())
def test_in_a_bound_channel_a_create_or_rename_goes_to_the_bound_account_or_is_refused(write):
    """No write leaves a bound channel for another account.

    Whatever follows `create` or `rename` there, the request names the bound account (left out
    or typed out) or the text is refused; a number the user typed is never taken as another
    account, since it may be the start of a name.
    """
    bound, text = write

    try:
        command = parse(text, bound)
    except ParseError:
        return

    assert isinstance(command, (CreateProfile, RenameProfile, OpenCreateForm))
    assert command.account == bound


def names_starting_with_a_number():
    return st.tuples(NUMBERS, st.one_of(st.just(""), TYPED_NAMES)).map(
        lambda parts: " ".join(part for part in parts if part)
    )


@given(IDS, names_starting_with_a_number(), SPACE_RUNS)
def test_a_create_whose_name_starts_with_a_number_is_refused_with_two_forms_that_work(
    bound, name, gap
):
    """In a bound channel `create N REST` (N not the bound account) is refused, and both forms it
    offers, the bound account typed out and the name quoted, create NAME in the bound account."""
    text = f"create{gap}{name}"
    if int(name.split()[0]) == bound:
        return  # the bound account typed out: not ambiguous

    problem = refused(slack_sends(text), bound)

    typed_out = f"/profiles create {bound} {name}"
    quoted = f'/profiles create "{name}"'
    assert inline_code(typed_out) in problem and inline_code(quoted) in problem
    for form in (typed_out, quoted):
        assert parse(slack_sends(form.removeprefix("/profiles ")), bound) == CreateProfile(
            bound, name
        )


@given(IDS, IDS, names_starting_with_a_number(), SPACE_RUNS)
def test_a_rename_to_a_name_starting_with_a_number_is_refused_with_two_forms_that_work(
    bound, profile, name, gap
):
    """`rename PROFILE N REST` in a bound channel (PROFILE not the bound account) is refused, and
    both forms it offers rename PROFILE in the bound account to the whole name."""
    if profile == bound:
        return  # the bound account typed out: not ambiguous

    problem = refused(slack_sends(f"rename{gap}{profile}{gap}{name}"), bound)

    typed_out = f"/profiles rename {bound} {profile} {name}"
    quoted = f'/profiles rename {profile} "{name}"'
    assert inline_code(typed_out) in problem and inline_code(quoted) in problem
    for form in (typed_out, quoted):
        assert parse(slack_sends(form.removeprefix("/profiles ")), bound) == RenameProfile(
            bound, profile, name
        )


@given(IDS, TYPED_NAMES.filter(lambda name: not is_quoted(name)), SPACE_RUNS)
def test_in_a_bound_channel_any_name_after_the_bound_account_reaches_create_exactly(
    bound, name, gap
):
    assert parse(slack_sends(f"create{gap}{bound}{gap}{name}"), bound) == CreateProfile(bound, name)


@given(IDS, TYPED_NAMES, st.sampled_from("'\""))
def test_in_a_bound_channel_any_quoted_name_reaches_create_exactly(bound, name, quote):
    assert parse(slack_sends(f"create {quote}{name}{quote}"), bound) == CreateProfile(bound, name)


OPTION_WORDS = st.tuples(
    st.sampled_from(["--", "\u2014", "\u2013"]),
    st.sampled_from(["page", "per-page", "since", "until", "order"]).flatmap(any_case),
    st.sampled_from(["", "=2", "=2024-06-30", "=asc"]),
).map("".join)
# Words that are no option: no dash to start them, no quote to wrap the TEXT, no whitespace.
PLAIN_WORDS = st.text(
    st.characters(blacklist_characters="-\u2014\u2013'\"" + CURLY), min_size=1, max_size=8
).filter(lambda word: re.fullmatch(r"\S+", word))


@given(st.lists(st.tuples(st.one_of(OPTION_WORDS, PLAIN_WORDS), SPACE_RUNS), min_size=1,
                max_size=6))
def test_find_text_with_an_option_is_refused_unless_quoted_and_other_text_is_searched(pieces):
    """An option anywhere in `find`'s TEXT was meant as one (find has none): it is refused. The
    same TEXT in quotes, or TEXT without an option, is searched for exactly as typed."""
    words = [word for word, _ in pieces]
    needle = "".join(word + space for word, space in pieces).strip()
    sent = slack_sends(needle)

    if any(word.startswith(("--", "\u2014", "\u2013")) for word in words):
        assert "`find` takes no options" in refused(f"find 1001 {sent}")
    else:
        assert parse(f"find 1001 {sent}") == FindProfiles(1001, needle)
    assert parse(f'find 1001 "{sent}"') == FindProfiles(1001, needle)


def test_an_id_too_long_for_whatconverts_says_so():
    with pytest.raises(ParseError, match="is too long for a WhatConverts id"):
        parse("list 99999999999999999999")


def test_an_unknown_verb_is_quoted_as_typed():
    assert "`LSIT`" in parse("LSIT 1001").problem
