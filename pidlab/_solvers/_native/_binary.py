r"""The BROJA program of binary tables (|X1| = |X2| = 2), solved exactly over a whole stack.

For each y the slice ``q(., ., y)`` is a 2x2 table with fixed row sums ``a(., y)`` and column
sums ``b(., y)``: one free entry ``t_y = q(0, 0, y)`` in the box
``[max(0, a(0,y) - b(1,y)), min(a(0,y), b(0,y))]``, with ``q(0,1,y) = a(0,y) - t``,
``q(1,0,y) = b(0,y) - t`` and ``q(1,1,y) = b(1,y) - a(0,y) + t``. The objective
``Σ q log q - Σ s log s`` (s the (x1, x2) marginal of q) has the partial derivatives
``g_y = LOR_y(t_y) - LOR_s`` (log odds ratios of the slice and of s), and ``LOR_y`` runs from
-∞ to +∞ across a non-degenerate box. So at an optimum every slice has the log odds ratio ``c``
of s (a root of ``F(c) = c - LOR_s(t(c))`` is a KKT point, hence optimal), or, when the optimum
is on the boundary of the boxes (a pair (x1, x2) without mass), c is infinite. For a given c
every cell of every slice solves a quadratic, each cell from its own (a small cell is never a
difference of large ones); F's root is found by Newton's method safeguarded by a bracket on
``[-C_MAX, C_MAX]``, on the whole stack at once; the end of that interval stands for an
optimum on the boundary (the cells it gives are within e^-40 of it relative to the others).

Nothing here certifies anything: the caller feeds the primal point ``q`` and the dual point
built from it (``-λ(x1,y) - μ(x2,y) = log q(y | x1, x2)``, exact when the slices' log odds
ratios equal that of s) to the host's certificate functions (:mod:`pidlab._broja`), and items
whose bracket does not close go to the general path.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Arr = NDArray[np.float64]

#: Largest |log odds ratio| searched: an optimum beyond is on the boundary, and the cells at
#: ±C_MAX are within e^-40 of it (relative); an item that this leaves uncertified goes on to the
#: general path.
C_MAX = 40.0
#: Most Newton steps (bisection when a step leaves the bracket); 4 to 8 are typical.
MAX_STEPS = 40
#: |F(c)| (nats) below which an item stops: the dual point's constraint violation is about this.
F_TOL = 1e-12


def _slice_data(a0: Arr, a1: Arr, b0: Arr, b1: Arr) -> tuple[Arr, ...]:
    """The constants of the four cells' quadratics, each stacked (4, ny, n) in the order
    q00, q01, q10, q11: ``d``, ``s``, ``ab``, ``2 ab``, the box ``lo``, ``hi``, and the sign of
    c in each cell's equation (q00 and q11 grow with c, q01 and q10 shrink)."""
    d = np.stack([b1 - a0, b0 - a0, a0 - b0, a0 - b1])
    sab = np.stack([a0 + b0, a0 + b1, b0 + a1, a1 + b1])
    ab = np.stack([a0 * b0, a0 * b1, b0 * a1, a1 * b1])
    lo = np.maximum(0.0, -d)
    hi = np.maximum(np.stack([np.minimum(a0, b0), np.minimum(a0, b1), np.minimum(b0, a1), np.minimum(a1, b1)]), lo)
    return d, sab, ab, 2.0 * ab, lo, hi


_SIGN = np.array([1.0, -1.0, -1.0, 1.0])[:, None, None]


def _cells(c: Arr, P: tuple[Arr, ...]) -> Arr:
    """The four cells (4, ny, n) of every slice at log odds ratio ``c`` (n,), each the root in its
    box of its own quadratic, so a small cell is never the difference of two large numbers.

    For q00 = t: ``t (b1 - a0 + t) = K (a0 - t)(b0 - t)`` with ``K = e^c``, i.e.
    ``A t² + B t + C = 0`` with ``A = 1 - K``, ``B = d + K s``, ``C = -K ab`` (``d = b1 - a0``,
    ``s = a0 + b0``, ``ab = a0 b0``); the other cells solve the same equation with their own
    constants (:func:`_slice_data`) and ``K`` or ``1/K``. The root in the box is
    ``2 K ab / (B + √(B² + 4 K (1 - K) ab))`` (for K < 1 the other root is negative; for K > 1
    both are positive, h(lo) <= 0 <= h(hi) picks the smaller, and B > 0). For K > 1 numerator
    and denominator are divided by K (no overflow); for K < 1 and B < 0 the form
    ``(√D - B) / (2 (1 - K))`` avoids the cancellation.
    """
    d, sab, ab, ab2, lo, hi = P
    k = np.exp(-np.abs(c))  # e^{-|c|} <= 1
    pos = (_SIGN * c) > 0  # (4, 1, n): K = e^{±c} > 1 for this cell
    one = np.ones_like(k)
    alpha = np.where(pos, k, one)
    beta = np.where(pos, one, k)
    gamma = np.where(pos, -4.0 * (1.0 - k), 4.0 * k * (1.0 - k))
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 0.5 / (1.0 - k)
        B = d * alpha + sab * beta
        D = B * B + gamma * ab
        sq = np.sqrt(np.maximum(D, 0.0))
        t = beta * ab2 / (B + sq)
        t = np.where(B >= 0, t, (sq - B) * inv)
    return np.fmax(np.fmin(t, hi), lo)  # fmin/fmax: a 0/0 (no mass) lands in the box


def _ysum(x: Arr) -> Arr:
    """Sum over the first axis (few rows: adds of contiguous rows beat a reduction)."""
    out = x[0].copy()
    for k in range(1, x.shape[0]):
        out += x[k]
    return out


def _F(c: Arr, P: tuple[Arr, ...]) -> tuple[Arr, Arr, Arr]:
    """``F(c)``, ``F'(c)`` and the slices' cells (4, ny, n)."""
    q = _cells(c, P)
    s00, s01, s10, s11 = (_ysum(q[r]) for r in range(4))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        F = c - np.log((s00 * s11) / (s01 * s10))
        tp = 1.0 / _ysum(1.0 / q)  # dt_y/dc (0 on degenerate slices)
        dF = 1.0 - _ysum(np.where(np.isfinite(tp), tp, 0.0)) * (1.0 / s00 + 1.0 / s01 + 1.0 / s10 + 1.0 / s11)
    return F, dF, q


def _consistent(cells: Arr, a0: Arr, a1: Arr, b0: Arr, b1: Arr) -> Arr:
    """The cells (4, ny, n) rebuilt from the smallest one of each slice through the marginals:
    the point then meets them to rounding (four roots computed apart miss them by up to about
    1e-11 near a double root, and the certificate's residual tolerance is 1e-11), and no small
    cell is the difference of two large numbers unless it is the second smallest."""
    r = np.argmin(cells, axis=0)  # (ny, n)
    x = np.take_along_axis(cells, r[None], axis=0)[0]
    out = np.empty_like(cells)
    q00 = np.select([r == 0, r == 1, r == 2, r == 3], [x, a0 - x, b0 - x, a0 - b1 + x])
    q01 = np.select([r == 0, r == 1, r == 2, r == 3], [a0 - x, x, a0 - b0 + x, b1 - x])
    q10 = np.select([r == 0, r == 1, r == 2, r == 3], [b0 - x, a1 - b1 + x, x, a1 - x])
    q11 = np.select([r == 0, r == 1, r == 2, r == 3], [a1 - b0 + x, b1 - x, a1 - x, x])
    for k, v in enumerate((q00, q01, q10, q11)):
        np.maximum(v, 0.0, out=out[k])
    return out


def solve_binary(p_x1y: Arr, p_x2y: Arr) -> tuple[Arr, Arr, Arr, NDArray[np.int64]]:
    """Primal point q (N, 2, 2, ny), dual point λ (N, 2, ny), μ (N, 2, ny) and Newton steps per item.

    ``p_x1y`` and ``p_x2y`` are consistent marginals of shapes (N, 2, ny) and (N, 2, ny).
    """
    N, _, ny = p_x1y.shape
    # (ny, N) layout: sums over y are adds of contiguous rows
    a0, a1 = np.ascontiguousarray(p_x1y[:, 0, :].T), np.ascontiguousarray(p_x1y[:, 1, :].T)
    b0, b1 = np.ascontiguousarray(p_x2y[:, 0, :].T), np.ascontiguousarray(p_x2y[:, 1, :].T)
    lo = np.maximum(0.0, a0 - b1)
    hi = np.maximum(np.minimum(a0, b0), lo)
    P = _slice_data(a0, a1, b0, b1)
    steps = np.zeros(N, dtype=np.int64)
    cells = np.empty((4, ny, N))
    act = np.arange(N)
    # start from the conditionally independent point's odds ratio of s
    py = a0 + a1
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip(np.where(py > 0, a0 * (b0 / np.where(py > 0, py, 1.0)), 0.0), lo, hi)
        s00, s01 = _ysum(t), _ysum(np.maximum(a0 - t, 0.0))
        s10, s11 = _ysum(np.maximum(b0 - t, 0.0)), _ysum(np.maximum(b1 - a0 + t, 0.0))
        c0 = np.log((s00 * s11) / (s01 * s10))
    C = np.where(np.isfinite(c0), np.clip(c0, -C_MAX + 1.0, C_MAX - 1.0), 0.0)
    CL = np.full(N, -C_MAX)
    CH = np.full(N, C_MAX)
    Pa = P
    fin = np.zeros(N, dtype=bool)  # finished at an earlier step (not counted again)
    for it in range(MAX_STEPS):
        F, dF, qa = _F(C, Pa)
        steps[act] += ~fin
        done = ~(np.abs(F) > F_TOL)  # NaN: nothing more to do (a degenerate item)
        CL = np.where(F < 0, C, CL)
        CH = np.where(F > 0, C, CH)
        with np.errstate(divide="ignore", invalid="ignore"):
            cn = C - F / dF
        ok = (cn > CL) & (cn < CH) & (dF > 0)
        # a step beyond an end not tried yet tries that end (an optimum on the boundary)
        cn = np.where(ok, cn, np.where((F < 0) & (CH == C_MAX), C_MAX,
                                       np.where((F > 0) & (CL == -C_MAX), -C_MAX, 0.5 * (CL + CH))))
        done |= (CH - CL) <= 1e-13 * np.maximum(1.0, np.abs(C))
        if done.all() or it == MAX_STEPS - 1:
            cells[:, :, act] = qa
            break
        if done.sum() >= 0.25 * act.size:  # retire the finished items (copies: not every step)
            cells[:, :, act[done]] = qa[:, :, done]
            keep = np.nonzero(~done)[0]
            act = act[keep]
            Pa = tuple(np.take(x, keep, axis=2) for x in Pa)
            C, CL, CH = cn[keep], CL[keep], CH[keep]
            fin = np.zeros(keep.size, dtype=bool)
        else:  # a finished item stays where it is
            C = np.where(done, C, cn)
            fin = done
    cells = _consistent(cells, a0, a1, b0, b1)
    q = np.empty((N, 2, 2, ny))
    q[:, 0, 0], q[:, 0, 1], q[:, 1, 0], q[:, 1, 1] = cells[0].T, cells[1].T, cells[2].T, cells[3].T
    lam, mu = dual_from_primal(q)
    return q, lam, mu, steps


def dual_from_primal(q: Arr) -> tuple[Arr, Arr]:
    """λ, μ (N, 2, ny) with ``-λ(x1,y) - μ(x2,y) = log q(y|x1,x2)`` on the three cells of every
    slice outside the pair (x1, x2) of least mass ``s`` (exact on all four when the slices' log odds
    ratios equal that of s; at an optimum on the boundary that pair has no mass and the fourth
    value is what the optimality conditions bound). Entries that are not finite are set to 0: the
    host's dual bound then pays for them."""
    N, _, _, ny = q.shape
    s = q.sum(axis=-1)  # (N, 2, 2)
    k = np.argmin(s.reshape(N, 4), axis=1)
    i0 = np.broadcast_to((1 - k // 2)[:, None], (N, ny)).copy()
    j0 = np.broadcast_to((1 - k % 2)[:, None], (N, ny)).copy()
    a = q.sum(axis=2)  # (N, 2, ny) row sums: p(x1, y)
    b = q.sum(axis=1)
    # a reference row (column) without mass in a slice: the other one carries the slice
    i0 = np.where(np.take_along_axis(a, i0[:, None, :], axis=1)[:, 0] > 0, i0, 1 - i0)
    j0 = np.where(np.take_along_axis(b, j0[:, None, :], axis=1)[:, 0] > 0, j0, 1 - j0)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.log(q) - np.log(s)[..., None]  # (N, 2, 2, ny)
    Lrow = np.take_along_axis(L, i0[:, None, None, :], axis=1)[:, 0]  # L[i0, x2, y]: (N, 2, ny)
    Lcol = np.take_along_axis(L, j0[:, None, None, :], axis=2)[:, :, 0]  # L[x1, j0, y]: (N, 2, ny)
    Lref = np.take_along_axis(Lrow, j0[:, None, :], axis=1)  # L[i0, j0, y]: (N, 1, ny)
    mu = -Lrow
    with np.errstate(invalid="ignore"):
        lam = -(Lcol - Lref)
    lam = np.where(np.isfinite(lam), lam, 0.0)
    mu = np.where(np.isfinite(mu), mu, 0.0)
    return lam, mu
