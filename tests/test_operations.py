"""Running the bot: Socket Mode dispatch, logs without secrets, docs kept equal to the code."""

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import TypeAdapter
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.app import build, socket_mode_handler
from bot.config import Settings, load_settings
from tests.helpers import ROOT, buttons, text_of


class RecordingSocketClient:
    """Stands in for the WebSocket: keeps what the handler sends back on it."""

    def __init__(self):
        self.sent = []
        self.logger = logging.getLogger("socket-test")

    def send_socket_mode_response(self, response):
        self.sent.append(response)


@pytest.fixture
def socket_bot(standin, database, bot):
    settings = load_settings(
        slack_bot_token="xoxb-socket", slack_app_token="xapp-1-socket",
        whatconverts_api_token="test-token", whatconverts_api_secret="test-secret",
        whatconverts_api_url=standin.url, slack_api_url=bot.slack.inbox.api_url,
        database_url=database,
    )
    socket_bot = build(settings)
    yield socket_mode_handler(socket_bot, settings), bot.slack
    socket_bot.stop()


def envelope(kind: str, payload: dict) -> SocketModeRequest:
    return SocketModeRequest(type=kind, envelope_id=f"env-{kind}", payload=payload)


def test_socket_mode_acks_a_slash_command_envelope_and_answers_at_its_response_url(
        socket_bot, standin):
    handler, slack = socket_bot
    key, response_url = slack.inbox.new_url()
    client = RecordingSocketClient()

    handler.handle(client, envelope("slash_commands", {
        "command": "/profiles", "text": "list 1002", "user_id": "U0PAT", "channel_id": "C0OPS",
        "team_id": "T0001", "response_url": response_url, "trigger_id": "1.2",
    }))

    [ack] = client.sent
    assert ack.envelope_id == "env-slash_commands"
    assert "page 1 of 1" in text_of(slack.inbox.wait(key)[0].payload)
    assert [r.path for r in standin.requests] == ["/api/v1/accounts/1002/profiles"]


def test_socket_mode_dispatches_button_clicks_too(socket_bot, standin):
    handler, slack = socket_bot
    key, response_url = slack.inbox.new_url()
    client = RecordingSocketClient()
    value = json.dumps({"account": 1001, "page": 2, "per_page": 25, "since": None,
                        "until": None, "order": None})

    handler.handle(client, envelope("interactive", {
        "type": "block_actions", "user": {"id": "U0PAT"}, "team": {"id": "T0001"},
        "channel": {"id": "C0OPS"}, "response_url": response_url,
        "actions": [{"action_id": "profiles.page.next", "block_id": "b", "value": value,
                     "type": "button", "action_ts": "1"}],
    }))

    assert client.sent[0].envelope_id == "env-interactive"
    assert "page 2 of 3" in text_of(slack.inbox.wait(key)[0].payload)


SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-sekrit-bot-token-7431",
    "SLACK_SIGNING_SECRET": "sekrit-signing-9982",
    "WHATCONVERTS_API_TOKEN": "sekrit-wc-token-5521",
    "WHATCONVERTS_API_SECRET": "sekrit-wc-secret-6610",
}


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_a_whole_session_never_logs_a_token_secret_or_payload(standin, database, caplog, level):
    from tests.conftest import start_bot

    standin_secrets = {"token": SECRETS["WHATCONVERTS_API_TOKEN"],
                       "secret": SECRETS["WHATCONVERTS_API_SECRET"]}
    standin._token, standin._secret = standin_secrets["token"], standin_secrets["secret"]
    with caplog.at_level(logging.DEBUG):
        # create_wsgi_app configures logging itself: LOG_LEVEL is what sets the session's level.
        server, bot = start_bot(
            standin, database, slack_bot_token=SECRETS["SLACK_BOT_TOKEN"],
            whatconverts_api_token=standin_secrets["token"],
            whatconverts_api_secret=standin_secrets["secret"], log_format="json",
            log_level=level)
        assert logging.getLogger("bot.app").getEffectiveLevel() == logging.getLevelName(level)
        try:
            bot.ask("list 1001 --per-page 5")
            bot.ask("create 1002 Payload Name Marker")
            prompt = bot.ask("delete 1002 60002")
            _, key = bot.click(buttons(prompt)["Delete"])
            bot.answer(key, count=2)
            standin.fail_next(401, "Invalid API token or secret.")
            bot.ask("get 1002 60001")
            bot.command("list 1001 --pgae 2")
            bot.slack.signing_secret = "not-the-secret"
            refused, _ = bot.command("create 1002 Forged Payload Marker")
        finally:
            bot.slack.close()
            server.shutdown()

    log = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for value in list(SECRETS.values()) + [bot.signing_secret]:
        assert value not in log
    assert "Payload Name Marker" not in log and "Payload+Name+Marker" not in log
    assert refused.status_code == 401
    assert "Forged" not in log
    assert "pgae" not in log  # the mistyped option, echoed in an ack that Bolt logs at DEBUG
    assert not re.search(r"respond(/|%2F)", log, re.IGNORECASE), "a response_url was logged"
    assert "refused a request with 401: invalid signature" in log


def test_the_postgresql_pool_has_a_connection_for_every_worker_and_listener_thread():
    from bot.storage.store import create_db_engine

    bolt_listener_threads = 5  # Bolt's default executor; they read the binding before the ack
    engine = create_db_engine("postgresql+psycopg://bot@db.invalid/bot")  # connects to nothing
    try:
        capacity = engine.pool.size() + engine.pool._max_overflow
        assert capacity > Settings.model_fields["workers"].default + bolt_listener_threads
        assert engine.pool.timeout() <= 5
    finally:
        engine.dispose()


def test_each_command_logs_one_line_with_verb_account_user_outcome_duration_and_calls(
        bot, caplog):
    with caplog.at_level(logging.INFO, logger="bot.commands.listeners"):
        bot.ask("get 1002 60001")

    [line] = [r for r in caplog.records if getattr(r, "verb", None) == "get"]
    assert (line.account, line.user, line.outcome, line.upstream_calls) == (
        1002, "U0PAT", "ok", 1)
    assert isinstance(line.duration_ms, int)


def test_json_logs_are_one_object_a_line_with_the_command_fields():
    script = (
        "import logging; from bot import logs; logs.configure('INFO', 'json');"
        "logging.getLogger('t').info('x', extra={'verb': 'list', 'account': 1001})"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=30)

    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["verb"] == "list" and record["account"] == 1001 and record["level"] == "INFO"


def settings_table() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| (yes|no) \|", section, re.MULTILINE)
    return dict(rows)


def test_the_readme_settings_table_lists_exactly_the_settings_class():
    documented = settings_table()
    fields = {name.upper() for name in Settings.model_fields}

    assert set(documented) == fields
    required = {n.upper() for n, f in Settings.model_fields.items() if f.is_required()}
    assert {n for n, r in documented.items() if r == "yes"} >= required


def test_the_dockerfile_runs_as_a_non_root_user_with_a_health_check():
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line.split()[0] for line in dockerfile.splitlines()
                    if line.strip() and not line.startswith(("#", " "))]

    assert instructions[0] == "FROM"
    user = [line for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert user and user[-1].split()[1] not in ("root", "0")
    assert "HEALTHCHECK" in instructions
    assert instructions.index("USER") < instructions.index("CMD")
    assert 'CMD ["python", "-m", "bot"]' in dockerfile


def test_the_dockerfile_start_command_serves_outside_a_container(standin, tmp_path):
    """No container engine here: run its CMD and its health check as the image would."""
    from tests.helpers import free_port, wait_for_port

    port = free_port()
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(ROOT),
           "PORT": str(port), "SLACK_BOT_TOKEN": "xoxb-docker", "SLACK_SIGNING_SECRET": "s",
           "WHATCONVERTS_API_TOKEN": "t", "WHATCONVERTS_API_SECRET": "u",
           "WHATCONVERTS_API_URL": standin.url,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'data.db'}"}
    process = subprocess.Popen([sys.executable, "-m", "bot"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        wait_for_port(port, process)
        check = subprocess.run([sys.executable, "-m", "bot.healthcheck"], env=env,
                               cwd=tmp_path, timeout=30)
        assert check.returncode == 0
    finally:
        import os
        import signal

        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def test_app_json_lists_every_setting_and_adds_postgres():
    app = json.loads((ROOT / "app.json").read_text())

    set_by_heroku_or_tests = {"PORT", "DATABASE_URL", "SLACK_API_URL"}
    assert set(app["env"]) == {n.upper() for n in Settings.model_fields} - set_by_heroku_or_tests
    assert all(spec.get("description") for spec in app["env"].values())
    for name, field in Settings.model_fields.items():
        spec = app["env"].get(name.upper(), {})
        if "value" in spec:
            assert TypeAdapter(field.annotation).validate_python(spec["value"]) == field.default
    assert any(addon["plan"].startswith("heroku-postgresql") for addon in app["addons"])


def test_heroku_python_version_is_pinned():
    assert re.fullmatch(r"3\.\d+\n?", (ROOT / ".python-version").read_text())


def test_a_mistyped_command_and_the_help_each_leave_one_log_line(bot, caplog):
    with caplog.at_level(logging.INFO, logger="bot.commands.listeners"):
        bot.refusal("list abc")
        bot.refusal("help")

    lines = [r for r in caplog.records if hasattr(r, "verb")]
    assert [(r.verb, r.outcome, r.upstream_calls) for r in lines] == [
        ("parse", "refused: bad input", 0), ("help", "ok", 0)]
    assert all(r.user == "U0PAT" for r in lines)
