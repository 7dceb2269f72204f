"""Finn & Lizier's I_± redundancy: pointwise specificity minus ambiguity, in closed form."""

from __future__ import annotations

import numpy as np

from pidlab._measures._base import RedundancyMeasure
from pidlab._measures._stack import Arr, log2_pos, marginals

__all__ = ["PlusMinus"]


class PlusMinus(RedundancyMeasure):
    """Finn & Lizier's I_± (pointwise partial information from specificity and ambiguity).

    At each outcome ``(x1, x2, y)`` of positive probability the redundant specificity is
    ``min_i h(x_i)`` and the redundant ambiguity ``min_i h(x_i | y)`` (``h = -log2 p``); the
    redundancy is the expectation of their difference,
    ``R = sum p(x1,x2,y) [min(h(x1), h(x2)) - min(h(x1|y), h(x2|y))]``. Atoms may be negative
    (misinformation is allowed by construction).
    """

    name = "pm"
    aliases = ("i_pm", "iplusminus", "finn-lizier")
    symbol = "I_±"
    reference = (
        "Finn & Lizier, Pointwise partial information decomposition using the specificity and ambiguity "
        "lattices, Entropy 20 (2018) 297"
    )
    description = "Finn-Lizier I_±, pointwise specificity minus ambiguity (closed form; atoms may be negative)"

    def redundancy_many(self, p: Arr) -> tuple[Arr, tuple[str, ...]]:
        m = marginals(p)
        p1y, p2y, py, p1, p2 = m["1y"], m["2y"], m["y"], m["1"], m["2"]  # p(x1, y), p(x2, y), ...
        # min_i h(x_i) = -log2 max_i p(x_i); min_i h(x_i|y) = -log2 max_i p(x_i|y)
        spec = -log2_pos(np.maximum(p1, p2))
        amb = -log2_pos(np.maximum(p1y, p2y)) + log2_pos(py)
        val = np.where(p > 0, p * (spec - amb), 0.0)
        return val.sum(axis=(1, 2, 3)), ()
