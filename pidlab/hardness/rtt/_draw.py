"""Drawing the teacher-class graph with a schedule as edge colours (matplotlib)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import networkx as nx

from pidlab._limits import check_memory
from pidlab.exceptions import SolverError
from pidlab.hardness.rtt._guards import GRAPH_ITEM_BYTES
from pidlab.hardness.rtt._instance import HOUR_COLORS, HOURS, RTTInstance, _check_instance
from pidlab.hardness.rtt._schedule import _check_schedule

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def draw(
    instance: RTTInstance,
    schedule: Iterable[tuple[int, int, int]] | None = None,
    *,
    ax: Axes | None = None,
    hour_colors: dict[int, str] | None = None,
) -> Axes:
    """Draw the teacher-class graph, teachers left (with ``T_i``) and classes right, lessons as edges
    coloured by their hour in ``schedule`` (grey when unscheduled). Needs matplotlib.

    Returns
    -------
    matplotlib.axes.Axes
    """
    inst = _check_instance(instance)
    # estimate first: a patch or line per node and edge, and (own figure) its raster, 0.7 inch a row
    rows = max(inst.n_teachers, inst.n_classes)
    raster = 4.0 * 3 * (5 * 100) * ((0.7 * rows + 1.5) * 100) if ax is None else 0.0
    check_memory(4.0 * GRAPH_ITEM_BYTES * (inst.n_teachers + inst.n_classes + inst.n_lessons) + raster,
                 f"rtt.draw of an instance with {inst.n_teachers} teachers and {inst.n_classes} classes",
                 hint="A drawing is readable up to a few dozen teachers; draw a sub-instance")
    try:
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
    except ImportError:  # pragma: no cover - matplotlib is in the lab extra
        raise SolverError("rtt.draw needs matplotlib; pip install 'pidlab[lab]'.") from None
    colors = {**HOUR_COLORS, **(hour_colors or {})}
    hour_of: dict[tuple[str, str], int] = {}
    if schedule is not None:
        for i, j, h in _check_schedule(inst, schedule):
            hour_of[(f"t{i}", f"c{j}")] = h
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.7 * max(inst.n_teachers, inst.n_classes) + 1.5))
    G = inst.graph
    teachers, classes = inst.teacher_nodes, inst.class_nodes
    pos: dict[str, tuple[float, float]] = {t: (0.0, -k) for k, t in enumerate(teachers)}
    pos.update({c: (1.0, -k * (max(len(teachers) - 1, 1) / max(len(classes) - 1, 1))) for k, c in enumerate(classes)})
    if len(classes) == 1:
        pos[classes[0]] = (1.0, -(len(teachers) - 1) / 2)
    edges = list(G.edges)
    ecol = [colors[hour_of[e]] if e in hour_of else "lightgrey" for e in ((u, v) if u[0] == "t" else (v, u) for u, v in edges)]
    nx.draw_networkx_edges(G, pos, edgelist=edges, edge_color=ecol, width=2.5, ax=ax)
    nx.draw_networkx_nodes(G, pos, nodelist=list(teachers), node_color="#f5deb3", node_shape="s", node_size=650, ax=ax)
    nx.draw_networkx_nodes(G, pos, nodelist=list(classes), node_color="#cde3f5", node_size=500, ax=ax)
    labels = {t: f"{t}\n{{{','.join(map(str, sorted(inst.availability[k])))}}}" for k, t in enumerate(teachers)}
    labels.update({c: c for c in classes})
    nx.draw_networkx_labels(G, pos, labels=labels, font_size=8, ax=ax)
    handles = [] if schedule is None else [Line2D([], [], color=colors[h], lw=2.5, label=f"hour {h}") for h in HOURS]
    if schedule is None or len(hour_of) < len(edges):
        handles.append(Line2D([], [], color="lightgrey", lw=2.5, label="unscheduled"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles), fontsize=8, frameon=False)
    ax.set_title(f"RTT: {inst.n_teachers} teachers, {inst.n_classes} classes, {inst.n_lessons} lessons", fontsize=9)
    ax.set_axis_off()
    ax.margins(0.2)
    return ax
