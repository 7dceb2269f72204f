"""StudyPanel: a comparative study (a family of distributions x several measures) with progress and figures."""

from __future__ import annotations

import html
import math
import re
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import numpy as np

from pidlab import examples, measures
from pidlab._plugins import lookup
from pidlab.examples import _key
from pidlab.widgets._base import PanelBase, PanelInputError
from pidlab.widgets._charts import study_atoms_figure, study_sweep_figure
from pidlab.widgets._common import measure_checkbox, swatch_html

if TYPE_CHECKING:
    from pidlab.study import Family, StudyResult

__all__ = ["StudyPanel", "FAMILIES"]

#: The families the panel offers (label, value), as in :func:`pidlab.study.family`.
FAMILIES = [("random Dirichlet tables", "dirichlet"), ("canonical gates", "gates"), ("noisy gates (noise sweep)", "noisy")]

#: The most concentration values one panel run sweeps (each is a study of its own).
MAX_CONCENTRATIONS = 50
#: The most noise levels of the noise sweep (the grid is built before the study's own size guard).
MAX_NOISE_LEVELS = 10_000


def _parse_shape(text: str) -> tuple[int, int, int]:
    parts = [p for p in re.split(r"[x×,\s]+", str(text).strip().lower()) if p]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if len(dims) != 3 or min(dims) < 2:
        raise PanelInputError(
            f"The `'shape'` parameter of StudyPanel must be three sizes >= 2 such as 2x2x2 (|X1| x |X2| x |Y|). "
            f"Got {text!r} instead. Type e.g. 2x2x2 or 3x3x2."
        )
    return dims[0], dims[1], dims[2]


def _parse_alphas(text: str) -> list[float]:
    parts = [p for p in re.split(r"[,;\s]+", str(text).strip()) if p]
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        vals = []
    if not vals or not all(math.isfinite(v) and v > 0 for v in vals):
        raise PanelInputError(
            "The `'concentration'` parameter of StudyPanel must be one or more numbers > 0 separated by commas. "
            f"Got {text!r} instead. Type e.g. 1 (uniform on the simplex) or 0.3, 1, 3 for a sweep."
        )
    if len(vals) > MAX_CONCENTRATIONS:
        raise PanelInputError(
            f"The `'concentration'` parameter of StudyPanel must hold at most {MAX_CONCENTRATIONS} values (one study "
            f"each). Got {len(vals)} instead. Sweep fewer values."
        )
    if len(set(vals)) != len(vals):
        raise PanelInputError(
            f"The `'concentration'` parameter of StudyPanel must not repeat a value. Got {text!r} instead. "
            "Remove the duplicates."
        )
    return vals


def _concat(results: list[StudyResult], names: list[str]) -> dict[str, np.ndarray]:
    return {c: np.concatenate([r.column(c) for r in results]) for c in names}


class StudyPanel(PanelBase):
    """Run a comparative study (:func:`pidlab.study.run_study`) and see it: table, atoms per measure, sweep.

    Choose a family of distributions and its parameters, tick measures (from the plugin
    registry; each keeps its colour, :func:`~pidlab.widgets.measure_color`) and press *Run
    study*. The progress bar follows :func:`~pidlab.study.run_study`'s ``progress`` callback.

    - **random Dirichlet tables**: ``n`` tables of a shape (``2x2x2``) drawn from a symmetric
      Dirichlet with the given concentration (``alpha``; 1 is uniform on the simplex) and seed.
      Several concentrations (``0.3, 1, 3``) run one study each: a sweep over the concentration.
    - **canonical gates**: the chosen gates of :mod:`pidlab.examples`.
    - **noisy gates**: the chosen gates over a sweep of noise levels (``levels`` values evenly
      spaced from the low to the high end of the range).

    The panel shows a summary table (mean of each atom per measure, bits; errors and the
    largest certified gap), the atoms of each measure over the study (box plots, CSS class
    ``pidlab-chart``) and, for a swept family, each atom's mean against the noise level or the
    concentration, one line per measure (``pidlab-sweep``). Controls that do not apply to the
    chosen family are hidden. The table exports as :meth:`to_dataframe`, :meth:`to_csv` (one
    row per distribution and measure, the columns of :class:`~pidlab.study.StudyResult`) and as
    Python code (:meth:`code`). The study runs here, in the kernel, under pidlab's size guards
    (raise them with :func:`pidlab.limits`); Kernel > Interrupt stops it and the panel stays usable.

    Parameters
    ----------
    family : {"dirichlet", "gates", "noisy"}, default "noisy"
        Initial family.
    n : int, default 200
        Number of Dirichlet tables (per concentration value).
    measures : list of str or None
        Measures ticked initially (default: all registered).

    Attributes
    ----------
    results : list of StudyResult
        The last run: one result, or one per concentration value of a Dirichlet sweep.
    result : StudyResult or None
        The last result when the run was one study (``results[0]``), else None.

    Examples
    --------
    >>> panel = StudyPanel(family="noisy", measures=["broja", "imin"])
    >>> res = panel.compute()[0]
    >>> len(res), panel.progress.value
    (22, 11)
    """

    compute_label = "Run study"
    compute_tooltip = "run the study: every distribution of the family with every ticked measure"
    export_name = "pidlab-study.csv"

    def __init__(self, family: str = "noisy", *, n: int = 200, measures: list[str] | None = None) -> None:
        key = str(family).strip().lower()
        if key not in [v for _, v in FAMILIES]:
            raise PanelInputError(
                f"The `'family'` parameter of StudyPanel must be one of {[v for _, v in FAMILIES]}. Got {family!r} "
                "instead. Pass e.g. family='noisy'."
            )
        self.results: list[StudyResult] = []
        self.result: StudyResult | None = None
        self._initial_measures = None if measures is None else [lookup("measure", m).name for m in measures]

        self.family = widgets.Dropdown(options=FAMILIES, value=key, description="family",
                                       tooltip="the family of distributions the study decomposes")
        # Dirichlet
        self.n = widgets.IntText(value=n, description="n", tooltip="number of random tables (per concentration value)")
        self.shape = widgets.Text(value="2x2x2", description="shape", tooltip="|X1| x |X2| x |Y| of the random tables")
        self.concentration = widgets.Text(
            value="1", description="concentration",
            tooltip="Dirichlet concentration alpha (1 = uniform on the simplex, small = sparse tables); "
                    "several values separated by commas sweep it")
        self.seed = widgets.IntText(value=0, description="seed", tooltip="random seed of the tables (reproducible)")
        # gates and noisy gates
        names = examples.names()
        self.gates = widgets.SelectMultiple(options=names, value=tuple(names) if key == "gates" else ("xor",),
                                            description="gates", rows=min(6, len(names)),
                                            tooltip="the canonical gates of pidlab.examples to include")
        self.noise_range = widgets.FloatRangeSlider(value=(0.0, 0.5), min=0.0, max=1.0, step=0.01,
                                                    description="noise", readout_format=".2f",
                                                    continuous_update=False,
                                                    tooltip="lowest and highest noise level of the sweep")
        self.levels = widgets.IntText(value=11, description="levels",
                                      tooltip="number of noise levels, evenly spaced over the range")
        self.measure_box = widgets.HBox([])
        self.measure_boxes: dict[str, widgets.Checkbox] = {}
        self._init_common()
        self.status.value = "Choose a family and measures, then press <b>Run study</b>."
        self.table = widgets.HTML("")
        self.chart = self._image("pidlab-chart")
        self.sweep_chart = self._image("pidlab-sweep")
        for w, cls in [
            (self.family, "pidlab-family"), (self.n, "pidlab-n"), (self.shape, "pidlab-shape"),
            (self.concentration, "pidlab-concentration"), (self.seed, "pidlab-seed"), (self.gates, "pidlab-gates"),
            (self.noise_range, "pidlab-noise-range"), (self.levels, "pidlab-levels"),
            (self.measure_box, "pidlab-measures"), (self.table, "pidlab-table"),
        ]:
            w.add_class(cls)
        self._build_measures()
        self.family.observe(lambda _c: self._sync_controls(), names="value")
        self._assemble(
            "pidlab · comparative study (bits)",
            [
                self.family,
                widgets.HBox([self.n, self.shape]),
                widgets.HBox([self.concentration, self.seed]),
                self.gates,
                widgets.HBox([self.noise_range, self.levels]),
                widgets.HBox([widgets.Label("measures"), self.measure_box]),
                widgets.HBox([self.compute_button, self.progress]),
                self.status,
                self.error,
                self.table,
                self.chart,
                self.sweep_chart,
            ],
            "pidlab-study-panel",
        )
        self._sync_controls()

    # ------------------------------------------------------------------ controls
    def _build_measures(self) -> None:
        boxes = {}
        for name in measures():
            ticked = True if self._initial_measures is None else name in self._initial_measures
            boxes[name] = measure_checkbox(name, ticked)
        self.measure_boxes = boxes
        self.measure_box.children = tuple(boxes.values())

    def _sync_controls(self) -> None:
        """Show only the parameters of the chosen family."""
        fam = self.family.value
        for w in (self.n, self.shape, self.concentration, self.seed):
            self._show_if(w, fam == "dirichlet")
        self._show_if(self.gates, fam in ("gates", "noisy"))
        for w in (self.noise_range, self.levels):
            self._show_if(w, fam == "noisy")

    def selected_measures(self) -> list[str]:
        """The ticked measures, in registry order."""
        return [n for n, cb in self.measure_boxes.items() if cb.value]

    def _forget_result(self) -> None:
        self.results, self.result = [], None
        self._show(self.sweep_chart, None)

    # ------------------------------------------------------------------ the study
    def _families(self) -> tuple[list[Family], str, str]:
        """The families to run (one, or one per concentration), their code, and a description."""
        from pidlab.study import dirichlet, gates, noisy_gates

        fam = self.family.value
        if fam == "dirichlet":
            n = self.n.value
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise PanelInputError(f"The `'n'` parameter of StudyPanel must be an integer >= 1. Got {n!r} instead. "
                                      "Type the number of random tables, e.g. 200.")
            seed = self.seed.value
            if not isinstance(seed, int) or seed < 0:
                raise PanelInputError(f"The `'seed'` parameter of StudyPanel must be an integer >= 0. Got {seed!r} "
                                      "instead. Type e.g. 0.")
            shape = _parse_shape(self.shape.value)
            alphas = _parse_alphas(self.concentration.value)
            fams: list[Family] = [dirichlet(shape, n, alpha=a, seed=seed) for a in alphas]
            code = f"dirichlet({shape!r}, n={n}, alpha={{a}}, seed={seed})"
            what = (f"{n} random {'x'.join(map(str, shape))} tables, concentration "
                    + ", ".join(f"{a:g}" for a in alphas) + f", seed {seed}")
            return fams, code, what
        chosen = [_key(g) for g in self.gates.value]
        if not chosen:
            raise PanelInputError("no gate is selected; select at least one gate (ctrl/shift-click for several).")
        if fam == "gates":
            return [gates(chosen)], f"gates({chosen!r})", f"the gates {', '.join(chosen)}"
        levels = self.levels.value
        if isinstance(levels, bool) or not isinstance(levels, int) or not 1 <= levels <= MAX_NOISE_LEVELS:
            raise PanelInputError(f"The `'levels'` parameter of StudyPanel must be an integer from 1 to "
                                  f"{MAX_NOISE_LEVELS}. Got {levels!r} instead. Type the number of noise levels, e.g. 11.")
        lo, hi = (float(v) for v in self.noise_range.value)
        if levels == 1 and lo != hi:
            raise PanelInputError(f"The `'levels'` parameter of StudyPanel must be >= 2 for a noise range "
                                  f"{lo:g}..{hi:g}. Got 1 instead. Use 2 or more levels, or make both ends equal.")
        grid = [float(round(v, 12)) for v in np.linspace(lo, hi, levels)]
        return ([noisy_gates(chosen, grid)], f"noisy_gates({chosen!r}, noise={grid!r})",
                f"the gates {', '.join(chosen)} at {levels} noise level(s) from {lo:g} to {hi:g}")

    def compute(self) -> list[StudyResult] | None:
        """Run the study and show the table and figures.

        Returns :attr:`results` (one :class:`~pidlab.study.StudyResult`, or one per concentration
        value of a Dirichlet sweep), or None when the inputs were unusable or the study failed; the
        reason is then shown in :attr:`error`.
        """
        return super().compute()

    def _compute(self) -> list[StudyResult]:
        from pidlab.study import check_study_size, run_study

        self.progress.value = 0  # a run refused below must not show the last run's progress
        chosen = self.selected_measures()
        if not chosen:
            raise PanelInputError("no measure is ticked; tick at least one measure to compare.")
        fams, fam_code, what = self._families()
        total = sum(len(f) for f in fams)
        if len(fams) > 1:  # each study guards itself; the sweep as a whole is guarded here, before any work
            check_study_size(fams, chosen)
        self.progress.max = max(total, 1)
        self.progress.value = 0
        results: list[StudyResult] = []
        offset = 0
        for k, fam in enumerate(fams):
            self.status.value = (f"Running study {k + 1}/{len(fams)}: " if len(fams) > 1 else "Running: ") + \
                f"{len(fam)} distribution(s) x {len(chosen)} measure(s) …"

            def tick(done: int, _total: int, base: int = offset) -> None:
                self.progress.value = base + done

            results.append(run_study(fam, chosen, progress=tick))
            offset += len(fam)
            self.progress.value = offset
        self.results, self.result = results, (results[0] if len(results) == 1 else None)
        self.table.value = self._table_html(results)
        x, sweep = self._sweep(results)
        self._show(self.chart, study_atoms_figure(_concat(results, ["measure", "R", "U1", "U2", "S", "net"]),
                                                   chosen, title=what))
        self._show(self.sweep_chart, sweep)
        records = [row for r in results for row in r.rows()]
        self._publish(records, self._code_for(fam_code, [f.to_dict().get("alpha") for f in fams], chosen))
        errors = sum(r.summary().groups[g]["n_error"] for r in results for g in r.summary().groups)
        elapsed = sum(r.elapsed for r in results)
        self.status.value = (
            f"Computed {total} distribution(s) x {len(chosen)} measure(s) ({len(records)} rows) on "
            f"<b>{html.escape(what)}</b> in {elapsed:.2f} s"
            + (f"; swept {html.escape(x)}" if x else "") + "."
            + (f"<br>⚠ {errors} row(s) failed: see the error column of the export." if errors else "")
        )
        return results

    def _sweep(self, results: list[StudyResult]) -> tuple[str | None, Any]:
        """The sweep figure (atoms against the swept parameter, one line per measure), if the family is swept."""
        if len(results) > 1:
            x = "alpha"
        elif self.family.value == "noisy" and len(np.unique(results[0].column("noise"))) > 1:
            x = "noise"
        else:
            return None, None
        cols = _concat(results, ["measure", x, "R", "U1", "U2", "S", "net"])
        facet = None
        if x == "noise" and len(np.unique(results[0].column("gate"))) > 1:  # one row of axes per gate
            facet = results[0].column("gate")
        label = "noise level" if x == "noise" else "Dirichlet concentration alpha"
        return x, study_sweep_figure(cols, x, self.selected_measures(), facet=facet, xlabel=label)

    @staticmethod
    def _table_html(results: list[StudyResult]) -> str:
        """Per measure (and per concentration value of a sweep): mean of each atom, errors, largest gap."""
        sweep = len(results) > 1
        head = ["measure", *(["alpha"] if sweep else []), "n", "mean R", "mean U1", "mean U2", "mean S", "mean net",
                "errors", "max gap"]
        rows = []
        for r in results:
            alpha = r.column("alpha")[0] if sweep else None
            for g, d in r.summary().groups.items():
                cells = [f"{d[q]['mean']:.6f}" if d.get(q) else "—" for q in ("R", "U1", "U2", "S", "net")]
                gap = "—" if d["max_gap"] is None else f"{d['max_gap']:.1e}"
                m = g.split("/")[0]
                rows.append(
                    f"<tr class='pidlab-row-{html.escape(m)}'><td>{swatch_html(m)}{html.escape(g)}</td>"
                    + (f"<td>{alpha:g}</td>" if sweep else "")
                    + f"<td>{d['n']}</td>" + "".join(f"<td>{c}</td>" for c in cells)
                    + f"<td>{d['n_error']}</td><td>{gap}</td></tr>"
                )
        return (
            "<div class='pidlab-comparison'><table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head)
            + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p>bits; mean over the distributions; — = atom not defined by the measure; net = S − R (WMS) or "
            f"R − S (CI); max gap = widest certified bracket</p></div>"
        )

    @staticmethod
    def _code_for(fam_code: str, alphas: list[Any], chosen: list[str]) -> str:
        """Python reproducing the exported table (one run_study per concentration value of a sweep)."""
        head = "from pidlab.study import dirichlet, gates, noisy_gates, run_study\n\n"
        if len(alphas) > 1:
            return (
                head + "import pandas as pd\n\n"
                f"results = [run_study({fam_code.format(a='a')}, {chosen!r}) for a in {alphas!r}]\n"
                "table = pd.concat([r.to_frame() for r in results], ignore_index=True)\n"
                "print(table)\n"
            )
        return (
            head + f"result = run_study({fam_code.format(a=alphas[0])}, {chosen!r})\n"
            "table = result.to_frame()\n"
            "print(result.table())\n"
        )
