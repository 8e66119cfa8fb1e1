"""What tests read in the bot's messages, and how they check them against Slack's limits."""

import re
from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.localslack import LocalSlack
from bot.standin import StandIn

LIVE_MENTION = re.compile(r"<[!@#]|<https?:")


def assert_valid_message(message: dict) -> None:
    """What Slack would accept: blocks valid by slack_sdk's own checks, at most 50, a fallback."""
    blocks = message.get("blocks") or []
    assert len(blocks) <= 50
    assert message.get("text"), "every message needs a plain-text fallback"
    for block in Block.parse_all(blocks):
        block.validate_json()


def live_mentions(message: dict, allowed: tuple[str, ...] = ()) -> list[str]:
    """Mentions or links Slack would make live, except the bot's own `allowed` ones."""
    text = str(message)
    for own in allowed:
        text = text.replace(own, "")
    return LIVE_MENTION.findall(text)


@dataclass
class Bot:
    slack: LocalSlack
    standin: StandIn
    signing_secret: str
    events_url: str
    acks: list

    def command(self, text: str, user: str = "U0PAT", **kwargs):
        """Send `/profiles text`; answers (ack response, response_url key)."""
        ack, key = self.slack.command(text, user=user, **kwargs)
        if ack.content:
            self.acks.append(ack.json())
        return ack, key

    def answer(self, key: str, count: int = 1, timeout: float = 10.0) -> dict:
        """The last of the first `count` messages sent to that response_url."""
        return self.slack.inbox.wait(key, count, timeout)[count - 1].payload

    def ask(self, text: str, user: str = "U0PAT") -> dict:
        """Send a command that goes upstream and wait for its answer."""
        ack, key = self.command(text, user=user)
        assert ack.status_code == 200
        return self.answer(key)

    def click(self, button: dict, user: str = "U0PAT"):
        return self.slack.click(button["action_id"], button.get("value", ""), user=user)


def buttons(message: dict) -> dict[str, dict]:
    """The message's buttons by their label."""
    found = {}
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            found[element["text"]["text"]] = element
    return found


def text_of(message: dict) -> str:
    """Everything a person reads in the message, as one string."""
    parts = [message.get("text", "")]
    for block in message.get("blocks", []):
        for key in ("text",):
            if isinstance(block.get(key), dict):
                parts.append(block[key]["text"])
        for item in block.get("fields", []) + block.get("elements", []):
            if isinstance(item.get("text"), dict):
                parts.append(item["text"]["text"])
            elif isinstance(item.get("text"), str):
                parts.append(item["text"])
    return "\n".join(parts)


