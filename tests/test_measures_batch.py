"""The measures of issue 15: closed forms by hand, the batch path (``compute_many`` and
``decompose_many(measure=...)``) against the single path, and the host's checks of batch output."""

from __future__ import annotations

import math
import types

import numpy as np
import pytest

import pidlab
from pidlab.exceptions import InvalidDistributionError, PluginOutputError, UnknownNameError

NEW = ("ccs", "dep", "pm", "sx", "gk", "proj")
BATCHED = ("imin", "wms", "ci", *NEW)


def stack(shape, n, seed=0, zeros=False):
    rng = np.random.default_rng(seed)
    ps = rng.dirichlet(np.full(int(np.prod(shape)), 0.7), size=n).reshape(n, *shape)
    if zeros:
        ps[rng.random(ps.shape) < 0.25] = 0
        ps[ps.reshape(n, -1).sum(1) == 0, 0, 0, 0] = 1
        ps /= ps.reshape(n, -1).sum(1)[:, None, None, None]
    return ps


# ------------------------------------------------------------------ closed forms by hand
def test_sx_xor_is_log2_two_thirds():
    # Every outcome: P(y, x1 or x2) = 1/4, P(y) = 1/2, P(x1 or x2) = 3/4 -> log2((1/4) / (3/8)).
    r = pidlab.decompose(pidlab.examples.get("xor"), "sx")
    assert r.R == pytest.approx(math.log2(2 / 3), abs=1e-12)
    assert r.S == pytest.approx(1 + math.log2(2 / 3), abs=1e-12)  # S = I12 - I1 - I2 + R


def test_pm_and_gate_by_hand():
    # AND: outcomes 000, 010, 100 (y=0) and 111, each 1/4. min h(x_i): h(0) = log2(2) for both
    # sources' zero, 1 bit everywhere. min h(x_i | y): y=0: p(x=0|y=0) = 2/3 -> log2(3/2);
    # on 100 and 010 one source is 0 -> same; 111: p(x=1|y=1) = 1 -> 0.
    want = 0.75 * (1 - math.log2(1.5)) + 0.25 * (1 - 0)
    assert pidlab.decompose(pidlab.examples.get("and"), "pm").R == pytest.approx(want, abs=1e-12)


def test_gk_is_information_in_the_common_part():
    # X1 = (A, B), X2 = (A, C) with A, B, C uniform bits and Y = A xor B: the common part is A,
    # I(A; Y) = 0. With Y = A the common part carries 1 bit.
    p = np.zeros((4, 4, 2))
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                p[2 * a + b, 2 * a + c, a ^ b] += 1 / 8
    assert pidlab.decompose(p, "gk").R == pytest.approx(0.0, abs=1e-12)
    q = np.zeros((4, 4, 2))
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                q[2 * a + b, 2 * a + c, a] += 1 / 8
    assert pidlab.decompose(q, "gk").R == pytest.approx(1.0, abs=1e-12)


def test_dep_on_and_is_closed_form():
    # On AND the pairwise max-ent joint is AND itself (I_pw = I(X1,X2;Y)), and
    # R = max(0, I1 + I2 - I_ci, I1 + I2 - I12) with I_ci of p(y) p(x1|y) p(x2|y).
    d = pidlab.examples.get("and")
    I1, I12 = d.mutual_information(0, 2), d.mutual_information((0, 1), 2)
    p = d.p
    py = p.sum((0, 1))
    qci = p.sum(1)[:, None, :] * p.sum(0)[None, :, :] / py
    Ici = pidlab.Distribution(qci).mutual_information((0, 1), 2)
    want = max(0.0, 2 * I1 - Ici, 2 * I1 - I12)
    assert pidlab.decompose(d, "dep").R == pytest.approx(want, abs=1e-12)


def test_maxent_of_and_has_its_induced_zero():
    # IPF alone converges sublinearly here (q(1,1,0) -> 0 like 1/k); the exact fit is AND itself.
    from pidlab._measures._stack import maxent_pairwise

    p = pidlab.examples.get("and").p
    q, err = maxent_pairwise(p[None])
    assert np.abs(q[0] - p).max() < 1e-12 and err[0] <= 1e-13


def test_maxent_general_shape_matches_long_ipf():
    from pidlab._measures._stack import _ipf, maxent_pairwise

    ps = stack((3, 2, 4), 20, seed=3)
    q, err = maxent_pairwise(ps)
    qi, ei = _ipf(ps, np.full(ps.shape, 1 / 24), np.arange(20), 1e-15, 20000)
    assert np.abs(q - qi).max() < 1e-11 and err.max() <= 1e-13


def test_maxent_with_forced_zeros_in_a_general_shape():
    # 2x2x3 with zeros that only the combination of marginals forces: the LP finds the support.
    from pidlab._measures._stack import feasible_support, maxent_pairwise

    p = np.zeros((2, 2, 3))
    p[0, 0, 0] = p[0, 1, 1] = p[1, 0, 1] = p[1, 1, 2] = 0.25  # y determined by (x1, x2)
    q, err = maxent_pairwise(p[None])
    assert feasible_support(p).sum() >= 4
    assert np.abs(q[0].sum(2) - p.sum(2)).max() < 1e-12 and err[0] <= 1e-13


# ------------------------------------------------------------------ batch == single
@pytest.mark.parametrize("name", BATCHED)
@pytest.mark.parametrize("shape,zeros", [((2, 2, 2), False), ((2, 2, 2), True), ((3, 4, 2), False),
                                         ((3, 2, 3), True)])
def test_decompose_many_matches_decompose(name, shape, zeros):
    ps = stack(shape, 12, seed=hash((name, shape)) % 1000, zeros=zeros)
    res = pidlab.decompose_many(ps, measure=name)
    assert res.measure == name and len(res) == 12
    for i, p in enumerate(ps):
        r = pidlab.decompose(p, name)
        if r.is_net:
            assert res.net[i] == pytest.approx(r.net, abs=1e-9)
            assert np.isnan(res.R[i])
        else:
            for k in ("R", "U1", "U2", "S"):
                assert getattr(res, k)[i] == pytest.approx(getattr(r, k), abs=1e-9), (k, i)


def test_decompose_many_accepts_aliases_and_renders():
    ps = stack((2, 2, 2), 5)
    res = pidlab.decompose_many(ps, measure="Williams-Beer")
    assert res.measure == "imin"
    assert "imin batch" in res.table() and "imin batch" in res._repr_html_()
    assert res.to_dict()["measure"] == "imin"
    net = pidlab.decompose_many(ps, measure="wms")
    assert "net" in net.table() and net.to_dict()["net_kind"] == "net synergy"


def test_decompose_many_unknown_measure():
    with pytest.raises(UnknownNameError):
        pidlab.decompose_many(stack((2, 2, 2), 2), measure="nope")


def test_decompose_many_validates_before_the_measure():
    bad = stack((2, 2, 2), 3)
    bad[1, 0, 0, 0] = np.nan
    with pytest.raises(InvalidDistributionError, match="item 1"):
        pidlab.decompose_many(bad, measure="sx")


def test_broja_default_path_unchanged():
    ps = np.stack([pidlab.examples.get("and").p, pidlab.examples.get("xor").p])
    res = pidlab.decompose_many(ps)
    assert res.measure == "broja" and np.round(res.R, 6).tolist() == [0.311278, 0.0]


# ------------------------------------------------------------------ the contract's default and host checks
class _Loop(pidlab.Measure):
    name = "loopmmi"

    def compute(self, dist, *, solver=None):
        R = min(dist.mutual_information(0, 2), dist.mutual_information(1, 2))
        return pidlab.PIDResult.from_redundancy(dist, self.name, R)


class _NaNBatch(_Loop):
    name = "nanbatch"

    def compute_many(self, ps, *, solver=None):
        out = super().compute_many(ps)
        out["R"][1] = np.nan
        return out


class _BrokenBatch(_Loop):
    name = "brokenbatch"

    def compute_many(self, ps, *, solver=None):
        out = super().compute_many(ps)
        out["S"] = out["S"] + 0.1
        return out


def test_default_compute_many_loops_over_compute():
    ps = stack((2, 3, 2), 4)
    out = _Loop().compute_many(ps)
    for i, p in enumerate(ps):
        d = pidlab.Distribution(p)
        assert out["R"][i] == pytest.approx(min(d.mutual_information(0, 2), d.mutual_information(1, 2)), abs=1e-12)


def _plugin(*classes):
    ns = types.SimpleNamespace()
    ns.pidlab_register_measures = pidlab.hookimpl(lambda: list(classes))
    return ns


def test_batch_output_is_checked_like_a_single_result():
    ps = stack((2, 2, 2), 4)
    try:
        pidlab.register_plugin(_plugin(_Loop, _NaNBatch, _BrokenBatch), name="batch-test-plugin")
        res = pidlab.decompose_many(ps, measure="loopmmi")  # the contract's default loop
        assert res.measure == "loopmmi" and np.all(np.isfinite(res.R))
        with pytest.raises(PluginOutputError, match="non-finite R for item 1"):
            pidlab.decompose_many(ps, measure="nanbatch")
        with pytest.raises(PluginOutputError, match="break the PID identities on item 0"):
            pidlab.decompose_many(ps, measure="brokenbatch")
    finally:
        pidlab.reload_plugins()


@pytest.mark.parametrize("name", ["ccs", "dep"])
def test_maxent_measures_on_a_single_cell_table(name):
    # A 1x1x1 joint has no pairwise moments to fit (an empty Newton system used to crash the max
    # over zero moments); every information is 0, so every atom is 0.
    r = pidlab.decompose(np.ones((1, 1, 1)), name)
    assert (r.R, r.U1, r.U2, r.S) == (0.0, 0.0, 0.0, 0.0)
    b = pidlab.decompose_many(np.ones((3, 1, 1, 1)), measure=name)
    assert np.array_equal(b.R, np.zeros(3)) and np.array_equal(b.S, np.zeros(3))


def test_shared_marginals_leave_no_array_read_only_or_stale():
    # decompose_many shares one stack's marginals and informations between the measure and the host
    # checks (read-only while shared); afterwards the caller's stack and the results are writable,
    # and a changed stack gets fresh values (here checked against the single path).
    ps = stack((2, 2, 3), 6, seed=3)
    r = pidlab.decompose_many(ps, measure="imin")
    assert ps.flags.writeable and r.R.flags.writeable and r.I_x1y.flags.writeable
    ps[:] = ps[::-1]
    r2 = pidlab.decompose_many(ps, measure="imin")
    want = [pidlab.decompose(p, "imin").R for p in ps]
    assert np.allclose(r2.R, want, atol=1e-12, rtol=0)
