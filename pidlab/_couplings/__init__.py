"""Min-entropy couplings (work in progress: registers nothing yet)."""

from __future__ import annotations

from pidlab.hookspecs import hookimpl


@hookimpl
def pidlab_register_couplings() -> list[type]:
    return []
