"""The Slack app is created from manifest.yml: it must be valid for Slack and match the bot."""

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "data" / "manifest.schema.1.0.0.json"


def load_manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slacks_published_schema():
    schema = json.loads(SCHEMA.read_text())

    jsonschema.validate(load_manifest(), schema)


def test_manifest_sends_commands_and_clicks_to_the_one_events_path():
    manifest = load_manifest()

    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/profiles"
    assert command["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"] == command["url"]


def test_manifest_asks_only_for_the_scopes_the_bot_uses():
    scopes = load_manifest()["oauth_config"]["scopes"]

    assert scopes == {"bot": ["commands", "users:read", "chat:write", "chat:write.public",
                              "files:write"]}


def test_usage_hint_names_every_verb():
    hint = load_manifest()["features"]["slash_commands"][0]["usage_hint"]

    for verb in ("list", "get", "create", "rename", "delete", "find", "export", "audit", "use",
                 "accounts", "help"):
        assert verb in hint


def test_the_socket_mode_switch_says_what_else_it_needs():
    lines = (ROOT / "manifest.yml").read_text().splitlines()
    switch = next(i for i, line in enumerate(lines) if "socket_mode_enabled:" in line)
    comment = []
    for line in reversed(lines[:switch]):
        if not line.strip().startswith("#"):
            break
        comment.insert(0, line)

    assert "SLACK_APP_TOKEN" in " ".join(comment) and "unused" in " ".join(comment)
