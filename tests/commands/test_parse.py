"""What comes in: command text as Slack delivers it, read into a request or a ParseError."""

import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import render
from bot.commands.parse import (
    Command,
    CreateProfile,
    DeleteProfile,
    GetProfile,
    Help,
    ListProfiles,
    OpenCreateForm,
    ParseError,
    RenameProfile,
    parse,
)
from tests.helpers import assert_valid_message, live_mentions

COMMANDS = typing.get_args(Command)
SPACES = " \t\u00a0\u2003\u3000\n"
CURLY = "\u2018\u2019\u201c\u201d"


def slack_sends(text: str) -> str:
    """The command text as Slack delivers it: `&`, `<` and `>` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def refused(text: str) -> str:
    """The ParseError message for `text`, checked to be a safe Slack message."""
    with pytest.raises(ParseError) as problem:
        parse(text)
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
