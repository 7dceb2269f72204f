"""Random generators of RTT instances: planted solvable, proved unsolvable, and of unknown solvability."""

from __future__ import annotations

import bisect
import time
from typing import Any

import numpy as np

from pidlab._limits import check_work, max_work
from pidlab.exceptions import ProblemTooLargeError
from pidlab.hardness.rtt._decide import SECONDS_PER_OP, _solve_backtrack, _solve_milp, _StepLimit, _Steps, _TimeLimit
from pidlab.hardness.rtt._guards import PY_STEP, check_count, check_density, check_flag, guard_instance, rng_from_seed
from pidlab.hardness.rtt._instance import HOURS, GenerationError, RTTInstance, Schedule
from pidlab.hardness.rtt._schedule import verify  # noqa: F401 - named in the docstrings and their examples

#: Backtracking steps per lesson that :func:`random_unsolvable` spends on a candidate before handing
#: it to the 0/1 program (HiGHS).
BACKTRACK_STEPS_PER_LESSON = 50


def _check_sizes(n_teachers: Any, n_classes: Any, density: Any, seed: Any, func: str) -> tuple[int, int, float, np.random.Generator]:
    n = check_count(n_teachers, "n_teachers", func)
    m = check_count(n_classes, "n_classes", func)
    return n, m, check_density(density, func), rng_from_seed(seed, func)


def _draw_work(n: int, m: int) -> float:
    """Work of one draw of an n x m instance: vectorised passes over the matrix, Python steps per teacher."""
    return 8.0 * n * m + PY_STEP * (30.0 * n + m)


def _budget_error(func: str, n: int, m: int, tries: int, spent: float) -> ProblemTooLargeError:
    return ProblemTooLargeError(
        f"rtt.{func}({n}, {m}) stopped after {tries} draw(s) (about {spent:.2g} elementary operations) without an "
        f"instance of the requested kind, at pidlab's work limit of {max_work():.2g}. Use a smaller instance or "
        "another density, or raise the limit: `with pidlab.limits(max_work=1e14): ...` or PIDLAB_MAX_WORK=1e14."
    )


def _decide_within(inst: RTTInstance, spent: float, n: int, m: int, tries: int) -> tuple[bool, float]:
    """Whether ``inst`` is solvable, and the work spent so far. Backtracking for a few steps per lesson,
    then the 0/1 program: both are exact, so the answer (and the generator's output) is the same; the
    program only saves the exponential tail of the search on large instances. Bounded by the work limit."""
    stats = _Steps()
    local = min((max_work() - spent) / PY_STEP, BACKTRACK_STEPS_PER_LESSON * inst.n_lessons + 1e5)
    try:
        found = _solve_backtrack(inst, None, local, stats, estimate_first=False)
        return found is not None, spent + PY_STEP * stats.steps
    except _StepLimit as exc:
        spent += PY_STEP * exc.steps
    remaining = max_work() - spent
    if remaining <= 0:
        raise _budget_error("random_unsolvable", n, m, tries, spent)
    t0 = time.perf_counter()
    try:
        found = _solve_milp(inst, None, remaining * SECONDS_PER_OP)
    except _TimeLimit:
        raise _budget_error("random_unsolvable", n, m, tries, max_work()) from None
    return found is not None, spent + (time.perf_counter() - t0) / SECONDS_PER_OP


def _kth_free(excluded: list[int], k: int) -> int:
    """The ``k``-th (0-based) integer >= 0 not in the sorted list ``excluded``, by bisection."""
    lo, hi = 0, len(excluded)
    while lo < hi:
        mid = (lo + hi) // 2
        if excluded[mid] - mid <= k:
            lo = mid + 1
        else:
            hi = mid
    return k + lo


def _planted(n: int, m: int, density: float, rng: np.random.Generator) -> tuple[RTTInstance, Schedule]:
    """The planted instance of :func:`random_solvable` (validated arguments; O(n log m) steps plus the matrix)."""
    sched: Schedule = set()
    met_of: list[list[int]] = [[] for _ in range(n)]
    for h in HOURS:
        busy: list[int] = []  # sorted classes taken at this hour
        busy_set: set[int] = set()
        for i in rng.permutation(n).tolist():
            if rng.random() >= density:
                continue
            # the free classes are those neither busy now nor met by teacher i; the draw picks the k-th of
            # them in increasing order (the same draw as indexing the full list of free classes)
            extra = [j for j in met_of[i] if j not in busy_set]
            for j in extra:
                bisect.insort(busy, j)
            n_free = m - len(busy)
            j = _kth_free(busy, int(rng.integers(n_free))) if n_free > 0 else -1
            for x in extra:
                del busy[bisect.bisect_left(busy, x)]
            if j >= 0:
                bisect.insort(busy, j)
                busy_set.add(j)
                met_of[i].append(j)
                sched.add((i, j, h))
    avail: list[set[int]] = [set() for _ in range(n)]
    for t, _, h in sched:
        avail[t].add(h)
    req = np.zeros((n, m), dtype=np.int8)
    for i, js in enumerate(met_of):
        req[i, js] = 1
    return RTTInstance(avail, req), sched


def random_solvable(
    n_teachers: int, n_classes: int, *, density: float = 0.6, seed: Any = None
) -> tuple[RTTInstance, Schedule]:
    """A random RTT instance with a planted schedule, returned with it.

    For each hour the teachers, in random order, each take with probability ``density`` a random
    class that is free at that hour and that they have not met yet. The availability sets and the
    requirement matrix are then read off the planted schedule (so teachers are tight).

    ``seed`` is None, an int >= 0, a numpy.random.Generator or a numpy.random.SeedSequence; bad
    arguments raise ParameterError, and an instance above pidlab's memory or work limit
    (:func:`pidlab.limits`) raises ProblemTooLargeError before anything is allocated.

    Examples
    --------
    >>> inst, sched = random_solvable(4, 3, seed=1)
    >>> verify(inst, sched).ok
    True
    """
    n, m, dens, rng = _check_sizes(n_teachers, n_classes, density, seed, "random_solvable")
    what = f"rtt.random_solvable({n}, {m})"
    guard_instance(n, m, what)
    check_work(_draw_work(n, m), what, hint="Use fewer teachers or classes")
    return _planted(n, m, dens, rng)


def random_instance(
    n_teachers: int,
    n_classes: int,
    *,
    density: float = 0.5,
    seed: Any = None,
    reducible: bool = True,
    max_tries: int = 1000,
) -> RTTInstance:
    """A random tight RTT instance of unknown solvability.

    Each teacher gets a random set of at most three classes (each kept with probability
    ``density``) and a random availability set of the same size.

    Parameters
    ----------
    n_teachers, n_classes : int >= 1
    density : float in (0, 1]
    seed : None, int >= 0, numpy.random.Generator or numpy.random.SeedSequence
    reducible : bool, default True
        Redraw until no class has more than three lessons and at most ``m`` teachers are tied to
        each hour, i.e. until counting alone does not refute the instance and :func:`reduce`
        applies. With False, return the first draw.
    max_tries : int >= 1

    Raises
    ------
    GenerationError
        ``reducible=True`` and no such instance within ``max_tries`` draws (lower ``density`` or
        use fewer teachers per class).
    ParameterError
        An argument of the wrong type or out of range.
    ProblemTooLargeError
        The instance would not fit pidlab's memory limit or one draw its work limit (checked
        before anything is allocated), or the redraws reach the work limit (:func:`pidlab.limits`).
    """
    n, m, dens, rng = _check_sizes(n_teachers, n_classes, density, seed, "random_instance")
    red = check_flag(reducible, "reducible", "random_instance")
    tries = check_count(max_tries, "max_tries", "random_instance")
    what = f"rtt.random_instance({n}, {m})"
    guard_instance(n, m, what)
    per_draw = _draw_work(n, m)
    check_work(per_draw, what, hint="Use fewer teachers or classes")  # one draw; the redraws are budgeted below
    spent = 0.0
    for t in range(tries):
        if spent + per_draw > max_work():
            raise _budget_error("random_instance", n, m, t, spent)
        spent += per_draw
        req = np.zeros((n, m), dtype=np.int8)
        avail = []
        for i in range(n):
            # rng.random(m) gives the same numbers as m calls of rng.random()
            row = np.flatnonzero(rng.random(m) < dens).tolist()
            row = rng.permutation(row)[:3].tolist() if row else []
            req[i, row] = 1
            avail.append(set(rng.choice(HOURS, size=len(row), replace=False).tolist()))
        inst = RTTInstance(avail, req)
        if not red or (max(inst.class_degrees) <= 3 and max(inst.forced_hours) <= m):
            return inst
    raise GenerationError(
        f"no {n}x{m} instance that counting does not refute in {tries} draws at density "
        f"{density}; lower density, use fewer teachers per class, or pass reducible=False."
    )


def random_unsolvable(
    n_teachers: int, n_classes: int, *, density: float = 0.7, seed: Any = None, max_tries: int = 500
) -> RTTInstance:
    """A random RTT instance proved unsolvable by :func:`solve`.

    Starts from a planted solvable instance and swaps one available hour of one teacher for an
    hour outside ``T_i`` (tightness is kept), until an exact decision proves the result
    unsolvable (:func:`solve`'s backtracking for up to 50 steps per lesson, then its 0/1
    program; both are exact, so the answer does not depend on which one decided).
    The instances are one move away from solvable ones; no class has more than three lessons and
    at most ``m`` teachers are tied to each hour, so counting alone does not refute them and
    :func:`reduce` applies.

    Parameters
    ----------
    n_teachers, n_classes : int >= 1
    density : float in (0, 1]
    seed : None, int >= 0, numpy.random.Generator or numpy.random.SeedSequence
    max_tries : int >= 1

    Raises
    ------
    GenerationError
        No unsolvable instance found within ``max_tries`` perturbations (try a higher density).
    ParameterError
        An argument of the wrong type or out of range.
    ProblemTooLargeError
        The instance would not fit pidlab's memory limit (checked before anything is allocated),
        or the tries and decisions reach its work limit (:func:`pidlab.limits`).
    """
    n, m, dens, rng = _check_sizes(n_teachers, n_classes, density, seed, "random_unsolvable")
    tries = check_count(max_tries, "max_tries", "random_unsolvable")
    what = f"rtt.random_unsolvable({n}, {m})"
    guard_instance(n, m, what)
    per_draw = 2 * _draw_work(n, m)  # the planted instance and its perturbation
    check_work(per_draw, what, hint="Use fewer teachers or classes")  # the tries and searches are budgeted below
    spent = 0.0
    for t in range(tries):
        if spent + per_draw > max_work():
            raise _budget_error("random_unsolvable", n, m, t, spent)
        spent += per_draw
        inst, _sched = _planted(n, m, dens, rng)
        counts = inst.forced_hours
        # moves (teacher, hour given up, hour taken) that keep at most m teachers tied to each hour
        moves = [
            (i, old, h)
            for i, T in enumerate(inst.availability)
            for old in sorted(T)
            for h in HOURS
            if h not in T and counts[h - 1] < n_classes
        ]
        if not moves:
            continue
        i, old, h = moves[int(rng.integers(len(moves)))]
        avail = list(inst.availability)
        avail[i] = (inst.availability[i] - {old}) | {h}
        new = RTTInstance(avail, inst.requirements)
        solvable, spent = _decide_within(new, spent, n, m, t + 1)
        if not solvable:
            return new
    raise GenerationError(
        f"no unsolvable {n}x{m} instance found in {tries} tries at density {density}; "
        "raise density or max_tries."
    )
