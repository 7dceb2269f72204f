r"""Fitting joint distributions to three pairwise marginals (the numerical engines behind :class:`~pidlab.Marginals`).

All functions work on plain arrays ``a = p(x1,y)``, ``b = p(x2,y)``, ``c = p(x1,x2)`` and a joint
``r[x1, x2, y]``; they do not validate (:class:`pidlab.Marginals` does). The mathematics is in
docs/theory.rst §3.1 (maximum-entropy joint) and §4 (consistency and repair).

* :func:`l1_projection`: the smallest total L1 change of the three tables that makes them the
  marginals of one joint, and a joint attaining it (one HiGHS LP; the TV repair).
* :func:`kl_projection`: the maximum-likelihood joint ``argmin_r sum_t w_t KL(p_t || r_t)`` by EM
  (the KL repair), batched over leading dimensions.
* :func:`clean_joint`: clip, drop numerical dust and renormalise a repaired joint.
* :func:`max_entropy`: the maximum-entropy joint under three consistent marginals: support LP,
  IPF warm start, damped Newton on the log-linear dual, and a certified dual upper bound.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from pidlab._info import LN2
from pidlab.exceptions import ConvergenceWarning

__all__ = ["l1_projection", "kl_projection", "clean_joint", "max_entropy", "MaxEntSolution"]

#: Cells of a repaired joint below this mass are set to zero (EM only approaches zeros asymptotically).
_DUST = 1e-10


class MaxEntSolution(NamedTuple):
    """The raw output of :func:`max_entropy` (entropies in bits); :class:`pidlab._marginals.MaxEntResult` wraps it."""

    joint: NDArray[np.float64]
    support: NDArray[np.bool_]
    entropy: float
    entropy_upper: float
    duality_gap: float
    residual: float
    iterations: int
    certificate: dict[str, float]


#: Unit roundoff of IEEE double precision.
_U = 2.0**-53

#: Above this many marginal rows touched by the support, the maximum-entropy dual is not refined by
#: dense Newton steps (their Hessian needs rows^2 memory); the IPF point is certified instead.
NEWTON_MAX_ROWS = 1000

#: Above this many candidate cells the support LP of the maximum-entropy joint is skipped (all
#: candidate cells are used: the certificate stays valid, IPF only converges more slowly).
SUPPORT_LP_MAX_CELLS = 200_000


def _eta(t12: NDArray[np.float64], t1y: NDArray[np.float64], t2y: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(A^T theta)[x1, x2, y] = theta12[x1, x2] + theta1y[x1, y] + theta2y[x2, y]`` on the full grid
    (of every table of a stack when the thetas have a leading axis)."""
    return t12[..., :, :, None] + t1y[..., :, None, :] + t2y[..., None, :, :]


def _split(theta: NDArray[np.float64], n1: int, n2: int, ny: int) -> tuple[NDArray[np.float64], ...]:
    return (theta[: n1 * n2].reshape(n1, n2), theta[n1 * n2 : n1 * n2 + n1 * ny].reshape(n1, ny),
            theta[n1 * n2 + n1 * ny :].reshape(n2, ny))


def default_eps_in(n1: int, n2: int, ny: int, total: Any) -> Any:
    """How far (total L1) marginals summed in double precision from a joint of this shape may be from
    the exact ones, for ``total`` the summed mass of the three tables: each entry is a sum of at
    most ``max(n1, n2, ny)`` cells, each addition off by at most one unit roundoff."""
    return 3.0 * max(n1, n2, ny) * _U * total


def dual_value_many(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], cand: NDArray[np.bool_],
    t12: NDArray[np.float64], t1y: NDArray[np.float64], t2y: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`_dual_value` of every table of a stack (leading axis on every argument); ``inf`` for
    both where ``exp(eta)`` would overflow on a candidate cell."""
    B, n1, n2 = t12.shape
    with np.errstate(over="ignore", under="ignore"):
        eta = _eta(t12, t1y, t2y)
        e = np.where(cand, np.exp(np.minimum(eta, 709.0)), 0.0)
        over = np.any(np.where(cand, eta, -np.inf) > 709.0, axis=(1, 2, 3))
        dot = (t12 * c).sum(axis=(1, 2)) + (t1y * a).sum(axis=(1, 2)) + (t2y * b).sum(axis=(1, 2))
        total_c = c.sum(axis=(1, 2))
        e_sum = e.sum(axis=(1, 2, 3))
        U = e_sum - dot - total_c
        absth = _eta(np.abs(t12), np.abs(t1y), np.abs(t2y))
        k = cand.reshape(B, -1).sum(axis=1)
        mrows = c[0].size + a[0].size + b[0].size
        absdot = (np.abs(t12) * c).sum(axis=(1, 2)) + (np.abs(t1y) * a).sum(axis=(1, 2)) + (np.abs(t2y) * b).sum(axis=(1, 2))
        err = ((e * (2 * _U * absth + _U)).sum(axis=(1, 2, 3)) + (k + 2) * _U * e_sum + (mrows + 2) * _U * absdot
               + (n1 * n2 + 2) * _U * total_c + 2 * _U * np.abs(U))
    err = 2.0 * err  # factor 2: margin for the first-order terms dropped from the bound
    return np.where(over, math.inf, U), np.where(over, math.inf, err)


def _dual_value(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], cand: NDArray[np.bool_],
    t12: NDArray[np.float64], t1y: NDArray[np.float64], t2y: NDArray[np.float64],
) -> tuple[float, float]:
    """The weak-duality bound ``U(theta)`` (nats) over the candidate cells, and a bound on its rounding error.

    For every joint ``r'`` supported on ``cand`` with exactly the marginals (a, b, c),
    ``H(r') <= U(theta) = sum_cand exp(eta) - theta . rhs - sum(c)`` (from ``-x ln x <= e^(h-1) - x h``
    with ``h = eta + 1``), for ANY theta. The rounding bound: ``eta`` is a sum of three terms
    (error <= 2u(|t12|+|t1y|+|t2y|)), ``exp`` adds one ulp, and the two sums of k and m terms add
    at most (k+2)u and (m+2)u times the sums of absolute values (standard recursive-summation bound).
    Computed by :func:`dual_value_many` on a stack of one.
    """
    U, err = dual_value_many(a[None], b[None], c[None], cand[None], t12[None], t1y[None], t2y[None])
    return float(U[0]), float(err[0])


def _zero_direction(cand: NDArray[np.bool_], support: NDArray[np.bool_], rhs: NDArray[np.float64]) -> Any:
    """A dual direction ``y`` with ``A^T y = 0`` on ``support`` and ``>= 1`` on ``cand \\ support``, or None.

    If the cells off the support are true structural zeros, ``y . rhs = sum r' (A^T y) = 0`` for
    every feasible joint, so moving theta along ``-y`` drives their terms of ``U`` to zero without
    changing the rest: the certificate stays tight. The LP has 0/1 coefficients (no scaling
    issue); its answer is only used as a search direction for a bound that is valid anyway.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    n1, n2, ny = cand.shape
    cells = np.flatnonzero(cand.ravel())
    i1, i2, iy = np.unravel_index(cells, cand.shape)
    rows = np.concatenate([i1 * n2 + i2, n1 * n2 + i1 * ny + iy, n1 * n2 + n1 * ny + i2 * ny + iy])
    used, rows_c = np.unique(rows, return_inverse=True)
    k = cells.size
    At = sparse.csr_matrix((np.ones(3 * k), (np.tile(np.arange(k), 3), rows_c)), shape=(k, used.size))
    on = support.ravel()[cells]
    try:
        res = linprog(rhs[used], A_ub=-At[~on], b_ub=-np.ones(int((~on).sum())), A_eq=At[on],
                      b_eq=np.zeros(int(on.sum())), bounds=(-100.0, 100.0), method="highs")
    except (ValueError, MemoryError):  # pragma: no cover
        return None
    if res.status != 0 or res.x is None:
        return None
    y = np.zeros(rhs.size)
    y[used] = res.x
    return y


def _certified_upper(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], cand: NDArray[np.bool_],
    support: NDArray[np.bool_], theta: NDArray[np.float64], *, eps_in: float, sweeps: int = 30,
    direction: bool = True,
) -> tuple[float, dict[str, float], NDArray[np.float64]]:
    """A certified upper bound (nats) on ``max H(r)`` over joints with marginals (a, b, c), and how it was made.

    Every joint with these marginals is zero off ``cand`` (a zero marginal entry forces it), so
    :func:`_dual_value` over ``cand`` is valid for any theta whatever the support LP decided.
    Starting from the Newton point, theta is improved by a line search along
    :func:`_zero_direction` and by exact block minimisations of the convex ``U`` (dual IPF
    sweeps, each of which can only lower it); the smallest value met is used. To it are added

    * the rounding bound of :func:`_dual_value`;
    * ``(max|theta| + 1) * eps_in``: the tables are the marginals of the joint only up to
      ``eps_in`` in total L1 (rounding of the sums that made them); for a joint ``r'`` whose
      marginals are off by ``d`` (``||d||_1 <= eps_in``), ``H(r') <= U + theta . d + sum(d_12)``.
    """
    n1, ny = a.shape
    n2 = b.shape[0]
    rhs = _rhs(a, b, c)
    best = (math.inf, math.inf, theta)

    def consider(th: NDArray[np.float64]) -> float:
        nonlocal best
        U, err = _dual_value(a, b, c, cand, *_split(th, n1, n2, ny))
        if U + err < best[0] + best[1]:
            best = (U, err, th)
        return U + err

    consider(theta)
    n_off = int((cand & ~support).sum())
    lam_used = 0.0
    if n_off and direction and n_off + int(support.sum()) <= SUPPORT_LP_MAX_CELLS:
        y = _zero_direction(cand, support, rhs)
        if y is not None:
            grid = np.concatenate([[0.0], np.logspace(-3, 8, 45)])
            vals = [consider(theta - lam * y) for lam in grid]
            lam_used = float(grid[int(np.argmin(vals))])
    th = best[2].copy()
    for _ in range(sweeps):  # exact block minimisations of U (IPF on the dual); U can only decrease
        t12, t1y, t2y = _split(th, n1, n2, ny)
        for which in range(3):
            with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
                e = np.where(cand, np.exp(np.minimum(_eta(t12, t1y, t2y), 709.0)), 0.0)
                if which == 0:
                    s_, tgt, blk = e.sum(2), c, t12
                elif which == 1:
                    s_, tgt, blk = e.sum(1), a, t1y
                else:
                    s_, tgt, blk = e.sum(0), b, t2y
                step = np.where((s_ > 0) & (tgt > 0), np.log(tgt) - np.log(np.where(s_ > 0, s_, 1.0)), 0.0)
            blk += np.where(np.isfinite(step), step, 0.0)
        th = np.concatenate([t12.ravel(), t1y.ravel(), t2y.ravel()])
        consider(th)
    U, err, th = best
    slack_in = (float(np.abs(th).max(initial=0.0)) + 1.0) * eps_in
    info = {"dual_value": U / LN2, "rounding": err / LN2, "input_rounding": slack_in / LN2,
            "off_support_cells": float(n_off), "lambda": lam_used}
    return U + err + slack_in, info, th


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


def l1_projection(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64]]:
    """Minimal total L1 change ``min ||A r - rhs||_1`` over joints r (r >= 0, sum 1) and the minimiser (HiGHS LP)."""
    from scipy import sparse
    from scipy.optimize import linprog

    from pidlab._limits import check_memory

    n1, ny = a.shape
    n2 = b.shape[0]
    n_cells, m_rows = n1 * n2 * ny, n1 * n2 + n1 * ny + n2 * ny
    check_memory(_lp_bytes(n_cells + 2 * m_rows, 4 * n_cells + 2 * m_rows, m_rows),
                 f"the L1 projection LP over the full {n1} x {n2} x {ny} joint",
                 hint="Use fewer symbols per modality (fewer clusters, a coarser discretizer)")
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


#: Tables with at most this many cells get the full L1 LP (exact minimum, as before); larger ones
#: the cheap exact tests of :func:`consistency_violation` and an LP over the allowed cells only.
FULL_LP_MAX_CELLS = 20_000


def candidate_cells(a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.intp]:
    """Flat indices (into the ``(n1, n2, ny)`` grid) of the cells no zero marginal entry excludes.

    Built from the nonzeros of ``p(x1,x2)`` (``nnz(c) * ny`` work and memory), never the full grid.
    """
    n1, ny = a.shape
    n2 = b.shape[0]
    i1, i2 = np.nonzero(c > 0)
    out = []
    step = max(1, 2_000_000 // max(ny, 1))
    for s0 in range(0, i1.size, step):
        j1, j2 = i1[s0 : s0 + step], i2[s0 : s0 + step]
        ok = (a[j1] > 0) & (b[j2] > 0)  # (k, ny)
        kk, yy = np.nonzero(ok)
        out.append((j1[kk].astype(np.int64) * n2 + j2[kk]) * ny + yy)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _lp_bytes(n_vars: float, nnz: float, n_rows: float) -> float:
    """Memory HiGHS (through scipy) needs for an LP, estimated generously: ~250 bytes per nonzero,
    variable and row (scipy's COO/CSC copies, HiGHS' column- and row-wise copies, factor fill-in)."""
    return 250.0 * (n_vars + nnz + n_rows)


def markov_witness_violation(a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64]) -> float:
    """Smallest L1 violation of the three Markov-chain joints, without building any of them.

    ``r = c b / p2`` (X1 - X2 - Y), ``r = c a / p1`` (X2 - X1 - Y) and ``r = a b / py`` (X1 - Y - X2)
    are joint distributions; each reproduces two of the three tables when the singletons agree,
    and its third marginal is a matrix product (n1 n2 ny multiply-adds, n1 n2 memory). A value
    within the tolerance certifies realisability exactly (the witness is a joint).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2, py = c.sum(1), c.sum(0), a.sum(0)
        q2 = np.where(p2 > 0, 1.0 / p2, 0.0)
        q1 = np.where(p1 > 0, 1.0 / p1, 0.0)
        qy = np.where(py > 0, 1.0 / py, 0.0)
        out = []
        # X1 - X2 - Y: r12 = c * (b.sum(1) / p2), r2y = b * (p2 * q2), r1y = c @ (b * q2)
        out.append(float(np.abs(c * (b.sum(1) * q2)[None, :] - c).sum() + np.abs(b * (p2 * q2)[:, None] - b).sum()
                         + np.abs(c @ (b * q2[:, None]) - a).sum()))
        # X2 - X1 - Y: r12 = c * (a.sum(1) / p1), r1y = a * (p1 q1), r2y = c.T @ (a * q1)
        out.append(float(np.abs(c * (a.sum(1) * q1)[:, None] - c).sum() + np.abs(a * (p1 * q1)[:, None] - a).sum()
                         + np.abs(c.T @ (a * q1[:, None]) - b).sum()))
        # X1 - Y - X2: r1y = a * (b.sum(0) qy), r2y = b * (py qy), r12 = (a qy) @ b.T
        out.append(float(np.abs(a * (b.sum(0) * qy)[None, :] - a).sum() + np.abs(b * (py * qy)[None, :] - b).sum()
                         + np.abs((a * qy[None, :]) @ b.T - c).sum()))
    vals = [v for v in out if math.isfinite(v)]
    return min(vals) if vals else math.inf


def restricted_l1_projection(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], cells: NDArray[np.intp],
    tol: float = 0.0,
) -> float:
    """``min sum_t ||r_t - p_t||_1`` over joints supported on ``cells`` (sparse HiGHS LP).

    With ``tol > 0`` a realising point found by the cheaper feasibility LP whose violation is
    within ``tol`` is returned instead of the minimum (both say "realisable").

    Every joint that realises the tables lives on the cells no zero marginal excludes, so with
    those cells the minimum is 0 exactly when the tables are realisable; otherwise it is an upper
    bound on the unrestricted minimum. Rows touched by no cell contribute their constant ``|rhs|``.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    from pidlab._limits import check_memory

    n1, ny = a.shape
    n2 = b.shape[0]
    rhs = _rhs(a, b, c)
    k = cells.size
    if k == 0:
        return float(np.abs(rhs).sum())
    i1, i2, iy = np.unravel_index(cells, (n1, n2, ny))
    rows = np.concatenate([i1 * n2 + i2, n1 * n2 + i1 * ny + iy, n1 * n2 + n1 * ny + i2 * ny + iy])
    used, rows_c = np.unique(rows, return_inverse=True)
    m = used.size
    check_memory(_lp_bytes(k + 2 * m, 3 * k + 2 * m + k, m + 1),
                 f"the consistency LP over {k} allowed cells of a {n1} x {n2} x {ny} table",
                 hint="Use fewer symbols per modality (fewer clusters, a coarser discretizer)")
    A = sparse.csr_matrix((np.ones(3 * k), (rows_c, np.tile(np.arange(k), 3))), shape=(m, k))
    eye = sparse.identity(m, format="csr")
    A_eq = sparse.vstack([
        sparse.hstack([A, eye, -eye], format="csr"),
        sparse.hstack([sparse.csr_matrix(np.ones((1, k))), sparse.csr_matrix((1, 2 * m))], format="csr"),
    ], format="csr")
    # First the plain feasibility problem (k variables, no slacks): a point it finds within the
    # tolerance is a realising joint, which settles the question at a fraction of the L1 LP's cost.
    feas = linprog(np.zeros(k), A_eq=sparse.vstack([A, sparse.csr_matrix(np.ones((1, k)))], format="csr"),
                   b_eq=np.concatenate([rhs[used], [1.0]]), bounds=(0, None), method="highs",
                   options={"primal_feasibility_tolerance": 1e-10})
    if feas.status == 0 and feas.x is not None:
        r = np.clip(feas.x, 0.0, None)
        untouched = np.ones(rhs.size, dtype=bool)
        untouched[used] = False
        v = float(np.abs(A @ r - rhs[used]).sum()) + float(np.abs(rhs[untouched]).sum())
        if v <= tol:
            return v
    b_eq = np.concatenate([rhs[used], [1.0]])
    cost = np.concatenate([np.zeros(k), np.ones(2 * m)])
    res = linprog(cost, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if res.status != 0 or res.x is None:  # pragma: no cover - HiGHS failure on a bounded feasible LP
        from pidlab.exceptions import SolverError

        raise SolverError(f"the consistency LP failed (HiGHS: {res.message}); please report this input.")
    r = np.clip(res.x[:k], 0.0, None)
    viol_used = float(np.abs(A @ r - rhs[used]).sum())
    untouched = np.ones(rhs.size, dtype=bool)
    untouched[used] = False
    return viol_used + float(np.abs(rhs[untouched]).sum())


def consistency_violation(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], *, tol: float, max_tv: float,
) -> tuple[float, str]:
    """The L1 violation of :meth:`pidlab.Marginals.consistency` and how it was obtained.

    Small tables (at most :data:`FULL_LP_MAX_CELLS` cells): the full LP (exact minimum). Larger
    ones, cheapest exact test first: singleton disagreement beyond ``tol`` decides "not
    realisable" (``violation >= 2 max TV``, returned as a lower bound); a Markov-chain witness
    within ``tol`` decides "realisable"; otherwise the LP over the allowed cells (zero iff
    realisable), guarded by :func:`pidlab._limits.check_memory`.
    """
    n1, ny = a.shape
    n2 = b.shape[0]
    if n1 * n2 * ny <= FULL_LP_MAX_CELLS:
        return l1_projection(a, b, c)[0], "lp"
    if max_tv > tol:
        return 2.0 * max_tv, "singletons (lower bound 2 max TV)"
    w = markov_witness_violation(a, b, c)
    if w <= tol:
        return w, "markov witness"
    from pidlab._limits import check_memory

    check_memory(8.0 * int((c > 0).sum()) * ny * 2, f"listing the allowed cells of a {n1} x {n2} x {ny} table",
                 hint="Use fewer symbols per modality (fewer clusters, a coarser discretizer)")
    return restricted_l1_projection(a, b, c, candidate_cells(a, b, c), tol=tol), "lp (allowed cells)"


def kl_projection(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], w: NDArray[np.float64],
    *, max_iter: int, tol: float = 1e-12, init: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """EM for ``argmin_r sum_t w_t KL(p_t || r_t)`` (r a joint), started from the uniform table.

    Leading batch dimensions are allowed (``a`` of shape ``(..., n1, ny)`` and so on): each
    problem of the batch runs the same iteration as it would alone and stops (is frozen) once
    its L1 change falls below ``tol``. ``init`` replaces the uniform start.
    """
    from pidlab._limits import check_memory, check_work

    n1, ny = a.shape[-2:]
    n2 = b.shape[-2]
    batch = a.shape[:-2]
    n_cells = float(np.prod(batch, dtype=float)) * n1 * n2 * ny
    what = f"the maximum-likelihood (EM) repair of {n1} x {n2} x {ny} tables" + (f" (batch {batch})" if batch else "")
    hint = "Use fewer symbols per modality (fewer clusters, a coarser discretizer)"
    check_memory(8.0 * n_cells * 8, what, hint=hint)  # r, new, three ratio broadcasts, temporaries
    check_work(20.0 * n_cells * max_iter, what, hint=hint)
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


def clean_joint(r: NDArray[np.float64]) -> NDArray[np.float64]:
    """Clip, drop dust and renormalise a repaired joint (leading batch dimensions allowed).

    Masses below ``_DUST`` (1e-10) are numerical dust (EM approaches zeros only asymptotically and
    would leave subnormal entries that defeat every LP); the repaired tables are the exact
    marginals of the cleaned joint, so they stay realisable.
    """
    r = np.clip(r, 0.0, None)
    r = r / r.sum(axis=(-3, -2, -1), keepdims=True)
    r = np.where(r < _DUST, 0.0, r)
    return r / r.sum(axis=(-3, -2, -1), keepdims=True)


def _support_lp(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], cand: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Cells of ``cand`` on which some joint with marginals (a, b, c) puts mass (one homogenised LP).

    Variables: a scaled joint ``u >= 0`` on the candidate cells (``r = w * u`` with ``w`` the
    smallest of the cell's three marginal entries, an upper bound on ``r``), a scale ``s >= 0`` and
    indicators ``0 <= z <= 1`` with ``z <= u``; every marginal row is divided by its right-hand
    side, so each reads ``sum (w / rhs) u = s`` with coefficients in (0, 1]. The feasible set is a
    cone, so at the optimum of max sum z every cell that any feasible joint can make positive has
    z = 1 and every other has 0.

    The scaling is what makes tiny masses visible: unscaled, a cell whose marginal is 1e-40 could
    only reach z = 1 with ``s >= 1e40``, so it was silently left out of the support (and the
    maximum-entropy bound computed on too small a support). The answer decides only how tight the
    certificate of :func:`max_entropy` is, never its validity (that is checked on all candidate
    cells), so a failed LP falls back to all candidate cells (a superset of the support) instead
    of calling realisable tables unrealisable.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    n1, ny = a.shape
    n2 = b.shape[0]
    cells = np.flatnonzero(cand.ravel())
    k = cells.size
    if k == 0:
        return cand.copy()
    i1, i2, iy = np.unravel_index(cells, cand.shape)
    w = np.minimum(np.minimum(c[i1, i2], a[i1, iy]), b[i2, iy])
    rows = np.concatenate([i1 * n2 + i2, n1 * n2 + i1 * ny + iy, n1 * n2 + n1 * ny + i2 * ny + iy])
    rhs_full = _rhs(a, b, c)
    vals = np.concatenate([w, w, w]) / rhs_full[rows]
    used, rows_c = np.unique(rows, return_inverse=True)
    m = used.size
    cols = np.tile(np.arange(k), 3)
    A = sparse.csr_matrix((vals, (rows_c, cols)), shape=(m, k))
    # variables: [u (k), z (k), s (1)]; constraints A u - s = 0 and z - u <= 0
    A_eq = sparse.hstack([A, sparse.csr_matrix((m, k)), sparse.csr_matrix(-np.ones((m, 1)))], format="csr")
    eye = sparse.identity(k, format="csr")
    A_ub = sparse.hstack([-eye, eye, sparse.csr_matrix((k, 1))], format="csr")
    cost = np.concatenate([np.zeros(k), -np.ones(k), [0.0]])
    bounds = [(0, None)] * k + [(0, 1)] * k + [(0, 1e9)]
    try:
        res = linprog(cost, A_ub=A_ub, b_ub=np.zeros(k), A_eq=A_eq, b_eq=np.zeros(m), bounds=bounds, method="highs")
    except (ValueError, MemoryError):  # pragma: no cover - HiGHS refusing the model
        return cand.copy()
    if res.status != 0 or res.x is None or not (res.x[k : 2 * k] > 0.5).any():
        return cand.copy()  # a superset of the support: the certificate stays valid, only looser
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


def max_entropy(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], *, tol: float = 1e-13,
    max_iter: int = 30, known_support: NDArray[np.bool_] | None = None, ipf_sweeps: int = 3000,
    eps_in: float | None = None,
) -> MaxEntSolution:
    """Maximum-entropy joint under three consistent pairwise marginals (support LP, IPF, dual Newton).

    ``known_support`` marks cells a known feasible joint puts mass on (they skip the LP decision).
    Returns the joint (zero off the support), the support, ``H`` and its certified dual upper bound
    in bits, the duality gap, the largest marginal residual and the Newton iterations.

    ``eps_in`` is how far (total L1) the tables may be from the exact marginals of the joints the
    bound must cover; default: the rounding of marginals summed from a joint of this shape in
    double precision, ``3 * max(n1, n2, ny) * 2^-53`` per unit of mass (each entry is a sum of at
    most ``max(n1, n2, ny)`` cells, each addition off by at most one unit roundoff).
    """
    n1, ny = a.shape
    n2 = b.shape[0]
    if eps_in is None:
        eps_in = default_eps_in(n1, n2, ny, float(a.sum()) + float(b.sum()) + float(c.sum()))
    from pidlab._limits import check_memory, check_work

    n_cells = n1 * n2 * ny
    what = f"the maximum-entropy joint of a {n1} x {n2} x {ny} table"
    hint = "Use fewer symbols per modality (fewer clusters, a coarser discretizer)"
    check_memory(8.0 * n_cells * 12, what, hint=hint)  # dense IPF arrays, the certificate's eta, e, |eta|, masks
    check_work(12.0 * n_cells * ipf_sweeps, what, hint=hint)  # three scalings of the grid per sweep
    # Cells forced to zero by a zero marginal entry.
    cand = (c[:, :, None] > 0) & (a[:, None, :] > 0) & (b[None, :, :] > 0)
    n_cand = int(cand.sum())
    # Structural zeros (cells every feasible joint leaves empty although no marginal is zero there)
    # are found by one LP; IPF would only approach them asymptotically. Cells where a known
    # feasible joint is positive are in the support without asking the LP. Above
    # SUPPORT_LP_MAX_CELLS candidate cells the LP is skipped: all candidates (a superset of the
    # support) keep the certificate valid, only IPF approaches the structural zeros more slowly.
    known = cand & known_support if known_support is not None else np.zeros_like(cand)
    if int(known.sum()) == n_cand or n_cand > SUPPORT_LP_MAX_CELLS:
        support = cand.copy()
    else:
        support = _support_lp(a, b, c, cand) | known
    cells = np.flatnonzero(support.ravel())
    rhs_full = _rhs(a, b, c)
    # Rows touched by the support; the dense Newton step needs (rows)^2 memory, so above
    # NEWTON_MAX_ROWS the dual is left at the IPF point (its certificate is just as valid).
    m_rows = int((support.any(axis=2)).sum() + support.any(axis=1).sum() + support.any(axis=0).sum())
    large = m_rows > NEWTON_MAX_ROWS
    # Warm start: IPF on the support (stays in the log-linear family, log r = A^T theta exactly,
    # theta accumulated alongside for the large path).
    r3 = np.where(support, 1.0, 0.0)
    r3 /= r3.sum()
    t12 = np.full((n1, n2), -math.log(max(int(support.sum()), 1)))
    t1y, t2y = np.zeros((n1, ny)), np.zeros((n2, ny))
    prev = math.inf
    sweep = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for sweep in range(ipf_sweeps):  # noqa: B007 - reported below
            for blk, tgt, ax in ((t12, c, 2), (t1y, a, 1), (t2y, b, 0)):
                s_ = r3.sum(axis=ax)
                f = np.where(s_ > 0, tgt / s_, 0.0)
                r3 = r3 * np.expand_dims(f, ax)
                if large:
                    blk += np.where(f > 0, np.log(np.where(f > 0, f, 1.0)), 0.0)
            if sweep % 25 == 24:
                res = max(float(np.abs(r3.sum(2) - c).max()), float(np.abs(r3.sum(1) - a).max()))
                # close enough for Newton (quadratic from here), or IPF has stalled (structural zeros)
                if res < (1e-13 if large else 1e-9) or res > (0.999 if large else 0.9) * prev:
                    break
                prev = res
    if large:
        theta_full = np.concatenate([t12.ravel(), t1y.ravel(), t2y.ravel()])
        # the primal point is the IPF joint on the support; the certificate may move theta further
        U_nats, cert_info, _ = _certified_upper(a, b, c, cand, support, theta_full, eps_in=eps_in, sweeps=3)
        tt = _split(theta_full, n1, n2, ny)
        with np.errstate(over="ignore", under="ignore"):
            eta3 = _eta(*tt)
            joint = np.where(support, np.exp(np.minimum(eta3, 709.0)), 0.0)
        residual = max(float(np.abs(joint.sum(2) - c).max()), float(np.abs(joint.sum(1) - a).max()),
                       float(np.abs(joint.sum(0) - b).max()))
        H_bits = float(-np.sum(joint[support] * eta3[support])) / LN2
        if residual > 1e-9:
            warnings.warn(
                f"the maximum-entropy joint reached marginal residual {residual:.2e} after {sweep + 1} IPF sweeps "
                "(a table too large for Newton steps; the entropy bound used is the certified dual value).",
                ConvergenceWarning,
                stacklevel=3,
            )
        return MaxEntSolution(joint=joint, support=support, entropy=H_bits, entropy_upper=U_nats / LN2,
                              duality_gap=U_nats / LN2 - H_bits, residual=residual, iterations=0,
                              certificate=cert_info)
    A = _constraint_matrix(n1, n2, ny)[:, cells].tocsr()
    rhs = rhs_full
    keep = np.asarray(A.sum(axis=1)).ravel() > 0
    A = A[keep]
    rhs = rhs[keep]
    At = A.T.tocsr()
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
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported after the loop
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
    # Certificate: a dual value valid on ALL candidate cells (see _certified_upper), so that a
    # support decided wrongly (tiny masses, LP tolerances) can only loosen it, never invalidate it.
    theta_full = np.zeros(keep.size)
    theta_full[keep] = theta
    U_nats, cert_info, _ = _certified_upper(a, b, c, cand, support, theta_full, eps_in=eps_in)
    eta = At @ theta
    H_nats = -float(np.sum(r * eta))
    H_bits = H_nats / LN2
    U_bits = U_nats / LN2
    return MaxEntSolution(
        joint=joint, support=support, entropy=H_bits, entropy_upper=U_bits,
        duality_gap=U_bits - H_bits, residual=residual, iterations=it, certificate=cert_info,
    )
