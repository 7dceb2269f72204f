"""Discretizers: samples of a modality (any number of features) -> finite alphabets.

Built-ins, one module each, registered through the ``pidlab_register_discretizers`` hook like any
plugin (see :data:`BUILTINS`): ``kmeans`` and ``pca-kmeans`` (the paper's pipeline; both on
scikit-learn, imported when fitted), ``quantile``, ``uniform``, ``categorical``.
:func:`get_discretizer` picks a registered discretizer by name.
"""

from __future__ import annotations

from typing import Any

from pidlab._contracts import Discretizer, check_is_fitted
from pidlab._plugins import builtin_classes
from pidlab.exceptions import NotFittedError
from pidlab.hookspecs import hookimpl

__all__ = [
    "BUILTINS",
    "Discretizer",
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


@hookimpl
def pidlab_register_discretizers() -> list[type]:
    return builtin_classes(__name__, BUILTINS)
