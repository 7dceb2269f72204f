"""ipywidgets panels for JupyterLab (install with ``pip install "pidlab[lab]"``).

- :class:`ComparePanel`: PID measures side by side on a gate, a noisy gate or an uploaded file.

Every panel is an ``ipywidgets.VBox``: display it as the last expression of a cell. Errors show
as a message inside the panel (CSS class ``pidlab-error``), never as a traceback. The important
widgets carry stable CSS classes (``pidlab-compute``, ``pidlab-status``, ``pidlab-table``,
``pidlab-chart``, ...) for styling and browser tests.
"""

from __future__ import annotations

try:
    import ipywidgets  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f"pidlab.widgets needs ipywidgets ({exc}); install the notebook extra: pip install 'pidlab[lab]'"
    ) from None

from pidlab.widgets._charts import comparison_figure
from pidlab.widgets._common import distribution_from_file
from pidlab.widgets._compare import ComparePanel

__all__ = ["ComparePanel", "comparison_figure", "distribution_from_file"]
