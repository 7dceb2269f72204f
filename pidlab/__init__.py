"""pidlab: partial information decomposition and semi-supervised interaction bounds, in bits.

Quick start::

    >>> import pidlab
    >>> res = pidlab.decompose(pidlab.examples.get("xor"), measure="imin")
    >>> res.to_dict()["S"]
    1.0

Public names are listed in ``__all__``; modules starting with an underscore are private.
Heavy optional dependencies (cvxpy, scikit-learn, ipywidgets) are imported only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pidlab import examples, exceptions
from pidlab._api import (
    Comparison,
    PluginInfo,
    compare,
    couplings,
    decompose,
    discretizers,
    measures,
    plugins,
    solvers,
)
from pidlab._broja import BrojaProblem, Certificate, SolveResult
from pidlab._contracts import Availability, Coupling, Discretizer, Measure, Solver
from pidlab._distribution import Distribution
from pidlab._limits import limits
from pidlab._plugins import get_plugin_manager, register_plugin, reload_plugins
from pidlab._results import PIDResult
from pidlab._status import Status
from pidlab.exceptions import (
    InconsistentMarginalsError,
    InvalidDistributionError,
    ParameterError,
    PidlabError,
    PluginValidationError,
    ProblemTooLargeError,
    SolverError,
    UnknownNameError,
)
from pidlab.hookspecs import hookimpl

if TYPE_CHECKING:  # what the lazy names below are, for type checkers (nothing is imported at run time)
    from pidlab import hardness, io, study, testing, widgets
    from pidlab._couplings import CouplingResult, couple, mec_lower_bound, meet, meet_entropy, min_joint_entropy
    from pidlab._discretizers import get_discretizer
    from pidlab._inference import SampleDecomposition, decompose_samples
    from pidlab._marginals import ConsistencyReport, Marginals
    from pidlab._properties import PropertiesResult, check_properties
    from pidlab._solvers._batch import BatchResult, decompose_many
    from pidlab.bounds import SynergyBounds, estimate, synergy_bounds

# Names served lazily (module, attribute): they pull in modules not needed at import time.
_LAZY: dict[str, tuple[str, str | None]] = {
    "decompose_many": ("pidlab._solvers._batch", "decompose_many"),
    "decompose_samples": ("pidlab._inference", "decompose_samples"),
    "SampleDecomposition": ("pidlab._inference", "SampleDecomposition"),
    "BatchResult": ("pidlab._solvers._batch", "BatchResult"),
    "Marginals": ("pidlab._marginals", "Marginals"),
    "ConsistencyReport": ("pidlab._marginals", "ConsistencyReport"),
    "check_properties": ("pidlab._properties", "check_properties"),
    "PropertiesResult": ("pidlab._properties", "PropertiesResult"),
    "synergy_bounds": ("pidlab.bounds", "synergy_bounds"),
    "SynergyBounds": ("pidlab.bounds", "SynergyBounds"),
    "estimate": ("pidlab.bounds", "estimate"),
    "get_discretizer": ("pidlab._discretizers", "get_discretizer"),
    "meet": ("pidlab._couplings", "meet"),
    "couple": ("pidlab._couplings", "couple"),
    "meet_entropy": ("pidlab._couplings", "meet_entropy"),
    "mec_lower_bound": ("pidlab._couplings", "mec_lower_bound"),
    "min_joint_entropy": ("pidlab._couplings", "min_joint_entropy"),
    "CouplingResult": ("pidlab._couplings", "CouplingResult"),
    "hardness": ("pidlab.hardness", None),
    "io": ("pidlab.io", None),
    "testing": ("pidlab.testing", None),
    "widgets": ("pidlab.widgets", None),
    "study": ("pidlab.study", None),
}

__all__ = [
    "Availability",
    "BrojaProblem",
    "Certificate",
    "Comparison",
    "Coupling",
    "Discretizer",
    "Distribution",
    "InconsistentMarginalsError",
    "InvalidDistributionError",
    "Measure",
    "ProblemTooLargeError",
    "ParameterError",
    "PIDResult",
    "PidlabError",
    "PluginInfo",
    "PluginValidationError",
    "SolveResult",
    "Solver",
    "SolverError",
    "Status",
    "UnknownNameError",
    "compare",
    "couplings",
    "decompose",
    "discretizers",
    "examples",
    "exceptions",
    "get_plugin_manager",
    "hookimpl",
    "limits",
    "load_ipython_extension",
    "measures",
    "plugins",
    "register_plugin",
    "reload_plugins",
    "solvers",
    # lazily served names; subpackages (hardness, io, study, testing, widgets) stay out of
    # ``import *`` so that it never needs an optional dependency such as ipywidgets
    *(name for name, (_, attr) in _LAZY.items() if attr is not None),
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("pidlab")
        except PackageNotFoundError:  # running from a source tree
            return "0+unknown"
    if name in _LAZY:
        modname, attr = _LAZY[name]
        mod = importlib.import_module(modname)
        value = mod if attr is None else getattr(mod, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pidlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext pidlab``: register the ``%pidlab`` magics and rich display of results."""
    from pidlab._ipython import load

    load(ipython)
