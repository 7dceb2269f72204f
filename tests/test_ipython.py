"""Tier 0: the IPython extension (``%load_ext pidlab``) in an in-process InteractiveShell."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import pidlab

TOL = 1e-6


@pytest.fixture(scope="module")
def ip() -> InteractiveShell:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "pidlab")
    yield shell
    shell.user_ns.pop("frame", None)


def _case(gates: list[dict], name: str) -> dict:
    return next(c for c in gates if c["name"] == name)


def test_compare_magic_all_measures(ip: InteractiveShell, gates: list[dict]) -> None:
    xor = _case(gates, "XOR")
    cmp = ip.run_line_magic("pidlab", "compare xor")
    assert isinstance(cmp, pidlab.Comparison)
    assert [r.measure for r in cmp] == pidlab.measures()
    for m in ("broja", "imin"):
        assert cmp[m].S == pytest.approx(xor[m]["S"], abs=TOL) and cmp[m].R == pytest.approx(xor[m]["R"], abs=TOL)
    assert cmp["wms"].net == pytest.approx(xor["wms"], abs=TOL)
    assert cmp["ci"].net == pytest.approx(xor["ci"], abs=TOL)
    data, _ = ip.display_formatter.format(cmp)
    assert "pidlab-comparison" in data["text/html"]
    assert data["text/plain"].startswith("measure") and "+1.000000 (net synergy)" in data["text/plain"]


def test_compare_magic_options(ip: InteractiveShell) -> None:
    cmp = ip.run_line_magic("pidlab", "compare xor --measures imin,wms --noise 0.1")
    assert [r.measure for r in cmp] == ["imin", "wms"]
    h = 0.1 * 3.321928094887362 + 0.9 * 0.15200309344504997  # h(0.1) = -0.1 log2 0.1 - 0.9 log2 0.9
    assert cmp["imin"].S == pytest.approx(1 - h, abs=TOL)
    solver = pidlab.solvers(available=True)[-1]
    cmp = ip.run_line_magic("pidlab", f"compare and --measures broja --solver {solver}")
    assert cmp["broja"].solver == solver


def test_decompose_magic(ip: InteractiveShell, gates: list[dict]) -> None:
    and_ = _case(gates, "AND")
    res = ip.run_line_magic("pidlab", "decompose and --measure broja")
    assert isinstance(res, pidlab.PIDResult) and res.measure == "broja"
    for atom in ("R", "U1", "U2", "S"):
        assert getattr(res, atom) == pytest.approx(and_["broja"][atom], abs=TOL)
    data, _ = ip.display_formatter.format(res)
    assert "certified gap" in data["text/html"] and "synergy S" in data["text/html"]
    # A variable in the namespace (array or Distribution) is used before a gate name.
    ip.user_ns["d"] = and_["p"]
    res = ip.run_line_magic("pidlab", "decompose d --measure imin")
    assert res.R == pytest.approx(and_["imin"]["R"], abs=TOL)


def test_plugins_and_examples_magics(ip: InteractiveShell) -> None:
    listing = ip.run_line_magic("pidlab", "plugins")
    text = repr(listing)
    for name in pidlab.measures() + pidlab.solvers():
        assert name in text
    assert "<table class='pidlab-plugins'>" in listing._repr_html_()
    ex = repr(ip.run_line_magic("pidlab", "examples"))
    assert all(n in ex for n in pidlab.examples.names())


def test_help(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.run_line_magic("pidlab", "help") is None
    out = capsys.readouterr().out
    assert "%pidlab compare xor" in out and "%%pidlab_df" in out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("compare nosuch", "neither a variable in the notebook nor a gate"),
        ("decompose xor --measure nope", "unknown measure 'nope'"),
        ("compare xor --solver nope", "unknown solver 'nope'"),
        ("bogus", "invalid choice: 'bogus'"),
        ("compare", "the following arguments are required: dist"),
        ("df nosuchframe a b c", "no variable 'nosuchframe'"),
        ("decompose xor --noise 2", "noise must be in [0, 1]"),
        ("decompose 'xor", "check the quotes"),
        ("df d a b c", "not a pandas DataFrame"),
    ],
)
def test_bad_input_is_one_usage_error(ip: InteractiveShell, line: str, message: str) -> None:
    ip.user_ns["d"] = [[[0.25, 0.0], [0.25, 0.0]], [[0.25, 0.0], [0.0, 0.25]]]
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("pidlab", line)
    assert message in str(info.value)


@pytest.fixture
def frame(ip: InteractiveShell) -> pd.DataFrame:
    # Each AND row three times plus an ignored column; row filter k < 8 keeps two copies.
    df = pd.DataFrame({"a": [0, 0, 1, 1] * 3, "b": [0, 1, 0, 1] * 3, "lab": [0, 0, 0, 1] * 3, "k": range(12)})
    ip.user_ns["frame"] = df
    return df


def test_df_line_magic(ip: InteractiveShell, frame: pd.DataFrame, gates: list[dict]) -> None:
    and_ = _case(gates, "AND")
    res = ip.run_line_magic("pidlab", "df frame a b lab")
    assert res.measure == "broja" and res.target == "lab" and res.sources == ("a", "b")
    assert res.S == pytest.approx(and_["broja"]["S"], abs=TOL)
    cmp = ip.run_line_magic("pidlab", "df frame a b lab --measure all")
    assert cmp["ci"].net == pytest.approx(and_["ci"], abs=TOL)


def test_df_cell_magic_with_frame_and_filter(ip: InteractiveShell, frame: pd.DataFrame, gates: list[dict]) -> None:
    and_ = _case(gates, "AND")
    res = ip.run_cell_magic("pidlab_df", "frame a b lab --measure imin", "k < 8\n")
    assert res.R == pytest.approx(and_["imin"]["R"], abs=TOL)
    # A filter that keeps only y = 0 rows leaves no information: I(a,b; lab) = 0.
    res = ip.run_cell_magic("pidlab_df", "frame a b lab --measure imin", "lab == 0")
    assert res.I_x1x2y == pytest.approx(0.0, abs=TOL)
    with pytest.raises(UsageError, match="keeps no rows"):
        ip.run_cell_magic("pidlab_df", "frame a b lab", "k > 100")
    with pytest.raises(UsageError, match="row filter 'nonsense ==' failed"):
        ip.run_cell_magic("pidlab_df", "frame a b lab", "nonsense ==")
    with pytest.raises(UsageError, match=r"no column\(s\) \['zz'\]"):
        ip.run_cell_magic("pidlab_df", "frame a b zz", "k < 3")


def test_df_cell_magic_with_csv_body(ip: InteractiveShell, gates: list[dict]) -> None:
    xor = _case(gates, "XOR")
    body = "x1, x2, y\n0, 0, 0\n0, 1, 1\n1, 0, 1\n1, 1, 0\n"
    cmp = ip.run_cell_magic("pidlab_df", "x1 x2 y --measure all --as samples", body)
    assert cmp["broja"].S == pytest.approx(xor["broja"]["S"], abs=TOL)
    assert cmp["wms"].net == pytest.approx(xor["wms"], abs=TOL)
    assert list(ip.user_ns["samples"].columns) == ["x1", "x2", "y"]
    with pytest.raises(UsageError, match="3 or 4 names"):
        ip.run_cell_magic("pidlab_df", "x1 y", body)
    with pytest.raises(UsageError, match="cell body is empty"):
        ip.run_cell_magic("pidlab_df", "x1 x2 y", "  \n")
    # Through run_cell: the UsageError is one line, no traceback, and the cell is marked failed.
    result = ip.run_cell("%%pidlab_df x1 x2 nope\nx1,x2,y\n0,0,0\n")
    assert isinstance(result.error_in_exec, UsageError)


def test_other_results_display_as_their_text(ip: InteractiveShell) -> None:
    b = pidlab.synergy_bounds(pidlab.Marginals.from_joint(pidlab.examples.get("and")))
    data, _ = ip.display_formatter.format(b)
    assert data["text/plain"] == str(b) and data["text/plain"].startswith("Semi-supervised PID bounds")
    assert "pidlab-bounds" in data["text/html"]


def test_distribution_html(ip: InteractiveShell) -> None:
    data, _ = ip.display_formatter.format(pidlab.examples.get("and"))
    html = data["text/html"]
    assert "I(X1,X2; Y) = 0.811278 bits" in html
    assert html.count("<tr>") == 1 + 4  # header + one row per (x1, x2)


def test_extension_does_not_import_widget_stack() -> None:
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'pidlab')\n"
        "r = ip.run_line_magic('pidlab', 'decompose xor --measure imin')\n"
        "assert r.S == 1.0, r\n"
        "heavy = [m for m in ('ipywidgets', 'matplotlib', 'cvxpy', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_panel_magic(ip: InteractiveShell) -> None:
    import pidlab.widgets as w

    assert isinstance(ip.run_line_magic("pidlab", "panel"), w.ComparePanel)
    for kind, cls in [("compare", w.ComparePanel), ("bounds", w.BoundsPanel), ("coupling", w.CouplingPanel),
                      ("hardness", w.HardnessPanel)]:
        assert isinstance(ip.run_line_magic("pidlab", f"panel {kind}"), cls)
    with pytest.raises(UsageError, match="invalid choice: 'nope'"):
        ip.run_line_magic("pidlab", "panel nope")
