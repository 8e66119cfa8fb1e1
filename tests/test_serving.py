"""The Procfile's web command serves the bot, and the README's demo runs it end to end."""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.localslack import LocalSlack
from tests.helpers import text_of

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


@pytest.fixture
def web_process(standin, tmp_path):
    port = free_port()
    secret = secrets.token_hex(16)
    env = os.environ | {
        "PORT": str(port), "SLACK_BOT_TOKEN": "xoxb-procfile", "SLACK_SIGNING_SECRET": secret,
        "WHATCONVERTS_API_TOKEN": "test-token", "WHATCONVERTS_API_SECRET": "test-secret",
        "WHATCONVERTS_API_URL": standin.url, "PYTHONPATH": str(ROOT),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    process = subprocess.Popen(
        procfile_command("web"), shell=True, cwd=tmp_path, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}", secret
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def test_the_procfile_web_command_answers_signed_commands_at_slack_events(web_process, standin):
    base, secret = web_process
    slack = LocalSlack(f"{base}/slack/events", secret)
    try:
        ack, key = slack.command("list 1002", user="U0PAT")
        assert ack.status_code == 200
        answer = slack.inbox.wait(key)[0].payload
    finally:
        slack.close()

    assert "*Account 1002* · 3 profiles · page 1 of 1" in text_of(answer)
    assert [(r.method, r.path) for r in standin.requests] == [
        ("GET", "/api/v1/accounts/1002/profiles")]


def test_the_procfile_web_command_refuses_unsigned_requests(web_process, standin):
    base, _ = web_process

    response = requests.post(f"{base}/slack/events", data={"command": "/profiles",
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
