r"""Semi-supervised bounds on synergy from pairwise marginals (Liang et al., ICLR 2024; docs/theory.rst §3).

Given ``p(x1,y)``, ``p(x2,y)`` (labelled unimodal data) and ``p(x1,x2)`` (unlabelled pairs):

* R, U1, U2 exactly, by BROJA on the two labelled tables;
* ``S_lower_redundancy`` (Theorem 1 with all three pairwise marginals):
  ``S >= R - I(X1;X2) + H(X1,Y) + H(X2,Y) - H(Y) - max_r H(r)`` over joints ``r`` with the three
  marginals; the maximum-entropy joint is computed exactly (support LP + Newton) and its dual
  value is used, so the bound is certified;
* ``S_lower_disagreement`` (Theorem 2): ``c * alpha - max(U1, U2)`` with
  ``alpha = sum p(x1,x2) ||p(y|x1) - p(y|x2)||^2`` and the valid constant ``c = 1/(4 ln 2)``;
* ``S_upper`` (eq. 50): ``H(X1,X2) + H(Y) - max{L(p12, py), L(p1y, p2), L(p2y, p1)} - (R+U1+U2)``
  where ``L`` is a certified LOWER bound on the minimum-entropy coupling: by default the larger of
  the majorisation meet ``H(a∧b)`` and pidlab's ``threshold-profile`` bound
  (:func:`pidlab._couplings.mec_lower_bound`), with ``mec_bound="meet"`` the meet alone (the
  paper's valid form); ``result.upper_terms`` records which bound each coupling used;
* ``accuracy_lower``/``accuracy_upper`` (Theorem 5) for the Bayes-optimal multimodal classifier.

The paper's released-code variants (c = 1, a greedy coupling entropy in place of a lower bound,
the Fano bound for uniform Y, IPF without the p(x2,y) constraint) are computed only with
``variant="paper"``, stored separately under ``paper`` and flagged as such.

Each bound is one function of :mod:`pidlab.bounds._theorems` (the paper's variants:
:mod:`pidlab.bounds._paper`); :func:`synergy_bounds` validates the input, calls them in turn and
assembles the :class:`SynergyBounds`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._info import clean_zero, entropy, mutual_information_2d
from pidlab._marginals import (
    CONSISTENCY_TOL,
    ConsistencyReport,
    Marginals,
    RepairResult,
    check_repair_option,
    check_tol,
)
from pidlab._results import Result, freeze, thaw
from pidlab._status import Status
from pidlab.bounds._paper import paper_variants
from pidlab.bounds._theorems import (
    C_DISAGREEMENT,
    UNIT_ROUNDOFF,
    UPPER_COUPLINGS,
    ZERO_TOL,
    accuracy_bounds,
    check_classifier,
    coupling_pairs,
    disagreement,
    exact_atoms,
    information_range,
    lower_bound_disagreement,
    lower_bound_redundancy,
    tables_rounding,
    upper_bound_couplings,
)
from pidlab.exceptions import AssumptionWarning, InvalidDistributionError, ParameterError

__all__ = ["SynergyBounds", "synergy_bounds", "C_DISAGREEMENT", "UPPER_COUPLINGS"]

_VARIANTS = ("valid", "paper")
_MEC_BOUNDS = ("best", "meet")


@dataclass(frozen=True)
class SynergyBounds(Result):
    """Bounds on synergy (and exact R, U1, U2) from semi-supervised pairwise marginals, in bits.

    A :class:`~pidlab._results.Result`: ``to_dict()``, ``to_json()``, ``table()`` (also ``str()``)
    and ``_repr_html_()``. Hashable: the nested mappings are read-only
    :class:`~pidlab._results.FrozenMap` (their lists tuples); ``to_dict()`` gives plain dicts and
    lists.

    Attributes
    ----------
    R, U1, U2 : float
        Exact BROJA redundancy and unique informations from ``p(x1,y)``, ``p(x2,y)``.
    S_lower_redundancy : float
        Theorem 1 with all three pairwise marginals (the best lower bound from pairwise data;
        can be negative, which says nothing beyond ``S >= 0``).
    S_lower_disagreement : float
        Theorem 2 with the Bayes-optimal cluster classifiers (or the user's classifiers, see
        ``assumptions``), ``c * alpha - max(U1, U2)`` with ``c = 1/(4 ln 2)``.
    S_upper : float
        Eq. 50 with a certified lower bound on each minimum-entropy coupling (see
        ``upper_terms``).
    S_lower : float
        ``max(0, S_lower_redundancy, S_lower_disagreement)``.
    accuracy_lower, accuracy_upper : float
        Range of the Bayes-optimal multimodal accuracy (Theorem 5; Fano for any p(y)).
    alpha : float
        Disagreement of the two unimodal classifiers on the unlabelled pairs (squared L2).
    c : float
        The constant used in the disagreement bound.
    I_x1y, I_x2y, H_y : float
        Shannon quantities of the (repaired) marginals: ``I(X1;Y)``, ``I(X2;Y)``, ``H(Y)``.
    I_x1_x2 : float
        ``I(X1;X2)`` of the (repaired) ``p(x1,x2)`` (between the two sources; not ``I(X1,X2;Y)``,
        which is ``I_x1x2y`` on other results). The former name ``I_x1x2`` still works as a
        read-only alias that emits a :class:`DeprecationWarning`; ``to_dict()`` keeps the key
        ``"I_x1x2"`` (JSON consumers rely on it) and adds ``"I_x1_x2"`` with the same value.
    I_lower, I_upper : float
        The range of ``I(X1,X2;Y)`` the accuracy bounds use.
    upper_terms : FrozenMap
        The three couplings of eq. 50: for each (keys ``UPPER_COUPLINGS``) the lower bound
        ``L`` used, its ``source`` (``"meet"`` or ``"threshold-profile"``) and the ``meet``
        entropy; ``largest`` (the coupling that set ``S_upper``), ``mec_bound`` (the option
        used) and ``S_upper_meet`` (the bound with the meet alone, the paper's valid form).
    broja : FrozenMap
        Solver name, status, certified bracket ``[m_lower, m_upper]`` on ``R+U1+U2`` and residual.
    maxent : FrozenMap
        Certificate of the maximum-entropy joint: entropy, dual upper bound, duality gap,
        marginal residual, support size.
    consistency : ConsistencyReport
        The report of the input marginals.
    repair : FrozenMap or None
        Set when the marginals were repaired on request: method and how far they moved.
    assumptions : FrozenMap of str -> tuple of str
        What each bound rests on.
    variant : str
        ``"valid"`` (default) or ``"paper"``.
    paper : FrozenMap or None
        With ``variant="paper"``: the released code's numbers, each flagged.
    notes : tuple of str
    names : tuple of str
        Variable names (sources, target); also as :attr:`sources` and :attr:`target`.
    numerics : FrozenMap or None
        Where each bound's numerical error comes from and how much it was widened by (bits):
        every lower bound is the low end and every upper bound the high end of its own bracket
        (BROJA's certified ``[m_lower, m_upper]``, the max-entropy dual value with its rounding
        bound, and :func:`pidlab.bounds._theorems.tables_rounding` for the entropies combined).

    The property :attr:`status` gives the BROJA solve's status (``broja["status"]``) as a
    :class:`pidlab.Status`.
    """

    R: float
    U1: float
    U2: float
    S_lower_redundancy: float
    S_lower_disagreement: float
    S_upper: float
    S_lower: float
    accuracy_lower: float
    accuracy_upper: float
    alpha: float
    c: float
    I_x1y: float
    I_x2y: float
    I_x1_x2: float
    H_y: float
    I_lower: float
    I_upper: float
    n_classes: int
    upper_terms: Mapping[str, Any]
    broja: Mapping[str, Any]
    maxent: Mapping[str, Any]
    consistency: ConsistencyReport
    repair: Mapping[str, Any] | None
    assumptions: Mapping[str, tuple[str, ...]]
    variant: str = "valid"
    paper: Mapping[str, Any] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    names: tuple[str, str, str] = ("X1", "X2", "Y")
    units: str = "bits"
    numerics: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in ("upper_terms", "broja", "maxent", "repair", "assumptions", "paper", "numerics"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, freeze(value))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "names", tuple(self.names))

    @property
    def I_x1x2(self) -> float:
        """Deprecated alias of :attr:`I_x1_x2` (``I(X1;X2)``)."""
        warnings.warn(
            "SynergyBounds.I_x1x2 is deprecated: use SynergyBounds.I_x1_x2 (I(X1;X2), the information between "
            "the two sources; I_x1x2y elsewhere is I(X1,X2;Y)).",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.I_x1_x2

    @property
    def sources(self) -> tuple[str, str]:
        """Names of the two sources."""
        return (self.names[0], self.names[1])

    @property
    def target(self) -> str:
        """Name of the target."""
        return self.names[2]

    @property
    def status(self) -> Status:
        """Status of the BROJA solve behind R, U1, U2 (a :class:`pidlab.Status`)."""
        return Status(self.broja["status"])

    @property
    def synergy_interval(self) -> tuple[float, float]:
        """``(S_lower, S_upper)``."""
        return (self.S_lower, self.S_upper)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view: the bound keys first, then diagnostics (``I_x1x2`` and ``I_x1_x2`` both hold I(X1;X2))."""
        d: dict[str, Any] = {
            "target": self.names[2],
            "sources": [self.names[0], self.names[1]],
            "units": self.units,
            "R": self.R,
            "U1": self.U1,
            "U2": self.U2,
            "S_lower_redundancy": self.S_lower_redundancy,
            "S_lower_disagreement": self.S_lower_disagreement,
            "S_upper": self.S_upper,
            "S_lower": self.S_lower,
            "accuracy_lower": self.accuracy_lower,
            "accuracy_upper": self.accuracy_upper,
            "alpha": self.alpha,
            "c": self.c,
            "I_x1y": self.I_x1y,
            "I_x2y": self.I_x2y,
            "I_x1x2": self.I_x1_x2,
            "I_x1_x2": self.I_x1_x2,
            "H_y": self.H_y,
            "I_lower": self.I_lower,
            "I_upper": self.I_upper,
            "n_classes": self.n_classes,
            "upper_terms": thaw(self.upper_terms),
            "broja": thaw(self.broja),
            "maxent": thaw(self.maxent),
            "consistency": self.consistency.to_dict(),
            "repair": None if self.repair is None else thaw(self.repair),
            "assumptions": thaw(self.assumptions),
            "variant": self.variant,
        }
        if self.paper is not None:
            d["paper"] = thaw(self.paper)
        if self.numerics is not None:
            d["numerics"] = thaw(self.numerics)
        if self.notes:
            d["notes"] = list(self.notes)
        return d

    def table(self) -> str:
        from pidlab._render import synergy_text

        return synergy_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import synergy_html

        return synergy_html(self)


def _as_marginals(m_or_p_x1y: Any, p_x2y: ArrayLike | None, p_x1x2: ArrayLike | None) -> Marginals:
    if isinstance(m_or_p_x1y, Marginals):
        if p_x2y is not None or p_x1x2 is not None:
            raise InvalidDistributionError(
                "synergy_bounds got a Marginals object and extra tables; pass either Marginals or the three tables."
            )
        return m_or_p_x1y
    if p_x2y is None or p_x1x2 is None:
        raise InvalidDistributionError(
            "synergy_bounds needs the three pairwise tables p_x1y, p_x2y, p_x1x2 (or one pidlab.Marginals)."
        )
    return Marginals(m_or_p_x1y, p_x2y, p_x1x2)


def synergy_bounds(
    m_or_p_x1y: Marginals | ArrayLike,
    p_x2y: ArrayLike | None = None,
    p_x1x2: ArrayLike | None = None,
    *,
    solver: Any = None,
    repair: bool | str = False,
    tol: float = CONSISTENCY_TOL,
    classifiers: tuple[ArrayLike, ArrayLike] | None = None,
    alpha: float | None = None,
    alpha_note: str | None = None,
    variant: str = "valid",
    mec_bound: str = "best",
    joint: ArrayLike | None = None,
) -> SynergyBounds:
    r"""Bounds on synergy from labelled unimodal and unlabelled paired marginals.

    Parameters
    ----------
    m_or_p_x1y : Marginals or array_like
        A :class:`pidlab.Marginals`, or ``p(x1, y)`` with the next two arguments.
    p_x2y, p_x1x2 : array_like, optional
        ``p(x2, y)`` and ``p(x1, x2)`` when the first argument is a table.
    solver : str, Solver or None
        BROJA backend for R, U1, U2 (``None``: the preferred available one).
    repair : bool or {"tv", "kl"}
        Inconsistent marginals raise :class:`~pidlab.exceptions.InconsistentMarginalsError`
        unless a repair is requested (``True`` means ``"tv"``); the result then records the
        repair and how far the tables moved.
    tol : float
        Consistency tolerance.
    classifiers : (f1, f2), optional
        Soft predictions ``f1[x1, y]``, ``f2[x2, y]`` (rows on the simplex) to use in the
        disagreement bound instead of the Bayes-optimal ``p(y|x_i)``; the bound is then valid
        only insofar as they are Bayes-optimal (an :class:`AssumptionWarning` is issued).
    alpha : float, optional
        A disagreement computed elsewhere (for example by :func:`pidlab.estimate` from a
        classifier on the raw features) to use in place of the one from the tables; like
        ``classifiers`` it is valid only for Bayes-optimal classifiers. ``alpha_note`` says where
        it came from (recorded in ``assumptions``).
    variant : {"valid", "paper"}
        ``"paper"`` additionally computes the released code's numbers under ``result.paper``
        (flagged: c = 1 is not a valid constant, a greedy coupling is not a lower bound on MEC,
        the plain Fano bound assumes uniform Y). The main fields are always the valid bounds.
    mec_bound : {"best", "meet"}
        The lower bound ``L`` on each minimum-entropy coupling in the upper bound (eq. 50):
        ``"best"`` (default) takes the largest certified bound pidlab computes, the meet or the
        ``threshold-profile`` bound (the latter only up to
        ``pidlab._couplings._bounds.PROFILE_MAX_ATOMS`` atoms per coupling);
        ``"meet"`` uses the meet alone, as in the paper's valid form. Both give valid bounds;
        ``upper_terms["S_upper_meet"]`` always holds the meet-only value.
    joint : array_like, optional
        A joint distribution known to realise the three tables (for example the joint of a
        repair). When its marginals match within ``tol`` it certifies consistency (the LP check
        is skipped) and seeds the support of the maximum-entropy joint; otherwise it is ignored.

    Returns
    -------
    SynergyBounds

    Examples
    --------
    >>> import pidlab
    >>> b = pidlab.synergy_bounds(pidlab.Marginals.from_joint(pidlab.examples.get("and")))
    >>> round(b.R, 6), round(b.S_lower_redundancy, 6)
    (0.311278, 0.5)
    """
    _check_parameters(variant, mec_bound, classifiers, alpha)
    check_repair_option(repair, "synergy_bounds")
    tol = check_tol(tol, "synergy_bounds")
    if alpha_note is not None and not isinstance(alpha_note, str):
        raise ParameterError(
            f"The `'alpha_note'` parameter of `synergy_bounds` must be a string (where alpha came from) or None. "
            f"Got {alpha_note!r} instead."
        )
    m0 = _as_marginals(m_or_p_x1y, p_x2y, p_x1x2)
    _check_size(m0.shape)
    m, rep_res, report = m0._check(repair=repair, tol=tol, joint=joint)
    a, b, c12 = m.tables()
    notes: list[str] = [] if rep_res is None else [rep_res.summary()]
    fs, cls_note = _disagreement_input(m, classifiers, alpha, alpha_note)

    atoms = exact_atoms(a, b, solver=solver, atol=max(tol, 1e-9), notes=notes)  # R, U1, U2 (exact)
    rnd = tables_rounding(a, b, c12)  # floating-point error of the entropies the bounds combine
    S_R, me = lower_bound_redundancy(m, atoms.R, atoms.H_y, feasible=_known_joint(rep_res, joint, report))  # Thm 1
    alpha = disagreement(a, b, c12, fs) if alpha is None else float(alpha)  # Thm 2
    n1, n2, ny = m.shape
    rnd_alpha = 2.0 * (n1 * n2 * ny + 8) * UNIT_ROUNDOFF * (C_DISAGREEMENT * alpha + 2.0)
    S_U = lower_bound_disagreement(alpha, atoms.U1, atoms.U2) - rnd - rnd_alpha
    pairs = coupling_pairs(a, b, c12, atoms.p_y)  # eq. 50
    H12 = entropy(c12)
    S_up, upper_terms = upper_bound_couplings(pairs, H12, atoms.H_y, atoms.m_lower, mec_bound=mec_bound,
                                              rounding=rnd)
    S_lo = max(0.0, S_R, S_U)  # Thm 5
    I_lo, I_up = information_range(atoms.H_y, atoms.m_lower, atoms.m_upper, S_lo, S_up)
    acc_lo, acc_up = accuracy_bounds(a, b, atoms.H_y, I_lo, I_up)
    numerics = {
        "entropy_rounding": rnd,
        "S_lower_redundancy": {"maxent_upper": me.entropy_upper, **dict(me.certificate), "entropy_rounding": rnd},
        "S_lower_disagreement": {"entropy_rounding": rnd, "alpha_rounding": rnd_alpha},
        "S_upper": {"entropy_rounding": rnd, "coupling_rounding": upper_terms[upper_terms["largest"]]["rounding"]},
        "note": "each bound is the conservative end of its numerical bracket: BROJA's certified [m_lower, m_upper], "
        "the certified dual value of the max-entropy joint, and the stated floating-point error bounds",
    }

    paper: dict[str, Any] | None = None
    if variant == "paper":
        paper = paper_variants(a, c12, pairs, R=atoms.R, U1=atoms.U1, U2=atoms.U2, alpha=alpha, H_x1x2=H12,
                               H_y=atoms.H_y, m_upper=atoms.m_upper, I_upper=I_up, n_classes=m.shape[2])
        notes.append("variant='paper': the released code's numbers are under result.paper, flagged; main fields are valid bounds")

    def z(v: float) -> float:
        return clean_zero(v, ZERO_TOL)

    def z_up(v: float) -> float:  # an upper bound is never rounded down to 0
        return 0.0 if -ZERO_TOL < v < 0.0 else float(v)

    return SynergyBounds(
        R=z(atoms.R), U1=z(atoms.U1), U2=z(atoms.U2),
        S_lower_redundancy=z(S_R), S_lower_disagreement=z(S_U), S_upper=z_up(S_up),
        S_lower=z(S_lo), accuracy_lower=float(acc_lo), accuracy_upper=float(acc_up),
        alpha=alpha, c=C_DISAGREEMENT, I_x1y=atoms.I_x1y, I_x2y=atoms.I_x2y, I_x1_x2=mutual_information_2d(c12),
        H_y=atoms.H_y, I_lower=float(I_lo), I_upper=float(I_up), n_classes=m.shape[2],
        upper_terms=upper_terms, broja=atoms.broja, maxent=me.to_dict(), consistency=report,
        repair=rep_res.to_dict() if rep_res is not None else None,
        assumptions=_assumptions(cls_note, mec_bound), variant=variant, paper=paper, notes=tuple(notes),
        names=m.names, numerics=numerics,
    )


def _check_size(shape: tuple[int, int, int]) -> None:
    """Refuse, before any work, tables whose dense steps cannot fit: the maximum-entropy joint and the
    BROJA certificate each hold about a dozen float arrays of the full ``|X1| x |X2| x |Y|`` grid."""
    from pidlab._limits import check_memory

    n1, n2, ny = shape
    check_memory(8.0 * n1 * n2 * ny * 24,
                 f"synergy_bounds on a {n1} x {n2} x {ny} table (the maximum-entropy joint and the BROJA certificate, "
                 f"{n1 * n2 * ny:,} cells)",
                 hint="Use fewer symbols per modality: fewer clusters (n_clusters), a coarser discretizer, or merge rare "
                 "symbols")


def _check_parameters(variant: Any, mec_bound: Any, classifiers: Any, alpha: Any) -> None:
    if variant not in _VARIANTS:
        raise ParameterError(
            f"The `'variant'` parameter of `synergy_bounds` must be one of {_VARIANTS}. Got {variant!r} instead: "
            "'valid' for the valid bounds, 'paper' to add the released code's numbers (flagged)."
        )
    if mec_bound not in _MEC_BOUNDS:
        raise ParameterError(
            f"The `'mec_bound'` parameter of `synergy_bounds` must be one of {_MEC_BOUNDS}. Got {mec_bound!r} "
            "instead: 'best' for the largest certified bound, 'meet' for the majorisation meet alone."
        )
    if classifiers is not None and alpha is not None:
        raise ParameterError(
            "The `'classifiers'` and `'alpha'` parameters of `synergy_bounds` exclude each other. Got both: pass "
            "either the classifiers' predictions or a disagreement computed from them, not both."
        )
    if alpha is not None:
        a = float(alpha)
        if not (math.isfinite(a) and 0.0 <= a <= 2.0 + 1e-12):
            raise ParameterError(
                f"The `'alpha'` parameter of `synergy_bounds` must be a squared L2 disagreement between two "
                f"probability vectors, a number in [0, 2]. Got {alpha!r} instead."
            )


def _disagreement_input(
    m: Marginals, classifiers: tuple[ArrayLike, ArrayLike] | None, alpha: float | None, alpha_note: str | None
) -> tuple[tuple[NDArray[np.float64], NDArray[np.float64]] | None, str]:
    """The checked classifiers (None: the Bayes posteriors) and what the disagreement bound rests on;
    warns when it rests on the caller's classifiers or alpha."""
    n1, n2, ny = m.shape
    if alpha is not None:
        warnings.warn(
            "the disagreement bound uses a caller-supplied alpha; it is valid only for Bayes-optimal classifiers "
            "(recorded in result.assumptions).",
            AssumptionWarning,
            stacklevel=3,
        )
        return None, alpha_note or (
            "disagreement supplied by the caller: the bound is valid only if it was computed with the Bayes-optimal "
            "classifiers p(y | x_i)"
        )
    if classifiers is None:
        return None, "f_i(x_i) = p(y | x_i), the Bayes-optimal soft classifier of each (discretised) modality"
    fs = (check_classifier(classifiers[0], (n1, ny), "f1"), check_classifier(classifiers[1], (n2, ny), "f2"))
    warnings.warn(
        "the disagreement bound uses user-supplied classifiers; it is a valid bound only if they are "
        "Bayes-optimal (recorded in result.assumptions).",
        AssumptionWarning,
        stacklevel=3,
    )
    return fs, (
        "user-supplied soft classifiers: the bound is valid only insofar as they equal the Bayes-optimal "
        "p(y | x_i)"
    )


def _known_joint(rep_res: RepairResult | None, joint: ArrayLike | None, report: ConsistencyReport) -> Any:
    """A joint known to realise the tables (a repair's, or the caller's when exact up to rounding), or None."""
    if rep_res is not None:
        return rep_res.joint
    if joint is not None and report.violation_l1 <= 1e-12:
        return np.asarray(joint, dtype=float)  # exact up to rounding: its support is feasible
    return None


def _assumptions(cls_note: str, mec_bound: str) -> dict[str, tuple[str, ...]]:
    """What each bound rests on (``SynergyBounds.assumptions``)."""
    return {
        "R": ("exact: BROJA on p(x1,y), p(x2,y); certified bracket in result.broja",),
        "S_lower_redundancy": (
            "Theorem 1 with all three pairwise marginals; the best lower bound from pairwise data",
            "max-entropy joint solved exactly; its certified dual value is used (see result.maxent)",
            "the tables are the true marginals (estimation error is not accounted for)",
        ),
        "S_lower_disagreement": (
            "Theorem 2 with squared L2 distance and c = 1/(4 ln 2) (Pinsker + relaxed triangle inequality)",
            cls_note,
        ),
        "S_upper": (
            (
                "eq. 50 with the majorisation meet H(a∧b), a lower bound on every min-entropy coupling"
                if mec_bound == "meet"
                else "eq. 50 with the larger of two certified lower bounds on each min-entropy coupling: the "
                "majorisation meet H(a∧b) and the threshold-profile bound (pidlab._couplings._bounds); "
                "which one each coupling used is in result.upper_terms"
            ),
            "the tables are the true marginals (estimation error is not accounted for)",
        ),
        "accuracy_lower": (
            "Theorem 5 (Feder-Merhav): Bayes accuracy >= 2^(I - H(Y)) with I at its smallest consistent value",
            "and >= the Bayes accuracy of either modality alone, sum_x max_y p(x_i, y)",
        ),
        "accuracy_upper": (
            "Fano's inequality in its form valid for any p(y): (log2|Y| - H(Y) + I + 1)/log2|Y| with I at the "
            "upper bound, clipped to [0, 1]",
        ),
    }
