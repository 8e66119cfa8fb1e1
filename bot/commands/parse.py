"""Turn the text after /profiles into a request, or a short message saying what is wrong."""

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.commands.text import NAME_LIMIT, decode_command_text, inline_code, unquote_name

MAX_PER_PAGE = 250
FIND_TEXT_LIMIT = 200  # it travels in the paging buttons' values
DEFAULT_PER_PAGE = 25
_TOKEN = re.compile(r"\S+")
_DASHES = ("\u2014", "\u2013")  # phones turn "--" into an em or en dash


class ParseError(Exception):
    """The command text is wrong; the message (mrkdwn, user text escaped) says how to fix it."""


@dataclass(frozen=True)
class Help:
    problem: str | None = None


@dataclass(frozen=True)
class ListProfiles:
    account: int
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    since: str | None = None
    until: str | None = None
    order: str | None = None


@dataclass(frozen=True)
class GetProfile:
    account: int
    profile: int


@dataclass(frozen=True)
class CreateProfile:
    account: int
    name: str


@dataclass(frozen=True)
class RenameProfile:
    account: int
    profile: int
    name: str


@dataclass(frozen=True)
class DeleteProfile:
    account: int
    profile: int


@dataclass(frozen=True)
class AuditLog:
    account: int | None = None
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class ListAccounts:
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class UseAccount:
    """Bind the channel to `account`; `clear` unbinds; neither shows the binding."""

    account: int | None = None
    clear: bool = False


@dataclass(frozen=True)
class ExportProfiles:
    account: int
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class FindProfiles:
    account: int
    text: str
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


@dataclass(frozen=True)
class OpenCreateForm:
    """`create` with no name: a form asks for it."""

    account: int


Command = (Help | ListProfiles | GetProfile | CreateProfile | RenameProfile | DeleteProfile
           | AuditLog | ListAccounts | UseAccount | ExportProfiles | FindProfiles
           | OpenCreateForm)

USAGE = {
    "list": ("list ACCOUNT [--page N] [--per-page N] [--since DATE] [--until DATE] "
             "[--order asc|desc]"),
    "get": "get ACCOUNT PROFILE",
    "create": "create ACCOUNT NAME",
    "rename": "rename ACCOUNT PROFILE NAME",
    "delete": "delete ACCOUNT PROFILE",
    "audit": "audit [ACCOUNT] [--page N]",
    "accounts": "accounts [--page N]",
    "use": "use [ACCOUNT|none]",
    "find": "find ACCOUNT TEXT",
    "export": "export ACCOUNT [--since DATE] [--until DATE]",
    "help": "help",
}
EXAMPLES = {
    "list": "list 1001 --per-page 50",
    "get": "get 1001 50012",
    "create": "create 1001 Acme Dental – Uptown",
    "rename": "rename 1001 50012 Acme Dental – Midtown",
    "delete": "delete 1001 50012",
    "audit": "audit 1001",
    "accounts": "accounts",
    "use": "use 1001",
    "find": "find 1001 implants",
    "export": "export 1001 --since 2025-01-01",
    "help": "help",
}
LIST_OPTIONS = ("--page", "--per-page", "--since", "--until", "--order")
ANY_OPTION = LIST_OPTIONS  # `list` takes every option that any verb takes


def parse(raw_text: str, default_account: int | None = None) -> Command:
    """The request in `raw_text`; `default_account` (a bound channel's) fills a left-out ACCOUNT."""
    text = decode_command_text(raw_text or "")
    tokens = list(_TOKEN.finditer(text))
    if not tokens:
        return Help()

    verb = tokens[0].group().lower()
    args = tokens[1:]
    if verb in ("help", "?", "-h", "--help"):
        return Help()
    if verb == "list":
        return _parse_list([t.group() for t in args], default_account)
    if verb == "audit":
        return _parse_audit([t.group() for t in args], default_account)
    if verb == "accounts":
        positional, options = _options(verb, [t.group() for t in args], ("--page",))
        if positional:
            _fail(verb, f"I don't understand {inline_code(positional[0])}.")
        return ListAccounts(_bounded("--page", options.get("--page", "1"), 1, 1_000_000, verb))
    if verb == "use":
        return _parse_use([t.group() for t in args])
    if verb == "export":
        return _parse_export([t.group() for t in args], default_account)
    if verb == "find":
        args = _with_account(args, 1, default_account, tokens[0].end())
        (account,) = _ids(verb, args[:1], 1)
        if len(args) < 2:
            _fail(verb, "`find` needs TEXT to look for.")
        needle = _name(verb, text, args, 1, "TEXT")
        _refuse_options_in(needle, text[args[0].end():])
        if len(needle) > FIND_TEXT_LIMIT:
            _fail(verb, f"TEXT can be at most {FIND_TEXT_LIMIT} characters.")
        return FindProfiles(account, needle)
    if verb in ("get", "delete"):
        args = _with_account(args, 2, default_account, tokens[0].end())
        account, profile = _ids(verb, args, 2)
        return GetProfile(account, profile) if verb == "get" else DeleteProfile(account, profile)
    if verb == "create":
        _refuse_a_guessed_account(verb, text, args, 1, default_account, tokens[0].end())
        args = _with_account(args, 1, default_account, tokens[0].end())
        (account,) = _ids(verb, args[:1], 1)
        if len(args) == 1:
            return OpenCreateForm(account)
        return CreateProfile(account, _name(verb, text, args, 1))
    if verb == "rename":
        _refuse_a_guessed_account(verb, text, args, 2, default_account, tokens[0].end())
        args = _with_account(args, 2, default_account, tokens[0].end())
        account, profile = _ids(verb, args[:2], 2)
        return RenameProfile(account, profile, _name(verb, text, args, 2))

    closest = difflib.get_close_matches(verb, USAGE, n=1)
    hint = f" Did you mean {inline_code(closest[0])}?" if closest else ""
    return Help(problem=f"I don't know the command {inline_code(tokens[0].group())}.{hint}")


class _Given:
    """A token the user did not type: the channel's bound account, standing right after the verb."""

    def __init__(self, value: int, at: int):
        self.value, self.at = str(value), at

    def group(self) -> str:
        return self.value

    def end(self) -> int:
        return self.at


def _with_account(args: list, needed: int, default_account: int | None, at: int) -> list:
    """Put the bound account first when the leading ids are one short of `needed`."""
    if default_account is None:
        return args
    if _leading_ids(args, needed) == needed - 1:
        return [_Given(default_account, at)] + args
    return args


def _leading_ids(args: list, needed: int) -> int:
    """How many of the first `needed` tokens look like ids."""
    leading = 0
    for arg in args[:needed]:
        if not arg.group().isdigit():
            break
        leading += 1
    return leading


def _refuse_a_guessed_account(verb: str, text: str, args: list, needed: int,
                              default_account: int | None, at: int):
    """In a bound channel, refuse a write whose first number may be an account or may not.

    There `create 2025 Spring` could be account 2025, or the name "2025 Spring" in the bound
    account. Either guess could put a profile in the wrong client's account, so the user says which.
    """
    if default_account is None or _leading_ids(args, needed) < needed:
        return
    first = args[0].group()
    if _is_account(first, default_account):
        return  # the bound account typed out

    ids = [arg.group() for arg in args[:needed - 1]]  # read with the bound account: the profile
    name_starts = args[needed - 2].end() if ids else at
    name = unquote_name(text[name_starts:])
    typed = " ".join([f"/profiles {verb}", str(default_account), *ids, name])
    quoted = " ".join([f"/profiles {verb}", *ids, f'"{name}"'])
    could_be = "the start of the name" if verb == "create" else "the profile"
    raise ParseError(
        f"This channel uses account {default_account}, so {inline_code(first)} could be an "
        f"account or {could_be}. Write {inline_code(typed)} or {inline_code(quoted)}. "
        "To work on another account, use another channel or a direct message."
    )


def _is_account(token: str, account: int) -> bool:
    return token.isascii() and token.isdigit() and len(token) <= 18 and int(token) == account


def _refuse_options_in(needle: str, typed: str):
    """`find` pages by buttons; an option in its TEXT was meant as one, unless TEXT is quoted."""
    if needle != typed.strip():
        return  # unquote_name took quotes off: the user means the text as it is

    for token in _TOKEN.findall(needle):
        key = _as_option(token).partition("=")[0].lower()
        if key in ANY_OPTION:
            _fail("find", f"`find` takes no options such as {inline_code(key)}: its answer has "
                          "Previous and Next buttons. To look for that text, put TEXT in quotes.")


def usage_hint(verb: str) -> str:
    return f"Use `/profiles {USAGE[verb]}`, for example `/profiles {EXAMPLES[verb]}`."


def _fail(verb: str, problem: str):
    raise ParseError(f"{problem} {usage_hint(verb)}")


def _ids(verb: str, args: list[re.Match], count: int) -> list[int]:
    labels = ["ACCOUNT", "PROFILE"][:count]
    if len(args) < count:
        _fail(verb, f"`{verb}` needs {' and '.join(labels)}.")
    if len(args) > count and verb in ("get", "delete"):
        _fail(verb, f"`{verb}` takes only {' and '.join(labels)}.")
    return [_number(verb, label, arg.group()) for label, arg in zip(labels, args, strict=False)]


def _number(verb: str, label: str, token: str) -> int:
    if token.isascii() and token.isdigit() and len(token) > 18:
        _fail(verb, f"{label} {inline_code(token)} is too long for a WhatConverts id.")
    if not token.isascii() or not token.isdigit() or int(token) == 0:
        _fail(verb, f"{label} must be a WhatConverts id (a whole number from 1), "
                    f"not {inline_code(token)}.")
    return int(token)


def _name(verb: str, text: str, args: list[re.Match], after: int, label: str = "NAME") -> str:
    """The rest of the line after the ids; a name wrapped in matching quotes loses the quotes."""
    if len(args) <= after:
        _fail(verb, f"`{verb}` needs a {label} after the ids.")
    name = unquote_name(text[args[after - 1].end():])
    if not name.strip():
        _fail(verb, f"The {label} is empty.")
    if len(name) > NAME_LIMIT:
        _fail(verb, f"The {label} has {len(name):,} characters; it can have at most "
                    f"{NAME_LIMIT:,}.")
    return name


def _parse_use(tokens: list[str]) -> UseAccount:
    if not tokens:
        return UseAccount()
    if len(tokens) > 1:
        _fail("use", f"I don't understand {inline_code(tokens[1])}.")
    if tokens[0].lower() in ("none", "nothing", "off", "clear"):
        return UseAccount(clear=True)
    return UseAccount(_number("use", "ACCOUNT", tokens[0]))


def _parse_export(tokens: list[str], default_account: int | None) -> ExportProfiles:
    positional, options = _options("export", tokens, ("--since", "--until"))
    if not positional and default_account is not None:
        positional = [str(default_account)]
    if not positional:
        _fail("export", "`export` needs an ACCOUNT.")
    if len(positional) > 1:
        _fail("export", f"I don't understand {inline_code(positional[1])}.")
    account = _number("export", "ACCOUNT", positional[0])
    since, until = _date_range("export", options)
    return ExportProfiles(account, since, until)


def _date_range(verb: str, options: dict[str, str]) -> tuple[str | None, str | None]:
    since = _date("--since", options.get("--since"), verb)
    until = _date("--until", options.get("--until"), verb)
    if since and until and since[0] > _end_of(until):
        _fail(verb, "`--since` must not be after `--until`.")
    return (since[1] if since else None), (until[1] if until else None)


def _parse_audit(tokens: list[str], default_account: int | None = None) -> AuditLog:
    positional, options = _options("audit", tokens, ("--page",))
    if len(positional) > 1:
        _fail("audit", f"I don't understand {inline_code(positional[1])}.")
    account = _number("audit", "ACCOUNT", positional[0]) if positional else default_account
    page = _bounded("--page", options.get("--page", "1"), 1, 1_000_000, verb="audit")
    return AuditLog(account, page)


def _options(verb: str, tokens: list[str], known: tuple[str, ...]):
    """Split tokens into positional ones and `--option value` / `--option=value` pairs."""
    positional: list[str] = []
    options: dict[str, str] = {}
    queue = list(tokens)
    while queue:
        token = _as_option(queue.pop(0))
        if not token.startswith("--"):
            positional.append(token)
            continue

        key, has_value, value = token.partition("=")
        key = key.lower()
        if key not in known:
            _unknown_option(verb, key, known)
        if key in options:
            _fail(verb, f"{inline_code(key)} is given twice.")
        if not has_value:
            if not queue:
                _fail(verb, f"{inline_code(key)} needs a value.")
            value = queue.pop(0)
        options[key] = value
    return positional, options


def _as_option(token: str) -> str:
    """A token with a phone's leading em or en dash read as the `--` it was typed as."""
    if token.startswith(_DASHES):
        return "--" + token.lstrip("".join(_DASHES))
    return token


def _parse_list(tokens: list[str], default_account: int | None = None) -> ListProfiles:
    positional, options = _options("list", tokens, LIST_OPTIONS)
    if not positional and default_account is not None:
        positional = [str(default_account)]
    if not positional:
        _fail("list", "`list` needs an ACCOUNT.")
    if len(positional) > 1:
        _fail("list", f"I don't understand {inline_code(positional[1])}.")
    account = _number("list", "ACCOUNT", positional[0])

    page = _bounded("--page", options.get("--page", "1"), 1, 1_000_000)
    per_page = _bounded("--per-page", options.get("--per-page", str(DEFAULT_PER_PAGE)), 1,
                        MAX_PER_PAGE)
    since, until = _date_range("list", options)

    order = options.get("--order")
    if order is not None:
        order = order.lower()
        if order not in ("asc", "desc"):
            _fail("list", f"`--order` is `asc` or `desc`, not {inline_code(order)}.")

    return ListProfiles(
        account, page, per_page,
        since, until, order,
    )


def _unknown_option(verb: str, key: str, known: tuple[str, ...]):
    closest = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    hint = f" Did you mean {inline_code(closest[0])}?" if closest else ""
    _fail(verb, f"Unknown option {inline_code(key)}.{hint}")


def _bounded(option: str, value: str, low: int, high: int, verb: str = "list") -> int:
    too_long = len(value) > len(str(high))  # int() refuses past 4,300 digits
    if too_long or not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        _fail(verb, f"`{option}` takes a number from {low} to {high}, not {inline_code(value)}.")
    return int(value)


def _end_of(parsed: tuple[datetime, str]) -> datetime:
    """A date-only `--until` covers that whole day."""
    moment, text = parsed
    return moment + timedelta(days=1, microseconds=-1) if len(text) == 10 else moment


def _date(option: str, value: str | None, verb: str = "list") -> tuple[datetime, str] | None:
    """A date or an ISO 8601 UTC date-time: its instant (for comparing) and its text for the API."""
    if value is None:
        return None
    problem = f"`{option}` takes a date like `2024-06-30` or `2024-06-30T14:00:00Z`, not "
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC), day.isoformat()
        moment = datetime.fromisoformat(value)
    except ValueError:
        _fail(verb, problem + inline_code(value) + ".")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.utcoffset().total_seconds() != 0:
        _fail(verb, f"`{option}` must be in UTC (end it with `Z`).")
    moment = moment.astimezone(UTC)
    # isoformat, not strftime: %Y drops the zero padding of years before 1000
    return moment, moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
