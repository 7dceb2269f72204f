"""ComparePanel: several PID measures on one distribution, side by side."""

from __future__ import annotations

import html
import time
import warnings
from typing import Any

import ipywidgets as widgets

from pidlab import examples
from pidlab._api import Comparison, compare, measures, solvers
from pidlab._distribution import Distribution
from pidlab._plugins import lookup
from pidlab.examples import _key
from pidlab.exceptions import PidlabError
from pidlab.widgets._charts import comparison_figure
from pidlab.widgets._common import PANEL_CSS, distribution_from_file, error_html, figure_png, upload_entries

__all__ = ["ComparePanel", "AUTO_SOLVER"]

#: Label of the solver menu entry that lets pidlab choose (``solver=None``).
AUTO_SOLVER = "auto (preferred available)"


class PanelInputError(PidlabError, ValueError):
    """The panel's controls do not describe something computable (e.g. no measure chosen)."""


class ComparePanel(widgets.VBox):
    """Compare PID measures on one distribution: controls, a table and a grouped bar chart.

    The distribution is a canonical gate (``pidlab.examples.names()``), a noisy gate
    (``pidlab.examples.noisy(name, noise)``, noise slider) or an uploaded file: JSON holding a
    nested list ``p[x1][x2][y]``, or CSV with one sample per row and columns ``x1,x2,y``. The
    measure checkboxes and the solver menu are built from the plugin registry, so a measure
    registered by a third-party plugin appears without any change here (press *refresh plugins*
    for one registered after the panel was built). Results are in bits; WMS and CI are drawn as
    the net quantities they are (S − R and R − S), not as atoms. Errors show as a message in the
    panel (``.error``), never as a traceback.

    Parameters
    ----------
    gate : str, default "xor"
        Initial gate.
    noise : float, default 0.1
        Initial noise level of the noisy-gate family.
    measures : list of str or None
        Measures ticked initially (default: all registered).
    solver : str or None
        Initial BROJA solver (None: pidlab's preferred available one).

    Attributes
    ----------
    result : Comparison or None
        The last computed comparison.
    distribution : Distribution or None
        The distribution it was computed on.

    Examples
    --------
    >>> panel = ComparePanel()
    >>> panel.gate.value = "and"
    >>> panel.measure_boxes["broja"].value = False
    >>> cmp = panel.compute()
    >>> round(cmp["imin"].R, 6), panel.progress.value
    (0.311278, 3)
    """

    def __init__(
        self, gate: str = "xor", *, noise: float = 0.1, measures: list[str] | None = None, solver: str | None = None
    ) -> None:
        self.result: Comparison | None = None
        self.distribution: Distribution | None = None
        self._uploaded: tuple[str, Distribution] | None = None
        self._initial_measures = None if measures is None else [lookup("measure", m).name for m in measures]

        self.source = widgets.Dropdown(
            options=[("canonical gate", "gate"), ("noisy gate", "noisy"), ("uploaded file", "upload")],
            value="gate",
            description="data",
        )
        self.gate = widgets.Dropdown(options=examples.names(), value=_key(gate), description="gate")
        self.noise = widgets.FloatSlider(
            value=noise, min=0.0, max=0.5, step=0.01, description="noise", readout_format=".2f",
            continuous_update=False, disabled=True,
        )
        self.upload = widgets.FileUpload(accept=".json,.csv", multiple=False, description="upload JSON/CSV")
        self.upload_info = widgets.HTML("")
        self.measure_box = widgets.HBox([])
        self.measure_boxes: dict[str, widgets.Checkbox] = {}
        self.refresh_button = widgets.Button(description="refresh plugins", icon="refresh",
                                             tooltip="pick up measures and solvers registered since the panel was built")
        self.solver = widgets.Dropdown(description="solver")
        self.compute_button = widgets.Button(description="Compute", button_style="primary", icon="play")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="progress")
        self.status = widgets.HTML("Choose a distribution and measures, then press <b>Compute</b>.")
        self.error = widgets.HTML("")
        self.table = widgets.HTML("")
        self.chart = widgets.Image(format="png", layout=widgets.Layout(display="none"))

        for w, cls in [
            (self.source, "pidlab-source"), (self.gate, "pidlab-gate"), (self.noise, "pidlab-noise"),
            (self.upload, "pidlab-upload"), (self.measure_box, "pidlab-measures"),
            (self.refresh_button, "pidlab-refresh"), (self.solver, "pidlab-solver"),
            (self.compute_button, "pidlab-compute"), (self.progress, "pidlab-progress"),
            (self.status, "pidlab-status"), (self.error, "pidlab-error"), (self.table, "pidlab-table"),
            (self.chart, "pidlab-chart"),
        ]:
            w.add_class(cls)

        self.refresh_plugins()
        if solver is not None:
            self.solver.value = lookup("solver", solver).name

        self.source.observe(self._on_source, names="value")
        self.upload.observe(self._on_upload, names="value")
        self.refresh_button.on_click(lambda _b: self.refresh_plugins())
        self.compute_button.on_click(lambda _b: self.compute())

        super().__init__(
            [
                widgets.HTML(PANEL_CSS + "<b>pidlab · compare PID measures</b> (bits)"),
                widgets.HBox([self.source, self.gate, self.noise]),
                widgets.HBox([self.upload, self.upload_info]),
                widgets.HBox([widgets.Label("measures"), self.measure_box, self.refresh_button]),
                widgets.HBox([self.solver, self.compute_button, self.progress]),
                self.status,
                self.error,
                self.table,
                self.chart,
            ]
        )
        self.add_class("pidlab-panel")
        self.add_class("pidlab-compare-panel")

    # ------------------------------------------------------------------ registry
    def refresh_plugins(self) -> None:
        """Rebuild the measure checkboxes and the solver menu from the plugin registry.

        Ticks already set by the user are kept; new measures start ticked.
        """
        old = {n: cb.value for n, cb in self.measure_boxes.items()}
        boxes = {}
        for name in measures():
            entry = lookup("measure", name)
            if name in old:
                ticked = old[name]
            elif self._initial_measures is not None and not old:
                ticked = name in self._initial_measures
            else:
                ticked = True
            cb = widgets.Checkbox(value=ticked, description=name, indent=False, tooltip=entry.description,
                                  layout=widgets.Layout(width="auto"))
            cb.add_class("pidlab-measure")
            cb.add_class(f"pidlab-measure-{name}")
            boxes[name] = cb
        self.measure_boxes = boxes
        self.measure_box.children = tuple(boxes.values())
        current = self.solver.value
        options = [(AUTO_SOLVER, None)] + [(n, n) for n in solvers(available=True)]
        self.solver.options = options
        self.solver.value = current if current in [v for _, v in options] else None

    def selected_measures(self) -> list[str]:
        """The ticked measures, in registry order."""
        return [n for n, cb in self.measure_boxes.items() if cb.value]

    # ------------------------------------------------------------------ inputs
    def _on_source(self, change: dict[str, Any]) -> None:
        self.noise.disabled = change["new"] != "noisy"
        self.gate.disabled = change["new"] == "upload"

    def _on_upload(self, change: dict[str, Any]) -> None:
        entries = upload_entries(change["new"])
        if not entries:
            return
        name, content = entries[-1]
        try:
            self.load_file(name, content)
        except Exception as exc:  # shown in the panel, not in the log
            self._uploaded = None
            self.upload_info.value = ""
            self.error.value = error_html(exc, "upload")

    def load_file(self, name: str, content: bytes) -> Distribution:
        """Use the contents of a JSON or CSV file as the distribution (see the class docstring)."""
        dist = distribution_from_file(name, content)
        self._uploaded = (name, dist)
        self.error.value = ""
        self.upload_info.value = f"loaded <b>{html.escape(name)}</b>: |X1|×|X2|×|Y| = {'×'.join(map(str, dist.shape))}"
        self.source.value = "upload"
        return dist

    def current_distribution(self) -> tuple[Distribution, str]:
        """The distribution the controls describe, and a short description of it."""
        src = self.source.value
        if src == "gate":
            return examples.get(self.gate.value), self.gate.value
        if src == "noisy":
            noise = float(self.noise.value)
            return examples.noisy(self.gate.value, noise), f"{self.gate.value} with target noise {noise:.2f}"
        if self._uploaded is None:
            raise PanelInputError("no file uploaded yet; use the upload button (JSON p[x1][x2][y] or CSV x1,x2,y).")
        name, dist = self._uploaded
        return dist, f"file {name}"

    # ------------------------------------------------------------------ compute
    def compute(self) -> Comparison | None:
        """Decompose the chosen distribution with every ticked measure and show the result.

        Returns the :class:`~pidlab.Comparison` (also kept in :attr:`result`), or None when the
        inputs were unusable; the reason is then shown in :attr:`error`. A measure that fails is
        listed in the error area while the others are still shown.
        """
        self.error.value = ""
        self.compute_button.disabled = True
        self.compute_button.description = "Computing…"
        try:
            return self._compute()
        except Exception as exc:  # a panel reports errors in place; nothing reaches the log
            self.status.value = "Nothing computed."
            self.error.value = error_html(exc)
            return None
        finally:
            self.compute_button.disabled = False
            self.compute_button.description = "Compute"

    def _compute(self) -> Comparison:
        dist, what = self.current_distribution()
        chosen = self.selected_measures()
        if not chosen:
            raise PanelInputError("no measure is ticked; tick at least one measure to compare.")
        solver = self.solver.value
        self.progress.max = len(chosen)
        self.progress.value = 0
        results, errors, caught = [], [], []
        t0 = time.perf_counter()
        for i, m in enumerate(chosen):
            self.status.value = f"Computing <b>{html.escape(m)}</b> ({i + 1}/{len(chosen)}) on {html.escape(what)} …"
            with warnings.catch_warnings(record=True) as rec:
                warnings.simplefilter("always")
                try:
                    one = compare(dist, [m], solver=solver, errors="record")
                    results.extend(one.results)
                    errors.extend(one.errors)
                except Exception as exc:  # a broken third-party measure must not break the panel
                    errors.append((m, f"{type(exc).__name__}: {exc}"))
            caught.extend(f"{m}: {w.message}" for w in rec)
            self.progress.value = i + 1
        cmp = Comparison(tuple(results), dist.target, tuple(errors))
        self.result, self.distribution = cmp, dist
        elapsed = time.perf_counter() - t0
        self.status.value = (
            f"Computed {len(results)} of {len(chosen)} measure(s) on <b>{html.escape(what)}</b> "
            f"(target {html.escape(dist.target)}, I(X1,X2;Y) = {dist.mutual_information((0, 1), 2):.6f} bits) "
            f"in {elapsed:.2f} s."
            + "".join(f"<br>⚠ {html.escape(c)}" for c in caught)
        )
        if errors:
            self.error.value = "<br>".join(error_html(e, f"measure {m} failed") for m, e in errors)
        notes = "".join(f"<li>{html.escape(r.measure)}: {html.escape(n)}</li>" for r in results for n in r.notes)
        self.table.value = cmp._repr_html_() + (f"<ul class='pidlab-notes'>{notes}</ul>" if notes else "")
        self.chart.value = figure_png(comparison_figure(cmp))
        self.chart.layout.display = None if results else "none"
        return cmp

