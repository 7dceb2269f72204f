"""James, Emenheiser & Crutchfield's dependency decomposition I_dep (maximum-entropy lattice)."""

from __future__ import annotations

import numpy as np

from pidlab._measures._base import RedundancyMeasure
from pidlab._measures._ccs import ipf_note
from pidlab._measures._stack import Arr, marginals, maxent_pairwise, mi_stack

__all__ = ["Dependency"]


class Dependency(RedundancyMeasure):
    """The dependency decomposition's unique information, I_dep.

    ``U1`` is the least increase of ``I(X1,X2;Y)`` when the dependency X1Y is added to a
    maximum-entropy model of the lattice of dependencies. Four edges add it: from ``{X1}{X2}{Y}``
    and ``{X1X2}{Y}`` (increase ``I(X1;Y)``), from ``{X2Y}{X1}`` (increase ``I_ci - I(X2;Y)``,
    ``I_ci`` of ``p(y) p(x1|y) p(x2|y)``) and from ``{X1X2}{X2Y}`` (increase
    ``I_pw - I(X2;Y)``, ``I_pw`` of the maximum-entropy joint with all three pairwise marginals,
    fitted by iterative scaling). Hence ``R = max(0, I1 + I2 - I_ci, I1 + I2 - I_pw)``, and the
    same ``R`` follows from ``U2``.
    """

    name = "dep"
    aliases = ("i_dep", "idep", "dependency")
    symbol = "I_dep"
    reference = (
        "James, Emenheiser & Crutchfield, Unique information via dependency constraints, "
        "J. Phys. A 52 (2018) 014002"
    )
    description = "James-Emenheiser-Crutchfield dependency decomposition I_dep (iterative scaling)"

    def redundancy_many(self, p: Arr) -> tuple[Arr, tuple[str, ...]]:
        N, a, b, c = p.shape
        I1, I2, I12 = mi_stack(p)
        m = marginals(p)
        p1y, p2y, py = m["1y"], m["2y"], m["y"]
        with np.errstate(divide="ignore", invalid="ignore"):
            qci = np.where(py > 0, p1y * p2y / np.where(py > 0, py, 1.0), 0.0)
        q, err = maxent_pairwise(p)
        Ici = mi_stack(qci)[2]
        Ipw = mi_stack(q)[2]
        R = np.maximum(0.0, np.maximum(I1 + I2 - Ici, I1 + I2 - Ipw))
        return R, ipf_note(err)
