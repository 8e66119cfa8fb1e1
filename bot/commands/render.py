"""Block Kit messages, built with slack_sdk.models so Slack's own limits are checked on the way out."""

import unicodedata
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from tabulate import tabulate
from wcwidth import wcwidth

from bot.commands import state
from bot.commands.parse import EXAMPLES, USAGE, AuditLog, ListProfiles
from bot.commands.text import display_name, escape
from bot.storage.store import Entry, Prompt
from bot.whatconverts import Profile, ProfilePage

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
CONFIRM_TEXT_LIMIT = 300
TABLE_NAME_WIDTH = 40
FENCE = "```"

Message = dict


def message(text: str, blocks: list[Block]) -> Message:
    """A message with checked blocks and a fallback `text` for notifications and screen readers.

    Slack reads the fallback as mrkdwn too, so user-supplied parts of it must be escaped.
    """
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; Slack takes at most {MAX_BLOCKS}")
    return {"text": text[:3000], "blocks": [block.to_dict() for block in blocks]}


def note(text: str) -> Message:
    """A one-section message; `text` is mrkdwn whose user-supplied parts are already escaped."""
    return message(_plain(text), [_section(text)])


def help_message(problem: str | None = None) -> Message:
    lines = [problem, ""] if problem else []
    lines.append("*/profiles* manages WhatConverts profiles. Commands:")
    for verb, usage in USAGE.items():
        lines.append(f"• `{usage}` — e.g. `/profiles {EXAMPLES[verb]}`")
    lines.append("ACCOUNT and PROFILE are WhatConverts ids; DATE is `YYYY-MM-DD` (UTC).")
    return note("\n".join(lines))


def profile_page(request: ListProfiles, page: ProfilePage) -> Message:
    total_pages = max(page.total_pages, 1)
    heading = (
        f"*Account {request.account}* · {_count(page.total_profiles)} · "
        f"page {request.page} of {total_pages}"
    )
    blocks: list[Block] = [_section(heading)]

    filters = _filters(request)
    if filters:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=filters)]))

    if page.profiles:
        blocks.extend(_section(chunk) for chunk in _table_chunks(page.profiles))
    elif page.total_profiles and request.page > total_pages:
        blocks.append(_section(f"Page {request.page} is past the end: there are {total_pages}."))
    else:
        blocks.append(_section("No profiles here yet." if not filters else "No profiles match."))

    buttons = _page_buttons(request, total_pages)
    if buttons:
        blocks.append(ActionsBlock(block_id="profiles.nav", elements=buttons))

    fallback = f"Account {request.account}: profiles, page {request.page} of {total_pages}"
    return message(fallback, blocks)


def profile_details(account: int, profile: Profile, headline: str | None = None) -> Message:
    """One profile, its name whole (split over sections if it must be)."""
    name = display_name(profile.profile_name)
    created = _when(profile.date_created) or "unknown"
    blocks: list[Block] = []
    if headline:
        blocks.append(_section(headline))
    parts = _escaped_parts(name, "*Name:* ")
    room = MAX_BLOCKS - len(blocks) - 1  # the fields come last
    if len(parts) > room:  # past ~140,000 characters no message holds the name whole
        parts = parts[:room - 1] + ["…"]
    blocks.extend(_section(part) for part in parts)
    blocks.append(
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Profile id:*\n{profile.profile_id}"),
                MarkdownTextObject(text=f"*Account:*\n{account}"),
                MarkdownTextObject(text=f"*Created:*\n{created}"),
            ]
        )
    )
    fallback = f"{_plain(headline or 'Profile')} {escape(_short(name, 200))} ({profile.profile_id})"
    return message(fallback, blocks)


def delete_prompt(prompt: Prompt, problem: str | None = None) -> Message:
    """The question, with Delete (behind Slack's confirm dialog) and Cancel; `problem` goes above."""
    who = prompt_name(prompt)
    question = f"Delete {who} from account {prompt.account_id}?"

    dialog_text = f"{who} will be deleted from WhatConverts. This cannot be undone."
    if len(dialog_text) > CONFIRM_TEXT_LIMIT:
        dialog_text = f"Profile {prompt.profile_id} will be deleted. This cannot be undone."
    confirm = ConfirmObject(
        title="Delete this profile?", text=dialog_text, confirm="Delete", deny="Keep it",
        style="danger",
    )
    buttons = [
        ButtonElement(text="Delete", action_id="profiles.delete.confirm", value=prompt.id,
                      style="danger", confirm=confirm),
        ButtonElement(text="Cancel", action_id="profiles.delete.cancel", value=prompt.id),
    ]
    blocks: list[Block] = [_section(problem)] if problem else []
    blocks += [_section(question), ActionsBlock(elements=buttons)]
    return message(question, blocks)


def deleted(prompt: Prompt, by_user: str) -> Message:
    return note(f":wastebasket: {prompt_name(prompt)} deleted from account {prompt.account_id} "
                f"by <@{by_user}>.")


def announcement(verb: str, user: str, account: int, profile_id: int, name: str | None,
                 old_name: str | None = None) -> Message:
    """What the channel is told of a change, so the team sees it."""
    who = escape(f"{_short(display_name(name), 200)} ({profile_id})")
    if verb == "create":
        text = f"<@{user}> created profile {who} in account {account}."
    elif verb == "rename":
        was = escape(_short(display_name(old_name), 200))
        text = f"<@{user}> renamed profile {profile_id} in account {account}: {was} → {who}."
    else:
        text = f"<@{user}> deleted profile {who} from account {account}."
    return note(text)


def audit_log(request: AuditLog, entries: list[Entry], total: int) -> Message:
    total_pages = max(-(-total // request.per_page), 1)
    scope = f"account {request.account}" if request.account else "all accounts"
    blocks: list[Block] = [_section(
        f"*Audit trail, {scope}* · {total:,} entries · page {request.page} of {total_pages}")]

    if entries:
        rows = [[e.at.strftime("%Y-%m-%d %H:%M"), e.user_id, e.verb, e.account_id or "",
                 e.profile_id or "", _names(e), e.outcome] for e in entries]
        headers = ["When (UTC)", "Who", "Verb", "Account", "Profile", "Name", "Outcome"]
        blocks.extend(_section(chunk) for chunk in _chunks(headers, rows))
    else:
        blocks.append(_section("Nothing on record yet." if request.page == 1
                               else f"Page {request.page} is past the end."))

    buttons = []
    if request.page > 1:
        buttons.append(ButtonElement(text="◀ Previous", action_id="profiles.audit.previous",
                                     value=state.audit_value(request, min(request.page - 1,
                                                                          total_pages))))
    if request.page < total_pages:
        buttons.append(ButtonElement(text="Next ▶", action_id="profiles.audit.next",
                                     value=state.audit_value(request, request.page + 1)))
    if buttons:
        blocks.append(ActionsBlock(block_id="profiles.audit.nav", elements=buttons))
    return message(f"Audit trail, {scope}, page {request.page} of {total_pages}", blocks)


def _names(entry: Entry) -> str:
    if entry.old_name is not None and entry.new_name is not None:
        return _cell(entry.old_name, 20) + " → " + _cell(entry.new_name, 20)
    name = entry.new_name if entry.new_name is not None else entry.old_name
    return _cell(name, 40) if name is not None else ""


def prompt_name(prompt: Prompt) -> str:
    """NAME (ID) of the prompt's profile, escaped."""
    return escape(f"{_short(display_name(prompt.profile_name), 200)} ({prompt.profile_id})")


# Pieces

def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _count(total: int) -> str:
    return "1 profile" if total == 1 else f"{total:,} profiles"


def _filters(request: ListProfiles) -> str:
    parts = []
    if request.since:
        parts.append(f"since {request.since}")
    if request.until:
        parts.append(f"until {request.until}")
    if request.order == "asc":
        parts.append("oldest first")
    text = " · ".join(parts)
    return text[:1].upper() + text[1:]  # not capitalize(): it lowercases the T and Z of times


def _page_buttons(request: ListProfiles, total_pages: int) -> list[ButtonElement]:
    buttons = []
    if request.page > 1:
        back_to = min(request.page - 1, total_pages)
        buttons.append(ButtonElement(
            text="◀ Previous" if back_to == request.page - 1 else f"◀ Last page ({back_to})",
            action_id="profiles.page.previous",
            value=state.page_value(request, back_to),
        ))
    if request.page < total_pages:
        buttons.append(ButtonElement(
            text="Next ▶", action_id="profiles.page.next",
            value=state.page_value(request, request.page + 1),
        ))
    return buttons


def _table_chunks(profiles: list[Profile]) -> list[str]:
    rows = [
        [str(p.profile_id), _cell(display_name(p.profile_name)), _when(p.date_created)]
        for p in profiles
    ]
    return _chunks(["ID", "Name", "Created (UTC)"], rows)


def _chunks(headers: list[str], rows: list[list]) -> list[str]:
    """A table in code blocks, split between rows so each fits one section once escaped."""
    lines = tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True).split("\n")
    header, rows_text = lines[:2], lines[2:]

    chunks: list[str] = []
    current = list(header)
    for row in rows_text:
        candidate = current + [row]
        if len(current) > len(header) and len(_fenced(candidate)) > SECTION_LIMIT:
            chunks.append(_fenced(current))
            current = list(header) + [row]
        else:
            current = candidate
    chunks.append(_fenced(current))
    return chunks


def _fenced(lines: list[str]) -> str:
    return FENCE + "\n" + escape("\n".join(lines)) + "\n" + FENCE


def _cell(name: str, width: int = TABLE_NAME_WIDTH) -> str:
    """A name made safe for one table cell: one line, no fence-breaking backticks, bounded width."""
    flat = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in name)
    return _short(flat.replace("`", "\u02cb"), width)


def _short(text: str, width: int) -> str:
    """Cut to `width` display columns (wide characters count two), marking the cut with ….

    Zero-width characters (combining marks, joiners) take no column, so they are capped apart.
    """
    most_chars = 4 * width
    if _width(text) <= width and len(text) <= most_chars:
        return text
    used, kept = 0, []
    for char in text:
        used += max(wcwidth(char), 0)
        if used > width - 1 or len(kept) >= most_chars - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def _width(text: str) -> int:
    return sum(max(wcwidth(char), 0) for char in text)


def _escaped_parts(text: str, prefix: str) -> list[str]:
    """Escaped text split so each part, with the prefix on the first, fits in a section."""
    parts, current, size = [], prefix, len(prefix)
    for char in text:
        piece = escape(char)
        if size + len(piece) > SECTION_LIMIT:
            parts.append(current)
            current, size = "", 0
        current += piece
        size += len(piece)
    parts.append(current)
    return parts


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def _plain(mrkdwn: str) -> str:
    """A notification fallback: the same words without mrkdwn markers."""
    return mrkdwn.replace("*", "").replace("`", "")
