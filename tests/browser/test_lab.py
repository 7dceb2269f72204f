"""Tier 2: the getting-started notebook in a real JupyterLab, in headless Chromium.

Opens notebooks/getting_started.ipynb (copied to a temporary server root), waits for a REAL kernel
(the status bar must read "Python 3 (ipykernel) | Idle" and the session's kernel must be connected
and idle: the toolbar's idle indicator turns idle before the kernel exists, and a Run All issued
then silently skips every cell), runs all cells, then
works the ComparePanel as a user: choose another gate, press Compute, and check that the
displayed table changed to the reference values and the chart image was re-rendered. Then what a
researcher comparing measures does: untick all but two measures (each keeps its colour, in the
table's swatches and in the chart's pixels), switch to the noisy gate (the noise slider appears;
it is hidden for a plain gate), download the CSV and open "show code" (the code, run in a fresh
interpreter, gives the downloaded numbers), an uploaded CSV of samples with intervals (the
intervals box appears only then; error bars and the intervals table), and a failed compute
(nothing ticked) that clears the table and chart. Last, a StudyPanel in a new cell: pick measures, run a noise sweep with the progress
bar, pick others and see the sweep plot change (its pixels carry each ticked measure's colour). Screenshots go to shots/ (gitignored; keep them as CI artifacts).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import subprocess
import sys
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


# Which of the given colours the chart PNG draws (>= 40 pixels of exactly that RGB: bar interiors).
CHART_COLORS_JS = """([img, hexes]) => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const want = hexes.map(h => [1, 3, 5].map(i => parseInt(h.slice(i, i + 2), 16)));
  const counts = want.map(() => 0);
  for (let i = 0; i < d.length; i += 4)
    want.forEach((w, k) => { if (d[i] === w[0] && d[i + 1] === w[1] && d[i + 2] === w[2]) counts[k]++; });
  const out = {}; hexes.forEach((h, k) => { out[h] = counts[k] >= 40; }); return out;
}"""
CHECK_CODE = """
import contextlib, io, json, sys
ns = {}
with contextlib.redirect_stdout(io.StringIO()):
    exec(sys.stdin.read(), ns)
print(json.dumps({r.measure: [r.R, r.U1, r.U2, r.S, r.net] for r in ns["result"].results}))
"""


def _swatches(panel: Any) -> dict[str, str]:
    """measure -> colour of its swatch in the table."""
    out = {}
    rows = panel.locator(".pidlab-table tr[class^='pidlab-row-']")
    for i in range(rows.count()):
        row = rows.nth(i)
        name = (row.get_attribute("class") or "").removeprefix("pidlab-row-")
        out[name] = row.locator(".pidlab-swatch").get_attribute("data-color")
    return out


def _chart_ready(page: Any, chart: Any, old_src: str | None) -> None:
    from playwright.sync_api import expect

    expect(chart).not_to_have_attribute("src", old_src or "", timeout=30_000)
    expect(chart).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 200", arg=chart.element_handle(), timeout=30_000)


def _researcher_steps(page: Any, panel: Any) -> dict[str, float]:
    """Colours, hidden noise slider, CSV download, show code, failed compute (see the module docstring)."""
    from playwright.sync_api import expect

    t: dict[str, float] = {}
    t0 = time.monotonic()
    status, table, chart = panel.locator(".pidlab-status"), panel.locator(".pidlab-table"), panel.locator("img.pidlab-chart")
    # Tooltips: the upload button's used to read "null".
    upload_title = panel.locator(".pidlab-upload").first.get_attribute("title") or ""
    assert "json" in upload_title.lower() and upload_title != "null", upload_title
    # The noise slider does not apply to a plain gate: hidden, not greyed.
    expect(panel.locator(".pidlab-noise")).to_be_hidden()

    # Every measure has a colour; untick all but imin and ci, compute: both keep theirs.
    all_colors = _swatches(panel)
    assert {"broja", "imin", "ci"} <= set(all_colors) and len(set(all_colors.values())) == len(all_colors), all_colors
    boxes = panel.locator(".pidlab-measures .pidlab-measure")
    names = [re.search(r"pidlab-measure-(\S+)", boxes.nth(i).get_attribute("class") or "").group(1)
             for i in range(boxes.count())]
    for name in names:
        if name not in ("imin", "ci"):
            panel.locator(f".pidlab-measure-{name} input").uncheck()
    old_src = chart.get_attribute("src")
    panel.locator("button.pidlab-compute").click()
    expect(status).to_contain_text("Computed 2 of 2 measure(s)", timeout=60_000)
    _chart_ready(page, chart, old_src)
    two = _swatches(panel)
    assert two == {"imin": all_colors["imin"], "ci": all_colors["ci"]}, (two, all_colors)
    drawn = page.evaluate(CHART_COLORS_JS, [chart.element_handle(), [all_colors[n] for n in ("imin", "ci", "broja")]])
    assert drawn == {all_colors["imin"]: True, all_colors["ci"]: True, all_colors["broja"]: False}, drawn
    t["colours"] = time.monotonic() - t0

    # The noisy gate: the slider appears; back to a plain gate, it goes away again.
    panel.locator(".pidlab-source select").select_option(label="noisy gate")
    expect(panel.locator(".pidlab-noise")).to_be_visible()
    panel.locator(".pidlab-gate select").select_option("xor")
    old_src = chart.get_attribute("src")
    panel.locator("button.pidlab-compute").click()
    expect(status).to_contain_text("xor with target noise 0.10", timeout=60_000)
    _chart_ready(page, chart, old_src)
    t["noisy"] = time.monotonic() - t0

    # Export: the CSV link (downloaded as a user would) and "show code".
    link = panel.locator(".pidlab-export a.pidlab-download")
    expect(link).to_be_visible()
    with page.expect_download(timeout=30_000) as dl:
        link.click()
    downloaded = Path(dl.value.path()).read_text(encoding="utf-8")
    href = link.get_attribute("href") or ""
    assert base64.b64decode(href.split("base64,", 1)[1]).decode("utf-8") == downloaded
    assert dl.value.suggested_filename == "pidlab-compare.csv"
    rows = {r["measure"]: r for r in csv.DictReader(io.StringIO(downloaded))}
    assert set(rows) == {"imin", "ci"} and rows["imin"]["data"] == "xor with target noise 0.10"
    # noisy XOR: all of I(X1,X2;Y) = 1 - h(0.1) = 0.531004 bits is synergy.
    assert abs(float(rows["imin"]["S"]) - 0.531004406) < 1e-6 and f"{float(rows['imin']['S']):.6f}" in table.inner_text()
    panel.locator(".pidlab-code summary").click()
    code_box = panel.locator(".pidlab-code pre")
    expect(code_box).to_be_visible()
    code = code_box.inner_text()
    assert "pidlab.examples.noisy('xor', 0.1)" in code and "['imin', 'ci']" in code, code
    proc = subprocess.run([sys.executable, "-c", CHECK_CODE], input=code, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-1500:]
    again = json.loads(proc.stdout)
    for m, r in rows.items():
        shown = [float(r[k]) if r[k] else None for k in ("R", "U1", "U2", "S", "net")]
        assert again[m] == shown, (m, again[m], shown)
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(SHOTS / "lab_panel_export.png"))
    t["export"] = time.monotonic() - t0

    # Uploaded samples: the intervals box appears (hidden for gates), and a compute with it ticked shows
    # each atom's bootstrap interval as error bars and in a table below the chart.
    expect(panel.locator(".pidlab-intervals")).to_be_hidden()
    rng_rows = [(a, b, (a ^ b) if k % 10 else 1 - (a ^ b)) for k, (a, b) in
                enumerate((i % 2, (i // 2) % 2) for i in range(1000))]
    content = ("x1,x2,y\n" + "".join(f"{a},{b},{y}\n" for a, b, y in rng_rows)).encode()
    with page.expect_file_chooser(timeout=30_000) as chooser:  # the upload button opens the file dialog
        panel.locator(".pidlab-upload").first.click()
    chooser.value.set_files(files=[{"name": "xor_samples.csv", "mimeType": "text/csv", "buffer": content}])
    expect(panel.locator(".pidlab-intervals")).to_be_visible(timeout=30_000)
    expect(panel.locator(".pidlab-nboot")).to_be_hidden()
    panel.locator(".pidlab-intervals input").check()
    expect(panel.locator(".pidlab-nboot")).to_be_visible()
    old_src = chart.get_attribute("src")
    panel.locator("button.pidlab-compute").click()
    expect(status).to_contain_text("file xor_samples.csv", timeout=120_000)
    _chart_ready(page, chart, old_src)
    expect(table).to_contain_text("From the 1000 samples")
    assert panel.locator(".pidlab-error").inner_text().strip() == ""
    panel.screenshot(path=str(SHOTS / "lab_panel_intervals.png"))
    t["intervals"] = time.monotonic() - t0

    # A failed compute (nothing ticked) leaves no stale table or chart under "Nothing computed.".
    for name in ("imin", "ci"):
        panel.locator(f".pidlab-measure-{name} input").uncheck()
    panel.locator("button.pidlab-compute").click()
    expect(status).to_have_text("Nothing computed.", timeout=60_000)
    expect(panel.locator(".pidlab-error")).to_contain_text("no measure is ticked")
    expect(chart).to_be_hidden()
    assert table.inner_text().strip() == "" and not link.is_visible()
    panel.locator(".pidlab-source select").select_option(label="canonical gate")
    expect(panel.locator(".pidlab-noise")).to_be_hidden()
    expect(panel.locator(".pidlab-intervals")).to_be_hidden()
    t["failure"] = time.monotonic() - t0
    return t


STUDY_CELL = "from pidlab.widgets import StudyPanel\nstudy = StudyPanel(family='noisy', measures=['imin'])\nstudy"
# A new last cell holding ``src``, run: what a user typing it at the end of the notebook does.
ADD_CELL_JS = """async (src) => {
  const app = window.jupyterapp;
  const nb = app.shell.currentWidget.content;
  nb.activeCellIndex = nb.widgets.length - 1;
  nb.mode = 'command';
  await app.commands.execute('notebook:insert-cell-below');
  nb.activeCell.model.sharedModel.setSource(src);
  await app.commands.execute('notebook:run-cell');
}"""


def _study_panel_steps(page: Any) -> dict[str, float]:
    """A StudyPanel in a new cell: pick measures, run the noise sweep, see the sweep plot change."""
    from playwright.sync_api import expect

    from pidlab.widgets import measure_color

    t: dict[str, float] = {}
    t0 = time.monotonic()
    page.evaluate(ADD_CELL_JS, STUDY_CELL)
    panel = page.locator(".jp-OutputArea-output .pidlab-study-panel")
    expect(panel).to_be_visible(timeout=90_000)
    panel.scroll_into_view_if_needed()
    status, table = panel.locator(".pidlab-status"), panel.locator(".pidlab-table")
    chart, sweep = panel.locator("img.pidlab-chart"), panel.locator("img.pidlab-sweep")
    expect(status).to_contain_text("press Run study")
    # The noise sweep's controls show; the Dirichlet ones do not apply: hidden.
    expect(panel.locator(".pidlab-levels")).to_be_visible()
    expect(panel.locator(".pidlab-concentration")).to_be_hidden()
    t["open"] = time.monotonic() - t0

    # Pick measures: imin (ticked by the cell) and broja; run.
    panel.locator(".pidlab-measure-broja input").check()
    panel.locator("button.pidlab-compute").click()
    expect(status).to_contain_text("Computed 11 distribution(s) x 2 measure(s)", timeout=90_000)
    _chart_ready(page, chart, None)
    _chart_ready(page, sweep, None)
    rows = table.locator("tr[class^='pidlab-row-']")
    assert sorted((rows.nth(i).get_attribute("class") or "") for i in range(rows.count())) == \
        ["pidlab-row-broja", "pidlab-row-imin"]
    hexes = [measure_color(m) for m in ("imin", "broja", "wms")]
    drawn = page.evaluate(CHART_COLORS_JS, [sweep.element_handle(), hexes])
    assert drawn == dict(zip(hexes, (True, True, False))), drawn
    drawn = page.evaluate(CHART_COLORS_JS, [chart.element_handle(), hexes])
    assert drawn == dict(zip(hexes, (True, True, False))), drawn
    # the progress bar, fed by run_study's progress callback, is full
    bar = panel.locator(".pidlab-progress .progress-bar")
    assert (bar.get_attribute("style") or "").replace(" ", "").find("width:100%") >= 0, bar.get_attribute("style")
    panel.screenshot(path=str(SHOTS / "lab_study_panel.png"))
    t["first run"] = time.monotonic() - t0

    # Another pick (wms instead of imin) and a coarser sweep: the plots change.
    before = {"chart": chart.get_attribute("src"), "sweep": sweep.get_attribute("src")}
    panel.locator(".pidlab-measure-imin input").uncheck()
    panel.locator(".pidlab-measure-wms input").check()
    levels = panel.locator(".pidlab-levels input")
    levels.fill("6")
    levels.press("Enter")
    panel.locator("button.pidlab-compute").click()
    expect(status).to_contain_text("Computed 6 distribution(s) x 2 measure(s)", timeout=90_000)
    _chart_ready(page, sweep, before["sweep"])
    _chart_ready(page, chart, before["chart"])
    drawn = page.evaluate(CHART_COLORS_JS, [sweep.element_handle(), hexes])
    assert drawn == dict(zip(hexes, (False, True, True))), drawn
    assert panel.locator(".pidlab-error").inner_text().strip() == ""
    expect(panel.locator(".pidlab-export a.pidlab-download")).to_be_visible()
    panel.screenshot(path=str(SHOTS / "lab_study_panel_2.png"))
    t["second run"] = time.monotonic() - t0
    return t


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
    steps = _researcher_steps(page, panel)
    steps.update({f"study {k}": v for k, v in _study_panel_steps(page).items()})
    assert not page.page_errors, f"JavaScript errors in the page: {page.page_errors}"
    print(
        f"\nbrowser phases: open->kernel idle {t_kernel - t0:.1f} s, run all->panel {t_panel - t_kernel:.1f} s, "
        f"change+compute+asserts {t_done - t_panel:.1f} s; researcher steps (cumulative) "
        + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items())
    )
