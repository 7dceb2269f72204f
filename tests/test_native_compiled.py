"""The compiled (numba) iteration of the native solver for one small problem: the same method as
the numpy iteration, certified by the host, and handed back to numpy whenever it cannot finish."""

from __future__ import annotations

import numpy as np
import pytest

import pidlab._solvers._native as native
from pidlab._broja import BrojaProblem, certify
from pidlab._solvers._native import NativeSolver, compiled_available
from pidlab._solvers._native import _compiled as compiled_mod
from pidlab._status import Status

pytestmark = pytest.mark.skipif(not compiled_mod.AVAILABLE, reason="numba is not importable here")

#: dense-path shapes, and classification shapes of the direct path (block Cholesky; 30x40x2 is
#: solved with its sources swapped)
SHAPES = [(2, 2, 2), (3, 3, 3), (4, 4, 4), (2, 3, 4), (5, 3, 2), (8, 8, 8), (20, 20, 2), (6, 4, 7), (2, 2, 30),
          (12, 7, 5), (50, 50, 2), (30, 40, 2)]


def _tables(seed: int, n: int):
    """Random Dirichlet tables of the dense path's shapes: full support, 30% of cells zero, a few
    entries of 1e-300 (the three kinds the numpy iteration is tested on)."""
    rng = np.random.default_rng(seed)
    for k in range(n):
        sh = SHAPES[k % len(SHAPES)]
        p = rng.dirichlet(np.full(int(np.prod(sh)), (0.1, 0.5, 1.0, 3.0)[k % 4])).reshape(sh)
        if k % 3 == 1:
            p[p < np.quantile(p, 0.3)] = 0.0
        elif k % 3 == 2:
            p.flat[rng.integers(p.size, size=3)] = 1e-300
        yield p / p.sum()


def _solve(p: np.ndarray, monkeypatch: pytest.MonkeyPatch, *, use_compiled: bool, **opts):
    pr = BrojaProblem(p.sum(axis=1), p.sum(axis=0))
    monkeypatch.setattr(native, "_COMPILED", None if use_compiled else False)
    res = NativeSolver().solve(pr, **opts)
    cert, _ = certify(pr, res, joint=p)
    return res, cert


def test_compiled_iteration_is_the_numpy_iteration(monkeypatch):
    """On 60 tables the compiled path certifies (almost always by itself) the same optimum as the
    numpy iteration, in the same number of Newton steps: it is the same method, not another one."""
    assert native.COMPILED_MAX_VARS >= 200 and native.COMPILED_DIRECT_MAX_NY >= 2  # the two direct shapes
    assert compiled_available()
    own = same_steps = 0
    for p in _tables(0, 60):
        r1, c1 = _solve(p, monkeypatch, use_compiled=True)
        r2, c2 = _solve(p, monkeypatch, use_compiled=False)
        assert r1.status == r2.status == Status.OPTIMAL
        assert c1.gap <= 1e-9 and c2.gap <= 1e-9
        # two certified brackets of width <= 1e-9 bits around the same m*
        assert c1.m_lower <= c2.m_upper + 1e-12 and c2.m_lower <= c1.m_upper + 1e-12
        assert "compiled" not in r2.info
        own += r1.info["compiled"] == "certified"
        same_steps += r1.iterations == r2.iterations
    assert own >= 54, own  # measured: 59 of 60 (the rest hand over to the numpy attempts)
    assert same_steps >= 54, same_steps


def test_hand_over_when_the_compiled_iteration_needs_the_line_search(monkeypatch):
    """An iterate the compiled loop cannot finish (it asks for the merit line search it does not
    implement) goes to the numpy attempts, and the answer is still certified."""
    p = next(_tables(1, 1))
    calls = []

    def needs_merit(*args):
        calls.append(1)
        return compiled_mod.NEEDS_MERIT

    monkeypatch.setattr(compiled_mod, "advance", needs_merit)
    res, cert = _solve(p, monkeypatch, use_compiled=True)
    assert calls and res.status == Status.OPTIMAL and cert.gap <= 1e-9
    assert res.info["compiled"] == "handed to the numpy iteration"


def test_a_failing_compilation_disables_the_compiled_path(monkeypatch):
    p = next(_tables(2, 1))

    def broken(*args):
        raise TypeError("no matching definition")  # what numba raises for an unsupported signature

    monkeypatch.setattr(compiled_mod, "advance", broken)
    res, cert = _solve(p, monkeypatch, use_compiled=True)
    assert res.status == Status.OPTIMAL and cert.gap <= 1e-9
    assert native._COMPILED is False  # not retried on every later solve
    res2 = NativeSolver().solve(BrojaProblem(p.sum(axis=1), p.sum(axis=0)))
    assert "compiled" not in res2.info


def test_environment_switch_turns_it_off(monkeypatch):
    p = next(_tables(3, 1))
    monkeypatch.setenv("PIDLAB_NATIVE_COMPILED", "0")
    res, cert = _solve(p, monkeypatch, use_compiled=True)
    assert res.status == Status.OPTIMAL and "compiled" not in res.info


def test_time_limit_and_iteration_cap(monkeypatch):
    """With a time limit the compiled loop runs a few steps at a time (a generous limit still
    certifies); the iteration cap holds for it as for each numpy attempt after it."""
    p = np.random.default_rng(4).dirichlet(np.ones(512)).reshape(8, 8, 8)
    res, cert = _solve(p, monkeypatch, use_compiled=True, time_limit=30.0)
    assert res.status == Status.OPTIMAL and res.info["compiled"] == "certified"
    res, cert = _solve(p, monkeypatch, use_compiled=True, max_iter=2)
    assert res.status in (Status.ITERATION_LIMIT, Status.OPTIMAL_INACCURATE)
    assert res.info["compiled"] == "handed to the numpy iteration"
    assert res.iterations <= 2 * (1 + len(native.ATTEMPTS))
    assert cert.m_lower <= cert.m_upper


def test_block_cholesky_is_the_dense_factor():
    """The compiled factor skips the block-diagonal λλ part; it must equal LAPACK's dense Cholesky
    of the same matrix, and its solve must invert it."""
    rng = np.random.default_rng(7)
    for n1, n2, ny in [(8, 8, 8), (3, 5, 2), (2, 4, 7), (20, 20, 2)]:
        K1, K = n1 * ny, (n1 + n2) * ny
        A = rng.normal(size=(K, K + 3))
        M = A @ A.T
        for i in range(n1):
            for j in range(n1):
                if i != j:
                    M[i * ny:(i + 1) * ny, j * ny:(j + 1) * ny] = 0.0
        M += K * np.eye(K)
        L = np.zeros((K, K))
        W = np.zeros((K - K1, K1))
        assert compiled_mod._block_cholesky(M, n1, ny, L, W)
        dense = np.linalg.cholesky(M)
        assert np.abs(W - dense[K1:, :K1]).max() <= 1e-12 * np.abs(dense).max()
        assert np.abs(L[K1:, K1:] - dense[K1:, K1:]).max() <= 1e-12 * np.abs(dense).max()
        for i in range(n1):
            blk = slice(i * ny, (i + 1) * ny)
            assert np.abs(np.tril(L[blk, blk]) - dense[blk, blk]).max() <= 1e-12 * np.abs(dense).max()
        b = rng.normal(size=K)
        x = b.copy()
        compiled_mod._chol_solve(L, W, n1, ny, x)
        assert np.abs(M @ x - b).max() <= 1e-10 * np.abs(b).max()
        M[0, 0] = -1.0  # not positive definite: reported, not factorised
        assert not compiled_mod._block_cholesky(M, n1, ny, L, W)
