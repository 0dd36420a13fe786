"""Tier 2: the engine pairs two runs that differ in one platform setting as strongly as
the engine of an earlier commit did (`tests/data/pairing_reference.json`, made by
``python -m benchmarks.pairing_reference``; the file names its commit).

After an engine switch this is the "pairing at least as strong as today" check: random
numbers stay addressed (docs/model.md §7.2), so the flagship pair (`baseline` against
`insensitive-platform`) must still share its customers' own random events. The fast
part checks the file is well formed and recorded from today's scenarios; the slow part
runs the flagship pair on seeds the reference did not use (``SEEDS``) and compares:

- the share of paired needs in the same state at the end, a mean over seeds with a
  standard error: z = (new − ref) / sqrt(se_new² + se_ref²);
- each key outcome's CRN variance ratio Var(B − A) / (Var(A) + Var(B)), with the
  bootstrap standard errors over seeds of both sides in place of se.

Each |z| must stay below 4. A variance ratio from 8 or 16 seeds is skewed and its
bootstrap standard error is itself rough (it tends to understate the spread in small
samples), so the bound is wide on purpose: 7 comparisons at |z| < 4 fail by chance
with probability below 10⁻³ even if the bootstrap understates the spread by a fifth.
The ratios are weak evidence at this size (today's flagship profit ratio is about
0.23 ± 0.12); the same-state share (standard error under 0.1 percentage point) is
the sharp one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks import pairing_reference as pr
from sim.engine import ENGINES

REPS = 8
SEEDS = tuple(range(30_001, 30_001 + REPS))  # none of the reference's
Z = 4.0


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    data = pr.load()
    assert not set(SEEDS) & set(data["seeds"])
    for name, rec in data["pairs"].items():
        sa, sb = pr.sides(pr.PAIR_BY_NAME[name], data["customers"], data["steps"])
        assert (rec["fingerprint_a"], rec["fingerprint_b"]) == (
            pr.fingerprint(sa),
            pr.fingerprint(sb),
        ), (
            f"pair {name} has changed since the reference was recorded at {data['commit']}: "
            f"record it again with `{pr.COMMAND}`"
        )
    return data


def test_the_reference_is_well_formed(reference: dict[str, Any]) -> None:
    n = reference["replications"]
    assert reference["seeds"] == list(range(1, n + 1))
    assert set(reference["pairs"]) == {p.name for p in pr.PAIRS}
    for rec in reference["pairs"].values():
        assert set(rec["ratios"]) == set(pr.OUTCOMES)
        for r in rec["ratios"].values():
            assert math.isfinite(r["ratio"]) and r["ratio"] >= 0
            assert math.isfinite(r["bootstrap_se"]) and r["bootstrap_se"] > 0
        s = rec["same_state"]
        assert len(s["per_seed"]) == n
        assert all(0 <= v <= 1 for v in s["per_seed"])
        assert s["mean"] == pytest.approx(float(np.mean(s["per_seed"])), abs=1e-6)
        assert 0 < s["se"] < 0.05


def test_an_unknown_pair_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ref.json"
    assert pr.main(["--out", str(out), "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'nope'" in err[0] and "flagship" in err[0]
    assert not out.exists()


def _z(new: float, se_new: float, ref: float, se_ref: float) -> float:
    return (new - ref) / math.sqrt(se_new**2 + se_ref**2)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_the_flagship_pair_pairs_as_strongly_as_the_reference(
    reference: dict[str, Any], engine: str
) -> None:
    rec = reference["pairs"]["flagship"]
    sa, sb = pr.sides(pr.PAIR_BY_NAME["flagship"], reference["customers"], reference["steps"])
    runs = [pr.run_pair(sa, sb, s, engine) for s in SEEDS]
    same = np.array([r[2] for r in runs])
    ref = rec["same_state"]
    zs = {"same_state": _z(same.mean(), same.std(ddof=1) / math.sqrt(REPS), ref["mean"], ref["se"])}
    for key in pr.OUTCOMES:
        a = [r[0].get(key, math.nan) for r in runs]
        b = [r[1].get(key, math.nan) for r in runs]
        old = rec["ratios"][key]
        zs[key] = _z(pr.ratio(a, b), pr.bootstrap_se(a, b), old["ratio"], old["bootstrap_se"])
    assert all(math.isfinite(z) for z in zs.values()), zs
    assert max(abs(z) for z in zs.values()) < Z, {k: round(z, 2) for k, z in zs.items()}
