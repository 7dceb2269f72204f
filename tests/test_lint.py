"""The code stays clean: ruff (lint + import order) and mypy, as configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_ruff() -> None:
    pytest.importorskip("ruff")
    r = _run("ruff", "check", "--output-format", "concise", ".")
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]


def test_mypy() -> None:
    pytest.importorskip("mypy")
    r = _run("mypy", "--no-error-summary", "--cache-dir", str(ROOT / ".mypy_cache"))
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
