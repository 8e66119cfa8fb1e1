"""The WhatConverts stand-in, exercised over real HTTP on loopback."""

import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from bot.standin import Recorded, StandIn

AUTH = ("demo-token", "demo-secret")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def api():
    with StandIn() as standin:
        yield standin


def get(api, path, **params):
    return requests.get(f"{api.url}{path}", auth=AUTH, params=params, timeout=5)


def post(api, path, data=None, **kwargs):
    return requests.post(f"{api.url}{path}", auth=AUTH, data=data, timeout=5, **kwargs)


def delete(api, path):
    return requests.delete(f"{api.url}{path}", auth=AUTH, timeout=5)


# Auth


def test_requests_without_credentials_are_refused(api):
    answer = requests.get(f"{api.url}/accounts/1001/profiles", timeout=5)

    assert answer.status_code == 401
    assert answer.json() == {"error_message": "Invalid API token or secret."}
    assert api.requests[-1].authorized is False


def test_a_wrong_secret_is_refused(api):
    answer = requests.get(f"{api.url}/accounts", auth=("demo-token", "nope"), timeout=5)

    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/json"


def test_custom_credentials_are_the_only_ones_accepted():
    with StandIn(token="t-1", secret="s-1") as standin:
        assert get(standin, "/accounts").status_code == 401
        answer = requests.get(f"{standin.url}/accounts", auth=("t-1", "s-1"), timeout=5)
        assert answer.status_code == 200


def test_the_repr_keeps_the_credentials_out():
    standin = StandIn(token="t-secret-token", secret="s-secret-secret")

    assert "secret" not in repr(standin)


# Seed data


def test_seed_accounts_have_the_promised_profiles(api):
    acme, smith, empty = api.profiles(1001), api.profiles(1002), api.profiles(1003)

    assert len(acme) == 60 and len(smith) == 3 and empty == []
    assert min(p["profile_id"] for p in acme) == 50001
    assert min(p["profile_id"] for p in smith) == 60001
    assert "Smith & Sons <Main>" in {p["profile_name"] for p in smith}


def test_seed_profiles_have_distinct_names_and_dates_within_2024_to_2026(api):
    seeded = api.profiles(1001) + api.profiles(1002)
    dates = [p["date_created"] for p in seeded]

    assert len(set(dates)) == len(dates)
    assert all("2024" <= date[:4] <= "2026" for date in dates)
    assert len({p["profile_name"] for p in api.profiles(1001)}) == 60


def test_seed_data_is_the_same_every_time():
    assert StandIn().profiles(1001) == StandIn().profiles(1001)


def test_no_seed_means_no_accounts():
    with StandIn(seed=False) as standin:
        assert get(standin, "/accounts").json()["total_accounts"] == 0


# Accounts


def test_accounts_list_every_account_with_its_profiles(api):
    body = get(api, "/accounts", order="asc").json()

    assert body["total_accounts"] == 3 and body["accounts_per_page"] == 25
    assert [a["account_id"] for a in body["accounts"]] == [1001, 1002, 1003]
    smith = body["accounts"][1]
    assert smith["account_name"] == "Smith & Sons Roofing"
    assert smith["date_created"].endswith("Z")
    assert {"profile_id": 60001, "profile_name": "Smith & Sons <Main>"} in smith["profiles"]


def test_accounts_page_like_profiles(api):
    body = get(api, "/accounts", accounts_per_page=2, page_number=2).json()

    assert body["total_pages"] == 2 and len(body["accounts"]) == 1


# Listing profiles


def test_list_pages_newest_first_by_default(api):
    body = get(api, "/accounts/1001/profiles").json()
    dates = [p["date_created"] for p in body["profiles"]]

    assert body["page_number"] == 1 and body["profiles_per_page"] == 25
    assert dates == sorted(dates, reverse=True)
    assert body["profiles"][0] == api.profiles(1001)[0]


def test_list_reports_totals_and_a_short_last_page(api):
    last = get(api, "/accounts/1001/profiles", page_number=3).json()

    assert last["total_profiles"] == 60 and last["total_pages"] == 3
    assert len(last["profiles"]) == 10
    assert last["profiles"][-1]["profile_id"] == 50001


def test_a_page_past_the_end_is_empty(api):
    body = get(api, "/accounts/1001/profiles", page_number=4).json()

    assert body["profiles"] == [] and body["total_profiles"] == 60


def test_an_empty_account_has_no_pages(api):
    body = get(api, "/accounts/1003/profiles").json()

    assert body["total_profiles"] == 0 and body["total_pages"] == 0 and body["profiles"] == []


def test_pages_cover_every_profile_once(api):
    seen = []
    for page in (1, 2, 3, 4, 5, 6, 7):
        seen += get(api, "/accounts/1001/profiles", profiles_per_page=9,
                    page_number=page).json()["profiles"]

    assert seen == api.profiles(1001)


@pytest.mark.parametrize("per_page, pages", [(1, 60), (250, 1)])
def test_profiles_per_page_accepts_one_to_250(api, per_page, pages):
    body = get(api, "/accounts/1001/profiles", profiles_per_page=per_page).json()

    assert body["profiles_per_page"] == per_page and body["total_pages"] == pages


@pytest.mark.parametrize("per_page", ["0", "251", "-3", "ten", ""])
def test_profiles_per_page_out_of_bounds_is_refused(api, per_page):
    answer = get(api, "/accounts/1001/profiles", profiles_per_page=per_page)

    assert answer.status_code == 400
    assert answer.json() == {"error_message": "Invalid profiles_per_page."}


@pytest.mark.parametrize("page_number", ["0", "x"])
def test_a_bad_page_number_is_refused(api, page_number):
    answer = get(api, "/accounts/1001/profiles", page_number=page_number)

    assert answer.status_code == 400
    assert answer.json() == {"error_message": "Invalid page_number."}


def test_ascending_order_is_oldest_first(api):
    body = get(api, "/accounts/1002/profiles", order="asc").json()

    assert [p["profile_id"] for p in body["profiles"]] == [60001, 60002, 60003]


def test_an_unknown_order_is_refused(api):
    answer = get(api, "/accounts/1002/profiles", order="sideways")

    assert answer.status_code == 400 and answer.json() == {"error_message": "Invalid order."}


# Smith & Sons profiles were created 2025-06-03T09:12:45Z, 2025-09-17T16:40:02Z and
# 2026-02-11T11:05:37Z.
@pytest.mark.parametrize("params, expected", [
    ({"end_date": "2025-09-17"}, [60002, 60001]),
    ({"end_date": "2025-09-16"}, [60001]),
    ({"end_date": "2025-09-17T16:40:01Z"}, [60001]),
    ({"end_date": "2025-09-17T16:40:02Z"}, [60002, 60001]),
    ({"start_date": "2025-09-17"}, [60003, 60002]),
    ({"start_date": "2025-09-17T16:40:03Z"}, [60003]),
    ({"start_date": "2025-09-01", "end_date": "2025-12-31"}, [60002]),
    ({"start_date": "2026-12-31", "end_date": "2024-01-01"}, []),
])
def test_dates_filter_by_date_created(api, params, expected):
    body = get(api, "/accounts/1002/profiles", **params).json()

    assert [p["profile_id"] for p in body["profiles"]] == expected
    assert body["total_profiles"] == len(expected)


@pytest.mark.parametrize("name, value", [
    ("start_date", "2025-13-01"),
    ("start_date", "yesterday"),
    ("end_date", "2025-09-17 16:40:02"),
    ("end_date", "17/09/2025"),
])
def test_a_malformed_date_is_refused(api, name, value):
    answer = get(api, "/accounts/1002/profiles", **{name: value})

    assert answer.status_code == 400
    assert answer.json() == {"error_message": f"Invalid {name}."}


# One profile


def test_one_profile_comes_wrapped_in_a_list_by_default(api):
    body = get(api, "/accounts/1002/profiles/60001").json()

    assert body == {
        "page_number": 1, "profiles_per_page": 1, "total_pages": 1, "total_profiles": 1,
        "profiles": [{"profile_id": 60001, "profile_name": "Smith & Sons <Main>",
                      "date_created": "2025-06-03T09:12:45Z"}],
    }


def test_one_profile_can_come_bare(api):
    api.single_shape = "bare"

    body = get(api, "/accounts/1002/profiles/60001").json()

    assert body == {"profile_id": 60001, "profile_name": "Smith & Sons <Main>",
                    "date_created": "2025-06-03T09:12:45Z"}


def test_an_unknown_single_shape_is_rejected_at_once(api):
    with pytest.raises(ValueError):
        api.single_shape = "tree"


def test_writes_answer_the_bare_profile_by_default_and_the_list_wrapper_on_request(api):
    bare = post(api, "/accounts/1002/profiles/60001", {"profile_name": "Bare"}).json()
    api.write_shape = "list"
    renamed = post(api, "/accounts/1002/profiles/60001", {"profile_name": "Wrapped"}).json()
    created = post(api, "/accounts/1003/profiles", {"profile_name": "New"}).json()

    assert bare == {"profile_id": 60001, "profile_name": "Bare",
                    "date_created": "2025-06-03T09:12:45Z"}
    assert renamed == {
        "page_number": 1, "profiles_per_page": 1, "total_pages": 1, "total_profiles": 1,
        "profiles": [{**bare, "profile_name": "Wrapped"}],
    }
    assert created["profiles"] == api.profiles(1003)
    assert delete(api, "/accounts/1003/profiles/" + str(created["profiles"][0]["profile_id"])
                  ).json() == {"profile_id": created["profiles"][0]["profile_id"]}
    with pytest.raises(ValueError):
        api.write_shape = "tree"


# Writes


def test_create_edit_delete_round_trip(api):
    created = post(api, "/accounts/1003/profiles", {"profile_name": "Empty Co – Launch"})
    assert created.status_code == 200
    profile = created.json()
    assert profile["profile_name"] == "Empty Co – Launch"
    assert profile["date_created"].endswith("Z")
    path = f"/accounts/1003/profiles/{profile['profile_id']}"

    edited = post(api, path, {"profile_name": "Empty Co – Relaunch"}).json()
    assert edited == {**profile, "profile_name": "Empty Co – Relaunch"}
    assert api.profiles(1003) == [edited]

    assert delete(api, path).json() == {"profile_id": profile["profile_id"]}
    assert api.profiles(1003) == []
    assert get(api, path).json() == {"error_message": "Invalid profile ID."}


def test_a_new_profile_is_listed_first(api):
    created = post(api, "/accounts/1001/profiles", {"profile_name": "Acme Dental – TikTok"})

    newest = get(api, "/accounts/1001/profiles").json()["profiles"][0]
    assert newest == created.json()


def test_new_ids_are_unique_across_accounts(api):
    seeded = {p["profile_id"] for a in (1001, 1002) for p in api.profiles(a)}

    new_ids = [post(api, f"/accounts/{account}/profiles", {"profile_name": "New"})
               .json()["profile_id"] for account in (1001, 1002, 1003, 1001)]

    assert len(set(new_ids)) == 4
    assert min(new_ids) > max(seeded)


@pytest.mark.parametrize("data", [{}, {"profile_name": ""}, {"profile_name": "  \t "}])
def test_a_profile_name_is_required(api, data):
    answer = post(api, "/accounts/1003/profiles", data)

    assert answer.status_code == 400
    assert answer.json() == {"error_message": "Profile name is required."}
    assert api.profiles(1003) == []


def test_editing_to_a_blank_name_is_refused(api):
    answer = post(api, "/accounts/1002/profiles/60001", {"profile_name": " "})

    assert answer.json() == {"error_message": "Profile name is required."}
    assert api.profiles(1002)[-1]["profile_name"] == "Smith & Sons <Main>"


@pytest.mark.parametrize("name", [
    "  padded  ", "Zoë’s “Café” & <Bar>", "🦷 Smile", "a+b=c&d", "x" * 600,
])
def test_names_are_stored_exactly_as_sent(api, name):
    created = post(api, "/accounts/1003/profiles", {"profile_name": name}).json()

    assert created["profile_name"] == name
    assert api.profiles(1003)[0]["profile_name"] == name


def test_a_json_body_is_accepted_too(api):
    created = post(api, "/accounts/1003/profiles", json={"profile_name": "From JSON"})

    assert created.json()["profile_name"] == "From JSON"
    assert api.requests[-1].form == {"profile_name": "From JSON"}


def test_profiles_can_be_added_with_chosen_names(api):
    api.add_account(2001, "Dr. Who Dental", names=["Old", "Older?", "Newest"])
    api.add_account(2002, "Bulk", profile_count=300)

    assert [p["profile_name"] for p in api.profiles(2001)] == ["Newest", "Older?", "Old"]
    body = get(api, "/accounts/2002/profiles", profiles_per_page=250, page_number=2).json()
    assert body["total_profiles"] == 300 and len(body["profiles"]) == 50
    with pytest.raises(ValueError):
        api.add_account(1001, "Again")


# Errors


@pytest.mark.parametrize("method, path, message", [
    ("GET", "/accounts/9999/profiles", "Invalid account ID."),
    ("GET", "/accounts/abc/profiles", "Invalid account ID."),
    ("POST", "/accounts/9999/profiles", "Invalid account ID."),
    ("GET", "/accounts/1001/profiles/60001", "Invalid profile ID."),
    ("GET", "/accounts/1001/profiles/x1", "Invalid profile ID."),
    ("POST", "/accounts/1001/profiles/99", "Invalid profile ID."),
    ("DELETE", "/accounts/1002/profiles/50001", "Invalid profile ID."),
])
def test_unknown_accounts_and_profiles_are_refused(api, method, path, message):
    answer = requests.request(method, f"{api.url}{path}", auth=AUTH,
                              data={"profile_name": "x"}, timeout=5)

    assert answer.status_code == 400
    assert answer.json() == {"error_message": message}


@pytest.mark.parametrize("method, path", [
    ("GET", "/leads"),
    ("GET", "/accounts/1001/users"),
    ("GET", "/accounts/1001/profiles/50001/extra"),
    ("PUT", "/accounts/1001/profiles/50001"),
    ("DELETE", "/accounts/1001/profiles"),
])
def test_unknown_routes_are_not_found(api, method, path):
    answer = requests.request(method, f"{api.url}{path}", auth=AUTH, timeout=5)

    assert answer.status_code == 404
    assert answer.json() == {"error_message": "Not found."}


def test_paths_outside_the_base_are_not_found(api):
    answer = requests.get(api.url.replace("/api/v1", "/accounts"), auth=AUTH, timeout=5)

    assert answer.status_code == 404


# Recording


def test_requests_are_recorded_with_query_and_form(api):
    get(api, "/accounts/1001/profiles", page_number=2, order="asc")
    post(api, "/accounts/1003/profiles", {"profile_name": "A & B"})

    assert api.requests == [
        Recorded("GET", "/api/v1/accounts/1001/profiles",
                 {"page_number": "2", "order": "asc"}, {}, True),
        Recorded("POST", "/api/v1/accounts/1003/profiles", {}, {"profile_name": "A & B"}, True),
    ]
    api.clear_requests()
    assert api.requests == []


# Misbehaviour on request


def test_fail_next_answers_the_status_then_recovers(api):
    api.fail_next(503, headers={"Retry-After": "2"}, times=2)

    first, second, third = (get(api, "/accounts") for _ in range(3))

    assert first.status_code == second.status_code == 503
    assert first.json() == {"error_message": "Service unavailable."}
    assert first.headers["Retry-After"] == "2"
    assert third.status_code == 200


def test_fail_next_does_not_do_the_work(api):
    api.fail_next(500, method="POST")

    post(api, "/accounts/1003/profiles", {"profile_name": "Lost"})

    assert api.profiles(1003) == []


def test_fail_next_can_wait_for_one_method(api):
    api.fail_next(429, "Too many requests.", method="DELETE")

    assert get(api, "/accounts/1002/profiles").status_code == 200
    answer = delete(api, "/accounts/1002/profiles/60001")
    assert answer.status_code == 429
    assert answer.json() == {"error_message": "Too many requests."}
    assert len(api.profiles(1002)) == 3


def test_fail_next_can_send_an_error_with_status_200(api):
    api.fail_next(200, "Invalid account ID.")

    answer = get(api, "/accounts/1001/profiles")

    assert answer.status_code == 200
    assert answer.json() == {"error_message": "Invalid account ID."}


def test_fail_next_can_send_an_empty_or_raw_body(api):
    api.fail_next(400, error_message=None)
    api.fail_next(502, body="<html>Bad gateway</html>", headers={"Content-Type": "text/html"})

    empty, raw = get(api, "/accounts/9999/profiles"), get(api, "/accounts")

    assert empty.status_code == 400 and empty.content == b""
    assert raw.status_code == 502 and raw.text == "<html>Bad gateway</html>"
    assert raw.headers["Content-Type"] == "text/html"


def test_a_dropped_write_still_happens(api):
    api.drop_after_write_next()

    with pytest.raises(requests.ConnectionError):
        post(api, "/accounts/1003/profiles", {"profile_name": "Ghost"})

    assert [p["profile_name"] for p in api.profiles(1003)] == ["Ghost"]
    assert post(api, "/accounts/1003/profiles", {"profile_name": "Seen"}).status_code == 200


def test_a_dropped_delete_still_deletes(api):
    api.drop_after_write_next()

    assert get(api, "/accounts/1002/profiles").status_code == 200
    with pytest.raises(requests.ConnectionError):
        delete(api, "/accounts/1002/profiles/60003")

    assert [p["profile_id"] for p in api.profiles(1002)] == [60002, 60001]


def test_the_daily_quota_refuses_every_request_past_the_limit(api):
    api.daily_quota = 2

    statuses = [get(api, "/accounts").status_code for _ in range(4)]

    assert statuses == [200, 200, 429, 429]
    refused = post(api, "/accounts/1003/profiles", {"profile_name": "Late"})
    assert refused.json() == {"error_message": "Daily API request limit reached."}
    assert api.profiles(1003) == []

    api.daily_quota = None
    assert get(api, "/accounts").status_code == 200


def test_latency_delays_every_answer(api):
    api.latency = 0.15

    answer = get(api, "/accounts")

    assert answer.elapsed.total_seconds() >= 0.15


def test_peak_in_flight_counts_concurrent_requests(api):
    api.latency = 0.2
    api.reset_stats()

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: get(api, "/accounts").status_code, range(6)))

    assert statuses == [200] * 6
    assert api.peak_in_flight == 6
    # A handler counts itself out just after its answer is sent: give the last one a moment.
    deadline = time.monotonic() + 2
    while api.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert api.in_flight == 0


def test_one_session_reuses_one_connection(api):
    api.reset_stats()

    with requests.Session() as session:
        session.auth = AUTH
        for _ in range(4):
            assert session.get(f"{api.url}/accounts/1001/profiles", timeout=5).ok
        session.post(f"{api.url}/accounts/1003/profiles", data={"profile_name": "x"}, timeout=5)

    assert api.connections_opened == 1


def test_a_kept_alive_connection_answers_without_stalling(api):
    # Guards against Nagle's algorithm meeting delayed ACKs: about 40 ms lost per answer.
    with requests.Session() as session:
        session.auth = AUTH
        session.get(f"{api.url}/accounts", timeout=5)
        answers = [session.get(f"{api.url}/accounts/1002/profiles", timeout=5)
                   for _ in range(10)]

    assert sum(a.elapsed.total_seconds() for a in answers) < 0.3


def test_concurrent_creates_all_land_with_distinct_ids(api):
    def create(number):
        data = {"profile_name": f"Parallel {number}"}
        return post(api, "/accounts/1003/profiles", data).json()["profile_id"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = list(pool.map(create, range(30)))

    assert len(set(ids)) == 30
    assert len(api.profiles(1003)) == 30


def test_separate_requests_open_separate_connections(api):
    api.reset_stats()

    for _ in range(3):
        get(api, "/accounts")

    assert api.connections_opened == 3


def test_stop_closes_kept_alive_connections():
    standin = StandIn().start()
    url = f"{standin.url}/accounts"
    with requests.Session() as session:
        assert session.get(url, auth=AUTH, timeout=5).ok

        standin.stop()

        with pytest.raises(requests.ConnectionError):
            session.get(url, auth=AUTH, timeout=1)


# Running alone


def test_running_as_a_module_prints_the_url_and_stops_on_ctrl_c():
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.standin", "--port", "0", "--token", "cli-token"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v1")
        answer = requests.get(f"{url}/accounts", auth=("cli-token", "demo-secret"), timeout=5)
        assert answer.status_code == 200

        process.send_signal(signal.SIGINT)
        _, log = process.communicate(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 0
    assert "GET /api/v1/accounts -> 200" in log
    assert "cli-token" not in log and "demo-secret" not in log
    assert json.loads(answer.text)["total_accounts"] == 3
