"""The word-of-mouth network: generators as CSR arrays, files, neighbour sampling."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.stats import chisquare

from sim import network as nw
from sim.errors import InputError
from sim.scenario import Network


def _check_csr(g: nw.Graph) -> None:
    assert g.indptr is not None and g.indices is not None
    src = np.repeat(np.arange(g.n), np.diff(g.indptr))
    assert not (src == g.indices).any()  # no self-loops
    fwd = set(zip(src.tolist(), g.indices.tolist(), strict=True))
    assert all((b, a) in fwd for a, b in fwd)  # symmetric
    assert len(fwd) == g.indices.size  # no duplicates


def test_rows_list_the_neighbours_above_then_below_in_ascending_order() -> None:
    # the row order is part of the numbers (word of mouth picks a neighbour by its
    # slot): pairs with repeats, both orientations and self-loops, against a plain
    # sort of each row's neighbours
    rng = np.random.default_rng(5)
    n = 300
    a, b = rng.integers(0, n, 4000), rng.integers(0, n, 4000)
    g = nw.csr_from_edges(n, a, b)
    assert g.indptr is not None and g.indices is not None
    _check_csr(g)
    pairs = {(int(x), int(y)) for x, y in zip(a, b, strict=True) if x != y}
    for r in range(n):
        above = sorted(
            {y for x, y in pairs if x == r and y > r} | {x for x, y in pairs if y == r and x > r}
        )
        below = sorted(
            {y for x, y in pairs if x == r and y < r} | {x for x, y in pairs if y == r and x < r}
        )
        assert g.indices[g.indptr[r] : g.indptr[r + 1]].tolist() == above + below


def test_watts_strogatz_without_rewiring_is_the_ring_lattice() -> None:
    g = nw.watts_strogatz(200, 6, 0.0, np.random.default_rng(0))
    _check_csr(g)
    assert nx.is_isomorphic(g.to_networkx(), nx.watts_strogatz_graph(200, 6, 0.0))


def test_watts_strogatz_rewired_keeps_mean_degree() -> None:
    g = nw.watts_strogatz(5000, 10, 0.2, np.random.default_rng(1))
    _check_csr(g)
    # rewiring only loses the rare duplicate or self-loop
    assert 9.9 < g.degrees().mean() <= 10.0


def test_erdos_renyi_mean_degree() -> None:
    g = nw.erdos_renyi(5000, 8, np.random.default_rng(2))
    _check_csr(g)
    assert g.degrees().mean() == pytest.approx(8, rel=0.01)


def test_barabasi_albert_is_scale_free_ish() -> None:
    g = nw.barabasi_albert(5000, 6, np.random.default_rng(3))
    _check_csr(g)
    deg = g.degrees()
    assert deg.mean() == pytest.approx(6, rel=0.05)
    assert deg.max() > 10 * np.median(deg)  # hubs, unlike the lattice or G(n, m)
    assert nx.is_connected(g.to_networkx())


def test_neighbour_sampling_is_uniform_over_neighbours() -> None:
    g = nw.csr_from_edges(5, np.array([0, 0, 0, 0]), np.array([1, 2, 3, 4]))
    rng = np.random.default_rng(4)
    draws = g.sample_neighbours(rng.random(20000), np.zeros(20000, dtype=np.int64))
    counts = np.bincount(draws, minlength=5)[1:]
    assert chisquare(counts).pvalue > 1e-4
    assert g.sample_neighbours(np.array([0.5]), np.array([1]))[0] == 0


def test_mean_field_samples_the_whole_population() -> None:
    g = nw.build(Network(kind="mean-field"), 10, np.random.default_rng(0))
    assert g.mean_field and g.edges == 0
    draws = g.sample_neighbours(np.random.default_rng(5).random(50000))
    assert chisquare(np.bincount(draws, minlength=10)).pvalue > 1e-4


def test_edge_list_and_graphml_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ring = nx.cycle_graph(12)
    el = tmp_path / "ring.txt"
    nx.write_edgelist(ring, el, data=False)
    gm = tmp_path / "ring.graphml"
    nx.write_graphml(ring, gm)
    for path in (el, gm):
        g = nw.build(Network(kind="file", path=str(path)), 12, np.random.default_rng(0))
        _check_csr(g)
        assert (g.degrees() == 2).all()
    with pytest.raises(InputError, match="12 nodes; expected run.customers = 13"):
        nw.build(Network(kind="file", path=str(el)), 13, np.random.default_rng(0))
    with pytest.raises(InputError, match="no such file"):
        nw.build(
            Network(kind="file", path=str(tmp_path / "nope.txt")), 12, np.random.default_rng(0)
        )
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><oops")
    with pytest.raises(InputError, match="cannot be read"):
        nw.build(Network(kind="file", path=str(bad)), 12, np.random.default_rng(0))
