from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import pidlab

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PIDLAB_SHARED", ROOT.parent / "shared"))


def _load_gates() -> list[dict]:
    path = SHARED / "reference" / "gates.json"
    if not path.exists():
        pytest.fail(f"reference values not found at {path}; set PIDLAB_SHARED to the shared/ directory", pytrace=False)
    return json.loads(path.read_text())["cases"]


@pytest.fixture(scope="session")
def gates() -> list[dict]:
    """Reference values for the canonical gates (../shared/reference/gates.json)."""
    return _load_gates()


@pytest.fixture(params=pidlab.solvers(available=True), scope="session")
def solver(request: pytest.FixtureRequest) -> str:
    """Every BROJA backend installed here."""
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
