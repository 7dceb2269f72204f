r"""pidlab's own BROJA solver: a primal-dual interior-point method on the conditional-logit dual.

Written with numpy and scipy; the Newton steps of one small problem also run as a compiled loop
(numba, :mod:`._compiled`). The program (docs/theory.rst §2.1) is solved in its dual form

.. math::

    \max_{q \in \Delta_p} H_q(Y|X_1X_2) = \min_{\lambda,\mu}
    \sum p(x_1,y)\lambda(x_1,y) + \sum p(x_2,y)\mu(x_2,y)
    \quad\text{s.t.}\quad \ell_{x_1x_2}(\lambda,\mu) =
    \log\sum_{y \in A(x_1,x_2)} e^{-\lambda(x_1,y)-\mu(x_2,y)} \le 0,

one constraint per source pair with a non-empty support ``A(x1, x2)``. Its multipliers are the
pair weights ``w(x1, x2) = q(x1, x2)``, and the primal point is the conditional logit
``q(x1,x2,y) = w(x1,x2) softmax_y(-λ(x1,y) - μ(x2,y))``. The optimum often puts ``w = 0`` on
many pairs (q* on the boundary of Δ_p), where alternating scaling converges sublinearly; a
primal-dual interior-point method with Mehrotra's predictor-corrector handles the boundary in
about ten Newton steps whatever the size.

The iteration is infeasible in the dual slacks (``s = -ℓ`` is a variable, ``ℓ + s → 0``), starts
at the conditionally independent point (primal and dual feasible), follows a central path
weighted by the starting pair masses (so pairs of tiny probability get tiny complementarity
targets: entries of 1e-15 beside 0.5 are handled), limits each step to a change of at most
``STEP_CAP`` nats in any logit, and switches an item that stops making progress to an Armijo
line search on the KKT residual. If a run does not certify, it is retried with other
globalisation settings (``ATTEMPTS``); the best bounds of all runs are kept.

Each Newton step solves one symmetric positive definite system in the dual variables
``(λ, μ)`` (one μ per target symbol is pinned to zero: it is a gauge freedom). Its λλ part is
block diagonal (one |Y|×|Y| block per x1), so λ is eliminated block by block and the Schur
complement in μ, of order ``|X2||Y|``, is factorised by Cholesky. While the pair weights are
moderate (and |Y| > ``SYRK_MAX_NY``) the Schur complement is formed in O(n⁵) from the diagonal-plus-rank-one structure of
the coupling blocks (:class:`_SchurFactorFast`); near the optimum, where that loses accuracy,
by one SYRK (:class:`_SchurFactor`, O(n⁶)/2, positive semidefinite in floating point). Memory
is O((|X2||Y|)²) for the Schur complement, so this direct path is used only while that matrix
is small (``DIRECT_MAX_ENTRIES``, 2 MiB). Larger problems never form it
(:class:`_MatrixFreeFactor`): pairs with large weight get an auxiliary multiplier that keeps
every quantity bounded, the Schur operator is applied in O(n³) and the system is solved by
deflated preconditioned conjugate gradients (block-diagonal preconditioner built in O(n⁴),
coarse space of |Y| + |X2| indicator vectors, whose image ``S Z`` is formed by batched matrix
products and kept); the solver's peak memory is then about nine times the input table at
n = 64 (see ``benchmarks/``). That path needs |X2| <= |Y| to be
reliable (the sources are oriented so that |X2| <= |X1|), so ``linear_solver="auto"`` uses it
only then, and falls back to the direct path if a CG solve stalls. Small problems (and the
batch path, :func:`pidlab.decompose_many`) assemble the whole system and use batched dense
solves.

Convergence is decided by the host's own certificate: :func:`pidlab._broja.dual_bound` of the
current (λ, μ) and :func:`pidlab._broja.objective_bits` of the current q after
:func:`pidlab._broja.polish_primal`. The status is ``OPTIMAL`` only when that gap is at most
``gap_tol`` bits (default 1e-9).

The package: :mod:`._kernels` (constants, the static data of a stack, starting point, Newton
blocks), :mod:`._factor` (the Newton-system solvers), :mod:`._iterate` (the interior-point
iteration on a stack), :mod:`._compiled` (the same iteration for one small problem, compiled)
and this module (the solver plugin).
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._broja import (
    BrojaProblem,
    SolveResult,
    certify,
    dual_bound,
    objective_bits,
    primal_bound,
)
from pidlab._contracts import Availability, Solver
from pidlab._solvers._native._iterate import CHECK_FALL, ip_iterate
from pidlab._solvers._native._kernels import (
    ATTEMPTS,
    ATTEMPTS_CG,
    DEFAULT_GAP_TOL,
    DENSE_MAX_VARS,
    LINEAR_SOLVERS,
    NEGLIGIBLE_MASS_STEPS,
    Arr,
    Batch,
    blas_threads,
    central_path_weights,
    lse_softmax,
    resolve_linear_solver,
    resources,
)
from pidlab._status import Status
from pidlab.exceptions import SolverError
from pidlab.hookspecs import hookimpl

#: Most scaling sweeps when polishing an iterate to check it (the final point gets the host's
#: default, 5000): a point that five exact repairs leave off the marginals is not certified at
#: this iterate anyway, and on hard tables the full polish of every iterate was 85% of the time.
CHECK_POLISH_SWEEPS = 1000
#: Scaling sweeps between exact corrections when polishing an iterate. Interior-point iterates sit
#: near the boundary, where scaling converges sublinearly: after 20 sweeps the exact correction
#: meets the marginals to rounding and the value is within a few 1e-12 bits of what 200 sweeps
#: give (measured on 200x200x2 Dirichlet(0.5): 0.17 s instead of 0.8 s per check).
CHECK_REPAIR_EVERY = 20
#: Iterates are checked once their complementarity gap (nats) is below this multiple of
#: ``gap_tol`` (the bracket cannot close before: the duality gap of a feasible interior point
#: is its complementarity gap), or when they leave the iteration for any other reason.
CHECK_BELOW_GAPS = 10.0
#: ... and always once it is below this multiple of ``gap_tol``; between the two, only when the
#: complementarity stopped falling fast (``_iterate.CHECK_FALL``). On Dirichlet tables of 8x8x8
#: to 50x50x2, iterates checked at a complementarity above 1.5e-10 nats (gap_tol 1e-9 bits) did
#: not certify (7 of 7) and those below did (5 of 5): the early check was a wasted polish.
CHECK_SURE_GAPS = 0.15

#: The polished table of the best checked iterate is kept (and returned as it is) up to this
#: many cells; larger problems keep only the logits and pair weights and polish once more at the
#: end (peak memory). The second polish was a third of a 20x20x2 solve.
KEEP_POLISHED_MAX = 1 << 16

__all__ = ["NativeSolver", "DEFAULT_GAP_TOL", "DENSE_MAX_VARS", "Batch", "ip_iterate", "blas_threads"]


class NativeSolver(Solver):
    """pidlab's own certified BROJA solver (numpy/scipy; interior point on the dual).

    Options
    -------
    gap_tol : float, default 1e-9
        Target width (bits) of the certified bracket on m*; ``OPTIMAL`` only when reached.
    max_iter : int, default 100
        Newton steps (ten to fifteen is typical).
    time_limit : float or None
        Seconds; the best certified point so far is returned with ``ITERATION_LIMIT``.
    threads : int or None, default 1
        BLAS threads during the solve (through ``threadpoolctl`` when it is installed; ``None``
        leaves the BLAS setting alone). One thread is the default because multi-threaded
        OpenBLAS degrades badly for these mid-sized factorisations when cores are shared. (The
        matrix-free path runs its independent chunks on a pool of up to four threads from
        ``_factor.PARALLEL_MIN_CELLS`` cells on, whatever this setting.)
    linear_solver : {"auto", "direct", "cg"}, default "auto"
        How each Newton system is solved. ``"direct"``: Cholesky of the Schur complement in μ,
        memory O((|X2||Y|)²). ``"cg"``: matrix-free preconditioned conjugate gradients, memory
        O(|X1||X2||Y|), a few times the input table. ``"auto"``: direct while that Schur
        complement has at most ``DIRECT_MAX_ENTRIES`` entries (2 MiB) or |X2| > |Y| (where
        CG is unreliable), CG otherwise, switching to direct if a CG solve stalls. Problems with
        at most ``DENSE_MAX_VARS`` dual variables always use one dense solve. The path taken is
        recorded in ``info["linear_solver"]``.

    Notes
    -----
    On the dense path (one small problem), and on the direct path up to ``COMPILED_MAX_VARS``
    dual variables, the Newton steps of the first attempt run as one compiled loop (:mod:`._compiled`, numba): the same iteration, without numpy's per-call
    overhead, which was most of a small solve (8x8x8: 4.9 ms -> 1.3 ms). Its iterates are
    certified by the host like any other; one it cannot finish goes to the numpy attempts.
    ``info["compiled"]`` says which happened. The first small solve on a machine compiles the
    loop (10-20 s on this project's 2-core machine, cached on disk for later processes). Setting the environment variable
    ``PIDLAB_NATIVE_COMPILED=0`` turns the compiled loop off.

    Examples
    --------
    >>> import numpy as np
    >>> from pidlab._broja import BrojaProblem, certify
    >>> p = np.zeros((2, 2, 2)); p[0, 0, 0] = p[0, 1, 0] = p[1, 0, 0] = p[1, 1, 1] = 0.25  # AND
    >>> pr = BrojaProblem(p.sum(axis=1), p.sum(axis=0))
    >>> res = NativeSolver().solve(pr)
    >>> cert, q = certify(pr, res)
    >>> str(res.status), cert.gap <= 1e-9, round(cert.m_upper, 6)  # m* = I(X1;Y): U1 = U2 = 0
    ('optimal', True, 0.311278)
    """

    name = "native"
    priority = 0
    requires = ("numpy", "scipy")
    reference = (
        "pidlab native solver: primal-dual interior point (Mehrotra predictor-corrector) on the "
        "conditional-logit dual of Bertschinger et al. (2014), certified by the host's duality gap"
    )
    description = "pidlab's own interior-point solver (numpy/scipy), certified to 1e-9 bits"

    def availability(self) -> Availability:
        return Availability(True)

    def solve(  # type: ignore[override]  # named options instead of **options: unknown ones are refused
        self,
        problem: BrojaProblem,
        *,
        gap_tol: float = DEFAULT_GAP_TOL,
        max_iter: int = 100,
        time_limit: float | None = None,
        threads: int | None = 1,
        linear_solver: str = "auto",
    ) -> SolveResult:
        t0 = time.perf_counter()
        if not (gap_tol > 0):
            raise SolverError(
                f"the native solver's `gap_tol` must be a positive number of bits; got {gap_tol!r}. "
                "Use e.g. gap_tol=1e-9."
            )
        if linear_solver not in LINEAR_SOLVERS:
            raise SolverError(
                f"the native solver's `linear_solver` must be one of {', '.join(map(repr, LINEAR_SOLVERS))}; "
                f"got {linear_solver!r}."
            )
        with blas_threads(threads):  # the host's certificate functions called here too (np.dot)
            return self._solve(problem, gap_tol=gap_tol, max_iter=max_iter, time_limit=time_limit,
                               threads=threads, linear_solver=linear_solver, t0=t0)

    def estimate_resources(self, problem: BrojaProblem, *, linear_solver: str = "auto", time_limit: float | None = None,
                           **_: Any) -> tuple[float, float, str]:
        """Memory (bytes) and work (elementary operations) a solve of ``problem`` plans, and the
        Newton-system path, before anything is allocated (the host's size guard). A
        ``time_limit`` bounds the work, so the work estimate is then 0."""
        mem, work, path = resources(*problem.shape, linear_solver if linear_solver in LINEAR_SOLVERS else "auto")
        return mem, (0.0 if time_limit is not None else work), f"the native solver's {path} Newton-system path"

    def _solve(self, problem: BrojaProblem, *, gap_tol: float, max_iter: int, time_limit: float | None,
               threads: int | None, linear_solver: str, t0: float, reduce: bool = True) -> SolveResult:
        n1, n2, ny = problem.shape
        opts: dict[str, Any] = dict(gap_tol=gap_tol, max_iter=max_iter, time_limit=time_limit, threads=threads,
                                    linear_solver=linear_solver, t0=t0)
        if reduce:
            reduced = self._without_negligible_mass(problem, **opts)
            if reduced is not None:
                return reduced
        path = resolve_linear_solver(n1, n2, ny, linear_solver)
        if n2 > n1 and path != "dense":
            # The Newton systems eliminate the X1 side and keep a system in the X2 side: solve
            # with the larger source as X1 (smaller Schur complement; fewer pairs per eliminated
            # block than it has variables, which the iterative path needs) and swap back.
            res = self._solve(BrojaProblem(problem.p_x2y, problem.p_x1y), **opts, reduce=False)
            return dataclasses.replace(
                res,
                q=None if res.q is None else np.ascontiguousarray(res.q.transpose(1, 0, 2)),
                lam=res.mu,
                mu=res.lam,
                info={**res.info, "sources_swapped": True},
            )
        a = problem.p_x1y[None]
        b = problem.p_x2y[None]
        d = Batch.build(a, b)
        # The host's certificate also uses the trivial lower bound max(I(X1;Y), I(X2;Y)) and the
        # conditionally independent point; they close the bracket on their own in easy cases.
        best: dict[str, Any] = {"lb": -math.inf, "ub": math.inf, "lam": None, "mu": None, "q": None, "qp": None}
        triv_lb = max(problem.I_x1y, problem.I_x2y)
        ci_ub = objective_bits(problem.conditionally_independent())  # recomputed if it wins (memory)

        def check(idx: Any, lam: Arr, mu: Arr, q: Arr, mu_c: Arr) -> NDArray[np.bool_]:
            lb = dual_bound(problem, lam[0], mu[0])
            ub, qp = primal_bound(problem, q[0], max_iter=CHECK_POLISH_SWEEPS, repair_every=CHECK_REPAIR_EVERY)
            if lb > best["lb"]:
                best.update(lb=lb, lam=lam[0].copy(), mu=mu[0].copy())
            if ub < best["ub"]:
                # keep what regenerates q (pair weights and logits), not the table (memory), and
                # the polished table itself when it is small (no second polish at the end)
                best.update(ub=ub, q=(lam[0].copy(), mu[0].copy(), q[0].sum(axis=2)),
                            qp=qp if qp.size <= KEEP_POLISHED_MAX else None)
            return np.array([min(best["ub"], ci_ub) - max(best["lb"], triv_lb) <= gap_tol])

        total_iter = 0
        hit_limit = False
        compiled: str | None = None
        with blas_threads(threads):
            ls = linear_solver
            attempts = ATTEMPTS_CG if path == "cg" else ATTEMPTS
            if (path == "dense" or (path == "direct" and linear_solver == "auto"
                                    and (n1 + n2) * ny <= COMPILED_MAX_VARS)) and compiled_available() and (
                    time_limit is None or time.perf_counter() - t0 < time_limit):
                # One small problem: the first attempt's iteration compiled (numba). The host's
                # certificate still decides; if it does not close, the attempts below run as usual.
                n_it, certified = _compiled_attempt(d, check, *attempts[0], max_iter=max_iter,
                                                    check_below=min(1e-6, CHECK_BELOW_GAPS * gap_tol),
                                                    check_sure=CHECK_SURE_GAPS * gap_tol,
                                                    deadline=None if time_limit is None else t0 + time_limit)
                total_iter += n_it
                compiled = "certified" if certified else "handed to the numpy iteration"
                if certified:
                    attempts = ()
            for weighted, cap, eta in attempts:
                left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
                if left is not None and left <= 0:
                    hit_limit = True
                    break
                out = ip_iterate(d, max_iter=max_iter, time_limit=left, check=check,
                                 weighted=weighted, step_cap=cap, eta=eta, linear_solver=ls,
                                 check_below=min(1e-6, CHECK_BELOW_GAPS * gap_tol),
                                 check_sure=CHECK_SURE_GAPS * gap_tol)
                if out.linear != path and path != "dense":  # CG stalled: direct from here on
                    ls, path = "direct", f"{path}, then {out.linear}"
                total_iter += int(out.iterations[0])
                hit_limit |= int(out.iterations[0]) >= max_iter
                if best["q"] is None or best["lam"] is None:  # stopped before any check
                    check(None, out.lam, out.mu, out.q, np.zeros(1))
                if min(best["ub"], ci_ub) - max(best["lb"], triv_lb) <= gap_tol:
                    break
        if isinstance(best["q"], tuple) and best["qp"] is not None and \
                min(best["ub"], ci_ub) - max(best["lb"], triv_lb) <= gap_tol:
            best.update(q=best["qp"])  # the checked iterate's polished table, its value best["ub"]
        if isinstance(best["q"], tuple):
            lam_u, mu_u, w_u = best["q"]
            _, c_u = lse_softmax(lam_u[None], mu_u[None], d.A)
            c_u *= w_u[None, :, :, None]
            ub_u, q_u = primal_bound(problem, c_u[0], repair_every=CHECK_REPAIR_EVERY)
            if min(ub_u, ci_ub) - max(best["lb"], triv_lb) > gap_tol:  # the host's slower default polish
                ub_d, q_d = primal_bound(problem, c_u[0])
                if ub_d < ub_u:
                    ub_u, q_u = ub_d, q_d
            del c_u
            best.update(ub=ub_u, q=q_u)
        if ci_ub < best["ub"]:
            best.update(ub=ci_ub, q=problem.conditionally_independent())
        gap = best["ub"] - max(best["lb"], triv_lb)
        if gap <= gap_tol:
            status = Status.OPTIMAL
        elif hit_limit or (time_limit is not None and time.perf_counter() - t0 > time_limit):
            status = Status.ITERATION_LIMIT
        else:
            status = Status.OPTIMAL_INACCURATE
        return SolveResult(
            solver=self.name,
            status=status,
            q=best["q"],
            lam=best["lam"],
            mu=best["mu"],
            iterations=total_iter,
            solve_time=time.perf_counter() - t0,
            info={"gap_bits": float(gap), "m_lower": float(max(best["lb"], triv_lb)), "m_upper": float(best["ub"]),
                  "gap_tol": gap_tol, "method": "primal-dual interior point (Mehrotra), dual (lambda, mu)",
                  "linear_solver": path, **({"compiled": compiled} if compiled else {})},
        )


    def _without_negligible_mass(self, problem: BrojaProblem, **opts: Any) -> SolveResult | None:
        """Solve with marginal entries below a fraction of the largest set to zero, then certify
        the answer for the original problem; None if there is nothing to drop or no certificate
        closes.

        Entries of 1e-40 beside O(1) ones move m* by far less than 1e-9 bits but force dual
        variables of hundreds of nats, which the interior-point iteration (a step cap of a few
        nats) reaches slowly or not at all. The thresholds ``NEGLIGIBLE_MASS_STEPS`` (relative
        to the largest entry) are tried in turn, each only if it drops more than the previous
        one. The reduced problem's dual point is extended to the dropped cells with a large value
        (their constraints then hold with room to spare, at a cost of about mass × value), its
        primal point is polished onto the original marginals, and the gap is measured on the
        original problem: nothing is assumed.
        """
        a, b = problem.p_x1y, problem.p_x2y
        top = max(float(a.max()), float(b.max()))
        prev = -1
        for frac in NEGLIGIBLE_MASS_STEPS:
            drop_a = (a > 0) & (a < frac * top)
            drop_b = (b > 0) & (b < frac * top)
            n_drop = int(drop_a.sum() + drop_b.sum())
            if n_drop == 0 or n_drop == prev:
                continue
            prev = n_drop
            out = self._reduced(problem, drop_a, drop_b, **opts)
            if out is not None:
                return out
        return None

    def _reduced(self, problem: BrojaProblem, drop_a: NDArray[np.bool_], drop_b: NDArray[np.bool_],
                 **opts: Any) -> SolveResult | None:
        """One reduced solve of :meth:`_without_negligible_mass`: the certified result, or None."""
        a, b = problem.p_x1y, problem.p_x2y
        try:
            reduced = BrojaProblem(np.where(drop_a, 0.0, a), np.where(drop_b, 0.0, b))
        except Exception:  # dropping 1e-12 of the mass or less keeps the marginals consistent
            return None
        res = self._solve(reduced, **opts, reduce=False)
        if res.q is None or res.lam is None or res.mu is None:
            return None
        lam = np.array(res.lam, dtype=float)
        mu = np.array(res.mu, dtype=float)
        big = 50.0 + max(float(np.abs(lam).max(initial=0.0)), float(np.abs(mu).max(initial=0.0)))
        lam[drop_a] = big
        mu[drop_b] = big
        cert, q = certify(problem, dataclasses.replace(res, lam=lam, mu=mu))  # on the original problem
        if not cert.gap <= opts["gap_tol"]:
            return None
        return dataclasses.replace(
            res,
            status=Status.OPTIMAL,
            q=q,
            lam=lam,
            mu=mu,
            solve_time=time.perf_counter() - opts["t0"],
            info={**res.info, "gap_bits": cert.gap, "m_lower": cert.m_lower, "m_upper": cert.m_upper,
                  "negligible_entries_dropped": int(drop_a.sum() + drop_b.sum())},
        )


def compiled_available() -> bool:
    """Whether the compiled small-problem iteration (:mod:`._compiled`, numba) can be used;
    numba is imported on the first call, not with pidlab."""
    global _COMPILED
    if _COMPILED is None:
        from pidlab._solvers._native import _compiled

        _COMPILED = _compiled if _compiled.AVAILABLE and _compiled_enabled() else False
    return _COMPILED is not False


def _compiled_enabled() -> bool:
    import os

    return os.environ.get("PIDLAB_NATIVE_COMPILED", "1").strip().lower() not in ("0", "false", "no", "off")


_COMPILED: Any = None
#: The compiled iteration also takes the problems of the direct path with at most
#: ``COMPILED_MAX_VARS`` dual variables: its Cholesky factor skips the block-diagonal λλ part
#: and forms the same Schur complement in μ as the direct path (one BLAS product), without
#: numpy's per-call overhead. Measured (median of 15 solves, same Newton steps): 10x10x20
#: 20 -> 10-13 ms, 16x16x16 28 -> 19 ms, 20x20x10 21 -> 14 ms, 100x100x2 50 -> 25 ms,
#: 150x150x2 124 -> 93 ms, 30x30x10 59 -> 47 ms, 5x5x60 29 -> 25 ms; at 800 variables
#: (200x200x2, 20x20x20) the two were even and at 1000 (50x50x10) numpy was faster.
COMPILED_MAX_VARS = 640
#: Newton steps per call of the compiled iteration when a time limit is set (checked between calls).
COMPILED_CHUNK = 4
#: Scaling sweeps of the compiled iterate's table onto the marginals before the host's
#: certificate polishes it (:func:`._compiled.prepolish`), and their stopping tolerance (the
#: host's, ``polish_primal``'s default): the host's polish then finds the table on the marginals
#: after one sweep of its own instead of twenty and an exact repair.
PREPOLISH_SWEEPS = 200
PREPOLISH_TOL = 1e-14


def _disable_compiled() -> None:
    global _COMPILED
    _COMPILED = False


def _compiled_attempt(d: Batch, check: Any, weighted: bool, cap: float, eta: float, *, max_iter: int,
                      check_below: float, check_sure: float, deadline: float | None = None) -> tuple[int, bool]:
    """Run :func:`._compiled.advance` on the one problem of ``d`` from ``ip_iterate``'s starting
    point, checking each iterate it hands back with ``check`` (which keeps the best bounds).
    With a ``deadline`` (``time.perf_counter()`` value) it advances ``COMPILED_CHUNK`` steps at a
    time and stops at the deadline. Returns the Newton steps taken and whether ``check`` certified."""
    _compiled = _COMPILED
    n1, n2, ny = d.A.shape[1:]
    lam, mu = np.zeros((1, n1, ny)), np.zeros((1, n2, ny))
    w, s = np.zeros((1, n1, n2)), np.zeros((1, n1, n2))
    _compiled.initial_point(d.a[0], d.b[0], d.A[0], d.P[0], d.va[0], d.vbf[0], lam[0], mu[0], w[0], s[0])
    rho = central_path_weights(d, w, weighted)[0]
    state = np.array([0.0, np.inf, np.inf, 0.0, 0.0])
    c = np.zeros(d.A.shape[1:])
    while True:
        try:
            stop = max_iter if deadline is None else min(max_iter, int(state[0]) + COMPILED_CHUNK)
            code = _compiled.advance(d.a[0], d.b[0], d.A[0], d.P[0], d.va[0], d.vbf[0], lam[0], mu[0], w[0], s[0],
                                     rho, state, stop, check_below, check_sure, CHECK_FALL, cap, eta, c)
        except np.linalg.LinAlgError:  # Cholesky failed: the numpy iteration (LU fallback) takes over
            return int(state[0]), False
        except Exception:  # noqa: BLE001 - compilation or runtime failure: numpy from now on
            _disable_compiled()
            return int(state[0]), False
        if code == _compiled.SINGULAR or not (np.isfinite(lam).all() and np.isfinite(mu).all()):
            return int(state[0]), False
        late = deadline is not None and time.perf_counter() > deadline
        if code == _compiled.ITER_LIMIT and state[0] < max_iter and not late:
            continue  # a chunk ended: go on
        q = w[0][:, :, None] * c
        _compiled.prepolish(q, d.a[0], d.b[0], PREPOLISH_SWEEPS, PREPOLISH_TOL)  # saves the host's numpy sweeps
        if check(None, lam, mu, q[None], np.zeros(1))[0]:
            return int(state[0]), True
        if code != _compiled.CHECK or late:
            return int(state[0]), False


@hookimpl
def pidlab_register_solvers() -> list[type[Solver]]:
    return [NativeSolver]
