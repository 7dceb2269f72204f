from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import pidlab
from pidlab.cli import main


def test_decompose_example_table(capsys):
    assert main(["decompose", "--example", "and", "--measure", "all"]) == 0
    out = capsys.readouterr().out
    assert "broja" in out and "imin" in out and "net synergy" in out and "0.311278" in out
    assert "target Y" in out


def test_decompose_json_values_match_api(capsys):
    assert main(["decompose", "--example", "xor", "--format", "json", "--solver", "clarabel"]) == 0
    d = json.loads(capsys.readouterr().out)
    ref = pidlab.decompose(pidlab.examples.get("xor"), solver="clarabel").to_dict()
    for k in ("R", "U1", "U2", "S"):
        assert d[k] == pytest.approx(ref[k], abs=1e-12)
    assert d["target"] == "Y" and d["units"] == "bits" and d["solver"] == "clarabel"


def test_decompose_files(tmp_path, capsys):
    p = pidlab.examples.get("sum").p
    (tmp_path / "d.json").write_text(json.dumps({"p": p.tolist(), "names": ["a", "b", "total"]}))
    np.save(tmp_path / "d.npy", p)
    (tmp_path / "s.csv").write_text("x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    assert main(["decompose", "--file", str(tmp_path / "d.json"), "--measure", "imin", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["target"] == "total" and d["R"] == pytest.approx(0.5)
    assert main(["decompose", "--file", str(tmp_path / "d.npy"), "--measure", "imin", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["S"] == pytest.approx(1.0)
    assert main(["decompose", "--file", str(tmp_path / "s.csv"), "--measure", "imin", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["S"] == pytest.approx(1.0)  # XOR samples


@pytest.mark.parametrize(
    "args, content, match",
    [
        (["--example", "nand"], None, "unknown example 'nand'; known examples"),
        (["--example", "xor", "--measure", "foo"], None, "unknown measure 'foo'; known measures"),
        (["--example", "xor", "--solver", "gurobi"], None, "unknown solver 'gurobi'"),
        (["--file", "{f}"], "[[[0.5, 0.5], [0.5, 0.5]], [[0, 0], [0, 0]]]", "normalize"),
        (["--file", "{f}"], "[[[-0.5, 1.5], [0, 0]], [[0, 0], [0, 0]]]", "negative"),
        (["--file", "{f}"], "[[0.5, 0.5]]", "3 dimensions"),
        (["--file", "{f}"], "not json", "not valid JSON"),
        (["--file", "/nonexistent/x.json"], None, "does not exist"),
    ],
)
def test_bad_input_is_one_line_on_stderr(tmp_path, capsys, args, content, match):
    f = tmp_path / "bad.json"
    if content is not None:
        f.write_text(content)
    args = [a.replace("{f}", str(f)) for a in args]
    assert main(["decompose", *args]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("pidlab: error:") and match in err
    assert len(err.splitlines()) == 1 and "Traceback" not in captured.err


def test_csv_samples_errors(tmp_path, capsys):
    f = tmp_path / "s.csv"
    f.write_text("a,b,c\n0,0,0\n")
    assert main(["decompose", "--file", str(f)]) == 2
    assert "columns x1,x2,y" in capsys.readouterr().err


def test_plugins_command_shows_availability(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "clarabel" in out and "available" in out and "mmi" in out and "[third-party]" in out
    assert main(["plugins", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    mosek = [r for r in rows if r["name"] == "mosek"][0]
    assert mosek["available"] or mosek["reason"]


def test_console_script_subprocess_no_traceback():
    exe = [sys.executable, "-m", "pidlab.cli"]
    ok = subprocess.run([*exe, "decompose", "--example", "xor", "--measure", "imin"], capture_output=True, text=True)
    assert ok.returncode == 0 and "S=1.000000" in ok.stdout
    bad = subprocess.run([*exe, "decompose", "--example", "bogus"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.startswith("pidlab: error:")
