r"""The released code's variants of the semi-supervised bounds (docs/theory.rst §3.1-§3.5), flagged.

None of them is a valid bound in general; :func:`pidlab.synergy_bounds` computes them only with
``variant="paper"`` and stores them under ``result.paper`` with the flags of :data:`FLAGS`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._info import entropy, mutual_information_2d

__all__ = [
    "FLAGS",
    "lower_bound_redundancy_ipf",
    "lower_bound_disagreement_c1",
    "upper_bound_greedy",
    "accuracy_upper_fano_uniform",
    "paper_variants",
]

#: Why each paper number is not a valid bound (stored with them under ``result.paper["flags"]``).
FLAGS = (
    "S_lower_redundancy_paper: the max-entropy joint under p(x1,x2) and p(x1,y) only (the released "
    "code drops the p(x2,y) constraint); NOT guaranteed valid: that joint does not minimise "
    "I(X1;X2|Y) over its feasible set (it exceeds the true S on NOISY_COPIES)",
    "S_lower_disagreement_paper_c1: c = 1 is NOT a valid constant (docs/theory.rst §3.2 counterexample)",
    "S_upper_paper_greedy: a greedy coupling entropy is an upper bound on MEC, so this is NOT an "
    "upper bound on S",
    "accuracy_upper_paper_fano_uniform: plain Fano assumes uniform Y; not valid otherwise",
)


def lower_bound_redundancy_ipf(p_x1y: NDArray[np.float64], p_x1x2: NDArray[np.float64], R: float) -> float:
    r"""Theorem 1 as the released code computes it (docs/theory.rst §3.1): NOT guaranteed valid.

    IPF without the ``p(x2,y)`` constraint gives ``r = p(x1,x2) p(y|x1)``, and its
    ``I_r(X1;X2|Y)`` is plugged into ``R - I(X1;X2) + I_r(X1;X2|Y)``. That ``r`` does not
    minimise ``I(X1;X2|Y)`` over the larger feasible set, so the number can exceed the true synergy.

    Parameters
    ----------
    p_x1y, p_x1x2 : ndarray
        The tables the released code uses.
    R : float
        The redundancy.

    Returns
    -------
    float
        ``S_lower_redundancy_paper`` in bits.
    """
    p1 = p_x1x2.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(p1[:, None, None] > 0, p_x1x2[:, :, None] * p_x1y[:, None, :] / p1[:, None, None], 0.0)
    Hr = entropy(r)
    I_r = entropy(r.sum(1)) + entropy(r.sum(0)) - Hr - entropy(r.sum((0, 1)))
    return float(R - mutual_information_2d(p_x1x2) + I_r)


def lower_bound_disagreement_c1(alpha: float, U1: float, U2: float) -> float:
    """Theorem 2 with the paper's ``c = 1`` (docs/theory.rst §3.2): NOT a valid constant.

    Returns ``alpha - max(U1, U2)`` (``S_lower_disagreement_paper_c1``); the noisy copies of §3.2
    are a counterexample (``alpha = 0.2304 > S = 0.211``).
    """
    return float(alpha - max(U1, U2))


def upper_bound_greedy(
    pairs: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]], H_x1x2: float, H_y: float, m_upper: float
) -> float:
    """Eq. 50 with a greedy coupling's entropy in place of ``L`` (docs/theory.rst §3.3): NOT an upper bound.

    A feasible coupling's entropy is an upper bound on the minimum-entropy coupling, so
    ``H(X1,X2) + H(Y) - max greedy - m_upper`` (``S_upper_paper_greedy``) can fall below S.

    Parameters
    ----------
    pairs : dict
        The three couplings (:func:`pidlab.bounds._theorems.coupling_pairs`).
    H_x1x2, H_y : float
        ``H(X1, X2)`` and ``H(Y)``.
    m_upper : float
        The upper end of the BROJA bracket on ``R + U1 + U2``.
    """
    from pidlab._couplings import couple

    g = max(couple(u, v, method="greedy", profile=False).entropy for u, v in pairs.values())
    return float(H_x1x2 + H_y - g - m_upper)


def accuracy_upper_fano_uniform(I_upper: float, n_classes: int) -> float:
    """Theorem 5's upper bound in the paper's form ``(I + 1) / log2|Y|`` (docs/theory.rst §3.4).

    Valid only for uniform ``Y`` (``accuracy_upper_paper_fano_uniform``); 1 for a single class.
    """
    return 1.0 if n_classes == 1 else float(min(1.0, (I_upper + 1.0) / math.log2(n_classes)))


def paper_variants(
    p_x1y: NDArray[np.float64], p_x1x2: NDArray[np.float64],
    pairs: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]], *, R: float, U1: float, U2: float,
    alpha: float, H_x1x2: float, H_y: float, m_upper: float, I_upper: float, n_classes: int,
) -> dict[str, Any]:
    """The four released-code numbers and their ``flags`` (``result.paper`` of :func:`pidlab.synergy_bounds`)."""
    return {
        "S_lower_redundancy_paper": lower_bound_redundancy_ipf(p_x1y, p_x1x2, R),
        "S_lower_disagreement_paper_c1": lower_bound_disagreement_c1(alpha, U1, U2),
        "S_upper_paper_greedy": upper_bound_greedy(pairs, H_x1x2, H_y, m_upper),
        "accuracy_upper_paper_fano_uniform": accuracy_upper_fano_uniform(I_upper, n_classes),
        "flags": list(FLAGS),
    }
