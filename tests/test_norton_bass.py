"""Two product generations (``categories.N.supersedes``) under mean-field mixing with
one firm follow the Norton–Bass (1987) curves S1 = m1 F1 (1 - F2),
S2 = F2 (m2 + m1 F1), after the earlier generation has spread and while it is still
spreading (the two-clock rule of ``sim.generations``); the same runs reject the curves
when substitution is off or the introduction date is off by one step, so the check has
power."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.fit.diffusion import norton_bass_discrete
from sim import DemandModel
from sim.state import SERVED

N, REPS, Z = 5000, 16, 4.0
P, Q = 0.03, 0.4  # scenario norton-bass-check: focal.platform.density, wom.q
CHECKPOINTS = np.arange(0, 61, 3)


def served_shares(overrides: dict[str, object], steps: int) -> np.ndarray:
    """Share of customers served in each category at steps 0 .. steps, per replication:
    shape (REPS, C, steps + 1)."""
    out = []
    for r in range(REPS):
        model = DemandModel(
            "norton-bass-check", rng=500 + r, overrides={"run.customers": N, **overrides}
        )
        path = [(model.state.need == SERVED).mean(axis=0)]
        for _ in range(steps):
            model.step()
            path.append((model.state.need == SERVED).mean(axis=0))
        out.append(np.array(path).T)
    return np.array(out)


def z_scores(paths: np.ndarray, expected: np.ndarray, at: np.ndarray) -> np.ndarray:
    """|mean - expected| in standard errors at the checkpoints ``at``, for each
    generation. The standard error is that of the mean over replications, at least
    the binomial one of N * REPS customers (never zero once the curve is saturated);
    the 2/N allowed besides is the O(1/N) gap between E[f(S)] and f(E[S]) of a
    recursion that is not linear (as in test_bass)."""
    mean = paths.mean(axis=0)[:, at]
    exp = expected[:, at]
    binom = np.sqrt(np.clip(exp * (1 - exp), 1.0 / N, None) / (N * REPS))
    se = np.maximum(paths.std(axis=0, ddof=1)[:, at] / np.sqrt(REPS), binom)
    return np.maximum(np.abs(mean - exp) - 2.0 / N, 0.0) / se


def test_two_generations_follow_norton_bass() -> None:
    # m1 = 1, m2 = 0: every customer needs generation 1 from step 0; generation 2 is
    # on sale from step 31, so its first adopters arrive at step 31 = tau2 + 1, as the
    # first adopters of generation 1 arrive at step 1 (F(1) = p)
    steps, tau2 = 60, 30
    paths = served_shares({}, steps)
    expected = norton_bass_discrete(P, Q, [1.0, 0.0], [0, tau2], steps)
    z = z_scores(paths, expected, CHECKPOINTS)
    assert z.max() <= Z, z.round(1)
    mean = paths.mean(axis=0)
    # substitution happened: generation 1 rose near saturation, then fell away
    assert mean[0, tau2] > 0.95 and mean[0, -1] < 0.05
    assert mean[1, -1] > 0.95
    # power: the same runs reject a curve introduced one step later, and the curves
    # of a market where generation 2 does not substitute for generation 1
    late = norton_bass_discrete(P, Q, [1.0, 0.0], [0, tau2 + 1], steps)
    assert z_scores(paths, late, CHECKPOINTS).max() > 3 * Z
    kept = served_shares({"categories.1.supersedes": ""}, steps)
    assert z_scores(kept, expected, CHECKPOINTS)[0].max() > 3 * Z
    assert kept.mean(axis=0)[0, -1] > 0.95  # without the rule nobody leaves generation 1


# Generations that overlap: the later one on sale well before the earlier takes off
# (tau2 against the peak of F1 at ln(q1/p1)/(p1 + q1), about 7.6 and 5.6 steps), one
# case with m2/m1 above 1 and one below, p and q unequal between the generations. The
# earlier generation's Bass q is wom.q times its market's share (Bass's q/m), so
# wom.q = q1/m1; the later one's are its own awareness_p and awareness_q.
OVERLAP = {
    "m2 > m1": dict(m1=0.3, m2=0.5, p1=0.03, q1=0.25, p2=0.05, q2=0.5, tau2=5, steps=50),
    "m2 < m1": dict(m1=0.7, m2=0.2, p1=0.02, q1=0.5, p2=0.04, q2=0.3, tau2=3, steps=40),
}


def overlap_overrides(case: dict[str, float]) -> dict[str, object]:
    return {
        "demand.initial_active": case["m1"],
        "categories.1.own_market": case["m2"],
        "focal.platform.density": case["p1"],
        "wom.q": case["q1"] / case["m1"],
        "categories.1.awareness_p": case["p2"],
        "categories.1.awareness_q": case["q2"],
        "focal.products.1.launch_week": int(case["tau2"]) + 1,
        "run.steps": int(case["steps"]),
    }


def overlap_curves(case: dict[str, float], tau2: int) -> np.ndarray:
    return norton_bass_discrete(
        [case["p1"], case["p2"]], [case["q1"], case["q2"]], [case["m1"], case["m2"]],
        [0, tau2], int(case["steps"]),
    )  # fmt: skip


@pytest.mark.parametrize("name", list(OVERLAP))
def test_overlapping_generations_follow_norton_bass(name: str) -> None:
    # a customer of generation 1's market leapfrogs when it is aware of generation 2
    # before it is ready, and upgrades when ready first; generation 2's own market buys
    # once aware: S1 = m1 F1 (1 - F2), S2 = F2 (m2 + m1 F1) at every checkpoint
    case = OVERLAP[name]
    steps, tau2 = int(case["steps"]), int(case["tau2"])
    paths = served_shares(overlap_overrides(case), steps)
    at = np.arange(0, steps + 1, 2)
    expected = overlap_curves(case, tau2)
    z = z_scores(paths, expected, at)
    assert z.max() <= Z, z.round(1)
    gap = np.abs(paths.mean(axis=0) - expected)[:, at]
    assert gap.max() <= 0.01, gap.max()
    # generation 2 reached beyond generation 1's market
    assert paths.mean(axis=0)[1, -1] > case["m1"] + 0.9 * case["m2"]
    # power: the same runs reject the curves of a launch one step later
    late = overlap_curves(case, tau2 + 1)
    assert z_scores(paths, late, at).max() > 2 * Z


@pytest.mark.parametrize("kind", ["mean-field", "watts-strogatz"])
def test_generations_keep_the_counts_and_the_invariants(kind: str) -> None:
    # a full demand process around the two generations (emergence, lapses, failures,
    # churn, warm-up): the kept tallies stay equal to a recount, no customer is served
    # in both generations, and the earlier generation's demand does fall
    from sim.counts import cell_counts, served_by
    from sim.state import ACTIVE

    model = DemandModel(
        "norton-bass-check",
        rng=3,
        overrides={
            "run.customers": 400,
            "run.warmup_weeks": 5,
            "demand.initial_active": 0.5,
            "demand.emergence_rate": 2.0,
            "demand.activation_rate": 6.0,
            "demand.expiry_rate": 3.0,
            "demand.churn_rate": 1.0,
            "categories.0.failure_rate": 3.0,
            "categories.1.failure_rate": 3.0,
            "focal.products.1.launch_week": 10,
            "categories.1.own_market": 0.3,
            "network.kind": kind,
        },
    )
    st = model.state
    before = (st.need[:, 0] != 0).sum()
    for _ in range(40):
        model.step()
        st.check()
        tally = model.work.tally
        assert (tally.cells == cell_counts(st.tier, st.need, ACTIVE, tally.cells.shape[1])).all()
        assert (tally.served == served_by(st.need, st.supplier, len(model.firm_list))).all()
        assert not ((st.need[:, 0] != 0) & (st.need[:, 1] == SERVED)).any()
    assert (st.need[:, 1] == SERVED).sum() > 0
    assert (st.need[:, 0] != 0).sum() < before
    assert model.generations.aware[:, 1].mean() > 0.5


def test_calibration_starts_from_the_norton_bass_fit_of_the_generations() -> None:
    """Observed adopters of each generation (the ``adopters_<category>`` columns the
    model writes for a product line) are fitted with the Norton-Bass curves, and the
    fit's p and q map back to the density and word of mouth that made the data."""
    from analysis.fit.calibrate import bass_start
    from analysis.fit.calibration_spec import CalibrationSpec
    from sim import load_scenario

    truth = {"focal.platform.density": 0.02, "wom.q": 0.3}
    # both generations with the same p and q, as the Norton-Bass fit assumes
    same = {"categories.1.awareness_p": 0.02, "categories.1.awareness_q": 0.3}
    sc = load_scenario("norton-bass-check", overrides={"run.customers": 3000, **truth, **same})
    ts = DemandModel(sc, rng=11).run(60).datacollector.get_model_vars_dataframe()
    observed = ts[["step", "adopters_core", "adopters_core-2"]]
    spec = CalibrationSpec(
        base=sc.to_dict(), replications=1, seed=1, trials=1, confidence=0.9,
        sampler="random", refine=0, parameters=(), source={},
    )  # fmt: skip
    start = bass_start(observed, spec)
    assert start["curve"] == "norton-bass" and start["tau"] == [0, 30]
    for field, value in truth.items():
        assert abs(start["mapped"][field] / value - 1) < 0.25, (field, start["mapped"])
    m1, m2 = start["m"]
    assert abs(m1 / 3000 - 1) < 0.05 and m2 < 0.05 * 3000
    # one generation alone is a Bass start
    assert bass_start(ts[["step", "adopters"]], spec)["curve"] == "bass"
