"""A class at once: 30 teams submit their decisions in the same instant while the
trainer confirms "Close round 1", over HTTP to a real ``demandsim classroom``
server on the loopback address.

    python -m benchmarks.bench_classroom_load                 # 30 teams, 10,000 customers
    python -m benchmarks.bench_classroom_load --customers 300

Each team joins with its code (a cookie), loads its page, and all 30 post their
decision from one barrier; the trainer's confirmed close (for round 1) leaves from
the same barrier. One request per client, a bounded wait for the round: no loop
runs unbounded. It checks and prints: no 5xx, every answer either "recorded" or a
409 refusal (the round had closed), exactly one decision per team for round 1
(its own or, refused, its kept platform), no decision stored for round 2, and
exactly one run of round 1; with the latencies.

Measured on the 2-core development machine, shared with other work, 30 teams of
a 10,000-customer market, 13 steps a round:

    python -m benchmarks.bench_classroom_load                    # the close wins the race
      team answers: 0 recorded (200), 30 refused after the close (409), 0 5xx
      trainer's close: 200 in 16.31 s (it runs round 1: builds and steps 30 models)
      latency of a team's submit: median 0.41 s, max 0.52 s
      round 1 ran 1 time(s); session now at round 2
      decisions for round 1: 30 teams (0 their own, 30 kept); for round 2: 0

    python -m benchmarks.bench_classroom_load --close-after 0.25 # the teams win it
      team answers: 30 recorded (200), 0 refused after the close (409), 0 5xx
      trainer's close: 409 in 1.88 s (round 1 had run: nothing changed)
      latency of a team's submit: median 0.60 s, max 16.21 s (the last one in runs it)
      round 1 ran 1 time(s); session now at round 2
      decisions for round 1: 30 teams (30 their own, 0 kept); for round 2: 0
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMAND = "demandsim"


class Browser:
    """One client's cookies over urllib."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def open(self, url: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(url, data=data, timeout=300) as resp:
                return int(resp.status), resp.read().decode(), resp.geturl()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode(), url


def hidden(body: str) -> dict[str, str]:
    return dict(re.findall(r"<input type=hidden name=(\w+) value='([^']*)'>", body))


@dataclass
class Outcome:
    statuses: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    close_status: int = 0
    close_seconds: float = 0.0
    rounds_run: int = 0
    decisions_round1: int = 0
    own_decisions: int = 0
    decisions_round2: int = 0
    round_now: int = 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(
    teams: int = 30, customers: int = 10_000, steps: int = 13, close_after: float = 0.0
) -> Outcome:
    """Start a server, play the rush, stop the server; what happened."""
    with tempfile.TemporaryDirectory() as tmp:
        db, log, port = Path(tmp) / "load.sqlite", Path(tmp) / "server.log", _free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", COMMAND, "classroom", "--db", str(db), "--port", str(port)],
                stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env, start_new_session=True,
            )  # fmt: skip
        try:
            return _rush(proc, log, db, port, teams, customers, steps, close_after)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)


def _rush(
    proc: subprocess.Popen[bytes],
    log: Path,
    db: Path,
    port: int,
    n: int,
    customers: int,
    steps: int,
    close_after: float,
) -> Outcome:
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):  # at most 2 minutes for the server to print its link
        found = re.search(r"\?key=(\S+)", log.read_text())
        if found or proc.poll() is not None:
            break
        time.sleep(0.2)
    assert found, log.read_text()
    trainer = Browser()
    time.sleep(0.5)
    trainer.open(f"{base}/?key={found.group(1)}")
    form = {"csrf": hidden(trainer.open(f"{base}/")[1])["csrf"], "teams": str(n)}
    form.update(customers=str(customers), rounds="2", steps_per_round=str(steps), budget="1e9")
    status, body, where = trainer.open(f"{base}/sessions", form)
    assert status == 200, body[:500]
    sid = where.rsplit("/", 1)[1]
    links = re.findall(r"class=team-link href='([^']+)'", body)
    clients = []
    for link in links:  # every team joins and loads its page
        b = Browser()
        status, page, where = b.open(link)
        assert status == 200, page[:500]
        clients.append((b, where, hidden(page)))
    close_form = {**hidden(trainer.open(f"{base}/s/{sid}")[1]), "confirm": "yes"}
    out = Outcome()
    go = threading.Barrier(n + 1)
    lock = threading.Lock()

    def submit(i: int) -> None:
        b, page, fields = clients[i]
        decision = {**fields, "coverage": f"{0.3 + 0.7 * i / max(n - 1, 1):.3f}"}
        decision.update(density="0.1", strength="0.8", focus="4", targeting="personalized")
        go.wait()
        t = time.perf_counter()
        status, _, _ = b.open(f"{page}/decide", decision)
        with lock:
            out.statuses.append(status)
            out.seconds.append(time.perf_counter() - t)

    def close() -> None:
        go.wait()
        time.sleep(close_after)
        t = time.perf_counter()
        out.close_status = trainer.open(f"{base}/s/{sid}/close", close_form)[0]
        out.close_seconds = time.perf_counter() - t

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(n)]
    threads.append(threading.Thread(target=close))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        out.rounds_run = con.execute(
            "SELECT COUNT(*) FROM rounds WHERE session=?", (sid,)
        ).fetchone()[0]
        out.decisions_round1 = con.execute(
            "SELECT COUNT(DISTINCT team) FROM decisions WHERE session=? AND round=1", (sid,)
        ).fetchone()[0]
        out.own_decisions = con.execute(
            "SELECT COUNT(*) FROM decisions WHERE session=? AND round=1 AND carried=0", (sid,)
        ).fetchone()[0]
        out.decisions_round2 = con.execute(
            "SELECT COUNT(*) FROM decisions WHERE session=? AND round=2", (sid,)
        ).fetchone()[0]
        out.round_now = con.execute("SELECT round FROM sessions WHERE id=?", (sid,)).fetchone()[0]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=30)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=13)
    parser.add_argument(
        "--close-after",
        type=float,
        default=0.0,
        help="seconds between the teams' rush and the close",
    )
    args = parser.parse_args(argv)
    out = run(args.teams, args.customers, args.steps, args.close_after)
    s = sorted(out.seconds)
    recorded = sum(1 for x in out.statuses if x == 200)
    refused = sum(1 for x in out.statuses if x == 409)
    print(
        f"classroom load: {args.teams} teams x {args.customers:,} customers, {args.steps} steps, "
        f"close {args.close_after:g} s after the rush"
    )
    print(
        f"  team answers: {recorded} recorded (200), {refused} refused after the close (409), "
        f"{sum(1 for x in out.statuses if x >= 500)} 5xx, others {len(s) - recorded - refused}"
    )
    print(f"  trainer's close: {out.close_status} in {out.close_seconds:.2f} s")
    print(f"  latency of a team's submit: median {s[len(s) // 2]:.2f} s, max {s[-1]:.2f} s")
    print(f"  round 1 ran {out.rounds_run} time(s); session now at round {out.round_now}")
    print(
        f"  decisions for round 1: {out.decisions_round1} teams ({out.own_decisions} their own, "
        f"{out.decisions_round1 - out.own_decisions} kept); for round 2: {out.decisions_round2}"
    )


if __name__ == "__main__":
    main()
