"""Minimum joint entropy under three pairwise marginals (the NP-hard quantity of Theorem 3).

``Δ_{12,1y,2y} = {r >= 0 : r(x1,x2) = p12, r(x1,y) = p1y, r(x2,y) = p2y}`` is a polytope and
``H(r)`` is concave, so ``min_{r∈Δ} H(r)`` is attained at a vertex. :func:`min_joint_entropy`

* enumerates the vertices when the polytope is small enough (**exact**): with a feasible point
  ``r0`` and an orthonormal basis ``B`` of the null space of the marginal constraints
  (dimension ``d``), every vertex has ``d`` zero cells with a non-singular ``B_S``, so all
  ``C(N, d)`` zero sets are solved in batch and the non-negative solutions kept;
* otherwise runs a heuristic (successive linearisation of the entropy from random vertices,
  each step a linear program solved by HiGHS through ``scipy.optimize.linprog``), which returns
  a feasible joint: its entropy is an **upper bound** on the minimum, flagged ``exact=False``.

Either way the result carries a certified **lower bound** on the minimum: ``H(X1,X2,Y)`` is at
least the minimum-entropy coupling of each pair (``p12`` with ``p_y``, ``p1y`` with ``p_x2``,
``p2y`` with ``p_x1``), each bounded below by its meet and the threshold-profile bound. So the
minimum, and with it the largest synergy over ``Δ`` (docs/theory.rst §3.3: ``S <= H(X1,X2) + H(Y) -
min H - R - U1 - U2``), is bracketed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._couplings._bounds import best_bound, certified_lower_bounds
from pidlab._distribution import SUM_TOL, check_pmf
from pidlab._info import entropy
from pidlab._results import FrozenMap, Result, freeze, thaw
from pidlab.exceptions import InconsistentMarginalsError, InvalidDistributionError

__all__ = ["PairwiseMinEntropy", "min_joint_entropy", "MAX_ZERO_SETS"]

#: exact vertex enumeration is used when C(N, d) (zero sets to try) is at most this
MAX_ZERO_SETS = 200_000
_FEAS_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class PairwiseMinEntropy(Result):
    """Bracket on ``min H(X1, X2, Y)`` over joints with the three given pairwise marginals (bits).

    A :class:`~pidlab._results.Result` (``to_dict``, ``to_json``, ``table``/``str``,
    ``_repr_html_``); compared and hashed by identity (it holds the joint array).

    Attributes
    ----------
    entropy : float
        Entropy of ``joint``, a feasible point: the minimum when ``exact``, else an upper bound on it.
    lower_bound : float
        Certified lower bound on the minimum (equal to ``entropy`` when ``exact``).
    lower_bound_source : str
        ``"exact"`` or which pairwise coupling bound gave it (e.g. ``"MEC(p12, p_y): threshold-profile"``).
    lower_bounds : FrozenMap of str -> float
        All lower bounds computed (read-only).
    exact : bool
        Whether ``entropy`` is the certified minimum (vertex enumeration).
    joint : numpy.ndarray
        The minimising (or best found) joint ``r[x1, x2, y]``.
    method : str
        ``"vertex-enumeration"`` or ``"successive-linearization"`` (heuristic).
    marginal_residual : float
        ``max`` absolute deviation of ``joint``'s pairwise marginals from the inputs.
    info : FrozenMap
        Polytope dimension, number of vertices found, LPs solved, ... (read-only)
    notes : tuple of str
    """

    entropy: float
    lower_bound: float
    lower_bound_source: str
    lower_bounds: Mapping[str, float]
    exact: bool
    joint: NDArray[np.float64]
    method: str
    marginal_residual: float
    H_x1x2: float = 0.0
    H_y: float = 0.0
    info: Mapping[str, Any] = field(default_factory=FrozenMap)
    notes: tuple[str, ...] = ()
    units: str = "bits"

    def __post_init__(self) -> None:
        object.__setattr__(self, "lower_bounds", FrozenMap(self.lower_bounds))
        object.__setattr__(self, "info", freeze(self.info, sequences=False))

    @property
    def max_mutual_information(self) -> tuple[float, float]:
        """Bracket on ``max I_r(X1,X2;Y)`` over the same set: ``H(X1,X2) + H(Y) - min H(X1,X2,Y)``.

        Subtract ``R + U1 + U2`` (BROJA, from ``p_x1y`` and ``p_x2y``) to bracket the largest
        synergy compatible with the three marginals (docs/theory.rst §3.3, Theorem 3).
        """
        return (self.H_x1x2 + self.H_y - self.entropy, self.H_x1x2 + self.H_y - self.lower_bound)

    @property
    def upper_bound(self) -> float:
        """Entropy of the feasible joint found: an upper bound on the minimum (bits)."""
        return self.entropy

    @property
    def gap(self) -> float:
        return max(0.0, self.entropy - self.lower_bound)

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantity": "min H(X1,X2,Y) over joints with the given p(x1,x2), p(x1,y), p(x2,y)",
            "units": self.units,
            "entropy": float(self.entropy),
            "lower_bound": float(self.lower_bound),
            "lower_bound_source": self.lower_bound_source,
            "lower_bounds": {k: float(v) for k, v in self.lower_bounds.items()},
            "gap": float(self.gap),
            "exact": bool(self.exact),
            "method": self.method,
            "marginal_residual": float(self.marginal_residual),
            "max_mutual_information": [float(v) for v in self.max_mutual_information],
            "joint": self.joint.tolist(),
            "info": thaw(self.info),
            "notes": list(self.notes),
        }

    def table(self) -> str:
        from pidlab._render import pairwise_text

        return pairwise_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import pairwise_html

        return pairwise_html(self)


def _constraints(n1: int, n2: int, ny: int) -> NDArray[np.float64]:
    """Rows: r(x1,x2) then r(x1,y) then r(x2,y), over cells in C order of r[x1,x2,y]."""
    N = n1 * n2 * ny
    idx = np.arange(N).reshape(n1, n2, ny)
    A = np.zeros((n1 * n2 + n1 * ny + n2 * ny, N))
    row = 0
    for a in range(n1):
        for b in range(n2):
            A[row, idx[a, b, :]] = 1
            row += 1
    for a in range(n1):
        for c in range(ny):
            A[row, idx[a, :, c]] = 1
            row += 1
    for b in range(n2):
        for c in range(ny):
            A[row, idx[:, b, c]] = 1
            row += 1
    return A


def _check(p_x1y: ArrayLike, p_x2y: ArrayLike, p_x1x2: ArrayLike, tol: float) -> tuple[NDArray[np.float64], ...]:
    a = check_pmf(p_x1y, ndim=2, what="p_x1y (shape |X1| x |Y|)", atol=tol)
    b = check_pmf(p_x2y, ndim=2, what="p_x2y (shape |X2| x |Y|)", atol=tol)
    c = check_pmf(p_x1x2, ndim=2, what="p_x1x2 (shape |X1| x |X2|)", atol=tol)
    if a.shape[1] != b.shape[1] or a.shape[0] != c.shape[0] or b.shape[0] != c.shape[1]:
        raise InvalidDistributionError(
            f"shapes do not fit together: p_x1y {a.shape}, p_x2y {b.shape}, p_x1x2 {c.shape}; expected "
            "(|X1|,|Y|), (|X2|,|Y|), (|X1|,|X2|). Check the order of the three tables."
        )
    for what, u, v in (
        ("p(y)", a.sum(0), b.sum(0)),
        ("p(x1)", a.sum(1), c.sum(1)),
        ("p(x2)", b.sum(1), c.sum(0)),
    ):
        if np.abs(u - v).max() > 1e-7:
            raise InconsistentMarginalsError(
                f"the pairwise marginals disagree on {what} by up to {np.abs(u - v).max():.3g}; no joint has all "
                "three. Reconcile them first (see pidlab.Marginals and its consistency report)."
            )
    return a, b, c


def _lower_bounds(a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64]) -> dict[str, float]:
    pairs = {
        "MEC(p12, p_y)": (c.ravel(), a.sum(0)),
        "MEC(p1y, p_x2)": (a.ravel(), b.sum(1)),
        "MEC(p2y, p_x1)": (b.ravel(), a.sum(1)),
    }
    out: dict[str, float] = {}
    for name, (u, v) in pairs.items():
        sd = [np.sort(u[u > 0])[::-1], np.sort(v[v > 0])[::-1]]
        out.update({f"{name}: {k}": val for k, val in certified_lower_bounds(sd).items()})
    return out


def _feasible_point(A: NDArray[np.float64], rhs: NDArray[np.float64], cost: NDArray[np.float64]) -> NDArray[np.float64] | None:
    from scipy.optimize import linprog

    res = linprog(cost, A_eq=A, b_eq=rhs, bounds=(0, None), method="highs")
    if res.status != 0:
        return None
    return np.clip(res.x, 0.0, None)


def min_joint_entropy(
    p_x1y: ArrayLike,
    p_x2y: ArrayLike,
    p_x1x2: ArrayLike,
    *,
    tol: float = SUM_TOL,
    max_zero_sets: int = MAX_ZERO_SETS,
    n_starts: int = 20,
    max_iter: int = 50,
    random_state: int | None = 0,
) -> PairwiseMinEntropy:
    """Bracket ``min H(X1, X2, Y)`` (bits) over all joints with three given pairwise marginals.

    Exact by vertex enumeration when ``C(N, d) <= max_zero_sets`` (``N`` cells, ``d`` the
    dimension of the polytope); otherwise a heuristic feasible joint, flagged ``exact=False``,
    whose entropy is an upper bound on the minimum. A certified lower bound (pairwise coupling
    bounds) is always attached. The problem is NP-hard (Liang et al. 2024, Theorem 3).

    Parameters
    ----------
    p_x1y, p_x2y, p_x1x2 : array_like
        Tables of shapes ``(|X1|,|Y|)``, ``(|X2|,|Y|)``, ``(|X1|,|X2|)``, each summing to 1.
    tol : float
        Tolerance on each table's total.
    max_zero_sets : int
        Size limit of the exact enumeration.
    n_starts, max_iter, random_state
        Heuristic: random starting vertices, linearisation steps per start, seed.

    Raises
    ------
    InvalidDistributionError
        Malformed tables or shapes that do not fit together.
    InconsistentMarginalsError
        No joint has all three marginals.

    Examples
    --------
    XOR and the uniform joint share all pairwise marginals; XOR has the smaller entropy:

    >>> import numpy as np
    >>> u = np.full((2, 2), 0.25)
    >>> r = min_joint_entropy(u, u, u)
    >>> r.exact, round(r.entropy, 6)
    (True, 2.0)
    """
    a, b, c = _check(p_x1y, p_x2y, p_x1x2, tol)
    n1, ny = a.shape
    n2 = b.shape[0]
    N = n1 * n2 * ny
    A = _constraints(n1, n2, ny)
    rhs = np.concatenate([c.ravel(), a.ravel(), b.ravel()])
    lbs = _lower_bounds(a, b, c)
    rng = np.random.default_rng(random_state)
    r0 = _feasible_point(A, rhs, np.zeros(N))
    if r0 is None:
        raise InconsistentMarginalsError(
            "no joint distribution has these three pairwise marginals (they agree on the single-variable "
            "marginals but are not realisable together). Reconcile them first (see pidlab.Marginals)."
        )
    from scipy.linalg import null_space

    B = null_space(A)
    d = B.shape[1]
    n_sets = math.comb(N, d)
    notes: list[str] = []
    info: dict[str, Any] = {"cells": N, "dimension": d}
    if n_sets <= max_zero_sets:
        best, n_vert = _enumerate(r0, B, N, d)
        method, exact = "vertex-enumeration", True
        info["zero_sets"] = n_sets
        info["vertices"] = n_vert
    else:
        best, n_lp = _linearize(A, rhs, N, rng, n_starts, max_iter)
        method, exact = "successive-linearization", False
        info["linear_programs"] = n_lp
        notes.append(
            f"the polytope is too large for exact vertex enumeration (C({N},{d}) = {n_sets} zero sets > "
            f"max_zero_sets={max_zero_sets}); entropy is that of a heuristic feasible joint, an UPPER bound "
            "on the minimum, not the minimum"
        )
    joint = best.reshape(n1, n2, ny)
    h = entropy(joint)
    resid = float(np.abs(A @ best - rhs).max())
    if exact:
        lbs["exact"] = h
    lb, src = best_bound(lbs)
    lb = min(lb, h)
    return PairwiseMinEntropy(
        entropy=h,
        lower_bound=lb,
        lower_bound_source=src,
        lower_bounds=lbs,
        exact=exact,
        joint=joint,
        method=method,
        marginal_residual=resid,
        H_x1x2=entropy(c),
        H_y=entropy(a.sum(0)),
        info=info,
        notes=tuple(notes),
    )


def _enumerate(r0: NDArray[np.float64], B: NDArray[np.float64], N: int, d: int) -> tuple[NDArray[np.float64], int]:
    if d == 0:
        return r0, 1
    best: NDArray[np.float64] | None = None
    best_h = math.inf
    n_vert = 0
    combos_iter = combinations(range(N), d)
    chunk = max(1, 200_000 // (d * d + N))
    while True:
        block = np.array(list(_take(combos_iter, chunk)), dtype=np.int64)
        if block.size == 0:
            break
        M = B[block]  # (K, d, d)
        sv = np.linalg.svd(M, compute_uv=False)
        ok = sv[:, -1] > 1e-9 * max(1.0, float(sv[:, 0].max()))
        if not ok.any():
            continue
        M, blk = M[ok], block[ok]
        t = np.linalg.solve(M, -r0[blk][:, :, None])[:, :, 0]
        R = r0[None, :] + t @ B.T  # (K, N)
        feas = R.min(axis=1) >= -_FEAS_TOL
        R = np.clip(R[feas], 0.0, None)
        rows = np.arange(R.shape[0])[:, None]
        R[rows, blk[feas]] = 0.0  # the chosen zero cells are exactly zero at the vertex
        n_vert += R.shape[0]
        if R.shape[0] == 0:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            H = -np.where(R > 0, R * np.log2(np.where(R > 0, R, 1.0)), 0.0).sum(axis=1)
        k = int(np.argmin(H))
        if H[k] < best_h:
            best_h, best = float(H[k]), R[k].copy()
    assert best is not None  # r0 feasible, so the polytope has a vertex
    return best, n_vert


def _take(it: Any, n: int) -> list[Any]:
    out = []
    for _ in range(n):
        try:
            out.append(next(it))
        except StopIteration:
            break
    return out


def _linearize(
    A: NDArray[np.float64], rhs: NDArray[np.float64], N: int, rng: np.random.Generator, n_starts: int, max_iter: int
) -> tuple[NDArray[np.float64], int]:
    best: NDArray[np.float64] | None = None
    best_h = math.inf
    n_lp = 0
    for _ in range(n_starts):
        r = _feasible_point(A, rhs, rng.standard_normal(N))
        n_lp += 1
        if r is None:
            continue
        for _ in range(max_iter):
            grad = -np.log2(np.maximum(r, 1e-300)) * (r > 1e-15) + 60.0 * (r <= 1e-15)
            nxt = _feasible_point(A, rhs, grad)
            n_lp += 1
            if nxt is None or entropy(nxt) >= entropy(r) - 1e-12:
                break
            r = nxt
        h = entropy(r)
        if h < best_h:
            best_h, best = h, r
    if best is None:  # pragma: no cover - linprog failed on a feasible problem
        raise InconsistentMarginalsError("the linear programs found no feasible joint; check the marginals.")
    return best, n_lp
