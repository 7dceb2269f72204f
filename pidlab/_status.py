"""The canonical solver status shared by every backend."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Status", "SOLUTION_PRESENT", "INACCURATE"]


class Status(StrEnum):
    """Outcome of a solve, whatever the backend.

    Each backend maps its native codes onto these (its ``STATUS_MAP``).
    """

    OPTIMAL = "optimal"
    OPTIMAL_INACCURATE = "optimal_inaccurate"
    INFEASIBLE = "infeasible"
    ITERATION_LIMIT = "iteration_limit"
    SOLVER_ERROR = "solver_error"


#: Statuses that come with a usable primal point.
SOLUTION_PRESENT = frozenset({Status.OPTIMAL, Status.OPTIMAL_INACCURATE, Status.ITERATION_LIMIT})
#: Statuses that carry a warning and are recorded on the result.
INACCURATE = frozenset({Status.OPTIMAL_INACCURATE, Status.ITERATION_LIMIT})
