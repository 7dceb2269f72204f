"""Base classes for the four plugin kinds (plugins may subclass them; the host only duck-types)."""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from pidlab._broja import BrojaProblem, SolveResult
    from pidlab._distribution import Distribution
    from pidlab._results import PIDResult

__all__ = ["Measure", "Solver", "Availability"]


class Measure(ABC):
    """A PID definition for two sources and one target.

    Subclasses set the class attributes and implement :meth:`compute`. Nothing runs in
    ``__init__``; measures are stateless.

    Attributes
    ----------
    name : str
        Registered lower-case name (``"broja"``).
    aliases : tuple of str
        Other names accepted by :func:`pidlab.decompose` (``("bertschinger",)``).
    symbol : str
        Short display symbol.
    reference : str
        Citation of the definition.
    kind : {"pid", "net"}
        ``"pid"`` defines R, U1, U2, S; ``"net"`` a single net quantity.
    uses_solver : bool
        Whether :meth:`compute` solves a convex program (and accepts ``solver=``).
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    symbol: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    description: ClassVar[str] = ""
    kind: ClassVar[Literal["pid", "net"]] = "pid"
    uses_solver: ClassVar[bool] = False

    def supports(self, n_sources: int) -> bool:
        """Whether the measure is defined for this many sources (pidlab ships bivariate ones)."""
        return n_sources == 2

    @abstractmethod
    def compute(self, dist: Distribution, *, solver: Any = None) -> PIDResult:
        """Decompose ``dist`` and return a :class:`pidlab.PIDResult` (bits)."""


@dataclass(frozen=True)
class Availability:
    """Whether a plugin can run here, and why not."""

    available: bool
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.available


class Solver(ABC):
    """A backend for the BROJA convex program (cvxpy-style interface).

    Attributes
    ----------
    name : str
        Registered name, looked up case-insensitively.
    priority : int
        Lower is preferred when ``solver=None``.
    requires : tuple of str
        Importable module names the backend needs (checked with ``importlib.util.find_spec``,
        never imported to find out).
    install_hint : str
        What to install when it is missing.
    """

    name: ClassVar[str]
    priority: ClassVar[int] = 100
    requires: ClassVar[tuple[str, ...]] = ()
    install_hint: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def is_installed(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.requires)

    def availability(self) -> Availability:
        """Whether the backend can run here; the reason when it cannot. Checked on every call."""
        missing = [m for m in self.requires if importlib.util.find_spec(m) is None]
        if missing:
            hint = f"; install it with {self.install_hint}" if self.install_hint else ""
            return Availability(False, f"Python package(s) {', '.join(missing)} not installed{hint}")
        return Availability(True)

    def can_solve(self, problem: BrojaProblem) -> bool:
        return True

    @abstractmethod
    def solve(self, problem: BrojaProblem, **options: Any) -> SolveResult:
        """Solve ``min I_q(X1,X2;Y)`` over Δ_p and return the primal (and dual) point."""

    def cite(self) -> str:
        return self.reference
