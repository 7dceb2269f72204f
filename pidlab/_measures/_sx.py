"""Makkeh, Gutknecht & Wibral's shared-exclusion redundancy I_sx, in closed form."""

from __future__ import annotations

import numpy as np

from pidlab._measures._base import RedundancyMeasure
from pidlab._measures._stack import Arr, log2_pos, marginals

__all__ = ["SharedExclusion"]


class SharedExclusion(RedundancyMeasure):
    """Makkeh, Gutknecht & Wibral's I_sx (shared exclusions of probability mass).

    At each outcome ``(x1, x2, y)`` of positive probability the shared information is the
    local mutual information between ``y`` and the union event ``{X1 = x1} or {X2 = x2}``:
    ``i_sx = log2 [P(Y=y, X1=x1 or X2=x2) / (P(Y=y) P(X1=x1 or X2=x2))]``; ``R`` is its
    expectation. It is negative on XOR (``log2(2/3)``): a misinformative redundancy.
    """

    name = "sx"
    aliases = ("i_sx", "isx", "shared-exclusion", "makkeh")
    symbol = "I_sx"
    reference = (
        "Makkeh, Gutknecht & Wibral, Introducing a differentiable measure of pointwise shared information, "
        "Phys. Rev. E 103 (2021) 032149"
    )
    description = "Makkeh-Gutknecht-Wibral shared exclusions I_sx (closed form; R may be negative)"

    def redundancy_many(self, p: Arr) -> tuple[Arr, tuple[str, ...]]:
        m = marginals(p)
        p12, p1y, p2y, py, p1, p2 = m["12"], m["1y"], m["2y"], m["y"], m["1"], m["2"]
        union = p1 + p2 - p12  # P(X1=x1 or X2=x2)
        union_y = p1y + p2y - p  # P(Y=y and (X1=x1 or X2=x2))
        val = np.where(p > 0, p * (log2_pos(union_y) - log2_pos(py) - log2_pos(union)), 0.0)
        return val.sum(axis=(1, 2, 3)), ()
