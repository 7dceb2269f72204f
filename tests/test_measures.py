from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pidlab
from pidlab import Distribution
from pidlab.exceptions import SolverError, UnknownNameError

ATOMS = ("R", "U1", "U2", "S")


def test_gate_informations_match_reference(gates):
    for g in gates:
        d = Distribution(g["p"])
        assert d.mutual_information("X1", "Y") == pytest.approx(g["I_X1_Y"], abs=1e-8)
        assert d.mutual_information("X2", "Y") == pytest.approx(g["I_X2_Y"], abs=1e-8)
        assert d.mutual_information(["X1", "X2"], "Y") == pytest.approx(g["I_X1X2_Y"], abs=1e-8)


def test_examples_reproduce_reference_gates(gates):
    """pidlab.examples builds each gate itself; its values must match the reference tables."""
    for g in gates:
        d = pidlab.examples.get(g["name"])
        for m in ("imin", "broja"):
            r = pidlab.decompose(d, measure=m)
            for a in ATOMS:
                assert getattr(r, a) == pytest.approx(g[m][a], abs=1e-6), (g["name"], m, a)


@pytest.mark.parametrize("measure", ["imin", "wms", "ci"])
def test_closed_form_measures_on_gates(gates, measure):
    for g in gates:
        r = pidlab.decompose(g["p"], measure=measure)
        if measure == "imin":
            for a in ATOMS:
                assert getattr(r, a) == pytest.approx(g["imin"][a], abs=1e-9), (g["name"], a)
        else:
            assert r.net == pytest.approx(g[measure], abs=1e-9), g["name"]
            assert (r.R, r.U1, r.U2, r.S) == (None, None, None, None)
            d = r.to_dict()
            assert d["measure"] == measure and d["R"] is None and d["net"] == pytest.approx(g[measure], abs=1e-9)


def test_broja_on_gates_every_backend(gates, solver):
    for g in gates:
        r = pidlab.decompose(g["p"], measure="broja", solver=solver)
        for a in ATOMS:
            assert getattr(r, a) == pytest.approx(g["broja"][a], abs=1e-6), (g["name"], solver, a)
        lo, hi = r.bracket["S"]
        assert lo - 1e-12 <= g["broja"]["S"] + 1e-9 and g["broja"]["S"] - 1e-9 <= hi + 1e-12
        d = r.to_dict()
        assert d["solver"] == solver and d["status"] == "optimal"
        assert d["certificate"]["marginal_residual"] <= 1e-10


def test_aliases():
    xor = pidlab.examples.get("and")
    assert pidlab.decompose(xor, "bertschinger").S == pytest.approx(0.5, abs=1e-6)
    assert pidlab.decompose(xor, "Williams-Beer").R == pytest.approx(0.311278124, abs=1e-8)


def _random_dist(seed: int, shape: tuple[int, int, int], sparsity: float) -> Distribution:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
    p[rng.random(shape) < sparsity] = 0
    if p.sum() == 0:
        p.flat[0] = 1
    return Distribution(p / p.sum())


shapes = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), shape=shapes, sparsity=st.sampled_from([0.0, 0.3, 0.6]))
def test_identities_hold_for_every_measure(seed, shape, sparsity):
    d = _random_dist(seed, shape, sparsity)
    I1, I2 = d.mutual_information(0, 2), d.mutual_information(1, 2)
    I12 = d.mutual_information((0, 1), 2)
    for m in ("broja", "imin"):
        r = pidlab.decompose(d, m)
        assert r.R + r.U1 == pytest.approx(I1, abs=1e-9)
        assert r.R + r.U2 == pytest.approx(I2, abs=1e-9)
        assert r.R + r.U1 + r.U2 + r.S == pytest.approx(I12, abs=1e-9)
        assert r.U1 + r.S == pytest.approx(d.mutual_information(0, 2, given=1), abs=1e-9)
        assert r.S - r.R == pytest.approx(-d.coinformation(), abs=1e-9)
        if m == "broja":  # BROJA atoms are non-negative (up to the certified gap)
            for a in ATOMS:
                assert getattr(r, a) >= -1e-7, (a, getattr(r, a))
    assert pidlab.decompose(d, "wms").net == pytest.approx(I12 - I1 - I2, abs=1e-12)
    assert pidlab.decompose(d, "ci").net == pytest.approx(I1 + I2 - I12, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_symmetry_and_relabelling(seed):
    d = _random_dist(seed, (3, 2, 3), 0.2)
    rng = np.random.default_rng(seed)
    for m in ("broja", "imin"):
        r = pidlab.decompose(d, m)
        s = pidlab.decompose(d.swap_sources(), m)
        assert (s.U1, s.U2) == pytest.approx((r.U2, r.U1), abs=1e-7)
        assert (s.R, s.S) == pytest.approx((r.R, r.S), abs=1e-7)
        perm = [rng.permutation(n) for n in d.shape]
        t = pidlab.decompose(d.p[np.ix_(*perm)], m)
        for a in ATOMS:
            assert getattr(t, a) == pytest.approx(getattr(r, a), abs=1e-7)


def test_all_backends_agree_on_random_distributions():
    backends = pidlab.solvers(available=True)
    assert {"clarabel", "ecos", "scs"} <= set(backends)
    for seed, shape in [(0, (2, 2, 2)), (1, (3, 3, 3)), (2, (4, 3, 2)), (3, (4, 4, 4)), (4, (5, 4, 3))]:
        d = _random_dist(seed, shape, 0.25 if seed % 2 else 0.0)
        results = {b: pidlab.decompose(d, solver=b) for b in backends}
        ref = results[backends[0]]
        for b, r in results.items():
            for a in ATOMS:
                assert getattr(r, a) == pytest.approx(getattr(ref, a), abs=1e-6), (b, a, shape)
            # every certificate must contain every other backend's primal value
            c = r.certificate
            for other in results.values():
                assert c.m_lower - 1e-9 <= other.certificate.m_upper


def test_certificate_brackets_are_consistent():
    d = _random_dist(7, (4, 4, 3), 0.0)
    r = pidlab.decompose(d, solver="clarabel")
    c = r.certificate
    assert c.m_lower <= c.m_upper and c.gap == pytest.approx(c.m_upper - c.m_lower)
    for a in ATOMS:
        lo, hi = r.bracket[a]
        assert lo <= getattr(r, a) + 1e-12 <= hi + 2e-12
        assert hi - lo == pytest.approx(c.gap, abs=1e-12)


def test_compare_lists_every_registered_measure():
    cmp = pidlab.compare(pidlab.examples.get("xor"))
    assert [r.measure for r in cmp] == pidlab.measures()
    assert cmp["broja"].S == pytest.approx(1.0, abs=1e-9)
    text = cmp.table()
    assert "net synergy" in text and "bits" in text and "target Y" in text
    d = cmp.to_dict()
    assert d["units"] == "bits" and len(d["results"]) == len(pidlab.measures())


def test_unknown_names_list_known_ones():
    with pytest.raises(UnknownNameError, match="known measures: ") as ei:
        pidlab.decompose(pidlab.examples.get("xor"), "nonsense")
    known = str(ei.value).split("known measures: ")[1].split(" (aliases")[0].split(", ")
    assert {"broja", "imin", "wms", "ci"} <= set(known)  # the built-ins are among them
    with pytest.raises(UnknownNameError, match="known solvers:.*clarabel"):
        pidlab.decompose(pidlab.examples.get("and"), solver="gurobi")
    with pytest.raises(SolverError, match="mosek"):
        if "mosek" in pidlab.solvers(available=True):
            pytest.skip("a licensed MOSEK is installed here")
        pidlab.decompose(pidlab.examples.get("and"), solver="mosek")


def test_solver_options_need_an_explicit_solver():
    with pytest.raises(SolverError, match="without a solver"):
        pidlab.decompose(pidlab.examples.get("and"), max_iter=3)
    with pytest.raises(SolverError, match="closed-form"):
        pidlab.decompose(pidlab.examples.get("and"), "imin", solver="clarabel")


def test_inaccurate_status_warns_and_is_recorded():
    d = _random_dist(3, (4, 4, 4), 0.0)
    with pytest.warns(pidlab.exceptions.InaccurateSolutionWarning):
        r = pidlab.decompose(d, solver="scs", max_iters=5, eps_abs=1e-3, eps_rel=1e-3)
    assert r.status in (pidlab.Status.OPTIMAL_INACCURATE, pidlab.Status.ITERATION_LIMIT)
    assert r.to_dict()["status"] == str(r.status)
    # the certificate still brackets the true optimum
    ref = pidlab.decompose(d, solver="clarabel")
    assert r.bracket["S"][0] - 1e-9 <= ref.S <= r.bracket["S"][1] + 1e-9


def test_edge_cases_never_nan():
    cases = [
        np.ones((1, 1, 1)),
        np.full((2, 2, 1), 0.25),  # deterministic target
        np.array([[[0.5, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.5]]]),
        np.array([[[0.5 - 1e-15, 1e-15]], [[0.0, 0.5]]]),
    ]
    for p in cases:
        r = pidlab.decompose(p)
        for a in ATOMS:
            v = getattr(r, a)
            assert np.isfinite(v) and v >= -1e-9, (p.shape, a, v)


class _Failing(pidlab.Solver):
    name = "failing"
    priority = 1000

    def solve(self, problem, **options):
        return pidlab.SolveResult(self.name, pidlab.Status.SOLVER_ERROR, None)


class _Exploding(pidlab.Solver):
    name = "exploding"
    priority = 1001

    def solve(self, problem, **options):
        raise ZeroDivisionError("boom")


def test_failed_solve_raises_naming_the_solver():
    import types

    plugin = types.SimpleNamespace(pidlab_register_solvers=pidlab.hookimpl(lambda: [_Failing, _Exploding]))
    try:
        pidlab.register_plugin(plugin, name="failing-solvers")
        d = _random_dist(5, (3, 3, 2), 0.0)
        with pytest.raises(SolverError, match="'failing' returned status solver_error"):
            pidlab.decompose(d, solver="failing")
        with pytest.raises(SolverError, match="'exploding' failed: ZeroDivisionError"):
            pidlab.decompose(d, solver="exploding")
        # a solver instance is used as given
        with pytest.raises(SolverError, match="failing"):
            pidlab.decompose(d, solver=_Failing())
    finally:
        pidlab.reload_plugins()


def test_inconsistent_source_target_marginals_refused():
    from pidlab._broja import BrojaProblem
    from pidlab.exceptions import InconsistentMarginalsError

    with pytest.raises(InconsistentMarginalsError, match="different target marginals"):
        BrojaProblem([[0.5, 0.0], [0.0, 0.5]], [[0.25, 0.25], [0.25, 0.25]][:1] + [[0.5, 0.0]])
    with pytest.raises(InconsistentMarginalsError, match="same target alphabet"):
        BrojaProblem([[0.5, 0.5]], [[0.25, 0.25, 0.5]])
