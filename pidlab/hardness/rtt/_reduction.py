"""The reduction RTT -> three pairwise marginals (docs/theory.rst §6, paper App. B.5), in exact arithmetic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pidlab._limits import check_memory, check_work
from pidlab._results import Result
from pidlab.exceptions import InconsistentMarginalsError
from pidlab.hardness.rtt._guards import BOXED_CELL_BYTES, PY_STEP, guard_cells
from pidlab.hardness.rtt._instance import (
    HOURS,
    Y_LABELS,
    InvalidInstanceError,
    RTTInstance,
    _check_hours,
    _check_instance,
)

if TYPE_CHECKING:
    from pidlab._marginals import Marginals


def _ro_object(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class ExactMarginals(Result):
    """The three pairwise marginals of the RTT reduction with :class:`fractions.Fraction` entries.

    A :class:`~pidlab._results.Result` (``to_dict``, ``to_json``, ``table``/``str``,
    ``_repr_html_``); compared and hashed by identity (it holds arrays).

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

    def _guard_cells(self, what: str, bytes_per_cell: float, steps_per_cell: float) -> None:
        n1, n2, ny = self.shape
        cells = float(n1) * n2 + (float(n1) + n2) * ny
        guard_cells(cells * steps_per_cell, bytes_per_cell / steps_per_cell,
                    f"ExactMarginals.{what} of {n1} x {n2} x {ny} tables",
                    "Exact tables cost one Python object (Fraction, str) per cell; use a smaller instance")

    def implied(self) -> dict[str, tuple[Fraction, ...]]:
        """The singleton marginals each table implies (two versions each of p(x1), p(x2), p(y))."""
        self._guard_cells("implied", 16.0, 4.0)  # Fraction sums, one interpreted addition per cell
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

        self._guard_cells("to_dict", BOXED_CELL_BYTES, 2.0)

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

    def table(self) -> str:
        from pidlab._render import exact_marginals_text

        return exact_marginals_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import exact_marginals_html

        return exact_marginals_html(self)


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
    cells = float(inst.n_teachers + 3) * inst.n_classes
    # object tables of shared Fractions (8 B a cell), and for exact=False the float tables and Marginals' checks
    check_memory((16.0 if exact else 96.0) * cells, f"rtt.reduce of a {inst.n_teachers} x {inst.n_classes} instance",
                 hint="The reduction is dense in (teachers + 3) x classes; use a smaller instance")
    check_work(4.0 * cells + PY_STEP * (inst.n_teachers + 2.0 * inst.n_classes + inst.n_lessons),
               f"rtt.reduce of a {inst.n_teachers} x {inst.n_classes} instance", hint="Use a smaller instance")
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
