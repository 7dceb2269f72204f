"""Ince's I_ccs redundancy (pointwise common change in surprisal), on the maximum-entropy joint."""

from __future__ import annotations

import numpy as np

from pidlab._measures._base import RedundancyMeasure
from pidlab._measures._stack import IPF_TOL, Arr, log2_pos, marginals, maxent_pairwise

__all__ = ["CCS", "SIGN_TOL", "ipf_note"]

#: Local values within this many bits of 0 count as 0 when their signs are compared.
SIGN_TOL = 1e-9


def ipf_note(err: Arr) -> tuple[str, ...]:
    """A note on the items whose maximum-entropy fit did not reach :data:`IPF_TOL`."""
    bad = err > IPF_TOL
    if not bad.any():
        return ()
    return (f"the maximum-entropy fit (iterative scaling) of {int(bad.sum())} item(s) stopped with a marginal "
            f"error of up to {float(err.max()):.2g} (target {IPF_TOL:g}); their values are accurate to about "
            "that order",)


class CCS(RedundancyMeasure):
    """Ince's common change in surprisal, I_ccs.

    On the maximum-entropy joint ``q`` with the pairwise marginals of ``p`` (X1X2, X1Y, X2Y),
    fitted by iterative scaling, the local co-information
    ``c = i(x1;y) + i(x2;y) - i(x1,x2;y)`` counts as redundancy at an outcome when it has the
    sign of all three local mutual informations; ``R = sum_q q c`` over those outcomes. Local
    values within :data:`SIGN_TOL` of 0 count as 0. Atoms may be negative.
    """

    name = "ccs"
    aliases = ("i_ccs", "iccs", "ince")
    symbol = "I_ccs"
    reference = "Ince, Measuring multivariate redundant information with pointwise common change in surprisal, Entropy 19 (2017) 318"
    description = "Ince I_ccs, pointwise common change in surprisal on the max-entropy joint (iterative scaling)"

    def redundancy_many(self, p: Arr) -> tuple[Arr, tuple[str, ...]]:
        q, err = maxent_pairwise(p)
        m = marginals(q)
        q12, q1y, q2y, qy, q1, q2 = m["12"], m["1y"], m["2y"], m["y"], m["1"], m["2"]
        lq, ly = log2_pos(q), log2_pos(qy)
        i1 = log2_pos(q1y) - log2_pos(q1) - ly
        i2 = log2_pos(q2y) - log2_pos(q2) - ly
        i12 = lq - log2_pos(q12) - ly
        c = i1 + i2 - i12
        s = [np.where(np.abs(v) <= SIGN_TOL, 0.0, np.sign(v)) for v in (c, i1, i2, i12)]
        agree = (s[0] == s[1]) & (s[0] == s[2]) & (s[0] == s[3]) & (q > 0)
        R = np.where(agree, q * c, 0.0).sum(axis=(1, 2, 3))
        return R, ipf_note(err)
