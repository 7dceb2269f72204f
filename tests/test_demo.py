"""The README's main job (``make demo``): its advice must be true of its own oracle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

from pidlab import _demo  # noqa: E402


def test_demo_as_run_by_make_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Default settings (what ``make demo`` runs): exit 0 only when every statement of the advice holds."""
    out_png = tmp_path / "fig.png"
    assert _demo.main(["--out", str(out_png)]) == 0
    text = capsys.readouterr().out
    assert out_png.exists() and out_png.stat().st_size > 10_000
    # the advice rests on the bootstrap band and says so; each statement is checked against the oracle
    assert "Advice, resting on the conservative ends of the 90% bootstrap intervals" in text
    assert "FALSE" not in text and text.count("    true ") >= 2
    # a negative lower bound is shown as what it is; no line of the report is printed twice
    assert "no information (the bound is -" in text
    report_lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(report_lines) == len(set(report_lines))
    # each term is explained once
    for term in ("total variation (TV:", "'ml' (maximum likelihood", "Theorem 1", "eq. 50", "redundancy:", "synergy:"):
        assert text.count(term) == 1, term


def test_demo_oracle_and_checks_are_independent_of_the_estimate() -> None:
    out = _demo.run(n_bootstrap=20, seed=1)
    ob, o = out["oracle_bounds"], out["oracle"]
    # the theorems hold exactly on the full data's tables
    assert ob.S_lower - 1e-7 <= o.S <= ob.S_upper + 1e-7
    assert ob.accuracy_lower - 1e-9 <= out["oracle_accuracy"] <= ob.accuracy_upper + 1e-9
    assert ob.R == pytest.approx(o.R, abs=1e-6)
    assert out["parts"] == [599, 599, 599]
    # oracle unimodal accuracies: recount from the discretised full data, by hand
    from sklearn.datasets import load_digits

    digits = load_digits()
    left = digits.images[:, :, :4].reshape(len(digits.target), -1)
    d1, _ = out["estimate"].fitted_discretizers
    codes = np.asarray(d1.transform(left))
    counts = np.zeros((codes.max() + 1, 10))
    np.add.at(counts, (codes, digits.target), 1)
    assert out["oracle_unimodal_accuracy"][0] == pytest.approx(counts.max(axis=1).sum() / len(codes), abs=1e-12)
    # the checks state the advice's numbers and compare them with the oracle
    g = out["estimate"].guidelines()
    checks = _demo.advice_checks(out)
    assert checks and all(isinstance(ok, bool) for _, ok in checks)
    s_lo = g["synergy_model"]["synergy_interval"][0]
    for text, ok in checks:
        if text.startswith("synergy is at least"):
            assert ok == (o.S >= s_lo - 1e-9)
