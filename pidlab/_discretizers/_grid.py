"""Per-feature bins combined into one symbol (mixed radix): the shared part of ``quantile`` and ``uniform``."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from numpy.typing import NDArray

from pidlab._contracts import Discretizer
from pidlab.exceptions import InvalidDistributionError

__all__ = ["GridDiscretizer", "MAX_SYMBOLS"]

#: Largest output alphabet a grid discretizer may produce.
MAX_SYMBOLS = 1_000_000


class GridDiscretizer(Discretizer):
    """Per-feature bins combined into one symbol (mixed radix); subclasses place the inner edges."""

    @abstractmethod
    def bin_edges(self, col: NDArray[np.float64]) -> NDArray[np.float64]:
        """Sorted inner bin edges of one feature's fitted values (a value equal to an edge goes right)."""

    def fit_matrix(self, X: NDArray[np.float64]) -> None:
        if X.shape[0] < 2:
            raise InvalidDistributionError(
                f"{type(self).__name__} needs at least 2 samples to place bin edges; got {X.shape[0]}."
            )
        edges = [self.bin_edges(X[:, j]) for j in range(X.shape[1])]
        n_bins = np.array([len(e) + 1 for e in edges], dtype=np.int64)
        total = int(np.prod(n_bins.astype(float)))
        if total > MAX_SYMBOLS:
            raise InvalidDistributionError(
                f"{type(self).__name__} would produce {total} symbols ({X.shape[1]} features x up to "
                f"{int(n_bins.max())} bins); use fewer bins or discretizer='pca-kmeans' for many features."
            )
        self.bin_edges_ = edges
        self.n_bins_ = n_bins
        self.n_symbols_ = total

    def transform_matrix(self, X: NDArray[np.float64]) -> NDArray[np.intp]:
        code = np.zeros(X.shape[0], dtype=np.intp)
        for j, e in enumerate(self.bin_edges_):
            code = code * int(self.n_bins_[j]) + np.searchsorted(e, X[:, j], side="right")
        return code
