r"""From raw samples to semi-supervised synergy bounds (:func:`estimate`).

Pipeline (Liang et al., ICLR 2024, §4-5): discretise each modality with a discretizer plugin
fitted on ALL samples of that modality (labelled and unlabelled), count the three tables
``p(x1,y)`` from D1, ``p(x2,y)`` from D2 and ``p(x1,x2)`` from DM, reconcile them (three data
sets never agree exactly on ``p(y)``, ``p(x1)``, ``p(x2)``) and call :func:`synergy_bounds`.

:func:`estimate` runs one step function per stage: the samples steps of
:mod:`pidlab.bounds._samples` (check, discretise, count), then :func:`_reconcile`,
:func:`_classifier_alpha` and :func:`_bounds` here, the bootstrap of :mod:`pidlab.bounds._bootstrap`,
and :func:`_assemble`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._marginals import ConsistencyReport, Marginals
from pidlab._results import Result, freeze, thaw
from pidlab._status import Status
from pidlab.bounds._bootstrap import BOOTSTRAP_QUANTITIES, EM_MAX_ITER, BootstrapResult, run_bootstrap
from pidlab.bounds._samples import (
    MIN_SAMPLES,
    Samples,
    Tables,
    classifier_disagreements,
    count_tables,
    discretize,
    read_samples,
)
from pidlab.bounds._synergy import SynergyBounds, _check_size, synergy_bounds
from pidlab.exceptions import AssumptionWarning, InconsistentMarginalsError, ParameterError

__all__ = ["estimate", "EstimateResult", "BootstrapResult", "MIN_SAMPLES", "BOOTSTRAP_QUANTITIES"]

_RECONCILE = ("ml", "tv", "strict")


@dataclass(frozen=True)
class EstimateResult(Result):
    """Semi-supervised bounds estimated from raw data, with everything needed to judge them.

    A :class:`~pidlab._results.Result`: ``to_dict()``, ``to_json()``, ``table()`` (the
    :meth:`report`, also ``str()``) and ``_repr_html_()``. Hashable (the nested mappings are
    read-only :class:`~pidlab._results.FrozenMap`; the fitted discretizers are left out of
    equality and hash). ``sources`` and ``target`` are the variable names of :attr:`bounds`.

    Attributes
    ----------
    bounds : SynergyBounds
        The bounds computed from the reconciled tables.
    marginals_raw : Marginals
        The three empirical tables as counted (before reconciliation).
    marginals : Marginals
        The realisable tables the bounds were computed from.
    reconcile : str
        How the three data sets were reconciled (``"ml"``, ``"tv"`` or ``"strict"``).
    repair : FrozenMap or None
        How far reconciliation moved each table (total variation, KL), or None when the raw
        tables were already consistent.
    consistency_raw : FrozenMap
        Consistency report of the raw tables.
    classes : tuple
        Target labels in table order.
    n_samples : FrozenMap
        Sizes of the three data sets.
    unimodal_accuracy : tuple of float
        Bayes accuracy of each discretised modality alone, ``sum_x max_y p(x, y)``.
    discretizers : tuple of str
        The two fitted discretizers (repr).
    timings : FrozenMap
        Seconds per stage.
    notes : tuple of str
    fitted_discretizers : (d1, d2)
        The fitted discretizer objects (``transform`` maps new samples to the same symbols;
        symbol ``marginals.labels[i][k]`` is row ``k`` of the tables).
    bootstrap : BootstrapResult or None
        With ``n_bootstrap > 0``: bootstrap intervals and the band for S.
    """

    bounds: SynergyBounds
    marginals_raw: Marginals = field(repr=False)
    marginals: Marginals = field(repr=False)
    reconcile: str
    repair: Mapping[str, Any] | None
    consistency_raw: Mapping[str, Any]
    classes: tuple[Hashable, ...]
    n_samples: Mapping[str, int]
    unimodal_accuracy: tuple[float, float]
    discretizers: tuple[str, str]
    timings: Mapping[str, float]
    notes: tuple[str, ...] = ()
    fitted_discretizers: tuple[Any, Any] | None = field(default=None, repr=False, compare=False)
    bootstrap: BootstrapResult | None = None

    def __post_init__(self) -> None:
        for name in ("repair", "consistency_raw", "n_samples", "timings"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, freeze(value))
        object.__setattr__(self, "classes", tuple(self.classes))

    @property
    def sources(self) -> tuple[str, str]:
        """Names of the two modalities (sources)."""
        return self.bounds.sources

    @property
    def target(self) -> str:
        """Name of the target."""
        return self.bounds.target

    @property
    def status(self) -> Status:
        """Status of the BROJA solve behind R, U1, U2 (``bounds.status``)."""
        return self.bounds.status

    def guidelines(
        self, *, accuracy_margin: float = 0.02, synergy_bits: float = 0.05, basis: str | None = None
    ) -> dict[str, Any]:
        """The paper's two guidelines, decided from the bounds with the numbers behind them.

        Parameters
        ----------
        accuracy_margin : float
            Smallest gain in Bayes accuracy over the best single modality worth collecting
            labelled multimodal data for.
        synergy_bits : float
            Synergy (bits) below which a fusion model built for synergy is not warranted.
        basis : {"bootstrap", "point"} or None
            Which numbers the advice rests on. ``"bootstrap"``: the conservative ends of the
            bootstrap intervals (the lower end of every "at least", the upper end of every "at
            most"), so the advice accounts for sampling error; ``"point"``: the point bounds,
            which treat the estimated tables as exact. None (default): ``"bootstrap"`` when the
            result has a bootstrap (``n_bootstrap > 0``), else ``"point"``.

        Returns
        -------
        dict with keys ``collect_multimodal`` and ``synergy_model``, each holding a
        ``verdict`` ("yes", "no", "undetermined"), the ``reason`` and the ``basis`` it rests
        on, and ``basis`` (the same description once).
        """
        b = self.bounds
        bs = self.bootstrap
        if basis is None:
            basis = "point" if bs is None else "bootstrap"
        if basis not in ("point", "bootstrap"):
            raise ParameterError(
                f"The `'basis'` parameter of `EstimateResult.guidelines` must be 'point', 'bootstrap' or None. Got "
                f"{basis!r} instead."
            )
        if basis == "bootstrap":
            if bs is None:
                raise ParameterError(
                    "The `'basis'` parameter of `EstimateResult.guidelines` must be 'point' or None for a result "
                    "without a bootstrap. Got 'bootstrap' instead: call estimate(..., n_bootstrap=100) or use "
                    "basis='point'."
                )
            iv = bs.intervals
            a_lo, a_hi = iv["accuracy_lower"][0], iv["accuracy_upper"][1]
            u_lo, u_hi = iv["accuracy_unimodal_best"]
            s_lo, s_hi = bs.S_band
            what = (f"the conservative ends of the {bs.confidence:.0%} bootstrap intervals ({bs.n_used} replicates), "
                    "so sampling error is accounted for (approximately: see the bootstrap's assumptions)")
        else:
            a_lo, a_hi = b.accuracy_lower, b.accuracy_upper
            u_lo = u_hi = max(self.unimodal_accuracy)
            s_lo, s_hi = b.S_lower, b.S_upper
            what = ("the point bounds, which treat the estimated tables as exact (no sampling error; "
                    "estimate(..., n_bootstrap=100) bases the advice on a bootstrap band)")
        uni = f"{u_hi:.3f}" if u_lo == u_hi else f"at most {u_hi:.3f}"
        uni_lo = f"{u_lo:.3f}" if u_lo == u_hi else f"at least {u_lo:.3f}"
        gain_hi = a_hi - u_lo
        gain_lo = a_lo - u_hi
        if gain_hi < accuracy_margin:
            v1 = "no"
            r1 = (
                f"the best multimodal classifier is at most {a_hi:.3f} accurate, at most {gain_hi:+.3f} over the best "
                f"single modality ({uni_lo}); labelled multimodal data is unlikely to pay off"
            )
        elif gain_lo >= accuracy_margin:
            v1 = "yes"
            r1 = (
                f"the best multimodal classifier is at least {a_lo:.3f} accurate, {gain_lo:+.3f} or more over the "
                f"best single modality ({uni})"
            )
        else:
            v1 = "undetermined"
            r1 = (
                f"the best multimodal accuracy lies in [{a_lo:.3f}, {a_hi:.3f}] against [{u_lo:.3f}, {u_hi:.3f}] for "
                f"the best single modality: a gain of up to {gain_hi:+.3f} is possible but not guaranteed"
            )
        if s_hi < synergy_bits:
            v2, r2 = "no", (
                f"synergy is at most {s_hi:.3f} bits (< {synergy_bits} bits); a simple (late) fusion of unimodal "
                "models captures the available information"
            )
        elif s_lo >= synergy_bits:
            v2, r2 = "yes", (
                f"synergy is at least {s_lo:.3f} bits (>= {synergy_bits} bits): some information about the target "
                "exists only in the combination, so a fusion model built for interactions is warranted"
            )
        else:
            v2, r2 = "undetermined", (
                f"synergy lies in [{max(s_lo, 0.0):.3f}, {s_hi:.3f}] bits; pairwise data cannot decide "
                f"(R = {b.R:.3f}, U1 = {b.U1:.3f}, U2 = {b.U2:.3f})"
            )
        return {
            "collect_multimodal": {"verdict": v1, "reason": r1, "gain_upper": gain_hi, "gain_lower": gain_lo,
                                   "accuracy_interval": (a_lo, a_hi), "unimodal_interval": (u_lo, u_hi),
                                   "basis": basis},
            "synergy_model": {"verdict": v2, "reason": r2, "synergy_interval": (s_lo, s_hi), "basis": basis},
            "basis": what,
        }

    def report(self, **kwargs: Any) -> str:
        """A plain-text report for a newcomer: data, reconciliation, atoms and bounds, accuracy, advice.

        Each term is explained once; a lower bound below zero is shown as "no information"; the
        advice says which numbers it rests on (see :meth:`guidelines`, which ``kwargs`` go to).
        """
        from pidlab._render import estimate_text

        return estimate_text(self, **kwargs)

    def table(self) -> str:
        """The :meth:`report` with the default guidelines."""
        return self.report()

    def to_dict(self) -> dict[str, Any]:
        return {
            "bounds": self.bounds.to_dict(),
            "units": self.units,
            "reconcile": self.reconcile,
            "repair": None if self.repair is None else thaw(self.repair),
            "consistency_raw": thaw(self.consistency_raw),
            "classes": [c.item() if isinstance(c, np.generic) else c for c in self.classes],
            "n_samples": thaw(self.n_samples),
            "unimodal_accuracy": list(self.unimodal_accuracy),
            "discretizers": list(self.discretizers),
            "guidelines": self.guidelines(),
            "timings": thaw(self.timings),
            "notes": list(self.notes),
            "bootstrap": None if self.bootstrap is None else self.bootstrap.to_dict(),
        }

    def _repr_html_(self) -> str:
        from pidlab._render import estimate_html

        return estimate_html(self)


def estimate(
    x1_labelled: Any,
    y1: Any,
    x2_labelled: Any,
    y2: Any,
    x1_pairs: Any,
    x2_pairs: Any,
    *,
    discretizer: Any = "pca-kmeans",
    n_clusters: int | None = 20,
    discretizer_params: dict[str, Any] | None = None,
    classifier: Any = None,
    reconcile: str = "ml",
    random_state: Any = 0,
    solver: Any = None,
    variant: str = "valid",
    names: tuple[str, str, str] = ("X1", "X2", "Y"),
    n_bootstrap: int = 0,
    confidence: float = 0.9,
) -> EstimateResult:
    r"""Semi-supervised interaction bounds from raw samples.

    Parameters
    ----------
    x1_labelled, y1 : array_like or DataFrame, and labels
        D1: samples of modality 1 (rows; any number of features, continuous, or categorical with
        ``discretizer="categorical"``) with their labels.
    x2_labelled, y2 : array_like or DataFrame, and labels
        D2: labelled samples of modality 2.
    x1_pairs, x2_pairs : array_like or DataFrame
        DM: unlabelled paired samples (row i of each is one pair).
    discretizer : str, discretizer object, or pair of them
        Registered name (``"pca-kmeans"``: L2-normalise, PCA to 5, k-means, as in the paper;
        ``"kmeans"``, ``"quantile"``, ``"uniform"``, ``"categorical"`` or a third-party one) or an
        object with ``fit``/``transform``; a pair gives one per modality. Each is fitted on all
        samples of its modality (labelled and unlabelled).
    n_clusters : int or None, default 20
        Clusters per modality, for discretizers that take ``n_clusters``.
    discretizer_params : dict, optional
        Further parameters for a named discretizer.
    classifier : estimator or pair, optional
        A scikit-learn-style classifier with ``fit``/``predict_proba`` (cloned per modality, fitted
        on the raw labelled samples) whose soft predictions on the unlabelled pairs give the
        disagreement ``alpha``. The disagreement bound then rests on its Bayes-optimality
        (an :class:`AssumptionWarning` is issued and the assumption recorded). Default: the
        Bayes-optimal cluster posteriors ``p(y | x_i)``.
    reconcile : {"ml", "tv", "strict"}
        Three data sets never agree exactly on ``p(y)``, ``p(x1)``, ``p(x2)``. ``"ml"``: use the
        tables of the maximum-likelihood joint given all three sample sets (EM, weights = the data
        set sizes; :meth:`Marginals.repair` with ``method="kl"``). ``"tv"``: the closest realisable
        triple in total variation. ``"strict"``: raise if the raw tables are inconsistent. The
        result records how far the tables moved.
    random_state : None, int or Generator
        Seed of the discretizers and of the bootstrap resampling.
    solver : str or None
        BROJA backend.
    variant : {"valid", "paper"}
        See :func:`synergy_bounds`.
    names : three str
        Names of the two modalities and of the target.
    n_bootstrap : int, default 0
        Number of nonparametric bootstrap replicates (0: none). Each replicate resamples D1, D2
        and the pairs independently with replacement, keeps the symbols of the discretizers
        fitted once on the original samples, recounts and reconciles the tables (with the
        maximum-likelihood EM; ``reconcile="tv"`` uses the TV repair) and recomputes the bounds.
        The result's ``bootstrap`` holds an interval of every bound (the hull of the
        percentile and the bias-corrected percentile interval) and the band
        ``[lower end of S_lower's interval, upper end of S_upper's]`` for S. It is a bootstrap
        band under the plug-in model (recorded as an assumption), not a guarantee. Cost: about
        one bounds computation per replicate (0.1-0.3 s for 10-20 clusters).
    confidence : float, default 0.9
        Two-sided level of the bootstrap intervals, in (0, 1).

    Returns
    -------
    EstimateResult
        ``.bounds`` (a :class:`SynergyBounds`), ``.report()``, ``.guidelines()``.

    Raises
    ------
    InvalidDistributionError
        Empty or tiny data sets (fewer than ``MIN_SAMPLES``), mismatched lengths, NaN features or
        labels, labelled sets whose label sets differ, more clusters than samples.
    ParameterError
        A negative ``n_bootstrap``, a ``confidence`` outside (0, 1), an unknown ``reconcile``, a
        ``discretizer`` that is neither a registered name nor an object with fit/transform, or a
        ``classifier`` without ``predict_proba``.
    InconsistentMarginalsError
        ``reconcile="strict"`` and the three tables disagree.

    Notes
    -----
    Replicate ``b`` draws, from one ``numpy.random.default_rng(random_state)`` generator and in
    this order, ``rng.integers(0, n, n)`` row indices for D1, D2 and the pairs (``n`` the size of
    each); the generator is created after the discretizers are fitted.

    Examples
    --------
    >>> import numpy as np, pidlab
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     y = rng.integers(0, 2, n)
    ...     return y + 0.3 * rng.normal(size=n), y + 0.3 * rng.normal(size=n), y
    >>> a1, _, ya = draw(300); _, b2, yb = draw(300); p1, p2, _ = draw(300)
    >>> res = pidlab.estimate(a1, ya, b2, yb, p1, p2, discretizer="quantile",
    ...                       discretizer_params={"n_bins": 4})
    >>> 0 <= res.bounds.accuracy_lower <= res.bounds.accuracy_upper <= 1
    True
    """
    t0 = time.perf_counter()
    _check_parameters(n_bootstrap, confidence, reconcile)
    samples = read_samples(x1_labelled, y1, x2_labelled, y2, x1_pairs, x2_pairs)
    d1, d2, c1, c2 = discretize(x1_labelled, x1_pairs, x2_labelled, x2_pairs, discretizer=discretizer,
                                n_clusters=n_clusters, discretizer_params=discretizer_params, random_state=random_state)
    t_disc = time.perf_counter()
    tables = count_tables(c1, c2, samples, names)
    _check_size(tables.shape)  # refuse tables too large for the bounds before reconciling them
    t_tables = time.perf_counter()
    m, report, repair, joint, notes = _reconcile(tables.raw, reconcile, samples.sizes)
    t_rec = time.perf_counter()
    d_pairs, alpha, alpha_note = _classifier_alpha(classifier, x1_labelled, x2_labelled, x1_pairs, x2_pairs, samples)
    b = _bounds(m, solver=solver, variant=variant, alpha=alpha, alpha_note=alpha_note, joint=joint)
    t_b = time.perf_counter()
    boot = None
    if n_bootstrap:
        boot = run_bootstrap(
            codes1=tables.codes1, codes2=tables.codes2, shape=tables.shape, n_bootstrap=int(n_bootstrap),
            confidence=float(confidence), rng=np.random.default_rng(random_state), reconcile=reconcile, solver=solver,
            labels=tables.labels, names=names, d_pairs=d_pairs, alpha_note=alpha_note,
            point={k: float(getattr(b, k)) for k in BOOTSTRAP_QUANTITIES},
            labelled_tables=(np.asarray(m.p_x1y, dtype=float), np.asarray(m.p_x2y, dtype=float)),
            point_joint=joint if joint is not None else m.max_entropy_joint().joint,
        )
    t_boot = time.perf_counter()
    timings = {"discretize": t_disc - t0, "tables": t_tables - t_disc, "reconcile": t_rec - t_tables,
               "bounds": t_b - t_rec, "bootstrap": t_boot - t_b, "total": t_boot - t0}
    return _assemble(b, tables, m, report, repair, samples, reconcile=reconcile, discretizers=(d1, d2),
                     timings=timings, notes=notes, bootstrap=boot)


def _check_parameters(n_bootstrap: Any, confidence: Any, reconcile: Any) -> None:
    """Step 0: the options of :func:`estimate` (not the data)."""
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 0:
        raise ParameterError(
            f"The `'n_bootstrap'` parameter of `estimate` must be an int >= 0. Got {n_bootstrap!r} instead. "
            "0 turns the bootstrap off; ~100 is typical."
        )
    if not (isinstance(confidence, (float, int)) and 0.0 < float(confidence) < 1.0):
        raise ParameterError(
            f"The `'confidence'` parameter of `estimate` must be a number in (0, 1), e.g. 0.9. Got {confidence!r} "
            "instead."
        )
    if reconcile not in _RECONCILE:
        raise ParameterError(
            f"The `'reconcile'` parameter of `estimate` must be one of {_RECONCILE}. Got {reconcile!r} instead: "
            "'ml' (the default) for the maximum-likelihood joint, 'tv' for the least total variation, 'strict' to "
            "refuse tables that disagree."
        )


def _reconcile(
    raw: Marginals, reconcile: str, sizes: dict[str, int]
) -> tuple[Marginals, ConsistencyReport, dict[str, Any] | None, NDArray[np.float64] | None, list[str]]:
    """Step 4: the realisable tables the bounds use, the raw report, the repair (or None), its joint and notes.

    Three data sets never agree exactly on ``p(y)``, ``p(x1)``, ``p(x2)``: ``"ml"`` takes the
    maximum-likelihood joint (EM weighted by the data set sizes), ``"tv"`` the least total
    variation repair, ``"strict"`` raises.
    """
    notes: list[str] = []
    rep = raw.consistency()
    if rep.consistent:
        return raw, rep, None, None, notes
    if reconcile == "strict":
        raise InconsistentMarginalsError(
            rep.summary() + ". The three data sets disagree (as independent samples do); use reconcile='ml' "
            "(maximum-likelihood joint, the default) or reconcile='tv' to reconcile them explicitly.",
            report=rep,
        )
    method = "kl" if reconcile == "ml" else "tv"
    w = (sizes["labelled_1"], sizes["labelled_2"], sizes["pairs"])
    rr = (raw.repair(method=method, weights=w, max_iter=EM_MAX_ITER, _before=rep) if method == "kl"
          else raw.repair(method="tv", _before=rep))
    notes.append(
        f"the three empirical tables were reconciled with method {reconcile!r} "
        f"({'maximum-likelihood joint, EM weighted by data set sizes' if method == 'kl' else 'least total variation'}); "
        "largest change in total variation " + f"{rr.max_tv:.4f}"
    )
    return rr.marginals, rep, rr.to_dict(), rr.joint, notes


def _classifier_alpha(
    classifier: Any, x1_labelled: Any, x2_labelled: Any, x1_pairs: Any, x2_pairs: Any, samples: Samples
) -> tuple[NDArray[np.float64] | None, float | None, str | None]:
    """Step 5: with a user classifier, the disagreement of each pair, their mean ``alpha`` and its note."""
    if classifier is None:
        return None, None, None
    ny = len(samples.classes)
    d_pairs = classifier_disagreements(classifier, x1_labelled, samples.ia, x2_labelled, samples.ib, x1_pairs,
                                       x2_pairs, ny)
    alpha = min(max(float(np.mean(d_pairs)), 0.0), 2.0)
    alpha_note = (
        f"disagreement from user classifier(s) {type(classifier).__name__} on the raw features: the bound is valid "
        "only insofar as they are Bayes-optimal"
    )
    warnings.warn(
        "estimate(classifier=...): the disagreement bound now rests on the classifiers being Bayes-optimal "
        "(recorded on the result).",
        AssumptionWarning,
        stacklevel=3,
    )
    return d_pairs, alpha, alpha_note


def _bounds(m: Marginals, *, solver: Any, variant: str, alpha: float | None, alpha_note: str | None,
            joint: NDArray[np.float64] | None) -> SynergyBounds:
    """Step 6: :func:`synergy_bounds` on the reconciled tables (the repair's joint certifies them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)  # already warned in _classifier_alpha, recorded on the result
        return synergy_bounds(m, solver=solver, variant=variant, alpha=alpha, alpha_note=alpha_note, joint=joint)


def _assemble(
    b: SynergyBounds, tables: Tables, m: Marginals, report: ConsistencyReport, repair: dict[str, Any] | None,
    samples: Samples, *, reconcile: str, discretizers: tuple[Any, Any], timings: dict[str, float], notes: list[str],
    bootstrap: BootstrapResult | None,
) -> EstimateResult:
    """Step 8: the :class:`EstimateResult`, with the unimodal accuracies and a note when the tables are sparse."""
    sizes = samples.sizes
    k1u, k2u, ny = tables.shape
    acc1 = float(m.p_x1y.max(axis=1).sum())
    acc2 = float(m.p_x2y.max(axis=1).sum())
    cells = max(k1u * ny, k2u * ny, k1u * k2u)
    if min(sizes.values()) < 5 * cells:
        notes.append(
            f"few samples per table cell (smallest data set {min(sizes.values())} for up to {cells} cells): "
            "the tables, and so the bounds, carry sizeable estimation error; consider fewer clusters"
        )
    d1, d2 = discretizers
    return EstimateResult(
        bounds=b, marginals_raw=tables.raw, marginals=m, reconcile=reconcile, repair=repair,
        consistency_raw=report.to_dict(), classes=samples.classes, n_samples=sizes,
        unimodal_accuracy=(acc1, acc2), discretizers=(repr(d1), repr(d2)),
        timings=timings,
        notes=tuple(notes),
        fitted_discretizers=(d1, d2),
        bootstrap=bootstrap,
    )
