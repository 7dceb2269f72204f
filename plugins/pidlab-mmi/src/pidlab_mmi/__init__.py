"""Minimum mutual information PID (Barrett 2015) as a pidlab plugin."""

from __future__ import annotations

import pidlab
from pidlab import hookimpl

__all__ = ["MMI"]


class MMI(pidlab.Measure):
    """Minimum mutual information redundancy: ``R = min(I(X1;Y), I(X2;Y))``."""

    name = "mmi"
    aliases = ("barrett",)
    symbol = "MMI"
    kind = "pid"
    reference = "Barrett, Exploration of synergistic and redundant information sharing in static and dynamical Gaussian systems, Phys. Rev. E 91 (2015)"
    description = "minimum mutual information (third-party plugin pidlab-mmi)"

    def compute(self, dist: pidlab.Distribution, *, solver: object = None) -> pidlab.PIDResult:
        R = min(dist.mutual_information(0, 2), dist.mutual_information(1, 2))
        return pidlab.PIDResult.from_redundancy(dist, self.name, R)


@hookimpl
def pidlab_register_measures() -> list[type]:
    return [MMI]
