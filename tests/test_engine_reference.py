"""Tier 2: the engine agrees with the reference statistics recorded from the engine of
an earlier commit (`tests/data/engine_reference.json`, made by
``python -m benchmarks.reference_statistics``; the file names its commit), and the
check is strong enough to notice a 10% change in one rate.

The same model computed differently must give the same distribution of outcomes, not
the same numbers. So the engine runs each of the reference's scenarios on seeds the
reference did not use (``SEEDS``), and every (scenario, outcome, checkpoint) becomes a
two-sample comparison of means:

    z = (mean_new − mean_ref) / sqrt(se_new² + se_ref²),

where the two standard errors come from the variance pooled over both samples (the
hypothesis under test is that they come from one distribution; a small sample's own
variance is a poor estimate, and zero whenever a discrete outcome such as a median lag
happens to repeat), so z is Student's two-sample t with n_ref + n_new − 2 degrees of
freedom, and its two-sided p-value is read from that t law.

**z < 4 after a Holm correction**: the family of all comparisons (all scenarios,
outcomes and checkpoints together, m of them) is tested with Holm's step-down procedure
at the family-wise level α = 2(1 − Φ(4)) ≈ 6.3·10⁻⁵, the two-sided level of |z| = 4
for a single comparison: the i-th smallest p-value is rejected while p₍ᵢ₎ ≤ α / (m − i
+ 1). The engine agrees when Holm rejects nothing. (Holm rejects something exactly when
the smallest p-value is at most α / m, so the verdict is Bonferroni's; Holm's steps name
every comparison that fails.) With m ≈ 600 and 38 degrees of freedom a single |z| has to
pass about 6.8 to fail the check.

An outcome that is not defined in every replication (a median lag before any such
event, in a scenario where it comes late) is two comparisons: how often it is defined
(Fisher's exact test on the 2 × 2 table of defined and empty replications; a rare
outcome found in 5 of 32 reference runs and in none of 8 new ones is no evidence of a
change), and its mean over the replications that have it, when each side has at least
two. Outcomes without variance in both samples and defined in every replication (a cell
on sale all run long, an event type a scenario never has) must agree exactly.

The power check runs `baseline` with its emergence rate raised by 10% (12 replications)
and shows that the same procedure, at the same family size, rejects it: on today's
engine the largest |z| (the share of served core needs) is about 10 against the 6.6 the
first Holm step needs. (A 10% faster activation is hardly visible in these outcomes,
since latent needs never lapse: its largest |z| is about 6 with 8 replications.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from scipy.stats import fisher_exact, norm
from scipy.stats import t as student

from benchmarks.reference_statistics import (
    COMMAND,
    CUSTOMERS,
    SCENARIOS,
    fingerprint,
    load,
    replicate,
    scenario,
)
from sim.engine import ENGINES

REPS = 8
SEEDS = tuple(range(10_001, 10_001 + REPS))  # none of the reference's
POWER_SEEDS = tuple(range(20_001, 20_013))  # 12: max |z| about 10 against 6.6 to pass
ALPHA = 2 * norm.sf(4)  # the two-sided level of |z| = 4

Stats = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class Comparison:
    """One (scenario, outcome) compared: z and its two-sided p-value (p = 0 for a
    deterministic outcome that differs, 1 for one that agrees)."""

    scenario: str
    key: str
    z: float
    p: float


def compare(name: str, ref: Stats, new: Stats) -> list[Comparison]:
    """Every outcome of one scenario, reference against new (see the module's text)."""
    assert set(new) == set(ref), (name, set(ref) ^ set(new))
    out = []
    for key, a in ref.items():
        b = new[key]
        n1, n2 = int(a["n"]), int(b["n"])
        e1, e2 = int(a["missing"]), int(b["missing"])
        if e1 or e2:  # defined in some replications only: how often it is defined
            p = float(fisher_exact([[n1, e1], [n2, e2]]).pvalue)
            z = math.copysign(norm.isf(p / 2), n2 / (n2 + e2) - n1 / (n1 + e1))
            out.append(Comparison(name, f"{key} defined", z, p))
            if n1 < 2 or n2 < 2:  # too few values on one side to compare their means
                continue
        ss = (n1 - 1) * n1 * _se2(a) + (n2 - 1) * n2 * _se2(b)  # sums of squares
        diff = b["mean"] - a["mean"]
        if ss == 0:
            if e1 or e2:  # a few values that happen to repeat: no variance to judge by
                continue
            same = math.isclose(b["mean"], a["mean"], rel_tol=1e-12, abs_tol=1e-12)
            out.append(Comparison(name, key, 0.0 if same else math.inf, 1.0 if same else 0.0))
            continue
        df = n1 + n2 - 2
        z = diff / math.sqrt(ss / df * (1 / n1 + 1 / n2))
        out.append(Comparison(name, key, z, float(2 * student.sf(abs(z), df))))
    return out


def _se2(s: Mapping[str, float]) -> float:
    """The squared standard error (0 for a single replication)."""
    return 0.0 if s["n"] < 2 else float(s["se"]) ** 2


def holm(comparisons: list[Comparison], family: int | None = None) -> list[Comparison]:
    """The comparisons Holm's step-down procedure rejects at family-wise level ``ALPHA``
    (``family``: the size of the family, when it is larger than the list given)."""
    m = family or len(comparisons)
    rejected = []
    for i, c in enumerate(sorted(comparisons, key=lambda c: c.p)):
        if c.p > ALPHA / (m - i):
            break
        rejected.append(c)
    return rejected


def _worst(comparisons: list[Comparison], k: int = 5) -> list[tuple[str, str, float]]:
    return [(c.scenario, c.key, round(c.z, 2)) for c in sorted(comparisons, key=lambda c: c.p)[:k]]


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    data = load()
    assert data["customers"] == CUSTOMERS
    assert not set(SEEDS) & set(data["seeds"])
    assert set(data["scenarios"]) == set(SCENARIOS)
    for name, rec in data["scenarios"].items():
        assert rec["fingerprint"] == fingerprint(scenario(name)), (
            f"{name} has changed since the reference was recorded at {data['commit']}: "
            f"record it again with `{COMMAND}`"
        )
    return data


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_engine_agrees_with_the_reference(reference: dict[str, Any], engine: str) -> None:
    comparisons = []
    for name in SCENARIOS:
        ref = reference["scenarios"][name]["outcomes"]
        comparisons += compare(name, ref, replicate(scenario(name), SEEDS, engine=engine))
    assert len(comparisons) > 400
    rejected = holm(comparisons)
    assert not rejected, _worst(rejected)


@pytest.mark.slow
def test_a_ten_percent_faster_emergence_is_flagged(reference: dict[str, Any]) -> None:
    """Power: `baseline` with ``demand.emergence_rate`` × 1.1, judged against its
    reference at the full family's size (as if the other scenarios agreed)."""
    family = sum(len(s["outcomes"]) for s in reference["scenarios"].values())
    base = scenario("baseline")
    faster = scenario("baseline", {"demand.emergence_rate": 1.1 * base.demand.emergence_rate})
    ref = reference["scenarios"]["baseline"]["outcomes"]
    comparisons = compare("baseline", ref, replicate(faster, POWER_SEEDS))
    rejected = holm(comparisons, family)
    assert rejected, _worst(comparisons)


def test_holm_steps_down() -> None:
    """Holm at level ALPHA over 3: the smallest p against ALPHA/3, the next against
    ALPHA/2, and it stops at the first that passes."""
    cs = [Comparison("s", k, 0.0, p) for k, p in (("a", ALPHA / 3), ("b", ALPHA / 2.5), ("c", 0.5))]
    assert [c.key for c in holm(cs)] == ["a", "b"]
    assert [c.key for c in holm(cs, family=4)] == []  # ALPHA/3 > ALPHA/4
    assert holm([Comparison("s", "a", 0.0, ALPHA / 3 * 1.01), *cs[1:]]) == []


def test_deterministic_outcomes_must_match_exactly() -> None:
    ref = {"x": {"n": 32, "missing": 0, "mean": 1.0, "se": 0.0}}
    same = {"x": {"n": 8, "missing": 0, "mean": 1.0, "se": 0.0}}
    other = {"x": {"n": 8, "missing": 0, "mean": 0.0, "se": 0.0}}
    assert compare("s", ref, same)[0].p == 1.0
    assert compare("s", ref, other)[0].p == 0.0


def test_how_often_an_outcome_is_defined_is_judged_by_its_counts() -> None:
    """A rare outcome (5 of 32 reference runs) missing from 8 new runs is no evidence of
    a change; one never seen in 32 runs but present in all 8 new ones is."""
    rare = {"x": {"n": 5, "missing": 27, "mean": 57.0, "se": 1.3}}
    gone = {"x": {"n": 0, "missing": 8, "mean": math.nan, "se": math.nan}}
    assert not holm(compare("s", rare, gone), family=600)
    never = {"x": {"n": 0, "missing": 32, "mean": math.nan, "se": math.nan}}
    always = {"x": {"n": 8, "missing": 0, "mean": 40.0, "se": 1.0}}
    assert holm(compare("s", never, always), family=600)
    assert compare("s", never, {"x": {**never["x"], "missing": 8}})[0].p == 1.0
    # a constant outcome defined everywhere must agree exactly
    one = {"x": {"n": 32, "missing": 0, "mean": 3.0, "se": 0.0}}
    other = {"x": {"n": 8, "missing": 0, "mean": 4.0, "se": 0.0}}
    assert holm(compare("s", one, other)) and not holm(compare("s", one, one))
