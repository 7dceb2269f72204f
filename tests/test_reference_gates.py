"""The in-repository reference table is itself consistent: its Shannon values match the tables
(computed here with plain loops, independently of pidlab) and its atoms obey the PID identities."""

from __future__ import annotations

from collections import defaultdict
from math import log2

import pytest

from tests.reference_gates import GATES


def _mi(p: list, left: tuple[int, ...], right: tuple[int, ...]) -> float:
    """I(left; right) in bits for a table p[x1][x2][y], by summing over its cells."""
    cells = [((a, b, c), v) for a, pa in enumerate(p) for b, pb in enumerate(pa) for c, v in enumerate(pb) if v > 0]
    pl: dict = defaultdict(float)
    pr: dict = defaultdict(float)
    plr: dict = defaultdict(float)
    for idx, v in cells:
        kl, kr = tuple(idx[i] for i in left), tuple(idx[i] for i in right)
        pl[kl] += v
        pr[kr] += v
        plr[kl, kr] += v
    return sum(v * log2(v / (pl[kl] * pr[kr])) for (kl, kr), v in plr.items())


@pytest.mark.parametrize("g", GATES, ids=[g["name"] for g in GATES])
def test_reference_gate_is_consistent(g: dict) -> None:
    p = g["p"]
    assert abs(sum(v for a in p for b in a for v in b) - 1.0) < 1e-12
    assert _mi(p, (0,), (2,)) == pytest.approx(g["I_X1_Y"], abs=1e-12)
    assert _mi(p, (1,), (2,)) == pytest.approx(g["I_X2_Y"], abs=1e-12)
    assert _mi(p, (0, 1), (2,)) == pytest.approx(g["I_X1X2_Y"], abs=1e-12)
    for m in ("broja", "imin"):
        a = g[m]
        assert a["R"] + a["U1"] == pytest.approx(g["I_X1_Y"], abs=1e-12)
        assert a["R"] + a["U2"] == pytest.approx(g["I_X2_Y"], abs=1e-12)
        assert a["R"] + a["U1"] + a["U2"] + a["S"] == pytest.approx(g["I_X1X2_Y"], abs=1e-12)
        assert min(a.values()) >= 0
    assert g["wms"] == pytest.approx(g["broja"]["S"] - g["broja"]["R"], abs=1e-12)
