r"""The semi-supervised triple of pairwise marginals ``(p(x1,y), p(x2,y), p(x1,x2))``.

In the semi-supervised setting (docs/theory.rst §3-§4) the three tables come from three different data
sets, so they need not agree: their implied ``p(y)``, ``p(x1)``, ``p(x2)`` may differ, and even
tables that agree on all singletons may have no joint distribution at all (``x1 = x2``,
``x2 = y``, ``x1 != y`` on bits). :class:`Marginals` validates the tables, reports how far they
are from realisable (:meth:`Marginals.consistency`, an exact LP), offers a documented repair
(:meth:`Marginals.repair`) and computes the maximum-entropy joint under all three marginals
(:meth:`Marginals.max_entropy_joint`), exactly, with a certificate.
"""

from __future__ import annotations

import html
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._distribution import SUM_TOL, _labels_for, check_pmf
from pidlab.exceptions import ConvergenceWarning, InconsistentMarginalsError, InvalidDistributionError

__all__ = [
    "Marginals",
    "ConsistencyReport",
    "RepairResult",
    "MaxEntResult",
    "CONSISTENCY_TOL",
]

LN2 = math.log(2.0)

#: Default tolerance (total variation, and summed L1 violation) under which marginals count as consistent.
CONSISTENCY_TOL = 1e-8

_REPAIR_METHODS = ("tv", "kl")

#: Cells of a repaired joint below this mass are set to zero (EM only approaches zeros asymptotically).
_DUST = 1e-10


def _ro(a: NDArray[np.float64]) -> NDArray[np.float64]:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConsistencyReport:
    """How far a triple of pairwise marginals is from having a joint distribution.

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
    """

    tv_y: float
    tv_x1: float
    tv_x2: float
    violation_l1: float
    singletons_agree: bool
    realisable: bool
    tol: float

    @property
    def consistent(self) -> bool:
        """True when the triple is realisable (which implies the singletons agree)."""
        return self.realisable and self.singletons_agree

    @property
    def max_tv(self) -> float:
        return max(self.tv_y, self.tv_x1, self.tv_x2)

    def summary(self) -> str:
        """One-line description naming the largest disagreement."""
        if self.consistent:
            return (
                f"consistent: singleton marginals agree (largest TV {self.max_tv:.2e}) and a joint "
                f"distribution realises all three tables (L1 violation {self.violation_l1:.2e}, tol {self.tol:g})"
            )
        parts = []
        if not self.singletons_agree:
            parts.append(
                f"implied singleton marginals disagree (TV: p(y) {self.tv_y:.3g}, p(x1) {self.tv_x1:.3g}, "
                f"p(x2) {self.tv_x2:.3g})"
            )
        if not self.realisable:
            parts.append(
                f"no joint distribution has these three pairwise marginals (minimal total L1 change "
                f"needed {self.violation_l1:.3g})"
            )
        return "inconsistent marginals: " + "; ".join(parts)

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
        }

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in self.to_dict().items()
        )
        return f"<div class='pidlab-consistency'><b>{html.escape(self.summary())}</b><table>{rows}</table></div>"


@dataclass(frozen=True, eq=False)
class RepairResult:
    """The outcome of :meth:`Marginals.repair`.

    Attributes
    ----------
    marginals : Marginals
        The repaired, realisable triple (the marginals of ``joint``).
    method : str
        ``"tv"`` (least total L1 change, an LP) or ``"kl"`` (maximum likelihood, EM).
    joint : ndarray, shape (|X1|, |X2|, |Y|)
        A joint distribution whose three pairwise marginals are the repaired tables.
    tv : dict
        Total variation between each given and repaired table (keys ``p_x1y``, ``p_x2y``, ``p_x1x2``).
    kl : dict
        ``KL(given || repaired)`` in bits for each table (``inf`` where the repair removed mass).
    before : ConsistencyReport
        The report of the input.
    """

    marginals: Marginals
    method: str
    joint: NDArray[np.float64] = field(repr=False)
    tv: dict[str, float]
    kl: dict[str, float]
    before: ConsistencyReport

    @property
    def max_tv(self) -> float:
        return max(self.tv.values())

    def summary(self) -> str:
        return (
            f"marginals repaired by method {self.method!r}: total variation moved "
            + ", ".join(f"{k} {v:.3g}" for k, v in self.tv.items())
            + "; KL(given||repaired) "
            + ", ".join(f"{k} {v:.3g}" for k, v in self.kl.items())
            + " bits"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "tv": {k: float(v) for k, v in self.tv.items()},
            "kl": {k: (float(v) if math.isfinite(v) else "inf") for k, v in self.kl.items()},
            "before": self.before.to_dict(),
        }


@dataclass(frozen=True, eq=False)
class MaxEntResult:
    """The maximum-entropy joint under the three pairwise marginals, with its certificate.

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
    """

    joint: NDArray[np.float64] = field(repr=False)
    support: NDArray[np.bool_] = field(repr=False)
    entropy: float
    entropy_upper: float
    duality_gap: float
    residual: float
    iterations: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "entropy": float(self.entropy),
            "entropy_upper": float(self.entropy_upper),
            "duality_gap": float(self.duality_gap),
            "residual": float(self.residual),
            "iterations": int(self.iterations),
            "support_size": int(self.support.sum()),
        }


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
        self._names: tuple[str, str, str] = names  # type: ignore[assignment]
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
        return Marginals(a, b, c, labels=self._labels, names=self._names, atol=1e-8, normalize=True)

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
        a, b, c = self.tables()
        tv_y = 0.5 * float(np.abs(a.sum(0) - b.sum(0)).sum())
        tv_x1 = 0.5 * float(np.abs(a.sum(1) - c.sum(1)).sum())
        tv_x2 = 0.5 * float(np.abs(b.sum(1) - c.sum(0)).sum())
        viol, _ = _l1_projection(a, b, c)
        singletons = max(tv_y, tv_x1, tv_x2) <= tol
        return ConsistencyReport(
            tv_y=tv_y, tv_x1=tv_x1, tv_x2=tv_x2, violation_l1=viol,
            singletons_agree=singletons, realisable=viol <= tol, tol=float(tol),
        )

    def check(self, *, repair: bool | str = False, tol: float = CONSISTENCY_TOL) -> tuple[Marginals, RepairResult | None]:
        """Return ``(marginals, repair)`` ready for an analysis, or raise.

        Consistent input is returned unchanged with ``repair=None``. Inconsistent input raises
        :class:`InconsistentMarginalsError` (with the report attached as ``.report``) unless
        ``repair`` is True (method ``"tv"``) or a method name, in which case the repaired triple
        and the :class:`RepairResult` are returned.
        """
        m, res, _ = self._check(repair=repair, tol=tol)
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
            singletons_agree=max(tv_y, tv_x1, tv_x2) <= tol, realisable=True, tol=float(tol),
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
        res = self.repair(method=method, tol=tol)
        return res.marginals, res, rep

    def repair(self, method: str = "tv", *, tol: float = CONSISTENCY_TOL, weights: Sequence[float] = (1.0, 1.0, 1.0),
               max_iter: int = 20000) -> RepairResult:
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
            raise InvalidDistributionError(
                f"The `method` parameter of Marginals.repair must be one of {_REPAIR_METHODS}. Got {method!r} instead."
            )
        before = self.consistency(tol)
        a, b, c = self.tables()
        if method == "tv":
            _, r = _l1_projection(a, b, c)
        else:
            w = np.asarray(weights, dtype=float)
            if w.shape != (3,) or not np.all(np.isfinite(w)) or (w <= 0).any():
                raise InvalidDistributionError(
                    f"The `weights` parameter of Marginals.repair must be three positive numbers. Got {weights!r} instead."
                )
            r = _kl_projection(a, b, c, w / w.sum(), max_iter=max_iter)
        r = _clean_joint(r)
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
        return _max_entropy(*self.tables(), tol=tol, max_iter=max_iter, known_support=known)


# ---------------------------------------------------------------------------------------------
# numerical engines
# ---------------------------------------------------------------------------------------------
def _constraint_matrix(n1: int, n2: int, ny: int) -> Any:
    """Sparse 0/1 matrix A with A @ r.ravel() = concat(r12.ravel(), r1y.ravel(), r2y.ravel())."""
    from scipy import sparse

    idx = np.arange(n1 * n2 * ny).reshape(n1, n2, ny)
    i1, i2, iy = np.meshgrid(np.arange(n1), np.arange(n2), np.arange(ny), indexing="ij")
    rows12 = (i1 * n2 + i2).ravel()
    rows1y = n1 * n2 + (i1 * ny + iy).ravel()
    rows2y = n1 * n2 + n1 * ny + (i2 * ny + iy).ravel()
    cols = idx.ravel()
    m = n1 * n2 + n1 * ny + n2 * ny
    rows = np.concatenate([rows12, rows1y, rows2y])
    cc = np.concatenate([cols, cols, cols])
    return sparse.csr_matrix((np.ones(rows.size), (rows, cc)), shape=(m, idx.size))


def _rhs(a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.concatenate([c.ravel(), a.ravel(), b.ravel()])


def _l1_projection(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64]]:
    """Minimal total L1 change ``min ||A r - rhs||_1`` over joints r (r >= 0, sum 1) and the minimiser (HiGHS LP)."""
    from scipy import sparse
    from scipy.optimize import linprog

    n1, ny = a.shape
    n2 = b.shape[0]
    A = _constraint_matrix(n1, n2, ny)
    rhs = _rhs(a, b, c)
    m, n = A.shape
    eye = sparse.identity(m, format="csr")
    A_eq = sparse.vstack([
        sparse.hstack([A, eye, -eye], format="csr"),
        sparse.hstack([sparse.csr_matrix(np.ones((1, n))), sparse.csr_matrix((1, 2 * m))], format="csr"),
    ], format="csr")
    rhs1 = np.concatenate([rhs, [1.0]])  # r is a probability table
    cost = np.concatenate([np.zeros(n), np.ones(2 * m)])
    res = linprog(cost, A_eq=A_eq, b_eq=rhs1, bounds=(0, None), method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if res.status != 0 or res.x is None:  # pragma: no cover - HiGHS failure on a bounded feasible LP
        from pidlab.exceptions import SolverError

        raise SolverError(f"the consistency LP failed (HiGHS: {res.message}); please report this input.")
    r = np.clip(res.x[:n], 0.0, None)
    viol = float(np.abs(A @ r - rhs).sum())
    return viol, r.reshape(n1, n2, ny)


def _kl_projection(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], w: NDArray[np.float64],
    *, max_iter: int, tol: float = 1e-12, init: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """EM for ``argmin_r sum_t w_t KL(p_t || r_t)`` (r a joint), started from the uniform table.

    Leading batch dimensions are allowed (``a`` of shape ``(..., n1, ny)`` and so on): each
    problem of the batch runs the same iteration as it would alone and stops (is frozen) once
    its L1 change falls below ``tol``. ``init`` replaces the uniform start.
    """
    n1, ny = a.shape[-2:]
    n2 = b.shape[-2]
    batch = a.shape[:-2]
    if init is None:
        r = np.full((*batch, n1, n2, ny), 1.0 / (n1 * n2 * ny))
    else:
        r = np.broadcast_to(np.asarray(init, dtype=float), (*batch, n1, n2, ny)).copy()
    done = np.zeros(batch, dtype=bool)
    w0, w1, w2 = (float(v) for v in w)

    def ratio(p: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.zeros_like(q)
        np.divide(p, q, out=out, where=q > 0)
        return out

    for _ in range(max_iter):
        fa = ratio(a, r.sum(axis=-2))[..., :, None, :]
        fb = ratio(b, r.sum(axis=-3))[..., None, :, :]
        fc = ratio(c, r.sum(axis=-1))[..., :, :, None]
        new = r * (w0 * fa + w1 * fb + w2 * fc)
        new /= new.sum(axis=(-3, -2, -1), keepdims=True)
        change = np.abs(new - r).sum(axis=(-3, -2, -1))
        if batch:
            new[done] = r[done]
        r = new
        done |= change < tol
        if done.all():
            break
    return r


def _clean_joint(r: NDArray[np.float64]) -> NDArray[np.float64]:
    """Clip, drop dust and renormalise a repaired joint (leading batch dimensions allowed).

    Masses below ``_DUST`` (1e-10) are numerical dust (EM approaches zeros only asymptotically and
    would leave subnormal entries that defeat every LP); the repaired tables are the exact
    marginals of the cleaned joint, so they stay realisable.
    """
    r = np.clip(r, 0.0, None)
    r = r / r.sum(axis=(-3, -2, -1), keepdims=True)
    r = np.where(r < _DUST, 0.0, r)
    return r / r.sum(axis=(-3, -2, -1), keepdims=True)


def _kl_bits(p: NDArray[np.float64], q: NDArray[np.float64]) -> float:
    mask = p > 0
    if (q[mask] <= 0).any():
        return math.inf
    return max(0.0, float(np.sum(p[mask] * np.log2(p[mask] / q[mask]))))


def _support_lp(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], cand: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Cells of ``cand`` on which some joint with marginals (a, b, c) puts mass (one homogenised LP).

    Variables: r >= 0 on the candidate cells, a scale s >= 0 and indicators 0 <= z <= 1 with
    z <= r; constraints A r = s * rhs. The feasible set is a cone, so at the optimum of
    max sum z every cell that any feasible joint can make positive has z = 1 and every other has 0.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    n1, ny = a.shape
    n2 = b.shape[0]
    cells = np.flatnonzero(cand.ravel())
    k = cells.size
    if k == 0:
        return cand.copy()
    A = _constraint_matrix(n1, n2, ny)[:, cells]
    rhs = _rhs(a, b, c)
    keep = np.asarray(A.sum(axis=1)).ravel() > 0
    A = A[keep]
    rhs = rhs[keep]
    m = A.shape[0]
    # variables: [r (k), z (k), s (1)]
    A_eq = sparse.hstack([A, sparse.csr_matrix((m, k)), sparse.csr_matrix(-rhs.reshape(-1, 1))], format="csr")
    eye = sparse.identity(k, format="csr")
    A_ub = sparse.hstack([-eye, eye, sparse.csr_matrix((k, 1))], format="csr")
    cost = np.concatenate([np.zeros(k), -np.ones(k), [0.0]])
    bounds = [(0, None)] * k + [(0, 1)] * k + [(0, 1e9)]
    res = linprog(cost, A_ub=A_ub, b_ub=np.zeros(k), A_eq=A_eq, b_eq=np.zeros(m), bounds=bounds, method="highs")
    if res.status != 0 or res.x is None or not (res.x[k : 2 * k] > 0.5).any():
        return _support_iterative(A, rhs, cells, cand)
    z = res.x[k : 2 * k]
    out = np.zeros(cand.size, dtype=bool)
    out[cells[z > 0.5]] = True
    return out.reshape(cand.shape)


def _newton_step(H: NDArray[np.float64], grad: NDArray[np.float64]) -> NDArray[np.float64]:
    """Solve ``H step = -grad`` for the singular PSD Hessian: ridge Cholesky, eigh as a fallback."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    lam = 1e-13 * float(np.abs(np.diag(H)).max() or 1.0)
    try:
        f = cho_factor(H + lam * np.eye(H.shape[0]), lower=True, check_finite=False)
        step = -cho_solve(f, grad, check_finite=False)
        if np.all(np.isfinite(step)):
            return step
    except LinAlgError:
        pass
    w, V = np.linalg.eigh(H)
    keepw = w > w.max() * 1e-15
    return -(V[:, keepw] @ ((V[:, keepw].T @ grad) / w[keepw]))


def _support_iterative(A: Any, rhs: NDArray[np.float64], cells: NDArray[np.intp], cand: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Fallback support detection: repeatedly maximise the mass on cells not yet known to be supported."""
    from scipy.optimize import linprog

    from pidlab.exceptions import SolverError

    k = cells.size
    known = np.zeros(k, dtype=bool)
    for _ in range(k + 1):
        cost = np.where(known, 0.0, -1.0)
        res = linprog(cost, A_eq=A, b_eq=rhs, bounds=(0, None), method="highs")
        if res.status != 0 or res.x is None:
            raise SolverError(
                f"the support LP of the maximum-entropy joint failed (HiGHS: {res.message}); the tables are "
                "probably badly scaled (entries near 1e-300?) or not realisable. Set tiny entries to zero, renormalise, "
                "and check Marginals.consistency()."
            )
        new = (~known) & (res.x > 1e-13)
        if not new.any():
            break
        known |= new
    out = np.zeros(cand.size, dtype=bool)
    out[cells[known]] = True
    return out.reshape(cand.shape)


def _max_entropy(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], *, tol: float = 1e-13,
    max_iter: int = 30, known_support: NDArray[np.bool_] | None = None, ipf_sweeps: int = 3000,
) -> MaxEntResult:
    """Maximum-entropy joint under three consistent pairwise marginals (support LP, IPF, dual Newton)."""
    import warnings

    n1, ny = a.shape
    n2 = b.shape[0]
    # Cells forced to zero by a zero marginal entry.
    cand = (c[:, :, None] > 0) & (a[:, None, :] > 0) & (b[None, :, :] > 0)
    # Structural zeros (cells every feasible joint leaves empty although no marginal is zero there)
    # are found by one LP; IPF would only approach them asymptotically. Cells where a known
    # feasible joint is positive are in the support without asking the LP.
    known = cand & known_support if known_support is not None else np.zeros_like(cand)
    if known.sum() == cand.sum():
        support = cand.copy()
    else:
        support = _support_lp(a, b, c, cand) | known
    cells = np.flatnonzero(support.ravel())
    A = _constraint_matrix(n1, n2, ny)[:, cells].tocsr()
    rhs = _rhs(a, b, c)
    keep = np.asarray(A.sum(axis=1)).ravel() > 0
    A = A[keep]
    rhs = rhs[keep]
    At = A.T.tocsr()
    # Warm start: IPF on the support (stays in the log-linear family, so log r = A^T theta exactly).
    r3 = np.where(support, 1.0, 0.0)
    r3 /= r3.sum()
    for sweep in range(ipf_sweeps):
        for ax, tgt in ((2, c), (1, a), (0, b)):
            s = r3.sum(axis=ax)
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(s > 0, tgt / s, 0.0)
            r3 = r3 * np.expand_dims(f, ax)
        if sweep % 25 == 24:
            res = max(float(np.abs(r3.sum(2) - c).max()), float(np.abs(r3.sum(1) - a).max()))
            if res < 1e-10:
                break
    r = np.clip(r3.ravel()[cells], 1e-300, None)
    from scipy.sparse.linalg import lsqr

    theta = lsqr(At, np.log(r), atol=1e-15, btol=1e-15, iter_lim=20000)[0]

    def dual(th: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        eta = At @ th
        if eta.max() > 700:
            return math.inf, np.exp(np.minimum(eta, 700))
        rr = np.exp(eta)
        return float(rr.sum() - th @ rhs), rr

    g, r = dual(theta)
    it = 0
    history: list[float] = []
    for it in range(1, max_iter + 1):
        grad = A @ r - rhs
        history.append(float(np.abs(grad).max()))
        if history[-1] <= tol or (len(history) > 6 and history[-1] > 0.5 * history[-6]):
            break  # converged, or no longer making progress (floating-point floor)
        H = (A.multiply(r[None, :]) @ At).toarray()
        # Minimum-norm Newton step (H is singular: the constraints are linearly dependent).
        step = _newton_step(H, grad)
        t = 1.0
        dec = float(grad @ step)
        ok = False
        while t > 1e-10:
            g_new, r_new = dual(theta + t * step)
            if g_new <= g + 1e-4 * t * dec or np.abs(A @ r_new - rhs).max() < np.abs(grad).max():
                ok = True
                break
            t *= 0.5
        if not ok:
            break
        theta = theta + t * step
        g, r = g_new, r_new
    # Remove any component of theta in the null space of A^T (it does not change r, but a ridge step
    # can make it large, and it enters the certificate through theta . rhs): least-squares
    # refit from zero (lsqr returns the minimum-norm solution).
    theta_mn = lsqr(At, np.log(r), atol=1e-16, btol=1e-16, iter_lim=50000)[0]
    g_mn, r_mn = dual(theta_mn)
    if np.abs(A @ r_mn - rhs).max() <= max(np.abs(A @ r - rhs).max() * 1.01, 1e-15):
        theta, r = theta_mn, r_mn
    grad = A @ r - rhs
    residual = float(np.abs(grad).max())
    if residual > 1e-9:
        warnings.warn(
            f"the maximum-entropy joint reached marginal residual {residual:.2e} after {it} Newton steps "
            "(recorded on the result; the entropy bound used is the certified dual value).",
            ConvergenceWarning,
            stacklevel=3,
        )
    joint = np.zeros(n1 * n2 * ny)
    joint[cells] = r
    joint = joint.reshape(n1, n2, ny)
    # Certificate (nats). For any theta, weak duality gives, for every feasible r',
    #   H(r') <= U(theta) = sum_c exp(eta_c - 1) - theta'.rhs   with eta = A^T theta' ,
    # since -x log x <= exp(eta - 1) - x eta. Take theta' = theta + v with v = 1 on the kept
    # p(x1,x2) rows (A^T v = 1 on the support): exp(eta' - 1) = r and U = sum r - theta.rhs - v.rhs.
    eta = At @ theta
    H_nats = -float(np.sum(r * eta))
    n12 = int(keep[: n1 * n2].sum())
    U_nats = float(r.sum() - theta @ rhs - rhs[:n12].sum())
    gap_nats = U_nats - H_nats
    H_bits = H_nats / LN2
    return MaxEntResult(
        joint=_ro(joint), support=support, entropy=H_bits, entropy_upper=U_nats / LN2,
        duality_gap=gap_nats / LN2, residual=residual, iterations=it,
    )
