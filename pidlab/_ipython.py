"""The IPython extension: ``%load_ext pidlab``.

Line magic ``%pidlab`` (subcommands)::

    %pidlab compare xor                         # every registered measure on a gate -> table
    %pidlab compare and --measures broja,imin --noise 0.1 --solver clarabel
    %pidlab decompose and --measure broja       # one measure -> PID table with certificate
    %pidlab decompose d                         # d: a Distribution or array in the namespace
    %pidlab df frame a b label --measure imin   # columns a, b (sources) and label (target) of a DataFrame
    %pidlab plugins                             # registered measures, solvers, ... and availability
    %pidlab examples                            # the canonical gates
    %pidlab panel                               # show a ComparePanel (ipywidgets)
    %pidlab panel bounds                        # ... or BoundsPanel, CouplingPanel (coupling), HardnessPanel

Cell magic ``%%pidlab_df`` (the three columns of a DataFrame, one sample per row)::

    %%pidlab_df frame x1 x2 y --measure all
    age > 30                                    # body: a DataFrame.query row filter

    %%pidlab_df x1 x2 y --as samples            # three names only: the body IS the data, as CSV
    x1,x2,y
    0,0,0
    0,1,1

With four positional names the first is a DataFrame in the namespace and the body is a
``DataFrame.query`` expression selecting rows (IPython refuses an empty cell body: for all rows
use the line magic ``%pidlab df``); with three the body is CSV text with a
header (``--as NAME`` keeps the parsed DataFrame); its cells are labels read as ``pidlab.io``
reads CSV files (``7`` is an int, ``07`` a different, string label). ``--measure all`` (the default for the cell
magic is ``broja``) compares every registered measure. Results are returned, so they display as
rich tables. Errors print one line (no traceback).

Loading the extension also registers plain-text displays for results and an HTML table for
:class:`~pidlab.Distribution`.
"""

from __future__ import annotations

import argparse
import html
import io
import shlex
from typing import Any

import numpy as np
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

import pidlab
from pidlab._plugins import lookup
from pidlab.exceptions import InvalidDistributionError, PidlabError, UnknownNameError

__all__ = ["load", "PidlabMagics", "PluginListing", "distribution_html"]


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports errors as IPython UsageError (one line, no SystemExit)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}. See `%pidlab help`.")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            raise UsageError(message.strip())
        raise UsageError("")


#: ``%pidlab panel KIND`` -> class in :mod:`pidlab.widgets`
_PANELS = {"compare": "ComparePanel", "bounds": "BoundsPanel", "coupling": "CouplingPanel", "hardness": "HardnessPanel"}


def _noise(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"noise must be a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"noise must be in [0, 1], got {text}")
    return value


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:  # e.g. an unclosed quote
        raise UsageError(f"pidlab: cannot parse {line!r} ({exc}); check the quotes.") from None


def _line_parser() -> _ArgumentParser:
    p = _ArgumentParser(prog="%pidlab", add_help=False, description="pidlab magics (bits; target = last variable)")
    sub = p.add_subparsers(dest="cmd", parser_class=_ArgumentParser)
    c = sub.add_parser("compare", add_help=False, help="all (or chosen) measures side by side")
    c.add_argument("dist", help="a gate name (%%pidlab examples) or a Distribution/array variable")
    c.add_argument("--measures", default="all", help="comma-separated measure names, or 'all' (default)")
    c.add_argument("--solver", default=None, help="BROJA backend (default: preferred available)")
    c.add_argument("--noise", type=_noise, default=None, help="pass the gate's target through a noisy channel")
    d = sub.add_parser("decompose", add_help=False, help="one measure")
    d.add_argument("dist")
    d.add_argument("--measure", default="broja")
    d.add_argument("--solver", default=None)
    d.add_argument("--noise", type=_noise, default=None)
    f = sub.add_parser("df", add_help=False, help="three columns of a DataFrame variable")
    f.add_argument("frame")
    f.add_argument("x1")
    f.add_argument("x2")
    f.add_argument("y")
    f.add_argument("--measure", default="broja", help="a measure name, or 'all' to compare every measure")
    f.add_argument("--solver", default=None)
    sub.add_parser("plugins", add_help=False, help="registered plugins and their availability")
    sub.add_parser("examples", add_help=False, help="the canonical gates")
    pp = sub.add_parser("panel", add_help=False, help="show a panel (ipywidgets)")
    pp.add_argument("kind", nargs="?", default="compare", choices=sorted(_PANELS), help="which panel (default compare)")
    sub.add_parser("help", add_help=False, help="this help")
    return p


def _cell_parser() -> _ArgumentParser:
    p = _ArgumentParser(prog="%%pidlab_df", add_help=False)
    p.add_argument("names", nargs="+", help="[FRAME] X1 X2 Y")
    p.add_argument("--measure", default="broja")
    p.add_argument("--solver", default=None)
    p.add_argument("--as", dest="store", default=None, help="keep the CSV body as a DataFrame under this name")
    return p


class PluginListing:
    """The result of ``%pidlab plugins``: a table in notebooks, aligned text elsewhere."""

    def __init__(self, infos: list[Any]) -> None:
        self.infos = infos

    def _rows(self) -> list[tuple[str, ...]]:
        return [
            (i.kind, i.name, "built-in" if i.builtin else i.plugin, "yes" if i.available else "no",
             i.reason or i.description or "")
            for i in self.infos
        ]

    def __repr__(self) -> str:
        rows = [("kind", "name", "plugin", "available", "notes"), *self._rows()]
        widths = [max(len(r[k]) for r in rows) for k in range(4)]
        return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(r[:4], widths)), r[4]]).rstrip() for r in rows)

    def _repr_html_(self) -> str:
        e = html.escape
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in self._rows())
        return (
            "<table class='pidlab-plugins'><thead><tr><th>kind</th><th>name</th><th>plugin</th>"
            f"<th>available</th><th>notes</th></tr></thead><tbody>{body}</tbody></table>"
        )


def distribution_html(dist: Any) -> str:
    """An HTML table of ``p(x1, x2, y)`` (rows x1, x2; one column per target symbol)."""
    e = html.escape
    n1, n2, ny = dist.shape
    if n1 * n2 * ny > 400:
        return f"<p>{e(repr(dist))}</p>"
    lab = dist.labels
    names = dist.names
    head = f"<th>{e(names[0])}</th><th>{e(names[1])}</th>" + "".join(
        f"<th>p({e(names[2])}={e(str(v))})</th>" for v in lab[2]
    )
    body = ""
    for a in range(n1):
        for b in range(n2):
            cells = "".join(f"<td>{dist.p[a, b, k]:.6g}</td>" for k in range(ny))
            body += f"<tr><td>{e(str(lab[0][a]))}</td><td>{e(str(lab[1][b]))}</td>{cells}</tr>"
    return (
        f"<div class='pidlab-distribution'>joint distribution, sources {e(names[0])}, {e(names[1])}, "
        f"target <b>{e(names[2])}</b>; I({e(names[0])},{e(names[1])}; {e(names[2])}) = "
        f"{dist.mutual_information((0, 1), 2):.6f} bits"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


@magics_class
class PidlabMagics(Magics):
    """``%pidlab`` and ``%%pidlab_df`` (see :mod:`pidlab._ipython`)."""

    # -------------------------------------------------------------- helpers
    def _user_ns(self) -> dict[str, Any]:
        """The notebook's variables (empty outside a shell)."""
        return self.shell.user_ns if self.shell is not None else {}

    def _resolve(self, token: str, noise: float | None) -> Any:
        ns = self._user_ns()
        if token in ns and not token.startswith("_"):
            if noise is not None:
                raise PidlabError("--noise applies to gate names only, not to a variable.")
            value = ns[token]
            return value if isinstance(value, pidlab.Distribution) else pidlab.Distribution(np.asarray(value))
        try:
            return pidlab.examples.get(token) if noise is None else pidlab.examples.noisy(token, noise)
        except UnknownNameError as exc:
            raise UnknownNameError(f"{token!r} is neither a variable in the notebook nor a gate: {exc}") from None

    @staticmethod
    def _measures(spec: str) -> list[str] | None:
        if spec.strip().lower() == "all":
            return None
        return [m.strip() for m in spec.split(",") if m.strip()]

    @staticmethod
    def _check_solver(solver: str | None) -> None:
        if solver is not None:
            lookup("solver", solver)  # a wrong name is a usage error, not one failed measure

    def _frame(self, name: str) -> Any:
        import pandas as pd

        ns = self._user_ns()
        if name not in ns:
            raise PidlabError(f"no variable {name!r} in the notebook; create the DataFrame first.")
        if not isinstance(ns[name], pd.DataFrame):
            raise InvalidDistributionError(
                f"{name!r} is a {type(ns[name]).__name__}, not a pandas DataFrame; pass a DataFrame with one row per sample."
            )
        return ns[name]

    def _from_frame(self, df: Any, x1: str, x2: str, y: str, measure: str, solver: str | None) -> Any:
        self._check_solver(solver)
        dist = pidlab.Distribution.from_dataframe(df, x1=x1, x2=x2, y=y)
        spec = self._measures(measure)
        if spec is not None and len(spec) == 1:
            return pidlab.decompose(dist, spec[0], solver=solver)
        return pidlab.compare(dist, spec, solver=solver, errors="record")

    def _run(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except PidlabError as exc:
            raise UsageError(f"pidlab: {exc}") from None

    # -------------------------------------------------------------- magics
    @line_magic
    def pidlab(self, line: str) -> Any:
        """pidlab magics; ``%pidlab help`` lists them. See the module docstring for examples."""
        args = _line_parser().parse_args(_split(line))
        if args.cmd in (None, "help"):
            print(_HELP)
            return None
        return self._run(self._dispatch, args)

    def _dispatch(self, args: argparse.Namespace) -> Any:
        self._check_solver(getattr(args, "solver", None))
        if args.cmd == "compare":
            dist = self._resolve(args.dist, args.noise)
            return pidlab.compare(dist, self._measures(args.measures), solver=args.solver, errors="record")
        if args.cmd == "decompose":
            dist = self._resolve(args.dist, args.noise)
            return pidlab.decompose(dist, args.measure, solver=args.solver)
        if args.cmd == "df":
            return self._from_frame(self._frame(args.frame), args.x1, args.x2, args.y, args.measure, args.solver)
        if args.cmd == "plugins":
            return PluginListing(pidlab.plugins())
        if args.cmd == "examples":
            return _ExampleListing()
        if args.cmd == "panel":
            import pidlab.widgets as panels

            return getattr(panels, _PANELS[args.kind])()
        raise AssertionError(args.cmd)  # argparse rejects unknown subcommands

    @cell_magic
    def pidlab_df(self, line: str, cell: str) -> Any:
        """Decompose three columns of a DataFrame: ``%%pidlab_df [FRAME] X1 X2 Y [--measure M|all]``.

        With FRAME the body is a ``DataFrame.query`` row filter; without it the body
        is the data as CSV text with a header row (``--as NAME`` keeps it as a DataFrame).
        """
        args = _cell_parser().parse_args(_split(line))
        return self._run(self._cell, args, cell)

    def _cell(self, args: argparse.Namespace, cell: str) -> Any:
        import pandas as pd

        if len(args.names) == 4:
            frame, x1, x2, y = args.names
            df = self._frame(frame)
            query = cell.strip()
            if query:
                try:
                    df = df.query(query, local_dict=self._user_ns())
                except Exception as exc:
                    raise InvalidDistributionError(
                        f"the row filter {query!r} failed ({type(exc).__name__}: {exc}); "
                        "write a DataFrame.query expression such as `age > 30`, or leave the cell body empty."
                    ) from None
                if df.empty:
                    raise InvalidDistributionError(f"the row filter {query!r} keeps no rows; loosen it.")
        elif len(args.names) == 3:
            x1, x2, y = args.names
            if not cell.strip():
                raise InvalidDistributionError(
                    "the cell body is empty; paste CSV samples with a header naming "
                    f"{x1}, {x2} and {y}, or name a DataFrame first: %%pidlab_df FRAME {x1} {x2} {y}"
                )
            from pidlab.io import parse_label

            try:
                # cells as text, then the label rule of pidlab.io (the CLI and the panels): canonical
                # integers become ints, "07" stays a string label, never merged with 7
                df = pd.read_csv(io.StringIO(cell.strip()), skipinitialspace=True, dtype=str,
                                 keep_default_na=False, na_values=[""])
            except Exception as exc:
                raise InvalidDistributionError(f"the cell body is not CSV ({exc}); put a header row first.") from None
            df = df.apply(lambda col: col.map(lambda v: parse_label(v) if isinstance(v, str) else v))
            if args.store:
                self._user_ns()[args.store] = df
        else:
            raise PidlabError(f"%%pidlab_df takes [FRAME] X1 X2 Y (3 or 4 names), got {len(args.names)}: {args.names}.")
        return self._from_frame(df, x1, x2, y, args.measure, args.solver)



class _ExampleListing:
    def _rows(self) -> list[tuple[str, str]]:
        from pidlab import examples

        return [(n, examples.describe(n)) for n in examples.names()]

    def __repr__(self) -> str:
        rows = self._rows()
        w = max(len(n) for n, _ in rows)
        return "\n".join(f"{n.ljust(w)}  {d}" for n, d in rows)

    def _repr_html_(self) -> str:
        e = html.escape
        body = "".join(f"<tr><td>{e(n)}</td><td>{e(d)}</td></tr>" for n, d in self._rows())
        return f"<table class='pidlab-examples'><thead><tr><th>gate</th><th>description</th></tr></thead><tbody>{body}</tbody></table>"


_HELP = __doc__.split("\n\n", 1)[1].split("Loading the extension")[0].rstrip()


#: Result classes whose ``str()`` is their readable plain-text form.
_STR_RESULTS = (("pidlab.bounds._synergy", "SynergyBounds"), ("pidlab.bounds._estimate", "EstimateResult"))


def _plain_text(obj: Any, p: Any, cycle: bool) -> None:
    p.text(str(obj))


def load(ipython: Any) -> None:
    """Register the magics and the displays on ``ipython`` (called by ``%load_ext pidlab``)."""
    from pidlab import Comparison, Distribution, PIDResult

    ipython.register_magics(PidlabMagics)
    formatters = ipython.display_formatter.formatters
    plain = formatters["text/plain"]
    for cls in (PIDResult, Comparison):
        plain.for_type(cls, _plain_text)
    # Results of the other analyses, by name so that loading the extension imports none of them.
    for module, name in _STR_RESULTS:
        plain.for_type_by_name(module, name, _plain_text)
    formatters["text/html"].for_type(Distribution, distribution_html)
