"""The restricted-timetable (RTT) reduction: NP-hard instances of the minimum joint entropy.

Liang et al. (ICLR 2024, Thm 3 and App. B.5) show that minimising ``H(X1, X2, Y)`` over the joints
with three given pairwise marginals is NP-hard, by reducing the restricted timetable problem of
Even, Itai & Shamir (1975) to it. This module ships that construction in exact rational
arithmetic, both directions of its correctness proof as functions, an exact decision procedure
for small instances and random generators of solvable and unsolvable instances.

**RTT.** Teachers ``t_0..t_{n-1}`` with availability sets ``T_i ⊆ {1, 2, 3}``, classes
``c_0..c_{m-1}`` free at all three hours, a 0/1 requirement matrix ``R`` (n×m), and tight
teachers: ``|T_i| = Σ_j R_ij``. A schedule (meeting function) is a set of triples
``(teacher, class, hour)`` such that (1) a teacher only teaches at hours in ``T_i``; (2) teacher
``i`` meets class ``j`` exactly ``R_ij`` times; (3) a class has at most one teacher per hour;
(4) a teacher has at most one class per hour. It is a constrained 3-edge-colouring of the
bipartite teacher-class graph (edges = required lessons). (n1,n2,n3)-RTT also asks that exactly
``n_h`` lessons take place at hour ``h``.

**Reduction** (docs/theory.rst §6). ``N = L + 3m`` with ``L = Σ R_ij``; X1 = teachers then the holding
rooms ``h1, h2, h3``; X2 = classes; Y = (0, 1, 2, 3) with 0 the null colour.
A joint with these three pairwise marginals and ``H(Y | X1, X2) = 0`` exists iff the
(n1,n2,n3)-RTT instance is solvable; such a joint has entries in ``{0, 1/N}`` and its entropy is
``log2 N = H(X1, X2)``, the least any joint with the given ``p(x1, x2)`` can have.

Indices are 0-based (teacher ``i`` is row ``i`` of ``requirements``); hours are 1, 2, 3.

A note on (n1,n2,n3). Because every teacher is tight, teacher ``i`` teaches at *every* hour of
``T_i``, so the number of lessons at hour ``h`` is forced: ``n_h = #{i : h ∈ T_i}``
(:attr:`RTTInstance.forced_hours`). Every other split is a no-instance, and its reduced
marginals disagree on ``p(y)``. The Cook reduction RTT → (n1,n2,n3)-RTT of the paper
(:func:`cook_reduction`) still enumerates all ``O(L²)`` splits, as the proof does.

Not provided: instances generated from 3-SAT formulas through the Even-Itai-Shamir
construction. Their 1975 paper was not available to build it from faithfully, and pidlab does
not ship a reconstruction it cannot check against the source.

References
----------
S. Even, A. Itai, A. Shamir, "On the complexity of timetable and multicommodity flow problems",
SIAM J. Comput. 5(4), 1976 (Technion TR CS0059, 1975).
P. P. Liang et al., "Multimodal learning without labeled multimodal data: guarantees and
applications", ICLR 2024, App. B.5.

Examples
--------
>>> from pidlab.hardness import rtt
>>> inst = rtt.RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
>>> inst.forced_hours, inst.n_atoms
((1, 1, 1), 9)
>>> sched = rtt.solve(inst)
>>> rtt.verify(inst, sched).ok
True
>>> joint = rtt.schedule_to_joint(inst, sched, exact=True)
>>> rtt.joint_to_schedule(inst, joint) == sched
True
>>> m = rtt.reduce(inst, exact=True)
>>> m.p_x2y[0].tolist()  # class c0: null colour, then hours 1, 2, 3
[Fraction(1, 9), Fraction(1, 9), Fraction(1, 9), Fraction(1, 9)]
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from pidlab.exceptions import (
    InconsistentMarginalsError,
    InvalidDistributionError,
    PidlabError,
    SolverError,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from pidlab._marginals import Marginals

__all__ = [
    "HOURS",
    "Y_LABELS",
    "InvalidInstanceError",
    "InvalidScheduleError",
    "GenerationError",
    "RTTInstance",
    "ExactMarginals",
    "Verification",
    "CookReductionResult",
    "reduce",
    "solve",
    "verify",
    "verify_joint",
    "schedule_to_joint",
    "joint_to_schedule",
    "find_deterministic_joint",
    "splits",
    "cook_reduction",
    "random_solvable",
    "random_unsolvable",
    "random_instance",
    "draw",
]

#: The three hours of RTT.
HOURS: tuple[int, int, int] = (1, 2, 3)
#: The target alphabet of the reduction (0 is the null colour, then the hours).
Y_LABELS: tuple[int, int, int, int] = (0, 1, 2, 3)
#: Colours of the hours in :func:`draw`.
HOUR_COLORS: dict[int, str] = {1: "tab:red", 2: "tab:green", 3: "tab:blue"}

Schedule = set[tuple[int, int, int]]


class InvalidInstanceError(PidlabError, ValueError):
    """An RTT instance (availability, requirements, hour counts) is malformed."""


class InvalidScheduleError(PidlabError, ValueError):
    """A schedule is malformed or violates the RTT conditions where a valid one is required."""


class GenerationError(PidlabError, RuntimeError):
    """A random generator did not find an instance of the requested kind within its budget."""


# ----------------------------------------------------------------------------- the instance
def _check_availability(availability: Any) -> tuple[frozenset[int], ...]:
    if isinstance(availability, (str, bytes)) or not isinstance(availability, Iterable):
        raise InvalidInstanceError(
            f"availability must be a list with one set of hours per teacher, got {type(availability).__name__}; "
            "e.g. [{1, 2}, {3}]."
        )
    out = []
    for i, hours in enumerate(availability):
        if isinstance(hours, (str, bytes)) or not isinstance(hours, Iterable):
            raise InvalidInstanceError(
                f"availability[{i}] must be a set of hours in {{1, 2, 3}}, got {hours!r}; e.g. {{1, 3}}."
            )
        hs = list(hours)
        for h in hs:
            if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or int(h) not in HOURS:
                raise InvalidInstanceError(
                    f"availability[{i}] contains {h!r}; hours are the integers 1, 2, 3 "
                    "(0 is the null colour of the reduction, not an hour)."
                )
        if len(set(int(h) for h in hs)) != len(hs):
            raise InvalidInstanceError(
                f"availability[{i}] = {hs!r} repeats an hour; give each available hour once."
            )
        out.append(frozenset(int(h) for h in hs))
    if not out:
        raise InvalidInstanceError("an RTT instance needs at least one teacher; availability is empty.")
    return tuple(out)


def _check_requirements(requirements: Any, n: int) -> NDArray[np.int64]:
    try:
        a = np.array(requirements)
    except (TypeError, ValueError) as exc:
        raise InvalidInstanceError(
            f"requirements must be an n×m matrix of 0/1 entries; could not read it ({exc}). "
            "Pass a list of equal-length rows, one row per teacher."
        ) from None
    if a.ndim != 2 or a.dtype == object:
        raise InvalidInstanceError(
            f"requirements must be an n×m matrix (one row per teacher, one column per class); got shape "
            f"{a.shape}. Pass a list of equal-length rows."
        )
    if a.shape[0] != n:
        raise InvalidInstanceError(
            f"requirements has {a.shape[0]} rows but availability lists {n} teachers; give one row per teacher."
        )
    if a.shape[1] == 0:
        raise InvalidInstanceError("requirements has no columns; an RTT instance needs at least one class.")
    if a.dtype.kind not in "biuf":
        raise InvalidInstanceError(f"requirements must hold the numbers 0 and 1, got dtype {a.dtype}.")
    ok = (a == 0) | (a == 1)
    if not ok.all():
        i, j = (int(k) for k in np.argwhere(~ok)[0])
        raise InvalidInstanceError(
            f"requirements[{i}][{j}] = {a[i, j]!r}; RTT requirements are 0/1 (a teacher meets a class at most "
            "once). Split repeated lessons into separate teachers, or use a general timetabling solver."
        )
    out = a.astype(np.int64)
    out.setflags(write=False)
    return out


class RTTInstance:
    """A restricted-timetable instance, backed by a networkx bipartite graph.

    Parameters
    ----------
    availability : sequence of sets of int
        ``availability[i] = T_i ⊆ {1, 2, 3}``, the hours teacher ``i`` is available.
    requirements : array_like of 0/1, shape (n, m)
        ``requirements[i][j] = 1`` when teacher ``i`` must meet class ``j`` once.

    Raises
    ------
    InvalidInstanceError
        Hours outside {1, 2, 3}, a matrix that is not 0/1 or has the wrong number of rows, or a
        teacher that is not tight (``|T_i| != Σ_j R_ij``).

    Attributes
    ----------
    graph : networkx.Graph
        Frozen bipartite graph: teacher nodes ``"t0", "t1", ...`` (``bipartite=0``, attributes
        ``index`` and ``availability``), class nodes ``"c0", ...`` (``bipartite=1``, ``index``),
        one edge per required lesson (attribute ``lesson``, its position in :attr:`lessons`).

    Examples
    --------
    >>> inst = RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
    >>> inst.n_teachers, inst.n_classes, inst.n_lessons
    (2, 2, 3)
    >>> sorted(inst.graph.edges)
    [('t0', 'c0'), ('t0', 'c1'), ('t1', 'c1')]
    >>> RTTInstance([{1, 2}], [[1]])
    Traceback (most recent call last):
    ...
    pidlab.hardness.rtt.InvalidInstanceError: teacher 0 is not tight: ...
    """

    __slots__ = ("_availability", "_requirements", "_lessons", "_graph")

    def __init__(self, availability: Sequence[Iterable[int]], requirements: Any) -> None:
        avail = _check_availability(availability)
        req = _check_requirements(requirements, len(avail))
        for i, (T, row) in enumerate(zip(avail, req)):
            if len(T) != int(row.sum()):
                raise InvalidInstanceError(
                    f"teacher {i} is not tight: available at {len(T)} hour(s) {sorted(T)} but required for "
                    f"{int(row.sum())} lesson(s). RTT needs |T_i| = Σ_j R_ij; change availability[{i}] or "
                    f"row {i} of requirements."
                )
        self._availability = avail
        self._requirements = req
        self._lessons = tuple((int(i), int(j)) for i, j in np.argwhere(req == 1))
        g = nx.Graph(name="RTT instance")
        for i, T in enumerate(avail):
            g.add_node(f"t{i}", bipartite=0, index=i, availability=tuple(sorted(T)))
        for j in range(req.shape[1]):
            g.add_node(f"c{j}", bipartite=1, index=j)
        for k, (i, j) in enumerate(self._lessons):
            g.add_edge(f"t{i}", f"c{j}", lesson=k)
        self._graph = nx.freeze(g)

    # -- read-only views
    @property
    def availability(self) -> tuple[frozenset[int], ...]:
        """``T_i`` for each teacher, in input order."""
        return self._availability

    @property
    def requirements(self) -> NDArray[np.int64]:
        """The 0/1 requirement matrix (read-only), shape (n_teachers, n_classes)."""
        return self._requirements

    @property
    def graph(self) -> nx.Graph:
        """The frozen bipartite teacher-class graph (see the class docstring)."""
        return self._graph

    @property
    def n_teachers(self) -> int:
        return len(self._availability)

    @property
    def n_classes(self) -> int:
        return int(self._requirements.shape[1])

    @property
    def lessons(self) -> tuple[tuple[int, int], ...]:
        """The required (teacher, class) pairs, row-major."""
        return self._lessons

    @property
    def n_lessons(self) -> int:
        """``L = Σ R_ij``."""
        return len(self._lessons)

    @property
    def n_atoms(self) -> int:
        """``N = L + 3m``: the number of (x1, x2) pairs of positive mass in the reduction."""
        return self.n_lessons + 3 * self.n_classes

    @property
    def forced_hours(self) -> tuple[int, int, int]:
        """``(n1, n2, n3)`` with ``n_h = #{i : h ∈ T_i}``: the only hour counts a schedule can have."""
        return tuple(sum(h in T for T in self._availability) for h in HOURS)  # type: ignore[return-value]

    @property
    def class_degrees(self) -> tuple[int, ...]:
        """Number of lessons of each class."""
        return tuple(int(d) for d in self._requirements.sum(axis=0))

    @property
    def teacher_nodes(self) -> tuple[str, ...]:
        return tuple(f"t{i}" for i in range(self.n_teachers))

    @property
    def class_nodes(self) -> tuple[str, ...]:
        return tuple(f"c{j}" for j in range(self.n_classes))

    # -- conversions
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"availability": [[...], ...], "requirements": [[...], ...]}``."""
        return {
            "availability": [sorted(T) for T in self._availability],
            "requirements": self._requirements.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RTTInstance:
        """Inverse of :meth:`to_dict` (extra keys are ignored)."""
        if not isinstance(d, dict) or "availability" not in d or "requirements" not in d:
            raise InvalidInstanceError(
                "an RTT instance must be a mapping with keys 'availability' and 'requirements'; "
                f"got {type(d).__name__} with keys {sorted(d) if isinstance(d, dict) else None}."
            )
        return cls(d["availability"], d["requirements"])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RTTInstance):
            return NotImplemented
        return self._availability == other._availability and np.array_equal(self._requirements, other._requirements)

    def __hash__(self) -> int:
        return hash((self._availability, self._requirements.tobytes(), self._requirements.shape))

    def __repr__(self) -> str:
        av = [sorted(T) for T in self._availability]
        return f"RTTInstance(availability={av}, requirements={self._requirements.tolist()})"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>c{j}</th>" for j in range(self.n_classes))
        rows = "".join(
            f"<tr><th>t{i}</th><td>{sorted(T)}</td>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
            for i, (T, row) in enumerate(zip(self._availability, self._requirements.tolist()))
        )
        return (
            f"<p><b>RTT instance</b>: {self.n_teachers} teachers, {self.n_classes} classes, "
            f"{self.n_lessons} lessons, forced hour counts {self.forced_hours}, N = {self.n_atoms}</p>"
            f"<table><tr><th>teacher</th><th>T_i</th>{head}</tr>{rows}</table>"
        )


def _check_instance(instance: Any) -> RTTInstance:
    if not isinstance(instance, RTTInstance):
        raise InvalidInstanceError(
            f"expected an RTTInstance, got {type(instance).__name__}; build one with "
            "rtt.RTTInstance(availability, requirements)."
        )
    return instance


def _check_hours(hours: Any) -> tuple[int, int, int]:
    try:
        hs = tuple(hours)
    except TypeError:
        raise InvalidInstanceError(
            f"hours must be three lesson counts (n1, n2, n3), got {hours!r}; or pass hours=None."
        ) from None
    if len(hs) != 3 or any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 0 for h in hs):
        raise InvalidInstanceError(
            f"hours must be three non-negative integers (n1, n2, n3), got {hours!r}; or pass hours=None "
            "to use the counts forced by the tight teachers."
        )
    return tuple(int(h) for h in hs)  # type: ignore[return-value]


# ----------------------------------------------------------------------------- the reduction
def _ro_object(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class ExactMarginals:
    """The three pairwise marginals of the RTT reduction with :class:`fractions.Fraction` entries.

    Attributes
    ----------
    p_x1y, p_x2y, p_x1x2 : ndarray of Fraction (dtype object, read-only)
        Shapes ``(n+3, 4)``, ``(m, 4)``, ``(n+3, m)``; the same axes as :func:`reduce` gives.
    N : int
        Common denominator ``L + 3m``.
    hours : tuple of int
        The split ``(n1, n2, n3)`` used for the holding rooms.
    x1_labels, x2_labels, y_labels : tuple
        ``("t0", ..., "h1", "h2", "h3")``, ``("c0", ...)`` and ``(0, 1, 2, 3)``.
    """

    p_x1y: NDArray[Any] = field(repr=False)
    p_x2y: NDArray[Any] = field(repr=False)
    p_x1x2: NDArray[Any] = field(repr=False)
    N: int
    hours: tuple[int, int, int]
    x1_labels: tuple[str, ...] = field(repr=False)
    x2_labels: tuple[str, ...] = field(repr=False)
    y_labels: tuple[int, ...] = field(default=Y_LABELS, repr=False)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(|X1|, |X2|, |Y|)``."""
        return (self.p_x1y.shape[0], self.p_x2y.shape[0], self.p_x1y.shape[1])

    def implied(self) -> dict[str, tuple[Fraction, ...]]:
        """The singleton marginals each table implies (two versions each of p(x1), p(x2), p(y))."""
        return {
            "p_x1 from p_x1y": tuple(self.p_x1y.sum(axis=1)),
            "p_x1 from p_x1x2": tuple(self.p_x1x2.sum(axis=1)),
            "p_x2 from p_x2y": tuple(self.p_x2y.sum(axis=1)),
            "p_x2 from p_x1x2": tuple(self.p_x1x2.sum(axis=0)),
            "p_y from p_x1y": tuple(self.p_x1y.sum(axis=0)),
            "p_y from p_x2y": tuple(self.p_x2y.sum(axis=0)),
        }

    @property
    def is_consistent(self) -> bool:
        """Exactly: every table sums to 1 and the tables agree on p(x1), p(x2) and p(y).

        (Agreement on singletons is necessary for a joint to exist, not sufficient in general.)
        """
        imp = self.implied()
        totals_ok = all(sum(t.ravel()) == 1 for t in (self.p_x1y, self.p_x2y, self.p_x1x2))
        return (
            totals_ok
            and imp["p_x1 from p_x1y"] == imp["p_x1 from p_x1x2"]
            and imp["p_x2 from p_x2y"] == imp["p_x2 from p_x1x2"]
            and imp["p_y from p_x1y"] == imp["p_y from p_x2y"]
        )

    def to_float(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """The three tables as float64 arrays, in the order ``(p_x1y, p_x2y, p_x1x2)``."""
        return tuple(np.array(t, dtype=float) for t in (self.p_x1y, self.p_x2y, self.p_x1x2))  # type: ignore[return-value]

    def to_marginals(self) -> Marginals:
        """The tables as a :class:`pidlab.Marginals` (floats), with the axis labels."""
        from pidlab._marginals import Marginals

        return Marginals(*self.to_float(), labels=(self.x1_labels, self.x2_labels, self.y_labels))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: float tables, the exact tables as ``"a/b"`` strings, labels, N and hours."""

        def s(t: NDArray[Any]) -> list[list[str]]:
            return [[str(v) for v in row] for row in t.tolist()]

        a, b, c = self.to_float()
        return {
            "N": self.N,
            "hours": list(self.hours),
            "labels": {"X1": list(self.x1_labels), "X2": list(self.x2_labels), "Y": list(self.y_labels)},
            "p_x1y": a.tolist(),
            "p_x2y": b.tolist(),
            "p_x1x2": c.tolist(),
            "exact": {"p_x1y": s(self.p_x1y), "p_x2y": s(self.p_x2y), "p_x1x2": s(self.p_x1x2)},
            "consistent": self.is_consistent,
        }

    def _repr_html_(self) -> str:
        def table(t: NDArray[Any], rows: Sequence[Any], cols: Sequence[Any], title: str) -> str:
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
            body = "".join(
                f"<tr><th>{html.escape(str(r))}</th>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
                for r, row in zip(rows, t.tolist())
            )
            return f"<p>{title}</p><table><tr><th></th>{head}</tr>{body}</table>"

        return (
            f"<p><b>RTT marginals</b>, exact, N = {self.N}, hours = {self.hours}, "
            f"consistent = {self.is_consistent}</p>"
            + table(self.p_x1y, self.x1_labels, self.y_labels, "p(x1, y)")
            + table(self.p_x2y, self.x2_labels, self.y_labels, "p(x2, y)")
            + table(self.p_x1x2, self.x1_labels, self.x2_labels, "p(x1, x2)")
        )


def _x1_labels(inst: RTTInstance) -> tuple[str, ...]:
    return (*inst.teacher_nodes, "h1", "h2", "h3")


def _exact_tables(inst: RTTInstance, hours: tuple[int, int, int]) -> ExactMarginals:
    n, m, N = inst.n_teachers, inst.n_classes, inst.n_atoms
    zero, one = Fraction(0), Fraction(1, N)
    R = inst.requirements
    p_x1x2 = np.full((n + 3, m), zero, dtype=object)
    p_x1y = np.full((n + 3, 4), zero, dtype=object)
    p_x2y = np.full((m, 4), zero, dtype=object)
    for i, j in inst.lessons:
        p_x1x2[i, j] = one
    p_x1x2[n:, :] = one
    for i, T in enumerate(inst.availability):
        for h in T:
            p_x1y[i, h] = one
    for k in HOURS:
        p_x1y[n + k - 1, k] = Fraction(m - hours[k - 1], N)
        p_x1y[n + k - 1, 0] = Fraction(hours[k - 1], N)
    for j in range(m):
        p_x2y[j, 1:] = one
        p_x2y[j, 0] = Fraction(int(R[:, j].sum()), N)
    return ExactMarginals(
        p_x1y=_ro_object(p_x1y),
        p_x2y=_ro_object(p_x2y),
        p_x1x2=_ro_object(p_x1x2),
        N=N,
        hours=hours,
        x1_labels=_x1_labels(inst),
        x2_labels=inst.class_nodes,
    )


def reduce(
    instance: RTTInstance,
    hours: Sequence[int] | None = None,
    *,
    exact: bool = False,
    allow_inconsistent: bool = False,
) -> Marginals | ExactMarginals:
    """The three pairwise marginals of the RTT reduction (docs/theory.rst §6, paper App. B.5).

    Parameters
    ----------
    instance : RTTInstance
    hours : (n1, n2, n3), optional
        Lessons per hour of the (n1,n2,n3)-RTT instance. Default: :attr:`RTTInstance.forced_hours`,
        the only split with a schedule.
    exact : bool, default False
        Return an :class:`ExactMarginals` with ``Fraction`` entries instead of a float
        :class:`pidlab.Marginals`.
    allow_inconsistent : bool, default False
        Build the marginals of a split other than the forced one. They disagree on ``p(y)``, so no
        joint has them: the split is a no-instance. Without this flag such a split raises.

    Returns
    -------
    pidlab.Marginals or ExactMarginals
        Axes: X1 = teachers in input order, then holding rooms h1, h2, h3; X2 = classes in input
        order; Y = (0, 1, 2, 3), 0 the null colour. Entries are multiples of ``1/N``, ``N = L + 3m``.

    Raises
    ------
    InvalidInstanceError
        ``hours`` malformed, or some ``n_h > m`` (the holding room would get negative mass).
    InconsistentMarginalsError
        ``hours`` differs from the forced counts and ``allow_inconsistent`` is False.

    Examples
    --------
    >>> inst = RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
    >>> m = reduce(inst)
    >>> m.shape, m.labels[0]
    ((5, 2, 4), ('t0', 't1', 'h1', 'h2', 'h3'))
    >>> reduce(inst, exact=True).is_consistent
    True
    """
    inst = _check_instance(instance)
    forced = inst.forced_hours
    hs = forced if hours is None else _check_hours(hours)
    m = inst.n_classes
    for k, nk in zip(HOURS, hs):
        if nk > m:
            raise InvalidInstanceError(
                f"hours[{k - 1}] = {nk} lessons at hour {k}, but there are only {m} classes: at most one lesson "
                f"per class fits in an hour, and p(h{k}, y={k}) = (m - n_{k})/N would be negative. "
                + (
                    "This instance is unsolvable by counting (more teachers tied to that hour than classes); "
                    "it has no reduction."
                    if hours is None
                    else "Use n_h <= m (or hours=None)."
                )
            )
    if hs != forced and not allow_inconsistent:
        raise InconsistentMarginalsError(
            f"hours={hs} differs from the counts {forced} forced by the tight teachers (n_h = number of "
            f"teachers available at hour h): no schedule has these counts, and the reduced marginals disagree "
            f"on p(y). Pass hours=None for the forced split, or allow_inconsistent=True to build this "
            "no-instance anyway."
        )
    em = _exact_tables(inst, hs)
    return em if exact else em.to_marginals()


# ----------------------------------------------------------------------------- schedules
def _check_schedule(inst: RTTInstance, schedule: Any) -> list[tuple[int, int, int]]:
    if schedule is None or isinstance(schedule, (str, bytes)) or not isinstance(schedule, Iterable):
        raise InvalidScheduleError(
            f"a schedule must be an iterable of (teacher, class, hour) triples, got {type(schedule).__name__}."
        )
    out = []
    for trip in schedule:
        try:
            i, j, h = trip
        except (TypeError, ValueError):
            raise InvalidScheduleError(
                f"schedule entry {trip!r} is not a (teacher, class, hour) triple."
            ) from None
        for v, what, hi in ((i, "teacher", inst.n_teachers), (j, "class", inst.n_classes)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < hi:
                raise InvalidScheduleError(
                    f"schedule entry {trip!r}: {what} index {v!r} is not an integer in 0..{hi - 1}."
                )
        if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or int(h) not in HOURS:
            raise InvalidScheduleError(f"schedule entry {trip!r}: hour {h!r} is not 1, 2 or 3.")
        out.append((int(i), int(j), int(h)))
    return out


@dataclass(frozen=True)
class Verification:
    """Outcome of :func:`verify` or :func:`verify_joint`; truthy iff every check passed.

    Attributes
    ----------
    ok : bool
    violations : tuple of str
        One readable line per violated condition.
    checks : dict
        Condition name -> passed, e.g. ``"availability"``, ``"requirements"``,
        ``"one teacher per class and hour"``, ``"one class per teacher and hour"``, ``"hour counts"``
        (and for joints ``"entries in {0, 1/N}"``, ``"deterministic"``, ``"marginals"``).
    hour_counts : tuple of int
        Lessons at hours 1, 2, 3 in the schedule checked.
    """

    ok: bool
    violations: tuple[str, ...]
    checks: dict[str, bool]
    hour_counts: tuple[int, int, int]

    def __bool__(self) -> bool:
        return self.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "violations": list(self.violations),
            "checks": dict(self.checks),
            "hour_counts": list(self.hour_counts),
        }

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(v)}</li>" for v in self.violations)
        return f"<p><b>RTT verification</b>: {'ok' if self.ok else 'FAILED'}</p>" + (f"<ul>{items}</ul>" if items else "")


def verify(instance: RTTInstance, schedule: Iterable[tuple[int, int, int]], hours: Sequence[int] | None = None) -> Verification:
    """Check a schedule against the four RTT conditions (and the hour counts when ``hours`` is given).

    Conditions: (1) ``f(i,j,h) = 1 ⇒ h ∈ T_i``; (2) ``Σ_h f(i,j,h) = R_ij`` (a repeated triple counts
    twice); (3) at most one teacher per class per hour; (4) at most one class per teacher per hour;
    and, for (n1,n2,n3)-RTT, exactly ``n_h`` lessons at hour ``h``.

    Raises
    ------
    InvalidScheduleError
        An entry that is not a triple of a teacher index, a class index and an hour in {1, 2, 3}.

    Examples
    --------
    >>> inst = RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
    >>> v = verify(inst, {(0, 0, 1), (0, 1, 3), (1, 1, 3)})
    >>> v.ok, v.violations[0]
    (False, 'availability: teacher 0 teaches class 1 at hour 3, not in T_0 = [1, 2]')
    """
    inst = _check_instance(instance)
    trips = _check_schedule(inst, schedule)
    viol: dict[str, list[str]] = {
        "availability": [],
        "requirements": [],
        "one teacher per class and hour": [],
        "one class per teacher and hour": [],
        "hour counts": [],
    }
    for i, j, h in trips:
        if h not in inst.availability[i]:
            viol["availability"].append(
                f"availability: teacher {i} teaches class {j} at hour {h}, not in T_{i} = {sorted(inst.availability[i])}"
            )
    met = np.zeros_like(inst.requirements)
    for i, j, _ in trips:
        met[i, j] += 1
    for i, j in np.argwhere(met != inst.requirements):
        viol["requirements"].append(
            f"requirements: teacher {i} meets class {j} {met[i, j]} time(s), R[{i}][{j}] = {inst.requirements[i, j]}"
        )
    for key, a, b, who, whom in (
        ("one teacher per class and hour", 1, 0, "class", "teachers"),
        ("one class per teacher and hour", 0, 1, "teacher", "classes"),
    ):
        seen: dict[tuple[int, int], list[int]] = {}
        for t in trips:
            seen.setdefault((t[a], t[2]), []).append(t[b])
        for (x, h), ys in sorted(seen.items()):
            if len(ys) > 1:
                viol[key].append(f"{key}: {who} {x} has {len(ys)} {whom} {sorted(ys)} at hour {h}")
    counts = tuple(sum(1 for t in trips if t[2] == h) for h in HOURS)
    if hours is not None:
        hs = _check_hours(hours)
        if counts != hs:
            viol["hour counts"].append(f"hour counts: {counts} lessons at hours 1, 2, 3, required {hs}")
    flat = tuple(v for vs in viol.values() for v in vs)
    return Verification(
        ok=not flat,
        violations=flat,
        checks={k: not v for k, v in viol.items()},
        hour_counts=counts,  # type: ignore[arg-type]
    )


def schedule_to_joint(
    instance: RTTInstance, schedule: Iterable[tuple[int, int, int]], *, exact: bool = False
) -> NDArray[Any]:
    """The joint ``r(x1, x2, y)`` of a valid schedule: ``H(Y | X1, X2) = 0``, entries in ``{0, 1/N}``.

    ``r(t, c, h) = 1/N`` when teacher t teaches class c at hour h; ``r(h_k, c, k) = 1/N`` when class
    c has no lesson at hour k, else ``r(h_k, c, 0) = 1/N``. Its pairwise marginals are
    ``reduce(instance, hours=counts)`` where ``counts`` are the schedule's lessons per hour.

    Parameters
    ----------
    exact : bool, default False
        Return ``Fraction`` entries (dtype object) instead of float64.

    Returns
    -------
    ndarray, shape (n+3, m, 4)
        Axes as in :func:`reduce`.

    Raises
    ------
    InvalidScheduleError
        The schedule violates an RTT condition (the message lists them).
    """
    inst = _check_instance(instance)
    trips = _check_schedule(inst, schedule)
    v = verify(inst, trips)
    if not v.ok:
        raise InvalidScheduleError(
            "the schedule is not a valid RTT meeting function, so it has no deterministic joint: "
            + "; ".join(v.violations)
        )
    n, m, N = inst.n_teachers, inst.n_classes, inst.n_atoms
    one = Fraction(1, N)
    r = np.full((n + 3, m, 4), Fraction(0), dtype=object)
    taught = set()
    for i, j, h in trips:
        r[i, j, h] = one
        taught.add((j, h))
    for j in range(m):
        for k in HOURS:
            r[n + k - 1, j, 0 if (j, k) in taught else k] = one
    return r if exact else r.astype(float)


def _to_exact_joint(inst: RTTInstance, joint: Any, atol: float) -> NDArray[Any]:
    """Read a joint (Fraction or float entries) as exact multiples of 1/N; raise if impossible."""
    from pidlab._distribution import Distribution

    if isinstance(joint, Distribution):
        joint = joint.p
    a = np.asarray(joint, dtype=object)
    shape = (inst.n_teachers + 3, inst.n_classes, 4)
    if a.shape != shape:
        raise InvalidDistributionError(
            f"the joint has shape {a.shape}, but this instance's reduction has axes (teachers + 3 holding rooms, "
            f"classes, Y) = {shape}; build it with rtt.schedule_to_joint or keep reduce()'s axis order."
        )
    N = inst.n_atoms
    out = np.empty(shape, dtype=object)
    for idx, v in np.ndenumerate(a):
        if isinstance(v, (Fraction, int, np.integer)) and not isinstance(v, bool):
            out[idx] = Fraction(int(v)) if not isinstance(v, Fraction) else v
            continue
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise InvalidDistributionError(f"joint entry {idx} = {v!r} is not a number.") from None
        if not math.isfinite(x):
            raise InvalidDistributionError(f"joint entry {idx} = {v!r} is not finite.")
        k = round(x * N)
        # floats are read as the nearest multiple of 1/N when they are that close; otherwise kept as-is
        out[idx] = Fraction(k, N) if abs(x - k / N) <= atol else Fraction(x)
    return out


def verify_joint(
    instance: RTTInstance, joint: Any, hours: Sequence[int] | None = None, *, atol: float = 1e-12
) -> Verification:
    """Check that ``joint`` is a witness of the reduction: exact marginals, entries in {0, 1/N},
    ``H(Y|X1,X2) = 0``, and that the schedule read off it passes :func:`verify`.

    Parameters
    ----------
    joint : array_like or Distribution, shape (n+3, m, 4)
        ``Fraction`` entries are used as they are; float entries within ``atol`` of a multiple of
        ``1/N`` are read as that multiple (a float table cannot be checked more exactly).
    hours : (n1, n2, n3), optional
        Split whose marginals the joint must match (default: the forced one).
    """
    inst = _check_instance(instance)
    hs = inst.forced_hours if hours is None else _check_hours(hours)
    r = _to_exact_joint(inst, joint, atol)
    N = inst.n_atoms
    one = Fraction(1, N)
    viol: dict[str, list[str]] = {"entries in {0, 1/N}": [], "deterministic": [], "marginals": []}
    bad = [idx for idx, v in np.ndenumerate(r) if v not in (0, one)]
    if bad:
        viol["entries in {0, 1/N}"].append(
            f"entries in {{0, 1/N}}: {len(bad)} entr{'y' if len(bad) == 1 else 'ies'} not 0 or 1/{N}, "
            f"first {bad[0]} = {r[bad[0]]}"
        )
    nz = (r != 0).sum(axis=2)
    for x1, x2 in np.argwhere(nz > 1):
        viol["deterministic"].append(f"deterministic: Y takes {nz[x1, x2]} values at (x1, x2) = ({x1}, {x2})")
    if max(hs) <= inst.n_classes:
        target = _exact_tables(inst, hs)
        for name, got, want in (
            ("p_x1y", r.sum(axis=1), target.p_x1y),
            ("p_x2y", r.sum(axis=0), target.p_x2y),
            ("p_x1x2", r.sum(axis=2), target.p_x1x2),
        ):
            diff = [idx for idx, v in np.ndenumerate(got) if v != want[idx]]
            if diff:
                viol["marginals"].append(
                    f"marginals: {name} differs from the reduction (hours={hs}) in {len(diff)} cell(s), first "
                    f"{diff[0]}: {got[diff[0]]} != {want[diff[0]]}"
                )
    else:
        viol["marginals"].append(f"marginals: hours={hs} has n_h > m = {inst.n_classes}; no reduction exists")
    n = inst.n_teachers
    trips = [(int(i), int(j), int(h)) for i, j, h in np.argwhere(r[:n, :, 1:] != 0) + (0, 0, 1)]
    sv = verify(inst, trips, hours=hs)
    flat = tuple(v for vs in viol.values() for v in vs) + sv.violations
    return Verification(
        ok=not flat, violations=flat, checks={**{k: not v for k, v in viol.items()}, **sv.checks},
        hour_counts=sv.hour_counts,
    )


def joint_to_schedule(
    instance: RTTInstance, joint: Any, hours: Sequence[int] | None = None, *, atol: float = 1e-12
) -> Schedule:
    """The schedule encoded by a deterministic joint: ``f(t, c, h) = 1`` iff ``r(t, c, h) = 1/N``.

    The joint is first checked with :func:`verify_joint` (exact marginals of the reduction for
    ``hours``, entries in {0, 1/N}, ``H(Y|X1,X2) = 0``, RTT conditions).

    Raises
    ------
    InvalidDistributionError
        The joint is not such a witness (the message lists every failed check).
    """
    inst = _check_instance(instance)
    v = verify_joint(inst, joint, hours, atol=atol)
    if not v.ok:
        raise InvalidDistributionError(
            "the joint is not a zero-conditional-entropy joint of this instance's reduction: "
            + "; ".join(v.violations)
            + ". Pass a joint from rtt.schedule_to_joint or rtt.find_deterministic_joint."
        )
    r = _to_exact_joint(inst, joint, atol)
    n = inst.n_teachers
    return {(int(i), int(j), int(h) + 1) for i, j, h in np.argwhere(r[:n, :, 1:] != 0)}


# ----------------------------------------------------------------------------- exact decision
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
        raise InvalidInstanceError(f"The `method` parameter of rtt.solve must be 'backtrack' or 'milp'. Got {method!r} instead.")
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


# ----------------------------------------------------------------------------- deterministic joints
def find_deterministic_joint(marginals: Any, *, atol: float = 1e-9) -> NDArray[Any] | None:
    """Search for a joint with the three given pairwise marginals and ``H(Y | X1, X2) = 0``.

    Works on any marginals (not only RTT ones): a binary program (HiGHS through
    :func:`scipy.optimize.milp`) picks one ``y = g(x1, x2)`` per pair of positive mass, allowed
    only where ``p(x1, y) > 0`` and ``p(x2, y) > 0``, such that
    ``Σ_{x2} p(x1,x2)[g = y] = p(x1, y)`` and ``Σ_{x1} p(x1,x2)[g = y] = p(x2, y)``. Such a joint
    exists iff the minimum of ``H(X1, X2, Y)`` over the joints with these marginals equals
    ``H(X1, X2)``.

    Parameters
    ----------
    marginals : ExactMarginals, pidlab.Marginals, or a triple (p_x1y, p_x2y, p_x1x2)
        With ``Fraction`` entries the constraints are scaled to integers and the answer is checked
        exactly; with floats it is checked to ``atol``.

    Returns
    -------
    ndarray, shape (|X1|, |X2|, |Y|), or None
        The joint (``Fraction`` entries for exact input, float otherwise), or None if none exists.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    if all(hasattr(marginals, a) for a in ("p_x1y", "p_x2y", "p_x1x2")):
        tabs = [np.asarray(getattr(marginals, a), dtype=object) for a in ("p_x1y", "p_x2y", "p_x1x2")]
    else:
        try:
            tabs = [np.asarray(t, dtype=object) for t in marginals]
        except TypeError:
            raise InvalidDistributionError(
                "marginals must be an ExactMarginals, a pidlab.Marginals or a triple (p_x1y, p_x2y, p_x1x2)."
            ) from None
        if len(tabs) != 3:
            raise InvalidDistributionError(f"expected three tables (p_x1y, p_x2y, p_x1x2), got {len(tabs)}.")
    a, b, c = tabs
    if a.ndim != 2 or b.ndim != 2 or c.ndim != 2 or c.shape != (a.shape[0], b.shape[0]) or a.shape[1] != b.shape[1]:
        raise InvalidDistributionError(
            f"table shapes {a.shape}, {b.shape}, {c.shape} do not fit (|X1|,|Y|), (|X2|,|Y|), (|X1|,|X2|)."
        )
    exact = all(isinstance(v, (Fraction, int)) and not isinstance(v, bool) for t in tabs for v in t.ravel())
    if exact:
        tabs = [np.vectorize(Fraction, otypes=[object])(t) for t in tabs]
        den = 1
        for t in tabs:
            for v in t.ravel():
                den = den * v.denominator // math.gcd(den, v.denominator)
        A_, B_, C_ = (np.vectorize(lambda v: int(v * den), otypes=[object])(t).astype(np.int64) for t in tabs)
        A, B, C = (x.astype(float) for x in (A_, B_, C_))
    else:
        A, B, C = (t.astype(float) for t in tabs)
    n1, ny = A.shape
    n2 = B.shape[0]

    def close(x: Any, y: Any) -> bool:
        return bool(np.array_equal(x, y)) if exact else bool(np.allclose(x, y, atol=atol, rtol=0))

    # agreement on singletons is necessary
    if not (close(A.sum(1), C.sum(1)) and close(B.sum(1), C.sum(0)) and close(A.sum(0), B.sum(0))):
        return None
    pos = (lambda t: t > 0) if exact else (lambda t: t > atol)
    var = [(x1, x2, y) for x1, x2 in zip(*np.nonzero(pos(C))) for y in range(ny) if pos(A[x1, y]) and pos(B[x2, y])]
    pairs = {(x1, x2) for x1, x2 in zip(*np.nonzero(pos(C)))}
    if {(x1, x2) for x1, x2, _ in var} != pairs:
        return None  # some pair of positive mass has no admissible y
    rows, cols, vals, lo = [], [], [], []
    pair_row = {p: k for k, p in enumerate(sorted(pairs))}
    for v, (x1, x2, y) in enumerate(var):
        rows.append(pair_row[(x1, x2)])
        cols.append(v)
        vals.append(1.0)
    r = len(pair_row)
    lo.extend([1.0] * r)
    for v, (x1, x2, y) in enumerate(var):
        rows.append(r + x1 * ny + y)
        cols.append(v)
        vals.append(C[x1, x2])
    lo.extend(A.ravel().tolist())
    r += n1 * ny
    for v, (x1, x2, y) in enumerate(var):
        rows.append(r + x2 * ny + y)
        cols.append(v)
        vals.append(C[x1, x2])
    lo.extend(B.ravel().tolist())
    r += n2 * ny
    M = coo_matrix((vals, (rows, cols)), shape=(r, len(var))).tocsr()
    bnd = np.array(lo)
    tol = 0.0 if exact else atol
    res = milp(
        np.zeros(len(var)),
        constraints=LinearConstraint(M, bnd - tol, bnd + tol),
        integrality=np.ones(len(var)),
        bounds=Bounds(0, 1),
    )
    if res.status == 2:
        return None
    if res.status != 0 or res.x is None:
        raise SolverError(f"HiGHS (scipy.optimize.milp) failed on the deterministic-joint program: {res.message}")
    if exact:
        joint = np.full((n1, n2, ny), Fraction(0), dtype=object)
        for v, (x1, x2, y) in enumerate(var):
            if res.x[v] > 0.5:
                joint[x1, x2, y] = tabs[2][x1, x2]
        ok = (
            all(joint.sum(axis=1).ravel() == tabs[0].ravel())
            and all(joint.sum(axis=0).ravel() == tabs[1].ravel())
            and all(joint.sum(axis=2).ravel() == tabs[2].ravel())
        )
    else:
        joint = np.zeros((n1, n2, ny))
        for v, (x1, x2, y) in enumerate(var):
            if res.x[v] > 0.5:
                joint[x1, x2, y] = C[x1, x2]
        ok = close(joint.sum(1), A) and close(joint.sum(0), B) and close(joint.sum(2), C)
    if not ok:
        raise SolverError("HiGHS returned a deterministic joint whose marginals do not check exactly; report this.")
    return joint


# ----------------------------------------------------------------------------- Cook reduction
def splits(instance: RTTInstance) -> Iterator[tuple[int, int, int]]:
    """All ``(n1, n2, n3)`` with ``n1 + n2 + n3 = L`` and ``0 <= n_h <= m`` (O(L²) of them), lexicographic.

    Splits with some ``n_h > m`` are left out: at most one lesson per class fits in an hour, so
    they are no-instances, and the reduction would need negative probabilities.
    """
    inst = _check_instance(instance)
    L, m = inst.n_lessons, inst.n_classes
    for n1 in range(min(L, m) + 1):
        for n2 in range(min(L - n1, m) + 1):
            n3 = L - n1 - n2
            if n3 <= m:
                yield (n1, n2, n3)


@dataclass(frozen=True)
class CookReductionResult:
    """Outcome of :func:`cook_reduction`.

    Attributes
    ----------
    solvable : bool
    schedule : set of triples or None
    hours : tuple or None
        The split whose oracle call succeeded.
    splits_tried, splits_total : int
        Oracle calls made, and the number of splits enumerated by :func:`splits`.
    oracle : str
    """

    solvable: bool
    schedule: Schedule | None
    hours: tuple[int, int, int] | None
    splits_tried: int
    splits_total: int
    oracle: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "solvable": self.solvable,
            "schedule": None if self.schedule is None else sorted(list(t) for t in self.schedule),
            "hours": None if self.hours is None else list(self.hours),
            "splits_tried": self.splits_tried,
            "splits_total": self.splits_total,
            "oracle": self.oracle,
        }


def cook_reduction(
    instance: RTTInstance,
    oracle: str | Callable[[RTTInstance, tuple[int, int, int]], Schedule | None] = "joint",
) -> CookReductionResult:
    """Decide RTT with an (n1,n2,n3)-RTT oracle called on every split (the paper's Cook reduction).

    Parameters
    ----------
    oracle : {"joint", "schedule"} or callable
        ``"joint"`` (default) decides each split through the entropy problem: it builds
        ``reduce(instance, split, exact=True)`` and asks :func:`find_deterministic_joint` whether a
        joint with ``H(Y|X1,X2) = 0`` (entropy ``log2 N``) exists, then reads the schedule off it.
        ``"schedule"`` calls ``solve(instance, hours=split, method="milp")``. A callable gets
        ``(instance, split)`` and returns a schedule or None.

    Examples
    --------
    >>> inst = RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
    >>> res = cook_reduction(inst)
    >>> res.solvable, res.hours, res.splits_total
    (True, (1, 1, 1), 7)
    """
    inst = _check_instance(instance)
    if callable(oracle):
        call, name = oracle, getattr(oracle, "__name__", "callable")
    elif oracle == "schedule":

        def call(i: RTTInstance, s: tuple[int, int, int]) -> Schedule | None:
            return solve(i, hours=s, method="milp")

        name = "schedule"
    elif oracle == "joint":

        def call(i: RTTInstance, s: tuple[int, int, int]) -> Schedule | None:
            m = reduce(i, s, exact=True, allow_inconsistent=True)
            joint = find_deterministic_joint(m)
            return None if joint is None else joint_to_schedule(i, joint, hours=s)

        name = "joint"
    else:
        raise InvalidInstanceError(
            f"The `oracle` parameter of cook_reduction must be 'joint', 'schedule' or a callable. Got {oracle!r} instead."
        )
    all_splits = list(splits(inst))
    for k, s in enumerate(all_splits, start=1):
        sched = call(inst, s)
        if sched is not None:
            return CookReductionResult(True, set(sched), s, k, len(all_splits), name)
    return CookReductionResult(False, None, None, len(all_splits), len(all_splits), name)


# ----------------------------------------------------------------------------- generators
def _rng(seed: Any) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_sizes(n_teachers: Any, n_classes: Any, density: Any) -> None:
    for name, v in (("n_teachers", n_teachers), ("n_classes", n_classes)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InvalidInstanceError(f"The `{name}` parameter must be an int >= 1. Got {v!r} instead.")
    if not isinstance(density, (int, float)) or not 0 < density <= 1:
        raise InvalidInstanceError(f"The `density` parameter must be a number in (0, 1]. Got {density!r} instead.")


def random_solvable(
    n_teachers: int, n_classes: int, *, density: float = 0.6, seed: Any = None
) -> tuple[RTTInstance, Schedule]:
    """A random RTT instance with a planted schedule, returned with it.

    For each hour the teachers, in random order, each take with probability ``density`` a random
    class that is free at that hour and that they have not met yet. The availability sets and the
    requirement matrix are then read off the planted schedule (so teachers are tight).

    Examples
    --------
    >>> inst, sched = random_solvable(4, 3, seed=1)
    >>> verify(inst, sched).ok
    True
    """
    _check_sizes(n_teachers, n_classes, density)
    rng = _rng(seed)
    sched: Schedule = set()
    met: set[tuple[int, int]] = set()
    for h in HOURS:
        busy: set[int] = set()
        for i in rng.permutation(n_teachers).tolist():
            if rng.random() >= density:
                continue
            free = [j for j in range(n_classes) if j not in busy and (i, j) not in met]
            if free:
                j = free[int(rng.integers(len(free)))]
                busy.add(j)
                met.add((i, j))
                sched.add((i, j, h))
    avail = [{h for (t, _, h) in sched if t == i} for i in range(n_teachers)]
    req = np.zeros((n_teachers, n_classes), dtype=int)
    for i, j in met:
        req[i, j] = 1
    return RTTInstance(avail, req), sched


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
    reducible : bool, default True
        Redraw until no class has more than three lessons and at most ``m`` teachers are tied to
        each hour, i.e. until counting alone does not refute the instance and :func:`reduce`
        applies. With False, return the first draw.

    Raises
    ------
    GenerationError
        ``reducible=True`` and no such instance within ``max_tries`` draws (lower ``density`` or
        use fewer teachers per class).
    """
    _check_sizes(n_teachers, n_classes, density)
    rng = _rng(seed)
    for _ in range(max_tries):
        req = np.zeros((n_teachers, n_classes), dtype=int)
        avail = []
        for i in range(n_teachers):
            row = [j for j in range(n_classes) if rng.random() < density]
            row = rng.permutation(row)[:3].tolist() if row else []
            req[i, row] = 1
            avail.append(set(rng.choice(HOURS, size=len(row), replace=False).tolist()))
        inst = RTTInstance(avail, req)
        if not reducible or (max(inst.class_degrees) <= 3 and max(inst.forced_hours) <= n_classes):
            return inst
    raise GenerationError(
        f"no {n_teachers}x{n_classes} instance that counting does not refute in {max_tries} draws at density "
        f"{density}; lower density, use fewer teachers per class, or pass reducible=False."
    )


def random_unsolvable(
    n_teachers: int, n_classes: int, *, density: float = 0.7, seed: Any = None, max_tries: int = 500
) -> RTTInstance:
    """A random RTT instance proved unsolvable by :func:`solve`.

    Starts from a planted solvable instance and swaps one available hour of one teacher for an
    hour outside ``T_i`` (tightness is kept), until :func:`solve` proves the result unsolvable.
    The instances are one move away from solvable ones; no class has more than three lessons and
    at most ``m`` teachers are tied to each hour, so counting alone does not refute them and
    :func:`reduce` applies.

    Raises
    ------
    GenerationError
        No unsolvable instance found within ``max_tries`` perturbations (try a higher density).
    """
    _check_sizes(n_teachers, n_classes, density)
    rng = _rng(seed)
    for _ in range(max_tries):
        inst, _sched = random_solvable(n_teachers, n_classes, density=density, seed=rng)
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
        if solve(new) is None:
            return new
    raise GenerationError(
        f"no unsolvable {n_teachers}x{n_classes} instance found in {max_tries} tries at density {density}; "
        "raise density or max_tries."
    )


# ----------------------------------------------------------------------------- drawing
def draw(
    instance: RTTInstance,
    schedule: Iterable[tuple[int, int, int]] | None = None,
    *,
    ax: Axes | None = None,
    hour_colors: dict[int, str] | None = None,
) -> Axes:
    """Draw the teacher-class graph, teachers left (with ``T_i``) and classes right, lessons as edges
    coloured by their hour in ``schedule`` (grey when unscheduled). Needs matplotlib.

    Returns
    -------
    matplotlib.axes.Axes
    """
    inst = _check_instance(instance)
    try:
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
    except ImportError:  # pragma: no cover - matplotlib is in the lab extra
        raise SolverError("rtt.draw needs matplotlib; pip install 'pidlab[lab]'.") from None
    colors = {**HOUR_COLORS, **(hour_colors or {})}
    hour_of: dict[tuple[str, str], int] = {}
    if schedule is not None:
        for i, j, h in _check_schedule(inst, schedule):
            hour_of[(f"t{i}", f"c{j}")] = h
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.7 * max(inst.n_teachers, inst.n_classes) + 1.5))
    G = inst.graph
    teachers, classes = inst.teacher_nodes, inst.class_nodes
    pos = {t: (0.0, -k) for k, t in enumerate(teachers)}
    pos.update({c: (1.0, -k * (max(len(teachers) - 1, 1) / max(len(classes) - 1, 1))) for k, c in enumerate(classes)})
    if len(classes) == 1:
        pos[classes[0]] = (1.0, -(len(teachers) - 1) / 2)
    edges = list(G.edges)
    ecol = [colors[hour_of[e]] if e in hour_of else "lightgrey" for e in ((u, v) if u[0] == "t" else (v, u) for u, v in edges)]
    nx.draw_networkx_edges(G, pos, edgelist=edges, edge_color=ecol, width=2.5, ax=ax)
    nx.draw_networkx_nodes(G, pos, nodelist=list(teachers), node_color="#f5deb3", node_shape="s", node_size=650, ax=ax)
    nx.draw_networkx_nodes(G, pos, nodelist=list(classes), node_color="#cde3f5", node_size=500, ax=ax)
    labels = {t: f"{t}\n{{{','.join(map(str, sorted(inst.availability[k])))}}}" for k, t in enumerate(teachers)}
    labels.update({c: c for c in classes})
    nx.draw_networkx_labels(G, pos, labels=labels, font_size=8, ax=ax)
    handles = [] if schedule is None else [Line2D([], [], color=colors[h], lw=2.5, label=f"hour {h}") for h in HOURS]
    if schedule is None or len(hour_of) < len(edges):
        handles.append(Line2D([], [], color="lightgrey", lw=2.5, label="unscheduled"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles), fontsize=8, frameon=False)
    ax.set_title(f"RTT: {inst.n_teachers} teachers, {inst.n_classes} classes, {inst.n_lessons} lessons", fontsize=9)
    ax.set_axis_off()
    ax.margins(0.2)
    return ax
