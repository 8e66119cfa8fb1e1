"""What a button carries. Every click must be servable by any process, so state lives in the value
(paging) or in the database under an id the value names (delete prompts)."""

import json
import re
from dataclasses import asdict, replace

from pydantic import TypeAdapter, ValidationError

from bot.commands.parse import AuditLog, ListProfiles

_PROMPT_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


class StaleButton(Exception):
    """A button value we cannot read: from an older version of the bot, or tampered with."""


_PAGE = TypeAdapter(ListProfiles)
_AUDIT = TypeAdapter(AuditLog)


def page_value(request: ListProfiles, page: int) -> str:
    return json.dumps(asdict(replace(request, page=page)), separators=(",", ":"))


def read_page_value(value: str) -> ListProfiles:
    return _read(_PAGE, value)


def audit_value(request: AuditLog, page: int) -> str:
    return json.dumps(asdict(replace(request, page=page)), separators=(",", ":"))


def read_audit_value(value: str) -> AuditLog:
    return _read(_AUDIT, value)


def read_prompt_id(value: str) -> str:
    if not isinstance(value, str) or not _PROMPT_ID.match(value):
        raise StaleButton(str(value)[:80])
    return value


def _read(adapter: TypeAdapter, value: str):
    try:
        return adapter.validate_json(value or "")
    except ValidationError:
        raise StaleButton(value[:80] if value else "") from None
