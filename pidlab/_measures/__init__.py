"""Built-in PID measures: BROJA (Bertschinger et al.), I_min (Williams-Beer), WMS and CI.

This module is itself a plugin: its ``pidlab_register_measures`` hook registers the four
classes exactly as a third-party package would register its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pidlab._bases import Measure
from pidlab._broja import BrojaProblem, atoms_from_m
from pidlab._distribution import Distribution
from pidlab._results import PIDResult
from pidlab.hookspecs import hookimpl

__all__ = ["Measure", "Broja", "Imin", "WMS", "CoInformation", "specific_information"]


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
            **{k: _c(v) for k, v in at.items()},
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


def _c(v: float) -> float:
    return 0.0 if abs(v) < 1e-12 else float(v)


def specific_information(dist: Distribution, source: int) -> np.ndarray:
    """Specific information ``I(Y=y; X_i) = sum_x p(x|y) log2(p(y|x)/p(y))`` for each y (bits)."""
    pxy = dist.p.sum(axis=1 - source)  # (|X_i|, |Y|)
    px = pxy.sum(axis=1)
    py = pxy.sum(axis=0)
    out = np.zeros(py.size)
    for y in range(py.size):
        if py[y] <= 0:
            continue
        col = pxy[:, y]
        nz = col > 0
        p_x_given_y = col[nz] / py[y]
        p_y_given_x = col[nz] / px[nz]
        out[y] = float(np.sum(p_x_given_y * np.log2(p_y_given_x / py[y])))
    return out


class Imin(Measure):
    """Williams & Beer's I_min redundancy: expected minimum specific information."""

    name = "imin"
    aliases = ("williams-beer",)
    symbol = "I_min"
    kind = "pid"
    reference = "Williams & Beer, Nonnegative decomposition of multivariate information, arXiv:1004.2515 (2010)"
    description = "Williams-Beer I_min, the expected minimum specific information"

    def compute(self, dist: Distribution, *, solver: Any = None) -> PIDResult:
        py = dist.marginal("Y")
        s1 = specific_information(dist, 0)
        s2 = specific_information(dist, 1)
        R = float(np.sum(py * np.minimum(s1, s2)))
        return PIDResult.from_redundancy(dist, self.name, R)


class WMS(Measure):
    """Whole-minus-sum synergy ``I(X1,X2;Y) - I(X1;Y) - I(X2;Y)``: a net synergy (S - R)."""

    name = "wms"
    symbol = "WMS"
    kind = "net"
    reference = "Griffith & Koch, Quantifying synergistic mutual information (2014); Schneidman et al. (2003)"
    description = "whole-minus-sum, the net synergy S - R"

    def compute(self, dist: Distribution, *, solver: Any = None) -> PIDResult:
        return PIDResult.from_net(dist, self.name, -dist.coinformation(), "net synergy")


class CoInformation(Measure):
    """Co-information ``I(X1;X2;Y)`` (McGill's sign): a net redundancy (R - S)."""

    name = "ci"
    aliases = ("coinformation", "co-information")
    symbol = "CI"
    kind = "net"
    reference = "McGill, Multivariate information transmission, Psychometrika 19 (1954); Bell (2003)"
    description = "co-information, the net redundancy R - S"

    def compute(self, dist: Distribution, *, solver: Any = None) -> PIDResult:
        return PIDResult.from_net(dist, self.name, dist.coinformation(), "net redundancy")


@hookimpl
def pidlab_register_measures() -> list[type[Measure]]:
    return [Broja, Imin, WMS, CoInformation]
