"""ipywidgets panels for JupyterLab (install with ``pip install "pidlab[lab]"``).

- :class:`ComparePanel`: PID measures side by side on a gate, a noisy gate or an uploaded file.
- :class:`BoundsPanel`: semi-supervised bounds on synergy from three pairwise tables (a gate,
  a noisy gate or uploaded JSON), drawn as intervals with the oracle value when the joint is known.
- :class:`CouplingPanel`: greedy / lattice / exact minimum-entropy couplings of two marginals as
  heat maps, with their entropies and the certified bracket on the minimum.
- :class:`HardnessPanel`: a random restricted-timetable (RTT) instance as a bipartite graph
  coloured by its schedule, with the marginals of its reduction.
- :class:`StudyPanel`: a comparative study (Dirichlet tables, the gates or a noise sweep of
  gates, x the ticked measures) run with a progress bar, with its summary table, each measure's
  atoms and, for a swept family, the atoms against the noise level or concentration.
- :func:`digits_demo`: the data behind the panels' digits demo (scikit-learn's 8×8 digits split
  into left and right halves and three disjoint data sets), ready for :func:`pidlab.estimate`.

Every panel is an ``ipywidgets.VBox``: display it as the last expression of a cell. Errors show
as a message inside the panel (CSS class ``pidlab-error``), never as a traceback; a failed or
interrupted compute clears the previous table and chart. Every panel exports its last result
with ``to_records()``, ``to_dataframe()`` (pandas), ``to_csv(path)`` and a download link
(``pidlab-export``), and ``code()``: Python that reproduces it (also under "show code",
``pidlab-code``). A measure has one colour everywhere (:func:`measure_color`); controls that do
not apply to the chosen data are hidden; every control has a tooltip. The important
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

from pidlab.widgets._bounds import BoundsPanel, digits_demo
from pidlab.widgets._charts import comparison_figure
from pidlab.widgets._common import distribution_from_file, measure_color
from pidlab.widgets._compare import ComparePanel
from pidlab.widgets._coupling import CouplingPanel
from pidlab.widgets._hardness import HardnessPanel
from pidlab.widgets._study import StudyPanel

__all__ = [
    "BoundsPanel",
    "ComparePanel",
    "CouplingPanel",
    "HardnessPanel",
    "StudyPanel",
    "comparison_figure",
    "digits_demo",
    "distribution_from_file",
    "measure_color",
]
