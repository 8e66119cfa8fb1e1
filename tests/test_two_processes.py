"""Two web processes on one PostgreSQL database: each delete prompt is confirmed exactly once."""

import os
import secrets
import signal
import threading

import pytest

from bot.localslack import LocalSlack
from bot.storage import Store
from tests.helpers import buttons, free_port, start_procfile, text_of, wait_for_port

PAIRS = 20


@pytest.fixture
def two_dynos(standin, postgres_schema, tmp_path):
    secret = secrets.token_hex(16)
    sides = [LocalSlack("", secret), LocalSlack("", secret)]
    env = {
        "SLACK_BOT_TOKEN": "xoxb-two", "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": sides[0].inbox.api_url, "DATABASE_URL": postgres_schema,
        "WHATCONVERTS_API_TOKEN": "test-token", "WHATCONVERTS_API_SECRET": "test-secret",
        "WHATCONVERTS_API_URL": standin.url, "ANNOUNCE_CHANGES": "false",
    }
    release = start_procfile("release", env, tmp_path)
    assert release.wait(timeout=60) == 0, release.stdout.read()

    processes = []
    try:
        for side in sides:
            port = free_port()
            process = start_procfile("web", env | {"PORT": str(port)}, tmp_path)
            processes.append(process)
            wait_for_port(port, process)
            side.events_url = f"http://127.0.0.1:{port}/slack/events"
        yield sides
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        for side in sides:
            side.close()


def test_simultaneous_confirm_clicks_split_across_two_processes_delete_exactly_once(
        two_dynos, standin, postgres_schema):
    first, second = two_dynos
    profiles = [p["profile_id"] for p in standin.profiles(1001)][:PAIRS]
    prompts = []
    for profile in profiles:
        _, key = first.command(f"delete 1001 {profile}", user="U0PAT")
        prompts.append(buttons(first.inbox.wait(key)[0].payload)["Delete"]["value"])
    standin.clear_requests()

    keys: list[tuple[LocalSlack, str]] = []
    lock = threading.Lock()
    for value in prompts:
        start = threading.Barrier(2)

        def click(side: LocalSlack, value=value, start=start):
            start.wait()
            _, key = side.click("profiles.delete.confirm", value, user="U0PAT")
            with lock:
                keys.append((side, key))

        pair = [threading.Thread(target=click, args=(side,)) for side in (first, second)]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join()

    answers = [text_of(side.inbox.wait(key, timeout=30)[-1].payload) for side, key in keys]
    deletes = [r for r in standin.requests if r.method == "DELETE"]
    assert len(deletes) == PAIRS
    assert sorted(int(r.path.rsplit("/", 1)[1]) for r in deletes) == sorted(profiles)
    assert sum("already been answered" in answer for answer in answers) == PAIRS
    remaining = {p["profile_id"] for p in standin.profiles(1001)}
    assert remaining.isdisjoint(profiles)

    store = Store(postgres_schema)
    entries, total = store.audit_page(1001, 1, 100)
    store.close()
    assert total == PAIRS
    assert {(e.user_id, e.verb, e.outcome) for e in entries} == {("U0PAT", "delete", "ok")}
    assert sorted(e.profile_id for e in entries) == sorted(profiles)
