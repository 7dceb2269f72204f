"""Tier 0: the ipywidgets panels, driven in-process (no kernel, no browser).

Every number is checked against an independent source: the reference values of the canonical
gates (tests/reference_gates.py, through the ``gates`` fixture), or a closed form (noisy XOR: S = 1 - h(noise)).
"""

from __future__ import annotations

import datetime
import html
import json
import math
import re

import ipywidgets as widgets  # the pidlab[lab] extra: a missing one must fail, not skip
import numpy as np
import pytest

import pidlab
from pidlab import hookimpl
from pidlab._plugins import plugin_manager
from pidlab._results import PIDResult
from pidlab.widgets import (
    BoundsPanel,
    ComparePanel,
    CouplingPanel,
    HardnessPanel,
    comparison_figure,
    distribution_from_file,
)
from pidlab.widgets._bounds import bounds_figure, digits_demo
from pidlab.widgets._compare import AUTO, AUTO_SOLVER

TOL = 1e-6
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _h(p: float) -> float:
    return 0.0 if p in (0.0, 1.0) else -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def _upload(panel: ComparePanel, name: str, content: bytes) -> None:
    """What the browser does: set FileUpload.value to one file entry."""
    panel.upload.value = (
        {"name": name, "type": "", "size": len(content), "content": memoryview(content),
         "last_modified": datetime.datetime.now(datetime.UTC)},
    )


def _bars(cmp: pidlab.Comparison) -> dict[str, float]:
    fig = comparison_figure(cmp)
    return {p.get_gid(): p.get_height() for ax in fig.axes for p in ax.patches if p.get_gid()}


def _check_against_reference(cmp: pidlab.Comparison, case: dict) -> None:
    for m in ("broja", "imin"):
        for atom in ("R", "U1", "U2", "S"):
            assert getattr(cmp[m], atom) == pytest.approx(case[m][atom], abs=TOL), (case["name"], m, atom)
    assert cmp["wms"].net == pytest.approx(case["wms"], abs=TOL)
    assert cmp["ci"].net == pytest.approx(case["ci"], abs=TOL)


# ---------------------------------------------------------------------------- construction
def test_builds_with_no_arguments_from_the_registry() -> None:
    panel = ComparePanel()
    assert isinstance(panel, widgets.VBox)
    assert list(panel.measure_boxes) == pidlab.measures()
    assert all(cb.value for cb in panel.measure_boxes.values())
    assert [v for _, v in panel.solver.options] == [AUTO, *pidlab.solvers(available=True)]
    assert panel.solver.value == AUTO and panel.solver.label == AUTO_SOLVER
    assert list(panel.gate.options) == pidlab.examples.names()
    assert panel.noise.layout.display == "none"  # only used for the noisy family: hidden, not greyed
    assert panel.result is None and panel.chart.layout.display == "none"
    classes = {
        "pidlab-compute": panel.compute_button, "pidlab-status": panel.status, "pidlab-table": panel.table,
        "pidlab-chart": panel.chart, "pidlab-error": panel.error, "pidlab-gate": panel.gate,
        "pidlab-progress": panel.progress, "pidlab-upload": panel.upload,
    }
    for cls, w in classes.items():
        assert cls in w._dom_classes, cls
    assert "pidlab-compare-panel" in panel._dom_classes


def test_bad_constructor_arguments_raise_pidlab_errors() -> None:
    with pytest.raises(pidlab.UnknownNameError, match="known examples"):
        ComparePanel(gate="nand3")
    with pytest.raises(pidlab.UnknownNameError, match="known measures"):
        ComparePanel(measures=["nope"])
    missing = [n for n in pidlab.solvers() if n not in pidlab.solvers(available=True)]
    for name in missing:  # e.g. mosek without its package or licence
        with pytest.raises(pidlab.SolverError, match="not available here"):
            ComparePanel(solver=name)
    assert ComparePanel(solver=pidlab.solvers(available=True)[0].upper()).solver.value == pidlab.solvers(available=True)[0]


# ---------------------------------------------------------------------------- values
@pytest.mark.parametrize("name", ["XOR", "AND", "COPY", "SUM"])
def test_gate_results_match_reference(gates: list[dict], name: str) -> None:
    case = next(c for c in gates if c["name"] == name)
    panel = ComparePanel(gate=name.lower())
    cmp = panel.compute()
    assert panel.error.value == ""
    _check_against_reference(cmp, case)
    # The table shows the reference values, formatted to 6 decimals.
    assert f"{case['broja']['S']:.6f}" in panel.table.value
    assert f"{case['wms']:+.6f} (net synergy)" in panel.table.value
    # The chart draws exactly these values; net measures as one bar each, never as atoms.
    bars = _bars(cmp)
    for m in ("broja", "imin"):
        for atom in ("R", "U1", "U2", "S"):
            assert bars[f"{m}:{atom}"] == pytest.approx(case[m][atom], abs=TOL)
    assert bars["wms:net synergy"] == pytest.approx(case["wms"], abs=TOL)
    assert bars["ci:net redundancy"] == pytest.approx(case["ci"], abs=TOL)
    assert not any(k.startswith(("wms:", "ci:")) and k.split(":")[1] in ("R", "U1", "U2", "S") for k in bars)
    assert bytes(panel.chart.value).startswith(PNG_MAGIC) and panel.chart.layout.display is None


@pytest.mark.parametrize("noise", [0.05, 0.2])
def test_noisy_family_matches_closed_form(noise: float) -> None:
    # Noisy XOR: X1, X2 each independent of Y, I(X1,X2;Y) = 1 - h(noise), all of it synergy.
    panel = ComparePanel(measures=["broja", "imin", "wms"])
    panel.source.value = "noisy"
    assert panel.noise.layout.display is None and not panel.noise.disabled
    panel.noise.value = noise
    cmp = panel.compute()
    expected = 1.0 - _h(noise)
    for m in ("broja", "imin"):
        assert cmp[m].S == pytest.approx(expected, abs=TOL)
        assert cmp[m].R == pytest.approx(0.0, abs=TOL)
    assert cmp["wms"].net == pytest.approx(expected, abs=TOL)
    assert f"noise {noise:.2f}" in panel.status.value


def test_progress_is_visible_measure_by_measure() -> None:
    panel = ComparePanel(gate="and")
    seen_progress: list[int] = []
    seen_status: list[str] = []
    seen_button: list[bool] = []
    panel.progress.observe(lambda c: seen_progress.append(c["new"]), names="value")
    panel.status.observe(lambda c: seen_status.append(c["new"]), names="value")
    panel.compute_button.observe(lambda c: seen_button.append(c["new"]), names="disabled")
    panel.compute_button.click()
    n = len(pidlab.measures())
    assert panel.progress.max == n and seen_progress[-n:] == list(range(1, n + 1))
    computing = [s for s in seen_status if s.startswith("Computing")]
    assert len(computing) == n and all(f"({i + 1}/{n})" in s for i, s in enumerate(computing))
    assert seen_status[-1].startswith(f"Computed {n} of {n} measure(s)")
    assert seen_button == [True, False]  # disabled while computing, then released


def test_solver_choice_is_used() -> None:
    panel = ComparePanel(gate="and", measures=["broja"])
    for name in pidlab.solvers(available=True):
        panel.solver.value = name
        cmp = panel.compute()
        assert cmp["broja"].solver == name
        assert cmp["broja"].R == pytest.approx(0.311278124, abs=TOL)
        assert f"<td>{name}</td>" in panel.table.value


# ---------------------------------------------------------------------------- uploads
def test_upload_json_and_csv(gates: list[dict]) -> None:
    and_case = next(c for c in gates if c["name"] == "AND")
    panel = ComparePanel()
    _upload(panel, "and.json", json.dumps(and_case["p"]).encode())
    assert panel.source.value == "upload" and panel.error.value == ""
    assert "and.json" in panel.upload_info.value
    _check_against_reference(panel.compute(), and_case)
    assert "file and.json" in panel.status.value

    # "07" is a label, not the integer 7: a CSV never merges symbols silently.
    assert distribution_from_file("l.csv", b"x1,x2,y\n7,0,0\n07,0,1\n").labels[0] == (7, "07")
    # Samples: each (x1, x2) once with y = x1 and x2 (string labels work too), and a BOM.
    csv_text = "\ufeffid,X1,x2,y\n1,0,0,no\n2,0,1,no\n3,1,0,no\n4,1,1,yes\n"
    _upload(panel, "and.csv", csv_text.encode("utf-8"))
    assert panel.error.value == ""
    cmp = panel.compute()
    _check_against_reference(cmp, and_case)
    assert panel.distribution.labels[2] == ("no", "yes")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", b"[[[0.5, 0], [0, 0]], [[0, 0], [0, 0.6]]]", "sums to 1.1"),
        ("bad.json", b"{\"p\": 1}", "not a nested list"),
        ("bad.json", b"[[[0.5, 0.5]]", "not valid JSON"),
        ("neg.json", b"[[[1.5, -0.5]]]", "negative"),
        ("bad.csv", b"a,b,c\n1,2,3\n", "no column(s) ['x1', 'x2', 'y']"),
        ("gap.csv", b"x1,x2,y\n0,0,1\n1,,0\n", "line 3 has no value for column 'x2'"),
        ("empty.csv", b"", "empty"),
        ("data.txt", b"x1,x2,y\n0,0,0\n", "upload a .json file"),
    ],
)
def test_bad_uploads_show_a_readable_error(name: str, content: bytes, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    panel = ComparePanel()
    _upload(panel, name, content)
    assert message in html.unescape(panel.error.value)
    assert "Traceback" not in panel.error.value and panel.error.value.startswith("<b>Error</b>")
    # The user left the gate for a file: no silent fall-back to the gate on Compute.
    assert panel.source.value == "upload"
    assert panel.compute() is None
    assert "no usable file uploaded" in panel.error.value and panel.result is None
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""
    with pytest.raises(pidlab.InvalidDistributionError, match=message.split("(")[0].strip("[")):
        distribution_from_file(name, content)


def test_nothing_ticked_is_reported_in_the_panel() -> None:
    panel = ComparePanel()
    for cb in panel.measure_boxes.values():
        cb.value = False
    panel.compute_button.click()
    assert "no measure is ticked" in panel.error.value
    assert panel.result is None and not panel.compute_button.disabled


# ---------------------------------------------------------------------------- third-party measures
class _MinMI(pidlab.Measure):
    """Test-only measure: R = min(I(X1;Y), I(X2;Y))."""

    name = "test-minmi"
    description = "test-only minimum mutual information"

    def compute(self, dist: pidlab.Distribution, *, solver: object = None) -> PIDResult:
        return PIDResult.from_redundancy(
            dist, self.name, min(dist.mutual_information(0, 2), dist.mutual_information(1, 2))
        )


class _Broken(pidlab.Measure):
    name = "test-broken"

    def compute(self, dist: pidlab.Distribution, *, solver: object = None) -> PIDResult:
        raise RuntimeError("deliberately broken plugin")


class _ThirdParty:
    @hookimpl
    def pidlab_register_measures(self) -> list[type]:
        return [_MinMI, _Broken]


@pytest.fixture
def third_party() -> object:
    plugin = _ThirdParty()
    pidlab.register_plugin(plugin, name="test-widget-plugin")
    yield plugin
    plugin_manager().unregister(name="test-widget-plugin")
    assert "test-minmi" not in pidlab.measures()


def test_third_party_measure_appears_and_computes(third_party: object, gates: list[dict]) -> None:
    and_case = next(c for c in gates if c["name"] == "AND")
    panel = ComparePanel(gate="and")
    assert {"test-minmi", "test-broken"} <= set(panel.measure_boxes)
    assert "pidlab-measure-test-minmi" in panel.measure_boxes["test-minmi"]._dom_classes
    panel.compute_button.click()
    cmp = panel.result
    # min(I(X1;Y), I(X2;Y)) = 0.311278 bits on AND; S = I(X1,X2;Y) - I1 - I2 + R.
    assert cmp["test-minmi"].R == pytest.approx(and_case["I_X1_Y"], abs=TOL)
    assert cmp["test-minmi"].S == pytest.approx(and_case["I_X1X2_Y"] - and_case["I_X1_Y"], abs=TOL)
    assert _bars(cmp)["test-minmi:R"] == pytest.approx(and_case["I_X1_Y"], abs=TOL)
    # The broken plugin is reported in the panel; the others are still shown.
    assert "measure test-broken failed" in panel.error.value
    assert "RuntimeError: deliberately broken plugin" in panel.error.value
    assert "test-broken" not in [r.measure for r in cmp]
    _check_against_reference(cmp, and_case)


def test_existing_panel_picks_up_a_new_measure_on_refresh() -> None:
    panel = ComparePanel(gate="and")
    panel.measure_boxes["imin"].value = False
    assert "test-minmi" not in panel.measure_boxes
    pidlab.register_plugin(_ThirdParty(), name="test-widget-plugin-2")
    try:
        panel.refresh_button.click()
        assert "test-minmi" in panel.measure_boxes and panel.measure_boxes["test-minmi"].value
        assert panel.measure_boxes["imin"].value is False  # the user's ticks are kept
        panel.measure_boxes["test-broken"].value = False
        cmp = panel.compute()
        assert [r.measure for r in cmp] == [m for m in pidlab.measures() if m not in ("imin", "test-broken")]
        assert panel.error.value == ""
    finally:
        plugin_manager().unregister(name="test-widget-plugin-2")
    panel.refresh_plugins()
    assert "test-minmi" not in panel.measure_boxes


def test_chart_has_one_bar_per_defined_quantity() -> None:
    cmp = pidlab.compare(pidlab.examples.get("xor"), ["imin", "ci"])
    fig = comparison_figure(cmp)
    assert len(fig.axes) == 2
    assert sorted(p.get_gid() for p in fig.axes[0].patches) == sorted(f"imin:{a}" for a in ("R", "U1", "U2", "S"))
    assert [p.get_gid() for p in fig.axes[1].patches] == ["ci:net redundancy"]
    assert np.isclose(fig.axes[1].patches[0].get_height(), -1.0)


# ============================================================================ BoundsPanel


def _marker_x(fig: object, gid: str) -> float:
    for ax in fig.axes:  # type: ignore[attr-defined]
        for line in ax.lines:
            if line.get_gid() == gid:
                return float(line.get_xdata()[0])
    raise KeyError(gid)


def test_bounds_panel_on_and(gates: list[dict]) -> None:
    and_ = next(c for c in gates if c["name"] == "AND")
    panel = BoundsPanel(gate="and")
    assert "pidlab-bounds-panel" in panel._dom_classes
    b = panel.compute()
    assert panel.error.value == ""
    # R, U1, U2 are exact (reference BROJA values); with all three pairwise marginals the
    # redundancy bound recovers S = 0.5 on AND (docs/theory.rst §3.1), the reference synergy.
    assert b.R == pytest.approx(and_["broja"]["R"], abs=TOL)
    assert b.S_lower_redundancy == pytest.approx(and_["broja"]["S"], abs=TOL)
    assert panel.truth["S"] == pytest.approx(and_["broja"]["S"], abs=TOL)
    assert panel.truth["accuracy"] == pytest.approx(1.0)  # Y is a function of (X1, X2)
    assert "0.311278" in panel.table.value and "oracle S" in panel.table.value
    fig = bounds_figure(b, panel.truth)
    assert _marker_x(fig, "oracle_S") == pytest.approx(0.5, abs=TOL)
    assert _marker_x(fig, "S_lower_redundancy") == pytest.approx(b.S_lower_redundancy)
    assert bytes(panel.chart.value).startswith(PNG_MAGIC)


def test_bounds_panel_noisy_xor_brackets_the_oracle() -> None:
    noise = 0.1
    panel = BoundsPanel(gate="xor")
    panel.source.value = "noisy"
    panel.noise.value = noise
    b = panel.compute()
    # Closed forms: S = 1 - h(noise) (X1, X2 each independent of Y); Bayes accuracy 1 - noise.
    assert panel.truth["S"] == pytest.approx(1 - _h(noise), abs=TOL)
    assert panel.truth["accuracy"] == pytest.approx(1 - noise, abs=1e-12)
    # XOR shares all pairwise marginals with the uniform table: no positive lower bound.
    assert b.S_lower == pytest.approx(0.0, abs=TOL)
    assert b.S_lower <= panel.truth["S"] <= b.S_upper
    assert b.accuracy_lower <= 1 - noise <= b.accuracy_upper
    assert "oracle S = 0.531004" in panel.status.value


def test_bounds_panel_upload_and_repair(gates: list[dict]) -> None:
    and_ = next(c for c in gates if c["name"] == "AND")
    tables = pidlab.Marginals.from_joint(pidlab.examples.get("and")).to_dict()
    panel = BoundsPanel()
    _upload(panel, "and_tables.json", json.dumps(tables).encode())
    assert panel.source.value == "upload" and panel.error.value == ""
    b = panel.compute()
    assert b.S_lower_redundancy == pytest.approx(and_["broja"]["S"], abs=TOL)
    assert panel.truth is None and "oracle" not in panel.table.value
    # p(x1) implied by p(x1,x2) disagrees with p(x1,y): an error that names the panel's fix ...
    tables["p_x1x2"] = [[0.4, 0.2], [0.1, 0.3]]
    _upload(panel, "bad_tables.json", json.dumps(tables).encode())
    assert panel.error.value == ""
    assert panel.compute() is None
    assert "inconsistent marginals" in panel.error.value and "repair" in html.unescape(panel.error.value)
    # ... and with a repair the bounds are computed and the status says the tables moved.
    panel.repair.value = "tv"
    assert panel.compute() is not None and "repaired" in panel.status.value


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"[1, 2]", "needs a JSON object with the keys"), (b"{\"p_x1y\": [[1]]}", "needs a JSON object"),
     (b"{", "not valid JSON")],
)
def test_bounds_panel_bad_upload(content: bytes, message: str) -> None:
    panel = BoundsPanel()
    _upload(panel, "t.json", content)
    assert message in panel.error.value
    assert panel.compute() is None and "no usable tables" in panel.error.value


# ============================================================================ CouplingPanel
def _entropy_bits(m: np.ndarray) -> float:
    nz = m[m > 0]
    return float(-(nz * np.log2(nz)).sum())


def test_coupling_panel_refinement_has_known_minimum() -> None:
    # q refines p, so H(joint) >= H(q) = 2 bits and the coupling "q-cell inside its p-cell" attains it.
    panel = CouplingPanel(p="0.5, 0.5", q="0.25 0.25 0.25 0.25")
    assert list(panel.method_boxes) == pidlab.couplings()
    out = panel.compute()
    assert panel.error.value == "" and set(out) == set(pidlab.couplings())
    for r in out.values():
        assert r.lower_bound <= 2.0 + TOL <= r.entropy + 2 * TOL
    assert out["exact"].entropy == pytest.approx(2.0, abs=1e-9)
    assert "[2.000000, 2.000000]" in panel.table.value
    assert bytes(panel.chart.value).startswith(PNG_MAGIC)


def test_coupling_panel_couplings_have_the_marginals() -> None:
    p, q = [0.5, 0.25, 0.25], [0.6, 0.4]
    panel = CouplingPanel()
    out = panel.compute()
    best = out["exact"].entropy
    for name, r in out.items():
        m = r.to_dense()
        np.testing.assert_allclose(m.sum(axis=1), p, atol=1e-12)
        np.testing.assert_allclose(m.sum(axis=0), q, atol=1e-12)
        assert r.entropy == pytest.approx(_entropy_bits(m), abs=1e-9), name
        assert f"<td>{name}</td><td>{r.entropy:.6f}</td>" in panel.table.value
        assert r.lower_bound <= best + 1e-9 <= r.entropy + 2e-9
    # Brute force over the 2-cell-per-row couplings: the optimum is a vertex; here (0.5|0), (0|0.25), (0.1|0.15).
    assert best == pytest.approx(_entropy_bits(np.array([0.5, 0.25, 0.1, 0.15])), abs=1e-9)


@pytest.mark.parametrize(
    ("p", "q", "message"),
    [("0.5, abc", "0.5 0.5", "not a number"), ("", "1", "p is empty"), ("0.5, 0.6", "1", "p (length 2) sums to 1.1"),
     ("0.5, -0.5, 1", "1", "1 negative entry"), ("1", "[0.5, 0.5", "")],
)
def test_coupling_panel_bad_input(p: str, q: str, message: str) -> None:
    panel = CouplingPanel(p=p, q=q)
    out = panel.compute()
    if message:
        assert out is None
        assert panel.error.value.startswith("<b>Error</b>") and message in html.unescape(panel.error.value)
    else:  # brackets are allowed around a vector
        assert panel.error.value == "" and out["greedy"].entropy == pytest.approx(1.0)


def test_coupling_panel_nothing_ticked() -> None:
    panel = CouplingPanel(methods=[])
    assert panel.compute() is None and "no coupling method is ticked" in panel.error.value


def test_coupling_panel_reports_a_failing_method_and_shows_the_others() -> None:
    n = 12
    uniform = ", ".join([repr(1 / n)] * n)
    panel = CouplingPanel(p=uniform, q=uniform)
    out = panel.compute()
    assert "exact" not in out and "greedy" in out  # exact refuses a 12 x 12 search
    assert "exact" in panel.error.value and "max_cells" in panel.error.value
    assert out["greedy"].entropy == pytest.approx(np.log2(n), abs=1e-9)  # uniform vs uniform: the diagonal


# ============================================================================ HardnessPanel
def _brute_force_solvable(inst: object) -> bool:
    """Independent RTT decision by enumerating every hour assignment of the lessons."""
    import itertools

    lessons = list(inst.lessons)  # type: ignore[attr-defined]
    avail = inst.availability  # type: ignore[attr-defined]
    for hours in itertools.product((1, 2, 3), repeat=len(lessons)):
        ok = all(h in avail[i] for (i, _), h in zip(lessons, hours))
        ok = ok and len({(j, h) for (_, j), h in zip(lessons, hours)}) == len(lessons)  # class: one teacher/hour
        ok = ok and len({(i, h) for (i, _), h in zip(lessons, hours)}) == len(lessons)  # teacher: one class/hour
        if ok:
            return True
    return False


@pytest.mark.parametrize(("kind", "seed"), [("solvable", 3), ("unsolvable", 0), ("random", 5)])
def test_hardness_panel_decides_like_brute_force(kind: str, seed: int) -> None:
    panel = HardnessPanel(kind, n_teachers=4, n_classes=3, seed=seed)
    out = panel.compute()
    assert panel.error.value == "", panel.error.value
    inst = out["instance"]
    assert out["solvable"] == _brute_force_solvable(inst)
    if kind != "random":
        assert out["solvable"] == (kind == "solvable")
    assert out["N"] == int(np.asarray(inst.requirements).sum()) + 3 * inst.n_classes
    assert ("<b>solvable</b>" if out["solvable"] else "<b>unsolvable</b>") in panel.status.value
    assert bytes(panel.graph.value).startswith(PNG_MAGIC) and bytes(panel.chart.value).startswith(PNG_MAGIC)
    # The reduction's p(x1, x2): 1/N on every lesson and on every holding-room/class pair.
    p12 = np.array(out["marginals"].p_x1x2, dtype=float)
    expected = np.vstack([np.asarray(inst.requirements, dtype=float), np.ones((3, inst.n_classes))]) / out["N"]
    np.testing.assert_allclose(p12, expected)


def test_hardness_panel_bad_sizes_are_reported() -> None:
    panel = HardnessPanel("unsolvable", n_teachers=1, n_classes=1, seed=0)
    assert panel.compute() is None
    assert panel.error.value.startswith("<b>Error</b>") and panel.graph.layout.display == "none"


def test_bounds_panel_digits_demo() -> None:
    x1a, y1, x2b, y2, x1p, x2p = digits_demo()
    # Three disjoint thirds of the 1797 images; the halves are 8x4 pixel blocks.
    assert len(y1) + len(y2) + len(x1p) == 1797 and x1a.shape[1] == x2b.shape[1] == 32 == x1p.shape[1]
    panel = BoundsPanel()
    panel.source.value = "digits"
    assert panel.discretizer.layout.display is None and panel.gate.layout.display == "none"
    assert list(panel.discretizer.options) == pidlab.discretizers()
    panel.discretizer.value, panel.n_clusters.value = "kmeans", 4
    b = panel.compute()
    assert panel.error.value == "", panel.error.value
    # The panel shows exactly what pidlab.estimate gives for the same data and settings.
    est = pidlab.estimate(*digits_demo(), discretizer="kmeans", n_clusters=4, names=("left", "right", "digit"))
    assert b.to_dict()["S_lower"] == pytest.approx(est.bounds.S_lower, abs=1e-9)
    assert b.S_upper == pytest.approx(est.bounds.S_upper, abs=1e-9)
    assert b.S_lower <= b.S_upper and panel.truth is None
    assert "Collect labelled multimodal data?" in panel.table.value and f"{b.S_upper:.6f}" in panel.table.value
    # A discretizer that cannot handle 32 features: the reason, in the panel.
    panel.discretizer.value = "quantile"
    assert panel.compute() is None and "symbols" in panel.error.value


def test_bounds_panel_digits_intervals_equal_estimate_bootstrap_and_the_advice_rests_on_them() -> None:
    panel = BoundsPanel()
    panel.source.value = "digits"
    assert panel.intervals.layout.display is None and panel.n_boot.layout.display == "none"
    panel.intervals.value = True
    assert panel.n_boot.layout.display is None
    panel.discretizer.value, panel.n_clusters.value, panel.n_boot.value = "kmeans", 4, 40
    b = panel.compute()
    assert panel.error.value == "", panel.error.value
    # the same numbers as pidlab.estimate with the settings the shown code states
    est = pidlab.estimate(*digits_demo(), discretizer="kmeans", n_clusters=4, names=("left", "right", "digit"),
                          n_bootstrap=40, confidence=0.9, random_state=0)
    bs, mine = est.bootstrap, panel.estimate_result.bootstrap
    assert "n_bootstrap=40, confidence=0.9, random_state=0" in panel._code
    for k in ("R", "S_lower", "S_upper", "accuracy_lower"):
        assert mine.intervals[k] == pytest.approx(bs.intervals[k], abs=1e-9)
    assert b.S_upper == pytest.approx(est.bounds.S_upper, abs=1e-9)
    # the advice is on the bootstrap basis and quotes the band's conservative end
    g = panel.estimate_result.guidelines()
    assert g["synergy_model"]["basis"] == "bootstrap" and g["synergy_model"]["reason"] in panel.table.value
    assert f"[{bs.S_band[0]:.4f}, {bs.S_band[1]:.4f}]" in panel.table.value and "interval</th>" in panel.table.value
    # the export carries each row's interval; the chart draws the band and each bound's error bar
    rec = {r["quantity"]: r for r in panel._records}
    lo, hi = bs.intervals["S_upper"]
    assert rec["S upper bound (eq. 50)"]["ci_low"] == pytest.approx(lo) and rec["S upper bound (eq. 50)"]["ci_high"] == pytest.approx(hi)
    fig = bounds_figure(b, None, mine)
    lines = {ln.get_gid(): ln for ax in fig.axes for ln in ax.get_lines()}
    assert list(lines["S_band"].get_xdata()) == pytest.approx(list(bs.S_band))
    assert list(lines["S_upper_ci"].get_xdata()) == pytest.approx([lo, hi])
    # unticked: no bootstrap, the advice says it rests on the point bounds
    panel.intervals.value = False
    panel.compute()
    assert panel.estimate_result.bootstrap is None and "interval</th>" not in panel.table.value
    assert "n_bootstrap" not in panel._code


# ============================================================================ long work: errors and interrupts
def test_bounds_panel_size_guard_shows_in_the_panel_and_the_panel_works_again(gates: list[dict]) -> None:
    """categorical on the digits gives one symbol per image (~1,200 per half): refused by its guard
    (ProblemTooLargeError) before any table or program is built, shown in the panel."""
    panel = BoundsPanel(gate="and")
    panel.source.value = "digits"
    panel.discretizer.value = "categorical"
    assert panel.compute() is None
    assert "max_symbols=256" in panel.error.value and "pca-kmeans" in panel.error.value
    assert panel.status.value == "Nothing computed." and panel.progress.bar_style == "danger"
    assert not panel.compute_button.disabled and panel.compute_button.description == "Bound"
    panel.source.value = "gate"
    panel.compute_button.click()  # the button works again
    and_case = next(g for g in gates if g["name"] == "AND")
    assert panel.error.value == "" and panel.progress.bar_style == ""
    assert panel.result.S_lower_redundancy == pytest.approx(and_case["broja"]["S"], abs=TOL)


@pytest.mark.parametrize("make", [lambda: ComparePanel(gate="xor"), lambda: CouplingPanel(), lambda: BoundsPanel(gate="xor")])
def test_interrupt_resets_the_busy_panel(make, monkeypatch: pytest.MonkeyPatch) -> None:
    panel = make()
    label = panel.compute_button.description
    seen: list[tuple[bool, str]] = []

    def interrupted() -> None:  # what Kernel > Interrupt does in the middle of a computation
        seen.append((panel.compute_button.disabled, panel.compute_button.description))
        panel.status.value = "Computing …"
        raise KeyboardInterrupt

    monkeypatch.setattr(panel, "_compute", interrupted)
    try:
        panel.compute_button.click()  # the button: the interrupt stops in the panel
    except KeyboardInterrupt:
        pytest.fail("an interrupt of a button callback escaped the panel")
    assert seen == [(True, "Computing…")]  # busy while it ran ...
    assert not panel.compute_button.disabled and panel.compute_button.description == label  # ... not after
    assert panel.status.value.startswith("Interrupted: nothing computed") and "interrupted" in panel.error.value
    with pytest.raises(KeyboardInterrupt):  # called from a cell: the cell stops, as asked
        panel.compute()
    assert not panel.compute_button.disabled
    monkeypatch.undo()
    assert panel.compute() is not None and panel.error.value == ""  # usable again


def test_refresh_failure_is_shown_in_the_panel(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = ComparePanel(gate="xor")

    def broken() -> None:
        raise RuntimeError("a plugin's description property raised")

    monkeypatch.setattr(panel, "refresh_plugins", broken)
    panel.refresh_button.click()
    assert "refreshing the plugin list" in panel.error.value and "RuntimeError" in panel.error.value


# ============================================================================ what a researcher comparing measures uses
def _controls(w: widgets.Widget) -> list[widgets.Widget]:
    """Every widget a user operates, anywhere in the panel's tree."""
    kinds = (widgets.Button, widgets.FileUpload, widgets.Dropdown, widgets.Checkbox, widgets.FloatSlider,
             widgets.IntSlider, widgets.Text, widgets.IntText)
    out = [w] if isinstance(w, kinds) else []
    for child in getattr(w, "children", ()):
        out += _controls(child)
    return out


@pytest.mark.parametrize("make", [ComparePanel, BoundsPanel, CouplingPanel, HardnessPanel])
def test_every_control_has_a_tooltip(make) -> None:
    panel = make()
    controls = _controls(panel)
    assert panel.compute_button in controls and len(controls) >= 5
    for w in controls:
        tip = w.tooltip
        assert isinstance(tip, str) and len(tip) > 8 and tip.lower() not in ("null", "none"), (type(w).__name__, tip)
    if isinstance(panel, ComparePanel):
        assert "json" in panel.upload.tooltip.lower()  # the upload button said "null"
        info = {(i.kind, i.name): i.description for i in pidlab.plugins()}
        for name, cb in panel.measure_boxes.items():  # the checkbox says what the measure is
            assert cb.tooltip == info["measure", name] or cb.tooltip.startswith(f"the {name}")
        solver = pidlab.solvers(available=True)[0]
        panel.solver.value = solver
        assert info["solver", solver] in panel.solver.tooltip


def test_controls_that_do_not_apply_are_hidden() -> None:
    panel = ComparePanel()
    shown = {"gate": (True, False), "noisy": (True, True), "upload": (False, False)}
    for source, (gate, noise) in shown.items():
        panel.source.value = source
        assert (panel.gate.layout.display is None, panel.noise.layout.display is None) == (gate, noise), source
        assert not panel.noise.disabled and not panel.gate.disabled  # hidden, never a greyed stale value
    b = BoundsPanel()
    for source in ("gate", "noisy", "upload", "digits"):
        b.source.value = source
        visible = {n for n in ("gate", "noise", "discretizer", "n_clusters", "repair", "intervals")
                   if getattr(b, n).layout.display is None}
        expected = {"gate": {"gate"}, "noisy": {"gate", "noise"}, "upload": {"repair"},
                    "digits": {"discretizer", "n_clusters", "intervals"}}[source]
        assert visible == expected, source


def _shows_a_result(panel) -> bool:
    img = panel.chart
    return bool(panel.table.value) and img.layout.display is None and bool(panel.export.value) \
        and bool(panel.code_view.value)


def _shows_nothing(panel) -> bool:
    return (panel.table.value == "" and panel.chart.layout.display == "none" and panel.export.value == ""
            and panel.code_view.value == "")


def _break_compare(p: ComparePanel) -> None:
    for cb in p.measure_boxes.values():
        cb.value = False


def _break_bounds(p: BoundsPanel) -> None:
    p.source.value = "upload"  # no file uploaded


def _break_coupling(p: CouplingPanel) -> None:
    p.p.value = "0.5, cat"


def _break_hardness(p: HardnessPanel) -> None:
    p.n_teachers.value, p.n_classes.value, p.kind.value = 1, 1, "unsolvable"


@pytest.mark.parametrize(
    ("make", "break_it"),
    [(lambda: ComparePanel(gate="and", measures=["imin", "wms"]), _break_compare), (BoundsPanel, _break_bounds),
     (CouplingPanel, _break_coupling), (lambda: HardnessPanel(n_teachers=2, n_classes=2), _break_hardness)],
)
def test_a_failed_compute_clears_the_previous_result(make, break_it) -> None:
    panel = make()
    assert panel.compute() is not None and _shows_a_result(panel)
    break_it(panel)
    assert panel.compute() is None
    assert panel.status.value == "Nothing computed." and "Error" in panel.error.value
    assert _shows_nothing(panel)  # no stale table or chart under "Nothing computed."
    if isinstance(panel, HardnessPanel):
        assert panel.graph.layout.display == "none" and panel.last is None
    with pytest.raises(pidlab.PidlabError, match="no result to export; press"):
        panel.to_records()
    with pytest.raises(pidlab.PidlabError, match="no result to export"):
        panel.code()


def test_an_interrupt_clears_the_stale_result_and_the_panel_works_again(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = ComparePanel(gate="and", measures=["imin"])
    assert panel.compute() is not None and _shows_a_result(panel)

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(panel, "_compute", interrupted)
    panel.compute_button.click()
    assert panel.status.value.startswith("Interrupted: nothing computed") and "interrupted" in panel.error.value
    assert _shows_nothing(panel) and panel.result is None and panel.progress.bar_style == "warning"
    monkeypatch.undo()
    panel.compute_button.click()
    assert panel.error.value == "" and _shows_a_result(panel)
    assert panel.result["imin"].R == pytest.approx(0.311278124459, abs=TOL)


def _bar_colors(fig) -> dict[str, str]:
    from matplotlib.colors import to_hex

    return {p.get_gid().split(":")[0]: to_hex(p.get_facecolor()) for ax in fig.axes for p in ax.patches if p.get_gid()}


def test_a_measure_keeps_its_colour_whichever_measures_are_ticked(third_party: object) -> None:
    from pidlab.widgets import measure_color

    names = pidlab.measures()
    colors = {n: measure_color(n) for n in names}
    assert len(set(colors.values())) == len(names)  # every registered measure has its own colour
    xor = pidlab.examples.get("xor")
    full = _bar_colors(comparison_figure(pidlab.compare(xor, [n for n in names if n != "test-broken"])))
    assert full == {n: colors[n] for n in names if n != "test-broken"}
    # Fewer measures, another order: each keeps its colour (it used to be its position among the ticked ones).
    for subset in (["ci", "imin"], ["wms"], ["test-minmi", "broja"]):
        assert _bar_colors(comparison_figure(pidlab.compare(xor, subset))) == {n: full[n] for n in subset}
    panel = ComparePanel(gate="xor", measures=["ci", "test-minmi"])
    panel.compute()
    for n in ("ci", "test-minmi"):  # the table's swatches are the chart's colours
        assert f"data-color='{full[n]}'" in panel.table.value
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colors.values())


def test_compare_panel_shows_the_certified_bracket(gates: list[dict]) -> None:
    and_case = next(c for c in gates if c["name"] == "AND")
    panel = ComparePanel(gate="and", measures=["broja", "imin"])
    cmp = panel.compute()
    assert "certified bracket" in panel.table.value
    br = cmp["broja"].bracket
    for atom in ("R", "U1", "U2", "S"):
        lo, hi = br[atom]
        # The bracket holds the reference value and is as narrow as the certificate says.
        assert lo - 1e-9 <= and_case["broja"][atom] <= hi + 1e-9 and hi - lo <= 1e-6
        assert f"{atom} [{lo:.9f}, {hi:.9f}]" in panel.table.value  # as %pidlab decompose prints it
    rows = {r["measure"]: r for r in panel.to_records()}
    assert (rows["broja"]["S_lower"], rows["broja"]["S_upper"]) == br["S"]
    assert rows["broja"]["certified_gap"] == cmp["broja"].certificate.gap
    assert rows["imin"]["S_lower"] is None and "<td class='pidlab-bracket'>—</td>" in panel.table.value


def test_export_as_dataframe_and_csv(gates: list[dict], tmp_path) -> None:
    import base64
    import csv
    import io

    import pandas as pd

    from pidlab.widgets._compare import RECORD_COLUMNS

    and_case = next(c for c in gates if c["name"] == "AND")
    panel = ComparePanel(gate="and", measures=["broja", "imin", "wms", "ci"])
    assert panel.export.value == "" and panel.code_view.value == ""
    with pytest.raises(pidlab.PidlabError, match="press Compute"):
        panel.to_dataframe()
    panel.compute()
    df = panel.to_dataframe()
    assert isinstance(df, pd.DataFrame) and tuple(df.columns) == RECORD_COLUMNS
    assert list(df["measure"]) == ["broja", "imin", "wms", "ci"]
    by = df.set_index("measure")
    for m in ("broja", "imin"):
        for atom in ("R", "U1", "U2", "S"):
            assert by.loc[m, atom] == pytest.approx(and_case[m][atom], abs=TOL)
    assert by.loc["wms", "net"] == pytest.approx(and_case["wms"], abs=TOL)
    assert by.loc["ci", "net"] == pytest.approx(and_case["ci"], abs=TOL) and by.loc["ci", "net_kind"] == "net redundancy"
    assert pd.isna(by.loc["wms", "R"])  # not defined by a net measure: an empty cell, never 0
    # CSV: the same rows at full precision, written to a file and offered as a download link.
    path = tmp_path / "out.csv"
    text = panel.to_csv(str(path))
    assert path.read_text(encoding="utf-8") == text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["measure"] for r in rows] == ["broja", "imin", "wms", "ci"]
    assert float(rows[0]["S"]) == panel.result["broja"].S and rows[2]["R"] == ""  # repr round-trips exactly
    # (columns empty in every row, such as the intervals of a result without samples, read back as NaN)
    empty = ["error", *(c for c in df.columns if df[c].isna().all() and c != "error")]
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(text)).drop(columns=empty),
                                  df.drop(columns=empty), check_dtype=False)
    href = panel.export.value.split("base64,")[1].split("'")[0]
    assert base64.b64decode(href).decode("utf-8") == text and "download='pidlab-compare.csv'" in panel.export.value
    # A failed measure is a row with its message.
    cmp = pidlab.compare(pidlab.examples.get("and"), ["imin"])
    from pidlab.widgets._compare import comparison_records

    recs = comparison_records(pidlab.Comparison(cmp.results, "Y", (("x", "boom"),)))
    assert recs[-1]["measure"] == "x" and recs[-1]["error"] == "boom" and recs[-1]["R"] is None


_CHECK_SCRIPT = """
import contextlib, io, json, sys
codes = json.loads(sys.stdin.read())
out = {}
for key, code in codes.items():
    ns = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, key, "exec"), ns)
    r = ns.get("result")
    if key.startswith("compare"):
        out[key] = {x.measure: [x.R, x.U1, x.U2, x.S, x.net] for x in r.results}
    elif key.startswith("bounds"):
        out[key] = [r.R, r.U1, r.U2, r.S_lower_redundancy, r.S_lower_disagreement, r.S_upper]
    elif key.startswith("coupling"):
        out[key] = {m: [c.entropy, c.lower_bound] for m, c in r.items()}
    else:
        out[key] = [ns["inst"].n_lessons, ns["marginals"].N, ns["schedule"] is not None]
from pidlab.widgets import measure_color
out["color"] = measure_color("test-minmi")
print(json.dumps(out))
"""


def test_show_code_reproduces_the_result_in_a_fresh_interpreter(gates: list[dict]) -> None:
    import os
    import subprocess
    import sys

    from pidlab.widgets import measure_color

    panels = {}
    p = ComparePanel(measures=["broja", "imin", "wms", "pm"])
    p.source.value, p.gate.value, p.noise.value = "noisy", "and", 0.13
    panels["compare-noisy"] = p
    p = ComparePanel(measures=["imin", "ci"])
    _upload(p, "s.csv", b"x1,x2,y\na,0,0\na,1,1\nb,0,1\nb,1,0\nb,1,1\n")
    panels["compare-upload"] = p
    p = BoundsPanel()
    p.source.value, p.gate.value, p.noise.value = "noisy", "xor", 0.21
    panels["bounds-noisy"] = p
    p = BoundsPanel()
    tables = pidlab.Marginals.from_joint(pidlab.examples.get("and")).to_dict()
    tables["p_x1x2"] = [[0.4, 0.2], [0.1, 0.3]]
    _upload(p, "t.json", json.dumps(tables).encode())
    p.repair.value = "kl"
    panels["bounds-upload"] = p
    panels["coupling"] = CouplingPanel(p="0.5 0.3 0.2", q="0.7, 0.3", methods=["greedy", "exact"])
    panels["hardness"] = HardnessPanel("random", n_teachers=2, n_classes=2, seed=4)
    for key, panel in panels.items():
        assert panel.compute() is not None, (key, panel.error.value)
        assert html.escape(panel.code()) in panel.code_view.value  # what "show code" shows
    env = dict(os.environ, PYTHONHASHSEED="123")
    proc = subprocess.run([sys.executable, "-c", _CHECK_SCRIPT], input=json.dumps({k: v.code() for k, v in panels.items()}),
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    for key in ("compare-noisy", "compare-upload"):
        recs = panels[key].to_records()
        assert got[key] == {r["measure"]: [r["R"], r["U1"], r["U2"], r["S"], r["net"]] for r in recs}, key
    assert panels["compare-upload"].distribution.labels[0] == ("a", "b")
    for key in ("bounds-noisy", "bounds-upload"):
        vals = [r["value"] for r in panels[key].to_records()][:6]
        assert got[key] == vals, key
    assert got["coupling"] == {r["method"]: [r["entropy"], r["lower_bound"]] for r in panels["coupling"].to_records()}
    rec = panels["hardness"].to_records()[0]
    assert got["hardness"] == [rec["lessons"], rec["N"], rec["solvable"]]
    # A plugin measure's colour does not depend on the interpreter (no hash randomisation).
    assert got["color"] == measure_color("test-minmi")


# ============================================================================ StudyPanel
from pidlab.widgets import StudyPanel, measure_color  # noqa: E402


def _mi_bits(p: np.ndarray) -> float:
    """I(X1,X2;Y) in bits of a joint p[x1, x2, y], by hand (independent of pidlab)."""
    pxy = p.reshape(-1, p.shape[2])
    px, py = pxy.sum(1, keepdims=True), pxy.sum(0, keepdims=True)
    nz = pxy > 0
    return float(np.sum(pxy[nz] * np.log2(pxy[nz] / (px @ py)[nz])))


def _lines(fig) -> dict[tuple[str, str], tuple[list[float], list[float]]]:
    """(axes gid, line gid) -> (x, y) of a sweep figure."""
    return {(ax.get_gid(), ln.get_gid()): (list(ln.get_xdata()), list(ln.get_ydata()))
            for ax in fig.axes for ln in ax.lines if ln.get_gid()}


def test_study_panel_noise_sweep_matches_closed_form_with_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = StudyPanel(family="noisy", measures=["broja", "imin", "wms"])
    panel.levels.value = 6
    seen: list[int] = []
    panel.progress.observe(lambda c: seen.append(c["new"]), names="value")
    drawn = {}
    import pidlab.widgets._study as study_mod

    real = study_mod.study_sweep_figure

    def keep(*a, **k):
        drawn["fig"] = real(*a, **k)
        return drawn["fig"]

    monkeypatch.setattr(study_mod, "study_sweep_figure", keep)
    out = panel.compute()
    assert panel.error.value == "" and out is not None and panel.result is out[0]
    assert panel.progress.max == 6 and seen[-1] == 6 and seen == sorted(seen)  # fed by run_study's callback
    assert "Computed 6 distribution(s) x 3 measure(s)" in panel.status.value
    noise = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    # noisy XOR: S = I(X1,X2;Y) = 1 - h(noise), R = U1 = U2 = 0 (closed form); WMS = S - R.
    lines = _lines(drawn["fig"])
    xs, ys = lines["sweep:S", "line:broja"]
    assert xs == pytest.approx(noise) and ys == pytest.approx([1 - _h(e) for e in noise], abs=TOL)
    assert lines["sweep:net", "line:wms"][1] == pytest.approx([1 - _h(e) for e in noise], abs=TOL)
    assert ("sweep:S", "line:wms") not in lines  # a net measure defines no S
    assert lines["sweep:R", "line:imin"][1] == pytest.approx([0.0] * 6, abs=TOL)
    assert _shows_a_result(panel) and panel.sweep_chart.layout.display is None
    assert panel.sweep_chart.value[:8] == PNG_MAGIC and panel.chart.value[:8] == PNG_MAGIC
    recs = panel.to_records()
    assert len(recs) == 18 and {r["noise"] for r in recs} == set(noise)
    mean_s = np.mean([1 - _h(e) for e in noise])
    assert f"{mean_s:.6f}" in panel.table.value  # the summary table: mean S of broja


def test_study_panel_dirichlet_concentration_sweep() -> None:
    panel = StudyPanel(family="dirichlet", n=20, measures=["broja", "imin"])
    panel.concentration.value, panel.seed.value, panel.shape.value = "0.5, 2", 3, "2x2x2"
    out = panel.compute()
    assert panel.error.value == "" and out is not None and len(out) == 2 and panel.result is None
    assert panel.progress.value == panel.progress.max == 40
    df = panel.to_dataframe()
    assert len(df) == 80 and sorted(df["alpha"].unique()) == [0.5, 2.0]
    # The family's documented recipe, by hand: item i of alpha a is row i of the seed's first block.
    for a in (0.5, 2.0):
        rng = np.random.default_rng(np.random.SeedSequence(3, spawn_key=(0,)))
        tables = rng.dirichlet(np.full(8, a), size=1024).reshape(1024, 2, 2, 2)
        rows = df[(df["alpha"] == a) & (df["measure"] == "broja")].sort_values("item")
        assert rows["I_x1x2y"].to_numpy() == pytest.approx([_mi_bits(t) for t in tables[:20]], abs=1e-9)
        assert (rows["R"] + rows["U1"] + rows["U2"] + rows["S"]).to_numpy() == pytest.approx(
            rows["I_x1x2y"].to_numpy(), abs=1e-6)
    assert panel.sweep_chart.layout.display is None and "swept alpha" in panel.status.value
    assert "for a in [0.5, 2.0]" in panel.code()


def test_study_panel_code_reproduces_the_export() -> None:
    import subprocess
    import sys

    panel = StudyPanel(family="dirichlet", n=15, measures=["imin", "mmi"])
    panel.concentration.value = "0.7"
    assert panel.compute() is not None
    code = panel.code() + "\nprint(table.to_csv(index=False))\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-1500:]
    import io

    import pandas as pd

    again = pd.read_csv(io.StringIO(proc.stdout[proc.stdout.index("item,"):]))  # after print(result.table())
    mine = pd.read_csv(io.StringIO(panel.to_csv()))
    assert list(again.columns) == list(mine.columns) and len(again) == len(mine) == 30
    for c in ("R", "U1", "U2", "S", "I_x1x2y"):
        assert again[c].to_numpy() == pytest.approx(mine[c].to_numpy(), abs=1e-12, nan_ok=True)


def test_study_panel_controls_follow_the_family_and_have_tooltips() -> None:
    panel = StudyPanel()
    names = ("n", "shape", "concentration", "seed", "gates", "noise_range", "levels")
    expected = {"dirichlet": {"n", "shape", "concentration", "seed"}, "gates": {"gates"},
                "noisy": {"gates", "noise_range", "levels"}}
    for fam, want in expected.items():
        panel.family.value = fam
        assert {n for n in names if getattr(panel, n).layout.display is None} == want, fam
    for w in [*_controls(panel), panel.gates, panel.noise_range]:
        assert isinstance(w.tooltip, str) and len(w.tooltip) > 8, (type(w).__name__, w.tooltip)
    assert set(panel.measure_boxes) == set(pidlab.measures()) and all(cb.value for cb in panel.measure_boxes.values())


def test_study_panel_a_measure_keeps_its_colour() -> None:
    from pidlab.widgets._charts import study_atoms_figure

    for chosen in (["broja", "imin", "ccs"], ["ccs"]):
        panel = StudyPanel(family="gates", measures=chosen)
        assert panel.compute() is not None
        for m in chosen:
            assert f"data-color='{measure_color(m)}'" in panel.table.value
        cols = {c: np.concatenate([r.column(c) for r in panel.results]) for c in ("measure", "R", "U1", "U2", "S", "net")}
        fig = study_atoms_figure(cols, chosen)
        faces = {p.get_gid(): p.get_facecolor()[:3] for ax in fig.axes for p in ax.patches if p.get_gid()}
        from matplotlib.colors import to_rgb

        assert faces == {f"box:{m}": pytest.approx(to_rgb(measure_color(m))) for m in chosen}


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: setattr(p.shape, "value", "2x2"), "three sizes >= 2"),
        (lambda p: setattr(p.concentration, "value", "1, -2"), "numbers > 0"),
        (lambda p: setattr(p.concentration, "value", "1, nan"), "numbers > 0"),
        (lambda p: setattr(p.n, "value", 0), "integer >= 1"),
        (lambda p: (setattr(p.family, "value", "noisy"), setattr(p.levels, "value", 0)), "from 1 to"),
        (lambda p: (setattr(p.family, "value", "noisy"), setattr(p.levels, "value", 10**9)), "from 1 to"),
        (lambda p: (setattr(p.family, "value", "gates"), setattr(p.gates, "value", ())), "no gate is selected"),
        (lambda p: [setattr(cb, "value", False) for cb in p.measure_boxes.values()], "no measure is ticked"),
    ],
)
def test_study_panel_bad_input_clears_the_result(setup, message, capsys: pytest.CaptureFixture[str]) -> None:
    panel = StudyPanel(family="dirichlet", n=10, measures=["imin"])
    assert panel.compute() is not None and _shows_a_result(panel)
    setup(panel)
    assert panel.compute() is None
    assert message in html.unescape(panel.error.value) and panel.status.value == "Nothing computed."
    assert _shows_nothing(panel) and panel.sweep_chart.layout.display == "none" and panel.results == []
    assert "Traceback" not in capsys.readouterr().err


def test_study_panel_size_guard_covers_the_whole_sweep() -> None:
    panel = StudyPanel(family="dirichlet", n=100, measures=["imin"])
    # one study of 100 items passes, the sweep of 3 x 100 does not: refused before any work
    per_row = 3e5 + 3e4 * 8
    with pidlab.limits(max_work=per_row * 200):
        assert panel.compute() is not None
        panel.concentration.value = "0.5, 1, 2"
        assert panel.compute() is None
    assert "ProblemTooLargeError" in panel.error.value or "pidlab.limits" in html.unescape(panel.error.value)
    assert panel.progress.value == 0 and panel.results == []
    assert panel.compute() is not None and len(panel.results) == 3  # default limits: it runs


def test_study_panel_interrupt_mid_study_leaves_it_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    import pidlab.study

    panel = StudyPanel(family="noisy", measures=["imin"])
    assert panel.compute() is not None and _shows_a_result(panel)

    def interrupted(fam, measures, *, progress=None, **kw):
        progress(1, len(fam))
        raise KeyboardInterrupt

    monkeypatch.setattr(pidlab.study, "run_study", interrupted)
    panel._on_click()  # the Run button: the interrupt stops here, the panel says so
    assert "Interrupted" in panel.status.value and _shows_nothing(panel) and panel.results == []
    assert not panel.compute_button.disabled and panel.compute_button.description == "Run study"
    monkeypatch.undo()
    assert panel.compute() is not None and _shows_a_result(panel)


# ----------------------------------------------------------------------------- intervals from samples
def _noisy_xor_csv(n: int = 1000, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    y = np.where(rng.random(n) < 0.1, 1 - (a ^ b), a ^ b)
    return ("x1,x2,y\n" + "".join(f"{i},{j},{k}\n" for i, j, k in zip(a, b, y))).encode()


def test_compare_panel_intervals_from_uploaded_samples() -> None:
    """Uploaded samples: the intervals box appears, the chart gets one error bar per atom of each full
    decomposition, the table, the export and the code carry them, and they are decompose_samples' own."""
    import pidlab
    from pidlab.io import read_samples

    panel = ComparePanel(measures=["broja", "imin", "wms"])
    assert panel.intervals.layout.display == "none"  # a gate: nothing to resample
    content = _noisy_xor_csv()
    panel.load_file("xor.csv", content)
    assert panel.intervals.layout.display is None and panel.n_boot.layout.display == "none"
    panel.intervals.value = True
    panel.n_boot.value = 100
    assert panel.n_boot.layout.display is None
    assert panel.compute() is not None and panel.error.value == ""
    assert sorted(panel.sample_results) == ["broja", "imin"]  # WMS is a net measure: no atoms to resample
    x1, x2, y = read_samples(("xor.csv", content), ["x1", "x2", "y"])
    ref = pidlab.decompose_samples(x1, x2, y, "broja", ci=0.9, n_boot=100, permutations=99, seed=0)
    assert panel.sample_results["broja"].interval == ref.interval
    # noisy XOR with flip probability 0.1: true S = 1 - h(0.1) = 0.531; the interval is about it
    lo, hi = ref.interval["S"]
    assert lo < 0.531 < hi + 0.05 and hi - lo < 0.2
    # the chart: one error bar per atom of each full decomposition, at the interval's ends
    from pidlab.widgets._charts import comparison_figure

    bars = {m: dict(sd.interval) for m, sd in panel.sample_results.items()}
    fig = comparison_figure(panel.result, intervals=bars)
    segs = {c.get_gid(): c.get_segments()[0] for ax in fig.axes for c in ax.collections if c.get_gid()}
    assert len(segs) == 8 and segs["broja:S:interval"][:, 1] == pytest.approx([lo, hi])
    with_bars = panel.chart.value
    frame = panel.to_dataframe()
    row = frame[frame.measure == "broja"].iloc[0]
    assert (row.S_ci_low, row.S_ci_high) == pytest.approx(ref.interval["S"])
    assert row.S_p_value == ref.p_value["S"] and row.n_samples == 1000 and row.ci == 0.9
    assert "From the 1000 samples" in panel.table.value
    # "show code" reproduces the intervals
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(panel.code(), {})  # noqa: S102 - the panel's own code
    assert f"{lo:.4f}" in out.getvalue() and f"{hi:.4f}" in out.getvalue()
    panel.intervals.value = False
    panel.compute()
    assert panel.chart.value != with_bars and panel.sample_results == {}
    # back to a gate: the box hides and the next compute has no intervals
    panel.source.value = "gate"
    assert panel.intervals.layout.display == "none"
    panel.compute()
    assert panel.sample_results == {}
