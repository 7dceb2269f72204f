"""BROJA through cvxpy: one exponential-cone model, four conic backends.

The model is the careful kind: one vector variable over the support only, the objective
``sum rel_entr(q, q12)`` with q12 the (x1, x2) marginal of q (``= -H_q(Y|X1,X2)`` in nats),
and the marginal constraints with one redundant row per target symbol dropped. Every backend
runs with tight tolerances (at their defaults SCS is percent-level off and Clarabel 1e-7 bits
off at 16x16x16). The constraint duals give (λ, μ), which the host turns into a certified
lower bound.
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from pidlab._broja import BrojaProblem, SolveResult
from pidlab._contracts import Availability, Solver
from pidlab._status import Status
from pidlab.hookspecs import hookimpl

__all__ = ["CvxpySolver", "ClarabelSolver", "ECOSSolver", "SCSSolver", "MosekSolver", "STATUS_MAP"]

#: cvxpy status string -> canonical status
STATUS_MAP: dict[str, Status] = {
    "optimal": Status.OPTIMAL,
    "optimal_inaccurate": Status.OPTIMAL_INACCURATE,
    "infeasible": Status.INFEASIBLE,
    "infeasible_inaccurate": Status.INFEASIBLE,
    "unbounded": Status.SOLVER_ERROR,
    "unbounded_inaccurate": Status.SOLVER_ERROR,
    "infeasible_or_unbounded": Status.SOLVER_ERROR,
    "user_limit": Status.ITERATION_LIMIT,
    "solver_error": Status.SOLVER_ERROR,
}


def build_model(problem: BrojaProblem) -> tuple[Any, Any, tuple[Any, Any], dict[str, np.ndarray]]:
    """Build the cvxpy problem; returns (cvxpy.Problem, variable, (c1, c2), index arrays)."""
    import cvxpy as cp

    n1, n2, ny = problem.shape
    A = problem.support
    i1, i2, iy = np.nonzero(A)
    nA = i1.size
    cols = np.arange(nA)
    # rows (x1, y) with p(x1, y) > 0
    r1_keys = i1 * ny + iy
    rows1, inv1 = np.unique(r1_keys, return_inverse=True)
    A1 = sp.csr_matrix((np.ones(nA), (inv1, cols)), shape=(rows1.size, nA))
    b1 = problem.p_x1y.ravel()[rows1]
    # rows (x2, y) with p(x2, y) > 0, minus the first x2 of each y (implied by the others and the x1 rows)
    r2_keys = i2 * ny + iy
    rows2_all = np.unique(r2_keys)
    x2_of, y_of = np.divmod(rows2_all, ny)
    keep = np.ones(rows2_all.size, dtype=bool)
    order = np.lexsort((x2_of, y_of))  # by y, then x2
    ys = y_of[order]
    keep[order[np.r_[True, ys[1:] != ys[:-1]]]] = False
    rows2 = rows2_all[keep]
    pos = np.searchsorted(rows2, r2_keys)
    sel = (pos < rows2.size) & (rows2[np.minimum(pos, max(rows2.size - 1, 0))] == r2_keys) if rows2.size else np.zeros(nA, bool)
    A2 = sp.csr_matrix((np.ones(int(sel.sum())), (pos[sel], cols[sel])), shape=(rows2.size, nA))
    b2 = problem.p_x2y.ravel()[rows2]
    # pair marginal q(x1, x2), broadcast back to each support cell
    pair_keys = i1 * n2 + i2
    pairs, pair_of = np.unique(pair_keys, return_inverse=True)
    Ssum = sp.csr_matrix((np.ones(nA), (pair_of, cols)), shape=(pairs.size, nA))

    # One auxiliary variable per (x1, x2) pair keeps every exponential cone on two scalars,
    # so the KKT system stays as sparse as the support (a P @ q product would couple all y).
    q = cp.Variable(nA, nonneg=True)
    t = cp.Variable(pairs.size, nonneg=True)
    c1 = A1 @ q == b1
    c2 = A2 @ q == b2
    constraints = [c1, t == Ssum @ q] + ([c2] if rows2.size else [])
    prob = cp.Problem(cp.Minimize(cp.sum(cp.rel_entr(q, t[pair_of]))), constraints)
    idx = {"i1": i1, "i2": i2, "iy": iy, "rows1": rows1, "rows2": rows2}
    return prob, q, (c1, c2 if rows2.size else None), idx


class CvxpySolver(Solver):
    """Base for the cvxpy-backed solvers; subclasses name the backend and its tight options."""

    cvxpy_name: ClassVar[str]
    backend_module: ClassVar[str]
    tight_options: ClassVar[dict[str, Any]] = {}

    def availability(self) -> Availability:
        if importlib.util.find_spec("cvxpy") is None:
            return Availability(False, "cvxpy is not installed; pip install cvxpy " + self.backend_module)
        if importlib.util.find_spec(self.backend_module) is None:
            return Availability(False, f"the {self.backend_module} package is not installed; {self.install_hint}")
        return Availability(True)

    def estimate_resources(self, problem: BrojaProblem, **_: Any) -> tuple[float, float, str]:
        """Memory (bytes) and work (elementary operations) of the conic model of ``problem``, before
        it is built (the host's size guard). Calibrated on benchmarks/results/broja.md (Clarabel:
        2.3 s at 16x16x16, 55 s at 32x32x32, so work ~ cells^1.5): cvxpy's canonicalisation and
        the sparse factorisation cost a few kilobytes per support cell."""
        cells = float(np.count_nonzero(problem.support))
        return 4096.0 * cells + 8.0 * problem.support.size, 2.5e3 * cells**1.5, f"the {self.name} conic model (through cvxpy)"

    def solve(self, problem: BrojaProblem, **options: Any) -> SolveResult:
        import cvxpy as cp

        opts = {**self.tight_options, **options}
        t0 = time.perf_counter()
        prob, q, (c1, c2), idx = build_model(problem)
        build = time.perf_counter() - t0
        try:
            with warnings.catch_warnings():
                # cvxpy's own "may be inaccurate" UserWarning: the status is mapped and the host
                # warns with InaccurateSolutionWarning and records it on the result instead.
                warnings.simplefilter("ignore", UserWarning)
                prob.solve(solver=self.cvxpy_name, **opts)
        except cp.error.SolverError as exc:
            return SolveResult(self.name, Status.SOLVER_ERROR, None, info={"error": str(exc)})
        elapsed = time.perf_counter() - t0
        status = STATUS_MAP.get(str(prob.status), Status.SOLVER_ERROR)
        if q.value is None:
            return SolveResult(self.name, status if status is not Status.OPTIMAL else Status.SOLVER_ERROR, None,
                               info={"cvxpy_status": prob.status})
        full = np.zeros(problem.shape)
        full[idx["i1"], idx["i2"], idx["iy"]] = q.value
        n1, n2, ny = problem.shape
        lam: NDArray[np.float64] | None = None
        mu: NDArray[np.float64] | None = None
        if c1.dual_value is not None:
            lam = np.zeros(n1 * ny)
            lam[idx["rows1"]] = np.asarray(c1.dual_value).ravel()
            lam = lam.reshape(n1, ny)
            mu = np.zeros(n2 * ny)
            if c2 is not None and c2.dual_value is not None:
                mu[idx["rows2"]] = np.asarray(c2.dual_value).ravel()
            mu = mu.reshape(n2, ny)
            # cvxpy's sign convention for equality duals: pick the sign that satisfies the
            # stationarity condition q(y|x1,x2) ∝ exp(-λ-μ) best (both give valid bounds anyway).
            lam, mu = _orient(problem, full, lam, mu)
        stats = prob.solver_stats
        return SolveResult(
            solver=self.name,
            status=status,
            q=full,
            lam=lam,
            mu=mu,
            iterations=getattr(stats, "num_iters", None),
            solve_time=elapsed,
            info={"cvxpy_status": prob.status, "options": opts, "model_build_s": build,
                  "backend_solve_s": getattr(stats, "solve_time", None)},
        )


def _orient(problem: BrojaProblem, q: np.ndarray, lam: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pidlab._broja import dual_bound

    a = dual_bound(problem, lam, mu)
    b = dual_bound(problem, -lam, -mu)
    return (lam, mu) if a >= b else (-lam, -mu)


class ClarabelSolver(CvxpySolver):
    """Clarabel (interior point, exponential cone) through cvxpy, tolerances 1e-10."""

    name = "clarabel"
    cvxpy_name = "CLARABEL"
    backend_module = "clarabel"
    priority = 10
    install_hint = "pip install clarabel"
    reference = "Goulart & Chen, Clarabel: an interior-point solver for conic programs (2024)"
    tight_options = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}


class ECOSSolver(CvxpySolver):
    """ECOS (interior point, exponential cone) through cvxpy, tolerances 1e-10."""

    name = "ecos"
    cvxpy_name = "ECOS"
    backend_module = "ecos"
    priority = 20
    install_hint = "pip install ecos"
    reference = "Domahidi, Chu & Boyd, ECOS: an SOCP solver for embedded systems (2013); exp-cone extension by Serrano"
    tight_options = {"abstol": 1e-10, "reltol": 1e-10, "feastol": 1e-10, "max_iters": 500}


class SCSSolver(CvxpySolver):
    """SCS (first-order splitting) through cvxpy, tolerances 1e-9 (its defaults are far too loose)."""

    name = "scs"
    cvxpy_name = "SCS"
    backend_module = "scs"
    priority = 30
    install_hint = "pip install scs"
    reference = "O'Donoghue, Chu, Parikh & Boyd, Conic optimization via operator splitting (2016)"
    tight_options = {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000}


class MosekSolver(CvxpySolver):
    """MOSEK through cvxpy (commercial; needs the Mosek package and a licence)."""

    name = "mosek"
    cvxpy_name = "MOSEK"
    backend_module = "mosek"
    priority = 5
    install_hint = "pip install 'pidlab[mosek]' and a licence file (MOSEKLM_LICENSE_FILE)"
    reference = "MOSEK ApS, MOSEK Optimizer API for Python"
    tight_options = {
        "mosek_params": {
            "MSK_DPAR_INTPNT_CO_TOL_REL_GAP": 1e-12,
            "MSK_DPAR_INTPNT_CO_TOL_PFEAS": 1e-12,
            "MSK_DPAR_INTPNT_CO_TOL_DFEAS": 1e-12,
        }
    }

    def availability(self) -> Availability:
        base = super().availability()
        if not base:
            return base
        try:
            import mosek

            with mosek.Env() as env:
                env.checkoutlicense(mosek.feature.pton)
        except Exception as exc:  # no licence, expired licence, licence server unreachable
            return Availability(False, f"MOSEK is installed but has no usable licence ({exc}); "
                                       "set MOSEKLM_LICENSE_FILE or use another solver")
        return Availability(True)


@hookimpl
def pidlab_register_solvers() -> list[type[Solver]]:
    return [ClarabelSolver, ECOSSolver, SCSSolver, MosekSolver]
