r"""Many small BROJA decompositions at once: :func:`decompose_many`.

Comparative studies decompose thousands of small distributions of one shape (the paper's
synthetic experiment: 100,000 random 2x2x2 tables). Looping over :func:`pidlab.decompose` costs
milliseconds per call in Python overhead alone; here every step of the native interior-point
method (:mod:`pidlab._solvers._native`) runs on the whole stack at once, with batched dense
Newton solves, and every item is certified by the same code as the single path: the host's
certificate functions (:mod:`pidlab._broja`) work on stacks, so a polished primal point, the
input joint and the conditionally independent point bound m* from above and the dual point made
feasible bounds it from below, item by item, with no batch copy of that code.

For binary sources (|X1| = |X2| = 2, any |Y|) each y-slice of Δ_p is a 2x2 transportation
polytope with one free entry, and the optimum is characterised by one number per item (the
common log odds ratio of the slices and of q(x1, x2)): :mod:`pidlab._solvers._native._binary`
finds it by safeguarded Newton steps on the whole stack (a few dozen numpy passes), and its
primal point and the dual point built from it go through the same host certificate. Items it
leaves uncertified (rare: extreme dynamic ranges) go on to the interior-point iteration. Items
that the batch iteration does not certify within ``max_iter`` are re-solved one by one with the
single-problem solver, so the result never depends on the batching.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._broja import (
    PRIMAL_RESIDUAL_TOL,
    BrojaProblem,
    BrojaStack,
    atoms_from_m,
    certify,
    dual_bound,
    objective_bits,
    primal_bound,
)
from pidlab._distribution import SUM_TOL, as_real_array, normalized
from pidlab._info import clean_zero
from pidlab._results import Result
from pidlab._status import Status
from pidlab.exceptions import InaccurateSolutionWarning, InvalidDistributionError, SolverError

__all__ = ["decompose_many", "BatchResult"]

#: IPF sweeps between exact corrections when polishing a batch iterate (the host's default too).
POLISH_SWEEPS = 200
#: Most sweeps for one batch iterate (slow items only: the others stop as soon as they meet the marginals).
POLISH_MAX_SWEEPS = 21 * POLISH_SWEEPS
Arr = NDArray[np.float64]
#: Binary sources (|X1| = |X2| = 2) go through the exact method of
#: :mod:`pidlab._solvers._native._binary` first (the tests switch it off to compare with the
#: general path).
BINARY_METHOD = True


@dataclass(frozen=True, eq=False)
class BatchResult(Result):
    """BROJA decompositions of a stack of distributions (bits), one entry per item.

    Attributes
    ----------
    measure : str
        ``"broja"``.
    shape : tuple of int
        ``(|X1|, |X2|, |Y|)`` of every item.
    R, U1, U2, S : ndarray, shape (N,)
        The four atoms, computed from the certified value ``m`` through the identities of
        docs/theory.rst §2.1 (so ``R + U1 = I(X1;Y)`` etc. hold exactly).
    m, m_lower : ndarray
        ``m = min I_q(X1,X2;Y)`` (value of a feasible q) and a certified lower bound on it.
    gap : ndarray
        ``m - m_lower``: the width of the certified bracket on every atom of the item.
    I_x1y, I_x2y, I_x1x2y : ndarray
        The mutual informations the atoms decompose.
    status : ndarray of Status
        :class:`pidlab.Status` per item (``Status.OPTIMAL`` when ``gap <= gap_tol``; a Status
        compares equal to its string value, so ``res.status == "optimal"`` works).
    sources, target : names of the variables (``("X1", "X2")``, ``"Y"``).
    gap_tol : float
    solve_time : float
        Seconds for the whole batch.
    notes : tuple of str

    Examples
    --------
    >>> import numpy as np, pidlab
    >>> ps = np.stack([pidlab.examples.get("and").p, pidlab.examples.get("xor").p])
    >>> res = pidlab.decompose_many(ps)
    >>> len(res), np.round(res.R, 6).tolist(), np.round(res.S, 6).tolist()
    (2, [0.311278, 0.0], [0.5, 1.0])
    """

    measure: str
    shape: tuple[int, int, int]
    R: Arr
    U1: Arr
    U2: Arr
    S: Arr
    m: Arr
    m_lower: Arr
    gap: Arr
    I_x1y: Arr
    I_x2y: Arr
    I_x1x2y: Arr
    status: NDArray[np.str_]
    gap_tol: float
    solve_time: float
    iterations: NDArray[np.int64] = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))
    notes: tuple[str, ...] = ()
    sources: tuple[str, str] = ("X1", "X2")
    target: str = "Y"
    units: str = "bits"
    #: net measures (``measure="wms"``, ``"ci"``): the net quantity per item (R..S are then NaN)
    net: Arr | None = None
    net_kind: str | None = None

    def __len__(self) -> int:
        return int(self.R.shape[0])

    @property
    def all_optimal(self) -> bool:
        """Whether every item reached the target gap."""
        return bool(np.all(self.status == Status.OPTIMAL.value))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain Python types (lists of floats, bits)."""
        return {
            "measure": self.measure,
            "shape": list(self.shape),
            "n": len(self),
            "R": self.R.tolist(),
            "U1": self.U1.tolist(),
            "U2": self.U2.tolist(),
            "S": self.S.tolist(),
            "m": self.m.tolist(),
            "m_lower": self.m_lower.tolist(),
            "gap": self.gap.tolist(),
            "I_x1y": self.I_x1y.tolist(),
            "I_x2y": self.I_x2y.tolist(),
            "I_x1x2y": self.I_x1x2y.tolist(),
            "status": [str(s) for s in self.status],
            "sources": list(self.sources),
            "target": self.target,
            "units": self.units,
            "gap_tol": self.gap_tol,
            "solve_time": self.solve_time,
            "notes": list(self.notes),
            **({"net": self.net.tolist(), "net_kind": self.net_kind} if self.net is not None else {}),
        }

    @property
    def bracket(self) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """Certified interval of each atom, item by item: ``{atom: (lower, upper)}`` (width = ``gap``)."""
        lo = atoms_from_m(self.m, self.I_x1y, self.I_x2y, self.I_x1x2y)
        hi = atoms_from_m(self.m_lower, self.I_x1y, self.I_x2y, self.I_x1x2y)
        return {k: (np.minimum(lo[k], hi[k]), np.maximum(lo[k], hi[k])) for k in lo}

    def table(self) -> str:
        from pidlab._render import batch_text

        return batch_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import batch_html

        return batch_html(self)


# --------------------------------------------------------------------------- validation
def _validate(ps: Any, normalize: bool) -> Arr:
    from pidlab._distribution import Distribution

    if isinstance(ps, Distribution):
        raise InvalidDistributionError(
            "decompose_many needs a stack of distributions, got a single Distribution; "
            "use pidlab.decompose(p) for one, or pass [p] / an array of shape (N, |X1|, |X2|, |Y|)."
        )
    if isinstance(ps, (list, tuple)):
        ps = [x.p if isinstance(x, Distribution) else x for x in ps]
        shapes = {np.shape(x) for x in ps}
        if len(shapes) > 1:
            raise InvalidDistributionError(
                f"decompose_many needs distributions of one shape; got shapes {sorted(shapes)}. "
                "Group the items by shape and call it once per group."
            )
    arr = as_real_array(ps, "the stack of distributions (N, |X1|, |X2|, |Y|)")
    if arr.ndim != 4:
        raise InvalidDistributionError(
            f"the stack of distributions must have 4 dimensions (N, |X1|, |X2|, |Y|); got shape {arr.shape}. "
            "For a single joint p[x1, x2, y] use pidlab.decompose(p) or pass p[None]."
        )
    if arr.shape[0] == 0:
        raise InvalidDistributionError(
            f"the stack of distributions is empty (shape {arr.shape}); pass at least one table p[x1, x2, y]."
        )
    if 0 in arr.shape[1:]:
        raise InvalidDistributionError(
            f"the distributions have an empty alphabet (shape {arr.shape[1:]}); every variable needs at "
            "least one symbol."
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise InvalidDistributionError(
            f"item {i[0]} has a NaN or infinite entry (at index {i[1:]}); remove or impute such items first."
        )
    if (arr < 0).any():
        i = tuple(int(v) for v in np.argwhere(arr < 0)[0])
        raise InvalidDistributionError(
            f"item {i[0]} has a negative entry ({arr[i]:.3g} at index {i[1:]}); probabilities must be >= 0."
        )
    with np.errstate(over="ignore"):
        tot = arr.reshape(arr.shape[0], -1).sum(axis=1)
    if (tot <= 0).any():
        k = int(np.argmax(tot <= 0))
        raise InvalidDistributionError(f"item {k} sums to 0; it has no probability mass.")
    if normalize:
        arr = normalized(arr, 3)
    else:
        off = np.abs(tot - 1.0) > SUM_TOL
        if off.any():
            k = int(np.argmax(off))
            raise InvalidDistributionError(
                f"item {k} sums to {tot[k]:.12g}, not 1 (tolerance {SUM_TOL:g}); pass normalize=True to divide "
                "each item by its total, or fix the table."
            )
    return arr


def _statuses(values: NDArray[Any]) -> NDArray[Any]:
    """An object array of :class:`Status` members from their string values (one lookup per
    distinct value, not per item)."""
    out = np.empty(values.shape[0], dtype=object)
    for v in set(values.tolist()):
        sel = values == v
        out[sel] = Status(v)
    return out


# --------------------------------------------------------------------------- the batch solve
#: Table-sized float arrays per item the batch path keeps for the whole stack (the joints, the
#: conditionally independent points, the entropy work arrays, the results).
STACK_TABLES = 8


def _check_size(N: int, n1: int, n2: int, ny: int) -> None:
    """Refuse a batch whose memory or work estimate is above :func:`pidlab.limits`, before the
    solve allocates anything beyond the validated stack."""
    from pidlab._limits import check_memory, check_work
    from pidlab._solvers._native import DENSE_MAX_VARS
    from pidlab._solvers._native._kernels import ESTIMATE_STEPS, resources

    T = float(n1) * n2 * ny
    K = float(n1 + n2) * ny
    if K <= DENSE_MAX_VARS:  # chunks of batched dense Newton systems, about 4 million entries each
        cs = max(1.0, min(float(N), 4_000_000 // (K * K + 1)))
        per_item = ESTIMATE_STEPS * (40.0 * T + K**3)
        solve_mem = 8.0 * cs * (40.0 * T + 4.0 * K * K)
    else:  # item by item with the single-problem solver
        solve_mem, per_item, _ = resources(n1, n2, ny)
    what = f"decompose_many of {N} table{'s' if N != 1 else ''} of shape {n1}x{n2}x{ny}"
    hint = "Split the stack into smaller batches, or merge rare symbols to make the tables smaller"
    check_memory(8.0 * STACK_TABLES * N * T + solve_mem, what, hint=hint)
    check_work(N * per_item, what, hint=hint)


def decompose_many(
    ps: ArrayLike,
    measure: str = "broja",
    *,
    gap_tol: float = 1e-9,
    max_iter: int = 100,
    chunk_size: int | None = None,
    normalize: bool = False,
) -> BatchResult:
    """BROJA-decompose a stack of distributions of one shape, vectorised and certified per item.

    Parameters
    ----------
    ps : array_like, shape (N, |X1|, |X2|, |Y|), or a list of arrays / Distributions of one shape
        The joints ``p[x1, x2, y]``; each must sum to 1 (or pass ``normalize=True``).
    measure : str, default "broja"
        A registered measure name or alias. BROJA runs the batched interior-point method below;
        any other measure runs its ``compute_many`` (vectorised for the closed-form and
        scaling-based built-ins, a loop over ``compute`` otherwise), checked like
        :func:`pidlab.decompose` (finite values, the PID identities). The options ``gap_tol``
        and ``max_iter`` concern BROJA only. For a net measure (WMS, CI), ``.net`` holds the
        values and the atoms are NaN (undefined).
    gap_tol : float, default 1e-9
        Target width (bits) of each item's certified bracket on m*.
    max_iter : int
        Newton steps of the batched iteration; items left uncertified are re-solved one by one.
    chunk_size : int, optional
        Items per vectorised chunk (default: about 4 million Newton-matrix entries per chunk),
        which bounds the memory.
    normalize : bool
        Divide each item by its total instead of rejecting totals that differ from 1.

    Returns
    -------
    BatchResult

    Raises
    ------
    InvalidDistributionError
        Not a 4-d stack, NaN/negative entries, a total other than 1, mixed shapes.
    UnknownNameError
        A measure other than ``"broja"``.

    Examples
    --------
    >>> import numpy as np, pidlab
    >>> ps = np.random.default_rng(0).dirichlet(np.ones(8), size=1000).reshape(-1, 2, 2, 2)
    >>> res = pidlab.decompose_many(ps)
    >>> len(res), bool(res.all_optimal), bool(np.all(res.gap <= 1e-9))
    (1000, True, True)
    >>> bool(np.allclose(res.R + res.U1, res.I_x1y))
    True
    """
    from pidlab._solvers import GAP_TOL, _solve_any
    from pidlab._solvers._native import DENSE_MAX_VARS, Batch, NativeSolver, blas_threads, ip_iterate

    if str(measure).lower() not in ("broja", "bertschinger"):
        # any other registered measure: its compute_many (vectorised or the contract's loop)
        from pidlab._measures._many import decompose_many_measure

        return decompose_many_measure(ps, measure, normalize=normalize, chunk_size=chunk_size)
    if not (gap_tol > 0):
        raise SolverError(f"decompose_many's `gap_tol` must be a positive number of bits; got {gap_tol!r}. "
                          "Use e.g. gap_tol=1e-9.")
    t0 = time.perf_counter()
    p = _validate(ps, normalize)
    N, n1, n2, ny = p.shape
    _check_size(N, n1, n2, ny)
    st = BrojaStack.from_joints(p)
    I1, I2 = st.I_x1y, st.I_x2y
    I12 = objective_bits(p)  # I(X1,X2;Y) of p itself
    # Feasible points available without solving: the input joint and the CI point.
    m_up = I12.copy()
    m_lo = np.maximum(I1, I2)
    iters = np.zeros(N, dtype=np.int64)
    status = np.full(N, Status.OPTIMAL.value, dtype=object)
    notes: list[str] = []
    K = (n1 + n2) * ny
    binary = BINARY_METHOD and n1 == n2 == 2
    if binary:
        # Binary sources: the exact method on the whole stack (one free entry per y-slice, see
        # pidlab._solvers._native._binary), its primal and dual points certified by the host's
        # functions like any other; the items it leaves uncertified go on to the general path.
        from pidlab._solvers._native._binary import solve_binary

        todo = np.nonzero(m_up - m_lo > 1e-15)[0]
        if todo.size:
            sub = st if todo.size == N else st.take(todo)
            qb, lam_b, mu_b, steps_b = solve_binary(sub.p_x1y, sub.p_x2y)
            # the point meets the marginals by construction: the host's residual check decides
            # (polished first, like any backend's point, where it does not)
            ok = sub.residual(qb) <= PRIMAL_RESIDUAL_TOL
            ub_b = np.full(todo.size, np.inf)
            ub_b[ok] = objective_bits(qb[ok])
            if not ok.all():
                ub_b[~ok], _ = primal_bound(sub.take(~ok), qb[~ok], max_iter=POLISH_SWEEPS,
                                            repair_every=POLISH_SWEEPS)
            m_up[todo] = np.minimum(m_up[todo], ub_b)
            m_lo[todo] = np.maximum(m_lo[todo], dual_bound(sub, lam_b, mu_b))
            iters[todo] = steps_b
            del qb, lam_b, mu_b
        left = np.nonzero(m_up - m_lo > gap_tol)[0]
        if left.size:
            m_up[left] = np.minimum(m_up[left], objective_bits(st.take(left).conditionally_independent()))
    else:
        m_up = np.minimum(m_up, objective_bits(st.conditionally_independent()))
    todo = np.nonzero(m_up - m_lo > (gap_tol if binary else 1e-15))[0]
    if todo.size and K > DENSE_MAX_VARS:
        # Too large for batched dense Newton systems: the single-problem solver (block Schur
        # complement) is faster per item; it runs below for every item left.
        notes.append(f"shape {(n1, n2, ny)} is solved item by item (more than {DENSE_MAX_VARS} dual variables)")
    elif todo.size:
        cs = chunk_size or max(1, min(todo.size, 4_000_000 // (K * K + 1)))
        for start in range(0, todo.size, cs):
            idx = todo[start:start + cs]
            d = Batch.build(st.p_x1y[idx], st.p_x2y[idx])

            def check(loc: NDArray[np.intp], lam: Arr, mu: Arr, q: Arr, mu_c: Arr,
                      idx: NDArray[np.intp] = idx) -> NDArray[np.bool_]:
                # The host's certificate functions on the sub-stack: the dual point made feasible
                # bounds m* from below; the iterate, polished onto the marginals (exact correction
                # included), bounds it from above when it meets them to PRIMAL_RESIDUAL_TOL.
                g = idx[loc]
                sub = st.take(g)
                lb = dual_bound(sub, lam, mu)
                ub, _ = primal_bound(sub, q, max_iter=POLISH_MAX_SWEEPS, repair_every=POLISH_SWEEPS)
                m_up[g] = np.minimum(m_up[g], ub)
                m_lo[g] = np.maximum(m_lo[g], lb)
                return np.asarray(m_up[g] - m_lo[g] <= gap_tol)

            with blas_threads(1):
                out = ip_iterate(d, max_iter=max_iter, check=check, dense=True,
                                 check_below=1e-6)
            iters[idx] = out.iterations
    if todo.size:
        handed: dict[str, int] = {}
        left = todo[(m_up[todo] - m_lo[todo]) > gap_tol]
        if left.size and K <= DENSE_MAX_VARS:
            notes.append(f"{left.size} item(s) re-solved one by one after the batched iteration")
        for i in left:
            pr = BrojaProblem(st.p_x1y[i], st.p_x2y[i])
            res = NativeSolver().solve(pr, gap_tol=gap_tol, max_iter=max(max_iter, 200))
            cert, _ = certify(pr, res, joint=p[i])
            m_up[i] = min(m_up[i], cert.m_upper)
            m_lo[i] = max(m_lo[i], cert.m_lower)
            iters[i] += int(res.iterations or 0)
            if m_up[i] - m_lo[i] > gap_tol:
                # hand over to the other installed backends, as decompose() does
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", InaccurateSolutionWarning)
                        sol = _solve_any(pr, p[i], GAP_TOL, skip=("native",))
                except SolverError:
                    sol = None
                if sol is not None:
                    m_up[i] = min(m_up[i], sol.certificate.m_upper)
                    m_lo[i] = max(m_lo[i], sol.certificate.m_lower)
                    handed[sol.solver] = handed.get(sol.solver, 0) + 1
            if m_up[i] - m_lo[i] > gap_tol:
                status[i] = str(res.status if res.status is not Status.OPTIMAL else Status.OPTIMAL_INACCURATE)
        if handed:
            notes.append("items the native solver did not certify were handed to "
                         + ", ".join(f"{k} ({v})" for k, v in sorted(handed.items())))
    m_lo = np.minimum(m_lo, m_up)
    gap = m_up - m_lo
    m = m_up
    n_bad = int(np.sum(status != Status.OPTIMAL.value))
    if n_bad:
        notes.append(f"{n_bad} item(s) did not reach the target gap {gap_tol:g} bits; see .status and .gap")
    return BatchResult(
        measure="broja",
        shape=(n1, n2, ny),
        **{k: clean_zero(v) for k, v in atoms_from_m(m, I1, I2, I12).items()},
        m=m,
        m_lower=m_lo,
        gap=gap,
        I_x1y=I1,
        I_x2y=I2,
        I_x1x2y=I12,
        status=_statuses(status),
        gap_tol=float(gap_tol),
        solve_time=time.perf_counter() - t0,
        iterations=iters,
        notes=tuple(notes),
    )
