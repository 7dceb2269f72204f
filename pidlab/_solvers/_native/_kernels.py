"""Kernels of the native solver: constants, the static data of a stack of problems, the
starting point, the Newton blocks and the small vectorised products (numpy only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Batch", "lse_softmax", "initial_point", "blas_threads", "resolve_linear_solver", "resources",
           "DEFAULT_GAP_TOL", "DENSE_MAX_VARS"]


#: Default target width (bits) of the certified bracket on m*.
DEFAULT_GAP_TOL = 1e-9
#: Marginal entries below this fraction of the largest are first dropped (the answer is then
#: certified on the original problem; see NativeSolver._without_negligible_mass).
NEGLIGIBLE_MASS = 1e-20
#: If that reduced problem does not certify, these coarser thresholds are tried in turn before the
#: full problem. Dropping entries of 1e-14..1e-12 of the largest moves m* by about 1e-11 bits,
#: inside the 1e-9 target, and removes the rows and cells whose dual values the interior point
#: reaches only with tiny steps (measured on 2,000 Dirichlet(0.01) and 1e-300..1 tables:
#: 1e-14 certifies 11 of the 16 tables 1e-20 left, 1e-12 four of the other five).
NEGLIGIBLE_MASS_STEPS: tuple[float, ...] = (NEGLIGIBLE_MASS, 1e-14, 1e-12)
#: Assemble the full Newton system (batched dense solve) up to this many dual variables.
DENSE_MAX_VARS = 160
#: Largest Schur complement (entries, (|X2||Y|)²) factorised directly: 2 MiB. Larger problems
#: use the matrix-free conjugate-gradient path, whose memory is O(|X1||X2||Y|).
DIRECT_MAX_ENTRIES = 1 << 18
LINEAR_SOLVERS = ("auto", "direct", "cg")
#: Largest change (nats) of any logit -λ-μ in one Newton step.
STEP_CAP = 4.0
#: Largest pair weight κ = w/s - w for which the O(n⁵) Schur formation is accurate enough.
FAST_SCHUR_MAX_KAPPA = 1e5
#: Up to this many target symbols the direct path always forms the Schur complement by one SYRK
#: (:class:`._factor._SchurFactor`): with few target symbols it is cheaper than the O(n⁵)
#: formation (measured: 200x200x2 Newton steps 0.04 s instead of 0.25 s; 100x100x10 2.5 s
#: instead of 3.1 s in all; 40x40x20 1.0 s instead of 0.7 s).
SYRK_MAX_NY = 12
#: Settings tried in turn until the gap is certified:
#: (weighted central path, step cap in nats, fraction of the step to the boundary).
ATTEMPTS: tuple[tuple[bool, float, float], ...] = (
    (True, 4.0, 0.999), (True, 4.0, 0.99), (False, 20.0, 0.99), (False, 4.0, 0.99), (True, 1.0, 0.99),
)
#: The same for the conjugate-gradient path, which starts farther from the boundary: its Newton
#: directions are exact only up to the CG residual, and a slack pushed to 1e-3 of its value by a
#: 0.999 step can jam the next steps (measured: 10 Newton steps instead of 17-20 on some tables).
ATTEMPTS_CG: tuple[tuple[bool, float, float], ...] = (
    (True, 4.0, 0.99), (True, 4.0, 0.999), (False, 20.0, 0.99), (False, 4.0, 0.99), (True, 1.0, 0.99),
)

Arr = NDArray[np.float64]
BArr = NDArray[np.bool_]

#: Up to this many target symbols, elementwise operations and reductions along the target axis
#: (the last, contiguous one) go one y-slice at a time. numpy's inner loops then run over the
#: pairs instead of over |Y| entries: measured on a 400x400x2 table, a sum over y 0.1 ms instead
#: of 6 ms, a max 0.1 ms instead of 15 ms, the broadcast λ+μ 0.4 ms instead of 4-6 ms.
Y_SLICES_MAX = 16
#: ... and only when there are at least this many (item, x1, x2) pairs per target symbol: each
#: slice costs a few µs of call overhead (measured: a 16x16x16 cube 42 ms instead of 22 ms when
#: sliced).
Y_SLICES_MIN_PAIRS = 256


def by_slices(size: int, ny: int) -> bool:
    """Whether an array of ``size`` entries with a last (target) axis of ``ny`` goes slice by slice."""
    return 0 < ny <= Y_SLICES_MAX and size >= Y_SLICES_MIN_PAIRS * ny * ny


def y_reduce(ufunc: np.ufunc, e: Arr) -> Arr:
    """``ufunc.reduce(e, axis=-1)`` (a new array), slice by slice when |Y| is small."""
    ny = e.shape[-1]
    if not by_slices(e.size, ny):
        return np.asarray(ufunc.reduce(e, axis=-1))
    out = e[..., 0].copy()
    for k in range(1, ny):
        ufunc(out, e[..., k], out=out)
    return out


def y_apply(ufunc: np.ufunc, e: Arr, v: Arr) -> Arr:
    """``e = ufunc(e, v[..., None])`` in place (v has e's shape without its last axis)."""
    ny = e.shape[-1]
    if not by_slices(e.size, ny):
        ufunc(e, v[..., None], out=e)
        return e
    for k in range(ny):
        ek = e[..., k]
        ufunc(ek, v, out=ek)
    return e


def outer_add(lam: Arr, mu: Arr) -> Arr:
    """``lam[:, :, None, :] + mu[:, None, :, :]`` of shape (N, n1, n2, ny)."""
    N, n1, ny = lam.shape
    if not by_slices(N * n1 * mu.shape[1] * ny, ny):
        return np.add(lam[:, :, None, :], mu[:, None, :, :])
    out = np.empty((N, n1, mu.shape[1], ny))
    for k in range(ny):
        np.add(lam[:, :, None, k], mu[:, None, :, k], out=out[..., k])
    return out


def lse_softmax(lam: Arr, mu: Arr, A: BArr) -> tuple[Arr, Arr]:
    """Per pair log-sum-exp and softmax over the support of ``-lam[x1,y] - mu[x2,y]``.

    Shapes: ``lam (N, n1, ny)``, ``mu (N, n2, ny)``, ``A (N, n1, n2, ny)``; returns
    ``lse (N, n1, n2)`` (0 on empty pairs) and ``c (N, n1, n2, ny)`` (0 off the support).
    Works in place in the one table-sized array it returns.
    """
    e = outer_add(lam, mu)
    np.negative(e, out=e)
    np.putmask(e, ~A, -np.inf)
    mx = y_reduce(np.maximum, e)
    has = np.isfinite(mx)
    mx0 = np.where(has, mx, 0.0)
    y_apply(np.subtract, e, mx0)
    np.exp(e, out=e)  # exp(-inf) = 0 off the support
    Z = y_reduce(np.add, e)
    Zs = np.where(has, Z, 1.0)
    y_apply(np.divide, e, Zs)
    lse = np.where(has, mx0 + np.log(Zs), 0.0)
    return lse, e


@dataclass
class Batch:
    """Static data of a stack of problems of one shape (leading axis N)."""

    a: Arr  # (N, n1, ny)
    b: Arr  # (N, n2, ny)
    A: BArr  # (N, n1, n2, ny) support
    P: BArr  # (N, n1, n2) pairs with a non-empty support
    va: BArr  # (N, n1, ny) lambda variables
    vbf: BArr  # (N, n2, ny) free mu variables (support minus one pinned x2 per y)
    npairs: Arr  # (N,)

    @classmethod
    def build(cls, a: Arr, b: Arr) -> Batch:
        A = (a[:, :, None, :] > 0) & (b[:, None, :, :] > 0)
        P = np.asarray(A.any(axis=3))
        va = a > 0
        vb = b > 0
        pin = np.zeros_like(vb)
        arg = np.argmax(b, axis=1)  # (N, ny): the largest p(x2, y) of each y is pinned
        np.put_along_axis(pin, arg[:, None, :], True, axis=1)
        pin &= vb
        return cls(a, b, A, P, va, np.asarray(vb & ~pin), np.maximum(P.sum(axis=(1, 2)), 1).astype(float))

    def take(self, idx: NDArray[np.intp]) -> Batch:
        return Batch(self.a[idx], self.b[idx], self.A[idx], self.P[idx], self.va[idx], self.vbf[idx],
                      self.npairs[idx])


def initial_point(d: Batch) -> tuple[Arr, Arr, Arr, Arr]:
    """Start at the conditionally independent point: primal and dual feasible, ``s >= 1``.

    Returns ``lam, mu, w, s``.
    """
    a, b = d.a, d.b
    py = a.sum(axis=1)  # (N, ny)
    with np.errstate(divide="ignore"):
        la = np.where(d.va, -np.log(np.where(d.va, a, 1.0)), 0.0)
        lb = np.where(b > 0, -np.log(np.where(b > 0, b, 1.0)), 0.0)
        lpy = np.log(np.where(py > 0, py, 1.0))
    # -lam - mu = log a + log b - log p(y): q(y|x1,x2) of the CI point. Move the pinned mu to 0.
    pinned = (b > 0) & ~d.vbf
    off = np.where(pinned, lb, 0.0).sum(axis=1)  # (N, ny)
    lam = np.where(d.va, la + lpy[:, None, :] + off[:, None, :], 0.0)
    mu = np.where(d.vbf, lb - off[:, None, :], 0.0)
    lse, _ = lse_softmax(lam, mu, d.A)
    sh = np.where(d.P, lse, -np.inf).max(axis=2)
    sh = np.where(np.isfinite(sh), sh, 0.0) + 1.0
    lam = np.where(d.va, lam + sh[:, :, None], 0.0)
    lse, _ = lse_softmax(lam, mu, d.A)
    s = np.where(d.P, -lse, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(py > 0, 1.0 / py, 0.0)
    w = np.where(d.P, np.einsum("nxy,nzy,ny->nxz", a, b, inv), 0.0)
    w = np.where(d.P, np.maximum(w, 1e-300), 0.0)
    return lam, mu, w, s


def central_path_weights(d: Batch, w: Arr, weighted: bool) -> Arr:
    """Per-item weights ``rho`` of the central path ``w s = tau rho`` (summing to 1): the starting
    pair masses ``w`` (pairs of tiny probability get proportionally tiny complementarity targets:
    scale invariance), or uniform over the pairs."""
    rho = w if weighted else np.where(d.P, 1.0, 0.0)
    return np.asarray(rho / np.maximum(rho.sum(axis=(1, 2), keepdims=True), 1e-300))


def _assemble(d: Batch, w: Arr, s: Arr, c: Arr) -> tuple[Arr, Arr, Arr, Arr]:
    """Diagonal blocks of the Newton matrix ``Σ_pairs w ∇²ℓ + (w/s) ∇ℓ∇ℓᵀ`` in (λ, μ).

    Every pair contributes ``K = diag(q_pair) + κ c cᵀ`` (``κ = w/s - w``) to the blocks
    (λ[x1], λ[x1]), (λ[x1], μ[x2]), (μ[x2], μ[x2]). Returns ``Mll (N,n1,ny,ny)``,
    ``Mmm (N,n2,ny,ny)`` (gauge and absent variables replaced by identity rows), ``q`` and
    ``kc = κ c``, from which the coupling block (λ[x1], μ[x2]) is formed on demand.
    """
    ny = c.shape[3]
    ar = np.arange(ny)
    q = _pair_times(w, c)
    kap = np.where(d.P, w * (1.0 / s - 1.0), 0.0)
    kc = _pair_times(kap, c)  # (N, n1, n2, ny)
    Mll = c.transpose(0, 1, 3, 2) @ kc  # (N, n1, ny, ny)
    Mll[:, :, ar, ar] += _sum_x2(w, c)  # Σ_x2 q
    Mmm = c.transpose(0, 2, 3, 1) @ kc.transpose(0, 2, 1, 3)  # (N, n2, ny, ny)
    Mmm[:, :, ar, ar] += q.sum(axis=1)
    Mll *= d.va[:, :, :, None]
    Mll *= d.va[:, :, None, :]
    Mll[:, :, ar, ar] += ~d.va
    Mmm *= d.vbf[:, :, :, None]
    Mmm *= d.vbf[:, :, None, :]
    Mmm[:, :, ar, ar] += ~d.vbf
    return Mll, Mmm, q, kc


@contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Limit BLAS threads to ``n`` inside the block (no-op when ``n`` is None or threadpoolctl
    is missing)."""
    if n is None:
        yield
        return
    global _CONTROLLER, _ACTIVE_LIMIT
    if _CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - optional
            _CONTROLLER = False
        else:
            import scipy.linalg  # noqa: F401  (load scipy's own BLAS first so it is controlled too)

            _CONTROLLER = ThreadpoolController()  # scanning the loaded libraries costs ms: once
    if _CONTROLLER is False or _ACTIVE_LIMIT == int(n):  # threadpoolctl missing, or already limited to n here
        yield
        return
    outer = _ACTIVE_LIMIT
    with _CONTROLLER.limit(limits=int(n), user_api="blas"):
        _ACTIVE_LIMIT = int(n)
        try:
            yield
        finally:
            _ACTIVE_LIMIT = outer


_CONTROLLER: Any = None
#: The limit of the innermost active ``blas_threads`` block (None outside any): a nested block with
#: the same limit does not query and reset every BLAS library again (a few hundred µs each time,
#: several times per small solve).
_ACTIVE_LIMIT: int | None = None


def resolve_linear_solver(n1: int, n2: int, ny: int, linear_solver: str | None = "auto") -> str:
    """The Newton-system path (``"dense"``, ``"direct"`` or ``"cg"``) that ``linear_solver``
    means for one problem of shape (n1, n2, ny)."""
    if (n1 + n2) * ny <= DENSE_MAX_VARS:
        return "dense"
    if linear_solver in (None, "auto"):
        # The iterative path eliminates each x1 block exactly, which stays well-conditioned while
        # an x1 has at most about |Y| active pairs: guaranteed in spirit when |X2| <= |Y| (the
        # solver orients the problem so that |X2| <= |X1|). With |X2| > |Y| an x1 can carry more
        # active pairs than its |Y| variables, and CG stalls (measured: 48x48x12 tables needed
        # 400 CG iterations per Newton step); the direct path is used there.
        return "direct" if (n2 * ny) ** 2 <= DIRECT_MAX_ENTRIES or n2 > ny else "cg"
    return linear_solver


#: Newton steps assumed by :func:`resources` (10 to 30 are typical; retries are not counted).
ESTIMATE_STEPS = 30
#: A floating-point operation inside BLAS-3 (products, SYRK, Cholesky) counted as this many
#: elementary operations (pidlab._limits counts vectorised numpy steps, several times slower).
BLAS_WEIGHT = 0.25


def resources(n1: int, n2: int, ny: int, linear_solver: str | None = "auto") -> tuple[float, float, str]:
    """Memory (bytes), work (elementary operations) and Newton-system path the native solver
    plans for one problem of shape (n1, n2, ny), its own checks of the iterates included (the
    host's final certificate is added by :func:`pidlab._solvers.check_size`); nothing is allocated.

    Calibrated against tracemalloc peaks and timings (benchmarks/results/broja.md): the dense
    path is a few dozen tables; the direct path adds the Schur complement ``(|X2||Y|)²`` (a dozen
    copies of it at the peak), the ``|X1||Y| x |X2||Y|`` elimination block and, when
    |Y| > ``SYRK_MAX_NY``, the ``|X1||X2|²`` Gram array of the O(n⁵) formation (measured with one
    SYRK: 300x300x2 peaked at 32 MiB, estimate 91 MiB; 500x500x2 at 69 MiB, estimate 252 MiB);
    the matrix-free path about a dozen tables plus its per-row blocks. Work per Newton step: the Schur formation (elementwise ``8|X1||X2|²|Y|``;
    products ``2|X1||X2|²|Y|²``, the SYRK ``|X1||X2|²|Y|³`` near the optimum and the Cholesky,
    weighted ``BLAS_WEIGHT``); for CG about 200 table sweeps. Measured (2 shared cores): 64x64x64
    (cg, estimate 30 MiB) peaked at 29 MiB; 500x500x2 (direct, before the SYRK-only formation for
    small |Y|: estimate 1.2 GiB) at 1.0 GiB.
    """
    if n2 > n1:  # the solver orients the sources so that |X2| <= |X1|
        n1, n2 = n2, n1
    path = resolve_linear_solver(n1, n2, ny, linear_solver)
    T = float(n1) * n2 * ny
    K2 = float(n2) * ny
    if path == "dense":
        K = float(n1 + n2) * ny
        mem = 8.0 * (40.0 * T + 4.0 * K * K)
        work = ESTIMATE_STEPS * (40.0 * T + K**3)
    elif path == "direct" and ny <= SYRK_MAX_NY:  # one SYRK per step, no Gram array
        mem = 8.0 * (40.0 * T + 12.0 * K2 * K2 + float(n1) * ny * K2)
        blas = float(n1) * ny * K2 * K2 + K2**3 / 3.0  # SYRK, Cholesky
        work = ESTIMATE_STEPS * (40.0 * T + 4.0 * float(n1) * ny * K2 + BLAS_WEIGHT * blas)
    elif path == "direct":
        gram = float(n1) * n2 * n2
        mem = 8.0 * (40.0 * T + 12.0 * K2 * K2 + gram + T * ny)
        blas = gram * ny * ny * (2.0 + ny) + K2**3 / 3.0  # matrix products, SYRK, Cholesky
        work = ESTIMATE_STEPS * (40.0 * T + 8.0 * gram * ny + BLAS_WEIGHT * blas)
    else:
        mem = 8.0 * (12.0 * T + float(n1) * (ny * ny + n2 * n2) + float(n2) * ny * ny)
        work = ESTIMATE_STEPS * (200.0 * T + float(n1) * n2 * ny * (n2 + ny))
    return mem, work, path


def _maxstep(x: Arr, dx: Arr, mask: BArr) -> Arr:
    """Largest step in [0, 1] keeping ``x + t dx >= 0`` on ``mask``, per item."""
    neg = mask & (dx < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(neg, -x / np.where(neg, dx, -1.0), np.inf)
    return np.minimum(1.0, r.reshape(r.shape[0], -1).min(axis=1))


# Products of pair quantities (N, n1, n2) with the softmax c (N, n1, n2, ny). A single large
# problem goes through einsum (no table-sized temporary); stacks of small problems (the batch
# path) through broadcasting, which is faster there.
def _pair_times(w: Arr, c: Arr) -> Arr:
    """``w[..., None] * c`` (one new table-sized array)."""
    return y_apply(np.multiply, c.copy(), w)


def _sum_x2(v: Arr, c: Arr) -> Arr:
    """``Σ_x2 v c`` of shape (N, n1, ny)."""
    if by_slices(c.size, c.shape[-1]):
        return np.stack([np.einsum("nia,nia->ni", v, c[..., k]) for k in range(c.shape[-1])], axis=-1)
    if c.shape[0] == 1:
        return np.einsum("nia,niau->niu", v, c)
    return (v[..., None] * c).sum(axis=2)


def _sum_x1(v: Arr, c: Arr) -> Arr:
    """``Σ_x1 v c`` of shape (N, n2, ny)."""
    if by_slices(c.size, c.shape[-1]):
        return np.stack([np.einsum("nia,nia->na", v, c[..., k]) for k in range(c.shape[-1])], axis=-1)
    if c.shape[0] == 1:
        return np.einsum("nia,niau->nau", v, c)
    return (v[..., None] * c).sum(axis=1)


def _dot_y(c: Arr, dl: Arr, dm: Arr) -> Arr:
    """``Σ_y c (dl[x1] + dm[x2])`` per pair."""
    if by_slices(c.size, c.shape[-1]):
        z = outer_add(dl, dm)
        z *= c
        return y_reduce(np.add, z)
    if c.shape[0] == 1:
        return np.einsum("niau,niu->nia", c, dl) + np.einsum("niau,nau->nia", c, dm)
    return (c * (dl[:, :, None, :] + dm[:, None, :, :])).sum(axis=3)


def _merit(d: Batch, lse: Arr, c: Arr, w: Arr, s: Arr, tc: Arr, rho: Arr) -> Arr:
    """Squared norm of the KKT residual (marginals, dual slack, complementarity) per item."""
    ra = np.where(d.va, d.a - _sum_x2(w, c), 0.0)
    rb = np.where(d.vbf, d.b - _sum_x1(w, c), 0.0)
    sr = np.sqrt(np.maximum(rho, 1e-300))
    rp = np.where(d.P, (lse + s) * sr, 0.0)
    rc = np.where(d.P, (w * s - tc) / sr, 0.0)
    return (ra**2).sum(axis=(1, 2)) + (rb**2).sum(axis=(1, 2)) + (rp**2).sum(axis=(1, 2)) + (rc**2).sum(axis=(1, 2))
