"""The conformance kit (pidlab.testing) run on EVERY registered plugin of every kind: the
built-ins and the installed third-party ones (plugins/pidlab-mmi) go through the same checks a
plugin author runs in their own test suite. Negative controls show each check can fail."""

from __future__ import annotations

import numpy as np
import pytest

import pidlab
from pidlab import testing
from pidlab._plugins import lookup


@pytest.mark.parametrize("name", pidlab.measures())
def test_every_measure_conforms(name: str) -> None:
    testing.check_measure(name)


@pytest.mark.parametrize("name", pidlab.solvers(available=True))
def test_every_available_solver_conforms(name: str) -> None:
    testing.check_solver(name)


@pytest.mark.parametrize("name", pidlab.discretizers())
def test_every_discretizer_conforms(name: str) -> None:
    testing.check_discretizer(name)


@pytest.mark.parametrize("name", pidlab.couplings())
def test_every_coupling_conforms(name: str) -> None:
    testing.check_coupling(name)


def test_third_party_plugins_are_among_the_checked() -> None:
    assert "mmi" in pidlab.measures(), "install plugins/pidlab-mmi (make test does this)"
    assert not lookup("measure", "mmi").builtin


def test_checks_accept_a_class_an_instance_or_a_name() -> None:
    cls = lookup("discretizer", "uniform").cls
    testing.check_discretizer(cls)
    testing.check_discretizer(cls(n_bins=3))
    testing.check_coupling(lookup("coupling", "lattice").cls())
    testing.check_measure(lookup("measure", "wms").cls)


# ----------------------------------------------------------------------------- negative controls
class _Leaky(pidlab.Coupling):
    """Drops the smallest cell: the marginals are not met."""

    name = "leaky"

    def couple_sorted(self, p, q):
        i, j = np.meshgrid(np.arange(p.size), np.arange(q.size), indexing="ij")
        v = np.outer(p, q).ravel()
        v[np.argmin(v)] = 0.0
        return [i.ravel(), j.ravel()], v


class _Overclaiming(pidlab.Coupling):
    """The product coupling, but it claims to be exact."""

    name = "overclaiming"

    def couple_sorted(self, p, q):
        i, j = np.meshgrid(np.arange(p.size), np.arange(q.size), indexing="ij")
        return [i.ravel(), j.ravel()], np.outer(p, q).ravel(), {"exact": True}


def test_check_coupling_fails_on_broken_couplings() -> None:
    with pytest.raises(AssertionError, match="marginal 1 is met only"):
        testing.check_coupling(_Leaky)
    with pytest.raises(AssertionError, match="lower bound .* exceeds the minimum|exact result"):
        testing.check_coupling(_Overclaiming)


class _NoFitCheck(pidlab.Discretizer):
    """Transforms before fit (its learned state is not in a trailing-underscore attribute)."""

    name = "no-fit-check"

    def __init__(self) -> None:
        pass

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.zeros(len(X), dtype=np.intp)

    def fit_matrix(self, X):  # pragma: no cover - never called
        pass

    def transform_matrix(self, X):  # pragma: no cover - never called
        return np.zeros(len(X), dtype=np.intp)


class _Unseeded(pidlab.Discretizer):
    """Codes that change from one fit to the next whatever random_state says."""

    name = "unseeded"
    fits = 0

    def __init__(self, *, random_state=0) -> None:
        self.random_state = random_state

    def fit_matrix(self, X):
        type(self).fits += 1
        self.n_symbols_ = 2
        self.salt_ = type(self).fits % 2

    def transform_matrix(self, X):
        return ((X[:, 0] > 0).astype(np.intp) + self.salt_) % 2


def test_check_discretizer_fails_on_broken_discretizers() -> None:
    with pytest.raises(AssertionError, match="transform before fit must raise NotFittedError"):
        testing.check_discretizer(_NoFitCheck)
    with pytest.raises(AssertionError, match="two fits with the same random_state=0 gave different codes"):
        testing.check_discretizer(_Unseeded)


def test_check_measure_fails_on_a_mislabelled_measure() -> None:
    class Mislabelled(pidlab.Measure):
        name = "mislabelled"

        def compute(self, dist, *, solver=None):
            return pidlab.PIDResult.from_redundancy(dist, "something-else", 0.0)

    with pytest.raises(AssertionError, match="must carry measure='mislabelled'"):
        testing.check_measure(Mislabelled)


def test_check_measure_fails_when_compute_many_disagrees_with_compute() -> None:
    # compute is correct (R = min_i I(Xi;Y), a valid decomposition); compute_many is off by 0.01
    # bits on the third item only, as a vectorised path with an indexing slip would be.
    class MMI(pidlab.Measure):
        name = "mmi-broken-batch"

        def compute(self, dist, *, solver=None):
            return pidlab.PIDResult.from_redundancy(
                dist, self.name, min(dist.mutual_information(0, 2), dist.mutual_information(1, 2)))

        def compute_many(self, ps, *, solver=None):
            out = super().compute_many(ps)
            out["R"][2] += 0.01
            return out

    with pytest.raises(AssertionError, match="compute_many and compute disagree on R of item 2"):
        testing.check_measure(MMI)


def test_check_measure_fails_when_compute_many_changes_its_input() -> None:
    class Mutating(pidlab.Measure):
        name = "mutating"
        kind = "net"

        def compute(self, dist, *, solver=None):
            return pidlab.PIDResult.from_net(dist, self.name, -dist.coinformation(), "net synergy")

        def compute_many(self, ps, *, solver=None):
            out = super().compute_many(ps)
            ps[...] = 0.0
            return out

    with pytest.raises(AssertionError, match="compute_many changed the stack it was given"):
        testing.check_measure(Mutating)
