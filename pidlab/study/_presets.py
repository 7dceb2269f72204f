"""The paper's studies as one call each (``pidlab study --preset NAME``).

``synthetic``
    Liang et al. (ICLR 2024), synthetic experiment: random 2 x 2 x 2 joints uniform on the
    simplex (Dirichlet(1)), for each the true BROJA synergy and every semi-supervised bound from
    its pairwise marginals (:func:`pidlab.bounds.synergy_bounds_many` in canonical batches).
    :meth:`StudyResult.bound_gaps` gives the mean gap of each bound to S and the gap when
    S > 0.6; the figure (:func:`pidlab.study.study_figure`) plots the bounds against S.
``gates``
    The canonical gates under every registered measure (the measure comparison of the paper's
    gate table): :meth:`StudyResult.item_table` prints one block per gate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pidlab.study._families import InvalidStudyError, dirichlet, gates
from pidlab.study._result import StudyResult
from pidlab.study._runner import run_study

__all__ = ["PRESETS", "paper_synthetic", "gate_comparison", "preset"]

#: Items of the paper's synthetic experiment.
SYNTHETIC_N = 100_000


def paper_synthetic(n: int = SYNTHETIC_N, *, seed: int = 0, **run: Any) -> StudyResult:
    """The paper's synthetic study: ``n`` random 2 x 2 x 2 joints (uniform on the simplex), the true
    BROJA S and every semi-supervised bound of each (bits). ``run`` goes to :func:`run_study`
    (executor, store, resume, progress, ...).

    Examples
    --------
    >>> from pidlab.study import paper_synthetic
    >>> res = paper_synthetic(2000)
    >>> g = res.bound_gaps()
    >>> g["n"], sum(g["violations"].values())
    (2000, 0)
    """
    return run_study(dirichlet((2, 2, 2), n, alpha=1.0, seed=seed), ["broja"], bounds=True, **run)


def gate_comparison(measures: Sequence[str] | None = None, **run: Any) -> StudyResult:
    """Every canonical gate under every registered measure (or ``measures``), bits."""
    return run_study(gates(), list(measures) if measures is not None else None, **run)


PRESETS: dict[str, Callable[..., StudyResult]] = {"synthetic": paper_synthetic, "gates": gate_comparison}


def preset(name: str, **kwargs: Any) -> StudyResult:
    """Run the preset study ``name`` (``"synthetic"`` or ``"gates"``)."""
    key = str(name).strip().lower()
    if key not in PRESETS:
        raise InvalidStudyError(f"unknown preset {name!r}; the presets are {sorted(PRESETS)}.")
    return PRESETS[key](**kwargs)
