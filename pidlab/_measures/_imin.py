"""Williams & Beer's I_min redundancy, in closed form from the specific information."""

from __future__ import annotations

import numpy as np

from pidlab._distribution import Distribution
from pidlab._measures._base import RedundancyMeasure
from pidlab._measures._stack import Arr, marginals, plogq

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


class Imin(RedundancyMeasure):
    """Williams & Beer's I_min redundancy: expected minimum specific information."""

    name = "imin"
    aliases = ("williams-beer",)
    symbol = "I_min"
    kind = "pid"
    reference = "Williams & Beer, Nonnegative decomposition of multivariate information, arXiv:1004.2515 (2010)"
    description = "Williams-Beer I_min, the expected minimum specific information"

    def redundancy_many(self, p: Arr) -> tuple[Arr, tuple[str, ...]]:
        # p(y) I(Y=y; X_i) = sum_x p(x_i, y) log2(p(x_i, y) / (p(x_i) p(y))), per y
        m = marginals(p)
        py = m["y"][:, 0]  # (N, 1, |Y|)
        spec = []
        for pxy, px in ((m["1y"][:, :, 0], m["1"][:, :, 0]), (m["2y"][:, 0], m["2"][:, 0])):
            spec.append(plogq(pxy, pxy, px * py).sum(axis=1))
        return np.minimum(spec[0], spec[1]).sum(axis=1), ()
