"""Discretizers: samples of a modality (any number of features) -> finite alphabets.

Built-ins (registered through the ``pidlab_register_discretizers`` hook like any plugin):
``kmeans``, ``pca-kmeans`` (the paper's pipeline), ``quantile``, ``uniform``, ``categorical``.
"""

from __future__ import annotations

from typing import Any

from pidlab._discretizers._base import Discretizer, NotFittedError, check_is_fitted
from pidlab._discretizers._builtin import (
    CategoricalDiscretizer,
    KMeansDiscretizer,
    PCAKMeansDiscretizer,
    QuantileDiscretizer,
    UniformDiscretizer,
)
from pidlab.hookspecs import hookimpl

__all__ = [
    "Discretizer",
    "get_discretizer",
    "check_is_fitted",
    "NotFittedError",
    "KMeansDiscretizer",
    "PCAKMeansDiscretizer",
    "QuantileDiscretizer",
    "UniformDiscretizer",
    "CategoricalDiscretizer",
]


def get_discretizer(name: str, **params: Any) -> Any:
    """A new discretizer instance by registered name (built-in or third-party), with ``params``.

    Raises
    ------
    UnknownNameError
        No discretizer of that name is registered.
    InvalidDistributionError
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
    return [
        KMeansDiscretizer,
        PCAKMeansDiscretizer,
        QuantileDiscretizer,
        UniformDiscretizer,
        CategoricalDiscretizer,
    ]
