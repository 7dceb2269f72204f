"""Shannon quantities in bits on numpy arrays (no validation: callers validate)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["LN2", "entropy", "entropy_many", "xlog2x_sum", "marginal", "mutual_information_2d", "clean_zero"]

#: ln 2: nats per bit.
LN2 = math.log(2.0)


def xlog2x_sum(p: ArrayLike) -> float:
    """Return ``sum p log2 p`` over the positive entries of ``p`` (0 log 0 = 0)."""
    a = np.asarray(p, dtype=float).ravel()
    if a.size <= _CHUNK:
        a = a[a > 0]
        return float(np.dot(a, np.log2(a)))
    # in blocks, so that large tables need no table-sized temporaries
    total = 0.0
    for i in range(0, a.size, _CHUNK):
        blk = a[i:i + _CHUNK]
        blk = blk[blk > 0]
        total += float(np.dot(blk, np.log2(blk)))
    return total


_CHUNK = 1 << 16


def entropy(p: ArrayLike) -> float:
    """Shannon entropy in bits of a pmf given as an array of any shape.

    Examples
    --------
    >>> entropy([0.5, 0.5])
    1.0
    >>> entropy([[0.25, 0.25], [0.5, 0.0]])
    1.5
    """
    h = -xlog2x_sum(p)
    return 0.0 if h == 0 else h


def mutual_information_2d(pxy: NDArray[np.float64]) -> float:
    """``I(X;Y)`` in bits of a 2-D joint table ``p[x, y]`` (clipped at 0 against rounding).

    >>> mutual_information_2d(np.array([[0.5, 0.0], [0.0, 0.5]]))
    1.0
    """
    return max(0.0, entropy(pxy.sum(1)) + entropy(pxy.sum(0)) - entropy(pxy))


def marginal(p: NDArray[np.float64], keep: tuple[int, ...]) -> NDArray[np.float64]:
    """Marginal of ``p`` on the axes in ``keep`` (in increasing axis order)."""
    drop = tuple(ax for ax in range(p.ndim) if ax not in keep)
    return p.sum(axis=drop) if drop else p


def entropy_many(p: NDArray[np.float64], ndim: int) -> Any:
    """Entropy in bits of each table of a stack: the last ``ndim`` axes are one pmf.

    Returns an array of the leading shape (a 0-d array for a single table).

    >>> entropy_many(np.array([[0.5, 0.5], [1.0, 0.0]]), 1).tolist()
    [1.0, 0.0]
    """
    axes = tuple(range(p.ndim - ndim, p.ndim))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return -t.sum(axis=axes) + 0.0


def clean_zero(v: Any, tol: float = 1e-12) -> Any:
    """``v`` with entries of magnitude below ``tol`` set to exactly 0.0 (scalars stay floats).

    Rounding leaves values such as 1e-17 or -0.0 where the exact answer is 0; results report 0.

    >>> clean_zero(-3e-17), clean_zero(0.25)
    (0.0, 0.25)
    """
    if np.ndim(v) == 0:
        f = float(v)
        return 0.0 if abs(f) < tol else f
    a = np.asarray(v, dtype=float)
    return np.where(np.abs(a) < tol, 0.0, a)
