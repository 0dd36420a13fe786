"""The classroom game in-process: checks on sessions and decisions, common random
numbers between teams, resuming by replay, concurrent submissions, costs.

The real server and browser are driven in ``test_classroom_server.py``.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import pytest

from analysis.classroom.config import (
    Costs,
    SessionConfig,
    check_decision,
    contact_premium,
    platform_estimate,
    session_from_form,
)
from analysis.classroom.debrief import debrief_body
from analysis.classroom.service import Classroom, Closed, Forbidden, NotFound
from sim.errors import InputError

SMALL = {"customers": "300", "rounds": "3", "steps_per_round": "4", "budget": "1000"}
STRONG = {
    "coverage": "0.95",
    "density": "0.3",
    "strength": "0.95",
    "focus": "4",
    "targeting": "personalized",
}
WEAK = {
    "coverage": "0.3",
    "density": "0.02",
    "strength": "0.5",
    "focus": "1",
    "targeting": "homogeneous",
}


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text and len(text) <= 200
    return text


def _room(tmp_path: Path, name: str = "c.sqlite") -> Classroom:
    return Classroom(tmp_path / name, workers=2)


def _submit(room: Classroom, sid: str, idx: int, code: str, form: dict[str, Any]) -> str:
    """A team's decision from a page showing the session's current round."""
    return room.submit(sid, idx, code, {**form, "round": str(room.state(sid)["round"])})


def _state(room: Classroom, sid: str) -> dict[str, Any]:
    keys = ("round", "status", "submitted", "note")
    return {k: v for k, v in room.state(sid).items() if k in keys}


def _session(room: Classroom, teams: int, **extra: str) -> tuple[str, list[str]]:
    sid = room.create({**SMALL, "teams": str(teams), **extra})
    return sid, [str(t["code"]) for t in room.store.teams(sid)]


# --------------------------------------------------------------------------- checks


def _cfg(**bounds: tuple[float, float]) -> SessionConfig:
    base = {"coverage": (0.2, 1.0), "density": (0.0, 0.5), "strength": (0.5, 1.0)}
    return SessionConfig(name="t", budget=100.0, bounds={"focus": (1.0, 10.0), **base, **bounds})


COSTS = Costs(
    eligible=1000, cost_per_contact=0.02, cost_per_record=0.001, development_cost=50.0, steps=10
)


def test_decision_outside_the_trainers_bounds_is_one_line() -> None:
    with pytest.raises(InputError) as exc:
        check_decision({**WEAK, "density": "0.6"}, _cfg(), COSTS, [])
    assert _one_line(exc) == "density=0.6: must be between 0 and 0.5"
    with pytest.raises(InputError) as exc:
        check_decision({**WEAK, "coverage": "lots"}, _cfg(), COSTS, [])
    assert "coverage='lots'" in _one_line(exc)
    with pytest.raises(InputError) as exc:
        check_decision({**WEAK, "targeting": "psychic"}, _cfg(), COSTS, [])
    assert "homogeneous, personalized" in _one_line(exc)
    ok = check_decision(WEAK, _cfg(), COSTS, [])
    assert ok["platform"]["density"] == 0.02 and ok["develop"] == []


def test_budget_counts_the_platform_and_each_development() -> None:
    # 10 steps x 1000 eligible x 0.5 coverage x (0.001 + 0.2 x 0.02) = 25
    form = {**WEAK, "coverage": "0.5", "density": "0.2", "strength": "0.9"}
    ok = check_decision({**form, "develop": ["core/premium"]}, _cfg(), COSTS, ["core/premium"])
    assert ok["estimate"] == pytest.approx(25.0 + 50.0)
    with pytest.raises(InputError) as exc:
        check_decision(
            {**form, "develop": ["core/premium", "x/y"]}, _cfg(), COSTS, ["core/premium", "x/y"]
        )
    assert _one_line(exc).startswith("over budget: estimated cost 125.0")
    with pytest.raises(InputError) as exc:
        check_decision({**form, "develop": "core/entry"}, _cfg(), COSTS, ["core/premium"])
    assert "develop='core/entry'" in _one_line(exc) and "core/premium" in str(exc.value)


def test_session_form_is_checked_field_by_field() -> None:
    with pytest.raises(InputError) as exc:
        session_from_form({"density_min": "0.5", "density_max": "0.1"})
    assert _one_line(exc).startswith("density_min=0.5 > density_max=0.1")
    with pytest.raises(InputError) as exc:
        session_from_form({"teams": "0"})
    assert _one_line(exc) == "teams=0: must be between 1 and 60"
    with pytest.raises(InputError) as exc:
        session_from_form({"coverage_max": "1.5"})
    assert "coverage_max=1.5" in _one_line(exc)
    cfg = session_from_form({"density_max": "0.4", "targeting_allowed": "homogeneous"})
    assert cfg.bounds["density"] == (0.0, 0.4) and cfg.targeting == ("homogeneous",)


def test_unknown_scenario_and_session_are_one_line(tmp_path: Path) -> None:
    room = _room(tmp_path)
    with pytest.raises(InputError) as exc:
        room.create({**SMALL, "scenario": "no-such-market"})
    # the scenario loader's own line (it lists the bundled names, so it may run long)
    assert "no-such-market" in str(exc.value) and "\n" not in str(exc.value)
    assert room.store.sessions() == []  # nothing written
    with pytest.raises(NotFound) as exc:
        room.state("nope")
    assert _one_line(exc) == "session 'nope': no such session"


# --------------------------------------------------------------------------- rounds


def test_teams_share_the_market_and_differ_by_their_decisions_alone(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, codes = _session(room, 3)
    start = [room.store.results(sid, i)[0] for i in range(3)]
    assert start[0] == start[1] == start[2]  # round 0: one market for all
    _submit(room, sid, 0, codes[0], STRONG)
    _submit(room, sid, 1, codes[1], STRONG)
    assert _state(room, sid) == {"round": 1, "status": "open", "submitted": [0, 1], "note": ""}
    _submit(room, sid, 2, codes[2], WEAK)  # the last one in runs the round
    assert room.state(sid)["round"] == 2
    r = [room.store.results(sid, i)[1] for i in range(3)]
    assert r[0] == r[1]  # same decisions, same random inputs: the same round
    assert r[2]["team"]["cells"] != r[0]["team"]["cells"]
    assert r[2]["team"]["round_contacts"] < r[0]["team"]["round_contacts"]
    assert r[2]["team"]["covered"] < r[0]["team"]["covered"]
    # the same customers exist for everyone: the true demand differs only through sales
    assert sum(c["demand"] for c in r[0]["truth"]["cells"]) > 0


def test_a_teams_result_keeps_beliefs_apart_from_the_truth(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, codes = _session(room, 1)
    _submit(room, sid, 0, codes[0], WEAK)
    res = room.store.results(sid, 0)[1]
    team, truth = res["team"], res["truth"]
    for secret in ("market_share", "sigma_level", "dpmo", "detection", "exclusion_defects"):
        assert secret not in team
    assert all(set(c) >= {"believed_share", "believed_open"} for c in team["cells"])
    assert not any({"share", "demand", "open"} & set(c) for c in team["cells"])
    # beliefs are counted on the records a team has: never more customers than it knows
    for cat in ("core", "complement"):
        rows = [c for c in team["cells"] if c["cell"].startswith(cat + "/")]
        assert sum(c["believed_demand"] + c["believed_open"] for c in rows) <= team["known"]
    assert math.isclose(sum(c["share"] for c in truth["cells"]), 1.0)
    assert truth["defects"] == truth["exclusion_defects"] + truth["omission_defects"]


def test_restart_resumes_by_replay_with_the_same_numbers(tmp_path: Path) -> None:
    straight = _room(tmp_path, "a.sqlite")
    sid_a, codes_a = _session(straight, 2)
    interrupted = _room(tmp_path, "b.sqlite")
    sid_b, codes_b = _session(interrupted, 2)
    plays = [(STRONG, WEAK), (WEAK, STRONG)]
    for rnd, (d0, d1) in enumerate(plays, start=1):
        if rnd == 2:  # a new server process on the same database
            interrupted.close()
            interrupted = _room(tmp_path, "b.sqlite")
            assert interrupted.state(sid_b)["round"] == 2
            assert interrupted.resume() == [sid_b]  # the models rebuilt before round 2
        for room, sid, codes in ((straight, sid_a, codes_a), (interrupted, sid_b, codes_b)):
            _submit(room, sid, 0, codes[0], d0)
            _submit(room, sid, 1, codes[1], d1)
    for team in (0, 1):
        a, b = straight.store.results(sid_a, team), interrupted.store.results(sid_b, team)
        assert len(a) == len(b) == 3 and a == b
    assert "replaying 1 round" in interrupted.state(sid_b)["note"]
    assert straight.state(sid_a)["note"] == ""


def test_concurrent_submissions_run_the_round_once(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, codes = _session(room, 4)
    errors: list[BaseException] = []
    go = threading.Barrier(4)

    def submit(i: int) -> None:
        go.wait()
        try:
            _submit(room, sid, i, codes[i], STRONG if i % 2 else WEAK)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert room.state(sid)["round"] == 2
    assert list(room.store.round_seconds(sid)) == [1]  # one run of round 1
    for i in range(4):
        applied = room.store.applied(sid, i)
        assert len(applied) == 1 and applied[0]["platform"]["density"] == (0.3 if i % 2 else 0.02)


def test_closing_a_round_keeps_the_platform_of_teams_that_did_not_submit(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, codes = _session(room, 2, development="yes")
    _submit(room, sid, 0, codes[0], STRONG)
    start = room.store.results(sid, 1)[0]["team"]["platform"]
    room.run_round(sid)  # the trainer closes round 1
    assert room.store.applied(sid, 1)[0]["platform"] == start
    assert room.store.results(sid, 1)[1]["team"]["platform"] == start
    with pytest.raises(LookupError):
        room.store.submit(sid, 0, 1, {})  # round 1 is over: nothing is recorded for it
    assert room.store.decision(sid, 0, 2) is None
    with pytest.raises(Forbidden):
        _submit(room, sid, 1, codes[0], WEAK)  # team 0's code is not team 1's
    room.run_round(sid)
    room.run_round(sid)
    assert room.state(sid)["status"] == "finished"
    with pytest.raises(Closed) as exc:
        _submit(room, sid, 0, codes[0], WEAK)
    assert _one_line(exc) == (
        "Decision for round 4 refused: all rounds have been played. Nothing was changed; "
        "reload the page to see the current round."
    )
    with pytest.raises(Closed):
        room.run_round(sid)


def test_a_development_launches_after_its_lead_time(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, codes = _session(room, 1, rounds="2")
    cfg = room.config(sid)
    cell = room.store.results(sid, 0)[0]["team"]["open_cells"][0]
    _submit(room, sid, 0, codes[0], {**WEAK, "develop": [cell]})
    after = room.store.results(sid, 0)[1]["team"]
    assert cell not in after["open_cells"]
    row = next(c for c in after["cells"] if c["cell"] == cell)
    assert row["ready"] is not None and not row["sells"]
    assert after["round_cost"] > 0
    assert cfg.steps == 8


def test_round_cost_matches_the_estimate_within_its_standard_error(tmp_path: Path) -> None:
    """The budget's estimate is the round's expected platform cost."""
    room = _room(tmp_path)
    sid, codes = _session(room, 1, customers="2000", steps_per_round="6", rounds="1")
    costs = Costs(**room.store.results(sid, 0)[0]["team"]["costs"])
    form = {**WEAK, "coverage": "0.5", "density": "0.3"}
    est = check_decision(form, room.config(sid), costs, [])["estimate"]
    _submit(room, sid, 0, codes[0], form)
    got = room.store.results(sid, 0)[1]["team"]["round_cost"]
    n, p, d, s = costs.eligible, 0.5, 0.3, costs.steps
    contact = costs.cost_per_contact * (
        1 + contact_premium(check_decision(form, room.config(sid), costs, [])["platform"], costs)
    )
    per_customer = s * (costs.cost_per_record + d * contact)
    var_cover = n * p * (1 - p) * per_customer**2  # who is covered
    var_contact = n * p * s * d * (1 - d) * contact**2  # who is contacted
    assert abs(got - est) < 4 * math.sqrt(var_cover + var_contact)


def test_strength_and_focus_have_a_price(tmp_path: Path) -> None:
    """The classroom's premium: strength_price x strength^2 + focus_price x ln(focus)
    (personalized) times the contact cost, on every contact made; the model's own
    accounts are untouched."""
    cfg = _cfg()
    costs = Costs(**{**COSTS.__dict__, "strength_price": 1.75, "focus_price": 0.4})
    base = {
        "coverage": 0.5,
        "density": 0.1,
        "strength": 0.5,
        "focus": 1.0,
        "targeting": "homogeneous",
    }
    assert contact_premium(base, costs) == 1.75 * 0.25
    assert contact_premium({**base, "focus": 8.0}, costs) == 1.75 * 0.25  # homogeneous
    sharp = {**base, "focus": 8.0, "targeting": "personalized"}
    assert math.isclose(contact_premium(sharp, costs), 1.75 * 0.25 + 0.4 * math.log(8))
    assert platform_estimate({**base, "strength": 1.0}, costs) > platform_estimate(base, costs)
    assert cfg.strength_price == 1.75 and cfg.focus_price == 0.4  # the calibrated prices
    room = _room(tmp_path)
    sid, codes = _session(room, 2, customers="500")
    _submit(room, sid, 0, codes[0], {**WEAK, "strength": "1"})
    _submit(room, sid, 1, codes[1], {**WEAK, "strength": "0.5"})
    for team, strength in ((0, 1.0), (1, 0.5)):
        res = room.store.results(sid, team)[1]["team"]
        unit = res["costs"]["cost_per_contact"] * 1.75 * strength**2
        assert math.isclose(res["round_premium"], res["round_contacts"] * unit)
        assert math.isclose(res["premium"], res["round_premium"])
        assert math.isclose(res["round_profit"], res["round_revenue"] - res["round_cost"])
        assert res["round_platform_cost"] <= res["round_cost"]
    strong, weak = (room.store.results(sid, t)[1]["team"] for t in (0, 1))
    assert strong["round_premium"] > 3 * weak["round_premium"]  # 1^2 against 0.5^2
    html = debrief_body(room.config(sid), sid, ["Strong", "Weak"], _results(room, sid))
    lesson = html.split("data-testid=lesson>")[1].split("</ul>")[0]
    assert lesson.count("<li") == 2 and "spent" in lesson and "a round on its platform" in lesson
    assert "behind" in lesson and "by exclusion" in lesson and "by omission" in lesson


def _results(room: Classroom, sid: str) -> list[list[dict[str, Any]]]:
    return [room.store.results(sid, int(t["idx"])) for t in room.store.teams(sid)]


def test_codes_are_unguessable_and_distinct(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, codes = _session(room, 5)
    assert len(set(codes)) == 5 and all(len(c) >= 20 for c in codes)
    assert room.key not in codes and len(room.key) >= 20
    joins = [str(t["joincode"]) for t in room.store.teams(sid)]
    assert len(set(joins)) == 5 and all(len(j) == 6 and j.isalnum() and j.isupper() for j in joins)
    assert not set("01OIL") & set("".join(joins))  # no characters a student misreads
    found = room.store.team_by_join_code(joins[3].lower())
    assert found is not None and found["idx"] == 3
    assert len(_results(room, sid)) == 5
    room.close()
    assert _room(tmp_path).key == room.key  # the trainer's key survives a restart


def test_numbers_do_not_depend_on_the_worker_threads(tmp_path: Path) -> None:
    outcomes = []
    for workers in (1, 3):
        room = Classroom(tmp_path / f"w{workers}.sqlite", workers=workers)
        sid, codes = _session(room, 3, rounds="1")
        for i, form in enumerate((STRONG, WEAK, {**WEAK, "density": "0.1"})):
            _submit(room, sid, i, codes[i], form)
        outcomes.append(_results(room, sid))
        room.close()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0][1] != outcomes[0][1][1]  # and the teams did play differently


def test_debrief_splits_the_missed_opportunities_by_round(tmp_path: Path) -> None:
    import re

    from analysis.classroom import debrief

    room = _room(tmp_path)
    sid, codes = _session(room, 2, rounds="2")
    for form in (WEAK, STRONG):
        _submit(room, sid, 0, codes[0], form)
        _submit(room, sid, 1, codes[1], WEAK)
    results = _results(room, sid)
    html = debrief.debrief_page(room.config(sid), sid, ["A", "B"], results)
    for name, history in zip(("A", "B"), results, strict=True):
        block = html.split(f"data-team='{name}'")[1].split("</div>\n")[0]
        table = block.split("class=rounds>")[1].split("</table>")[0]
        rows = re.findall(r"<tr><td>(\d)</td>(.*?)</tr>", table)
        assert [r[0] for r in rows] == ["1", "2"]
        cells = [re.findall(r"<td>([^<]*)</td>", r[1]) for r in rows]
        exclusion = sum(int(c[-2].replace(",", "")) for c in cells)
        omission = sum(int(c[-1].replace(",", "")) for c in cells)
        truth = history[-1]["truth"]
        assert (exclusion, omission) == (truth["exclusion_defects"], truth["omission_defects"])
    # team A's first round was weak, its second strong: the table shows what it chose
    a_rows = html.split("data-team='A'")[1].split("class=rounds>")[1]
    assert (
        "0.3 / 0.02 / 0.5 / homogeneous" in a_rows and "0.95 / 0.3 / 0.95 / personalized" in a_rows
    )


def test_a_session_keeps_its_scenario_when_the_file_goes(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text("[run]\nname = 'tiny'\n[focal.platform]\ncoverage = 0.6\n")
    room = _room(tmp_path)
    sid, codes = _session(room, 1, scenario=str(path))
    assert room.store.results(sid, 0)[0]["team"]["platform"]["coverage"] == 0.6
    _submit(room, sid, 0, codes[0], WEAK)
    path.unlink()  # moved away between two lessons
    room.close()
    again = _room(tmp_path)
    assert again.resume() == [sid]
    _submit(again, sid, 0, codes[0], STRONG)
    assert again.state(sid)["round"] == 3
    assert again.state(sid)["note"] == "Resumed from the database by replaying 1 round(s)."


def test_a_replay_that_differs_from_the_stored_results_is_reported(tmp_path: Path) -> None:
    import json

    room = _room(tmp_path)
    sid, codes = _session(room, 1)
    _submit(room, sid, 0, codes[0], WEAK)
    room.close()
    stored = room.store.results(sid, 0)[1]
    stored["team"]["profit"] += 1.0  # as if the engine had changed since round 1
    with room.store.tx() as db:
        db.execute(
            "UPDATE results SET payload=? WHERE session=? AND round=1", (json.dumps(stored), sid)
        )
    again = _room(tmp_path)
    again.resume()
    assert "differs from the stored round 1" in again.state(sid)["note"]
    assert again.store.results(sid, 0)[1] == stored  # the stored results are kept


def test_a_round_that_fails_goes_back_to_open(tmp_path: Path, monkeypatch: Any) -> None:
    from analysis.classroom import game

    room = _room(tmp_path)
    sid, codes = _session(room, 2)
    _submit(room, sid, 0, codes[0], WEAK)

    def broken(self: game.TeamGame, decision: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("engine failure")

    monkeypatch.setattr(game.TeamGame, "play", broken)
    with pytest.raises(RuntimeError):
        _submit(room, sid, 1, codes[1], STRONG)
    assert _state(room, sid) == {"round": 1, "status": "open", "submitted": [0, 1], "note": ""}
    assert [len(room.store.results(sid, i)) for i in (0, 1)] == [1, 1]
    monkeypatch.undo()
    assert room.run_round(sid) is not None  # the trainer closes it again: it runs
    assert room.state(sid)["round"] == 2


def test_a_round_interrupted_by_a_stop_is_reopened_at_start_up(tmp_path: Path) -> None:
    room = _room(tmp_path)
    sid, codes = _session(room, 2)
    _submit(room, sid, 0, codes[0], WEAK)
    assert room.store.claim_round(sid, 1)  # the server stops while round 1 runs
    assert not room.store.claim_round(sid, 1)  # nobody else may start it meanwhile
    room.close()
    reader = Classroom(tmp_path / "c.sqlite", serve=False)  # a debrief: leaves it alone
    assert reader.interrupted == [] and reader.state(sid)["status"] == "running"
    again = _room(tmp_path)
    assert again.interrupted == [sid]
    assert _state(again, sid) == {"round": 1, "status": "open", "submitted": [0], "note": ""}
    _submit(again, sid, 1, codes[1], STRONG)
    assert again.state(sid)["round"] == 2
