"""30 teams submit at once while the trainer confirms the close, over HTTP to a real
server on the loopback address (``benchmarks.bench_classroom_load`` on a small
market): no 5xx, one decision per team, one round advance."""

from __future__ import annotations

from benchmarks.bench_classroom_load import run


def test_thirty_teams_and_a_close_at_once() -> None:
    out = run(teams=30, customers=300, steps=4, close_after=0.2)
    assert len(out.statuses) == 30 and not [s for s in out.statuses if s >= 500]
    assert set(out.statuses) <= {200, 409}  # recorded, or refused: the round had closed
    assert out.close_status in (200, 409)  # the close ran the round, or found it run
    assert out.rounds_run == 1 and out.round_now == 2  # one advance
    assert out.decisions_round1 == 30 and out.decisions_round2 == 0  # one decision per team
    assert out.own_decisions == out.statuses.count(200)  # each recorded one ran, once
