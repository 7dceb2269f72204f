"""Hook specifications: the four plugin kinds of pidlab.

A plugin is any module or object with functions decorated by ``pidlab.hookimpl`` (a
``pluggy.HookimplMarker("pidlab")``). Each hook returns a list of classes. Built-in measures,
solvers, discretizers and couplings are ordinary plugins registered through these same hooks.
Third-party packages expose their plugin module through the ``pidlab`` entry-point group::

    [project.entry-points.pidlab]
    mmi = "pidlab_mmi"

A name or alias (of one kind) claimed by two installed plugins is refused for both, whatever
their load order; one taken by a built-in is refused for the plugin.

A hook may return None (nothing to register). Hook argument names are public API: none of these hooks takes arguments, so the interface can
grow by adding hooks without breaking existing plugins.
"""

from __future__ import annotations

from typing import Any

import pluggy

__all__ = ["hookspec", "hookimpl"]

hookspec = pluggy.HookspecMarker("pidlab")
hookimpl = pluggy.HookimplMarker("pidlab")


@hookspec
def pidlab_register_measures() -> list[type[Any]] | None:
    """Return PID measure classes.

    Each class has ``name`` (lower-case str), optional ``aliases``, ``symbol``, ``reference``,
    ``kind`` (``"pid"`` for a full decomposition or ``"net"`` for a single net quantity) and
    ``compute(dist, *, solver=None) -> PIDResult``. See :class:`pidlab.Measure`.
    """


@hookspec
def pidlab_register_solvers() -> list[type[Any]] | None:
    """Return solver classes for the BROJA convex program (see :class:`pidlab.Solver`).

    Each class has ``name``, ``priority`` (lower is preferred when ``solver=None``),
    ``availability()`` returning whether it can run here and why not, ``can_solve(problem)``
    and ``solve(problem, **options) -> SolveResult``.
    """


@hookspec
def pidlab_register_discretizers() -> list[type[Any]] | None:
    """Return discretizer classes following the scikit-learn estimator contract.

    Each class has ``name``, ``fit(X, y=None) -> self`` and ``transform(X) -> integer codes``,
    optionally ``availability()`` when it needs an optional package (see
    :class:`pidlab.Discretizer`, whose subclasses implement ``fit_matrix`` and
    ``transform_matrix``). The host checks the codes before using them: one integer code per
    sample, non-negative, below ``n_symbols_`` when declared, and at most ``max_symbols``
    distinct symbols (the discretizer's own parameter, else ``pidlab._discretizers.MAX_SYMBOLS``).
    """


@hookspec
def pidlab_register_couplings() -> list[type[Any]] | None:
    """Return min-entropy coupling approximators.

    Each class has ``name`` and ``couple(p, q, **options) -> CouplingResult`` with the coupling
    as sparse coordinates, its entropy in bits and a certified lower bound on the minimum
    (see :class:`pidlab.Coupling`, whose subclasses implement ``couple_sorted(p, q)``). The host
    refuses (``PluginOutputError``) a result whose cells miss the marginals, are negative or not
    finite, or whose lower bound exceeds its own entropy.
    """
