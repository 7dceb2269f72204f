"""The ``uniform`` discretizer: equal-width bins per feature."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from pidlab._discretizers._constraints import Interval
from pidlab._discretizers._grid import GridDiscretizer

__all__ = ["UniformDiscretizer"]


class UniformDiscretizer(GridDiscretizer):
    """Equal-width bins per feature between the fitted minimum and maximum.

    Values outside the fitted range fall into the first or last bin.

    Parameters
    ----------
    n_bins : int, default 10
    """

    name: ClassVar[str] = "uniform"
    description: ClassVar[str] = "equal-width bins per feature, combined into one symbol"
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {"n_bins": [Interval(int, 2, None)]}

    def __init__(self, *, n_bins: int = 10) -> None:
        self.n_bins = n_bins

    def bin_edges(self, col: NDArray[np.float64]) -> NDArray[np.float64]:
        lo, hi = float(col.min()), float(col.max())
        if hi <= lo:
            return np.array([])
        return np.linspace(lo, hi, int(self.n_bins) + 1)[1:-1]
