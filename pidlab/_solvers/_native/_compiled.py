"""The interior-point iteration of the native method for one small problem, compiled with numba.

On problems with at most ``DENSE_MAX_VARS`` dual variables (an 8x8x8 cube, a 20x20x2 table) a
Newton step is a few hundred arithmetic operations per cell and a Cholesky factorisation of
order (|X1| + |X2|)|Y|; written with numpy it is a few hundred array calls on arrays of a few
hundred entries, and the call overhead (about a microsecond each) is most of the time. This
module runs the same iteration as :func:`._iterate.ip_iterate` (the same starting point,
weighted central path, Mehrotra predictor-corrector, Jacobi-scaled Newton system of the dense
path, fraction-to-the-boundary and logit step cap, progress test) as one compiled loop. The
Newton matrix is assembled by parts and its Cholesky factor skips the block-diagonal λλ part
(the λ blocks are eliminated one x1 at a time, the Schur complement in μ is formed by one BLAS
product and factorised in place), so it also takes the direct path's problems up to a few
hundred dual variables (10x10x20, 16x16x16, 100x100x2). Before the host's certificate it scales
the iterate's table onto the marginals (:func:`prepolish`, the host's own sweeps), so that the
host's polish finds it there.

It only advances the iterate: it returns when the iterate is due for the host's certificate
(the same rule as ``ip_iterate``'s ``check_below``/``check_sure``), when it stalls, or when the
progress test asks for the merit line search, which it does not implement; the caller
(:class:`pidlab._solvers._native.NativeSolver`) checks the iterate with the host's certificate
and, if that does not close, resumes it or hands the problem to ``ip_iterate``'s attempts. A
result is never accepted on this module's word.

numba is a dependency of pidlab, imported on the first small solve (not with pidlab). The first
call compiles the iteration (10-20 s on a 2-core machine) and caches the machine code beside this file (numba's
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
    return _numba.njit(cache=True, nogil=True, error_model="numpy")(f) if AVAILABLE else f


def _jit_sums(f: Any) -> Any:
    """:func:`_jit` allowing the compiler to reorder sums (``fastmath`` reassociation and fused
    multiply-adds only: no assumption about NaN or infinity, so the positivity tests stay), which
    lets it vectorise the dot products of the factorisation and the triangular solves (a
    Cholesky of order 64: 20 µs -> 9.5 µs; the rounding is that of any other summation order)."""
    return _numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})(f) if AVAILABLE else f


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
def _newton_blocks(P: Any, va: Any, vbf: Any, w: Arr, s: Arr, c: Arr, Lb: Arr, C: Arr, S: Arr,
                   sc: Arr) -> bool:  # pragma: no cover - compiled
    """The Jacobi-scaled Newton matrix ``Σ_pairs diag(q) + κ c cᵀ`` in (λ, μ) (κ = w/s - w) of the
    dense path (``_DenseFactor``), by parts: its λλ part is block diagonal (``Lb``, one |Y|×|Y|
    block per x1), ``C`` is the λμ coupling (rows λ, columns μ) and ``S`` the μμ part (block
    diagonal too; only its diagonal blocks are written). Absent and pinned variables get identity
    rows. False if a diagonal entry is not positive."""
    n1, n2, ny = c.shape
    K1 = n1 * ny
    K2 = n2 * ny
    Lb[:, :, :] = 0.0
    C[:, :] = 0.0
    for j in range(n2):
        for u in range(ny):
            for z in range(ny):
                S[j * ny + u, j * ny + z] = 0.0
    for i in range(n1):
        for j in range(n2):
            if not P[i, j]:
                continue
            kap = w[i, j] * (1.0 / s[i, j] - 1.0)
            o2 = j * ny
            for u in range(ny):
                cu = c[i, j, u]
                if cu == 0.0:
                    continue
                lu = i * ny + u
                q = w[i, j] * cu
                Lb[i, u, u] += q
                fu = vbf[j, u]
                if fu:
                    S[o2 + u, o2 + u] += q
                    C[lu, o2 + u] += q
                kcu = kap * cu
                for z in range(ny):
                    cz = c[i, j, z]
                    if cz == 0.0:
                        continue
                    val = kcu * cz
                    Lb[i, u, z] += val
                    if vbf[j, z]:
                        C[lu, o2 + z] += val
                        if fu:
                            S[o2 + u, o2 + z] += val
    for i in range(n1):
        for y in range(ny):
            if not va[i, y]:
                Lb[i, y, y] = 1.0
            dg = Lb[i, y, y]
            if not dg > 0.0:
                return False
            sc[i * ny + y] = 1.0 / math.sqrt(dg)
    for k in range(K2):
        j = k // ny
        y = k - j * ny
        if not vbf[j, y]:
            S[k, k] = 1.0
        dg = S[k, k]
        if not dg > 0.0:
            return False
        sc[K1 + k] = 1.0 / math.sqrt(dg)
    for i in range(n1):
        for u in range(ny):
            for z in range(ny):
                Lb[i, u, z] *= sc[i * ny + u] * sc[i * ny + z]
    for k in range(K1):
        sk = sc[k]
        for m in range(K2):
            C[k, m] *= sk * sc[K1 + m]
    for j in range(n2):
        for u in range(ny):
            for z in range(ny):
                S[j * ny + u, j * ny + z] *= sc[K1 + j * ny + u] * sc[K1 + j * ny + z]
    return True


#: Orders of the Schur complement in μ factorised by the compiled loop's own Cholesky (above,
#: LAPACK's): measured in the solver, 8x8x8 (order 56) 1.45 -> 1.3 ms, 16x16x16 (order 240)
#: 21 -> 27 ms with the own one.
HAND_CHOLESKY_MAX = 100


@_jit_sums
def _cholesky_in_place(B: Arr) -> bool:  # pragma: no cover - compiled
    """Lower Cholesky factor of the symmetric matrix ``B``, in place in its lower triangle (the
    upper one is neither read nor written), one row dot product at a time (the compiler
    vectorises them). False if ``B`` is not positive definite to working precision."""
    n = B.shape[0]
    for k in range(n):
        rowk = B[k]
        acc = rowk[k]
        for m in range(k):
            acc -= rowk[m] * rowk[m]
        if not acc > 0.0:
            return False
        dkk = math.sqrt(acc)
        rowk[k] = dkk
        inv = 1.0 / dkk
        for r in range(k + 1, n):
            rowr = B[r]
            acc = rowr[k]
            for m in range(k):
                acc -= rowr[m] * rowk[m]
            rowr[k] = acc * inv
    return True


@_jit_sums
def _forward(L: Arr, x: Arr) -> None:  # pragma: no cover - compiled
    """``L y = x`` in place (``L`` lower triangular, its rows read)."""
    for k in range(L.shape[0]):
        acc = x[k]
        for m in range(k):
            acc -= L[k, m] * x[m]
        x[k] = acc / L[k, k]


@_jit_sums
def _backward(L: Arr, x: Arr) -> None:  # pragma: no cover - compiled
    """``Lᵀ y = x`` in place (``L`` lower triangular, its rows read: column-oriented)."""
    for k in range(L.shape[0] - 1, -1, -1):
        xk = x[k] / L[k, k]
        x[k] = xk
        for m in range(k):
            x[m] -= L[k, m] * xk


@_jit_sums
def _block_cholesky(Lb: Arr, C: Arr, S: Arr) -> tuple[bool, Arr]:  # pragma: no cover - compiled
    """Cholesky factor of the scaled Newton matrix from its parts (:func:`_newton_blocks`), in
    place, skipping the zeros of the block-diagonal λλ part: each block ``Lb[x1]`` becomes its
    lower factor, the coupling rows ``C`` become ``Wᵀ = L11⁻¹ C`` (forward substitution, one
    contiguous row at a time), and the μμ part is factorised as ``chol(S - W Wᵀ)`` (one BLAS
    product, then up to order ``HAND_CHOLESKY_MAX`` :func:`_cholesky_in_place`, faster than
    LAPACK's there; above, LAPACK's), which is returned with True (its lower triangle; the upper
    one is not read). The same factor as a dense Cholesky of the whole matrix, in a fraction of
    its work. False if the matrix is not positive definite to working precision."""
    n1, ny, _ = Lb.shape
    K2 = C.shape[1]
    for i in range(n1):
        B = Lb[i]
        if not _cholesky_in_place(B):
            return False, np.empty((0, 0))
        o = i * ny
        for k in range(ny):
            row = C[o + k]
            for m in range(k):
                f = B[k, m]
                if f != 0.0:
                    prev = C[o + m]
                    for r in range(K2):
                        row[r] -= f * prev[r]
            inv = 1.0 / B[k, k]
            for r in range(K2):
                row[r] *= inv
    S2 = S - np.dot(C.T, C)  # BLAS
    if K2 > HAND_CHOLESKY_MAX:
        for k in range(K2):  # the not positive definite case is a return value, not an exception
            if not S2[k, k] > 0.0:
                return False, S2
        return True, np.linalg.cholesky(S2)  # LAPACK; a failure reaches the caller as LinAlgError
    return _cholesky_in_place(S2), S2


@_jit_sums
def _chol_solve(Lb: Arr, Wt: Arr, L22: Arr, x: Arr) -> None:  # pragma: no cover - compiled
    """``L Lᵀ x = b`` in place (``x`` holds b) for the factor of :func:`_block_cholesky`
    (block-diagonal leading part in ``Lb``, coupling rows ``Wᵀ`` in ``Wt``, trailing factor ``L22``)."""
    n1, ny, _ = Lb.shape
    K1 = n1 * ny
    K2 = L22.shape[0]
    for i in range(n1):
        _forward(Lb[i], x[i * ny:(i + 1) * ny])
    for k in range(K1):
        xk = x[k]
        if xk != 0.0:
            row = Wt[k]
            for r in range(K2):
                x[K1 + r] -= row[r] * xk
    x2 = x[K1:]
    _forward(L22, x2)
    _backward(L22, x2)
    for k in range(K1):
        row = Wt[k]
        acc = 0.0
        for r in range(K2):
            acc += row[r] * x2[r]
        x[k] -= acc
    for i in range(n1):
        _backward(Lb[i], x[i * ny:(i + 1) * ny])


@_jit
def _direction(a: Arr, b: Arr, P: Any, va: Any, vbf: Any, w: Arr, s: Arr, c: Arr, rp: Arr, Lb: Arr, Wt: Arr,
               L22: Arr, sc: Arr, tt: Arr, out_l: Arr, out_m: Arr, ds: Arr, dw: Arr) -> None:  # pragma: no cover - compiled
    """The Newton direction for the complementarity target ``tt`` (ip_iterate's ``direction``):
    ``M dz = -g0 - Jᵀ v``, then the slack and pair-weight steps."""
    n1, n2, ny = c.shape
    K1 = n1 * ny
    K = sc.shape[0]
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
    _chol_solve(Lb, Wt, L22, x)
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
    Lb = np.zeros((n1, ny, ny))
    C = np.zeros((n1 * ny, n2 * ny))
    S = np.zeros((n2 * ny, n2 * ny))
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
        if not _newton_blocks(P, va, vbf, w, s, c, Lb, C, S, sc):
            return SINGULAR
        ok, L22 = _block_cholesky(Lb, C, S)
        if not ok:
            return SINGULAR
        # predictor (affine) step, then Mehrotra's corrector
        t[:, :] = 0.0
        _direction(a, b, P, va, vbf, w, s, c, rp, Lb, C, L22, sc, t, dl, dm, ds, dw)
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
        _direction(a, b, P, va, vbf, w, s, c, rp, Lb, C, L22, sc, t, dl, dm, ds, dw)
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


@_jit
def prepolish(q: Arr, a: Arr, b: Arr, max_sweeps: int, tol: float) -> int:  # pragma: no cover - compiled
    """Iterative proportional fitting of the table ``q`` (n1, n2, ny) onto the marginals
    ``a = p(x1, y)`` and ``b = p(x2, y)``, in place: the sweeps of the host's
    :func:`pidlab._broja.polish_primal` (rows, then columns, until the rows meet ``tol``), run
    before it so that the host's own polish of an iterate finds it already on the marginals.
    The host still polishes, checks the residual and evaluates the bound; this only saves its
    numpy sweeps. Returns the sweeps taken, or -1 (``q`` untouched) if a row or column the
    marginals need is empty (the host refills it)."""
    n1, n2, ny = q.shape
    rs = np.zeros((n1, ny))
    cs = np.zeros((n2, ny))
    for i in range(n1):
        for j in range(n2):
            for y in range(ny):
                rs[i, y] += q[i, j, y]
                cs[j, y] += q[i, j, y]
    for i in range(n1):
        for y in range(ny):
            if a[i, y] > 0.0 and not rs[i, y] > 0.0:
                return -1
    for j in range(n2):
        for y in range(ny):
            if b[j, y] > 0.0 and not cs[j, y] > 0.0:
                return -1
    for sweep in range(1, max_sweeps + 1):
        for i in range(n1):
            for y in range(ny):
                rs[i, y] = a[i, y] / rs[i, y] if rs[i, y] > 0.0 else 0.0
        cs[:, :] = 0.0
        for i in range(n1):
            for j in range(n2):
                for y in range(ny):
                    v = q[i, j, y] * rs[i, y]
                    q[i, j, y] = v
                    cs[j, y] += v
        for j in range(n2):
            for y in range(ny):
                cs[j, y] = b[j, y] / cs[j, y] if cs[j, y] > 0.0 else 0.0
        rs[:, :] = 0.0
        for i in range(n1):
            for j in range(n2):
                for y in range(ny):
                    v = q[i, j, y] * cs[j, y]
                    q[i, j, y] = v
                    rs[i, y] += v
        worst = 0.0
        for i in range(n1):
            for y in range(ny):
                worst = max(worst, abs(rs[i, y] - a[i, y]))
        if worst <= tol:
            return sweep
    return max_sweeps


@_jit
def initial_point(a: Arr, b: Arr, A: Any, P: Any, va: Any, vbf: Any, lam: Arr, mu: Arr, w: Arr,
                  s: Arr) -> None:  # pragma: no cover - compiled
    """:func:`._kernels.initial_point` for one problem, into ``lam, mu, w, s``: the conditionally
    independent point, λ shifted per x1 so that every constraint holds with a slack of at least 1."""
    n1, ny = a.shape
    n2 = b.shape[0]
    py = np.zeros(ny)
    for i in range(n1):
        for y in range(ny):
            py[y] += a[i, y]
    off = np.zeros(ny)  # the pinned mu's -log b, moved to lam
    for j in range(n2):
        for y in range(ny):
            if b[j, y] > 0.0 and not vbf[j, y]:
                off[y] += -math.log(b[j, y])
    for i in range(n1):
        for y in range(ny):
            lam[i, y] = -math.log(a[i, y]) + (math.log(py[y]) if py[y] > 0.0 else 0.0) + off[y] if va[i, y] else 0.0
    for j in range(n2):
        for y in range(ny):
            mu[j, y] = -math.log(b[j, y]) - off[y] if vbf[j, y] else 0.0
    c = np.zeros((n1, n2, ny))
    lse = np.zeros((n1, n2))
    _softmax(lam, mu, A, P, c, lse)
    for i in range(n1):
        sh = -np.inf
        for j in range(n2):
            if P[i, j] and lse[i, j] > sh:
                sh = lse[i, j]
        sh = (sh if math.isfinite(sh) else 0.0) + 1.0
        for y in range(ny):
            if va[i, y]:
                lam[i, y] += sh
    _softmax(lam, mu, A, P, c, lse)
    for i in range(n1):
        for j in range(n2):
            if P[i, j]:
                s[i, j] = -lse[i, j]
                acc = 0.0
                for y in range(ny):
                    if py[y] > 0.0:
                        acc += a[i, y] * b[j, y] * (1.0 / py[y])
                w[i, j] = max(acc, 1e-300)
            else:
                s[i, j] = 1.0
                w[i, j] = 0.0
