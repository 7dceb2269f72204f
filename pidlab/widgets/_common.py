"""Pieces shared by the panels: file parsing (by :mod:`pidlab.io`), error display, figures as PNG bytes.

Only this package imports ipywidgets; matplotlib is imported inside the functions that draw.
"""

from __future__ import annotations

import html
import io
from typing import TYPE_CHECKING, Any

from pidlab import Distribution
from pidlab.exceptions import InvalidDistributionError, PidlabError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["distribution_from_file", "error_html", "figure_png", "upload_entries", "PANEL_CSS"]

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
