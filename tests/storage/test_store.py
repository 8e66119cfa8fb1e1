"""Prompts are claimed exactly once, the audit trail pages newest first, bindings stick."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, update

from bot.storage import Claim, Store, database_url
from bot.storage.migrate import upgrade
from bot.storage.store import ABANDONED_CLAIM_SECONDS
from bot.storage.tables import DeletePrompt


def make_prompt(store, requester="U0PAT", ttl=600):
    return store.create_prompt(1002, 60002, "Smith & Sons", requester, "C0OPS", ttl)


def test_migrations_create_every_table_and_can_run_twice(database):
    upgrade(database)

    tables = set(inspect(Store(database).engine).get_table_names())
    assert {"delete_prompts", "audit_entries", "channel_bindings", "alembic_version"} <= tables


def test_a_prompt_is_claimed_once_by_the_person_who_asked(store):
    prompt = make_prompt(store)

    assert store.claim_prompt(prompt.id, "U0PAT", False)[0] is Claim.CLAIMED
    assert store.claim_prompt(prompt.id, "U0PAT", False)[0] is Claim.ANSWERED


def test_someone_else_cannot_claim_but_an_admin_can(store):
    prompt = make_prompt(store)

    assert store.claim_prompt(prompt.id, "U0SAM", False)[0] is Claim.FORBIDDEN
    assert store.claim_prompt(prompt.id, "U0BOSS", True)[0] is Claim.CLAIMED


def test_an_expired_prompt_cannot_be_claimed(store):
    prompt = make_prompt(store, ttl=-1)

    assert store.claim_prompt(prompt.id, "U0PAT", False)[0] is Claim.EXPIRED


def test_an_unknown_prompt_is_reported(store):
    assert store.claim_prompt("no-such-prompt", "U0PAT", False) == (Claim.UNKNOWN, None)


def test_a_prompt_handed_back_can_be_claimed_again(store):
    prompt = make_prompt(store)
    store.claim_prompt(prompt.id, "U0PAT", False)

    store.settle_prompt(prompt.id, "pending")

    assert store.claim_prompt(prompt.id, "U0PAT", False)[0] is Claim.CLAIMED


def _claimed_long_ago(store, prompt_id, seconds):
    with store.engine.begin() as connection:
        connection.execute(update(DeletePrompt).where(DeletePrompt.id == prompt_id).values(
            decided_at=datetime.now(UTC) - timedelta(seconds=seconds)))


def test_a_claim_abandoned_by_a_dead_process_can_be_confirmed_again(store):
    prompt = make_prompt(store)
    store.claim_prompt(prompt.id, "U0PAT", False)
    _claimed_long_ago(store, prompt.id, ABANDONED_CLAIM_SECONDS + 1)

    assert store.claim_prompt(prompt.id, "U0PAT", False)[0] is Claim.CLAIMED


def test_a_claim_still_being_worked_on_is_not_taken_over_nor_cancelled(store):
    prompt = make_prompt(store)
    store.claim_prompt(prompt.id, "U0PAT", False)
    _claimed_long_ago(store, prompt.id, ABANDONED_CLAIM_SECONDS - 30)

    assert store.claim_prompt(prompt.id, "U0PAT", False)[0] is Claim.ANSWERED
    _claimed_long_ago(store, prompt.id, ABANDONED_CLAIM_SECONDS + 1)
    assert store.claim_prompt(prompt.id, "U0PAT", False, to_state="cancelled")[0] \
        is Claim.ANSWERED


def test_many_simultaneous_claims_have_one_winner(database):
    stores = [Store(database) for _ in range(4)]
    prompts = [make_prompt(stores[0]) for _ in range(10)]
    start = threading.Barrier(8)

    def claim(args):
        index, prompt = args
        start.wait()
        return stores[index % 4].claim_prompt(prompt.id, "U0PAT", False)[0]

    for prompt in prompts:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(claim, [(i, prompt) for i in range(8)]))
        assert results.count(Claim.CLAIMED) == 1
    for store in stores:
        store.close()


def test_the_audit_trail_pages_newest_first_and_filters_by_account(store):
    for number in range(7):
        store.record(user_id="U0PAT", channel="C0OPS", verb="create", outcome="ok",
                     account_id=1001 if number % 2 else 1002, profile_id=number,
                     new_name=f"name {number}")

    entries, total = store.audit_page(None, page=1, per_page=3)
    assert total == 7 and [e.profile_id for e in entries] == [6, 5, 4]
    entries, total = store.audit_page(1001, page=1, per_page=10)
    assert total == 3 and [e.profile_id for e in entries] == [5, 3, 1]
    assert entries[0].at.tzinfo is not None
    assert datetime.now(UTC) - entries[0].at < timedelta(minutes=5)


def test_channel_bindings_are_set_changed_and_cleared(store):
    assert store.channel_account("C0OPS") is None

    store.bind_channel("C0OPS", 1001, "U0PAT")
    store.bind_channel("C0OPS", 1002, "U0SAM")
    assert store.channel_account("C0OPS") == 1002
    assert store.unbind_channel("C0OPS") is True
    assert store.channel_account("C0OPS") is None


def test_herokus_postgres_url_is_accepted():
    assert database_url("postgres://u:p@host:5432/db") == "postgresql+psycopg://u:p@host:5432/db"
    assert database_url(None) == "sqlite:///profiles.db"
    assert database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
