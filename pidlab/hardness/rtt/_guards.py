"""Argument checks and size estimates shared by the public entry points of :mod:`pidlab.hardness.rtt`.

Every estimate is made *before* allocating or looping, and handed to :func:`pidlab._limits.check_memory`
/ :func:`pidlab._limits.check_work`, which refuse with :class:`~pidlab.exceptions.ProblemTooLargeError`
naming the limit and how to raise it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pidlab._limits import check_memory, check_work
from pidlab.exceptions import ParameterError

#: Elementary operations charged for one step of an interpreted (Python-level) inner loop. The
#: work limit counts vectorised element operations (1e12 is about an hour on one core, ~3.6 ns
#: each); one interpreted step of these loops takes ~0.1-0.5 µs, i.e. about 100 of them.
PY_STEP = 100
#: Bytes of one node or edge of the networkx teacher-class graph (dicts of attributes; measured ~0.6 KiB).
GRAPH_ITEM_BYTES = 1024
#: Bytes per (teacher, class) cell while an :class:`RTTInstance` is built: the int64 matrix, the
#: validated copy, the 0/1 masks and the argwhere scan (measured peak ~26 bytes per cell).
INSTANCE_CELL_BYTES = 32
#: Bytes per cell of an object array of shared Fractions (a pointer) plus a float copy.
OBJECT_CELL_BYTES = 16
#: Bytes per cell where every cell becomes its own Python object (a Fraction or float, a str, list slots).
BOXED_CELL_BYTES = 160


def check_count(value: Any, name: str, func: str, *, what: str = "an int >= 1") -> int:
    """``value`` as an int >= 1, else ParameterError in the house template."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError(f"The `{name!r}` parameter of `rtt.{func}` must be {what}. Got {value!r} instead.")
    return int(value)


def check_density(density: Any, func: str) -> float:
    if (isinstance(density, bool) or not isinstance(density, (int, float, np.integer, np.floating))
            or not 0 < density <= 1):
        raise ParameterError(
            f"The `'density'` parameter of `rtt.{func}` must be a number in (0, 1], the chance that a teacher "
            f"gets a class. Got {density!r} instead."
        )
    return float(density)


def check_flag(value: Any, name: str, func: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"The `{name!r}` parameter of `rtt.{func}` must be True or False. Got {value!r} instead.")
    return bool(value)


def rng_from_seed(seed: Any, func: str) -> np.random.Generator:
    """A numpy Generator from ``seed``: None, an int >= 0, a Generator (used as is) or a SeedSequence."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(
            f"The `'seed'` parameter of `rtt.{func}` must be None, an int >= 0, a numpy.random.Generator or a "
            f"numpy.random.SeedSequence. Got {seed!r} instead. Pass e.g. seed=0 for a reproducible instance."
        )
    return np.random.default_rng(int(seed))


def instance_bytes(n: int, m: int) -> float:
    """Peak memory of building one ``n x m`` :class:`RTTInstance` (dense matrix + graph; L <= 3n lessons)."""
    return INSTANCE_CELL_BYTES * float(n) * float(m) + GRAPH_ITEM_BYTES * (float(n) + m + 3.0 * n)


def guard_instance(n: int, m: int, what: str) -> None:
    check_memory(instance_bytes(n, m), what,
                 hint="An RTT instance stores its dense n x m requirement matrix; use fewer teachers or classes")


def guard_cells(n_cells: float, bytes_per_cell: float, what: str, hint: str, *, python_loop: bool = True) -> None:
    """Memory and (for a Python-level loop over the cells) work of a job linear in ``n_cells``."""
    check_memory(bytes_per_cell * float(n_cells), what, hint=hint)
    if python_loop:
        check_work(PY_STEP * float(n_cells), what, hint=hint)


def n_splits(n_lessons: int, n_classes: int) -> int:
    """Number of ``(n1, n2, n3)`` with ``n1 + n2 + n3 = L`` and ``0 <= n_h <= m`` (what :func:`splits` yields)."""
    L, m = n_lessons, n_classes
    total = 0
    for n1 in range(min(L, m) + 1):
        rest = L - n1  # n2 + n3 = rest, 0 <= n2, n3 <= m
        lo, hi = max(0, rest - m), min(rest, m)
        total += max(0, hi - lo + 1)
    return total
