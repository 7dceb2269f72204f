"""The part every panel shares: Compute button, progress, status, in-panel errors, PNG images."""

from __future__ import annotations

import html
import warnings
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from pidlab import examples
from pidlab.examples import _key
from pidlab.exceptions import PidlabError
from pidlab.widgets._common import (
    PANEL_CSS,
    code_html,
    csv_link_html,
    error_html,
    figure_png,
    records_csv,
    upload_entries,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from pidlab import Distribution

__all__ = ["PanelBase", "PanelInputError", "EMBED_LIMIT"]

#: Uploaded files up to this size (bytes) are embedded in the "show code" text, so that the code
#: runs anywhere; a larger file is read back by its name (it must then be next to the notebook).
EMBED_LIMIT = 20_000


class PanelInputError(PidlabError, ValueError):
    """The panel's controls do not describe something computable, or there is no result to export."""


#: Level and seed of the bootstrap intervals the panels draw from samples (fixed, so that a
#: result can be reproduced from "show code").
INTERVAL_CI = 0.9
INTERVAL_SEED = 0


class PanelBase(widgets.VBox):
    """Base of the pidlab panels (an ``ipywidgets.VBox``).

    Subclasses build their controls, call :meth:`_init_common` first and :meth:`_assemble` last,
    and implement ``_compute()``. :meth:`compute` (also the Compute button) runs it with the button
    disabled, turns ANY exception into a readable message in :attr:`error` (CSS class
    ``pidlab-error``) and appends warnings to :attr:`status`: a panel never puts a traceback (or
    a warning) in the log, where a notebook user would not see it. A failed or interrupted
    compute clears the previous table, chart and export, so nothing stale stays on screen.

    Every panel exports its last result: :meth:`to_records` (a list of dicts),
    :meth:`to_dataframe` (pandas), :meth:`to_csv` and a download link in the panel (CSS class
    ``pidlab-export``), and :meth:`code` (also under "show code", CSS class ``pidlab-code``):
    Python that reproduces the result in a fresh interpreter.
    """

    compute_label = "Compute"
    upload_tooltip = "use a file of your own as the data"
    compute_tooltip = "run the analysis on the chosen data"
    #: File name of the CSV download.
    export_name = "pidlab.csv"

    def _init_common(self) -> None:
        self.compute_button = widgets.Button(description=self.compute_label, button_style="primary", icon="play",
                                             tooltip=self.compute_tooltip)
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="progress")
        self.status = widgets.HTML("")
        self.error = widgets.HTML("")
        #: Download link of the result as CSV (empty until a result exists).
        self.export = widgets.HTML("")
        #: Collapsed "show code" block: Python reproducing the result (empty until a result exists).
        self.code_view = widgets.HTML("")
        self._records: list[dict[str, Any]] | None = None
        self._code: str | None = None
        for w, cls in [
            (self.compute_button, "pidlab-compute"), (self.progress, "pidlab-progress"),
            (self.status, "pidlab-status"), (self.error, "pidlab-error"), (self.export, "pidlab-export"),
            (self.code_view, "pidlab-code"),
        ]:
            w.add_class(cls)
        self.compute_button.on_click(lambda _b: self._on_click())

    # ------------------------------------------------------------------ data source
    def _init_source(self, gate: str, noise: float, more: list[tuple[str, str]]) -> None:
        """``self.source`` (canonical gate, noisy gate, then ``more``), ``self.gate``, ``self.noise``.

        A control that does not apply to the chosen data is hidden (``layout.display = "none"``),
        not greyed out with a stale value: the noise slider shows for the noisy gate only, the
        gate menu for the two gate sources only.
        """
        self.source = widgets.Dropdown(options=[("canonical gate", "gate"), ("noisy gate", "noisy"), *more],
                                       value="gate", description="data", tooltip="where the distribution comes from")
        self.gate = widgets.Dropdown(options=examples.names(), value=_key(gate), description="gate",
                                     tooltip="a canonical gate of pidlab.examples (two binary inputs, one output)")
        self.noise = widgets.FloatSlider(value=noise, min=0.0, max=0.5, step=0.01, description="noise",
                                         readout_format=".2f", continuous_update=False,
                                         tooltip="probability that the gate's output is flipped (noisy gate only)")
        for w, cls in [(self.source, "pidlab-source"), (self.gate, "pidlab-gate"), (self.noise, "pidlab-noise")]:
            w.add_class(cls)
        self.source.observe(self._on_source, names="value")

    def _on_source(self, change: dict[str, Any]) -> None:
        self._sync_controls()

    def _sync_controls(self) -> None:
        """Show only the controls that apply to the chosen data source (subclasses add theirs)."""
        self._show_if(self.noise, self.source.value == "noisy")
        self._show_if(self.gate, self.source.value in ("gate", "noisy"))

    @staticmethod
    def _show_if(w: widgets.Widget, shown: bool) -> None:
        w.layout.display = None if shown else "none"

    def _gate_distribution(self) -> tuple[Distribution, str]:
        """The gate (or noisy gate) the controls describe, and a short description."""
        if self.source.value == "gate":
            return examples.get(self.gate.value), self.gate.value
        noise = float(self.noise.value)
        return examples.noisy(self.gate.value, noise), f"{self.gate.value} with target noise {noise:.2f}"

    # ------------------------------------------------------------------ intervals from samples
    def _init_intervals(self, tooltip: str, *, value: int, low: int, high: int, step: int, boot_tooltip: str) -> None:
        """The "intervals from the samples" box (``self.intervals``, level ``INTERVAL_CI``) and its
        number of resamples (``self.n_boot``, shown only while the box is ticked: the subclass's
        ``_sync_controls`` decides where either shows)."""
        self.intervals = widgets.Checkbox(value=False, description=f"{INTERVAL_CI:.0%} intervals from the samples",
                                          indent=False, tooltip=tooltip)
        self.n_boot = widgets.BoundedIntText(value=value, min=low, max=high, step=step, description="resamples",
                                             tooltip=boot_tooltip)
        self.intervals.add_class("pidlab-intervals")
        self.n_boot.add_class("pidlab-nboot")
        self.intervals.observe(lambda _c: self._sync_controls(), names="value")

    # ------------------------------------------------------------------ uploads
    def _init_upload(self, accept: str, description: str) -> None:
        """An upload button (``self.upload``) and a line saying what was loaded (``self.upload_info``).

        Subclasses have a ``source`` Dropdown with the value ``"upload"`` and implement
        ``_read_file(name, content) -> (object, description)``.
        """
        self._uploaded: tuple[str, Any] | None = None
        self._uploaded_bytes: tuple[str, bytes] | None = None
        self.upload = widgets.FileUpload(accept=accept, multiple=False, description=description,
                                         layout=widgets.Layout(width="auto"), tooltip=self.upload_tooltip)
        self.upload.add_class("pidlab-upload")
        self.upload_info = widgets.HTML("")
        self.upload.observe(self._on_upload, names="value")

    def _on_upload(self, change: dict[str, Any]) -> None:
        entries = upload_entries(change["new"])
        if not entries:
            return
        name, content = entries[-1]
        try:
            self.load_file(name, content)
        except Exception as exc:  # shown in the panel, not in the log
            self._uploaded = None
            self._uploaded_bytes = None
            self.source.value = "upload"  # never fall back silently to the data the user left
            self.upload_info.value = f"could not use <b>{html.escape(name)}</b>"
            self.error.value = error_html(exc, "upload")

    def load_file(self, name: str, content: bytes) -> Any:
        """Use the contents of a file as the panel's data (what an upload does)."""
        obj, what = self._read_file(name, content)
        self._uploaded = (name, obj)
        self._uploaded_bytes = (name, bytes(content))
        self.error.value = ""
        self.upload_info.value = f"loaded <b>{html.escape(name)}</b>: {html.escape(what)}"
        self.source.value = "upload"
        return obj

    def _read_file(self, name: str, content: bytes) -> tuple[Any, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _upload_code(self, reader: str) -> str:
        """Python reading the uploaded file again with ``pidlab.io.<reader>`` (embedded when small)."""
        if self._uploaded_bytes is None:  # pragma: no cover - compute refuses this state first
            raise PanelInputError("no file is uploaded; upload one first.")
        name, content = self._uploaded_bytes
        if len(content) <= EMBED_LIMIT:
            return f"pidlab.io.{reader}(({name!r}, {content!r}))  # the uploaded file, embedded"
        return f"pidlab.io.{reader}({name!r})  # the uploaded file: save it next to the notebook"

    def _assemble(self, title: str, rows: list[widgets.Widget], css_class: str) -> None:
        """The panel: title, ``rows``, then the export row (CSV link and "show code")."""
        export_row = widgets.VBox([self.export, self.code_view])
        export_row.add_class("pidlab-export-row")
        super().__init__([widgets.HTML(PANEL_CSS + f"<b>{title}</b>"), *rows, export_row])
        self.add_class("pidlab-panel")
        self.add_class(css_class)
        if hasattr(self, "source"):
            self._sync_controls()

    # ------------------------------------------------------------------ results and export
    def _publish(self, records: list[dict[str, Any]], code: str) -> None:
        """Record the result's rows and the code reproducing it; show the CSV link and the code."""
        self._records, self._code = records, code
        self.export.value = csv_link_html(records_csv(records), self.export_name)
        self.code_view.value = code_html(code)

    def _clear_results(self) -> None:
        """Forget the last result and blank its table, images, export and code (after a failure)."""
        self._records = self._code = None
        self.export.value = self.code_view.value = ""
        table = getattr(self, "table", None)
        if isinstance(table, widgets.HTML):
            table.value = ""
        for name in ("chart", "graph"):
            img = getattr(self, name, None)
            if isinstance(img, widgets.Image):
                self._show(img, None)
        self._forget_result()

    def _forget_result(self) -> None:
        """Subclasses set their result attributes to None."""

    def _need_result(self) -> list[dict[str, Any]]:
        if self._records is None:
            raise PanelInputError(
                f"{type(self).__name__} has no result to export; press {self.compute_label} (or call .compute()) first."
            )
        return self._records

    def to_records(self) -> list[dict[str, Any]]:
        """The last result as a list of flat dicts (one per table row; values in bits unless named otherwise).

        Raises :class:`PanelInputError` when nothing has been computed (or the last compute failed).
        """
        return [dict(r) for r in self._need_result()]

    def to_dataframe(self) -> pd.DataFrame:
        """The last result as a pandas DataFrame (the rows of :meth:`to_records`); needs pandas."""
        records = self._need_result()
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas comes with pidlab[lab]
            raise PanelInputError(
                f"to_dataframe needs pandas ({exc}); install it (pip install 'pidlab[lab]') or use "
                ".to_records() / .to_csv()."
            ) from None
        return pd.DataFrame.from_records(records)

    def to_csv(self, path: str | None = None) -> str:
        """The last result as CSV text (floats at full precision); also written to ``path`` if given."""
        text = records_csv(self._need_result())
        if path is not None:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        return text

    def code(self) -> str:
        """Python code that reproduces the last result in a fresh interpreter (what "show code" shows)."""
        self._need_result()
        assert self._code is not None
        return self._code

    @staticmethod
    def _image(css_class: str) -> widgets.Image:
        img = widgets.Image(format="png", layout=widgets.Layout(display="none"))
        img.add_class(css_class)
        return img

    @staticmethod
    def _show(img: widgets.Image, fig: Figure | None) -> None:
        if fig is None:
            img.layout.display = "none"
            return
        img.value = figure_png(fig)
        img.layout.display = None

    def compute(self) -> Any:
        """Run the panel's analysis; on failure show the reason in the panel and return None.

        Whatever happens, the panel is usable afterwards: the button is enabled again (``finally``).
        An error (a :class:`~pidlab.PidlabError` such as ``ProblemTooLargeError``, or a bug in a
        plugin) is shown in :attr:`error`; an interrupt (Kernel > Interrupt, ``KeyboardInterrupt``)
        is shown as such and re-raised, so a cell that called this method stops as asked (the
        Compute button swallows it: the panel already says what happened).
        """
        self.error.value = ""
        self.progress.bar_style = ""
        self.compute_button.disabled = True
        self.compute_button.description = "Computing…"
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = self._compute()
            # Warnings raised in a widget callback would only reach the log: show them here.
            seen = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
            if seen:
                self.status.value += "".join(f"<br>⚠ {html.escape(t)}" for t in seen)
            return out
        except Exception as exc:  # a panel reports errors in place; nothing reaches the log
            self._clear_results()
            self.status.value = "Nothing computed."
            self.error.value = error_html(exc)
            self.progress.bar_style = "danger"
            return None
        except KeyboardInterrupt:
            self._clear_results()
            self.status.value = (
                f"Interrupted: nothing computed. Press <b>{html.escape(self.compute_label)}</b> to run again."
            )
            self.error.value = error_html(
                "interrupted (Kernel > Interrupt) before the computation finished; the panel is ready again"
            )
            self.progress.bar_style = "warning"
            raise
        finally:
            self.compute_button.disabled = False
            self.compute_button.description = self.compute_label

    def _on_click(self) -> None:
        """The Compute button: like :meth:`compute`, but an interrupt stops here (the panel shows it)."""
        try:
            self.compute()
        except KeyboardInterrupt:
            pass

    def _compute(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError
