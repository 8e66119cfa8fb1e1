"""Try the bot on this machine with no Slack app and no API key.

    python -m bot.demo                        type commands, press buttons by number
    python -m bot.demo "list 1001" 2          run these (a number presses that button) and exit

It runs the real bot on loopback against the WhatConverts stand-in, and plays Slack's part: each
command is a signed POST to /slack/events, and answers are read from the response_url.
"""

import argparse
import html
import logging
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

from bot import logs
from bot.app import create_wsgi_app, stop_all
from bot.localslack import LocalSlack, serve_wsgi
from bot.standin import StandIn
from bot.storage.migrate import upgrade

TOUR = ["help", "list 1001", "1", "get 1002 60002", "create 1002 Smith & Sons – Uptown",
        "delete 1002 60002", "1", "list 1002"]
QUIET_AFTER = 0.4  # seconds without a new answer before a click's answers are taken as complete
you = "U0DEMO"


class Demo:
    def __init__(self, slack: LocalSlack):
        self.slack = slack
        self.user = you
        self.buttons: list[dict] = []
        self.announced = 0

    def run(self, line: str) -> None:
        line = line.strip()
        if line.startswith("/profiles"):
            line = line[len("/profiles"):].strip()
        if line.startswith(":as "):
            self.user = line.split(None, 1)[1].strip()
            print(f"(now clicking and typing as {self.user})")
            return
        if line.isdigit() and line != "0" and self.buttons:
            self.press(int(line))
            return

        print(f"\n> /profiles {line}")
        ack, key = self.slack.command(line, user=self.user)
        if ack.status_code != 200:
            print(f"(Slack would show an error: HTTP {ack.status_code})")
            return
        if ack.content:
            self.show(ack.json())
            if "Working on it" not in ack.text:
                return
        self.collect(key)

    def press(self, number: int) -> None:
        if number > len(self.buttons):
            print(f"(there is no button {number})")
            return
        button = self.buttons[number - 1]
        label = button["text"]["text"]
        confirm = button.get("confirm")
        if confirm and not self.confirmed(confirm):
            print("(dialog dismissed; nothing was sent)")
            return

        print(f"\n> [{label}]")
        ack, key = self.slack.click(button["action_id"], button.get("value", ""), user=self.user)
        if ack.status_code != 200:
            print(f"(Slack would show an error: HTTP {ack.status_code})")
            return
        self.collect(key)

    def confirmed(self, confirm: dict) -> bool:
        question = f"{confirm['title']['text']} {_unescape(confirm['text']['text'])}"
        if not sys.stdin.isatty():
            print(f"[dialog] {question} -> {confirm['confirm']['text']}")
            return True
        reply = input(f"[dialog] {question} [{confirm['confirm']['text']}? y/N] ")
        return reply.strip().lower() in ("y", "yes")

    def collect(self, key: str) -> None:
        """Show what arrives at the response_url until it goes quiet, then channel posts."""
        self._collect(key)
        posts = self.slack.inbox.calls("chat.postMessage")
        for post in posts[self.announced:]:
            print(f"[posted in the channel] {_unescape(post.get('text', ''))}")
        self.announced = len(posts)

    def _collect(self, key: str) -> None:
        try:
            posts = self.slack.inbox.wait(key, timeout=60)
        except TimeoutError:
            print("(no answer within 60 s)")
            return
        shown = 0
        while True:
            for post in posts[shown:]:
                self.show(post.payload)
            shown = len(posts)
            time.sleep(QUIET_AFTER)
            posts = self.slack.inbox.posted(key)
            if len(posts) == shown:
                return

    def show(self, message: dict) -> None:
        buttons: list[dict] = []
        print(render_text(message, buttons))
        # A note posted beside a message (replace_original false) leaves that message's buttons.
        if buttons or message.get("replace_original") is not False:
            self.buttons = buttons


def render_text(message: dict, buttons: list[dict] | None = None) -> str:
    """A Slack message as terminal text; buttons are numbered and appended to `buttons`."""
    buttons = [] if buttons is None else buttons
    lines = []
    for block in message.get("blocks") or []:
        kind = block["type"]
        if kind in ("section", "context"):
            texts = [block.get("text")] + block.get("fields", []) + block.get("elements", [])
            for text in filter(None, texts):
                lines.append(_unescape(text["text"].replace("```", "").strip("\n")))
        elif kind == "actions":
            labels = []
            for element in block["elements"]:
                buttons.append(element)
                labels.append(f"[{len(buttons)}] {element['text']['text']}")
            lines.append("   ".join(labels))
    if not lines:
        lines.append(_unescape(message.get("text", "")))
    return "\n".join(lines)


def _unescape(text: str) -> str:
    """mrkdwn as a person reads it: entities decoded, mentions shown as @id."""
    return html.unescape(re.sub(r"<@([A-Z0-9]+)>", r"@\1", text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.demo", description=__doc__.split("\n")[0])
    parser.add_argument("lines", nargs="*", help='commands such as "list 1001", or a button number')
    parser.add_argument("--verbose", action="store_true", help="show the bot's log")
    args = parser.parse_args(argv)

    logs.configure("INFO" if args.verbose else "WARNING")
    secret, api_token, api_secret = (secrets.token_hex(16) for _ in range(3))
    with StandIn(token=api_token, secret=api_secret) as standin, \
            tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{Path(folder) / 'demo.db'}"
        upgrade(database)
        slack = LocalSlack("", secret)
        wsgi = create_wsgi_app(
            slack_bot_token="xoxb-demo", slack_signing_secret=secret,
            whatconverts_api_token=api_token, whatconverts_api_secret=api_secret,
            whatconverts_api_url=standin.url, slack_api_url=slack.inbox.api_url,
            database_url=database, log_level="INFO" if args.verbose else "WARNING",
        )
        server, base = serve_wsgi(wsgi)
        slack.events_url = f"{base}/slack/events"
        demo = Demo(slack)
        print(f"The bot is serving {base}/slack/events; the WhatConverts stand-in is {standin.url}")
        print("Accounts: 1001 (60 profiles), 1002 (3), 1003 (none). Type a command such as "
              "'list 1001', a button number to press it, or 'quit'.")
        try:
            for line in _lines(args.lines):
                if line.strip().lower() in ("quit", "exit"):
                    break
                if line.strip():
                    demo.run(line)
        except KeyboardInterrupt:
            print()
        finally:
            slack.close()
            server.shutdown()
            stop_all()
    return 0


def _lines(given: list[str]):
    if given:
        yield from given
    elif sys.stdin.isatty():
        while True:
            try:
                yield input("\n/profiles ")
            except EOFError:
                return
    else:
        piped = [line for line in sys.stdin.read().splitlines() if line.strip()]
        yield from piped or TOUR


if __name__ == "__main__":
    logging.captureWarnings(True)
    sys.exit(main())
