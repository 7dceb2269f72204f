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
    non-increasing in ``t``, a lower Riemann sum of ``∫ (1 - G(t)) / (t ln 2) dt`` on a grid
    containing every atom value is a certified lower bound on the MEC.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from pidlab._info import entropy

__all__ = ["best_bound", "certified_lower_bounds", "meet_sorted", "threshold_profile_bound", "PROFILE_MAX_ATOMS"]

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
    to 1 (within the input tolerance).
    """
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
