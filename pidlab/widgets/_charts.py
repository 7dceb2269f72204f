"""matplotlib figures for the panels (object-oriented API only: no pyplot, no global state)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pidlab._results import ATOMS
from pidlab.widgets._common import measure_color

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from pidlab import Comparison

__all__ = ["comparison_figure", "NET_LABELS"]

#: How each kind of net quantity is labelled on the chart.
NET_LABELS = {"net synergy": "S − R", "net redundancy": "R − S"}


def comparison_figure(cmp: Comparison) -> Figure:
    """Grouped bar chart of a :class:`~pidlab.Comparison`, in bits.

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
        ax_full.set_xticks(range(len(ATOMS)), [f"{a}" for a in ATOMS])
        ax_full.set_ylabel("bits")
        src = full[0].sources
        ax_full.set_title(f"PID atoms of I({src[0]},{src[1]}; {cmp.target})", fontsize=10)
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
