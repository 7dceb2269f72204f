"""NP-hardness instances for the minimum joint entropy under three pairwise marginals.

The only construction shipped so far is the restricted-timetable (RTT) reduction of Liang et al.
(ICLR 2024, App. B.5), built on Even, Itai & Shamir (1975): see :mod:`pidlab.hardness.rtt`.

Examples
--------
>>> from pidlab.hardness import rtt
>>> inst = rtt.RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
>>> sorted(rtt.solve(inst))
[(0, 0, 1), (0, 1, 2), (1, 1, 3)]
"""

from __future__ import annotations

from pidlab.hardness import rtt

__all__ = ["rtt"]
