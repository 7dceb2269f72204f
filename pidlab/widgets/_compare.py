"""ComparePanel: several PID measures on one distribution, side by side."""

from __future__ import annotations

import html
import time
import warnings
from typing import Any

import ipywidgets as widgets

from pidlab import Comparison, Distribution, compare, measures, solvers
from pidlab._plugins import lookup
from pidlab._render import fmt_bits
from pidlab._results import ATOMS
from pidlab.exceptions import SolverError
from pidlab.widgets._base import INTERVAL_CI, INTERVAL_SEED, PanelBase, PanelInputError
from pidlab.widgets._charts import comparison_figure
from pidlab.widgets._common import distribution_from_file, error_html, measure_checkbox, swatch_html

__all__ = ["ComparePanel", "AUTO", "AUTO_SOLVER", "PanelInputError", "comparison_panel_html", "comparison_records", "RECORD_COLUMNS"]

#: Label and value of the solver menu entry that lets pidlab choose (``solver=None``). A Dropdown
#: treats the value None as "nothing selected", so the entry has a string value.
AUTO_SOLVER = "auto (preferred available)"
AUTO = "auto"
#: Surrogates per test of the intervals the panel draws from uploaded samples (their level and
#: seed: ``INTERVAL_CI``, ``INTERVAL_SEED`` of the panel base).
INTERVAL_PERMUTATIONS = 99
#: The columns of an uploaded CSV of samples (as pidlab.widgets.distribution_from_file reads them).
SAMPLE_COLUMNS = ("x1", "x2", "y")


def _bracket_cell(r: Any) -> str:
    """The certified bracket of each atom (as ``%pidlab decompose`` shows it), or — without one."""
    if not r.bracket:
        return "—"
    lines = [f"{a} [{r.bracket[a][0]:.9f}, {r.bracket[a][1]:.9f}]" for a in ATOMS if a in r.bracket]
    return "<br>".join(html.escape(x) for x in lines)


def comparison_panel_html(cmp: Comparison) -> str:
    """The ComparePanel table: atoms, net quantity, certified bracket, solver and status per measure.

    Each measure's name carries a swatch of its chart colour.
    """
    head = "".join(f"<th>{h}</th>" for h in
                   ("measure", "R", "U1", "U2", "S", "net", "certified bracket (bits)", "solver", "status"))
    rows = []
    for r in cmp.results:
        net = "" if r.net is None else f"{r.net:+.6f} ({html.escape(str(r.net_kind))})"
        cells = [fmt_bits(getattr(r, a)) for a in ATOMS]
        rows.append(
            f"<tr class='pidlab-row-{html.escape(r.measure)}'><td>{swatch_html(r.measure)}{html.escape(r.measure)}</td>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + f"<td>{net}</td><td class='pidlab-bracket'>{_bracket_cell(r)}</td>"
            f"<td>{html.escape(r.solver or '')}</td><td>{html.escape(str(r.status) if r.status is not None else '')}</td></tr>"
        )
    return (
        f"<div class='pidlab-comparison'><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p>bits; target <b>{html.escape(cmp.target)}</b>; — = atom not defined by the measure, or (bracket) "
        "the measure reports no certified interval</p></div>"
    )


#: The columns of :func:`comparison_records` (and of the panel's CSV export), in order.
RECORD_COLUMNS = (
    "data", "target", "measure", *ATOMS, "net", "net_kind", *(f"{a}_{e}" for a in ATOMS for e in ("lower", "upper")),
    "certified_gap", "solver", "status", "error",
    *(f"{a}_{e}" for a in ATOMS for e in ("ci_low", "ci_high", "corrected", "p_value")), "ci", "n_samples",
)


def comparison_records(cmp: Comparison, data: str = "", samples: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One flat dict per measure (bits): atoms, net, certified bracket per atom, gap, solver, status, error;
    with ``samples`` (measure -> :class:`pidlab.SampleDecomposition`) also each atom's bootstrap
    interval, bias-corrected value and p-value, the confidence level and the number of samples.

    A measure that failed (``compare(..., errors="record")``) is a row with its message in ``error``.
    """
    out: list[dict[str, Any]] = []
    for r in cmp.results:
        rec: dict[str, Any] = dict.fromkeys(RECORD_COLUMNS)
        rec.update(data=data, target=cmp.target, measure=r.measure, net=r.net, net_kind=r.net_kind, solver=r.solver,
                   status=str(r.status) if r.status is not None else None)
        rec.update({a: getattr(r, a) for a in ATOMS})
        for a in ATOMS:
            lohi = (r.bracket or {}).get(a)
            if lohi:
                rec[f"{a}_lower"], rec[f"{a}_upper"] = float(lohi[0]), float(lohi[1])
        rec["certified_gap"] = float(r.certificate.gap) if r.certificate is not None else None
        sd = (samples or {}).get(r.measure)
        if sd is not None:
            rec.update(ci=sd.ci, n_samples=sd.n_samples)
            for a in ATOMS:
                if a in sd.atoms:
                    iv = sd.interval[a]
                    rec[f"{a}_ci_low"], rec[f"{a}_ci_high"] = (None, None) if iv is None else (iv[0], iv[1])
                    rec[f"{a}_corrected"], rec[f"{a}_p_value"] = sd.corrected[a], sd.p_value[a]
        out.append(rec)
    for m, err in cmp.errors:
        rec = dict.fromkeys(RECORD_COLUMNS)
        rec.update(data=data, target=cmp.target, measure=m, error=err)
        out.append(rec)
    return out


class ComparePanel(PanelBase):
    """Compare PID measures on one distribution: controls, a table and a grouped bar chart.

    The distribution is a canonical gate (``pidlab.examples.names()``), a noisy gate
    (``pidlab.examples.noisy(name, noise)``, noise slider) or an uploaded file: JSON holding a
    nested list ``p[x1][x2][y]``, or CSV with one sample per row and columns ``x1,x2,y``. The
    measure checkboxes and the solver menu are built from the plugin registry, so a measure
    registered by a third-party plugin appears without any change here (press *refresh plugins*
    for one registered after the panel was built). Results are in bits; WMS and CI are drawn as
    the net quantities they are (S − R and R − S), not as atoms. The table has a certified
    bracket column (each atom's interval from the solver's certificate, as ``%pidlab decompose``
    shows it); each measure keeps one colour (:func:`~pidlab.widgets.measure_color`) whichever
    measures are ticked. Errors show as a message in the panel (``.error``), never as a
    traceback. The result exports as :meth:`to_dataframe`, :meth:`to_csv` (and a download link)
    and as Python code (:meth:`code`, "show code").

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
    >>> panel = ComparePanel(gate="and", measures=["imin", "wms"])
    >>> cmp = panel.compute()
    >>> round(cmp["imin"].R, 6), round(cmp["wms"].net, 6), panel.progress.value
    (0.311278, 0.188722, 2)
    """

    export_name = "pidlab-compare.csv"
    upload_tooltip = "upload a distribution: .json (nested list p[x1][x2][y]) or .csv (one sample per row, columns x1,x2,y)"
    compute_tooltip = "decompose the chosen distribution with every ticked measure"

    def __init__(
        self, gate: str = "xor", *, noise: float = 0.1, measures: list[str] | None = None, solver: str | None = None
    ) -> None:
        self.result: Comparison | None = None
        self.distribution: Distribution | None = None
        self._initial_measures = None if measures is None else [lookup("measure", m).name for m in measures]

        self._init_source(gate, noise, [("uploaded file", "upload")])
        self._init_upload(".json,.csv", "upload JSON/CSV")
        self.measure_box = widgets.HBox([])
        self.measure_boxes: dict[str, widgets.Checkbox] = {}
        self.refresh_button = widgets.Button(description="refresh plugins", icon="refresh",
                                             tooltip="pick up measures and solvers registered since the panel was built")
        self.solver = widgets.Dropdown(description="solver")
        self.solver.observe(lambda _c: self._solver_tooltip(), names="value")
        #: Uploaded samples (.csv) only: bootstrap intervals, corrected values and tests of every atom
        #: (pidlab.decompose_samples), drawn as error bars; hidden for any other data.
        self._init_intervals(
            "uploaded samples (.csv): a bootstrap interval (hull of BCa and percentile), a bias-corrected value and a "
            "test of atom = 0 for every atom (pidlab.decompose_samples); error bars on the chart",
            value=500, low=50, high=20_000, step=50,
            boot_tooltip="bootstrap resamples of the samples (more: steadier interval ends)",
        )
        #: measure -> SampleDecomposition of the last compute with intervals (else empty)
        self.sample_results: dict[str, Any] = {}
        self._init_common()
        self.status.value = "Choose a distribution and measures, then press <b>Compute</b>."
        self.table = widgets.HTML("")
        self.chart = self._image("pidlab-chart")

        for w, cls in [
            (self.measure_box, "pidlab-measures"), (self.refresh_button, "pidlab-refresh"), (self.solver, "pidlab-solver"), (self.table, "pidlab-table"),
        ]:
            w.add_class(cls)

        self.refresh_plugins()
        if solver is not None:
            entry = lookup("solver", solver)
            ok, reason = entry.availability()
            if not ok:
                raise SolverError(
                    f"solver {entry.name!r} is not available here ({reason}); "
                    f"choose one of {solvers(available=True)} or leave solver=None."
                )
            self.solver.value = entry.name

        self.refresh_button.on_click(lambda _b: self._on_refresh())

        self._assemble(
            "pidlab · compare PID measures (bits)",
            [
                widgets.HBox([self.source, self.gate, self.noise]),
                widgets.HBox([self.upload, self.upload_info, self.intervals, self.n_boot]),
                widgets.HBox([widgets.Label("measures"), self.measure_box, self.refresh_button]),
                widgets.HBox([self.solver, self.compute_button, self.progress]),
                self.status,
                self.error,
                self.table,
                self.chart,
            ],
            "pidlab-compare-panel",
        )

    # ------------------------------------------------------------------ registry
    def refresh_plugins(self) -> None:
        """Rebuild the measure checkboxes and the solver menu from the plugin registry.

        Ticks already set by the user are kept; new measures start ticked.
        """
        old = {n: cb.value for n, cb in self.measure_boxes.items()}
        boxes = {}
        for name in measures():
            if name in old:
                ticked = old[name]
            elif self._initial_measures is not None and not old:
                ticked = name in self._initial_measures
            else:
                ticked = True
            boxes[name] = measure_checkbox(name, ticked)
        self.measure_boxes = boxes
        self.measure_box.children = tuple(boxes.values())
        current = self.solver.value
        options = [(AUTO_SOLVER, AUTO)] + [(n, n) for n in solvers(available=True)]
        self.solver.options = options
        self.solver.value = current if current in [v for _, v in options] else AUTO
        self._solver_tooltip()

    def _solver_tooltip(self) -> None:
        """The solver menu's tooltip describes the chosen solver."""
        v = self.solver.value
        if v in (AUTO, None):
            self.solver.tooltip = ("BROJA solver: pidlab's preferred available one "
                                   f"({', '.join(solvers(available=True))}); other measures need none")
        else:
            self.solver.tooltip = f"BROJA solver: {lookup('solver', v).description}"

    def _on_refresh(self) -> None:
        """The refresh button: a failure (a broken plugin) is shown in the panel, not in the log."""
        try:
            self.refresh_plugins()
        except Exception as exc:
            self.error.value = error_html(exc, "refreshing the plugin list")

    def _samples_uploaded(self) -> bool:
        return (self.source.value == "upload" and self._uploaded_bytes is not None
                and self._uploaded_bytes[0].lower().endswith(".csv"))

    def _sync_controls(self) -> None:
        super()._sync_controls()
        if hasattr(self, "intervals"):
            samples = self._samples_uploaded()
            self._show_if(self.intervals, samples)
            self._show_if(self.n_boot, samples and bool(self.intervals.value))

    def load_file(self, name: str, content: bytes) -> Any:
        obj = super().load_file(name, content)
        self._sync_controls()  # the source may already have been "upload": no change event then
        return obj

    def selected_measures(self) -> list[str]:
        """The ticked measures, in registry order."""
        return [n for n, cb in self.measure_boxes.items() if cb.value]

    # ------------------------------------------------------------------ inputs
    def _read_file(self, name: str, content: bytes) -> tuple[Distribution, str]:
        """JSON or CSV (see the class docstring and :func:`~pidlab.widgets.distribution_from_file`)."""
        dist = distribution_from_file(name, content)
        return dist, f"|X1|×|X2|×|Y| = {'×'.join(map(str, dist.shape))}"

    def _forget_result(self) -> None:
        self.result = self.distribution = None
        self.sample_results = {}

    def _code_for(self, chosen: list[str], solver: str | None) -> str:
        """Python reproducing the current result with :func:`pidlab.compare` (and, with intervals,
        :func:`pidlab.decompose_samples` on the uploaded samples)."""
        read = ""
        if self.source.value == "gate":
            load = f"pidlab.examples.get({self.gate.value!r})"
        elif self.source.value == "noisy":
            load = f"pidlab.examples.noisy({self.gate.value!r}, {float(self.noise.value)!r})"
        elif self.sample_results:
            call, _, comment = self._upload_code("read_samples").partition("  # ")
            read = (f"x1, x2, y = {call[:-1]}, {list(SAMPLE_COLUMNS)!r})" + (f"  # {comment}" if comment else "")
                    + "\n")
            names = self.distribution.names if self.distribution is not None else ("X1", "X2", "Y")
            load = f"pidlab.Distribution.from_samples(x1, x2, y, names={tuple(names)!r})"
        else:
            load = self._upload_code("read_distribution")
        solver_arg = "" if solver is None else f", solver={solver!r}"
        code = (
            "import pidlab\n\n"
            f"{read}d = {load}\n"
            f"result = pidlab.compare(d, {chosen!r}{solver_arg}, errors=\"record\")\n"
            "print(result.table())\n"
        )
        if self.sample_results:
            code += (
                f"for m in {list(self.sample_results)!r}:  # {INTERVAL_CI:.0%} intervals, corrected values, tests\n"
                f"    print(pidlab.decompose_samples(x1, x2, y, m, ci={INTERVAL_CI}, n_boot={int(self.n_boot.value)}, "
                f"permutations={INTERVAL_PERMUTATIONS}, seed={INTERVAL_SEED}, names=d.names).table())\n"
            )
        return code

    def current_distribution(self) -> tuple[Distribution, str]:
        """The distribution the controls describe, and a short description of it."""
        if self.source.value in ("gate", "noisy"):
            return self._gate_distribution()
        if self._uploaded is None:
            raise PanelInputError(
                "no usable file uploaded; upload a JSON file (nested list p[x1][x2][y]) or a CSV file "
                "(columns x1,x2,y), or choose a gate as the data."
            )
        name, dist = self._uploaded
        return dist, f"file {name}"

    # ------------------------------------------------------------------ compute
    def compute(self) -> Comparison | None:
        """Decompose the chosen distribution with every ticked measure and show the result.

        Returns the :class:`~pidlab.Comparison` (also kept in :attr:`result`), or None when the
        inputs were unusable; the reason is then shown in :attr:`error`. A measure that fails is
        listed in the error area while the others are still shown.
        """
        return super().compute()

    def _compute(self) -> Comparison:
        dist, what = self.current_distribution()
        chosen = self.selected_measures()
        if not chosen:
            raise PanelInputError("no measure is ticked; tick at least one measure to compare.")
        solver = None if self.solver.value == AUTO else self.solver.value
        self.progress.max = len(chosen)
        self.progress.value = 0
        results: list[Any] = []
        errors: list[tuple[str, str]] = []
        caught: list[Any] = []
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
            caught.extend(f"{m}: {w.category.__name__}: {w.message}" for w in rec)
            self.progress.value = i + 1
        cmp = Comparison(tuple(results), dist.target, tuple(errors))
        self.sample_results = {}
        if self.intervals.value and self._samples_uploaded():
            self._intervals(cmp, errors, dist.names)
        self.result, self.distribution = cmp, dist
        elapsed = time.perf_counter() - t0
        notes = "".join(f"<li>{html.escape(r.measure)}: {html.escape(n)}</li>" for r in results for n in r.notes)
        if errors:  # interval failures are added to the measures' errors
            self.error.value = "<br>".join(error_html(e, f"measure {m} failed") for m, e in errors)
        bars = {m: {a: sd.interval[a] for a in sd.atoms if sd.interval[a] is not None} for m, sd in self.sample_results.items()}
        self.table.value = (comparison_panel_html(cmp) + (f"<ul class='pidlab-notes'>{notes}</ul>" if notes else "")
                            + self._samples_html())
        self._show(self.chart, comparison_figure(cmp, intervals=bars) if results else None)
        self._publish(comparison_records(cmp, what, self.sample_results), self._code_for(chosen, solver))
        # Last, so that a 'Computed' status means the table and chart are already there.
        self.status.value = (
            f"Computed {len(results)} of {len(chosen)} measure(s) on <b>{html.escape(what)}</b> "
            f"(target {html.escape(dist.target)}, I(X1,X2;Y) = {dist.mutual_information((0, 1), 2):.6f} bits) "
            f"in {elapsed:.2f} s."
            + "".join(f"<br>⚠ {html.escape(c)}" for c in caught)
        )
        return cmp

    def _intervals(self, cmp: Comparison, errors: list[tuple[str, str]], names: tuple[str, str, str]) -> None:
        """Bootstrap intervals, corrected values and tests of every full decomposition of ``cmp``
        from the uploaded samples (:func:`pidlab.decompose_samples`); failures go to ``errors``."""
        from pidlab import decompose_samples
        from pidlab.io import read_samples

        assert self._uploaded_bytes is not None  # _samples_uploaded() was checked
        x1, x2, y = read_samples(self._uploaded_bytes, SAMPLE_COLUMNS)
        full = [r.measure for r in cmp.results if not r.is_net]
        self.progress.max = self.progress.value + len(full)
        for m in full:
            self.status.value = (f"Bootstrap intervals of <b>{html.escape(m)}</b> ({int(self.n_boot.value)} resamples "
                                 f"of {len(y)} samples) …")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # what a warning says is in the result's flags
                    self.sample_results[m] = decompose_samples(
                        x1, x2, y, m, ci=INTERVAL_CI, n_boot=int(self.n_boot.value),
                        permutations=INTERVAL_PERMUTATIONS, seed=INTERVAL_SEED, names=names)
            except Exception as exc:
                errors.append((m, f"intervals: {type(exc).__name__}: {exc}"))
            self.progress.value += 1

    def _samples_html(self) -> str:
        if not self.sample_results:
            return ""
        first = next(iter(self.sample_results.values()))
        parts = [f"<div class='pidlab-samples'><p><b>From the {first.n_samples} samples</b>: {first.ci:.0%} "
                 f"bootstrap intervals (hull of BCa and percentile; {first.n_boot} resamples, seed {INTERVAL_SEED}), bias-corrected values and "
                 f"p-values of atom = 0 ({first.permutations} surrogates); the error bars on the chart.</p>"]
        parts += [sd._repr_html_() for sd in self.sample_results.values()]
        return "".join(parts) + "</div>"
