"""Tier 2: the getting-started notebook in a real JupyterLab, in headless Chromium.

Opens notebooks/getting_started.ipynb (copied to a temporary server root), waits for a REAL kernel
(the status bar must read "Python 3 (ipykernel) | Idle" and the session's kernel must be connected
and idle: the toolbar's idle indicator turns idle before the kernel exists, and a Run All issued
then silently skips every cell), runs all cells, then
works the ComparePanel as a user: choose another gate, press Compute, and check that the
displayed table changed to the reference values and the chart image was re-rendered.
Screenshots go to shots/ (gitignored; keep them as CI artifacts).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "shots"
NOTEBOOK = "getting_started.ipynb"
KERNEL_READY_JS = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  const ctx = w && w.sessionContext;
  if (!ctx || !ctx.isReady || ctx.hasNoKernel) return false;
  const k = ctx.session && ctx.session.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""
BROKEN = re.compile(r"Error displaying widget|Failed to load model|VBox\(children=|ComparePanel\(children=")


def _fail(page: Any, message: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "lab_failure.png"))
    pytest.fail(f"{message} (screenshot: shots/lab_failure.png)", pytrace=False)


def _wait_for_panel(page: Any, timeout_s: float = 90.0) -> Any:
    """The rendered panel, or fail fast with what the output area shows instead."""
    panel = page.locator(".jp-OutputArea-output .pidlab-compare-panel")
    outputs = page.locator(".jp-OutputArea-output")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if panel.count() > 0 and panel.first.is_visible():
            return panel.first
        for text in outputs.all_inner_texts():
            if BROKEN.search(text):
                _fail(page, f"widget did not render: {text[:300]}")
        page.wait_for_timeout(250)
    texts = " | ".join(t[:120] for t in outputs.all_inner_texts())
    _fail(page, f"widget did not render within {timeout_s:.0f} s; outputs: {texts[:1500]}")


def _run_all(page: Any) -> None:
    try:
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-item:visible", has_text="Run All Cells").first.click(timeout=5_000)
    except Exception:
        page.keyboard.press("Escape")
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def test_compare_panel_in_jupyterlab(page: Any, lab_server: Any) -> None:
    from playwright.sync_api import expect

    SHOTS.mkdir(exist_ok=True)
    t0 = time.monotonic()
    page.goto(f"{lab_server.url}/lab/tree/{NOTEBOOK}?token={lab_server.token}")
    # A REAL kernel: status bar text AND the session context's kernel connected and idle.
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Python 3 (ipykernel) | Idle", timeout=120_000)
    page.wait_for_function(KERNEL_READY_JS, timeout=120_000)
    t_kernel = time.monotonic()

    _run_all(page)
    # Execution really started: the first code cell's prompt leaves "[ ]:".
    first_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first
    expect(first_prompt).not_to_have_text(re.compile(r"^\[\s*\]:$"), timeout=15_000)

    panel = _wait_for_panel(page)
    t_panel = time.monotonic()
    for hint in ("Loading widget...", "Error displaying widget"):
        assert hint not in panel.inner_text()

    status = panel.locator(".pidlab-status")
    table = panel.locator(".pidlab-table")
    chart = panel.locator("img.pidlab-chart")
    # The notebook computed XOR: 1 bit of synergy, WMS = +1.
    expect(status).to_contain_text("Computed", timeout=60_000)
    expect(status).to_contain_text("on xor")
    expect(table).to_contain_text("+1.000000 (net synergy)")
    expect(chart).to_be_visible()
    before = {"status": status.inner_text(), "table": table.inner_text(), "chart": chart.get_attribute("src")}
    assert "0.311278" not in before["table"]

    # A user changes the gate and presses Compute.
    panel.locator(".pidlab-gate select").select_option("and")
    panel.locator("button.pidlab-compute").click()
    expect(status).to_contain_text("on and", timeout=60_000)
    expect(status).to_contain_text("Computed")
    # AND (reference values): BROJA R = 0.311278, S = 0.5; WMS = +0.188722.
    expect(table).to_contain_text("0.311278")
    expect(table).to_contain_text("+0.188722 (net synergy)")
    expect(table).to_contain_text("-0.188722 (net redundancy)")
    # The chart image was replaced (new blob URL) and the new PNG decoded.
    expect(chart).not_to_have_attribute("src", before["chart"] or "", timeout=30_000)
    expect(chart).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 200 && img.naturalHeight > 100", arg=chart.element_handle(),
        timeout=30_000,
    )
    after = {"status": status.inner_text(), "table": table.inner_text(), "chart": chart.get_attribute("src")}
    assert after["table"] != before["table"] and after["status"] != before["status"]
    assert after["chart"] and after["chart"] != before["chart"]
    assert panel.locator(".pidlab-error").inner_text().strip() == ""
    t_done = time.monotonic()

    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "lab.png"))
    panel.screenshot(path=str(SHOTS / "lab_panel.png"))
    assert not page.page_errors, f"JavaScript errors in the page: {page.page_errors}"
    print(
        f"\nbrowser phases: open->kernel idle {t_kernel - t0:.1f} s, run all->panel {t_panel - t_kernel:.1f} s, "
        f"change+compute+asserts {t_done - t_panel:.1f} s"
    )
