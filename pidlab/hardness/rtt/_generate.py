"""Random generators of RTT instances: planted solvable, proved unsolvable, and of unknown solvability."""

from __future__ import annotations

from typing import Any

import numpy as np

from pidlab.exceptions import ParameterError
from pidlab.hardness.rtt._decide import solve
from pidlab.hardness.rtt._instance import HOURS, GenerationError, RTTInstance, Schedule
from pidlab.hardness.rtt._schedule import verify  # noqa: F401 - named in the docstrings and their examples


def _rng(seed: Any) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_sizes(n_teachers: Any, n_classes: Any, density: Any, func: str) -> None:
    for name, v in (("n_teachers", n_teachers), ("n_classes", n_classes)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ParameterError(f"The `{name!r}` parameter of `rtt.{func}` must be an int >= 1. Got {v!r} instead.")
    if not isinstance(density, (int, float)) or not 0 < density <= 1:
        raise ParameterError(
            f"The `'density'` parameter of `rtt.{func}` must be a number in (0, 1], the chance that a teacher "
            f"gets a class. Got {density!r} instead."
        )


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
    _check_sizes(n_teachers, n_classes, density, "random_solvable")
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
    _check_sizes(n_teachers, n_classes, density, "random_instance")
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
    _check_sizes(n_teachers, n_classes, density, "random_unsolvable")
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
