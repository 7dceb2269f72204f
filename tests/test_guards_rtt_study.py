"""Issue 13 (nothing silently wrong, nothing unbounded) for the RTT hardness module and the studies:
argument checks, size guards made before allocating, an iterative search, lazy study tasks,
writable output paths checked before computing, and summaries that say which rows they leave out."""

from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np
import pytest

import pidlab
from pidlab.exceptions import ParameterError, PidlabError, ProblemTooLargeError
from pidlab.hardness import rtt
from pidlab.study import Family, InvalidStudyError, StudyResult, dirichlet, run_study


# ----------------------------------------------------------------------------- RTT: arguments
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: rtt.random_instance(3, 3, seed="abc"), "seed"),
        (lambda: rtt.random_instance(3, 3, seed=-1), "seed"),
        (lambda: rtt.random_solvable(3, 3, seed=1.5), "seed"),
        (lambda: rtt.random_unsolvable(3, 3, seed=True), "seed"),
        (lambda: rtt.random_unsolvable(3, 3, max_tries="x"), "max_tries"),
        (lambda: rtt.random_instance(3, 3, max_tries=0), "max_tries"),
        (lambda: rtt.random_instance(3, 3, reducible="yes"), "reducible"),
        (lambda: rtt.random_solvable("3", 3), "n_teachers"),
        (lambda: rtt.random_unsolvable(3, 2.0), "n_classes"),
        (lambda: rtt.random_instance(3, 3, density=float("nan")), "density"),
        (lambda: rtt.random_solvable(3, 3, density=True), "density"),
        (lambda: rtt.solve(rtt.RTTInstance([{1}], [[1]]), max_nodes="x"), "max_nodes"),
    ],
)
def test_rtt_arguments_raise_parameter_errors(call, name):
    with pytest.raises(ParameterError, match=f"`'{name}'` parameter of `rtt[.]"):
        call()


def test_rtt_seed_kinds_are_accepted_and_reproducible():
    a = rtt.random_instance(4, 3, seed=np.int64(7))
    assert a == rtt.random_instance(4, 3, seed=7)
    ss = np.random.SeedSequence(11)
    assert rtt.random_solvable(4, 3, seed=ss) == rtt.random_solvable(4, 3, seed=np.random.SeedSequence(11))
    assert rtt.random_unsolvable(4, 3, seed=np.random.default_rng(5)) == rtt.random_unsolvable(
        4, 3, seed=np.random.default_rng(5))


def _reference_solvable(n, m, density, seed):
    """The generator as documented, written naively (O(n m) per hour): the reference for the fast one."""
    rng = np.random.default_rng(seed)
    sched, met = set(), set()
    for h in (1, 2, 3):
        busy = set()
        for i in rng.permutation(n).tolist():
            if rng.random() >= density:
                continue
            free = [j for j in range(m) if j not in busy and (i, j) not in met]
            if free:
                j = free[int(rng.integers(len(free)))]
                busy.add(j)
                met.add((i, j))
                sched.add((i, j, h))
    req = np.zeros((n, m), dtype=int)
    for i, j in met:
        req[i, j] = 1
    return rtt.RTTInstance([{h for t, _, h in sched if t == i} for i in range(n)], req), sched


def _reference_instance(n, m, density, seed):
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        req = np.zeros((n, m), dtype=int)
        avail = []
        for i in range(n):
            row = [j for j in range(m) if rng.random() < density]
            row = rng.permutation(row)[:3].tolist() if row else []
            req[i, row] = 1
            avail.append(set(rng.choice((1, 2, 3), size=len(row), replace=False).tolist()))
        inst = rtt.RTTInstance(avail, req)
        if max(inst.class_degrees) <= 3 and max(inst.forced_hours) <= m:
            return inst
    raise AssertionError("no draw")


@pytest.mark.parametrize("n, m, density", [(4, 3, 0.6), (7, 5, 0.9), (6, 4, 0.7), (3, 9, 0.3), (10, 10, 0.8)])
def test_fast_generators_draw_the_documented_instances(n, m, density):
    for seed in range(8):
        assert rtt.random_solvable(n, m, density=density, seed=seed) == _reference_solvable(n, m, density, seed)
        d = min(density, 0.4)
        try:
            ref = _reference_instance(n, m, d, seed)
        except AssertionError:
            continue
        assert rtt.random_instance(n, m, density=d, seed=seed) == ref


# ----------------------------------------------------------------------------- RTT: size guards
def test_huge_rtt_instances_are_refused_before_allocating():
    t0 = time.perf_counter()
    for call in (lambda: rtt.random_instance(10**5, 10**5), lambda: rtt.random_solvable(10**5, 10**5),
                 lambda: rtt.random_unsolvable(10**5, 10**5)):
        with pytest.raises(ProblemTooLargeError, match=r"GiB of memory.*max_memory") as ei:
            call()
        assert "10000" in str(ei.value) or "100000" in str(ei.value)
    assert time.perf_counter() - t0 < 5


def test_instance_memory_estimate_covers_the_measured_peak():
    from pidlab.hardness.rtt._guards import instance_bytes

    tracemalloc.start()
    try:
        rtt.random_solvable(300, 400, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= instance_bytes(300, 400)
    with pidlab.limits(max_memory=instance_bytes(300, 400) / 2):
        with pytest.raises(ProblemTooLargeError, match="rtt.random_solvable"):
            rtt.random_solvable(300, 400, seed=0)


def _path_instance(n):
    """Teacher i meets classes i and i+1, available at hours 1 and 2: one path component of 2n lessons."""
    req = np.zeros((n, n + 1), dtype=int)
    for i in range(n):
        req[i, i] = req[i, i + 1] = 1
    return rtt.RTTInstance([{1, 2}] * n, req)


def test_backtracking_is_iterative_on_a_component_deeper_than_the_recursion_limit():
    inst = _path_instance(600)  # 1200 lessons in one component: the old recursive search hit RecursionError
    assert inst.n_lessons > sys.getrecursionlimit()
    sched = rtt.solve(inst)
    assert sched is not None and rtt.verify(inst, sched).ok
    # pin both ends of the path to hour 1: the hours alternate along it, so the far end clashes
    n = 600
    req = np.zeros((n + 2, n + 1), dtype=int)
    req[:n] = inst.requirements
    req[n, 0] = req[n + 1, n] = 1
    pinned = rtt.RTTInstance([{1, 2}] * n + [{1}, {1}], req)
    assert rtt.solve(pinned) is None
    assert rtt.solve(pinned, method="milp") is None


def test_solve_refuses_a_search_above_the_work_limit_before_starting():
    inst = _path_instance(600)
    with pidlab.limits(max_work=1e6):
        t0 = time.perf_counter()
        with pytest.raises(ProblemTooLargeError, match=r"rtt.solve \(backtracking\).*max_work"):
            rtt.solve(inst)
        assert time.perf_counter() - t0 < 2


def test_random_unsolvable_is_bounded_by_the_work_limit():
    with pidlab.limits(max_work=1e8):
        t0 = time.perf_counter()
        with pytest.raises(ProblemTooLargeError, match=r"rtt.random_unsolvable\(2000, 2000\).*work limit"):
            rtt.random_unsolvable(2000, 2000, seed=0)
        assert time.perf_counter() - t0 < 20


def test_cook_reduction_counts_splits_lazily_and_guards_its_oracle_calls():
    from pidlab.hardness.rtt._guards import n_splits

    for seed in range(20):
        inst = rtt.random_instance(6, 4, seed=seed, reducible=False)
        assert n_splits(inst.n_lessons, inst.n_classes) == len(list(rtt.splits(inst)))
    inst, _ = rtt.random_solvable(40, 40, seed=0)
    with pidlab.limits(max_work=1e7):
        with pytest.raises(ProblemTooLargeError, match="cook_reduction.*splits"):
            rtt.cook_reduction(inst)


def test_other_rtt_entry_points_estimate_before_allocating():
    inst, sched = rtt.random_solvable(60, 50, seed=1)
    joint = rtt.schedule_to_joint(inst, sched)
    em = rtt.reduce(inst, exact=True)
    with pidlab.limits(max_memory="20KiB"):
        for call, what in [
            (lambda: rtt.RTTInstance([set()] * 2000, np.zeros((2000, 2000))), "RTTInstance with 2000 teachers"),
            (lambda: rtt.RTTInstance.from_dict({"availability": [[]] * 500, "requirements": [[0] * 500] * 500}),
             "RTTInstance with 500 teachers"),
            (lambda: inst.to_dict(), "to_dict"),
            (lambda: rtt.reduce(inst), "rtt.reduce"),
            (lambda: em.to_dict(), "ExactMarginals.to_dict"),
            (lambda: rtt.schedule_to_joint(inst, sched), "schedule_to_joint"),
            (lambda: rtt.verify_joint(inst, joint), "checking a joint"),
            (lambda: rtt.joint_to_schedule(inst, joint), "checking a joint"),
            (lambda: rtt.find_deterministic_joint(em.to_float()), "find_deterministic_joint"),
            (lambda: rtt.draw(inst, sched), "rtt.draw"),
        ]:
            with pytest.raises(ProblemTooLargeError, match=what):
                call()
    # the same calls work under the default limits
    assert rtt.joint_to_schedule(inst, joint) == sched and inst.to_dict()["requirements"][0] == inst.requirements[0].tolist()


def test_rtt_cli_errors_name_the_flag(capsys, tmp_path):
    from pidlab.cli import main

    for args, flag in [(["--seed", "-1"], "--seed"), (["--teachers", "0"], "--teachers"),
                       (["--out", str(tmp_path / "no" / "x.json")], "does not exist")]:
        assert main(["hardness", "rtt", "generate", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("pidlab: error:") and err.count("\n") == 1 and flag in err
    assert main(["hardness", "rtt", "generate", "--teachers", "100000", "--classes", "100000"]) == 2
    err = capsys.readouterr().err
    assert "GiB of memory" in err and err.count("\n") == 1


# ----------------------------------------------------------------------------- studies
def test_a_huge_study_is_refused_before_any_task_is_made():
    t0 = time.perf_counter()
    with pytest.raises(ProblemTooLargeError, match="a study of 1000000000000 distributions.*max_work"):
        run_study(dirichlet((2, 2, 2), n=10**12), ["imin"])
    assert time.perf_counter() - t0 < 5


class _Counting(Family):
    name = "counting"
    param_names = ("k",)
    shards = 0

    def __len__(self):
        return 10**6

    def max_cells(self):
        return 8

    def shard(self, start, stop):
        type(self).shards += 1
        return self

    def generate(self, start, stop):
        return [np.full((2, 2, 2), 0.125) for _ in range(start, stop)], [{"k": i} for i in range(start, stop)]


def test_study_tasks_are_made_lazily():
    class Stop(Exception):
        pass

    def progress(done, total):
        raise Stop

    _Counting.shards = 0
    with pytest.raises(Stop):
        run_study(_Counting(), ["imin"], chunk_size=1, progress=progress)
    assert _Counting.shards <= 2  # the old runner made all 10**6 tasks before running the first


def test_study_task_memory_is_estimated_before_starting():
    with pidlab.limits(max_work=1e30):
        t0 = time.perf_counter()
        with pytest.raises(ProblemTooLargeError, match=r"1000x1000x1000 tables.*one task.*7\.\d+ TiB of memory"):
            run_study(dirichlet((1000, 1000, 1000), n=1), ["broja"])
        assert time.perf_counter() - t0 < 5


@pytest.fixture(scope="module")
def small():
    return run_study(dirichlet((2, 2, 2), n=4, seed=0), ["imin"])


def test_save_to_a_missing_or_unusable_path_names_it(small, tmp_path):
    target = tmp_path / "missing" / "r.json"
    with pytest.raises(InvalidStudyError, match=f"directory {str(target.parent)!r} does not exist"):
        small.save(target)
    assert not target.parent.exists()  # not created behind the user's back
    (tmp_path / "d.json").mkdir()
    with pytest.raises(InvalidStudyError, match="is a directory"):
        small.save(tmp_path / "d.json")
    assert small.save(tmp_path / "ok.json").exists()


def test_cli_checks_out_before_computing(tmp_path, capsys, monkeypatch):
    import pidlab.study
    from pidlab.cli import main

    def never(*a, **k):
        raise AssertionError("the study ran before --out was checked")

    monkeypatch.setattr(pidlab.study, "run_study", never)
    assert main(["study", "--family", "gates", "--measures", "imin", "--out", str(tmp_path / "no" / "x.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / "no") in err and "does not exist" in err


class _OneBad(Family):
    name = "onebad"
    param_names = ("k",)

    def __len__(self):
        return 4

    def generate(self, start, stop):
        return ([np.full((2, 2, 2), 0.125 if i != 2 else 0.1875) for i in range(start, stop)],
                [{"k": i} for i in range(start, stop)])


def test_summary_counts_and_shows_the_rows_it_leaves_out():
    res = run_study(_OneBad(), ["broja", "imin"])
    s = res.summary()
    g = s.groups["broja"]
    assert g["n"] == 4 and g["n_error"] == 1 and g["R"]["n"] == 3 and g["R"]["n_error"] == 1
    good = res.select(measure="broja").column("R")[[0, 1, 3]]
    assert g["R"]["mean"] == pytest.approx(float(np.mean(good)), abs=1e-15)
    text = s.table()
    assert "broja: R, U1, U2, S over 3 of 4 rows" in text and "1 with status 'error'" in text
    # a value that is not a number in a row that did not fail is counted too, never averaged in
    cols = {k: np.array(v) for k, v in res.columns.items()}
    r = cols["R"]
    r[0] = np.nan
    res2 = StudyResult(dict(res.spec), cols, res.target)
    g2 = res2.summary().groups["broja"]
    assert g2["R"]["n"] == 2 and g2["R"]["n_nan"] == 1 and g2["U1"]["n"] == 3
    assert g2["R"]["mean"] == pytest.approx(float(np.mean(good[1:])), abs=1e-15)
    assert "R over 2 of 4 rows" in res2.summary().table() and "not a number" in res2.summary().table()


def test_guard_errors_are_pidlab_errors():
    with pytest.raises(PidlabError):
        run_study(dirichlet((2, 2, 2), n=10**12), ["imin"])


def test_default_solve_falls_back_to_the_milp_on_a_hard_instance() -> None:
    """The default method hands a hard instance to the MILP once the backtracking budget runs out
    (before: the search ran up to the work limit, about 45 minutes, on this instance)."""
    from pidlab.hardness import rtt

    inst = rtt.random_solvable(300, 300, seed=0, density=0.7)[0]
    with pytest.raises(pidlab.exceptions.SolverError):
        rtt.solve(inst, method="backtrack", max_nodes=2_000)
    sched = rtt.solve(inst)
    assert sched is not None and rtt.verify(inst, sched).ok
