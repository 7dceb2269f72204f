"""The ``categorical`` discretizer: one symbol per distinct value (or row) seen at fit."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from pidlab._contracts import Discretizer
from pidlab._discretizers._constraints import Interval, Options
from pidlab.exceptions import InvalidDistributionError, ProblemTooLargeError

__all__ = ["CategoricalDiscretizer", "DEFAULT_MAX_SYMBOLS"]

#: Default ``max_symbols`` of ``categorical``: more distinct values than this per modality make the
#: pairwise tables and the BROJA program of :func:`pidlab.estimate` huge (~1,000 symbols per
#: modality and 10 classes is a program of 10^7 variables) and the estimated tables unreliable.
DEFAULT_MAX_SYMBOLS = 256


class CategoricalDiscretizer(Discretizer):
    """Each distinct sample (row) seen at fit is one symbol; labels in ``categories_``.

    Parameters
    ----------
    handle_unknown : {"error"}, default "error"
        A sample not seen during ``fit`` raises (fit on all samples of the modality).
    max_symbols : int, default 256
        Refuse (:class:`~pidlab.exceptions.ProblemTooLargeError`, at ``fit``) samples with more
        distinct values (rows) than this: continuous or high-dimensional data needs a clustering
        discretizer (``"pca-kmeans"``), not one symbol per distinct row.
    """

    name: ClassVar[str] = "categorical"
    description: ClassVar[str] = "one symbol per distinct value (or row) seen at fit"
    accepts_objects: ClassVar[bool] = True
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "handle_unknown": [Options("error")],
        "max_symbols": [Interval(int, 1, None)],
    }

    def __init__(self, *, handle_unknown: str = "error", max_symbols: int = DEFAULT_MAX_SYMBOLS) -> None:
        self.handle_unknown = handle_unknown
        self.max_symbols = max_symbols

    @staticmethod
    def _keys(A: NDArray[Any]) -> list[Hashable]:
        if A.shape[1] == 1:
            return [v.item() if isinstance(v, np.generic) else v for v in A[:, 0]]
        return [tuple(v.item() if isinstance(v, np.generic) else v for v in row) for row in A]

    def fit_matrix(self, X: NDArray[Any]) -> None:
        keys = self._keys(X)
        uniq = list(dict.fromkeys(keys))
        if len(uniq) > self.max_symbols:
            raise ProblemTooLargeError(
                f"CategoricalDiscretizer found {len(uniq):,} distinct values (rows) in {X.shape[0]:,} samples, above "
                f"its limit max_symbols={self.max_symbols}: one symbol per distinct row would make the tables and "
                "programs downstream huge and the estimates unreliable. For continuous or many-featured data use a "
                "clustering discretizer (discretizer='pca-kmeans' with n_clusters=10, say); if these really are "
                f"{len(uniq):,} categories, raise the limit: get_discretizer('categorical', max_symbols={len(uniq)}) "
                f"or pidlab.estimate(..., discretizer_params={{'max_symbols': {len(uniq)}}})."
            )
        try:
            uniq = sorted(uniq)  # type: ignore[type-var]
        except TypeError:
            pass
        self.categories_ = tuple(uniq)
        self._index = {v: i for i, v in enumerate(uniq)}
        self.n_symbols_ = len(uniq)

    def transform_matrix(self, X: NDArray[Any]) -> NDArray[np.intp]:
        keys = self._keys(X)
        try:
            return np.fromiter((self._index[k] for k in keys), dtype=np.intp, count=len(keys))
        except KeyError as exc:
            raise InvalidDistributionError(
                f"CategoricalDiscretizer got the value {exc.args[0]!r}, not seen during fit; fit on all samples "
                "of the modality (labelled and unlabelled)."
            ) from None
