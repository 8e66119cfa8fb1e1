"""What a button carries. Every click must be servable by any process, so state lives in the value
(paging) or in the database under an id the value names (delete prompts)."""

import json
import re
from dataclasses import asdict, dataclass, replace

from pydantic import TypeAdapter, ValidationError

from bot.commands.parse import AuditLog, FindProfiles, ListProfiles

_PROMPT_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


class StaleButton(Exception):
    """A button value we cannot read: from an older version of the bot, or tampered with."""


_PAGE = TypeAdapter(ListProfiles)
_AUDIT = TypeAdapter(AuditLog)
_FIND = TypeAdapter(FindProfiles)


@dataclass(frozen=True)
class Row:
    """A profile picked from a list page's menu."""

    account: int
    profile: int


@dataclass(frozen=True)
class FormContext:
    """What a name form needs to finish its work, carried in the modal's private_metadata."""

    verb: str
    account: int
    channel: str
    profile: int | None = None


_ROW = TypeAdapter(Row)
_FORM = TypeAdapter(FormContext)


def page_value(request: ListProfiles, page: int) -> str:
    return json.dumps(asdict(replace(request, page=page)), separators=(",", ":"))


def read_page_value(value: str) -> ListProfiles:
    return _read(_PAGE, value)


def audit_value(request: AuditLog, page: int) -> str:
    return json.dumps(asdict(replace(request, page=page)), separators=(",", ":"))


def read_audit_value(value: str) -> AuditLog:
    return _read(_AUDIT, value)


def find_value(request: FindProfiles, page: int) -> str:
    return json.dumps(asdict(replace(request, page=page)), separators=(",", ":"),
                      ensure_ascii=False)


def read_find_value(value: str) -> FindProfiles:
    return _read(_FIND, value)


def accounts_value(page: int) -> str:
    return str(page)


def read_accounts_value(value: str) -> int:
    if not isinstance(value, str) or not value.isdigit() or not 1 <= int(value) <= 1_000_000:
        raise StaleButton(str(value)[:80])
    return int(value)


def row_value(account: int, profile: int) -> str:
    return json.dumps(asdict(Row(account, profile)), separators=(",", ":"))


def read_row_value(value: str) -> Row:
    return _read(_ROW, value)


def read_account_value(value: str) -> int:
    """The account a "New profile" button names."""
    if not isinstance(value, str) or not value.isdigit() or len(value) > 18 or int(value) < 1:
        raise StaleButton(str(value)[:80])
    return int(value)


def form_metadata(context: FormContext) -> str:
    return json.dumps(asdict(context), separators=(",", ":"))


def read_form_metadata(value: str) -> FormContext:
    return _read(_FORM, value)


def read_prompt_id(value: str) -> str:
    if not isinstance(value, str) or not _PROMPT_ID.match(value):
        raise StaleButton(str(value)[:80])
    return value


def _read(adapter: TypeAdapter, value: str):
    try:
        return adapter.validate_json(value or "")
    except ValidationError:
        raise StaleButton(value[:80] if value else "") from None
