"""What a user reads when WhatConverts says no: what to do next. The log gets the details."""

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
        wait = f"{error.retry_after:.0f} seconds" if error.retry_after else "a minute"
        return f":hourglass: WhatConverts is throttling requests. Try again in {wait}."
    if isinstance(error, Unavailable) and error.may_have_applied:
        return (
            ":warning: WhatConverts' answer was lost, so the change may or may not have been "
            f"made. Check with `/profiles list {account}` before trying again."
        )
    if isinstance(error, InputRejected):
        return f":no_entry: WhatConverts refused that: {escape(error.detail)}"
    return ":warning: WhatConverts is not answering right now. Try again in a few minutes."


def _until(moment: datetime) -> str:
    minutes = max(int((moment - datetime.now(UTC)).total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes} min" if hours else f"in {minutes} min"
