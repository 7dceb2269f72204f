r"""The semi-supervised triple of pairwise marginals ``(p(x1,y), p(x2,y), p(x1,x2))``.

In the semi-supervised setting (docs/theory.rst §3-§4) the three tables come from three different data
sets, so they need not agree: their implied ``p(y)``, ``p(x1)``, ``p(x2)`` may differ, and even
tables that agree on all singletons may have no joint distribution at all (``x1 = x2``,
``x2 = y``, ``x1 != y`` on bits). :class:`Marginals` validates the tables, reports how far they
are from realisable (:meth:`Marginals.consistency`, an exact LP), offers a documented repair
(:meth:`Marginals.repair`) and computes the maximum-entropy joint under all three marginals
(:meth:`Marginals.max_entropy_joint`), exactly, with a certificate.

This module holds the data types; the numerical engines (LP projections, EM, the maximum-entropy
solver) are in :mod:`pidlab._fitting`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._distribution import SUM_TOL, _labels_for, check_pmf
from pidlab._fitting import clean_joint, consistency_violation, kl_projection, l1_projection, max_entropy
from pidlab._results import FrozenMap, Result
from pidlab.exceptions import InconsistentMarginalsError, InvalidDistributionError, ParameterError

__all__ = [
    "Marginals",
    "ConsistencyReport",
    "RepairResult",
    "MaxEntResult",
    "CONSISTENCY_TOL",
]

#: Default tolerance (total variation, and summed L1 violation) under which marginals count as consistent.
CONSISTENCY_TOL = 1e-8

_REPAIR_METHODS = ("tv", "kl")


def check_repair_option(repair: Any, function: str) -> bool | str:
    """The ``repair`` option of an analysis, validated up front (False, True, "tv" or "kl"), or ParameterError."""
    if isinstance(repair, bool | np.bool_):
        return bool(repair)
    if isinstance(repair, str) and repair in _REPAIR_METHODS:
        return repair
    raise ParameterError(
        f"The `'repair'` parameter of `{function}` must be False, True (same as 'tv') or one of {_REPAIR_METHODS}. "
        f"Got {repair!r} instead: False refuses inconsistent marginals, 'tv' repairs them by the least total "
        "change, 'kl' by the maximum-likelihood joint."
    )


def check_tol(tol: Any, function: str) -> float:
    """A consistency tolerance: a finite number in [0, 1), or ParameterError."""
    ok = isinstance(tol, int | float | np.floating | np.integer) and not isinstance(tol, bool | np.bool_)
    if not ok or not (math.isfinite(float(tol)) and 0.0 <= float(tol) < 1.0):
        raise ParameterError(
            f"The `'tol'` parameter of `{function}` must be a finite number in [0, 1) (a total-variation "
            f"tolerance; default {CONSISTENCY_TOL}). Got {tol!r} instead."
        )
    return float(tol)


def _ro(a: NDArray[np.float64]) -> NDArray[np.float64]:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConsistencyReport(Result):
    """How far a triple of pairwise marginals is from having a joint distribution.

    A :class:`~pidlab._results.Result`; ``table()`` and ``str()`` are the one-line
    :meth:`summary`. Hashable (by value).

    Attributes
    ----------
    tv_y : float
        Total variation between the ``p(y)`` implied by ``p(x1,y)`` and by ``p(x2,y)``.
    tv_x1 : float
        Total variation between the ``p(x1)`` implied by ``p(x1,y)`` and by ``p(x1,x2)``.
    tv_x2 : float
        Total variation between the ``p(x2)`` implied by ``p(x2,y)`` and by ``p(x1,x2)``.
    violation_l1 : float
        ``min_r sum_t ||r_t - p_t||_1`` over all joint distributions ``r[x1,x2,y]``: the smallest
        total L1 change of the three tables that makes them the marginals of one joint, from an
        exact LP (HiGHS), evaluated at the LP's point (so it is an upper bound on the minimum
        up to floating point). Zero iff the triple is realisable.
    singletons_agree, realisable : bool
        ``max(tv_*) <= tol`` and ``violation_l1 <= tol``.
    tol : float
        The tolerance used.
    method : str
        How ``violation_l1`` was obtained: ``"lp"`` (the full LP, tables up to
        ``pidlab._fitting.FULL_LP_MAX_CELLS`` cells), ``"markov witness"`` (a Markov-chain joint
        realises the tables within ``tol``: exact), ``"lp (allowed cells)"`` (the LP restricted to
        the cells no zero entry excludes: zero iff realisable, else an upper bound),
        ``"singletons (lower bound 2 max TV)"`` (the singletons disagree, which decides it),
        ``"joint"`` (certified by a joint known to realise the tables).
    """

    tv_y: float
    tv_x1: float
    tv_x2: float
    violation_l1: float
    singletons_agree: bool
    realisable: bool
    tol: float
    method: str = "lp"

    @property
    def consistent(self) -> bool:
        """True when the triple is realisable (which implies the singletons agree)."""
        return self.realisable and self.singletons_agree

    @property
    def max_tv(self) -> float:
        return max(self.tv_y, self.tv_x1, self.tv_x2)

    def summary(self) -> str:
        """One-line description naming the largest disagreement."""
        from pidlab._render import consistency_summary

        return consistency_summary(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tv_y": float(self.tv_y),
            "tv_x1": float(self.tv_x1),
            "tv_x2": float(self.tv_x2),
            "violation_l1": float(self.violation_l1),
            "singletons_agree": bool(self.singletons_agree),
            "realisable": bool(self.realisable),
            "consistent": bool(self.consistent),
            "tol": float(self.tol),
            "method": self.method,
        }

    def table(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from pidlab._render import consistency_html

        return consistency_html(self)


@dataclass(frozen=True, eq=False)
class RepairResult(Result):
    """The outcome of :meth:`Marginals.repair`.

    A :class:`~pidlab._results.Result` (``to_dict``, ``to_json``, ``table``/``str``,
    ``_repr_html_``); compared and hashed by identity (it holds the joint array).

    Attributes
    ----------
    marginals : Marginals
        The repaired, realisable triple (the marginals of ``joint``).
    method : str
        ``"tv"`` (least total L1 change, an LP) or ``"kl"`` (maximum likelihood, EM).
    joint : ndarray, shape (|X1|, |X2|, |Y|)
        A joint distribution whose three pairwise marginals are the repaired tables.
    tv : FrozenMap
        Total variation between each given and repaired table (keys ``p_x1y``, ``p_x2y``, ``p_x1x2``);
        read-only.
    kl : FrozenMap
        ``KL(given || repaired)`` in bits for each table (``inf`` where the repair removed mass);
        read-only.
    before : ConsistencyReport
        The report of the input.
    """

    marginals: Marginals
    method: str
    joint: NDArray[np.float64] = field(repr=False)
    tv: Mapping[str, float]
    kl: Mapping[str, float]
    before: ConsistencyReport

    def __post_init__(self) -> None:
        object.__setattr__(self, "tv", FrozenMap(self.tv))
        object.__setattr__(self, "kl", FrozenMap(self.kl))

    @property
    def max_tv(self) -> float:
        return max(self.tv.values())

    def summary(self) -> str:
        """One line: the method and how far each table moved."""
        from pidlab._render import repair_summary

        return repair_summary(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "units": self.units,
            "tv": {k: float(v) for k, v in self.tv.items()},
            "kl": {k: (float(v) if math.isfinite(v) else "inf") for k, v in self.kl.items()},
            "before": self.before.to_dict(),
        }

    def table(self) -> str:
        from pidlab._render import repair_text

        return repair_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import repair_html

        return repair_html(self)


@dataclass(frozen=True, eq=False)
class MaxEntResult(Result):
    """The maximum-entropy joint under the three pairwise marginals, with its certificate.

    A :class:`~pidlab._results.Result` (``to_dict``, ``to_json``, ``table``/``str``,
    ``_repr_html_``); compared and hashed by identity (it holds arrays).

    Attributes
    ----------
    joint : ndarray
        The joint ``r*[x1,x2,y]`` (zero off ``support``).
    support : ndarray of bool
        Cells some feasible joint puts mass on (found by an LP); ``r*`` is positive exactly there.
    entropy : float
        ``H(r*)`` in bits.
    entropy_upper : float
        A certified upper bound on ``max H`` in bits (the dual value at the final log-linear
        parameters); ``entropy_upper - entropy`` is the duality gap.
    duality_gap : float
        In bits.
    residual : float
        Largest violation of the marginal constraints by ``joint``.
    iterations : int
        Newton iterations.
    certificate : FrozenMap
        How ``entropy_upper`` was made (bits): ``dual_value`` (the weak-duality value over every
        cell no zero marginal excludes, so valid whatever the support LP decided), plus
        ``rounding`` (bound on its floating-point error) and ``input_rounding`` (the tables being
        marginals of a joint only up to rounding); ``off_support_cells`` and ``lambda`` describe the
        direction that drove the structural zeros out of the bound.
    """

    joint: NDArray[np.float64] = field(repr=False)
    support: NDArray[np.bool_] = field(repr=False)
    entropy: float
    entropy_upper: float
    duality_gap: float
    residual: float
    iterations: int
    certificate: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "certificate", FrozenMap(self.certificate))

    def to_dict(self) -> dict[str, Any]:
        return {
            "entropy": float(self.entropy),
            "entropy_upper": float(self.entropy_upper),
            "duality_gap": float(self.duality_gap),
            "residual": float(self.residual),
            "iterations": int(self.iterations),
            "support_size": int(self.support.sum()),
            "certificate": {k: float(v) for k, v in self.certificate.items()},
            "units": self.units,
        }

    def table(self) -> str:
        from pidlab._render import maxent_text

        return maxent_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import maxent_html

        return maxent_html(self)


# ---------------------------------------------------------------------------------------------
# the container
# ---------------------------------------------------------------------------------------------
class Marginals:
    """Validated pairwise marginals ``p(x1,y)``, ``p(x2,y)``, ``p(x1,x2)`` (semi-supervised input).

    Parameters
    ----------
    p_x1y, p_x2y, p_x1x2 : array_like
        Tables of shapes ``(|X1|, |Y|)``, ``(|X2|, |Y|)`` and ``(|X1|, |X2|)``; each must be a
        probability table (non-negative, summing to 1 within ``atol``).
    labels : tuple of three sequences, optional
        Symbol labels for X1, X2 and Y.
    names : tuple of three str
        Variable names (sources, then target), default ``("X1", "X2", "Y")``.
    normalize : bool, default False
        Divide each table by its total instead of rejecting a total that is not 1.
    atol : float
        Tolerance on each table's total.

    Raises
    ------
    InvalidDistributionError
        A malformed table, or shapes that do not fit together.

    Notes
    -----
    Construction checks only each table and the shapes. Whether the three tables agree is
    reported by :meth:`consistency`; analyses refuse inconsistent marginals unless asked to
    :meth:`repair` them.

    Examples
    --------
    >>> import numpy as np, pidlab
    >>> m = pidlab.Marginals.from_joint(pidlab.examples.get("xor"))
    >>> m.shape
    (2, 2, 2)
    >>> m.consistency().consistent
    True
    >>> bad = pidlab.Marginals(np.eye(2) / 2, np.eye(2) / 2, np.eye(2)[::-1] / 2)
    >>> r = bad.consistency()
    >>> r.singletons_agree, r.realisable
    (True, False)
    """

    __slots__ = ("_p_x1y", "_p_x2y", "_p_x1x2", "_labels", "_names")

    def __init__(
        self,
        p_x1y: ArrayLike,
        p_x2y: ArrayLike,
        p_x1x2: ArrayLike,
        *,
        labels: tuple[Sequence[Hashable] | None, Sequence[Hashable] | None, Sequence[Hashable] | None]
        | None = None,
        names: tuple[str, str, str] = ("X1", "X2", "Y"),
        normalize: bool = False,
        atol: float = SUM_TOL,
    ) -> None:
        names = tuple(str(n) for n in names)  # type: ignore[assignment]
        if len(names) != 3 or len(set(names)) != 3:
            raise InvalidDistributionError(
                f"names must be three distinct strings (source 1, source 2, target); got {names!r}."
            )
        n1, n2, ny = names
        a = check_pmf(p_x1y, ndim=2, what=f"p({n1}, {ny}) [p_x1y]", normalize=normalize, atol=atol)
        b = check_pmf(p_x2y, ndim=2, what=f"p({n2}, {ny}) [p_x2y]", normalize=normalize, atol=atol)
        c = check_pmf(p_x1x2, ndim=2, what=f"p({n1}, {n2}) [p_x1x2]", normalize=normalize, atol=atol)
        if a.shape[1] != b.shape[1]:
            raise InvalidDistributionError(
                f"p_x1y has {a.shape[1]} target columns but p_x2y has {b.shape[1]}; both labelled tables must "
                f"use the same target alphabet {ny} (pad a missing class with a zero column, or relabel)."
            )
        if c.shape != (a.shape[0], b.shape[0]):
            raise InvalidDistributionError(
                f"p_x1x2 has shape {c.shape} but p_x1y has {a.shape[0]} rows ({n1} symbols) and p_x2y has "
                f"{b.shape[0]} rows ({n2} symbols); p_x1x2 must have shape ({a.shape[0]}, {b.shape[0]}). "
                "Use the same discretisation for the labelled and the unlabelled samples of each modality."
            )
        labels = labels or (None, None, None)
        if len(labels) != 3:
            raise InvalidDistributionError("labels must be a tuple of three sequences (X1, X2, Y) or None.")
        shape = (a.shape[0], b.shape[0], a.shape[1])
        self._labels = tuple(_labels_for(shape[i], labels[i], names[i]) for i in range(3))
        self._names: tuple[str, str, str] = names
        self._p_x1y, self._p_x2y, self._p_x1x2 = a, b, c

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_joint(cls, p: Any, **kwargs: Any) -> Marginals:
        """The three pairwise marginals of a joint ``p[x1, x2, y]`` (array or Distribution)."""
        from pidlab._distribution import Distribution

        d = p if isinstance(p, Distribution) else Distribution(p)
        kwargs.setdefault("labels", d.labels)
        kwargs.setdefault("names", d.names)
        arr = d.p
        return cls(arr.sum(axis=1), arr.sum(axis=0), arr.sum(axis=2), **kwargs)

    # ------------------------------------------------------------------ attributes
    @property
    def p_x1y(self) -> NDArray[np.float64]:
        """``p(x1, y)``, shape (|X1|, |Y|) (read-only)."""
        return self._p_x1y

    @property
    def p_x2y(self) -> NDArray[np.float64]:
        """``p(x2, y)``, shape (|X2|, |Y|) (read-only)."""
        return self._p_x2y

    @property
    def p_x1x2(self) -> NDArray[np.float64]:
        """``p(x1, x2)``, shape (|X1|, |X2|) (read-only)."""
        return self._p_x1x2

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(|X1|, |X2|, |Y|)``."""
        return (self._p_x1y.shape[0], self._p_x2y.shape[0], self._p_x1y.shape[1])

    @property
    def labels(self) -> tuple[tuple[Hashable, ...], ...]:
        return self._labels

    @property
    def names(self) -> tuple[str, str, str]:
        return self._names

    @property
    def p_y(self) -> NDArray[np.float64]:
        """``p(y)``: the average of the two labelled tables' implied target marginals."""
        return _ro(0.5 * (self._p_x1y.sum(0) + self._p_x2y.sum(0)))

    def __repr__(self) -> str:
        n1, n2, ny = self.shape
        return f"Marginals({self._names[0]}:{n1}, {self._names[1]}:{n2} -> target {self._names[2]}:{ny})"

    def tables(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        return self._p_x1y, self._p_x2y, self._p_x1x2

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self._names),
            "labels": [list(lab) for lab in self._labels],
            "p_x1y": self._p_x1y.tolist(),
            "p_x2y": self._p_x2y.tolist(),
            "p_x1x2": self._p_x1x2.tolist(),
        }

    def _with_tables(self, a: ArrayLike, b: ArrayLike, c: ArrayLike) -> Marginals:
        l1, l2, ly = self._labels
        return Marginals(a, b, c, labels=(l1, l2, ly), names=self._names, atol=1e-8, normalize=True)

    # ------------------------------------------------------------------ consistency
    def consistency(self, tol: float = CONSISTENCY_TOL) -> ConsistencyReport:
        """Check that the three tables agree and that some joint distribution realises them.

        Singleton agreement is measured in total variation; realisability is decided by an LP
        (HiGHS via :func:`scipy.optimize.linprog`) computing the smallest total L1 change of the
        three tables that makes them the pairwise marginals of one non-negative table.

        Parameters
        ----------
        tol : float
            Tolerance on every total variation and on the L1 violation.
        """
        tol = check_tol(tol, "Marginals.consistency")
        a, b, c = self.tables()
        tv_y = 0.5 * float(np.abs(a.sum(0) - b.sum(0)).sum())
        tv_x1 = 0.5 * float(np.abs(a.sum(1) - c.sum(1)).sum())
        tv_x2 = 0.5 * float(np.abs(b.sum(1) - c.sum(0)).sum())
        viol, how = consistency_violation(a, b, c, tol=tol, max_tv=max(tv_y, tv_x1, tv_x2))
        singletons = max(tv_y, tv_x1, tv_x2) <= tol
        return ConsistencyReport(
            tv_y=tv_y, tv_x1=tv_x1, tv_x2=tv_x2, violation_l1=viol,
            singletons_agree=singletons, realisable=viol <= tol, tol=float(tol), method=how,
        )

    def check(self, *, repair: bool | str = False, tol: float = CONSISTENCY_TOL) -> tuple[Marginals, RepairResult | None]:
        """Return ``(marginals, repair)`` ready for an analysis, or raise.

        Consistent input is returned unchanged with ``repair=None``. Inconsistent input raises
        :class:`InconsistentMarginalsError` (with the report attached as ``.report``) unless
        ``repair`` is True (method ``"tv"``) or a method name, in which case the repaired triple
        and the :class:`RepairResult` are returned.
        """
        check_repair_option(repair, "Marginals.check")
        m, res, _ = self._check(repair=repair, tol=check_tol(tol, "Marginals.check"))
        return m, res

    def _report_from_joint(self, joint: ArrayLike, tol: float) -> ConsistencyReport | None:
        """A consistency report certified by a joint known to realise the tables, or None.

        The L1 distance between the joint's pairwise marginals and the tables is an upper bound
        on ``violation_l1``; when it is within ``tol`` the LP of :meth:`consistency` is not needed.
        """
        r = np.asarray(joint, dtype=float)
        a, b, c = self.tables()
        if r.shape != self.shape or not np.all(np.isfinite(r)) or (r < 0).any():
            return None
        viol = float(np.abs(r.sum(1) - a).sum() + np.abs(r.sum(0) - b).sum() + np.abs(r.sum(2) - c).sum())
        if viol > tol:
            return None
        tv_y = 0.5 * float(np.abs(a.sum(0) - b.sum(0)).sum())
        tv_x1 = 0.5 * float(np.abs(a.sum(1) - c.sum(1)).sum())
        tv_x2 = 0.5 * float(np.abs(b.sum(1) - c.sum(0)).sum())
        return ConsistencyReport(
            tv_y=tv_y, tv_x1=tv_x1, tv_x2=tv_x2, violation_l1=viol,
            singletons_agree=max(tv_y, tv_x1, tv_x2) <= tol, realisable=True, tol=float(tol), method="joint",
        )

    def _check(
        self, *, repair: bool | str, tol: float, joint: ArrayLike | None = None
    ) -> tuple[Marginals, RepairResult | None, ConsistencyReport]:
        rep = self._report_from_joint(joint, tol) if joint is not None else None
        if rep is None:
            rep = self.consistency(tol)
        if rep.consistent:
            return self, None, rep
        if not repair:
            raise InconsistentMarginalsError(
                rep.summary() + ". The analysis needs marginals of one joint distribution: pass repair=True "
                "(closest realisable triple in total variation) or repair='kl' to repair them explicitly "
                "(the result records how far they moved), or estimate the tables with shared p(y), p(x1), p(x2).",
                report=rep,
            )
        method = "tv" if repair is True else str(repair)
        res = self.repair(method=method, tol=tol, _before=rep)
        return res.marginals, res, rep

    def repair(self, method: str = "tv", *, tol: float = CONSISTENCY_TOL, weights: Sequence[float] = (1.0, 1.0, 1.0),
               max_iter: int = 20000, _before: ConsistencyReport | None = None) -> RepairResult:
        """The closest realisable triple, and how far the tables moved.

        Parameters
        ----------
        method : {"tv", "kl"}
            ``"tv"``: a joint ``r`` minimising ``sum_t ||r_t - p_t||_1`` (the three tables' total
            L1 change; an exact LP), returning its marginals. ``"kl"``: the maximum-likelihood
            joint ``argmin_r sum_t w_t KL(p_t || r_t)`` (EM from the uniform table; appropriate
            when the tables are empirical frequencies, with ``weights`` the sample sizes).
        tol : float
            Consistency tolerance used for the report of the input.
        weights : three floats
            Table weights for ``"kl"`` (for example the three data set sizes).
        max_iter : int
            EM iterations for ``"kl"``.

        Returns
        -------
        RepairResult

        Examples
        --------
        >>> import numpy as np, pidlab
        >>> m = pidlab.Marginals(np.eye(2) / 2, np.eye(2) / 2, np.eye(2)[::-1] / 2)
        >>> r = m.repair()
        >>> r.marginals.consistency().consistent, round(sum(r.tv.values()), 6)
        (True, 1.0)
        """
        if method not in _REPAIR_METHODS:
            raise ParameterError(
                f"The `'method'` parameter of `Marginals.repair` must be one of {_REPAIR_METHODS}. Got {method!r} "
                "instead: 'tv' for the least total change, 'kl' for the maximum-likelihood joint of empirical tables."
            )
        before = _before if _before is not None else self.consistency(tol)
        a, b, c = self.tables()
        if method == "tv":
            _, r = l1_projection(a, b, c)
        else:
            w = np.asarray(weights, dtype=float)
            if w.shape != (3,) or not np.all(np.isfinite(w)) or (w <= 0).any():
                raise ParameterError(
                    f"The `'weights'` parameter of `Marginals.repair` must be three positive finite numbers (for "
                    f"example the sizes of the three data sets). Got {weights!r} instead."
                )
            r = kl_projection(a, b, c, w / w.sum(), max_iter=max_iter)
        r = clean_joint(r)
        ra, rb, rc = r.sum(axis=1), r.sum(axis=0), r.sum(axis=2)
        new = self._with_tables(ra, rb, rc)
        keys = ("p_x1y", "p_x2y", "p_x1x2")
        tv = {k: 0.5 * float(np.abs(g - n).sum()) for k, g, n in zip(keys, (a, b, c), new.tables())}
        kl = {k: _kl_bits(g, n) for k, g, n in zip(keys, (a, b, c), new.tables())}
        return RepairResult(marginals=new, method=method, joint=_ro(r), tv=tv, kl=kl, before=before)

    # ------------------------------------------------------------------ max entropy
    def max_entropy_joint(
        self, *, tol: float = 1e-13, max_iter: int = 30, feasible: ArrayLike | None = None, _checked: bool = False
    ) -> MaxEntResult:
        """The maximum-entropy joint with these three pairwise marginals, solved exactly.

        The support is found first with one LP (cells that some feasible joint puts mass on;
        cells outside it are zero in every feasible joint, so iterative proportional fitting
        would only approach them asymptotically), then the log-linear dual is solved on that
        support by damped Newton to machine precision. The result carries the marginal
        residual and the duality gap.

        Parameters
        ----------
        tol : float
            Target largest marginal residual of the Newton polish.
        max_iter : int
            Newton iterations.
        feasible : array_like, optional
            A joint known to have these marginals (for example a repair's joint): its positive
            cells are in the support without an LP decision.

        Raises
        ------
        InconsistentMarginalsError
            The triple is not realisable (see :meth:`consistency` and :meth:`repair`).

        Examples
        --------
        >>> import pidlab
        >>> m = pidlab.Marginals.from_joint(pidlab.examples.get("xor"))
        >>> round(m.max_entropy_joint().entropy, 9)     # the uniform table on 8 cells
        3.0
        """
        rep = None if _checked else self.consistency()
        if rep is not None and not rep.consistent:
            raise InconsistentMarginalsError(
                rep.summary() + "; the maximum-entropy joint does not exist. Repair the marginals first "
                "(Marginals.repair()) or pass repair=True to the analysis.",
                report=rep,
            )
        known = None if feasible is None else np.asarray(feasible, dtype=float) > 0
        sol = max_entropy(*self.tables(), tol=tol, max_iter=max_iter, known_support=known)
        return MaxEntResult(**{**sol._asdict(), "joint": _ro(sol.joint)})


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _kl_bits(p: NDArray[np.float64], q: NDArray[np.float64]) -> float:
    mask = p > 0
    if (q[mask] <= 0).any():
        return math.inf
    return max(0.0, float(np.sum(p[mask] * np.log2(p[mask] / q[mask]))))
