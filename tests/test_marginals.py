"""Tests of pidlab.Marginals: validation, consistency report, repair, maximum-entropy joint."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import pidlab
from pidlab import ConsistencyReport, Marginals
from pidlab.exceptions import InconsistentMarginalsError, InvalidDistributionError, ParameterError


def _rand(shape: tuple[int, int, int], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)


def test_attributes_read_only_and_shapes() -> None:
    p = _rand((3, 4, 2), 0)
    m = Marginals(p.sum(1), p.sum(0), p.sum(2), labels=(list("abc"), None, ["n", "y"]), names=("L", "R", "T"))
    assert m.shape == (3, 4, 2)
    assert m.p_x1y.shape == (3, 2) and m.p_x2y.shape == (4, 2) and m.p_x1x2.shape == (3, 4)
    np.testing.assert_allclose(m.p_x1y, p.sum(1))
    with pytest.raises(ValueError):
        m.p_x1y[0, 0] = 1.0
    assert m.labels[0] == ("a", "b", "c") and m.names == ("L", "R", "T")
    assert "target T:2" in repr(m)
    json.dumps(m.to_dict())


@pytest.mark.parametrize(
    "tables, match",
    [
        ((np.full((2, 2), 0.25), np.full((2, 3), 1 / 6), np.full((2, 2), 0.25)), "target columns"),
        ((np.full((2, 2), 0.25), np.full((2, 2), 0.25), np.full((3, 2), 1 / 6)), r"must have shape \(2, 2\)"),
        ((np.full((2, 2), 0.3), np.full((2, 2), 0.25), np.full((2, 2), 0.25)), "sums to"),
        ((np.array([[0.5, np.nan], [0.5, 0]]), np.full((2, 2), 0.25), np.full((2, 2), 0.25)), "NaN"),
        ((np.full((2, 2, 1), 0.25), np.full((2, 2), 0.25), np.full((2, 2), 0.25)), "2 dimensions"),
    ],
)
def test_validation_errors(tables: tuple, match: str) -> None:
    with pytest.raises(InvalidDistributionError, match=match):
        Marginals(*tables)


def test_consistency_of_a_joint() -> None:
    m = Marginals.from_joint(_rand((3, 3, 3), 1))
    r = m.consistency()
    assert isinstance(r, ConsistencyReport)
    assert r.consistent and r.violation_l1 < 1e-9 and r.max_tv < 1e-12
    json.dumps(r.to_dict())
    assert "consistent" in r._repr_html_()


def test_singleton_disagreement_measured_in_tv() -> None:
    p = _rand((2, 3, 2), 2)
    a, b, c = p.sum(1), p.sum(0), p.sum(2)
    b2 = b.copy()
    b2[:, 0] *= 0.5
    b2 /= b2.sum()
    r = Marginals(a, b2, c).consistency()
    assert not r.singletons_agree and not r.realisable
    assert r.tv_y == pytest.approx(0.5 * np.abs(a.sum(0) - b2.sum(0)).sum())
    assert r.tv_x2 == pytest.approx(0.5 * np.abs(b2.sum(1) - c.sum(0)).sum())
    assert r.tv_x1 == pytest.approx(0.0, abs=1e-15)
    assert "disagree" in r.summary()


def test_unrealisable_singleton_consistent_bits() -> None:
    """x1 = x2, x2 = y, x1 != y on bits: singletons agree, no joint exists."""
    eq = np.eye(2) / 2
    ne = eq[::-1]
    m = Marginals(ne, eq, eq)  # p(x1,y): x1 != y ; p(x2,y): x2 = y ; p(x1,x2): x1 = x2
    r = m.consistency()
    assert r.singletons_agree and not r.realisable and not r.consistent
    # brute force the minimal total L1 change over a grid of joints: the LP must not exceed it
    best = np.inf
    for w in itertools.product(range(5), repeat=8):  # joints on the grid of quarters
        if sum(w) != 4:
            continue
        q = np.array(w, dtype=float).reshape(2, 2, 2) / 4
        v = np.abs(q.sum(1) - ne).sum() + np.abs(q.sum(0) - eq).sum() + np.abs(q.sum(2) - eq).sum()
        best = min(best, v)
    assert r.violation_l1 <= best + 1e-9
    assert r.violation_l1 > 0.5
    with pytest.raises(InconsistentMarginalsError, match="repair") as ei:
        m.check()
    assert ei.value.report.violation_l1 == pytest.approx(r.violation_l1)
    with pytest.raises(InconsistentMarginalsError):
        m.max_entropy_joint()


@pytest.mark.parametrize("method", ["tv", "kl"])
def test_repair_returns_realisable_triple_and_distance(method: str) -> None:
    p = _rand((3, 3, 2), 3)
    a, b, c = p.sum(1), p.sum(0), p.sum(2)
    rng = np.random.default_rng(0)
    noisy = [t + 0.02 * rng.random(t.shape) for t in (a, b, c)]
    noisy = [t / t.sum() for t in noisy]
    m = Marginals(*noisy)
    assert not m.consistency().consistent
    res = m.repair(method=method)
    fixed = res.marginals
    assert fixed.consistency().consistent
    # the joint realises the repaired tables
    np.testing.assert_allclose(res.joint.sum(1), fixed.p_x1y, atol=1e-12)
    np.testing.assert_allclose(res.joint.sum(2), fixed.p_x1x2, atol=1e-12)
    for k, g, n in zip(("p_x1y", "p_x2y", "p_x1x2"), noisy, fixed.tables()):
        assert res.tv[k] == pytest.approx(0.5 * np.abs(g - n).sum(), abs=1e-12)
        assert res.kl[k] >= 0
    assert 0 < res.max_tv < 0.1
    if method == "tv":
        # LP optimality: total L1 change no larger than the change to the true p's marginals
        true_change = sum(np.abs(g - t).sum() for g, t in zip(noisy, (a, b, c)))
        assert 2 * sum(res.tv.values()) <= true_change + 1e-9
    json.dumps(res.to_dict())
    out, rr = m.check(repair=method)
    assert rr is not None and rr.method == method


def test_repair_bad_method_and_weights() -> None:
    m = Marginals.from_joint(_rand((2, 2, 2), 4))
    with pytest.raises(ParameterError, match="method"):
        m.repair(method="l2")
    with pytest.raises(ParameterError, match="weights"):
        m.repair(method="kl", weights=(1, -1, 1))
    same, rr = m.check()
    assert same is m and rr is None


def test_max_entropy_certificate_and_xor() -> None:
    me = Marginals.from_joint(pidlab.examples.get("xor")).max_entropy_joint()
    np.testing.assert_allclose(me.joint, np.full((2, 2, 2), 1 / 8), atol=1e-14)
    assert me.entropy == pytest.approx(3.0, abs=1e-12)
    assert me.entropy_upper >= me.entropy - 1e-12
    json.dumps(me.to_dict())


def test_max_entropy_is_maximal_against_random_feasible_points() -> None:
    """Other feasible joints (the true p, and mixtures with it) never have higher entropy."""
    from pidlab._info import entropy

    for seed in range(5):
        p = _rand((3, 2, 3), 10 + seed)
        me = Marginals.from_joint(p).max_entropy_joint()
        assert entropy(p) <= me.entropy_upper + 1e-12
        assert me.entropy <= me.entropy_upper + 1e-12
        for t in (0.3, 0.7):
            assert entropy(t * p + (1 - t) * me.joint) <= me.entropy_upper + 1e-12
        np.testing.assert_allclose(me.joint.sum(2), p.sum(2), atol=1e-12)
        np.testing.assert_allclose(me.joint.sum(1), p.sum(1), atol=1e-12)
        np.testing.assert_allclose(me.joint.sum(0), p.sum(0), atol=1e-12)


def test_batched_em_equals_one_problem_at_a_time() -> None:
    """The bootstrap runs the ML reconciliation for all replicates at once; each must match its own run."""
    from pidlab._fitting import kl_projection

    rng = np.random.default_rng(4)
    A = rng.dirichlet(np.ones(6), size=4).reshape(4, 3, 2)
    B = rng.dirichlet(np.ones(4), size=4).reshape(4, 2, 2)
    C = rng.dirichlet(np.ones(6), size=4).reshape(4, 3, 2)
    C[1, 0, :] = 0.0  # a zero row in one problem
    C[1] /= C[1].sum()
    w = np.array([0.5, 0.3, 0.2])
    batch = kl_projection(A, B, C, w, max_iter=400, tol=1e-10)
    for i in range(4):
        one = kl_projection(A[i], B[i], C[i], w, max_iter=400, tol=1e-10)
        np.testing.assert_allclose(batch[i], one, atol=1e-15)
        # a plain loop of the EM update, written out
        r = np.full((3, 2, 2), 1 / 12)
        for _ in range(400):
            with np.errstate(divide="ignore", invalid="ignore"):
                fa = np.nan_to_num(A[i] / r.sum(1))[:, None, :]
                fb = np.nan_to_num(B[i] / r.sum(0))[None, :, :]
                fc = np.nan_to_num(C[i] / r.sum(2))[:, :, None]
            new = r * (w[0] * fa + w[1] * fb + w[2] * fc)
            new /= new.sum()
            done = np.abs(new - r).sum() < 1e-10
            r = new
            if done:
                break
        np.testing.assert_allclose(one, r, atol=1e-13)


# ----------------------------------------------------------------------------- scale (issue 13)
def _sampled(n: int, ny: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empirical tables of ONE sample of (x1, x2, y): realisable exactly (the sample's joint realises them)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, ny, size)
    x1 = (y * (n // ny) + rng.integers(0, 2 * (n // ny), size)) % n
    x2 = (y * (n // ny) + rng.integers(0, 2 * (n // ny), size)) % n

    def tab(u: np.ndarray, v: np.ndarray, nu: int, nv: int) -> np.ndarray:
        t = np.bincount(u * nv + v, minlength=nu * nv).reshape(nu, nv).astype(float)
        return t / t.sum()

    return tab(x1, y, n, ny), tab(x2, y, n, ny), tab(x1, x2, n, n)


def test_large_consistency_uses_exact_cheap_tests() -> None:
    """Above FULL_LP_MAX_CELLS: singleton disagreement, a Markov witness, or the LP on the allowed cells only."""
    from pidlab._fitting import FULL_LP_MAX_CELLS

    a, b, c = _sampled(200, 10, 3000)
    assert a.shape[0] * b.shape[0] * a.shape[1] > FULL_LP_MAX_CELLS
    rep = Marginals(a, b, c).consistency()
    assert rep.consistent and rep.method == "lp (allowed cells)", rep
    # a Markov chain X1 - Y - X2 is certified by its own witness
    py = a.sum(0)
    c_markov = (a / py) @ b.T
    rep = Marginals(a, b, c_markov).consistency()
    assert rep.consistent and rep.method == "markov witness" and rep.violation_l1 < 1e-12
    # singletons that disagree decide it: violation >= 2 * max TV (independently: a and b differ in p(y))
    b2 = np.roll(b, 1, axis=1)
    rep = Marginals(a, b2, c).consistency()
    tv_y = 0.5 * np.abs(a.sum(0) - b2.sum(0)).sum()
    assert not rep.consistent and rep.method.startswith("singletons") and rep.violation_l1 == pytest.approx(2 * tv_y)
    # a realisable-looking but impossible triple (x1 = x2 in c, but x1 and x2 carry different y)
    n = 160
    a3 = np.zeros((n, 2))
    a3[: n // 2, 0] = a3[n // 2 :, 1] = 1.0 / n
    b3 = np.zeros((n, 2))
    b3[: n // 2, 1] = b3[n // 2 :, 0] = 1.0 / n
    rep = Marginals(a3, b3, np.eye(n) / n).consistency()
    assert rep.singletons_agree and not rep.realisable and rep.violation_l1 > 0.5


def test_large_tables_are_refused_early_with_the_fix() -> None:
    a, b, c = _sampled(300, 10, 500)
    with pidlab.limits(max_memory="20MiB"), pytest.raises(pidlab.ProblemTooLargeError, match="fewer clusters"):
        pidlab.synergy_bounds(a, b, c)
    with pidlab.limits(max_memory="2MiB"), pytest.raises(pidlab.ProblemTooLargeError, match="300 x 300 x 10"):
        Marginals(a, b, c).max_entropy_joint()


def test_max_entropy_without_newton_on_many_rows_is_certified() -> None:
    """More than NEWTON_MAX_ROWS marginal rows: the IPF point is certified instead (checked against plain IPF)."""
    from pidlab._fitting import NEWTON_MAX_ROWS

    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(40 * 30 * 2)).reshape(40, 30, 2)
    assert 40 * 30 + 40 * 2 + 30 * 2 > NEWTON_MAX_ROWS
    me = Marginals.from_joint(p).max_entropy_joint()
    a, b, c = p.sum(1), p.sum(0), p.sum(2)
    r = np.full(p.shape, 1 / p.size)
    for _ in range(300):
        r *= (c / r.sum(2))[:, :, None]
        r *= (a / r.sum(1))[:, None, :]
        r *= (b / r.sum(0))[None, :, :]
    H_ipf = float(-(r * np.log2(r)).sum())
    H_p = float(-(p * np.log2(p)).sum())
    assert me.entropy_upper >= H_ipf - 1e-9 >= H_p - 1e-9
    assert me.entropy_upper - H_ipf < 1e-7 and me.residual < 1e-9
