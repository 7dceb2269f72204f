"""CLI `pidlab bounds` and the digits demo (pidlab._demo)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pidlab
from pidlab.cli import main


def _write_samples(tmp: Path, n: int = 300, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)

    def draw(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x1 = rng.integers(0, 2, k)
        x2 = rng.integers(0, 2, k)
        return x1, x2, x1 & x2

    files = []
    for name, cols in (("d1.csv", ("x1", "y")), ("d2.csv", ("x2", "y")), ("dm.csv", ("x1", "x2"))):
        x1, x2, y = draw(n)
        data = {"x1": x1, "x2": x2, "y": np.where(y == 1, "yes", "no")}
        lines = [",".join(cols)] + [",".join(str(data[c][i]) for c in cols) for i in range(n)]
        (tmp / name).write_text("\n".join(lines) + "\n")
        files.append(str(tmp / name))
    return files


def test_cli_tables_json_matches_python(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = pidlab.examples.get("and").p
    paths = []
    for name, t in (("a.npy", p.sum(1)), ("b.json", p.sum(0)), ("c.npy", p.sum(2))):
        f = tmp_path / name
        if name.endswith(".npy"):
            np.save(f, t)
        else:
            f.write_text(json.dumps(t.tolist()))
        paths.append(str(f))
    assert main(["bounds", "--tables", *paths, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["S_lower_redundancy"] == pytest.approx(0.5, abs=1e-7)
    assert out["S_upper"] == pytest.approx(0.5, abs=1e-7)
    assert out["R"] == pytest.approx(0.311278, abs=1e-6)


def test_cli_inconsistent_tables_error_then_repair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    eq = np.eye(2) / 2
    for name, t in (("a.npy", eq), ("b.npy", eq), ("c.npy", eq[::-1])):
        np.save(tmp_path / name, t)
    args = ["bounds", "--tables", *(str(tmp_path / n) for n in ("a.npy", "b.npy", "c.npy"))]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("pidlab: error:") and "no joint distribution" in err and "Traceback" not in err
    assert main([*args, "--repair", "tv"]) == 0
    assert "repaired" in capsys.readouterr().out


def test_cli_samples_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _write_samples(tmp_path)
    assert main(["bounds", "--samples", *files]) == 0
    out = capsys.readouterr().out
    assert "Collect labelled multimodal data?" in out and "reconciled by 'ml'" in out
    assert main(["bounds", "--samples", *files, "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["classes"] == ["no", "yes"] and d["repair"]["method"] == "kl"
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,label\n0,1\n")
    assert main(["bounds", "--samples", str(bad), files[1], files[2]]) == 2
    assert "columns x1,y" in capsys.readouterr().err
    assert main(["bounds", "--tables", str(tmp_path / "missing.npy"), files[1], files[2]]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_subprocess_smoke() -> None:
    r = subprocess.run([sys.executable, "-m", "pidlab.cli", "bounds", "--example", "xor", "--variant", "paper"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "S upper (eq. 50, meet)         = +1.000000" in r.stdout and "paper variants" in r.stdout


def test_digits_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    from pidlab import _demo

    out_png = tmp_path / "fig.png"
    assert _demo.main(["--out", str(out_png), "--bootstrap", "4"]) == 0
    text = capsys.readouterr().out
    assert out_png.exists() and out_png.stat().st_size > 10_000
    assert "Oracle from the full labelled data" in text and "Bayes accuracy" in text
    assert "the point interval" in text and "the bootstrap band" in text and "4 replicates" in text
    res = _demo.run()
    ob, o = res["oracle_bounds"], res["oracle"]
    # the theorems hold exactly on the full data's tables
    assert ob.S_lower - 1e-7 <= o.S <= ob.S_upper + 1e-7
    assert ob.accuracy_lower - 1e-9 <= res["oracle_accuracy"] <= ob.accuracy_upper + 1e-9
    assert ob.R == pytest.approx(o.R, abs=1e-6)
    assert res["parts"] == [599, 599, 599]


def test_cli_mec_bound_and_bootstrap_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # tables: the two MEC lower bounds give the numbers synergy_bounds gives in Python
    for choice in ("best", "meet"):
        assert main(["bounds", "--example", "and", "--mec-bound", choice, "--format", "json"]) == 0
        out = json.loads(capsys.readouterr().out)
        ref = pidlab.synergy_bounds(pidlab.Marginals.from_joint(pidlab.examples.get("and")), mec_bound=choice)
        assert out["S_upper"] == pytest.approx(ref.to_dict()["S_upper"], abs=1e-12)
    # samples: the bootstrap band is computed with the requested number of replicates and reported
    files = _write_samples(tmp_path)
    assert main(["bounds", "--samples", *files, "--bootstrap", "20", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    band = d["bootstrap"]["S_band"]
    assert band[0] <= band[1] and d["bootstrap"]["n_bootstrap"] == 20
