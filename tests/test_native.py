"""The native BROJA solver: certificates, agreement with every cvxpy backend, edge cases."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import pidlab
from pidlab._broja import BrojaProblem, certify, dual_bound, objective_bits
from pidlab._solvers import get_solver, solve_broja
from pidlab._solvers._native import NativeSolver
from pidlab._status import Status
from pidlab.exceptions import InaccurateSolutionWarning, SolverError

CVXPY_BACKENDS = [s for s in ("clarabel", "ecos", "scs") if s in pidlab.solvers(available=True)]
GAP = 1e-9


def _problem(p: np.ndarray) -> BrojaProblem:
    return BrojaProblem(p.sum(axis=1), p.sum(axis=0))


def _native(p: np.ndarray, **opts):
    pr = _problem(p)
    res = NativeSolver().solve(pr, **opts)
    cert, q = certify(pr, res, joint=p)
    return pr, res, cert, q


def _mi(pxy: np.ndarray) -> float:
    """I(X;Y) in bits, computed directly (independent of pidlab's helpers)."""
    px = pxy.sum(1, keepdims=True)
    py = pxy.sum(0, keepdims=True)
    nz = pxy > 0
    return float(np.sum(pxy[nz] * np.log2(pxy[nz] / (px @ py)[nz])))


def _atoms_closed(p: np.ndarray, m: float) -> dict[str, float]:
    I1, I2 = _mi(p.sum(1)), _mi(p.sum(0))
    I12 = _mi(p.reshape(-1, p.shape[2]))
    return {"R": I1 + I2 - m, "U1": m - I2, "U2": m - I1, "S": I12 - m}


# ----------------------------------------------------------------------------- registration
def test_native_is_registered_first_and_default():
    assert "native" in pidlab.solvers(available=True)
    assert pidlab.solvers()[0] == "native"
    inst = get_solver(None, _problem(pidlab.examples.get("and").p))
    assert inst.name == "native"
    assert NativeSolver.priority == 0
    assert NativeSolver().availability().available


def test_later_backends_are_not_asked_when_native_certifies(monkeypatch):
    """The host asks a backend whether it is installed (an import-path scan) only when the ones
    before it did not certify the answer: a certified native solve touches no other backend."""
    from pidlab._solvers._cvxpy import CvxpySolver

    asked: list[str] = []
    real = CvxpySolver.availability

    def counting(self):
        asked.append(self.name)
        return real(self)

    monkeypatch.setattr(CvxpySolver, "availability", counting)
    r = pidlab.decompose(np.random.default_rng(3).dirichlet(np.ones(60)).reshape(3, 4, 5))
    assert r.solver == "native" and r.status == Status.OPTIMAL
    assert asked == []
    # an explicit fallback still reaches them (skip the native solver)
    from pidlab._solvers import _solve_any

    if CVXPY_BACKENDS:
        p = pidlab.examples.get("and").p
        sol = _solve_any(_problem(p), p, 1e-6, skip=("native",))
        assert sol.solver != "native" and asked


def test_nested_blas_limits_restore_the_outer_setting():
    """A nested ``blas_threads`` block with the same limit skips the reset; leaving the outer block
    still restores the threads the process had before."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from pidlab._solvers._native import _kernels

    def blas() -> list[int]:
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]

    before = blas()
    with _kernels.blas_threads(1):
        assert set(blas()) <= {1}
        with _kernels.blas_threads(1):
            assert set(blas()) <= {1} and _kernels._ACTIVE_LIMIT == 1
        assert set(blas()) <= {1} and _kernels._ACTIVE_LIMIT == 1
    assert blas() == before and _kernels._ACTIVE_LIMIT is None


def test_default_decompose_uses_native_and_compare_table():
    r = pidlab.decompose(pidlab.examples.get("and"))
    assert r.solver == "native" and r.status == Status.OPTIMAL
    assert r.certificate.gap <= GAP
    assert r.R == pytest.approx(0.311278124459, abs=1e-9)
    assert r.S == pytest.approx(0.5, abs=1e-9)
    assert abs(r.U1) <= 1e-9 and abs(r.U2) <= 1e-9
    table = pidlab.compare(pidlab.examples.get("and")).table()
    assert "broja" in table and "0.311" in table


# ----------------------------------------------------------------------------- gates
def test_gates_reference(gates):
    for case in gates:
        p = np.asarray(case["p"], dtype=float)
        r = pidlab.decompose(p, solver="native")
        for atom, want in case["broja"].items():
            assert getattr(r, atom) == pytest.approx(want, abs=1e-6), (case["name"], atom)
        assert r.certificate.gap <= GAP, case["name"]
        assert r.certificate.marginal_residual <= 1e-10


# ----------------------------------------------------------------------------- certificates
@pytest.mark.parametrize("shape", [(2, 2, 2), (3, 3, 3), (2, 3, 4), (4, 4, 4), (5, 3, 2)])
def test_certificate_contains_clarabel_optimum(shape):
    if "clarabel" not in CVXPY_BACKENDS:
        pytest.skip("clarabel not installed")
    rng = np.random.default_rng(sum(shape))
    for _ in range(3):
        p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
        pr, res, cert, _ = _native(p)
        assert res.status == Status.OPTIMAL
        assert cert.gap <= GAP
        cl = pidlab.decompose(p, solver="clarabel").certificate
        # Both brackets contain m*; so they overlap, and the native one is the narrow one.
        assert cert.m_lower <= cl.m_upper + 1e-12
        assert cl.m_lower <= cert.m_upper + 1e-12
        assert abs(cert.m_upper - cl.m_upper) <= 1e-7
        # The dual point really is a lower bound on every feasible q's objective (clarabel's too).
        assert dual_bound(pr, res.lam, res.mu) <= cl.m_upper + 1e-12


# SCS at tolerance 1e-9 takes minutes beyond n=4 (a first-order method): it is compared up to n=4.
@pytest.mark.parametrize(
    "backend, n", [(b, n) for b in CVXPY_BACKENDS for n in (2, 3, 4, 6, 8) if not (b == "scs" and n > 4)]
)
def test_agrees_with_every_cvxpy_backend(backend, n):
    rng = np.random.default_rng(100 + n)
    for _ in range(2 if n <= 4 else 1):
        p = rng.dirichlet(np.ones(n**3)).reshape(n, n, n)
        nat = pidlab.decompose(p, solver="native")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InaccurateSolutionWarning)
            peer = pidlab.decompose(p, solver=backend)
        tol = max(1e-7, peer.certificate.gap)
        for atom in ("R", "U1", "U2", "S"):
            assert getattr(nat, atom) == pytest.approx(getattr(peer, atom), abs=tol), (backend, n, atom)
        assert nat.certificate.gap <= GAP
        # both brackets contain m*, so they overlap
        assert nat.certificate.m_lower <= peer.certificate.m_upper + 1e-12
        assert peer.certificate.m_lower <= nat.certificate.m_upper + 1e-12


def test_atoms_satisfy_identities_against_direct_mutual_information():
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.ones(27)).reshape(3, 3, 3)
    r = pidlab.decompose(p)
    want = _atoms_closed(p, r.certificate.m_upper)
    for atom, v in want.items():
        assert getattr(r, atom) == pytest.approx(v, abs=1e-10)


# ----------------------------------------------------------------------------- honesty
def test_iteration_limit_is_reported_not_hidden():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(64)).reshape(4, 4, 4)
    pr, res, cert, _ = _native(p, max_iter=1)
    assert res.status in (Status.ITERATION_LIMIT, Status.OPTIMAL_INACCURATE)
    assert res.info["gap_bits"] > GAP
    # the bracket is still valid: it contains the optimum
    _, good, cert_good, _ = _native(p)
    assert cert.m_lower <= cert_good.m_upper + 1e-12 <= cert.m_upper + 2e-12
    with pytest.warns(InaccurateSolutionWarning):
        sol = solve_broja(pr, "native", max_iter=1)
    assert sol.status in (Status.ITERATION_LIMIT, Status.OPTIMAL_INACCURATE)


def test_time_limit_is_respected():
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(6**3)).reshape(6, 6, 6)
    pr = _problem(p)
    res = NativeSolver().solve(pr, time_limit=1e-9)
    assert res.status == Status.ITERATION_LIMIT
    assert res.q is not None


def test_bad_gap_tol_is_a_clear_error():
    pr = _problem(pidlab.examples.get("and").p)
    with pytest.raises(SolverError, match="gap_tol"):
        NativeSolver().solve(pr, gap_tol=0.0)


def test_gap_tol_option_is_honoured():
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.ones(27)).reshape(3, 3, 3)
    pr = _problem(p)
    loose = NativeSolver().solve(pr, gap_tol=1e-4)
    tight = NativeSolver().solve(pr, gap_tol=1e-11)
    assert loose.status == tight.status == Status.OPTIMAL
    assert loose.info["gap_bits"] <= 1e-4 and tight.info["gap_bits"] <= 1e-11
    assert loose.iterations <= tight.iterations


# ----------------------------------------------------------------------------- edge cases
def _check_finite(r) -> None:
    for atom in ("R", "U1", "U2", "S"):
        v = getattr(r, atom)
        assert v is not None and math.isfinite(v)


def test_deterministic_target():
    rng = np.random.default_rng(8)
    p = np.zeros((3, 4, 2))
    p[:, :, 1] = rng.dirichlet(np.ones(12)).reshape(3, 4)
    r = pidlab.decompose(p)
    _check_finite(r)
    for atom in ("R", "U1", "U2", "S"):
        assert getattr(r, atom) == pytest.approx(0.0, abs=1e-12)
    # the solver itself, called directly, also handles H(Y) = 0
    pr, res, cert, _ = _native(p)
    assert res.status == Status.OPTIMAL and cert.gap <= GAP and cert.m_upper == pytest.approx(0.0, abs=1e-12)


def test_single_symbol_source():
    # X1 constant: q is fixed (q(x2, y) = p(x2, y)), so m* = I(X2;Y), R = U1 = S = 0.
    rng = np.random.default_rng(9)
    p = rng.dirichlet(np.ones(12)).reshape(1, 4, 3)
    pr, res, cert, _ = _native(p)
    assert res.status == Status.OPTIMAL
    assert cert.m_upper == pytest.approx(_mi(p[0]), abs=1e-10)
    r = pidlab.decompose(p)
    assert r.R == pytest.approx(0.0, abs=1e-10) and r.U1 == pytest.approx(0.0, abs=1e-10)
    assert r.S == pytest.approx(0.0, abs=1e-10)
    assert r.U2 == pytest.approx(_mi(p[0]), abs=1e-10)


def test_single_symbol_everything():
    r = pidlab.decompose(np.ones((1, 1, 1)))
    _check_finite(r)
    assert (r.R, r.U1, r.U2, r.S) == (0.0, 0.0, 0.0, 0.0)


def test_zero_rows_and_columns_match_the_reduced_problem():
    rng = np.random.default_rng(10)
    core = rng.dirichlet(np.ones(2 * 3 * 3)).reshape(2, 3, 3)
    p = np.zeros((3, 4, 4))  # x1=1, x2=0 and y=2 never occur
    p[np.ix_([0, 2], [1, 2, 3], [0, 1, 3])] = core
    r_big = pidlab.decompose(p)
    r_small = pidlab.decompose(core)
    _check_finite(r_big)
    for atom in ("R", "U1", "U2", "S"):
        assert getattr(r_big, atom) == pytest.approx(getattr(r_small, atom), abs=1e-9)
    assert r_big.certificate.gap <= GAP


def test_extreme_dynamic_range_matches_cvxpy_and_continuity():
    # entries of 1e-15 beside 0.5: atoms are continuous in p, so they match the table with
    # those entries moved onto a neighbour, and cvxpy agrees.
    base = np.array([[[0.5, 0.0], [0.0, 0.2]], [[0.0, 0.1], [0.2, 0.0]]])
    p = base.copy()
    p[0, 1, 0] = p[1, 0, 0] = p[0, 0, 1] = 1e-15
    p[0, 0, 0] -= 3e-15
    r = pidlab.decompose(p)
    _check_finite(r)
    assert r.certificate.gap <= GAP
    r0 = pidlab.decompose(base)
    for atom in ("R", "U1", "U2", "S"):
        assert getattr(r, atom) == pytest.approx(getattr(r0, atom), abs=1e-8)
    if "clarabel" in CVXPY_BACKENDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InaccurateSolutionWarning)
            c = pidlab.decompose(p, solver="clarabel")
        for atom in ("R", "U1", "U2", "S"):
            assert getattr(r, atom) == pytest.approx(getattr(c, atom), abs=1e-6)


def test_tiny_entries_random_sparse():
    # Dirichlet(0.1) tables have entries down to ~1e-12 and optima on the boundary.
    rng = np.random.default_rng(11)
    for shape in [(2, 2, 2)] * 6 + [(3, 3, 3)] * 3 + [(2, 3, 4)] * 3:
        p = rng.dirichlet(0.1 * np.ones(int(np.prod(shape)))).reshape(shape)
        pr, res, cert, _ = _native(p)
        assert res.status == Status.OPTIMAL, p
        assert cert.gap <= GAP and cert.marginal_residual <= 1e-10
        assert max(pr.I_x1y, pr.I_x2y) - 1e-12 <= cert.m_upper <= objective_bits(p) + 1e-12


def test_near_degenerate_conditionally_independent():
    # p = p(y) p(x1|y) p(x2|y) plus a tiny perturbation: m* is at (or next to) the CI point.
    rng = np.random.default_rng(12)
    py = rng.dirichlet(np.ones(3))
    a = rng.dirichlet(np.ones(3), size=3).T  # p(x1|y), columns sum to 1
    b = rng.dirichlet(np.ones(4), size=3).T
    p = np.einsum("iy,jy,y->ijy", a, b, py)
    p = 0.999999 * p + 1e-6 * rng.dirichlet(np.ones(p.size)).reshape(p.shape)
    pr, res, cert, _ = _native(p)
    assert res.status == Status.OPTIMAL and cert.gap <= GAP
    assert cert.m_upper <= objective_bits(pr.conditionally_independent()) + 1e-12


def test_result_is_json_ready():
    r = pidlab.decompose(pidlab.examples.get("xor"))
    json.dumps(r.to_dict())
    pr = _problem(pidlab.examples.get("xor").p)
    res = NativeSolver().solve(pr)
    json.dumps(res.info)


def test_decompose_forwards_solver_options_to_native():
    """``gap_tol`` reaches the backend through pidlab.decompose (the host's own keyword is accept_gap)."""
    p = np.random.default_rng(5).dirichlet(np.ones(64)).reshape(4, 4, 4)
    loose = pidlab.decompose(p, solver="native", gap_tol=1e-3)
    tight = pidlab.decompose(p, solver="native", gap_tol=1e-11)
    assert tight.certificate.gap <= 1e-11 < 1e-3
    assert loose.iterations <= tight.iterations
    with pytest.raises(pidlab.SolverError):
        pidlab.decompose(p, solver="native", gap_tol=-1.0)


# ----------------------------------------------------------------------------- negligible mass, hand-over
def test_negligible_mass_is_dropped_and_the_answer_certified_on_the_original():
    # a source symbol with 1e-40 of the mass and a cell pattern at 1e-30: without the reduction
    # the interior point needs dual values of ~90 nats and (on most such tables) does not certify
    rng = np.random.default_rng(31)
    for _ in range(3):
        p = rng.dirichlet(np.ones(5 * 5 * 4)).reshape(5, 5, 4)
        p[4] *= 1e-40
        p[:, 3, 1] *= 1e-30
        p /= p.sum()
        pr, res, cert, _ = _native(p)
        assert res.status == Status.OPTIMAL and cert.gap <= GAP  # certified on p itself
        assert res.info["negligible_entries_dropped"] >= 4
        # continuity: the atoms match those of the table without the negligible parts
        core = p.copy()
        core[4] = 0.0
        core[:, 3, 1] = 0.0
        core /= core.sum()
        ref = pidlab.decompose(core, solver=CVXPY_BACKENDS[0]) if CVXPY_BACKENDS else pidlab.decompose(core)
        r = pidlab.decompose(p)
        for atom in ("R", "U1", "U2", "S"):
            assert getattr(r, atom) == pytest.approx(getattr(ref, atom), abs=1e-6)


# The hand-over itself (an uncertified or failed answer from the preferred backend goes to the
# next one, the notes list them, the tightest certificate wins) is tested with a fake backend in
# tests/test_handover.py, and for decompose_many in tests/test_batch.py.
@pytest.mark.slow
def test_native_alone_certifies_very_sparse_tables():
    # Dirichlet(0.03) tables (marginals down to 1e-17): the native iteration used to jam short of
    # the 1e-9 target on 3 to 5 of these 30 (its start was not the conditionally independent
    # point when p(y) is far from 1, and the 1e-20 reduction left rows of 1e-12..1e-17 mass).
    # Now every one is certified by the native solver alone. About 5 s.
    rng = np.random.default_rng(7)
    for _ in range(30):
        p = rng.dirichlet(np.full(27, 0.03)).reshape(3, 3, 3)
        pr, res, cert, _ = _native(p)
        assert res.status == Status.OPTIMAL and cert.gap <= GAP, p
        assert max(_mi(p.sum(1)), _mi(p.sum(0))) - 1e-12 <= cert.m_upper <= _mi(p.reshape(-1, 3)) + 1e-12


def test_an_infeasible_point_is_repaired_or_not_used(monkeypatch):
    # A backend point off the marginals must not bound m* from above: it is either repaired into
    # an exactly feasible point or not used.
    import pidlab._broja as broja
    from pidlab._broja import PRIMAL_RESIDUAL_TOL, SolveResult, primal_bound

    p = np.zeros((2, 2, 2))
    p[:, :, 0] = [[0.25, 0.0], [0.2, 0.05]]  # p(x1, y=0) = (.25, .25), p(x2, y=0) = (.45, .05)
    p[:, :, 1] = 0.125
    pr = _problem(p)
    assert primal_bound(pr, p)[0] == pytest.approx(objective_bits(p), abs=1e-12)  # p itself is feasible
    bad = p.copy()
    bad[:, :, 0] = [[0.25, 0.0], [0.0, 0.25]]  # diagonal support: scaling alone never gets there
    ub, qs = primal_bound(pr, bad)
    assert pr.residual(qs) <= 1e-15 and qs.min() >= 0.0  # repaired exactly
    m_star = pidlab.decompose(p).certificate.m_lower
    assert ub >= m_star - 1e-12 and ub == pytest.approx(objective_bits(qs), abs=1e-15)
    # without the polishing, the same point is not accepted as a bound
    monkeypatch.setattr(broja, "polish_primal", lambda problem, q, **kw: np.asarray(q, dtype=float))
    ub2, q2 = primal_bound(pr, bad)
    assert pr.residual(q2) > PRIMAL_RESIDUAL_TOL and ub2 == math.inf
    cert, _ = certify(pr, SolveResult("x", Status.OPTIMAL, bad))
    assert cert.primal_source == "conditionally independent"


# ----------------------------------------------------------------------------- size guard
class _Shape:
    """Only the shape of a problem (the estimates allocate nothing; no table is built)."""

    def __init__(self, *shape: int) -> None:
        self.shape = shape


@pytest.mark.parametrize(
    ("shape", "refused"),
    [
        ((64, 64, 64), False),  # cg path, 30 MiB estimated; measured 29 MiB peak, 2.4 s (benchmarks/)
        ((500, 500, 2), False),  # direct path, 1.2 GiB; measured 1.0 GiB peak, solved (14 Newton steps)
        # direct path with one SYRK (|Y| <= SYRK_MAX_NY): no |X1||X2|^2 Gram array any more
        # (it alone was 64 GB here, issue 14); Schur complement 128 MB, a few dozen tables
        ((2000, 2000, 2), False),
        ((4000, 4000, 2), "18.6 GiB"),  # the Schur complement (8000^2) and tables of 256 MB
        ((1000, 1000, 1000), "201 GiB"),  # cg path and the host certificate: two dozen tables of 8 GB
    ],
)
def test_size_estimates_refuse_only_the_huge(shape, refused):
    from pidlab._solvers import check_size

    with pidlab.limits(max_memory="16GiB", max_work=1e12):
        if not refused:
            check_size(_Shape(*shape), NativeSolver())
            return
        with pytest.raises(pidlab.ProblemTooLargeError) as info:
            check_size(_Shape(*shape), NativeSolver())
    msg = str(info.value)
    assert "x".join(map(str, shape)) in msg and f"{refused} of memory" in msg
    assert "merge rare symbols" in msg and "pidlab.limits(max_memory=" in msg
    with pidlab.limits(max_memory="1TiB", max_work=1e15):  # raising the limits lets it through
        check_size(_Shape(*shape), NativeSolver())


def test_decompose_refuses_a_job_above_the_limits_and_runs_it_when_they_are_raised():
    p = np.random.default_rng(41).dirichlet(np.ones(20 * 20 * 20)).reshape(20, 20, 20)
    for solver in (None, "native"):
        with pidlab.limits(max_memory="4MiB"), pytest.raises(pidlab.ProblemTooLargeError) as info:
            pidlab.decompose(p, solver=solver)
        assert "20x20x20 table with the native solver's direct Newton-system path" in str(info.value)
    with pidlab.limits(max_work=1e6), pytest.raises(pidlab.ProblemTooLargeError, match="elementary operations"):
        pidlab.decompose(p, solver="native")
    with pidlab.limits(max_work=1e6):  # a time limit bounds the work: only the memory is checked
        r = pidlab.decompose(p, solver="native", time_limit=60.0)
    assert r.certificate.gap <= GAP
