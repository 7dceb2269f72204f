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


# ----------------------------------------------------------------------------- sample files: --columns, --no-header
def _draw_and(n: int = 200, seed: int = 1) -> dict[str, tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(seed)
    out = {}
    for key in ("d1", "d2", "dm"):
        x1, x2 = rng.integers(0, 2, n), rng.integers(0, 2, n)
        out[key] = (x1, x2, x1 & x2)
    return out


def _reference(data: dict[str, tuple[np.ndarray, ...]]) -> dict:
    """pidlab.estimate on the arrays themselves (no file involved)."""
    (a1, _, ay), (_, b2, by), (m1, m2, _) = data["d1"], data["d2"], data["dm"]
    return pidlab.estimate(a1, ay, b2, by, m1, m2, discretizer="categorical").to_dict()


def _write(tmp: Path, data: dict, header: tuple[str, str, str] | None, extra: bool = False) -> list[str]:
    files = []
    for key, pick in (("d1", (0, 2)), ("d2", (1, 2)), ("dm", (0, 1))):
        cols = data[key]
        lines = [] if header is None else [",".join(["id"] * extra + [header[i] for i in pick])]
        lines += ["", *(",".join([str(r)] * extra + [str(cols[i][r]) for i in pick]) for r in range(len(cols[0])))]
        (tmp / f"{key}.csv").write_text("\n".join(lines) + "\n")
        files.append(str(tmp / f"{key}.csv"))
    return files


@pytest.mark.parametrize(
    ("header", "extra", "argv"),
    [
        (("X1", "X2", "Y"), False, []),  # header in other case
        (("x1", "x2", "y"), True, []),  # an extra column is ignored
        (("Left", "Right", "Label"), True, ["--columns", "left,RIGHT,label"]),
        (None, False, ["--no-header"]),
    ],
)
def test_cli_samples_columns_and_header(tmp_path: Path, capsys: pytest.CaptureFixture[str], header, extra, argv) -> None:
    data = _draw_and()
    files = _write(tmp_path, data, header, extra)
    assert main(["bounds", "--samples", *files, *argv, "--format", "json"]) == 0, capsys.readouterr().err
    got = json.loads(capsys.readouterr().out)["bounds"]
    ref = _reference(data)["bounds"]
    for k in ("R", "U1", "U2", "S_lower", "S_upper", "I_x1y"):
        assert got[k] == pytest.approx(ref[k], abs=1e-9), k
    assert got["R"] > 0.05 and got["S_upper"] > 0.05  # an AND-like sample: not a trivial all-zero answer
    if "--columns" in argv:
        assert got["sources"] == ["Left", "Right"] and got["target"] == "Label"  # as written in the headers


@pytest.mark.parametrize(
    ("content", "argv", "parts"),
    [
        ("x1,label\n0,1\n", [], ["d1.csv line 1", "no column(s) ['y']", "--columns", "--no-header"]),
        ("x1,y\n", [], ["d1.csv has a header (line 1) but no samples"]),
        ("", [], ["d1.csv is empty"]),
        ("x1,y\n0,1\n1\n", [], ["d1.csv line 3", "ragged"]),
        ("x1,y\n0,1\n,1\n", [], ["d1.csv: line 3 has no value for column 'x1'"]),
        ("x1\n0\n", [], ["d1.csv line 1", "no column(s) ['y']"]),
        ("0\n", ["--no-header"], ["d1.csv line 1", "1 column(s)"]),
        ("x1,y\n0,1\n", ["--no-header", "--columns", "1,2,3"], ["read by position", "drop --columns"]),
    ],
)
def test_cli_bad_sample_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], content, argv, parts) -> None:
    files = _write(tmp_path, _draw_and(20), ("x1", "x2", "y"))
    Path(files[0]).write_text(content)
    assert main(["bounds", "--samples", *files, *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pidlab: error:") and err.count("\n") == 1 and "Traceback" not in err
    for p in parts:
        assert p in err, (p, err)


def test_cli_samples_07_and_7_are_two_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.csv").write_text("x1,y\n" + "7,a\n07,b\n" * 5)
    (tmp_path / "b.csv").write_text("x2,y\n" + "0,a\n1,b\n" * 5)
    (tmp_path / "m.csv").write_text("x1,x2\n" + "7,0\n07,1\n" * 5)
    assert main(["bounds", "--samples", *(str(tmp_path / f) for f in ("a.csv", "b.csv", "m.csv")), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)["bounds"]
    # x1 = 7 always goes with y = a and 07 with b: one bit about y, which merging them would erase
    assert d["I_x1y"] == pytest.approx(1.0, abs=1e-6)


def test_cli_tables_csv_normalize_and_file_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = pidlab.examples.get("and").p
    paths = []
    for name, t in (("a.csv", p.sum(1)), ("b.csv", p.sum(0)), ("c.csv", p.sum(2))):
        (tmp_path / name).write_text("\n".join(",".join(repr(float(v)) for v in row) for row in 2 * t) + "\n")
        paths.append(str(tmp_path / name))
    assert main(["bounds", "--tables", *paths]) == 2
    err = capsys.readouterr().err
    assert "a.csv (p(x1,y))" in err and "--normalize" in err and "normalize=True" not in err
    assert main(["bounds", "--tables", *paths, "--normalize", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["S_lower_redundancy"] == pytest.approx(0.5, abs=1e-7) and out["R"] == pytest.approx(0.311278, abs=1e-6)
    (tmp_path / "a.csv").write_text("0.5,x\n0.5,0\n")
    assert main(["bounds", "--tables", *paths]) == 2
    assert "a.csv line 1: cell 2 is 'x', not a number" in capsys.readouterr().err


def test_cli_repair_hint_names_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    eq = np.eye(2) / 2
    for name, t in (("a.npy", eq), ("b.npy", eq), ("c.npy", eq[::-1])):
        np.save(tmp_path / name, t)
    assert main(["bounds", "--tables", *(str(tmp_path / n) for n in ("a.npy", "b.npy", "c.npy"))]) == 2
    err = capsys.readouterr().err
    assert "--repair" in err and "repair=True" not in err and "repair='kl'" not in err


def test_cli_columns_only_with_samples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bounds", "--example", "and", "--columns", "a,b,c"]) == 2
    assert "apply to --samples files" in capsys.readouterr().err
