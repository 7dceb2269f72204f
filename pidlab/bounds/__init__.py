"""Semi-supervised interaction analysis: synergy bounds from unimodal labels and unlabelled pairs.

:func:`synergy_bounds` works from the three pairwise tables (a :class:`pidlab.Marginals`);
:func:`synergy_bounds_many` gives the same bounds for a stack of joints at once (simulation studies);
:func:`estimate` works from raw samples (discretise, estimate the tables, bound).
"""

from __future__ import annotations

from pidlab.bounds._many import SynergyBoundsMany, synergy_bounds_many
from pidlab.bounds._synergy import C_DISAGREEMENT, SynergyBounds, synergy_bounds

__all__ = ["SynergyBounds", "synergy_bounds", "SynergyBoundsMany", "synergy_bounds_many", "C_DISAGREEMENT", "estimate", "EstimateResult", "BootstrapResult"]


def __getattr__(name: str):  # noqa: ANN202 - lazy: estimate pulls in the discretizers
    if name in ("estimate", "EstimateResult", "BootstrapResult"):
        from pidlab.bounds import _estimate

        return getattr(_estimate, name)
    raise AttributeError(f"module 'pidlab.bounds' has no attribute {name!r}")
