"""The WhatConverts client against the stand-in on loopback: what it sends, and what it makes of
the answers, the failures and the lost answers."""

import ast
import base64
import logging
import socket
import subprocess
import sys
import threading
import time as clock
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from urllib3.exceptions import MaxRetryError

from bot.commands.explain import explain
from bot.standin import StandIn
from bot.whatconverts import (
    CredentialsRefused,
    Deleted,
    InputRejected,
    NotFound,
    Profile,
    ProfilePage,
    QuotaExhausted,
    RateLimited,
    Unavailable,
    WhatConverts,
    WhatConvertsError,
)
from bot.whatconverts.client import INTERACTIVE_RESERVE, CappedRetry, default_retry

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-SENTINEL-4b7e2"
SECRET = "sec-SENTINEL-9d1c0"
PROFILES = "/api/v1/accounts/{}/profiles"
ACME, SMITH = 1001, 1002


def fast_retry():
    """The client's own policy, with backoff too short to slow the tests down."""
    return default_retry().new(backoff_factor=0.01, backoff_jitter=0)


@pytest.fixture
def api():
    with StandIn(token=TOKEN, secret=SECRET) as standin:
        yield standin


@pytest.fixture
def client(api):
    whatconverts = WhatConverts(api.url, TOKEN, SECRET, retry=fast_retry())
    yield whatconverts
    whatconverts.close()


def sent(api, method=None):
    return [r for r in api.requests if method is None or r.method == method]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class HangUp:
    """A loopback server that reads each request and hangs up without answering.

    `once`: after the first request it stops listening, so every later connection is refused.
    """

    def __init__(self, once: bool = False):
        self.connections = 0
        self._once = once
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        # accept() does not wake when the socket closes; a short timeout lets close() finish.
        self._listener.settimeout(0.02)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/api/v1"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with connection:
                connection.settimeout(2)
                try:
                    connection.recv(65536)
                except OSError:
                    pass
                if self._once:
                    # Closed before the hang-up, so the client's next attempt finds no listener.
                    self._listener.close()
                    return

    def close(self):
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()


@pytest.fixture
def hang_up():
    server = HangUp()
    yield server
    server.close()


# Reading


def test_list_profiles_sends_the_page_and_page_size_but_no_filter_it_was_not_given(api, client):
    page = client.list_profiles(ACME)

    [request] = sent(api)
    assert (request.method, request.path) == ("GET", PROFILES.format(ACME))
    assert request.query == {"page_number": "1", "profiles_per_page": "25"}
    assert request.form == {}
    assert request.authorized

    assert isinstance(page, ProfilePage)
    assert (page.page_number, page.profiles_per_page) == (1, 25)
    assert (page.total_pages, page.total_profiles) == (3, 60)
    newest = api.profiles(ACME)[:25]
    assert [p.profile_id for p in page.profiles] == [p["profile_id"] for p in newest]
    assert page.profiles[0].profile_name == newest[0]["profile_name"]
    assert page.profiles[0].date_created.tzinfo is not None


def test_list_profiles_sends_dates_and_order_when_they_are_given(api, client):
    page = client.list_profiles(
        ACME, page=2, per_page=10, since="2024-03-01", until="2025-06-30T00:00:00Z", order="asc"
    )

    [request] = sent(api)
    assert request.query == {
        "page_number": "2",
        "profiles_per_page": "10",
        "start_date": "2024-03-01",
        "end_date": "2025-06-30T00:00:00Z",
        "order": "asc",
    }
    assert (page.page_number, page.profiles_per_page) == (2, 10)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    end = datetime(2025, 6, 30, tzinfo=UTC)
    assert page.profiles and all(start <= p.date_created <= end for p in page.profiles)
    dates = [p.date_created for p in page.profiles]
    assert dates == sorted(dates)


def test_list_profiles_of_an_empty_account_is_an_empty_page(api, client):
    page = client.list_profiles(1003)

    assert page.profiles == [] and page.total_profiles == 0
    assert len(sent(api, "GET")) == 1


@pytest.mark.parametrize("shape", ["list", "bare"])
def test_get_profile_reads_the_list_wrapper_and_the_bare_object_alike(api, client, shape):
    api.single_shape = shape

    profile = client.get_profile(SMITH, 60002)

    [request] = sent(api)
    assert (request.method, request.path) == ("GET", PROFILES.format(SMITH) + "/60002")
    assert (request.query, request.form, request.authorized) == ({}, {}, True)
    assert isinstance(profile, Profile)
    assert profile.profile_id == 60002
    assert profile.profile_name == "Smith & Sons – Storm Damage"
    assert profile.date_created == datetime(2025, 9, 17, 16, 40, 2, tzinfo=UTC)


# Writing


def test_create_profile_posts_the_name_as_a_form_and_answers_the_new_profile(api, client):
    before = {p["profile_id"] for p in api.profiles(SMITH)}

    profile = client.create_profile(SMITH, "Smith & Sons – Gutters <new>")

    [request] = sent(api)
    assert (request.method, request.path) == ("POST", PROFILES.format(SMITH))
    assert request.form == {"profile_name": "Smith & Sons – Gutters <new>"}
    assert request.query == {} and request.authorized
    assert profile.profile_name == "Smith & Sons – Gutters <new>"
    assert profile.profile_id not in before
    assert profile.profile_id in {p["profile_id"] for p in api.profiles(SMITH)}


def test_rename_profile_posts_the_new_name_to_the_profile(api, client):
    profile = client.rename_profile(SMITH, 60001, "Smith & Sons – Main Office")

    [request] = sent(api)
    assert (request.method, request.path) == ("POST", PROFILES.format(SMITH) + "/60001")
    assert request.form == {"profile_name": "Smith & Sons – Main Office"}
    assert (profile.profile_id, profile.profile_name) == (60001, "Smith & Sons – Main Office")
    names = {p["profile_id"]: p["profile_name"] for p in api.profiles(SMITH)}
    assert names[60001] == "Smith & Sons – Main Office"


@pytest.mark.parametrize("write", ["create", "rename"])
def test_a_write_answered_in_the_list_wrapper_answers_the_profile_like_a_bare_one(
    api, client, write
):
    api.write_shape = "list"

    if write == "create":
        profile = client.create_profile(SMITH, "Smith & Sons – Wrapped")
    else:
        profile = client.rename_profile(SMITH, 60001, "Smith & Sons – Wrapped")

    [request] = sent(api)
    assert request.method == "POST"
    assert request.form == {"profile_name": "Smith & Sons – Wrapped"}
    assert isinstance(profile, Profile)
    assert profile.profile_name == "Smith & Sons – Wrapped"
    names = {p["profile_id"]: p["profile_name"] for p in api.profiles(SMITH)}
    assert names[profile.profile_id] == "Smith & Sons – Wrapped"
    assert (profile.profile_id == 60001) is (write == "rename")


def test_delete_profile_sends_a_delete_and_answers_deleted(api, client):
    result = client.delete_profile(SMITH, 60003)

    [request] = sent(api)
    assert (request.method, request.path) == ("DELETE", PROFILES.format(SMITH) + "/60003")
    assert (request.query, request.form, request.authorized) == ({}, {}, True)
    assert result == Deleted(profile_id=60003, already_gone=False)
    assert 60003 not in {p["profile_id"] for p in api.profiles(SMITH)}


# What the answers mean


def test_a_refused_key_is_credentials_refused(api):
    wrong = WhatConverts(api.url, "tok-wrong", "sec-wrong", retry=fast_retry())

    with pytest.raises(CredentialsRefused) as raised:
        wrong.list_profiles(ACME)

    assert raised.value.status == 401
    [request] = sent(api)
    assert request.authorized is False
    wrong.close()


def test_an_unknown_account_answered_400_is_not_found_account(api, client):
    with pytest.raises(NotFound) as raised:
        client.list_profiles(9999)

    assert (raised.value.what, raised.value.status) == ("account", 400)
    [request] = sent(api)
    assert (request.method, request.path) == ("GET", PROFILES.format(9999))


def test_an_invalid_account_message_with_status_200_is_still_not_found_account(api, client):
    api.fail_next(200, "Invalid account ID.")

    with pytest.raises(NotFound) as raised:
        client.get_profile(ACME, 50001)

    assert raised.value.what == "account"
    assert raised.value.status == 200
    assert len(sent(api, "GET")) == 1


def test_an_unknown_profile_is_not_found_profile(api, client):
    with pytest.raises(NotFound) as raised:
        client.get_profile(ACME, 1)

    assert (raised.value.what, raised.value.status) == ("profile", 400)
    [request] = sent(api)
    assert request.path == PROFILES.format(ACME) + "/1"


@pytest.mark.parametrize(("read", "what", "told"), [
    ("list", "account", "Account 1002 was not found in WhatConverts"),
    ("get", "profile", "Profile 60001 was not found in account 1002."),
])
def test_a_read_refused_with_a_bare_400_is_not_found_for_the_id_it_names(api, client, read,
                                                                          what, told):
    api.fail_next(400, error_message=None)

    with pytest.raises(NotFound) as raised:
        if read == "list":
            client.list_profiles(SMITH)
        else:
            client.get_profile(SMITH, 60001)

    assert (raised.value.what, raised.value.status) == (what, 400)
    [request] = sent(api)
    assert request.method == "GET"
    assert told in explain(raised.value, SMITH, None if read == "list" else 60001)


@pytest.mark.parametrize("write", ["create", "rename"])
def test_a_write_refused_with_a_bare_400_says_no_reason_was_given_and_where_to_check_ids(
    api, client, write
):
    api.fail_next(400, error_message=None)

    with pytest.raises(InputRejected) as raised:
        if write == "create":
            client.create_profile(SMITH, "Anything")
        else:
            client.rename_profile(SMITH, 60001, "Anything")

    assert raised.value.status == 400 and raised.value.reason_given is False
    [request] = sent(api)
    assert (request.method, request.form) == ("POST", {"profile_name": "Anything"})
    told = explain(raised.value, SMITH, None if write == "create" else 60001)
    assert "WhatConverts refused that without saying why." in told
    assert "`/profiles accounts`" in told
    assert ("`/profiles list 1002`" in told) is (write == "rename")
    assert "status 400" not in told


def test_a_refused_name_is_input_rejected_in_whatconverts_words(api, client):
    with pytest.raises(InputRejected) as raised:
        client.create_profile(SMITH, "   ")

    assert raised.value.detail == "Profile name is required."
    [request] = sent(api)
    assert request.form == {"profile_name": "   "}
    assert explain(raised.value, SMITH) == (
        ":no_entry: WhatConverts refused that: Profile name is required."
    )


def test_a_long_refusal_is_quoted_shortened_and_still_escaped(api, client):
    api.fail_next(400, "<!channel> " + "This name is not allowed. " * 400, method="POST")

    with pytest.raises(InputRejected) as raised:
        client.create_profile(SMITH, "Anything")

    told = explain(raised.value, SMITH)
    assert len(raised.value.detail) > 10_000
    assert len(told) < 400
    assert told.startswith(":no_entry: WhatConverts refused that: &lt;!channel&gt; This name")
    assert told.endswith("\u2026") and "<!" not in told


def test_a_200_that_is_not_json_is_unavailable(api, client):
    api.fail_next(200, body="<html>Maintenance</html>", headers={"Content-Type": "text/html"})

    with pytest.raises(Unavailable) as raised:
        client.list_profiles(ACME)

    assert raised.value.status == 200
    assert len(sent(api, "GET")) == 1


def test_a_500_is_unavailable_and_not_retried(api, client):
    api.fail_next(500, "Internal error.")

    with pytest.raises(Unavailable) as raised:
        client.list_profiles(ACME)

    assert raised.value.status == 500
    assert len(sent(api, "GET")) == 1


def test_a_spent_daily_quota_is_quota_exhausted_until_midnight_utc(api, client):
    api.daily_quota = 0
    before = datetime.now(UTC)

    with pytest.raises(QuotaExhausted) as raised:
        client.list_profiles(ACME)

    after = datetime.now(UTC)
    midnights = {
        datetime.combine(moment.date() + timedelta(days=1), time(), tzinfo=UTC)
        for moment in (before, after)
    }
    assert raised.value.resets_at in midnights
    assert raised.value.status == 429
    assert isinstance(raised.value, RateLimited)
    requests = sent(api)
    assert 1 <= len(requests) <= 4
    assert {(r.method, r.path) for r in requests} == {("GET", PROFILES.format(ACME))}


@pytest.mark.parametrize(("status", "attempts"), [(200, 1), (403, 1), (503, 4)])
def test_a_daily_limit_with_any_status_is_quota_exhausted_and_never_blames_the_key(
    api, client, status, attempts
):
    api.fail_next(status, "Daily API request limit reached.", times=10)

    with pytest.raises(QuotaExhausted) as raised:
        client.list_profiles(ACME)

    assert raised.value.status == status
    assert raised.value.resets_at > datetime.now(UTC)
    assert (raised.value.resets_at.time(), raised.value.resets_at.tzinfo) == (time(), UTC)
    assert len(sent(api, "GET")) == attempts
    told = explain(raised.value, ACME)
    assert "used up today's WhatConverts API requests" in told
    assert "API key" not in told and "WHATCONVERTS_API_TOKEN" not in told


def test_a_throttled_read_waits_as_told_and_is_sent_again(api, client):
    api.fail_next(429, "Too many requests.", headers={"Retry-After": "1"})
    started = clock.monotonic()

    page = client.list_profiles(ACME)

    assert clock.monotonic() - started >= 1.0
    assert page.total_profiles == 60
    assert len(sent(api, "GET")) == 2


def test_a_read_that_stays_throttled_is_rate_limited_with_the_servers_delay(
    api, client, monkeypatch
):
    # How long each wait is, the test above shows; this one is about how the retries end.
    monkeypatch.setattr(CappedRetry, "get_retry_after", lambda self, response: 0.01)
    api.fail_next(429, "Too many requests.", headers={"Retry-After": "5"}, times=10)

    with pytest.raises(RateLimited) as raised:
        client.list_profiles(ACME)

    assert not isinstance(raised.value, QuotaExhausted)
    assert raised.value.retry_after == 5.0
    assert 1 < len(sent(api, "GET")) <= 4
    assert explain(raised.value, ACME).endswith("Try again in 5 seconds.")


def test_a_retry_after_past_the_cap_is_answered_at_once_and_sent_only_once(api, client):
    api.fail_next(429, "Too many requests.", headers={"Retry-After": "3600"}, times=10)
    started = clock.monotonic()

    with pytest.raises(RateLimited) as raised:
        client.list_profiles(ACME)

    assert clock.monotonic() - started < CappedRetry.MAX_RETRY_AFTER
    assert raised.value.retry_after == 3600.0
    assert len(sent(api, "GET")) == 1
    assert explain(raised.value, ACME).endswith("Try again in about an hour.")


def test_a_retry_after_given_as_a_date_is_read_as_the_wait_until_then(api, client):
    then = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=2)
    api.fail_next(429, "Too many requests.", times=10, method="DELETE",
                  headers={"Retry-After": format_datetime(then, usegmt=True)})

    with pytest.raises(RateLimited) as raised:
        client.delete_profile(SMITH, 60001)

    assert 100 < raised.value.retry_after <= 120
    assert len(sent(api, "DELETE")) == 1
    assert explain(raised.value, SMITH, 60001).endswith("Try again in 2 minutes.")
    assert 60001 in {p["profile_id"] for p in api.profiles(SMITH)}


def test_a_malformed_retry_after_falls_back_to_backoff(api, client):
    api.fail_next(503, headers={"Retry-After": "soon"})

    page = client.list_profiles(ACME)

    assert page.total_profiles == 60
    assert len(sent(api, "GET")) == 2


# Retries


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_read_is_sent_again_after_a_passing_failure(api, client, status):
    api.fail_next(status, times=2)

    profile = client.get_profile(SMITH, 60001)

    assert profile.profile_id == 60001
    requests = sent(api)
    assert len(requests) == 3
    assert {(r.method, r.path) for r in requests} == {("GET", PROFILES.format(SMITH) + "/60001")}


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_delete_is_sent_again_after_a_passing_failure(api, client, status):
    api.fail_next(status, method="DELETE")

    result = client.delete_profile(SMITH, 60002)

    assert result == Deleted(profile_id=60002, already_gone=False)
    assert len(sent(api, "DELETE")) == 2
    assert 60002 not in {p["profile_id"] for p in api.profiles(SMITH)}


def test_retries_are_bounded_and_end_unavailable(api, client):
    api.fail_next(503, times=10)

    with pytest.raises(Unavailable) as raised:
        client.list_profiles(ACME)

    assert raised.value.status == 503
    assert 1 < len(sent(api, "GET")) <= 4


def test_a_read_whose_connection_is_cut_is_sent_again_then_unavailable(hang_up):
    client = WhatConverts(hang_up.url, TOKEN, SECRET, retry=fast_retry())

    with pytest.raises(Unavailable) as raised:
        client.list_profiles(ACME)

    assert raised.value.may_have_applied is False
    assert 1 < hang_up.connections <= 4
    client.close()


@pytest.mark.parametrize("status", [429, 502, 503])
@pytest.mark.parametrize("write", ["create", "rename"])
def test_a_post_is_never_sent_twice_after_a_failed_answer(api, client, status, write):
    api.fail_next(status, times=3, method="POST")
    before = api.profiles(SMITH)

    with pytest.raises(WhatConvertsError) as raised:
        if write == "create":
            client.create_profile(SMITH, "Smith & Sons – Once")
        else:
            client.rename_profile(SMITH, 60001, "Smith & Sons – Once")

    assert raised.value.status == status
    assert isinstance(raised.value, RateLimited if status == 429 else Unavailable)
    [request] = sent(api)
    assert request.method == "POST"
    assert request.form == {"profile_name": "Smith & Sons – Once"}
    assert api.profiles(SMITH) == before


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_create_answered_by_a_server_error_may_have_been_made(api, client, status):
    api.fail_next(status, method="POST")

    with pytest.raises(Unavailable) as raised:
        client.create_profile(SMITH, "Smith & Sons – Maybe")

    assert raised.value.may_have_applied is True
    assert len(sent(api, "POST")) == 1


def test_a_create_answered_503_was_not_made(api, client):
    api.fail_next(503, method="POST")

    with pytest.raises(Unavailable) as raised:
        client.create_profile(SMITH, "Smith & Sons – Not Yet")

    assert raised.value.may_have_applied is False
    assert len(sent(api, "POST")) == 1


@pytest.mark.parametrize("body", ["<html>ok</html>", '{"created": true}', '{"profiles": []}'])
def test_a_create_answered_200_with_nonsense_may_have_been_made(api, client, body):
    api.fail_next(200, body=body)

    with pytest.raises(Unavailable) as raised:
        client.create_profile(SMITH, "Smith & Sons – Maybe")

    assert raised.value.may_have_applied is True
    assert len(sent(api, "POST")) == 1


def test_a_create_whose_answer_is_lost_is_sent_once_and_may_have_been_made(api, client):
    before = {p["profile_id"] for p in api.profiles(SMITH)}
    api.drop_after_write_next()

    with pytest.raises(Unavailable) as raised:
        client.create_profile(SMITH, "Smith & Sons – Lost Answer")

    assert raised.value.may_have_applied is True
    [request] = sent(api)
    assert request.method == "POST"
    assert request.form == {"profile_name": "Smith & Sons – Lost Answer"}
    new = [p for p in api.profiles(SMITH) if p["profile_id"] not in before]
    assert [p["profile_name"] for p in new] == ["Smith & Sons – Lost Answer"]


def test_a_rename_whose_answer_is_lost_is_sent_once_and_may_have_been_made(api, client):
    api.drop_after_write_next()

    with pytest.raises(Unavailable) as raised:
        client.rename_profile(SMITH, 60001, "Smith & Sons – Renamed")

    assert raised.value.may_have_applied is True
    assert len(sent(api, "POST")) == 1


def test_a_delete_whose_answer_is_lost_is_sent_again_and_finds_the_profile_gone(api, client):
    api.drop_after_write_next()

    result = client.delete_profile(SMITH, 60001)

    assert result == Deleted(profile_id=60001, already_gone=True)
    deletes = sent(api, "DELETE")
    assert len(deletes) == 2
    assert {r.path for r in deletes} == {PROFILES.format(SMITH) + "/60001"}
    assert 60001 not in {p["profile_id"] for p in api.profiles(SMITH)}


def test_a_delete_whose_connection_is_cut_every_time_is_retried_and_may_have_been_done(
    hang_up,
):
    client = WhatConverts(hang_up.url, TOKEN, SECRET, retry=fast_retry())

    with pytest.raises(Unavailable) as raised:
        client.delete_profile(SMITH, 60001)

    assert raised.value.may_have_applied is True
    assert 1 < hang_up.connections <= 4
    assert "may or may not have been made" in explain(raised.value, SMITH, 60001)
    client.close()


def test_a_delete_cut_once_then_refused_a_connection_may_have_been_done():
    server = HangUp(once=True)
    client = WhatConverts(server.url, TOKEN, SECRET, retry=fast_retry())

    with pytest.raises(Unavailable) as raised:
        client.delete_profile(SMITH, 60001)

    # The last attempt never connected, but the first one reached the server.
    assert raised.value.may_have_applied is True
    assert server.connections == 1
    client.close()
    server.close()


@pytest.mark.parametrize(("failures", "attempts"), [
    ([500], 1),
    ([502] * 4, 4),
    ([504] * 4, 4),
    ([502, 503, 503, 503], 4),
])
def test_a_delete_answered_by_server_errors_to_the_end_may_have_been_done(
    api, client, failures, attempts
):
    for status in failures:
        api.fail_next(status, method="DELETE")

    with pytest.raises(Unavailable) as raised:
        client.delete_profile(SMITH, 60001)

    assert raised.value.may_have_applied is True
    assert raised.value.status == failures[-1]
    assert len(sent(api, "DELETE")) == attempts


def test_a_delete_answered_503_every_time_was_not_done(api, client):
    api.fail_next(503, method="DELETE", times=10)

    with pytest.raises(Unavailable) as raised:
        client.delete_profile(SMITH, 60001)

    assert raised.value.may_have_applied is False
    assert 1 < len(sent(api, "DELETE")) <= 4
    assert 60001 in {p["profile_id"] for p in api.profiles(SMITH)}


def test_a_delete_to_a_closed_port_was_not_done():
    client = WhatConverts(f"http://127.0.0.1:{closed_port()}/api/v1", TOKEN, SECRET,
                          retry=fast_retry())

    with pytest.raises(Unavailable) as raised:
        client.delete_profile(SMITH, 60001)

    assert raised.value.may_have_applied is False
    client.close()


def test_deleting_a_profile_that_never_existed_is_not_found(api, client):
    with pytest.raises(NotFound) as raised:
        client.delete_profile(SMITH, 12345)

    assert raised.value.what == "profile"
    assert len(sent(api, "DELETE")) == 1


def test_a_post_to_a_closed_port_did_not_apply():
    client = WhatConverts(f"http://127.0.0.1:{closed_port()}/api/v1", TOKEN, SECRET,
                          retry=fast_retry())

    with pytest.raises(Unavailable) as raised:
        client.create_profile(SMITH, "Smith & Sons – Never Sent")

    assert raised.value.may_have_applied is False
    assert raised.value.status is None
    client.close()


def test_a_post_whose_connection_is_cut_is_sent_once(hang_up):
    client = WhatConverts(hang_up.url, TOKEN, SECRET, retry=fast_retry())

    with pytest.raises(Unavailable) as raised:
        client.create_profile(SMITH, "Smith & Sons – Cut")

    assert raised.value.may_have_applied is True
    assert hang_up.connections == 1
    client.close()


# The policy itself


def test_the_default_policy_repeats_only_reads_and_deletes_a_few_times():
    policy = default_retry()

    assert isinstance(policy, CappedRetry)
    assert set(policy.allowed_methods) == {"GET", "DELETE"}
    assert set(policy.status_forcelist) == {429, 502, 503, 504}
    assert policy.total == 3
    assert policy.connect <= 3 and policy.read <= 3 and policy.status <= 3
    assert policy.raise_on_status is False
    assert policy.respect_retry_after_header is True
    assert 0 < policy.backoff_factor <= 1 and policy.backoff_max <= 10
    for method in ("POST", "PUT", "PATCH"):
        assert not policy.is_retry(method, 503)
        assert not policy.is_retry(method, 429, has_retry_after=True)
    assert policy.is_retry("GET", 503) and policy.is_retry("DELETE", 429)
    assert not policy.is_retry("GET", 500)


def test_a_client_built_without_a_policy_uses_the_default_one():
    client = WhatConverts("https://app.whatconverts.com/api/v1", TOKEN, SECRET)

    policy = client._session.get_adapter("https://app.whatconverts.com").max_retries

    assert isinstance(policy, CappedRetry)
    assert (policy.total, set(policy.allowed_methods)) == (3, {"GET", "DELETE"})
    client.close()


@pytest.mark.parametrize(
    ("header", "seconds"), [("8", 8), ("3", 3), ("0", 0), (None, None), ("soon", None)],
)
def test_a_retry_after_within_the_cap_is_waited_as_asked(header, seconds):
    response = SimpleNamespace(headers={} if header is None else {"Retry-After": header})

    assert CappedRetry().get_retry_after(response) == seconds


@pytest.mark.parametrize("header", ["9", "3600", "Fri, 31 Dec 2100 23:59:59 GMT"])
def test_a_retry_after_past_the_cap_ends_the_retries_at_once(header):
    response = SimpleNamespace(headers={"Retry-After": header}, status=429)

    with pytest.raises(MaxRetryError):
        default_retry().increment("GET", "/api/v1/accounts", response=response)


# Connections


def test_no_more_than_max_connections_requests_are_in_flight_at_once():
    with StandIn(token=TOKEN, secret=SECRET, latency=0.2) as api:
        client = WhatConverts(api.url, TOKEN, SECRET, max_connections=3, retry=fast_retry())
        start = threading.Barrier(15)

        def call(_):
            start.wait(timeout=10)
            return client.list_profiles(ACME)

        with ThreadPoolExecutor(max_workers=15) as pool:
            pages = list(pool.map(call, range(15)))

        assert [page.total_profiles for page in pages] == [60] * 15
        assert len(sent(api, "GET")) == 15
        assert api.peak_in_flight <= 3
        assert api.connections_opened <= 3
        client.close()


def test_sequential_calls_share_one_kept_alive_connection(api, client):
    client.list_profiles(ACME)
    with pytest.raises(NotFound):
        client.get_profile(ACME, 1)
    client.get_profile(SMITH, 60001)
    client.create_profile(SMITH, "Smith & Sons – Same Line")

    assert len(sent(api)) == 4
    assert api.connections_opened == 1


# Secrets and boundaries


def test_the_token_and_secret_never_reach_the_log_or_the_errors(api, client, caplog):
    caplog.set_level(logging.DEBUG)
    errors = []
    api.fail_next(503, times=2)
    client.list_profiles(ACME)
    api.fail_next(502, method="POST")
    api.drop_after_write_next()
    for failing in (
        lambda: client.get_profile(ACME, 1),
        lambda: client.create_profile(SMITH, "Smith & Sons – Logged"),
        lambda: client.create_profile(SMITH, "Smith & Sons – Lost"),
        lambda: WhatConverts(api.url, TOKEN, "sec-SENTINEL-wrong", retry=fast_retry())
        .list_profiles(ACME),
        lambda: WhatConverts(f"http://127.0.0.1:{closed_port()}", TOKEN, SECRET,
                             retry=fast_retry()).list_profiles(ACME),
    ):
        with pytest.raises(WhatConvertsError) as raised:
            failing()
        errors.append(raised.value)

    assert caplog.records, "the client logs its calls"
    encoded = base64.b64encode(f"{TOKEN}:{SECRET}".encode()).decode()
    texts = [caplog.text] + [repr(error) for error in errors] + [str(error) for error in errors]
    for text in texts:
        assert "SENTINEL" not in text
        assert encoded not in text
    assert [type(error) for error in errors] == [
        NotFound, Unavailable, Unavailable, CredentialsRefused, Unavailable,
    ]


def test_an_answer_that_does_not_fit_is_logged_by_place_and_kind_never_by_content(
    api, client, caplog
):
    caplog.set_level(logging.DEBUG)
    api.fail_next(200, body='{"profiles": [{"profile_name": "Client SENTINEL Clinic"}]}')

    with pytest.raises(Unavailable):
        client.list_profiles(ACME)

    [line] = [r.getMessage() for r in caplog.records if "did not fit" in r.getMessage()]
    assert "ProfilePage" in line and "profiles.0.profile_id missing" in line
    assert "SENTINEL" not in caplog.text and "input_value" not in caplog.text


def test_the_client_imports_nothing_from_slack():
    probe = (
        "import sys, bot.whatconverts, bot.whatconverts.client;"
        "print(sorted(m for m in sys.modules if 'slack' in m or m.startswith('bot.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=30, check=True,
    )

    loaded = ast.literal_eval(result.stdout)
    assert not [name for name in loaded if "slack" in name]
    assert all(name.startswith("bot.whatconverts") for name in loaded)


def test_no_retry_starts_once_the_time_budget_after_the_first_failure_is_spent():
    fresh = default_retry()
    after_one_failure = fresh.new()
    long_ago = fresh.new(first_failure_at=clock.monotonic() - CappedRetry.BUDGET_SECONDS - 1)

    assert not fresh.is_exhausted()
    assert not after_one_failure.is_exhausted()
    assert after_one_failure.first_failure_at is not None
    assert long_ago.is_exhausted()
    assert long_ago.new().first_failure_at == long_ago.first_failure_at


def test_bulk_fetches_leave_connections_for_single_commands():
    with StandIn(token=TOKEN, secret=SECRET, latency=0.1) as api:
        api.add_account(3001, "Huge & Co", profile_count=5_000)  # 20 pages
        client = WhatConverts(api.url, TOKEN, SECRET, max_connections=4, retry=fast_retry())
        with ThreadPoolExecutor(max_workers=2) as pool:
            exports = [pool.submit(client.all_profiles, 3001) for _ in range(2)]
            assert [len(export.result()) for export in exports] == [5_000, 5_000]
        bulk_peak = api.peak_in_flight

        with ThreadPoolExecutor(max_workers=2) as pool:
            export = pool.submit(client.all_profiles, 3001)
            while not api.in_flight:  # the export has begun
                clock.sleep(0.01)
            single = client.get_profile(SMITH, 60001)
            still_exporting = not export.done()

        assert bulk_peak == 4 - INTERACTIVE_RESERVE  # two exports together, 2 connections
        assert single.profile_id == 60001 and still_exporting
        assert len([r for r in sent(api, "GET") if "3001" in r.path]) == 60
        client.close()
