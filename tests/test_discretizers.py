"""Tests of the discretizer plugins (sklearn estimator contract, built-ins, bad input)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import pidlab
from pidlab import Discretizer, get_discretizer
from pidlab.exceptions import InvalidDistributionError, NotFittedError, ParameterError, UnknownNameError

BUILTINS = ["kmeans", "pca-kmeans", "quantile", "uniform", "categorical"]


def test_registered_builtins() -> None:
    assert set(BUILTINS) <= set(pidlab.discretizers())
    for name in BUILTINS:
        d = get_discretizer(name)
        assert isinstance(d, Discretizer) and d.name == name
    with pytest.raises(UnknownNameError, match="known discretizers"):
        get_discretizer("nope")


@pytest.mark.parametrize("name", BUILTINS)
def test_estimator_contract(name: str) -> None:
    d = get_discretizer(name)
    params = d.get_params()
    # keyword-only params stored verbatim, no validation in __init__
    cls = type(d)
    odd = cls(**{k: "not-validated" for k in params}) if params else cls()
    assert all(v == "not-validated" for v in odd.get_params().values())
    with pytest.raises(NotFittedError, match="not fitted"):
        d.transform(np.zeros((3, 2)))
    assert not [k for k in vars(d) if k.endswith("_")]
    X = np.random.default_rng(0).normal(size=(60, 3)).round(1)
    out = d.fit(X)
    assert out is d
    codes = d.transform(X)
    assert codes.shape == (60,) and codes.dtype.kind == "i"
    assert 0 <= codes.min() and codes.max() < d.n_symbols_
    with pytest.raises(ParameterError, match="Invalid parameter"):
        d.set_params(bogus=1)
    assert d.set_params(**params) is d


def test_parameter_constraints_message() -> None:
    with pytest.raises(ParameterError, match=r"The `'n_bins'` parameter of `UniformDiscretizer` must be an int >= 2. Got 1"):
        get_discretizer("uniform", n_bins=1).fit(np.arange(10.0))
    with pytest.raises(ParameterError, match="random_state"):
        get_discretizer("kmeans", random_state="x").fit(np.zeros((5, 1)))


def test_kmeans_recovers_separated_clusters_and_is_seeded() -> None:
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    truth = rng.integers(0, 4, 400)
    X = centres[truth] + 0.3 * rng.normal(size=(400, 2))
    d = get_discretizer("kmeans", n_clusters=4, random_state=3).fit(X)
    codes = d.transform(X)
    # a perfect clustering: the contingency table is a permutation
    table = np.zeros((4, 4), int)
    np.add.at(table, (truth, codes), 1)
    assert ((table > 0).sum(axis=1) == 1).all() and ((table > 0).sum(axis=0) == 1).all()
    again = get_discretizer("kmeans", n_clusters=4, random_state=3).fit(X).transform(X)
    assert np.array_equal(codes, again)


def test_pca_kmeans_pipeline_matches_manual_projection() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 8)) + 3 * rng.integers(0, 2, (200, 1))
    d = get_discretizer("pca-kmeans", n_clusters=5, n_components=3).fit(X)
    B = X / np.linalg.norm(X, axis=1, keepdims=True)
    Bc = B - B.mean(0)
    # principal subspace from an SVD must span the same space as the fitted components
    _, _, Vt = np.linalg.svd(Bc, full_matrices=False)
    P1 = Vt[:3].T @ Vt[:3]
    P2 = d.components_.T @ d.components_
    assert np.abs(P1 - P2).max() < 1e-8
    assert d.transform(X).max() < 5


def test_quantile_and_uniform_bins() -> None:
    x = np.arange(100.0)
    q = get_discretizer("quantile", n_bins=4).fit(x)
    assert np.bincount(q.transform(x)).tolist() == [25, 25, 25, 25]
    u = get_discretizer("uniform", n_bins=2).fit(np.array([0.0, 10.0]))
    assert u.transform([-5.0, 4.9, 5.1, 50.0]).tolist() == [0, 0, 1, 1]
    # two features combine by mixed radix
    g = get_discretizer("uniform", n_bins=2).fit(np.array([[0.0, 0.0], [1.0, 1.0]]))
    assert g.n_symbols_ == 4 and g.transform([[0.9, 0.1]]).tolist() == [2]
    with pytest.raises(InvalidDistributionError, match="symbols"):
        get_discretizer("uniform", n_bins=10).fit(np.random.default_rng(0).normal(size=(50, 7)))


def test_categorical_strings_and_unknown() -> None:
    c = get_discretizer("categorical").fit(np.array(["b", "a", "c", "a"], dtype=object))
    assert c.categories_ == ("a", "b", "c")
    assert c.transform(["c", "a"]).tolist() == [2, 0]
    with pytest.raises(InvalidDistributionError, match="not seen during fit"):
        c.transform(["z"])
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"colour": ["red", "blue", "red"], "size": [1, 2, 1]})
    c2 = get_discretizer("categorical").fit(df)
    assert c2.n_symbols_ == 2


def test_bad_input() -> None:
    X = np.ones((10, 2))
    X[3, 1] = np.nan
    with pytest.raises(InvalidDistributionError, match="NaN"):
        get_discretizer("kmeans").fit(X)
    with pytest.raises(InvalidDistributionError, match="n_clusters=20 but got only 5 samples"):
        get_discretizer("kmeans").fit(np.random.default_rng(0).normal(size=(5, 2)))
    with pytest.raises(InvalidDistributionError, match="distinct samples"):
        get_discretizer("kmeans", n_clusters=3).fit(np.array([[0.0], [0.0], [1.0], [1.0]]))
    with pytest.raises(InvalidDistributionError, match="no samples"):
        get_discretizer("quantile").fit(np.zeros((0, 3)))
    with pytest.raises(InvalidDistributionError, match="categorical"):
        get_discretizer("kmeans", n_clusters=2).fit(np.array([["a"], ["b"], ["c"]], dtype=object))
    d = get_discretizer("kmeans", n_clusters=2).fit(np.random.default_rng(0).normal(size=(20, 3)))
    with pytest.raises(InvalidDistributionError, match="3 features"):
        d.transform(np.zeros((2, 4)))


def test_kmeans_runs_on_scikit_learn_and_is_seeded() -> None:
    """kmeans and pca-kmeans are scikit-learn estimators underneath; a seed fixes the clusters."""
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 6)) + 4 * rng.integers(0, 3, (300, 1))
    d = get_discretizer("pca-kmeans", n_clusters=3, n_components=2, random_state=5).fit(X)
    assert isinstance(d.kmeans_, sklearn_cluster.KMeans) and d.pca_.n_components_ == 2
    assert np.array_equal(d.transform(X), get_discretizer("pca-kmeans", n_clusters=3, n_components=2,
                                                          random_state=5).fit(X).transform(X))
    # a numpy Generator seeds the run too: equal generators give equal clusters
    a = get_discretizer("kmeans", n_clusters=3, random_state=np.random.default_rng(9)).fit(X).transform(X)
    b = get_discretizer("kmeans", n_clusters=3, random_state=np.random.default_rng(9)).fit(X).transform(X)
    assert np.array_equal(a, b)


def test_mini_batch_kmeans_for_large_data() -> None:
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    truth = rng.integers(0, 4, 4000)
    X = centres[truth] + 0.3 * rng.normal(size=(4000, 2))
    d = get_discretizer("kmeans", n_clusters=4, batch_size=256, n_init=3).fit(X)
    assert isinstance(d.kmeans_, sklearn_cluster.MiniBatchKMeans)
    table = np.zeros((4, 4), int)
    np.add.at(table, (truth, d.transform(X)), 1)
    assert ((table > 0).sum(axis=1) == 1).all()
    with pytest.raises(ParameterError, match=r"The `'batch_size'` parameter of `KMeansDiscretizer` must be None or an int >= 1"):
        get_discretizer("kmeans", batch_size=0).fit(X)


def test_without_scikit_learn_kmeans_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from pidlab.exceptions import MissingDependencyError

    for mod in ("sklearn", "sklearn.cluster", "sklearn.decomposition"):
        monkeypatch.setitem(sys.modules, mod, None)  # import of it now raises ImportError
    X = np.random.default_rng(0).normal(size=(50, 3))
    for name in ("kmeans", "pca-kmeans"):
        with pytest.raises(MissingDependencyError, match=r"pip install 'pidlab\[ml\]'"):
            get_discretizer(name, n_clusters=2).fit(X)
        info = {(i.kind, i.name): i for i in pidlab.plugins()}[("discretizer", name)]
        assert not info.available and "sklearn" in info.reason and "pidlab[ml]" in info.reason
    assert get_discretizer("quantile").fit(X).transform(X).shape == (50,)  # the others need nothing more
