"""Pieces shared by the panels: file parsing (by :mod:`pidlab.io`), error display, figures as PNG bytes.

Only this package imports ipywidgets; matplotlib is imported inside the functions that draw.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pidlab import Distribution
from pidlab.exceptions import InvalidDistributionError, PidlabError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "distribution_from_file", "error_html", "figure_png", "upload_entries", "PANEL_CSS", "measure_color",
    "records_csv", "csv_link_html", "code_html", "swatch_html", "measure_checkbox",
]

#: A few CSS rules for all panels (scoped to the ``pidlab-*`` classes).
PANEL_CSS = """
<style>
.pidlab-error { color: #a40000; }
.pidlab-error:empty { display: none; }
.pidlab-table table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.pidlab-table th, .pidlab-table td { padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd; }
.pidlab-table th:first-child, .pidlab-table td:first-child { text-align: left; }
.pidlab-table td { white-space: nowrap; }
.pidlab-table td.pidlab-bracket { font-size: 85%; line-height: 1.25; }
.pidlab-comparison { overflow-x: auto; }
.pidlab-code pre { user-select: text; background: #f6f6f6; padding: 4px 8px; margin: 2px 0; white-space: pre; }
.pidlab-export a { margin-right: 1em; }
</style>
"""


def distribution_from_file(name: str, content: bytes) -> Distribution:
    """Parse an uploaded file into a :class:`~pidlab.Distribution` with :func:`pidlab.io.read_distribution`.

    The panels read files exactly as the command line and :mod:`pidlab.io` do:
    ``.json``: a nested list ``p[x1][x2][y]`` of probabilities that sums to 1, or an object
    ``{"p": ..., "names": [...], "labels": [...]}``; ``.npy``: a 3-D array;
    ``.csv``: one sample per row with a header naming the columns ``x1``, ``x2`` and ``y``
    (case-insensitive; other columns are ignored); canonically written integers (``7``, ``-2``)
    become integers, anything else (``07``, ``1.0``, ``cat``) stays a string label.

    Raises
    ------
    InvalidDistributionError
        Unknown extension, undecodable or malformed content, missing columns, empty cells, or a
        table that is not a probability distribution; the message names the file and the fix.

    Examples
    --------
    >>> d = distribution_from_file("and.csv", b"x1,x2,y\\n0,0,0\\n0,1,0\\n1,0,0\\n1,1,1\\n")
    >>> d.shape, float(d.p[1, 1, 1])
    ((2, 2, 2), 0.25)
    """
    from pidlab.io import read_distribution

    if not name.lower().endswith((".json", ".csv", ".npy")):
        raise InvalidDistributionError(
            f"cannot read {name!r}: upload a .json file (nested list p[x1][x2][y]), a .npy array or a .csv file "
            "(columns x1,x2,y)."
        )
    return read_distribution((name, bytes(content)))


def upload_entries(value: Any) -> list[tuple[str, bytes]]:
    """``(name, content)`` pairs from a ``FileUpload.value`` (ipywidgets 8 tuple of dicts)."""
    if isinstance(value, dict):  # ipywidgets 7 layout: {name: {"content": ...}}
        return [(n, bytes(v["content"])) for n, v in value.items()]
    return [(str(v["name"]), bytes(v["content"])) for v in value]


def error_html(exc: BaseException | str, context: str = "") -> str:
    """A readable one-paragraph message for the panel (no traceback).

    pidlab's own errors already name the fix; anything else is reported with its type so that
    a bug in a third-party plugin is recognisable as such. A string is shown as given.
    """
    if isinstance(exc, str):
        msg = exc
    else:
        msg = str(exc) if isinstance(exc, PidlabError) else f"{type(exc).__name__}: {exc}"
    prefix = f"{context}: " if context else ""
    return f"<b>Error</b> — {html.escape(prefix + msg)}"


def figure_png(fig: Figure) -> bytes:
    """Render a matplotlib figure to PNG bytes (Agg; no pyplot state touched)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


# ---------------------------------------------------------------------------------------- colours
from pidlab._colors import measure_color  # noqa: E402  (re-exported: the panels and tests use it here)


def swatch_html(name: str) -> str:
    """A small square in the measure's colour (the legend of the chart, in the table)."""
    c = measure_color(name)
    return f"<span class='pidlab-swatch' data-color='{c}' style='color:{c}'>&#9632;</span> "


def measure_checkbox(name: str, ticked: bool) -> Any:
    """The tick box of one registered measure (its description as the tooltip), as every panel shows it."""
    import ipywidgets as widgets

    from pidlab._plugins import lookup

    entry = lookup("measure", name)
    cb = widgets.Checkbox(value=ticked, description=name, indent=False,
                          tooltip=str(entry.description or f"the {name} measure (no description given)"),
                          layout=widgets.Layout(width="auto"))
    cb.add_class("pidlab-measure")
    cb.add_class(f"pidlab-measure-{name}")
    return cb


# ---------------------------------------------------------------------------------------- export
def _cell(v: Any) -> str:
    """One CSV cell: floats with every digit (``repr`` round-trips), None as an empty cell."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def records_csv(records: Sequence[Mapping[str, Any]]) -> str:
    """CSV text of a list of flat dicts (columns in first-seen order; floats at full precision)."""
    columns: list[str] = []
    for rec in records:
        columns.extend(k for k in rec if k not in columns)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for rec in records:
        w.writerow([_cell(rec.get(c)) for c in columns])
    return buf.getvalue()


def csv_link_html(text: str, filename: str) -> str:
    """A download link holding ``text`` as a CSV file (a ``data:`` URL; nothing goes through a server)."""
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (f"<a class='pidlab-download' download='{html.escape(filename)}' title='download this result as CSV' "
            f"href='data:text/csv;charset=utf-8;base64,{data}'>&#11015; download CSV ({html.escape(filename)})</a>")


def code_html(code: str) -> str:
    """A collapsed "show code" block holding Python that reproduces the panel's result."""
    return ("<details><summary title='Python code that reproduces this result; select and copy it'>show code</summary>"
            f"<pre>{html.escape(code)}</pre></details>")
