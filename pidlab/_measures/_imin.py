"""Williams & Beer's I_min redundancy, in closed form from the specific information."""

from __future__ import annotations

from typing import Any

import numpy as np

from pidlab._contracts import Measure
from pidlab._distribution import Distribution
from pidlab._results import PIDResult

__all__ = ["Imin", "specific_information"]


def specific_information(dist: Distribution, source: int) -> np.ndarray:
    """Specific information ``I(Y=y; X_i) = sum_x p(x|y) log2(p(y|x)/p(y))`` for each y (bits)."""
    pxy = dist.p.sum(axis=1 - source)  # (|X_i|, |Y|)
    px = pxy.sum(axis=1)
    py = pxy.sum(axis=0)
    out = np.zeros(py.size)
    for y in range(py.size):
        if py[y] <= 0:
            continue
        col = pxy[:, y]
        nz = col > 0
        p_x_given_y = col[nz] / py[y]
        p_y_given_x = col[nz] / px[nz]
        out[y] = float(np.sum(p_x_given_y * np.log2(p_y_given_x / py[y])))
    return out


class Imin(Measure):
    """Williams & Beer's I_min redundancy: expected minimum specific information."""

    name = "imin"
    aliases = ("williams-beer",)
    symbol = "I_min"
    kind = "pid"
    reference = "Williams & Beer, Nonnegative decomposition of multivariate information, arXiv:1004.2515 (2010)"
    description = "Williams-Beer I_min, the expected minimum specific information"

    def compute(self, dist: Distribution, *, solver: Any = None) -> PIDResult:
        py = dist.marginal("Y")
        s1 = specific_information(dist, 0)
        s2 = specific_information(dist, 1)
        R = float(np.sum(py * np.minimum(s1, s2)))
        return PIDResult.from_redundancy(dist, self.name, R)
