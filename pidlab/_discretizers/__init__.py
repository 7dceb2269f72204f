"""Discretizers: samples of a modality (any number of features) -> finite alphabets.

Built-ins, one module each, registered through the ``pidlab_register_discretizers`` hook like any
plugin (see :data:`BUILTINS`): ``kmeans`` and ``pca-kmeans`` (the paper's pipeline; both on
scikit-learn, imported when fitted), ``quantile``, ``uniform``, ``categorical``.
:func:`get_discretizer` picks a registered discretizer by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._contracts import Discretizer, check_is_fitted
from pidlab._discretizers._grid import MAX_SYMBOLS
from pidlab._plugins import builtin_classes
from pidlab.exceptions import NotFittedError, PluginOutputError, ProblemTooLargeError
from pidlab.hookspecs import hookimpl

__all__ = [
    "BUILTINS",
    "Discretizer",
    "MAX_SYMBOLS",
    "checked_codes",
    "fit_codes",
    "get_discretizer",
    "check_is_fitted",
    "NotFittedError",
]

#: The built-in discretizers, one module each (``"module:Class"``, modules of this package).
#: A new built-in costs its module and one line here.
BUILTINS: tuple[str, ...] = (
    "_kmeans:KMeansDiscretizer",
    "_pca_kmeans:PCAKMeansDiscretizer",
    "_quantile:QuantileDiscretizer",
    "_uniform:UniformDiscretizer",
    "_categorical:CategoricalDiscretizer",
)


def get_discretizer(name: str, **params: Any) -> Any:
    """A new discretizer instance by registered name (built-in or third-party), with ``params``.

    Raises
    ------
    UnknownNameError
        No discretizer of that name is registered.
    ParameterError
        An unknown parameter for that discretizer.

    Examples
    --------
    >>> import pidlab
    >>> pidlab.get_discretizer("pca-kmeans", n_clusters=8).get_params()["n_clusters"]
    8
    """
    from pidlab._plugins import lookup

    cls = lookup("discretizer", name).cls
    inst = cls()
    if params:
        if hasattr(inst, "set_params"):
            inst.set_params(**params)
        else:
            inst = cls(**params)
    return inst


def _name(d: Any) -> str:
    return str(getattr(d, "name", None) or type(d).__name__)


def checked_codes(discretizer: Any, codes: Any, n_samples: int, what: str = "the samples") -> NDArray[np.intp]:
    """Check a discretizer's output before the host uses it (plugins are code from strangers).

    The codes must be one integer per sample: a 1-D array of length ``n_samples`` with an integer
    dtype (a float array is accepted only when every entry is a finite whole number: nothing is
    rounded), non-negative, below the discretizer's ``n_symbols_`` when it declares one, and with
    at most as many distinct symbols as its guard allows: its ``max_symbols`` parameter when it
    has one (``categorical``), else :data:`MAX_SYMBOLS` (the grid discretizers' limit).

    Raises
    ------
    PluginOutputError
        Malformed codes (the message names the discretizer and what is wrong).
    ProblemTooLargeError
        More distinct symbols than the guard.
    """
    name = _name(discretizer)
    who = f"discretizer {name!r} on {what}"
    arr = np.asarray(codes)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise PluginOutputError(
            f"{who} returned codes of shape {arr.shape}; it must return one integer code per sample, a 1-D array "
            f"of length {n_samples}."
        )
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            raise PluginOutputError(f"{who} returned {int(bad.sum())} NaN or infinite code(s); codes must be integers.")
        if (arr != np.round(arr)).any() or (arr.size and float(np.abs(arr).max()) >= 2.0**53):
            raise PluginOutputError(f"{who} returned non-integer codes (dtype {arr.dtype}); codes must be integers.")
    elif arr.dtype.kind not in "iu":
        raise PluginOutputError(f"{who} returned codes of dtype {arr.dtype}; codes must be integers (0, 1, 2, ...).")
    out = arr.astype(np.intp)
    if out.size and int(out.min()) < 0:
        raise PluginOutputError(f"{who} returned a negative code ({int(out.min())}); codes must be 0, 1, 2, ...")
    declared = getattr(discretizer, "n_symbols_", None)
    if isinstance(declared, (int, np.integer)) and out.size and int(out.max()) >= int(declared):
        raise PluginOutputError(
            f"{who} returned the code {int(out.max())}, but its n_symbols_ is {int(declared)} (codes 0..{int(declared) - 1})."
        )
    limit = getattr(discretizer, "max_symbols", None)
    source = "its max_symbols parameter"
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        limit, source = MAX_SYMBOLS, "pidlab's limit for any discretizer (pidlab._discretizers.MAX_SYMBOLS)"
    srt = np.sort(out)
    k = int(np.count_nonzero(srt[1:] != srt[:-1])) + 1 if srt.size else 0
    if k > int(limit):
        raise ProblemTooLargeError(
            f"{who} produced {k:,} distinct symbols, above {int(limit):,} ({source}); tables and programs with that "
            "many symbols per modality are huge and their estimates unreliable. Use a coarser discretizer "
            "(discretizer='pca-kmeans' with n_clusters=10, say)."
        )
    return out


def fit_codes(discretizer: Any, X: Any, what: str = "the samples") -> NDArray[np.intp]:
    """``discretizer.fit(X).transform(X)``, checked by :func:`checked_codes` before anything uses it."""
    n = int(X.shape[0]) if hasattr(X, "shape") and len(X.shape) > 0 else len(X)
    return checked_codes(discretizer, discretizer.fit(X).transform(X), n, what)


@hookimpl
def pidlab_register_discretizers() -> list[type]:
    return builtin_classes(__name__, BUILTINS)
