"""The Procfile's web command serves the bot, and the README's demo runs it end to end."""

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
import requests

from bot.localslack import LocalSlack
from tests.helpers import ROOT, buttons, free_port, start_procfile, text_of, wait_for_port


@dataclass
class Dyno:
    """The bot as Heroku runs it: the release command, then the web command."""

    base: str
    slack: LocalSlack
    process: subprocess.Popen
    database: str


@pytest.fixture
def dyno(standin, tmp_path):
    database = f"sqlite:///{tmp_path / 'heroku.db'}"
    slack = LocalSlack("", secrets.token_hex(16))
    port = free_port()
    env = {
        "PORT": str(port), "SLACK_BOT_TOKEN": "xoxb-procfile",
        "SLACK_SIGNING_SECRET": slack.signing_secret, "SLACK_API_URL": slack.inbox.api_url,
        "WHATCONVERTS_API_TOKEN": "test-token", "WHATCONVERTS_API_SECRET": "test-secret",
        "WHATCONVERTS_API_URL": standin.url, "DATABASE_URL": database,
    }
    release = start_procfile("release", env, tmp_path)
    assert release.wait(timeout=60) == 0, release.stdout.read()

    process = start_procfile("web", env, tmp_path)
    try:
        wait_for_port(port, process)
        slack.events_url = f"http://127.0.0.1:{port}/slack/events"
        yield Dyno(f"http://127.0.0.1:{port}", slack, process, database)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        slack.close()


def test_the_procfile_web_command_answers_signed_commands_at_slack_events(dyno, standin):
    ack, key = dyno.slack.command("list 1002", user="U0PAT")

    assert ack.status_code == 200
    answer = dyno.slack.inbox.wait(key)[0].payload
    assert "*Account 1002* · 3 profiles · page 1 of 1" in text_of(answer)
    assert [(r.method, r.path) for r in standin.requests] == [
        ("GET", "/api/v1/accounts/1002/profiles")]


def test_health_and_readiness_answer_without_touching_slack_or_whatconverts(dyno, standin):
    assert requests.get(f"{dyno.base}/healthz", timeout=5).status_code == 200
    assert requests.get(f"{dyno.base}/readyz", timeout=5).status_code == 200
    assert standin.requests == [] and dyno.slack.inbox.web_calls == []


def test_readiness_answers_503_until_the_database_is_migrated(standin, tmp_path):
    from bot.storage.migrate import upgrade
    from tests.conftest import start_bot

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    server, bot = start_bot(standin, empty)
    readyz = bot.events_url.replace("/slack/events", "/readyz")
    try:
        before = requests.get(readyz, timeout=5)
        upgrade(empty)
        after = requests.get(readyz, timeout=5)
    finally:
        bot.slack.close()
        server.shutdown()
        server.server_close()

    assert before.status_code == 503
    assert before.text == "database not migrated: run python -m bot.storage.migrate\n"
    assert after.status_code == 200


def test_readiness_holds_while_a_newer_release_has_migrated_the_database(standin, tmp_path):
    """During a deploy the release step runs first; the old process still serves meanwhile."""
    from sqlalchemy import create_engine, text

    from bot.storage.migrate import upgrade
    from tests.conftest import start_bot

    database = f"sqlite:///{tmp_path / 'ahead.db'}"
    upgrade(database)
    engine = create_engine(database)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'from_a_newer_release'"))
    engine.dispose()
    server, bot = start_bot(standin, database)
    try:
        ready = requests.get(bot.events_url.replace("/slack/events", "/readyz"), timeout=5)
    finally:
        bot.slack.close()
        server.shutdown()
        server.server_close()

    assert ready.status_code == 200


def test_make_serve_runs_the_procfile_release_then_web_commands():
    from tests.helpers import procfile_command

    dry_run = subprocess.run(["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True,
                             timeout=30, check=True).stdout.splitlines()

    commands = [line.replace("$(BIN)/", "").replace(".venv/bin/", "") for line in dry_run]
    release, web = procfile_command("release"), procfile_command("web")
    assert release in commands and web in commands
    assert commands.index(release) < commands.index(web)


def test_the_gunicorn_thread_count_is_not_read_from_the_environment(monkeypatch):
    import importlib

    import bot.gunicorn_conf

    monkeypatch.setenv("GUNICORN_THREADS", "64")

    assert importlib.reload(bot.gunicorn_conf).threads == 8


def test_sigterm_lets_a_confirmed_delete_finish(dyno, standin):
    ack, key = dyno.slack.command("delete 1002 60002", user="U0PAT")
    prompt = dyno.slack.inbox.wait(key)[0].payload
    standin.latency = 1.5

    _, key = dyno.slack.click("profiles.delete.confirm", buttons(prompt)["Delete"]["value"],
                              user="U0PAT")
    deadline = time.monotonic() + 10
    while standin.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(dyno.process.pid, signal.SIGTERM)  # as Heroku does: every process of the dyno

    answer = dyno.slack.inbox.wait(key, count=2, timeout=30)[1].payload
    assert "deleted from account 1002" in text_of(answer)
    assert [r.method for r in standin.requests].count("DELETE") == 1
    assert 60002 not in [p["profile_id"] for p in standin.profiles(1002)]
    dyno.process.wait(timeout=30)
    assert process_group_ends(dyno.process.pid, timeout=30)


def process_group_ends(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_the_procfile_web_command_refuses_unsigned_requests(dyno, standin):
    response = requests.post(f"{dyno.base}/slack/events", data={"command": "/profiles",
                                                           "text": "list 1001"}, timeout=5)

    assert response.status_code == 401
    assert standin.requests == []


def test_the_demo_runs_commands_given_as_arguments_and_presses_buttons():
    result = subprocess.run(
        [sys.executable, "-m", "bot.demo", "list 1001", "1", "delete 1002 60002", "1",
         "list 1002"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "page 1 of 3" in out and "page 2 of 3" in out
    assert "Delete Smith & Sons – Storm Damage (60002) from account 1002?" in out
    assert "deleted from account 1002 by" in out
    assert "*Account 1002* · 2 profiles" in out
    assert "Traceback" not in result.stderr


def test_the_demo_with_no_input_runs_its_tour():
    result = subprocess.run(
        [sys.executable, "-m", "bot.demo"], cwd=ROOT, capture_output=True, text=True,
        timeout=120, stdin=subprocess.DEVNULL,
    )

    assert result.returncode == 0, result.stderr
    assert "> /profiles help" in result.stdout
    assert "page 2 of 3" in result.stdout
    assert "deleted from account 1002" in result.stdout
    assert "[form opened: New profile · In account 1002]" in result.stdout
    assert "created profile Smith & Sons – Uptown (60004)" in result.stdout
    assert "This channel now uses account 1002" in result.stdout
    assert "1 match for “google”" in result.stdout
    assert "[file uploaded to the channel] Profiles of account 1002 (3 rows" in result.stdout
    assert "*Name:* Smith & Sons – Google LSA" in result.stdout
    assert "renamed profile 60003 in account 1002" in result.stdout
    assert "Audit trail, account 1002" in result.stdout
