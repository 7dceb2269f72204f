r"""pidlab's own BROJA solver: a primal-dual interior-point method on the conditional-logit dual.

Only numpy and scipy are used. The program (math.md §2) is solved in its dual form

.. math::

    \max_{q \in \Delta_p} H_q(Y|X_1X_2) = \min_{\lambda,\mu}
    \sum p(x_1,y)\lambda(x_1,y) + \sum p(x_2,y)\mu(x_2,y)
    \quad\text{s.t.}\quad \ell_{x_1x_2}(\lambda,\mu) =
    \log\sum_{y \in A(x_1,x_2)} e^{-\lambda(x_1,y)-\mu(x_2,y)} \le 0,

one constraint per source pair with a non-empty support ``A(x1, x2)``. Its multipliers are the
pair weights ``w(x1, x2) = q(x1, x2)``, and the primal point is the conditional logit
``q(x1,x2,y) = w(x1,x2) softmax_y(-λ(x1,y) - μ(x2,y))``. The optimum often puts ``w = 0`` on
many pairs (q* on the boundary of Δ_p), where alternating scaling converges sublinearly; a
primal-dual interior-point method with Mehrotra's predictor-corrector handles the boundary in
about ten Newton steps whatever the size.

The iteration is infeasible in the dual slacks (``s = -ℓ`` is a variable, ``ℓ + s → 0``), starts
at the conditionally independent point (primal and dual feasible), follows a central path
weighted by the starting pair masses (so pairs of tiny probability get tiny complementarity
targets: entries of 1e-15 beside 0.5 are handled), limits each step to a change of at most
``STEP_CAP`` nats in any logit, and switches an item that stops making progress to an Armijo
line search on the KKT residual. If a run does not certify, it is retried with other
globalisation settings (``ATTEMPTS``); the best bounds of all runs are kept.

Each Newton step solves one symmetric positive definite system in the dual variables
``(λ, μ)`` (one μ per target symbol is pinned to zero: it is a gauge freedom). Its λλ part is
block diagonal (one |Y|×|Y| block per x1), so λ is eliminated block by block and the Schur
complement in μ, of order ``|X2||Y|``, is factorised by Cholesky. While the pair weights are
moderate the Schur complement is formed in O(n⁵) from the diagonal-plus-rank-one structure of
the coupling blocks (:class:`_SchurFactorFast`); near the optimum, where that loses accuracy,
by one SYRK (:class:`_SchurFactor`, O(n⁶)/2, positive semidefinite in floating point). Memory
is O((|X2||Y|)²) for the Schur complement. Small problems (and the batch path,
:func:`pidlab.decompose_many`) assemble the whole system and use batched dense solves.

Convergence is decided by the host's own certificate: :func:`pidlab._broja.dual_bound` of the
current (λ, μ) and :func:`pidlab._broja.objective_bits` of the current q after
:func:`pidlab._broja.polish_primal`. The status is ``OPTIMAL`` only when that gap is at most
``gap_tol`` bits (default 1e-9).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._bases import Availability, Solver
from pidlab._broja import BrojaProblem, SolveResult, dual_bound, objective_bits, polish_primal
from pidlab._status import Status
from pidlab.exceptions import SolverError
from pidlab.hookspecs import hookimpl

__all__ = ["NativeSolver", "DEFAULT_GAP_TOL", "ip_solve", "blas_threads"]

LN2 = math.log(2.0)
#: Default target width (bits) of the certified bracket on m*.
DEFAULT_GAP_TOL = 1e-9
#: Assemble the full Newton system (batched dense solve) up to this many dual variables.
DENSE_MAX_VARS = 160
#: Largest change (nats) of any logit -λ-μ in one Newton step.
STEP_CAP = 4.0
#: Largest pair weight κ = w/s - w for which the O(n⁵) Schur formation is accurate enough.
FAST_SCHUR_MAX_KAPPA = 1e5
#: Settings tried in turn until the gap is certified:
#: (weighted central path, step cap in nats, fraction of the step to the boundary).
ATTEMPTS: tuple[tuple[bool, float, float], ...] = (
    (True, 4.0, 0.999), (True, 4.0, 0.99), (False, 20.0, 0.99), (False, 4.0, 0.99), (True, 1.0, 0.99),
)

Arr = NDArray[np.float64]
BArr = NDArray[np.bool_]


def lse_softmax(lam: Arr, mu: Arr, A: BArr) -> tuple[Arr, Arr]:
    """Per pair log-sum-exp and softmax over the support of ``-lam[x1,y] - mu[x2,y]``.

    Shapes: ``lam (N, n1, ny)``, ``mu (N, n2, ny)``, ``A (N, n1, n2, ny)``; returns
    ``lse (N, n1, n2)`` (0 on empty pairs) and ``c (N, n1, n2, ny)`` (0 off the support).
    """
    e = -(lam[:, :, None, :] + mu[:, None, :, :])
    e = np.where(A, e, -np.inf)
    mx = e.max(axis=3)
    has = np.isfinite(mx)
    mx0 = np.where(has, mx, 0.0)
    ex = np.exp(e - mx0[..., None])  # exp(-inf) = 0 off the support
    Z = ex.sum(axis=3)
    Zs = np.where(has, Z, 1.0)
    c = ex / Zs[..., None]
    lse = np.where(has, mx0 + np.log(Zs), 0.0)
    return lse, c


@dataclass
class _Batch:
    """Static data of a stack of problems of one shape (leading axis N)."""

    a: Arr  # (N, n1, ny)
    b: Arr  # (N, n2, ny)
    A: BArr  # (N, n1, n2, ny) support
    P: BArr  # (N, n1, n2) pairs with a non-empty support
    va: BArr  # (N, n1, ny) lambda variables
    vbf: BArr  # (N, n2, ny) free mu variables (support minus one pinned x2 per y)
    npairs: Arr  # (N,)

    @classmethod
    def build(cls, a: Arr, b: Arr) -> _Batch:
        A = (a[:, :, None, :] > 0) & (b[:, None, :, :] > 0)
        P = A.any(axis=3)
        va = a > 0
        vb = b > 0
        pin = np.zeros_like(vb)
        arg = np.argmax(b, axis=1)  # (N, ny): the largest p(x2, y) of each y is pinned
        np.put_along_axis(pin, arg[:, None, :], True, axis=1)
        pin &= vb
        return cls(a, b, A, P, va, vb & ~pin, np.maximum(P.sum(axis=(1, 2)), 1).astype(float))

    def take(self, idx: NDArray[np.intp]) -> _Batch:
        return _Batch(self.a[idx], self.b[idx], self.A[idx], self.P[idx], self.va[idx], self.vbf[idx],
                      self.npairs[idx])


def initial_point(d: _Batch) -> tuple[Arr, Arr, Arr, Arr]:
    """Start at the conditionally independent point: primal and dual feasible, ``s >= 1``.

    Returns ``lam, mu, w, s``.
    """
    a, b = d.a, d.b
    py = a.sum(axis=1)  # (N, ny)
    with np.errstate(divide="ignore"):
        la = np.where(d.va, -np.log(np.where(d.va, a, 1.0)), 0.0)
        lb = np.where(b > 0, -np.log(np.where(b > 0, b, 1.0)), 0.0)
        lpy = np.log(np.where(py > 0, py, 1.0))
    # -lam - mu = log a + log b - log p(y): q(y|x1,x2) of the CI point. Move the pinned mu to 0.
    pinned = (b > 0) & ~d.vbf
    off = np.where(pinned, lb, 0.0).sum(axis=1)  # (N, ny)
    lam = np.where(d.va, la - lpy[:, None, :] + off[:, None, :], 0.0)
    mu = np.where(d.vbf, lb - off[:, None, :], 0.0)
    lse, _ = lse_softmax(lam, mu, d.A)
    sh = np.where(d.P, lse, -np.inf).max(axis=2)
    sh = np.where(np.isfinite(sh), sh, 0.0) + 1.0
    lam = np.where(d.va, lam + sh[:, :, None], 0.0)
    lse, _ = lse_softmax(lam, mu, d.A)
    s = np.where(d.P, -lse, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(py > 0, 1.0 / py, 0.0)
    w = np.where(d.P, np.einsum("nxy,nzy,ny->nxz", a, b, inv), 0.0)
    w = np.where(d.P, np.maximum(w, 1e-300), 0.0)
    return lam, mu, w, s


def _assemble(d: _Batch, w: Arr, s: Arr, c: Arr) -> tuple[Arr, Arr, Arr, Arr]:
    """Diagonal blocks of the Newton matrix ``Σ_pairs w ∇²ℓ + (w/s) ∇ℓ∇ℓᵀ`` in (λ, μ).

    Every pair contributes ``K = diag(q_pair) + κ c cᵀ`` (``κ = w/s - w``) to the blocks
    (λ[x1], λ[x1]), (λ[x1], μ[x2]), (μ[x2], μ[x2]). Returns ``Mll (N,n1,ny,ny)``,
    ``Mmm (N,n2,ny,ny)`` (gauge and absent variables replaced by identity rows), ``q`` and
    ``kc = κ c``, from which the coupling block (λ[x1], μ[x2]) is formed on demand.
    """
    ny = c.shape[3]
    ar = np.arange(ny)
    q = w[..., None] * c
    kap = np.where(d.P, w * (1.0 / s - 1.0), 0.0)
    kc = kap[..., None] * c  # (N, n1, n2, ny)
    Mll = c.transpose(0, 1, 3, 2) @ kc  # (N, n1, ny, ny)
    Mll[:, :, ar, ar] += q.sum(axis=2)
    Mmm = c.transpose(0, 2, 3, 1) @ kc.transpose(0, 2, 1, 3)  # (N, n2, ny, ny)
    Mmm[:, :, ar, ar] += q.sum(axis=1)
    Mll *= d.va[:, :, :, None]
    Mll *= d.va[:, :, None, :]
    Mll[:, :, ar, ar] += ~d.va
    Mmm *= d.vbf[:, :, :, None]
    Mmm *= d.vbf[:, :, None, :]
    Mmm[:, :, ar, ar] += ~d.vbf
    return Mll, Mmm, q, kc


class _DenseFactor:
    """Whole Newton system, batched LU solve (small problems, the batch path)."""

    def __init__(self, d: _Batch, Mll: Arr, Mmm: Arr, q: Arr, kc: Arr, c: Arr) -> None:
        N, n1, ny, _ = Mll.shape
        n2 = Mmm.shape[1]
        ar = np.arange(ny)
        K1, K2 = n1 * ny, n2 * ny
        Mlm = c.transpose(0, 1, 3, 2)[:, :, :, :, None] * kc[:, :, None, :, :]  # (N, n1, ny, n2, ny)
        Mlm[:, :, ar, :, ar] += q.transpose(3, 0, 1, 2)
        Mlm *= d.vbf[:, None, None, :, :]
        M = np.zeros((N, K1 + K2, K1 + K2))
        i1 = np.arange(n1)
        M[:, :K1, :K1].reshape(N, n1, ny, n1, ny)[:, i1, :, i1, :] = Mll.transpose(1, 0, 2, 3)
        i2 = np.arange(n2)
        M[:, K1:, K1:].reshape(N, n2, ny, n2, ny)[:, i2, :, i2, :] = Mmm.transpose(1, 0, 2, 3)
        X = Mlm.reshape(N, K1, K2)
        M[:, :K1, K1:] = X
        M[:, K1:, :K1] = X.transpose(0, 2, 1)
        self.M = M
        self.shape = (n1, n2, ny)
        self.regularised = False

    def solve(self, rl: Arr, rm: Arr) -> tuple[Arr, Arr]:
        N = rl.shape[0]
        n1, n2, ny = self.shape
        r = np.concatenate([rl.reshape(N, -1), rm.reshape(N, -1)], axis=1)
        try:
            x = np.linalg.solve(self.M, r[..., None])[..., 0]
        except np.linalg.LinAlgError:
            x = np.stack([np.linalg.lstsq(Mi, ri, rcond=None)[0] for Mi, ri in zip(self.M, r)])
            self.regularised = True
        return x[:, : n1 * ny].reshape(N, n1, ny), x[:, n1 * ny:].reshape(N, n2, ny)


class _SchurFactorFast:
    """One problem: eliminate λ block by block, then Cholesky of the Schur complement in μ.

    The coupling block is never formed: for the x1-block,
    ``Mlm[x1][u, (x2, z)] = q[x1,x2,z] δ(u,z) + c[x1,x2,u] κc[x1,x2,z]`` (diagonal plus a rank
    one term per pair), so the Schur correction ``Σ_x1 Mlm[x1]ᵀ Mll[x1]⁻¹ Mlm[x1]`` splits into
    four sums over x1 that are each a loop of |X2| or |Y| matrix products of shape
    ``(n, |X1|) @ (|X1|, |X2||Y|)``: O(n⁵) work instead of the O(n⁶) of a dense product, and
    O(n⁴) memory for the Schur complement itself.

    It goes through the explicit block inverses, whose rounding error grows like
    ``eps·κ²`` (κ the largest pair weight ``w/s``, which grows like 1/gap): it is used only
    while ``κ <= FAST_SCHUR_MAX_KAPPA``; later steps use :class:`_SchurFactor`.
    """

    def __init__(self, d: _Batch, Mll: Arr, Mmm: Arr, q: Arr, kc: Arr, c: Arr) -> None:
        import scipy.linalg as sla

        self._sla = sla
        _, n1, ny, _ = Mll.shape
        n2 = Mmm.shape[1]
        self.shape = (n1, n2, ny)
        self.regularised = False
        q, kc, c = q[0], kc[0], c[0]
        self.q, self.kc, self.c = q, kc, c
        self.vbf = d.vbf[0]
        Li = np.linalg.inv(_chol_blocks(Mll[0]))  # (n1, ny, ny) lower triangular inverses
        LiT = Li.transpose(0, 2, 1)
        Minv = LiT @ Li  # (n1, ny, ny), symmetric
        self.Minv = Minv
        G = Li @ c.transpose(0, 2, 1)  # (n1, ny, n2): L_i^-1 c_ib
        Hm = LiT @ G  # (n1, ny, n2): Hm[i, y, b] = (Minv_i c_ib)[y]
        R = G.transpose(0, 2, 1) @ G  # (n1, n2, n2): c_ia^T Minv_i c_ib, Gram form
        K2 = n2 * ny
        # T = Σ_x1 Mlm[x1]ᵀ Minv[x1] Mlm[x1] = A + B, grouped so that no term is larger than
        # the result (the pair weights κ grow like 1/s near the optimum):
        #   A[a, y, (b, z)] = Σ_i q[i,a,y] F[i,b,y,z],  F = Minv_i K_ib (bounded) by target symbol y
        #   B[a, y, (b, z)] = Σ_i κc[i,a,y] E[i,a,b,z], E = c_iaᵀ F_ib, by source symbol a
        S = np.empty((n2, ny, n2, ny))
        for y in range(ny):
            F = Minv[:, y, None, :] * q + Hm[:, y, :, None] * kc  # (n1, n2, ny)
            S[:, y] = (q[:, :, y].T @ F.reshape(n1, K2)).reshape(n2, n2, ny)
        for a_ in range(n2):
            E = Hm[:, :, a_][:, None, :] * q + R[:, a_, :, None] * kc  # (n1, n2, ny)
            S[a_] += (kc[:, a_, :].T @ E.reshape(n1, K2)).reshape(ny, n2, ny)
        S = S.reshape(K2, K2)
        S += S.T.copy()
        S *= -0.5
        Sv = S.reshape(n2, ny, n2, ny)
        i2 = np.arange(n2)
        Sv[i2, :, i2, :] += Mmm[0]
        m = self.vbf.ravel()
        S *= m[:, None]
        S *= m[None, :]
        S[np.arange(K2), np.arange(K2)] += ~m
        # S is symmetric, so its transpose is the same matrix in Fortran order (factorised in
        # place). Not positive definite in floating point: the caller falls back to _SchurFactor.
        self.cf = sla.cho_factor(S.T, lower=True, check_finite=False, overwrite_a=True)

    def _mlm(self, x: Arr) -> Arr:
        """``Mlm @ x`` for x over (x2, y): result over (x1, y)."""
        q, kc, c = self.q, self.kc, self.c
        x = x * self.vbf
        return np.einsum("iay,ay->iy", q, x) + np.einsum("iay,ia->iy", c, np.einsum("iaz,az->ia", kc, x))

    def _mlm_t(self, v: Arr) -> Arr:
        """``Mlmᵀ @ v`` for v over (x1, y): result over (x2, y)."""
        q, kc, c = self.q, self.kc, self.c
        out = np.einsum("iy,iay->ay", v, q) + np.einsum("iay,ia->ay", kc, np.einsum("iau,iu->ia", c, v))
        return out * self.vbf

    def solve(self, rl: Arr, rm: Arr) -> tuple[Arr, Arr]:
        n1, n2, ny = self.shape
        g = (self.Minv @ rl[0][:, :, None])[:, :, 0]
        rhs = rm[0] - self._mlm_t(g)
        dm = self._sla.cho_solve(self.cf, rhs.ravel(), check_finite=False).reshape(n2, ny)
        dl = (self.Minv @ (rl[0] - self._mlm(dm))[:, :, None])[:, :, 0]
        return dl[None], dm[None]


class _SchurFactor:
    """One problem: eliminate λ block by block (|Y|×|Y| Cholesky per x1), then Cholesky of the
    Schur complement in μ, of order |X2||Y|. The dominant cost is one SYRK of that order.

    With ``L_x1 = chol(Mll[x1])`` the eliminated coupling rows are
    ``B[x1] = L⁻¹ Mlm[x1]``, and ``Mlm[x1][:, (x2, y')] = q[x1,x2,y'] e_y' + κ c c[y']``, so
    ``B[x1][:, (x2,y')] = L⁻¹[:, y'] q[x1,x2,y'] + (L⁻¹ c_{x1x2}) κ c_{x1x2}[y']``: formed
    elementwise, never as a product. The Schur complement ``Mmm - Bᵀ B`` is formed by one
    SYRK (O(n⁶)/2), which keeps it positive semidefinite in floating point.
    """

    def __init__(self, d: _Batch, Mll: Arr, Mmm: Arr, q: Arr, kc: Arr, c: Arr) -> None:
        import scipy.linalg as sla

        self._sla = sla
        _, n1, ny, _ = Mll.shape
        n2 = Mmm.shape[1]
        self.shape = (n1, n2, ny)
        self.regularised = False
        L = _chol_blocks(Mll[0])
        Linv = np.linalg.inv(L)  # (n1, ny, ny), lower triangular
        self.Linv = Linv
        G = Linv @ c[0].transpose(0, 2, 1)  # (n1, ny, n2)
        K2 = n2 * ny
        # B, built one x1-block at a time (no full-size temporaries)
        B = np.empty((n1, ny, n2, ny))
        tmp = np.empty((ny, n2, ny))
        vb = d.vbf[0][None, :, :]
        for i in range(n1):
            np.multiply(Linv[i][:, None, :], q[0][i][None, :, :], out=B[i])
            np.multiply(G[i][:, :, None], kc[0][i][None, :, :], out=tmp)
            B[i] += tmp
            B[i] *= vb
        self.Bf = B.reshape(n1 * ny, K2)
        del B
        self._Mmm = Mmm[0]
        self.cf = self._factor(0.0)
        if self.cf is None:
            scale = float(np.abs(np.diagonal(self._Mmm, axis1=1, axis2=2)).max()) or 1.0
            for k in range(6):
                self.regularised = True
                self.cf = self._factor(scale * 10.0 ** (-14 + 2 * k))
                if self.cf is not None:
                    break
            else:  # pragma: no cover - the matrix is positive definite up to rounding
                raise np.linalg.LinAlgError("Newton system is not positive definite")
        del self._Mmm

    def _factor(self, reg: float) -> Any:
        """Cholesky of ``Mmm - BfᵀBf + reg·I`` (Fortran order throughout: no copies)."""
        sla = self._sla
        n1, n2, ny = self.shape
        K2 = n2 * ny
        S = np.zeros((K2, K2), order="F")
        i2 = np.arange(n2)
        S.T.reshape(n2, ny, n2, ny)[i2, :, i2, :] = self._Mmm.transpose(0, 2, 1)
        if reg:
            S[np.arange(K2), np.arange(K2)] += reg
        # S -= Bfᵀ Bf (lower triangle; Bf.T is a Fortran-ordered view, so BLAS reads it in place)
        S = sla.blas.dsyrk(-1.0, self.Bf.T, beta=1.0, c=S, trans=0, lower=1, overwrite_c=1)
        try:
            return sla.cho_factor(S, lower=True, check_finite=False, overwrite_a=True)
        except np.linalg.LinAlgError:
            return None

    def solve(self, rl: Arr, rm: Arr) -> tuple[Arr, Arr]:
        n1, n2, ny = self.shape
        t = (self.Linv @ rl[0][:, :, None])[:, :, 0]
        dm = self._sla.cho_solve(self.cf, rm[0].ravel() - self.Bf.T @ t.ravel(), check_finite=False)
        u = t - (self.Bf @ dm).reshape(n1, ny)
        dl = (self.Linv.transpose(0, 2, 1) @ u[:, :, None])[:, :, 0]
        return dl[None], dm.reshape(1, n2, ny)


def _inv_blocks(M: Arr) -> Arr:
    """Inverses of a stack of symmetric positive (semi)definite blocks, regularised if needed."""
    try:
        L = np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        L = _chol_blocks(M)
    Li = np.linalg.inv(L)
    return Li.transpose(0, 2, 1) @ Li


def _chol_blocks(M: Arr) -> Arr:
    try:
        return np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        ny = M.shape[-1]
        scale = np.abs(np.diagonal(M, axis1=-2, axis2=-1)).max(axis=-1)
        for k in range(6):
            try:
                return np.linalg.cholesky(M + np.eye(ny) * (scale[:, None, None] * 10.0 ** (-14 + 2 * k) + 1e-300))
            except np.linalg.LinAlgError:
                continue
        raise


@contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Limit BLAS threads to ``n`` inside the block (no-op when ``n`` is None or threadpoolctl
    is missing)."""
    if n is None:
        yield
        return
    global _CONTROLLER
    if _CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - optional
            _CONTROLLER = False
        else:
            import scipy.linalg  # noqa: F401  (load scipy's own BLAS first so it is controlled too)

            _CONTROLLER = ThreadpoolController()  # scanning the loaded libraries costs ms: once
    if _CONTROLLER is False:  # pragma: no cover - threadpoolctl missing
        yield
        return
    with _CONTROLLER.limit(limits=int(n), user_api="blas"):
        yield


_CONTROLLER: Any = None


def _maxstep(x: Arr, dx: Arr, mask: BArr) -> Arr:
    """Largest step in [0, 1] keeping ``x + t dx >= 0`` on ``mask``, per item."""
    neg = mask & (dx < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(neg, -x / np.where(neg, dx, -1.0), np.inf)
    return np.minimum(1.0, r.reshape(r.shape[0], -1).min(axis=1))


@dataclass
class _IPOut:
    lam: Arr
    mu: Arr
    q: Arr  # w * softmax, unpolished
    iterations: NDArray[np.int64]


def ip_iterate(
    d: _Batch,
    *,
    max_iter: int = 100,
    time_limit: float | None = None,
    check: Any = None,
    dense: bool | None = None,
    t_start: float | None = None,
    weighted: bool = True,
    step_cap: float | None = None,
    check_below: float = 1e-6,
    eta: float = 0.999,
) -> _IPOut:
    """Run the interior-point iterations on a stack of problems.

    ``check(idx, lam, mu, q, mu_c)`` is called with the items whose complementarity has fallen
    below ``check_below`` nats; it returns a boolean array saying which of them are certified (and stores
    what it needs). Certified items leave the iteration.
    """
    t0 = time.perf_counter() if t_start is None else t_start
    N, n1, n2, ny = d.A.shape
    if dense is None:
        dense = (n1 + n2) * ny <= DENSE_MAX_VARS or N > 1
    lam, mu, w, s = initial_point(d)
    # Weighted central path w*s = tau*rho with rho the starting pair masses: pairs of tiny
    # probability get proportionally tiny complementarity targets (scale invariance).
    rho = w if weighted else np.where(d.P, 1.0, 0.0)
    rho = rho / np.maximum(rho.sum(axis=(1, 2), keepdims=True), 1e-300)
    best_prog = np.full(N, np.inf)
    stuck = np.zeros(N, dtype=np.int64)
    use_merit = np.zeros(N, dtype=bool)
    lse, c = lse_softmax(lam, mu, d.A)
    out_lam, out_mu = lam.copy(), mu.copy()
    out_q = w[..., None] * c
    iters = np.zeros(N, dtype=np.int64)
    active = np.arange(N)
    cur = d
    for it in range(max_iter + 1):
        P = cur.P
        q = w[..., None] * c
        mu_c = np.where(P, w * s, 0.0).sum(axis=(1, 2))  # complementarity gap (nats); Σ rho = 1
        # residuals: primal (marginals) and dual (lse + s)
        rp = np.where(P, lse + s, 0.0)
        # items worth certifying
        cand = (mu_c < check_below) | (it == max_iter)
        bad = ~(np.isfinite(mu_c) & np.isfinite(lam).all(axis=(1, 2)) & np.isfinite(mu).all(axis=(1, 2)))
        finished = np.zeros(active.size, dtype=bool)
        if cand.any() and check is not None:
            ci = np.nonzero(cand & ~bad)[0]
            if ci.size:
                ok = check(active[ci], lam[ci], mu[ci], q[ci], mu_c[ci])
                finished[ci[ok]] = True
        # stalled: complementarity at rounding level
        stall = (mu_c < 1e-18) | bad | (stuck >= 25)
        finished |= stall
        stop_all = it == max_iter or (time_limit is not None and time.perf_counter() - t0 > time_limit)
        if stop_all:
            finished[:] = True
        if finished.any():
            fi = np.nonzero(finished)[0]
            g = active[fi]
            out_lam[g], out_mu[g], out_q[g] = lam[fi], mu[fi], q[fi]
            iters[g] = it
            keep = np.nonzero(~finished)[0]
            if keep.size == 0:
                break
            active = active[keep]
            cur = cur.take(keep)
            lam, mu, w, s, lse, c, q, rp, mu_c, rho, best_prog, stuck, use_merit = (
                x[keep] for x in (lam, mu, w, s, lse, c, q, rp, mu_c, rho, best_prog, stuck, use_merit))
            P = cur.P
        fac: Any = None  # free the previous step's factorisation before building the next (peak memory)
        Mll, Mmm, qq, kc = _assemble(cur, w, s, c)
        try:
            if dense:
                fac = _DenseFactor(cur, Mll, Mmm, qq, kc, c)
            elif float(np.abs(kc).max(initial=0.0)) <= FAST_SCHUR_MAX_KAPPA:
                try:
                    fac = _SchurFactorFast(cur, Mll, Mmm, qq, kc, c)
                except np.linalg.LinAlgError:
                    fac = _SchurFactor(cur, Mll, Mmm, qq, kc, c)
            else:
                fac = _SchurFactor(cur, Mll, Mmm, qq, kc, c)
        except np.linalg.LinAlgError:  # pragma: no cover - numerically singular: keep the best point
            out_lam[active], out_mu[active], out_q[active] = lam, mu, w[..., None] * c
            iters[active] = it
            break

        def direction(t: Arr) -> tuple[Arr, Arr, Arr, Arr]:
            # M dz = -g0 - J^T v with v = t/s + w rp / s and J^T v = -Σ v c
            v = np.where(P, (t + w * rp) / s, 0.0)
            vc = v[..., None] * c
            rl = np.where(cur.va, vc.sum(axis=2) - cur.a, 0.0)
            rm = np.where(cur.vbf, vc.sum(axis=1) - cur.b, 0.0)
            dl, dm = fac.solve(rl, rm)
            dl = np.where(cur.va, dl, 0.0)
            dm = np.where(cur.vbf, dm, 0.0)
            ds = np.where(P, -rp + (c * (dl[:, :, None, :] + dm[:, None, :, :])).sum(axis=3), 0.0)
            dw = np.where(P, (t - w * s - w * ds) / s, 0.0)
            return dl, dm, ds, dw

        dl, dm, ds, dw = direction(np.zeros_like(w))
        aa = np.minimum(_maxstep(w, dw, P), _maxstep(s, ds, P))
        mu_aff = np.where(P, (w + aa[:, None, None] * dw) * (s + aa[:, None, None] * ds), 0.0).sum(axis=(1, 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma = np.clip(np.where(mu_c > 0, mu_aff / mu_c, 0.0), 0.0, 1.0) ** 3
        t = np.where(P, sigma[:, None, None] * mu_c[:, None, None] * rho - dw * ds, 0.0)
        dl, dm, ds, dw = direction(t)
        alpha = eta * np.minimum(_maxstep(w, dw, P), _maxstep(s, ds, P))
        # trust region on the logits: the linearised slack is only trusted for moderate moves
        du = np.where(cur.A, np.abs(dl[:, :, None, :] + dm[:, None, :, :]), 0.0).reshape(alpha.size, -1).max(axis=1)
        alpha = np.minimum(alpha, (step_cap or STEP_CAP) / np.maximum(du, 1e-300))
        # Globalisation: backtrack until the residual of the perturbed KKT system (target
        # complementarity tc) decreases (Armijo on its squared norm; the Newton direction is a
        # descent direction for it).
        tc = np.where(P, sigma[:, None, None] * mu_c[:, None, None] * rho, 0.0)
        # Plain (trust-region capped) steps are fastest and best on extreme dynamic ranges;
        # items that stop making progress switch to the merit line search for good.
        prog = _merit(cur, lse, c, w, s, np.zeros_like(tc), rho)
        improved = prog < 0.25 * best_prog
        best_prog = np.where(improved, prog, best_prog)
        stuck = np.where(improved, 0, stuck + 1)
        use_merit |= stuck >= 6
        todo = np.nonzero(use_merit)[0]
        if todo.size:
            phi0 = np.full(alpha.size, np.inf)
            sub0 = cur.take(todo)
            phi0[todo] = _merit(sub0, lse[todo], c[todo], w[todo], s[todo], tc[todo], rho[todo])
        new = [lam + alpha[:, None, None] * dl, mu + alpha[:, None, None] * dm,
               np.where(P, w + alpha[:, None, None] * dw, 0.0), np.where(P, s + alpha[:, None, None] * ds, 1.0),
               None, None]
        if todo.size < alpha.size:
            new[4], new[5] = lse_softmax(new[0], new[1], cur.A)
        else:
            new[4], new[5] = lse.copy(), c.copy()
        for _ in range(40 if todo.size else 0):
            a3 = alpha[todo][:, None, None]
            lam_t = lam[todo] + a3 * dl[todo]
            mu_t = mu[todo] + a3 * dm[todo]
            Pt = P[todo]
            w_t = np.where(Pt, w[todo] + a3 * dw[todo], 0.0)
            s_t = np.where(Pt, s[todo] + a3 * ds[todo], 1.0)
            sub = cur.take(todo)
            lse_t, c_t = lse_softmax(lam_t, mu_t, sub.A)
            phi = _merit(sub, lse_t, c_t, w_t, s_t, tc[todo], rho[todo])
            ok = phi <= (1.0 - 1e-4 * alpha[todo]) * phi0[todo]
            ok |= ~np.isfinite(phi0[todo])
            acc = todo[ok] if _ < 39 else todo
            sel = ok if _ < 39 else np.ones_like(ok)
            for arr, val in zip(new, (lam_t, mu_t, w_t, s_t, lse_t, c_t)):
                arr[acc] = val[sel]
            todo = todo[~sel]
            if todo.size == 0:
                break
            alpha[todo] *= 0.5
        lam, mu, w, s, lse, c = new
    return _IPOut(out_lam, out_mu, out_q, iters)


def _merit(d: _Batch, lse: Arr, c: Arr, w: Arr, s: Arr, tc: Arr, rho: Arr) -> Arr:
    """Squared norm of the KKT residual (marginals, dual slack, complementarity) per item."""
    q = w[..., None] * c
    ra = np.where(d.va, d.a - q.sum(axis=2), 0.0)
    rb = np.where(d.vbf, d.b - q.sum(axis=1), 0.0)
    sr = np.sqrt(np.maximum(rho, 1e-300))
    rp = np.where(d.P, (lse + s) * sr, 0.0)
    rc = np.where(d.P, (w * s - tc) / sr, 0.0)
    return (ra**2).sum(axis=(1, 2)) + (rb**2).sum(axis=(1, 2)) + (rp**2).sum(axis=(1, 2)) + (rc**2).sum(axis=(1, 2))


class NativeSolver(Solver):
    """pidlab's own certified BROJA solver (numpy/scipy; interior point on the dual).

    Options
    -------
    gap_tol : float, default 1e-9
        Target width (bits) of the certified bracket on m*; ``OPTIMAL`` only when reached.
    max_iter : int, default 100
        Newton steps (ten to fifteen is typical).
    time_limit : float or None
        Seconds; the best certified point so far is returned with ``ITERATION_LIMIT``.
    threads : int or None, default 1
        BLAS threads during the solve (through ``threadpoolctl`` when it is installed; ``None``
        leaves the BLAS setting alone). One thread is the default because multi-threaded
        OpenBLAS degrades badly for these mid-sized factorisations when cores are shared.

    Examples
    --------
    >>> import numpy as np
    >>> from pidlab._broja import BrojaProblem, certify
    >>> p = np.zeros((2, 2, 2)); p[0, 0, 0] = p[0, 1, 0] = p[1, 0, 0] = p[1, 1, 1] = 0.25  # AND
    >>> pr = BrojaProblem(p.sum(axis=1), p.sum(axis=0))
    >>> res = NativeSolver().solve(pr)
    >>> cert, q = certify(pr, res)
    >>> str(res.status), cert.gap <= 1e-9, round(cert.m_upper, 6)  # m* = I(X1;Y): U1 = U2 = 0
    ('optimal', True, 0.311278)
    """

    name = "native"
    priority = 0
    requires = ("numpy", "scipy")
    reference = (
        "pidlab native solver: primal-dual interior point (Mehrotra predictor-corrector) on the "
        "conditional-logit dual of Bertschinger et al. (2014), certified by the host's duality gap"
    )
    description = "pidlab's own interior-point solver (numpy/scipy), certified to 1e-9 bits"

    def availability(self) -> Availability:
        return Availability(True)

    def solve(
        self,
        problem: BrojaProblem,
        *,
        gap_tol: float = DEFAULT_GAP_TOL,
        max_iter: int = 100,
        time_limit: float | None = None,
        threads: int | None = 1,
    ) -> SolveResult:
        t0 = time.perf_counter()
        if not (gap_tol > 0):
            raise SolverError(
                f"the native solver's `gap_tol` must be a positive number of bits; got {gap_tol!r}. "
                "Use e.g. gap_tol=1e-9."
            )
        a = problem.p_x1y[None]
        b = problem.p_x2y[None]
        d = _Batch.build(a, b)
        # The host's certificate also uses the trivial lower bound max(I(X1;Y), I(X2;Y)) and the
        # conditionally independent point; they close the bracket on their own in easy cases.
        best: dict[str, Any] = {"lb": -math.inf, "ub": math.inf, "lam": None, "mu": None, "q": None}
        triv_lb = max(problem.I_x1y, problem.I_x2y)
        ci = problem.conditionally_independent()
        ci_ub = objective_bits(ci)

        def check(idx: Any, lam: Arr, mu: Arr, q: Arr, mu_c: Arr) -> NDArray[np.bool_]:
            lb = dual_bound(problem, lam[0], mu[0])
            qp = polish_primal(problem, q[0])
            ub = objective_bits(qp)
            if lb > best["lb"]:
                best.update(lb=lb, lam=lam[0].copy(), mu=mu[0].copy())
            if ub < best["ub"]:
                best.update(ub=ub, q=qp)
            return np.array([min(best["ub"], ci_ub) - max(best["lb"], triv_lb) <= gap_tol])

        total_iter = 0
        hit_limit = False
        with blas_threads(threads):
            for weighted, cap, eta in ATTEMPTS:
                left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
                if left is not None and left <= 0:
                    hit_limit = True
                    break
                out = ip_iterate(d, max_iter=max_iter, time_limit=left, check=check,
                                 weighted=weighted, step_cap=cap, eta=eta)
                total_iter += int(out.iterations[0])
                hit_limit |= int(out.iterations[0]) >= max_iter
                if best["q"] is None or best["lam"] is None:  # stopped before any check
                    check(None, out.lam, out.mu, out.q, np.zeros(1))
                if min(best["ub"], ci_ub) - max(best["lb"], triv_lb) <= gap_tol:
                    break
        if ci_ub < best["ub"]:
            best.update(ub=ci_ub, q=ci)
        gap = best["ub"] - max(best["lb"], triv_lb)
        if gap <= gap_tol:
            status = Status.OPTIMAL
        elif hit_limit or (time_limit is not None and time.perf_counter() - t0 > time_limit):
            status = Status.ITERATION_LIMIT
        else:
            status = Status.OPTIMAL_INACCURATE
        return SolveResult(
            solver=self.name,
            status=status,
            q=best["q"],
            lam=best["lam"],
            mu=best["mu"],
            iterations=total_iter,
            solve_time=time.perf_counter() - t0,
            info={"gap_bits": float(gap), "m_lower": float(max(best["lb"], triv_lb)), "m_upper": float(best["ub"]),
                  "gap_tol": gap_tol, "method": "primal-dual interior point (Mehrotra), dual (lambda, mu)"},
        )


def ip_solve(problem: BrojaProblem, **options: Any) -> SolveResult:
    """Convenience: ``NativeSolver().solve(problem, **options)``."""
    return NativeSolver().solve(problem, **options)


@hookimpl
def pidlab_register_solvers() -> list[type[Solver]]:
    return [NativeSolver]
