"""HardnessPanel: restricted-timetable (RTT) instances and their reduction's marginals."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import numpy as np

from pidlab.widgets._base import PanelBase

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["HardnessPanel", "marginals_figure"]

KINDS = [("random solvable (planted schedule)", "solvable"), ("random unsolvable", "unsolvable"),
         ("random (solvability unknown)", "random")]


def marginals_figure(m: Any) -> Figure:
    """Heat maps of the three pairwise marginals of an RTT reduction (entries in units of 1/N)."""
    from matplotlib.figure import Figure

    N = m.N
    tables = [
        ("p(x1, y)", np.array(m.p_x1y, dtype=float), m.x1_labels, m.y_labels),
        ("p(x2, y)", np.array(m.p_x2y, dtype=float), m.x2_labels, m.y_labels),
        ("p(x1, x2)", np.array(m.p_x1x2, dtype=float), m.x1_labels, m.x2_labels),
    ]
    fig = Figure(figsize=(9.0, 3.2), dpi=96, layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, (title, t, rows, cols) in zip(axes, tables):
        counts = t * N
        ax.imshow(counts, cmap="Blues", vmin=0, vmax=max(1.0, float(counts.max())))
        ax.set_title(f"{title} × N", fontsize=9)
        ax.set_xticks(range(len(cols)), [str(c) for c in cols], fontsize=7)
        ax.set_yticks(range(len(rows)), [str(r) for r in rows], fontsize=7)
        for i in range(counts.shape[0]):
            for j in range(counts.shape[1]):
                if counts[i, j] > 0:
                    ax.text(j, i, f"{counts[i, j]:.0f}", ha="center", va="center", fontsize=7)
        ax.set_gid(title)
    fig.suptitle(f"reduction marginals, N = {N} (y = 0 is the null colour, 1-3 the hours)", fontsize=9)
    return fig


class HardnessPanel(PanelBase):
    """Draw a random restricted-timetable (RTT) instance and its reduction (Liang et al., App. B.5).

    The teacher-class graph is drawn with each lesson coloured by its hour in a schedule found
    by the exact solver (grey when no schedule exists), next to the three pairwise marginals of
    the reduction. A joint with those marginals and ``H(Y | X1, X2) = 0`` (entropy ``log2 N``)
    exists exactly when the instance is solvable.

    Examples
    --------
    >>> panel = HardnessPanel(n_teachers=3, n_classes=2, seed=1)
    >>> out = panel.compute()
    >>> out["solvable"], out["N"] == out["instance"].n_lessons + 3 * 2
    (True, True)
    """

    compute_label = "Generate"
    compute_tooltip = "draw a random instance, solve it exactly and reduce it"
    export_name = "pidlab-rtt.csv"

    def __init__(self, kind: str = "solvable", *, n_teachers: int = 4, n_classes: int = 3,
                 density: float = 0.6, seed: int = 0) -> None:
        self.last: dict[str, Any] | None = None
        self.kind = widgets.Dropdown(options=KINDS, value=kind, description="instance",
                                     tooltip="which random family of restricted-timetable instances to draw from")
        self.n_teachers = widgets.IntSlider(value=n_teachers, min=1, max=8, description="teachers",
                                            tooltip="number of teachers (left side of the graph)")
        self.n_classes = widgets.IntSlider(value=n_classes, min=1, max=6, description="classes",
                                           tooltip="number of classes (right side of the graph)")
        self.density = widgets.FloatSlider(value=density, min=0.1, max=1.0, step=0.05, description="density",
                                           readout_format=".2f", tooltip="probability of each teacher-class lesson")
        self.seed = widgets.IntText(value=seed, description="seed", layout=widgets.Layout(width="160px"),
                                    tooltip="random seed: the same seed gives the same instance")
        self._init_common()
        self.status.value = "Choose the size and press <b>Generate</b>."
        self.table = widgets.HTML("")
        self.graph = self._image("pidlab-graph")
        self.chart = self._image("pidlab-chart")
        for w, cls in [(self.kind, "pidlab-kind"), (self.n_teachers, "pidlab-teachers"),
                       (self.n_classes, "pidlab-classes"), (self.density, "pidlab-density"),
                       (self.seed, "pidlab-seed"), (self.table, "pidlab-table")]:
            w.add_class(cls)
        self._assemble(
            "pidlab · NP-hardness: restricted timetables (RTT)",
            [widgets.HBox([self.kind, self.seed]), widgets.HBox([self.n_teachers, self.n_classes, self.density]),
             widgets.HBox([self.compute_button, self.progress]), self.status, self.error,
             widgets.HBox([self.graph, self.table]), self.chart],
            "pidlab-hardness-panel",
        )

    def _forget_result(self) -> None:
        self.last = None

    def _code_for(self, n: int, m: int, dens: float, seed: int) -> str:
        """Python reproducing the current instance, its exact solution and its reduction."""
        args = f"{n!r}, {m!r}, density={dens!r}, seed={seed!r}"
        make = {"solvable": f"inst, _planted = rtt.random_solvable({args})",
                "unsolvable": f"inst = rtt.random_unsolvable({args})"}.get(self.kind.value,
                                                                          f"inst = rtt.random_instance({args})")
        return (
            "from pidlab.hardness import rtt\n\n"
            f"{make}\nschedule = rtt.solve(inst)\nmarginals = rtt.reduce(inst, exact=True)\n"
            "print(inst.n_lessons, marginals.N, 'solvable' if schedule is not None else 'unsolvable')\n"
        )

    def _compute(self) -> dict[str, Any]:
        from matplotlib.figure import Figure

        from pidlab.hardness import rtt

        n, m, dens, seed = self.n_teachers.value, self.n_classes.value, self.density.value, self.seed.value
        self.progress.max, self.progress.value = 3, 0
        self.status.value = "Generating the instance …"
        if self.kind.value == "solvable":
            inst, _planted = rtt.random_solvable(n, m, density=dens, seed=seed)
        elif self.kind.value == "unsolvable":
            inst = rtt.random_unsolvable(n, m, density=dens, seed=seed)
        else:
            inst = rtt.random_instance(n, m, density=dens, seed=seed)
        self.progress.value = 1
        self.status.value = "Solving exactly …"
        sched = rtt.solve(inst)
        self.progress.value = 2
        marg: Any = rtt.reduce(inst, exact=True)
        fig = Figure(figsize=(4.8, 0.6 * max(inst.n_teachers, inst.n_classes) + 1.8), dpi=96, layout="constrained")
        rtt.draw(inst, sched, ax=fig.subplots(1, 1))
        self._show(self.graph, fig)
        self._show(self.chart, marginals_figure(marg))
        solvable = sched is not None
        if sched is not None and not rtt.verify(inst, sched).ok:  # pragma: no cover - the solver's contract
            raise RuntimeError("rtt.solve returned a schedule that fails rtt.verify; please report this bug.")
        N = marg.N
        rows = [
            ("teachers × classes", f"{inst.n_teachers} × {inst.n_classes}"),
            ("lessons L", str(inst.n_lessons)),
            ("N = L + 3m", str(N)),
            ("lessons per hour (forced)", ", ".join(map(str, inst.forced_hours))),
            ("schedule", f"found and verified, {len(sched)} lessons" if sched is not None else "none exists (exact search)"),
            ("H(X1, X2) = log2 N", f"{math.log2(N):.6f} bits"),
            ("joint with H(Y | X1, X2) = 0", "exists (entropy log2 N)" if solvable else "does not exist"),
        ]
        self.table.value = "<table>" + "".join(
            f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>" for a, b in rows
        ) + "</table>"
        record = {"kind": self.kind.value, "teachers": inst.n_teachers, "classes": inst.n_classes,
                  "density": float(dens), "seed": int(seed), "lessons": inst.n_lessons, "N": int(N),
                  "forced_hours": " ".join(map(str, inst.forced_hours)), "solvable": solvable,
                  "H_x1x2_bits": math.log2(N)}
        self._publish([record], self._code_for(int(n), int(m), float(dens), int(seed)))
        self.progress.value = 3
        self.status.value = (
            f"RTT instance with {inst.n_lessons} lessons: <b>{'solvable' if solvable else 'unsolvable'}</b>."
        )
        self.last = {"instance": inst, "schedule": sched, "marginals": marg, "solvable": solvable, "N": N}
        return self.last
