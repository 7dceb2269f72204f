"""pidlab's own BROJA solver (numpy/scipy only). Work in progress: registers nothing yet."""

from __future__ import annotations

from pidlab.hookspecs import hookimpl


@hookimpl
def pidlab_register_solvers() -> list[type]:
    return []
