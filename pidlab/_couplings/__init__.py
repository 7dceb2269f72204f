"""Minimum-entropy couplings: the meet lower bound and coupling plugins (greedy, lattice, exact)."""

from __future__ import annotations

from pidlab._couplings._meet import meet, meet_entropy
from pidlab.hookspecs import hookimpl

__all__ = ["meet", "meet_entropy"]


@hookimpl
def pidlab_register_couplings() -> list[type]:
    return []
