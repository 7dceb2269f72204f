"""BoundsPanel: semi-supervised bounds on synergy (Liang et al., ICLR 2024) from three pairwise tables."""

from __future__ import annotations

import functools
import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from pidlab import discretizers
from pidlab.exceptions import InvalidDistributionError
from pidlab.widgets._base import INTERVAL_CI, INTERVAL_SEED, PanelBase

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from pidlab import Marginals

__all__ = ["BoundsPanel", "bounds_figure", "digits_demo", "marginals_from_file", "oracle"]

REPAIRS = [("none (inconsistent tables are an error)", "none"), ("total variation", "tv"), ("KL (I-projection)", "kl")]
#: The bootstrap's name of the quantity on each row of the panel's table.
ROW_KEYS = {
    "R (exact)": "R", "U1 (exact)": "U1", "U2 (exact)": "U2",
    "S lower bound, redundancy (Thm 1)": "S_lower_redundancy",
    "S lower bound, disagreement (Thm 2)": "S_lower_disagreement",
    "S upper bound (eq. 50)": "S_upper", "S lower (best, ≥ 0)": "S_lower",
    "Bayes accuracy, lower": "accuracy_lower", "Bayes accuracy, upper": "accuracy_upper",
    "Bayes accuracy, left half alone": "accuracy_x1", "Bayes accuracy, right half alone": "accuracy_x2",
}


def marginals_from_file(name: str, content: bytes) -> Marginals:
    """Read three pairwise tables from JSON: ``{"p_x1y": ..., "p_x2y": ..., "p_x1x2": ...}``.

    This is the format of :meth:`pidlab.Marginals.to_dict` (``names`` optional); the reader is
    :func:`pidlab.io.read_marginals`, the same for every face.
    """
    from pidlab.io import read_marginals

    result: Marginals = read_marginals((name, content))
    return result


@functools.lru_cache(maxsize=1)
def digits_demo(seed: int = 0) -> tuple[Any, ...]:
    """The semi-supervised digits demo: scikit-learn's 8×8 digits, split into two modalities.

    Modality 1 is the left half of each image (32 pixels), modality 2 the right half, the target
    the digit. The 1797 images are shuffled (``seed``) and split into three disjoint thirds:
    labelled left halves (D1), labelled right halves (D2) and unlabelled pairs (DM).

    Returns
    -------
    x1_labelled, y1, x2_labelled, y2, x1_pairs, x2_pairs : numpy arrays (the arguments of
    :func:`pidlab.estimate`, in order)
    """
    import numpy as np

    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise InvalidDistributionError(
            f"the digits demo needs scikit-learn ({exc}); install it with pip install 'pidlab[ml]'."
        ) from None
    X, y = load_digits(return_X_y=True)
    img = X.reshape(-1, 8, 8)
    left, right = img[:, :, :4].reshape(len(X), -1), img[:, :, 4:].reshape(len(X), -1)
    d1, d2, dm = np.array_split(np.random.default_rng(seed).permutation(len(X)), 3)
    return left[d1], y[d1], right[d2], y[d2], left[dm], right[dm]


def oracle(p: Any) -> dict[str, float]:
    """What the full joint says, for comparison: BROJA synergy and the Bayes-optimal accuracy."""
    import pidlab

    dist = p if isinstance(p, pidlab.Distribution) else pidlab.Distribution(p)
    S = pidlab.decompose(dist, "broja").S
    assert S is not None  # BROJA defines every atom
    return {"S": float(S), "accuracy": float(dist.p.max(axis=2).sum())}


def bounds_figure(b: Any, truth: dict[str, float] | None = None, bootstrap: Any = None) -> Figure:
    """The synergy bounds as intervals on one axis (bits), and the accuracy range on another.

    Markers carry ``gid`` s (``"S_lower_redundancy"``, ..., ``"oracle_S"``) so tests can read them.
    With a ``bootstrap`` (:class:`pidlab.BootstrapResult`) each bound gets its interval as an
    error bar (``gid`` ``"<name>_ci"``) and the conservative band for S is drawn below the point
    interval (``gid`` ``"S_band"``).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 3.0), dpi=96, layout="constrained")
    ax, ax_acc = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    lo, hi = b.S_lower, b.S_upper
    ax.plot([lo, hi], [0, 0], color="C0", linewidth=8, solid_capstyle="butt", alpha=0.35,
            label=f"S in [{lo:.4f}, {hi:.4f}]", gid="S_interval")
    marks = [
        ("S_lower_redundancy", b.S_lower_redundancy, "^", "C1", "lower: redundancy (Thm 1)"),
        ("S_lower_disagreement", b.S_lower_disagreement, "s", "C2", "lower: disagreement (Thm 2)"),
        ("S_upper", b.S_upper, "v", "C3", "upper (eq. 50)"),
    ]
    for gid, v, marker, color, label in marks:
        ax.plot([v], [0], marker=marker, color=color, markersize=10, linestyle="none", label=f"{label} {v:+.4f}", gid=gid)
        iv = None if bootstrap is None else bootstrap.intervals.get(gid)
        if iv is not None:  # the interval need not contain the point (bias correction): drawn from its ends
            ax.plot([iv[0], iv[1]], [0, 0], color=color, linewidth=1.5, marker="|", markersize=12, gid=f"{gid}_ci")
    if bootstrap is not None:
        blo, bhi = bootstrap.S_band
        ax.plot([blo, bhi], [-0.6, -0.6], color="C0", linewidth=3, solid_capstyle="butt",
                label=f"{bootstrap.confidence:.0%} band for S [{blo:.4f}, {bhi:.4f}]", gid="S_band")
        ax.set_ylim(-1.2, 0.8)
    if truth is not None:
        ax.plot([truth["S"]], [0], marker="*", color="k", markersize=14, linestyle="none",
                label=f"oracle S (BROJA on the full joint) {truth['S']:.4f}", gid="oracle_S")
    ax.axvline(0.0, color="0.5", linewidth=0.8)
    ax.set_yticks([])
    ax.set_xlabel(f"synergy about {b.names[2]} (bits)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax_acc.plot([b.accuracy_lower, b.accuracy_upper], [0, 0], color="C4", linewidth=8, solid_capstyle="butt",
                label=f"Bayes accuracy in [{b.accuracy_lower:.3f}, {b.accuracy_upper:.3f}]", gid="accuracy")
    if bootstrap is not None:
        alo, ahi = bootstrap.intervals["accuracy_lower"][0], bootstrap.intervals["accuracy_upper"][1]
        ax_acc.plot([alo, ahi], [-0.6, -0.6], color="C4", linewidth=3, solid_capstyle="butt",
                    label=f"{bootstrap.confidence:.0%} band [{alo:.3f}, {ahi:.3f}]", gid="accuracy_band")
        ax_acc.set_ylim(-1.2, 0.8)
    if truth is not None:
        ax_acc.plot([truth["accuracy"]], [0], marker="*", color="k", markersize=14, linestyle="none",
                    label=f"oracle accuracy {truth['accuracy']:.3f}", gid="oracle_accuracy")
    ax_acc.set_xlim(0.0, 1.02)
    ax_acc.set_yticks([])
    ax_acc.set_xlabel("accuracy of the best multimodal classifier")
    ax_acc.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return fig


class BoundsPanel(PanelBase):
    """Semi-supervised synergy bounds: R, U1, U2 exactly and S in an interval, from p(x1,y), p(x2,y), p(x1,x2).

    The three tables come from a canonical gate (or its noisy version) — then the full joint is
    known and its BROJA synergy and Bayes accuracy are drawn as the oracle — from an uploaded
    JSON file with the keys ``p_x1y``, ``p_x2y``, ``p_x1x2`` (the format of
    :meth:`pidlab.Marginals.to_dict`; no oracle), or from raw samples: the digits demo
    (:func:`digits_demo`) run through :func:`pidlab.estimate` with the chosen discretizer (menu
    built from the plugin registry) and number of clusters. Inconsistent uploaded tables are an
    error unless a repair is chosen; the result then says how far the tables moved.

    Examples
    --------
    >>> panel = BoundsPanel(gate="and")
    >>> b = panel.compute()
    >>> round(b.S_lower_redundancy, 6), round(panel.truth["S"], 6)
    (0.5, 0.5)
    """

    compute_label = "Bound"
    compute_tooltip = "bound the synergy from the three pairwise tables"
    upload_tooltip = "upload three pairwise tables: JSON with the keys p_x1y, p_x2y, p_x1x2 (Marginals.to_dict)"
    export_name = "pidlab-bounds.csv"

    def __init__(self, gate: str = "and", *, noise: float = 0.1) -> None:
        self.result: Any = None
        self.truth: dict[str, float] | None = None
        self._init_upload(".json", "upload tables (JSON)")
        self.repair = widgets.Dropdown(options=REPAIRS, value="none", description="repair",
                                       tooltip="what to do when uploaded tables are not the marginals of one joint")
        names = discretizers()
        self.discretizer = widgets.Dropdown(options=names, value="pca-kmeans" if "pca-kmeans" in names else None,
                                            description="discretizer",
                                            tooltip="how the raw digit halves become discrete symbols")
        self.n_clusters = widgets.IntSlider(value=10, min=2, max=30, description="clusters",
                                            continuous_update=False, tooltip="symbols per modality (digits demo)")
        #: Digits demo (raw samples) only: a bootstrap of the three data sets (pidlab.estimate's
        #: n_bootstrap); intervals and corrected values in the table, error bars and the band on the
        #: chart, and the advice on the conservative ends of the intervals.
        self._init_intervals(
            "digits demo: resample the three data sets (bootstrap) for an interval and a bias-corrected value of every "
            "bound; the advice then rests on the conservative ends of the intervals",
            value=100, low=20, high=5_000, step=20,
            boot_tooltip="bootstrap replicates (more: steadier interval ends, longer)",
        )
        self.estimate_result: Any = None
        self._init_source(gate, noise, [("uploaded tables", "upload"), ("digits demo (raw samples)", "digits")])
        self._init_common()
        self.status.value = "Choose the tables and press <b>Bound</b>."
        self.table = widgets.HTML("")
        self.chart = self._image("pidlab-chart")
        for w, cls in [(self.repair, "pidlab-repair"), (self.table, "pidlab-table"),
                       (self.discretizer, "pidlab-discretizer"), (self.n_clusters, "pidlab-clusters")]:
            w.add_class(cls)
        self._assemble(
            "pidlab · semi-supervised bounds on synergy (bits)",
            [widgets.HBox([self.source, self.gate, self.noise]), widgets.HBox([self.upload, self.upload_info]),
             widgets.HBox([self.discretizer, self.n_clusters, self.intervals, self.n_boot]),
             widgets.HBox([self.repair, self.compute_button, self.progress]), self.status, self.error,
             self.table, self.chart],
            "pidlab-bounds-panel",
        )

    def _sync_controls(self) -> None:
        """Noise for the noisy gate, discretizer and clusters for the digits, repair for uploads."""
        super()._sync_controls()
        self._show_if(self.discretizer, self.source.value == "digits")
        self._show_if(self.n_clusters, self.source.value == "digits")
        self._show_if(self.intervals, self.source.value == "digits")
        self._show_if(self.n_boot, self.source.value == "digits" and bool(self.intervals.value))
        self._show_if(self.repair, self.source.value == "upload")

    def _forget_result(self) -> None:
        self.result = self.truth = self.estimate_result = None

    def _code_for(self, repair: Any) -> str:
        """Python reproducing the current bounds."""
        if self.source.value == "digits":
            return (
                "import pidlab\nfrom pidlab.widgets import digits_demo\n\n"
                f"est = pidlab.estimate(*digits_demo(), discretizer={self.discretizer.value!r}, "
                f"n_clusters={int(self.n_clusters.value)!r}, names=('left', 'right', 'digit'){self._boot_args()})\n"
                "print(est.report())\n"
            )
        if self.source.value == "gate":
            load = f"pidlab.Marginals.from_joint(pidlab.examples.get({self.gate.value!r}))"
        elif self.source.value == "noisy":
            load = f"pidlab.Marginals.from_joint(pidlab.examples.noisy({self.gate.value!r}, {float(self.noise.value)!r}))"
        else:
            load = self._upload_code("read_marginals")
        return (f"import pidlab\n\nm = {load}\nresult = pidlab.synergy_bounds(m, repair={repair!r})\n"
                "print(result.table())\n")

    def _n_bootstrap(self) -> int:
        return int(self.n_boot.value) if self.source.value == "digits" and self.intervals.value else 0

    def _boot_args(self) -> str:
        n = self._n_bootstrap()
        return f", n_bootstrap={n}, confidence={INTERVAL_CI}, random_state={INTERVAL_SEED}" if n else ""

    def _read_file(self, name: str, content: bytes) -> tuple[Marginals, str]:
        """Three tables from JSON (see :func:`marginals_from_file`)."""
        m = marginals_from_file(name, content)
        return m, f"|X1|×|X2|×|Y| = {'×'.join(map(str, m.shape))}"

    def _inputs(self) -> tuple[Marginals, dict[str, float] | None, str]:
        import pidlab

        if self.source.value in ("gate", "noisy"):
            d, what = self._gate_distribution()
            return pidlab.Marginals.from_joint(d), oracle(d), what
        if self._uploaded is None:
            raise InvalidDistributionError(
                "no usable tables uploaded; upload a JSON file with the keys p_x1y, p_x2y, p_x1x2, or choose a gate."
            )
        name, m = self._uploaded
        return m, None, f"file {name}"

    def _compute(self) -> Any:
        import pidlab

        self.progress.max, self.progress.value = 2, 0
        est = None
        repair: Any = False if self.repair.value == "none" else self.repair.value
        if self.source.value == "digits":
            if self.discretizer.value is None:
                raise InvalidDistributionError("no discretizer is registered; install pidlab with its built-in plugins.")
            what = f"digits demo ({self.discretizer.value}, {self.n_clusters.value} clusters per half)"
            self.status.value = f"Loading the digits and estimating the tables: {html.escape(what)} …"
            n_boot = self._n_bootstrap()
            if n_boot:
                self.status.value = (f"Estimating the tables of the {html.escape(what)} and bounding {n_boot} bootstrap "
                                     "replicates (each one is re-estimated and bounded) …")
            est = pidlab.estimate(*digits_demo(), discretizer=self.discretizer.value, n_clusters=self.n_clusters.value,
                                  names=("left", "right", "digit"),
                                  **({"n_bootstrap": n_boot, "confidence": INTERVAL_CI, "random_state": INTERVAL_SEED}
                                     if n_boot else {}))
            b, truth = est.bounds, None
        else:
            m, truth, what = self._inputs()
            self.status.value = f"Bounding synergy on {html.escape(what)} …"
            try:
                b = pidlab.synergy_bounds(m, repair=repair)
            except pidlab.InconsistentMarginalsError as exc:
                raise pidlab.InconsistentMarginalsError(
                    f"{exc} In this panel: choose a repair method in the 'repair' menu.", report=exc.report
                ) from None
        self.progress.value = 1
        self.result, self.truth, self.estimate_result = b, truth, est
        rows = [
            ("R (exact)", b.R), ("U1 (exact)", b.U1), ("U2 (exact)", b.U2),
            ("S lower bound, redundancy (Thm 1)", b.S_lower_redundancy),
            ("S lower bound, disagreement (Thm 2)", b.S_lower_disagreement),
            ("S upper bound (eq. 50)", b.S_upper),
            ("S lower (best, ≥ 0)", b.S_lower),
            ("Bayes accuracy, lower", b.accuracy_lower), ("Bayes accuracy, upper", b.accuracy_upper),
        ]
        if truth is not None:
            rows += [("oracle S (BROJA on the full joint)", truth["S"]), ("oracle Bayes accuracy", truth["accuracy"])]
        extra = ""
        notes_list = list(b.notes)
        bs = None if est is None else est.bootstrap
        if est is not None:
            rows += [("Bayes accuracy, left half alone", est.unimodal_accuracy[0]),
                     ("Bayes accuracy, right half alone", est.unimodal_accuracy[1])]
            g = est.guidelines()
            extra = "".join(
                f"<p><b>{html.escape(q)}</b> {html.escape(g[k]['verdict'])}: {html.escape(g[k]['reason'])}.</p>"
                for q, k in [("Collect labelled multimodal data?", "collect_multimodal"),
                             ("Fusion model built for synergy?", "synergy_model")]
            )
            notes_list = [*est.notes, *(n for n in b.notes if n not in est.notes)]
            if bs is None:
                notes_list.append("the bounds hold for the discretised variables and treat the estimated tables as "
                                  "exact (tick '90% intervals from the samples' for the sampling error).")
            else:
                extra += (f"<p>The advice rests on {html.escape(g['basis'])}. {bs.confidence:.0%} band for S: "
                          f"[{bs.S_band[0]:.4f}, {bs.S_band[1]:.4f}] bits"
                          + (f" (test of S = 0: p = {bs.S_lower_p_value:.3g})" if bs.S_lower_p_value is not None else "")
                          + ".</p>")
                notes_list += [*bs.assumptions, *bs.notes]
        body = "".join(self._row_html(k, v, bs) for k, v in rows)
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in notes_list)
        head = "<th>value</th>" + (f"<th>{bs.confidence:.0%} interval</th><th>corrected</th><th>flag</th>"
                                   if bs is not None else "")
        self.table.value = (
            f"<table><thead><tr><th>quantity (target {html.escape(b.names[2])})</th>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{extra}" + (f"<ul class='pidlab-notes'>{notes}</ul>" if notes else "")
        )
        self._show(self.chart, bounds_figure(b, truth, bs))
        self._publish([self._record(what, k, v, bs) for k, v in rows], self._code_for(repair))
        self.progress.value = 2
        self.status.value = (
            f"Bounded synergy on <b>{html.escape(what)}</b>: S in [{b.S_lower:.6f}, {b.S_upper:.6f}] bits"
            + (f"; {bs.confidence:.0%} band [{bs.S_band[0]:.6f}, {bs.S_band[1]:.6f}] from {bs.n_used} replicates"
               if bs is not None else "")
            + (f"; oracle S = {truth['S']:.6f}" if truth is not None else "")
            + ("; tables were repaired" if b.repair is not None else "")
            + "."
        )
        return b

    @staticmethod
    def _record(what: str, label: str, value: float, bs: Any) -> dict[str, Any]:
        rec: dict[str, Any] = {"data": what, "quantity": label, "value": float(value),
                               "unit": "probability" if "accuracy" in label else "bits"}
        key = ROW_KEYS.get(label)
        if bs is not None:
            iv = bs.intervals.get(key) if key else None
            rec.update(ci_low=None if iv is None else float(iv[0]), ci_high=None if iv is None else float(iv[1]),
                       corrected=float(bs.corrected[key]) if key in bs.corrected else None,
                       flag=bs.flags.get(key, "") if key else "")
        return rec

    @staticmethod
    def _row_html(label: str, value: float, bs: Any) -> str:
        cells = f"<td>{html.escape(label)}</td><td>{value:.6f}</td>"
        if bs is not None:
            key = ROW_KEYS.get(label)
            iv = bs.intervals.get(key) if key else None
            cor = bs.corrected.get(key) if key else None
            flag = bs.flags.get(key, "") if key else ""
            cells += (f"<td>{'' if iv is None else f'[{iv[0]:.4f}, {iv[1]:.4f}]'}</td>"
                      f"<td>{'' if cor is None else f'{cor:.4f}'}</td><td>{html.escape(flag)}</td>")
        return f"<tr>{cells}</tr>"
