"""Text crossing the Slack boundary: what Slack sends us, and what we may show in mrkdwn."""

import html

# Phones turn straight quotes into curly ones; users mean the straight ones.
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_QUOTE_CHARS = "\"'"
PLACEHOLDER = "(no name)"
NAME_LIMIT = 3000  # characters of a profile name, typed or in a form (a form field's most)
CODE_LIMIT = 100  # characters of user text quoted back; more would not fit a message


def decode_command_text(text: str) -> str:
    """Undo the only escaping Slack applies to command text, and straighten curly quotes."""
    decoded = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return decoded.translate(_QUOTES)


def unquote_name(name: str) -> str:
    """A name as the user means it: curly quotes straight, outer matching quotes and spaces gone.

    The command line and the name forms both go through this, so `"Bob's Shop"` is one name
    wherever it is typed.
    """
    name = name.translate(_QUOTES).strip()
    if len(name) >= 2 and name[0] in _QUOTE_CHARS and name[-1] == name[0]:
        name = name[1:-1]
    return name


def escape(text: str) -> str:
    """Make text from a user or the API inert in mrkdwn: no mention, link or entity survives."""
    return html.escape(text, quote=False)


def inline_code(text: str) -> str:
    """Text shown in `code`; a backtick would close the span, so it becomes a look-alike."""
    if len(text) > CODE_LIMIT:
        text = text[:CODE_LIMIT - 1] + "\u2026"
    return "`" + escape(text.replace("`", "\u02cb")) + "`"


def display_name(name: str | None) -> str:
    """The name to show; an empty or missing one gets a placeholder instead of a blank."""
    if name is None or not name.strip():
        return PLACEHOLDER
    return name
