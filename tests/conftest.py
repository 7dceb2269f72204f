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
