"""Co-information (McGill's sign), a net quantity (R - S)."""

from __future__ import annotations

from typing import Any

from pidlab._contracts import Measure
from pidlab._distribution import Distribution
from pidlab._info import clean_zero
from pidlab._measures._stack import Arr, mi_stack, stack_of
from pidlab._results import PIDResult

__all__ = ["CoInformation"]


class CoInformation(Measure):
    """Co-information ``I(X1;X2;Y)`` (McGill's sign): a net redundancy (R - S)."""

    name = "ci"
    aliases = ("coinformation", "co-information")
    symbol = "CI"
    kind = "net"
    reference = "McGill, Multivariate information transmission, Psychometrika 19 (1954); Bell (2003)"
    description = "co-information, the net redundancy R - S"

    def compute(self, dist: Distribution, *, solver: Any = None) -> PIDResult:
        return PIDResult.from_net(dist, self.name, dist.coinformation(), "net redundancy")

    def compute_many(self, ps: Arr, *, solver: Any = None) -> dict[str, Any]:
        I1, I2, I12 = mi_stack(stack_of(ps))
        return {"net": clean_zero(I1 + I2 - I12)}
