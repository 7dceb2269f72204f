"""The primal-dual interior-point iteration of the native method, on a stack of problems."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._solvers._native._factor import (
    _DenseFactor,
    _MatrixFreeFactor,
    _SchurFactor,
    _SchurFactorFast,
)
from pidlab._solvers._native._kernels import (
    FAST_SCHUR_MAX_KAPPA,
    STEP_CAP,
    SYRK_MAX_NY,
    Arr,
    Batch,
    _assemble,
    _dot_y,
    _maxstep,
    _merit,
    _pair_times,
    _sum_x1,
    _sum_x2,
    central_path_weights,
    initial_point,
    lse_softmax,
    outer_add,
    resolve_linear_solver,
)

__all__ = ["ip_iterate", "IPOut", "CHECK_FALL"]

#: See ``check_sure`` of :func:`ip_iterate`: near the optimum a Mehrotra step cuts the
#: complementarity by 10-1000x; a fall by less than this factor means progress is slowing and the
#: current iterate is checked.
CHECK_FALL = 0.1

@dataclass
class IPOut:
    lam: Arr
    mu: Arr
    q: Arr  # w * softmax, unpolished
    iterations: NDArray[np.int64]
    linear: str = "dense"  # Newton-system path at the end ("cg" may have fallen back to "direct")


def ip_iterate(
    d: Batch,
    *,
    max_iter: int = 100,
    time_limit: float | None = None,
    check: Any = None,
    dense: bool | None = None,
    t_start: float | None = None,
    weighted: bool = True,
    step_cap: float | None = None,
    check_below: float = 1e-6,
    eta: float = 0.999,
    linear_solver: str | None = None,
    check_sure: float | None = None,
) -> IPOut:
    """Run the interior-point iterations on a stack of problems.

    ``check(idx, lam, mu, q, mu_c)`` is called with the items whose complementarity has fallen
    below ``check_below`` nats; it returns a boolean array saying which of them are certified (and stores
    what it needs). Certified items leave the iteration. With ``check_sure`` an item between
    ``check_sure`` and ``check_below`` is checked only when its complementarity fell by less than
    ``CHECK_FALL`` in the last step (a check, which polishes the iterate, costs a few Newton
    steps on small problems; while the complementarity still falls fast the next iterate is the
    one worth checking).
    """
    t0 = time.perf_counter() if t_start is None else t_start
    N, n1, n2, ny = d.A.shape
    linear = "dense" if dense or (dense is None and N > 1) else resolve_linear_solver(n1, n2, ny, linear_solver)
    lam, mu, w, s = initial_point(d)
    rho = central_path_weights(d, w, weighted)
    best_prog = np.full(N, np.inf)
    stuck = np.zeros(N, dtype=np.int64)
    use_merit = np.zeros(N, dtype=bool)
    lse, c = lse_softmax(lam, mu, d.A)
    out_lam, out_mu = lam.copy(), mu.copy()
    out_q: Arr | None = None  # allocated when the first item finishes (peak memory)

    def store(g: NDArray[np.intp], sel: Any, lam_: Arr, mu_: Arr, w_: Arr, c_: Arr) -> None:
        nonlocal out_q
        out_lam[g], out_mu[g] = lam_[sel], mu_[sel]
        qg = _pair_times(w_[sel], c_[sel])
        if out_q is None and g.size == N:
            out_q = qg
            return
        if out_q is None:
            out_q = np.zeros((N, n1, n2, ny))
        out_q[g] = qg

    iters = np.zeros(N, dtype=np.int64)
    prev_mu = np.full(N, np.inf)
    active = np.arange(N)
    cur = d
    for it in range(max_iter + 1):
        P = cur.P
        mu_c = np.where(P, w * s, 0.0).sum(axis=(1, 2))  # complementarity gap (nats); Σ rho = 1
        # residuals: primal (marginals) and dual (lse + s)
        rp = np.where(P, lse + s, 0.0)
        bad = ~(np.isfinite(mu_c) & np.isfinite(lam).all(axis=(1, 2)) & np.isfinite(mu).all(axis=(1, 2)))
        # stalled: complementarity at rounding level
        stall = (mu_c < 1e-18) | bad | (stuck >= 25)
        stop_all = it == max_iter or (time_limit is not None and time.perf_counter() - t0 > time_limit)
        # items worth certifying (an item leaving the iteration is checked too: its bounds count)
        cand = (mu_c < check_below) | stall | stop_all
        if check_sure is not None:
            cand &= (mu_c < check_sure) | (mu_c > CHECK_FALL * prev_mu) | stall | stop_all
        prev_mu = mu_c
        finished = np.zeros(active.size, dtype=bool)
        if cand.any() and check is not None:
            ci = np.nonzero(cand & ~bad)[0]
            if ci.size:
                sel = slice(None) if ci.size == active.size else ci  # no copy of c for one item
                ok = check(active[ci], lam[sel], mu[sel], _pair_times(w[sel], c[sel]), mu_c[sel])
                finished[ci[ok]] = True
        finished |= stall
        if stop_all:
            finished[:] = True
        if finished.any():
            fi = np.nonzero(finished)[0]
            g = active[fi]
            store(g, slice(None) if fi.size == active.size else fi, lam, mu, w, c)
            iters[g] = it
            keep = np.nonzero(~finished)[0]
            if keep.size == 0:
                break
            active = active[keep]
            cur = cur.take(keep)
            lam, mu, w, s, lse, c, rp, mu_c, rho, best_prog, prev_mu = (
                x[keep] for x in (lam, mu, w, s, lse, c, rp, mu_c, rho, best_prog, prev_mu))
            stuck, use_merit = stuck[keep], use_merit[keep]
            P = cur.P
        fac: Any = None  # free the previous step's factorisation before building the next (peak memory)
        try:
            if linear == "dense":
                fac = _DenseFactor(cur, *_assemble(cur, w, s, c), c)
            elif linear == "cg":
                fac = _MatrixFreeFactor(cur, w, s, c)
            else:
                Mll, Mmm, qq, kc = _assemble(cur, w, s, c)
                # With few target symbols the one SYRK (|X1||X2|²|Y|³ in BLAS-3) is cheaper than
                # the O(n⁵) formation (|X1||X2|²|Y| elementwise numpy work) and always accurate.
                if ny > SYRK_MAX_NY and float(np.abs(kc).max(initial=0.0)) <= FAST_SCHUR_MAX_KAPPA:
                    try:
                        fac = _SchurFactorFast(cur, Mll, Mmm, qq, kc, c)
                    except np.linalg.LinAlgError:
                        fac = _SchurFactor(cur, Mll, Mmm, qq, kc, c)
                else:
                    fac = _SchurFactor(cur, Mll, Mmm, qq, kc, c)
                del Mll, Mmm, qq, kc
        except np.linalg.LinAlgError:  # pragma: no cover - numerically singular: keep the best point
            store(active, slice(None), lam, mu, w, c)
            iters[active] = it
            break

        def direction(t: Arr) -> tuple[Arr, Arr, Arr, Arr]:
            # M dz = -g0 - J^T v with v = t/s + w rp / s and J^T v = -Σ v c
            v = np.where(P, (t + w * rp) / s, 0.0)
            rl = np.where(cur.va, _sum_x2(v, c) - cur.a, 0.0)
            rm = np.where(cur.vbf, _sum_x1(v, c) - cur.b, 0.0)
            sol = fac.solve(rl, rm)
            dl = np.where(cur.va, sol[0], 0.0)
            dm = np.where(cur.vbf, sol[1], 0.0)
            cz = _dot_y(c, dl, dm)
            ds = np.where(P, -rp + cz, 0.0)
            if len(sol) > 2:
                # T = kappa c.z from the solver (accurate where kappa is huge):
                # (t - w s - w ds)/s = (t + w rp)/s - w - (w/s) cz and (w/s) cz = T + w cz
                dw = np.where(P, (t + w * rp) / s - w - sol[2] - w * cz, 0.0)
            else:
                dw = np.where(P, (t - w * s - w * ds) / s, 0.0)
            return dl, dm, ds, dw

        dl, dm, ds, dw = direction(np.zeros_like(w))
        aa = np.minimum(_maxstep(w, dw, P), _maxstep(s, ds, P))
        mu_aff = np.where(P, (w + aa[:, None, None] * dw) * (s + aa[:, None, None] * ds), 0.0).sum(axis=(1, 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma = np.clip(np.where(mu_c > 0, mu_aff / mu_c, 0.0), 0.0, 1.0) ** 3
        t = np.where(P, sigma[:, None, None] * mu_c[:, None, None] * rho - dw * ds, 0.0)
        dl, dm, ds, dw = direction(t)
        if linear == "cg" and fac.failed and linear_solver in (None, "auto"):
            linear = "direct"  # CG stalled on this problem: factorise from the next step on
        fac = None  # the line search below allocates table-sized arrays: free the factor first
        alpha = eta * np.minimum(_maxstep(w, dw, P), _maxstep(s, ds, P))
        # trust region on the logits: the linearised slack is only trusted for moderate moves
        du = outer_add(dl, dm)
        np.abs(du, out=du)
        np.putmask(du, ~cur.A, 0.0)
        du = du.reshape(alpha.size, -1).max(axis=1)
        alpha = np.minimum(alpha, (step_cap or STEP_CAP) / np.maximum(du, 1e-300))
        # Globalisation: backtrack until the residual of the perturbed KKT system (target
        # complementarity tc) decreases (Armijo on its squared norm; the Newton direction is a
        # descent direction for it).
        tc = np.where(P, sigma[:, None, None] * mu_c[:, None, None] * rho, 0.0)
        # Plain (trust-region capped) steps are fastest and best on extreme dynamic ranges;
        # items that stop making progress switch to the merit line search for good.
        prog = _merit(cur, lse, c, w, s, np.zeros_like(tc), rho)
        improved = prog < 0.25 * best_prog
        best_prog = np.where(improved, prog, best_prog)
        stuck = np.where(improved, 0, stuck + 1)
        use_merit |= stuck >= 6
        todo = np.nonzero(use_merit)[0]
        if todo.size:
            phi0 = np.full(alpha.size, np.inf)
            sub0 = cur.take(todo)
            phi0[todo] = _merit(sub0, lse[todo], c[todo], w[todo], s[todo], tc[todo], rho[todo])
        new = [lam + alpha[:, None, None] * dl, mu + alpha[:, None, None] * dm,
               np.where(P, w + alpha[:, None, None] * dw, 0.0), np.where(P, s + alpha[:, None, None] * ds, 1.0),
               None, None]
        if todo.size < alpha.size:
            new[4], new[5] = lse_softmax(new[0], new[1], cur.A)
        else:
            new[4], new[5] = lse.copy(), c.copy()
        for _ in range(40 if todo.size else 0):
            a3 = alpha[todo][:, None, None]
            lam_t = lam[todo] + a3 * dl[todo]
            mu_t = mu[todo] + a3 * dm[todo]
            Pt = P[todo]
            w_t = np.where(Pt, w[todo] + a3 * dw[todo], 0.0)
            s_t = np.where(Pt, s[todo] + a3 * ds[todo], 1.0)
            sub = cur.take(todo)
            lse_t, c_t = lse_softmax(lam_t, mu_t, sub.A)
            phi = _merit(sub, lse_t, c_t, w_t, s_t, tc[todo], rho[todo])
            ok = phi <= (1.0 - 1e-4 * alpha[todo]) * phi0[todo]
            ok |= ~np.isfinite(phi0[todo])
            acc = todo[ok] if _ < 39 else todo
            sel = ok if _ < 39 else np.ones_like(ok)
            for arr, val in zip(new, (lam_t, mu_t, w_t, s_t, lse_t, c_t)):
                arr[acc] = val[sel]
            todo = todo[~sel]
            if todo.size == 0:
                break
            alpha[todo] *= 0.5
        lam, mu, w, s, lse, c = new
    assert out_q is not None  # every item is stored before the loop ends
    return IPOut(out_lam, out_mu, out_q, iters, linear)
