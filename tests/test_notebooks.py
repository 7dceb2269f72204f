"""Tier 1: notebooks are stored without outputs, and the getting-started notebook works in a live kernel.

That every notebook in notebooks/ runs top to bottom is checked by the documentation build
(tests/test_docs.py): it executes each one with myst-nb and fails on any cell error, so they are
not executed a second time here. What the build cannot do is checked here, on the getting-started
notebook only: it runs in a real ipykernel (nbclient) of this environment, and its live
ComparePanel is poked from an extra cell in the same kernel (kernel-side widget behaviour,
widget-state metadata).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
from nbformat.v4 import new_code_cell

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
GETTING_STARTED = NOTEBOOKS / "getting_started.ipynb"
TOL = 1e-6


def _notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _id(p: Path) -> str:
    return str(p.relative_to(NOTEBOOKS))


PROBE = """
import json as _json, sys as _sys, pidlab as _pidlab
print("PIDLAB-PROBE " + _json.dumps({"prefix": _sys.prefix, "executable": _sys.executable, "pidlab": _pidlab.__file__}))
"""


def _stdout(cell: dict) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stdout")


def run_notebook(path: Path, extra: str | None = None) -> tuple[object, dict, str]:
    """Execute ``path`` in a fresh python3 kernel (cwd = its folder), then PROBE (+ ``extra``).

    Returns the executed notebook, the probe's facts about the kernel and ``extra``'s stdout.
    Any cell error raises nbclient's CellExecutionError with the cell and traceback.
    """
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=600, store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    extra_out = ""
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            client.execute_cell(cell, i)
        probe = new_code_cell(PROBE)
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
        if extra:
            cell = new_code_cell(extra)
            nb.cells.append(cell)
            client.execute_cell(cell, len(nb.cells) - 1)
            extra_out = _stdout(cell)
        client.set_widgets_metadata()
    line = next(ln for ln in _stdout(probe).splitlines() if ln.startswith("PIDLAB-PROBE "))
    return nb, json.loads(line.split(" ", 1)[1]), extra_out


def test_getting_started_exists() -> None:
    assert GETTING_STARTED in _notebooks()


@pytest.mark.parametrize("path", _notebooks(), ids=_id)
def test_outputs_cleared_in_git(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{_id(path)}: cells {dirty} have outputs or execution counts; clear them before committing "
        "(JupyterLab: Edit > Clear Outputs of All Cells, or `jupyter nbconvert --clear-output --inplace`)."
    )
    assert "widgets" not in nb.metadata, f"{_id(path)}: saved widget state in the metadata; clear it before committing."


POKE = """
import json
panel.source.value = "gate"
panel.gate.value = "and"
for cb in panel.measure_boxes.values():
    cb.value = True
panel.compute_button.click()
print(json.dumps({
    "status": panel.status.value, "error": panel.error.value, "progress": [panel.progress.value, panel.progress.max],
    "results": [r.to_dict() for r in panel.result], "chart_bytes": len(panel.chart.value),
    "chart_display": panel.chart.layout.display, "model_id": panel.model_id,
}))
"""


def test_getting_started_in_a_live_kernel(gates: list[dict]) -> None:
    """The getting-started notebook in a real kernel of this environment, then its panel poked live."""
    nb, facts, out = run_notebook(GETTING_STARTED, POKE)
    # The kernel is this environment's Python and imports this checkout's pidlab.
    assert Path(facts["prefix"]) == Path(sys.prefix), f"kernel runs {facts['executable']}, not this environment"
    assert Path(facts["pidlab"]).resolve().is_relative_to(ROOT)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    _check_getting_started(nb, out, gates)


def test_notebooks_use_only_public_api() -> None:
    """Notebooks are user documentation: they import nothing from pidlab's private modules."""
    private = re.compile(r"\bpidlab(?:\.\w+)*\._(?!_)\w*|\bfrom\s+pidlab[\w.]*\s+import\s+.*\b_(?!_)\w+")
    offenders = [
        f"{_id(p)}: {line.strip()}"
        for p in _notebooks()
        for c in nbformat.read(p, as_version=4).cells
        if c.cell_type == "code"
        for line in c.source.splitlines()
        if private.search(line)
    ]
    assert not offenders, offenders


def _check_getting_started(nb: object, out: str, gates: list[dict]) -> None:
    by_source = {c.source: c for c in nb.cells if c.cell_type == "code"}
    html = by_source["%pidlab compare xor"].outputs[0]["data"]["text/html"]
    assert "pidlab-comparison" in html and "+1.000000 (net synergy)" in html
    # The DataFrame rows 0..59 are 15 copies of each XOR row: exactly 1 bit of synergy.
    frame_cell = next(c for s, c in by_source.items() if s.startswith("%%pidlab_df frame"))
    assert "<td>broja</td><td>0.000000</td><td>0.000000</td><td>0.000000</td><td>1.000000</td>" in (
        frame_cell.outputs[0]["data"]["text/html"]
    )

    # The live panel, poked in the same kernel: AND now, every registered measure.
    state = json.loads(out.strip().splitlines()[-1])
    and_ = next(c for c in gates if c["name"] == "AND")
    assert state["error"] == ""
    assert state["status"].startswith("Computed") and "<b>and</b>" in state["status"]
    assert state["progress"][0] == state["progress"][1] == len(state["results"])
    res = {r["measure"]: r for r in state["results"]}
    for m in ("broja", "imin"):
        for atom in ("R", "U1", "U2", "S"):
            assert res[m][atom] == pytest.approx(and_[m][atom], abs=TOL)
    assert res["wms"]["net"] == pytest.approx(and_["wms"], abs=TOL)
    assert res["ci"]["net"] == pytest.approx(and_["ci"], abs=TOL)
    assert state["chart_bytes"] > 1000 and state["chart_display"] is None

    # The widget state saved with the notebook holds the panel (what a static renderer would show).
    models = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    panel_model = models[state["model_id"]]
    assert "pidlab-compare-panel" in panel_model["state"]["_dom_classes"]
    # The panel's display output refers to that model.
    views = [
        o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
        for c in nb.cells for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert state["model_id"] in views
