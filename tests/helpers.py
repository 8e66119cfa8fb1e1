"""What tests read in the bot's messages, and how they check them against Slack's limits."""

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

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

    def ask(self, text: str, user: str = "U0PAT", **kwargs) -> dict:
        """Send a command that goes upstream and wait for its answer."""
        ack, key = self.command(text, user=user, **kwargs)
        assert ack.status_code == 200
        return self.answer(key)

    def click(self, button: dict, user: str = "U0PAT", channel: str = "C0DEMO"):
        return self.slack.click(button["action_id"], button.get("value", ""), user=user,
                                channel=channel)

    def choose(self, menu: dict, profile_id: int, user: str = "U0PAT"):
        """Pick the row of `profile_id` in a Rename…/Delete… menu."""
        [option] = [o for o in menu["options"] if o["text"]["text"].endswith(f"({profile_id})")]
        return self.slack.choose(menu["action_id"], option, user=user)

    def submit(self, view: dict, name: str, user: str = "U0PAT"):
        """Type `name` into a name form and press Save; answers the HTTP response (the ack)."""
        return self.slack.submit(view, {"name": name}, user=user)

    def refusal(self, text: str, user: str = "U0PAT", **kwargs) -> str:
        """What the command's acknowledgement says (parse errors are answered there)."""
        ack, _ = self.command(text, user=user, **kwargs)
        assert ack.status_code == 200 and ack.content
        return text_of(ack.json())

    def form(self, count: int = 1) -> dict:
        """The `count`th form the bot opened (views.open), as its last views.update left it."""
        opened = self.slack.inbox.wait_for_call("views.open", count)[count - 1]
        view = opened["view"]
        if any(block["type"] == "input" for block in view["blocks"]):
            return view
        deadline = time.monotonic() + 10  # opened while its contents were fetched: wait
        while time.monotonic() < deadline:
            updates = [u["view"] for u in self.slack.inbox.calls("views.update")
                       if u.get("view_id") == opened["view_id"]]
            if updates:
                return updates[-1]
            time.sleep(0.01)
        raise AssertionError("the form was never filled in")


def buttons(message: dict) -> dict[str, dict]:
    """The message's buttons by their label."""
    return {element["text"]["text"]: element for element in _controls(message)
            if element["type"] == "button"}


def page_buttons(message: dict) -> dict[str, dict]:
    """The buttons that move between pages, by their label."""
    return {element["text"]["text"]: element for element in _controls(message, "profiles.nav")}


def menus(message: dict) -> dict[str, dict]:
    """The message's select menus by their placeholder."""
    return {element["placeholder"]["text"]: element for element in _controls(message)
            if element["type"] == "static_select"}


def _controls(message: dict, block_id: str | None = None) -> list[dict]:
    return [element for block in message.get("blocks", []) if block["type"] == "actions"
            and block_id in (None, block.get("block_id")) for element in block.get("elements", [])]


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




# Processes started as the Procfile starts them

ROOT = Path(__file__).resolve().parent.parent


def procfile_command(kind: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{kind}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {kind}: line in the Procfile")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stdout.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("server did not start listening")


def start_procfile(kind: str, env: dict, cwd) -> subprocess.Popen:
    """Run a Procfile line as Heroku would: through a shell, in its own process group."""
    full_env = os.environ | {"PYTHONPATH": str(ROOT),
                             "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"} | env
    return subprocess.Popen(
        procfile_command(kind), shell=True, cwd=cwd, env=full_env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
