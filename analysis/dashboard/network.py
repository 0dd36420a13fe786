"""The dashboard's network view: the word-of-mouth network of a small market laid out
once, customers coloured by who serves them, side A beside side B."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from matplotlib.figure import Figure

from analysis.dashboard.plots import COLOR_A, COLOR_B, NETWORK_MAX_CUSTOMERS, new_figure


def network_positions(model: Any) -> tuple[Any, dict[int, Any]] | None:
    """The word-of-mouth network as networkx and a fixed layout, for small populations only.

    Returns None when the population is larger than ``NETWORK_MAX_CUSTOMERS`` or the model
    does not expose its network.
    """
    graph = getattr(model, "graph", None)
    if (
        graph is None
        or not hasattr(graph, "to_networkx")
        or getattr(graph, "n", 0) > NETWORK_MAX_CUSTOMERS
    ):
        return None
    if getattr(graph, "mean_field", False):
        return None
    import networkx as nx

    g = graph.to_networkx()
    return g, nx.spring_layout(g, seed=1, iterations=40)


def _served_by(model: Any) -> np.ndarray | None:
    """Per customer: the firm index serving its first-category need, -1 if none."""
    st = getattr(model, "state", None)
    if st is None or not hasattr(st, "supplier") or not hasattr(st, "need"):
        return None
    from sim.state import SERVED

    sup = np.asarray(st.supplier)[:, 0].astype(np.int64)
    return np.where(np.asarray(st.need)[:, 0] == SERVED, sup, -1)


class TwoModels(Protocol):
    """What the network view reads of a pair of runs (``paired.PairedRun`` is one)."""

    model_a: Any
    model_b: Any


def figure_network(
    run: TwoModels, layout: tuple[Any, dict[int, Any]], labels: tuple[str, str]
) -> Figure | None:
    """The word-of-mouth network on each side, customers coloured by who serves them."""
    import networkx as nx

    g, pos = layout
    fig = new_figure()
    fig.subplots_adjust(left=0.01, right=0.99, top=0.84, bottom=0.1, wspace=0.05)
    fig.suptitle(
        "Who serves whom (rivals in grey)",
        fontsize=10.5,
        fontweight="bold",
        x=0.02,
        ha="left",
    )
    axes = fig.subplots(1, 2)
    for ax, model, label, color in zip(
        axes, (run.model_a, run.model_b), labels, (COLOR_A, COLOR_B), strict=True
    ):
        served = _served_by(model)
        if served is None:
            return None
        palette = np.array(["#e0e0e0", color, "#757575", "#9e9e9e", "#bdbdbd"])
        colors = palette[np.clip(served + 1, 0, len(palette) - 1)]
        nx.draw_networkx_edges(g, pos, ax=ax, width=0.25, alpha=0.25)
        nx.draw_networkx_nodes(g, pos, ax=ax, node_size=9, node_color=list(colors), linewidths=0)
        ax.set_title(label.split(":")[0], fontsize=12, fontweight="bold", color=color)
        ax.set_axis_off()
    return fig
