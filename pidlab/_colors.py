"""The colour of each measure, the same in every chart pidlab draws (panels, study figures)."""

from __future__ import annotations

import colorsys
import hashlib

__all__ = ["measure_color"]

#: Fixed colours of the built-in measures (matplotlib's tab10, then darker tab20b shades), so
#: that a measure keeps its colour in every chart whichever measures are ticked.
_FIXED_COLORS = {
    "broja": "#1f77b4", "imin": "#ff7f0e", "wms": "#2ca02c", "ci": "#d62728", "ccs": "#9467bd",
    "dep": "#8c564b", "pm": "#e377c2", "sx": "#bcbd22", "gk": "#17becf", "proj": "#393b79", "mmi": "#7f7f7f",
}


def measure_color(name: str) -> str:
    """The colour (``#rrggbb``) of a measure in every panel chart and table.

    It depends on the measure's name only, never on which other measures are shown: built-in
    measures have fixed colours; any other name (a third-party plugin) gets a hue from a hash of
    its name (deterministic across sessions and machines, unlike Python's ``hash``).

    >>> measure_color("broja"), measure_color("my-measure") == measure_color("my-measure")
    ('#1f77b4', True)
    """
    if name in _FIXED_COLORS:
        return _FIXED_COLORS[name]
    h = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big") / 2**32
    r, g, b = colorsys.hls_to_rgb(h, 0.42, 0.55)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
