"""The measures of issue 15 against dit (an independent implementation), on the canonical gates
(fast) and on 210 random tables of sizes 2 to 4 per variable (slow tier), to 1e-6 bits.

Where dit's own optimisers are the weak side, the evidence is in the test (:func:`dit_is_wrong`):
dit's maximum-entropy fit (I_ccs, I_dep) can stop off the constraint set, and dit's I_proj runs
L-BFGS-B with ``ftol=1e-7`` and can stop short of the projection. On the 210 random tables below
that happened for I_ccs on table #183 (dit's fit misses the marginals by 1.8e-5; R differs by
2.8e-5) and for I_proj on tables #137, #153, #183 (pidlab's certified projection is better by
3e-4 to 3e-3 bits); every other value agrees to 1e-6 bits (I_±, I_sx, I_∧ to 1e-14, I_dep to
3e-10).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import pidlab

dit = pytest.importorskip("dit", reason="dit is part of the dev extra; CI installs it")
from dit.pid import PID_CCS, PID_GK, PID_PM, PID_SX, PID_WB, PID_dep, PID_Proj  # noqa: E402

DIT = {"ccs": PID_CCS, "dep": PID_dep, "pm": PID_PM, "sx": PID_SX, "gk": PID_GK, "proj": PID_Proj, "imin": PID_WB}
NEW = ("ccs", "dep", "pm", "sx", "gk", "proj")
TOL = 1e-6


def dit_atoms(name: str, p: np.ndarray) -> dict[str, float]:
    """dit's R, U1, U2, S of p[x1, x2, y] (outcomes spelled as letters: dit's I_proj needs strings)."""
    idx = np.argwhere(p > 0)
    outcomes = ["".join(chr(97 + int(v)) for v in i) for i in idx]
    d = dit.Distribution(outcomes, [float(p[tuple(i)]) for i in idx])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pid = DIT[name](d, [[0], [1]], [2])
    nodes = {"R": ((0,), (1,)), "U1": ((0,),), "U2": ((1,),), "S": ((0, 1),)}
    return {k: float(pid.get_pi(n)) for k, n in nodes.items()}


def _dit_dist(p: np.ndarray):
    idx = np.argwhere(p > 0)
    return dit.Distribution(["".join(chr(97 + int(v)) for v in i) for i in idx], [float(p[tuple(i)]) for i in idx])


def dit_is_wrong(name: str, p: np.ndarray, r, ref: dict[str, float]) -> str:
    """Evidence that dit, not pidlab, is off on ``p`` (empty when there is none).

    * ccs / dep: dit's maximum-entropy fit (IPF for 1000 sweeps, then SLSQP) can stop with its
      pairwise marginals off by more than 1e-6 (so it is not a point of the constraint set);
      pidlab's fit meets them to 1e-12.
    * proj: dit's L-BFGS-B (ftol 1e-7) can stop short of the KL projection; pidlab's projected
      information is attained by an explicit mixture (a feasible point, so a lower bound on the
      maximum) and certified within 1e-9 bits of it, so a pidlab value above dit's proves dit's
      projection suboptimal.
    """
    if name in ("ccs", "dep"):
        from dit.algorithms import maxent_dist

        from pidlab._measures._stack import maxent_pairwise

        md = maxent_dist(_dit_dist(p), [[0, 1], [0, 2], [1, 2]])
        qd = np.zeros_like(p)
        for o, v in zip(md.outcomes, md.pmf):
            qd[tuple(ord(ch) - 97 for ch in o)] = v
        q = maxent_pairwise(p[None])[0][0]
        err_dit = max(float(np.abs(qd.sum(a) - p.sum(a)).max()) for a in (0, 1, 2))
        err_us = max(float(np.abs(q.sum(a) - p.sum(a)).max()) for a in (0, 1, 2))
        if err_dit > TOL and err_us < 1e-12:
            return f"dit's max-ent joint misses the marginals by {err_dit:.2g} (pidlab's by {err_us:.2g})"
    if name == "proj":
        from pidlab._measures._proj import projected_information

        gaps = [projected_information(p[None], s)[1][0] for s in (0, 1)]
        if r.R > ref["R"] + TOL and max(gaps) < 1e-9:
            return f"pidlab's feasible projection gives R = {r.R:.9g} > dit's {ref['R']:.9g} (certified gap {max(gaps):.1g})"
    return ""


def assert_agree(name: str, p: np.ndarray, label: str) -> None:
    r = pidlab.decompose(p, name)
    ref = dit_atoms(name, p)
    diff = {k: abs(getattr(r, k) - v) for k, v in ref.items()}
    if max(diff.values()) > TOL:
        why = dit_is_wrong(name, p, r, ref)
        assert why, f"{name} on {label}: pidlab {r.to_dict()} vs dit {ref}"
        DIT_WRONG.append((name, label, why))


DIT_WRONG: list[tuple[str, str, str]] = []


# dit's PID_GK enumerates partitions: on the 8x8x16 gate it needs about 14 GB of memory and minutes
# (measured), so for I_GK that gate is checked against the independent reference below instead.
DIT_TOO_BIG = {("gk", "rdnunqxor")}


def gk_reference(p: np.ndarray) -> float:
    """I(W; Y) in bits, W the Gacs-Korner common variable of X1 and X2: the connected component of
    (x1, x2) in the bipartite graph of supp p(x1, x2) (networkx), by plain loops."""
    import networkx as nx

    n1, n2, ny = p.shape
    g = nx.Graph()
    g.add_nodes_from([("a", i) for i in range(n1)] + [("b", j) for j in range(n2)])
    g.add_edges_from((("a", i), ("b", j)) for i in range(n1) for j in range(n2) if p[i, j].sum() > 0)
    comp = {}
    for c, nodes in enumerate(nx.connected_components(g)):
        for kind, i in nodes:
            if kind == "a":
                comp[i] = c
    pwy: dict[tuple[int, int], float] = {}
    for i in range(n1):
        for j in range(n2):
            for y in range(ny):
                if p[i, j, y] > 0:
                    pwy[(comp[i], y)] = pwy.get((comp[i], y), 0.0) + float(p[i, j, y])
    pw: dict[int, float] = {}
    py: dict[int, float] = {}
    for (w, y), v in pwy.items():
        pw[w] = pw.get(w, 0.0) + v
        py[y] = py.get(y, 0.0) + v
    return sum(v * math.log2(v / (pw[w] * py[y])) for (w, y), v in pwy.items())


@pytest.mark.parametrize("name", NEW)
def test_gates_agree_with_dit(name):
    for g in pidlab.examples.names():
        p = pidlab.examples.get(g).p
        if (name, g) in DIT_TOO_BIG:
            assert abs(pidlab.decompose(p, name).R - gk_reference(p)) < TOL, g
            continue
        assert_agree(name, p, g)


def test_gk_reference_on_the_gates():
    """The networkx reference itself, on gates with a known GK redundancy: RDN (W = X1 = X2 = Y: 1 bit),
    RDNUNQXOR (the shared 2-valued part is 1 bit of Y: Griffith et al. 2014), XOR (connected: 0)."""
    assert abs(gk_reference(pidlab.examples.get("rdn").p) - 1.0) < 1e-12
    assert abs(gk_reference(pidlab.examples.get("xor").p)) < 1e-12
    assert abs(gk_reference(pidlab.examples.get("rdnunqxor").p) - 1.0) < 1e-12


def random_tables(n: int = 210, seed: int = 2026) -> list[np.ndarray]:
    """Sizes 2 to 4 per variable; a third with exact zeros (30% of the cells)."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(n):
        shape = tuple(int(v) for v in rng.integers(2, 5, size=3))
        p = rng.dirichlet(np.full(int(np.prod(shape)), 0.7)).reshape(shape)
        if t % 3 == 0:
            p[rng.random(shape) < 0.3] = 0
            if p.sum() == 0:
                p.flat[0] = 1
            p /= p.sum()
        out.append(p)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", NEW)
def test_random_tables_agree_with_dit(name):
    # dit's I_sx is pure Python over pairs of outcomes (about 6 s per 4x4x4 table): minutes.
    for t, p in enumerate(random_tables()):
        assert_agree(name, p, f"random table #{t} {p.shape}")
    # on these tables (at the time of writing): ccs #183, proj #137, #153, #183 are dit's misses
    assert len([w for w in DIT_WRONG if w[0] == name]) <= 5, DIT_WRONG


def test_documented_dit_misses():
    """The tables where dit is off, with the evidence (see dit_is_wrong)."""
    tabs = random_tables()
    for name, t in (("ccs", 183), ("proj", 137), ("proj", 183)):
        r = pidlab.decompose(tabs[t], name)
        ref = dit_atoms(name, tabs[t])
        assert abs(r.R - ref["R"]) > TOL  # they do differ here ...
        assert dit_is_wrong(name, tabs[t], r, ref)  # ... and the evidence says dit is the one off


def test_a_few_random_tables_agree_with_dit():
    """The fast tier's share of the random tables: three per measure, sizes 2 to 4."""
    tabs = random_tables(6, seed=7)
    for name in NEW:
        for t, p in enumerate(tabs[:3] if name != "sx" else [x for x in tabs if x.size <= 18][:2]):
            assert_agree(name, p, f"random #{t} {p.shape}")
