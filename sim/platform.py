"""The marketing platform (seed 004; DESIGN §2): coverage, density, strength,
targeting — and the records it keeps.

Each step every firm contacts some of the customers in its platform: with
"homogeneous group" targeting each covered customer with probability ``density``;
with "personalized" targeting the same expected number of contacts is spread by
the records, a customer whose record shows an open need (latent or active)
weighing ``focus`` times one whose record does not. A contact refreshes the
record: each fact is read correctly with probability ``strength`` and reaches the
records unless the feedback link fails. A contact to a customer with an active
need also carries an offer, which reaches the customer unless the
needs-identification or product-communication link fails.

Draws per firm per step are fixed-shape (one uniform per customer for the
contact, one per customer and category for the read and for the offer's links),
so changing one firm's parameters moves no other process's random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.firms import CONTACT_LINKS, LINK, FirmAgent, Records
from sim.rng import uniform_f32_at
from sim.state import ACTIVE, LATENT, CustomerState


@dataclass
class Contacts:
    """One firm's contacts this step."""

    p: np.ndarray | None  # (N,) contact probability (None: ``table[kind]``)
    contacted: np.ndarray  # (N,) bool
    offered: np.ndarray  # (N, C) bool: an offer reached a customer with an active need
    read_ok: np.ndarray  # flat (customer*C + category) positions whose facts reached the records
    kind: np.ndarray | None = None  # (N,) uint8 contact kind (the compiled rules)
    table: np.ndarray | None = None  # (3,) float32 contact probability per kind
    offered_at: np.ndarray | None = None  # flat positions of ``offered`` (the compiled rules)


def init_records(firm: FirmAgent, state: CustomerState, coverage_u: np.ndarray) -> Records:
    """Build the platform at step 0: covered customers' records hold the truth."""
    p = firm.spec.platform
    eligible = firm.std_segments[state.segment]
    covered = eligible & (coverage_u < p.coverage)
    own = (state.supplier == firm.index).any(axis=1) & (state.need == 3).any(axis=1)
    known = covered | own
    need = np.where(known[:, None], state.need, 0).astype(np.int8)
    tier = np.where(known[:, None], state.tier, 0).astype(np.int8)
    sup = np.where(known[:, None], state.supplier, -1).astype(np.int8)
    seen = np.where(known, 0, -1).astype(np.int32)
    return Records(covered=covered, known=known, need=need, tier=tier, supplier=sup, seen=seen)


def contact_table(firm: FirmAgent, n_cov: int, n_open: int, kind: np.ndarray) -> np.ndarray:
    """(3,) float32 contact probability of a customer by kind: 0 not covered, 1 covered,
    2 covered with a believed open need in the standard (``kind`` is the (N,) uint8
    array of kinds, ``n_cov`` and ``n_open`` the customers of kinds 1-2 and 2)."""
    p = firm.spec.platform
    if n_cov == 0 or p.density == 0:
        return np.zeros(3, dtype=np.float32)
    if p.targeting == "homogeneous":  # kinds 1 and 2 alike
        return np.array([0.0, p.density, p.density], dtype=np.float32)
    # covered customers weigh 1, or ``focus`` with a believed open need; the same
    # expected number of contacts as homogeneous targeting
    if float(p.focus).is_integer() and n_cov * p.focus < 2**52:
        total = float(n_cov - n_open) + p.focus * n_open  # exact, as the pairwise sum is
    else:
        total = float(np.choose(kind, [0.0, 1.0, p.focus]).sum())
    scale = p.density * n_cov / total
    return np.minimum(np.array([0.0, 1.0, p.focus]) * scale, 1.0).astype(np.float32)


def contact_probability(firm: FirmAgent, rec: Records) -> np.ndarray:
    """Per-customer chance of a contact this step, from the records only."""
    p = firm.spec.platform
    n = rec.covered.size
    n_cov = int(np.count_nonzero(rec.covered))
    kind = rec.covered.view(np.uint8)
    n_open = 0
    if n_cov and p.density and p.targeting != "homogeneous":
        is_open = rec.need.view(np.uint8) - np.uint8(LATENT) < 2  # LATENT or ACTIVE: (N, C)
        open_need = np.zeros(n, dtype=bool)
        for c in np.flatnonzero(firm.std_cells.any(axis=1)):
            open_need |= is_open[:, c]
        open_need &= rec.covered
        n_open = int(np.count_nonzero(open_need))
        kind = kind + open_need.view(np.uint8)
    # a table look-up is several times faster than nested np.where on scalars
    return np.take(contact_table(firm, n_cov, n_open, kind), kind)


def platform_step(
    firm: FirmAgent,
    state: CustomerState,
    now: int,
    rng: np.random.Generator,
) -> Contacts:
    """Contacts, record refreshes and offers of one firm for one step."""
    rec = firm.records
    assert rec is not None
    n, C = state.need.shape
    u_contact = rng.random(n, dtype=np.float32)
    p = contact_probability(firm, rec)
    contacted = u_contact < p
    ci = np.flatnonzero(contacted)
    firm.contacts += ci.size
    spec = firm.spec.platform
    cost = ci.size * spec.cost_per_contact + np.count_nonzero(rec.covered) * spec.cost_per_record
    firm.contact_cost += cost
    firm.step_cost += cost

    # --- reading: strength, then the feedback link (conditional uniform, no extra draw)
    flat = (ci[:, None] * C + np.arange(C)[None, :]).reshape(-1)
    # the (N, C) read block, converted only where a contact reads
    u = uniform_f32_at(rng, n * C, flat)
    correct = u < spec.strength
    fb = LINK["feedback"]
    firm.chain_opp[fb] += int(correct.sum())
    cond = u / max(spec.strength, 1e-12)
    lost = correct & (cond < firm.defect_rate[fb])
    firm.chain_def[fb] += int(lost.sum())
    ok = flat[correct & ~lost]
    rec.need.reshape(-1)[ok] = state.need.reshape(-1)[ok]
    rec.tier.reshape(-1)[ok] = state.tier.reshape(-1)[ok]
    rec.supplier.reshape(-1)[ok] = state.supplier.reshape(-1)[ok]
    rec.seen[ci] = now
    rec.known[ci] = True

    # --- offers to active needs in categories the firm sells
    offered = np.zeros((n, C), dtype=bool)
    sells = firm.has.any(axis=1)
    act = flat[(state.need.reshape(-1)[flat] == ACTIVE) & sells[flat % C]]
    u_link = uniform_f32_at(rng, n * C, act)  # the (N, C) link block, where offered
    if act.size:
        failed = firm.run_links(CONTACT_LINKS, u_link)
        offered.reshape(-1)[act[failed < 0]] = True
    return Contacts(p=p, contacted=contacted, offered=offered, read_ok=ok)


def record_sales(firm: FirmAgent, state: CustomerState, flat_idx: np.ndarray, now: int) -> None:
    """A firm knows its own sales: the buyer's record for that category is the truth."""
    rec = firm.records
    assert rec is not None
    C = state.need.shape[1]
    rec.need.reshape(-1)[flat_idx] = state.need.reshape(-1)[flat_idx]
    rec.tier.reshape(-1)[flat_idx] = state.tier.reshape(-1)[flat_idx]
    rec.supplier.reshape(-1)[flat_idx] = firm.index
    rec.known[flat_idx // C] = True
