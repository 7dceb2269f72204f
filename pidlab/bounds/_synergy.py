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
"""

from __future__ import annotations

import html
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._info import entropy, mutual_information_2d
from pidlab._marginals import CONSISTENCY_TOL, ConsistencyReport, Marginals
from pidlab.exceptions import InvalidDistributionError

__all__ = ["SynergyBounds", "synergy_bounds", "C_DISAGREEMENT", "UPPER_COUPLINGS"]

#: The provably valid constant of Theorem 2 for the squared L2 distance: ``1 / (4 ln 2)``.
C_DISAGREEMENT = 1.0 / (4.0 * math.log(2.0))

_VARIANTS = ("valid", "paper")
_MEC_BOUNDS = ("best", "meet")

#: Names of the three two-marginal couplings of eq. 50 (keys of ``SynergyBounds.upper_terms``).
UPPER_COUPLINGS = ("p_x1x2 with p_y", "p_x1y with p_x2", "p_x2y with p_x1")


def _clean(v: float) -> float:
    v = float(v)
    return 0.0 if abs(v) < 1e-13 else v


@dataclass(frozen=True)
class SynergyBounds:
    """Bounds on synergy (and exact R, U1, U2) from semi-supervised pairwise marginals, in bits.

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
    I_x1y, I_x2y, I_x1x2, H_y : float
        Shannon quantities of the (repaired) marginals.
    I_lower, I_upper : float
        The range of ``I(X1,X2;Y)`` the accuracy bounds use.
    upper_terms : dict
        The three couplings of eq. 50: for each (keys ``UPPER_COUPLINGS``) the lower bound
        ``L`` used, its ``source`` (``"meet"`` or ``"threshold-profile"``) and the ``meet``
        entropy; ``largest`` (the coupling that set ``S_upper``), ``mec_bound`` (the option
        used) and ``S_upper_meet`` (the bound with the meet alone, the paper's valid form).
    broja : dict
        Solver name, status, certified bracket ``[m_lower, m_upper]`` on ``R+U1+U2`` and residual.
    maxent : dict
        Certificate of the maximum-entropy joint: entropy, dual upper bound, duality gap,
        marginal residual, support size.
    consistency : ConsistencyReport
        The report of the input marginals.
    repair : dict or None
        Set when the marginals were repaired on request: method and how far they moved.
    assumptions : dict of str -> tuple of str
        What each bound rests on.
    variant : str
        ``"valid"`` (default) or ``"paper"``.
    paper : dict or None
        With ``variant="paper"``: the released code's numbers, each flagged.
    notes : tuple of str
    names : tuple of str
        Variable names (sources, target).
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
    I_x1x2: float
    H_y: float
    I_lower: float
    I_upper: float
    n_classes: int
    upper_terms: dict[str, Any]
    broja: dict[str, Any]
    maxent: dict[str, Any]
    consistency: ConsistencyReport
    repair: dict[str, Any] | None
    assumptions: dict[str, tuple[str, ...]]
    variant: str = "valid"
    paper: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    names: tuple[str, str, str] = ("X1", "X2", "Y")
    units: str = "bits"

    @property
    def synergy_interval(self) -> tuple[float, float]:
        """``(S_lower, S_upper)``."""
        return (self.S_lower, self.S_upper)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view: the bound keys first, then diagnostics."""
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
            "I_x1x2": self.I_x1x2,
            "H_y": self.H_y,
            "I_lower": self.I_lower,
            "I_upper": self.I_upper,
            "n_classes": self.n_classes,
            "upper_terms": dict(self.upper_terms),
            "broja": dict(self.broja),
            "maxent": dict(self.maxent),
            "consistency": self.consistency.to_dict(),
            "repair": self.repair,
            "assumptions": {k: list(v) for k, v in self.assumptions.items()},
            "variant": self.variant,
        }
        if self.paper is not None:
            d["paper"] = dict(self.paper)
        if self.notes:
            d["notes"] = list(self.notes)
        return d

    def __str__(self) -> str:
        n1, n2, ny = self.names
        lines = [
            f"Semi-supervised PID bounds for target {ny} from sources {n1}, {n2} (bits)",
            f"  R  = {self.R:.6f}   U1 = {self.U1:.6f}   U2 = {self.U2:.6f}   (exact, BROJA on p({n1},{ny}), p({n2},{ny}))",
            f"  S lower (redundancy, Thm 1)    = {self.S_lower_redundancy:+.6f}",
            f"  S lower (disagreement, Thm 2)  = {self.S_lower_disagreement:+.6f}   (alpha = {self.alpha:.6f}, c = {self.c:.4f})",
            f"  {'S upper (eq. 50, ' + self._upper_source() + ')':<30} = {self.S_upper:+.6f}",
            f"  S in [{self.S_lower:.6f}, {self.S_upper:.6f}]",
            f"  Bayes-optimal accuracy in [{self.accuracy_lower:.4f}, {self.accuracy_upper:.4f}] ({self.n_classes} classes)",
        ]
        if self.repair is not None:
            lines.append(f"  NOTE: marginals were repaired ({self.repair['method']}); moved TV {self.repair['tv']}")
        if self.paper is not None:
            lines.append("  paper variants (released code, flagged): " + ", ".join(
                f"{k}={v:.6f}" for k, v in self.paper.items() if isinstance(v, float)))
        return "\n".join(lines)

    def _upper_source(self) -> str:
        t = self.upper_terms
        term = t.get(t.get("largest", ""), {})
        return str(term.get("source", "meet")) if isinstance(term, dict) else "meet"

    def _repr_html_(self) -> str:
        e = html.escape
        rows = [
            ("R (redundancy, exact)", self.R),
            ("U1 (unique to " + self.names[0] + ", exact)", self.U1),
            ("U2 (unique to " + self.names[1] + ", exact)", self.U2),
            ("S lower bound, redundancy (Thm 1)", self.S_lower_redundancy),
            ("S lower bound, disagreement (Thm 2)", self.S_lower_disagreement),
            (f"S upper bound (eq. 50, {self._upper_source()})", self.S_upper),
            ("Bayes accuracy, lower", self.accuracy_lower),
            ("Bayes accuracy, upper", self.accuracy_upper),
        ]
        body = "".join(f"<tr><td>{e(k)}</td><td>{v:.6f}</td></tr>" for k, v in rows)
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        return (
            f"<div class='pidlab-bounds'><b>synergy bounds</b> for target {e(self.names[2])} (bits)"
            f"<table>{body}</table>" + (f"<ul>{notes}</ul>" if notes else "") + "</div>"
        )


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
    from pidlab._broja import BrojaProblem
    from pidlab.exceptions import AssumptionWarning

    if variant not in _VARIANTS:
        raise InvalidDistributionError(
            f"The `variant` parameter of synergy_bounds must be one of {_VARIANTS}. Got {variant!r} instead."
        )
    if mec_bound not in _MEC_BOUNDS:
        raise InvalidDistributionError(
            f"The `mec_bound` parameter of synergy_bounds must be one of {_MEC_BOUNDS}. Got {mec_bound!r} instead."
        )
    m0 = _as_marginals(m_or_p_x1y, p_x2y, p_x1x2)
    m, rep_res, report = m0._check(repair=repair, tol=tol, joint=joint)
    a, b, c12 = m.tables()
    # Use one p(y) (the tables agree within tol); symmetrise the singleton marginals.
    n1, n2, ny = m.shape
    notes: list[str] = []
    if rep_res is not None:
        notes.append(rep_res.summary())

    # ---- exact R, U1, U2 ------------------------------------------------------------------
    problem = BrojaProblem(a, b, atol=max(tol, 1e-9))
    sol = _solve(problem, solver, notes)
    cert = sol.certificate
    I1, I2 = problem.I_x1y, problem.I_x2y
    m_up, m_lo = float(cert.m_upper), float(cert.m_lower)
    R = I1 + I2 - m_up
    U1 = m_up - I2
    U2 = m_up - I1
    H_y = problem.H_y
    I12 = mutual_information_2d(c12)

    # ---- Theorem 1: max-entropy joint under all three marginals --------------------------
    feasible = None
    if rep_res is not None:
        feasible = rep_res.joint
    elif joint is not None and report.violation_l1 <= 1e-12:
        feasible = np.asarray(joint, dtype=float)  # exact up to rounding: its support is feasible
    me = m.max_entropy_joint(_checked=True, feasible=feasible)
    H_1y, H_2y = entropy(a), entropy(b)
    S_R = R - I12 + H_1y + H_2y - H_y - me.entropy_upper

    # ---- Theorem 2: disagreement -----------------------------------------------------------
    if classifiers is not None and alpha is not None:
        raise InvalidDistributionError("pass either classifiers or alpha to synergy_bounds, not both.")
    if classifiers is None:
        f1 = _posterior(a)
        f2 = _posterior(b)
        cls_note = "f_i(x_i) = p(y | x_i), the Bayes-optimal soft classifier of each (discretised) modality"
    else:
        f1 = _check_classifier(classifiers[0], (n1, ny), "f1")
        f2 = _check_classifier(classifiers[1], (n2, ny), "f2")
        cls_note = (
            "user-supplied soft classifiers: the bound is valid only insofar as they equal the Bayes-optimal "
            "p(y | x_i)"
        )
        warnings.warn(
            "the disagreement bound uses user-supplied classifiers; it is a valid bound only if they are "
            "Bayes-optimal (recorded in result.assumptions).",
            AssumptionWarning,
            stacklevel=2,
        )
    d2 = ((f1[:, None, :] - f2[None, :, :]) ** 2).sum(axis=2)
    if alpha is None:
        alpha = float(np.sum(c12 * d2))
    else:
        alpha = float(alpha)
        if not (math.isfinite(alpha) and 0.0 <= alpha <= 2.0 + 1e-12):
            raise InvalidDistributionError(
                f"alpha must be a squared L2 disagreement between two probability vectors, in [0, 2]; got {alpha!r}."
            )
        cls_note = alpha_note or (
            "disagreement supplied by the caller: the bound is valid only if it was computed with the Bayes-optimal "
            "classifiers p(y | x_i)"
        )
        warnings.warn(
            "the disagreement bound uses a caller-supplied alpha; it is valid only for Bayes-optimal classifiers "
            "(recorded in result.assumptions).",
            AssumptionWarning,
            stacklevel=2,
        )
    U_up1, U_up2 = U1, U2
    S_U = C_DISAGREEMENT * alpha - max(U_up1, U_up2)

    # ---- eq. 50: upper bound with a certified lower bound on each MEC ------------------------
    from pidlab._couplings import mec_lower_bound, meet_entropy

    p1 = c12.sum(1)
    p2 = c12.sum(0)
    py = problem.p_y
    p1n, p2n, pyn = p1 / p1.sum(), p2 / p2.sum(), py / py.sum()
    pairs = dict(zip(UPPER_COUPLINGS, ((c12 / c12.sum(), pyn), (a / a.sum(), p2n), (b / b.sum(), p1n))))
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
        terms[key] = {"L": L_val, "source": src, "meet": h_meet}
    best = max(terms, key=lambda k: terms[k]["L"])
    H12 = entropy(c12)
    S_up = H12 + H_y - terms[best]["L"] - m_lo
    S_up_meet = H12 + H_y - max(t["meet"] for t in terms.values()) - m_lo
    upper_terms: dict[str, Any] = {
        **terms, "largest": best, "mec_bound": mec_bound, "S_upper_meet": _clean(S_up_meet),
    }

    # ---- Theorem 5: accuracy ----------------------------------------------------------------
    S_lo = max(0.0, S_R, S_U)
    I_lo = min(H_y, m_lo + S_lo)
    I_up = min(H_y, m_up + max(S_up, 0.0))
    I_up = max(I_up, I_lo)
    if ny == 1 or H_y <= 0:
        acc_lo, acc_up = 1.0, 1.0
    else:
        # Feder-Merhav, and: the multimodal Bayes classifier is at least as accurate as either unimodal one.
        acc_uni = max(float(a.max(axis=1).sum()), float(b.max(axis=1).sum()))
        acc_lo = min(1.0, max(2.0 ** (I_lo - H_y), acc_uni))
        L = math.log2(ny)
        acc_up = min(1.0, max(0.0, (L - H_y + I_up + 1.0) / L))

    assumptions = {
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

    paper: dict[str, Any] | None = None
    if variant == "paper":
        # Released code: IPF without the p(x2,y) constraint -> r = p(x1,x2) p(y|x1).
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(p1[:, None, None] > 0, c12[:, :, None] * a[:, None, :] / p1[:, None, None], 0.0)
        Hr = entropy(r)
        I_r = entropy(r.sum(1)) + entropy(r.sum(0)) - Hr - entropy(r.sum((0, 1)))
        from pidlab._couplings import couple

        # The greedy coupling's entropy: an UPPER bound on each MEC (flagged below).
        g = max(couple(u, v, method="greedy", profile=False).entropy for u, v in pairs.values())
        paper = {
            "S_lower_redundancy_paper": float(R - I12 + I_r),
            "S_lower_disagreement_paper_c1": float(alpha - max(U1, U2)),
            "S_upper_paper_greedy": float(H12 + H_y - g - m_up),
            "accuracy_upper_paper_fano_uniform": (
                1.0 if ny == 1 else float(min(1.0, (I_up + 1.0) / math.log2(ny)))
            ),
            "flags": [
                "S_lower_redundancy_paper: the max-entropy joint under p(x1,x2) and p(x1,y) only (the released "
                "code drops the p(x2,y) constraint); NOT guaranteed valid: that joint does not minimise "
                "I(X1;X2|Y) over its feasible set (it exceeds the true S on NOISY_COPIES)",
                "S_lower_disagreement_paper_c1: c = 1 is NOT a valid constant (docs/theory.rst §3.2 counterexample)",
                "S_upper_paper_greedy: a greedy coupling entropy is an upper bound on MEC, so this is NOT an "
                "upper bound on S",
                "accuracy_upper_paper_fano_uniform: plain Fano assumes uniform Y; not valid otherwise",
            ],
        }
        notes.append("variant='paper': the released code's numbers are under result.paper, flagged; main fields are valid bounds")

    broja = {
        "solver": sol.solver,
        "status": str(sol.status),
        "m_lower": m_lo,
        "m_upper": m_up,
        "gap": float(cert.gap),
        "marginal_residual": float(cert.marginal_residual),
    }
    return SynergyBounds(
        R=_clean(R), U1=_clean(U1), U2=_clean(U2),
        S_lower_redundancy=_clean(S_R), S_lower_disagreement=_clean(S_U), S_upper=_clean(S_up),
        S_lower=_clean(S_lo), accuracy_lower=float(acc_lo), accuracy_upper=float(acc_up),
        alpha=alpha, c=C_DISAGREEMENT, I_x1y=I1, I_x2y=I2, I_x1x2=I12, H_y=H_y,
        I_lower=float(I_lo), I_upper=float(I_up), n_classes=ny,
        upper_terms=upper_terms, broja=broja, maxent=me.to_dict(), consistency=report,
        repair=rep_res.to_dict() if rep_res is not None else None,
        assumptions=assumptions, variant=variant, paper=paper, notes=tuple(notes), names=m.names,
    )


def _solve(problem: Any, solver: Any, notes: list[str]) -> Any:
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
            stacklevel=3,
        )
    return best


def _posterior(pxy: NDArray[np.float64]) -> NDArray[np.float64]:
    px = pxy.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(px > 0, pxy / px, 0.0)


def _check_classifier(f: ArrayLike, shape: tuple[int, int], what: str) -> NDArray[np.float64]:
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
