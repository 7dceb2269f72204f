"""The ``kmeans`` discretizer: scikit-learn's k-means on the raw features; the cluster is the symbol.

scikit-learn is imported when a k-means discretizer is fitted, never at ``import pidlab``; without
it, ``fit`` raises :class:`~pidlab.exceptions.MissingDependencyError` naming the extra to install.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from pidlab._contracts import Discretizer
from pidlab._discretizers._constraints import RANDOM_STATE, Interval
from pidlab.exceptions import InvalidDistributionError, MissingDependencyError

__all__ = ["KMeansDiscretizer", "INSTALL_HINT", "check_enough_samples", "sklearn_module", "sklearn_seed"]

#: What to install for the scikit-learn based discretizers.
INSTALL_HINT = "pip install 'pidlab[ml]'"


def sklearn_module(name: str, who: str) -> ModuleType:
    """``sklearn.<name>``, or :class:`MissingDependencyError` naming ``who`` and the extra to install."""
    import importlib

    try:
        return importlib.import_module(f"sklearn.{name}")
    except ImportError as exc:
        raise MissingDependencyError(
            f"{who} needs scikit-learn ({exc}); install it with {INSTALL_HINT}, or use "
            "discretizer='quantile', 'uniform' or 'categorical', which need nothing more."
        ) from None


def sklearn_seed(random_state: Any) -> int | None:
    """A ``random_state`` scikit-learn accepts: None, or an int in [0, 2**32).

    A numpy Generator gives the next int it draws (so a Generator makes successive fits differ,
    reproducibly); an int of 2**32 or more seeds a Generator that draws one.
    """
    if random_state is None:
        return None
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**32))
    rs = int(random_state)
    return rs if rs < 2**32 else int(np.random.default_rng(rs).integers(0, 2**32))


def check_enough_samples(X: NDArray[np.float64], k: int, who: str) -> None:
    """Refuse more clusters than samples, or than distinct samples (checked up to 20 samples per cluster)."""
    n = X.shape[0]
    if k > n:
        raise InvalidDistributionError(
            f"{who} was asked for n_clusters={k} but got only {n} samples; use n_clusters <= {n} or more data."
        )
    distinct = np.unique(X, axis=0).shape[0] if n <= 20 * k else n
    if k > distinct:
        raise InvalidDistributionError(
            f"{who} was asked for n_clusters={k} but the data have only {distinct} distinct samples; "
            f"use n_clusters <= {distinct} (or discretizer='categorical')."
        )


class KMeansDiscretizer(Discretizer):
    """k-means clustering of the raw features (scikit-learn); the cluster index is the symbol.

    Parameters
    ----------
    n_clusters : int, default 20
    n_init : int, default 1
        k-means++ restarts; the lowest inertia wins.
    max_iter : int, default 100
        Lloyd iterations per run (passes over the data with ``batch_size``).
    tol : float, default 1e-4
        Lloyd's iterations stop when the summed squared centre shift falls below
        ``tol`` times the mean feature variance (scikit-learn's rule).
    batch_size : int or None, default None
        None: full-batch k-means, :class:`sklearn.cluster.KMeans` (Lloyd). An int: mini-batch
        k-means, :class:`sklearn.cluster.MiniBatchKMeans` with batches of that many samples,
        for large data (hundreds of thousands of samples or more): much faster, with a
        slightly higher inertia.
    random_state : None, int or Generator, default 0
        Seeds the k-means++ initialisation (and the batches); an int gives the same clusters
        on every fit.

    Attributes
    ----------
    n_symbols_ : int
        ``n_clusters``.
    cluster_centers_ : numpy.ndarray, shape (n_clusters, n_features)
    inertia_ : float
        Sum of squared distances of the samples to their centre.
    n_iter_ : int
    kmeans_ : sklearn.cluster.KMeans or MiniBatchKMeans
        The fitted scikit-learn estimator.

    Raises
    ------
    MissingDependencyError
        At ``fit`` without scikit-learn (``pip install 'pidlab[ml]'``).
    """

    name: ClassVar[str] = "kmeans"
    description: ClassVar[str] = "k-means clusters of the raw features (scikit-learn KMeans, k-means++ seeding)"
    requires: ClassVar[tuple[str, ...]] = ("sklearn",)
    install_hint: ClassVar[str] = INSTALL_HINT
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_clusters": [Interval(int, 1, None)],
        "n_init": [Interval(int, 1, None)],
        "max_iter": [Interval(int, 1, None)],
        "tol": [Interval(float, 0, None)],
        "batch_size": [None, Interval(int, 1, None)],
        "random_state": [RANDOM_STATE],
    }

    def __init__(self, *, n_clusters: int = 20, n_init: int = 1, max_iter: int = 100, tol: float = 1e-4,
                 batch_size: int | None = None, random_state: Any = 0) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.random_state = random_state

    # the features k-means sees (PCAKMeansDiscretizer projects them first): at fit, the features
    # and the learned attributes of the projection (set only once the whole fit succeeded)
    def _features_fit(self, X: NDArray[np.float64], seed: int | None) -> tuple[NDArray[np.float64], dict[str, Any]]:
        return X, {}

    def _features(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return X

    def fit_matrix(self, X: NDArray[np.float64]) -> None:
        who = type(self).__name__
        cluster = sklearn_module("cluster", who)
        seed = sklearn_seed(self.random_state)
        Z, learned = self._features_fit(X, seed)
        k = int(self.n_clusters)
        check_enough_samples(Z, k, who)
        common = dict(n_clusters=k, init="k-means++", n_init=int(self.n_init), max_iter=int(self.max_iter),
                      tol=float(self.tol), random_state=seed)
        if self.batch_size is None:
            km = cluster.KMeans(algorithm="lloyd", **common)
        else:
            km = cluster.MiniBatchKMeans(batch_size=int(self.batch_size), **common)
        km.fit(Z)
        for attr, value in learned.items():
            setattr(self, attr, value)
        self.kmeans_ = km
        self.cluster_centers_ = km.cluster_centers_
        self.inertia_ = float(km.inertia_)
        self.n_iter_ = int(km.n_iter_)
        self.n_symbols_ = k

    def transform_matrix(self, X: NDArray[np.float64]) -> NDArray[np.intp]:
        return np.asarray(self.kmeans_.predict(self._features(X)), dtype=np.intp)
