"""The restricted-timetable (RTT) reduction: NP-hard instances of the minimum joint entropy.

Liang et al. (ICLR 2024, Thm 3 and App. B.5) show that minimising ``H(X1, X2, Y)`` over the joints
with three given pairwise marginals is NP-hard, by reducing the restricted timetable problem of
Even, Itai & Shamir (1975) to it. This module ships that construction in exact rational
arithmetic, both directions of its correctness proof as functions, an exact decision procedure
for small instances and random generators of solvable and unsolvable instances.

**RTT.** Teachers ``t_0..t_{n-1}`` with availability sets ``T_i ⊆ {1, 2, 3}``, classes
``c_0..c_{m-1}`` free at all three hours, a 0/1 requirement matrix ``R`` (n×m), and tight
teachers: ``|T_i| = Σ_j R_ij``. A schedule (meeting function) is a set of triples
``(teacher, class, hour)`` such that (1) a teacher only teaches at hours in ``T_i``; (2) teacher
``i`` meets class ``j`` exactly ``R_ij`` times; (3) a class has at most one teacher per hour;
(4) a teacher has at most one class per hour. It is a constrained 3-edge-colouring of the
bipartite teacher-class graph (edges = required lessons). (n1,n2,n3)-RTT also asks that exactly
``n_h`` lessons take place at hour ``h``.

**Reduction** (docs/theory.rst §6). ``N = L + 3m`` with ``L = Σ R_ij``; X1 = teachers then the holding
rooms ``h1, h2, h3``; X2 = classes; Y = (0, 1, 2, 3) with 0 the null colour.
A joint with these three pairwise marginals and ``H(Y | X1, X2) = 0`` exists iff the
(n1,n2,n3)-RTT instance is solvable; such a joint has entries in ``{0, 1/N}`` and its entropy is
``log2 N = H(X1, X2)``, the least any joint with the given ``p(x1, x2)`` can have.

Indices are 0-based (teacher ``i`` is row ``i`` of ``requirements``); hours are 1, 2, 3.

A note on (n1,n2,n3). Because every teacher is tight, teacher ``i`` teaches at *every* hour of
``T_i``, so the number of lessons at hour ``h`` is forced: ``n_h = #{i : h ∈ T_i}``
(:attr:`RTTInstance.forced_hours`). Every other split is a no-instance, and its reduced
marginals disagree on ``p(y)``. The Cook reduction RTT → (n1,n2,n3)-RTT of the paper
(:func:`cook_reduction`) still enumerates all ``O(L²)`` splits, as the proof does.

Not provided: instances generated from 3-SAT formulas through the Even-Itai-Shamir
construction. Their 1975 paper was not available to build it from faithfully, and pidlab does
not ship a reconstruction it cannot check against the source.

References
----------
S. Even, A. Itai, A. Shamir, "On the complexity of timetable and multicommodity flow problems",
SIAM J. Comput. 5(4), 1976 (Technion TR CS0059, 1975).
P. P. Liang et al., "Multimodal learning without labeled multimodal data: guarantees and
applications", ICLR 2024, App. B.5.

Examples
--------
>>> from pidlab.hardness import rtt
>>> inst = rtt.RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
>>> inst.forced_hours, inst.n_atoms
((1, 1, 1), 9)
>>> sched = rtt.solve(inst)
>>> rtt.verify(inst, sched).ok
True
>>> joint = rtt.schedule_to_joint(inst, sched, exact=True)
>>> rtt.joint_to_schedule(inst, joint) == sched
True
>>> m = rtt.reduce(inst, exact=True)
>>> m.p_x2y[0].tolist()  # class c0: null colour, then hours 1, 2, 3
[Fraction(1, 9), Fraction(1, 9), Fraction(1, 9), Fraction(1, 9)]
"""

from __future__ import annotations

# Layout (private modules, one per stage; import from ``pidlab.hardness.rtt``):
#   _instance       constants, exceptions, RTTInstance and its checks
#   _reduction      ExactMarginals, reduce (the three pairwise marginals)
#   _schedule       Verification, verify, schedule <-> deterministic joint
#   _decide         solve: backtracking and MILP
#   _deterministic  find_deterministic_joint (binary program on any marginals)
#   _cook           splits, the Cook reduction
#   _generate       random instances
#   _draw           draw
#   _guards         argument checks and size estimates (made before allocating) of the entry points
from pidlab.hardness.rtt._cook import CookReductionResult, cook_reduction, splits
from pidlab.hardness.rtt._decide import solve
from pidlab.hardness.rtt._deterministic import find_deterministic_joint
from pidlab.hardness.rtt._draw import draw
from pidlab.hardness.rtt._generate import random_instance, random_solvable, random_unsolvable
from pidlab.hardness.rtt._instance import HOUR_COLORS as HOUR_COLORS  # not in __all__: the colours of draw()
from pidlab.hardness.rtt._instance import (
    HOURS,
    Y_LABELS,
    GenerationError,
    InvalidInstanceError,
    InvalidScheduleError,
    RTTInstance,
)
from pidlab.hardness.rtt._instance import Schedule as Schedule  # not in __all__: set[tuple[int, int, int]]
from pidlab.hardness.rtt._reduction import ExactMarginals, reduce
from pidlab.hardness.rtt._schedule import (
    Verification,
    joint_to_schedule,
    schedule_to_joint,
    verify,
    verify_joint,
)

__all__ = [
    "HOURS",
    "Y_LABELS",
    "InvalidInstanceError",
    "InvalidScheduleError",
    "GenerationError",
    "RTTInstance",
    "ExactMarginals",
    "Verification",
    "CookReductionResult",
    "reduce",
    "solve",
    "verify",
    "verify_joint",
    "schedule_to_joint",
    "joint_to_schedule",
    "find_deterministic_joint",
    "splits",
    "cook_reduction",
    "random_solvable",
    "random_unsolvable",
    "random_instance",
    "draw",
]

# The classes are defined in the private modules of this package; they present themselves as
# ``pidlab.hardness.rtt.X`` (tracebacks, reprs, pickles, the API reference), where users import them.
for _obj in (InvalidInstanceError, InvalidScheduleError, GenerationError, RTTInstance, ExactMarginals, Verification,
             CookReductionResult):
    _obj.__module__ = __name__
del _obj
