"""Round-bound, idempotent actions of the classroom service: a decision or a close
names the round its page showed, one for another round is refused and changes
nothing, the same decision sent twice is recorded once, a round closes at its
deadline, and a round every team submitted runs after a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analysis.classroom.service import Classroom, Closed
from sim.errors import InputError
from tests.test_classroom import SMALL, WEAK

A = WEAK
B = {**A, "density": "0.2"}


def _room(tmp_path: Path) -> Classroom:
    return Classroom(tmp_path / "c.sqlite", workers=1)


def _session(room: Classroom, teams: int) -> tuple[str, list[str]]:
    sid = room.create({**SMALL, "teams": str(teams)})
    return sid, [str(t["code"]) for t in room.store.teams(sid)]


def _at(rnd: int, form: dict[str, Any]) -> dict[str, Any]:
    return {**form, "round": str(rnd)}


def test_a_stale_decision_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, codes = _session(room, 2)
    room.submit(sid, 0, codes[0], _at(1, A))
    room.submit(sid, 1, codes[1], _at(1, A))  # every team is in: round 1 ran
    assert room.state(sid)["round"] == 2
    with pytest.raises(Closed) as exc:
        room.submit(sid, 0, codes[0], _at(1, B))  # a page still showing round 1
    assert str(exc.value) == (
        "Decision for round 1 refused: the session is now at round 2 (open). "
        "Nothing was changed; reload the page to see the current round."
    )
    assert room.store.decision(sid, 0, 2) is None  # not stored as round 2's decision
    assert room.store.applied(sid, 0)[0]["platform"]["density"] == 0.02
    with pytest.raises(InputError, match="must name the round"):
        room.submit(sid, 0, codes[0], B)
    assert room.store.decision(sid, 0, 2) is None


def test_a_repeated_submit_is_recorded_once(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, codes = _session(room, 3)
    first = room.submit(sid, 0, codes[0], _at(1, A))
    again = room.submit(sid, 0, codes[0], _at(1, A))  # a double click
    assert first == "Decision for round 1 recorded (1 of 3 teams in)."
    assert (
        again
        == "Decision for round 1 recorded (the same decision again: recorded once) (1 of 3 teams in)."
    )
    room.submit(sid, 1, codes[1], _at(1, A))
    room.submit(sid, 2, codes[2], _at(1, B))  # round 1 runs
    late = room.submit(sid, 2, codes[2], _at(1, B))  # the double click arrives after it ran
    assert late == "Decision for round 1 was already recorded; nothing changed."
    assert room.state(sid)["round"] == 2 and room.store.decision(sid, 2, 2) is None
    with pytest.raises(Closed):  # a different decision for the closed round is not the same
        room.submit(sid, 2, codes[2], _at(1, A))


def test_a_stale_close_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, codes = _session(room, 2)
    room.submit(sid, 0, codes[0], _at(1, A))
    room.submit(sid, 1, codes[1], _at(1, A))  # round 1 ran by itself
    with pytest.raises(Closed) as exc:
        room.close_round(sid, {"round": "1"})  # the trainer's click three seconds later
    assert str(exc.value).startswith("Close for round 1 refused: the session is now at round 2")
    assert room.state(sid)["round"] == 2 and list(room.store.round_seconds(sid)) == [1]
    assert room.close_round(sid, {"round": "2"}) is not None  # the round shown: it runs
    assert room.state(sid)["round"] == 3
    assert [d["carried"] for d in room.store.applied(sid, 0)[1:]] == [True]


def test_a_round_closes_at_its_deadline(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, codes = _session(room, 2)
    room.set_deadline(sid, {"round": "1", "minutes": "5"})
    deadline = room.state(sid)["deadline"]
    assert deadline is not None
    assert room.close_expired(now=deadline - 1) == []
    assert room.close_expired(now=deadline + 1) == [sid]
    st = room.state(sid)
    assert st["round"] == 2 and st["deadline"] is None  # the next round has no timer yet
    with pytest.raises(InputError, match="between 0 and 240"):
        room.set_deadline(sid, {"round": "2", "minutes": "600"})
    with pytest.raises(Closed):
        room.set_deadline(sid, {"round": "1", "minutes": "5"})


def test_a_round_every_team_submitted_runs_after_a_restart(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, _ = _session(room, 2)
    for team in (0, 1):  # recorded, then the server stopped before it could run the round
        room.store.submit(
            sid,
            team,
            1,
            {"platform": room.store.results(sid, 0)[0]["team"]["platform"], "develop": []},
        )
    room.close()
    again = _room(tmp_path)
    assert again.state(sid)["round"] == 1 and again.state(sid)["submitted"] == [0, 1]
    again.start_up()  # what a starting server does in the background
    assert again.state(sid)["round"] == 2
    assert [d.get("carried", False) for d in again.store.applied(sid, 1)] == [False]


def test_visibility_flags_are_checked(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, _ = _session(room, 1)
    st = room.state(sid)
    assert st["board"] is True and st["revealed"] is False
    room.set_visibility(sid, {"board": "0", "revealed": "1"})
    st = room.state(sid)
    assert st["board"] is False and st["revealed"] is True
    with pytest.raises(InputError, match="must be 0 or 1"):
        room.set_visibility(sid, {"board": "yes"})
