r"""Nonparametric bootstrap of the semi-supervised bounds (:func:`pidlab.estimate` with ``n_bootstrap > 0``).

Each replicate resamples the three data sets (D1, D2, the unlabelled pairs) independently with
replacement, reuses the symbols of the discretizers fitted once on the original samples, recounts
and reconciles the three tables (all replicates at once, batched EM) and recomputes every bound
(docs/theory.rst §3-§4; the guide: docs/bounds.rst).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._fitting import clean_joint, kl_projection, l1_projection
from pidlab._marginals import Marginals
from pidlab._results import FrozenMap, Result, freeze
from pidlab._solvers._native._kernels import blas_threads
from pidlab.bounds._synergy import synergy_bounds
from pidlab.exceptions import AssumptionWarning, PidlabError

__all__ = ["BootstrapResult", "run_bootstrap", "BOOTSTRAP_QUANTITIES", "UNIMODAL_QUANTITIES", "EM_MAX_ITER",
           "EXTREMUM_QUANTITIES", "extremum_interval", "BOUNDS_MIN_PER_CELL", "small_sample_flags"]

#: The quantities the bootstrap reports an interval for (attributes of :class:`SynergyBounds`).
BOOTSTRAP_QUANTITIES = (
    "R", "U1", "U2", "S_lower_redundancy", "S_lower_disagreement", "S_lower", "S_upper",
    "accuracy_lower", "accuracy_upper", "alpha",
)

#: Bayes accuracies of each modality alone, also bootstrapped (the guidelines compare them with the multimodal range).
UNIMODAL_QUANTITIES = ("accuracy_x1", "accuracy_x2", "accuracy_unimodal_best")

#: Bounds that are the minimum (S_upper) or maximum (accuracy_lower) of several terms; their intervals are built from
#: the terms' (:func:`extremum_interval`), from :attr:`pidlab.bounds.SynergyBoundsMany.terms`.
EXTREMUM_QUANTITIES = {"S_upper": "min", "accuracy_lower": "max"}

#: EM iterations of the maximum-likelihood reconciliation (point estimate and every replicate).
EM_MAX_ITER = 3000


@dataclass(frozen=True)
class BootstrapResult(Result):
    """Nonparametric bootstrap of the semi-supervised bounds: intervals and a band for S.

    Each replicate resamples the three data sets (D1, D2, the unlabelled pairs) independently
    with replacement, reuses the symbols of the discretizers fitted once on the original
    samples, recomputes and reconciles the three tables and recomputes every bound.

    A :class:`~pidlab._results.Result` (``to_dict``, ``to_json``, ``table``/``str``,
    ``_repr_html_``). Hashable; equality and hash leave out ``replicates`` (arrays).

    Attributes
    ----------
    n_bootstrap : int
        Replicates drawn.
    n_used : int
        Replicates that produced bounds (a replicate whose analysis raised is skipped, noted).
    confidence : float
        Two-sided level of the intervals.
    intervals : FrozenMap of str -> (float, float)
        Interval of each quantity in ``BOOTSTRAP_QUANTITIES`` and of the unimodal Bayes
        accuracies ``UNIMODAL_QUANTITIES`` (bits; accuracies as fractions); read-only. With the
        point values (as :func:`pidlab.estimate` passes them) each is the hull of the percentile
        and the bias-corrected percentile interval (:func:`bias_corrected_interval`); without,
        the percentile interval.
    S_band : (float, float)
        Conservative band for the synergy: the lower end of the interval of the best lower
        bound ``S_lower = max(0, S_lower_redundancy, S_lower_disagreement)`` and the upper end
        of the interval of ``S_upper``.
    replicates : FrozenMap of str -> numpy.ndarray
        The replicate values behind the intervals (NaN for a skipped replicate); read-only.
        ``"S_upper terms"`` and ``"accuracy_lower terms"`` (shape (replicates, K)) hold the
        terms those two bounds are the minimum and maximum of
        (:attr:`pidlab.bounds.SynergyBoundsMany.terms`), from which their intervals are built.
    corrected : FrozenMap of str -> float
        Bootstrap bias-corrected value of each bound, ``2 * point - mean(replicates)``, beside the
        point value on :attr:`EstimateResult.bounds` (empty without the point values). A bound's
        own direction (lower or upper) is not guaranteed to survive the correction: the advice
        uses the intervals, not these.
    flags : FrozenMap of str -> str
        Quantities whose interval lies within its own width of a boundary of the quantity (an
        atom near 0, ``S_upper`` near ``H(Y)``, ``accuracy_lower`` near the majority-class rate),
        where plug-in bias makes the bootstrap's coverage unreliable (measured in
        docs/inference.rst), with the reason; R, U1 and U2 together when one of them is (a
        shared BROJA kink); ``S_upper`` and ``accuracy_lower`` also when a data set has fewer
        than ``BOUNDS_MIN_PER_CELL`` (100) samples per cell of its table
        (:func:`small_sample_flags`). ``reliable(name)`` says whether one is unflagged.
    S_lower_p_value : float or None
        p-value of the test of ``S = 0`` against the observed (positive) ``S_lower``
        (:func:`synergy_null_test`); None when ``S_lower`` was 0 or no test was run.
    assumptions : tuple of str
        What the band rests on (it is a bootstrap band under the plug-in model, not a
        guarantee).
    notes : tuple of str
    seconds : float
        Wall time of the bootstrap.
    """

    n_bootstrap: int
    n_used: int
    confidence: float
    intervals: Mapping[str, tuple[float, float]]
    S_band: tuple[float, float]
    replicates: Mapping[str, NDArray[np.float64]] = field(repr=False, compare=False)
    assumptions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    S_lower_p_value: float | None = None
    flags: Mapping[str, str] = field(default_factory=dict)
    corrected: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "intervals", freeze(self.intervals))
        object.__setattr__(self, "flags", freeze(self.flags))
        object.__setattr__(self, "corrected", freeze(self.corrected))
        object.__setattr__(self, "S_band", tuple(self.S_band))
        if not isinstance(self.replicates, FrozenMap):
            object.__setattr__(self, "replicates", FrozenMap(self.replicates))

    def contains(self, S: float, *, atol: float = 1e-9) -> bool:
        """Whether a synergy value lies in ``S_band`` (within ``atol``)."""
        return self.S_band[0] - atol <= S <= self.S_band[1] + atol

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_bootstrap": self.n_bootstrap,
            "n_used": self.n_used,
            "confidence": self.confidence,
            "units": self.units,
            "intervals": {k: [float(v[0]), float(v[1])] for k, v in self.intervals.items()},
            "S_band": [float(self.S_band[0]), float(self.S_band[1])],
            "assumptions": list(self.assumptions),
            "notes": list(self.notes),
            "seconds": self.seconds,
            "S_lower_p_value": self.S_lower_p_value,
            "flags": dict(self.flags),
            "corrected": dict(self.corrected),
        }

    def reliable(self, name: str) -> bool:
        """Whether the interval of ``name`` carries no boundary flag."""
        return name not in self.flags

    def summary(self) -> str:
        """One line: replicates used, level and the band for S."""
        from pidlab._render import bootstrap_summary

        return bootstrap_summary(self)

    def table(self) -> str:
        from pidlab._render import bootstrap_text

        return bootstrap_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import bootstrap_html

        return bootstrap_html(self)


def run_bootstrap(
    *, codes1: tuple[NDArray[np.intp], NDArray[np.intp]], codes2: tuple[NDArray[np.intp], NDArray[np.intp]],
    shape: tuple[int, int, int], n_bootstrap: int, confidence: float, rng: np.random.Generator, reconcile: str,
    solver: Any, labels: Any, names: tuple[str, str, str], d_pairs: NDArray[np.float64] | None,
    alpha_note: str | None, point: Mapping[str, float] | None = None,
    labelled_tables: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    point_joint: NDArray[np.float64] | None = None,
) -> BootstrapResult:
    """Resample the three data sets, reconcile all replicates at once (batched EM), bound each one.

    ``codes1`` holds the (x1, y) cell of each D1 sample and the x1 symbol of each pair, ``codes2``
    likewise for modality 2; ``shape`` is ``(|X1|, |X2|, |Y|)``; ``d_pairs`` the classifier
    disagreement of each pair (resampled with the pairs) or None. Replicate ``b`` draws, from
    ``rng`` and in this order, ``rng.integers(0, n, n)`` row indices for D1, D2 and the pairs.
    ``point`` (the bounds of the original samples) turns each percentile interval into the
    bias-corrected one (:func:`bias_corrected_interval`). With the default solver all replicates
    are bounded at once (:func:`pidlab.bounds.synergy_bounds_many`). With ``point`` and
    ``labelled_tables`` (the reconciled ``p(x1,y)``, ``p(x2,y)``) a positive ``S_lower`` is also
    tested against ``S = 0`` (:func:`synergy_null_test`); where the test does not reject at level
    ``(1 - confidence) / 2`` the lower end of ``S_lower``'s interval (and so of the band) is 0.
    ``S_upper`` and ``accuracy_lower`` are the minimum and maximum of several terms; their
    intervals come from the terms' (:func:`extremum_interval`), whose point values are those of
    ``point_joint`` (a joint with the original reconciled tables; without it, percentile intervals).
    """
    t0 = time.perf_counter()
    k1, k2, ny = shape
    c1y, c1p = codes1  # (x1, y) cell of each D1 sample; x1 symbol of each pair
    c2y, c2p = codes2
    n1, n2, nm = c1y.size, c2y.size, c1p.size
    pair_cells = c1p * k2 + c2p
    T1 = np.empty((n_bootstrap, k1, ny))
    T2 = np.empty((n_bootstrap, k2, ny))
    T12 = np.empty((n_bootstrap, k1, k2))
    alphas = np.full(n_bootstrap, np.nan)
    for r in range(n_bootstrap):
        i1 = rng.integers(0, n1, n1)
        i2 = rng.integers(0, n2, n2)
        im = rng.integers(0, nm, nm)
        T1[r] = np.bincount(c1y[i1], minlength=k1 * ny).reshape(k1, ny) / n1
        T2[r] = np.bincount(c2y[i2], minlength=k2 * ny).reshape(k2, ny) / n2
        T12[r] = np.bincount(pair_cells[im], minlength=k1 * k2).reshape(k1, k2) / nm
        if d_pairs is not None:
            alphas[r] = min(max(float(np.mean(d_pairs[im])), 0.0), 2.0)
    # Reconcile every replicate (independent resamples never agree on p(y), p(x1), p(x2)).
    if reconcile == "tv":
        R = np.stack([l1_projection(T1[r], T2[r], T12[r])[1] for r in range(n_bootstrap)])
    else:
        w = np.array([n1, n2, nm], dtype=float)
        step = max(1, 50_000 // (k1 * k2 * ny))  # batches of ~50k cells stay in cache (about 2x faster)
        R = np.concatenate([
            kl_projection(T1[s:s + step], T2[s:s + step], T12[s:s + step], w / w.sum(), max_iter=EM_MAX_ITER)
            for s in range(0, n_bootstrap, step)
        ])
    R = clean_joint(R)
    vals = {k: np.full(n_bootstrap, np.nan) for k in BOOTSTRAP_QUANTITIES}
    errors: list[str] = []
    n_warned = 0
    with blas_threads(1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        terms: dict[str, NDArray[np.float64]] = {}
        batched = solver is None and _bounds_batched(R, vals, alphas if d_pairs is not None else None, terms)
        for r in range(0 if batched else n_bootstrap):
            joint = R[r]
            try:
                m = Marginals(joint.sum(1), joint.sum(0), joint.sum(2), labels=labels, names=names, normalize=True)
                b = synergy_bounds(
                    m, solver=solver, joint=joint, alpha=None if d_pairs is None else float(alphas[r]),
                    alpha_note=alpha_note,
                )
            except PidlabError as exc:
                errors.append(f"replicate {r}: {type(exc).__name__}: {exc}")
                continue
            for k in BOOTSTRAP_QUANTITIES:
                vals[k][r] = getattr(b, k)
        if solver is not None:  # the terms of S_upper and accuracy_lower still come from the stacked bounds
            _bounds_batched(R, vals, alphas if d_pairs is not None else None, terms, write=False)
        point_terms: dict[str, NDArray[np.float64]] = {}
        if point is not None and point_joint is not None:
            a_pt = None if d_pairs is None else np.array([float(point["alpha"])])
            _bounds_batched(np.asarray(point_joint, dtype=float)[None], {}, a_pt, point_terms, write=False)
        n_warned = sum(1 for w_ in caught if not issubclass(w_.category, AssumptionWarning))
    # Bayes accuracy of each modality alone in every replicate (sum_x max_y p(x, y) of the reconciled joint), so
    # that advice comparing the multimodal with the unimodal accuracy rests on the sampling band of both.
    vals["accuracy_x1"] = R.sum(axis=2).max(axis=-1).sum(axis=-1)
    vals["accuracy_x2"] = R.sum(axis=1).max(axis=-1).sum(axis=-1)
    vals["accuracy_unimodal_best"] = np.maximum(vals["accuracy_x1"], vals["accuracy_x2"])
    ok = np.isfinite(vals["S_upper"])
    n_used = int(ok.sum())
    notes: list[str] = []
    if errors:
        notes.append(f"{len(errors)} of {n_bootstrap} replicates failed and were skipped; first: {errors[0]}")
    if n_warned:
        notes.append(f"the replicates raised {n_warned} solver/convergence warnings (suppressed; the bounds used "
                     "are the certified conservative ends)")
    if reconcile == "strict":
        notes.append("reconcile='strict': independent resamples of the three data sets never agree exactly, so "
                     "every replicate was reconciled with the maximum-likelihood EM ('ml')")
    if d_pairs is not None:
        notes.append("classifier disagreement: the per-pair disagreements were resampled with the pairs; the "
                     "classifiers were NOT refitted on resampled labelled data")
    if n_used == 0:
        raise PidlabError(
            "every bootstrap replicate failed (" + (errors[0] if errors else "no replicate") + "); use fewer clusters "
            "or more samples, or set n_bootstrap=0."
        )
    if n_used < n_bootstrap:
        warnings.warn(
            f"bootstrap: {n_bootstrap - n_used} of {n_bootstrap} replicates failed and were skipped (recorded in "
            "result.bootstrap.notes).",
            AssumptionWarning,
            stacklevel=3,
        )
    qlo, qhi = (1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0
    intervals = {}
    for k, v in vals.items():
        v = v[ok]
        intervals[k] = hull_interval(v, None if point is None else point.get(k), confidence)
    for k in EXTREMUM_QUANTITIES:
        if k in terms:
            vals[f"{k} terms"] = terms[k]
    ties = []
    for k, kind in EXTREMUM_QUANTITIES.items():  # a min or max of terms: from the terms' intervals
        if k in terms and (point is None or k in point_terms):
            lo, hi, n_near = extremum_interval(terms[k][ok], None if point is None else point_terms[k][0],
                                               confidence, kind)
            intervals[k] = (lo, hi)
            if n_near > 1:
                ties.append(f"{k} ({n_near} terms)")
    if ties:
        notes.append("near-tied terms (Bonferroni over them on the side they can move): " + ", ".join(ties))
    p_S: float | None = None
    if point is not None and labelled_tables is not None and float(point.get("S_lower", 0.0)) > 0.0:
        p_S = synergy_null_test(labelled_tables, (n1, n2, nm), float(point["S_lower"]), n_bootstrap, rng, reconcile)
        if p_S > qlo and intervals["S_lower"][0] > 0.0:
            intervals["S_lower"] = (0.0, intervals["S_lower"][1])
            notes.append(
                f"S_lower's lower end set to 0: the test of S = 0 does not reject at level {qlo:.3g} (p = {p_S:.3g}, "
                f"{n_bootstrap} surrogate data sets of the same sizes drawn from the BROJA optimiser q*, which has "
                "the labelled tables and S = 0): estimated tables make the lower bound positive by chance"
            )
    flags = boundary_flags(intervals, labelled_tables)
    for k, why in small_sample_flags((n1, n2, nm), shape).items():
        flags[k] = f"{flags[k]}; {why}" if k in flags else why
    if flags:
        notes.append("intervals where the bootstrap's coverage is not reliable (near a boundary, or few samples per "
                     "cell; docs/inference.rst): " + "; ".join(f"{k}: {v}" for k, v in flags.items()))
    band = (intervals["S_lower"][0], intervals["S_upper"][1])
    method = ("bootstrap, each interval the hull of the percentile interval and the bias-corrected (BC) one (whose "
              "quantiles are shifted by the share of replicates below the point value, a first-order correction of "
              "the plug-in bias); the correction only widens an interval, because the resampled-and-reconciled "
              "replicates can be biased the other way (seen on the digits demo); S_upper and accuracy_lower, a "
              "minimum and a maximum of several terms, from the intervals of their terms (a near tie biases the "
              "extremum in a way its own bootstrap does not see)"
              if point is not None else "percentile bootstrap (no bias correction)")
    assumptions = (
        f"nonparametric {method}, under the plug-in model: the empirical distribution of each data set stands in "
        "for the population; the band is approximate (not a guarantee)",
        "the three data sets are independent samples; each is resampled with replacement at its own size",
        "the discretizers were fitted once on the original samples; their variability is not included",
            f"band for S = [lower end of S_lower's interval, upper end of S_upper's] over the replicates (levels "
        f"{qlo:.3g} and {qhi:.3g})",
    )
    return BootstrapResult(
        n_bootstrap=n_bootstrap, n_used=n_used, confidence=confidence, intervals=intervals, S_band=band,
        replicates=vals, assumptions=assumptions, notes=tuple(notes), seconds=time.perf_counter() - t0,
        S_lower_p_value=p_S, flags=flags,
        corrected={} if point is None else {k: 2.0 * float(point[k]) - float(np.mean(vals[k][ok]))
                                            for k in BOOTSTRAP_QUANTITIES if k in point},
    )


def bias_corrected_interval(v: NDArray[np.float64], theta: float | None, confidence: float) -> tuple[float, float]:
    """The bias-corrected (BC) percentile interval of replicates ``v`` around the point value ``theta``
    (Efron 1981): ``z0 = Phi^-1(share of v below theta, ties counted half)``, then the quantiles
    ``Phi(2 z0 +- z_{(1+confidence)/2})``. The share is kept within ``[1/(n+1), n/(n+1)]``, so a
    point value outside the replicates shifts the interval as far as ``n`` replicates can say.
    Without ``theta`` (or a non-finite one): the plain percentile interval.
    """
    from statistics import NormalDist

    qlo, qhi = (1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0
    if theta is not None and math.isfinite(theta) and v.size:
        nd = NormalDist()
        n = v.size
        tie = np.abs(v - theta) <= 1e-12
        share = (float(np.sum(v < theta - 1e-12)) + 0.5 * float(np.sum(tie))) / n
        share = min(max(share, 1.0 / (n + 1)), n / (n + 1.0))
        z0 = nd.inv_cdf(share)
        z = nd.inv_cdf(qhi)
        qlo, qhi = nd.cdf(2 * z0 - z), nd.cdf(2 * z0 + z)
    return float(np.quantile(v, qlo)), float(np.quantile(v, qhi))


def hull_interval(v: NDArray[np.float64], theta: float | None, confidence: float) -> tuple[float, float]:
    """The hull of the percentile interval and the bias-corrected one (:func:`bias_corrected_interval`):
    the correction can only widen an interval (the resampled-and-reconciled replicates can be biased
    the other way)."""
    pct = bias_corrected_interval(v, None, confidence)
    bc = bias_corrected_interval(v, theta, confidence)
    return min(pct[0], bc[0]), max(pct[1], bc[1])


def _bounds_batched(R: NDArray[np.float64], vals: dict[str, NDArray[np.float64]],
                    alphas: NDArray[np.float64] | None, terms: dict[str, NDArray[np.float64]],
                    write: bool = True) -> bool:
    """Every replicate's bounds at once (:func:`pidlab.bounds.synergy_bounds_many`) into ``vals``
    (only with ``write``) and the terms of ``EXTREMUM_QUANTITIES`` into ``terms``; False (nothing
    written) when the batch cannot be used, so the caller bounds one by one."""
    from pidlab.bounds._many import synergy_bounds_many

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bm = synergy_bounds_many(R, normalize=True, alpha=alphas)
    except PidlabError:
        return False
    if write:
        for k in BOOTSTRAP_QUANTITIES:
            vals[k][:] = getattr(bm, k)
    terms.update(bm.terms)
    return True


def extremum_interval(reps: NDArray[np.float64], point: NDArray[np.float64] | None, confidence: float,
                      kind: str) -> tuple[float, float, int]:
    """Interval for ``min_k T_k`` (``kind="min"``) or ``max_k T_k`` (``"max"``) from the replicates
    of each term, ``reps`` of shape (replicates, K), and the terms' point values.

    The plug-in extremum of noisy terms is biased towards the extreme wherever two terms are close
    (the expected minimum of two equal noisy terms lies about 0.56 standard deviations below
    both), and the bootstrap of the extremum does not see that bias: it is not a smooth function
    there (the intersection bounds of Chernozhukov, Lee and Rosen, Econometrica 2013). So each
    term gets its own interval (the hull of the percentile and the bias-corrected one, as every
    quantity here) and, the extremum being monotone in every term, for ``"min"``

    * the lower end is ``min_k lo_k``: it misses only where the term that sets the true minimum
      misses below;
    * the upper end is ``min_k hi_k`` over the terms whose interval reaches below the smallest
      upper end (the terms that can set the minimum), each at the level ``1 - (1 - confidence) / m``
      for ``m`` such terms (Bonferroni): it misses only where one of them misses above.

    ``"max"`` is the mirror image. Terms with a non-finite point value or replicate are left out
    (a bound not computed). Returns ``(lo, hi, m)``.
    """
    if kind not in ("min", "max") or np.ndim(reps) != 2:
        from pidlab.exceptions import ParameterError

        raise ParameterError(
            f"extremum_interval takes replicates of shape (replicates, terms) and kind 'min' or 'max'. Got shape "
            f"{np.shape(reps)} and kind {kind!r} instead."
        )
    sign = 1.0 if kind == "min" else -1.0
    v = sign * np.asarray(reps, dtype=float)
    pt = None if point is None else sign * np.asarray(point, dtype=float)
    use = [k for k in range(v.shape[1])
           if np.all(np.isfinite(v[:, k])) and (pt is None or math.isfinite(float(pt[k])))]
    if not use:
        raise PidlabError("extremum_interval: no term has finite replicates")

    def iv(k: int, level: float) -> tuple[float, float]:
        return hull_interval(v[:, k], None if pt is None else float(pt[k]), level)

    base = {k: iv(k, confidence) for k in use}
    lo = min(base[k][0] for k in use)
    hi0 = min(base[k][1] for k in use)
    near = [k for k in use if base[k][0] <= hi0]
    m = len(near)
    adj = 1.0 - (1.0 - confidence) / m
    hi = min(iv(k, adj)[1] if m > 1 else base[k][1] for k in near)
    return (lo, hi, m) if sign > 0 else (-hi, -lo, m)


def synergy_null_test(labelled: tuple[NDArray[np.float64], NDArray[np.float64]], sizes: tuple[int, int, int],
                      observed: float, n_surrogates: int, rng: np.random.Generator, reconcile: str) -> float:
    """p-value of ``S = 0`` against an observed lower bound ``S_lower`` from three data sets.

    The null distribution is the BROJA optimiser ``q*`` of the labelled tables ``p(x1,y)``,
    ``p(x2,y)``: it has those tables and synergy 0. Each surrogate draws three data sets of the
    observed sizes from ``q*`` (its ``(x1,y)``, ``(x2,y)`` and ``(x1,x2)`` marginals), counts and
    reconciles them as the data were, and computes ``S_lower`` (all at once,
    :func:`pidlab.bounds.synergy_bounds_many`). p = (1 + #{surrogate >= observed}) / (1 + n), never 0.
    """
    from pidlab._broja import BrojaProblem
    from pidlab._solvers import solve_broja
    from pidlab.bounds._many import synergy_bounds_many

    a, b = labelled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = np.clip(np.asarray(solve_broja(BrojaProblem(a / a.sum(), b / b.sum())).q, dtype=float), 0.0, None)
    q /= q.sum()
    k1, k2, ny = q.shape
    n1, n2, nm = sizes
    m1 = rng.multinomial(n1, q.sum(axis=1).ravel(), size=n_surrogates).reshape(n_surrogates, k1, ny) / n1
    m2 = rng.multinomial(n2, q.sum(axis=0).ravel(), size=n_surrogates).reshape(n_surrogates, k2, ny) / n2
    m12 = rng.multinomial(nm, q.sum(axis=2).ravel(), size=n_surrogates).reshape(n_surrogates, k1, k2) / nm
    if reconcile == "tv":
        R = np.stack([l1_projection(m1[r], m2[r], m12[r])[1] for r in range(n_surrogates)])
    else:
        w = np.array([n1, n2, nm], dtype=float)
        step = max(1, 50_000 // (k1 * k2 * ny))
        R = np.concatenate([kl_projection(m1[s:s + step], m2[s:s + step], m12[s:s + step], w / w.sum(),
                                          max_iter=EM_MAX_ITER) for s in range(0, n_surrogates, step)])
    R = clean_joint(R)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sur = synergy_bounds_many(R, normalize=True).S_lower
    return (1.0 + float(np.sum(sur >= observed - 1e-12))) / (1.0 + n_surrogates)


#: Fewer samples than this per cell of the smallest of the three tables flag the intervals of ``S_upper`` and
#: ``accuracy_lower``: at 200 samples per data set (22-50 per cell) they covered 79-89% at nominal 90% on the
#: validation's joints, at 1,000 (111-250 per cell) 90-97% (docs/inference.rst).
BOUNDS_MIN_PER_CELL = 100


def small_sample_flags(sizes: tuple[int, int, int], shape: tuple[int, int, int]) -> dict[str, str]:
    """``S_upper`` and ``accuracy_lower`` flagged when a data set has fewer than ``BOUNDS_MIN_PER_CELL`` samples per
    cell of its table (D1: |X1||Y| cells, D2: |X2||Y|, the pairs: |X1||X2|): both are extrema of non-smooth terms
    (couplings' minimum-entropy bounds; the Feder-Merhav bound and the unimodal accuracies) whose bootstrap
    undercovered there."""
    k1, k2, ny = shape
    per = min(sizes[0] / (k1 * ny), sizes[1] / (k2 * ny), sizes[2] / (k1 * k2))
    if per >= BOUNDS_MIN_PER_CELL:
        return {}
    why = (f"small sample: {per:.0f} samples per cell of the smallest table (fewer than {BOUNDS_MIN_PER_CELL}, where "
           "this interval undercovered in the validation)")
    return {"S_upper": why, "accuracy_lower": why}


def boundary_flags(intervals: Mapping[str, tuple[float, float]],
                   labelled: tuple[NDArray[np.float64], NDArray[np.float64]] | None) -> dict[str, str]:
    """The intervals that lie within their own width of a boundary of their quantity.

    There the population value may sit on the boundary, which every plug-in replicate misses on
    the same side (a true 0 is estimated above 0): R, U1, U2 near 0 (and then all three: the
    BROJA optimum is at a kink they share, as for the atoms); with the labelled tables,
    ``S_upper`` near ``H(Y)`` (its largest value) and ``accuracy_lower`` near ``max_y p(y)`` (no
    information).
    """
    out: dict[str, str] = {}
    for k in ("R", "U1", "U2"):
        lo, hi = intervals[k]
        if lo <= hi - lo:
            out[k] = f"within its width ({hi - lo:.3g} bits) of 0"
    if out:  # the BROJA optimum is then at a kink, which R, U1 and U2 share (as for the atoms, docs/inference.rst)
        at = ", ".join(out)
        for k in ("R", "U1", "U2"):
            out.setdefault(k, f"{at} near 0: the BROJA optimum may sit at a kink, which R, U1 and U2 share")
    if labelled is not None:
        py = np.asarray(labelled[0], dtype=float).sum(axis=0)
        py = py / py.sum()
        pos = py[py > 0]
        Hy = float(-np.sum(pos * np.log2(pos)))
        lo, hi = intervals["S_upper"]
        if hi >= Hy - (hi - lo):
            out["S_upper"] = f"within its width of H(Y) = {Hy:.4g} bits, the largest value it can take"
        lo, hi = intervals["accuracy_lower"]
        if lo <= float(py.max()) + (hi - lo):
            out["accuracy_lower"] = f"within its width of the majority-class rate {float(py.max()):.4g} (no information)"
    return out
