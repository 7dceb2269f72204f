r"""pidlab's own BROJA solver: a primal-dual interior-point method on the conditional-logit dual.

Only numpy and scipy are used. The program (docs/theory.rst §2.1) is solved in its dual form

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
is O((|X2||Y|)²) for the Schur complement, so this direct path is used only while that matrix
is small (``DIRECT_MAX_ENTRIES``, 2 MiB). Larger problems never form it
(:class:`_MatrixFreeFactor`): pairs with large weight get an auxiliary multiplier that keeps
every quantity bounded, the Schur operator is applied in O(n³) and the system is solved by
deflated preconditioned conjugate gradients (block-diagonal preconditioner built in O(n⁴),
coarse space of |Y| + |X2| indicator vectors); the solver's peak memory is then about six
times the input table at n = 64 (see ``benchmarks/``). That path needs |X2| <= |Y| to be
reliable (the sources are oriented so that |X2| <= |X1|), so ``linear_solver="auto"`` uses it
only then, and falls back to the direct path if a CG solve stalls. Small problems (and the
batch path, :func:`pidlab.decompose_many`) assemble the whole system and use batched dense
solves.

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
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._bases import Availability, Solver
from pidlab._broja import BrojaProblem, SolveResult, certify, dual_bound, objective_bits, primal_bound
from pidlab._status import Status
from pidlab.exceptions import SolverError
from pidlab.hookspecs import hookimpl

__all__ = ["NativeSolver", "DEFAULT_GAP_TOL", "ip_solve", "blas_threads"]

LN2 = math.log(2.0)
#: Default target width (bits) of the certified bracket on m*.
DEFAULT_GAP_TOL = 1e-9
#: Marginal entries below this fraction of the largest are first dropped (the answer is then
#: certified on the original problem; see NativeSolver._without_negligible_mass).
NEGLIGIBLE_MASS = 1e-20
#: Assemble the full Newton system (batched dense solve) up to this many dual variables.
DENSE_MAX_VARS = 160
#: Largest Schur complement (entries, (|X2||Y|)²) factorised directly: 2 MiB. Larger problems
#: use the matrix-free conjugate-gradient path, whose memory is O(|X1||X2||Y|).
DIRECT_MAX_ENTRIES = 1 << 18
LINEAR_SOLVERS = ("auto", "direct", "cg")
#: Largest change (nats) of any logit -λ-μ in one Newton step.
STEP_CAP = 4.0
#: Largest pair weight κ = w/s - w for which the O(n⁵) Schur formation is accurate enough.
FAST_SCHUR_MAX_KAPPA = 1e5
#: Settings tried in turn until the gap is certified:
#: (weighted central path, step cap in nats, fraction of the step to the boundary).
ATTEMPTS: tuple[tuple[bool, float, float], ...] = (
    (True, 4.0, 0.999), (True, 4.0, 0.99), (False, 20.0, 0.99), (False, 4.0, 0.99), (True, 1.0, 0.99),
)
#: The same for the conjugate-gradient path, which starts farther from the boundary: its Newton
#: directions are exact only up to the CG residual, and a slack pushed to 1e-3 of its value by a
#: 0.999 step can jam the next steps (measured: 10 Newton steps instead of 17-20 on some tables).
ATTEMPTS_CG: tuple[tuple[bool, float, float], ...] = (
    (True, 4.0, 0.99), (True, 4.0, 0.999), (False, 20.0, 0.99), (False, 4.0, 0.99), (True, 1.0, 0.99),
)

Arr = NDArray[np.float64]
BArr = NDArray[np.bool_]


def lse_softmax(lam: Arr, mu: Arr, A: BArr) -> tuple[Arr, Arr]:
    """Per pair log-sum-exp and softmax over the support of ``-lam[x1,y] - mu[x2,y]``.

    Shapes: ``lam (N, n1, ny)``, ``mu (N, n2, ny)``, ``A (N, n1, n2, ny)``; returns
    ``lse (N, n1, n2)`` (0 on empty pairs) and ``c (N, n1, n2, ny)`` (0 off the support).
    Works in place in the one table-sized array it returns.
    """
    e = np.add(lam[:, :, None, :], mu[:, None, :, :])
    np.negative(e, out=e)
    np.putmask(e, ~A, -np.inf)
    mx = e.max(axis=3)
    has = np.isfinite(mx)
    mx0 = np.where(has, mx, 0.0)
    e -= mx0[..., None]
    np.exp(e, out=e)  # exp(-inf) = 0 off the support
    Z = e.sum(axis=3)
    Zs = np.where(has, Z, 1.0)
    e /= Zs[..., None]
    lse = np.where(has, mx0 + np.log(Zs), 0.0)
    return lse, e


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

    def solve(self, rl: Arr, rm: Arr) -> tuple[Arr, Arr]:
        N = rl.shape[0]
        n1, n2, ny = self.shape
        r = np.concatenate([rl.reshape(N, -1), rm.reshape(N, -1)], axis=1)
        try:
            x = np.linalg.solve(self.M, r[..., None])[..., 0]
        except np.linalg.LinAlgError:
            x = np.stack([np.linalg.lstsq(Mi, ri, rcond=None)[0] for Mi, ri in zip(self.M, r)])
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


#: Pairs with κ = w/s - w above this are eliminated through an auxiliary multiplier
#: (``t = κ c·z``, regularisation ``1/κ``) instead of entering the λ-block as ``κ c cᵀ``.
BIG_KAPPA = 1.0
#: Relative residual at which the conjugate-gradient solve of the Schur system stops.
CG_RTOL = 1e-10
#: Conjugate-gradient iterations per Newton system (30 to 60 are typical).
CG_MAXITER = 400


def _chunks(n: int, parts: int = 8) -> Iterator[slice]:
    """About ``parts`` consecutive slices covering ``range(n)`` (temporaries stay a fraction of
    a table-sized array)."""
    step = max(1, -(-n // parts))
    for i0 in range(0, n, step):
        yield slice(i0, min(n, i0 + step))


def _spd_inverse(M: Arr, mask: BArr) -> Arr:
    """Inverses of a stack of symmetric positive (semi)definite matrices on the rows and columns
    in ``mask`` (zero elsewhere); regularised if a block is singular in floating point.
    Computed in place, a few matrices at a time: ``M`` is overwritten and returned."""
    ar = np.arange(M.shape[-1])
    for sl in _chunks(M.shape[0]):
        m = mask[sl, :, None] & mask[sl, None, :]
        Mc = M[sl]
        Mc *= m
        Mc[:, ar, ar] += ~mask[sl]
        Li = np.linalg.inv(_chol_blocks(Mc))
        np.matmul(Li.transpose(0, 2, 1), Li, out=Mc)
        Mc *= m
    return M


class _MatrixFreeFactor:
    r"""One problem, O(n³) memory: λ eliminated per x1 block, the Schur system in μ solved by
    preconditioned conjugate gradients without ever forming it.

    Near the optimum the pair weights κ = w/s - w of the active pairs grow like 1/gap, and a
    Schur complement formed as ``Mmm - Mlmᵀ Mll⁻¹ Mlm`` loses everything to cancellation (its
    terms are O(κ), the result O(q)). Here every pair with ``κ > BIG_KAPPA`` gets an auxiliary
    multiplier ``t = κ c·z`` (``z = dλ[x1] + dμ[x2]``), so that per x1 the λ-equations read

    .. math::

        \begin{pmatrix} D & C \\ C^\top & -E \end{pmatrix}
        \begin{pmatrix} dλ \\ t \end{pmatrix} = \ldots,
        \quad D = \mathrm{diag}(\textstyle\sum_{x_2} q) + \sum_{\text{small}} κ c c^\top,
        \quad E = \mathrm{diag}(1/κ),

    a quasi-definite system with bounded entries. It is solved through ``D⁻¹`` (|Y|×|Y|) and
    ``F⁻¹ = (E + CᵀD⁻¹C)⁻¹`` (|X2|×|X2|), both stored per x1. The Schur operator in μ is
    applied matrix-free in O(n³); the preconditioner is the exact block diagonal of the Schur
    complement (one |Y|×|Y| block per x2, formed in O(n⁴) from the same quantities) plus a
    coarse space of |Y| + |X2| indicator vectors (all x2 at one y; all y at one x2) handled by
    deflation, which removes the few small eigenvalues the block diagonal leaves behind.
    :meth:`solve` also returns ``T = κ c·z`` for every pair (exact for the large κ), from which
    the caller updates the pair weights without the 1/s amplification of rounding errors.

    Persistent memory: ``D⁻¹``, ``F⁻¹`` and the block-diagonal preconditioner, three arrays of
    about the table's size; everything else is built in chunks of x1 rows or x2 columns.
    The elimination assumes an x1 carries at most about |Y| large pairs; beyond that ``F`` is
    nearly singular and CG stalls (``failed`` is set and the caller may switch paths).
    """

    def __init__(self, d: _Batch, w: Arr, s: Arr, c: Arr) -> None:
        n1, n2, ny = c.shape[1:]
        self.shape = (n1, n2, ny)
        self.failed = False  # a CG solve ended above its tolerance
        self.iterations: list[int] = []
        P = d.P[0]
        w0, s0 = w[0], s[0]
        c = c[0]
        self.c, self.w = c, w0
        self.va, self.vbf = d.va[0], d.vbf[0]
        kap = np.where(P, w0 * (1.0 / s0 - 1.0), 0.0)
        self.big = big = P & (kap > BIG_KAPPA)
        self.ks = ks = np.where(big, 0.0, kap)  # small pairs: folded into D
        eps = np.where(big, 1.0 / np.where(big, kap, 1.0), 0.0)
        self.qb = np.einsum("ia,iau->au", w0, c)  # Σ_x1 q
        self.Dinv = np.empty((n1, ny, ny))
        self.Finv = np.empty((n1, n2, n2))
        blk = np.zeros((n2, ny, ny))
        ar, i2 = np.arange(ny), np.arange(n2)
        # x1 blocks are independent: work through them in chunks so that the temporaries stay
        # a fraction of the table (q = w c is never stored whole)
        for sl in _chunks(n1):
            cc, wc, ksc, bigc = c[sl], w0[sl], ks[sl], big[sl]
            D = np.matmul((cc * ksc[..., None]).transpose(0, 2, 1), cc)
            D[:, ar, ar] += np.einsum("ia,iau->iu", wc, cc)  # Σ_x2 q
            Dinv = self.Dinv[sl] = _spd_inverse(D, self.va[sl])
            del D
            DC = np.matmul(Dinv, cc.transpose(0, 2, 1))  # D⁻¹C, (m, ny, n2)
            F0 = np.matmul(cc, DC)  # CᵀD⁻¹C, (m, n2, n2)
            F = F0.copy()
            F[:, i2, i2] += eps[sl]
            Finv = self.Finv[sl] = _spd_inverse(F, bigc)
            del F
            self._block_terms(blk, cc, wc, ksc, bigc, Dinv, Finv, DC, F0)
            del DC, F0
        blk[:, ar, ar] += self.qb
        self.blkinv = _spd_inverse(blk, self.vbf)
        del blk
        # coarse space: Z = [indicator of y over all free x2 | indicator of x2 over all y]
        keep = np.concatenate([self.vbf.any(axis=0), self.vbf.any(axis=1)])
        self._zkeep = keep
        E = np.empty((int(keep.sum()),) * 2)
        for j in range(E.shape[0]):
            e = np.zeros(E.shape[0])
            e[j] = 1.0
            E[j] = self._zt(self._local(None, self._z(e))[0])  # Zᵀ S Z, one column at a time
        E = 0.5 * (E + E.T)
        self.Einv = np.linalg.pinv(E, hermitian=True) if E.size else E

    # -- coarse space (Z is never stored: it is made of indicator vectors) --------------------
    def _zt(self, v: Arr) -> Arr:
        """``Zᵀ v`` for v of shape (..., n2, ny)."""
        v = v * self.vbf
        r = np.concatenate([v.sum(axis=-2), v.sum(axis=-1)], axis=-1)
        return r[..., self._zkeep]

    def _z(self, x: Arr) -> Arr:
        """``Z x`` (x of length k): shape (n2, ny)."""
        n1, n2, ny = self.shape
        full = np.zeros(ny + n2)
        full[self._zkeep] = x
        return (full[None, :ny] + full[ny:, None]) * self.vbf

    @staticmethod
    def _block_terms(out: Arr, c: Arr, w: Arr, ks: Arr, big: Arr, Dinv: Arr, Finv: Arr, DC: Arr, F0: Arr) -> None:
        """Add to ``out`` the contribution of a chunk of x1 rows to the |Y|×|Y| diagonal blocks of the Schur
        complement (one per x2), in O(n⁴) for all rows.

        Per x1, block a is ``R_a - R_aᵀD⁻¹R_a + W_aᵀF⁻¹W_a`` with ``R_a = diag(q_a) + ks c_a c_aᵀ``
        and ``W_a = CᵀD⁻¹R_a - e_a c_aᵀ`` (big pairs). Each product has the form
        ``(q qᵀ)∘Γ + (q∘ψ)cᵀ + c(q∘ψ)ᵀ + γ c cᵀ`` with Γ per x1 and ψ, γ per pair; the diagonal
        ``Σ_x1 q`` of ``R`` is added by the caller.
        """
        i2 = np.arange(c.shape[1])
        Y = np.matmul(DC, Finv)  # (m, ny, n2)
        Gam = np.matmul(Y, DC.transpose(0, 2, 1))
        Gam -= Dinv
        FF = np.matmul(Finv, F0)  # F⁻¹ CᵀD⁻¹C (rows on the big pairs)
        psi = np.matmul(DC, FF).transpose(0, 2, 1)  # (m, n2, ny)
        psi -= DC.transpose(0, 2, 1)
        psi *= ks[:, :, None]
        psi -= np.where(big[:, :, None], Y.transpose(0, 2, 1), 0.0)
        gam = ks**2 * (np.einsum("iab,iba->ia", F0, FF) - F0[:, i2, i2])
        gam += np.where(big, Finv[:, i2, i2] - 2.0 * ks * FF[:, i2, i2], 0.0)
        del Y, FF
        q = c * w[:, :, None]
        psi *= q  # q∘ψ
        cg = c * (ks + gam)[:, :, None]
        for sa in _chunks(c.shape[1]):  # a few x2 blocks at a time: no table-sized temporary
            cT = c[:, sa].transpose(1, 0, 2)  # (k, m, ny)
            X = np.matmul(psi[:, sa].transpose(1, 2, 0), cT)  # (k, ny, ny)
            out[sa] += X
            out[sa] += X.transpose(0, 2, 1)
            np.matmul(cg[:, sa].transpose(1, 2, 0), cT, out=X)
            out[sa] += X
            np.einsum("iau,iuv,iav->auv", q[:, sa], Gam, q[:, sa], out=X)
            out[sa] += X

    # -- the per-x1 elimination ------------------------------------------------------------
    def _local(self, rl: Arr | None, v: Arr) -> tuple[Arr, Arr, Arr]:
        """Eliminate (dλ, t) per x1 given the μ-direction ``v`` (n2, ny) and the λ right-hand
        side ``rl`` (n1, ny; None = 0). Returns the μ-rows ``out`` (n2, ny), ``dλ`` and
        ``T = κ c·z`` per pair."""
        c, w, ks, big = self.c, self.w, self.ks, self.big
        v = v * self.vbf
        cv = np.einsum("iau,au->ia", c, v)
        h = np.einsum("ia,iau,au->iu", w, c, v) + np.matmul(c.transpose(0, 2, 1), (ks * cv)[:, :, None])[:, :, 0]
        rhs = -h if rl is None else rl - h
        Dr = np.matmul(self.Dinv, rhs[:, :, None])  # (n1, ny, 1)
        g = np.where(big, cv, 0.0) + np.matmul(c, Dr)[:, :, 0]
        t = np.matmul(self.Finv, g[:, :, None])[:, :, 0]  # zero off the big pairs
        lam = (Dr - np.matmul(self.Dinv, np.matmul(c.transpose(0, 2, 1), t[:, :, None])))[:, :, 0]
        lam *= self.va
        cz = np.matmul(c, lam[:, :, None])[:, :, 0] + cv
        T = ks * cz + t
        out = np.einsum("ia,iau,iu->au", w, c, lam) + v * self.qb
        out += np.matmul(c.transpose(1, 2, 0), T.T[:, :, None])[:, :, 0]
        out *= self.vbf
        return out, lam, T

    def _cg(self, b: Arr) -> Arr:
        """Deflated preconditioned conjugate gradients (Saad, Yeung, Erhel & Guyomarc'h 2000) on
        the Schur system ``S x = b``: the start solves the coarse problem and every search
        direction is kept S-orthogonal to the coarse space. ``S Z`` is not stored (it would be
        two tables' worth of memory): each iteration applies S twice instead of once."""
        nb = float(np.linalg.norm(b))
        if nb == 0.0:
            self.iterations.append(0)
            return np.zeros_like(b)
        Einv = self.Einv
        coarse = Einv.shape[0] > 0

        def S(x: Arr) -> Arr:
            return self._local(None, x)[0]

        def prec(r: Arr) -> Arr:
            return np.matmul(self.blkinv, r[:, :, None])[:, :, 0]

        def direction(z: Arr) -> tuple[Arr, Arr]:
            """``p = z - Z E⁻¹ Zᵀ S z`` (S-orthogonal to Z) and ``S p``."""
            if coarse:
                z = z - self._z(Einv @ self._zt(S(z)))
            return z, S(z)

        x = self._z(Einv @ self._zt(b)) if coarse else np.zeros_like(b)
        r = b - S(x)
        tol = CG_RTOL * nb
        best, best_res = x.copy(), float(np.linalg.norm(r))
        if best_res <= tol:  # the coarse space alone solved it
            self.iterations.append(0)
            return x
        z = prec(r)
        rz = float(np.vdot(r, z))
        p, Sp = direction(z)
        it = 0
        for it in range(1, CG_MAXITER + 1):
            pSp = float(np.vdot(p, Sp))
            if not pSp > 0.0:
                break
            al = rz / pSp
            x += al * p
            r -= al * Sp
            res = float(np.linalg.norm(r))
            if res < best_res:
                best, best_res = x.copy(), res
            if res <= tol:
                break
            z = prec(r)
            rz_new = float(np.vdot(r, z))
            zp, Szp = direction(z)
            beta = rz_new / rz
            p = zp + beta * p
            Sp = Szp + beta * Sp
            rz = rz_new
        self.iterations.append(it)
        self.failed |= best_res > tol
        return best

    def solve(self, rl: Arr, rm: Arr) -> tuple[Arr, Arr, Arr]:
        rl0 = rl[0] * self.va
        out0, _, _ = self._local(rl0, np.zeros_like(rm[0]))
        dm = self._cg((rm[0] - out0) * self.vbf) * self.vbf
        _, dl, T = self._local(rl0, dm)
        return dl[None], dm[None], T


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


def resolve_linear_solver(n1: int, n2: int, ny: int, linear_solver: str | None = "auto") -> str:
    """The Newton-system path (``"dense"``, ``"direct"`` or ``"cg"``) that ``linear_solver``
    means for one problem of shape (n1, n2, ny)."""
    if (n1 + n2) * ny <= DENSE_MAX_VARS:
        return "dense"
    if linear_solver in (None, "auto"):
        # The iterative path eliminates each x1 block exactly, which stays well-conditioned while
        # an x1 has at most about |Y| active pairs: guaranteed in spirit when |X2| <= |Y| (the
        # solver orients the problem so that |X2| <= |X1|). With |X2| > |Y| an x1 can carry more
        # active pairs than its |Y| variables, and CG stalls (measured: 48x48x12 tables needed
        # 400 CG iterations per Newton step); the direct path is used there.
        return "direct" if (n2 * ny) ** 2 <= DIRECT_MAX_ENTRIES or n2 > ny else "cg"
    return linear_solver


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
    linear: str = "dense"  # Newton-system path at the end ("cg" may have fallen back to "direct")


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
    linear_solver: str | None = None,
) -> _IPOut:
    """Run the interior-point iterations on a stack of problems.

    ``check(idx, lam, mu, q, mu_c)`` is called with the items whose complementarity has fallen
    below ``check_below`` nats; it returns a boolean array saying which of them are certified (and stores
    what it needs). Certified items leave the iteration.
    """
    t0 = time.perf_counter() if t_start is None else t_start
    N, n1, n2, ny = d.A.shape
    linear = "dense" if dense or (dense is None and N > 1) else resolve_linear_solver(n1, n2, ny, linear_solver)
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
    out_q: Arr | None = None  # allocated when the first item finishes (peak memory)

    def store(g: NDArray[np.intp], sel: Any, lam_: Arr, mu_: Arr, w_: Arr, c_: Arr) -> None:
        nonlocal out_q
        out_lam[g], out_mu[g] = lam_[sel], mu_[sel]
        qg = _pair_times(w_[sel], c_[sel])
        if out_q is None and g.size == N:
            out_q = qg
            return
        if out_q is None:
            out_q = np.zeros((N, n1, n2, ny))
        out_q[g] = qg

    iters = np.zeros(N, dtype=np.int64)
    active = np.arange(N)
    cur = d
    for it in range(max_iter + 1):
        P = cur.P
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
                sel = slice(None) if ci.size == active.size else ci  # no copy of c for one item
                ok = check(active[ci], lam[sel], mu[sel], _pair_times(w[sel], c[sel]), mu_c[sel])
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
            store(g, slice(None) if fi.size == active.size else fi, lam, mu, w, c)
            iters[g] = it
            keep = np.nonzero(~finished)[0]
            if keep.size == 0:
                break
            active = active[keep]
            cur = cur.take(keep)
            lam, mu, w, s, lse, c, rp, mu_c, rho, best_prog, stuck, use_merit = (
                x[keep] for x in (lam, mu, w, s, lse, c, rp, mu_c, rho, best_prog, stuck, use_merit))
            P = cur.P
        fac: Any = None  # free the previous step's factorisation before building the next (peak memory)
        try:
            if linear == "dense":
                fac = _DenseFactor(cur, *_assemble(cur, w, s, c), c)
            elif linear == "cg":
                fac = _MatrixFreeFactor(cur, w, s, c)
            else:
                Mll, Mmm, qq, kc = _assemble(cur, w, s, c)
                if float(np.abs(kc).max(initial=0.0)) <= FAST_SCHUR_MAX_KAPPA:
                    try:
                        fac = _SchurFactorFast(cur, Mll, Mmm, qq, kc, c)
                    except np.linalg.LinAlgError:
                        fac = _SchurFactor(cur, Mll, Mmm, qq, kc, c)
                else:
                    fac = _SchurFactor(cur, Mll, Mmm, qq, kc, c)
                del Mll, Mmm, qq, kc
        except np.linalg.LinAlgError:  # pragma: no cover - numerically singular: keep the best point
            store(active, slice(None), lam, mu, w, c)
            iters[active] = it
            break

        def direction(t: Arr) -> tuple[Arr, Arr, Arr, Arr]:
            # M dz = -g0 - J^T v with v = t/s + w rp / s and J^T v = -Σ v c
            v = np.where(P, (t + w * rp) / s, 0.0)
            rl = np.where(cur.va, _sum_x2(v, c) - cur.a, 0.0)
            rm = np.where(cur.vbf, _sum_x1(v, c) - cur.b, 0.0)
            sol = fac.solve(rl, rm)
            dl = np.where(cur.va, sol[0], 0.0)
            dm = np.where(cur.vbf, sol[1], 0.0)
            cz = _dot_y(c, dl, dm)
            ds = np.where(P, -rp + cz, 0.0)
            if len(sol) > 2:
                # T = kappa c.z from the solver (accurate where kappa is huge):
                # (t - w s - w ds)/s = (t + w rp)/s - w - (w/s) cz and (w/s) cz = T + w cz
                dw = np.where(P, (t + w * rp) / s - w - sol[2] - w * cz, 0.0)
            else:
                dw = np.where(P, (t - w * s - w * ds) / s, 0.0)
            return dl, dm, ds, dw

        dl, dm, ds, dw = direction(np.zeros_like(w))
        aa = np.minimum(_maxstep(w, dw, P), _maxstep(s, ds, P))
        mu_aff = np.where(P, (w + aa[:, None, None] * dw) * (s + aa[:, None, None] * ds), 0.0).sum(axis=(1, 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma = np.clip(np.where(mu_c > 0, mu_aff / mu_c, 0.0), 0.0, 1.0) ** 3
        t = np.where(P, sigma[:, None, None] * mu_c[:, None, None] * rho - dw * ds, 0.0)
        dl, dm, ds, dw = direction(t)
        if linear == "cg" and fac.failed and linear_solver in (None, "auto"):
            linear = "direct"  # CG stalled on this problem: factorise from the next step on
        fac = None  # the line search below allocates table-sized arrays: free the factor first
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
    return _IPOut(out_lam, out_mu, out_q, iters, linear)


# Products of pair quantities (N, n1, n2) with the softmax c (N, n1, n2, ny). A single large
# problem goes through einsum (no table-sized temporary); stacks of small problems (the batch
# path) through broadcasting, which is faster there.
def _pair_times(w: Arr, c: Arr) -> Arr:
    """``w[..., None] * c`` (one new table-sized array)."""
    return np.multiply(w[..., None], c)


def _sum_x2(v: Arr, c: Arr) -> Arr:
    """``Σ_x2 v c`` of shape (N, n1, ny)."""
    if c.shape[0] == 1:
        return np.einsum("nia,niau->niu", v, c)
    return (v[..., None] * c).sum(axis=2)


def _sum_x1(v: Arr, c: Arr) -> Arr:
    """``Σ_x1 v c`` of shape (N, n2, ny)."""
    if c.shape[0] == 1:
        return np.einsum("nia,niau->nau", v, c)
    return (v[..., None] * c).sum(axis=1)


def _dot_y(c: Arr, dl: Arr, dm: Arr) -> Arr:
    """``Σ_y c (dl[x1] + dm[x2])`` per pair."""
    if c.shape[0] == 1:
        return np.einsum("niau,niu->nia", c, dl) + np.einsum("niau,nau->nia", c, dm)
    return (c * (dl[:, :, None, :] + dm[:, None, :, :])).sum(axis=3)


def _merit(d: _Batch, lse: Arr, c: Arr, w: Arr, s: Arr, tc: Arr, rho: Arr) -> Arr:
    """Squared norm of the KKT residual (marginals, dual slack, complementarity) per item."""
    ra = np.where(d.va, d.a - _sum_x2(w, c), 0.0)
    rb = np.where(d.vbf, d.b - _sum_x1(w, c), 0.0)
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
    linear_solver : {"auto", "direct", "cg"}, default "auto"
        How each Newton system is solved. ``"direct"``: Cholesky of the Schur complement in μ,
        memory O((|X2||Y|)²). ``"cg"``: matrix-free preconditioned conjugate gradients, memory
        O(|X1||X2||Y|), a few times the input table. ``"auto"``: direct while that Schur
        complement has at most ``DIRECT_MAX_ENTRIES`` entries (2 MiB) or |X2| > |Y| (where
        CG is unreliable), CG otherwise, switching to direct if a CG solve stalls. Problems with
        at most ``DENSE_MAX_VARS`` dual variables always use one dense solve. The path taken is
        recorded in ``info["linear_solver"]``.

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
        linear_solver: str = "auto",
    ) -> SolveResult:
        t0 = time.perf_counter()
        if not (gap_tol > 0):
            raise SolverError(
                f"the native solver's `gap_tol` must be a positive number of bits; got {gap_tol!r}. "
                "Use e.g. gap_tol=1e-9."
            )
        if linear_solver not in LINEAR_SOLVERS:
            raise SolverError(
                f"the native solver's `linear_solver` must be one of {', '.join(map(repr, LINEAR_SOLVERS))}; "
                f"got {linear_solver!r}."
            )
        return self._solve(problem, gap_tol=gap_tol, max_iter=max_iter, time_limit=time_limit, threads=threads,
                           linear_solver=linear_solver, t0=t0)

    def _solve(self, problem: BrojaProblem, *, gap_tol: float, max_iter: int, time_limit: float | None,
               threads: int | None, linear_solver: str, t0: float, reduce: bool = True) -> SolveResult:
        n1, n2, ny = problem.shape
        opts: dict[str, Any] = dict(gap_tol=gap_tol, max_iter=max_iter, time_limit=time_limit, threads=threads,
                                    linear_solver=linear_solver, t0=t0)
        if reduce:
            reduced = self._without_negligible_mass(problem, **opts)
            if reduced is not None:
                return reduced
        path = resolve_linear_solver(n1, n2, ny, linear_solver)
        if n2 > n1 and path != "dense":
            # The Newton systems eliminate the X1 side and keep a system in the X2 side: solve
            # with the larger source as X1 (smaller Schur complement; fewer pairs per eliminated
            # block than it has variables, which the iterative path needs) and swap back.
            res = self._solve(BrojaProblem(problem.p_x2y, problem.p_x1y), **opts, reduce=False)
            return dataclasses.replace(
                res,
                q=None if res.q is None else np.ascontiguousarray(res.q.transpose(1, 0, 2)),
                lam=res.mu,
                mu=res.lam,
                info={**res.info, "sources_swapped": True},
            )
        a = problem.p_x1y[None]
        b = problem.p_x2y[None]
        d = _Batch.build(a, b)
        # The host's certificate also uses the trivial lower bound max(I(X1;Y), I(X2;Y)) and the
        # conditionally independent point; they close the bracket on their own in easy cases.
        best: dict[str, Any] = {"lb": -math.inf, "ub": math.inf, "lam": None, "mu": None, "q": None}
        triv_lb = max(problem.I_x1y, problem.I_x2y)
        ci_ub = objective_bits(problem.conditionally_independent())  # recomputed if it wins (memory)

        def check(idx: Any, lam: Arr, mu: Arr, q: Arr, mu_c: Arr) -> NDArray[np.bool_]:
            lb = dual_bound(problem, lam[0], mu[0])
            ub, _ = primal_bound(problem, q[0])
            if lb > best["lb"]:
                best.update(lb=lb, lam=lam[0].copy(), mu=mu[0].copy())
            if ub < best["ub"]:
                # keep what regenerates q (pair weights and logits), not the table (memory)
                best.update(ub=ub, q=(lam[0].copy(), mu[0].copy(), q[0].sum(axis=2)))
            return np.array([min(best["ub"], ci_ub) - max(best["lb"], triv_lb) <= gap_tol])

        total_iter = 0
        hit_limit = False
        with blas_threads(threads):
            ls = linear_solver
            for weighted, cap, eta in (ATTEMPTS_CG if path == "cg" else ATTEMPTS):
                left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
                if left is not None and left <= 0:
                    hit_limit = True
                    break
                out = ip_iterate(d, max_iter=max_iter, time_limit=left, check=check,
                                 weighted=weighted, step_cap=cap, eta=eta, linear_solver=ls)
                if out.linear != path and path != "dense":  # CG stalled: direct from here on
                    ls, path = "direct", f"{path}, then {out.linear}"
                total_iter += int(out.iterations[0])
                hit_limit |= int(out.iterations[0]) >= max_iter
                if best["q"] is None or best["lam"] is None:  # stopped before any check
                    check(None, out.lam, out.mu, out.q, np.zeros(1))
                if min(best["ub"], ci_ub) - max(best["lb"], triv_lb) <= gap_tol:
                    break
        if isinstance(best["q"], tuple):
            lam_u, mu_u, w_u = best["q"]
            _, c_u = lse_softmax(lam_u[None], mu_u[None], d.A)
            c_u *= w_u[None, :, :, None]
            ub_u, q_u = primal_bound(problem, c_u[0])
            del c_u
            best.update(ub=ub_u, q=q_u)
        if ci_ub < best["ub"]:
            best.update(ub=ci_ub, q=problem.conditionally_independent())
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
                  "gap_tol": gap_tol, "method": "primal-dual interior point (Mehrotra), dual (lambda, mu)",
                  "linear_solver": path},
        )


    def _without_negligible_mass(self, problem: BrojaProblem, **opts: Any) -> SolveResult | None:
        """Solve with marginal entries below ``NEGLIGIBLE_MASS`` (relative) set to zero, then
        certify the answer for the original problem; None if there is nothing to drop or the
        certificate does not close.

        Entries of 1e-40 beside O(1) ones move m* by far less than 1e-9 bits but force dual
        variables of hundreds of nats, which the interior-point iteration (a step cap of a few
        nats) reaches slowly or not at all. The reduced problem's dual point is extended to the
        dropped cells with a large value (their constraints then hold with room to spare, at a
        cost of about mass × value), its primal point is polished onto the original marginals,
        and the gap is measured on the original problem: nothing is assumed.
        """
        a, b = problem.p_x1y, problem.p_x2y
        tiny = NEGLIGIBLE_MASS * max(float(a.max()), float(b.max()))
        drop_a = (a > 0) & (a < tiny)
        drop_b = (b > 0) & (b < tiny)
        if not (drop_a.any() or drop_b.any()):
            return None
        try:
            reduced = BrojaProblem(np.where(drop_a, 0.0, a), np.where(drop_b, 0.0, b))
        except Exception:  # pragma: no cover - dropping 1e-20 of the mass keeps the marginals consistent
            return None
        res = self._solve(reduced, **opts, reduce=False)
        if res.q is None or res.lam is None or res.mu is None:
            return None
        lam = np.array(res.lam, dtype=float)
        mu = np.array(res.mu, dtype=float)
        big = 50.0 + max(float(np.abs(lam).max(initial=0.0)), float(np.abs(mu).max(initial=0.0)))
        lam[drop_a] = big
        mu[drop_b] = big
        cert, q = certify(problem, dataclasses.replace(res, lam=lam, mu=mu))  # on the original problem
        if not cert.gap <= opts["gap_tol"]:
            return None
        return dataclasses.replace(
            res,
            status=Status.OPTIMAL,
            q=q,
            lam=lam,
            mu=mu,
            solve_time=time.perf_counter() - opts["t0"],
            info={**res.info, "gap_bits": cert.gap, "m_lower": cert.m_lower, "m_upper": cert.m_upper,
                  "negligible_entries_dropped": int(drop_a.sum() + drop_b.sum())},
        )


def ip_solve(problem: BrojaProblem, **options: Any) -> SolveResult:
    """Convenience: ``NativeSolver().solve(problem, **options)``."""
    return NativeSolver().solve(problem, **options)


@hookimpl
def pidlab_register_solvers() -> list[type[Solver]]:
    return [NativeSolver]
