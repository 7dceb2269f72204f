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


def kl_projection(
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


def max_entropy(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], *, tol: float = 1e-13,
    max_iter: int = 30, known_support: NDArray[np.bool_] | None = None, ipf_sweeps: int = 3000,
) -> MaxEntSolution:
    """Maximum-entropy joint under three consistent pairwise marginals (support LP, IPF, dual Newton).

    ``known_support`` marks cells a known feasible joint puts mass on (they skip the LP decision).
    Returns the joint (zero off the support), the support, ``H`` and its certified dual upper bound
    in bits, the duality gap, the largest marginal residual and the Newton iterations.
    """
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
    return MaxEntSolution(
        joint=joint, support=support, entropy=H_bits, entropy_upper=U_nats / LN2,
        duality_gap=gap_nats / LN2, residual=residual, iterations=it,
    )
