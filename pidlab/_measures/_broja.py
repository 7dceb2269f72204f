"""The BROJA measure (Bertschinger, Rauh, Olbrich, Jost & Ay 2014): a convex program, solved by a
solver plugin and certified by the host (docs/theory.rst §2.1)."""

from __future__ import annotations

from typing import Any

from pidlab._broja import BrojaProblem, atoms_from_m
from pidlab._contracts import Measure
from pidlab._distribution import Distribution
from pidlab._info import clean_zero
from pidlab._results import PIDResult

__all__ = ["Broja"]


class Broja(Measure):
    """Bertschinger-Rauh-Olbrich-Jost-Ay unique information (BROJA).

    ``m* = min_{q in Δ_p} I_q(X1,X2;Y)`` over the distributions with the same source-target
    marginals; ``R = I(X1;Y) + I(X2;Y) - m*``, ``U1 = m* - I(X2;Y)``, ``U2 = m* - I(X1;Y)``,
    ``S = I(X1,X2;Y) - m*``. Every atom carries a certified bracket (the solver's gap).
    """

    name = "broja"
    aliases = ("bertschinger",)
    symbol = "BROJA"
    kind = "pid"
    uses_solver = True
    reference = (
        "Bertschinger, Rauh, Olbrich, Jost & Ay, Quantifying unique information, Entropy 16 (2014) 2161-2183"
    )
    description = "Bertschinger et al. (BROJA) unique information, a convex program"

    def compute(self, dist: Distribution, *, solver: Any = None, **options: Any) -> PIDResult:
        from pidlab._solvers import solve_broja

        problem = BrojaProblem(dist.p.sum(axis=1), dist.p.sum(axis=0))
        sol = solve_broja(problem, solver, joint=dist.p, **options)
        I1, I2 = problem.I_x1y, problem.I_x2y
        I12 = dist.mutual_information((0, 1), 2)
        c = sol.certificate
        m_lo, m_hi = c.m_lower, c.m_upper
        at = atoms_from_m(sol.m, I1, I2, I12)
        at_lo, at_hi = atoms_from_m(m_lo, I1, I2, I12), atoms_from_m(m_hi, I1, I2, I12)
        bracket = {k: (min(at_lo[k], at_hi[k]), max(at_lo[k], at_hi[k])) for k in at}
        return PIDResult(
            measure=self.name,
            sources=(dist.names[0], dist.names[1]),
            target=dist.target,
            R=clean_zero(at["R"]),
            U1=clean_zero(at["U1"]),
            U2=clean_zero(at["U2"]),
            S=clean_zero(at["S"]),
            I_x1y=I1,
            I_x2y=I2,
            I_x1x2y=I12,
            solver=sol.solver,
            status=sol.status,
            certificate=c,
            bracket=bracket,
            iterations=sol.iterations,
            solve_time=sol.solve_time,
            notes=tuple(str(v) for k, v in sol.info.items() if k == "note")
            + ((f"solvers tried in turn: {' | '.join(sol.info['attempts'])}; used {sol.solver}",)
               if sol.info.get("attempts") else ()),
        )

