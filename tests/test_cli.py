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


# ----------------------------------------------------------------------------- samples CSV (pidlab.io)
AND_ROWS = [(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 1)]
AND_BROJA = {"R": 0.311278124459, "U1": 0.0, "U2": 0.0, "S": 0.5}  # Bertschinger et al. 2014, AND gate


def _and_pid(capsys, argv):
    assert main(["decompose", *argv, "--format", "json"]) == 0, capsys.readouterr().err
    d = json.loads(capsys.readouterr().out)
    for k, v in AND_BROJA.items():
        assert d[k] == pytest.approx(v, abs=1e-6)
    return d


@pytest.mark.parametrize(
    "header, rows, extra",
    [
        ("X1,X2,Y", AND_ROWS, []),  # header in other case
        ("id,x1,note,x2,y", [(i, a, "n", b, c) for i, (a, b, c) in enumerate(AND_ROWS)], []),  # extra columns
        ("Age,INCOME,label", AND_ROWS, ["--columns", "age,income,LABEL"]),
        ("label,age,income,z", [(c, a, b, 9) for a, b, c in AND_ROWS], ["--columns", "Age,Income,Label"]),
        (None, AND_ROWS, ["--no-header"]),
        (None, [(c, 5, a, b) for a, b, c in AND_ROWS], ["--no-header", "--columns", "3,4,1"]),
    ],
)
def test_samples_csv_columns_header(tmp_path, capsys, header, rows, extra):
    lines = ([header] if header else []) + ["", *(",".join(map(str, r)) for r in rows), "  "]  # blank lines skipped
    f = tmp_path / "and.csv"
    f.write_text("\n".join(lines) + "\n")
    d = _and_pid(capsys, ["--file", str(f), *extra])
    if "--columns" in extra and "--no-header" not in extra:
        want = [c.strip() for c in extra[1].split(",")]
        names = {h.lower(): h for h in header.split(",")}
        assert d["sources"] == [names[want[0].lower()], names[want[1].lower()]] and d["target"] == names[want[2].lower()]


def test_07_and_7_stay_apart_on_the_cli(tmp_path, capsys):
    f = tmp_path / "l.csv"
    f.write_text("x1,x2,y\n7,0,0\n07,0,1\n")
    assert main(["decompose", "--file", str(f), "--measure", "imin"]) == 0
    out = capsys.readouterr().out
    assert "X1:2 x X2:1 -> target Y:2" in out  # two symbols for x1, not one


def _latin1(f):
    f.write_bytes("x1,x2,y\n0,0,0\nä,1,1\n".encode("latin-1"))


def _big(f):
    import csv

    f.write_text("x1,x2,y\n0,0,0\n1,1," + "9" * (csv.field_size_limit() + 1) + "\n")


def _npy_bytes(f, data):
    f.write_bytes(data)


@pytest.mark.parametrize(
    "name, content, extra, parts",
    [
        ("e.csv", "", [], ["e.csv is empty"]),
        ("h.csv", "x1,x2,y\n", [], ["h.csv has a header (line 1) but no samples"]),
        ("two.csv", "x1,x2\n0,0\n", [], ["two.csv line 1", "no column(s) ['y']", "--columns", "--no-header"]),
        ("miss.csv", "a,b,c\n0,0,0\n", ["--columns", "a,b,z"], ["miss.csv line 1", "['z']"]),
        ("gap.csv", "x1,x2,y\n0,0,0\n1,,1\n", [], ["gap.csv: line 3 has no value for column 'x2'"]),
        ("rag.csv", "x1,x2,y\n0,0,0\n1,1\n", [], ["rag.csv line 3", "ragged"]),
        ("big.csv", _big, [], ["big.csv line 3", "field size limit"]),
        ("bad.csv", _latin1, [], ["bad.csv line 3", "not UTF-8"]),
        ("nh.csv", "0,0\n", ["--no-header"], ["nh.csv line 1", "2 column(s)"]),
        ("c.csv", "x1,x2,y\n0,0,0\n", ["--columns", "x1,x2"], ["--columns 'x1,x2'", "three"]),
        ("c.csv", "x1,x2,y\n0,0,0\n", ["--no-header", "--columns", "a,b,c"], ["counted from 1"]),
        ("e.npy", b"", [], ["e.npy is empty"]),
        ("c.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 2), }", [],
         ["c.npy", "not a readable .npy"]),
        ("deep.json", "[" * 100_000 + "]" * 100_000, [], ["deep.json", "nested too deeply"]),
        ("n.json", '{"p": [[[1]]], "names": null}', [], ["n.json", "'names'"]),
        ("l.json", '{"p": [[[1]]], "labels": 5}', [], ["l.json", "'labels'"]),
        ("t.json", "[[[1]]]", ["--no-header"], ["--no-header applies to .csv samples only"]),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path, capsys, name, content, extra, parts):
    f = tmp_path / name
    if callable(content):
        content(f)
    elif isinstance(content, bytes):
        f.write_bytes(content)
    else:
        f.write_text(content)
    assert main(["decompose", "--file", str(f), *extra]) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("pidlab: error:") and err.count("\n") == 1 and "Traceback" not in err
    for p in parts:
        assert p in err, (p, err)
    assert "columns=" not in err and "header=False" not in err  # CLI flags, not Python keywords


def test_normalize_message_names_the_flag(tmp_path, capsys):
    f = tmp_path / "half.json"
    f.write_text(json.dumps((pidlab.examples.get("and").p / 2).tolist()))
    assert main(["decompose", "--file", str(f)]) == 2
    err = capsys.readouterr().err
    assert "--normalize" in err and "normalize=True" not in err and "half.json" in err
    _and_pid(capsys, ["--file", str(f), "--normalize"])


def test_columns_apply_to_files_only(capsys):
    assert main(["decompose", "--example", "and", "--no-header"]) == 2
    assert "apply to samples read with --file" in capsys.readouterr().err


# ----------------------------------------------------------------------------- help texts
def _all_parsers():
    from pidlab.cli import build_parser, subparsers

    todo = [build_parser()]
    while todo:
        p = todo.pop()
        yield p
        todo.extend(subparsers(p))


def test_every_option_has_help_with_its_default():
    seen = 0
    for p in _all_parsers():
        for a in p._actions:
            if not a.option_strings or a.dest == "help":
                continue
            seen += 1
            assert a.help and "default" in a.help, (p.prog, a.option_strings, a.help)
            assert "(default: None)" not in p._get_formatter()._expand_help(a), (p.prog, a.option_strings)
    assert seen > 50


def test_no_literal_percent_in_help(capsys):
    from pidlab.cli import build_parser

    for p in _all_parsers():
        text = p.format_help()
        assert "%%" not in text and "%(" not in text, p.prog
    with pytest.raises(SystemExit):
        build_parser().parse_args(["study", "--help"])
    assert "5%/95% quantiles" in capsys.readouterr().out


def test_example_help_lists_the_names():
    from pidlab.cli import build_parser

    root = build_parser()
    for cmd in ("decompose", "bounds"):
        sub = next(p for p in _all_parsers() if p.prog == f"{root.prog} {cmd}")
        text = " ".join(sub.format_help().split())
        for name in pidlab.examples.names():
            assert f" {name}," in text or f" {name} " in text, (cmd, name)


def test_rtt_generate_prints_compact_json(capsys):
    from pidlab.hardness import rtt

    assert main(["hardness", "rtt", "generate", "--seed", "3", "--teachers", "6", "--classes", "6"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert len(out.strip().splitlines()) == len(data) + 2  # one line per top-level key
    inst = rtt.RTTInstance.from_dict(data)
    assert inst.n_teachers == 6 and rtt.verify(inst, {tuple(t) for t in data["schedule"]}).ok


# ----------------------------------------------------------------------------- issue 13: never a traceback
@pytest.mark.parametrize(
    "name, content, parts",
    [
        ("nan.csv", b"x1,x2,y\n0,0,0\n1,nan,1\n", ["nan.csv line 3", "column 'x2'", "missing value (NaN)"]),
        ("nul.csv", b"x1,x2,y\n0,0,0\n1,\x00,1\n", ["nul.csv line 3", "NUL byte"]),
        ("nan.json", b'[[[0.5, NaN]]]', ["nan.json line 1", "NaN is not valid JSON"]),
        ("s.json", b'{"p": [[["1"]]]}', ["s.json", "is \"1\", not a number"]),
    ],
)
def test_reader_refusals_are_one_line(tmp_path, capsys, name, content, parts):
    f = tmp_path / name
    f.write_bytes(content)
    assert main(["decompose", "--file", str(f), "--measure", "imin"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pidlab: error:") and err.count("\n") == 1
    for p in parts:
        assert p in err, (p, err)


def test_couple_file_with_an_extra_cell_is_refused(tmp_path, capsys):
    f = tmp_path / "v.csv"
    f.write_text("p,q\n0.5,0.5\n0.5,0.5,0.2\n")  # before: the 0.2 was silently ignored
    assert main(["couple", "--file", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "v.csv line 3: 3 cells, but the header (line 1) has 2" in err


def test_no_command_is_an_error_line(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert "COMMAND" in captured.out  # the help
    assert captured.err == "pidlab: error: no command given; choose one of the commands listed above.\n"


def test_unexpected_exception_is_one_line_not_a_traceback(monkeypatch, capsys):
    import pidlab.cli._cmd_plugins as cmd

    def boom(args):
        raise TypeError("object of type 'int' has no len()\nsecond line")

    monkeypatch.setattr(cmd, "run", boom)
    monkeypatch.delenv("PIDLAB_DEBUG", raising=False)
    assert main(["plugins"]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("pidlab: internal error: TypeError: object of type 'int' has no len() second line.")
    assert "PIDLAB_DEBUG=1" in err
    monkeypatch.setenv("PIDLAB_DEBUG", "1")
    with pytest.raises(TypeError):
        main(["plugins"])


@pytest.mark.parametrize("vec", ["0.5,nan", "inf,0", "1e999"])
def test_couple_vectors_must_be_finite(capsys, vec):
    assert main(["couple", "--p", vec, "--q", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pidlab: error: --p ") and "is not a finite number" in err and err.count("\n") == 1


def test_broken_pipe_is_quiet_and_python_m_pidlab_works() -> None:
    """`pidlab ... | head -1` used to print "pidlab: error: [Errno 32] Broken pipe"; here the reader
    is gone before the first write, so every write fails."""
    import os
    import subprocess
    import sys

    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run([sys.executable, "-m", "pidlab", "study", "--family", "gates", "--measures", "broja"],
                              stdout=w, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(w)
    assert proc.returncode == 0, proc.stderr
    assert "Broken pipe" not in proc.stderr and "error" not in proc.stderr, proc.stderr


def test_decompose_samples_with_intervals_and_tests(tmp_path, capsys) -> None:
    """`pidlab decompose --file samples.csv --ci 0.9 --permutations N` (issue 17): the table carries
    plug-in, corrected, interval and p-value per atom, the same numbers as the API."""
    import json as _json

    from pidlab.cli import main

    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    y = (a ^ b) ^ (rng.random(400) < 0.1)
    f = tmp_path / "s.csv"
    f.write_text("x1,x2,y\n" + "".join(f"{i},{j},{int(k)}\n" for i, j, k in zip(a, b, y)))
    rc = main(["decompose", "--file", str(f), "--ci", "0.8", "--permutations", "19", "--n-boot", "50",
               "--seed", "1", "--format", "json"])
    out = _json.loads(capsys.readouterr().out)
    assert rc == 0
    ref = pidlab.decompose_samples([str(v) for v in a], [str(v) for v in b], [str(int(v)) for v in y], ci=0.8,
                                   permutations=19, n_boot=50, seed=1, names=("x1", "x2", "y"))
    want = _json.loads(ref.to_json())
    assert {k: v for k, v in out.items() if k != "point"} == {k: v for k, v in want.items() if k != "point"}
    assert all(out["point"][a] == want["point"][a] for a in ("R", "U1", "U2", "S"))  # (the point's timing differs)
    s = ref.p_value["S"]
    assert s is not None and 1 / 20 <= s <= 1 and ref.interval["S"][0] < ref.plugin["S"] < ref.interval["S"][1]
    assert main(["decompose", "--example", "xor", "--ci", "0.9"]) == 2
    assert "need samples" in capsys.readouterr().err
    assert main(["decompose", "--file", str(f), "--ci", "1.5"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err
