"""Built-in PID measures: BROJA (Bertschinger et al.), I_min (Williams-Beer), WMS, CI, and the
measures comparative studies use: I_ccs (Ince), I_dep (James et al.), I_± (Finn & Lizier), I_sx
(Makkeh et al.), I_∧ (Griffith et al., Gács-Körner) and I_proj (Harder et al.).

One module per measure (``_broja``, ``_imin``, ``_wms``, ``_ci``, ``_ccs``, ``_dep``, ``_pm``,
``_sx``, ``_gk``, ``_proj``); closed-form and scaling-based ones compute on whole stacks
(``compute_many``) with the helpers of ``_stack``. This package is itself a
plugin: its ``pidlab_register_measures`` hook registers the classes listed in :data:`BUILTINS`
exactly as a third-party package would register its own. :func:`get_measure` picks a registered
measure by name.
"""

from __future__ import annotations

from typing import Any

from pidlab._contracts import Measure
from pidlab._plugins import builtin_classes
from pidlab.hookspecs import hookimpl

__all__ = ["BUILTINS", "Measure", "get_measure"]

#: The built-in measures, one module each (``"module:Class"``, modules of this package).
#: A new built-in measure costs its module and one line here.
BUILTINS: tuple[str, ...] = (
    "_broja:Broja",
    "_imin:Imin",
    "_wms:WMS",
    "_ci:CoInformation",
    "_ccs:CCS",
    "_dep:Dependency",
    "_pm:PlusMinus",
    "_sx:SharedExclusion",
    "_gk:GacsKorner",
    "_proj:Projection",
)


def get_measure(measure: str | Any) -> Any:
    """The measure to run: a new instance of the registered one named ``measure`` (built-in or
    third-party; a name or an alias, case-insensitive), or ``measure`` itself when it is an object.

    Raises
    ------
    UnknownNameError
        No measure of that name or alias is registered.

    Examples
    --------
    >>> get_measure("Williams-Beer").name
    'imin'
    """
    if isinstance(measure, str):
        from pidlab._plugins import lookup

        return lookup("measure", measure).instance()
    return measure


@hookimpl
def pidlab_register_measures() -> list[type[Measure]]:
    return builtin_classes(__name__, BUILTINS)
