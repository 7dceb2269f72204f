"""The ``quantile`` discretizer: equal-frequency bins per feature."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from pidlab._discretizers._constraints import Interval
from pidlab._discretizers._grid import GridDiscretizer

__all__ = ["QuantileDiscretizer"]


class QuantileDiscretizer(GridDiscretizer):
    """Equal-frequency bins per feature (inner edges at the quantiles; ties merge bins).

    Parameters
    ----------
    n_bins : int, default 10
    """

    name: ClassVar[str] = "quantile"
    description: ClassVar[str] = "equal-frequency bins per feature, combined into one symbol"
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {"n_bins": [Interval(int, 2, None)]}

    def __init__(self, *, n_bins: int = 10) -> None:
        self.n_bins = n_bins

    def bin_edges(self, col: NDArray[np.float64]) -> NDArray[np.float64]:
        q = np.quantile(col, np.linspace(0, 1, int(self.n_bins) + 1)[1:-1])
        e = np.unique(q)
        return e[e > col.min()]  # an edge at the minimum would leave the first bin empty
