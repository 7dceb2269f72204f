"""Parameter constraints of the built-in discretizers (see ``Discretizer.parameter_constraints``).

A constraint is any object with ``is_satisfied_by(value) -> bool`` whose ``str()`` says what it
accepts ("an int >= 2"); it is named in the :class:`~pidlab.exceptions.ParameterError` raised at
``fit`` when no constraint of a parameter accepts its value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Interval", "Options", "RANDOM_STATE"]


class Interval:
    """Constraint: a number of ``kind`` (int or float) in ``[low, high]`` (None = unbounded)."""

    def __init__(self, kind: type, low: float | None, high: float | None, *, closed: str = "both") -> None:
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def is_satisfied_by(self, v: object) -> bool:
        if isinstance(v, bool):
            return False
        if self.kind is int and not isinstance(v, (int, np.integer)):
            return False
        if self.kind is float and not isinstance(v, (int, float, np.integer, np.floating)):
            return False
        lo_ok = self.low is None or (v >= self.low if self.closed in ("both", "left") else v > self.low)  # type: ignore[operator]
        hi_ok = self.high is None or (v <= self.high if self.closed in ("both", "right") else v < self.high)  # type: ignore[operator]
        return bool(lo_ok and hi_ok)

    def __str__(self) -> str:
        kind = "an int" if self.kind is int else "a float"
        lo = "" if self.low is None else (f" >= {self.low}" if self.closed in ("both", "left") else f" > {self.low}")
        hi = "" if self.high is None else (f" <= {self.high}" if self.closed in ("both", "right") else f" < {self.high}")
        return kind + lo + (" and" if lo and hi else "") + hi


class Options:
    """Constraint: one of a fixed set of values."""

    def __init__(self, *values: object) -> None:
        self.values = values

    def is_satisfied_by(self, v: object) -> bool:
        return any(v is x or (type(v) is type(x) and v == x) for x in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class _RandomState:
    def is_satisfied_by(self, v: object) -> bool:
        return v is None or isinstance(v, np.random.Generator) or (
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and bool(v >= 0)
        )

    def __str__(self) -> str:
        return "None, a non-negative int or a numpy Generator"


#: Constraint of ``random_state`` parameters: None, a non-negative int or a numpy Generator.
RANDOM_STATE = _RandomState()
