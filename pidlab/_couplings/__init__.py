"""Minimum-entropy couplings: the meet lower bound and the coupling plugins.

``meet``/``meet_entropy`` give the majorisation meet and its entropy, a lower bound on the
minimum-entropy coupling (MEC). ``couple`` runs a coupling plugin and returns a
:class:`CouplingResult` with the coupling as sparse coordinates in the caller's index order and
a certified bracket ``[lower_bound, entropy]`` on the MEC. Built-in plugins: ``greedy``
(Kocaoglu et al. 2017), ``lattice`` (Cicalese, Gargano & Vaccaro 2019) and ``exact`` (tiny
instances). ``min_joint_entropy`` brackets the minimum joint entropy under three pairwise
marginals (the NP-hard quantity of the paper's Theorem 3).
"""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from pidlab._contracts import Coupling
from pidlab._couplings._meet import SUM_TOL, meet, meet_entropy
from pidlab._couplings._result import CouplingResult
from pidlab._plugins import builtin_classes
from pidlab.exceptions import ParameterError, PidlabError, PluginOutputError, ProblemTooLargeError
from pidlab.hookspecs import hookimpl

__all__ = [
    "BUILTINS",
    "Coupling",
    "CouplingResult",
    "DEFAULT_METHOD",
    "ProblemTooLargeError",
    "couple",
    "get_coupling",
    "mec_lower_bound",
    "meet",
    "meet_entropy",
    "min_joint_entropy",
]

#: The built-in coupling plugins, one module each (``"module:Class"``, modules of this package).
#: A new built-in costs its module and one line here.
BUILTINS: tuple[str, ...] = (
    "_greedy:GreedyCoupling",
    "_lattice:LatticeCoupling",
    "_exact:ExactCoupling",
)

#: the method ``couple(method=None)`` uses; documented as unstable (it may change between versions)
DEFAULT_METHOD = "greedy"


def couple(
    p: ArrayLike,
    q: ArrayLike,
    *more: ArrayLike,
    method: str | Coupling | None = None,
    tol: float = SUM_TOL,
    **options: Any,
) -> CouplingResult:
    """Couple two (or more) marginals with a low-entropy joint and bracket the minimum.

    Parameters
    ----------
    p, q, *more : array_like
        Probability vectors (lengths may differ; a table is read over its cells). Each must be
        finite, non-negative and sum to 1 within ``tol``; nothing is renormalised. More than two
        marginals need a method that supports them (``greedy``).
    method : str, Coupling instance or None
        A registered coupling name (``"greedy"``, ``"lattice"``, ``"exact"``, or a third-party
        one; see :func:`pidlab.couplings`) or an instance. None picks the default, currently
        ``"greedy"``; **the default may change between versions**: pass a name to pin it.
    tol : float, default 1e-9
        Tolerance on each marginal's total.
    **options
        Passed to the method (for example ``max_cells`` for ``exact``, ``profile`` for every
        built-in). Options require an explicit ``method``.

    Returns
    -------
    CouplingResult
        ``entropy`` (bits, the coupling found), ``lower_bound`` (certified, with
        ``lower_bound_source``), cells as ``indices``/``values`` in the caller's index order.

    Raises
    ------
    InvalidDistributionError
        Bad marginals.
    ParameterError
        Options passed without a method, or options the method does not take.
    UnknownNameError
        An unknown method name.
    ProblemTooLargeError
        ``method="exact"`` on an instance above its size limit.
    PluginOutputError
        The method failed unexpectedly, or returned a coupling the host cannot stand behind
        (marginals missed, negative/NaN cells, a lower bound above its own entropy; see
        :func:`pidlab._couplings._check.checked_result`).

    Examples
    --------
    >>> r = couple([0.6, 0.4], [0.4, 0.3, 0.3], method="greedy")
    >>> round(r.entropy, 3), round(r.lower_bound, 3), r.lower_bound_source
    (1.846, 1.571, 'meet')
    >>> round(couple([0.6, 0.4], [0.4, 0.3, 0.3], method="exact").entropy, 3)  # the meet is attained
    1.571
    """
    if method is None:
        if options:
            raise ParameterError(
                f"options {sorted(options)} were passed without a method; options are method-specific, "
                f"so name the method too, e.g. couple(p, q, method={DEFAULT_METHOD!r}, ...)."
            )
        method = DEFAULT_METHOD
    impl = get_coupling(method)
    from pidlab._couplings._check import checked_result
    from pidlab._couplings._meet import check_marginals

    vecs = check_marginals((p, q, *more), tol=tol)  # the host's own copy, to check the answer against
    name = str(getattr(impl, "name", type(impl).__name__))
    if isinstance(impl, Coupling) or tol != SUM_TOL:
        options["tol"] = tol  # a third-party plugin need not accept tol unless it is asked for
    try:
        res = impl.couple(p, q, *more, **options)
    except PidlabError:
        raise
    except Exception as exc:
        raise PluginOutputError(f"coupling {name!r} failed: {type(exc).__name__}: {exc}") from None
    return checked_result(name, res, vecs, tol)


def get_coupling(method: str | Any) -> Any:
    """The coupling plugin to run: a new instance of the registered one named ``method``
    (built-in or third-party, case-insensitive), or ``method`` itself when it is an object.

    Raises
    ------
    UnknownNameError
        No coupling of that name is registered.

    Examples
    --------
    >>> get_coupling("Greedy").name
    'greedy'
    """
    if isinstance(method, str):
        from pidlab._plugins import lookup

        return lookup("coupling", method).instance()
    if not callable(getattr(method, "couple", None)):
        from pidlab.exceptions import ParameterError

        raise ParameterError(
            f"The `'method'` parameter of `couple` must be a registered coupling name ({', '.join(_names())}) or an "
            f"object with a couple() method. Got {method!r} instead."
        )
    return method


def _names() -> list[str]:
    from pidlab._plugins import names

    return names("coupling")


def mec_lower_bound(*marginals: ArrayLike, tol: float = SUM_TOL, profile: bool | None = None) -> tuple[float, str]:
    """Best certified lower bound on the minimum-entropy coupling of the marginals (bits).

    The maximum of ``H(meet)`` and, when ``profile`` (default: at most 5,000 positive atoms in
    all), the ``threshold-profile`` bound; returns ``(value, source)``. Any such value can
    replace ``H(a∧b)`` in an upper bound that needs a LOWER bound on the MEC (docs/theory.rst §3.3).

    Examples
    --------
    >>> v, src = mec_lower_bound([0.9, 0.05, 0.05], [0.34, 0.33, 0.33])
    >>> src, v > meet_entropy([0.9, 0.05, 0.05], [0.34, 0.33, 0.33]) + 0.25
    ('threshold-profile', True)
    """
    import numpy as np

    from pidlab._couplings._bounds import best_bound, certified_lower_bounds
    from pidlab._couplings._meet import check_marginals

    srt = [np.sort(v[v > 0])[::-1] for v in check_marginals(marginals, tol=tol, owner="mec_lower_bound")]
    return best_bound(certified_lower_bounds(srt, profile=profile))


def min_joint_entropy(*args: Any, **kwargs: Any) -> Any:
    """Bracket ``min H(X1, X2, Y)`` over joints with three given pairwise marginals.

    See :func:`pidlab._couplings._pairwise.min_joint_entropy`.
    """
    from pidlab._couplings._pairwise import min_joint_entropy as _impl

    return _impl(*args, **kwargs)


@hookimpl
def pidlab_register_couplings() -> list[type]:
    return builtin_classes(__name__, BUILTINS)
