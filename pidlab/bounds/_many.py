r"""The semi-supervised bounds of a stack of joints, vectorised (the paper's synthetic study at scale).

:func:`synergy_bounds_many` gives, for every joint ``p[x1, x2, y]`` of a stack, the bounds
:func:`pidlab.synergy_bounds` computes from its three pairwise marginals, and the joint's own
BROJA atoms (the "true" S the bounds are judged against). Each step is the one-table step done
over the whole stack:

* R, U1, U2 and S: :func:`pidlab.decompose_many` (certified per item; the bounds use the
  conservative end of each bracket, as :func:`~pidlab.bounds._theorems.exact_atoms` does);
* Theorem 1: the maximum entropy over the joints with the three marginals. For binary
  variables (2 x 2 x 2) that set is a segment ``p + t e`` with ``e = (-1)^(x1 + x2 + y)``
  (pairwise marginals fix every interaction but the three-way one); the entropy is strictly
  concave in ``t`` with infinite slopes at both ends, so its maximiser is found by bisection
  and Newton over the whole stack, and the certified value is the tangent bound
  ``H(t) + max(H'(t) (lo - t), H'(t) (hi - t))`` (concavity) plus its rounding. Other shapes
  minimise the maximum-entropy dual over the whole stack (:func:`maxent_upper_stack`: block
  sweeps, then Newton steps) and certify its weak-duality value; an item that does not converge
  there (cells every joint leaves empty) goes to :meth:`pidlab.Marginals.max_entropy_joint`;
* Theorem 2: the disagreement of the Bayes posteriors, vectorised;
* eq. 50: the meet and the threshold-profile bound of each coupling, vectorised
  (:func:`pidlab._couplings._bounds.threshold_profile_bound_many`).

The numbers agree with :func:`pidlab.synergy_bounds` item by item to rounding (the tests check
1e-9 bits), with the same rounding widenings, so every lower bound stays a lower bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._info import LN2, entropy_many
from pidlab._results import Result
from pidlab.bounds._theorems import C_DISAGREEMENT, UNIT_ROUNDOFF, UPPER_COUPLINGS, ZERO_TOL

__all__ = ["SynergyBoundsMany", "synergy_bounds_many"]

Arr = NDArray[np.float64]

#: Columns of :class:`SynergyBoundsMany` holding one number per item (bits).
COLUMNS = ("R", "U1", "U2", "S", "gap", "S_lower_redundancy", "S_lower_disagreement", "S_lower", "S_upper", "alpha",
           "maxent_upper", "I_lower", "I_upper", "accuracy_lower", "accuracy_upper")


@dataclass(frozen=True, eq=False)
class SynergyBoundsMany(Result):
    """Semi-supervised bounds on synergy for a stack of joints, one entry per item (bits).

    The bounds come from each joint's three pairwise marginals only, as
    :func:`pidlab.synergy_bounds` computes them; ``S`` is the joint's own BROJA synergy, which
    the bounds can be judged against in a simulation.

    Attributes
    ----------
    R, U1, U2, S : ndarray, shape (N,)
        BROJA atoms of each joint (``S`` needs the joint; R, U1, U2 only the labelled pairs).
    gap : ndarray
        Width of the certified BROJA bracket of each item.
    S_lower_redundancy, S_lower_disagreement, S_lower, S_upper : ndarray
        The bounds of :class:`pidlab.SynergyBounds` (Theorems 1 and 2, their maximum with 0, eq. 50).
    alpha : ndarray
        The disagreement of the Bayes posteriors on the unlabelled pairs.
    maxent_upper : ndarray
        Certified upper bound on the maximum entropy over joints with the three marginals.
    I_lower, I_upper, accuracy_lower, accuracy_upper : ndarray
        The range of ``I(X1,X2;Y)`` and of the Bayes-optimal multimodal accuracy (Theorem 5), as
        :class:`pidlab.SynergyBounds` has them.
    status : ndarray of str
        BROJA status of each item.
    shape : (int, int, int)
    method : str
        How the maximum-entropy step was done (``"segment"`` for 2 x 2 x 2, else ``"stacked dual sweeps"``,
        with the number of items solved one by one in brackets).
    solve_time : float
        Seconds for the whole stack.
    terms : dict of str -> ndarray, shape (N, K)
        The terms two of the bounds are the extremum of (read by the bootstrap, whose intervals
        treat a tie between terms, :func:`pidlab.bounds._bootstrap.extremum_interval`):
        ``"S_upper"`` holds, for each coupling of eq. 50 (``UPPER_COUPLINGS``) and each lower bound
        on its minimum-entropy coupling (the meet, then the threshold profile), the bound that term
        alone gives (``S_upper`` is their minimum; ``inf`` where a profile bound was not computed);
        ``"accuracy_lower"`` holds the Feder-Merhav bound with ``S = 0``, ``S_lower_redundancy``
        and ``S_lower_disagreement``, then the Bayes accuracy of X1 alone and of X2 alone
        (``accuracy_lower`` is their maximum).
    """

    R: Arr
    U1: Arr
    U2: Arr
    S: Arr
    gap: Arr
    S_lower_redundancy: Arr
    S_lower_disagreement: Arr
    S_lower: Arr
    S_upper: Arr
    alpha: Arr
    maxent_upper: Arr
    I_lower: Arr
    I_upper: Arr
    accuracy_lower: Arr
    accuracy_upper: Arr
    status: NDArray[Any]
    shape: tuple[int, int, int]
    method: str
    solve_time: float
    sources: tuple[str, str] = ("X1", "X2")
    target: str = "Y"
    units: str = "bits"
    notes: tuple[str, ...] = field(default_factory=tuple)
    terms: dict[str, Arr] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.S.shape[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain Python types (lists of floats, bits)."""
        return {
            "target": self.target,
            "sources": list(self.sources),
            "units": self.units,
            "shape": list(self.shape),
            "n": len(self),
            **{c: getattr(self, c).tolist() for c in COLUMNS},
            "status": [str(s) for s in self.status],
            "method": self.method,
            "solve_time": self.solve_time,
            "notes": list(self.notes),
        }

    def table(self) -> str:
        n1, n2, ny = self.shape
        lines = [f"Semi-supervised bounds on synergy about target {self.target} from "
                 f"({self.sources[0]}, {self.sources[1]}), {len(self)} joints of shape {n1} x {n2} x {ny} "
                 f"({self.units}; {self.solve_time:.2f} s)",
                 f"{'':22s}{'mean':>10s}{'min':>10s}{'max':>10s}"]
        for c in ("S", "S_lower_redundancy", "S_lower_disagreement", "S_lower", "S_upper"):
            v = getattr(self, c)
            lines.append(f"{c:22s}{v.mean():>10.4f}{v.min():>10.4f}{v.max():>10.4f}")
        wrong = int(np.sum(self.S_lower > self.S + self.gap + 1e-9) + np.sum(self.S_upper < self.S - 1e-9))
        lines.append(f"items with a bound on the wrong side of S (should be 0): {wrong}")
        return "\n".join(lines)


def synergy_bounds_many(ps: ArrayLike, *, normalize: bool = False, alpha: ArrayLike | None = None) -> SynergyBoundsMany:
    """The semi-supervised bounds on S of every joint of a stack, from its pairwise marginals.

    Parameters
    ----------
    ps : array_like, shape (N, |X1|, |X2|, |Y|)
        The joints (checked as :func:`pidlab.decompose_many` checks them).
    normalize : bool
        Divide each joint by its total instead of rejecting totals that differ from 1.
    alpha : array_like, shape (N,), optional
        A disagreement per item computed elsewhere (a classifier's, as ``synergy_bounds(alpha=)``),
        used in Theorem 2 in place of the Bayes posteriors'; valid only for Bayes-optimal classifiers.

    Returns
    -------
    SynergyBoundsMany

    Examples
    --------
    >>> import numpy as np, pidlab
    >>> from pidlab.bounds import synergy_bounds_many
    >>> ps = np.random.default_rng(0).dirichlet(np.ones(8), size=1000).reshape(-1, 2, 2, 2)
    >>> b = synergy_bounds_many(ps)
    >>> bool(np.all(b.S_lower <= b.S + b.gap)), bool(np.all(b.S <= b.S_upper))
    (True, True)
    """
    from pidlab import decompose_many
    from pidlab._solvers._batch import _validate

    t0 = time.perf_counter()
    P = _validate(ps, normalize)
    B, n1, n2, ny = P.shape
    _check_size(B, n1, n2, ny)
    res = decompose_many(P)
    a, b, c12 = P.sum(axis=2), P.sum(axis=1), P.sum(axis=3)  # p(x1,y), p(x2,y), p(x1,x2)
    py, p1, p2 = a.sum(axis=1), a.sum(axis=2), b.sum(axis=2)
    H1y, H2y, H12 = entropy_many(a, 2), entropy_many(b, 2), entropy_many(c12, 2)
    Hy, H1, H2 = entropy_many(py, 1), entropy_many(p1, 1), entropy_many(p2, 1)
    I12 = np.maximum(H1 + H2 - H12, 0.0)
    rnd = _tables_rounding((a, b, c12, py, p1, p2), (H1y, H2y, H12, Hy, H1, H2), max(n1, n2, ny))

    m_up = res.m  # the conservative ends of the certified bracket, as exact_atoms uses them
    m_lo = res.m_lower
    R, U1, U2 = res.I_x1y + res.I_x2y - m_up, m_up - res.I_x2y, m_up - res.I_x1y

    # Theorem 1
    if (n1, n2, ny) == (2, 2, 2):
        me_up, method = maxent_upper_binary(P), "segment"
    else:
        me_up, alone = maxent_upper_stack(P)
        method = "stacked dual sweeps" + (f" ({int(alone.sum())} solved one by one)" if alone.any() else "")
    S_R = R - I12 + H1y + H2y - Hy - me_up - rnd

    # Theorem 2
    if alpha is None:
        alpha = _disagreement(a, b, c12)
    else:
        alpha = np.asarray(alpha, dtype=float).reshape(-1)
        if alpha.shape != (B,) or not np.all(np.isfinite(alpha)) or np.any((alpha < 0) | (alpha > 2.0 + 1e-12)):
            from pidlab.exceptions import ParameterError

            raise ParameterError(
                f"The `'alpha'` parameter of `synergy_bounds_many` must hold one squared L2 disagreement in [0, 2] per "
                f"table ({B}). Got {np.shape(alpha)} values instead, or values outside [0, 2]."
            )
    rnd_alpha = 2.0 * (n1 * n2 * ny + 8) * UNIT_ROUNDOFF * (C_DISAGREEMENT * alpha + 2.0)
    S_U = C_DISAGREEMENT * alpha - np.maximum(U1, U2) - rnd - rnd_alpha

    # eq. 50
    S_up, up_terms = _upper_bound(a, b, c12, py, p1, p2, H12, Hy, m_lo, rnd)

    S_lo = np.maximum(0.0, np.maximum(S_R, S_U))

    # Theorem 5 (pidlab.bounds._theorems.information_range and accuracy_bounds, for every item)
    I_lo = np.minimum(Hy, m_lo + S_lo)
    I_up = np.maximum(np.minimum(Hy, m_up + np.maximum(S_up, 0.0)), I_lo)
    trivial = (ny == 1) | (Hy <= 0)
    # accuracy_lower (Feder-Merhav at I_lower, or a modality alone) is the largest of five terms: S_lower =
    # max(0, S_R, S_U) enters I_lower = min(H(Y), m_lower + S_lower) monotonically
    fm = [2.0 ** (np.minimum(Hy, m_lo + s) - Hy) for s in (np.zeros_like(S_R), S_R, S_U)]
    acc_terms = np.stack([*fm, a.max(axis=2).sum(axis=1), b.max(axis=2).sum(axis=1)], axis=1)
    acc_terms = np.where(trivial[:, None], 1.0, np.minimum(1.0, acc_terms))
    acc_lo = acc_terms.max(axis=1)
    L = np.log2(ny) if ny > 1 else 1.0
    acc_up = np.where(trivial, 1.0, np.minimum(1.0, np.maximum(0.0, (L - Hy + I_up + 1.0) / L)))

    def z(v: Arr) -> Arr:
        return np.where(np.abs(v) < ZERO_TOL, 0.0, v) + 0.0

    return SynergyBoundsMany(
        R=z(R), U1=z(U1), U2=z(U2), S=res.S, gap=res.gap, S_lower_redundancy=z(S_R), S_lower_disagreement=z(S_U),
        S_lower=z(S_lo), S_upper=np.where((S_up < 0) & (S_up > -ZERO_TOL), 0.0, S_up) + 0.0, alpha=alpha,
        maxent_upper=me_up, I_lower=I_lo, I_upper=I_up, accuracy_lower=acc_lo, accuracy_upper=acc_up, status=res.status, shape=(n1, n2, ny), method=method,
        solve_time=time.perf_counter() - t0, terms={"S_upper": up_terms, "accuracy_lower": acc_terms},
        notes=("bounds from each joint's pairwise marginals (Liang et al., ICLR 2024), valid forms as in "
               "pidlab.synergy_bounds; S is the joint's own BROJA synergy",),
    )


def _check_size(B: int, n1: int, n2: int, ny: int) -> None:
    from pidlab._limits import check_memory

    check_memory(8.0 * B * n1 * n2 * ny * 24,
                 f"synergy_bounds_many on {B:,} tables of {n1} x {n2} x {ny}",
                 hint="Pass fewer tables per call (the study runner calls it one chunk at a time)")


def _tables_rounding(tables: tuple[Arr, ...], H: tuple[Arr, ...], n: int) -> Arr:
    """:func:`pidlab.bounds._theorems.tables_rounding` of every item."""
    out = np.zeros(tables[0].shape[0])
    for t, h in zip(tables, H):
        size = int(np.prod(t.shape[1:]))
        tot = t.reshape(t.shape[0], -1).sum(axis=1)
        out += 2.0 * (size + 2 + n * n) * UNIT_ROUNDOFF * (np.abs(h) + tot / LN2)
    return 3.0 * out


# ------------------------------------------------------------------------------------------- Theorem 1
#: The three-way interaction direction of a 2 x 2 x 2 table: (-1)^(x1 + x2 + y).
_E = np.array([1.0 if (i + j + k) % 2 == 0 else -1.0 for i in (0, 1) for j in (0, 1) for k in (0, 1)])


def maxent_upper_binary(P: Arr, *, iters: int = 60) -> Arr:
    r"""Certified upper bound (bits) on ``max H(r)`` over the joints ``r`` with the pairwise marginals
    of each 2 x 2 x 2 joint of ``P`` (shape ``(B, 2, 2, 2)``).

    Those joints are ``r(t) = p + t e`` for ``t`` in ``[lo, hi] = [-min_{e=+1} p, min_{e=-1} p]``.
    ``H(r(t))`` is strictly concave with slope ``-sum e log2 r``, which is ``+inf`` at ``lo`` and
    ``-inf`` at ``hi`` (a cell reaches 0 there), so the maximiser is interior: bisection on the slope,
    then safeguarded Newton. At the final ``t`` concavity gives
    ``max H <= H(t) + max(H'(t) (lo - t), H'(t) (hi - t))``; the floating-point error of ``H(t)``
    and of the slope term is added. A segment of length 0 (the joint is determined by its
    marginals) gives ``H(p)`` plus its rounding.
    """
    p = P.reshape(P.shape[0], 8)
    even, odd = _E > 0, _E < 0
    lo = -p[:, even].min(axis=1)
    hi = p[:, odd].min(axis=1)
    a, b = lo.copy(), hi.copy()
    open_ = hi > lo
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(iters):
            t = 0.5 * (a + b)
            g = np.sum(_E * np.log(p + t[:, None] * _E), axis=1)  # -ln 2 * slope; increasing in t
            neg = g < 0
            a = np.where(neg, t, a)
            b = np.where(neg, b, t)
        t = 0.5 * (a + b)
        for _ in range(3):  # Newton on g, kept inside the bracket
            r = p + t[:, None] * _E
            g = np.sum(_E * np.log(r), axis=1)
            dg = np.sum(1.0 / r, axis=1)
            tn = t - g / dg
            t = np.where(np.isfinite(tn) & (tn > a) & (tn < b), tn, t)
        t = np.where(open_, t, 0.0)
        r = np.maximum(p + t[:, None] * _E, 0.0)
        r = np.where(open_[:, None], r, p)
        logs = np.where(r > 0, np.log2(np.where(r > 0, r, 1.0)), 0.0)
        H = -np.sum(r * logs, axis=1)
        slope = -np.sum(_E * logs, axis=1)
    tangent = np.where(open_, np.maximum(slope * (lo - t), slope * (hi - t)), 0.0)
    # rounding: H of 8 cells each one sum away from p (entropy_rounding with n_sum = 2), and the slope
    # (8 logs of magnitude |log2 r|) times the segment's length
    r_H = 2.0 * (8 + 2 + 2) * UNIT_ROUNDOFF * (np.abs(H) + 1.0 / LN2)
    r_slope = 4.0 * 8 * UNIT_ROUNDOFF * (np.sum(np.abs(logs), axis=1) + 1.0 / LN2) * (hi - lo)
    return H + np.maximum(tangent, 0.0) + r_H + r_slope


#: Dual sweeps of the stacked maximum-entropy certificate before an item goes to the one-table solver.
MAXENT_SWEEPS = 100
#: An item's stacked certificate is kept when it is within this many bits of the entropy of its
#: own dual point (the one-table solver reaches about 1e-12); otherwise the item is solved alone.
MAXENT_STACK_TOL = 1e-10
#: ... and when the joint of its dual point has the three marginals to this (largest entry difference).
MAXENT_STACK_RESIDUAL = 1e-13
#: Newton steps on the stacked dual (a dense Hessian per item) up to this many cells per table.
MAXENT_NEWTON_MAX_CELLS = 128


def maxent_upper_stack(P: Arr, *, sweeps: int = MAXENT_SWEEPS, tol: float = MAXENT_STACK_TOL) -> tuple[Arr, Arr]:
    r"""Certified upper bounds (bits) on ``max H(r)`` over the joints ``r`` with the three pairwise marginals
    of each joint of ``P`` (shape ``(B, n1, n2, ny)``), for the whole stack at once.

    The dual of the maximum-entropy problem is minimised by exact block steps (iterative proportional
    fitting in the dual, the sweeps :func:`pidlab._fitting._certified_upper` also runs) on every item
    together. For ANY dual point ``theta`` the weak-duality value
    ``U(theta) = sum_cand exp(eta) - theta . rhs - sum(c)`` (``eta = theta12 + theta1y + theta2y``, the
    candidate cells those where no marginal entry is 0) bounds the entropy of every joint with these
    marginals from above, so the bound is valid whether or not the sweeps converged; added to it
    are the rounding of ``U`` (as :func:`pidlab._fitting._dual_value` bounds it) and the slack for
    marginals that are sums of the joint (``eps_in`` of :func:`pidlab._fitting.max_entropy`).

    An item whose bound is not within ``tol`` bits of the entropy of its own dual point (slow
    convergence: cells that every joint with these marginals leaves empty, which the sweeps only
    approach) is solved by the one-table method (support LP, Newton, certificate) instead.

    Returns the bounds and a boolean mask of the items that went to the one-table solver.
    """
    from pidlab._fitting import _eta, default_eps_in, dual_value_many

    B, n1, n2, ny = P.shape
    a, b, c = P.sum(axis=2), P.sum(axis=1), P.sum(axis=3)
    cand = (c[:, :, :, None] > 0) & (a[:, :, None, :] > 0) & (b[:, None, :, :] > 0)
    n_cand = cand.reshape(B, -1).sum(axis=1)
    t12 = np.broadcast_to(-np.log(np.maximum(n_cand, 1.0))[:, None, None], (B, n1, n2)).copy()
    t1y, t2y = np.zeros((B, n1, ny)), np.zeros((B, n2, ny))
    la, lb, lc = (np.log(np.where(t > 0, t, 1.0)) for t in (a, b, c))

    def cells() -> Arr:
        return np.where(cand, np.exp(np.minimum(_eta(t12, t1y, t2y), 709.0)), 0.0)

    def residual(e: Arr) -> Arr:  # after a sweep p(x2, y) is met exactly; the other two marginals
        return np.maximum(np.abs(e.sum(axis=3) - c).max(axis=(1, 2)), np.abs(e.sum(axis=2) - a).max(axis=(1, 2)))

    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        for sweep in range(sweeps):
            for blk, tgt, ltgt, ax in ((t12, c, lc, 3), (t1y, a, la, 2), (t2y, b, lb, 1)):
                s_ = cells().sum(axis=ax)
                step = np.where((s_ > 0) & (tgt > 0), ltgt - np.log(np.where(s_ > 0, s_, 1.0)), 0.0)
                blk += np.where(np.isfinite(step), step, 0.0)
            if sweep % 25 == 24 and residual(cells()).max() < 1e-15:
                break
        if n1 * n2 * ny <= MAXENT_NEWTON_MAX_CELLS:
            _dual_newton(t12, t1y, t2y, a, b, c, cand)
        U, err = dual_value_many(a, b, c, cand, t12, t1y, t2y)
        eps_in = default_eps_in(n1, n2, ny, a.sum(axis=(1, 2)) + b.sum(axis=(1, 2)) + c.sum(axis=(1, 2)))
        thmax = np.maximum(np.maximum(np.abs(t12).max(axis=(1, 2)), np.abs(t1y).max(axis=(1, 2))),
                           np.abs(t2y).max(axis=(1, 2)))
        up = (U + err + (thmax + 1.0) * eps_in) / LN2
        eta = _eta(t12, t1y, t2y)
        e = cells()
        H = -np.sum(np.where(cand, e * eta, 0.0), axis=(1, 2, 3)) / LN2
    # kept: the dual point is (numerically) primal feasible and its entropy is within tol of the bound
    alone = ~np.isfinite(up) | ~(up - H <= tol) | ~(residual(e) <= MAXENT_STACK_RESIDUAL)
    if alone.any():
        up[alone] = _maxent_upper_loop(P[alone])
    return up, alone


def _dual_newton(t12: Arr, t1y: Arr, t2y: Arr, a: Arr, b: Arr, c: Arr, cand: NDArray[np.bool_],
                 iters: int = 40) -> None:
    """Damped Newton steps on the maximum-entropy dual of every item at once, in place (after the sweeps,
    which converge only linearly where the marginals are strongly dependent). The Hessian
    ``A diag(r) A^T`` is singular (the constraints are linearly dependent): the minimum-norm step from
    its eigendecomposition. A step is taken only where it lowers the dual value ``U``."""
    from pidlab._fitting import _constraint_matrix

    B, n1, n2 = t12.shape
    ny = a.shape[2]
    cells = n1 * n2 * ny
    A = _constraint_matrix(n1, n2, ny).toarray()
    rhs = np.concatenate([c.reshape(B, -1), a.reshape(B, -1), b.reshape(B, -1)], axis=1)
    mask = cand.reshape(B, cells)
    th = np.concatenate([t12.reshape(B, -1), t1y.reshape(B, -1), t2y.reshape(B, -1)], axis=1)

    def value(t: Arr, sel: Any = slice(None)) -> tuple[Arr, Arr]:
        eta = t @ A
        r = np.where(mask[sel], np.exp(np.minimum(eta, 709.0)), 0.0)
        return r.sum(axis=1) - np.sum(t * rhs[sel], axis=1), r

    U, r = value(th)
    live = np.ones(B, dtype=bool)
    for _ in range(iters):
        grad = r @ A.T - rhs
        live &= np.abs(grad).max(axis=1) > 1e-16
        if not live.any():
            break
        idx = np.flatnonzero(live)
        H = np.einsum("mc,bc,nc->bmn", A, r[idx], A)
        w, V = np.linalg.eigh(H)
        keep = w > w[:, -1:] * 1e-13
        coef = np.where(keep, np.einsum("bmk,bm->bk", V, grad[idx]) / np.where(keep, w, 1.0), 0.0)
        step = -np.einsum("bmk,bk->bm", V, coef)
        t = np.ones(idx.size)
        moved = np.zeros(idx.size, dtype=bool)
        for _half in range(30):
            cand_th = th[idx] + t[:, None] * step
            U_new, r_new = value(cand_th, idx)
            ok = ~moved & np.isfinite(U_new) & (U_new <= U[idx])
            if ok.any():
                sel = idx[ok]
                th[sel], U[sel], r[sel] = cand_th[ok], U_new[ok], r_new[ok]
                moved |= ok
            if moved.all():
                break
            t = np.where(moved, t, 0.5 * t)
        live[idx[~moved]] = False  # no descent left: rounding floor
    t12[...] = th[:, : n1 * n2].reshape(B, n1, n2)
    t1y[...] = th[:, n1 * n2 : n1 * n2 + n1 * ny].reshape(B, n1, ny)
    t2y[...] = th[:, n1 * n2 + n1 * ny :].reshape(B, n2, ny)


def _maxent_upper_loop(P: Arr) -> Arr:
    """The one-table maximum-entropy certificate item by item, with BLAS on one thread (its many small
    Cholesky factorisations are several times slower with threads competing for the cores)."""
    from pidlab._marginals import Marginals
    from pidlab._solvers._native._kernels import blas_threads

    out = np.empty(P.shape[0])
    with blas_threads(1):
        for i, p in enumerate(P):
            m = Marginals(p.sum(axis=1), p.sum(axis=0), p.sum(axis=2))
            out[i] = m.max_entropy_joint(_checked=True, feasible=p).entropy_upper
    return out


# ------------------------------------------------------------------------------------------- Theorem 2
def _disagreement(a: Arr, b: Arr, c12: Arr) -> Arr:
    """:func:`pidlab.bounds._theorems.disagreement` with the Bayes posteriors, for every item."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pa, pb = a.sum(axis=2, keepdims=True), b.sum(axis=2, keepdims=True)
        f1 = np.where(pa > 0, a / pa, 0.0)
        f2 = np.where(pb > 0, b / pb, 0.0)
    d2 = (f1 * f1).sum(2)[:, :, None] + (f2 * f2).sum(2)[:, None, :] - 2.0 * np.einsum("bik,bjk->bij", f1, f2)
    return np.maximum(0.0, np.sum(c12 * np.maximum(d2, 0.0), axis=(1, 2)))


# ------------------------------------------------------------------------------------------- eq. 50
def _upper_bound(a: Arr, b: Arr, c12: Arr, py: Arr, p1: Arr, p2: Arr, H12: Arr, Hy: Arr, m_lo: Arr,
                 rnd: Arr) -> tuple[Arr, Arr]:
    """:func:`pidlab.bounds._theorems.upper_bound_couplings` (``mec_bound="best"``) for every item, and
    the bound of each (coupling, meet or profile) term alone, shape (N, 6) (``inf``: no profile bound)."""
    from pidlab._couplings._bounds import PROFILE_MAX_ATOMS, meet_many, threshold_profile_bound_many

    B = a.shape[0]

    def unit(t: Arr) -> Arr:
        flat = t.reshape(B, -1)
        return flat / flat.sum(axis=1, keepdims=True)

    pairs = dict(zip(UPPER_COUPLINGS, ((unit(c12), unit(py)), (unit(a), unit(p2)), (unit(b), unit(p1)))))
    def alone(L: Arr, sel: Any, k: int) -> Arr:
        """The bound with the MEC lower bound ``L`` of a coupling of ``k`` atoms alone, widened by the rounding
        of the tables' entropies and of ``L``, for the items ``sel``."""
        slack = 2.0 * (2 * k + 4) * UNIT_ROUNDOFF * (L + 1.0 / LN2)
        return H12[sel] + Hy[sel] - L - m_lo[sel] + rnd[sel] + slack

    terms = np.full((B, 2 * len(pairs)), np.inf)
    for j, (u, v) in enumerate(pairs.values()):
        srt = [-np.sort(-u, axis=1), -np.sort(-v, axis=1)]
        k = u.shape[1] + v.shape[1]
        terms[:, 2 * j] = alone(entropy_many(meet_many(srt), 1), slice(None), k)
        n_atoms = np.count_nonzero(srt[0] > 0, axis=1) + np.count_nonzero(srt[1] > 0, axis=1)
        use = n_atoms <= PROFILE_MAX_ATOMS
        if use.any():
            terms[use, 2 * j + 1] = alone(threshold_profile_bound_many([s[use] for s in srt]), use, k)
    # the smallest term: L - rounding grows with L, so it is the term of the largest certified L (as the one-table
    # upper_bound_couplings picks it)
    return terms.min(axis=1), terms
