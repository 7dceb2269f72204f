"""The host's hand-over between BROJA backends, driven by a fake solver (pidlab.testing).

With ``solver=None`` the host tries the available backends in preference order and hands an
answer it cannot certify (or a failure) over to the next one; the tightest certificate wins and
the result's notes list every backend tried. These tests register a fake backend that is tried
first and answers badly on purpose, so the hand-over runs in milliseconds instead of waiting for
the native solver to jam on a very sparse table. (decompose_many's hand-over: tests/test_batch.py.)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import pidlab
from pidlab._broja import BrojaProblem
from pidlab._plugins import names, plugin_manager
from pidlab._solvers import GAP_TOL, _solve_any, get_solver, solve_broja
from pidlab._solvers._native import NativeSolver
from pidlab._status import Status
from pidlab.exceptions import InaccurateSolutionWarning, PluginValidationError, SolverError
from pidlab.testing import FAKE_BEHAVIOURS, FakeSolver, register_fake_solver

GAP = 1e-9
HAS_CLARABEL = "clarabel" in pidlab.solvers(available=True)
# a 3x3x3 table whose trivial bracket is wide (about 0.04 bits), so that a backend is called
P = np.random.default_rng(3).dirichlet(np.ones(27)).reshape(3, 3, 3)


def _problem(p: np.ndarray) -> BrojaProblem:
    return BrojaProblem(p.sum(axis=1), p.sum(axis=0))


def _registry() -> tuple:
    pm = plugin_manager()
    return (
        {k: dict(v) for k, v in pm.entries.items()},
        {k: dict(v) for k, v in pm.aliases.items()},
        sorted(name for name, _ in pm.list_name_plugin()),
        names("solver"),
    )


def _tried(r) -> str:
    tried = [n for n in r.notes if n.startswith("solvers tried in turn: ")]
    assert len(tried) == 1, r.notes
    return tried[0]


def _explicit(name: str, p: np.ndarray = P):
    """The fake's own answer, certified by the host (status downgraded, a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InaccurateSolutionWarning)
        return pidlab.decompose(p, solver=name)


class _Jammed(FakeSolver):
    """Stands in for the native solver's answer on a table where it jams (not registered)."""

    name = "native"
    calls = []


M_STAR = solve_broja(_problem(P), "native", joint=P)  # the certified optimum, for reference


# ----------------------------------------------------------------------------- the helper
def test_fake_solver_is_preferred_and_the_registry_is_restored():
    before = _registry()
    with register_fake_solver("fake-first") as fake:
        assert issubclass(fake, FakeSolver) and fake.name == "fake-first"
        assert pidlab.solvers()[0] == "fake-first"
        assert "fake-first" in pidlab.solvers(available=True)
        assert get_solver(None, _problem(P)).name == "fake-first"
        assert fake.calls == []
    assert _registry() == before
    # also when the block raises
    with pytest.raises(KeyError), register_fake_solver("fake-raising"):
        assert "fake-raising" in pidlab.solvers()
        raise KeyError("boom")
    assert _registry() == before
    # two at once, each with its own priority and its own record of calls
    with register_fake_solver("fake-a", priority=-5) as a, register_fake_solver("fake-b", priority=-6) as b:
        assert pidlab.solvers()[:2] == ["fake-b", "fake-a"]
        assert a.calls is not b.calls
    assert _registry() == before


def test_fake_solver_refuses_bad_arguments_and_leaves_nothing_behind():
    before = _registry()
    with pytest.raises(ValueError, match="unknown fake behaviour"), register_fake_solver(behaviour="sometimes"):
        pass
    with pytest.raises(PluginValidationError, match="already registered"), register_fake_solver("native"):
        pass
    with pytest.raises(PluginValidationError, match="lower-case"), register_fake_solver("Not A Name"):
        pass
    assert _registry() == before


@pytest.mark.filterwarnings("ignore::pidlab.exceptions.InaccurateSolutionWarning")
def test_check_solver_rejects_the_fake():
    with pytest.raises(AssertionError, match="m\\* against native"):
        pidlab.testing.check_solver(FakeSolver(), reference="native")


# ----------------------------------------------------------------------------- uncertified answers
@pytest.mark.parametrize("behaviour", ["uncertified", "inaccurate"])
def test_default_solver_hands_an_uncertified_answer_over(behaviour):
    with register_fake_solver("fake", behaviour=behaviour) as fake:
        fake_gap = _explicit("fake").certificate.gap
        assert fake_gap > GAP_TOL  # the host rejects it: the fake claims "optimal" but proves nothing
        del fake.calls[:]
        with warnings.catch_warnings():
            warnings.simplefilter("error", InaccurateSolutionWarning)  # the final answer is certified
            r = pidlab.decompose(P)
    assert len(fake.calls) == 1  # tried first, once
    assert r.solver == "native" and r.status == Status.OPTIMAL and r.certificate.gap <= GAP
    tried = _tried(r)
    assert tried.startswith("solvers tried in turn: fake: "), tried
    assert f"fake: {'optimal_inaccurate' if behaviour == 'uncertified' else 'iteration_limit'}, certified gap" in tried
    assert " | native: optimal, certified gap " in tried
    assert tried.endswith(f"; used {r.solver}")
    assert r.certificate.gap <= fake_gap  # never worse than the first backend's answer
    ref = pidlab.decompose(P, solver="native")
    for atom in ("R", "U1", "U2", "S"):
        assert getattr(r, atom) == pytest.approx(getattr(ref, atom), abs=1e-9)


@pytest.mark.skipif(not HAS_CLARABEL, reason="needs a cvxpy backend")
def test_hand_over_goes_on_past_a_native_answer_that_is_not_certified(monkeypatch):
    # the situation of a very sparse table: the native solver does not certify either (here on
    # purpose), so the host goes on to the cvxpy backends
    jam = _Jammed()
    monkeypatch.setattr(NativeSolver, "solve", lambda self, problem, **options: jam.solve(problem))
    with register_fake_solver("fake"), warnings.catch_warnings():
        warnings.simplefilter("ignore", InaccurateSolutionWarning)
        r = pidlab.decompose(P)
    tried = _tried(r)
    assert tried.startswith("solvers tried in turn: fake: optimal_inaccurate"), tried
    assert " | native: optimal_inaccurate, certified gap " in tried
    assert r.solver not in ("fake", "native") and f" | {r.solver}: " in tried
    assert tried.endswith(f"; used {r.solver}")
    assert r.certificate.gap <= 1e-6
    assert r.certificate.m_lower - 1e-9 <= M_STAR.m <= r.certificate.m_upper + 1e-9


def test_the_tightest_certificate_wins_when_none_certifies():
    pr = _problem(P)

    def near(problem):  # the optimal point, but no dual point: a narrower, still uncertified bracket
        return pidlab.SolveResult("fake-near", Status.ITERATION_LIMIT, M_STAR.q)

    real = tuple(n for n in names("solver") if not n.startswith("fake"))
    with register_fake_solver("fake-far", priority=-2), register_fake_solver("fake-near", priority=-1, behaviour=near):
        sol = _solve_any(pr, P, GAP_TOL, skip=real)
        far = _solve_any(pr, P, GAP_TOL, skip=real + ("fake-near",))
    assert [a.split(":")[0] for a in sol.info["attempts"]] == ["fake-far", "fake-near"]
    assert sol.solver == "fake-near" and sol.status == Status.ITERATION_LIMIT
    assert sol.certificate.gap < far.certificate.gap
    assert sol.certificate.m_upper == pytest.approx(M_STAR.m, abs=1e-9)


# ----------------------------------------------------------------------------- failures
@pytest.mark.parametrize("behaviour", ["error", "raise", "crash"])
def test_default_solver_hands_a_failure_over(behaviour):
    with register_fake_solver("fake", behaviour=behaviour) as fake:
        with pytest.raises(SolverError, match="'fake'"):
            pidlab.decompose(P, solver="fake")  # named explicitly: the failure is reported
        r = pidlab.decompose(P)
    assert len(fake.calls) == 2
    assert r.solver == "native" and r.status == Status.OPTIMAL and r.certificate.gap <= GAP
    tried = _tried(r)
    assert tried.startswith("solvers tried in turn: fake: failed ("), tried
    assert tried.endswith("; used native")


def test_every_backend_failing_is_one_error_naming_them_all():
    real = tuple(n for n in names("solver") if not n.startswith("fake"))
    with register_fake_solver("fake-err", behaviour="error"), register_fake_solver("fake-raise", behaviour="raise"):
        with pytest.raises(SolverError, match="every available BROJA solver failed: fake-err: failed .* \\| fake-raise: failed"):
            _solve_any(_problem(P), P, GAP_TOL, skip=real)


# ----------------------------------------------------------------------------- garbage
# The host checks a plugin's answer (type, status, shapes) before certifying it: garbage is a
# SolverError, so the default path hands it over (these two crashed the host before that check).
GARBAGE = ["nan", "nan-dual", "wrong-shape", "wrong-shape-dual", "not-a-result"]


@pytest.mark.parametrize("behaviour", GARBAGE)
def test_garbage_from_a_plugin_is_checked_before_it_is_used(behaviour):
    with register_fake_solver("fake", behaviour=behaviour) as fake:
        r = pidlab.decompose(P)  # the default path hands the garbage over
        try:
            own = _explicit("fake")  # named explicitly: refused, or certified from other points
        except SolverError as exc:
            assert "'fake'" in str(exc)
            own = None
    assert fake.calls
    assert r.solver == "native" and r.status == Status.OPTIMAL and r.certificate.gap <= GAP
    assert _tried(r).startswith("solvers tried in turn: fake: ")
    if own is not None:
        assert own.status != Status.OPTIMAL
        c = own.certificate
        assert all(math.isfinite(v) for v in (c.m_lower, c.m_upper, c.gap, own.R, own.U1, own.U2, own.S))
        assert c.m_lower - 1e-9 <= M_STAR.m <= c.m_upper + 1e-9  # a valid bracket all the same
        text = str(own) + repr(own.to_dict())
        assert "nan" not in text.lower(), text


def test_fake_behaviours_are_all_exercised():
    exercised = {"uncertified", "inaccurate", "error", "raise", "crash", "nan", "nan-dual", "wrong-shape",
                 "wrong-shape-dual", "not-a-result"}
    assert exercised == set(FAKE_BEHAVIOURS)


# ----------------------------------------------------------------------------- other callers
def test_synergy_bounds_goes_through_the_hand_over_and_notes_it():
    m = pidlab.Marginals.from_joint(P)
    ref = pidlab.synergy_bounds(m)
    with register_fake_solver("fake") as fake:
        b = pidlab.synergy_bounds(m)
    assert len(fake.calls) == 1
    assert b.broja["solver"] == "native" and b.broja["gap"] <= GAP
    noted = [n for n in b.notes if n.startswith("BROJA: solvers tried in turn: fake: optimal_inaccurate")]
    assert noted and noted[0].endswith("; used native"), b.notes
    assert (b.R, b.U1, b.U2) == pytest.approx((ref.R, ref.U1, ref.U2), abs=1e-9)


# ----------------------------------------------------------------------------- size guard
def test_a_backend_above_the_size_limits_is_skipped_and_the_next_one_solves():
    # The preferred backend says it would need a terabyte: the host does not call it, notes why,
    # and the next backend (native, a few kilobytes for 3x3x3) answers.
    with register_fake_solver("fake-huge") as fake:
        fake.estimate_resources = lambda self, problem, **_: (2.0**40, 0.0, "the fake's model")
        with pidlab.limits(max_memory="8GiB"):
            r = pidlab.decompose(P)
    assert fake.calls == []
    assert r.solver == "native" and r.status == Status.OPTIMAL and r.certificate.gap <= GAP
    assert "fake-huge: not run (above pidlab's size limits)" in _tried(r)


def test_when_every_backend_is_too_large_the_preferred_ones_refusal_is_raised():
    with pidlab.limits(max_memory="10KiB"), pytest.raises(pidlab.ProblemTooLargeError) as info:
        pidlab.decompose(P)
    msg = str(info.value)
    assert "3x3x3 table with the native solver's dense Newton-system path" in msg
    assert "KiB of memory" in msg and "merge rare symbols" in msg and "max_memory" in msg
