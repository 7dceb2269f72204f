"""Shannon quantities and maximum-entropy fits on stacks of joints ``p[n, x1, x2, y]`` (bits).

The closed-form and scaling-based measures compute on a whole stack at once; their single-table
``compute`` is the same code on a stack of one, so the single and batch paths cannot disagree.
No validation here: callers pass validated stacks (finite, non-negative, each summing to 1).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._limits import check_memory

__all__ = [
    "Arr",
    "plogq",
    "log2_pos",
    "mi_stack",
    "mi_pairs",
    "marginals",
    "shared_stack",
    "maxent_pairwise",
    "stack_of",
    "IPF_TOL",
]

Arr = NDArray[np.float64]

#: Largest deviation of a fitted marginal from its target accepted from iterative scaling.
IPF_TOL = 1e-13
#: Sweeps of iterative scaling before an item is reported as not converged.
IPF_MAX_SWEEPS = 20_000


def stack_of(p: Arr) -> Arr:
    """A single table ``p[x1, x2, y]`` as a stack of one (stacks pass through)."""
    a = np.asarray(p, dtype=np.float64)
    return a[None] if a.ndim == 3 else a


def log2_pos(a: Arr) -> Arr:
    """``log2(a)`` where ``a > 0``, 0 elsewhere (no warnings)."""
    return np.log2(np.where(a > 0, a, 1.0))


def plogq(p: Arr, num: Arr, den: Arr) -> Arr:
    """``p * log2(num / den)`` where ``p > 0``, 0 elsewhere (``num``, ``den`` broadcast to ``p``)."""
    pos = p > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(pos, num / np.where(pos, den, 1.0), 1.0)
    return np.where(pos, p * np.log2(np.where(r > 0, r, 1.0)), 0.0)


def _mi2(pxy: Arr) -> Arr:
    """``I(X;Y)`` of each 2-d table of a stack ``(N, |X|, |Y|)``, clipped at 0."""
    px = pxy.sum(axis=2, keepdims=True)
    py = pxy.sum(axis=1, keepdims=True)
    v = plogq(pxy, pxy, px * py).sum(axis=(1, 2))
    return np.maximum(v, 0.0)


# ---------------------------------------------------------------- marginals and entropies, once per stack
#: The marginals :func:`marginals` returns, in the column order of one flattened matrix product.
MARGINS = ("12", "1y", "2y", "1", "2", "y")


@functools.lru_cache(maxsize=16)
def _margin_matrix(a: int, b: int, c: int) -> tuple[Arr, tuple[int, ...]]:
    """The 0/1 matrix ``M[cell, col]`` whose product with a flattened joint gives all the marginals
    of :data:`MARGINS` side by side (one matrix product instead of many small-axis reductions),
    and the column offsets of each marginal."""
    x1, x2, y = (v.ravel() for v in np.meshgrid(np.arange(a), np.arange(b), np.arange(c), indexing="ij"))
    idx = {"12": x1 * b + x2, "1y": x1 * c + y, "2y": x2 * c + y, "1": x1, "2": x2, "y": y}
    size = {"12": a * b, "1y": a * c, "2y": b * c, "1": a, "2": b, "y": c}
    cols, offs, o = [], [0], 0
    for m in MARGINS:
        block = np.zeros((a * b * c, size[m]))
        block[np.arange(a * b * c), idx[m]] = 1.0
        cols.append(block)
        o += size[m]
        offs.append(o)
    M = np.ascontiguousarray(np.hstack(cols))
    M.flags.writeable = False
    return M, tuple(offs)


def _xlog2x_rows(m: Arr) -> Arr:
    """``sum_j m_ij log2 m_ij`` of each row (0 log 0 = 0)."""
    lg = np.zeros_like(m)
    np.log2(m, out=lg, where=m > 0)
    return np.einsum("ij,ij->i", m, lg)


#: The stack whose marginals and informations are being shared (see :func:`shared_stack`).
_SHARED: list[tuple[Arr, dict[str, Any]]] = []


@contextlib.contextmanager
def shared_stack(p: Arr) -> Iterator[None]:
    """Within the block, :func:`marginals` and :func:`mi_stack` of this very array object are computed
    once and reused (by the host's checks and by every measure it is handed to). The array is made
    read-only for the duration, so the shared values cannot go stale."""
    was = p.flags.writeable
    p.flags.writeable = False
    _SHARED[:] = [(p, {})]
    try:
        yield
    finally:
        _SHARED.clear()
        if was:
            p.flags.writeable = True


def _memo(p: Arr) -> dict[str, Any] | None:
    if _SHARED and _SHARED[0][0] is p and not p.flags.writeable:
        return _SHARED[0][1]
    return None


def marginals(p: Arr) -> dict[str, Arr]:
    """The marginals of each item of a stack ``(N, |X1|, |X2|, |Y|)``, with keepdims shapes:
    ``"12"`` (N, a, b, 1), ``"1y"`` (N, a, 1, c), ``"2y"`` (N, 1, b, c), ``"1"`` (N, a, 1, 1),
    ``"2"`` (N, 1, b, 1), ``"y"`` (N, 1, 1, c) (views, not contiguous); and ``"T"``, all of them
    stacked the other way round, ``(cols, N)`` contiguous (one matrix product of that orientation is
    several times faster than ``p @ M`` or small-axis sums)."""
    memo = _memo(p)
    if memo is not None and "marginals" in memo:
        return memo["marginals"]
    N, a, b, c = p.shape
    M, offs = _margin_matrix(a, b, c)
    T = M.T @ p.reshape(N, a * b * c).T
    shapes = {"12": (N, a, b, 1), "1y": (N, a, 1, c), "2y": (N, 1, b, c), "1": (N, a, 1, 1),
              "2": (N, 1, b, 1), "y": (N, 1, 1, c)}
    out = {m: T[offs[k]:offs[k + 1]].T.reshape(shapes[m]) for k, m in enumerate(MARGINS)}
    out["T"] = T
    if memo is not None:
        T.flags.writeable = False
        memo["marginals"] = out
    return out


def mi_pairs(p: Arr) -> tuple[Arr, Arr]:
    """``I(X1;Y)`` and ``I(X2;Y)`` of each item of a stack."""
    I1, I2, _ = mi_stack(p)
    return I1, I2


def mi_stack(p: Arr) -> tuple[Arr, Arr, Arr]:
    """``I(X1;Y), I(X2;Y), I(X1,X2;Y)`` of each item of a stack ``(N, |X1|, |X2|, |Y|)``, clipped at 0.

    From the entropies of the marginals (one matrix product gives all of them); within
    :func:`shared_stack` computed once per stack."""
    memo = _memo(p)
    if memo is not None and "mi" in memo:
        return memo["mi"]
    N, a, b, c = p.shape
    _, offs = _margin_matrix(a, b, c)
    T = marginals(p)["T"]
    lg = np.zeros_like(T)
    np.log2(T, out=lg, where=T > 0)
    lg *= T
    H = [-lg[offs[k]:offs[k + 1]].sum(axis=0) for k in range(len(MARGINS))]
    H12, H1y, H2y, H1, H2, Hy = H
    Hp = -_xlog2x_rows(p.reshape(N, a * b * c))
    res = (np.maximum(H1 + Hy - H1y, 0.0), np.maximum(H2 + Hy - H2y, 0.0), np.maximum(H12 + Hy - Hp, 0.0))
    if memo is not None:  # shared: read-only, so no consumer can change another's values
        for v in res:
            v.flags.writeable = False
        memo["mi"] = res
    return res


def maxent_pairwise(p: Arr, *, tol: float = IPF_TOL, max_sweeps: int = IPF_MAX_SWEEPS) -> tuple[Arr, Arr]:
    """The maximum-entropy joint with the pairwise marginals of ``p`` (on X1X2, X1Y, X2Y).

    Iterative proportional fitting from the uniform table (Csiszár 1975: the limit is the
    I-projection of the uniform table on the set of joints with those marginals, i.e. the
    maximum-entropy one). Items stop as soon as every fitted marginal is within ``tol`` of its
    target. IPF converges only sublinearly when the marginals force zeros that no single marginal
    shows (AND: ``q(1, 1, 0) = 0``); items not converged after :data:`IPF_SLOW_SWEEPS` sweeps get
    their support from a linear program (:func:`feasible_support`) and restart from the uniform
    table on it, where the solution is interior and IPF converges geometrically.

    Returns
    -------
    q : ndarray, shape of ``p``
        The fitted joints.
    err : ndarray, shape (N,)
        The largest marginal deviation of each item (``<= tol`` when it converged).
    """
    N, a, b, c = p.shape
    check_memory(8.0 * p.size * 6, f"the maximum-entropy fit of {N} tables of shape {(a, b, c)}",
                  hint="decompose fewer tables per call")
    key = (p.shape, hashlib.sha1(np.ascontiguousarray(p).tobytes()).hexdigest(), tol, max_sweeps)
    for k, cq, ce in _CACHE:  # I_ccs and I_dep fit the same stack: once
        if k == key:
            return cq.copy(), ce.copy()
    if (a, b, c) == (2, 2, 2):
        q, err = _maxent_222(p)
    else:
        q, err = _maxent_general(p, tol, max_sweeps)
    if N >= 64:  # stacks, not single tables (which would push them out)
        _CACHE[:] = [(key, q, err), *_CACHE[:1]]
    return q.copy(), err.copy()


_CACHE: list[tuple[Any, Arr, Arr]] = []


def _maxent_222(p: Arr) -> tuple[Arr, Arr]:
    """2x2x2: the joints with the pairwise marginals of ``p`` are the segment ``p + t d``,
    ``d = (-1)^(x1+x2+y)``; the maximum-entropy one solves ``sum d log2(p + t d) = 0`` (increasing
    in ``t``), found by safeguarded Newton steps on the bracket where ``p + t d >= 0``."""
    N = p.shape[0]
    x1, x2, y = np.meshgrid(*(np.arange(2),) * 3, indexing="ij")
    d = np.where((x1 + x2 + y) % 2 == 0, 1.0, -1.0).ravel()
    P = p.reshape(N, 8)
    plus, minus = d > 0, d < 0
    lo = -P[:, plus].min(axis=1)
    hi = P[:, minus].min(axis=1)
    t = np.clip(np.zeros(N), lo, hi)
    open_ = hi - lo > 0
    t = np.where(open_, 0.5 * (lo + hi), lo)
    act = np.nonzero(open_)[0]
    for _ in range(200):
        if not act.size:
            break
        ta, la, ha, Pa = t[act], lo[act], hi[act], P[act]
        qa = Pa + ta[:, None] * d
        with np.errstate(divide="ignore"):
            f = (d * np.log(qa)).sum(axis=1)
            fp = (1.0 / qa).sum(axis=1)
        la = np.where(f < 0, ta, la)
        ha = np.where(f > 0, ta, ha)
        with np.errstate(invalid="ignore"):
            tn = ta - f / fp
        mid = 0.5 * (la + ha)
        tn = np.where(np.isfinite(tn) & (tn > la) & (tn < ha), tn, mid)
        done = (np.abs(tn - ta) <= 1e-16 * (1.0 + np.abs(ta))) | (ha - la <= 1e-17) | (f == 0)
        t[act], lo[act], hi[act] = tn, la, ha
        act = act[~done]
    q = np.maximum(P + t[:, None] * d, 0.0)
    return q.reshape(p.shape), np.zeros(N)


def _maxent_general(p: Arr, tol: float, max_sweeps: int) -> tuple[Arr, Arr]:
    N, a, b, c = p.shape
    q = np.full(p.shape, 1.0 / (a * b * c))
    err = np.full(N, np.inf)
    # Interior solutions first: Newton's method on the dual (log-linear) problem, quadratic.
    inner = np.nonzero((p.sum(axis=3) > 0).all(axis=(1, 2)) & (p.sum(axis=2) > 0).all(axis=(1, 2))
                       & (p.sum(axis=1) > 0).all(axis=(1, 2)))[0]
    K = a * b + a * c + b * c
    cs = max(1, 2_000_000 // (K * K + a * b * c * K))
    for start in range(0, inner.size, cs):
        idx = inner[start:start + cs]
        q[idx], err[idx] = _newton(p[idx], tol)
    rest = np.nonzero(err > tol)[0]
    q[rest] = 1.0 / (a * b * c)
    q, err = _ipf(p, q, rest, tol, IPF_SLOW_SWEEPS, err=err)
    slow = np.nonzero(err > tol)[0]
    if slow.size:
        for i in slow:
            mask = feasible_support(p[i])
            q[i] = np.where(mask, 1.0 / max(int(mask.sum()), 1), 0.0)
        q, err = _ipf(p, q, slow, tol, max_sweeps, err=err)
    return q, err


#: Sweeps of plain IPF before an item's support is found by linear programming.
IPF_SLOW_SWEEPS = 300


#: Newton steps on the dual before an item goes to iterative scaling.
NEWTON_MAX_ITER = 60


@functools.lru_cache(maxsize=16)
def _features(a: int, b: int, c: int) -> Arr:
    """A minimal basis of the pairwise log-linear model: ``F[cell, k]``, the centred corner-point
    indicators (main effects and two-way interactions of the levels >= 1, independent, so the
    dual Hessian is non-singular at interior points)."""
    x1, x2, y = (v.ravel() for v in np.meshgrid(np.arange(a), np.arange(b), np.arange(c), indexing="ij"))
    n = a * b * c
    # corner-point basis: main effects and two-way interactions of the levels >= 1
    cols = [x1 == i for i in range(1, a)] + [x2 == j for j in range(1, b)] + [y == k for k in range(1, c)]
    cols += [(x1 == i) & (x2 == j) for i in range(1, a) for j in range(1, b)]
    cols += [(x1 == i) & (y == k) for i in range(1, a) for k in range(1, c)]
    cols += [(x2 == j) & (y == k) for j in range(1, b) for k in range(1, c)]
    F = np.stack(cols, axis=1).astype(np.float64) if cols else np.zeros((n, 0))
    return np.ascontiguousarray(F - F.mean(axis=0))


def _newton(p: Arr, tol: float) -> tuple[Arr, Arr]:
    """Damped Newton on the dual of the pairwise maximum-entropy problem, ``q ∝ exp(F θ)``.

    Minimises ``log sum exp(F θ) - θ·μ`` (μ the target moments) on the whole stack, with a
    minimal basis ``F`` (a ridge of relative size 1e-12 guards near-boundary items). Items whose optimum lies on the
    boundary (q with zeros) do not converge here and are returned with their error.
    """
    N, a, b, c = p.shape
    F = _features(a, b, c)
    n, K = F.shape
    mu = p.reshape(N, n) @ F
    th = np.zeros((N, K))
    err = np.full(N, np.inf)
    q = np.full((N, n), 1.0 / n)

    def dual(t: Arr, m: Arr) -> tuple[Arr, Arr]:
        s = t @ F.T
        smax = s.max(axis=1, keepdims=True)
        e = np.exp(s - smax)
        z = e.sum(axis=1, keepdims=True)
        return (np.log(z[:, 0]) + smax[:, 0] - np.einsum("nk,nk->n", t, m)), e / z

    act = np.arange(N)
    fval, q = dual(th, mu)
    eye = np.eye(K)
    for _ in range(NEWTON_MAX_ITER):
        qa, ma, ta, fa = q[act], mu[act], th[act], fval[act]
        Eq = qa @ F
        g = Eq - ma
        e = np.abs(g).max(axis=1, initial=0.0)  # a 1x1x1 table has no moments (K = 0)
        err[act] = e
        keep = e > tol
        act, qa, ma, ta, fa, g, Eq = act[keep], qa[keep], ma[keep], ta[keep], fa[keep], g[keep], Eq[keep]
        if not act.size:
            break
        # E_q[F F^T] as (F^T diag(q)) F: 3x fewer operations than q @ G on 4x4x4
        H = np.einsum("nc,ck,cl->nkl", qa, F, F, optimize=True) - Eq[:, :, None] * Eq[:, None, :]
        ridge = 1e-12 * np.maximum(np.trace(H, axis1=1, axis2=2), 1e-300)
        d = -np.linalg.solve(H + ridge[:, None, None] * eye, g[:, :, None])[:, :, 0]
        step = np.ones(act.size)
        for _ in range(40):  # backtracking on the dual objective, item by item
            tn = ta + step[:, None] * d
            fn, qn = dual(tn, ma)
            bad = ~(fn <= fa + 1e-12 * (1.0 + np.abs(fa)))
            if not bad.any():
                break
            step = np.where(bad, step * 0.5, step)
        th[act], fval[act], q[act] = tn, fn, qn
    return q.reshape(p.shape), err


def _ipf(p: Arr, q: Arr, act: NDArray[np.intp], tol: float, max_sweeps: int,
         err: Arr | None = None) -> tuple[Arr, Arr]:
    t12 = p.sum(axis=3, keepdims=True)
    t1y = p.sum(axis=2, keepdims=True)
    t2y = p.sum(axis=1, keepdims=True)
    err = np.full(p.shape[0], np.inf) if err is None else err
    sweeps = 0
    check_every = 4
    while act.size and sweeps < max_sweeps:
        qa, s12, s1y, s2y = q[act], t12[act], t1y[act], t2y[act]
        for _ in range(check_every):
            qa = _scale(qa, s12, qa.sum(axis=3, keepdims=True))
            qa = _scale(qa, s1y, qa.sum(axis=2, keepdims=True))
            qa = _scale(qa, s2y, qa.sum(axis=1, keepdims=True))
        sweeps += check_every
        e = np.maximum(
            np.abs(qa.sum(axis=3, keepdims=True) - s12).max(axis=(1, 2, 3)),
            np.abs(qa.sum(axis=2, keepdims=True) - s1y).max(axis=(1, 2, 3)),
        )  # the X2Y marginal was fitted last: exact up to rounding
        q[act] = qa
        err[act] = e
        act = act[e > tol]
        check_every = min(64, check_every * 2)
    return q, err


def feasible_support(p: Arr) -> NDArray[np.bool_]:
    """The cells of ``p[x1, x2, y]`` that some joint with the pairwise marginals of ``p`` puts mass
    on (the support of the maximum-entropy one).

    One linear program (Freund, Roundy & Todd 1985): maximise ``sum y`` subject to
    ``M x = θ m``, ``x >= y``, ``0 <= y <= 1``, ``θ >= 1``, with ``M x = m`` the pairwise
    marginal constraints; at the optimum ``y = 1`` exactly on the maximal support.
    """
    from scipy.optimize import linprog

    a, b, c = p.shape
    n = a * b * c
    idx = np.arange(n).reshape(a, b, c)
    rows, rhs = [], []
    for ax in (2, 1, 0):  # X1X2, X1Y, X2Y
        groups = np.moveaxis(idx, ax, -1).reshape(-1, idx.shape[ax])
        m = p.sum(axis=ax).ravel()
        for g, v in zip(groups, m):
            r = np.zeros(2 * n + 1)
            r[g] = 1.0
            r[-1] = -v
            rows.append(r)
            rhs.append(0.0)
    A_eq = np.array(rows)
    A_ub = np.hstack([-np.eye(n), np.eye(n), np.zeros((n, 1))])  # y - x <= 0
    cost = np.concatenate([np.zeros(n), -np.ones(n), [0.0]])
    bounds = [(0, None)] * n + [(0, 1)] * n + [(1, None)]
    res = linprog(cost, A_ub=A_ub, b_ub=np.zeros(n), A_eq=A_eq, b_eq=np.array(rhs), bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover - the LP is always feasible (x = p, θ = 1) and bounded
        return np.asarray(p > 0)
    return np.asarray(res.x[n:2 * n] > 0.5).reshape(a, b, c) | (p > 0)


def _scale(q: Arr, target: Arr, current: Arr) -> Arr:
    """One proportional-fitting step: ``q * target / current`` with 0/0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(current > 0, target / np.where(current > 0, current, 1.0), 0.0)
    return q * f


def as_notes(*notes: Any) -> tuple[str, ...]:
    """Drop empty notes."""
    return tuple(str(n) for n in notes if n)
