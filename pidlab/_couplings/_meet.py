"""Validation of marginals and the majorisation meet (Cicalese & Vaccaro), the lower bound H(p∧q) ≤ MEC."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._distribution import SUM_TOL, check_pmf
from pidlab._info import entropy
from pidlab.exceptions import InvalidDistributionError, ParameterError

__all__ = ["check_marginals", "check_size_limit", "meet", "meet_entropy", "SUM_TOL"]


def check_marginals(
    marginals: tuple[ArrayLike, ...], *, tol: float = SUM_TOL, min_count: int = 2, owner: str = "couple"
) -> list[NDArray[np.float64]]:
    """Validate probability vectors and return them as flat read-only float64 arrays.

    A table of any shape is read as a pmf over its cells in C order (so a joint ``p12`` can be
    coupled with ``py``). Each must be finite, non-negative, non-empty and sum to 1 within
    ``tol``; nothing is renormalised.
    """
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (0 <= tol < 1):
        raise ParameterError(
            f"The `'tol'` parameter of `{owner}` must be a number in [0, 1). Got {tol!r} instead."
        )
    if len(marginals) < min_count:
        raise InvalidDistributionError(
            f"need at least {min_count} marginals, got {len(marginals)}; "
            "pass the probability vectors as separate arguments, e.g. meet(p, q)."
        )
    out = []
    for i, m in enumerate(marginals):
        what = ("p", "q")[i] if i < 2 else f"marginal {i + 1}"
        try:
            length = f" (length {np.size(m)})"
        except (ValueError, TypeError):  # ragged nesting: check_pmf names the problem
            length = ""
        a = check_pmf(m, ndim=None, what=f"{what}{length}", atol=np.inf).ravel()
        total = float(a.sum())
        if abs(total - 1.0) > tol:
            raise InvalidDistributionError(
                f"{what} (length {a.size}) sums to {total:.12g}, not 1 (tolerance {tol:g}); divide it by its "
                "total (v / v.sum()) if it holds counts or weights, or fix it."
            )
        out.append(a)
    return out


def check_size_limit(value: object, name: str, owner: str) -> None:
    """Raise :class:`ParameterError` unless ``value`` is an int >= 1 (a size limit option)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError(f"The `{name!r}` parameter of `{owner}` must be an int >= 1. Got {value!r} instead.")


def _sorted_padded(vectors: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    n = max(v.size for v in vectors)
    out = np.zeros((len(vectors), n))
    for i, v in enumerate(vectors):
        out[i, : v.size] = -np.sort(-v)
    return out


def meet(*marginals: ArrayLike, tol: float = SUM_TOL) -> NDArray[np.float64]:
    """The majorisation meet ``p ∧ q ∧ ...`` of two or more probability vectors.

    Each vector is sorted in decreasing order and zero-padded to the longest length ``n``;
    with partial sums ``P_i`` the meet has partial sums ``Z_i = min_k P^k_i`` and entries
    ``Z_i - Z_{i-1}`` (non-increasing, no correction step needed). It is majorised by every
    marginal and is the greatest such vector, so ``H(p∧q) <= H(M)`` for every coupling ``M``
    of the marginals: it is a lower bound on the minimum-entropy coupling (MEC).

    Parameters
    ----------
    *marginals : array_like
        Two or more probability vectors (any shape; a table is read over its cells). They must
        be finite, non-negative and sum to 1 within ``tol``; lengths may differ.
    tol : float, default 1e-9
        Tolerance on each total; nothing is renormalised.

    Returns
    -------
    numpy.ndarray
        The meet, sorted decreasingly, of length ``max(len(p), len(q), ...)`` (trailing
        zeros kept). It sums to ``min_k sum(p_k)``.

    Raises
    ------
    InvalidDistributionError
        Fewer than two marginals, or a marginal that is empty, negative, NaN or unnormalised.

    Examples
    --------
    >>> meet([0.6, 0.4], [0.4, 0.3, 0.3]).round(12).tolist()
    [0.4, 0.3, 0.3]
    >>> meet([0.5, 0.5], [0.9, 0.1], [0.6, 0.2, 0.2]).round(12).tolist()
    [0.5, 0.3, 0.2]
    """
    vecs = check_marginals(marginals, tol=tol, owner="meet")
    z = np.cumsum(_sorted_padded(vecs), axis=1).min(axis=0)
    out = np.diff(z, prepend=0.0)
    # partial sums of non-negative floats are non-decreasing, so out >= 0 exactly
    return out


def meet_entropy(*marginals: ArrayLike, tol: float = SUM_TOL) -> float:
    """Entropy in bits of the meet, ``H(p∧q∧...)``: a lower bound on the minimum coupling entropy.

    Examples
    --------
    >>> round(meet_entropy([0.6, 0.4], [0.4, 0.3, 0.3]), 6)
    1.570951
    """
    return entropy(meet(*marginals, tol=tol))
