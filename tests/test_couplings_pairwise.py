"""min_joint_entropy: exact vertex enumeration vs closed forms and random LP vertices."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import linprog

from pidlab._couplings import min_joint_entropy
from pidlab._couplings._pairwise import _constraints
from pidlab.exceptions import InconsistentMarginalsError, InvalidDistributionError


def H(v) -> float:
    v = np.asarray(v, dtype=float).ravel()
    v = v[v > 0]
    return float(-(v * np.log2(v)).sum())


def margs(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return p.sum(1), p.sum(0), p.sum(2)


def test_binary_segment_closed_form() -> None:
    """|X1|=|X2|=|Y|=2: the set is the segment p + t(-1)^(x1+x2+y); the min sits at an end."""
    s = np.fromfunction(lambda a, b, c: (-1.0) ** (a + b + c), (2, 2, 2))
    rng = np.random.default_rng(0)
    for _ in range(100):
        p = rng.dirichlet(np.ones(8) * rng.choice([0.3, 1.0])).reshape(2, 2, 2)
        t_lo = -p[s > 0].min()
        t_hi = p[s < 0].min()
        ref = min(H(p + t_lo * s), H(p + t_hi * s))
        r = min_joint_entropy(*margs(p))
        assert r.exact and r.entropy == pytest.approx(ref, abs=1e-9)
        # max I(X1,X2;Y) over the segment, computed directly at both ends
        def mi(j: np.ndarray) -> float:
            return H(j.sum(2)) + H(j.sum((0, 1))) - H(j)

        max_i = max(mi(p + t_lo * s), mi(p + t_hi * s))
        assert r.max_mutual_information == pytest.approx((max_i, max_i), abs=1e-9)
        assert r.lower_bound == pytest.approx(r.entropy)
        assert r.marginal_residual < 1e-9
        assert all(v <= r.entropy + 1e-9 for v in r.lower_bounds.values())


def test_xor_and_uniform_share_marginals() -> None:
    u = np.full((2, 2), 0.25)
    r = min_joint_entropy(u, u, u)
    assert r.entropy == pytest.approx(2.0)  # XOR (or its complement), not the uniform 3 bits
    assert np.count_nonzero(r.joint) == 4


def test_exact_is_below_every_random_vertex() -> None:
    rng = np.random.default_rng(1)
    for shape in [(2, 3, 2), (3, 2, 2), (2, 2, 3), (3, 3, 2)]:
        for _ in range(4):
            p = rng.dirichlet(np.ones(int(np.prod(shape))) * 0.7).reshape(shape)
            a, b, c = margs(p)
            r = min_joint_entropy(a, b, c)
            assert r.exact
            np.testing.assert_allclose(r.joint.sum(1), a, atol=1e-9)
            np.testing.assert_allclose(r.joint.sum(0), b, atol=1e-9)
            np.testing.assert_allclose(r.joint.sum(2), c, atol=1e-9)
            assert r.entropy <= H(p) + 1e-9
            A = _constraints(*shape)
            rhs = np.concatenate([c.ravel(), a.ravel(), b.ravel()])
            for _ in range(15):  # vertices from random linear objectives (independent of the enumeration)
                res = linprog(rng.standard_normal(A.shape[1]), A_eq=A, b_eq=rhs, bounds=(0, None), method="highs")
                assert res.status == 0
                assert H(np.clip(res.x, 0, None)) >= r.entropy - 1e-7
            heur = min_joint_entropy(a, b, c, max_zero_sets=0)
            assert not heur.exact and heur.entropy >= r.entropy - 1e-9
            assert heur.lower_bound <= r.entropy + 1e-9
            assert any("UPPER bound" in n for n in heur.notes)


def test_heuristic_on_a_larger_instance_is_feasible_and_bracketed() -> None:
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(27)).reshape(3, 3, 3)
    r = min_joint_entropy(*margs(p))
    assert not r.exact and r.method == "successive-linearization"
    assert r.marginal_residual < 1e-7 and r.joint.min() >= 0
    assert r.lower_bound <= r.entropy <= H(p) + 1e-9
    d = json.loads(json.dumps(r.to_dict()))
    assert d["exact"] is False and d["units"] == "bits"
    assert "heuristic" in r._repr_html_()


def test_bad_and_inconsistent_input() -> None:
    u = np.full((2, 2), 0.25)
    with pytest.raises(InvalidDistributionError, match="shapes do not fit"):
        min_joint_entropy(u, np.full((3, 2), 1 / 6), u)
    with pytest.raises(InconsistentMarginalsError, match="disagree on p\\(y\\)"):
        min_joint_entropy(np.array([[0.4, 0.1], [0.4, 0.1]]), u, u)
    eye, anti = np.diag([0.5, 0.5]), np.array([[0, 0.5], [0.5, 0]])
    with pytest.raises(InconsistentMarginalsError, match="not realisable"):
        min_joint_entropy(anti, eye, eye)  # x1=x2, x2=y, x1!=y
    with pytest.raises(InvalidDistributionError, match="NaN"):
        min_joint_entropy(np.full((2, 2), np.nan), u, u)
