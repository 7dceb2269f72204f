"""Coupling plugins checked against brute force, closed forms and hand values (all bits)."""

from __future__ import annotations

import json
from fractions import Fraction
from itertools import combinations

import numpy as np
import pytest

import pidlab
from pidlab._couplings import CouplingResult, ProblemTooLargeError, couple, meet_entropy
from pidlab._couplings._exact import ExactCoupling
from pidlab._couplings._greedy import GreedyCoupling, _greedy_k
from pidlab._couplings._lattice import LatticeCoupling
from pidlab.exceptions import InvalidDistributionError, ParameterError, PidlabError, UnknownNameError

LOG2E_OVER_E = np.log2(np.e) / np.e  # 0.5307...


def H(v) -> float:
    v = np.asarray(v, dtype=float).ravel()
    v = v[v > 0]
    return float(-(v * np.log2(v)).sum())


# ---------------------------------------------------------------- independent references
def brute_force_mec(p: np.ndarray, q: np.ndarray) -> float:
    """Minimum entropy over ALL vertices of the transportation polytope by basis enumeration."""
    n, m = p.size, q.size
    A = np.zeros((n + m, n * m))
    for i in range(n):
        A[i, i * m : (i + 1) * m] = 1
    for j in range(m):
        A[n + j, j::m] = 1
    A, b = A[:-1], np.concatenate([p, q])[:-1]  # one row is redundant
    best = np.inf
    for S in combinations(range(n * m), n + m - 1):
        M = A[:, S]
        if abs(np.linalg.det(M)) < 1e-12:
            continue
        x = np.linalg.solve(M, b)
        if x.min() < -1e-12:
            continue
        best = min(best, H(np.clip(x, 0, None)))
    return best


def reference_greedy(p: list, q: list, rng: np.random.Generator) -> float:
    """Plain dense greedy with RANDOM tie-breaking, in exact rationals."""
    a, b = list(p), list(q)
    cells = []
    while any(a) and any(b):
        ma, mb = max(a), max(b)
        i = rng.choice([k for k, v in enumerate(a) if v == ma])
        j = rng.choice([k for k, v in enumerate(b) if v == mb])
        m = min(ma, mb)
        cells.append(m)
        a[i] -= m
        b[j] -= m
    return H([float(c) for c in cells])


def rand_pair(rng: np.random.Generator, nmax: int = 4) -> tuple[np.ndarray, np.ndarray]:
    n, m = int(rng.integers(1, nmax + 1)), int(rng.integers(1, nmax + 1))
    p = rng.dirichlet(np.ones(n) * rng.choice([0.2, 1.0, 5.0]))
    q = rng.dirichlet(np.ones(m) * rng.choice([0.2, 1.0, 5.0]))
    return p, q


def rational(rng: np.random.Generator, n: int, den: int) -> list[Fraction]:
    cuts = sorted(rng.integers(0, den + 1, size=n - 1).tolist())
    e = [0, *cuts, den]
    return [Fraction(e[i + 1] - e[i], den) for i in range(n)]


# ---------------------------------------------------------------- known values
def test_known_values_by_hand() -> None:
    p, q = [0.6, 0.4], [0.4, 0.3, 0.3]
    g = couple(p, q, method="greedy")
    # greedy: .4 on (p0,q0); .3 on (p1,q1); .2 on (p0,q2); .1 on (p1,q2)
    assert g.entropy == pytest.approx(H([0.4, 0.3, 0.2, 0.1]), abs=1e-12)
    assert round(g.entropy, 3) == 1.846
    np.testing.assert_allclose(g.to_dense(), [[0.4, 0, 0.2], [0, 0.3, 0.1]], atol=1e-15)
    e = couple(p, q, method="exact")
    # optimum: p0 = .3 + .3 on q1, q2 and p1 = .4 on q0: H(.4,.3,.3), equal to the meet
    assert e.entropy == pytest.approx(H([0.4, 0.3, 0.3]), abs=1e-12)
    assert round(e.entropy, 3) == 1.571 and e.exact and e.gap < 1e-12
    assert brute_force_mec(np.array(p), np.array(q)) == pytest.approx(e.entropy, abs=1e-12)
    assert g.lower_bound == pytest.approx(H([0.4, 0.3, 0.3]), abs=1e-12)


def test_exact_matches_brute_force_vertex_enumeration() -> None:
    rng = np.random.default_rng(11)
    for _ in range(150):
        p, q = rand_pair(rng, 3)
        ref = brute_force_mec(p, q)
        assert couple(p, q, method="exact").entropy == pytest.approx(ref, abs=1e-10)


def test_bracket_chain_on_thousands_of_random_instances() -> None:
    """H(p∧q) <= exact <= greedy <= H(p∧q)+1, greedy <= exact + log2(e)/e, lattice within 1 bit."""
    rng = np.random.default_rng(2024)
    violations = []
    n_checked = 0
    for t in range(2500):
        if t % 3 == 0:  # many ties: rational inputs with small denominators
            n, m = int(rng.integers(1, 5)), int(rng.integers(1, 5))
            den = int(rng.choice([4, 6, 10, 12]))
            p = np.array([float(x) for x in rational(rng, n, den)])
            q = np.array([float(x) for x in rational(rng, m, den)])
        else:
            p, q = rand_pair(rng, 4)
        z = meet_entropy(p, q)
        ex = couple(p, q, method="exact", profile=False).entropy
        gr = couple(p, q, method="greedy", profile=False).entropy
        la = couple(p, q, method="lattice", profile=False).entropy
        tol = 1e-9
        ok = (
            z <= ex + tol
            and ex <= gr + tol
            and gr <= z + 1 + tol
            and gr <= ex + LOG2E_OVER_E + tol
            and ex <= la + tol
            and la <= z + 1 + tol
        )
        if not ok:
            violations.append((p.tolist(), q.tolist(), z, ex, gr, la))
        n_checked += 1
    assert n_checked == 2500
    assert violations == []


def test_threshold_profile_bound_is_valid_and_sometimes_stronger() -> None:
    rng = np.random.default_rng(5)
    stronger = 0
    for _ in range(600):
        p, q = rand_pair(rng, 4)
        r = couple(p, q, method="exact")
        prof = r.lower_bounds["threshold-profile"]
        assert prof <= r.entropy + 1e-9, (p, q)
        assert r.lower_bounds["meet"] <= r.entropy + 1e-9
        stronger += prof > r.lower_bounds["meet"] + 1e-6
    assert stronger > 60  # it beats the meet on a good share of instances
    # a case where it is much stronger: p = (.9,.05,.05), q = (.34,.33,.33)
    p, q = np.array([0.9, 0.05, 0.05]), np.array([0.34, 0.33, 0.33])
    g = couple(p, q, method="greedy")
    assert g.lower_bound_source == "threshold-profile"
    assert g.lower_bound > meet_entropy(p, q) + 0.25
    assert g.lower_bound <= brute_force_mec(p, q) + 1e-12


def test_greedy_entropy_independent_of_tie_breaking() -> None:
    rng = np.random.default_rng(9)
    for _ in range(200):
        n, m = int(rng.integers(1, 7)), int(rng.integers(1, 7))
        den = int(rng.choice([6, 8, 12]))
        p, q = rational(rng, n, den), rational(rng, m, den)
        ours = couple([float(x) for x in p], [float(x) for x in q], method="greedy").entropy
        for _ in range(3):
            assert reference_greedy(p, q, rng) == pytest.approx(ours, abs=1e-12)


def test_greedy_matches_reference_on_random_floats() -> None:
    rng = np.random.default_rng(4)
    for _ in range(200):
        p, q = rand_pair(rng, 8)
        ours = couple(p, q, method="greedy").entropy
        assert reference_greedy(p.tolist(), q.tolist(), rng) == pytest.approx(ours, abs=1e-12)


@pytest.mark.parametrize("method", ["greedy", "lattice", "exact"])
def test_permuted_inputs_give_same_entropies(method: str) -> None:
    rng = np.random.default_rng(1)
    for _ in range(60):
        p, q = rand_pair(rng, 4)
        a = couple(p, q, method=method)
        pp, qq = rng.permutation(p), rng.permutation(q)
        b = couple(pp, qq, method=method)
        assert b.entropy == pytest.approx(a.entropy, abs=1e-12)
        assert b.lower_bound == pytest.approx(a.lower_bound, abs=1e-12)


@pytest.mark.parametrize("method", ["greedy", "lattice", "exact"])
def test_sparse_cells_in_original_order_with_exact_marginals(method: str) -> None:
    rng = np.random.default_rng(3)
    for _ in range(100):
        n, m = int(rng.integers(1, 5)), int(rng.integers(1, 6))
        p = rng.dirichlet(np.ones(n))
        q = rng.dirichlet(np.ones(m))
        if n > 1:
            p[rng.integers(n)] = 0.0  # a zero atom gets no cell
            p /= p.sum()
        r = couple(p, q, method=method)
        assert r.shape == (n, m)
        assert (r.values > 0).all()
        assert len(set(zip(r.rows.tolist(), r.cols.tolist()))) == r.nnz  # no cell twice
        np.testing.assert_allclose(np.bincount(r.rows, r.values, minlength=n), p, atol=1e-12, rtol=0)
        np.testing.assert_allclose(np.bincount(r.cols, r.values, minlength=m), q, atol=1e-12, rtol=0)
        assert r.marginal_error <= 1e-12
        assert not np.isin(r.rows, np.flatnonzero(p == 0)).any()
        dense = r.to_dense()
        np.testing.assert_allclose(dense.sum(1), p, atol=1e-12)
        assert r.entropy == pytest.approx(H(dense), abs=1e-12)
        assert r.nnz <= np.count_nonzero(p) + np.count_nonzero(q) - 1


def test_greedy_k_marginals() -> None:
    rng = np.random.default_rng(8)
    g = GreedyCoupling()
    for _ in range(200):
        k = int(rng.integers(2, 5))
        ms = [rng.dirichlet(np.ones(int(rng.integers(1, 6)))) for _ in range(k)]
        r = g.couple_many(*ms)
        assert len(r.indices) == k and r.shape == tuple(v.size for v in ms)
        for ix, v in zip(r.indices, ms):
            np.testing.assert_allclose(np.bincount(ix, r.values, minlength=v.size), v, atol=1e-12)
        z = meet_entropy(*ms)
        assert z - 1e-9 <= r.lower_bound <= r.entropy <= z + np.log2(np.e) + 1e-9
        if k == 2:  # the generic k-loop agrees with the two-marginal loop
            s = [np.sort(v)[::-1].tolist() for v in ms]
            _, vals = _greedy_k(s)
            assert H(vals) == pytest.approx(r.entropy, abs=1e-12)
    # three marginals by hand: (.5,.5), (.5,.5), (1) -> two cells of .5
    r = couple([0.5, 0.5], [0.5, 0.5], [1.0])
    assert r.entropy == pytest.approx(1.0) and r.nnz == 2


def test_decimal_ties_and_tiny_atoms_make_no_spurious_cells() -> None:
    r = couple([0.1, 0.2, 0.7], [0.3, 0.7], method="greedy")
    assert r.nnz == 3 and r.values.min() > 0.05
    np.testing.assert_allclose(r.to_dense(), [[0.1, 0], [0.2, 0], [0, 0.7]], atol=1e-15)
    p = np.array([1 - 1e-15, 1e-15])
    for method in ("greedy", "lattice", "exact"):
        r = couple(p, [1.0], method=method)
        assert r.nnz == 2, method
        np.testing.assert_allclose(r.to_dense()[:, 0], p, atol=1e-15)
    # very different lengths: padding is internal
    q = np.full(1000, 1e-3)
    r = couple([1.0], q, method="greedy")
    assert r.nnz == 1000 and r.entropy == pytest.approx(np.log2(1000))
    r = couple([0.5, 0.5], q, method="lattice")
    assert r.entropy == pytest.approx(np.log2(1000)) and r.marginal_error < 1e-12


@pytest.mark.parametrize(
    ("p", "q", "match"),
    [
        ([0.5, 0.4], [1.0], "sums to"),
        ([0.5, float("nan"), 0.5], [1.0], "NaN"),
        ([1.2, -0.2], [1.0], "negative"),
        ([], [1.0], "empty"),
        ([1.0], [0.5, 0.5 + 1e-6], "sums to"),
    ],
)
@pytest.mark.parametrize("method", ["greedy", "lattice", "exact"])
def test_bad_input(p: list, q: list, match: str, method: str) -> None:
    with pytest.raises(InvalidDistributionError, match=match):
        couple(p, q, method=method)


def test_exact_refuses_large_instances_clearly() -> None:
    p = np.full(6, 1 / 6)
    with pytest.raises(ProblemTooLargeError, match=r"max_cells=25.*method='greedy'") as ei:
        couple(p, p, method="exact")
    assert isinstance(ei.value, PidlabError) and isinstance(ei.value, ValueError)
    assert "6 × 6 = 36" in str(ei.value)
    r = couple(np.full(3, 1 / 3), np.full(3, 1 / 3), method="exact", max_cells=9)
    assert r.entropy == pytest.approx(np.log2(3))
    with pytest.raises(InvalidDistributionError, match="at most 2 marginals"):
        couple([1.0], [1.0], [1.0], method="exact")
    with pytest.raises(ProblemTooLargeError, match=r"max_n=5\b.*method='greedy'"):
        couple(np.full(6, 1 / 6), [1.0], method="lattice", max_n=5)


def test_couple_api_and_registry() -> None:
    assert {"greedy", "lattice", "exact"} <= set(pidlab.couplings())
    r = pidlab.couple([0.6, 0.4], [0.4, 0.3, 0.3])
    assert r.method == "greedy" and isinstance(r, pidlab.CouplingResult)
    assert pidlab.couple([0.6, 0.4], [0.4, 0.3, 0.3], method=LatticeCoupling()).method == "lattice"
    assert pidlab.couple([0.6, 0.4], [0.4, 0.3, 0.3], method="EXACT").exact
    with pytest.raises(ParameterError, match="without a method"):
        pidlab.couple([1.0], [1.0], max_cells=3)
    with pytest.raises(UnknownNameError, match="known couplings: .*greedy"):
        pidlab.couple([1.0], [1.0], method="nope")
    with pytest.raises(ParameterError, match="no options"):
        pidlab.couple([1.0], [1.0], method="greedy", bogus=1)
    np.testing.assert_allclose(pidlab.meet([0.6, 0.4], [0.4, 0.3, 0.3]), [0.4, 0.3, 0.3])
    assert isinstance(ExactCoupling(), pidlab.Coupling)


def test_result_object() -> None:
    r = couple([0.6, 0.4], [0.4, 0.3, 0.3], method="greedy")
    assert isinstance(r, CouplingResult)
    with pytest.raises(AttributeError):
        r.entropy = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        r.values[0] = 1.0
    d = json.loads(json.dumps(r.to_dict()))
    assert d["entropy"] == pytest.approx(r.entropy) and d["units"] == "bits"
    assert d["lower_bound"] <= d["entropy"] and d["lower_bound_source"] == "meet"
    assert sorted(zip(d["indices"][0], d["indices"][1], d["values"])) == sorted(
        zip(r.rows.tolist(), r.cols.tolist(), r.values.tolist())
    )
    assert "indices" not in r.to_dict(cells=False)
    np.testing.assert_allclose(r.joint.toarray(), r.to_dense())
    assert r.bracket == (r.lower_bound, r.entropy) and r.upper_bound == r.entropy
    html = r._repr_html_()
    assert "1.846439" in html and "greedy" in html and "1.570951" in html
    with pytest.raises(InvalidDistributionError, match="max_cells"):
        r.to_dense(max_cells=5)
    r3 = couple([0.5, 0.5], [0.5, 0.5], [1.0])
    with pytest.raises(InvalidDistributionError, match="3 marginals"):
        _ = r3.joint
    assert r3.to_dense().shape == (2, 2, 1)


def test_notes_when_totals_differ() -> None:
    p = np.array([0.5, 0.5 + 1e-10])
    r = couple(p, [1.0], method="greedy")
    assert any("totals differ" in n for n in r.notes)
    assert r.marginal_error <= 2e-10


def test_vectorised_greedy_paths_agree_with_the_simple_loop() -> None:
    """The block/pending/heap machinery of the two-marginal greedy, forced through every path."""
    from pidlab._couplings._greedy import _greedy2

    rng = np.random.default_rng(12)
    for t in range(400):
        n, m = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        if t % 2:
            den = int(rng.choice([8, 12, 60]))
            p = np.array([float(x) for x in rational(rng, n, den) if x > 0])
            q = np.array([float(x) for x in rational(rng, m, den) if x > 0])
        else:
            p = rng.dirichlet(np.ones(n) * rng.choice([0.1, 1.0, 10.0]))
            q = rng.dirichlet(np.ones(m) * rng.choice([0.1, 1.0, 10.0]))
        p, q = np.sort(p)[::-1], np.sort(q)[::-1]
        r, v, c = _greedy2(
            p,
            q,
            window=int(rng.choice([1, 2, 64])),
            small_pending=int(rng.choice([1, 4, 512])),
            heap_merge=int(rng.choice([1, 4, 4096])),
        )
        _, v2 = _greedy_k([p.tolist(), q.tolist()])
        assert H(v) == pytest.approx(H(v2), abs=1e-12)
        np.testing.assert_allclose(np.bincount(r, v, minlength=p.size), p, atol=1e-15, rtol=0)
        np.testing.assert_allclose(np.bincount(c, v, minlength=q.size), q, atol=1e-15, rtol=0)


def test_long_subtraction_chains_keep_marginals_exact() -> None:
    """One atom of 1/2 absorbs 10^5 atoms: compensated residuals keep the marginals to 1e-12."""
    import math

    n = 100_000
    p = np.concatenate([[0.5], np.full(n - 1, 0.5 / (n - 1))])
    q = np.full(n, 1 / n)
    r = couple(p, q, method="greedy")
    assert r.marginal_error < 1e-12
    assert math.fsum(r.values[r.rows == 0].tolist()) == pytest.approx(0.5, abs=1e-15)
    assert r.lower_bound <= r.entropy <= r.lower_bounds["meet"] + 1


def test_mec_lower_bound_helper() -> None:
    from pidlab._couplings import mec_lower_bound

    rng = np.random.default_rng(21)
    for _ in range(200):
        p, q = rand_pair(rng, 4)
        v, src = mec_lower_bound(p, q)
        ex = couple(p, q, method="exact").entropy
        assert meet_entropy(p, q) - 1e-12 <= v <= ex + 1e-9
        assert src in ("meet", "threshold-profile")
    assert mec_lower_bound(np.full((2, 2), 0.25), [0.5, 0.5], profile=False) == (pytest.approx(2.0), "meet")  # coupling onto 4 equal atoms


def test_third_party_plugin_through_the_registry() -> None:
    """A plugin class that does not subclass Coupling is found by name and called as-is."""
    from pidlab._plugins import plugin_manager, register_plugin
    from pidlab.hookspecs import hookimpl

    class Independent:
        name = "independent-test"

        def couple(self, p, q, **opts):  # the product coupling: entropy H(p) + H(q)
            from pidlab._couplings._result import CouplingResult

            p, q = np.asarray(p, float), np.asarray(q, float)
            ii, jj = np.meshgrid(np.arange(p.size), np.arange(q.size), indexing="ij")
            v = np.outer(p, q).ravel()
            return CouplingResult("independent-test", (ii.ravel(), jj.ravel()), v, (p.size, q.size), H(v), 0.0, "none", {})

    class Plugin:
        @hookimpl
        def pidlab_register_couplings(self):
            return [Independent]

    plugin = Plugin()
    register_plugin(plugin, name="test-independent")
    try:
        assert "independent-test" in pidlab.couplings()
        r = pidlab.couple([0.5, 0.5], [0.5, 0.5], method="independent-test")
        assert r.entropy == pytest.approx(2.0)
    finally:
        plugin_manager().unregister(plugin)
    assert "independent-test" not in pidlab.couplings()


def test_ragged_marginal_and_bad_tol_are_clear_errors() -> None:
    """Found by the fuzz campaign: ragged nesting used to escape as numpy's ValueError, and the tol
    message did not name the function."""
    with pytest.raises(pidlab.InvalidDistributionError, match="array of numbers"):
        pidlab.couple([0.5, [0.5]], [1.0])
    with pytest.raises(pidlab.ParameterError, match="`couple`"):
        pidlab.couple([1.0], [1.0], tol=-1.0)
    with pytest.raises(pidlab.ParameterError, match="`meet`"):
        pidlab.meet([1.0], [1.0], tol=-1.0)


def test_subnormal_atoms_give_a_bound_not_a_traceback() -> None:
    """Found by the fuzz campaign: half of the smallest subnormal is 0, which numpy's geomspace
    refused ("Geometric sequence cannot include zero")."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v, _ = pidlab.mec_lower_bound([1.0, 5e-324], [1.0, 5e-324])
    assert 0.0 <= v <= 1e-300  # the coupling on the diagonal has entropy ~ 5e-324 * 1074 bits
    r = pidlab.synergy_bounds(pidlab.Marginals([[1.0, 5e-324]], [[1.0, 5e-324]], [[1.0]]))
    assert r.S_lower == 0.0 and 0.0 <= r.S_upper < 1e-9
