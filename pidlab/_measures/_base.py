"""A base for measures defined by a redundancy computed on a whole stack of tables."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from pidlab._contracts import Measure
from pidlab._distribution import Distribution
from pidlab._info import clean_zero
from pidlab._measures._stack import Arr, mi_stack, stack_of
from pidlab._results import PIDResult

__all__ = ["RedundancyMeasure"]


class RedundancyMeasure(Measure):
    """A full decomposition from a redundancy ``R`` and the consistency identities.

    Subclasses implement :meth:`redundancy_many` on a stack ``(N, |X1|, |X2|, |Y|)``;
    :meth:`compute` runs it on a stack of one and :meth:`compute_many` on the whole stack, so the
    single and the batch path are the same code.
    """

    kind = "pid"

    @abstractmethod
    def redundancy_many(self, p: Arr) -> tuple[Arr, tuple[str, ...]]:
        """The redundancy (bits) of each item and notes on the computation (empty when exact)."""

    def compute(self, dist: Distribution, *, solver: Any = None) -> PIDResult:
        R, notes = self.redundancy_many(stack_of(dist.p))
        return PIDResult.from_redundancy(dist, self.name, float(R[0]), notes=notes)

    def compute_many(self, ps: Arr, *, solver: Any = None) -> dict[str, Any]:
        p = stack_of(ps)
        R, notes = self.redundancy_many(p)
        I1, I2, I12 = mi_stack(p)
        return {
            "R": clean_zero(R),
            "U1": clean_zero(I1 - R),
            "U2": clean_zero(I2 - R),
            "S": clean_zero(I12 - I1 - I2 + R),
            "notes": notes,
        }


