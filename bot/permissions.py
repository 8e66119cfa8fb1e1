"""Who may do what. Everyone reads; writers and admins write; guests never write.

Slack's own account types are read with `users.info` and kept for a few minutes.
"""

import logging
import threading
from dataclasses import dataclass

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logger = logging.getLogger(__name__)

GUEST_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""  # mrkdwn for the user, when refused


ALLOWED = Decision(True)


class Permissions:
    def __init__(self, slack: WebClient, write_users: set[str], admin_users: set[str],
                 channel_accounts: dict[str, set[int]]):
        self._slack = slack
        self.write_users = write_users
        self.admin_users = admin_users
        self.channel_accounts = channel_accounts
        self._guests: TTLCache = TTLCache(maxsize=10_000, ttl=GUEST_CACHE_SECONDS)
        self._lock = threading.Lock()
        if not write_users:
            logger.warning("WRITE_USERS is empty: every full member of the workspace may create, "
                           "rename and delete profiles")

    def is_admin(self, user: str) -> bool:
        return user in self.admin_users

    def may_write(self, user: str) -> Decision:
        listed = user in self.write_users or user in self.admin_users
        if self.write_users and not listed:
            return Decision(False, "Only the bot's writers may change profiles or channel "
                                   "bindings. Ask an admin to add you to `WRITE_USERS`.")
        guest = self._is_guest(user)
        if guest is None:
            return Decision(False, "I couldn't check your Slack account just now, so I didn't "
                                   "change anything. Try again in a minute.")
        if guest:
            return Decision(False, "Guests can look at profiles but not change them.")
        return ALLOWED

    def may_use_account(self, channel: str, account: int) -> Decision:
        allowed = self.channel_accounts.get(channel)
        if allowed is None or account in allowed:
            return ALLOWED
        return Decision(False, f"This channel works only with account {_listed(allowed)}.")

    def may_see_every_account(self, channel: str, verb: str) -> Decision:
        """`accounts` and an `audit` of every account: not in a channel limited to some."""
        allowed = self.channel_accounts.get(channel)
        if allowed is None:
            return ALLOWED
        example = f" Try `/profiles audit {min(allowed)}`." if verb == "audit" else ""
        return Decision(False, f"This channel works only with account {_listed(allowed)}, so it "
                               f"does not show the others.{example}")

    def _is_guest(self, user: str) -> bool | None:
        """True for restricted and ultra-restricted users; None when Slack could not say."""
        with self._lock:
            if user in self._guests:
                return self._guests[user]
        try:
            info = self._slack.users_info(user=user)["user"]
        except (SlackApiError, OSError, KeyError) as error:
            logger.warning("users.info failed for user=%s: %s", user, type(error).__name__)
            return None
        guest = bool(info.get("is_restricted") or info.get("is_ultra_restricted"))
        with self._lock:
            self._guests[user] = guest
        return guest


def _listed(accounts: set[int]) -> str:
    return ", ".join(str(account) for account in sorted(accounts))
