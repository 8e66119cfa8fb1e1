"""Try the bot on this machine with no Slack app and no API key.

    python -m bot.demo                        type commands, press buttons by number
    python -m bot.demo "list 1001" 2          run these (a number presses that button) and exit
    python -m bot.demo "list 1002" "4 60002"  a number and a profile id picks that row in menu 4

It runs the real bot on loopback against the WhatConverts stand-in, and plays Slack's part: each
command is a signed POST to /slack/events, and answers are read from the response_url.
"""

import argparse
import html
import json
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

TOUR = ["help", "accounts", "list 1001", "1", "get 1002 60003", "create 1002",
        "Smith & Sons – Uptown", "rename 1002 60003 Smith & Sons – Google Ads",
        "delete 1002 60002", "1", "use 1002", "find google", "export", "list", "audit"]
QUIET_AFTER = 0.4  # seconds without a new answer before a click's answers are taken as complete
SHOWN_CALLS = ("chat.postMessage", "chat.postEphemeral", "chat.update",
               "files.completeUploadExternal", "views.open", "views.update")
you = "U0DEMO"


class Demo:
    """Plays Slack's part for one person: types commands, presses controls, fills in forms."""

    def __init__(self, slack: LocalSlack):
        self.slack = slack
        self.user = you
        self.controls: list[dict] = []  # buttons and menus of the last message, numbered from 1
        self.form: dict | None = None  # a modal that is open and waits for a name
        self.seen_calls = 0

    @property
    def prompt(self) -> str:
        if self.form:
            return f"\n[form: {self.form['title']['text']}] Profile name (or 'cancel'): "
        return "\n/profiles "

    def run(self, line: str) -> None:
        line = line.strip()
        if self.form is not None:
            self.fill_in(line)
            return
        if line.startswith("/profiles"):
            line = line[len("/profiles"):].strip()
        if line.startswith(":as "):
            self.user = line.split(None, 1)[1].strip()
            print(f"(now clicking and typing as {self.user})")
            return
        number, _, choice = line.partition(" ")
        if number.isdigit() and number != "0" and self.controls:
            self.press(int(number), choice.strip())
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

    def press(self, number: int, choice: str = "") -> None:
        if number > len(self.controls):
            print(f"(there is no button {number})")
            return
        control = self.controls[number - 1]
        if control["type"] == "static_select":
            self.choose(control, choice)
            return
        label = control["text"]["text"]
        confirm = control.get("confirm")
        if confirm and not self.confirmed(confirm):
            print("(dialog dismissed; nothing was sent)")
            return

        print(f"\n> [{label}]")
        ack, key = self.slack.click(control["action_id"], control.get("value", ""),
                                    user=self.user)
        if ack.status_code != 200:
            print(f"(Slack would show an error: HTTP {ack.status_code})")
            return
        self.collect(key)

    def choose(self, menu: dict, choice: str) -> None:
        """Pick a row in a menu by its profile id, e.g. `3 60002` for menu 3."""
        options = menu["options"]
        picked = [o for o in options if choice and o["text"]["text"].endswith(f"({choice})")]
        if not picked:
            print(f"{menu['placeholder']['text']} which row? Type the menu's number and a "
                  f"profile id, e.g. `{self.controls.index(menu) + 1} "
                  f"{options[0]['text']['text'].rsplit('(', 1)[-1].rstrip(')')}`:")
            for option in options[:10]:
                print(f"   {option['text']['text']}")
            if len(options) > 10:
                print(f"   … and {len(options) - 10} more")
            return
        print(f"\n> [{menu['placeholder']['text']} {picked[0]['text']['text']}]")
        ack, key = self.slack.choose(menu["action_id"], picked[0], user=self.user)
        if ack.status_code != 200:
            print(f"(Slack would show an error: HTTP {ack.status_code})")
            return
        self.collect(key)

    def fill_in(self, name: str) -> None:
        """Type `name` into the open form and press Save; 'cancel' closes it."""
        form, self.form = self.form, None
        if name.lower() == "cancel":
            print("(form closed; nothing was sent)")
            return
        print(f"\n> [Save] {name}")
        posted = len(self.slack.inbox.calls("chat.postEphemeral"))
        ack = self.slack.submit(form, {"name": name}, user=self.user)
        if ack.status_code != 200:
            print(f"(Slack would show an error: HTTP {ack.status_code})")
            return
        errors = ack.json().get("errors", {}) if ack.content else {}
        if errors:
            print(f"[form] {' '.join(errors.values())}")
            self.form = form
            return
        try:
            self.slack.inbox.wait_for_call("chat.postEphemeral", posted + 1, timeout=60)
        except TimeoutError:
            print("(no answer within 60 s)")
        self.show_calls()

    def confirmed(self, confirm: dict) -> bool:
        question = f"{confirm['title']['text']} {_unescape(confirm['text']['text'])}"
        if not sys.stdin.isatty():
            print(f"[dialog] {question} -> {confirm['confirm']['text']}")
            return True
        reply = input(f"[dialog] {question} [{confirm['confirm']['text']}? y/N] ")
        return reply.strip().lower() in ("y", "yes")

    def collect(self, key: str) -> None:
        """Show what arrives at the response_url until it goes quiet, then the rest of Slack."""
        self._collect(key)
        self.show_calls()

    def show_calls(self) -> None:
        """What the bot did through Slack's Web API since last shown: posts, files, forms."""
        calls = self.slack.inbox.web_calls[self.seen_calls:]
        self.seen_calls += len(calls)
        for method, params in calls:
            if method not in SHOWN_CALLS:
                continue
            if method in ("views.open", "views.update"):
                view = params.get("view") or {}
                # A form without a name field (still loading, or a problem) can only be closed.
                has_field = any(b["type"] == "input" for b in view.get("blocks", []))
                self.form = view if has_field else None
                shown = "opened" if method == "views.open" else "updated"
                print(f"[form {shown}: {view['title']['text']} · {render_text(view)}]")
            elif method == "files.completeUploadExternal":
                print(f"[file uploaded to the channel] {_uploaded(self.slack, params)}")
            else:
                where = {"chat.postMessage": "posted in the channel",
                         "chat.postEphemeral": "only you see",
                         "chat.update": "channel message updated"}[method]
                print(f"[{where}] {_unescape(params.get('text', ''))}")

    def _collect(self, key: str) -> None:
        """Wait for the first answer at `key` (or a form opening), then until it goes quiet."""
        deadline = time.monotonic() + 60
        while not (self.slack.inbox.posted(key) or self._form_opened()):
            if time.monotonic() > deadline:
                print("(no answer within 60 s)")
                return
            time.sleep(0.02)
        shown = 0
        while True:
            posts = self.slack.inbox.posted(key)
            for post in posts[shown:]:
                self.show(post.payload)
            shown = len(posts)
            time.sleep(QUIET_AFTER)
            if len(self.slack.inbox.posted(key)) == shown:
                return

    def _form_opened(self) -> bool:
        """A form is open and filled in (a rename form opens first and gets its name after)."""
        for method, params in self.slack.inbox.web_calls[self.seen_calls:]:
            blocks = (params.get("view") or {}).get("blocks", [])
            if method == "views.update" or (method == "views.open" and
                                            any(b["type"] == "input" for b in blocks)):
                return True
        return False

    def show(self, message: dict) -> None:
        controls: list[dict] = []
        print(render_text(message, controls))
        # A note posted beside a message (replace_original false) leaves that message's controls.
        if controls or message.get("replace_original") is not False:
            self.controls = controls


def render_text(message: dict, controls: list[dict] | None = None) -> str:
    """A Slack message as terminal text; buttons and menus are numbered and added to `controls`."""
    controls = [] if controls is None else controls
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
                controls.append(element)
                label = (element["text"]["text"] if element["type"] == "button"
                         else f"{element['placeholder']['text']} ▾")
                labels.append(f"[{len(controls)}] {label}")
            lines.append("   ".join(labels))
        elif kind == "input":  # a form's text field: its label, and what it holds already
            held = block["element"].get("initial_value")
            if held:
                lines.append(f"{block['label']['text']}: {held}")
    if not lines:
        lines.append(_unescape(message.get("text", "")))
    return "\n".join(lines)


def _uploaded(slack: LocalSlack, params: dict) -> str:
    files = params.get("files")
    if isinstance(files, str):
        files = json.loads(files)
    parts = []
    for file in files or []:
        content = slack.inbox.uploads.get(file.get("id"), b"")
        rows = max(content.count(b"\n") - 1, 0)
        title = file.get("title") or file.get("id")
        parts.append(f"{title} ({rows:,} rows, {len(content):,} bytes)")
    return ", ".join(parts) or "a file"


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
            for line in _lines(args.lines, lambda: demo.prompt):
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


def _lines(given: list[str], prompt):
    if given:
        yield from given
    elif sys.stdin.isatty():
        while True:
            try:
                yield input(prompt())
            except EOFError:
                return
    else:
        piped = [line for line in sys.stdin.read().splitlines() if line.strip()]
        yield from piped or TOUR


if __name__ == "__main__":
    logging.captureWarnings(True)
    sys.exit(main())
