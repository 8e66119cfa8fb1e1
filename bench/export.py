"""Export benchmark: `/profiles export` of a 10,000-profile account, then `find` over it.

    python bench/export.py [--profiles 10000] [--latency 0.2] [--cap 10]

Starts the bot with the Procfile's own release and web commands (a fresh SQLite database, Slack's
side and the WhatConverts stand-in on loopback), sends one signed export command, waits for the
CSV to be uploaded, and prints: pages fetched, upstream calls, peak upstream concurrency, time to
the upload, the bot's peak RSS, and whether the CSV's rows equal the stand-in's data exactly. It
then times a `find` (every page fetched once) and a click to its next page (served from the
minute's cache). Nothing here asserts: it measures and prints.
"""

import argparse
import csv
import io
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from burst import ROOT, RssSampler, free_port, procfile

from bot.localslack import LocalSlack
from bot.standin import StandIn

ACCOUNT = 3001


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added per API call")
    parser.add_argument("--cap", type=int, default=10, help="UPSTREAM_CONCURRENCY")
    args = parser.parse_args()

    token, api_secret, signing = (secrets.token_hex(8) for _ in range(3))
    with StandIn(token=token, secret=api_secret) as standin, \
            tempfile.TemporaryDirectory() as folder:
        standin.add_account(ACCOUNT, "Export & Co", profile_count=args.profiles)
        slack = LocalSlack("", signing)
        port = free_port()
        env = os.environ | {
            "PORT": str(port), "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": signing,
            "SLACK_API_URL": slack.inbox.api_url, "WHATCONVERTS_API_TOKEN": token,
            "WHATCONVERTS_API_SECRET": api_secret, "WHATCONVERTS_API_URL": standin.url,
            "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}", "LOG_LEVEL": "WARNING",
            "UPSTREAM_CONCURRENCY": str(args.cap), "PYTHONPATH": str(ROOT),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        }
        subprocess.run(procfile("release"), shell=True, cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        process = subprocess.Popen(procfile(), shell=True, cwd=ROOT, env=env,
                                   start_new_session=True, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        sampler = RssSampler(process.pid)
        sampler.start()
        slack.events_url = f"http://127.0.0.1:{port}/slack/events"
        try:
            _wait_until_serving(slack)
            standin.latency = args.latency
            standin.clear_requests()
            standin.reset_stats()
            export = _export(slack, standin)
            find = _find(slack, standin)
        finally:
            sampler.running = False
            slack.close()
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        rss = max(sampler.peak.values(), default=0) / 1024

    print(f"Export of {args.profiles:,} profiles, upstream latency {args.latency:g} s a call, "
          f"upstream cap {args.cap}:")
    print(f"  pages fetched             {export['pages']} (of 250 profiles; "
          f"{export['distinct_pages']} distinct)")
    print(f"  upstream calls            {export['calls']}")
    print(f"  peak upstream concurrency {export['peak']}")
    print(f"  time to the upload        {export['seconds']:.2f} s")
    print(f"  progress updates          {export['updates']}")
    print(f"  CSV rows                  {export['rows']:,}; equal to the stand-in's data: "
          f"{'yes' if export['equal'] else 'NO'}")
    print(f"  bot peak RSS              {rss:.1f} MB")
    print("Find over the same account:")
    print(f"  first find                {find['first']:.2f} s, {find['first_calls']} upstream "
          f"calls, {find['matches']:,} matches")
    print(f"  its next page (cached)    {find['next'] * 1000:.0f} ms, {find['next_calls']} "
          "upstream calls")
    print(f"Command: python bench/export.py --profiles {args.profiles} "
          f"--latency {args.latency:g} --cap {args.cap}")


def _wait_until_serving(slack: LocalSlack) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if slack.command("help", timeout=5)[0].status_code == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the bot did not start within 30 s")


def _export(slack: LocalSlack, standin: StandIn) -> dict:
    started = time.monotonic()
    slack.command(f"export {ACCOUNT}", user="U0BENCH")
    [complete] = slack.inbox.wait_for_call("files.completeUploadExternal", timeout=600)
    seconds = time.monotonic() - started

    files = complete["files"]
    [file] = json.loads(files) if isinstance(files, str) else files
    rows = list(csv.reader(io.StringIO(slack.inbox.uploads[file["id"]].decode("utf-8"))))[1:]
    expected = [[str(p["profile_id"]), p["profile_name"], p["date_created"]]
                for p in standin.profiles(ACCOUNT)]
    pages = [r.query.get("page_number") for r in standin.requests if r.method == "GET"]
    return {"seconds": seconds, "pages": len(pages), "distinct_pages": len(set(pages)),
            "calls": len(standin.requests), "peak": standin.peak_in_flight,
            "updates": len(slack.inbox.calls("chat.update")), "rows": len(rows),
            "equal": rows == expected}


def _find(slack: LocalSlack, standin: StandIn) -> dict:
    standin.clear_requests()
    started = time.monotonic()
    _, key = slack.command(f"find {ACCOUNT} profile 1", user="U0BENCH")
    [answer] = slack.inbox.wait(key, timeout=600)
    first, first_calls = time.monotonic() - started, len(standin.requests)
    heading = answer.payload["blocks"][0]["text"]["text"]
    matches = int(heading.split(" · ")[1].split()[0].replace(",", ""))

    value = next(element["value"] for block in answer.payload["blocks"]
                 if block.get("block_id") == "profiles.nav" for element in block["elements"])
    standin.clear_requests()
    started = time.monotonic()
    _, key = slack.click("profiles.find.next", value, user="U0BENCH")
    slack.inbox.wait(key, timeout=60)
    return {"first": first, "first_calls": first_calls, "matches": matches,
            "next": time.monotonic() - started, "next_calls": len(standin.requests)}


if __name__ == "__main__":
    main()
