r"""The BROJA convex program, its certificate and the atoms it yields.

For a joint ``p[x1, x2, y]`` only the two source-target marginals matter:

.. math::

    m^* = \min_{q \in \Delta_p} I_q(X_1, X_2; Y), \quad
    \Delta_p = \{q \ge 0 : q(x_1, y) = p(x_1, y),\ q(x_2, y) = p(x_2, y)\}.

q may only put mass on the *support* ``A = {(x1, x2, y): p(x1, y) > 0 and p(x2, y) > 0}``.
Every solver returns a primal point; the host polishes it onto the constraints, evaluates it
(an upper bound on m*), and turns the solver's dual point (λ, μ), when it has one, into a
feasible dual point, whose value is a lower bound on m*. Both bounds are computed here, by the
same code for every backend, so no backend certifies itself. Every atom is affine in m*, so
each gets a bracket whose width is the gap.

Dual (in nats): ``max_q H_q(Y|X1,X2) = min_{λ,μ} Σ p(x1,y) λ(x1,y) + Σ p(x2,y) μ(x2,y)`` subject to
``logsumexp_{y∈A(x1,x2)} (-λ(x1,y) - μ(x2,y)) <= 0`` for every pair (x1, x2) with A(x1,x2) non-empty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._distribution import SUM_TOL, check_pmf
from pidlab._info import LN2, entropy, entropy_many, mutual_information_2d
from pidlab._results import Result
from pidlab._status import Status
from pidlab.exceptions import InconsistentMarginalsError

__all__ = [
    "BrojaProblem", "BrojaStack", "SolveResult", "Certificate", "certify", "dual_bound", "polish_primal",
    "primal_bound", "objective_bits", "atoms_from_m", "PRIMAL_RESIDUAL_TOL",
]


@dataclass(frozen=True, eq=False)
class BrojaStack:
    """The BROJA programs of a stack of tables of one shape (the engine's unit of work).

    Parameters
    ----------
    p_x1y, p_x2y : ndarray, shapes (N, |X1|, |Y|) and (N, |X2|, |Y|)
        Source-target marginals of each item, already validated and consistent (use
        :meth:`from_joints` for joint tables).

    Attributes
    ----------
    support : ndarray of bool, shape (N, |X1|, |X2|, |Y|)
        Where each item's q may put mass.
    p_y : ndarray, shape (N, |Y|)

    Every certificate function of this module takes a stack (arrays with a leading item axis;
    results per item) or a :class:`BrojaProblem` (a stack of one; scalar results).
    """

    p_x1y: NDArray[np.float64]
    p_x2y: NDArray[np.float64]
    support: NDArray[np.bool_] = field(init=False, repr=False)
    p_y: NDArray[np.float64] = field(init=False, repr=False)

    def __init__(self, p_x1y: NDArray[np.float64], p_x2y: NDArray[np.float64]) -> None:
        object.__setattr__(self, "p_x1y", p_x1y)
        object.__setattr__(self, "p_x2y", p_x2y)
        object.__setattr__(self, "support", (p_x1y[..., :, None, :] > 0) & (p_x2y[..., None, :, :] > 0))
        object.__setattr__(self, "p_y", 0.5 * (p_x1y.sum(axis=-2) + p_x2y.sum(axis=-2)))

    @classmethod
    def from_joints(cls, p: NDArray[np.float64]) -> BrojaStack:
        """The programs of the joints ``p[i, x1, x2, y]``."""
        return cls(p.sum(axis=2), p.sum(axis=1))

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.p_x1y.shape[-2], self.p_x2y.shape[-2], self.p_x1y.shape[-1])

    def __len__(self) -> int:
        return int(self.p_x1y.shape[0])

    def take(self, idx: Any) -> BrojaStack:
        """The sub-stack of the items ``idx``."""
        return BrojaStack(self.p_x1y[idx], self.p_x2y[idx])

    @property
    def H_y(self) -> NDArray[np.float64]:
        return np.asarray(entropy_many(self.p_y, 1))

    @property
    def I_x1y(self) -> NDArray[np.float64]:
        return np.maximum(entropy_many(self.p_x1y.sum(-1), 1) + self.H_y - entropy_many(self.p_x1y, 2), 0.0)

    @property
    def I_x2y(self) -> NDArray[np.float64]:
        return np.maximum(entropy_many(self.p_x2y.sum(-1), 1) + self.H_y - entropy_many(self.p_x2y, 2), 0.0)

    def conditionally_independent(self) -> NDArray[np.float64]:
        """The feasible points ``p(x1|y) p(x2|y) p(y)`` (X1 and X2 independent given Y)."""
        # p(x2|y) = p(x2,y)/p(y) <= 1 (divide, not multiply by 1/p(y), which overflows for subnormal p(y))
        with np.errstate(divide="ignore", invalid="ignore"):
            b_given_y = np.where(self.p_y[..., None, :] > 0, self.p_x2y / self.p_y[..., None, :], 0.0)
        return self.p_x1y[..., :, None, :] * b_given_y[..., None, :, :]

    def residual(self, q: NDArray[np.float64]) -> NDArray[np.float64]:
        """Largest violation of the marginal constraints, of q >= 0 and of the support, per item."""
        r1 = np.abs(_row_sums(q) - self.p_x1y).max(axis=(-2, -1))
        r2 = np.abs(q.sum(axis=-3) - self.p_x2y).max(axis=(-2, -1))
        neg = np.maximum(0.0, -q.min(axis=(-3, -2, -1)))
        off = np.where(self.support, 0.0, np.abs(q)).max(axis=(-3, -2, -1))
        return np.asarray(np.maximum(np.maximum(r1, r2), np.maximum(neg, off)))


@dataclass(frozen=True, eq=False)
class BrojaProblem:
    """The BROJA program for given source-target marginals (validated; a stack of one).

    Parameters
    ----------
    p_x1y, p_x2y : array_like, shapes (|X1|, |Y|) and (|X2|, |Y|)
        Source-target marginals; they must imply the same p(y) (within ``atol``).

    Attributes
    ----------
    support : ndarray of bool, shape (|X1|, |X2|, |Y|)
        Where q may put mass.
    p_y, H_y, I_x1y, I_x2y : derived quantities (entropies and informations in bits).
    stack : BrojaStack
        The same program as a stack of one item (views, no copies).
    """

    p_x1y: NDArray[np.float64]
    p_x2y: NDArray[np.float64]
    support: NDArray[np.bool_] = field(init=False, repr=False)
    p_y: NDArray[np.float64] = field(init=False, repr=False)
    stack: BrojaStack = field(init=False, repr=False)

    def __init__(self, p_x1y: ArrayLike, p_x2y: ArrayLike, *, atol: float = SUM_TOL) -> None:
        a = check_pmf(p_x1y, ndim=2, what="p(x1, y)", atol=atol)
        b = check_pmf(p_x2y, ndim=2, what="p(x2, y)", atol=atol)
        if a.shape[1] != b.shape[1]:
            raise InconsistentMarginalsError(
                f"p(x1, y) has {a.shape[1]} target symbols but p(x2, y) has {b.shape[1]}; "
                "both tables must use the same target alphabet."
            )
        py1, py2 = a.sum(0), b.sum(0)
        diff = float(np.abs(py1 - py2).max())
        if diff > max(atol, 1e-12):
            raise InconsistentMarginalsError(
                f"p(x1, y) and p(x2, y) imply different target marginals p(y) (largest difference "
                f"{diff:.3g}); the BROJA program has no feasible point. Estimate both from the same "
                "labels or repair the marginals first (pidlab.Marginals(...).repair())."
            )
        st = BrojaStack(a[None], b[None])
        object.__setattr__(self, "p_x1y", a)
        object.__setattr__(self, "p_x2y", b)
        object.__setattr__(self, "support", st.support[0])
        object.__setattr__(self, "p_y", st.p_y[0])
        object.__setattr__(self, "stack", st)

    @classmethod
    def from_joint(cls, p: ArrayLike) -> BrojaProblem:
        arr = np.asarray(p, dtype=float)
        return cls(arr.sum(axis=1), arr.sum(axis=0))

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.p_x1y.shape[0], self.p_x2y.shape[0], self.p_x1y.shape[1])

    @property
    def H_y(self) -> float:
        return entropy(self.p_y)

    @property
    def I_x1y(self) -> float:
        return mutual_information_2d(self.p_x1y)

    @property
    def I_x2y(self) -> float:
        return mutual_information_2d(self.p_x2y)

    def conditionally_independent(self) -> NDArray[np.float64]:
        """The feasible point ``p(x1|y) p(x2|y) p(y)`` (X1 and X2 independent given Y)."""
        return self.stack.conditionally_independent()[0]

    def residual(self, q: NDArray[np.float64]) -> float:
        """Largest violation of the two marginal constraints (and of q >= 0, and of the support)."""
        return float(self.stack.residual(np.asarray(q, dtype=float)[None])[0])


def _as_stack(problem: BrojaProblem | BrojaStack, *arrays: Any) -> tuple[BrojaStack, bool, list[Any]]:
    """The stack behind ``problem``, whether it is a single problem, and ``arrays`` with an item axis."""
    if isinstance(problem, BrojaProblem):
        return problem.stack, True, [None if x is None else np.asarray(x, dtype=float)[None] for x in arrays]
    return problem, False, [None if x is None else np.asarray(x, dtype=float) for x in arrays]


def atoms_from_m(m: Any, I1: Any, I2: Any, I12: Any) -> dict[str, Any]:
    """BROJA atoms from the union information m* (docs/theory.rst §2), for scalars or arrays alike.

    ``R = I1 + I2 - m``, ``U1 = m - I2``, ``U2 = m - I1``, ``S = I12 - m``: computing every
    atom from m* makes the consistency identities hold exactly.
    """
    return {"R": I1 + I2 - m, "U1": m - I2, "U2": m - I1, "S": I12 - m}


def y_sums(q: NDArray[np.float64]) -> NDArray[np.float64]:
    """``q.sum(axis=-1)`` (slice by slice when |Y| is small: see ``_Y_SLICES_MAX``)."""
    ny = q.shape[-1]
    if not _by_slices(q.size, ny):
        return np.asarray(q.sum(axis=-1))
    out = q[..., 0].copy()
    for k in range(1, ny):
        out += q[..., k]
    return out


def objective_bits(q: NDArray[np.float64]) -> Any:
    """``I_q(X1, X2; Y)`` in bits of one table ``(|X1|, |X2|, |Y|)`` (a float) or of each table of
    a stack ``(N, |X1|, |X2|, |Y|)`` (an array). A single table is summed in blocks (no
    table-sized temporaries)."""
    q = np.asarray(q, dtype=float)
    if q.ndim == 3:
        return max(entropy(y_sums(q)) + entropy(q.sum(axis=(0, 1))) - entropy(q), 0.0)
    return np.maximum(entropy_many(q.sum(axis=-1), 2) + entropy_many(q.sum(axis=(-3, -2)), 1) - entropy_many(q, 3), 0.0)


@dataclass(frozen=True, eq=False)
class SolveResult:
    """What a solver backend returns: a primal point, optionally a dual point, and its status.

    Attributes
    ----------
    solver : str
    status : Status
    q : ndarray, shape (|X1|, |X2|, |Y|)
        Primal point (the host polishes it onto the constraints).
    lam, mu : ndarray or None, shapes (|X1|, |Y|) and (|X2|, |Y|)
        Dual point in nats with ``q(y|x1,x2) ∝ exp(-lam[x1,y] - mu[x2,y])`` at the optimum.
    iterations : int or None
    solve_time : float
        Seconds spent in the backend.
    info : dict
        Backend-specific diagnostics (native status string, tolerances used, ...).
    """

    solver: str
    status: Status
    q: NDArray[np.float64] | None
    lam: NDArray[np.float64] | None = None
    mu: NDArray[np.float64] | None = None
    iterations: int | None = None
    solve_time: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Certificate(Result):
    """Proof that ``m_lower <= m* <= m_upper`` (bits), checked by the host for every backend.

    A :class:`~pidlab._results.Result` (``to_dict``, ``to_json``, ``table``/``str``,
    ``_repr_html_``); equal and hashed by value.

    Attributes
    ----------
    m_lower, m_upper : float
        Bracket on the BROJA optimum m* in bits. ``m_upper`` is the value of a primal point
        with marginal residual ``marginal_residual``; ``m_lower`` the value of a feasible dual
        point (or the trivial bound ``max(I(X1;Y), I(X2;Y))`` when no better one is known).
    gap : float
        ``m_upper - m_lower``: the width of the bracket on every atom.
    marginal_residual : float
        Largest violation of the marginal constraints by the primal point after polishing.
    raw_residual : float or None
        The same for the point exactly as the backend returned it.
    primal_source, dual_source : str
        Where each bound came from (``"solver"``, ``"input p"``, ``"conditionally independent"``,
        ``"trivial"``).
    """

    m_lower: float
    m_upper: float
    gap: float
    marginal_residual: float
    raw_residual: float | None
    primal_source: str
    dual_source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "m_lower": self.m_lower,
            "m_upper": self.m_upper,
            "gap": self.gap,
            "marginal_residual": self.marginal_residual,
            "raw_residual": self.raw_residual,
            "primal_source": self.primal_source,
            "dual_source": self.dual_source,
            "units": self.units,
        }

    def table(self) -> str:
        from pidlab._render import certificate_text

        return certificate_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import certificate_html

        return certificate_html(self)


#: Up to this many target symbols, row sums and row scalings of a stack of tables go one y-slice
#: at a time: numpy's inner loops then run over x2 instead of over |Y| entries (measured on a
#: 400x400x2 table: 0.12 ms instead of 6 ms for the row sums, 0.25 ms instead of 2.5 ms for a scaling).
_Y_SLICES_MAX = 16


def _by_slices(size: int, ny: int) -> bool:
    """Slice by slice only with few target symbols and enough entries per slice (each slice costs
    a few µs of call overhead: a 16x16x16 cube was twice as slow sliced)."""
    return 0 < ny <= _Y_SLICES_MAX and size >= 256 * ny * ny


def _row_sums(q: NDArray[np.float64]) -> NDArray[np.float64]:
    """``q.sum(axis=2)`` of a stack ``(N, n1, n2, ny)``."""
    ny = q.shape[-1]
    if not _by_slices(q.size, ny):
        return np.asarray(q.sum(axis=2))
    out = np.empty(q.shape[:2] + (ny,))
    for k in range(ny):
        np.sum(q[..., k], axis=2, out=out[..., k])
    return out


def _scale_rows(q: NDArray[np.float64], f: NDArray[np.float64]) -> None:
    """``q *= f[:, :, None, :]`` in place (q a stack ``(N, n1, n2, ny)``, f ``(N, n1, ny)``)."""
    ny = q.shape[-1]
    if not _by_slices(q.size, ny):
        q *= f[:, :, None, :]
        return
    for k in range(ny):
        qk = q[..., k]
        qk *= f[:, :, None, k]


def polish_primal(
    problem: BrojaProblem | BrojaStack, q: ArrayLike, *, tol: float = 1e-14, max_iter: int = 5000,
    repair_every: int = 200,
) -> NDArray[np.float64]:
    """Project near-feasible points onto the marginal constraints, slice by slice, item by item.

    Negative entries and mass off the support are dropped; then each y-slice is scaled
    alternately to its row sums ``p(x1, y)`` and column sums ``p(x2, y)`` (iterative proportional
    fitting on a transportation polytope), all slices and items at once; an item stops once its
    rows meet ``tol``. Rows or columns a point left empty are refilled from the conditionally
    independent point. Scaling converges slowly when a point sits on the boundary (exact zeros
    where the marginals need mass), so every ``repair_every`` sweeps, and at the end, the items
    not yet there get the exact correction of :func:`_exact_repair`. Returns a new array (one
    table, or a stack, like ``q``).
    """
    st, single, (q,) = _as_stack(problem, q)
    q = np.clip(q, 0.0, None)  # the one new table-sized array
    np.putmask(q, ~st.support, 0.0)
    a, b = st.p_x1y, st.p_x2y
    empty_rows = (q.sum(axis=2) <= 0) & (a > 0)
    empty_cols = (q.sum(axis=1) <= 0) & (b > 0)
    if empty_rows.any() or empty_cols.any():
        q += 1e-300  # keep scaling well-defined
        q = np.where(empty_rows[:, :, None, :] | empty_cols[:, None, :, :], st.conditionally_independent(), q)
        q = np.where(st.support, q, 0.0)
    act = np.arange(q.shape[0])  # items still iterating; (sa, qa) are theirs (q itself while all are)
    sa, qa = st, q
    rs = _row_sums(qa)  # row sums of the current point (reused: one pass less per sweep)
    with np.errstate(divide="ignore", invalid="ignore"):
        for it in range(1, max_iter + 1):
            _scale_rows(qa, np.where(rs > 0, sa.p_x1y / rs, 0.0))
            cs = qa.sum(axis=1)
            qa *= np.where(cs > 0, sa.p_x2y / cs, 0.0)[:, None, :, :]
            rs = _row_sums(qa)
            done = np.abs(rs - sa.p_x1y).max(axis=(1, 2)) <= tol
            last = it == max_iter
            if (it % repair_every == 0 or last) and not done.all():
                slow = np.nonzero(~done)[0]
                ss = sa if slow.size == len(sa) else sa.take(slow)
                fixed = _exact_repair(ss, qa[slow])
                r_fixed = ss.residual(fixed)
                better = (r_fixed <= tol) | (last & (r_fixed < ss.residual(qa[slow])))
                if better.any():
                    qa[slow[better]] = fixed[better]
                    done[slow[better]] = True
                    rs = _row_sums(qa)
            if last or done.all():
                break
            if done.any():  # retire the finished items (write them back) and go on with the rest
                if qa is not q:
                    q[act[done]] = qa[done]
                keep = ~done
                act, sa, qa, rs = act[keep], sa.take(keep), qa[keep], rs[keep]
    if qa is not q:
        q[act] = qa
    return q[0] if single else q


def _exact_repair(st: BrojaStack, q: NDArray[np.float64]) -> NDArray[np.float64]:
    """Points meeting the marginals up to rounding, close to ``q`` (a stack); an item where the
    correction fails is returned unchanged.

    ``δ = -r1 b/p(y) - a r2/p(y) + R a b/p(y)²`` (r1, r2 the row and column residuals of the
    y-slice, R their common total) has row sums -r1 and column sums -r2, so ``q + δ`` meets the
    marginals; where that leaves a negative entry, the point is mixed with the conditionally
    independent point (feasible, positive on the support) just enough to lift it to zero.
    """
    a, b, py = st.p_x1y, st.p_x2y, st.p_y
    # conditionals p(x1|y), p(x2|y) <= 1 by division (1/p(y) overflows for subnormal p(y))
    with np.errstate(divide="ignore", invalid="ignore"):
        ca = np.where(py[:, None, :] > 0, a / py[:, None, :], 0.0)
        cb = np.where(py[:, None, :] > 0, b / py[:, None, :], 0.0)
    r1 = q.sum(axis=2) - a
    r2 = q.sum(axis=1) - b
    R = 0.5 * (r1.sum(axis=1) + r2.sum(axis=1))
    q1 = q - r1[:, :, None, :] * cb[:, None, :, :]
    q1 -= ca[:, :, None, :] * r2[:, None, :, :]
    q1 += R[:, None, None, :] * ca[:, :, None, :] * cb[:, None, :, :]
    np.putmask(q1, ~st.support, 0.0)
    neg = q1 < 0
    if neg.any():
        ci = st.conditionally_independent()
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.where(neg, -q1 / (ci - q1), 0.0)
        t = np.nanmax(need.reshape(len(st), -1), axis=1) if need.size else np.zeros(len(st))
        ok = (t >= 0.0) & (t < 1.0)
        t = np.where(ok, t, 0.0)[:, None, None, None]
        q1 *= 1.0 - t
        q1 += t * ci
        np.clip(q1, 0.0, None, out=q1)
        if not ok.all():
            q1[~ok] = q[~ok]
    return q1


#: A polished primal point counts as feasible (its value an upper bound on m*) only when its
#: marginal residual is at most this: an error r can move the value by about r·log2(1/q_min)
#: (1e-10 was too loose: with marginals of 1e-12 it gave a "bound" 1.2e-10 bits below m*).
#: Points that scaling leaves off the marginals are repaired exactly (:func:`_exact_repair`),
#: so polished points normally meet them to rounding.
PRIMAL_RESIDUAL_TOL = 1e-11


def primal_bound(problem: BrojaProblem | BrojaStack, q: ArrayLike, **polish: Any) -> tuple[Any, NDArray[np.float64]]:
    """Polish ``q`` onto the constraints; its value (bits) is an upper bound on m* when the
    polished point meets them to ``PRIMAL_RESIDUAL_TOL``, else ``inf``. Returns (bound, point):
    a float and a table for a problem, arrays for a stack. ``polish`` goes to :func:`polish_primal`."""
    st, single, _ = _as_stack(problem)
    qs = polish_primal(problem, q, **polish)
    q4 = qs[None] if single else qs
    ok = st.residual(q4) <= PRIMAL_RESIDUAL_TOL
    if single:
        return (objective_bits(qs) if ok[0] else math.inf), qs
    ub = np.full(len(st), math.inf)
    if ok.any():
        ub[ok] = objective_bits(q4[ok])
    return ub, qs


def dual_bound(problem: BrojaProblem | BrojaStack, lam: ArrayLike, mu: ArrayLike) -> Any:
    """Lower bound on m* (bits) from any dual point (λ, μ), made feasible by shifting (a float for
    a problem, one per item for a stack; ``-inf`` where the point is not finite).

    Either λ is shifted per x1 by the largest constraint value over x2, or μ per x2 by the
    largest over x1 (whichever costs less); the shifted point satisfies every constraint and its
    value bounds ``max H_q(Y|X1,X2)`` from above.
    """
    st, single, (lam_a, mu_a) = _as_stack(problem, lam, mu)
    lam, mu = np.asarray(lam_a, dtype=float), np.asarray(mu_a, dtype=float)
    a, b, A = st.p_x1y, st.p_x2y, st.support
    if lam.shape != a.shape or mu.shape != b.shape:
        raise ValueError(f"dual point of shapes {lam.shape[single:]}, {mu.shape[single:]} for marginals of shapes "
                         f"{a.shape[single:]}, {b.shape[single:]}")
    lam = np.where(a > 0, lam, 0.0)
    mu = np.where(b > 0, mu, 0.0)
    finite = np.isfinite(lam).all(axis=(1, 2)) & np.isfinite(mu).all(axis=(1, 2))
    if not finite.all():
        lam = np.where(np.isfinite(lam), lam, 0.0)
        mu = np.where(np.isfinite(mu), mu, 0.0)
    # one table-sized work array, updated in place (memory stays O(input))
    ny = a.shape[-1]
    few = _by_slices(A.size, ny)  # slice by slice along y (see _Y_SLICES_MAX)
    if few:
        expo = np.empty(A.shape)
        for k in range(ny):
            np.add(lam[:, :, None, k], mu[:, None, :, k], out=expo[..., k])
    else:
        expo = np.add(lam[:, :, None, :], mu[:, None, :, :])
    np.negative(expo, out=expo)
    np.putmask(expo, ~A, -np.inf)
    if few and ny:
        mx = expo[..., 0].copy()
        for k in range(1, ny):
            np.maximum(mx, expo[..., k], out=mx)
    else:
        mx = expo.max(axis=3)
    has = np.isfinite(mx)
    shift = np.where(has, mx, 0.0)
    if few:
        for k in range(ny):
            ek = expo[..., k]
            ek -= shift
    else:
        expo -= shift[..., None]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        np.exp(expo, out=expo)
        lse = np.where(has, mx + np.log(np.where(has, y_sums(expo), 1.0)), -np.inf)
    del expo
    value_nats = (a * lam).sum(axis=(1, 2)) + (b * mu).sum(axis=(1, 2)) + dual_shift_cost(lse, a.sum(axis=2), b.sum(axis=2))
    out = np.where(finite, st.H_y - value_nats / LN2, -math.inf)
    return float(out[0]) if single else out


def dual_shift_cost(lse: NDArray[np.float64], p1: NDArray[np.float64], p2: NDArray[np.float64]) -> Any:
    """Cost (nats) of making a dual point feasible, given its constraint values ``lse`` (..., n1, n2):
    the cheaper of shifting λ per x1 by ``max_x2 lse`` and shifting μ per x2 by ``max_x1 lse``."""
    s1 = lse.max(axis=-1)
    s2 = lse.max(axis=-2)
    c1 = (p1 * np.where(np.isfinite(s1), s1, 0.0)).sum(axis=-1)
    c2 = (p2 * np.where(np.isfinite(s2), s2, 0.0)).sum(axis=-1)
    return np.minimum(c1, c2)


def certify(problem: BrojaProblem, result: SolveResult, *, joint: ArrayLike | None = None) -> tuple[Certificate, NDArray[np.float64]]:
    """Bracket m* from a backend's answer; return the certificate and the best primal point.

    The candidates for the primal point are the backend's q (polished), the input joint (when
    given) and the conditionally independent point: all feasible, the smallest value wins. The
    lower bound is the larger of the backend's dual point made feasible and ``max(I1, I2)``.
    """
    I1, I2 = problem.I_x1y, problem.I_x2y
    candidates: list[tuple[float, str, NDArray[np.float64]]] = []
    raw_residual = None
    if result.q is not None and np.all(np.isfinite(result.q)):
        qraw = np.asarray(result.q, dtype=float)
        if qraw.shape == problem.shape:
            raw_residual = problem.residual(qraw)
            ub, qs = primal_bound(problem, qraw)
            if math.isfinite(ub):
                candidates.append((ub, "solver", qs))
    if joint is not None:
        pj = np.asarray(joint, dtype=float)
        candidates.append((objective_bits(pj), "input p", pj))
    ci = problem.conditionally_independent()
    candidates.append((objective_bits(ci), "conditionally independent", ci))
    m_upper, primal_source, q = min(candidates, key=lambda c: c[0])
    m_lower, dual_source = max(I1, I2), "trivial"
    if result.lam is not None and result.mu is not None:
        lb = dual_bound(problem, result.lam, result.mu)
        if lb > m_lower:
            m_lower, dual_source = lb, "solver"
    m_lower = min(m_lower, m_upper)
    cert = Certificate(
        m_lower=float(m_lower),
        m_upper=float(m_upper),
        gap=float(m_upper - m_lower),
        marginal_residual=problem.residual(q),
        raw_residual=raw_residual,
        primal_source=primal_source,
        dual_source=dual_source,
    )
    return cert, q
