"""Discretizers (work in progress: registers nothing yet)."""

from __future__ import annotations

from pidlab.hookspecs import hookimpl


@hookimpl
def pidlab_register_discretizers() -> list[type]:
    return []
