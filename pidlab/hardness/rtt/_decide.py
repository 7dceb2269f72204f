"""Exact decision of RTT: constrained 3-edge-colouring by backtracking, or a 0/1 program (HiGHS)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import networkx as nx
import numpy as np

from pidlab.exceptions import ParameterError, SolverError
from pidlab.hardness.rtt._instance import HOURS, RTTInstance, Schedule, _check_hours, _check_instance


def _popcount(x: int) -> int:
    return bin(x).count("1")


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


def _solve_backtrack(inst: RTTInstance, max_nodes: int | None) -> Schedule | None:
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

    def rec(comp: list[int]) -> bool:
        nonlocal nodes
        nodes += 1
        if max_nodes is not None and nodes > max_nodes:
            raise _NodeLimit
        best, best_d = -1, 4
        for k in comp:
            if k not in hour_of:
                d = _popcount(dom(k))
                if d < best_d:
                    best, best_d = k, d
                    if d <= 1:
                        break
        if best < 0:
            return True
        if best_d == 0:
            return False
        i, j = lessons[best]
        for h in _bits(dom(best)):
            hour_of[best] = h
            t_used[i] |= 1 << h
            c_used[j] |= 1 << h
            if consistent_around(i, j) and rec(comp):
                return True
            del hour_of[best]
            t_used[i] &= ~(1 << h)
            c_used[j] &= ~(1 << h)
        return False

    for i in range(inst.n_teachers):  # a teacher's own lessons must fit T_i (tightness makes it a bijection)
        if i in by_teacher and not _hall_ok([tmask[i]] * len(by_teacher[i])):
            return None
    # components of the teacher-class graph are independent sub-problems
    for comp_nodes in nx.connected_components(inst.graph):
        comp = sorted(inst.graph.edges[e]["lesson"] for e in inst.graph.subgraph(comp_nodes).edges)
        if comp and not rec(comp):
            return None
    return {(lessons[k][0], lessons[k][1], h) for k, h in hour_of.items()}


def _solve_milp(inst: RTTInstance, hours: tuple[int, int, int] | None) -> Schedule | None:
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    var = [(k, h) for k, (i, _) in enumerate(inst.lessons) for h in sorted(inst.availability[i])]
    if not var:
        return set() if hours in (None, (0, 0, 0)) else None
    rows: list[tuple[dict[int, float], float, float]] = []
    for k in range(inst.n_lessons):  # each lesson exactly once (R_ij = 1)
        rows.append(({v: 1.0 for v, (kk, _) in enumerate(var) if kk == k}, 1.0, 1.0))
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
    )
    if res.status == 2:
        return None
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
    method : {"backtrack", "milp"}, optional
        ``"backtrack"``: constrained 3-edge-colouring by depth-first search over the lessons of
        each connected component, smallest domain first, with forward checking by Hall's
        condition on every teacher and class touched. ``"milp"``: a 0/1 program solved by HiGHS
        through :func:`scipy.optimize.milp`. The default (``None`` = backtrack) may change.
    max_nodes : int, optional
        Search-node budget for ``"backtrack"``; exceeding it raises :class:`SolverError`.

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
    meth = "backtrack" if method is None else str(method).lower()
    if meth not in ("backtrack", "milp"):
        raise ParameterError(
            f"The `'method'` parameter of `rtt.solve` must be 'backtrack', 'milp' or None. Got {method!r} instead. "
            "Use method=None for the default (backtracking)."
        )
    if meth == "milp":
        return _solve_milp(inst, hs)
    if hs is not None and hs != inst.forced_hours:
        return None
    try:
        return _solve_backtrack(inst, max_nodes)
    except _NodeLimit:
        raise SolverError(
            f"rtt.solve stopped after max_nodes={max_nodes} search nodes without an answer; raise max_nodes "
            "or try method='milp'."
        ) from None
