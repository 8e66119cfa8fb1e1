"""What a button carries. Every click must be servable by any process, so state lives in the value."""

import json
from dataclasses import asdict, dataclass, replace

from pydantic import TypeAdapter, ValidationError

from bot.commands.parse import ListProfiles

NAME_LIMIT = 300  # of a profile name kept in a delete button, well inside the 2000-character value


class StaleButton(Exception):
    """A button value we cannot read: from an older version of the bot, or tampered with."""


@dataclass(frozen=True)
class DeletePrompt:
    account: int
    profile: int
    name: str
    requester: str
    nonce: str
    asked_at: float


_PAGE = TypeAdapter(ListProfiles)
_DELETE = TypeAdapter(DeletePrompt)


def page_value(request: ListProfiles, page: int) -> str:
    return json.dumps(asdict(replace(request, page=page)), separators=(",", ":"))


def read_page_value(value: str) -> ListProfiles:
    return _read(_PAGE, value)


def delete_value(prompt: DeletePrompt) -> str:
    prompt = replace(prompt, name=prompt.name[:NAME_LIMIT])
    return json.dumps(asdict(prompt), separators=(",", ":"), ensure_ascii=False)


def read_delete_value(value: str) -> DeletePrompt:
    return _read(_DELETE, value)


def _read(adapter: TypeAdapter, value: str):
    try:
        return adapter.validate_json(value or "")
    except ValidationError:
        raise StaleButton(value[:80] if value else "") from None
