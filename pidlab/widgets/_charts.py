"""matplotlib figures for the panels (object-oriented API only: no pyplot, no global state)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from pidlab._results import ATOMS
from pidlab.widgets._common import measure_color

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from pidlab import Comparison

__all__ = ["comparison_figure", "study_atoms_figure", "study_sweep_figure", "NET_LABELS"]

#: How each kind of net quantity is labelled on the chart.
NET_LABELS = {"net synergy": "S − R", "net redundancy": "R − S"}


def comparison_figure(cmp: Comparison, intervals: Mapping[str, Mapping[str, tuple[float, float]]] | None = None) -> Figure:
    """Grouped bar chart of a :class:`~pidlab.Comparison`, in bits.

    ``intervals`` (measure -> atom -> ``(low, high)``, e.g. the bootstrap intervals of
    :func:`pidlab.decompose_samples`) adds an error bar over each of those bars, with ``gid``
    ``"<measure>:<atom>:interval"``.

    Left axes: R, U1, U2, S with one bar per full decomposition (BROJA, I_min, ...).
    Right axes: the net measures (WMS = S − R, CI = R − S), each the single quantity it defines,
    never split into atoms. Each bar carries a ``gid`` ``"<measure>:<quantity>"`` so the plotted
    values can be read back (tests do). Each measure has its own colour
    (:func:`~pidlab.widgets.measure_color`), the same whichever measures are drawn.

    Examples
    --------
    >>> import pidlab
    >>> fig = comparison_figure(pidlab.compare(pidlab.examples.get("xor"), ["imin", "wms"]))
    >>> sorted(p.get_gid() for p in fig.axes[1].patches)
    ['wms:net synergy']
    """
    from matplotlib.figure import Figure

    full = [r for r in cmp.results if not r.is_net]
    net = [r for r in cmp.results if r.is_net]
    fig = Figure(figsize=(8.0, 3.2), dpi=96, layout="constrained")
    colors = {r.measure: measure_color(r.measure) for r in cmp.results}
    if full and net:
        ax_full, ax_net = fig.subplots(1, 2, gridspec_kw={"width_ratios": [4, 1 + len(net)]})
    elif full:
        ax_full, ax_net = fig.subplots(1, 1), None
    elif net:
        ax_full, ax_net = None, fig.subplots(1, 1)
    else:
        ax = fig.subplots(1, 1)
        ax.text(0.5, 0.5, "no results", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    if ax_full is not None:
        width = 0.8 / len(full)
        for i, r in enumerate(full):
            offset = (i - (len(full) - 1) / 2) * width
            for k, atom in enumerate(ATOMS):
                value = getattr(r, atom)
                bar = ax_full.bar(k + offset, 0.0 if value is None else value, width, color=colors[r.measure],
                                  label=r.measure if k == 0 else None)
                bar.patches[0].set_gid(f"{r.measure}:{atom}")
                iv = (intervals or {}).get(r.measure, {}).get(atom)
                if iv is not None:  # the interval need not contain the bar (BCa): drawn from its ends
                    ax_full.vlines(k + offset, iv[0], iv[1], colors="0.1", linewidth=1.4,
                                   gid=f"{r.measure}:{atom}:interval")
                    ax_full.hlines(list(iv), k + offset - width / 4, k + offset + width / 4, colors="0.1",
                                   linewidth=1.2)
        ax_full.set_xticks(range(len(ATOMS)), [f"{a}" for a in ATOMS])
        ax_full.set_ylabel("bits")
        src = full[0].sources
        ax_full.set_title(f"PID atoms of I({src[0]},{src[1]}; {cmp.target})"
                          + (" · error bars: intervals from the samples" if intervals else ""), fontsize=10)
        ax_full.axhline(0.0, color="0.3", linewidth=0.8)
        # Beside the bars, not over them (with many measures a legend inside hides bars).
        ax_full.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if ax_net is not None:
        for i, r in enumerate(net):
            bar = ax_net.bar(i, r.net, 0.6, color=colors[r.measure])
            bar.patches[0].set_gid(f"{r.measure}:{r.net_kind}")
        ax_net.set_xticks(range(len(net)), [f"{r.measure}\n({NET_LABELS.get(str(r.net_kind), r.net_kind)})" for r in net])
        ax_net.set_title("net quantities", fontsize=10)
        ax_net.axhline(0.0, color="0.3", linewidth=0.8)
        if ax_full is None:
            ax_net.set_ylabel("bits")
    return fig


def _study_quantities(cols: Mapping[str, np.ndarray]) -> list[str]:
    """The atoms (and ``net``) that some row of the study defines."""
    out = [a for a in (*ATOMS, "net") if np.isfinite(np.asarray(cols[a], dtype=float)).any()]
    return out or list(ATOMS)


def study_atoms_figure(cols: Mapping[str, np.ndarray], measures: Sequence[str], *, title: str = "") -> Figure:
    """Each measure's atoms over a study (bits): one axes per atom, one box per measure in its colour.

    ``cols`` holds the study table's columns ``measure, R, U1, U2, S, net`` (see
    :class:`pidlab.study.StudyResult`). A box spans the quartiles, its line is the median and the
    whiskers reach the minimum and the maximum. Each axes has the ``gid`` ``"dist:<atom>"``, each
    box the ``gid`` ``"box:<measure>"`` (its median line ``"median:<measure>"``).
    """
    from matplotlib.figure import Figure

    qs = _study_quantities(cols)
    fig = Figure(figsize=(2.6 * len(qs) + 0.8, 3.2), dpi=96, layout="constrained")
    axes = fig.subplots(1, len(qs), squeeze=False)[0]
    meas = np.asarray(cols["measure"])
    for ax, q in zip(axes, qs):
        vals = np.asarray(cols[q], dtype=float)
        data, names = [], []
        for m in measures:
            v = vals[(meas == m) & np.isfinite(vals)]
            if v.size:
                data.append(v)
                names.append(m)
        if data:
            bp = ax.boxplot(data, tick_labels=names, whis=(0, 100), showfliers=False, patch_artist=True)
            for m, box, med in zip(names, bp["boxes"], bp["medians"]):
                c = measure_color(m)
                box.set(facecolor=c, edgecolor=c, gid=f"box:{m}")
                med.set(color="black", gid=f"median:{m}")
            ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        else:
            ax.text(0.5, 0.5, "no measure\ndefines it", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"{q} (bits)" if q != "net" else "net (bits; S − R or R − S)", fontsize=10)
        ax.set_gid(f"dist:{q}")
        ax.grid(alpha=0.3, axis="y")
    if title:
        fig.suptitle(f"atoms per measure: {title}", fontsize=10)
    return fig


def study_sweep_figure(cols: Mapping[str, np.ndarray], x: str, measures: Sequence[str], *,
                       facet: np.ndarray | None = None, xlabel: str | None = None, max_facets: int = 4) -> Figure:
    """Each atom's mean against a swept parameter ``x`` (bits), one line per measure in its colour.

    ``cols`` holds the columns ``measure``, ``x`` and the atoms; ``facet`` (e.g. the gate of each
    row) draws one row of axes per value (at most ``max_facets``). Each axes has the ``gid``
    ``"sweep:<atom>"`` (``"sweep:<atom>:<facet>"``), each line ``"line:<measure>"``; a line's
    points are the means over the rows at each value of ``x``.
    """
    from matplotlib.figure import Figure

    qs = _study_quantities(cols)
    facets: list[object] = [None] if facet is None else list(dict.fromkeys(np.asarray(facet).tolist()))[:max_facets]
    fig = Figure(figsize=(2.6 * len(qs) + 1.6, 2.8 * len(facets) + 0.4), dpi=96, layout="constrained")
    grid = fig.subplots(len(facets), len(qs), squeeze=False)
    meas = np.asarray(cols["measure"])
    xs = np.asarray(cols[x], dtype=float)
    for row, fv in zip(grid, facets):
        fmask = np.ones(len(xs), dtype=bool) if fv is None else (np.asarray(facet) == fv)
        for ax, q in zip(row, qs):
            vals = np.asarray(cols[q], dtype=float)
            for m in measures:
                sel = fmask & (meas == m) & np.isfinite(vals)
                if not sel.any():
                    continue
                ux = np.unique(xs[sel])
                ax.plot(ux, [float(vals[sel & (xs == u)].mean()) for u in ux], marker="o", ms=3, label=m,
                        color=measure_color(m), gid=f"line:{m}")
            ax.set_title(f"{q} (bits)" + ("" if fv is None else f", {fv}"), fontsize=10)
            ax.set_xlabel(xlabel or x, fontsize=9)
            ax.set_gid(f"sweep:{q}" + ("" if fv is None else f":{fv}"))
            ax.grid(alpha=0.3)
        handles, labels = [], []
        for ax in row:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        if handles:
            row[-1].legend(handles, labels, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(f"atoms against {xlabel or x}: mean over the distributions, one line per measure", fontsize=10)
    return fig
