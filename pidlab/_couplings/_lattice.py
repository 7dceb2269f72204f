"""A coupling within one bit of the majorisation meet (Cicalese, Gargano & Vaccaro 2019).

Construction (the guarantee of Cicalese, Gargano & Vaccaro, "Minimum-entropy couplings and
their applications", IEEE Trans. Inf. Theory 2019: every meet atom ``z_i`` is realised by at
most two cells, hence ``H(M) <= H(z) + Σ_i z_i h(θ_i) <= H(p∧q) + 1``). pidlab implements it as
follows (written from the guarantee; see Notes for the invariant that makes it work).

Sort ``p`` and ``q`` decreasingly, pad to length ``n``, and let ``z = p∧q`` with partial sums
``Z``. Process levels ``i = n, ..., 2`` on residual vectors ``a`` (rows) and ``b`` (columns),
initially ``p`` and ``q``:

* put ``min(a_i, b_i)`` on the cell (row ``i``, column ``i``);
* the surplus ``d = |a_i - b_i|`` of the larger one (say column ``i``) still needs rows: let
  ``D_j = A_j - B_j`` and ``[k, i-1]`` the longest run ending at ``i - 1`` with ``D_j >= d``;
  put ``d`` on the cell (row ``k``, column ``i``) and set ``a_k -= d``;
* finally put ``a_1 = b_1`` on cell (1, 1).

Notes
-----
Invariant: ``min(A_j, B_j) = Z_j`` for every remaining position ``j`` (positional partial
sums, no re-sorting). It holds at the start; at level ``i`` it gives
``max(a_i, b_i) = Z_i - Z_{i-1} = z_i``, so the level's two cells ``min(a_i,b_i)`` and ``d``
sum to ``z_i``. Subtracting ``d`` from ``A_j`` on ``[k, i-1]`` keeps ``A_j - d >= B_j = Z_j``
there. And ``a_k >= d`` always: ``k = 1`` gives ``a_1 = D_1 + b_1 >= d``; otherwise
``D_{k-1} < d <= D_k`` and ``a_k >= z_k >= z_i >= d`` (if ``D_{k-1} >= 0`` then ``z_k = b_k``
and ``a_k = b_k + D_k - D_{k-1} > b_k``; if ``D_{k-1} < 0`` then ``a_k = z_k + D_k``), using
that ``z`` is non-increasing and ``d <= max(a_i, b_i) = z_i``.
The run search and update make it ``O(n^2)`` in the worst case, and random inputs come close
to that (about 0.5 s at n = 10^4 and 13 s at 10^5 on the development machine): use ``greedy``
for large supports.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from pidlab._contracts import Coupling
from pidlab._couplings._meet import check_size_limit
from pidlab.exceptions import ParameterError, ProblemTooLargeError

__all__ = ["LatticeCoupling", "lattice_sorted", "LATTICE_MAX_N"]

#: largest number of positive atoms (of the longer marginal) the lattice coupling accepts by default
LATTICE_MAX_N = 200_000


def lattice_sorted(p: NDArray[np.float64], q: NDArray[np.float64]) -> tuple[list[NDArray[np.int64]], NDArray[np.float64]]:
    """CGV-type coupling of positive atoms sorted decreasingly; cells in sorted positions."""
    n = max(p.size, q.size)
    a = np.zeros(n)
    b = np.zeros(n)
    a[: p.size] = p
    b[: q.size] = q
    # G_j = A_j - B_j over positions 0..n-1 (0-based); kept up to date on the live prefix
    G = np.cumsum(a) - np.cumsum(b)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    scale = 8 * np.finfo(float).eps
    for i in range(n - 1, 0, -1):
        ai, bi = float(a[i]), float(b[i])
        m = min(ai, bi)
        if m > 0:
            rows.append(i)
            cols.append(i)
            vals.append(m)
        d = abs(ai - bi)
        if d <= scale * max(ai, bi):
            continue
        sign = 1.0 if bi > ai else -1.0  # +1: column i needs rows (take from a); -1: row i needs columns
        thr = d - scale * (1.0 + i)
        # longest run [k, i-1] with sign*G_j >= d, searched backwards in growing chunks
        k = i - 1
        step = 16
        while k > 0:
            lo = max(0, k - step)
            seg = sign * G[lo:k]
            bad = np.flatnonzero(seg < thr)
            if bad.size:
                k = lo + int(bad[-1]) + 1
                break
            k = lo
            step *= 2
        if sign > 0:
            take = min(d, float(a[k]))
            a[k] -= take
            rows.append(k)
            cols.append(i)
        else:
            take = min(d, float(b[k]))
            b[k] -= take
            rows.append(i)
            cols.append(k)
        vals.append(take)
        G[k:i] -= sign * take
    if a[0] > 0 or b[0] > 0:
        rows.append(0)
        cols.append(0)
        vals.append(float(min(a[0], b[0])) if min(a[0], b[0]) > 0 else float(max(a[0], b[0])))
    return [np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)], np.asarray(vals)


class LatticeCoupling(Coupling):
    """Coupling within 1 bit of the majorisation meet (Cicalese, Gargano & Vaccaro 2019).

    Each atom of ``p∧q`` is split into at most two cells, so ``H <= H(p∧q) + 1`` by
    construction; at most ``2 max(n, m) - 1`` cells. Two marginals. Refuses more than
    ``max_n`` (option, default 200,000) positive atoms with :class:`ProblemTooLargeError`.

    Examples
    --------
    >>> r = LatticeCoupling().couple([0.6, 0.4], [0.4, 0.3, 0.3])
    >>> r.entropy <= r.lower_bounds["meet"] + 1
    True
    """

    name: ClassVar[str] = "lattice"
    reference: ClassVar[str] = (
        "F. Cicalese, L. Gargano, U. Vaccaro, 'Minimum-entropy couplings and their applications', "
        "IEEE Trans. Inf. Theory 65(6), 2019"
    )
    description: ClassVar[str] = "splits each atom of the meet p∧q in at most two cells: within 1 bit of H(p∧q)"

    def couple_sorted(
        self,
        p: NDArray[np.float64],
        q: NDArray[np.float64],
        *more: NDArray[np.float64],  # always empty: max_marginals is 2
        max_n: int = LATTICE_MAX_N,
        **options: Any,
    ) -> tuple[list[NDArray[np.int64]], NDArray[np.float64]]:
        if options:
            raise ParameterError(
                f"the lattice coupling takes only the option max_n, got {sorted(options)}; remove them."
            )
        check_size_limit(max_n, "max_n", "LatticeCoupling")
        n = max(p.size, q.size)
        if n > max_n:
            raise ProblemTooLargeError(
                f"the lattice coupling is O(n^2) in the worst case and this instance has n = {n} positive atoms, "
                f"above the limit max_n={max_n}. Use method='greedy' (O(N log N), at least as good a guarantee), "
                "or raise max_n if you can wait."
            )
        return lattice_sorted(p, q)
