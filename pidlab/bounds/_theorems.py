r"""The semi-supervised bounds of Liang et al. (ICLR 2024), one theorem per function (docs/theory.rst §3).

Each function takes the (consistent) tables and the quantities it needs and returns its bound in
bits; :func:`pidlab.synergy_bounds` validates the input, calls them in order and assembles a
:class:`~pidlab.SynergyBounds`. None of them validates its input.

* :func:`exact_atoms`: ``R``, ``U1``, ``U2`` exactly, by BROJA on ``p(x1,y)`` and ``p(x2,y)`` (§2.1-2.2);
* :func:`lower_bound_redundancy`: Theorem 1 with all three pairwise marginals (§3.1);
* :func:`disagreement` and :func:`lower_bound_disagreement`: Theorem 2 with ``c = 1/(4 ln 2)`` (§3.2);
* :func:`upper_bound_couplings`: eq. 50 with a certified lower bound on each minimum-entropy coupling (§3.3);
* :func:`information_range` and :func:`accuracy_bounds`: Theorem 5 for the Bayes-optimal accuracy (§3.4).

The released code's variants are in :mod:`pidlab.bounds._paper`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._info import LN2, clean_zero, entropy, mutual_information_2d
from pidlab._marginals import Marginals, MaxEntResult
from pidlab.exceptions import InvalidDistributionError

__all__ = [
    "C_DISAGREEMENT",
    "UPPER_COUPLINGS",
    "ZERO_TOL",
    "Atoms",
    "exact_atoms",
    "lower_bound_redundancy",
    "disagreement",
    "lower_bound_disagreement",
    "coupling_pairs",
    "upper_bound_couplings",
    "information_range",
    "accuracy_bounds",
    "posterior",
    "check_classifier",
]

#: The provably valid constant of Theorem 2 for the squared L2 distance: ``1 / (4 ln 2)``.
C_DISAGREEMENT = 1.0 / (4.0 * LN2)

#: Names of the three two-marginal couplings of eq. 50 (keys of ``SynergyBounds.upper_terms``).
UPPER_COUPLINGS = ("p_x1x2 with p_y", "p_x1y with p_x2", "p_x2y with p_x1")

#: Bounds within this distance of 0 are reported as exactly 0 (floating-point dust).
ZERO_TOL = 1e-13

#: Unit roundoff of IEEE double precision.
UNIT_ROUNDOFF = 2.0**-53


def entropy_rounding(p: NDArray[np.float64], n_sum: int = 1) -> float:
    """A bound (bits) on the floating-point error of ``entropy(p)`` (``-sum p log2 p`` in double precision).

    Each term ``p log2 p`` is within 3 unit roundoffs ``u`` of exact (one for ``log2``, one for the
    product, one spare), and summing ``n`` terms adds at most ``(n - 1) u`` times the sum of their
    magnitudes, ``H(p)``. The entries themselves may be sums of ``n_sum`` numbers (marginals
    of a joint), each off by at most ``n_sum * u`` relatively, which moves each term by at most
    ``n_sum * u * p (|log2 p| + log2 e)``. Total: ``(n + 2 + n_sum) u (H + log2(e) sum p)``, doubled
    as a margin for the second-order terms.
    """
    arr = np.asarray(p, dtype=float)
    h = abs(entropy(arr))
    return 2.0 * (arr.size + 2 + n_sum) * UNIT_ROUNDOFF * (h + float(arr.sum()) / LN2)


def tables_rounding(p_x1y: NDArray[np.float64], p_x2y: NDArray[np.float64], p_x1x2: NDArray[np.float64]) -> float:
    """Rounding bound (bits) on any signed sum of the entropies the bounds use, each used at most 3 times.

    The bounds combine ``H(X1,Y)``, ``H(X2,Y)``, ``H(X1,X2)``, ``H(Y)``, ``H(X1)``, ``H(X2)`` (directly
    and through ``I(X1;Y)``, ``I(X2;Y)``, ``I(X1;X2)``), each at most three times; the tables may be
    the marginals of a joint (entries summed over ``max(n1, n2, ny)`` cells).
    """
    n = max(p_x1y.shape[0], p_x2y.shape[0], p_x1y.shape[1])
    parts = (p_x1y, p_x2y, p_x1x2, p_x1y.sum(0), p_x1y.sum(1), p_x2y.sum(1))
    return 3.0 * sum(entropy_rounding(t, n * n) for t in parts)

Tables = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


class Atoms(NamedTuple):
    """``R``, ``U1``, ``U2`` and what the bounds need from the BROJA solution (bits)."""

    R: float
    U1: float
    U2: float
    m_lower: float
    m_upper: float
    I_x1y: float
    I_x2y: float
    H_y: float
    p_y: NDArray[np.float64]
    broja: dict[str, Any]


# ---------------------------------------------------------------------------------------------- R, U1, U2
def exact_atoms(p_x1y: NDArray[np.float64], p_x2y: NDArray[np.float64], *, solver: Any, atol: float,
                notes: list[str]) -> Atoms:
    """``R``, ``U1``, ``U2`` exactly, by BROJA on the two labelled tables (docs/theory.rst §2.1-§2.2, §3).

    Parameters
    ----------
    p_x1y, p_x2y : ndarray
        The labelled tables ``p(x1, y)`` and ``p(x2, y)``.
    solver : str, Solver or None
        BROJA backend; ``None`` hands over between the available ones (noted in ``notes``).
    atol : float
        Marginal tolerance of the BROJA problem.
    notes : list of str
        Appended to when the solvers were tried in turn.

    Returns
    -------
    Atoms
        With ``m* = R + U1 + U2`` certified in ``[m_lower, m_upper]``, the atoms use its upper end:
        ``R = I(X1;Y) + I(X2;Y) - m_upper``, ``U1 = m_upper - I(X2;Y)``, ``U2 = m_upper - I(X1;Y)``.
    """
    from pidlab._broja import BrojaProblem

    problem = BrojaProblem(p_x1y, p_x2y, atol=atol)
    sol = _solve_broja(problem, solver, notes)
    cert = sol.certificate
    I1, I2 = problem.I_x1y, problem.I_x2y
    m_up, m_lo = float(cert.m_upper), float(cert.m_lower)
    broja = {
        "solver": sol.solver,
        "status": str(sol.status),
        "m_lower": m_lo,
        "m_upper": m_up,
        "gap": float(cert.gap),
        "marginal_residual": float(cert.marginal_residual),
    }
    return Atoms(R=I1 + I2 - m_up, U1=m_up - I2, U2=m_up - I1, m_lower=m_lo, m_upper=m_up, I_x1y=I1, I_x2y=I2,
                 H_y=problem.H_y, p_y=problem.p_y, broja=broja)


def _solve_broja(problem: Any, solver: Any, notes: list[str]) -> Any:
    """solve_broja; with ``solver=None`` a backend whose answer is not certified hands over to
    the next available one (:func:`pidlab._solvers.solve_broja`), which is noted here."""
    from pidlab._solvers import GAP_TOL, solve_broja
    from pidlab.exceptions import InaccurateSolutionWarning

    if solver is not None:
        return solve_broja(problem, solver)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InaccurateSolutionWarning)
        best = solve_broja(problem, None)
    if best.info.get("attempts"):
        notes.append("BROJA: solvers tried in turn: " + " | ".join(best.info["attempts"]) + f"; used {best.solver}")
    if best.certificate.gap > GAP_TOL:
        warnings.warn(
            f"BROJA: best certified gap {best.certificate.gap:.2e} bits (solver {best.solver}); R, U1, U2 are "
            "accurate to that gap and the synergy bounds use its conservative ends (recorded on the result).",
            InaccurateSolutionWarning,
            stacklevel=4,  # the caller of synergy_bounds
        )
    return best


# ---------------------------------------------------------------------------------------------- Theorem 1
def lower_bound_redundancy(
    m: Marginals, R: float, H_y: float, *, feasible: NDArray[np.float64] | None = None
) -> tuple[float, MaxEntResult]:
    r"""Theorem 1 with all three pairwise marginals: the smallest synergy the tables allow (docs/theory.rst §3.1).

    .. math::

       S \ge S_R = R - I(X_1;X_2) + H(X_1,Y) + H(X_2,Y) - H(Y) - \max_{r} H(r)

    over the joints ``r`` with the three marginals. The maximum-entropy joint is solved exactly
    (support LP, then Newton on the log-linear dual) and its certified dual value, an upper bound
    on ``max H(r)``, is used, so ``S_R`` never exceeds the true minimum.

    Parameters
    ----------
    m : Marginals
        Consistent (realisable) marginals.
    R : float
        The redundancy (BROJA, :func:`exact_atoms`).
    H_y : float
        ``H(Y)`` of the marginals.
    feasible : ndarray, optional
        A joint known to realise the tables; its positive cells seed the support.

    Returns
    -------
    S_R : float
        The bound in bits (it can be negative, which says nothing beyond ``S >= 0``).
    maxent : MaxEntResult
        The maximum-entropy joint with its certificate.
    """
    a, b, c12 = m.tables()
    me = m.max_entropy_joint(_checked=True, feasible=feasible)
    I12 = mutual_information_2d(c12)
    H_1y, H_2y = entropy(a), entropy(b)
    # entropy_upper already includes the rounding of the dual value; the rest is the rounding of
    # the entropies combined here (tables_rounding), taken off so that the bound stays a lower bound.
    return R - I12 + H_1y + H_2y - H_y - me.entropy_upper - tables_rounding(a, b, c12), me


# ---------------------------------------------------------------------------------------------- Theorem 2
def disagreement(
    p_x1y: NDArray[np.float64], p_x2y: NDArray[np.float64], p_x1x2: NDArray[np.float64],
    classifiers: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> float:
    r"""The disagreement ``alpha`` of two soft unimodal classifiers on the unlabelled pairs (docs/theory.rst §3.2).

    .. math::

       \alpha = \sum_{x_1, x_2} p(x_1, x_2)\, \lVert f_1(x_1) - f_2(x_2) \rVert_2^2

    Parameters
    ----------
    p_x1y, p_x2y, p_x1x2 : ndarray
        The three tables.
    classifiers : (f1, f2), optional
        Soft predictions ``f1[x1, y]``, ``f2[x2, y]`` (checked by :func:`check_classifier`).
        Default: the Bayes-optimal posteriors ``p(y | x_i)`` (:func:`posterior`).

    Returns
    -------
    float
        ``alpha`` in ``[0, 2]``.
    """
    f1, f2 = (posterior(p_x1y), posterior(p_x2y)) if classifiers is None else classifiers
    # ||f1 - f2||^2 = |f1|^2 + |f2|^2 - 2 f1.f2: n1 x n2 memory (not n1 x n2 x ny), clipped at 0 against rounding
    d2 = (f1 * f1).sum(1)[:, None] + (f2 * f2).sum(1)[None, :] - 2.0 * (f1 @ f2.T)
    return max(0.0, float(np.sum(p_x1x2 * np.maximum(d2, 0.0))))


def lower_bound_disagreement(alpha: float, U1: float, U2: float, c: float = C_DISAGREEMENT) -> float:
    r"""Theorem 2: ``S >= c * alpha - max(U1, U2)`` (docs/theory.rst §3.2).

    Valid with ``c = 1/(4 ln 2)`` (:data:`C_DISAGREEMENT`, Pinsker and the relaxed triangle
    inequality) when ``alpha`` is the squared L2 disagreement of the Bayes-optimal soft
    classifiers (:func:`disagreement`). The paper's ``c = 1`` is not valid
    (:func:`pidlab.bounds._paper.lower_bound_disagreement_c1`).

    Parameters
    ----------
    alpha : float
        The disagreement.
    U1, U2 : float
        The unique informations (:func:`exact_atoms`).
    c : float
        The constant.

    Returns
    -------
    float
        The bound in bits.
    """
    return c * alpha - max(U1, U2)


def posterior(pxy: NDArray[np.float64]) -> NDArray[np.float64]:
    """``p(y | x)`` from ``p(x, y)`` (rows of zero mass are zero): the Bayes-optimal soft classifier."""
    px = pxy.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(px > 0, pxy / px, 0.0)


def check_classifier(f: ArrayLike, shape: tuple[int, int], what: str) -> NDArray[np.float64]:
    """Soft predictions ``f[x, y]`` as an array of ``shape`` whose rows are on the simplex, or raise."""
    arr = np.asarray(f, dtype=float)
    if arr.shape != shape:
        raise InvalidDistributionError(
            f"classifier predictions {what} must have shape {shape} (one row of class probabilities per "
            f"symbol); got {arr.shape}."
        )
    if not np.all(np.isfinite(arr)) or (arr < -1e-12).any() or np.abs(arr.sum(1) - 1).max() > 1e-6:
        raise InvalidDistributionError(
            f"classifier predictions {what} must be rows of probabilities (finite, >= 0, summing to 1); "
            "use predict_proba, not hard labels."
        )
    return arr


# ---------------------------------------------------------------------------------------------- eq. 50
def coupling_pairs(
    p_x1y: NDArray[np.float64], p_x2y: NDArray[np.float64], p_x1x2: NDArray[np.float64], p_y: NDArray[np.float64]
) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """The three couplings of eq. 50, normalised: ``p(x1,x2)`` with ``p(y)``, ``p(x1,y)`` with
    ``p(x2)``, ``p(x2,y)`` with ``p(x1)`` (keys :data:`UPPER_COUPLINGS`)."""
    p1 = p_x1x2.sum(1)
    p2 = p_x1x2.sum(0)
    p1n, p2n, pyn = p1 / p1.sum(), p2 / p2.sum(), p_y / p_y.sum()
    return dict(zip(UPPER_COUPLINGS, (
        (p_x1x2 / p_x1x2.sum(), pyn), (p_x1y / p_x1y.sum(), p2n), (p_x2y / p_x2y.sum(), p1n),
    )))


def upper_bound_couplings(
    pairs: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]], H_x1x2: float, H_y: float, m_lower: float,
    *, mec_bound: str = "best", rounding: float = 0.0,
) -> tuple[float, dict[str, Any]]:
    r"""Eq. 50 with a certified lower bound ``L`` on each minimum-entropy coupling (docs/theory.rst §3.3).

    .. math::

       S \le H(X_1,X_2) + H(Y) - \max\{L(p_{12}, p_y), L(p_{1y}, p_{x_2}), L(p_{2y}, p_{x_1})\} - m_\text{lower}

    Every joint with the three marginals couples each pair, so ``H(r)`` is at least each MEC;
    ``L`` must be a lower bound on the MEC: the majorisation meet ``H(a∧b)`` and, with
    ``mec_bound="best"``, the larger of the meet and the threshold-profile bound
    (:func:`pidlab._couplings.mec_lower_bound`).

    Parameters
    ----------
    pairs : dict
        The couplings (:func:`coupling_pairs`).
    H_x1x2, H_y : float
        ``H(X1, X2)`` and ``H(Y)``.
    m_lower : float
        The certified lower end of ``R + U1 + U2`` (:func:`exact_atoms`).
    mec_bound : {"best", "meet"}
        Which lower bound on each MEC.
    rounding : float
        Rounding bound of ``H(X1,X2) + H(Y) - m_lower`` (:func:`tables_rounding`); it is added, with
        the rounding of the coupling bound ``L`` (:func:`entropy_rounding` of a vector as long as
        the two marginals), so that the bound stays an upper bound.

    Returns
    -------
    S_upper : float
        The bound in bits.
    upper_terms : dict
        For each coupling its ``L``, ``source`` and ``meet`` entropy; ``largest`` (the coupling
        that set the bound), ``mec_bound`` and ``S_upper_meet`` (the bound with the meet alone).
    """
    from pidlab._couplings import mec_lower_bound, meet_entropy

    terms: dict[str, dict[str, Any]] = {}
    for key, (u, v) in pairs.items():
        h_meet = float(meet_entropy(u, v))
        if mec_bound == "meet":
            L_val, src = h_meet, "meet"
        else:
            L_val, src = mec_lower_bound(u, v)
            L_val = float(L_val)
            if L_val <= h_meet:
                L_val, src = h_meet, "meet"
        k = int(np.size(u) + np.size(v))
        slack_L = 2.0 * (2 * k + 4) * UNIT_ROUNDOFF * (max(L_val, h_meet) + 1.0 / LN2)
        terms[key] = {"L": L_val, "source": src, "meet": h_meet, "rounding": slack_L}
    best = max(terms, key=lambda k: terms[k]["L"] - terms[k]["rounding"])
    S_up = H_x1x2 + H_y - terms[best]["L"] - m_lower + rounding + terms[best]["rounding"]
    best_meet = max(terms.values(), key=lambda t: t["meet"] - t["rounding"])
    S_up_meet = H_x1x2 + H_y - best_meet["meet"] - m_lower + rounding + best_meet["rounding"]
    upper_terms: dict[str, Any] = {
        **terms, "largest": best, "mec_bound": mec_bound, "S_upper_meet": clean_zero(S_up_meet, ZERO_TOL),
    }
    return S_up, upper_terms


# ---------------------------------------------------------------------------------------------- Theorem 5
def information_range(
    H_y: float, m_lower: float, m_upper: float, S_lower: float, S_upper: float
) -> tuple[float, float]:
    """The smallest and largest consistent ``I(X1,X2;Y)`` (docs/theory.rst §3.4).

    ``m_lower + S_lower`` and ``m_upper + max(S_upper, 0)``, each clipped to ``H(Y)``, using the
    conservative end of the BROJA bracket in each (the upper end is at least the lower).
    """
    I_lo = min(H_y, m_lower + S_lower)
    I_up = min(H_y, m_upper + max(S_upper, 0.0))
    return I_lo, max(I_up, I_lo)


def accuracy_bounds(
    p_x1y: NDArray[np.float64], p_x2y: NDArray[np.float64], H_y: float, I_lower: float, I_upper: float
) -> tuple[float, float]:
    r"""Theorem 5: the range of the Bayes-optimal multimodal accuracy (docs/theory.rst §3.4).

    Lower: Feder-Merhav, ``P_acc >= 2^(I - H(Y))`` with ``I = I_lower``, and at least the Bayes
    accuracy of either modality alone, ``sum_x max_y p(x_i, y)``. Upper: Fano's inequality in its
    form valid for any ``p(y)``, ``(log2|Y| - H(Y) + I + 1) / log2|Y|`` with ``I = I_upper``,
    clipped to ``[0, 1]``. A single class, or ``H(Y) = 0``, gives ``(1, 1)``.

    Parameters
    ----------
    p_x1y, p_x2y : ndarray
        The labelled tables.
    H_y : float
        ``H(Y)``.
    I_lower, I_upper : float
        The range of ``I(X1,X2;Y)`` (:func:`information_range`).

    Returns
    -------
    (float, float)
        Lower and upper bound on the accuracy.
    """
    ny = p_x1y.shape[1]
    if ny == 1 or H_y <= 0:
        return 1.0, 1.0
    # Feder-Merhav, and: the multimodal Bayes classifier is at least as accurate as either unimodal one.
    acc_uni = max(float(p_x1y.max(axis=1).sum()), float(p_x2y.max(axis=1).sum()))
    acc_lo = min(1.0, max(2.0 ** (I_lower - H_y), acc_uni))
    L = math.log2(ny)
    acc_up = min(1.0, max(0.0, (L - H_y + I_upper + 1.0) / L))
    return float(acc_lo), float(acc_up)
