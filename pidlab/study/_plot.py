"""The overview figure of a study (matplotlib, object-oriented: no pyplot state, any backend).

Rows of the figure:

1. **distributions**: one panel per atom (R, U1, U2, S; and ``net`` when WMS/CI are in the
   study), one box per measure: the box spans the quartiles, the line is the median and the
   whiskers reach the minimum and the maximum (``whis=(0, 100)``; no outliers are hidden);
2. **pairwise scatter** between measures: one panel per pair of measures, every item's atoms
   (one colour per atom) of the first measure against the second's, with the diagonal;
3. for a **swept family** (a numeric family parameter taking several values, e.g. ``noise``),
   each atom's mean over the items at each parameter value, one line per measure; one row per
   value of a categorical parameter (e.g. per gate);
4. for a study run with ``bounds=True``: each semi-supervised bound against BROJA's S, one
   point per item, with the diagonal.

Each axes carries a ``gid`` naming what it shows (``"dist:S"``, ``"pair:broja|imin"``,
``"sweep:S:gate=xor"``) so that its data can be checked against the table.
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from pidlab._colors import measure_color
from pidlab.study._families import InvalidStudyError, MissingDependencyError
from pidlab.study._result import ATOM_COLUMNS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from pidlab.study._result import StudyResult

__all__ = ["study_figure", "sweep_parameter"]

_NOT_SWEPT = ("item", "seed")


def _figure_cls() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError("the study figure needs matplotlib: pip install matplotlib (or 'pidlab[lab]').") \
            from None
    return Figure


def sweep_parameter(res: StudyResult) -> tuple[str | None, str | None]:
    """(numeric swept parameter, categorical parameter to facet by) of the study's family, or Nones."""
    params = [c for c in res.column_names[2:res.column_names.index("shape")] if c not in _NOT_SWEPT]
    x = cat = None
    for p in params:
        col = res.column(p)
        if len(np.unique(col)) < 2:
            continue
        if col.dtype.kind in "fiu" and x is None:
            x = p
        elif col.dtype == object and cat is None and p != "label":
            cat = p
    return x, (cat if x is not None else None)


def _atoms(res: StudyResult) -> list[str]:
    out = [a for a in ATOM_COLUMNS if np.isfinite(res.column(a)).any()]
    if np.isfinite(res.column("net")).any():
        out.append("net")
    return out or list(ATOM_COLUMNS)


def study_figure(res: StudyResult, *, max_pairs: int = 6, max_facets: int = 4) -> Figure:
    """The overview figure of a study (see the module docstring); a ``matplotlib.figure.Figure``.

    Save it with ``fig.savefig("study.png")`` (any backend; no pyplot window is opened).
    """
    Figure = _figure_cls()
    if len(res) == 0:
        raise InvalidStudyError("the study has no rows to plot.")
    groups = [(g, m) for g, m in res._groups()]
    atoms = _atoms(res)
    pairs = list(combinations(range(len(groups)), 2))[:max_pairs]
    x, cat = sweep_parameter(res)
    facets: list[Any] = [None]
    if x is not None and cat is not None:
        facets = list(dict.fromkeys(res.column(cat).tolist()))[:max_facets]
    has_bounds = "S_upper" in res.columns and bool(np.any(res.column("measure") == "broja"))
    n_rows = 1 + (1 if pairs else 0) + (len(facets) if x is not None else 0) + (1 if has_bounds else 0)
    ncols = max(len(atoms), len(pairs), 1)
    fig = Figure(figsize=(3.3 * ncols, 3.1 * n_rows), layout="constrained")
    sub = fig.subfigures(n_rows, 1, squeeze=False)[:, 0]
    colors = {a: f"C{i}" for i, a in enumerate(atoms)}
    # a measure keeps its colour in every figure (pidlab._colors); (measure, solver) groups use the cycle
    gcolors = {g: f"C{i}" if "/" in g else measure_color(g) for i, (g, _) in enumerate(groups)}

    # 1. distributions
    axes = sub[0].subplots(1, len(atoms), squeeze=False)[0]
    for ax, atom in zip(axes, atoms):
        vals = res.column(atom)
        data, labels = [], []
        for g, mask in groups:
            v = vals[mask]
            v = v[np.isfinite(v)]
            if v.size:
                data.append(v)
                labels.append(g)
        if data:
            ax.boxplot(data, tick_labels=labels, whis=(0, 100), showfliers=False)
            ax.tick_params(axis="x", labelrotation=30)
        ax.set_title(f"{atom} (bits)")
        ax.set_gid(f"dist:{atom}")
        ax.grid(alpha=0.3)
    sub[0].suptitle(f"each measure's atoms over the {res.n_items} distributions (target {res.target})")

    # 2. pairwise scatter between measures, matched by item
    row = 1
    if pairs:
        axes = sub[row].subplots(1, len(pairs), squeeze=False)[0]
        items = res.column("item")
        for ax, (i, j) in zip(axes, pairs):
            (ga, ma), (gb, mb) = groups[i], groups[j]
            ia, ib = items[ma], items[mb]
            _, pa, pb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
            lo, hi = np.inf, -np.inf
            for atom in atoms:
                va, vb = res.column(atom)[ma][pa], res.column(atom)[mb][pb]
                ok = np.isfinite(va) & np.isfinite(vb)
                if ok.any():
                    ax.scatter(va[ok], vb[ok], s=6, alpha=0.6, color=colors[atom], label=atom, gid=f"scatter:{atom}")
                    lo, hi = min(lo, va[ok].min(), vb[ok].min()), max(hi, va[ok].max(), vb[ok].max())
            if np.isfinite(lo):
                ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.8, ls="--", gid="diagonal")
                ax.legend(fontsize="x-small", markerscale=2)
            else:
                ax.text(0.5, 0.5, "no common quantity", ha="center", va="center", transform=ax.transAxes)
            ax.set_xlabel(f"{ga} (bits)")
            ax.set_ylabel(f"{gb} (bits)")
            ax.set_gid(f"pair:{ga}|{gb}")
            ax.grid(alpha=0.3)
        sub[row].suptitle("pairwise comparison of measures, item by item")
        row += 1

    # 3. sweep: mean atom against the parameter, one line per measure
    if x is not None:
        xs_all = res.column(x)
        for facet in facets:
            axes = sub[row].subplots(1, len(atoms), squeeze=False)[0]
            fmask: np.ndarray = np.ones(len(res), dtype=bool)
            if facet is not None and cat is not None:
                fmask = np.asarray(res.column(cat) == facet, dtype=bool)
            tag = "" if facet is None else f":{cat}={facet}"
            for ax, atom in zip(axes, atoms):
                vals = res.column(atom)
                for g, mask in groups:
                    sel = mask & fmask & np.isfinite(vals)
                    if not sel.any():
                        continue
                    ux = np.unique(xs_all[sel])
                    ax.plot(ux, [vals[sel & (xs_all == u)].mean() for u in ux], marker="o", ms=3, label=g,
                            color=gcolors[g], gid=f"line:{g}")
                ax.set_xlabel(x)
                ax.set_title(f"{atom} (bits)" + ("" if facet is None else f", {cat} {facet}"))
                ax.set_gid(f"sweep:{atom}{tag}")
                ax.grid(alpha=0.3)
                if ax.lines:
                    ax.legend(fontsize="x-small")
            sub[row].suptitle(f"atoms against {x}" + ("" if facet is None else f" ({cat} {facet})")
                              + ", mean over items, one line per measure")
            row += 1

    # 4. the semi-supervised bounds against the true S (BROJA), one item per point
    if has_bounds:
        ax = sub[row].subplots(1, 1)
        rows = np.flatnonzero(res.column("measure") == "broja")
        _, first = np.unique(res.column("item")[rows], return_index=True)
        rows = rows[np.sort(first)]
        S = res.column("S")[rows]
        # S_lower = max(0, the two lower bounds) would hide them: each bound is drawn on its own
        for k, c in enumerate(("S_upper", "S_lower_redundancy", "S_lower_disagreement")):
            v = res.column(c)[rows]
            ok = np.isfinite(S) & np.isfinite(v)
            if ok.any():
                ax.scatter(S[ok], v[ok], s=5, alpha=0.5, color=f"C{k}", label=c, gid=f"scatter:{c}")
        ok = np.isfinite(S)
        if ok.any():
            ax.plot([S[ok].min(), S[ok].max()], [S[ok].min(), S[ok].max()], color="0.3", lw=0.8, ls="--",
                    gid="diagonal")
        ax.set_xlabel("true S, BROJA (bits)")
        ax.set_ylabel("bound on S (bits)")
        ax.set_gid("bounds")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", markerscale=2)
        sub[row].suptitle("semi-supervised bounds on S (from the pairwise marginals) against the true S; "
                          "S_lower = max(0, the lower bounds)")
    return fig
