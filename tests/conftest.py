from __future__ import annotations

import numpy as np
import pytest

import pidlab
from tests.reference_gates import GATES


@pytest.fixture(scope="session")
def gates() -> list[dict]:
    """Reference values for the canonical gates, closed forms with their sources (tests/reference_gates.py)."""
    return [dict(g) for g in GATES]


@pytest.fixture(params=pidlab.solvers(available=True), scope="session")
def solver(request: pytest.FixtureRequest) -> str:
    """Every BROJA backend installed here."""
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session", autouse=True)
def _compile_native_loop() -> None:
    """Compile (or load from numba's cache) the native solver's small-problem loop once, before
    any test: the first compilation takes seconds, which would land in whichever test happens to
    solve a small table first (some run under a per-call time limit)."""
    p = np.full((2, 2, 2), 1 / 8)
    p[0, 0, 0] += 0.05
    p[1, 1, 1] -= 0.05
    pidlab.decompose(p)
