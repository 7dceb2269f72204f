"""``pidlab couple`` on the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pidlab.cli import main


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["couple", "--p", "0.6,0.4", "--q", "0.4,0.3,0.3"]) == 0
    out = capsys.readouterr().out
    assert "1.846439" in out and "1.570951" in out and "greedy" in out and "bits" in out
    assert "p0" in out and "q2" in out  # the joint is shown


def test_json_and_methods(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["couple", "--p", "0.6,0.4", "--q", "0.4,0.3,0.3", "--method", "exact", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["exact"] is True and abs(d["entropy"] - 1.5709505944546687) < 1e-12
    assert sorted(d["values"]) == pytest.approx([0.3, 0.3, 0.4])
    assert main(["couple", "--p", "0.6,0.4", "--q", "0.4,0.3,0.3", "--method", "lattice", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "lattice"


def test_files(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "v.json"
    f.write_text(json.dumps({"p": [0.6, 0.4], "q": [0.4, 0.3, 0.3]}))
    assert main(["couple", "--file", str(f), "--format", "json"]) == 0
    assert abs(json.loads(capsys.readouterr().out)["entropy"] - 1.846439344671) < 1e-9
    g = tmp_path / "rows.csv"
    g.write_text("0.6,0.4\n0.4,0.3,0.3\n")
    assert main(["couple", "--file", str(g), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["shape"] == [2, 3]
    h = tmp_path / "cols.csv"
    h.write_text("p,q\n0.6,0.4\n0.4,0.3\n,0.3\n")
    assert main(["couple", "--file", str(h), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["shape"] == [2, 3]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--p", "0.6,0.4"], "give both vectors"),
        (["--p", "0.6,x", "--q", "1"], "not a list of numbers"),
        (["--p", "0.6,0.5", "--q", "1"], "sums to 1.1"),
        (["--p", "0.6,,0.4", "--q", "1"], "empty entry"),
        (["--p", "1", "--q", "1", "--method", "nope"], "unknown coupling"),
        (["--p=-0.5,1.5", "--q", "1"], "negative"),
        (["--file", "/nonexistent.json"], "does not exist"),
        (["--p", "0.5,0.5", "--q", "0.5,0.5", "--method", "exact", "--file", "x.json"], "not both"),
    ],
)
def test_errors_are_one_line(argv: list[str], match: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["couple", *argv]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err


def test_exact_too_large_message(capsys: pytest.CaptureFixture[str]) -> None:
    v = ",".join(["0.125"] * 8)
    assert main(["couple", "--p", v, "--q", v, "--method", "exact"]) == 2
    err = capsys.readouterr().err
    # the CLI names its flag, not the Python keyword
    assert "--method greedy" in err and "method='greedy'" not in err


def test_subprocess_smoke() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pidlab.cli", "couple", "--p", "0.6,0.4", "--q", "0.4,0.3,0.3", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["entropy"] == pytest.approx(1.846439344671, abs=1e-9)


def test_npy_file_gives_the_same_coupling(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    f = tmp_path / "v.npy"
    np.save(f, np.array([[0.5, 0.5], [0.25, 0.75]]))
    assert main(["couple", "--file", str(f), "--method", "exact", "--format", "json"]) == 0
    # optimum: put 0.5 on (p0, q1), 0.25 on (p1, q0) and 0.25 on (p1, q1): H = 1.5 bits
    assert json.loads(capsys.readouterr().out)["entropy"] == pytest.approx(1.5, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "content", "parts"),
    [
        ("v.csv", "p,q\n0.6,0.4\nx,0.6\n", ["v.csv line 3", "'x' is not a number"]),
        ("v.csv", "0.6,,0.4\n1\n", ["v.csv line 1", "empty entry"]),
        ("v.csv", "", ["v.csv is empty"]),
        ("v.csv", b"0.6,0.4\n\xff\n", ["v.csv line 2", "not UTF-8"]),
        ("v.json", "[" * 100_000 + "]" * 100_000, ["v.json", "nested too deeply"]),
        ("v.json", '{"p": [0.5, 0.5], "q": null}', ["v.json", "vector q must be a list of numbers"]),
        ("v.npy", b"", ["v.npy is empty"]),
        ("v.txt", "0.5,0.5\n1\n", ["v.txt", ".json, .npy or .csv"]),
    ],
)
def test_bad_files_are_one_line(tmp_path, name: str, content, parts: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / name
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["couple", "--file", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pidlab: error:") and err.count("\n") == 1 and "Traceback" not in err
    for p in parts:
        assert p in err, (p, err)
