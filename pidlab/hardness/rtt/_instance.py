"""The RTT instance: availability sets, the 0/1 requirement matrix, tight teachers, the bipartite graph.

Also the constants and the exception types shared by the other modules of :mod:`pidlab.hardness.rtt`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from pidlab._limits import check_memory
from pidlab._results import Result
from pidlab.exceptions import PidlabError
from pidlab.hardness.rtt._guards import guard_instance

#: The three hours of RTT.
HOURS: tuple[int, int, int] = (1, 2, 3)
#: The target alphabet of the reduction (0 is the null colour, then the hours).
Y_LABELS: tuple[int, int, int, int] = (0, 1, 2, 3)
#: Colours of the hours in :func:`draw`.
HOUR_COLORS: dict[int, str] = {1: "tab:red", 2: "tab:green", 3: "tab:blue"}

#: A schedule (meeting function): a set of (teacher, class, hour) triples.
Schedule = set[tuple[int, int, int]]


class InvalidInstanceError(PidlabError, ValueError):
    """An RTT instance (availability, requirements, hour counts) is malformed."""


class InvalidScheduleError(PidlabError, ValueError):
    """A schedule is malformed or violates the RTT conditions where a valid one is required."""


class GenerationError(PidlabError, RuntimeError):
    """A random generator did not find an instance of the requested kind within its budget."""


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


class RTTInstance(Result):
    """A restricted-timetable instance, backed by a networkx bipartite graph.

    A :class:`~pidlab._results.Result` (``to_dict``, ``to_json``, ``table``/``str``,
    ``_repr_html_``); equal and hashed by value (availability and requirements).

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
        _guard_build(len(avail), requirements)
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
        """JSON-ready ``{"availability": [[...], ...], "requirements": [[...], ...]}``.

        The requirement matrix becomes n lists of m ints; above pidlab's memory limit this raises
        :class:`~pidlab.exceptions.ProblemTooLargeError` before building them.
        """
        check_memory(16.0 * self.n_teachers * self.n_classes + 200.0 * self.n_teachers,
                     f"RTTInstance.to_dict of a {self.n_teachers} x {self.n_classes} instance",
                     hint="Store the instance with numpy (instance.requirements) instead of as nested lists")
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

    def table(self) -> str:
        from pidlab._render import rtt_instance_text

        return rtt_instance_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import rtt_instance_html

        return rtt_instance_html(self)


def _guard_build(n: int, requirements: Any) -> None:
    """Refuse, before any copy, an instance whose dense matrix and graph would not fit the memory limit."""
    shape = getattr(requirements, "shape", None)
    if shape is not None:
        m = int(shape[1]) if len(shape) == 2 else 0
    else:
        try:
            first = requirements[0]
            m = len(first)
        except (TypeError, IndexError, KeyError):
            return  # not a list of rows: _check_requirements says so
    guard_instance(n, m, f"an RTTInstance with {n} teachers and {m} classes")


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
