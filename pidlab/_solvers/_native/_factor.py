"""Newton-system solvers of the native method: batched dense, Schur complement (direct, two
formations) and matrix-free deflated conjugate gradients."""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy.linalg.lapack import dpotrf as _dpotrf
from scipy.linalg.lapack import dpotrs as _dpotrs

from pidlab._solvers._native._kernels import (
    Arr,
    BArr,
    Batch,
    by_slices,
)

#: Systems of at least this many unknowns are factorised item by item with LAPACK's Cholesky in
#: the batched dense path (below, one batched LU solve per right-hand side is as fast).
BATCH_CHOL_MIN_VARS = 48


class _DenseFactor:
    """Whole Newton system, batched LU solve (small problems, the batch path)."""

    def __init__(self, d: Batch, Mll: Arr, Mmm: Arr, q: Arr, kc: Arr, c: Arr) -> None:
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
        # Symmetric Jacobi scaling: the diagonal spans the masses of the cells (1e-300 beside 1
        # on extreme tables); unscaled, rounding in the large entries swamps the small ones.
        dg = np.diagonal(M, axis1=1, axis2=2)
        sc = 1.0 / np.sqrt(np.where(dg > 0, dg, 1.0))
        M *= sc[:, :, None]
        M *= sc[:, None, :]
        self.sc = sc
        self.M = M
        self.shape = (n1, n2, ny)
        # Factorise once (Cholesky, LAPACK, item by item; the scaled matrix is symmetric positive
        # definite) and reuse the factors for the predictor and the corrector: one problem, or a
        # stack of systems of at least BATCH_CHOL_MIN_VARS unknowns. Measured on 2 cores: one
        # 8x8x8 system (120 unknowns) a few µs per LAPACK call against about 0.1 ms per
        # np.linalg.solve; 500 of them 64 ms for the factors and both solves against 156 ms for
        # two batched np.linalg.solve calls (1000 of 88 unknowns: 78 against 129 ms; at 32
        # unknowns and below the batched LU is as fast or faster). Items whose factorisation
        # fails go through the LU solve.
        self.chol: list[Arr | None] | None = None
        if N == 1 or K1 + K2 >= BATCH_CHOL_MIN_VARS:
            self.chol = []
            for Mi in M:
                cf, info = _dpotrf(Mi, lower=False, clean=False, overwrite_a=False)
                self.chol.append(cf if info == 0 else None)

    def solve(self, rl: Arr, rm: Arr) -> tuple[Arr, Arr]:
        N = rl.shape[0]
        n1, n2, ny = self.shape
        r = np.concatenate([rl.reshape(N, -1), rm.reshape(N, -1)], axis=1) * self.sc
        x = np.empty_like(r)
        todo = list(range(N))
        if self.chol is not None:
            todo = []
            for i, cf in enumerate(self.chol):
                if cf is not None:
                    xs, info = _dpotrs(cf, r[i], lower=False)
                    if info == 0 and np.all(np.isfinite(xs)):
                        x[i] = xs
                        continue
                todo.append(i)
        if todo:
            sel = slice(None) if len(todo) == N else np.array(todo)
            try:
                x[sel] = np.linalg.solve(self.M[sel], r[sel][..., None])[..., 0]
            except np.linalg.LinAlgError:
                x[sel] = np.stack([np.linalg.lstsq(Mi, ri, rcond=None)[0] for Mi, ri in zip(self.M[sel], r[sel])])
        x = x * self.sc
        dl: Arr = x[:, : n1 * ny].reshape(N, n1, ny)
        dm: Arr = x[:, n1 * ny:].reshape(N, n2, ny)
        return dl, dm


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

    def __init__(self, d: Batch, Mll: Arr, Mmm: Arr, q: Arr, kc: Arr, c: Arr) -> None:
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
        S = S.reshape(K2, K2)  # type: ignore[assignment]  # the (n2, ny, n2, ny) blocks as one matrix
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

    def __init__(self, d: Batch, Mll: Arr, Mmm: Arr, q: Arr, kc: Arr, c: Arr) -> None:
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
        # B, built a chunk of x1 blocks at a time (temporaries a fraction of B)
        B = np.empty((n1, ny, n2, ny))
        vb = d.vbf[0][None, None, :, :]
        if by_slices(n1 * n2 * ny, ny):
            # one (x1, x2) plane per (u, y'): numpy's inner loops run over x2, not over |Y|
            q0, kc0, vb0 = q[0], kc[0], d.vbf[0]
            tmp = np.empty((n1, n2))
            for u in range(ny):
                for z in range(ny):
                    Bz = B[:, u, :, z]
                    np.multiply(Linv[:, u, z, None], q0[:, :, z], out=Bz)
                    np.multiply(G[:, u, :], kc0[:, :, z], out=tmp)
                    Bz += tmp
                    Bz *= vb0[None, :, z]
        else:
            for sl in _chunks(n1):
                Bi = B[sl]
                np.multiply(Linv[sl][:, :, None, :], q[0][sl][:, None, :, :], out=Bi)
                Bi += G[sl][:, :, :, None] * kc[0][sl][:, None, :, :]
                Bi *= vb
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


#: The matrix-free path runs its independent chunks (x1 rows, coarse-space columns) on this
#: many threads from this many cells on (numpy releases the GIL in its loops and products; a
#: 128 cube: see benchmarks/results). Below, one thread.
PARALLEL_MIN_CELLS = 1 << 19
_POOL: Any = None
_POOL_LOCK = threading.Lock()


def _workers(cells: int) -> int:
    if cells < PARALLEL_MIN_CELLS:
        return 1
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 4))


def _map(fn: Any, items: list[Any], workers: int) -> list[Any]:
    """``[fn(x) for x in items]``, on a shared thread pool when ``workers > 1``."""
    global _POOL
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with _POOL_LOCK:
        # a pool inherited through fork() has no threads in the child (dask or multiprocessing
        # workers forked after a large solve): it would queue the work forever, so make a new one
        if _POOL is None or _POOL[0] != os.getpid() or _POOL[1]._max_workers < workers:
            _POOL = (os.getpid(), concurrent.futures.ThreadPoolExecutor(max_workers=workers,
                                                                        thread_name_prefix="pidlab-native"))
        pool = _POOL[1]
    return list(pool.map(fn, items))


#: Entries of a per-chunk temporary in the matrix-free path's x1-row loops (1 MiB of float64:
#: the chunk's arrays stay in cache between the passes over it; on a 128 cube, with two threads,
#: 12.5-15.1 s against 14.3-15.6 s for 4 MiB chunks, measured alternately).
ROW_CHUNK_ENTRIES = 1 << 17


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
    about the table's size, and ``S Z`` (|Y| + |X2| columns of |X2||Y|: two tables on a cube);
    everything else is built in chunks of x1 rows or x2 columns.
    The elimination assumes an x1 carries at most about |Y| large pairs; beyond that ``F`` is
    nearly singular and CG stalls (``failed`` is set and the caller may switch paths).
    """

    def __init__(self, d: Batch, w: Arr, s: Arr, c: Arr) -> None:
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
        blk: Any = np.zeros((n2, ny, ny))
        ar, i2 = np.arange(ny), np.arange(n2)
        # x1 blocks are independent: work through them in chunks so that the temporaries stay
        # a fraction of the table (q = w c is never stored whole)
        self.workers = _workers(n1 * n2 * ny)
        self._lock = threading.Lock()

        def rows(sl: slice) -> None:
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
            self._block_terms(blk, cc, wc, ksc, bigc, Dinv, Finv, DC, F0, self._lock)

        _map(rows, list(_chunks(n1)), self.workers)
        blk[:, ar, ar] += self.qb
        self.blkinv = _spd_inverse(blk, self.vbf)
        blk = None  # free it (the closure above holds the name)
        # coarse space: Z = [indicator of y over all free x2 | indicator of x2 over all y]
        keep = np.concatenate([self.vbf.any(axis=0), self.vbf.any(axis=1)])
        self._zkeep = keep
        k = int(keep.sum())
        # S Z is kept (k x |X2||Y|: two tables' worth on a cube): with it each CG iteration applies
        # S once instead of twice (Zᵀ S z = (S Z)ᵀ z, S symmetric)
        self.SZ = SZ = np.empty((k, n2, ny))
        per = max(1, ny // 4)  # columns per block: its (|X1|, |X2|, per) temporaries are a quarter table each

        def columns(sl: slice) -> None:  # a block of columns at a time
            cols = np.zeros((sl.stop - sl.start, k))
            cols[np.arange(cols.shape[0]), np.arange(sl.start, sl.stop)] = 1.0
            SZ[sl] = self._apply_many(np.stack([self._z(e) for e in cols]))

        _map(columns, list(_chunks(k, max(1, -(-k // per)))), self.workers)
        E = self._zt(SZ)  # Zᵀ S Z
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
    def _block_terms(out: Arr, c: Arr, w: Arr, ks: Arr, big: Arr, Dinv: Arr, Finv: Arr, DC: Arr, F0: Arr,
                     lock: Any) -> None:
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
            X += X.transpose(0, 2, 1).copy()
            X += np.matmul(cg[:, sa].transpose(1, 2, 0), cT)
            X += np.einsum("iau,iuv,iav->auv", q[:, sa], Gam, q[:, sa])
            with lock:  # chunks of x1 rows may run on several threads
                out[sa] += X

    def _row_chunks(self, width: int) -> Iterator[slice]:
        """Slices of x1 rows whose temporaries of ``|X2| * width`` entries per row hold about
        ``ROW_CHUNK_ENTRIES`` (they stay in cache: the x1 rows are independent)."""
        n1, n2, _ = self.shape
        rows = max(1, ROW_CHUNK_ENTRIES // max(1, n2 * width))
        for i0 in range(0, n1, rows):
            yield slice(i0, min(n1, i0 + rows))

    def _apply_many(self, V: Arr) -> Arr:
        """The Schur operator on a block of directions ``V`` (k, n2, ny) at once: what
        ``self._local(None, v)[0]`` gives for each ``v``, with every sum written as a batched
        matrix product (BLAS-3) instead of k passes over the table. Used for the coarse matrix
        ``Zᵀ S Z`` (|Y| + |X2| columns per Newton step: one at a time they were about two thirds
        of the matrix-free path's time on cubes). Temporaries: a few arrays of ``|X1||X2| k``."""
        c, w, ks, big = self.c, self.w, self.ks, self.big
        n1, n2, ny = self.shape
        V = V * self.vbf  # (k, n2, ny)
        k = V.shape[0]
        cv = np.matmul(c.transpose(1, 0, 2), V.transpose(1, 2, 0)).transpose(1, 0, 2)  # (n1, n2, k)
        h = np.empty((n1, ny, k))
        for u in range(ny):  # Σ_x2 q V per target symbol (q = w c one |X1|x|X2| slice at a time)
            np.matmul(c[:, :, u] * w, V[:, :, u].T, out=h[:, u, :])
        h += np.matmul(c.transpose(0, 2, 1), ks[:, :, None] * cv)
        Dr = -np.matmul(self.Dinv, h)  # (n1, ny, k)
        del h
        g = np.where(big[:, :, None], cv, 0.0) + np.matmul(c, Dr)  # (n1, n2, k)
        t = np.matmul(self.Finv, g)
        del g
        lam = Dr - np.matmul(self.Dinv, np.matmul(c.transpose(0, 2, 1), t))  # (n1, ny, k)
        lam *= self.va[:, :, None]
        T = np.matmul(c, lam)
        T += cv
        T *= ks[:, :, None]
        T += t  # (n1, n2, k)
        del t, cv
        out = np.empty((k, n2, ny))
        for u in range(ny):  # Σ_x1 q λ per target symbol
            out[:, :, u] = np.matmul((c[:, :, u] * w).T, lam[:, u, :]).T
        out += np.matmul(c.transpose(1, 2, 0), T.transpose(1, 0, 2)).transpose(2, 0, 1)
        out += V * self.qb
        out *= self.vbf
        return out

    # -- the per-x1 elimination ------------------------------------------------------------
    def _local(self, rl: Arr | None, v: Arr) -> tuple[Arr, Arr, Arr]:
        """Eliminate (dλ, t) per x1 given the μ-direction ``v`` (n2, ny) and the λ right-hand
        side ``rl`` (n1, ny; None = 0). Returns the μ-rows ``out`` (n2, ny), ``dλ`` and
        ``T = κ c·z`` per pair. x1 rows go in cache-sized chunks (measured on a 128 cube: an
        application 7 ms instead of 20 ms)."""
        n1, n2, ny = self.shape
        v = v * self.vbf
        out = v * self.qb
        lam = np.empty((n1, ny))
        T = np.empty((n1, n2))

        def rows(sl: slice) -> Arr:
            c, w, ks, big = self.c[sl], self.w[sl], self.ks[sl], self.big[sl]
            Dinv = self.Dinv[sl]
            cvt = c * v  # (m, n2, ny): one pass gives both sums below
            cv = cvt.sum(axis=2)
            h = np.matmul(w[:, None, :], cvt)[:, 0, :]  # Σ_x2 w c v
            del cvt
            h += np.matmul(c.transpose(0, 2, 1), (ks * cv)[:, :, None])[:, :, 0]
            rhs = -h if rl is None else rl[sl] - h
            Dr = np.matmul(Dinv, rhs[:, :, None])  # (m, ny, 1)
            g = np.where(big, cv, 0.0) + np.matmul(c, Dr)[:, :, 0]
            t = np.matmul(self.Finv[sl], g[:, :, None])[:, :, 0]  # zero off the big pairs
            lm = (Dr - np.matmul(Dinv, np.matmul(c.transpose(0, 2, 1), t[:, :, None])))[:, :, 0]
            lm *= self.va[sl]
            cz = np.matmul(c, lm[:, :, None])[:, :, 0] + cv
            Tl = ks * cz + t
            part = np.matmul(w.T[:, None, :], (c * lm[:, None, :]).transpose(1, 0, 2))[:, 0, :]  # Σ_x1 w c λ
            part += np.matmul(c.transpose(1, 2, 0), Tl.T[:, :, None])[:, :, 0]
            lam[sl] = lm
            T[sl] = Tl
            return part

        for part in _map(rows, list(self._row_chunks(ny)), self.workers):
            out += part
        out *= self.vbf
        return out, lam, T

    def _cg(self, b: Arr) -> Arr:
        """Deflated preconditioned conjugate gradients (Saad, Yeung, Erhel & Guyomarc'h 2000) on
        the Schur system ``S x = b``: the start solves the coarse problem and every search
        direction is kept S-orthogonal to the coarse space. ``S Z`` (formed with ``E``, two
        tables' worth of memory on a cube) is kept, so each iteration applies S once."""
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

        SZ = self.SZ.reshape(self.SZ.shape[0], -1)  # (k, |X2||Y|): products with it are BLAS-2

        def direction(z: Arr) -> tuple[Arr, Arr]:
            """``p = z - Z E⁻¹ Zᵀ S z`` (S-orthogonal to Z) and ``S p = S z - (S Z) E⁻¹ Zᵀ S z``."""
            Sz = S(z)
            if coarse:
                a = Einv @ (SZ @ z.ravel())  # Zᵀ S z = (S Z)ᵀ z
                z = z - self._z(a)
                Sz = Sz - (a @ SZ).reshape(Sz.shape)
            return z, Sz

        if coarse:
            a0 = Einv @ self._zt(b)
            x = self._z(a0)
            r = b - (a0 @ SZ).reshape(b.shape)
        else:
            x = np.zeros_like(b)
            r = b.copy()
        tol = CG_RTOL * nb
        best, best_res = x.copy(), float(np.linalg.norm(r))
        if best_res <= tol:  # the coarse space alone solved it
            self.iterations.append(0)
            return x
        z = prec(r)
        rz = float(np.vdot(r, z))
        p, Sp = direction(z)
        it = 0
        for it in range(1, CG_MAXITER + 1):  # noqa: B007 (the count is recorded after the loop)
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
        return np.asarray(np.linalg.cholesky(M), dtype=float)
    except np.linalg.LinAlgError:
        ny = M.shape[-1]
        scale = np.abs(np.diagonal(M, axis1=-2, axis2=-1)).max(axis=-1)
        for k in range(6):
            try:
                return np.asarray(np.linalg.cholesky(M + np.eye(ny) * (scale[:, None, None] * 10.0 ** (-14 + 2 * k) + 1e-300)), dtype=float)
            except np.linalg.LinAlgError:
                continue
        raise
