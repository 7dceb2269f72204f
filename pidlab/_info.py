"""Shannon quantities in bits on numpy arrays (no validation: callers validate)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["entropy", "xlog2x_sum", "marginal", "mutual_information_2d"]


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
