"""Certified lower bounds on the minimum-entropy coupling (MEC).

Two bounds, both valid for every coupling of the given marginals:

``meet``
    ``H(p∧q∧...)`` (Cicalese & Vaccaro): the sorted cells of any coupling have partial sums
    at most ``Z_k = min_i P^i_k``.
``threshold-profile``
    A profile-type bound derived for pidlab (it is *not* the full "profile method" of Compton
    et al. 2023, which pidlab does not implement). Write ``F_M(t)`` for the mass of the cells
    of a coupling ``M`` that are ``>= t``; then ``H(M) = ∫_0^1 (1 - F_M(t⁺)) / (t ln 2) dt``.
    A cell ``>= t`` sits in a row with ``p_i >= t`` and a column with ``q_j >= t``, so
    ``F_M(t) <= U(t) = min_i Σ_{x: p^i_x >= t} p^i_x``; row ``x`` holds at most
    ``floor(p_x / t)`` such cells, so their number is at most
    ``K(t) = min_i Σ_x floor(p^i_x / t)`` and their mass at most ``Z_{K(t)}`` (the meet's
    partial sums bound every coupling's top-``K`` cells). With ``G = min(U, Z_K)``,
    non-increasing in ``t``, ``∫ (1 - G(t)) / (t ln 2) dt`` is a certified lower bound on the MEC.
    ``G`` is a step function that changes only at the atoms and at ``v_x / k`` (``k <= N``); for
    small marginals the integral is summed exactly over those pieces, otherwise a lower Riemann
    sum on a geometric grid containing every atom value is used (smaller, equally certified).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from pidlab._info import entropy

__all__ = ["best_bound", "certified_lower_bounds", "meet_many", "meet_sorted", "threshold_profile_bound",
           "threshold_profile_bound_many", "PROFILE_MAX_ATOMS"]

#: the profile bound is computed by default only up to this many atoms in all marginals together
PROFILE_MAX_ATOMS = 5_000
_GRID = 2_000


def meet_sorted(sorted_desc: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """Meet of vectors already sorted decreasingly (lengths may differ; zero-padded)."""
    n = max(v.size for v in sorted_desc)
    z = np.full(n, np.inf)
    for v in sorted_desc:
        c = np.cumsum(v)
        z[: v.size] = np.minimum(z[: v.size], c)
        if v.size < n:
            z[v.size :] = np.minimum(z[v.size :], c[-1] if c.size else 0.0)
    return np.diff(z, prepend=0.0)


def _floor_counts(v: NDArray[np.float64], ts: NDArray[np.float64]) -> NDArray[np.float64]:
    """``Σ_x floor(v_x / t)`` for each ``t`` in ``ts`` (cells ``>= t`` a row of mass ``v_x`` can hold)."""
    out = np.empty(ts.size)
    step = max(1, 4_000_000 // max(1, v.size))
    with np.errstate(over="ignore"):  # v / t overflows to inf for subnormal t: no constraint, as intended
        for s in range(0, ts.size, step):
            out[s : s + step] = np.floor(v[None, :] / ts[s : s + step, None]).sum(axis=1)
    return out


def threshold_profile_bound(sorted_desc: list[NDArray[np.float64]], *, grid: int = _GRID) -> float:
    """The ``threshold-profile`` lower bound on the MEC in bits (see the module docstring).

    ``sorted_desc`` holds the positive atoms of each marginal sorted decreasingly, each summing
    to 1 (within the input tolerance). When the step function ``G`` has few enough pieces
    (:func:`_exact_ok`: up to about twice the grid's evaluations) its integral is computed
    exactly (:func:`_profile_exact_rows`, never below the grid's lower Riemann sum); otherwise
    the lower Riemann sum on a geometric grid of ``grid`` points plus every atom.
    """
    if sorted_desc and _exact_ok([v[None, :] for v in sorted_desc], grid):
        return float(_profile_exact_rows([v[None, :] for v in sorted_desc])[0])
    asc = [np.ascontiguousarray(v[::-1]) for v in sorted_desc]
    Z = np.cumsum(meet_sorted(sorted_desc))
    N = Z.size
    atoms = np.concatenate(asc)
    tmin = float(atoms.min()) / 2.0
    if tmin <= 0.0:  # half the smallest subnormal underflows to 0; any positive grid start is valid
        tmin = float(atoms.min())
    pts = np.unique(np.concatenate([np.geomspace(tmin, 1.0, grid), atoms, [1.0]]))
    pts = pts[(pts >= tmin) & (pts <= 1.0)]
    ta, tb = pts[:-1], pts[1:]
    U = np.full(ta.size, np.inf)
    K = np.full(ta.size, np.inf)
    for v in asc:
        c = np.concatenate([[0.0], np.cumsum(v)])
        k = np.searchsorted(v, ta, side="left")  # atoms >= ta are v[k:]
        U = np.minimum(U, c[-1] - c[k])
        K = np.minimum(K, _floor_counts(v, ta))
    Kc = np.minimum(K, N).astype(np.int64)
    ZK = np.where(Kc >= 1, Z[np.maximum(Kc, 1) - 1], 0.0)
    ZK = np.where(K >= N, np.inf, ZK)  # every cell may be >= t: no constraint from the count
    G = np.minimum(np.minimum(U, ZK), 1.0)
    return float(np.sum((1.0 - G) * np.log2(tb / ta)))


def certified_lower_bounds(sorted_desc: list[NDArray[np.float64]], *, profile: bool | None = None) -> dict[str, float]:
    """Every lower bound on the MEC pidlab computes, by name (bits).

    ``meet`` always; ``threshold-profile`` when ``profile`` is True, or by default when all
    marginals together have at most ``PROFILE_MAX_ATOMS`` positive atoms.
    """
    bounds = {"meet": entropy(meet_sorted(sorted_desc))}
    if profile is None:
        profile = sum(v.size for v in sorted_desc) <= PROFILE_MAX_ATOMS
    if profile:
        bounds["threshold-profile"] = threshold_profile_bound(sorted_desc)
    return bounds


def best_bound(bounds: dict[str, float]) -> tuple[float, str]:
    """The largest bound and its name."""
    src = max(bounds, key=lambda k: bounds[k])
    return bounds[src], src


# ------------------------------------------------------------------------------- stacks of couplings
def meet_many(sorted_desc: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """Meet of each row of a stack: ``sorted_desc`` holds arrays of shape ``(B, n_i)``, each row
    sorted decreasingly (zeros last). Returns ``(B, max n_i)``, as :func:`meet_sorted` row by row."""
    n = max(v.shape[1] for v in sorted_desc)
    B = sorted_desc[0].shape[0]
    z = np.full((B, n), np.inf)
    for v in sorted_desc:
        c = np.cumsum(v, axis=1)
        z[:, : v.shape[1]] = np.minimum(z[:, : v.shape[1]], c)
        if v.shape[1] < n:
            z[:, v.shape[1] :] = np.minimum(z[:, v.shape[1] :], c[:, -1:])
    return np.diff(z, axis=1, prepend=0.0)


def threshold_profile_bound_many(sorted_desc: list[NDArray[np.float64]], *, grid: int = _GRID,
                                 max_entries: int = 4_000_000) -> NDArray[np.float64]:
    """:func:`threshold_profile_bound` of every row of a stack (bits), vectorised.

    ``sorted_desc`` holds arrays of shape ``(B, n_i)``, each row sorted decreasingly with its
    zeros last and summing to 1. Each row gets the value the one-table function gives it (the
    exact integral when :func:`exact_profile_size` allows it, else the same grid), up to rounding.
    """
    B = sorted_desc[0].shape[0]
    out = np.empty(B)
    exact = _exact_ok(sorted_desc, grid)
    per_row = ((_n_breakpoints(sorted_desc) if exact else grid + sum(v.shape[1] for v in sorted_desc) + 1)
               * max(v.shape[1] for v in sorted_desc))
    step = max(1, max_entries // max(1, per_row))
    rows = _profile_exact_rows if exact else _profile_rows
    for s in range(0, B, step):
        out[s : s + step] = rows([v[s : s + step] for v in sorted_desc], grid)
    return out


def _n_breakpoints(sorted_desc: list[NDArray[np.float64]]) -> int:
    n_atoms = sum(v.shape[1] for v in sorted_desc)
    return n_atoms * (max(v.shape[1] for v in sorted_desc) + 1) + 1


def _exact_ok(sorted_desc: list[NDArray[np.float64]], grid: int) -> bool:
    """Whether the exact integral costs no more than about twice the grid's evaluations."""
    return _n_breakpoints(sorted_desc) <= 2 * (grid + sum(v.shape[1] for v in sorted_desc))


def _g_rows(sorted_desc: list[NDArray[np.float64]], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """``G(t) = min(U(t), Z_K(t), 1)`` of the module docstring at the points ``t`` (shape ``(B, P)``)
    of each row of the stack ``sorted_desc`` (arrays ``(B, n_i)``, rows sorted decreasingly)."""
    Z = np.cumsum(meet_many(sorted_desc), axis=1)
    N = np.max([np.count_nonzero(v > 0, axis=1) for v in sorted_desc], axis=0)[:, None]  # Z.size, one table
    U = np.full(t.shape, np.inf)
    K = np.full(t.shape, np.inf)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        for v in sorted_desc:  # one 2-D pass per atom column (a short trailing axis is slow to reduce)
            u = np.zeros(t.shape)
            k = np.zeros(t.shape)
            for x in range(v.shape[1]):
                col = v[:, x : x + 1]
                u += np.where(col >= t, col, 0.0)
                k += np.floor(col / t)
            U = np.minimum(U, u)
            K = np.minimum(K, k)
    Kc = np.minimum(K, N).astype(np.int64)
    ZK = np.where(Kc >= 1, np.take_along_axis(Z, np.maximum(Kc, 1) - 1, axis=1), 0.0)
    ZK = np.where(K >= N, np.inf, ZK)
    return np.minimum(np.minimum(U, ZK), 1.0)


def _profile_exact_rows(sorted_desc: list[NDArray[np.float64]], grid: int = _GRID) -> NDArray[np.float64]:
    """The exact integral ``∫ (1 - G(t)) / (t ln 2) dt`` of each row (bits; see the module docstring).

    ``G`` is a step function: ``U(t)`` changes only at the atoms and ``K(t)`` only at ``v_x / k``.
    Below ``t0 = min_x v_x / N`` every row holds more than ``N`` cells ``>= t`` by count, so
    ``Z_K`` sets no constraint and ``G = U = 1`` (the piece below ``t0`` is left out, which only
    lowers the bound). Between consecutive breakpoints ``G`` is constant; it is evaluated at the
    geometric midpoint of each piece, away from the breakpoints' rounding. The integral over a
    piece ``(c, d)`` is ``(1 - G) log2(d / c)``. At least the grid's lower Riemann sum.
    """
    B = sorted_desc[0].shape[0]
    n_max = max(v.shape[1] for v in sorted_desc)
    atoms = np.concatenate(sorted_desc, axis=1)
    ks = np.arange(1, n_max + 1, dtype=float)
    bp = np.concatenate([(atoms[:, :, None] / ks).reshape(B, -1), np.ones((B, 1))], axis=1)
    bp = np.sort(np.where(bp > 0, np.minimum(bp, 1.0), 1.0), axis=1)
    c, d = bp[:, :-1], bp[:, 1:]
    G = _g_rows(sorted_desc, np.sqrt(c) * np.sqrt(d))  # at each piece's geometric midpoint (c * d may underflow)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        q = d / c
        w = np.where(d > c, np.where(np.isfinite(q), np.log2(q), np.log2(d) - np.log2(c)), 0.0)  # q may overflow
    # rounding: each G is a sum of at most n atoms, each weight one log2 of a quotient, and the
    # pieces are summed: at most (n + P + 8) unit roundoffs of the total weight, doubled; taken off
    n_terms = atoms.shape[1] + w.shape[1] + 8
    return np.sum((1.0 - G) * w, axis=1) - 2.0 * n_terms * 2.0**-53 * np.sum(w, axis=1)


def _profile_rows(sorted_desc: list[NDArray[np.float64]], grid: int = _GRID) -> NDArray[np.float64]:
    """The grid form of :func:`threshold_profile_bound` on each row (the one-table function's grid)."""
    atoms = np.concatenate(sorted_desc, axis=1)
    pos = atoms > 0
    amin = np.where(pos, atoms, np.inf).min(axis=1)
    tmin = amin / 2.0
    tmin = np.where(tmin <= 0.0, amin, tmin)  # half the smallest subnormal underflows to 0
    geo = np.geomspace(tmin, np.ones_like(tmin), grid, axis=1)
    extra = np.where(pos, atoms, 1.0)  # zero atoms are not grid points (a repeated 1 adds an empty interval)
    # the geometric grid is sorted and the atoms few: a stable (merge) sort of the nearly sorted rows
    pts = np.sort(np.concatenate([geo, extra, np.ones((atoms.shape[0], 1))], axis=1), axis=1, kind="stable")
    pts = np.clip(pts, tmin[:, None], 1.0)  # as the one-table form's filter: clipped points add empty intervals
    ta, tb = pts[:, :-1], pts[:, 1:]
    G = _g_rows(sorted_desc, ta)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(tb > ta, np.log2(tb / ta), 0.0)
    return np.sum((1.0 - G) * w, axis=1)
