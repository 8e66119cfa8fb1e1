"""What a user reads when WhatConverts says no: what to do next. The log gets the details."""

import math
from datetime import UTC, datetime

from bot.commands.text import escape
from bot.whatconverts import (
    CredentialsRefused,
    InputRejected,
    NotFound,
    QuotaExhausted,
    RateLimited,
    Unavailable,
    WhatConvertsError,
)

# WhatConverts' own words are quoted up to here: a message over 3000 characters is refused.
DETAIL_LIMIT = 300


def explain(error: WhatConvertsError, account: int, profile: int | None = None) -> str:
    if isinstance(error, CredentialsRefused):
        return (
            ":lock: WhatConverts refused the bot's API key. Ask whoever runs the bot to check "
            "`WHATCONVERTS_API_TOKEN` and `WHATCONVERTS_API_SECRET` (profiles need a master "
            "account key)."
        )
    if isinstance(error, NotFound):
        if error.what == "profile" and profile is not None:
            return (
                f":mag: Profile {profile} was not found in account {account}. "
                f"`/profiles list {account}` shows its profiles."
            )
        return (
            f":mag: Account {account} was not found in WhatConverts, or the bot's key cannot "
            "reach it. Check the account id in WhatConverts."
        )
    if isinstance(error, QuotaExhausted):
        return (
            ":hourglass: The bot has used up today's WhatConverts API requests. They reset at "
            f"midnight UTC, {_until(error.resets_at)}."
        )
    if isinstance(error, RateLimited):
        wait = _wait(error.retry_after) if error.retry_after else "a minute"
        return f":hourglass: WhatConverts is throttling requests. Try again in {wait}."
    if isinstance(error, Unavailable) and error.may_have_applied:
        return (
            ":warning: WhatConverts' answer was lost, so the change may or may not have been "
            f"made. Check with `/profiles list {account}` before trying again."
        )
    if isinstance(error, InputRejected) and not error.reason_given:
        # A bare refusal most likely means an id it does not know (an old client saw that).
        ids = "the account id" if profile is None else "the account and profile ids"
        where = "`/profiles accounts` lists the accounts"
        if profile is not None:
            where += f", `/profiles list {account}` the profiles of account {account}"
        return f":no_entry: WhatConverts refused that without saying why. Check {ids}: {where}."
    if isinstance(error, InputRejected):
        return f":no_entry: WhatConverts refused that: {escape(_shortened(error.detail))}"
    return ":warning: WhatConverts is not answering right now. Try again in a few minutes."


def _shortened(detail: str) -> str:
    return detail if len(detail) <= DETAIL_LIMIT else detail[:DETAIL_LIMIT - 1] + "\u2026"


def _wait(seconds: float) -> str:
    """A wait as a person says it: "45 seconds", "2 minutes", "about an hour"."""
    if seconds < 60:
        count = max(math.ceil(seconds), 1)
        return f"{count} second{'s' if count > 1 else ''}"
    if seconds < 3600:
        count = math.ceil(seconds / 60)
        return f"{count} minute{'s' if count > 1 else ''}"
    hours = round(seconds / 3600)
    return "about an hour" if hours == 1 else f"about {hours} hours"


def _until(moment: datetime) -> str:
    minutes = max(int((moment - datetime.now(UTC)).total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes} min" if hours else f"in {minutes} min"
