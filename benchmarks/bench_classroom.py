"""What a classroom round costs: 30 teams of a 10k-customer market, 13 steps a round.

    python -m benchmarks.bench_classroom                      # 30 teams, 10,000 customers
    python -m benchmarks.bench_classroom --teams 8 --workers 1

Creates a session in a temporary database (``analysis.classroom.service``), every
team submits its own platform (spread over the trainer's bounds), and the rounds
run as the server runs them. It prints, in seconds:

* the session's creation (one model builds the round-0 view every team starts from);
* round 1, which also builds every team's model;
* round 2, on the models kept in memory (the steady state of a class);
* a restart: a new ``Classroom`` on the same database rebuilds every model by
  replaying rounds 1-2 (the server does this in the background at start-up), then
  round 3 runs.

The engine's Numba kernels are loaded once before timing (the server pays that at
its first round, not per round).

Measured on the 2-core development machine, shared with other work (load average
about 5), after the engine of issue 11 (``python -m benchmarks.bench_classroom
--workers N``), in seconds:

    workers  round 1 (+ build)  later round  replay of 2 rounds  round after it
    1        3.11               1.60         4.01                1.51
    2        1.54 - 1.79        0.88 - 1.26  2.18 - 2.97         0.69 - 0.98

A later round of 30 teams x 10,000 customers x 13 steps takes about a second with
two worker threads (3-4 M customer-steps/s); the process peaks at about 440 MB with
two sets of 30 models in memory.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def _decide(room: object, sid: str, teams: int, rnd: int) -> None:
    """Every team submits a different platform (the last one in runs the round)."""
    store = room.store  # type: ignore[attr-defined]
    codes = [str(t["code"]) for t in store.teams(sid)]
    for i in range(teams):
        x = (i + rnd) % teams / max(teams - 1, 1)
        form = {
            "coverage": f"{0.3 + 0.7 * x:.3f}",
            "density": f"{0.02 + 0.3 * (1 - x):.3f}",
            "strength": f"{0.5 + 0.5 * x:.3f}",
            "focus": "4",
            "targeting": "personalized" if i % 2 else "homogeneous",
            "round": str(rnd),
        }
        room.submit(sid, i, codes[i], form)  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--teams", type=int, default=30)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=13, help="steps per round")
    parser.add_argument("--workers", type=int, default=None, help="default: up to 4")
    args = parser.parse_args(argv)

    from analysis.classroom.config import session_from_form
    from analysis.classroom.game import build_model
    from analysis.classroom.service import Classroom

    build_model(session_from_form({"customers": "200", "rounds": "1"})).run(1)  # load kernels
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        room = Classroom(db, args.workers)
        form = {
            "name": "bench",
            "scenario": args.scenario,
            "customers": str(args.customers),
            "teams": str(args.teams),
            "rounds": "3",
            "steps_per_round": str(args.steps),
            "budget": "1e9",
        }
        t = time.perf_counter()
        sid = room.create(form)
        create = time.perf_counter() - t
        times = []
        for rnd in (1, 2):
            t = time.perf_counter()
            _decide(room, sid, args.teams, rnd)
            times.append(time.perf_counter() - t)
        room.close()
        again = Classroom(db, args.workers)
        t = time.perf_counter()
        again.resume()
        replay = time.perf_counter() - t
        t = time.perf_counter()
        _decide(again, sid, args.teams, 3)
        after = time.perf_counter() - t
        note = again.state(sid)["note"]
        again.close()
    work = args.teams * args.customers * args.steps
    print(
        f"classroom: {args.teams} teams x {args.customers:,} customers x {args.steps} steps "
        f"a round, {room.workers} worker thread(s)"
    )
    print(f"  create session (round-0 view):        {create:6.2f} s")
    print(f"  round 1 (builds every team's model):  {times[0]:6.2f} s")
    print(
        f"  round 2 (models in memory):           {times[1]:6.2f} s  "
        f"({work / times[1] / 1e6:.2f} M customer-steps/s)"
    )
    print(f"  restart: replay rounds 1-2 (background): {replay:6.2f} s")
    print(f"  round 3 after the replay:             {after:6.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  replay: {note}")
    print(f"  peak memory of the process (two sets of models): {peak:,.0f} MB")


if __name__ == "__main__":
    main()
