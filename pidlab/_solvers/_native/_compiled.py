"""The interior-point iteration of the native method for one small problem, compiled with numba.

On problems with at most ``DENSE_MAX_VARS`` dual variables (an 8x8x8 cube, a 20x20x2 table) a
Newton step is a few hundred arithmetic operations per cell and a Cholesky factorisation of
order (|X1| + |X2|)|Y|; written with numpy it is a few hundred array calls on arrays of a few
hundred entries, and the call overhead (about a microsecond each) is most of the time. This
module runs the same iteration as :func:`._iterate.ip_iterate` (the same starting point,
weighted central path, Mehrotra predictor-corrector, Jacobi-scaled Newton system of the dense
path, fraction-to-the-boundary and logit step cap, progress test) as one compiled loop; its
Cholesky factor skips the block-diagonal λλ part, which lets it also take the direct path's
classification shapes (few target symbols).

It only advances the iterate: it returns when the iterate is due for the host's certificate
(the same rule as ``ip_iterate``'s ``check_below``/``check_sure``), when it stalls, or when the
progress test asks for the merit line search, which it does not implement; the caller
(:class:`pidlab._solvers._native.NativeSolver`) checks the iterate with the host's certificate
and, if that does not close, resumes it or hands the problem to ``ip_iterate``'s attempts. A
result is never accepted on this module's word.

numba is a dependency of pidlab, imported on the first small solve (not with pidlab). The first
call compiles the iteration (about 5 s) and caches the machine code beside this file (numba's
``cache=True``; its own user-wide cache directory when this one is read-only), so later processes
load it in a fraction of a second. If numba cannot be imported (a platform without wheels),
:data:`AVAILABLE` is False and every problem goes through ``ip_iterate``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pidlab._solvers._native._kernels import Arr

_numba: Any
try:  # pragma: no cover - exercised by the platform, not by a test
    import numba as _numba
except Exception:  # noqa: BLE001 - any failure to import means "not available"
    _numba = None

#: Whether the compiled iteration can be used.
AVAILABLE = _numba is not None

#: Return codes of :func:`advance`.
CHECK, STALLED, NEEDS_MERIT, ITER_LIMIT, SINGULAR = 1, 2, 3, 4, 5


def _jit(f: Any) -> Any:
    return _numba.njit(cache=True, nogil=True)(f) if AVAILABLE else f


@_jit
def _softmax(lam: Arr, mu: Arr, A: Any, P: Any, c: Arr, lse: Arr) -> None:  # pragma: no cover - compiled
    """Per pair log-sum-exp and softmax of -lam[x1]-mu[x2] over the support (lse_softmax)."""
    n1, n2, ny = c.shape
    for i in range(n1):
        for j in range(n2):
            if not P[i, j]:
                lse[i, j] = 0.0
                for y in range(ny):
                    c[i, j, y] = 0.0
                continue
            mx = -np.inf
            for y in range(ny):
                if A[i, j, y]:
                    e = -(lam[i, y] + mu[j, y])
                    c[i, j, y] = e
                    if e > mx:
                        mx = e
            z = 0.0
            for y in range(ny):
                if A[i, j, y]:
                    e = math.exp(c[i, j, y] - mx)
                    c[i, j, y] = e
                    z += e
                else:
                    c[i, j, y] = 0.0
            for y in range(ny):
                c[i, j, y] /= z
            lse[i, j] = mx + math.log(z)


@_jit
def _marginal_sums(v: Arr, c: Arr, va: Any, vbf: Any, s1: Arr, s2: Arr) -> None:  # pragma: no cover - compiled
    """``s1 = Σ_x2 v c`` on the λ variables and ``s2 = Σ_x1 v c`` on the free μ (0 elsewhere):
    the marginals of the pair weights ``v`` spread by the softmax (``_sum_x2``/``_sum_x1``)."""
    n1, n2, ny = c.shape
    for i in range(n1):
        for y in range(ny):
            acc = 0.0
            if va[i, y]:
                for j in range(n2):
                    acc += v[i, j] * c[i, j, y]
            s1[i, y] = acc
    for j in range(n2):
        for y in range(ny):
            acc = 0.0
            if vbf[j, y]:
                for i in range(n1):
                    acc += v[i, j] * c[i, j, y]
            s2[j, y] = acc


@_jit
def _merit(a: Arr, b: Arr, P: Any, va: Any, vbf: Any, w: Arr, s: Arr, rho: Arr, c: Arr,
           lse: Arr) -> float:  # pragma: no cover - compiled
    """Squared KKT residual with a zero complementarity target (ip_iterate's progress measure)."""
    n1, n2, ny = c.shape
    s1 = np.empty((n1, ny))
    s2 = np.empty((n2, ny))
    _marginal_sums(w, c, va, vbf, s1, s2)
    tot = 0.0
    for i in range(n1):
        for y in range(ny):
            if va[i, y]:
                tot += (a[i, y] - s1[i, y]) ** 2
    for j in range(n2):
        for y in range(ny):
            if vbf[j, y]:
                tot += (b[j, y] - s2[j, y]) ** 2
    for i in range(n1):
        for j in range(n2):
            if P[i, j]:
                rr = max(rho[i, j], 1e-300)
                tot += (lse[i, j] + s[i, j]) ** 2 * rr + (w[i, j] * s[i, j]) ** 2 / rr
    return tot


@_jit
def _newton_matrix(P: Any, va: Any, vbf: Any, w: Arr, s: Arr, c: Arr, M: Arr,
                   sc: Arr) -> bool:  # pragma: no cover - compiled
    """The Jacobi-scaled Newton matrix ``Σ_pairs diag(q) + κ c cᵀ`` in (λ, μ) (κ = w/s - w),
    identity rows for absent and pinned variables (``_DenseFactor``); False if a diagonal entry
    is not positive."""
    n1, n2, ny = c.shape
    K1 = n1 * ny
    K = M.shape[0]
    M[:, :] = 0.0
    for i in range(n1):
        for j in range(n2):
            if not P[i, j]:
                continue
            kap = w[i, j] * (1.0 / s[i, j] - 1.0)
            for u in range(ny):
                cu = c[i, j, u]
                if cu == 0.0:
                    continue
                lu = i * ny + u
                mu_u = K1 + j * ny + u
                q = w[i, j] * cu
                M[lu, lu] += q
                if vbf[j, u]:
                    M[mu_u, mu_u] += q
                    M[lu, mu_u] += q
                kcu = kap * cu
                for z in range(ny):
                    cz = c[i, j, z]
                    if cz == 0.0:
                        continue
                    val = kcu * cz
                    M[lu, i * ny + z] += val
                    if vbf[j, z]:
                        M[lu, K1 + j * ny + z] += val
                        if vbf[j, u]:
                            M[mu_u, K1 + j * ny + z] += val
    for k in range(K1):
        for m in range(K1, K):
            M[m, k] = M[k, m]
    for i in range(n1):
        for y in range(ny):
            if not va[i, y]:
                M[i * ny + y, i * ny + y] = 1.0
    for j in range(n2):
        for y in range(ny):
            if not vbf[j, y]:
                M[K1 + j * ny + y, K1 + j * ny + y] = 1.0
    for k in range(K):
        dg = M[k, k]
        if not dg > 0.0:
            return False
        sc[k] = 1.0 / math.sqrt(dg)
    for k in range(K):
        for m in range(K):
            M[k, m] *= sc[k] * sc[m]
    return True


@_jit
def _block_cholesky(M: Arr, n1: int, ny: int, L: Arr, W: Arr) -> bool:  # pragma: no cover - compiled
    """Cholesky factor ``L`` of the scaled Newton matrix ``M`` (lower), skipping the zeros of its
    λλ part, which is block diagonal (one |Y|×|Y| block per x1): the blocks are factorised by
    hand, the coupling rows ``L21 = Mμλ L11⁻ᵀ`` by substitution (kept in ``W``, contiguous), and
    the μμ part as ``chol(Mμμ - L21 L21ᵀ)`` (one BLAS product, LAPACK's factor). The same factor
    as a dense Cholesky of M, in a fraction of its work when |X1| is large. False if M is not
    positive definite to working precision."""
    K = M.shape[0]
    K1 = n1 * ny
    K2 = K - K1
    for i in range(n1):
        o = i * ny
        for k in range(o, o + ny):
            acc = M[k, k]
            for m in range(o, k):
                acc -= L[k, m] * L[k, m]
            if not acc > 0.0:
                return False
            dkk = math.sqrt(acc)
            L[k, k] = dkk
            for r in range(k + 1, o + ny):
                acc = M[r, k]
                for m in range(o, k):
                    acc -= L[r, m] * L[k, m]
                L[r, k] = acc / dkk
        for r in range(K2):  # coupling rows: solve L11_i x = M[K1 + r, block]
            for k in range(o, o + ny):
                acc = M[K1 + r, k]
                for m in range(o, k):
                    acc -= W[r, m] * L[k, m]
                W[r, k] = acc / L[k, k]
    S = M[K1:, K1:] - np.dot(W, W.T)
    L22 = np.linalg.cholesky(S)  # LAPACK; a failure reaches the caller as LinAlgError
    L[K1:, K1:] = L22
    return True


@_jit
def _chol_solve(L: Arr, W: Arr, n1: int, ny: int, x: Arr) -> None:  # pragma: no cover - compiled
    """``L Lᵀ x = b`` in place (``x`` holds b) for the factor of :func:`_block_cholesky`
    (block-diagonal leading part in L, coupling rows in W, trailing factor in L)."""
    K = L.shape[0]
    K1 = n1 * ny
    for i in range(n1):
        o = i * ny
        for k in range(o, o + ny):
            acc = x[k]
            for m in range(o, k):
                acc -= L[k, m] * x[m]
            x[k] = acc / L[k, k]
    for k in range(K1, K):
        acc = x[k]
        r = k - K1
        for m in range(K1):
            acc -= W[r, m] * x[m]
        for m in range(K1, k):
            acc -= L[k, m] * x[m]
        x[k] = acc / L[k, k]
    for k in range(K - 1, K1 - 1, -1):
        acc = x[k]
        for m in range(k + 1, K):
            acc -= L[m, k] * x[m]
        x[k] = acc / L[k, k]
    for i in range(n1 - 1, -1, -1):
        o = i * ny
        for k in range(o + ny - 1, o - 1, -1):
            acc = x[k]
            for r in range(K - K1):
                acc -= W[r, k] * x[K1 + r]
            for m in range(k + 1, o + ny):
                acc -= L[m, k] * x[m]
            x[k] = acc / L[k, k]


@_jit
def _direction(a: Arr, b: Arr, P: Any, va: Any, vbf: Any, w: Arr, s: Arr, c: Arr, rp: Arr, L: Arr, W: Arr,
               sc: Arr, tt: Arr, out_l: Arr, out_m: Arr, ds: Arr, dw: Arr) -> None:  # pragma: no cover - compiled
    """The Newton direction for the complementarity target ``tt`` (ip_iterate's ``direction``):
    ``M dz = -g0 - Jᵀ v``, then the slack and pair-weight steps."""
    n1, n2, ny = c.shape
    K1 = n1 * ny
    K = L.shape[0]
    v = np.zeros((n1, n2))
    for i in range(n1):
        for j in range(n2):
            if P[i, j]:
                v[i, j] = (tt[i, j] + w[i, j] * rp[i, j]) / s[i, j]
    s1 = np.empty((n1, ny))
    s2 = np.empty((n2, ny))
    _marginal_sums(v, c, va, vbf, s1, s2)
    x = np.zeros(K)
    for i in range(n1):
        for y in range(ny):
            if va[i, y]:
                x[i * ny + y] = (s1[i, y] - a[i, y]) * sc[i * ny + y]
    for j in range(n2):
        for y in range(ny):
            if vbf[j, y]:
                k = K1 + j * ny + y
                x[k] = (s2[j, y] - b[j, y]) * sc[k]
    _chol_solve(L, W, n1, ny, x)
    for i in range(n1):
        for y in range(ny):
            out_l[i, y] = x[i * ny + y] * sc[i * ny + y] if va[i, y] else 0.0
    for j in range(n2):
        for y in range(ny):
            k = K1 + j * ny + y
            out_m[j, y] = x[k] * sc[k] if vbf[j, y] else 0.0
    for i in range(n1):
        for j in range(n2):
            if P[i, j]:
                cz = 0.0
                for y in range(ny):
                    cz += c[i, j, y] * (out_l[i, y] + out_m[j, y])
                ds[i, j] = -rp[i, j] + cz
                dw[i, j] = (tt[i, j] - w[i, j] * s[i, j] - w[i, j] * ds[i, j]) / s[i, j]
            else:
                ds[i, j] = 0.0
                dw[i, j] = 0.0


@_jit
def _maxstep(P: Any, w: Arr, s: Arr, dw: Arr, ds: Arr) -> float:  # pragma: no cover - compiled
    """Largest step in [0, 1] keeping w and s nonnegative on the pairs."""
    n1, n2 = w.shape
    st = 1.0
    for i in range(n1):
        for j in range(n2):
            if P[i, j]:
                if dw[i, j] < 0.0:
                    st = min(st, -w[i, j] / dw[i, j])
                if ds[i, j] < 0.0:
                    st = min(st, -s[i, j] / ds[i, j])
    return st


@_jit
def advance(a: Arr, b: Arr, A: Any, P: Any, va: Any, vbf: Any, lam: Arr, mu: Arr, w: Arr, s: Arr, rho: Arr,
            state: Arr, max_iter: int, check_below: float, check_sure: float, check_fall: float,
            step_cap: float, eta: float, c: Arr) -> int:  # pragma: no cover - compiled; tested through the solver
    """Advance (lam, mu, w, s) in place until a check is due; ``c`` receives the softmax of the
    returned iterate. ``state`` = [iterations, previous complementarity, best progress, steps
    without progress, 1 if the current iterate was already handed back] carries over between
    calls. Returns one of the codes above."""
    n1, ny = a.shape
    n2 = b.shape[0]
    K = (n1 + n2) * ny
    lse = np.zeros((n1, n2))
    M = np.zeros((K, K))
    L = np.zeros((K, K))  # only its λλ blocks and μμ part are used
    W = np.zeros((K - n1 * ny, n1 * ny))
    sc = np.ones(K)
    dl = np.zeros((n1, ny))
    dm = np.zeros((n2, ny))
    ds = np.zeros((n1, n2))
    dw = np.zeros((n1, n2))
    rp = np.zeros((n1, n2))
    t = np.zeros((n1, n2))
    _softmax(lam, mu, A, P, c, lse)
    while True:
        it = int(state[0])
        mu_c = 0.0
        finite = True
        for i in range(n1):
            for j in range(n2):
                if P[i, j]:
                    mu_c += w[i, j] * s[i, j]
                    rp[i, j] = lse[i, j] + s[i, j]
                else:
                    rp[i, j] = 0.0
        if not math.isfinite(mu_c):
            finite = False
        for i in range(n1):
            for y in range(ny):
                if not math.isfinite(lam[i, y]):
                    finite = False
        for j in range(n2):
            for y in range(ny):
                if not math.isfinite(mu[j, y]):
                    finite = False
        if not finite or mu_c < 1e-18 or state[3] >= 25:
            return STALLED
        prev = state[1]
        if state[4] == 0.0 and mu_c < check_below and (mu_c < check_sure or mu_c > check_fall * prev):
            state[4] = 1.0  # the caller checks this iterate; a resumed call steps from it
            return CHECK
        state[4] = 0.0
        state[1] = mu_c
        if it >= max_iter:
            return ITER_LIMIT
        if not _newton_matrix(P, va, vbf, w, s, c, M, sc):
            return SINGULAR
        if not _block_cholesky(M, n1, ny, L, W):
            return SINGULAR
        # predictor (affine) step, then Mehrotra's corrector
        t[:, :] = 0.0
        _direction(a, b, P, va, vbf, w, s, c, rp, L, W, sc, t, dl, dm, ds, dw)
        aa = _maxstep(P, w, s, dw, ds)
        mu_aff = 0.0
        for i in range(n1):
            for j in range(n2):
                if P[i, j]:
                    mu_aff += (w[i, j] + aa * dw[i, j]) * (s[i, j] + aa * ds[i, j])
        sigma = min(max(mu_aff / mu_c, 0.0), 1.0) ** 3 if mu_c > 0.0 else 0.0
        for i in range(n1):
            for j in range(n2):
                t[i, j] = sigma * mu_c * rho[i, j] - dw[i, j] * ds[i, j] if P[i, j] else 0.0
        _direction(a, b, P, va, vbf, w, s, c, rp, L, W, sc, t, dl, dm, ds, dw)
        alpha = eta * _maxstep(P, w, s, dw, ds)
        du = 0.0  # trust region on the logits
        for i in range(n1):
            for j in range(n2):
                for y in range(ny):
                    if A[i, j, y]:
                        du = max(du, abs(dl[i, y] + dm[j, y]))
        alpha = min(alpha, step_cap / max(du, 1e-300))
        # progress test (ip_iterate): an item that stops improving needs the merit line search
        prog = _merit(a, b, P, va, vbf, w, s, rho, c, lse)
        if prog < 0.25 * state[2]:
            state[2] = prog
            state[3] = 0.0
        else:
            state[3] += 1.0
        if state[3] >= 6:
            return NEEDS_MERIT
        for i in range(n1):
            for y in range(ny):
                lam[i, y] += alpha * dl[i, y]
        for j in range(n2):
            for y in range(ny):
                mu[j, y] += alpha * dm[j, y]
        for i in range(n1):
            for j in range(n2):
                if P[i, j]:
                    w[i, j] += alpha * dw[i, j]
                    s[i, j] += alpha * ds[i, j]
        state[0] = it + 1
        _softmax(lam, mu, A, P, c, lse)
