"""The ``pca-kmeans`` discretizer (the paper's pipeline): L2-normalise each sample, PCA (scikit-learn),
then k-means (scikit-learn) on the components."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from pidlab._discretizers._constraints import Interval, Options
from pidlab._discretizers._kmeans import KMeansDiscretizer, sklearn_module

__all__ = ["PCAKMeansDiscretizer"]


class PCAKMeansDiscretizer(KMeansDiscretizer):
    """The paper's pipeline: L2-normalise each sample, PCA to ``n_components``, then k-means.

    Parameters
    ----------
    n_components : int, default 5
        Principal components kept (at most the number of features, and of samples).
    n_clusters : int, default 20
    n_init, max_iter, tol, batch_size, random_state : as :class:`KMeansDiscretizer`.
    normalize : bool, default True
        L2-normalise each sample first (as the paper does).

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA
        The fitted projection; ``components_``, ``mean_`` and ``explained_variance_`` are its
        attributes of those names (each component's largest loading is positive).
    n_symbols_, cluster_centers_, inertia_, n_iter_, kmeans_ : as :class:`KMeansDiscretizer`.
    """

    name: ClassVar[str] = "pca-kmeans"
    description: ClassVar[str] = "L2-normalise, PCA to 5 components, k-means to 20 clusters (Liang et al. 2024)"
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **KMeansDiscretizer.parameter_constraints,
        "n_components": [Interval(int, 1, None)],
        "normalize": [Options(True, False)],
    }

    def __init__(self, *, n_components: int = 5, n_clusters: int = 20, n_init: int = 1, max_iter: int = 100,
                 tol: float = 1e-4, batch_size: int | None = None, normalize: bool = True,
                 random_state: Any = 0) -> None:
        super().__init__(n_clusters=n_clusters, n_init=n_init, max_iter=max_iter, tol=tol, batch_size=batch_size,
                         random_state=random_state)
        self.n_components = n_components
        self.normalize = normalize

    pca_: Any  # learned by fit

    def _normalise(self, A: NDArray[np.float64]) -> NDArray[np.float64]:
        if not self.normalize:
            return A
        nrm = np.sqrt(np.einsum("ij,ij->i", A, A))
        return A / np.where(nrm > 0, nrm, 1.0)[:, None]

    def _features_fit(self, A: NDArray[np.float64], seed: int | None) -> tuple[NDArray[np.float64], dict[str, Any]]:
        decomposition = sklearn_module("decomposition", type(self).__name__)
        B = self._normalise(A)
        k = min(int(self.n_components), B.shape[1], B.shape[0])
        pca = decomposition.PCA(n_components=k, svd_solver="auto", random_state=seed)
        Z = np.asarray(pca.fit(B).transform(B), dtype=np.float64)  # exactly what transform computes later
        learned = {"pca_": pca, "components_": pca.components_, "mean_": pca.mean_,
                   "explained_variance_": pca.explained_variance_}
        return Z, learned

    def _features(self, A: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(self.pca_.transform(self._normalise(A)), dtype=np.float64)
