"""Block Kit messages, built with slack_sdk.models so that Slack's own code checks the limits."""

import os
import unicodedata
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View
from tabulate import tabulate
from wcwidth import wcwidth

from bot.commands import state
from bot.commands.parse import EXAMPLES, USAGE, AuditLog, FindProfiles, ListProfiles
from bot.commands.text import NAME_LIMIT, display_name, escape
from bot.storage.store import Entry, Prompt
from bot.whatconverts import AccountPage, Profile, ProfilePage

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
CONFIRM_TEXT_LIMIT = 300
TABLE_NAME_WIDTH = 40
MENU_LIMIT = 100  # options in one select menu
OPTION_LIMIT = 75  # characters of an option's text
# Menu labels are plain text, never escaped: these stand in for the characters mrkdwn would read.
_LOOK_ALIKES = str.maketrans({"<": "‹", ">": "›", "&": "＆"})
NAME_FORM_LIMIT = NAME_LIMIT
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
    lines.append("ACCOUNT and PROFILE are WhatConverts ids; DATE is `YYYY-MM-DD` or "
                 "`YYYY-MM-DDTHH:MM:SSZ` (UTC). In a channel bound with `use`, ACCOUNT may be "
                 "left out.")
    return note("\n".join(lines))


def profile_page(request: ListProfiles, page: ProfilePage) -> Message:
    total_pages = max(page.total_pages, 1)
    heading = (
        f"*Account {request.account}* · {_count(page.total_profiles)} · "
        f"{_page_of(request.page, total_pages)}"
    )
    filters = _filters(request)
    nav = _nav("profiles.page", request.page, total_pages,
               lambda number: state.page_value(request, number))
    return _profiles_message(
        request.account, heading, filters, page.profiles, request.page, total_pages,
        page.total_profiles, nav, "No profiles match." if filters else "No profiles here yet.",
        f"Account {request.account}: profiles, {_page_of(request.page, total_pages)}",
    )


def found_page(request: FindProfiles, matches: list[Profile]) -> Message:
    """One page of the profiles whose names contain the text."""
    total_pages = max(-(-len(matches) // request.per_page), 1)
    start = (request.page - 1) * request.per_page
    count = "1 match" if len(matches) == 1 else f"{len(matches):,} matches"
    heading = (f"*Account {request.account}* · {count} for “{escape(_short(request.text, 100))}”"
               f" · {_page_of(request.page, total_pages)}")
    nav = _nav("profiles.find", request.page, total_pages,
               lambda number: state.find_value(request, number))
    return _profiles_message(
        request.account, heading, "", matches[start:start + request.per_page], request.page,
        total_pages, len(matches), nav, "No profile names contain that text.",
        f"Account {request.account}: {count}, {_page_of(request.page, total_pages)}",
    )


def _profiles_message(account: int, heading: str, filters: str, profiles: list[Profile],
                      page: int, total_pages: int, total: int, nav: list[ButtonElement],
                      empty: str, fallback: str) -> Message:
    blocks: list[Block] = [_section(heading)]
    if filters:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=filters)]))

    if profiles:
        blocks.extend(_section(chunk) for chunk in _table_chunks(profiles))
    elif total and page > total_pages:
        blocks.append(_section(_past_the_end(page, total_pages)))
    else:
        blocks.append(_section(empty))

    if nav:
        blocks.append(ActionsBlock(block_id="profiles.nav", elements=nav))
    blocks.append(ActionsBlock(block_id="profiles.rows", elements=_row_tools(account, profiles)))
    return message(fallback, blocks)


def _row_tools(account: int, profiles: list[Profile]) -> list:
    """"New profile", and menus to rename or delete a row (a menu holds at most 100 rows)."""
    tools: list = [ButtonElement(text="New profile", action_id="profiles.form.create",
                                 value=str(account))]
    if not profiles or len(profiles) > MENU_LIMIT:
        return tools
    for verb, label in (("rename", "Rename…"), ("delete", "Delete…")):
        options = [Option(text=_option_label(p), value=state.row_value(account, p.profile_id))
                   for p in profiles]
        tools.append(StaticSelectElement(placeholder=label, action_id=f"profiles.row.{verb}",
                                         options=options))
    return tools


def _option_label(profile: Profile) -> str:
    """NAME (ID) for a menu: plain text of at most 75 characters, with nothing Slack could parse."""
    suffix = f" ({profile.profile_id})"
    name = _cell(display_name(profile.profile_name), 50).translate(_LOOK_ALIKES)
    return name[:OPTION_LIMIT - len(suffix)] + suffix


def accounts_page(page_number: int, page: AccountPage) -> Message:
    total_pages = max(page.total_pages, 1)
    blocks: list[Block] = [_section(
        f"*Accounts* · {page.total_accounts:,} · {_page_of(page_number, total_pages)}")]
    if page.accounts:
        rows = [[str(a.account_id), _cell(display_name(a.account_name)), str(len(a.profiles))]
                for a in page.accounts]
        blocks.extend(_section(chunk) for chunk in _chunks(["ID", "Name", "Profiles"], rows))
    elif page_number > total_pages:
        blocks.append(_section(_past_the_end(page_number, total_pages)))
    else:
        blocks.append(_section("No accounts yet."))
    nav = _nav("profiles.accounts", page_number, total_pages, state.accounts_value)
    if nav:
        blocks.append(ActionsBlock(block_id="profiles.nav", elements=nav))
    return message(f"Accounts, {_page_of(page_number, total_pages)}", blocks)


def name_form(callback_id: str, metadata: str, account: int, profile: int | None = None,
              initial: str | None = None) -> dict:
    """The modal that asks for a profile name: a new one, or (with `profile`) a rename with the
    old name filled in. Ids go in a line of their own: a title holds only 24 characters."""
    title, where = _form_heading(account, profile)
    field = PlainTextInputElement(action_id="name", initial_value=initial or None,
                                  max_length=NAME_FORM_LIMIT,
                                  placeholder="e.g. Acme Dental – Uptown")
    view = View(type="modal", callback_id=callback_id, title=title, submit="Save",
                close="Cancel", private_metadata=metadata,
                blocks=[ContextBlock(elements=[MarkdownTextObject(text=where)]),
                        InputBlock(block_id="name", label="Profile name", element=field)])
    return view.to_dict()


def loading_form(account: int, profile: int) -> dict:
    """The rename form while the old name is on its way (the trigger would not wait for it)."""
    return form_problem(account, profile, ":hourglass_flowing_sand: Fetching the current name…")


def form_problem(account: int, profile: int, text: str) -> dict:
    """A form with a sentence in place of the name field, and only a way to close it."""
    title, where = _form_heading(account, profile)
    view = View(type="modal", title=title, close="Close",
                blocks=[ContextBlock(elements=[MarkdownTextObject(text=where)]),
                        _section(text)])
    return view.to_dict()


def _form_heading(account: int, profile: int | None) -> tuple[str, str]:
    if profile is None:
        return "New profile", f"In account {account}"
    return "Rename profile", f"Profile {profile} in account {account}"


def export_progress(account: int, done: int, total: int) -> Message:
    """The channel message that follows an export; `total` 0 means the first page is on its way."""
    if not total:
        return note(f":hourglass_flowing_sand: Exporting account {account}…")
    return note(f":hourglass_flowing_sand: Exporting account {account}: page {done:,} of "
                f"{total:,}…")


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
    """The question, with Delete (behind Slack's confirm dialog) and Cancel; `problem` above."""
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
        f"*Audit trail, {scope}* · {_plural(total, 'entry', 'entries')} · "
        f"{_page_of(request.page, total_pages)}")]

    if entries:
        rows = [[e.at.strftime("%Y-%m-%d %H:%M"), e.user_id, e.verb, e.account_id or "",
                 e.profile_id or "", _names(e), e.outcome] for e in entries]
        headers = ["When (UTC)", "Who", "Verb", "Account", "Profile", "Name", "Outcome"]
        blocks.extend(_section(chunk) for chunk in _chunks(headers, rows))
    else:
        blocks.append(_section("Nothing on record yet." if request.page == 1
                               else _past_the_end(request.page, total_pages)))

    buttons = _nav("profiles.audit", request.page, total_pages,
                   lambda number: state.audit_value(request, number))
    if buttons:
        blocks.append(ActionsBlock(block_id="profiles.audit.nav", elements=buttons))
    return message(f"Audit trail, {scope}, {_page_of(request.page, total_pages)}", blocks)


def _names(entry: Entry) -> str:
    if entry.old_name is not None and entry.new_name is not None:
        old, new = _differing(entry.old_name, entry.new_name)
        return _cell(old, 20) + " → " + _cell(new, 20)
    name = entry.new_name if entry.new_name is not None else entry.old_name
    return _cell(name, 40) if name is not None else ""


def _differing(old: str, new: str) -> tuple[str, str]:
    """Two names without the start they share, so a short cell still shows what changed."""
    shared = len(os.path.commonprefix([old, new]))
    if shared <= 8 or old == new:
        return old, new
    start = old.rfind(" ", 0, shared - 1) + 1  # keep the shared word the change is in
    if start <= 1:
        start = shared - 4
    return "…" + old[start:], "…" + new[start:]


def quoted(name: str) -> str:
    """A name from a user or the API inside a sentence: shortened, escaped, in quotes."""
    return "“" + escape(_short(display_name(name), 200)) + "”"


def prompt_name(prompt: Prompt) -> str:
    """NAME (ID) of the prompt's profile, escaped."""
    return escape(f"{_short(display_name(prompt.profile_name), 200)} ({prompt.profile_id})")


# Pieces

def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _page_of(page: int, total_pages: int) -> str:
    if page > total_pages:
        return f"page {page}, past the last ({total_pages})"
    return f"page {page} of {total_pages}"


def _past_the_end(page: int, total_pages: int) -> str:
    return f"Page {page} is past the end: the last page is {total_pages}."


def _count(total: int) -> str:
    return _plural(total, "profile", "profiles")


def _plural(count: int, one: str, many: str) -> str:
    return f"1 {one}" if count == 1 else f"{count:,} {many}"


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


def _nav(prefix: str, page: int, total_pages: int, value_for) -> list[ButtonElement]:
    """Previous/Next only where they lead somewhere; past the end, a way back to the last page."""
    buttons = []
    if page > 1:
        back_to = min(page - 1, total_pages)
        buttons.append(ButtonElement(
            text="◀ Previous" if back_to == page - 1 else f"◀ Last page ({back_to})",
            action_id=f"{prefix}.previous", value=value_for(back_to),
        ))
    if page < total_pages:
        buttons.append(ButtonElement(text="Next ▶", action_id=f"{prefix}.next",
                                     value=value_for(page + 1)))
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
