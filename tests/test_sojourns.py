"""Tier 1/2: how long a need stays in each state, against the closed forms of the demand
rule (docs/model.md §7.5, rates converted as in §7.1), on at least 10^6 sojourns each.

The rule is a per-step one: every step, a need in a state leaves it with a probability
that depends only on that state (and, for a served need, on the product's quality, its
age and the customer's satisfaction). So a sojourn in none, latent or active is
geometric: P(T = k) = (1 − p)^(k−1) p, p = 1 − exp(−rate / steps_per_year). A served
need meets, each step after ageing by one, failure with p_f = (offset − quality) ×
p_fail; then wear-out once its age reaches the lifetime; then churn with p_c; then an
upmarket move with 1 − exp(−h(age)), h(age) = (upmarket_rate / steps_per_year) ×
(1 + age_gain × age / steps_per_year) × max(1 + satisfaction_gain × (satisfaction −
0.5), 0). Its survival over k steps from age a₀ is therefore the product of those
per-step chances (a discrete Weibull-like law when age_gain > 0), every exit's share is
its hazard share, and no sojourn outlives the lifetime.

The tests run the whole model on markets where nothing but the demand rule moves a need
(no platform contacts, no sales: the outside option always wins), read the customers'
need states after every step (the ground truth, §2.1), and compare what they see with
the closed form in two ways: the hazard by time in the state (exits over needs at risk,
which censoring at the horizon does not bias), and the exits' times and causes against
their unconditional probabilities. Tolerances: a pooled rate within 4 standard errors
of its closed form, and chi-square statistics whose p-value is above 10^-4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from scipy.stats import chi2

from sim import DemandModel
from sim.engine import ENGINES
from sim.scenario import build_scenario
from sim.state import ACTIVE, LATENT, NONE, SERVED
from tests.helpers import NO_DEFECTS

pytestmark = pytest.mark.slow  # two markets of 10^6 needs: about 25 s of one core

SPY = 52  # steps a year: a rate r per year is p = 1 − exp(−r / 52) per step
P_FLOOR = 1e-4  # the smallest chi-square p-value accepted


def per_step(rate: float) -> float:
    """docs/model.md §7.1: an annual hazard as a probability per step."""
    return float(-np.expm1(-rate / SPY))


def _market(n: int, categories: list[dict[str, Any]], demand: dict[str, Any], seg: dict) -> Any:
    """A market where only the demand rule moves needs: no platform contacts, no word of
    mouth, and an outside option no offer can beat."""
    return build_scenario(
        {
            "run": {"name": "sojourns", "customers": n, "warmup_weeks": 0, "steps_per_year": SPY},
            "categories": categories,
            "segments": [{"name": "all", "share": 1.0, **seg}],
            "demand": demand,
            "network": {"kind": "mean-field"},
            "wom": {"q": 0.0},
            "choice": {"outside_utility": 1000.0},
            "focal": {
                "products": [{"category": c["name"], "tier": c["tiers"][0]} for c in categories],
                "platform": {"coverage": 0.0},
                "strategy": {"enabled": False},
                "chain": NO_DEFECTS,
            },
            "competitors": [],
        }
    )


@dataclass
class Hazards:
    """Exits against needs at risk, by group: observed exits, and the expected exits and
    their variance from each need's closed-form probability."""

    groups: int
    observed: np.ndarray = field(init=False)
    at_risk: np.ndarray = field(init=False)
    expected: np.ndarray = field(init=False)
    variance: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.observed = np.zeros(self.groups)
        self.at_risk = np.zeros(self.groups)
        self.expected = np.zeros(self.groups)
        self.variance = np.zeros(self.groups)

    def add(self, group: np.ndarray, exited: np.ndarray, p: np.ndarray) -> None:
        """Needs at risk this step: their group, whether they left, their chance to."""
        g = self.groups
        self.observed += np.bincount(group, weights=exited.astype(np.float64), minlength=g)
        self.at_risk += np.bincount(group, minlength=g)
        self.expected += np.bincount(group, weights=p, minlength=g)
        self.variance += np.bincount(group, weights=p * (1 - p), minlength=g)

    def z(self) -> float:
        """Standardized difference of all exits from their expectation."""
        return float((self.observed.sum() - self.expected.sum()) / np.sqrt(self.variance.sum()))

    def chi2_p(self, min_expected: float = 20.0) -> tuple[float, int]:
        """p-value of sum((O − E)² / V) over the groups with at least ``min_expected``
        expected exits and non-degenerate variance (chi-square, one degree a group)."""
        use = (self.expected >= min_expected) & (self.variance > 0)
        stat = float((((self.observed - self.expected) ** 2)[use] / self.variance[use]).sum())
        df = int(use.sum())
        return float(chi2.sf(stat, df)), df

    def check(self, what: str) -> None:
        p, df = self.chi2_p()
        assert df > 0, what
        assert abs(self.z()) < 4, (what, self.z())
        assert p > P_FLOOR, (what, p, df)


# ------------------------------------------------------------- none, latent, active

CYCLE_CUSTOMERS, CYCLE_CATEGORIES, CYCLE_STEPS = 250_000, 4, 40
RATES = {"emergence_rate": 10.4, "activation_rate": 7.8, "expiry_rate": 5.2}
#: the state each open state leaves to, and the rate it leaves with
NEXT = {NONE: LATENT, LATENT: ACTIVE, ACTIVE: NONE}
RATE_OF = {NONE: "emergence_rate", LATENT: "activation_rate", ACTIVE: "expiry_rate"}
MAX_DURATION = 12  # durations grouped 1 .. 12, then 13 and more; 0 is "since step 0"


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each engine of the rules (``sim.engine``): the same closed forms hold for both."""
    return str(request.param)


@pytest.fixture(scope="module")
def cycle(engine: str) -> dict[int, Hazards]:
    """Needs cycling none → latent → active → none (nothing is ever sold). Per state:
    exits by time in the state (group 0 for sojourns under way at step 0, whose start is
    unknown; group k for sojourns that began k steps before)."""
    cats = [
        {"name": f"c{i}", "tiers": ["only"], "prices": [1.0], "qualities": [0.8]}
        for i in range(CYCLE_CATEGORIES)
    ]
    shares = {"initial_served": 0.0, "initial_active": 1 / 3, "initial_latent": 1 / 3}
    sc = _market(CYCLE_CUSTOMERS, cats, {**shares, **RATES}, {"tier_mix": [1.0]})
    model = DemandModel(sc, rng=7, engine=engine)
    need = model.state.need.ravel().copy()
    tier0 = model.state.tier.copy()
    entered = np.full(need.shape, -1, dtype=np.int64)  # -1: under way at step 0
    g = MAX_DURATION + 2
    out = {s: Hazards(g) for s in NEXT}
    p_of = np.zeros(4)
    follows = np.full(4, -1)
    follows[list(NEXT)] = list(NEXT.values())
    for s, rate in RATE_OF.items():
        p_of[s] = per_step(RATES[rate])
    for t in range(1, CYCLE_STEPS + 1):
        model.step()
        now = model.state.need.ravel().copy()
        assert (now != SERVED).all()
        moved = now != need
        assert (now[moved] == follows[need[moved]]).all()  # only to the next state
        k = np.where(entered < 0, 0, np.minimum(t - entered, MAX_DURATION + 1))
        for s in NEXT:
            at = need == s
            out[s].add(k[at], moved[at], np.full(int(at.sum()), p_of[s]))
        entered[moved] = t
        need = now
    assert (model.state.tier == tier0).all()  # nothing moves a desired tier here
    return out


@pytest.mark.parametrize("state", [NONE, LATENT, ACTIVE], ids=["emergence", "activation", "expiry"])
def test_open_needs_leave_their_state_at_a_constant_hazard(
    cycle: dict[int, Hazards], state: int
) -> None:
    """Emergence, activation and expiry: geometric sojourns, the same per-step hazard
    whatever the time already spent in the state."""
    h = cycle[state]
    assert h.observed.sum() >= 1_000_000, h.observed.sum()  # completed sojourns
    h.check(RATE_OF[state])
    # the hazard is flat in the time spent: each duration alone within 4 SE
    p = per_step(RATES[RATE_OF[state]])
    rate = h.observed / np.maximum(h.at_risk, 1)
    se = np.sqrt(p * (1 - p) / np.maximum(h.at_risk, 1))
    big = h.at_risk > 10_000
    assert big.sum() >= 5
    assert (np.abs(rate - p)[big] < 4 * se[big]).all(), (rate[big], p)


@pytest.mark.parametrize("state", [NONE, LATENT, ACTIVE], ids=["emergence", "activation", "expiry"])
def test_open_sojourns_are_geometric(cycle: dict[int, Hazards], state: int) -> None:
    """The sojourns that began in the run, read as a law of times: P(T > k) = (1 − p)^k,
    estimated by Kaplan–Meier (the product of the per-duration survivals, which the
    horizon's censoring does not bias) within 4 standard errors (delta method) at every
    k up to 12 steps."""
    h = cycle[state]
    p = per_step(RATES[RATE_OF[state]])
    k = np.arange(1, MAX_DURATION + 1)
    surv = np.cumprod(1 - h.observed[k] / h.at_risk[k])
    closed = (1 - p) ** k
    # Var S(k) ≈ S(k)² Σ_j p / ((1 − p) n_j), n_j the sojourns at risk at duration j
    se = closed * np.sqrt(np.cumsum(p / ((1 - p) * h.at_risk[k])))
    assert (np.abs(surv - closed) < 4 * se).all(), (surv, closed, se)


# ------------------------------------------------------------------- served needs

SERVED_CUSTOMERS, LIFETIME = 250_000, 40
QUALITIES = (0.3, 0.6, 0.9, 1.0)  # one category each; the failure hazard scales with 1.5 − q
SERVED_RATES = {"failure_rate": 2.6, "churn_rate": 1.3, "upmarket_rate": 2.6}
AGE_GAIN, SAT_GAIN, OFFSET = 2.0, 1.0, 1.5
REPLACED, CHURNED, MOVED = 0, 1, 2  # the exits a need's state tells apart
CAUSES = ("failure or wear-out", "churn", "upmarket move")


@dataclass
class ServedRun:
    """What a market of served needs showed: each need's category, starting age and
    satisfaction; the step each left the served state (0: never) and why."""

    cat: np.ndarray
    age0: np.ndarray
    sat: np.ndarray
    left: np.ndarray
    cause: np.ndarray


def _served_run(engine: str) -> ServedRun:
    """Every need served at step 0 by a firm that sells only the lower of two tiers: an
    upmarket move leaves the need unserved, so each exit shows in the state. Run until
    every need has worn out at the latest."""
    cats = [
        {
            "name": f"q{int(q * 10)}",
            "tiers": ["base", "up"],
            "prices": [1.0, 1.0],
            "qualities": [q, q],
            "lifetime_weeks": LIFETIME,
            "failure_rate": SERVED_RATES["failure_rate"],
        }
        for q in QUALITIES
    ]
    demand = {
        "initial_served": 1.0,
        "initial_active": 0.0,
        "initial_latent": 0.0,
        "emergence_rate": 0.0,
        "expiry_rate": 0.0,
        "churn_rate": SERVED_RATES["churn_rate"],
        "age_gain": AGE_GAIN,
        "satisfaction_gain": SAT_GAIN,
        "failure_quality_offset": OFFSET,
    }
    seg = {"tier_mix": [1.0, 0.0], "upmarket_rate": SERVED_RATES["upmarket_rate"]}
    model = DemandModel(_market(SERVED_CUSTOMERS, cats, demand, seg), rng=3, engine=engine)
    st = model.state
    assert (st.need == SERVED).all() and (st.held == 0).all() and (st.tier == 0).all()
    n, C = st.need.shape
    cat = np.broadcast_to(np.arange(C), (n, C)).ravel().copy()
    run = ServedRun(
        cat=cat,
        age0=st.age.ravel().astype(np.int64),
        sat=st.satisfaction.ravel().astype(np.float64),
        left=np.zeros(n * C, np.int64),
        cause=np.full(n * C, -1, np.int64),
    )
    # held tier = desired tier: satisfaction is the quality held (§7.5)
    assert np.allclose(run.sat, np.asarray(QUALITIES)[cat], atol=1e-6)
    served = np.ones(n * C, bool)
    for t in range(1, LIFETIME + 1):
        model.step()
        need, sup, tier = st.need.ravel(), st.supplier.ravel(), st.tier.ravel()
        assert (need[~served] != SERVED).all()  # nothing is sold here
        out = served & (need != SERVED)
        run.left[out] = t
        run.cause[out] = np.where(sup[out] < 0, CHURNED, np.where(tier[out] > 0, MOVED, REPLACED))
        served &= ~out
    assert not served.any()  # every need wore out by its lifetime at the latest
    return run


def _hazards(run: ServedRun, t: int) -> np.ndarray:
    """(needs, 3): the closed-form chance that each need leaves at step t by each cause,
    given it was still served: failure first, then wear-out, churn, an upmarket move."""
    q = np.asarray(QUALITIES)[run.cat]
    p_fail = (OFFSET - q) * per_step(SERVED_RATES["failure_rate"])
    age = run.age0 + t  # a served need ages by one step before the rule
    p_rep = np.where(age >= LIFETIME, 1.0, p_fail)
    p_c = per_step(SERVED_RATES["churn_rate"])
    h = (
        SERVED_RATES["upmarket_rate"]
        / SPY
        * (1 + AGE_GAIN * age / SPY)
        * np.maximum(1 + SAT_GAIN * (run.sat - 0.5), 0)
    )
    return np.stack([p_rep, (1 - p_rep) * p_c, (1 - p_rep) * (1 - p_c) * -np.expm1(-h)], axis=1)


BAND, BANDS = 5, 8  # age bands of 5 steps: 0-4, ..., 35 and more
TIME_BANDS = 10  # exit steps in bands of 4: 1-3, 4-7, ..., 36-40


@dataclass
class ServedTables:
    """The run, and what the closed form expects of it: per cause, the conditional
    hazards by (category, age band); the unconditional exits by (step band, cause);
    each need's chance of each cause and the first two moments of its exit step."""

    run: ServedRun
    hazards: list[Hazards]
    expected: np.ndarray  # (TIME_BANDS, 3)
    share: np.ndarray  # (needs, 3)
    mean_t: np.ndarray  # (needs,)
    second_t: np.ndarray  # (needs,)


@pytest.fixture(scope="module")
def served(engine: str) -> ServedTables:
    run = _served_run(engine)
    n = run.left.size
    hz = [Hazards(len(QUALITIES) * BANDS) for _ in CAUSES]
    surv = np.ones(n)
    tab = ServedTables(
        run, hz, np.zeros((TIME_BANDS, 3)), np.zeros((n, 3)), np.zeros(n), np.zeros(n)
    )
    for t in range(1, LIFETIME + 1):
        p = _hazards(run, t)
        at = (run.left == 0) | (run.left >= t)  # still served before step t
        group = run.cat[at] * BANDS + np.minimum((run.age0[at] + t) // BAND, BANDS - 1)
        for c in range(len(CAUSES)):
            hz[c].add(group, (run.left[at] == t) & (run.cause[at] == c), p[at, c])
        joint = p * surv[:, None]  # P(T = t, cause), from each need's own start
        tab.expected[min(t // 4, TIME_BANDS - 1)] += joint.sum(axis=0)
        tab.share += joint
        tab.mean_t += t * joint.sum(axis=1)
        tab.second_t += t * t * joint.sum(axis=1)
        surv -= joint.sum(axis=1)
    assert np.allclose(surv, 0, atol=1e-12)  # nobody outlives the lifetime
    return tab


def test_enough_served_sojourns(served: ServedTables) -> None:
    assert served.run.left.size >= 1_000_000
    assert (served.run.left >= 1).all()


def test_failure_hazard_scales_with_the_quality_held(served: ServedTables) -> None:
    """Failure: p_f = (offset − quality) × p_fail a step, constant in age until the
    lifetime, where failure or wear-out is certain; by category (a quality each) and
    age band. And the pooled rate of each category before the wear-out step."""
    served.hazards[REPLACED].check("failure")
    run = served.run
    before = run.left < LIFETIME - run.age0  # left before the wear-out step, by any cause
    for c, q in enumerate(QUALITIES):
        mine = run.cat == c
        # steps at risk before the wear-out step: up to the exit, or all of them
        steps = np.where(before, run.left, LIFETIME - run.age0 - 1)[mine].sum()
        fails = (before & (run.cause == REPLACED))[mine].sum()
        p = (OFFSET - q) * per_step(SERVED_RATES["failure_rate"])
        assert abs(fails / steps - p) < 4 * np.sqrt(p * (1 - p) / steps), (q, fails / steps, p)


def test_wear_out_ends_every_sojourn_at_the_lifetime(served: ServedTables) -> None:
    """No served need outlives its lifetime: one starting at age a₀ (uniform in [0,
    lifetime), §5) has left by step lifetime − a₀; at that step failure or wear-out
    comes first, so every survivor is replaced."""
    run = served.run
    due = LIFETIME - run.age0
    assert (run.age0 >= 0).all() and (run.age0 < LIFETIME).all()
    assert (run.left <= due).all()
    at_due = run.left == due
    assert (run.cause[at_due] == REPLACED).all()
    assert at_due.sum() > 100_000  # the lifetime is a real exit here


def test_churn_hazard_is_constant(served: ServedTables) -> None:
    """Churn, among needs that neither failed nor wore out this step: p_c, whatever the
    category or age."""
    served.hazards[CHURNED].check("churn")


def test_upmarket_survival_follows_the_age_and_satisfaction_hazard(
    served: ServedTables,
) -> None:
    """Upmarket moves: 1 − exp(−h(age)) a step, h growing linearly with age and scaled
    by satisfaction (here the quality held: one satisfaction a category), so the survival
    from age a₀ over k steps is exp(−Σ_{j=1..k} h(a₀ + j)); by category and age band."""
    hz = served.hazards[MOVED]
    hz.check("upmarket")
    # the hazard does grow with age (about twice as high at ages 30-34 as at 0-4; the
    # last band holds the wear-out step, where no need moves)
    rate = hz.observed.reshape(-1, BANDS).sum(axis=0) / hz.at_risk.reshape(-1, BANDS).sum(axis=0)
    assert rate[-2] > 1.6 * rate[0], rate


def test_competing_risks_times_and_shares(served: ServedTables) -> None:
    """The unconditional law of (time, cause): P(T = k, cause) = S(k − 1) × π_cause(k),
    S the product of the per-step survivals, summed over the needs' own starting ages and
    satisfactions. Pearson chi-square over (step band, cause); each cause's share of the
    exits and the mean time to exit within 4 SE of their closed forms."""
    run, tab = served.run, served
    observed = np.zeros((TIME_BANDS, 3))
    np.add.at(observed, (np.minimum(run.left // 4, TIME_BANDS - 1), run.cause), 1)
    use = tab.expected > 20
    stat = (((observed - tab.expected) ** 2)[use] / tab.expected[use]).sum()
    assert chi2.sf(stat, use.sum() - 1) > P_FLOOR, (observed, tab.expected)
    for c, name in enumerate(CAUSES):  # a sum of independent Bernoullis, one a need
        got = (run.cause == c).sum()
        se = np.sqrt((tab.share[:, c] * (1 - tab.share[:, c])).sum())
        assert abs(got - tab.share[:, c].sum()) < 4 * se, (name, got, tab.share[:, c].sum())
    var = (tab.second_t - tab.mean_t**2).sum()
    assert abs(run.left.sum() - tab.mean_t.sum()) < 4 * np.sqrt(var), (
        run.left.mean(),
        tab.mean_t.mean(),
    )
