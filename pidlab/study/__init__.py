r"""Comparative studies: many distributions x many measures, locally or on dask.distributed.

A study is a *family* of joint distributions ``p[x1, x2, y]`` (random Dirichlet tables, the
canonical gates, noisy gates over a noise grid, or your own arrays) crossed with a set of PID
measures (and, for BROJA, optionally several solvers). :func:`run_study` cuts the family into
chunks of item indices and runs them sequentially, on a process pool, or on any
``dask.distributed.Client``. Workers receive chunk *specifications* (a family spec and an
index range) and generate their distributions themselves, deterministically, so the table is
bit-identical whatever the executor and chunking.

>>> from pidlab.study import run_study, noisy_gates
>>> res = run_study(noisy_gates("xor", noise=[0.0, 0.5]), ["broja", "imin"])
>>> res.select(measure="broja").column("S").round(6).tolist()
[1.0, 0.0]

With ``store=DIR`` every finished chunk is committed to a crash-safe store (SQLite, WAL) as it
arrives; ``resume=True`` continues a killed study without recomputing a finished chunk, and
:func:`read_store` reads the table back, bit-identical to a run that never stopped.

The paper's synthetic study and the gate comparison are one call each: :func:`paper_synthetic`
and :func:`gate_comparison` (``pidlab study --preset synthetic|gates``).

dask is imported only when the dask executor is used (``pip install 'pidlab[dask]'``).
"""

from __future__ import annotations

from pidlab.study._families import (
    Arrays,
    Dirichlet,
    Family,
    Gates,
    InvalidStudyError,
    MissingDependencyError,
    NoisyGates,
    dirichlet,
    families,
    family,
    from_arrays,
    gates,
    noisy_gates,
)
from pidlab.study._plot import study_figure
from pidlab.study._presets import PRESETS, gate_comparison, paper_synthetic, preset
from pidlab.study._result import StudyResult, StudySummary
from pidlab.study._runner import EXECUTORS, check_study_size, run_study
from pidlab.study._store import read_store

__all__ = [
    "run_study",
    "check_study_size",
    "read_store",
    "paper_synthetic",
    "gate_comparison",
    "preset",
    "PRESETS",
    "study_figure",
    "StudyResult",
    "StudySummary",
    "Family",
    "Dirichlet",
    "Gates",
    "NoisyGates",
    "Arrays",
    "dirichlet",
    "gates",
    "noisy_gates",
    "from_arrays",
    "family",
    "families",
    "EXECUTORS",
    "InvalidStudyError",
    "MissingDependencyError",
]
