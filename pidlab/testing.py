"""Checks that third-party measures and solvers can run in their own test suites.

>>> import pidlab
>>> from pidlab._measures import Imin
>>> pidlab.testing.check_measure(Imin)   # raises AssertionError on the first failed property
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from pidlab._distribution import Distribution

__all__ = ["check_measure", "check_solver", "random_distributions"]


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

    For a full decomposition (``kind == "pid"``): the consistency identities of math.md §1
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
