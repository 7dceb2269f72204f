"""The result of a comparative study: a tidy table, summaries, export and a figure helper."""

from __future__ import annotations

import csv
import hashlib
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pidlab._render import jsonable
from pidlab._results import FrozenMap, Result, freeze, thaw
from pidlab.study._families import InvalidStudyError, MissingDependencyError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["StudyResult", "StudySummary", "ATOM_COLUMNS", "FLOAT_COLUMNS", "BOUND_COLUMNS"]

ATOM_COLUMNS = ("R", "U1", "U2", "S")
FLOAT_COLUMNS = ("R", "U1", "U2", "S", "net", "I_x1y", "I_x2y", "I_x1x2y", "gap")
#: Columns after the family parameters, in table order.
TAIL_COLUMNS = ("shape", "target", "measure", "solver", "batched", "status", "R", "U1", "U2", "S", "net",
                "net_kind", "I_x1y", "I_x2y", "I_x1x2y", "gap", "error")
#: Columns of a study run with ``bounds=True``: the semi-supervised bounds on S (bits).
BOUND_COLUMNS = ("S_lower_redundancy", "S_lower_disagreement", "S_lower", "S_upper")
STAT_NAMES = ("mean", "std", "min", "q05", "q25", "median", "q75", "q95", "max")


def _py(v: Any) -> Any:
    """Plain JSON-ready Python value (NaN -> None)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _stats(v: np.ndarray) -> dict[str, float]:
    qs = np.quantile(v, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()), "q05": float(qs[0]),
            "q25": float(qs[1]), "median": float(qs[2]), "q75": float(qs[3]), "q95": float(qs[4]),
            "max": float(v.max())}


@dataclass(frozen=True, eq=False)
class StudySummary(Result):
    """Per-(measure, solver) statistics of a study, in bits.

    ``groups`` maps ``"measure"`` (or ``"measure/solver"`` when several BROJA solvers were run)
    to a mapping with ``n`` (rows), ``n_ok`` (rows without error), ``n_error``, ``status`` (counts
    per status), ``max_gap`` and, for each of R, U1, U2, S, net, the statistics ``mean, std, min,
    q05, q25, median, q75, q95, max`` over the rows where the quantity is a number (None if none
    is), with ``n`` (those rows), ``n_error`` and ``n_nan`` (rows left out: failed, or not a number
    in a row that did not fail). :meth:`left_out` says it in words; the table prints it. The
    mappings are read-only (:class:`~pidlab._results.FrozenMap`); ``to_dict()`` gives plain
    dicts. A :class:`~pidlab._results.Result`, compared and hashed by identity.
    """

    target: str
    groups: Mapping[str, Mapping[str, Any]]
    units: str = "bits"

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", freeze(self.groups, sequences=False))

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "units": self.units, "groups": thaw(self.groups)}

    def left_out(self) -> list[str]:
        """One line per group whose statistics leave rows out (rows with status ``"error"``, or a
        quantity that is not a number in a row that did not fail); empty when every row counts."""
        out = []
        for g, d in self.groups.items():
            parts: dict[tuple[int, int], list[str]] = {}
            for q in (*ATOM_COLUMNS, "net"):
                st = d.get(q)
                if st and (st.get("n_error") or st.get("n_nan")):
                    parts.setdefault((st["n_error"], st["n_nan"]), []).append(q)
            for (n_err, n_nan), qs in parts.items():
                why = []
                if n_err:
                    why.append(f"{n_err} with status 'error'")
                if n_nan:
                    why.append(f"{n_nan} whose value is not a number")
                out.append(f"{g}: {', '.join(qs)} over {d['n'] - n_err - n_nan} of {d['n']} rows; "
                           f"left out: {' and '.join(why)} (kept in the table)")
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per group, columns ``n, n_ok, <atom>_<stat>, ..., status``."""
        pd = _pandas()
        recs = []
        for g, d in self.groups.items():
            rec: dict[str, Any] = {"group": g, "n": d["n"], "n_ok": d["n_ok"], "max_gap": d["max_gap"]}
            for q in (*ATOM_COLUMNS, "net"):
                for s in STAT_NAMES:
                    rec[f"{q}_{s}"] = (d[q] or {}).get(s) if d[q] else None
            rec["status"] = ", ".join(f"{k}: {v}" for k, v in d["status"].items())
            recs.append(rec)
        return pd.DataFrame.from_records(recs).set_index("group")

    def table(self) -> str:
        """Plain-text table: mean [q05, q95] of each atom per measure, and status counts."""
        from pidlab._render import study_summary_text

        return study_summary_text(self)

    def __repr__(self) -> str:
        return f"<StudySummary target={self.target!r}, groups={list(self.groups)}, {self.units}>"

    def _repr_html_(self) -> str:
        from pidlab._render import study_summary_html

        return study_summary_html(self)


@dataclass(frozen=True, eq=False)
class StudyResult(Result):
    """Results of :func:`pidlab.study.run_study`: one row per (distribution, measure[, solver]).

    A :class:`~pidlab._results.Result` (``to_dict``, ``to_json``, ``table``/``str``,
    ``_repr_html_``); compared and hashed by identity (it holds arrays).

    Attributes
    ----------
    spec : FrozenMap
        The study specification (family, measures, solvers, batch): the same spec gives the same
        table, bit for bit, whatever the executor and chunking. Read-only (nested mappings too).
    columns : FrozenMap of str -> ndarray
        The tidy table, column-wise (a read-only mapping of read-only arrays). Columns: ``item`` (index in the family),
        ``family``, the family parameters (e.g. ``alpha, seed`` or ``gate, noise``), ``shape``
        (``"2x2x2"``), ``target``, ``measure``, ``solver`` (``""`` for closed forms),
        ``batched`` (solved by :func:`pidlab.decompose_many`), ``status`` (a
        :class:`pidlab.Status` value, ``"closed-form"``, or ``"error"``), ``R, U1, U2, S``
        (bits; NaN where the measure does not define them), ``net`` and ``net_kind`` (WMS and
        CI), ``I_x1y, I_x2y, I_x1x2y``, ``gap`` (certified bracket width, bits; NaN for closed
        forms), ``error`` (the message of a failure, ``""`` if none).
    target : str
        Name of the target variable.
    executor : str
        How it ran (not part of the result's identity).
    n_chunks, chunk_size : int
    elapsed : float
        Wall-clock seconds of the run.
    notes : tuple of str
        Errors and non-optimal statuses, counted.
    """

    spec: Mapping[str, Any]
    columns: Mapping[str, np.ndarray]
    target: str = "Y"
    executor: str = "local"
    n_chunks: int = 1
    chunk_size: int = 0
    elapsed: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    units: str = "bits"

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", freeze(self.spec, sequences=False))
        if not isinstance(self.columns, FrozenMap):
            object.__setattr__(self, "columns", FrozenMap(self.columns))

    # ------------------------------------------------------------------ basic views
    def __len__(self) -> int:
        return int(self.columns["item"].shape[0])

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    @property
    def n_items(self) -> int:
        """Number of distributions in the study."""
        return int(self.spec.get("n_items", len(np.unique(self.columns["item"]))))

    def column(self, name: str) -> np.ndarray:
        """One column of the table (read-only array)."""
        if name not in self.columns:
            from pidlab.exceptions import UnknownNameError

            raise UnknownNameError(f"no column {name!r} in this study's table; it has {', '.join(self.column_names)}.")
        return self.columns[name]

    def rows(self) -> list[dict[str, Any]]:
        """The table as a list of plain dicts (NaN -> None)."""
        cols = list(self.columns.items())
        return [{k: _py(v[i]) for k, v in cols} for i in range(len(self))]

    def select(self, **equal: Any) -> StudyResult:
        """The rows whose columns equal the given values, e.g. ``select(measure="broja", gate="xor")``.

        A list or tuple value keeps rows equal to any of its elements.
        """
        mask = np.ones(len(self), dtype=bool)
        for k, v in equal.items():
            col = self.column(k)
            vals = list(v) if isinstance(v, (list, tuple, set)) else [v]
            mask &= np.isin(col, np.asarray(vals, dtype=col.dtype)) if col.dtype != object else np.array(
                [x in vals for x in col], dtype=bool)
        cols = {}
        for k, v in self.columns.items():
            a = v[mask]
            a.setflags(write=False)
            cols[k] = a
        return StudyResult(dict(self.spec, selection={k: jsonable(v) for k, v in equal.items()}), cols, self.target,
                           self.executor, self.n_chunks, self.chunk_size, self.elapsed, self.notes, self.units)

    def to_frame(self) -> pd.DataFrame:
        """The tidy table as a pandas DataFrame (needs pandas: ``pip install pandas``)."""
        pd = _pandas()
        return pd.DataFrame({k: v.copy() for k, v in self.columns.items()})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: spec, target, units, run metadata, notes, rows and the summary."""
        return {
            "spec": thaw(self.spec),
            "target": self.target,
            "units": self.units,
            "executor": self.executor,
            "n_chunks": self.n_chunks,
            "chunk_size": self.chunk_size,
            "elapsed": self.elapsed,
            "notes": list(self.notes),
            "columns": self.column_names,
            "rows": self.rows(),
            "summary": self.summary().to_dict(),
        }

    def digest(self) -> str:
        """SHA-256 of the table's content (bit-exact floats): equal digests = identical tables.

        Run metadata (executor, chunking, time) is not part of it.
        """
        h = hashlib.sha256()
        for k, v in self.columns.items():
            h.update(k.encode())
            if v.dtype == object:
                h.update("\x1f".join(map(str, v.tolist())).encode())
            else:
                h.update(str(v.dtype).encode())
                h.update(np.ascontiguousarray(v).tobytes())
        return h.hexdigest()

    @staticmethod
    def check_save_path(path: str | Path) -> Path:
        """Check that :meth:`save` can write ``path`` (a ``.csv`` or ``.json`` file in an existing,
        writable directory), e.g. before a long study is run; the path as a :class:`~pathlib.Path`.

        Directories are not created: a missing one raises :class:`InvalidStudyError` naming it.
        """
        p = Path(path)
        if p.suffix.lower() not in (".csv", ".json"):
            raise InvalidStudyError(f"cannot save a study to {p.name!r}: use a .csv (the table) or .json (everything) path.")
        d = p.parent
        if not d.is_dir():
            raise InvalidStudyError(
                f"cannot save the study to {str(p)!r}: the directory {str(d)!r} "
                + ("is not a directory" if d.exists() else "does not exist")
                + "; create it first or choose another path."
            )
        if p.is_dir():
            raise InvalidStudyError(f"cannot save the study to {str(p)!r}: it is a directory; give a file name.")
        from pidlab.study._store import probe_writable

        try:
            probe_writable(d, p)
        except OSError as exc:
            raise InvalidStudyError(
                f"cannot save the study to {str(p)!r}: {exc.strerror or exc} (in directory {str(d)!r}); choose a "
                "writable path."
            ) from None
        return p

    def save(self, path: str | Path) -> Path:
        """Write the table to ``.csv`` (one row per (distribution, measure); NaN as empty) or the
        whole result to ``.json`` (:meth:`to_dict`).

        The directory must exist (it is not created); a missing or unwritable one raises
        :class:`InvalidStudyError` naming it (see :meth:`check_save_path`).
        """
        p = self.check_save_path(path)
        try:
            return self._write(p)
        except OSError as exc:
            raise InvalidStudyError(f"cannot save the study to {str(p)!r}: {exc.strerror or exc}.") from None

    def _write(self, p: Path) -> Path:
        suffix = p.suffix.lower()
        if suffix == ".json":
            p.write_text(self.to_json(indent=1))
        elif suffix == ".csv":
            with p.open("w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(self.column_names)
                cols = list(self.columns.values())
                for i in range(len(self)):
                    w.writerow(["" if (isinstance(x, float) and math.isnan(x)) else (repr(x) if isinstance(x, float) else x)
                                for x in (_py(c[i]) if _py(c[i]) is not None else float("nan") for c in cols)])
        else:
            raise InvalidStudyError(f"cannot save a study to {p.name!r}: use a .csv (the table) or .json (everything) path.")
        return p

    # ------------------------------------------------------------------ summary
    def _groups(self) -> list[tuple[str, np.ndarray]]:
        """(name, row mask) per measure; per (measure, solver) when solvers were named explicitly."""
        measures = self.columns["measure"]
        solvers = self.columns["solver"]
        split = self.spec.get("solvers") is not None
        uses = set(self.spec.get("solver_measures", []))
        out = []
        for m in dict.fromkeys(measures.tolist()):
            sel_m = measures == m
            if split and m in uses:
                for s in dict.fromkeys(solvers[sel_m].tolist()):
                    out.append((f"{m}/{s}", sel_m & (solvers == s)))
            else:
                out.append((m, sel_m))
        return out

    def summary(self) -> StudySummary:
        """Mean, std, quantiles (5, 25, 50, 75, 95 %), min and max of each atom per measure, and
        the count of each status (bits)."""
        groups: dict[str, dict[str, Any]] = {}
        status = self.columns["status"]
        for g, mask in self._groups():
            err = status[mask] == "error"
            d: dict[str, Any] = {"n": int(mask.sum()), "n_ok": int(np.sum(mask & (status != "error"))),
                                 "n_error": int(err.sum())}
            d["status"] = dict(sorted(Counter(status[mask].tolist()).items()))
            gaps = self.columns["gap"][mask]
            gaps = gaps[np.isfinite(gaps)]
            d["max_gap"] = float(gaps.max()) if gaps.size else None
            for q in (*ATOM_COLUMNS, "net"):
                v = self.columns[q][mask]
                fin = np.isfinite(v)
                if not fin.any():  # not defined by this measure (or every row failed: see status)
                    d[q] = None
                    continue
                # the statistics cover the rows with a number; the others are counted, never averaged in
                d[q] = {**_stats(v[fin]), "n": int(fin.sum()), "n_error": int(np.sum(~fin & err)),
                        "n_nan": int(np.sum(~fin & ~err))}
            groups[g] = d
        return StudySummary(self.target, groups, self.units)

    # ------------------------------------------------------------------ per item
    def by_item(self, key: str | None = None) -> dict[str, dict[str, dict[str, float | None]]]:
        """Every item's atoms under every measure (bits): ``{label: {measure: {R, U1, U2, S, net}}}``.

        ``label`` is the item's value of the family parameter ``key`` (default: the first
        parameter, the gate name for the gates families, with the noise level appended for noisy
        gates) or its index. A number a measure does not define (net measures' atoms) is None.
        Rows of one measure under several solvers keep the first solver's.
        """
        params = [c for c in self.columns if c not in ("item", "family", *TAIL_COLUMNS, *BOUND_COLUMNS, "bounds_error")]
        if key is not None and key not in self.columns:
            raise InvalidStudyError(f"no column {key!r} to label the items by; the family's parameters are "
                                    f"{params or 'none'}.")
        keys = [key] if key is not None else params
        out: dict[str, dict[str, dict[str, float | None]]] = {}
        for i in range(len(self)):
            label = ", ".join(f"{_py(self.columns[k][i])}" if j == 0 else f"{k}={_py(self.columns[k][i])}"
                              for j, k in enumerate(keys)) or f"item {int(self.columns['item'][i])}"
            row = out.setdefault(label, {})
            m = str(self.columns["measure"][i])
            if m in row:
                continue
            row[m] = {q: _py(self.columns[q][i]) for q in (*ATOM_COLUMNS, "net")}
        return out

    def item_table(self, key: str | None = None) -> str:
        """:meth:`by_item` as text: one block per item, a line per measure (bits)."""
        def f(v: float | None) -> str:
            return f"{'—':>9s}" if v is None else f"{v:>9.4f}"

        lines = [f"Each item under every measure, target {self.target}, {self.units}"]
        for label, per in self.by_item(key).items():
            lines.append("")
            lines.append(label)
            lines.append(f"  {'measure':10s}" + "".join(f"{q:>9s}" for q in (*ATOM_COLUMNS, "net")))
            for m, d in per.items():
                lines.append(f"  {m:10s}" + "".join(f(d[q]) for q in (*ATOM_COLUMNS, "net")))
        return "\n".join(lines)

    # ------------------------------------------------------------------ bounds
    def bound_gaps(self, *, s_above: float = 0.6, tol: float = 1e-6) -> dict[str, Any]:
        """How far each semi-supervised bound is from the true (BROJA) S, for a study run with
        ``bounds=True``; bits.

        Over the items whose BROJA S and bounds are numbers (one row per item; the first solver's
        when several were run): ``gaps[name]`` has the ``mean``, ``median`` and ``max`` of
        ``S - bound`` for the lower bounds and ``bound - S`` for the upper one; ``gaps_above``
        the means over the items with ``S > s_above`` (the paper's high-synergy subset);
        ``violations[name]`` counts items where the bound is on the wrong side of S by more than
        ``tol`` plus the row's certified gap (should be 0).
        """
        if "S_upper" not in self.columns:
            raise InvalidStudyError("this study has no bound columns: run it with bounds=True (pidlab study --bounds).")
        meas = self.columns["measure"]
        rows = np.flatnonzero(meas == "broja")
        if rows.size == 0:
            raise InvalidStudyError("bound_gaps compares the bounds with BROJA's S: include 'broja' in the measures.")
        _, first = np.unique(self.columns["item"][rows], return_index=True)
        rows = rows[np.sort(first)]
        S = self.columns["S"][rows]
        gap = np.nan_to_num(self.columns["gap"][rows], nan=0.0)
        b = {c: self.columns[c][rows] for c in BOUND_COLUMNS}
        ok = np.isfinite(S) & np.all([np.isfinite(v) for v in b.values()], axis=0)
        hi = ok & (S > s_above)
        out: dict[str, Any] = {"units": self.units, "n": int(ok.sum()), "n_left_out": int((~ok).sum()),
                               "s_above": s_above, "n_above": int(hi.sum()), "gaps": {}, "gaps_above": {},
                               "violations": {}}
        for c, v in b.items():
            d = (v - S) if c == "S_upper" else (S - v)
            out["gaps"][c] = ({"mean": float(d[ok].mean()), "median": float(np.median(d[ok])), "max": float(d[ok].max())}
                              if ok.any() else None)
            out["gaps_above"][c] = float(d[hi].mean()) if hi.any() else None
            out["violations"][c] = int(np.sum(ok & (d < -(tol + gap))))
        return out

    # ------------------------------------------------------------------ figure
    def plot(self, x: str | None = None, *, atoms: tuple[str, ...] = ATOM_COLUMNS, measures: list[str] | None = None,
             figsize: tuple[float, float] | None = None) -> Figure:
        """A matplotlib figure with one panel per atom (bits), measures side by side.

        ``x=None``: box plots of each atom's distribution over the study, one box per measure.
        ``x="noise"`` (any numeric family parameter): the mean of each atom against ``x``, one
        line per measure (select one gate first, e.g. ``res.select(gate="xor").plot(x="noise")``).
        Measures without the atom (WMS, CI: net quantities) are left out of that panel; pass
        ``atoms=("net",)`` to plot them.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise MissingDependencyError("plotting needs matplotlib: pip install matplotlib (or 'pidlab[lab]').") from None
        meas = measures or list(dict.fromkeys(self.columns["measure"].tolist()))
        if x is not None:
            col = self.column(x)
            if col.dtype.kind not in "fiu":
                raise InvalidStudyError(f"x={x!r} is not a numeric column; use a family parameter such as 'noise'.")
        fig, axes = plt.subplots(1, len(atoms), figsize=figsize or (3.2 * len(atoms), 3.2), squeeze=False,
                                 layout="constrained")
        for ax, atom in zip(axes[0], atoms):
            vals = self.column(atom)
            if x is None:
                data, labels = [], []
                for m in meas:
                    v = vals[(self.columns["measure"] == m)]
                    v = v[np.isfinite(v)]
                    if v.size:
                        data.append(v)
                        labels.append(m)
                if data:
                    ax.boxplot(data, tick_labels=labels, showfliers=False)
            else:
                xs = self.column(x)
                for m in meas:
                    sel = (self.columns["measure"] == m) & np.isfinite(vals)
                    if not sel.any():
                        continue
                    ux = np.unique(xs[sel])
                    ax.plot(ux, [vals[sel & (xs == u)].mean() for u in ux], marker="o", ms=3, label=m)
                ax.set_xlabel(x)
                ax.legend(fontsize="small")
            ax.set_title(f"{atom} (bits)" if atom != "net" else "net (bits; WMS = S-R, CI = R-S)")
            ax.grid(alpha=0.3)
        fig.suptitle(f"target {self.target}; {self.n_items} distributions")
        return fig

    # ------------------------------------------------------------------ display
    def table(self) -> str:
        """A head line (size, family, run), the :meth:`summary` table and the notes."""
        from pidlab._render import study_text

        return study_text(self)

    def __repr__(self) -> str:
        return (f"<StudyResult {len(self)} rows, family={self.spec.get('family', {}).get('family')!r}, "
                f"measures={self.spec.get('measures')}, target={self.target!r}>")

    def _repr_html_(self) -> str:
        from pidlab._render import study_html

        return study_html(self)


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise MissingDependencyError("this view needs pandas: pip install pandas (or 'pidlab[ml]').") from None
    return pd
