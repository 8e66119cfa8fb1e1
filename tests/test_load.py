"""Under a burst: the upstream cap holds, acks never wait for the API, nobody is left unanswered."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import start_bot
from tests.helpers import buttons, text_of


@pytest.fixture
def small_bot(standin, database):
    server, bot = start_bot(standin, database, upstream_concurrency=3, workers=4, work_queue=40)
    yield bot
    bot.slack.close()
    server.shutdown()


def test_the_upstream_cap_holds_under_a_burst_and_every_command_is_answered(small_bot):
    bot = small_bot
    bot.standin.latency = 0.2

    with ThreadPoolExecutor(max_workers=30) as senders:
        sent = list(senders.map(lambda i: bot.command("list 1002", user=f"U{i:04d}"), range(30)))

    assert all(ack.status_code == 200 for ack, _ in sent)
    for _, key in sent:
        assert "page 1 of 1" in text_of(bot.answer(key, timeout=30))
    assert bot.standin.peak_in_flight <= 3
    assert bot.standin.connections_opened <= 3
    assert len(bot.standin.requests) == 30


def test_commands_waiting_for_a_worker_are_told_it_is_coming(small_bot):
    bot = small_bot
    bot.standin.latency = 0.5

    with ThreadPoolExecutor(max_workers=10) as senders:
        sent = list(senders.map(lambda i: bot.command("list 1002", user=f"U{i:04d}"), range(10)))

    notes = [ack.json() for ack, _ in sent if ack.content]
    assert len(notes) >= 10 - 4  # four workers start at once; the rest wait
    assert all("Working on it" in text_of(note) for note in notes)
    for _, key in sent:
        bot.answer(key, timeout=30)


def test_clicks_waiting_for_a_worker_are_told_it_is_coming(standin, database):
    server, bot = start_bot(standin, database, workers=1, work_queue=5)
    try:
        first = bot.ask("list 1001")
        standin.latency = 0.5
        _, busy = bot.command("list 1002")

        _, key = bot.click(buttons(first)["Next ▶"])
        note, page = bot.slack.inbox.wait(key, count=2, timeout=10)

        assert "Working on it" in text_of(note.payload)
        assert note.payload["replace_original"] is False
        assert "page 2 of 3" in text_of(page.payload) and page.payload["replace_original"]
        bot.answer(busy)
    finally:
        bot.slack.close()
        server.shutdown()


def test_a_full_queue_refuses_with_a_short_note_and_no_upstream_call(standin, database):
    server, bot = start_bot(standin, database, workers=1, work_queue=0)
    try:
        standin.latency = 1.0
        _, first = bot.command("list 1002")
        ack, second = bot.command("list 1001")

        assert "The bot is busy" in text_of(ack.json())
        bot.answer(first, timeout=10)
        assert [r.path for r in standin.requests] == ["/api/v1/accounts/1002/profiles"]
        assert bot.slack.inbox.posted(second) == []
    finally:
        bot.slack.close()
        server.shutdown()


def test_a_create_whose_answer_is_lost_is_not_sent_again(bot):
    bot.standin.drop_after_write_next()

    message = bot.ask("create 1002 Smith & Sons – Lost Answer")

    assert "may or may not have been made" in text_of(message)
    assert [r.method for r in bot.standin.requests] == ["POST"]
    names = [p["profile_name"] for p in bot.standin.profiles(1002)]
    assert names.count("Smith & Sons – Lost Answer") == 1


def test_a_delete_whose_answer_is_lost_is_retried_and_reported_deleted(bot):
    prompt = bot.ask("delete 1002 60002")
    bot.standin.drop_after_write_next()

    _, key = bot.click(buttons(prompt)["Delete"])

    assert "deleted from account 1002 by <@U0PAT>" in text_of(bot.answer(key, count=2))
    assert [r.method for r in bot.standin.requests if r.method == "DELETE"] == ["DELETE"] * 2


def test_a_delete_whose_every_answer_is_lost_is_checked_with_a_read_and_reported_deleted(bot):
    prompt = bot.ask("delete 1002 60002")
    bot.standin.clear_requests()
    bot.standin.drop_after_write_next(times=10)

    _, key = bot.click(buttons(prompt)["Delete"])

    done = bot.answer(key, count=2, timeout=60)
    assert "deleted from account 1002 by <@U0PAT>" in text_of(done)
    sent = [(r.method, r.path) for r in bot.standin.requests]
    assert sent[-1] == ("GET", "/api/v1/accounts/1002/profiles/60002")
    assert {method for method, _ in sent[:-1]} == {"DELETE"}
    assert 60002 not in [p["profile_id"] for p in bot.standin.profiles(1002)]


def test_a_delete_that_never_took_effect_puts_the_buttons_back(bot):
    prompt = bot.ask("delete 1002 60002")
    bot.standin.clear_requests()
    bot.standin.fail_next(502, "Bad gateway.", times=10, method="DELETE")

    _, key = bot.click(buttons(prompt)["Delete"])

    again = bot.answer(key, count=2, timeout=60)
    assert "the profile is still there" in text_of(again)
    assert set(buttons(again)) == {"Delete", "Cancel"}
    assert 60002 in [p["profile_id"] for p in bot.standin.profiles(1002)]
    assert bot.standin.requests[-1].method == "GET"
