"""Built-in discretizers: kmeans, pca-kmeans (the paper's pipeline), quantile, uniform, categorical.

All are pure numpy (k-means++ seeding and Lloyd iterations; PCA by an eigendecomposition of
the covariance), so scikit-learn is not needed.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from pidlab._discretizers._base import RANDOM_STATE, Discretizer, Interval, Options, as_feature_matrix
from pidlab.exceptions import InvalidDistributionError

__all__ = [
    "KMeansDiscretizer",
    "PCAKMeansDiscretizer",
    "QuantileDiscretizer",
    "UniformDiscretizer",
    "CategoricalDiscretizer",
    "MAX_SYMBOLS",
]

#: Largest output alphabet a grid discretizer may produce.
MAX_SYMBOLS = 1_000_000


def _sq_dists(X: NDArray[np.float64], C: NDArray[np.float64], xx: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    if xx is None:
        xx = np.einsum("ij,ij->i", X, X)
    d = xx[:, None] - 2.0 * (X @ C.T) + np.einsum("ij,ij->i", C, C)[None, :]
    np.maximum(d, 0.0, out=d)
    return d


def _kmeans_pp(X: NDArray[np.float64], k: int, rng: np.random.Generator, xx: NDArray[np.float64]) -> NDArray[np.float64]:
    n = X.shape[0]
    centers = np.empty((k, X.shape[1]))
    centers[0] = X[rng.integers(n)]
    d = _sq_dists(X, centers[:1], xx)[:, 0]
    for i in range(1, k):
        tot = d.sum()
        if tot <= 0:
            centers[i] = X[rng.integers(n)]
        else:
            # a few candidates, keep the one reducing the potential most (greedy k-means++)
            cand = rng.choice(n, size=min(n, 2 + int(np.log(k))), p=d / tot)
            dc = np.minimum(d[None, :], _sq_dists(X, X[cand], xx).T)
            best = int(np.argmin(dc.sum(axis=1)))
            centers[i] = X[cand[best]]
            d = dc[best]
            continue
        d = np.minimum(d, _sq_dists(X, centers[i : i + 1], xx)[:, 0])
    return centers


def _lloyd(
    X: NDArray[np.float64], k: int, rng: np.random.Generator, *, n_init: int, max_iter: int, tol: float
) -> tuple[NDArray[np.float64], float, int]:
    xx = np.einsum("ij,ij->i", X, X)
    best: tuple[NDArray[np.float64], float, int] | None = None
    scale = float(np.var(X, axis=0).mean()) or 1.0
    for _ in range(n_init):
        C = _kmeans_pp(X, k, rng, xx)
        it = 0
        for it in range(1, max_iter + 1):
            d = _sq_dists(X, C, xx)
            lab = np.argmin(d, axis=1)
            counts = np.bincount(lab, minlength=k)
            sums = np.zeros_like(C)
            np.add.at(sums, lab, X) if X.shape[0] < 2048 else _add_rows(sums, lab, X)
            newC = C.copy()
            nz = counts > 0
            newC[nz] = sums[nz] / counts[nz, None]
            if (~nz).any():  # empty cluster: move it to the points farthest from their centre
                far = np.argsort(d[np.arange(len(lab)), lab])[::-1]
                newC[~nz] = X[far[: int((~nz).sum())]]
            shift = float(((newC - C) ** 2).sum())
            C = newC
            if shift <= tol * scale * k:
                break
        d = _sq_dists(X, C, xx)
        inertia = float(d.min(axis=1).sum())
        if best is None or inertia < best[1]:
            best = (C, inertia, it)
    assert best is not None
    return best


def _add_rows(sums: NDArray[np.float64], lab: NDArray[np.intp], X: NDArray[np.float64]) -> None:
    for j in range(X.shape[1]):
        sums[:, j] = np.bincount(lab, weights=X[:, j], minlength=sums.shape[0])


def _check_enough(X: NDArray[np.float64], k: int, who: str) -> None:
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
    """k-means clustering of the raw features; the cluster index is the symbol.

    Parameters
    ----------
    n_clusters : int, default 20
    n_init : int, default 1
        k-means++ restarts; the lowest inertia wins.
    max_iter : int, default 100
    tol : float, default 1e-4
        Lloyd's iterations stop when the summed squared centre shift falls below
        ``tol * n_clusters * mean feature variance``.
    random_state : None, int or Generator, default 0
    """

    name: ClassVar[str] = "kmeans"
    description: ClassVar[str] = "k-means clusters of the raw features (numpy, k-means++ seeding)"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_clusters": [Interval(int, 1, None)],
        "n_init": [Interval(int, 1, None)],
        "max_iter": [Interval(int, 1, None)],
        "tol": [Interval(float, 0, None)],
        "random_state": [RANDOM_STATE],
    }

    def __init__(self, *, n_clusters: int = 20, n_init: int = 1, max_iter: int = 100, tol: float = 1e-4,
                 random_state: Any = 0) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _prep_fit(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return X

    def _prep(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return X

    def _fit(self, X: Any) -> None:
        A = as_feature_matrix(X, what=f"the samples given to {type(self).__name__}.fit")
        self.n_features_in_ = A.shape[1]
        Z = self._prep_fit(A)
        _check_enough(Z, int(self.n_clusters), type(self).__name__)
        C, inertia, it = _lloyd(Z, int(self.n_clusters), self._rng(), n_init=int(self.n_init),
                                max_iter=int(self.max_iter), tol=float(self.tol))
        self.cluster_centers_ = C
        self.inertia_ = inertia
        self.n_iter_ = it
        self.n_symbols_ = int(self.n_clusters)

    def _transform(self, X: Any) -> NDArray[np.intp]:
        A = as_feature_matrix(X, what=f"the samples given to {type(self).__name__}.transform")
        if A.shape[1] != self.n_features_in_:
            raise InvalidDistributionError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} features but got {A.shape[1]}."
            )
        Z = self._prep(A)
        out = np.empty(Z.shape[0], dtype=np.intp)
        step = 65536
        for s in range(0, Z.shape[0], step):
            out[s : s + step] = np.argmin(_sq_dists(Z[s : s + step], self.cluster_centers_), axis=1)
        return out


class PCAKMeansDiscretizer(KMeansDiscretizer):
    """The paper's pipeline: L2-normalise each sample, PCA to ``n_components``, then k-means.

    Parameters
    ----------
    n_components : int, default 5
        Principal components kept (at most the number of features).
    n_clusters : int, default 20
    n_init, max_iter, tol, random_state : as :class:`KMeansDiscretizer`.
    normalize : bool, default True
        L2-normalise each sample first (as the paper does).
    """

    name: ClassVar[str] = "pca-kmeans"
    description: ClassVar[str] = "L2-normalise, PCA to 5 components, k-means to 20 clusters (Liang et al. 2024)"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **KMeansDiscretizer._parameter_constraints,
        "n_components": [Interval(int, 1, None)],
        "normalize": [Options(True, False)],
    }

    def __init__(self, *, n_components: int = 5, n_clusters: int = 20, n_init: int = 1, max_iter: int = 100,
                 tol: float = 1e-4, normalize: bool = True, random_state: Any = 0) -> None:
        super().__init__(n_clusters=n_clusters, n_init=n_init, max_iter=max_iter, tol=tol, random_state=random_state)
        self.n_components = n_components
        self.normalize = normalize

    def _normalise(self, A: NDArray[np.float64]) -> NDArray[np.float64]:
        if not self.normalize:
            return A
        nrm = np.sqrt(np.einsum("ij,ij->i", A, A))
        return A / np.where(nrm > 0, nrm, 1.0)[:, None]

    def _prep_fit(self, A: NDArray[np.float64]) -> NDArray[np.float64]:
        B = self._normalise(A)
        self.mean_ = B.mean(axis=0)
        Bc = B - self.mean_
        k = min(int(self.n_components), B.shape[1])
        cov = (Bc.T @ Bc) / max(B.shape[0] - 1, 1)
        w, V = np.linalg.eigh(cov)
        order = np.argsort(w)[::-1][:k]
        comps = V[:, order].T
        # deterministic sign: largest-magnitude loading positive
        signs = np.sign(comps[np.arange(k), np.argmax(np.abs(comps), axis=1)])
        self.components_ = comps * np.where(signs == 0, 1.0, signs)[:, None]
        self.explained_variance_ = w[order]
        return Bc @ self.components_.T

    def _prep(self, A: NDArray[np.float64]) -> NDArray[np.float64]:
        return (self._normalise(A) - self.mean_) @ self.components_.T


class _GridDiscretizer(Discretizer):
    """Per-feature bins combined into one symbol (mixed radix)."""

    def _edges(self, col: NDArray[np.float64]) -> NDArray[np.float64]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit(self, X: Any) -> None:
        A = as_feature_matrix(X, what=f"the samples given to {type(self).__name__}.fit")
        if A.shape[0] < 2:
            raise InvalidDistributionError(
                f"{type(self).__name__} needs at least 2 samples to place bin edges; got {A.shape[0]}."
            )
        self.n_features_in_ = A.shape[1]
        self.bin_edges_ = [self._edges(A[:, j]) for j in range(A.shape[1])]
        self.n_bins_ = np.array([len(e) + 1 for e in self.bin_edges_], dtype=np.int64)
        total = int(np.prod(self.n_bins_.astype(float)))
        if total > MAX_SYMBOLS:
            raise InvalidDistributionError(
                f"{type(self).__name__} would produce {total} symbols ({A.shape[1]} features x up to "
                f"{int(self.n_bins_.max())} bins); use fewer bins or discretizer='pca-kmeans' for many features."
            )
        self.n_symbols_ = total

    def _transform(self, X: Any) -> NDArray[np.intp]:
        A = as_feature_matrix(X, what=f"the samples given to {type(self).__name__}.transform")
        if A.shape[1] != self.n_features_in_:
            raise InvalidDistributionError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} features but got {A.shape[1]}."
            )
        code = np.zeros(A.shape[0], dtype=np.intp)
        for j, e in enumerate(self.bin_edges_):
            code = code * int(self.n_bins_[j]) + np.searchsorted(e, A[:, j], side="right")
        return code


class QuantileDiscretizer(_GridDiscretizer):
    """Equal-frequency bins per feature (inner edges at the quantiles; ties merge bins).

    Parameters
    ----------
    n_bins : int, default 10
    """

    name: ClassVar[str] = "quantile"
    description: ClassVar[str] = "equal-frequency bins per feature, combined into one symbol"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {"n_bins": [Interval(int, 2, None)]}

    def __init__(self, *, n_bins: int = 10) -> None:
        self.n_bins = n_bins

    def _edges(self, col: NDArray[np.float64]) -> NDArray[np.float64]:
        q = np.quantile(col, np.linspace(0, 1, int(self.n_bins) + 1)[1:-1])
        e = np.unique(q)
        return e[e > col.min()]  # an edge at the minimum would leave the first bin empty


class UniformDiscretizer(_GridDiscretizer):
    """Equal-width bins per feature between the fitted minimum and maximum.

    Values outside the fitted range fall into the first or last bin.

    Parameters
    ----------
    n_bins : int, default 10
    """

    name: ClassVar[str] = "uniform"
    description: ClassVar[str] = "equal-width bins per feature, combined into one symbol"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {"n_bins": [Interval(int, 2, None)]}

    def __init__(self, *, n_bins: int = 10) -> None:
        self.n_bins = n_bins

    def _edges(self, col: NDArray[np.float64]) -> NDArray[np.float64]:
        lo, hi = float(col.min()), float(col.max())
        if hi <= lo:
            return np.array([])
        return np.linspace(lo, hi, int(self.n_bins) + 1)[1:-1]


class CategoricalDiscretizer(Discretizer):
    """Each distinct sample (row) seen at fit is one symbol; labels in ``categories_``.

    Parameters
    ----------
    handle_unknown : {"error"}, default "error"
        A sample not seen during ``fit`` raises (fit on all samples of the modality).
    """

    name: ClassVar[str] = "categorical"
    description: ClassVar[str] = "one symbol per distinct value (or row) seen at fit"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {"handle_unknown": [Options("error")]}

    def __init__(self, *, handle_unknown: str = "error") -> None:
        self.handle_unknown = handle_unknown

    @staticmethod
    def _keys(A: NDArray[Any]) -> list[Hashable]:
        if A.shape[1] == 1:
            return [v.item() if isinstance(v, np.generic) else v for v in A[:, 0]]
        return [tuple(v.item() if isinstance(v, np.generic) else v for v in row) for row in A]

    def _fit(self, X: Any) -> None:
        A = as_feature_matrix(X, what="the samples given to CategoricalDiscretizer.fit", allow_object=True)
        keys = self._keys(A)
        uniq = list(dict.fromkeys(keys))
        try:
            uniq = sorted(uniq)  # type: ignore[type-var]
        except TypeError:
            pass
        self.n_features_in_ = A.shape[1]
        self.categories_ = tuple(uniq)
        self._index = {v: i for i, v in enumerate(uniq)}
        self.n_symbols_ = len(uniq)

    def _transform(self, X: Any) -> NDArray[np.intp]:
        A = as_feature_matrix(X, what="the samples given to CategoricalDiscretizer.transform", allow_object=True)
        keys = self._keys(A)
        try:
            return np.fromiter((self._index[k] for k in keys), dtype=np.intp, count=len(keys))
        except KeyError as exc:
            raise InvalidDistributionError(
                f"CategoricalDiscretizer got the value {exc.args[0]!r}, not seen during fit; fit on all samples "
                "of the modality (labelled and unlabelled)."
            ) from None
