"""CouplingPanel: minimum-entropy couplings of two marginals, side by side."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from pidlab._plugins import lookup, names
from pidlab.exceptions import InvalidDistributionError
from pidlab.widgets._base import PanelBase

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CouplingPanel", "parse_vector", "coupling_figure"]

_SPLIT = re.compile(r"[\s,;]+")


def parse_vector(text: str, what: str) -> list[float]:
    """Numbers separated by commas, semicolons or spaces (nothing is normalised).

    >>> parse_vector("0.5, 0.25 0.25", "p")
    [0.5, 0.25, 0.25]
    """
    parts = [t for t in _SPLIT.split(text.strip().strip("[]()")) if t]
    if not parts:
        raise InvalidDistributionError(f"{what} is empty; type probabilities separated by commas, e.g. 0.5, 0.25, 0.25.")
    out = []
    for t in parts:
        try:
            out.append(float(t))
        except ValueError:
            raise InvalidDistributionError(
                f"{what} contains {t!r}, which is not a number; type probabilities separated by commas."
            ) from None
    return out


def coupling_figure(results: list[Any]) -> Figure:
    """One heat map per coupling, titled with its entropy (bits); two marginals each."""
    from matplotlib.figure import Figure

    n = len(results)
    fig = Figure(figsize=(3.0 * n + 0.6, 3.0), dpi=96, layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, r in zip(axes, results):
        m = r.to_dense()
        im = ax.imshow(m, cmap="viridis", vmin=0.0, vmax=float(m.max()) or 1.0)
        ax.set_title(f"{r.method}: H = {r.entropy:.4f} bits" + (" (exact)" if r.exact else ""), fontsize=9)
        ax.set_xlabel("q index")
        ax.set_ylabel("p index")
        ax.set_xticks(range(m.shape[1]))
        ax.set_yticks(range(m.shape[0]))
        if m.size <= 64:
            for (i, j), v in ((ij, m[ij]) for ij in ((i, j) for i in range(m.shape[0]) for j in range(m.shape[1]))):
                if v > 0:
                    ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7,
                            color="white" if v < 0.6 * m.max() else "black")
        ax.set_gid(r.method)
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="probability")
    return fig


class CouplingPanel(PanelBase):
    """Minimum-entropy couplings of two marginals p and q with every coupling plugin.

    Each chosen method (checkboxes built from ``pidlab.couplings()``: greedy, lattice, exact and
    any third-party plugin) couples p and q; the panel shows each coupling as a heat map with its
    entropy, and a table with the certified bracket ``[lower bound, entropy]`` on the minimum
    entropy coupling (MEC) per method and overall. Entries are probabilities; nothing is
    renormalised (a vector that does not sum to 1 is an error shown in the panel).

    Examples
    --------
    >>> panel = CouplingPanel(p="0.5, 0.5", q="0.25, 0.25, 0.25, 0.25", methods=["exact"])
    >>> out = panel.compute()
    >>> round(out["exact"].entropy, 9)
    2.0
    """

    compute_label = "Couple"
    compute_tooltip = "couple p and q with every ticked method"
    export_name = "pidlab-couplings.csv"

    def __init__(
        self, p: str = "0.5, 0.25, 0.25", q: str = "0.6, 0.4", *, methods: list[str] | None = None
    ) -> None:
        self.results: dict[str, Any] = {}
        self.p = widgets.Text(value=p, description="p", layout=widgets.Layout(width="320px"),
                              tooltip="first marginal: probabilities separated by commas (must sum to 1)")
        self.q = widgets.Text(value=q, description="q", layout=widgets.Layout(width="320px"),
                              tooltip="second marginal: probabilities separated by commas (must sum to 1)")
        chosen = None if methods is None else {lookup("coupling", m).name for m in methods}
        self.method_boxes = {
            n: widgets.Checkbox(value=chosen is None or n in chosen, description=n, indent=False,
                                tooltip=str(lookup("coupling", n).description or f"the {n} coupling"), layout=widgets.Layout(width="auto"))
            for n in names("coupling")
        }
        self._init_common()
        self.status.value = "Type two probability vectors and press <b>Couple</b>."
        self.table = widgets.HTML("")
        self.chart = self._image("pidlab-chart")
        self.p.add_class("pidlab-p")
        self.q.add_class("pidlab-q")
        self.table.add_class("pidlab-table")
        for n, cb in self.method_boxes.items():
            cb.add_class(f"pidlab-method-{n}")
        methods_box = widgets.HBox([widgets.Label("methods"), *self.method_boxes.values()])
        methods_box.add_class("pidlab-methods")
        self._assemble(
            "pidlab · minimum-entropy couplings (bits)",
            [widgets.HBox([self.p, self.q]), methods_box, widgets.HBox([self.compute_button, self.progress]),
             self.status, self.error, self.table, self.chart],
            "pidlab-coupling-panel",
        )

    def _forget_result(self) -> None:
        self.results = {}

    def _compute(self) -> dict[str, Any]:
        from pidlab import couple

        p = parse_vector(self.p.value, "p")
        q = parse_vector(self.q.value, "q")
        chosen = [n for n, cb in self.method_boxes.items() if cb.value]
        if not chosen:
            raise InvalidDistributionError("no coupling method is ticked; tick at least one.")
        self.progress.max, self.progress.value = len(chosen), 0
        results: dict[str, Any] = {}
        failures: list[str] = []
        for i, m in enumerate(chosen):
            self.status.value = f"Coupling with <b>{html.escape(m)}</b> ({i + 1}/{len(chosen)}) …"
            try:
                results[m] = couple(p, q, method=m)
            except InvalidDistributionError:
                raise  # bad p or q: the same for every method, report it once
            except Exception as exc:  # e.g. exact on a too-large instance; others still shown
                failures.append(f"<b>{html.escape(m)}</b>: {html.escape(str(exc))}")
            self.progress.value = i + 1
        self.results = results
        if failures:
            self.error.value = "<b>Error</b> — " + "<br>".join(failures)
        if results:
            lo = max(r.lower_bound for r in results.values())
            hi = min(r.entropy for r in results.values())
            rows = "".join(
                f"<tr><td>{html.escape(m)}</td><td>{r.entropy:.6f}</td><td>{r.lower_bound:.6f}</td>"
                f"<td>{html.escape(r.lower_bound_source)}</td><td>{r.gap:.6f}</td><td>{'yes' if r.exact else ''}</td>"
                f"<td>{r.nnz}</td></tr>"
                for m, r in results.items()
            )
            self.table.value = (
                "<table><thead><tr><th>method</th><th>entropy H</th><th>certified lower bound</th><th>bound</th>"
                f"<th>gap</th><th>exact</th><th>cells</th></tr></thead><tbody>{rows}</tbody></table>"
                f"<p>MEC of p and q lies in <b>[{lo:.6f}, {hi:.6f}]</b> bits (best lower bound, best coupling).</p>"
            )
            self._show(self.chart, coupling_figure(list(results.values())))
            records = [{"method": m, "entropy": r.entropy, "lower_bound": r.lower_bound,
                        "lower_bound_source": r.lower_bound_source, "gap": r.gap, "exact": bool(r.exact),
                        "cells": int(r.nnz)} for m, r in results.items()]
            self._publish(records, (
                "import pidlab\n\n"
                f"p = {p!r}\nq = {q!r}\n"
                f"result = {{m: pidlab.couple(p, q, method=m) for m in {list(results)!r}}}\n"
                "for m, r in result.items():\n    print(m, r.entropy, r.lower_bound)\n"
            ))
        else:
            self._clear_results()
            self.table.value = ""
            self._show(self.chart, None)
        self.status.value = f"Coupled p ({len(p)} atoms) and q ({len(q)} atoms) with {len(results)} of {len(chosen)} method(s)."
        return results
