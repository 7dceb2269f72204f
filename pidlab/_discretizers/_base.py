"""A minimal scikit-learn-style estimator base for discretizers (no scikit-learn needed).

Contract (as in scikit-learn): keyword-only ``__init__`` parameters stored verbatim with no
validation there; a declarative ``_parameter_constraints`` checked in ``fit``; ``fit(X, y=None)``
returns ``self``; learned state ends in ``_``; ``transform`` raises :class:`NotFittedError` before
``fit``; ``get_params``/``set_params`` work by signature introspection; randomness goes through
``random_state``.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from pidlab.exceptions import InvalidDistributionError, NotFittedError

__all__ = ["Discretizer", "Interval", "Options", "check_is_fitted", "as_feature_matrix"]


class Interval:
    """Constraint: a number of ``kind`` (int or float) in ``[low, high]`` (None = unbounded)."""

    def __init__(self, kind: type, low: float | None, high: float | None, *, closed: str = "both") -> None:
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def is_satisfied_by(self, v: object) -> bool:
        if isinstance(v, bool):
            return False
        if self.kind is int and not isinstance(v, (int, np.integer)):
            return False
        if self.kind is float and not isinstance(v, (int, float, np.integer, np.floating)):
            return False
        lo_ok = self.low is None or (v >= self.low if self.closed in ("both", "left") else v > self.low)  # type: ignore[operator]
        hi_ok = self.high is None or (v <= self.high if self.closed in ("both", "right") else v < self.high)  # type: ignore[operator]
        return bool(lo_ok and hi_ok)

    def __str__(self) -> str:
        kind = "an int" if self.kind is int else "a float"
        lo = "" if self.low is None else (f" >= {self.low}" if self.closed in ("both", "left") else f" > {self.low}")
        hi = "" if self.high is None else (f" <= {self.high}" if self.closed in ("both", "right") else f" < {self.high}")
        return kind + lo + (" and" if lo and hi else "") + hi


class Options:
    """Constraint: one of a fixed set of values."""

    def __init__(self, *values: object) -> None:
        self.values = values

    def is_satisfied_by(self, v: object) -> bool:
        return any(v is x or (type(v) is type(x) and v == x) for x in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class _RandomState:
    def is_satisfied_by(self, v: object) -> bool:
        return v is None or isinstance(v, np.random.Generator) or (
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
        )

    def __str__(self) -> str:
        return "None, a non-negative int or a numpy Generator"


RANDOM_STATE = _RandomState()


def check_is_fitted(est: object) -> None:
    """Raise :class:`NotFittedError` unless ``est`` has a learned attribute (ending in ``_``)."""
    fitted = [k for k in vars(est) if k.endswith("_") and not k.startswith("__")]
    if not fitted:
        raise NotFittedError(
            f"This {type(est).__name__} instance is not fitted yet. Call 'fit' with appropriate data before "
            "using 'transform' (or use 'fit_transform')."
        )


def as_feature_matrix(X: Any, *, what: str = "X", allow_object: bool = False) -> NDArray[Any]:
    """Samples as a 2-D array (n_samples, n_features); rejects empty input and NaN/inf features."""
    if hasattr(X, "to_numpy") and hasattr(X, "columns"):  # DataFrame
        arr = X.to_numpy()
    elif hasattr(X, "to_numpy"):  # Series
        arr = X.to_numpy()
    else:
        arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    elif arr.ndim > 2:
        arr = arr.reshape(arr.shape[0], -1)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise InvalidDistributionError(f"{what} has no samples (shape {np.shape(X)}); pass at least one sample per row.")
    if arr.shape[1] == 0:
        raise InvalidDistributionError(f"{what} has no features (shape {arr.shape}).")
    if arr.dtype.kind in "biuf":
        arr = arr.astype(float, copy=False)
        bad = ~np.isfinite(arr)
        if bad.any():
            rows = np.unique(np.nonzero(bad)[0])
            raise InvalidDistributionError(
                f"{what} has {int(bad.sum())} NaN or infinite feature value(s) in {rows.size} sample(s) "
                f"(first at row {int(rows[0])}); drop or impute them before discretising."
            )
        return arr
    if not allow_object:
        try:
            out = arr.astype(float)
        except (TypeError, ValueError):
            raise InvalidDistributionError(
                f"{what} has non-numeric features (dtype {arr.dtype}); use discretizer='categorical' for "
                "categorical data, or encode the columns numerically."
            ) from None
        return as_feature_matrix(out, what=what)
    for v in arr.ravel():
        if v is None or (isinstance(v, float) and np.isnan(v)):
            raise InvalidDistributionError(
                f"{what} has missing values ({v!r}); drop or impute them before discretising."
            )
    return arr


class Discretizer:
    """Base class of discretizers: samples (any number of features) -> integer codes ``0..n_symbols_-1``.

    Subclasses set ``name`` (the registry name), ``_parameter_constraints`` (parameter ->
    list of constraints) and implement ``_fit(X)`` and ``_transform(X)``. After ``fit``,
    ``n_symbols_`` is the size of the output alphabet.

    Examples
    --------
    >>> import numpy as np, pidlab
    >>> d = pidlab.get_discretizer("uniform", n_bins=4)
    >>> d.fit(np.array([0.0, 1.0, 2.0, 3.0, 4.0])).transform([0.1, 3.9]).tolist()
    [0, 3]
    >>> d.get_params()
    {'n_bins': 4}
    """

    name: ClassVar[str] = ""
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}

    # ------------------------------------------------------------------ params
    @classmethod
    def _get_param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind == p.KEYWORD_ONLY)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this discretizer (as passed to ``__init__``)."""
        return {k: getattr(self, k) for k in self._get_param_names()}

    def set_params(self, **params: Any) -> Discretizer:
        """Set parameters (validated at the next ``fit``); returns ``self``."""
        valid = self._get_param_names()
        for k, v in params.items():
            if k not in valid:
                raise InvalidDistributionError(
                    f"Invalid parameter {k!r} for {type(self).__name__}; valid parameters are {valid}."
                )
            setattr(self, k, v)
        return self

    def _validate_params(self) -> None:
        for k, constraints in self._parameter_constraints.items():
            v = getattr(self, k)
            if not any(c.is_satisfied_by(v) for c in constraints):
                desc = " or ".join(str(c) for c in constraints)
                raise InvalidDistributionError(
                    f"The {k!r} parameter of {type(self).__name__} must be {desc}. Got {v!r} instead."
                )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _rng(self) -> np.random.Generator:
        rs = getattr(self, "random_state", None)
        return rs if isinstance(rs, np.random.Generator) else np.random.default_rng(rs)

    # ------------------------------------------------------------------ API
    def fit(self, X: Any, y: Any = None) -> Discretizer:
        """Learn the discretisation from samples ``X`` (rows); returns ``self``."""
        self._validate_params()
        self._fit(X)
        return self

    def transform(self, X: Any) -> NDArray[np.intp]:
        """Integer codes ``0..n_symbols_-1`` of the samples ``X`` (one per row)."""
        check_is_fitted(self)
        return self._transform(X)

    def fit_transform(self, X: Any, y: Any = None) -> NDArray[np.intp]:
        return self.fit(X, y).transform(X)

    def _fit(self, X: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _transform(self, X: Any) -> NDArray[np.intp]:  # pragma: no cover - abstract
        raise NotImplementedError
