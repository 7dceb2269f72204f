"""pidlab.io: one reader for the CLI, the panels and Python.

Tables read from files are checked against pidlab.examples (the AND gate) or tables written out
by hand here, never against the reader itself.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

import pidlab
from pidlab.cli._cmd_decompose import load_distribution
from pidlab.exceptions import InvalidDistributionError
from pidlab.io import parse_label, read_distribution, read_json, read_samples, read_table, read_vectors
from pidlab.widgets import distribution_from_file

AND = pidlab.examples.get("and").p
AND_ROWS = [(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 1)]


def _csv(header: str | None, rows: list[tuple[object, ...]], sep: str = "\n") -> bytes:
    lines = ([header] if header is not None else []) + [",".join(map(str, r)) for r in rows]
    return (sep.join(lines) + sep).encode()


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


# ----------------------------------------------------------------------------- good files
@pytest.mark.parametrize(
    "content",
    [
        _csv("x1,x2,y", AND_ROWS),
        _csv("X1,X2,Y", AND_ROWS),  # header in other case
        _csv(" X1 , x2 ,Y ", AND_ROWS),
        _csv("id,x1,note,x2,y", [(i, a, "n", b, c) for i, (a, b, c) in enumerate(AND_ROWS)]),  # extra columns
        _csv("y,x2,x1", [(c, b, a) for a, b, c in AND_ROWS]),  # other order
        _csv("x1,x2,y", AND_ROWS, sep="\r\n"),
        b"\xef\xbb\xbf" + _csv("x1,x2,y", AND_ROWS),  # BOM
        b"\n\nx1,x2,y\n0,0,0\n\n0,1,0\n  ,  , \n1,0,0\n1,1,1\n\n",  # blank lines
    ],
)
def test_and_gate_samples_give_the_and_table(content: bytes) -> None:
    d = read_distribution(("and.csv", content))
    np.testing.assert_allclose(d.p, AND, atol=0)
    assert d.labels == ((0, 1), (0, 1), (0, 1)) and d.names == ("X1", "X2", "Y")


def test_no_header_and_columns() -> None:
    d = read_distribution(("and.csv", _csv(None, AND_ROWS)), header=False)
    np.testing.assert_allclose(d.p, AND, atol=0)
    # columns by position (0-based in Python), permuted in the file
    permuted = _csv(None, [(c, a, b) for a, b, c in AND_ROWS])
    np.testing.assert_allclose(read_distribution(("p.csv", permuted), header=False, columns=(1, 2, 0)).p, AND, atol=0)
    # named columns become the variable names, as written in the header
    named = _csv("Age,INCOME,label,other", [(a, b, c, 9) for a, b, c in AND_ROWS])
    d = read_distribution(("n.csv", named), columns="age,income,Label")
    np.testing.assert_allclose(d.p, AND, atol=0)
    assert d.names == ("Age", "INCOME", "label")


def test_07_and_7_are_two_symbols() -> None:
    d = read_distribution(("l.csv", b"x1,x2,y\n7,0,0\n07,0,1\n7,0,0\n 7 ,0,0\n"))
    assert d.labels[0] == (7, "07") and d.shape == (2, 1, 2)
    np.testing.assert_allclose(d.p[:, 0, :], [[0.75, 0.0], [0.0, 0.25]])
    assert [parse_label(s) for s in ("0", "-3", "-0", "+7", "1.0", "1e3", " cat ")] == [0, -3, "-0", "+7", "1.0", "1e3", "cat"]
    assert parse_label("9" * 5000) == "9" * 5000  # beyond int()'s digit limit: kept as text


def test_non_numeric_labels_are_fine() -> None:
    d = read_distribution(("s.csv", b"x1,x2,y\na,u,no\na,v,no\nb,u,no\nb,v,yes\n"))
    np.testing.assert_allclose(d.p, AND, atol=0)
    assert d.labels == (("a", "b"), ("u", "v"), ("no", "yes"))


def test_json_forms_agree_with_the_and_table() -> None:
    obj = {"p": AND.tolist(), "names": ["a", "b", "t"], "labels": [["lo", "hi"], None, [0, 1]]}
    d = read_distribution(("d.json", json.dumps(obj).encode()))
    np.testing.assert_allclose(d.p, AND, atol=0)
    assert d.names == ("a", "b", "t") and d.labels == (("lo", "hi"), (0, 1), (0, 1))
    assert read_distribution(("d.json", json.dumps(AND.tolist()).encode())).names == ("X1", "X2", "Y")
    cols = {"X1": [r[0] for r in AND_ROWS], "x2": [r[1] for r in AND_ROWS], "y": [r[2] for r in AND_ROWS]}
    np.testing.assert_allclose(read_distribution(("c.json", json.dumps(cols).encode())).p, AND, atol=0)
    recs = [{"x1": a, "x2": b, "y": c} for a, b, c in AND_ROWS]
    np.testing.assert_allclose(read_distribution(("r.json", json.dumps(recs).encode())).p, AND, atol=0)
    np.testing.assert_allclose(read_distribution(("t.npy", _npy(AND))).p, AND, atol=0)
    # normalize divides by the total
    np.testing.assert_allclose(read_distribution(("t.npy", _npy(4 * AND)), normalize=True).p, AND, atol=1e-15)


def test_read_samples_table_vectors_json() -> None:
    body = b"id,X1,label\n1,07,a\n2,7,b\n"
    assert read_samples(("d.csv", body), ["x1", "LABEL"]) == (["07", 7], ["a", "b"])
    assert read_samples(("d.csv", body), [2, 0]) == (["a", "b"], [1, 2])
    assert read_samples(("d.csv", b"0,1\n1,1\n"), ("x1", "y"), header=False) == ([0, 1], [1, 1])
    assert read_samples(("d.npy", _npy(np.array([[0, 1], [2, 3]]))), ("x1", "y")) == ([0, 2], [1, 3])
    np.testing.assert_allclose(read_table(("t.csv", b"0.25,0.25\n0.5,0\n")), [[0.25, 0.25], [0.5, 0.0]])
    np.testing.assert_allclose(read_table(("t.json", b'{"p": [0.5, 0.5]}'), ndim=1), [0.5, 0.5])
    assert read_vectors(("v.csv", b"p,q\n0.6,0.4\n0.4,0.3\n,0.3\n")) == ([0.6, 0.4], [0.4, 0.3, 0.3])
    assert read_vectors(("v.csv", b"0.6,0.4\n0.4,0.3,0.3\n")) == ([0.6, 0.4], [0.4, 0.3, 0.3])
    assert read_vectors(("v.json", b"[[1], [0.5, 0.5]]")) == ([1.0], [0.5, 0.5])
    assert read_json(("i.json", b'{"a": [1]}')) == {"a": [1]}


def test_paths_and_pairs_read_the_same(tmp_path: Path) -> None:
    f = tmp_path / "and.csv"
    f.write_bytes(_csv("X1,x2,Y", AND_ROWS))
    assert read_distribution(f) == read_distribution(str(f)) == read_distribution(("and.csv", f.read_bytes()))
    assert read_distribution(f.read_bytes(), name="and.csv") == read_distribution(f)


# ----------------------------------------------------------------------------- CLI == panel
SAME_FILES = {
    "and.csv": _csv("x1,x2,y", AND_ROWS),
    "upper.csv": _csv("X1,X2,Y", AND_ROWS),
    "extra.csv": _csv("id,X1,x2,y", [(i, a, b, c) for i, (a, b, c) in enumerate(AND_ROWS)]),
    "labels07.csv": b"x1,x2,y\n7,0,0\n07,1,1\n7,1,0\n",
    "strings.csv": b"x1,x2,y\na,u,no\nb,v,yes\n",
    "blank.csv": b"x1,x2,y\n\n0,0,0\n\n1,1,1\n",
    "table.json": json.dumps(AND.tolist()).encode(),
    "object.json": json.dumps({"p": AND.tolist(), "names": ["a", "b", "t"], "labels": [["lo", "hi"], None, None]}).encode(),
    "columns.json": json.dumps({"x1": [0, 1], "x2": [1, 1], "y": ["a", "b"]}).encode(),
    "table.npy": _npy(AND),
}


@pytest.mark.parametrize("name", sorted(SAME_FILES))
def test_cli_and_panel_read_the_same_table(tmp_path: Path, name: str) -> None:
    f = tmp_path / name
    f.write_bytes(SAME_FILES[name])
    cli = load_distribution(str(f))
    panel = distribution_from_file(name, SAME_FILES[name])
    assert cli == panel  # same p, labels and names
    assert cli == read_distribution(f)


def test_cli_and_panel_agree_on_the_07_rule_and_headers(tmp_path: Path) -> None:
    f = tmp_path / "l.csv"
    f.write_bytes(SAME_FILES["labels07.csv"])
    for d in (load_distribution(str(f)), distribution_from_file("l.csv", f.read_bytes())):
        assert d.shape == (2, 2, 2) and d.labels[0] == (7, "07")
    f = tmp_path / "u.csv"
    f.write_bytes(SAME_FILES["upper.csv"])
    for d in (load_distribution(str(f)), distribution_from_file("u.csv", f.read_bytes())):
        np.testing.assert_allclose(d.p, AND, atol=0)


# ----------------------------------------------------------------------------- bad files
def _truncated_npy() -> bytes:
    return _npy(AND)[:-5]


def _pickled_npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array([1, "a"], dtype=object), allow_pickle=True)
    return buf.getvalue()


BIG = csv.field_size_limit() + 10

BAD = [
    ("empty.csv", b"", ["empty.csv", "is empty", "header row"]),
    ("blank.csv", b"\n \n,,\n", ["blank.csv", "is empty"]),
    ("head.csv", b"x1,x2,y\n", ["head.csv", "line 1", "no samples"]),
    ("two.csv", b"x1,x2\n0,0\n", ["two.csv", "line 1", "no column(s) ['y']", "columns=(...)"]),
    ("nohead.csv", b"0,0,0\n1,1,1\n", ["nohead.csv", "line 1", "header=False"]),
    ("ragged.csv", b"x1,x2,y\n0,0,0\n0,1\n", ["ragged.csv", "line 3", "2 cell(s)", "ragged"]),
    ("long.csv", b"x1,x2,y\n0,0,0,1\n", ["long.csv", "line 2", "4 cell(s)"]),
    ("gap.csv", b"x1,x2,y\n0,0,1\n1,,0\n", ["gap.csv", "line 3 has no value for column 'x2'", "fill it in"]),
    ("big.csv", b"x1,x2,y\n0,0,0\n1,1," + b"9" * BIG + b"\n", ["big.csv", "line 3", "field size limit"]),
    ("quote.csv", b'x1,x2,y\n0,0,0\n1,1,"open\n' + b"1,1,1\n" * (BIG // 6 + 1), ["quote.csv", "line 3", "unclosed quote"]),
    ("latin1.csv", "x1,x2,y\n0,0,0\nä,0,0\n".encode("latin-1"), ["latin1.csv", "line 3", "UTF-8"]),
    ("dup.csv", b"x1,x2,y,X2\n0,0,0,0\n", ["dup.csv", "line 1", "2 times"]),
    ("empty.npy", b"", ["empty.npy", "0 bytes", "numpy.save"]),
    ("trunc.npy", _truncated_npy(), ["trunc.npy", "truncated", "numpy.save"]),
    ("head.npy", _npy(AND)[:40], ["head.npy", "not a readable .npy", "numpy.save"]),
    ("junk.npy", b"PK\x03\x04 not numpy", ["junk.npy", "not a .npy file"]),
    ("pickle.npy", _pickled_npy(), ["pickle.npy", "Python objects"]),
    ("text.npy", _npy(np.array([["a"]])), ["text.npy", "not real numbers"]),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, ["deep.json", "nested too deeply"]),
    ("deep2.json", b"[" * 60 + b"]" * 60, ["deep2.json", "more than 32 levels"]),
    ("names.json", b'{"p": [[[1]]], "names": null}', ["names.json", "'names' must be a list of three", "null"]),
    ("names2.json", b'{"p": [[[1]]], "names": ["a", "b"]}', ["names2.json", "'names'"]),
    ("labels.json", b'{"p": [[[1]]], "labels": 5}', ["labels.json", "'labels' must be a list of three lists", "got 5"]),
    ("labels2.json", b'{"p": [[[1]]], "labels": [{"a": 1}, null, null]}', ["labels2.json", "'labels'"]),
    ("p.json", b'{"p": 1}', ["p.json", "not a nested list"]),
    ("scalar.json", b"3", ["scalar.json", "not a nested list"]),
    ("keys.json", b'{"q": [1]}', ["keys.json", "needs a key 'p'"]),
    ("syntax.json", b"[[[0.5, 0.5]]", ["syntax.json", "line 1", "not valid JSON"]),
    ("bigint.json", b"1" * 5000, ["bigint.json", "not valid JSON"]),
    ("sum.json", b"[[[0.5, 0.5], [0.5, 0.5]], [[0, 0], [0, 0]]]", ["sum.json", "sums to 2", "normalize=True"]),
    ("neg.json", b"[[[1.5, -0.5]]]", ["neg.json", "negative"]),
    ("data.txt", b"x1,x2,y\n0,0,0\n", ["data.txt", ".json, .npy or .csv"]),
    # NUL bytes: never part of a label (a binary or UTF-16 file)
    ("nul.csv", b"x1,x2,y\n0,0,0\n1,\x00,1\n", ["nul.csv", "line 3", "NUL byte", "UTF-8"]),
    ("utf16.csv", "x1,x2,y\n0,0,0\n".encode("utf-16-le"), ["utf16.csv", "line 1", "NUL byte", "UTF-16"]),
    ("nul.json", b'{"x1": [0, "a\\u0000"], "x2": [0, 1], "y": [0, 1]}', ["nul.json", "sample 2", "'x1'", "NUL byte"]),
    # NaN in any spelling is a missing value, never a class
    ("nan.csv", b"x1,x2,y\n0,0,0\n1,NaN,1\n", ["nan.csv", "line 3", "column 'x2'", "missing value (NaN)", "impute"]),
    ("nan2.csv", b"x1,x2,y\n0,0,0\n1,1, -nan \n", ["nan2.csv", "line 3", "column 'y'", "missing value (NaN)"]),
    ("nan.json", b'{"x1": [0, 1], "x2": [0, "nan"], "y": [0, 1]}', ["nan.json", "sample 2", "'x2'", "NaN"]),
    ("nanconst.json", b'{"x1": [0, 1],\n "x2": [0, NaN], "y": [0, 1]}', ["nanconst.json", "line 2", "NaN is not valid JSON"]),
    ("inf.json", b"[[[0.5, Infinity]]]", ["inf.json", "line 1", "Infinity is not valid JSON"]),
    ("labelnan.json", b'{"p": [[[0.5, 0.5]]], "labels": [null, null, ["a", "nan"]]}',
     ["labelnan.json", "key 'labels'", "label 2 of Y", "NaN"]),
    ("dupnames.json", b'{"p": [[[1]]], "names": ["a", "a", "b"]}', ["dupnames.json", "'names'", "distinct"]),
    ("strnum.json", b'{"p": [[["0.5", 0.5]]]}', ["strnum.json", "key 'p', entry [0][0][0] is \"0.5\", not a number"]),
]


@pytest.mark.parametrize(("name", "content", "parts"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_give_one_line_errors(name: str, content: bytes, parts: list[str]) -> None:
    with pytest.raises(InvalidDistributionError) as ei:
        read_distribution((name, content))
    msg = str(ei.value)
    assert "\n" not in msg and isinstance(ei.value, ValueError)
    for p in parts:
        assert p in msg, (p, msg)


def test_bad_arguments() -> None:
    with pytest.raises(InvalidDistributionError, match="does not exist"):
        read_distribution("/nonexistent/x.csv")
    with pytest.raises(InvalidDistributionError, match="name="):
        read_distribution(b"x1,x2,y\n")  # type: ignore[arg-type]
    with pytest.raises(InvalidDistributionError, match="three columns"):
        read_distribution(("a.csv", b"a,b\n1,2\n"), columns=["a", "b"])
    with pytest.raises(InvalidDistributionError, match="twice"):
        read_distribution(("a.csv", b"a,b\n1,2\n"), columns=["a", "A", "b"])
    with pytest.raises(InvalidDistributionError, match="header=False applies to .csv"):
        read_distribution(("t.npy", _npy(AND)), header=False)
    with pytest.raises(InvalidDistributionError, match="line 1: 2 column"):
        read_distribution(("a.csv", b"0,1\n"), header=False)
    with pytest.raises(InvalidDistributionError, match="ragged"):
        read_table(("t.csv", b"0.5,0.5\n1\n"))
    with pytest.raises(InvalidDistributionError, match="line 2: cell 1 is 'x', not a number"):
        read_table(("t.csv", b"0.5,0.5\nx,1\n"))
    with pytest.raises(InvalidDistributionError, match="2 dimension"):
        read_table(("t.json", b"[0.5, 0.5]"), ndim=2)


def test_cell_magic_csv_body_follows_the_same_label_rule() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "pidlab")
    body = SAME_FILES["labels07.csv"].decode()
    ip.run_cell_magic("pidlab_df", "x1 x2 y --measure imin --as io_cell", body)
    df = ip.user_ns.pop("io_cell")
    cell = pidlab.Distribution.from_dataframe(df)
    ref = read_distribution(("labels07.csv", SAME_FILES["labels07.csv"]))
    assert cell.labels == ref.labels and cell.labels[0] == (7, "07")
    np.testing.assert_array_equal(cell.p, ref.p)


# ----------------------------------------------------------------------------- issue 13: readers never guess
def test_nan_text_is_refused_consistently_never_a_class() -> None:
    for text in ("nan", "NaN", "-nan", " +NAN "):
        with pytest.raises(InvalidDistributionError, match="missing value"):
            parse_label(text)
    with pytest.raises(InvalidDistributionError, match="NUL"):
        parse_label("a\x00")
    # other text stays a literal label, as documented (only NaN spellings mean "missing")
    assert [parse_label(s) for s in ("NA", "null", "inf", "nano")] == ["NA", "null", "inf", "nano"]
    # read_samples (the bounds CLI's reader): CSV, JSON and .npy agree
    with pytest.raises(InvalidDistributionError, match=r"d.csv line 3: the value 'nan' of column 'y'"):
        read_samples(("d.csv", b"x1,y\n0,0\n1,nan\n"), ["x1", "y"])
    with pytest.raises(InvalidDistributionError, match=r"d.npy: row 1 \(0-based\), column 2: the value nan"):
        read_samples(("d.npy", _npy(np.array([[0.0, 1.0], [1.0, np.nan]]))), ["x1", "y"])
    with pytest.raises(InvalidDistributionError, match="d.json: sample 1 of column 'y'"):
        read_samples(("d.json", b'[{"x1": 0, "y": "NaN"}]'), ["x1", "y"])


def test_numeric_tables_and_vectors_hold_finite_numbers_only() -> None:
    with pytest.raises(InvalidDistributionError, match=r"t.csv line 2: cell 2 is 'nan', not a finite number"):
        read_table(("t.csv", b"0.5,0\n0.5,nan\n"))
    with pytest.raises(InvalidDistributionError, match=r"t.csv line 1: cell 1 is 'inf'"):
        read_table(("t.csv", b"inf,0\n"))
    with pytest.raises(InvalidDistributionError, match=r"t.npy: table entry \[1\] is inf"):
        read_table(("t.npy", _npy(np.array([0.5, np.inf]))))
    with pytest.raises(InvalidDistributionError, match=r"t.json: table entry \[0, 1\] is inf"):
        read_table(("t.json", b"[[0.5, 1e400]]"))  # parsed as infinity by Python's json
    # strings and booleans are not numbers (numpy would convert "0.5" and true silently)
    with pytest.raises(InvalidDistributionError, match=r"t.json: entry \[0\]\[1\] is \"0.5\", not a number"):
        read_table(("t.json", b'[[0.5, "0.5"]]'))
    with pytest.raises(InvalidDistributionError, match=r"entry \[1\] is true"):
        read_table(("t.json", b"[0, true]"))
    with pytest.raises(InvalidDistributionError, match=r"v.csv line 2: 'nan' is not a finite number"):
        read_vectors(("v.csv", b"p,q\nnan,1\n"))
    with pytest.raises(InvalidDistributionError, match=r"v.json: vector q entry \[1\] is inf"):
        read_vectors(("v.json", b'{"p": [1], "q": [0, 1e999]}'))
    with pytest.raises(InvalidDistributionError, match=r"v.npy: the \(2, n\) array's entry \[0, 1\] is nan"):
        read_vectors(("v.npy", _npy(np.array([[1.0, np.nan], [0.5, 0.5]]))))


def test_vector_csv_refuses_extra_cells_and_gaps() -> None:
    # before: the extra cell (a third column without a header) was silently ignored
    with pytest.raises(InvalidDistributionError, match=r"v.csv line 3: 3 cells, but the header \(line 1\) has 2"):
        read_vectors(("v.csv", b"p,q\n0.5,0.5\n0.5,0.5,0.2\n"))
    # before: the empty cell was skipped and p read as [0.5, 0.5]
    with pytest.raises(InvalidDistributionError, match=r"v.csv line 4: column p has a value after an empty cell on line 3"):
        read_vectors(("v.csv", b"p,q\n0.5,0.5\n,0.25\n0.5,0.25\n"))
    assert read_vectors(("v.csv", b"p,q\n0.5,0.5\n0.5,0.25\n,0.25\n")) == ([0.5, 0.5], [0.5, 0.25, 0.25])
    assert read_vectors(("v.csv", b"p,q\n1,0.5\n,0.5\n")) == ([1.0], [0.5, 0.5])


def test_corrupt_npy_headers_are_reader_errors() -> None:
    # a header that is not a Python literal (tokenize.TokenError inside numpy), an unterminated
    # header (EOFError / ValueError), a bare magic string and an empty file: one line naming the
    # file and the fix
    unterminated = b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f8', 'shape': (2,"
    bad_literal = b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f8\n"
    for content in (unterminated, bad_literal, b"\x93NUMPY", b""):
        for reader in (read_distribution, read_table, read_vectors):
            with pytest.raises(InvalidDistributionError) as ei:
                reader(("c.npy", content))
            msg = str(ei.value)
            assert msg.startswith("c.npy") and "numpy.save" in msg and "\n" not in msg, msg


def test_cell_magic_refuses_nan_labels_too() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "pidlab")
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="the label 'nan' is a missing value"):
        ip.run_cell_magic("pidlab_df", "x1 x2 y --measure imin --as io_nan", "x1,x2,y\n0,0,0\nnan,1,1\n")


@pytest.mark.parametrize("names", ["null", '[null, 1, "y"]', '["a", ""]', "5"])
def test_marginals_names_must_be_three_strings(names: str) -> None:
    from pidlab.io import read_marginals

    body = (
        '{"p_x1y": [[0.5, 0], [0.25, 0.25]], "p_x2y": [[0.5, 0], [0.25, 0.25]], '
        f'"p_x1x2": [[0.25, 0.25], [0.25, 0.25]], "names": {names}}}'
    )
    # before: null was taken as the default and [null, 1, "y"] became the names ('None', '1', 'y')
    with pytest.raises(InvalidDistributionError, match=r"m.json: key 'names' must be a list of three non-empty strings"):
        read_marginals(("m.json", body.encode()))


def test_read_json_empty_file_does_not_talk_of_probabilities() -> None:
    # read_json serves other files too (RTT instances, schedules)
    with pytest.raises(InvalidDistributionError) as ei:
        read_json(("instance.json", b"  \n"))
    assert str(ei.value) == "instance.json is empty; it must hold a JSON value."
