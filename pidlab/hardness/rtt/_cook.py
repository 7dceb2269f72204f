"""The Cook reduction RTT -> (n1,n2,n3)-RTT of the paper: one oracle call per split of the lessons."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pidlab._limits import check_work
from pidlab._results import Result
from pidlab.exceptions import ParameterError
from pidlab.hardness.rtt._decide import solve
from pidlab.hardness.rtt._deterministic import find_deterministic_joint
from pidlab.hardness.rtt._guards import PY_STEP, n_splits
from pidlab.hardness.rtt._instance import RTTInstance, Schedule, _check_instance
from pidlab.hardness.rtt._reduction import reduce
from pidlab.hardness.rtt._schedule import joint_to_schedule


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
class CookReductionResult(Result):
    """Outcome of :func:`cook_reduction`.

    A :class:`~pidlab._results.Result` (``to_dict``, ``to_json``, ``table``/``str``,
    ``_repr_html_``); equal and hashed by value.

    Attributes
    ----------
    solvable : bool
    schedule : frozenset of (teacher, class, hour) triples, or None
    hours : tuple or None
        The split whose oracle call succeeded.
    splits_tried, splits_total : int
        Oracle calls made, and the number of splits enumerated by :func:`splits`.
    oracle : str
    """

    solvable: bool
    schedule: frozenset[tuple[int, int, int]] | None
    hours: tuple[int, int, int] | None
    splits_tried: int
    splits_total: int
    oracle: str

    def __post_init__(self) -> None:
        if self.schedule is not None and not isinstance(self.schedule, frozenset):
            object.__setattr__(self, "schedule", frozenset(self.schedule))

    def to_dict(self) -> dict[str, Any]:
        return {
            "solvable": self.solvable,
            "schedule": None if self.schedule is None else sorted(list(t) for t in self.schedule),
            "hours": None if self.hours is None else list(self.hours),
            "splits_tried": self.splits_tried,
            "splits_total": self.splits_total,
            "oracle": self.oracle,
        }

    def table(self) -> str:
        from pidlab._render import cook_text

        return cook_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import cook_html

        return cook_html(self)


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
        raise ParameterError(
            f"The `'oracle'` parameter of `rtt.cook_reduction` must be 'joint', 'schedule' or a callable "
            f"(instance, split) -> schedule or None. Got {oracle!r} instead."
        )
    total = n_splits(inst.n_lessons, inst.n_classes)
    # estimate first: one oracle call per split; "joint" builds the dense exact reduction and its binary
    # program's tables (about 10 interpreted steps a cell), "schedule" a 0/1 program of <= 3 variables a lesson
    cells = float(inst.n_teachers + 3) * inst.n_classes + 4.0 * (inst.n_teachers + 3 + inst.n_classes)
    per_call = 1.0 if callable(oracle) else {"joint": 10.0 * cells, "schedule": 60.0 * inst.n_lessons}[name]
    check_work(PY_STEP * per_call * total,
               f"rtt.cook_reduction of an instance with {inst.n_lessons} lessons ({total} splits, one "
               f"{name!r} oracle call each)",
               hint="Decide the instance directly with rtt.solve, or use a smaller instance")
    for k, s in enumerate(splits(inst), start=1):  # lazily: the O(L²) splits are never all held
        sched = call(inst, s)
        if sched is not None:
            return CookReductionResult(True, frozenset(sched), s, k, total, name)
    return CookReductionResult(False, None, None, total, total, name)
