"""Extreme tables through the default BROJA path: certified to 1e-9 bits, or flagged (issue 13).

The 2,000 tables of :func:`extreme_tables` are half Dirichlet(0.01) draws (most entries between
1e-300 and 1e-10, some exactly 0 by underflow) and half tables of log-uniform entries spanning
1e-300..1 (each table its own span 10^-e..1, e uniform in [1, 300]), with 2 to 5 symbols per
variable; table k is drawn from ``default_rng([2026, k])``, so any one can be rebuilt alone.

Measured on this set through ``pidlab.decompose(p)``: before the fixes of issue 13 about a fifth
ended ``optimal_inaccurate`` (21 of the first 100; the native solver alone left 22% uncertified
with gaps up to 0.33 bits, the hand-over narrowed them to at most 5e-5 bits); after them 1,999 of
2,000 are certified by the native solver alone.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import pidlab
from pidlab._broja import BrojaProblem, certify
from pidlab._solvers._native import Batch, NativeSolver
from pidlab._solvers._native._kernels import initial_point, lse_softmax
from pidlab._status import Status
from pidlab.exceptions import InaccurateSolutionWarning

GAP = 1e-9
SEED = 2026


def extreme_table(k: int) -> tuple[str, np.ndarray]:
    """Table k of the set: (family, joint p[x1, x2, y])."""
    rng = np.random.default_rng([SEED, k])
    shape = tuple(int(v) for v in rng.integers(2, 6, size=3))
    size = int(np.prod(shape))
    if k % 2 == 0:
        family, p = "dirichlet", rng.dirichlet(np.full(size, 0.01))
    else:
        span = rng.uniform(1.0, 300.0)
        family, p = "logspan", 10.0 ** (-rng.uniform(0.0, span, size=size))
    p = p.reshape(shape)
    return family, p / p.sum()


def extreme_tables(n: int = 2000) -> list[tuple[str, int, np.ndarray]]:
    """The first n tables as (family, k, p)."""
    return [(fam, k, p) for k in range(n) for fam, p in [extreme_table(k)]]


def _mi(pxy: np.ndarray) -> float:
    """I(X;Y) in bits of a 2-d table, computed directly (independent of pidlab)."""
    px = pxy.sum(1, keepdims=True)
    py = pxy.sum(0, keepdims=True)
    nz = pxy > 0
    return float(np.sum(pxy[nz] * np.log2(pxy[nz] / (px @ py)[nz])))


def _bounds(p: np.ndarray) -> tuple[float, float]:
    """Independent bounds on m* = min I_q(X1,X2;Y): max(I(X1;Y), I(X2;Y)) <= m* <= min(I_p, I_ci)."""
    py = p.sum((0, 1))
    a, b = p.sum(1), p.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ci = np.where(py > 0, a[:, None, :] * (b / np.where(py > 0, py, 1.0))[None, :, :], 0.0)
    up = min(_mi(p.reshape(-1, p.shape[2])), _mi(ci.reshape(-1, p.shape[2])))
    return max(_mi(a), _mi(b)), up


# Tables the default path left uncertified before issue 13 (native gaps 0.09, 0.16, 0.2, 5e-3
# bits; 32, 64 and 160 jammed from a start off the marginals, 388 and 843 need the coarser
# negligible-mass thresholds, 1472 the 1e-12 one).
HARD = [32, 64, 160, 27, 31, 388, 843, 1472]


def test_the_generator_is_reproducible_and_extreme() -> None:
    fam, p = extreme_table(64)
    fam2, p2 = extreme_table(64)
    assert fam == fam2 == "dirichlet" and np.array_equal(p, p2)
    tabs = extreme_tables(40)
    assert {f for f, _, _ in tabs} == {"dirichlet", "logspan"}
    for _, _, t in tabs:
        assert t.ndim == 3 and all(2 <= n <= 5 for n in t.shape)
        assert abs(t.sum() - 1.0) < 1e-12 and (t >= 0).all()
    smallest = min(float(t[t > 0].min()) for _, _, t in tabs)
    assert smallest < 1e-200


@pytest.mark.parametrize("k", HARD)
def test_hard_tables_are_certified_through_the_default_path(k: int) -> None:
    _, p = extreme_table(k)
    r = pidlab.decompose(p)
    c = r.certificate
    assert r.status == Status.OPTIMAL and c.gap <= GAP, (k, c.gap, r.status)
    lo, up = _bounds(p)
    assert lo - 1e-12 <= c.m_lower <= c.m_upper <= up + 1e-12
    # the identities against independent mutual informations, and BROJA's atoms are nonnegative
    I1, I2, I12 = _mi(p.sum(1)), _mi(p.sum(0)), _mi(p.reshape(-1, p.shape[2]))
    assert r.R + r.U1 == pytest.approx(I1, abs=1e-9) and r.R + r.U2 == pytest.approx(I2, abs=1e-9)
    assert r.R + r.U1 + r.U2 + r.S == pytest.approx(I12, abs=1e-9)
    assert min(r.R, r.U1, r.U2, r.S) >= -GAP


@pytest.mark.skipif("clarabel" not in pidlab.solvers(available=True), reason="needs clarabel")
@pytest.mark.parametrize("k", [32, 388])
def test_the_bracket_lies_inside_clarabels(k: int) -> None:
    # Two proofs from different solvers: the native 1e-9 bracket must sit inside Clarabel's wider one.
    _, p = extreme_table(k)
    r = pidlab.decompose(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InaccurateSolutionWarning)
        c = pidlab.decompose(p, solver="clarabel").certificate
    assert c.m_lower - 1e-12 <= r.certificate.m_lower <= r.certificate.m_upper <= c.m_upper + 1e-12


def test_the_interior_point_starts_at_the_conditionally_independent_point() -> None:
    # q0 = w c must be p(x1,y) p(x2,y) / p(y) (feasible); a sign slip in log p(y) made it
    # p(x1,y) p(x2,y) p(y) / Z, off the marginals by orders of magnitude where p(y) is small.
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(4 * 3 * 3)).reshape(4, 3, 3)
    p[:, :, 2] *= 1e-8
    p /= p.sum()
    a, b = p.sum(1), p.sum(0)
    d = Batch.build(a[None], b[None])
    lam, mu, w, s = initial_point(d)
    lse, c = lse_softmax(lam, mu, d.A)
    q0 = (w[..., None] * c)[0]
    ci = a[:, None, :] * b[None, :, :] / p.sum((0, 1))[None, None, :]
    np.testing.assert_allclose(q0, ci, rtol=1e-9, atol=0)
    assert np.all(s[0] >= 1.0 - 1e-12) and np.allclose(lse + s, 0.0)  # dual feasible with slack >= 1


def test_coarser_negligible_thresholds_are_tried_and_certified_on_the_original() -> None:
    # Table 843 (entries spanning 1e-250..1): dropping below 1e-20 of the largest entry does not
    # certify it; dropping below 1e-14 does, and the certificate is the host's, on p itself.
    _, p = extreme_table(843)
    pr = BrojaProblem(p.sum(1), p.sum(0))
    res = NativeSolver().solve(pr)
    cert, _ = certify(pr, res, joint=p)
    assert res.status == Status.OPTIMAL and cert.gap <= GAP
    assert res.info["negligible_entries_dropped"] > 0
    dropped_below = 1e-14 * max(p.sum(1).max(), p.sum(0).max())
    assert res.info["negligible_entries_dropped"] <= int(((p.sum(1) > 0) & (p.sum(1) < dropped_below)).sum()
                                                        + ((p.sum(0) > 0) & (p.sum(0) < dropped_below)).sum())


@pytest.mark.slow
def test_at_least_995_permille_of_2000_extreme_tables_are_certified() -> None:
    # The whole set through pidlab.decompose (the default path, hand-over included). About
    # 2 minutes on a quiet machine; measured 1,999 of 2,000 certified (table 1206 is flagged
    # optimal_inaccurate at 1.8e-8 bits after the hand-over).
    certified = {"dirichlet": 0, "logspan": 0}
    total = {"dirichlet": 0, "logspan": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InaccurateSolutionWarning)
        for k in range(2000):
            fam, p = extreme_table(k)
            r = pidlab.decompose(p)
            c = r.certificate
            total[fam] += 1
            assert math.isfinite(c.gap) and c.m_lower <= c.m_upper
            if c.gap <= GAP:
                certified[fam] += 1
                assert r.status == Status.OPTIMAL
            else:
                assert r.status != Status.OPTIMAL  # flagged, never passed off as certified
    assert sum(certified.values()) >= 0.995 * 2000, certified
    assert all(certified[f] >= 0.99 * total[f] for f in total), certified
