"""Solvers for the BROJA program: selection, certification and the solve entry point.

Backends are plugins (``native``, ``clarabel``, ``ecos``, ``scs``, ``mosek`` built in). The
host picks one, runs it, and certifies its answer with :func:`pidlab._broja.certify`.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._bases import Availability, Solver
from pidlab._broja import BrojaProblem, Certificate, SolveResult, certify
from pidlab._plugins import lookup, names
from pidlab._status import INACCURATE, SOLUTION_PRESENT, Status
from pidlab.exceptions import InaccurateSolutionWarning, SolverError, UnknownNameError

__all__ = [
    "Solver",
    "Availability",
    "BrojaProblem",
    "SolveResult",
    "BrojaSolution",
    "solve_broja",
    "get_solver",
    "GAP_TOL",
]

#: A certified gap above this many bits turns an OPTIMAL backend status into OPTIMAL_INACCURATE.
GAP_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class BrojaSolution:
    """A certified solution of the BROJA program.

    ``m`` is the value (bits) of the primal point ``q``; the true optimum lies in
    ``[certificate.m_lower, certificate.m_upper]``.
    """

    m: float
    q: NDArray[np.float64]
    certificate: Certificate
    solver: str
    status: Status
    iterations: int | None
    solve_time: float
    info: dict[str, Any]


def get_solver(solver: str | Solver | None, problem: BrojaProblem | None = None) -> Solver:
    """Resolve ``solver`` to an instance.

    ``None`` picks the first available backend, in preference order, that can solve the
    problem; a string is looked up case-insensitively; an object with ``solve`` is used as is.
    """
    if solver is None:
        tried = []
        for n in names("solver"):
            inst = lookup("solver", n).instance()
            av = inst.availability()
            if not getattr(av, "available", av):
                tried.append(f"{n} ({getattr(av, 'reason', 'unavailable')})")
                continue
            if problem is not None and not inst.can_solve(problem):
                tried.append(f"{n} (cannot solve this problem)")
                continue
            return inst
        raise SolverError(
            "no installed solver can solve this problem; tried: " + "; ".join(tried)
            + ". Try solver='native' or install cvxpy with clarabel (pip install cvxpy clarabel)."
        )
    if isinstance(solver, str):
        try:
            entry = lookup("solver", solver)
        except UnknownNameError:
            raise UnknownNameError(
                f"unknown solver {solver!r}; known solvers: {', '.join(names('solver'))}. "
                "Install a backend's package to enable it (see `pidlab plugins`)."
            ) from None
        inst = entry.instance()
        av = inst.availability()
        if not getattr(av, "available", av):
            raise SolverError(f"solver {entry.name!r} is not available here: {getattr(av, 'reason', '')}.")
        if problem is not None and not inst.can_solve(problem):
            raise SolverError(f"solver {entry.name!r} cannot solve a problem of shape {problem.shape}; try solver=None.")
        return inst
    if callable(getattr(solver, "solve", None)):
        return solver  # type: ignore[return-value]
    raise SolverError(f"solver must be None, a registered name or a Solver instance; got {solver!r}.")


def solve_broja(
    problem: BrojaProblem,
    solver: str | Solver | None = None,
    *,
    joint: ArrayLike | None = None,
    accept_gap: float = GAP_TOL,
    **options: Any,
) -> BrojaSolution:
    """Solve and certify the BROJA program.

    Parameters
    ----------
    problem : BrojaProblem
    solver : str, Solver or None
        Backend; ``None`` picks the preferred available one (the choice may change between
        versions).
    joint : array_like, optional
        The full joint, used as one more feasible point.
    accept_gap : float
        A certified gap above this (bits) downgrades an OPTIMAL status to OPTIMAL_INACCURATE.
    **options
        Passed to the backend; only allowed with an explicit ``solver``.

    Raises
    ------
    SolverError
        The backend failed (error or infeasible status on a feasible problem).
    """
    if options and solver is None:
        raise SolverError(
            f"solver options {sorted(options)} were given without a solver; name the solver they are for "
            "(for example solver='clarabel')."
        )
    inst = get_solver(solver, problem)
    sname = str(getattr(inst, "name", type(inst).__name__))
    # Feasible points that may close the bracket without any solve.
    trivial, q0 = certify(problem, SolveResult(sname, Status.OPTIMAL, None), joint=joint)
    if trivial.gap <= 1e-15:
        return BrojaSolution(
            m=trivial.m_upper, q=q0, certificate=trivial, solver=sname, status=Status.OPTIMAL,
            iterations=0, solve_time=0.0,
            info={"note": "closed by feasible points and the trivial bound; the backend was not called"},
        )
    t0 = time.perf_counter()
    try:
        res = inst.solve(problem, **options)
    except SolverError:
        raise
    except TypeError as exc:
        raise SolverError(f"solver {sname!r} rejected the options {sorted(options)}: {exc}") from None
    except Exception as exc:
        raise SolverError(f"solver {sname!r} failed: {exc!r}. Try another solver, e.g. solver='native'.") from None
    elapsed = time.perf_counter() - t0
    if res.status not in SOLUTION_PRESENT or res.q is None:
        raise SolverError(
            f"solver {sname!r} returned status {res.status} without a solution on a feasible problem "
            f"of shape {problem.shape}; try another solver (known: {', '.join(names('solver'))})."
        )
    cert, q = certify(problem, res, joint=joint)
    status = Status(res.status)
    if status is Status.OPTIMAL and cert.gap > accept_gap:
        status = Status.OPTIMAL_INACCURATE
    if status in INACCURATE:
        warnings.warn(
            f"solver {sname!r} finished with status {status}; certified gap {cert.gap:.2e} bits "
            "(recorded on the result).",
            InaccurateSolutionWarning,
            stacklevel=3,
        )
    return BrojaSolution(
        m=cert.m_upper, q=q, certificate=cert, solver=sname, status=status,
        iterations=res.iterations, solve_time=res.solve_time or elapsed, info=dict(res.info),
    )


def _available_solvers() -> list[str]:
    out = []
    for n in names("solver"):
        ok, _ = lookup("solver", n).availability()
        if ok:
            out.append(n)
    return out

