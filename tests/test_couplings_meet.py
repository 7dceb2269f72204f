"""Tests of the majorisation meet against hand values and an exact rational reference."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from pidlab._couplings import meet, meet_entropy
from pidlab.exceptions import InvalidDistributionError, PidlabError


def _meet_fractions(*vecs: list[Fraction]) -> list[Fraction]:
    """Reference: the meet in exact rationals by a plain loop."""
    n = max(len(v) for v in vecs)
    srt = [sorted(v, reverse=True) + [Fraction(0)] * (n - len(v)) for v in vecs]
    out, prev = [], Fraction(0)
    sums = [Fraction(0)] * len(srt)
    for i in range(n):
        sums = [s + v[i] for s, v in zip(sums, srt)]
        z = min(sums)
        out.append(z - prev)
        prev = z
    return out


def _random_rational(rng: np.random.Generator, n: int, den: int = 60) -> list[Fraction]:
    cuts = sorted(rng.integers(0, den + 1, size=n - 1).tolist())
    edges = [0, *cuts, den]
    return [Fraction(edges[i + 1] - edges[i], den) for i in range(n)]


def test_hand_values() -> None:
    np.testing.assert_allclose(meet([0.6, 0.4], [0.4, 0.3, 0.3]), [0.4, 0.3, 0.3], atol=1e-15)
    # P = (.5, 1), Q = (.7, .9, 1): Z = (.5, .9, 1)
    np.testing.assert_allclose(meet([0.5, 0.5], [0.7, 0.2, 0.1]), [0.5, 0.4, 0.1], atol=1e-15)
    np.testing.assert_allclose(meet([1.0], [0.25] * 4), [0.25] * 4, atol=1e-15)
    # H(.4,.3,.3) by hand
    h = -(0.4 * np.log2(0.4) + 2 * 0.3 * np.log2(0.3))
    assert meet_entropy([0.6, 0.4], [0.4, 0.3, 0.3]) == pytest.approx(h, abs=1e-12)
    assert h == pytest.approx(1.5709505944546684, abs=1e-12)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_matches_exact_rational_reference(k: int) -> None:
    rng = np.random.default_rng(k)
    for _ in range(300):
        vecs = [_random_rational(rng, int(rng.integers(1, 8))) for _ in range(k)]
        ref = _meet_fractions(*vecs)
        got = meet(*[[float(x) for x in v] for v in vecs])
        assert got.shape == (len(ref),)
        np.testing.assert_allclose(got, [float(x) for x in ref], atol=1e-14)


def test_majorised_by_each_and_greatest() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        p = rng.dirichlet(np.ones(rng.integers(1, 9)) * 0.5)
        q = rng.dirichlet(np.ones(rng.integers(1, 9)) * 0.5)
        m = meet(p, q)
        assert (m >= 0).all()
        assert np.all(np.diff(m) <= 1e-15)  # non-increasing
        assert m.sum() == pytest.approx(1.0, abs=1e-12)
        cm = np.cumsum(m)
        for v in (p, q):
            cv = np.cumsum(np.pad(np.sort(v)[::-1], (0, m.size - v.size)))
            assert np.all(cm <= cv + 1e-12)
        # greatest lower bound: any sorted w majorised by both is majorised by m
        w = np.sort(rng.dirichlet(np.ones(m.size)))[::-1]
        cw = np.cumsum(w)
        cp = np.cumsum(np.pad(np.sort(p)[::-1], (0, m.size - p.size)))
        cq = np.cumsum(np.pad(np.sort(q)[::-1], (0, m.size - q.size)))
        if np.all(cw <= cp + 1e-12) and np.all(cw <= cq + 1e-12):
            assert np.all(cw <= cm + 1e-12)


def test_permutation_and_padding_invariance() -> None:
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(6))
    q = rng.dirichlet(np.ones(4))
    ref = meet(p, q)
    np.testing.assert_array_equal(meet(rng.permutation(p), rng.permutation(q)), ref)
    np.testing.assert_allclose(meet(np.append(p, [0, 0, 0]), q)[: ref.size], ref, atol=1e-16)
    np.testing.assert_allclose(meet(q, p), ref, atol=1e-16)


def test_tables_are_read_over_cells() -> None:
    p12 = np.array([[0.3, 0.2], [0.1, 0.4]])
    np.testing.assert_allclose(meet(p12, [0.5, 0.5]), meet(p12.ravel(), [0.5, 0.5]))


def test_tiny_atoms() -> None:
    p = np.array([1 - 1e-15, 1e-15])
    m = meet(p, [1.0])
    assert m[0] == pytest.approx(1.0) and 0 <= m[1] <= 1e-15
    assert meet_entropy(p, [1.0]) < 1e-12


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([0.5, 0.4], [1.0]), "sums to"),
        (([0.5, np.nan, 0.5], [1.0]), "NaN"),
        (([1.2, -0.2], [1.0]), "negative"),
        (([], [1.0]), "empty"),
        (([1.0],), "at least 2"),
        ((["a", "b"], [1.0]), "array of numbers"),
    ],
)
def test_bad_input(args: tuple, match: str) -> None:
    with pytest.raises(InvalidDistributionError, match=match) as ei:
        meet(*args)
    assert isinstance(ei.value, PidlabError) and isinstance(ei.value, ValueError)


def test_tolerance_is_stated_and_used() -> None:
    p = [0.5, 0.5 + 1e-7]
    with pytest.raises(InvalidDistributionError, match="tolerance 1e-09"):
        meet(p, [1.0])
    assert meet(p, [1.0], tol=1e-6).sum() == pytest.approx(1.0, abs=1e-6)
