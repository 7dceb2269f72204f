"""The part every panel shares: Compute button, progress, status, in-panel errors, PNG images."""

from __future__ import annotations

import html
import warnings
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from pidlab import examples
from pidlab.examples import _key
from pidlab.widgets._common import PANEL_CSS, error_html, figure_png, upload_entries

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from pidlab import Distribution

__all__ = ["PanelBase"]


class PanelBase(widgets.VBox):
    """Base of the pidlab panels (an ``ipywidgets.VBox``).

    Subclasses build their controls, call :meth:`_init_common` first and :meth:`_assemble` last,
    and implement ``_compute()``. :meth:`compute` (also the Compute button) runs it with the button
    disabled, turns ANY exception into a readable message in :attr:`error` (CSS class
    ``pidlab-error``) and appends warnings to :attr:`status`: a panel never puts a traceback (or
    a warning) in the log, where a notebook user would not see it.
    """

    compute_label = "Compute"

    def _init_common(self) -> None:
        self.compute_button = widgets.Button(description=self.compute_label, button_style="primary", icon="play")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="progress")
        self.status = widgets.HTML("")
        self.error = widgets.HTML("")
        for w, cls in [
            (self.compute_button, "pidlab-compute"), (self.progress, "pidlab-progress"),
            (self.status, "pidlab-status"), (self.error, "pidlab-error"),
        ]:
            w.add_class(cls)
        self.compute_button.on_click(lambda _b: self._on_click())

    # ------------------------------------------------------------------ data source
    def _init_source(self, gate: str, noise: float, more: list[tuple[str, str]]) -> None:
        """``self.source`` (canonical gate, noisy gate, then ``more``), ``self.gate``, ``self.noise``."""
        self.source = widgets.Dropdown(options=[("canonical gate", "gate"), ("noisy gate", "noisy"), *more],
                                       value="gate", description="data")
        self.gate = widgets.Dropdown(options=examples.names(), value=_key(gate), description="gate")
        self.noise = widgets.FloatSlider(value=noise, min=0.0, max=0.5, step=0.01, description="noise",
                                         readout_format=".2f", continuous_update=False, disabled=True)
        for w, cls in [(self.source, "pidlab-source"), (self.gate, "pidlab-gate"), (self.noise, "pidlab-noise")]:
            w.add_class(cls)
        self.source.observe(self._on_source, names="value")

    def _on_source(self, change: dict[str, Any]) -> None:
        self.noise.disabled = change["new"] != "noisy"
        self.gate.disabled = change["new"] not in ("gate", "noisy")

    def _gate_distribution(self) -> tuple[Distribution, str]:
        """The gate (or noisy gate) the controls describe, and a short description."""
        if self.source.value == "gate":
            return examples.get(self.gate.value), self.gate.value
        noise = float(self.noise.value)
        return examples.noisy(self.gate.value, noise), f"{self.gate.value} with target noise {noise:.2f}"

    # ------------------------------------------------------------------ uploads
    def _init_upload(self, accept: str, description: str) -> None:
        """An upload button (``self.upload``) and a line saying what was loaded (``self.upload_info``).

        Subclasses have a ``source`` Dropdown with the value ``"upload"`` and implement
        ``_read_file(name, content) -> (object, description)``.
        """
        self._uploaded: tuple[str, Any] | None = None
        self.upload = widgets.FileUpload(accept=accept, multiple=False, description=description,
                                         layout=widgets.Layout(width="auto"))
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
            self.source.value = "upload"  # never fall back silently to the data the user left
            self.upload_info.value = f"could not use <b>{html.escape(name)}</b>"
            self.error.value = error_html(exc, "upload")

    def load_file(self, name: str, content: bytes) -> Any:
        """Use the contents of a file as the panel's data (what an upload does)."""
        obj, what = self._read_file(name, content)
        self._uploaded = (name, obj)
        self.error.value = ""
        self.upload_info.value = f"loaded <b>{html.escape(name)}</b>: {html.escape(what)}"
        self.source.value = "upload"
        return obj

    def _read_file(self, name: str, content: bytes) -> tuple[Any, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _assemble(self, title: str, rows: list[widgets.Widget], css_class: str) -> None:
        super().__init__([widgets.HTML(PANEL_CSS + f"<b>{title}</b>"), *rows])
        self.add_class("pidlab-panel")
        self.add_class(css_class)

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
            self.status.value = "Nothing computed."
            self.error.value = error_html(exc)
            self.progress.bar_style = "danger"
            return None
        except KeyboardInterrupt:
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
