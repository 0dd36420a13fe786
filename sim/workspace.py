"""What the compiled rules keep between steps, owned by one model and declared here.

The rules count where needs change instead of recounting every customer each step,
and reuse their large work arrays instead of allocating them anew (fresh large
arrays cost page faults every step). Everything of that kind lives in one
``Workspace`` that the model creates and hands to the rules; nothing hangs on the
state or on the firms' records. Who may change what:

- ``tally`` (customers per cell, served needs per supplier) changes only in the
  demand, choice and events rules, where the truth they count changes;
- a firm's kept counts (``Records.believed``, ``Records.kind``, ``Records.n_open``,
  ``Records.n_covered``) change only in ``sim.platform`` and ``sim.records``, the
  modules that write records;
- the step's ``Exposure`` (what the platforms hand the choice, one row per firm) is
  written by each firm's platform step and read by the choice, as an argument;
- ``arrays`` hold those rows and scratch: their contents mean nothing between two
  steps.

Nothing here is a view of another object's array, so a model survives
``copy.deepcopy`` and ``pickle`` with every array its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from sim.counts import cell_counts, served_by
from sim.state import ACTIVE, CustomerState


class Exposure(NamedTuple):
    """What the platforms hand the choice at one step, stacked by firm (row f is firm
    f's): each firm's platform step (``sim.platform``) writes its rows, the choice
    (``sim.choice``) reads them all. A NamedTuple, so that a compiled kernel takes it
    as one argument."""

    contacted: np.ndarray  # (F, N) bool: contacted this step
    offered: np.ndarray  # (F, N, C) int8: the tier of an offer that reached the need, -1 none
    table: np.ndarray  # (F, 3) float64: contact probability per step by contact kind
    kind: np.ndarray  # (F, N) uint8: each customer's contact kind (``sim.platform``)
    weekly: np.ndarray  # (F, 3) float64: contact chance per week by kind (steps of weeks)


@dataclass
class Tally:
    """Counts the metrics read every step, kept up to date where needs change."""

    cells: np.ndarray  # (C, T) int64 active or served needs per (category, desired tier)
    served: np.ndarray  # (F,) int64 served needs per supplier


@dataclass
class Workspace:
    """One model's kept counts and work arrays (see the module docstring)."""

    tally: Tally
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    #: the choice's per-firm tables and the portfolio versions they were built for
    choice_tables: tuple[tuple[Any, ...], Any] | None = None
    #: all firms' (F, C, T) product quality and cells on sale, and the portfolio
    #: versions they were stacked for (``portfolios``)
    portfolio_tables: tuple[tuple[int, ...], np.ndarray, np.ndarray] | None = None
    #: all firms' (F, C, T) offer tiers and the portfolio versions they were stacked for
    offer_table: tuple[tuple[int, ...], np.ndarray] | None = None
    #: the step's ``Exposure`` (arrays of ``arrays``) and the sizes it was made for
    exposure_storage: tuple[tuple[int, int, int], Exposure] | None = None

    @classmethod
    def for_state(cls, state: CustomerState, n_tiers: int, n_firms: int) -> Workspace:
        """A workspace whose tally is counted from ``state``."""
        return cls(
            Tally(
                cell_counts(state.tier, state.need, ACTIVE, n_tiers),
                served_by(state.need, state.supplier, n_firms),
            )
        )

    def array(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """The work array ``name`` (allocated on first use, or when its shape changes)."""
        a = self.arrays.get(name)
        if a is None or a.shape != shape or a.dtype.type is not dtype:
            a = np.empty(shape, dtype=dtype)
            self.arrays[name] = a
        return a

    def portfolios(self, firms: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """All firms' (F, C, T) product quality (float64) and cells on sale (bool),
        stacked again only when a portfolio changed (``portfolio_version``; a portfolio
        changes only at the end of a step, in planning and in the scripted events)."""
        key = tuple(f.portfolio_version for f in firms)
        got = self.portfolio_tables
        if got is None or got[0] != key:
            quality = np.stack([f.quality for f in firms]).astype(np.float64, copy=False)
            got = self.portfolio_tables = (key, quality, np.stack([f.has for f in firms]))
        return got[1], got[2]

    def offers(self, firms: Sequence[Any]) -> np.ndarray:
        """All firms' (F, C, T) offer tiers (``FirmBook.offers``), stacked again only
        when a portfolio changed (the offers change with it)."""
        key = tuple(f.portfolio_version for f in firms)
        got = self.offer_table
        if got is None or got[0] != key:
            got = self.offer_table = (key, np.stack([f.offers for f in firms]))
        return got[1]

    def exposure(self, n: int, n_cat: int, n_firms: int) -> Exposure:
        """The storage of this step's ``Exposure`` for ``n`` customers, ``n_cat``
        categories and ``n_firms`` firms (the same arrays every step, and the same
        record while the sizes stay)."""
        got = self.exposure_storage
        if got is None or got[0] != (n, n_cat, n_firms):
            storage = Exposure(
                contacted=self.array("contacted", (n_firms, n), np.bool_),
                offered=self.array("offered", (n_firms, n, n_cat), np.int8),
                table=self.array("tables", (n_firms, 3), np.float64),
                kind=self.array("kinds", (n_firms, n), np.uint8),
                weekly=self.array("weekly", (n_firms, 3), np.float64),
            )
            got = self.exposure_storage = ((n, n_cat, n_firms), storage)
        return got[1]
