"""A market branches at week t: a copy of a model taken mid-run (``copy.deepcopy``, or
a ``pickle`` round trip) runs on with exactly the numbers of the original, so a
strategist can take the market at week t and try two decisions from the same state."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim import DemandModel
from tests.helpers import small


def _series(model: DemandModel) -> pd.DataFrame:
    return model.datacollector.get_model_vars_dataframe().reset_index(drop=True)


def _books(model: DemandModel) -> list[dict[str, Any]]:
    """Every array, record and number of every firm's book."""
    out = []
    for book in model.books:
        kept: dict[str, Any] = {}
        for name, value in vars(book).items():
            if isinstance(value, np.ndarray):
                kept[name] = value
            elif hasattr(value, "__dataclass_fields__"):  # the records
                kept[name] = {k: getattr(value, k) for k in value.__dataclass_fields__}
            elif isinstance(value, int | float | list):
                kept[name] = value
        out.append(kept)
    return out


def _assert_same(a: Any, b: Any, where: str = "") -> None:
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, where
        assert a.tobytes() == b.tobytes(), where  # bit for bit, NaNs included
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    else:
        assert repr(a) == repr(b), where


def _assert_same_run(a: DemandModel, b: DemandModel) -> None:
    pd.testing.assert_frame_equal(_series(a), _series(b), check_exact=True)
    assert json.dumps(a.summary(), sort_keys=True) == json.dumps(b.summary(), sort_keys=True)
    for name in a.state.__dataclass_fields__:
        _assert_same(getattr(a.state, name), getattr(b.state, name), f"state.{name}")
    for i, (x, y) in enumerate(zip(_books(a), _books(b), strict=True)):
        _assert_same(x, y, f"firm {i}")
    _assert_same(a.ledger.open_t, b.ledger.open_t, "ledger")
    _assert_same(a.tracker.pend_type, b.tracker.pend_type, "tracker")


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # weekly steps
        {"run.steps_per_year": 12, "focal.strategy.retire_threshold": 0.05},  # monthly
    ],
    ids=["weekly", "monthly"],
)
def test_a_copy_taken_mid_run_runs_on_with_the_original_numbers(
    overrides: dict[str, Any],
) -> None:
    original = DemandModel(small(n=600, **overrides), rng=11).run(8)
    copied = copy.deepcopy(original)
    pickled = pickle.loads(pickle.dumps(original))
    for model in (original, copied, pickled):
        model.run(10)
    _assert_same_run(original, copied)
    _assert_same_run(original, pickled)
    # and the run it branched from is the run that never branched
    _assert_same_run(original, DemandModel(small(n=600, **overrides), rng=11).run(18))


def test_a_branch_can_take_another_decision() -> None:
    """Two branches of one market at week 8: a decision in one changes its numbers
    only, and the other stays the market that never branched."""
    trunk = DemandModel(small(n=600), rng=5).run(8)
    branch = copy.deepcopy(trunk)
    branch.set_platform(0, density=0.5)
    trunk.run(6)
    branch.run(6)
    assert branch.summary()["contacts_total"] > trunk.summary()["contacts_total"]
    _assert_same_run(trunk, DemandModel(small(n=600), rng=5).run(14))
