"""Pieces shared by the panels: file parsing, error display, figures as PNG bytes.

Only this package imports ipywidgets; matplotlib is imported inside the functions that draw.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import TYPE_CHECKING, Any

from pidlab._distribution import Distribution
from pidlab.exceptions import InvalidDistributionError, PidlabError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["distribution_from_file", "error_html", "figure_png", "upload_entries", "PANEL_CSS"]

#: Integers written canonically ("07" stays a string label, so "07" and "7" are never merged).
_INT_RE = re.compile(r"^-?(0|[1-9]\d*)$")

#: A few CSS rules for all panels (scoped to the ``pidlab-*`` classes).
PANEL_CSS = """
<style>
.pidlab-error { color: #a40000; }
.pidlab-error:empty { display: none; }
.pidlab-table table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.pidlab-table th, .pidlab-table td { padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd; }
.pidlab-table th:first-child, .pidlab-table td:first-child { text-align: left; }
</style>
"""


def _cell(v: str) -> int | str:
    v = v.strip()
    return int(v) if _INT_RE.match(v) else v


def distribution_from_file(name: str, content: bytes) -> Distribution:
    """Parse an uploaded file into a :class:`~pidlab.Distribution`.

    ``.json``: a nested list ``p[x1][x2][y]`` of probabilities that sums to 1.
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
    lower = name.lower()
    try:
        text = bytes(content).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidDistributionError(f"{name}: not UTF-8 text ({exc}); save the file as UTF-8 JSON or CSV.") from None
    if lower.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidDistributionError(
                f"{name}: not valid JSON ({exc}); the file must hold a nested list p[x1][x2][y] of probabilities."
            ) from None
        if not isinstance(data, list):
            raise InvalidDistributionError(
                f"{name}: the JSON value is a {type(data).__name__}, not a nested list; "
                "write the joint table as p[x1][x2][y], e.g. [[[0.25, 0], [0, 0.25]], [[0, 0.25], [0.25, 0]]]."
            )
        try:
            return Distribution(data)
        except InvalidDistributionError as exc:
            raise InvalidDistributionError(f"{name}: {exc}") from None
    if lower.endswith(".csv"):
        reader = csv.reader(io.StringIO(text))
        rows = [r for r in reader if any(c.strip() for c in r)]
        if not rows:
            raise InvalidDistributionError(f"{name}: the file is empty; it needs a header x1,x2,y and one row per sample.")
        header = [h.strip().lower() for h in rows[0]]
        missing = [c for c in ("x1", "x2", "y") if c not in header]
        if missing:
            raise InvalidDistributionError(
                f"{name}: no column(s) {missing} in the header {rows[0]}; the first row must name the columns "
                "x1, x2 and y (one sample per following row)."
            )
        idx = [header.index(c) for c in ("x1", "x2", "y")]
        cols: list[list[int | str]] = [[], [], []]
        for lineno, row in enumerate(rows[1:], start=2):
            for k, (i, cname) in enumerate(zip(idx, ("x1", "x2", "y"))):
                if i >= len(row) or not row[i].strip():
                    raise InvalidDistributionError(
                        f"{name}: line {lineno} has no value for column {cname!r}; fill in or drop that sample."
                    )
                cols[k].append(_cell(row[i]))
        try:
            return Distribution.from_samples(*cols)
        except InvalidDistributionError as exc:
            raise InvalidDistributionError(f"{name}: {exc}") from None
    raise InvalidDistributionError(
        f"cannot read {name!r}: upload a .json file (nested list p[x1][x2][y]) or a .csv file (columns x1,x2,y)."
    )


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
