"""The exact binary method of decompose_many (|X1| = |X2| = 2): against the general path, a brute
force over the two free parameters, and on degenerate tables."""

from __future__ import annotations

import numpy as np
import pytest

import pidlab
from pidlab._broja import BrojaStack
from pidlab._solvers import _batch
from pidlab._solvers._native import _binary
from pidlab._solvers._native._binary import solve_binary
from pidlab._status import Status

LN2 = np.log(2.0)


def _degenerate_stack(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random 2x2xny tables with exact zeros, 1e-300 entries beside O(1) ones, deterministic
    targets and single-symbol rows."""
    out = []
    for k in range(n):
        ny = 2
        p = rng.dirichlet(0.3 * np.ones(4 * ny)).reshape(2, 2, ny)
        kind = k % 6
        if kind == 0:  # zeros
            p[rng.random(p.shape) < 0.4] = 0.0
        elif kind == 1:  # tiny beside large
            p[rng.random(p.shape) < 0.3] = 1e-300
        elif kind == 2:  # deterministic target
            p[..., 1] = 0.0
        elif kind == 3:  # a zero source row
            p[1] = 0.0
        elif kind == 4:  # Y = X1 XOR X2 mixed with noise
            xor = np.zeros((2, 2, 2))
            for a in range(2):
                for b in range(2):
                    xor[a, b, a ^ b] = 0.25
            p = 0.9 * xor + 0.1 * p
        else:  # tiny and zero together
            p[rng.random(p.shape) < 0.25] = 0.0
            p[rng.random(p.shape) < 0.25] = 1e-300
        if p.sum() == 0:
            p[0, 0, 0] = 1.0
        out.append(p / p.sum())
    return np.stack(out)


def _general(ps: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> pidlab.BatchResult:
    with monkeypatch.context() as m:
        m.setattr(_batch, "BINARY_METHOD", False)
        return pidlab.decompose_many(ps)


def test_binary_agrees_with_general_path_on_random_and_degenerate_tables(monkeypatch):
    rng = np.random.default_rng(14)
    ps = np.concatenate([
        rng.dirichlet(np.ones(8), size=800).reshape(-1, 2, 2, 2),
        rng.dirichlet(0.1 * np.ones(8), size=600).reshape(-1, 2, 2, 2),
        _degenerate_stack(rng, 600),
    ])
    fast = pidlab.decompose_many(ps)
    slow = _general(ps, monkeypatch)
    for res in (fast, slow):
        assert res.all_optimal
        assert np.all(res.gap <= 1e-9) and np.all(res.gap >= 0)
        for atom in ("R", "U1", "U2", "S"):
            assert np.all(np.isfinite(getattr(res, atom)))
    # the two certified brackets on m* overlap item by item
    assert np.all(fast.m_lower <= slow.m + 1e-12)
    assert np.all(slow.m_lower <= fast.m + 1e-12)
    assert np.max(np.abs(fast.m - slow.m)) <= 2e-9


def test_random_binary_stack_needs_no_interior_point_iteration(monkeypatch):
    """Without the binary method every item of this stack goes through the batched interior point
    iteration; with it, none does (and all are certified)."""
    import pidlab._solvers._native as native

    def refuse(*args, **kwargs):
        raise AssertionError("the general interior-point path ran")

    monkeypatch.setattr(native, "ip_iterate", refuse)
    ps = np.random.default_rng(3).dirichlet(np.ones(8), size=3000).reshape(-1, 2, 2, 2)
    res = pidlab.decompose_many(ps)
    assert res.all_optimal and np.all(res.gap <= 1e-9)
    assert res.iterations.max() <= _binary.MAX_STEPS


def _objective_grid(p: np.ndarray, n: int = 301) -> float:
    """min I_q(X1,X2;Y) (bits) over a grid of the two free entries t_y = q(0,0,y), then refined
    by a local grid around the best point: an independent brute force."""
    a = p.sum(axis=1)
    b = p.sum(axis=0)
    lo = np.maximum(0.0, a[0] - b[1])
    hi = np.minimum(a[0], b[0])

    def value(t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        vals = 0.0
        s = [0.0, 0.0, 0.0, 0.0]
        py = a.sum(axis=0)
        hy = -sum(x * np.log2(x) for x in py if x > 0)
        h_cond = 0.0
        cells_all = []
        for y, t in ((0, t0), (1, t1)):
            cells = [t, a[0, y] - t, b[0, y] - t, b[1, y] - a[0, y] + t]
            cells = [np.maximum(c, 0.0) for c in cells]
            cells_all.append(cells)
            for r in range(4):
                s[r] = s[r] + cells[r]
        for cells in cells_all:
            for r in range(4):
                with np.errstate(divide="ignore", invalid="ignore"):
                    h_cond = h_cond - np.where(cells[r] > 0, cells[r] * np.log2(cells[r] / s[r]), 0.0)
        vals = hy - h_cond
        return np.asarray(vals)

    g0 = np.linspace(lo[0], hi[0], n)
    g1 = np.linspace(lo[1], hi[1], n)
    T0, T1 = np.meshgrid(g0, g1, indexing="ij")
    v = value(T0, T1)
    best = float(v.min())
    i, j = np.unravel_index(np.argmin(v), v.shape)
    w0, w1 = (hi[0] - lo[0]) / (n - 1), (hi[1] - lo[1]) / (n - 1)
    for _ in range(6):  # zoom in
        g0 = np.clip(np.linspace(g0[i] - w0, g0[i] + w0, 201), lo[0], hi[0])
        g1 = np.clip(np.linspace(g1[j] - w1, g1[j] + w1, 201), lo[1], hi[1])
        T0, T1 = np.meshgrid(g0, g1, indexing="ij")
        v = value(T0, T1)
        best = min(best, float(v.min()))
        i, j = np.unravel_index(np.argmin(v), v.shape)
        w0, w1 = w0 / 50, w1 / 50
    return best


def test_binary_method_against_brute_force():
    rng = np.random.default_rng(5)
    ps = np.concatenate([rng.dirichlet(np.ones(8), size=8), rng.dirichlet(0.2 * np.ones(8), size=6)]).reshape(
        -1, 2, 2, 2)
    res = pidlab.decompose_many(ps)
    assert res.all_optimal
    for i in range(len(ps)):
        brute = _objective_grid(ps[i])
        # the certified lower bound is below every feasible value, the optimum at or below the grid's
        assert res.m_lower[i] <= brute + 1e-12, i
        assert res.m[i] <= brute + res.gap[i] + 1e-12, i
        assert brute - res.m[i] <= 1e-6, i


def test_solve_binary_point_is_feasible_and_stationary():
    rng = np.random.default_rng(8)
    ps = rng.dirichlet(np.ones(8), size=500).reshape(-1, 2, 2, 2)
    st = BrojaStack.from_joints(ps)
    q, lam, mu, steps = solve_binary(st.p_x1y, st.p_x2y)
    assert np.all(q >= 0)
    assert st.residual(q).max() <= 1e-15
    # interior optima: every slice has the log odds ratio of the (x1, x2) marginal
    s = q.sum(axis=-1)
    lor_s = np.log(s[:, 0, 0] * s[:, 1, 1] / (s[:, 0, 1] * s[:, 1, 0]))
    lor_y = np.log(q[:, 0, 0] * q[:, 1, 1] / (q[:, 0, 1] * q[:, 1, 0]))
    inner = np.all(np.abs(lor_y) < 20, axis=1)
    assert inner.mean() > 0.5
    assert np.max(np.abs(lor_y[inner] - lor_s[inner, None])) < 1e-8
    # the dual point reproduces q(y | x1, x2) on the support
    cond = np.exp(-(lam[:, :, None, :] + mu[:, None, :, :]))
    qc = q / s[..., None]
    assert np.max(np.abs(cond[inner] - qc[inner])) < 1e-8


def test_status_is_honest_when_the_binary_method_does_not_certify(monkeypatch):
    """A binary method that returned a poor point must not make an item optimal: the host's
    certificate decides, and the general path takes over."""
    def poor(a, b):
        q, lam, mu, steps = solve_binary(a, b)
        st = BrojaStack(a, b)
        return st.conditionally_independent(), np.zeros_like(lam), np.zeros_like(mu), steps

    monkeypatch.setattr(_binary, "solve_binary", poor)
    ps = np.random.default_rng(9).dirichlet(np.ones(8), size=50).reshape(-1, 2, 2, 2)
    res = pidlab.decompose_many(ps)
    ref = pidlab.decompose_many(ps, max_iter=100)
    assert res.all_optimal and np.all(res.gap <= 1e-9)
    assert np.max(np.abs(res.m - ref.m)) <= 2e-9
    assert all(s == Status.OPTIMAL for s in res.status)
