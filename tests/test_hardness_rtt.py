"""Tests of the RTT reduction (pidlab.hardness.rtt) against independent computations.

Independent references used here (none calls the code under test to produce the expected value):
hand-computed marginals; marginals, singleton sums and determinism recomputed by plain loops over
Fractions; a brute-force enumeration of schedules; an exhaustive search over deterministic joints
that sees only the three marginals; scipy's MILP on the RTT program cross-checked with the
backtracking search; the bound H(X1,X2,Y) >= H(X1,X2) = log2 N for the true minimum.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import pidlab
from pidlab._couplings import meet, meet_entropy
from pidlab._info import entropy
from pidlab.exceptions import InconsistentMarginalsError, InvalidDistributionError, ParameterError, PidlabError
from pidlab.hardness import rtt

# ----------------------------------------------------------------------------- references


def brute_force_schedules(inst: rtt.RTTInstance, hours=None):
    """Every schedule, by enumerating for each teacher the orderings of T_i over its lessons.

    Tightness makes every teacher's lessons a bijection onto T_i, so this lists every function
    satisfying conditions (1), (2), (4); condition (3) and the hour counts are then checked here.
    """
    per_teacher = []
    for i, T in enumerate(inst.availability):
        classes = [j for j in range(inst.n_classes) if inst.requirements[i][j] == 1]
        per_teacher.append([[(i, j, h) for j, h in zip(classes, perm)] for perm in itertools.permutations(sorted(T))])
    out = []
    for combo in itertools.product(*per_teacher):
        sched = [t for part in combo for t in part]
        slots = [(j, h) for _, j, h in sched]
        if len(set(slots)) != len(slots):
            continue
        if hours is not None and tuple(sum(1 for t in sched if t[2] == h) for h in (1, 2, 3)) != tuple(hours):
            continue
        out.append(set(sched))
    return out


def exhaustive_deterministic_joint_exists(a, b, c) -> bool:
    """Search all y = g(x1, x2) over the pairs of positive mass, seeing only the marginals (Fractions).

    g(x1, x2) is restricted to y with p(x1,y) > 0 and p(x2,y) > 0 (any joint vanishes elsewhere).
    """
    a, b, c = (np.asarray(t, dtype=object) for t in (a, b, c))
    den = math.lcm(*(int(v.denominator) for t in (a, b, c) for v in t.ravel()))
    A, B, C = (np.array([[int(v * den) for v in row] for row in t], dtype=np.int64) for t in (a, b, c))
    pairs = [(x1, x2) for x1 in range(C.shape[0]) for x2 in range(C.shape[1]) if C[x1, x2] > 0]
    opts = [[y for y in range(A.shape[1]) if A[x1, y] > 0 and B[x2, y] > 0] for x1, x2 in pairs]
    if any(not o for o in opts):
        return False
    assert math.prod(len(o) for o in opts) <= 50_000, "instance too large for the exhaustive search"
    grid = np.array(list(itertools.product(*opts)), dtype=np.int64)  # (K, P)
    K, P = grid.shape
    ny = A.shape[1]
    onehot = np.zeros((K, P, ny), dtype=np.int64)
    onehot[np.arange(K)[:, None], np.arange(P)[None, :], grid] = 1
    w = np.array([C[x1, x2] for x1, x2 in pairs])
    inc1 = np.zeros((C.shape[0], P), dtype=np.int64)
    inc2 = np.zeros((C.shape[1], P), dtype=np.int64)
    for p, (x1, x2) in enumerate(pairs):
        inc1[x1, p] = w[p]
        inc2[x2, p] = w[p]
    got1 = np.einsum("ip,kpy->kiy", inc1, onehot)
    got2 = np.einsum("jp,kpy->kjy", inc2, onehot)
    ok = (got1 == A[None]).all(axis=(1, 2)) & (got2 == B[None]).all(axis=(1, 2))
    return bool(ok.any())


def hand_marginals(inst: rtt.RTTInstance, hours):
    """docs/theory.rst §6 written out with plain loops (no numpy object arrays)."""
    n, m = inst.n_teachers, inst.n_classes
    R = [[int(v) for v in row] for row in inst.requirements]
    L = sum(map(sum, R))
    N = L + 3 * m
    f = Fraction
    p12 = [[f(R[i][j], N) for j in range(m)] for i in range(n)] + [[f(1, N)] * m for _ in range(3)]
    p1y = [[f(1, N) if y in inst.availability[i] else f(0) for y in range(4)] for i in range(n)]
    for k in (1, 2, 3):
        row = [f(0)] * 4
        row[k] = f(m - hours[k - 1], N)
        row[0] = f(hours[k - 1], N)
        p1y.append(row)
    p2y = [[f(sum(R[i][j] for i in range(n)), N)] + [f(1, N)] * 3 for j in range(m)]
    return p1y, p2y, p12, N


def as_lists(t):
    return [list(row) for row in np.asarray(t, dtype=object)]


# ----------------------------------------------------------------------------- instance sets
def _solvable(count: int, seed: int, nmax: int = 6, mmax: int = 6):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n, m = int(rng.integers(1, nmax + 1)), int(rng.integers(1, mmax + 1))
        out.append(rtt.random_solvable(n, m, density=float(rng.uniform(0.3, 1.0)), seed=rng))
    return out


def _unsolvable(count: int, seed: int):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(20 * count):
        if len(out) == count:
            break
        m = int(rng.integers(2, 5))
        n = int(rng.integers(max(3, m), min(6, 2 * m) + 1))
        try:
            out.append(rtt.random_unsolvable(n, m, density=0.8, seed=rng, max_tries=100))
        except rtt.GenerationError:  # rare at these sizes; draw another size
            pass
    assert len(out) == count, "the unsolvable generator failed too often"
    return out


@functools.cache
def solvable_set():
    return _solvable(300, 1)


@functools.cache
def unsolvable_set():
    return _unsolvable(120, 2)


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "availability, requirements, fragment",
    [
        ([{1, 2}], [[1]], "not tight"),
        ([{0}], [[1]], "hours are the integers 1, 2, 3"),
        ([{4}], [[1]], "hours are the integers 1, 2, 3"),
        ([[1, 1]], [[1, 1]], "repeats an hour"),
        ([{True}], [[1]], "hours are the integers"),
        ([{1}], [[2]], "are 0/1"),
        ([{1}], [[0.5]], "are 0/1"),
        ([{1}], [[1], [0]], "2 rows but availability lists 1"),
        ([{1}], [[1, 0], [1]], "n×m"),
        ([], [], "at least one teacher"),
        ([set()], [[]], "no columns"),
        ("123", [[1]], "one set of hours per teacher"),
        ([{1}], [["a"]], "0 and 1"),
    ],
)
def test_invalid_instances_raise_named_errors(availability, requirements, fragment):
    with pytest.raises(rtt.InvalidInstanceError, match=None) as exc:
        rtt.RTTInstance(availability, requirements)
    assert isinstance(exc.value, PidlabError) and isinstance(exc.value, ValueError)
    assert fragment in str(exc.value)


def test_instance_graph_is_the_bipartite_lesson_graph():
    import networkx as nx

    inst = rtt.RTTInstance([{1, 2}, {3}, set()], [[1, 1, 0], [0, 1, 0], [0, 0, 0]])
    g = inst.graph
    assert nx.is_bipartite(g)
    assert {v for v, d in g.nodes(data=True) if d["bipartite"] == 0} == {"t0", "t1", "t2"}
    assert {v for v, d in g.nodes(data=True) if d["bipartite"] == 1} == {"c0", "c1", "c2"}
    assert sorted(tuple(sorted(e)) for e in g.edges) == [("c0", "t0"), ("c1", "t0"), ("c1", "t1")]
    assert g.nodes["t0"]["availability"] == (1, 2)
    assert nx.is_frozen(g)
    assert inst.n_lessons == 3 and inst.n_atoms == 3 + 9 and inst.forced_hours == (1, 1, 1)
    assert inst.class_degrees == (1, 2, 0)
    assert rtt.RTTInstance.from_dict(json.loads(json.dumps(inst.to_dict()))) == inst
    assert hash(rtt.RTTInstance.from_dict(inst.to_dict())) == hash(inst)
    assert "RTT instance" in inst._repr_html_()
    with pytest.raises(rtt.InvalidInstanceError):
        rtt.RTTInstance.from_dict({"availability": [[1]]})


# ----------------------------------------------------------------------------- the reduction
def test_reduction_by_hand_on_a_small_instance():
    inst = rtt.RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
    f = Fraction
    em = rtt.reduce(inst, exact=True)
    assert em.N == 9 and em.hours == (1, 1, 1)
    assert as_lists(em.p_x1x2) == [[f(1, 9), f(1, 9)], [0, f(1, 9)], [f(1, 9)] * 2, [f(1, 9)] * 2, [f(1, 9)] * 2]
    assert as_lists(em.p_x1y) == [
        [0, f(1, 9), f(1, 9), 0],
        [0, 0, 0, f(1, 9)],
        [f(1, 9), f(1, 9), 0, 0],
        [f(1, 9), 0, f(1, 9), 0],
        [f(1, 9), 0, 0, f(1, 9)],
    ]
    assert as_lists(em.p_x2y) == [[f(1, 9)] * 4, [f(2, 9), f(1, 9), f(1, 9), f(1, 9)]]
    assert all(isinstance(v, Fraction) for t in (em.p_x1y, em.p_x2y, em.p_x1x2) for v in t.ravel())
    assert em.x1_labels == ("t0", "t1", "h1", "h2", "h3") and em.x2_labels == ("c0", "c1")
    assert em.y_labels == (0, 1, 2, 3)
    m = rtt.reduce(inst)
    assert isinstance(m, pidlab.Marginals)
    assert m.labels == (em.x1_labels, em.x2_labels, (0, 1, 2, 3))
    np.testing.assert_array_equal(m.p_x1y, np.array(em.p_x1y, dtype=float))
    with pytest.raises(ValueError):  # exact tables are read-only
        em.p_x1y[0, 0] = f(1)


def test_reduction_marginals_are_exact_and_consistent_on_hundreds_of_instances():
    checked = 0
    for inst, _ in solvable_set() + [(u, None) for u in unsolvable_set()]:
        em = rtt.reduce(inst, exact=True)
        p1y, p2y, p12, N = hand_marginals(inst, inst.forced_hours)
        assert em.N == N
        assert as_lists(em.p_x1y) == p1y and as_lists(em.p_x2y) == p2y and as_lists(em.p_x1x2) == p12
        # sums 1 and the same singletons implied, recomputed by plain sums over Fractions
        for t in (p1y, p2y, p12):
            assert sum(sum(r, Fraction(0)) for r in t) == 1
        assert [sum(r, Fraction(0)) for r in p1y] == [sum(r, Fraction(0)) for r in p12]  # p(x1)
        assert [sum(r, Fraction(0)) for r in p2y] == [sum(col, Fraction(0)) for col in zip(*p12)]  # p(x2)
        assert [sum(col, Fraction(0)) for col in zip(*p1y)] == [sum(col, Fraction(0)) for col in zip(*p2y)]  # p(y)
        assert em.is_consistent
        checked += 1
    assert checked == len(solvable_set()) + len(unsolvable_set()) >= 400


def test_float_marginals_pass_pidlabs_consistency_report():
    for inst, _ in solvable_set()[:25]:
        m = rtt.reduce(inst)
        rep = m.consistency()
        assert rep.consistent, rep.summary()
        a, b, c = rtt.reduce(inst, exact=True).to_float()
        np.testing.assert_array_equal(m.p_x2y, b)
        np.testing.assert_array_equal(m.p_x1x2, c)


def test_non_forced_hours_are_refused_or_built_as_inconsistent_no_instances():
    inst = rtt.RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
    with pytest.raises(InconsistentMarginalsError, match="forced by the tight teachers"):
        rtt.reduce(inst, hours=(2, 0, 1))
    em = rtt.reduce(inst, hours=(2, 0, 1), exact=True, allow_inconsistent=True)
    p1y, p2y, p12, _ = hand_marginals(inst, (2, 0, 1))
    assert as_lists(em.p_x1y) == p1y and as_lists(em.p_x2y) == p2y
    assert not em.is_consistent  # p(y) from p_x1y differs from p(y) from p_x2y
    assert rtt.find_deterministic_joint(em) is None
    assert not exhaustive_deterministic_joint_exists(em.p_x1y, em.p_x2y, em.p_x1x2)
    with pytest.raises(rtt.InvalidInstanceError, match="only 2 classes"):
        rtt.reduce(inst, hours=(3, 0, 0), allow_inconsistent=True)
    with pytest.raises(rtt.InvalidInstanceError, match="three non-negative integers"):
        rtt.reduce(inst, hours=(1, 1))
    # forced counts above m: unsolvable by counting, and no reduction
    crowded = rtt.RTTInstance([{1}, {1}], [[1], [1]])
    assert rtt.solve(crowded) is None and rtt.solve(crowded, method="milp") is None
    with pytest.raises(rtt.InvalidInstanceError, match="unsolvable by counting"):
        rtt.reduce(crowded)


# ----------------------------------------------------------------------------- both directions
def _check_joint_independently(inst, joint, sched):
    """Recompute the joint's properties with plain loops."""
    N = inst.n_atoms
    n = inst.n_teachers
    one = Fraction(1, N)
    assert joint.shape == (n + 3, inst.n_classes, 4)
    assert all(v in (0, one) for v in joint.ravel())
    for x1 in range(joint.shape[0]):
        for x2 in range(joint.shape[1]):
            assert sum(1 for y in range(4) if joint[x1, x2, y] != 0) <= 1  # H(Y|X1,X2) = 0
    assert {(i, j, h) for i in range(n) for j in range(inst.n_classes) for h in (1, 2, 3) if joint[i, j, h] == one} == sched
    p1y, p2y, p12, _ = hand_marginals(inst, inst.forced_hours)
    assert [[sum(joint[x1, :, y], Fraction(0)) for y in range(4)] for x1 in range(n + 3)] == p1y
    assert [[sum(joint[:, x2, y], Fraction(0)) for y in range(4)] for x2 in range(inst.n_classes)] == p2y
    assert [[sum(joint[x1, x2, :], Fraction(0)) for x2 in range(inst.n_classes)] for x1 in range(n + 3)] == p12


def test_planted_schedules_map_to_deterministic_joints_and_back():
    for inst, sched in solvable_set():
        assert rtt.verify(inst, sched).ok
        joint = rtt.schedule_to_joint(inst, sched, exact=True)
        _check_joint_independently(inst, joint, sched)
        assert rtt.verify_joint(inst, joint).ok
        assert rtt.joint_to_schedule(inst, joint) == sched
        fl = rtt.schedule_to_joint(inst, sched)
        assert fl.dtype == float
        assert rtt.joint_to_schedule(inst, fl) == sched
        d = pidlab.Distribution(fl)
        assert d.entropy("Y", given=("X1", "X2")) == pytest.approx(0.0, abs=1e-12)
        assert d.entropy(("X1", "X2", "Y")) == pytest.approx(math.log2(inst.n_atoms), abs=1e-12)


def test_joint_verifier_rejects_non_witnesses():
    inst = rtt.RTTInstance([{1, 2}, {1, 2}], [[1, 1], [1, 1]])
    s1 = {(0, 0, 1), (0, 1, 2), (1, 0, 2), (1, 1, 1)}
    s2 = {(0, 0, 2), (0, 1, 1), (1, 0, 1), (1, 1, 2)}
    j1 = rtt.schedule_to_joint(inst, s1, exact=True)
    j2 = rtt.schedule_to_joint(inst, s2, exact=True)
    mix = (j1 + j2) / 2  # same marginals (linear), but Y is not a function of (X1, X2)
    v = rtt.verify_joint(inst, mix)
    assert not v.ok and not v.checks["deterministic"] and not v.checks["entries in {0, 1/N}"]
    assert v.checks["marginals"]
    with pytest.raises(InvalidDistributionError, match="not a zero-conditional-entropy joint"):
        rtt.joint_to_schedule(inst, mix)
    moved = j1.copy()  # move one lesson to hour 3: wrong marginals and a broken availability
    moved[0, 0, 1], moved[0, 0, 3] = Fraction(0), moved[0, 0, 1]
    v = rtt.verify_joint(inst, moved)
    assert not v.checks["marginals"] and not v.checks["availability"]
    with pytest.raises(InvalidDistributionError, match="shape"):
        rtt.verify_joint(inst, np.zeros((2, 2, 4)))
    assert rtt.verify_joint(inst, pidlab.Distribution(np.array(j1, dtype=float))).ok


def test_schedule_verifier_reports_each_condition():
    inst = rtt.RTTInstance([{1, 2}, {1}], [[1, 1], [1, 0]])
    good = {(0, 0, 2), (0, 1, 1), (1, 0, 1)}
    assert rtt.verify(inst, good).ok and rtt.verify(inst, good, hours=(2, 1, 0)).ok
    cases = {
        "availability": [(0, 0, 3), (0, 1, 1), (1, 0, 1)],
        "requirements": [(0, 0, 2), (1, 0, 1)],
        "one teacher per class and hour": [(0, 0, 1), (0, 1, 2), (1, 0, 1)],
        "one class per teacher and hour": [(0, 0, 2), (0, 1, 2), (1, 0, 1)],
    }
    for key, sched in cases.items():
        v = rtt.verify(inst, sched)
        assert not v.ok and not v.checks[key], (key, v)
        assert any(line.startswith(key) for line in v.violations)
    v = rtt.verify(inst, [(0, 0, 2), (0, 0, 2), (0, 1, 1), (1, 0, 1)])  # a repeated lesson
    assert not v.checks["requirements"]
    assert not rtt.verify(inst, good, hours=(1, 1, 1)).checks["hour counts"]
    for bad in ([(0, 0)], [(0, 5, 1)], [(0, 0, 0)], [(-1, 0, 1)], None, "abc"):
        with pytest.raises(rtt.InvalidScheduleError):
            rtt.verify(inst, bad)
    with pytest.raises(rtt.InvalidScheduleError, match="not a valid RTT meeting function"):
        rtt.schedule_to_joint(inst, cases["availability"])


# ----------------------------------------------------------------------------- decision procedures
def test_unsolvable_instances_have_no_deterministic_joint():
    for inst in unsolvable_set():
        assert rtt.solve(inst) is None
        assert rtt.solve(inst, method="milp") is None
        assert rtt.find_deterministic_joint(rtt.reduce(inst, exact=True)) is None


def test_solvable_instances_have_a_deterministic_joint():
    for inst, _ in solvable_set()[::2]:
        s = rtt.solve(inst)
        assert s is not None and rtt.verify(inst, s, hours=inst.forced_hours).ok
        s2 = rtt.solve(inst, method="milp")
        assert s2 is not None and rtt.verify(inst, s2).ok
        joint = rtt.find_deterministic_joint(rtt.reduce(inst, exact=True))
        assert joint is not None
        _check_joint_independently(inst, joint, rtt.joint_to_schedule(inst, joint))
        fj = rtt.find_deterministic_joint(rtt.reduce(inst))  # float marginals
        assert fj is not None and rtt.verify_joint(inst, fj).ok


def test_tiny_instances_against_brute_force_and_exhaustive_joint_search():
    rng = np.random.default_rng(7)
    tiny = []
    for _ in range(60):
        tiny.append(rtt.random_instance(int(rng.integers(2, 4)), int(rng.integers(1, 3)), density=0.7, seed=rng))
    for _ in range(20):
        tiny.append(rtt.random_solvable(int(rng.integers(2, 4)), 2, density=0.7, seed=rng)[0])
    while len(tiny) < 100:
        try:
            tiny.append(rtt.random_unsolvable(4, 2, density=0.9, seed=rng, max_tries=50))
        except rtt.GenerationError:
            pass
    verdicts = {True: 0, False: 0}
    joint_checked = 0
    for inst in tiny:
        truth = bool(brute_force_schedules(inst))
        verdicts[truth] += 1
        assert (rtt.solve(inst) is not None) == truth, inst
        assert (rtt.solve(inst, method="milp") is not None) == truth, inst
        if max(inst.forced_hours) <= inst.n_classes:
            em = rtt.reduce(inst, exact=True)
            assert exhaustive_deterministic_joint_exists(em.p_x1y, em.p_x2y, em.p_x1x2) == truth, inst
            assert (rtt.find_deterministic_joint(em) is not None) == truth
            joint_checked += 1
    assert verdicts[True] >= 20 and verdicts[False] >= 20, verdicts
    assert joint_checked >= 80


def test_random_instances_backtracking_agrees_with_milp():
    rng = np.random.default_rng(11)
    seen = {True: 0, False: 0}
    for k in range(200):
        n, m = int(rng.integers(2, 8)), int(rng.integers(2, 8))
        inst = rtt.random_instance(n, m, density=min(0.7, 2.5 / n), seed=rng, reducible=k % 4 != 0)
        a = rtt.solve(inst)
        b = rtt.solve(inst, method="milp")
        assert (a is None) == (b is None), inst
        if a is not None:
            assert rtt.verify(inst, a).ok and rtt.verify(inst, b).ok
        seen[a is not None] += 1
    assert min(seen.values()) >= 20, seen


def test_hour_counts_other_than_forced_are_no_instances():
    for inst, _ in solvable_set()[:40]:
        forced = inst.forced_hours
        for s in list(rtt.splits(inst))[:6]:
            if s != forced:
                assert rtt.solve(inst, hours=s) is None
                assert rtt.solve(inst, hours=s, method="milp") is None  # imposes the counts, no shortcut
        assert rtt.solve(inst, hours=forced, method="milp") is not None
    inst = rtt.RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
    assert brute_force_schedules(inst, hours=(2, 0, 1)) == []
    assert len(brute_force_schedules(inst, hours=(1, 1, 1))) == 2


def test_solver_budget_and_method_errors():
    inst, _ = rtt.random_solvable(6, 6, density=1.0, seed=3)
    with pytest.raises(pidlab.SolverError, match="max_nodes"):
        rtt.solve(inst, max_nodes=1)
    with pytest.raises(ParameterError, match="`'method'`"):
        rtt.solve(inst, method="sat")
    with pytest.raises(rtt.InvalidInstanceError):
        rtt.solve("not an instance")


# ----------------------------------------------------------------------------- Cook reduction
def test_splits_are_all_bounded_compositions_of_L():
    rng = np.random.default_rng(5)
    for _ in range(30):
        inst = rtt.random_instance(int(rng.integers(1, 6)), int(rng.integers(1, 5)), seed=rng)
        L, m = inst.n_lessons, inst.n_classes
        expect = [s for s in itertools.product(range(L + 1), repeat=3) if sum(s) == L and max(s) <= m]
        assert list(rtt.splits(inst)) == sorted(expect)
        assert len(expect) <= (L + 1) * (L + 2) // 2


def test_cook_reduction_through_the_entropy_problem_decides_rtt():
    rng = np.random.default_rng(9)
    insts = [rtt.random_instance(int(rng.integers(2, 5)), int(rng.integers(2, 4)), density=0.6, seed=rng) for _ in range(30)]
    insts += unsolvable_set()[:10]
    seen = {True: 0, False: 0}
    for inst in insts:
        truth = rtt.solve(inst) is not None
        res = rtt.cook_reduction(inst)  # oracle: deterministic joint of reduce(split)
        assert res.solvable == truth
        assert res.splits_total == len(list(rtt.splits(inst)))
        if truth:
            assert res.hours == inst.forced_hours and rtt.verify(inst, res.schedule, hours=res.hours).ok
        else:
            assert res.splits_tried == res.splits_total and res.schedule is None
        assert rtt.cook_reduction(inst, oracle="schedule").solvable == truth
        calls = []
        rtt.cook_reduction(inst, oracle=lambda i, s: calls.append(s))
        assert calls == list(rtt.splits(inst))
        seen[truth] += 1
    assert min(seen.values()) >= 5
    assert json.dumps(rtt.cook_reduction(insts[0]).to_dict())


# ----------------------------------------------------------------------------- couplings' bounds
def test_meet_lower_bounds_never_exceed_the_true_minimum_entropy():
    """max of H(p12∧py), H(p1y∧p2), H(p2y∧p1) <= min over Δ_{12,1y,2y} of H(X1,X2,Y).

    Solvable instances: the true minimum is exactly log2 N (H(X1,X2,Y) >= H(X1,X2) = log2 N on the
    whole set, attained by the planted joint). Unsolvable ones: no deterministic joint exists
    (proved above), so the minimum is > log2 N; checking bound <= log2 N is then stronger than needed.
    """
    count = 0
    for inst, sched in solvable_set()[:150] + [(u, None) for u in unsolvable_set()]:
        a, b, c = rtt.reduce(inst, exact=True).to_float()
        p_y = a.sum(axis=0)
        p1, p2 = c.sum(axis=1), c.sum(axis=0)
        bounds = [meet_entropy(c, p_y), meet_entropy(a, p2), meet_entropy(b, p1)]
        assert bounds[0] == pytest.approx(entropy(meet(c, p_y)), abs=1e-12)
        log2N = math.log2(inst.n_atoms)
        assert entropy(c) == pytest.approx(log2N, abs=1e-12)  # H(X1,X2) = log2 N: the floor of min H(X1,X2,Y)
        if sched is not None:
            true_min = entropy(rtt.schedule_to_joint(inst, sched))
            assert true_min == pytest.approx(log2N, abs=1e-12)
        else:
            true_min = log2N  # a strict lower bound on the true minimum here
        assert max(bounds) <= true_min + 1e-9, (inst, bounds, true_min)
        count += 1
    assert count >= 250


# ----------------------------------------------------------------------------- generators
def test_generators_are_reproducible_and_valid():
    i1, s1 = rtt.random_solvable(5, 4, seed=123)
    i2, s2 = rtt.random_solvable(5, 4, seed=123)
    assert i1 == i2 and s1 == s2
    assert rtt.random_unsolvable(4, 3, seed=5) == rtt.random_unsolvable(4, 3, seed=5)
    assert rtt.random_instance(4, 3, seed=5) == rtt.random_instance(4, 3, seed=5)
    for inst in unsolvable_set():
        assert max(inst.class_degrees) <= 3 and max(inst.forced_hours) <= inst.n_classes
    with pytest.raises(rtt.GenerationError, match="max_tries"):
        rtt.random_unsolvable(1, 1, seed=0, max_tries=5)  # one teacher, one class: always solvable
    with pytest.raises(ParameterError, match="`'density'`"):
        rtt.random_solvable(3, 3, density=0)
    with pytest.raises(ParameterError, match="`'n_teachers'`"):
        rtt.random_solvable(0, 3)


# ----------------------------------------------------------------------------- drawing
def test_draw_colours_edges_by_hour():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba

    inst, sched = rtt.random_solvable(4, 3, density=0.9, seed=2)
    ax = rtt.draw(inst, sched)
    coll = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(coll) == 1
    colors = [tuple(c) for c in coll[0].get_colors()]
    edges = list(inst.graph.edges)
    hour = {(i, j): h for i, j, h in sched}
    for (u, v), col in zip(edges, colors):
        t, c = (u, v) if u.startswith("t") else (v, u)
        assert col == to_rgba(rtt.HOUR_COLORS[hour[(int(t[1:]), int(c[1:]))]])
    plt.close(ax.figure)
    ax = rtt.draw(inst)  # unscheduled: grey
    assert all(tuple(c) == to_rgba("lightgrey") for c in ax.collections[0].get_colors())
    plt.close(ax.figure)


# ----------------------------------------------------------------------------- CLI
def test_cli_generate_reduce_solve_verify(tmp_path, capsys):
    from pidlab.cli import main

    inst_f = tmp_path / "inst.json"
    assert main(["hardness", "rtt", "generate", "--seed", "4", "--teachers", "4", "--classes", "3", "--out", str(inst_f)]) == 0
    data = json.loads(inst_f.read_text())
    inst = rtt.RTTInstance.from_dict(data)
    planted = {tuple(t) for t in data["schedule"]}
    assert rtt.verify(inst, planted).ok

    capsys.readouterr()
    assert main(["hardness", "rtt", "reduce", str(inst_f)]) == 0
    out = json.loads(capsys.readouterr().out)
    em = rtt.reduce(inst, exact=True)
    assert out["N"] == em.N and out["hours"] == list(inst.forced_hours) and out["consistent"] is True
    assert [[Fraction(v) for v in row] for row in out["exact"]["p_x1y"]] == as_lists(em.p_x1y)
    assert np.allclose(out["p_x2y"], np.array(em.p_x2y, dtype=float))
    assert out["labels"]["Y"] == [0, 1, 2, 3] and out["target"].startswith("Y")
    assert out["H_x1x2_bits"] == pytest.approx(math.log2(em.N))

    png = tmp_path / "g.png"
    assert main(["hardness", "rtt", "solve", str(inst_f), "--draw", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["solvable"] is True and rtt.verify(inst, {tuple(t) for t in out["schedule"]}).ok
    assert png.exists() and png.read_bytes()[:4] == b"\x89PNG"

    assert main(["hardness", "rtt", "verify", str(inst_f), str(inst_f), "--format", "text"]) == 0
    assert capsys.readouterr().out.startswith("ok")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data["schedule"][1:]))
    assert main(["hardness", "rtt", "verify", str(inst_f), str(bad)]) == 1
    assert json.loads(capsys.readouterr().out)["checks"]["requirements"] is False

    unsolv = tmp_path / "u.json"
    assert main(["hardness", "rtt", "generate", "--kind", "unsolvable", "--seed", "1", "--out", str(unsolv)]) == 0
    assert main(["hardness", "rtt", "solve", str(unsolv), "--method", "milp", "--format", "text"]) == 0
    assert capsys.readouterr().out.startswith("unsolvable")
    assert rtt.solve(rtt.RTTInstance.from_dict(json.loads(unsolv.read_text()))) is None


def test_cli_errors_are_one_line(tmp_path, capsys):
    from pidlab.cli import main

    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"availability": [[1, 2]], "requirements": [[1]]}))
    assert main(["hardness", "rtt", "solve", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pidlab: error:") and "not tight" in err[0]
    assert main(["hardness", "rtt", "reduce", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    good = tmp_path / "g.json"
    good.write_text(json.dumps({"availability": [[1, 2], [3]], "requirements": [[1, 1], [0, 1]]}))
    assert main(["hardness", "rtt", "reduce", str(good), "--hours", "2", "0", "1"]) == 2
    assert "forced" in capsys.readouterr().err
    assert main(["hardness", "rtt", "reduce", str(good), "--hours", "2", "0", "1", "--allow-inconsistent"]) == 0
    assert json.loads(capsys.readouterr().out)["consistent"] is False


def test_cli_subprocess_smoke(tmp_path):
    f = tmp_path / "i.json"
    f.write_text(json.dumps({"availability": [[1, 2], [3]], "requirements": [[1, 1], [0, 1]]}))
    r = subprocess.run(
        [sys.executable, "-m", "pidlab.cli", "hardness", "rtt", "solve", str(f)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["schedule"] in ([[0, 0, 1], [0, 1, 2], [1, 1, 3]], [[0, 0, 2], [0, 1, 1], [1, 1, 3]])
