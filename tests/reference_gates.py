"""Reference values for the canonical bivariate gates, built here from their definitions.

Every gate has independent uniform inputs; the tables are constructed from the gate's rule (not
from :mod:`pidlab.examples`), and every value is a closed form in bits, derived below from the
rule, with the publication that first reported it:

* Shannon quantities ``I(X1;Y)``, ``I(X2;Y)``, ``I(X1,X2;Y)``: direct computation from the rule
  (``h`` is the binary entropy). Co-information ``ci = I(X1;Y) + I(X2;Y) - I(X1,X2;Y)`` (McGill's
  sign) and ``wms = -ci`` (Williams & Beer 2010; Griffith & Koch 2014).
* BROJA atoms (Bertschinger, Rauh, Olbrich, Jost & Ay, *Quantifying unique information*,
  Entropy 16:2161, 2014; Griffith & Koch, *Quantifying synergistic mutual information*, 2014,
  table of canonical examples). With ``m* = min I_q(X1,X2;Y)`` over the tables ``q`` with the
  same ``p(x1,y)`` and ``p(x2,y)``: always ``m* >= max_i I(Xi;Y)``. Where both sources have the
  same table with ``Y`` (XOR, AND, OR, SUM, XORAND, RDN), the coupling that sets ``X2 = X1`` given
  ``Y`` attains it, so ``U1 = U2 = 0``, ``R = I(Xi;Y)`` and ``S = I(X1,X2;Y) - I(Xi;Y)``. Where
  ``Y`` fixes ``X1`` and ``X2`` through the two tables (COPY) every feasible ``q`` is ``p``, so
  ``m* = I(X1,X2;Y)`` and ``S = 0``; for UNQ (``Y = X1``) ``m* = H(Y) = I(X1;Y)``. The composed
  gates (RDNXOR, RDNUNQXOR) are products of independent parts and add their atoms.
* I_min atoms (Williams & Beer, *Nonnegative decomposition of multivariate information*,
  arXiv:1004.2515, 2010): ``R = sum_y p(y) min_i I(Y=y; Xi)``; for COPY each source carries one
  bit of specific information about every outcome, so ``R = 1`` (the well-known "two-bit copy"
  criticism of I_min, Harder, Salge & Polani 2013).

These replace a table that used to be read from outside the repository; pidlab's own examples,
measures and solvers are checked against them in ``tests/test_measures.py`` and elsewhere.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from math import log2

__all__ = ["GATES", "gate_table"]


def h(p: float) -> float:
    """Binary entropy in bits."""
    return 0.0 if p in (0.0, 1.0) else -p * log2(p) - (1 - p) * log2(1 - p)


def gate_table(n1: int, n2: int, ny: int, rule: Callable[[int, int], int]) -> list[list[list[float]]]:
    """p[x1][x2][y] for independent uniform inputs and ``y = rule(x1, x2)``."""
    p = [[[0.0] * ny for _ in range(n2)] for _ in range(n1)]
    for x1, x2 in itertools.product(range(n1), range(n2)):
        p[x1][x2][rule(x1, x2)] += 1.0 / (n1 * n2)
    return p


def _rdnxor(x1: int, x2: int) -> int:
    # X1 = (r, a), X2 = (r, b) with r shared: encoded 2r + a, 2r + b; Y = (r, a xor b).
    r1, a = divmod(x1, 2)
    r2, b = divmod(x2, 2)
    return 2 * r1 + (a ^ b) if r1 == r2 else -1


def _rdnunqxor(x1: int, x2: int) -> int:
    # X1 = (r, u1, a) = 4r + 2u1 + a, X2 = (r, u2, b); Y = (r, u1, u2, a xor b) = 8r + 4u1 + 2u2 + (a xor b).
    r1, rest1 = divmod(x1, 4)
    u1, a = divmod(rest1, 2)
    r2, rest2 = divmod(x2, 4)
    u2, b = divmod(rest2, 2)
    return 8 * r1 + 4 * u1 + 2 * u2 + (a ^ b) if r1 == r2 else -1


def _shared_table(n: int, ny: int, rule: Callable[[int, int], int]) -> list[list[list[float]]]:
    """Gates whose two sources share a component: only the pairs with the same shared part occur."""
    pairs = [(x1, x2) for x1 in range(n) for x2 in range(n) if rule(x1, x2) >= 0]
    p = [[[0.0] * ny for _ in range(n)] for _ in range(n)]
    for x1, x2 in pairs:
        p[x1][x2][rule(x1, x2)] += 1.0 / len(pairs)
    return p


def _case(name: str, p: list, i1: float, i2: float, i12: float, broja: tuple, imin: tuple) -> dict:
    ci = i1 + i2 - i12
    return {
        "name": name,
        "p": p,
        "I_X1_Y": i1,
        "I_X2_Y": i2,
        "I_X1X2_Y": i12,
        "broja": dict(zip(("R", "U1", "U2", "S"), broja)),
        "imin": dict(zip(("R", "U1", "U2", "S"), imin)),
        "ci": ci,
        "wms": 0.0 - ci,  # not -ci: that is -0.0 where ci = 0, which prints as "-0.000000"
    }


# AND / OR: H(Y) = h(1/4); knowing one input leaves Y undetermined half of the time with a fair
# coin, so I(Xi;Y) = h(1/4) - 1/2; I(X1,X2;Y) = H(Y) = h(1/4). Bertschinger et al.: R = I(Xi;Y),
# U = 0, S = 1/2 (I_min gives the same).
_I_AND = h(0.25) - 0.5

GATES: list[dict] = [
    # XOR: pure synergy, one bit.
    _case("XOR", gate_table(2, 2, 2, lambda a, b: a ^ b), 0.0, 0.0, 1.0, (0, 0, 0, 1), (0, 0, 0, 1)),
    _case("AND", gate_table(2, 2, 2, lambda a, b: a & b), _I_AND, _I_AND, h(0.25),
          (_I_AND, 0, 0, 0.5), (_I_AND, 0, 0, 0.5)),
    _case("OR", gate_table(2, 2, 2, lambda a, b: a | b), _I_AND, _I_AND, h(0.25),
          (_I_AND, 0, 0, 0.5), (_I_AND, 0, 0, 0.5)),
    # COPY: Y = (X1, X2) encoded 2*x1 + x2. BROJA: two unique bits; I_min: one redundant + one synergistic.
    _case("COPY", gate_table(2, 2, 4, lambda a, b: 2 * a + b), 1.0, 1.0, 2.0, (0, 1, 1, 0), (1, 0, 0, 1)),
    # UNQ: Y = X1.
    _case("UNQ", gate_table(2, 2, 2, lambda a, b: a), 1.0, 0.0, 1.0, (0, 1, 0, 0), (0, 1, 0, 0)),
    # RDN: X1 = X2 = Y (one fair bit, copied).
    _case("RDN", [[[0.5, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.5]]], 1.0, 1.0, 1.0, (1, 0, 0, 0), (1, 0, 0, 0)),
    # SUM: Y = X1 + X2; H(Y) = 1.5, H(Y|Xi) = 1, so I(Xi;Y) = 0.5, I(X1,X2;Y) = 1.5.
    _case("SUM", gate_table(2, 2, 3, lambda a, b: a + b), 0.5, 0.5, 1.5, (0.5, 0, 0, 1), (0.5, 0, 0, 1)),
    # XORAND: Y = (x1 xor x2, x1 and x2), encoded xor + 2*and: a relabelling of SUM.
    _case("XORAND", gate_table(2, 2, 3, lambda a, b: (a ^ b) + 2 * (a & b)), 0.5, 0.5, 1.5,
          (0.5, 0, 0, 1), (0.5, 0, 0, 1)),
    # RDNXOR: a shared fair bit (redundant, 1 bit) next to an XOR of private bits (synergistic, 1 bit).
    _case("RDNXOR", _shared_table(4, 4, _rdnxor), 1.0, 1.0, 2.0, (1, 0, 0, 1), (1, 0, 0, 1)),
    # RDNUNQXOR: one bit of each atom (Griffith & Koch's RdnUnqXor); I_min counts the unique bits
    # as redundant (R = 2) and therefore S = 2.
    _case("RDNUNQXOR", _shared_table(8, 16, _rdnunqxor), 2.0, 2.0, 4.0, (1, 1, 1, 1), (2, 0, 0, 2)),
]
