"""Burst benchmark: 60 signed commands at 30 a second against a WhatConverts with 2 s of latency.

    python bench/burst.py [--commands 60] [--rate 30] [--latency 2] [--clicks 10]

Starts the bot with the Procfile's own release and web commands (a fresh SQLite database) and,
for comparison, bench/textbook_bot.py under the same server, against the in-process stand-in, and
prints figures side by side.
Nothing here asserts: it measures and prints.
"""

import argparse
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.localslack import LocalSlack  # noqa: E402
from bot.standin import StandIn  # noqa: E402


def procfile(kind: str = "web") -> str:
    """The Procfile's command for a process type, as Heroku would run it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{kind}:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit(f"no {kind}: line in the Procfile")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RssSampler(threading.Thread):
    """Peak resident memory of each process in a process group, sampled every 20 ms."""

    def __init__(self, pgid: int):
        super().__init__(daemon=True)
        self.pgid = pgid
        self.peak: dict[int, int] = {}
        self.running = True

    def run(self):
        while self.running:
            for pid in _group_pids(self.pgid):
                kb = _rss_kb(pid)
                if kb:
                    self.peak[pid] = max(self.peak.get(pid, 0), kb)
            time.sleep(0.02)


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_bot(name: str, command: str, standin: StandIn, args, release: str | None = None) -> dict:
    port = free_port()
    secret = secrets.token_hex(16)
    folder = tempfile.mkdtemp(prefix="burst-")
    env = os.environ | {
        "PORT": str(port), "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": secret,
        "WHATCONVERTS_API_TOKEN": standin_token, "WHATCONVERTS_API_SECRET": standin_secret,
        "WHATCONVERTS_API_URL": standin.url, "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}",
        "LOG_LEVEL": "WARNING", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}",
    }
    if release:
        # As Heroku does before starting web: without its tables every lookup would fail.
        subprocess.run(release, shell=True, cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    standin.latency = 0
    standin.reset_stats()
    standin.clear_requests()

    started = time.monotonic()
    process = subprocess.Popen(command, shell=True, cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler = RssSampler(process.pid)
    sampler.start()
    slack = LocalSlack(f"http://127.0.0.1:{port}/slack/events", secret)
    try:
        first_ack = _first_ack(slack, started)
        standin.latency = args.latency
        standin.reset_stats()
        burst = _burst(slack, args)
        burst["peak_upstream"] = standin.peak_in_flight
        burst["connections"] = standin.connections_opened
        burst["first_ack"] = first_ack
        burst["click"] = _clicks(slack, standin, args) if name == "this bot" else None
    finally:
        sampler.running = False
        slack.close()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
    burst["rss_mb"] = max(sampler.peak.values(), default=0) / 1024
    return burst


def _first_ack(slack: LocalSlack, started: float) -> float:
    """Seconds from process start until a command is acknowledged."""
    while time.monotonic() - started < 30:
        try:
            ack, _ = slack.command("help", timeout=5)
            if ack.status_code == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.01)
    raise SystemExit("the bot did not start within 30 s")


def _burst(slack: LocalSlack, args) -> dict:
    begin = time.monotonic() + 0.1
    results = [None] * args.commands

    def send(index: int):
        time.sleep(max(0.0, begin + index / args.rate - time.monotonic()))
        sent = time.monotonic()
        try:
            ack, key = slack.command("list 1001", user=f"U{index:05d}", timeout=30)
            results[index] = (time.monotonic() - sent, ack.status_code, key)
        except OSError:
            results[index] = (time.monotonic() - sent, 0, None)

    with ThreadPoolExecutor(max_workers=args.commands) as pool:
        list(pool.map(send, range(args.commands)))

    keys = [key for _, _, key in results if key]
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        if all(slack.inbox.posted(key) for key in keys):
            break
        time.sleep(0.05)
    answered = [slack.inbox.posted(key)[0].at for key in keys if slack.inbox.posted(key)]

    acks = sorted(seconds for seconds, _, _ in results)
    return {
        "ack_p50": statistics.median(acks) * 1000,
        "ack_p99": acks[max(0, int(len(acks) * 0.99) - 1)] * 1000,
        "ack_max": acks[-1] * 1000,
        "ack_ok": sum(1 for _, status, _ in results if status == 200),
        "answers": len(answered),
        "last_answer": (max(answered) - begin) if answered else float("nan"),
    }


def _clicks(slack: LocalSlack, standin: StandIn, args) -> float:
    """Median seconds from a Next click to its answer, less the upstream latency (250-row page)."""
    value = ('{"account":9001,"page":2,"per_page":250,"since":null,"until":null,'
             '"order":null}')
    timings = []
    for _ in range(args.clicks):
        sent = time.monotonic()
        _, key = slack.click("profiles.page.next", value, user="U0BENCH")
        posted = slack.inbox.wait(key, timeout=60)[0]
        timings.append(posted.at - sent - standin.latency)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=60)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--wait", type=float, default=120.0, help="longest wait for answers")
    args = parser.parse_args()

    global standin_token, standin_secret
    standin_token, standin_secret = secrets.token_hex(8), secrets.token_hex(8)
    textbook = procfile().replace("'bot.app:create_wsgi_app()'",
                                      "'textbook_bot:create_wsgi_app()'")
    with StandIn(token=standin_token, secret=standin_secret) as standin:
        standin.add_account(9001, "Bench", names=[f"Profile {i} – {'long name ' * 8}"
                                                  for i in range(600)])
        ours = run_bot("this bot", procfile(), standin, args, release=procfile("release"))
        theirs = run_bot("textbook", textbook, standin, args)

    print(f"Burst: {args.commands} signed commands at {args.rate:g}/s, upstream latency "
          f"{args.latency:g} s, 2 cores\n")
    rows = [
        ("ack p50 (ms)", "ack_p50", "{:.1f}"),
        ("ack p99 (ms)", "ack_p99", "{:.1f}"),
        ("ack max (ms)", "ack_max", "{:.1f}"),
        ("acks with HTTP 200", "ack_ok", "{:d}"),
        ("answers delivered", "answers", "{:d}"),
        ("last answer after burst start (s)", "last_answer", "{:.1f}"),
        ("peak concurrent upstream requests", "peak_upstream", "{:d}"),
        ("upstream TCP connections opened", "connections", "{:d}"),
        ("peak RSS of one process (MB)", "rss_mb", "{:.1f}"),
        ("process start to first ack (s)", "first_ack", "{:.2f}"),
    ]
    print(f"{'figure':<36}{'this bot':>12}{'textbook':>12}{'ratio':>10}")
    for label, key, fmt in rows:
        mine, other = ours[key], theirs[key]
        ratio = f"{other / mine:.1f}x" if mine else "-"
        print(f"{label:<36}{fmt.format(mine):>12}{fmt.format(other):>12}{ratio:>10}")
    print(f"\nclick to answer, 250-row page, less upstream latency, p50 over {args.clicks}: "
          f"{ours['click']:.1f} ms")


if __name__ == "__main__":
    main()
