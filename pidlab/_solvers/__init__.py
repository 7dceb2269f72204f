"""Solvers for the BROJA program: selection, certification and the solve entry point.

Backends are plugins (``native``, ``clarabel``, ``ecos``, ``scs``, ``mosek`` built in). The
host picks one, runs it, and certifies its answer with :func:`pidlab._broja.certify`.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._broja import BrojaProblem, Certificate, SolveResult, certify
from pidlab._contracts import Availability, Solver
from pidlab._limits import check_memory, check_work
from pidlab._plugins import lookup, names
from pidlab._status import INACCURATE, SOLUTION_PRESENT, Status
from pidlab.exceptions import InaccurateSolutionWarning, ProblemTooLargeError, SolverError, UnknownNameError

__all__ = [
    "Solver",
    "Availability",
    "BrojaProblem",
    "SolveResult",
    "BrojaSolution",
    "solve_broja",
    "get_solver",
    "check_size",
    "GAP_TOL",
]

#: A certified gap above this many bits turns an OPTIMAL backend status into OPTIMAL_INACCURATE.
GAP_TOL = 1e-6
#: A result whose host certificate is at most this wide (bits) is OPTIMAL whatever the backend's
#: own status (the native solver's default target).
CERTIFIED_GAP = 1e-9


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
        return solver
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
        versions) and, if its answer is not certified (status other than ``optimal``), hands
        over to the next available ones in turn; the tightest certificate wins and
        ``info["attempts"]`` records every backend tried.
    joint : array_like, optional
        The full joint, used as one more feasible point.
    accept_gap : float
        A certified gap above this (bits) downgrades an OPTIMAL status to OPTIMAL_INACCURATE.
    **options
        Passed to the backend; only allowed with an explicit ``solver``.

    Raises
    ------
    SolverError
        The backend failed (error or infeasible status on a feasible problem); with
        ``solver=None``, every available backend failed.
    ProblemTooLargeError
        The solve would need more memory or work than :func:`pidlab.limits` allows (estimated
        before anything is allocated, :func:`check_size`); with ``solver=None`` only when every
        backend would.
    """
    if options and solver is None:
        raise SolverError(
            f"solver options {sorted(options)} were given without a solver; name the solver they are for "
            "(for example solver='clarabel')."
        )
    if solver is not None:
        sol = _solve_one(problem, get_solver(solver, problem), joint, accept_gap, options)
    else:
        sol = _solve_any(problem, joint, accept_gap)
    if sol.status in INACCURATE:
        warnings.warn(
            f"solver {sol.solver!r} finished with status {sol.status}; certified gap {sol.certificate.gap:.2e} bits "
            "(recorded on the result).",
            InaccurateSolutionWarning,
            stacklevel=3,
        )
    return sol


def _solve_any(
    problem: BrojaProblem, joint: ArrayLike | None, accept_gap: float, skip: tuple[str, ...] = ()
) -> BrojaSolution:
    """The preferred available backend, then the next ones while the answer is not certified
    (backends named in ``skip`` are not tried)."""
    # lazily: a backend's availability (an import-path scan) is asked only when the ones before it
    # did not certify the answer, which for most problems means the native solver alone
    order = (inst for inst in _available_instances(problem) if inst.name not in skip)
    first = next(order, None)
    if first is None and not skip:
        get_solver(None, problem)  # raises the "no installed solver" error, with the reasons
    attempts: list[str] = []
    best: BrojaSolution | None = None
    too_large: ProblemTooLargeError | None = None
    pre = _trivial(problem, joint) if first is not None else None  # once for all the backends tried
    for inst in itertools.chain(() if first is None else (first,), order):
        try:
            sol = _solve_one(problem, inst, joint, accept_gap, {}, pre)
        except SolverError as exc:
            attempts.append(f"{inst.name}: failed ({exc})")
            continue
        except ProblemTooLargeError as exc:  # this backend would be too big: the next one may not be
            too_large = too_large or exc
            attempts.append(f"{inst.name}: not run (above pidlab's size limits)")
            continue
        attempts.append(f"{inst.name}: {sol.status}, certified gap {sol.certificate.gap:.2e} bits")
        if best is None or sol.certificate.gap < best.certificate.gap:
            best = sol
        if sol.status is Status.OPTIMAL:
            break
    if best is None:
        if too_large is not None and all(" failed (" not in a for a in attempts):
            raise too_large  # the preferred backend's refusal, naming the shape, the estimate and the fix
        raise SolverError("every available BROJA solver failed: " + " | ".join(attempts))
    if len(attempts) > 1:
        best = dataclasses.replace(best, info={**best.info, "attempts": attempts})
    return best


def _available_instances(problem: BrojaProblem) -> Iterator[Solver]:
    """The installed backends that can solve ``problem``, in order of preference, one at a time."""
    for n in names("solver"):
        inst = lookup("solver", n).instance()
        av = inst.availability()
        if getattr(av, "available", av) and inst.can_solve(problem):
            yield inst


def _one_blas_thread() -> Any:
    """The certificate's vector products (``np.dot`` in the entropies) on one BLAS thread:
    multi-threaded OpenBLAS spends milliseconds per call synchronising threads on shared cores
    (measured: a 65,536-entry dot product 15 ms with two threads, 6 µs with one; the entropy
    of a 400x400x2 table 18 ms instead of 2 ms)."""
    from pidlab._solvers._native._kernels import blas_threads

    return blas_threads(1)


def _trivial(problem: BrojaProblem, joint: ArrayLike | None) -> tuple[Certificate, NDArray[np.float64]]:
    """The host's certificate from the feasible points and the trivial bound alone (no solve),
    after checking that the host can afford it."""
    check_size(problem, None)
    with _one_blas_thread():
        return certify(problem, SolveResult("host", Status.OPTIMAL, None), joint=joint)


def _solve_one(
    problem: BrojaProblem, inst: Solver, joint: ArrayLike | None, accept_gap: float, options: dict[str, Any],
    pre: tuple[Certificate, NDArray[np.float64]] | None = None,
) -> BrojaSolution:
    """One backend: solve, certify, set the status (no warning). ``pre`` is :func:`_trivial`'s
    answer when the caller has it."""
    sname = str(getattr(inst, "name", type(inst).__name__))
    # Feasible points that may close the bracket without any solve.
    trivial, q0 = pre if pre is not None else _trivial(problem, joint)
    if trivial.gap <= 1e-15:
        return BrojaSolution(
            m=trivial.m_upper, q=q0, certificate=trivial, solver=sname, status=Status.OPTIMAL,
            iterations=0, solve_time=0.0,
            info={"note": "closed by feasible points and the trivial bound; the backend was not called"},
        )
    check_size(problem, inst, options)
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
    _check_solve_result(sname, problem, res)
    if res.status not in SOLUTION_PRESENT or res.q is None:
        raise SolverError(
            f"solver {sname!r} returned status {res.status} without a solution on a feasible problem "
            f"of shape {problem.shape}; try another solver (known: {', '.join(names('solver'))})."
        )
    try:
        with _one_blas_thread():
            cert, q = certify(problem, res, joint=joint)
    except (ValueError, TypeError, FloatingPointError) as exc:  # a plugin's point the host cannot use
        raise SolverError(f"solver {sname!r} returned a point the host cannot certify ({exc}); try another "
                          "solver, e.g. solver='native'.") from None
    status = Status(res.status)
    info = dict(res.info)
    if status is Status.OPTIMAL and cert.gap > accept_gap:
        status = Status.OPTIMAL_INACCURATE
    elif status in INACCURATE and cert.gap <= CERTIFIED_GAP:
        # the host's own certificate (with the input joint as one more primal point) closed
        # the bracket to pidlab's default target although the backend did not claim it
        info["backend_status"] = str(status)
        status = Status.OPTIMAL
    return BrojaSolution(
        m=cert.m_upper, q=q, certificate=cert, solver=sname, status=status,
        iterations=res.iterations, solve_time=res.solve_time or elapsed, info=info,
    )


#: Table-sized float arrays the host's certificate allocates (polishing, the conditionally
#: independent point, the dual bound's work array, the candidates).
HOST_TABLES = 12


def check_size(problem: BrojaProblem, inst: Solver | None, options: dict[str, Any] | None = None) -> None:
    """Refuse (:class:`~pidlab.exceptions.ProblemTooLargeError`) a solve whose memory or work
    estimate is above :func:`pidlab.limits`, before anything is allocated.

    ``inst=None`` checks the host's certificate alone (about ``HOST_TABLES`` float tables). A
    backend's estimate comes from its ``estimate_resources(problem, **options)`` method, which
    returns ``(bytes, operations, description)``; backends without one (third-party plugins)
    are checked for the host's share only.
    """
    n1, n2, ny = problem.shape
    host = 8.0 * HOST_TABLES * n1 * n2 * ny
    shape = f"{n1}x{n2}x{ny}"
    hint = (f"The cost grows with the alphabet sizes |X1|, |X2|, |Y| = {n1}, {n2}, {ny}: merge rare symbols or "
            "use a coarser discretizer to make them smaller")
    if inst is None:
        check_memory(host, f"certifying a BROJA solution of a {shape} table", hint=hint)
        return
    est = getattr(inst, "estimate_resources", None)
    if not callable(est):
        return
    try:
        nbytes, ops, how = est(problem, **(options or {}))
        nbytes, ops = float(nbytes), float(ops)
    except Exception:  # a plugin's estimate that fails is no reason to refuse the job
        return
    what = f"a BROJA solve of a {shape} table with {how}"
    check_memory(nbytes + host, what, hint=hint)
    check_work(ops, what, hint=hint)


def _check_solve_result(sname: str, problem: BrojaProblem, res: Any) -> None:
    """A backend is code from strangers: check what it returned before the host uses it.

    Raises SolverError (so ``solver=None`` hands over to the next backend) for anything that is
    not a :class:`SolveResult` with a canonical status and arrays of the problem's shapes; NaN
    entries are left to the certificate, which never uses them.
    """
    if not all(hasattr(res, k) for k in ("status", "q", "lam", "mu", "info")):
        raise SolverError(f"solver {sname!r} returned {type(res).__name__}, not a pidlab SolveResult; "
                          "a solver plugin's solve() must return pidlab.SolveResult.")
    try:
        Status(res.status)
    except ValueError:
        raise SolverError(f"solver {sname!r} returned the status {res.status!r}, which is not a pidlab.Status; "
                          f"use one of {', '.join(s.value for s in Status)}.") from None
    n1, n2, ny = problem.shape
    for what, value, shape in (("q", res.q, (n1, n2, ny)), ("lam", res.lam, (n1, ny)), ("mu", res.mu, (n2, ny))):
        if value is None:
            continue
        try:
            arr_shape = np.shape(np.asarray(value, dtype=float))
        except (TypeError, ValueError):
            raise SolverError(f"solver {sname!r} returned a non-numeric {what}; it must be an array of shape "
                              f"{shape}.") from None
        if arr_shape != shape:
            raise SolverError(f"solver {sname!r} returned {what} of shape {arr_shape} for a problem of shape "
                              f"{problem.shape}; it must have shape {shape}.")
    if not isinstance(res.info, dict):
        raise SolverError(f"solver {sname!r} returned info of type {type(res.info).__name__}; it must be a dict.")
