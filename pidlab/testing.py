"""Checks that third-party measures and solvers can run in their own test suites, and a fake
solver for testing what the host does with a bad backend.

>>> import pidlab
>>> from pidlab._measures import Imin
>>> pidlab.testing.check_measure(Imin)   # raises AssertionError on the first failed property

:func:`register_fake_solver` registers, for the duration of a ``with`` block, a BROJA backend
that answers badly on purpose (an uncertified point, an error, NaN, ...) and is tried before
every real one, so the host's certification and hand-over run in milliseconds:

>>> import numpy as np
>>> p = np.random.default_rng(0).dirichlet(np.ones(8)).reshape(2, 2, 2)
>>> with pidlab.testing.register_fake_solver("fake-doc", behaviour="uncertified") as fake:
...     r = pidlab.decompose(p)
>>> len(fake.calls), r.solver != "fake-doc", str(r.status)
(1, True, 'optimal')
>>> r.notes[-1].startswith("solvers tried in turn: fake-doc: optimal_inaccurate")
True
>>> "fake-doc" in pidlab.solvers()   # unregistered on leaving the block
False
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from pidlab._bases import Solver
from pidlab._distribution import Distribution

if TYPE_CHECKING:
    from pidlab._broja import BrojaProblem, SolveResult

__all__ = [
    "FAKE_BEHAVIOURS",
    "FakeSolver",
    "check_measure",
    "check_solver",
    "random_distributions",
    "register_fake_solver",
]


def random_distributions(shape: tuple[int, int, int] = (2, 2, 2), n: int = 5, seed: int = 0) -> list[Distribution]:
    """``n`` random Dirichlet(1) distributions (fixed seed), some with zero cells."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
        if k % 2 == 1:
            p[rng.random(shape) < 0.2] = 0.0
            p = p / p.sum()
        out.append(Distribution(p))
    return out


def _approx(a: float, b: float, tol: float, what: str) -> None:
    if not abs(a - b) <= tol:
        raise AssertionError(f"{what}: {a!r} != {b!r} (tolerance {tol:g})")


def check_measure(measure: Any, *, tol: float = 1e-7, solver: Any = None) -> None:
    """Assert the properties every bivariate PID measure must have.

    For a full decomposition (``kind == "pid"``): the consistency identities of docs/theory.rst §1
    (R+U1 = I(X1;Y), R+U2 = I(X2;Y), R+U1+U2+S = I(X1,X2;Y)), symmetry (swapping the sources
    swaps U1 and U2) and invariance under relabelling the alphabets. For a net measure, the
    identity WMS = -CI = S - R only is checked by the host; here relabelling invariance.
    """
    inst = measure() if isinstance(measure, type) else measure
    kw = {"solver": solver} if getattr(inst, "uses_solver", False) else {}
    rng = np.random.default_rng(1)
    for d in random_distributions((2, 2, 2), 3) + random_distributions((3, 2, 4), 3, seed=2):
        r = inst.compute(d, **kw)
        if getattr(inst, "kind", "pid") == "pid":
            I1, I2, I12 = d.mutual_information(0, 2), d.mutual_information(1, 2), d.mutual_information((0, 1), 2)
            _approx(r.R + r.U1, I1, tol, "R + U1 = I(X1;Y)")
            _approx(r.R + r.U2, I2, tol, "R + U2 = I(X2;Y)")
            _approx(r.R + r.U1 + r.U2 + r.S, I12, tol, "R + U1 + U2 + S = I(X1,X2;Y)")
            s = inst.compute(d.swap_sources(), **kw)
            _approx(s.U1, r.U2, tol, "swapping sources swaps U1 and U2")
            _approx(s.R, r.R, tol, "swapping sources keeps R")
        perm = tuple(rng.permutation(n) for n in d.shape)
        dp = Distribution(d.p[np.ix_(*perm)])
        rp = inst.compute(dp, **kw)
        for atom in ("R", "U1", "U2", "S", "net"):
            a, b = getattr(r, atom), getattr(rp, atom)
            if (a is None) != (b is None):
                raise AssertionError(f"relabelling changed whether {atom} is defined")
            if a is not None:
                _approx(a, b, tol, f"relabelling invariance of {atom}")


def check_solver(solver: Any, *, reference: str = "clarabel", tol: float = 1e-6) -> None:
    """Assert a BROJA solver agrees with a reference backend and that its certificate holds."""
    from pidlab._broja import BrojaProblem
    from pidlab._solvers import solve_broja

    for shape, seed in itertools.product([(2, 2, 2), (3, 3, 2), (4, 3, 3)], [0, 1]):
        for d in random_distributions(shape, 2, seed):
            prob = BrojaProblem(d.p.sum(1), d.p.sum(0))
            mine = solve_broja(prob, solver, joint=d.p)
            ref = solve_broja(prob, reference, joint=d.p)
            _approx(mine.m, ref.m, tol, f"m* against {reference} on shape {shape}")
            c = mine.certificate
            if not c.m_lower - 1e-9 <= ref.m <= c.m_upper + 1e-9:
                raise AssertionError(f"certificate [{c.m_lower}, {c.m_upper}] excludes the {reference} optimum {ref.m}")


# --------------------------------------------------------------------------- a fake backend
#: What :class:`FakeSolver` can do (its ``behaviour``):
#:
#: ``"uncertified"``
#:     status ``optimal`` with a feasible but (in general) not optimal point, the conditionally
#:     independent one, and no dual point: the host's certificate is then only the trivial
#:     bracket, so the host downgrades the status to ``optimal_inaccurate`` (on tables where that
#:     bracket is wider than the accepted gap; where the trivial bracket already closes, the host
#:     does not call any backend).
#: ``"inaccurate"``
#:     the same point with an honest ``iteration_limit`` status.
#: ``"error"``
#:     status ``solver_error`` and no point.
#: ``"raise"``
#:     raises :class:`pidlab.SolverError`.
#: ``"crash"``
#:     raises :class:`RuntimeError` (an unexpected bug in a plugin).
#: ``"nan"``
#:     status ``optimal`` with a point and a dual point full of NaN.
#: ``"nan-dual"``
#:     status ``optimal``, the conditionally independent point and a NaN dual point.
#: ``"wrong-shape"``
#:     status ``optimal`` with a point of the wrong shape (one more symbol on every axis).
#: ``"wrong-shape-dual"``
#:     status ``optimal``, the conditionally independent point and dual arrays of the wrong shape.
#: ``"not-a-result"``
#:     returns ``None`` instead of a :class:`pidlab.SolveResult`.
#:
#: ``behaviour`` may also be a callable ``f(problem) -> SolveResult``.
FAKE_BEHAVIOURS: tuple[str, ...] = (
    "uncertified",
    "inaccurate",
    "error",
    "raise",
    "crash",
    "nan",
    "nan-dual",
    "wrong-shape",
    "wrong-shape-dual",
    "not-a-result",
)


class FakeSolver(Solver):
    """A BROJA backend that answers badly on purpose, to test the host (see :data:`FAKE_BEHAVIOURS`).

    It is always available and accepts any problem and any option (ignored). Every call appends
    the problem to :attr:`calls`. Use :func:`register_fake_solver`, which registers a subclass
    with its own name, priority, behaviour and ``calls`` list, and unregisters it afterwards.
    """

    name: ClassVar[str] = "fake"
    priority: ClassVar[int] = -1000
    description: ClassVar[str] = "a test double that answers badly on purpose (pidlab.testing)"
    behaviour: ClassVar[str | Callable[[BrojaProblem], SolveResult]] = "uncertified"
    calls: ClassVar[list[BrojaProblem]] = []

    def solve(self, problem: BrojaProblem, **options: Any) -> SolveResult:
        from pidlab._broja import SolveResult
        from pidlab._status import Status
        from pidlab.exceptions import SolverError

        type(self).calls.append(problem)
        how = type(self).behaviour
        if callable(how):
            return how(problem)
        nan = float("nan")
        ci = problem.conditionally_independent()
        n1, n2, ny = problem.shape
        ok = Status.OPTIMAL
        if how == "uncertified":
            return SolveResult(self.name, ok, ci, iterations=1)
        if how == "inaccurate":
            return SolveResult(self.name, Status.ITERATION_LIMIT, ci, iterations=1)
        if how == "error":
            return SolveResult(self.name, Status.SOLVER_ERROR, None)
        if how == "raise":
            raise SolverError(f"fake solver {self.name!r} failed on purpose")
        if how == "crash":
            raise RuntimeError(f"fake solver {self.name!r} crashed on purpose")
        if how == "nan":
            return SolveResult(self.name, ok, np.full(problem.shape, nan),
                               lam=np.full((n1, ny), nan), mu=np.full((n2, ny), nan), iterations=1)
        if how == "nan-dual":
            return SolveResult(self.name, ok, ci, lam=np.full((n1, ny), nan), mu=np.full((n2, ny), nan), iterations=1)
        if how == "wrong-shape":
            return SolveResult(self.name, ok, np.full((n1 + 1, n2 + 1, ny + 1), 1.0 / ((n1 + 1) * (n2 + 1) * (ny + 1))),
                               iterations=1)
        if how == "wrong-shape-dual":
            return SolveResult(self.name, ok, ci, lam=np.zeros((n1 + 1, ny + 1)), mu=np.zeros((n2 + 1, ny + 1)),
                               iterations=1)
        if how == "not-a-result":
            return None  # type: ignore[return-value]
        raise ValueError(f"unknown fake behaviour {how!r}; known: {', '.join(FAKE_BEHAVIOURS)} or a callable")


@contextmanager
def register_fake_solver(
    name: str = "fake",
    *,
    priority: int = -1000,
    behaviour: str | Callable[[BrojaProblem], SolveResult] = "uncertified",
) -> Iterator[type[FakeSolver]]:
    """Register a :class:`FakeSolver` for the duration of a ``with`` block.

    Parameters
    ----------
    name : str
        Registered solver name (lower case; must not be taken).
    priority : int
        Lower is tried first when ``solver=None``; the default puts it before every real backend.
    behaviour : str or callable
        One of :data:`FAKE_BEHAVIOURS`, or ``f(problem) -> SolveResult``.

    Yields
    ------
    type
        The registered class; its ``calls`` list holds the problems it was asked to solve.

    The plugin is registered on the current plugin manager and unregistered from it on leaving
    the block (also on an exception), which leaves the registry as it was.

    Raises
    ------
    ValueError
        An unknown ``behaviour``.
    pidlab.PluginValidationError
        ``name`` is already taken or malformed.
    """
    from pidlab._plugins import plugin_manager
    from pidlab.hookspecs import hookimpl

    if not callable(behaviour) and behaviour not in FAKE_BEHAVIOURS:
        raise ValueError(f"unknown fake behaviour {behaviour!r}; known: {', '.join(FAKE_BEHAVIOURS)} or a callable")
    cls = type(
        "FakeSolver_" + "".join(c if c.isalnum() else "_" for c in str(name)),
        (FakeSolver,),
        {"name": name, "priority": priority, "behaviour": staticmethod(behaviour) if callable(behaviour) else behaviour,
         "calls": [], "__doc__": FakeSolver.__doc__},
    )

    class _Plugin:
        @hookimpl
        def pidlab_register_solvers(self) -> list[type[Solver]]:
            return [cls]

    pm = plugin_manager()
    pname = f"pidlab.testing.fake-solver:{name}"
    pm.register(_Plugin(), name=pname)
    try:
        yield cls
    finally:
        if pm.has_plugin(pname):
            pm.unregister(name=pname)
