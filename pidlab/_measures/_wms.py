"""Whole-minus-sum synergy, a net quantity (S - R)."""

from __future__ import annotations

from typing import Any

from pidlab._contracts import Measure
from pidlab._distribution import Distribution
from pidlab._info import clean_zero
from pidlab._measures._stack import Arr, mi_stack, stack_of
from pidlab._results import PIDResult

__all__ = ["WMS"]


class WMS(Measure):
    """Whole-minus-sum synergy ``I(X1,X2;Y) - I(X1;Y) - I(X2;Y)``: a net synergy (S - R)."""

    name = "wms"
    symbol = "WMS"
    kind = "net"
    reference = "Griffith & Koch, Quantifying synergistic mutual information (2014); Schneidman et al. (2003)"
    description = "whole-minus-sum, the net synergy S - R"

    def compute(self, dist: Distribution, *, solver: Any = None) -> PIDResult:
        return PIDResult.from_net(dist, self.name, -dist.coinformation(), "net synergy")

    def compute_many(self, ps: Arr, *, solver: Any = None) -> dict[str, Any]:
        I1, I2, I12 = mi_stack(stack_of(ps))
        return {"net": clean_zero(I12 - I1 - I2)}
