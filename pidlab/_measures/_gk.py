"""Griffith et al.'s I_∧ redundancy: information about the target in the Gács-Körner common
variable of the sources."""

from __future__ import annotations

import math

import numpy as np

from pidlab._measures._base import RedundancyMeasure
from pidlab._measures._stack import Arr, marginals, plogq

__all__ = ["GacsKorner", "common_labels"]


def common_labels(p12: Arr) -> np.ndarray:
    """For each item ``(N, |X1|, |X2|)``, the Gács-Körner common variable as a label of each x1:
    the smallest x1 of its connected component in the bipartite graph ``p(x1, x2) > 0``."""
    N, a, _ = p12.shape
    A = (p12 > 0).astype(np.float64)
    M = (np.einsum("nij,nkj->nik", A, A) > 0) | np.eye(a, dtype=bool)[None]
    for _ in range(max(1, math.ceil(math.log2(max(a, 2))))):
        Mf = M.astype(np.float64)
        M = np.einsum("nij,njk->nik", Mf, Mf) > 0
    return np.argmax(M, axis=2)  # first reachable x1


class GacsKorner(RedundancyMeasure):
    """Griffith et al.'s I_∧: ``R = I(X1 ∧ X2; Y)``.

    ``X1 ∧ X2`` is the Gács-Körner common random variable, the finest variable that is a function
    of each source: the connected components of the bipartite graph on the symbols with an edge
    where ``p(x1, x2) > 0``. It depends on the support only (exact zeros), so it is not
    continuous in ``p``; it is 0 whenever ``p(x1, x2)`` has full support.
    """

    name = "gk"
    aliases = ("i_gk", "igk", "gacs-korner", "i_wedge", "griffith")
    symbol = "I_∧"
    reference = (
        "Griffith, Chong, James, Ellison & Crutchfield, Intersection information based on common randomness, "
        "Entropy 16 (2014) 1985-2000"
    )
    description = "Griffith et al. I_∧, information in the Gács-Körner common variable (closed form)"

    def redundancy_many(self, p: Arr) -> tuple[Arr, tuple[str, ...]]:
        N, a, b, c = p.shape
        m = marginals(p)
        lab = common_labels(m["12"][..., 0])
        onehot = (lab[:, :, None] == np.arange(a)[None, None, :]).astype(np.float64)  # (N, x1, k)
        qky = np.einsum("nik,niy->nky", onehot, m["1y"][:, :, 0])
        qk = qky.sum(axis=2, keepdims=True)
        qy = qky.sum(axis=1, keepdims=True)
        return np.maximum(plogq(qky, qky, qk * qy).sum(axis=(1, 2)), 0.0), ()
