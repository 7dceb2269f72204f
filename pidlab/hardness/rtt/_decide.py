"""Exact decision of RTT: constrained 3-edge-colouring by backtracking, or a 0/1 program (HiGHS)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np

from pidlab._limits import check_memory, check_work, max_work
from pidlab.exceptions import ParameterError, ProblemTooLargeError, SolverError
from pidlab.hardness.rtt._guards import GRAPH_ITEM_BYTES, PY_STEP, check_count
from pidlab.hardness.rtt._instance import HOURS, RTTInstance, Schedule, _check_hours, _check_instance

_POPCOUNT = tuple(bin(x).count("1") for x in range(16))  # hour masks use bits 1..3


def _popcount(x: int) -> int:
    return _POPCOUNT[x] if 0 <= x < 16 else bin(x).count("1")


def _bits(mask: int) -> list[int]:
    return [h for h in HOURS if mask >> h & 1]


def _hall_ok(doms: list[int]) -> bool:
    """Whether lessons with hour domains ``doms`` (bitmasks) admit pairwise distinct hours."""
    k = len(doms)
    if k > 3:
        return False
    for r in range(1, k + 1):
        for sub in itertools.combinations(doms, r):
            u = 0
            for d in sub:
                u |= d
            if _popcount(u) < r:
                return False
    return True


class _NodeLimit(Exception):
    pass


class _Steps:
    """Interpreted steps a search spent (filled in by :func:`_solve_backtrack`)."""

    steps = 0


class _StepLimit(Exception):
    def __init__(self, nodes: int, steps: int) -> None:
        super().__init__(nodes, steps)
        self.nodes, self.steps = nodes, steps


def _solve_backtrack(
    inst: RTTInstance,
    max_nodes: int | None,
    max_steps: float | None = None,
    stats: _Steps | None = None,
    estimate_first: bool = True,
) -> Schedule | None:
    """The backtracking search; ``max_steps`` bounds the interpreted steps (raising :class:`_StepLimit`)."""
    stats = _Steps() if stats is None else stats
    if any(d > 3 for d in inst.class_degrees):
        return None  # a class has only three hours
    tmask = [sum(1 << h for h in T) for T in inst.availability]
    lessons = inst.lessons
    by_teacher: dict[int, list[int]] = {}
    by_class: dict[int, list[int]] = {}
    for k, (i, j) in enumerate(lessons):
        by_teacher.setdefault(i, []).append(k)
        by_class.setdefault(j, []).append(k)
    t_used = [0] * inst.n_teachers
    c_used = [0] * inst.n_classes
    hour_of: dict[int, int] = {}
    nodes = 0

    def dom(k: int) -> int:
        i, j = lessons[k]
        return tmask[i] & ~t_used[i] & ~c_used[j]

    def consistent_around(i: int, j: int) -> bool:
        teachers = {i} | {lessons[k][0] for k in by_class[j] if k not in hour_of}
        classes = {j} | {lessons[k][1] for k in by_teacher[i] if k not in hour_of}
        for t in teachers:
            if not _hall_ok([dom(k) for k in by_teacher[t] if k not in hour_of]):
                return False
        for c in classes:
            if not _hall_ok([dom(k) for k in by_class[c] if k not in hour_of]):
                return False
        return True

    steps = 0  # interpreted steps spent (the smallest-domain scans), checked against max_steps

    def enter(comp: list[int]) -> list[Any] | bool:
        """Open a search node: True (all of comp scheduled), False (a lesson has no hour left), or a
        frame [lesson, its candidate hours..., index of the next candidate, assigned hour or 0]."""
        nonlocal nodes, steps
        nodes += 1
        if max_nodes is not None and nodes > max_nodes:
            raise _NodeLimit
        steps += len(comp)
        if max_steps is not None and steps > max_steps:
            raise _StepLimit(nodes, steps)
        best, best_d = -1, 4
        for k in comp:
            if k not in hour_of:
                i, j = lessons[k]
                d = _POPCOUNT[tmask[i] & ~t_used[i] & ~c_used[j]]
                if d < best_d:
                    best, best_d = k, d
                    if d <= 1:
                        break
        if best < 0:
            return True
        if best_d == 0:
            return False
        return [best, _bits(dom(best)), 0, 0]

    def unassign(k: int, h: int) -> None:
        i, j = lessons[k]
        del hour_of[k]
        t_used[i] &= ~(1 << h)
        c_used[j] &= ~(1 << h)

    def search(comp: list[int]) -> bool:
        """Depth-first search with an explicit stack (its depth is the number of lessons of comp,
        so no recursion): smallest domain first, forward checking by Hall's condition."""
        stack: list[list[Any]] = []
        opened = enter(comp)
        while True:
            if opened is True:
                return True
            if opened is not False:
                stack.append(opened)
            # advance the deepest open node to its next consistent hour (undoing its current one)
            while stack:
                frame = stack[-1]
                k, hours, nxt, cur = frame
                if cur:
                    unassign(k, cur)
                    frame[3] = 0
                i, j = lessons[k]
                while nxt < len(hours):
                    h = hours[nxt]
                    nxt += 1
                    hour_of[k] = h
                    t_used[i] |= 1 << h
                    c_used[j] |= 1 << h
                    if consistent_around(i, j):
                        frame[3] = h
                        break
                    unassign(k, h)
                frame[2] = nxt
                if frame[3]:
                    break
                stack.pop()
            if not stack:
                return False
            opened = enter(comp)

    for i in range(inst.n_teachers):  # a teacher's own lessons must fit T_i (tightness makes it a bijection)
        if i in by_teacher and not _hall_ok([tmask[i]] * len(by_teacher[i])):
            return None
    # components of the teacher-class graph are independent sub-problems
    comps = []
    for comp_nodes in nx.connected_components(inst.graph):
        comp = sorted(inst.graph.edges[e]["lesson"] for e in inst.graph.subgraph(comp_nodes).edges)
        if comp:
            comps.append(comp)
    # estimate first: even without a single backtrack, a component of c lessons costs c nodes of c steps
    if estimate_first:
        check_work(PY_STEP * float(sum(len(c) ** 2 for c in comps)),
                   f"rtt.solve (backtracking) of an instance with {inst.n_lessons} lessons "
                   f"(largest connected component {max((len(c) for c in comps), default=0)} lessons)",
                   hint="Try method='milp', or split the instance into smaller ones")
    for comp in comps:
        ok = search(comp)
        stats.steps = steps
        if not ok:
            return None
    return {(lessons[k][0], lessons[k][1], h) for k, h in hour_of.items()}


#: Seconds of HiGHS per elementary operation of the work limit (1e12 operations is about an hour).
SECONDS_PER_OP = 3600.0 / 1e12


class _TimeLimit(Exception):
    pass


def _solve_milp(inst: RTTInstance, hours: tuple[int, int, int] | None, time_limit: float | None = None) -> Schedule | None:
    """The 0/1 program; HiGHS stops after ``time_limit`` seconds (raising :class:`_TimeLimit`)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    # estimate first: <= 3 variables per lesson, each in four constraint rows (Python dicts, a lil matrix)
    check_memory(GRAPH_ITEM_BYTES * 3.0 * inst.n_lessons,
                 f"rtt.solve(method='milp') of an instance with {inst.n_lessons} lessons",
                 hint="Use method='backtrack', or split the instance into smaller ones")
    var = [(k, h) for k, (i, _) in enumerate(inst.lessons) for h in sorted(inst.availability[i])]
    if not var:
        return set() if hours in (None, (0, 0, 0)) else None
    rows: list[tuple[dict[int, float], float, float]] = []
    by_lesson: dict[int, dict[int, float]] = {}
    for v, (kk, _) in enumerate(var):
        by_lesson.setdefault(kk, {})[v] = 1.0
    for k in range(inst.n_lessons):  # each lesson exactly once (R_ij = 1)
        rows.append((by_lesson.get(k, {}), 1.0, 1.0))
    for side in (0, 1):  # teacher-hour and class-hour capacity 1
        groups: dict[tuple[int, int], dict[int, float]] = {}
        for v, (k, h) in enumerate(var):
            groups.setdefault((inst.lessons[k][side], h), {})[v] = 1.0
        rows.extend((g, 0.0, 1.0) for g in groups.values())
    if hours is not None:
        for h, nh in zip(HOURS, hours):
            rows.append(({v: 1.0 for v, (_, hh) in enumerate(var) if hh == h}, float(nh), float(nh)))
    A = lil_matrix((len(rows), len(var)))
    for r, (coef, _, _) in enumerate(rows):
        for v, c in coef.items():
            A[r, v] = c
    lb = np.array([r[1] for r in rows])
    ub = np.array([r[2] for r in rows])
    res = milp(
        np.zeros(len(var)),
        constraints=LinearConstraint(A.tocsr(), lb, ub),
        integrality=np.ones(len(var)),
        bounds=Bounds(0, 1),
        options=None if time_limit is None else {"time_limit": max(time_limit, 1.0)},
    )
    if res.status == 2:
        return None
    if res.status == 1:
        raise _TimeLimit
    if res.status != 0 or res.x is None:
        raise SolverError(f"HiGHS (scipy.optimize.milp) failed on the RTT program: {res.message}")
    return {(inst.lessons[k][0], inst.lessons[k][1], h) for v, (k, h) in enumerate(var) if res.x[v] > 0.5}


def solve(
    instance: RTTInstance,
    hours: Sequence[int] | None = None,
    *,
    method: str | None = None,
    max_nodes: int | None = None,
) -> Schedule | None:
    """Decide an RTT (or (n1,n2,n3)-RTT) instance exactly; return a schedule or None.

    Parameters
    ----------
    instance : RTTInstance
    hours : (n1, n2, n3), optional
        Also require exactly ``n_h`` lessons at hour ``h``.
    method : {"auto", "backtrack", "milp"}, optional
        ``"backtrack"``: constrained 3-edge-colouring by depth-first search over the lessons of
        each connected component, smallest domain first, with forward checking by Hall's
        condition on every teacher and class touched. ``"milp"``: a 0/1 program solved by HiGHS
        through :func:`scipy.optimize.milp`. ``"auto"`` (the default, also ``None``): backtracking
        with a budget of ``max(10_000, 50 * n_lessons)`` search nodes, then the MILP if that budget
        runs out (both are exact, so the answer does not depend on which one decides); with
        ``max_nodes`` given, ``None`` means ``"backtrack"``.
    max_nodes : int, optional
        Search-node budget for ``"backtrack"``; exceeding it raises :class:`SolverError`.
        Whatever it is, the search also stops at pidlab's work limit (:func:`pidlab.limits`, default
        1e12 elementary operations) with :class:`~pidlab.exceptions.ProblemTooLargeError`; an
        instance whose connected components are too large for even a search without backtracking
        is refused before the search starts. The search is iterative (no recursion limit).

    Returns
    -------
    set of (teacher, class, hour) or None
        A schedule that passes :func:`verify`, or None when none exists.

    Notes
    -----
    With ``hours`` other than :attr:`RTTInstance.forced_hours` the backtracking method answers
    None at once: a tight teacher teaches at every hour of ``T_i``, so every schedule has the
    forced counts. The MILP method imposes the counts as constraints instead (a check of that
    argument).

    Examples
    --------
    >>> inst = RTTInstance([{1, 2}, {1}, {1}], [[1, 1], [1, 0], [0, 1]])
    >>> solve(inst) is None  # t0 would have to teach both classes at hour 2
    True
    >>> solve(inst, method="milp") is None
    True
    """
    inst = _check_instance(instance)
    hs = None if hours is None else _check_hours(hours)
    if max_nodes is not None:
        max_nodes = check_count(max_nodes, "max_nodes", "solve", what="None or an int >= 1 (a search-node budget)")
    meth = "auto" if method is None else str(method).lower()
    if meth not in ("auto", "backtrack", "milp"):
        raise ParameterError(
            f"The `'method'` parameter of `rtt.solve` must be 'auto', 'backtrack', 'milp' or None. Got {method!r} "
            "instead. Use method=None for the default (backtracking, then the MILP on hard instances)."
        )
    if meth == "auto" and max_nodes is not None:  # an explicit search budget asks for the search
        meth = "backtrack"
    if meth == "auto":
        budget = max(10_000, 50 * inst.n_lessons)
        if hs is None or hs == inst.forced_hours:
            try:
                return _solve_backtrack(inst, budget, max_work() / PY_STEP)
            except (_NodeLimit, _StepLimit):
                pass
        meth = "milp"
    if meth == "milp":
        try:
            return _solve_milp(inst, hs, max_work() * SECONDS_PER_OP)
        except _TimeLimit:
            raise ProblemTooLargeError(
                f"rtt.solve(method='milp') of an instance with {inst.n_lessons} lessons stopped at HiGHS's time "
                f"limit of {max_work() * SECONDS_PER_OP:.3g} s (pidlab's work limit of {max_work():.2g} elementary "
                "operations) without an answer. Try method='backtrack', or raise the limit: "
                "`with pidlab.limits(max_work=1e14): ...` or PIDLAB_MAX_WORK=1e14."
            ) from None
    if hs is not None and hs != inst.forced_hours:
        return None
    try:
        return _solve_backtrack(inst, max_nodes, max_work() / PY_STEP)
    except _NodeLimit:
        raise SolverError(
            f"rtt.solve stopped after max_nodes={max_nodes} search nodes without an answer; raise max_nodes "
            "or try method='milp'."
        ) from None
    except _StepLimit as exc:
        raise _step_limit_error(inst, exc) from None


def _step_limit_error(inst: RTTInstance, exc: _StepLimit) -> ProblemTooLargeError:
    return ProblemTooLargeError(
        f"rtt.solve (backtracking) of an instance with {inst.n_lessons} lessons stopped after {exc.nodes} search "
        f"nodes (about {PY_STEP * exc.steps:.2g} elementary operations) without an answer, at pidlab's work "
        f"limit of {max_work():.2g}. Try method='milp', or raise the limit: "
        "`with pidlab.limits(max_work=1e14): ...` or PIDLAB_MAX_WORK=1e14."
    )
