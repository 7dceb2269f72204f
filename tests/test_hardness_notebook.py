"""Execute notebooks/hardness_rtt.ipynb (outputs are cleared in the repository) and check what it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

NB = Path(__file__).resolve().parents[1] / "notebooks" / "hardness_rtt.ipynb"


def test_rtt_notebook_executes(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NB, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NB.parent)}}).execute()
    text = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream"
    )
    assert "H(Y | X1, X2) = 0 bits" in text
    assert "joint -> schedule gives the same schedule: True" in text
    assert "deterministic joint found: True" in text
    assert "schedule: None | MILP: None" in text
    assert "deterministic joint from the marginals: None" in text
    assert "lessons, solvable: False" in text
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2
