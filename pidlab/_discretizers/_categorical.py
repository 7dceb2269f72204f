"""The ``categorical`` discretizer: one symbol per distinct value (or row) seen at fit."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from pidlab._contracts import Discretizer
from pidlab._discretizers._constraints import Options
from pidlab.exceptions import InvalidDistributionError

__all__ = ["CategoricalDiscretizer"]


class CategoricalDiscretizer(Discretizer):
    """Each distinct sample (row) seen at fit is one symbol; labels in ``categories_``.

    Parameters
    ----------
    handle_unknown : {"error"}, default "error"
        A sample not seen during ``fit`` raises (fit on all samples of the modality).
    """

    name: ClassVar[str] = "categorical"
    description: ClassVar[str] = "one symbol per distinct value (or row) seen at fit"
    accepts_objects: ClassVar[bool] = True
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {"handle_unknown": [Options("error")]}

    def __init__(self, *, handle_unknown: str = "error") -> None:
        self.handle_unknown = handle_unknown

    @staticmethod
    def _keys(A: NDArray[Any]) -> list[Hashable]:
        if A.shape[1] == 1:
            return [v.item() if isinstance(v, np.generic) else v for v in A[:, 0]]
        return [tuple(v.item() if isinstance(v, np.generic) else v for v in row) for row in A]

    def fit_matrix(self, X: NDArray[Any]) -> None:
        keys = self._keys(X)
        uniq = list(dict.fromkeys(keys))
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
