"""The coupling result object and the base class of coupling plugins."""

from __future__ import annotations

import html
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._couplings._bounds import best_bound, certified_lower_bounds
from pidlab._couplings._meet import SUM_TOL, check_marginals
from pidlab._info import entropy
from pidlab.exceptions import InvalidDistributionError

__all__ = ["Coupling", "CouplingResult", "DENSE_MAX_CELLS", "marginal_sums"]

#: ``to_dense`` refuses couplings with more cells than this (use the sparse coordinates)
DENSE_MAX_CELLS = 10_000_000
#: ``to_dict`` lists the cells only up to this many non-zeros by default
DICT_MAX_CELLS = 10_000
#: below this, a lower bound above the entropy is rounding noise, not a bug
_BRACKET_SLACK = 1e-12


def marginal_sums(ix: NDArray[np.int64], values: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Sums of ``values`` grouped by ``ix`` (length ``n``), accumulated in extended precision.

    ``np.bincount`` adds a row's cells one by one in float64; a row holding 10^5 cells then
    shows a spurious error of ~1e-12. Here the cells are summed in ``np.longdouble`` (80-bit
    on x86) and rounded once.
    """
    out = np.bincount(ix, weights=values, minlength=n)
    counts = np.bincount(ix, minlength=n)
    heavy = counts > 64  # float64 accumulation error <= 64 eps * sum elsewhere
    if heavy.any():
        sel = heavy[ix]
        hix, hv = ix[sel], values[sel]
        order = np.argsort(hix, kind="stable")
        cs = np.concatenate([[0], np.cumsum(hv[order].astype(np.longdouble))])
        rows = np.flatnonzero(heavy)
        bounds = np.searchsorted(hix[order], np.concatenate([rows, [n]]), side="left")
        ends = np.searchsorted(hix[order], rows, side="right")
        out[rows] = np.asarray(cs[ends] - cs[bounds[:-1]], dtype=float)
    return out


def _ro(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class CouplingResult:
    """A coupling of two or more marginals, its entropy and a certified bracket on the MEC.

    The minimum-entropy coupling (MEC) lies in ``[lower_bound, entropy]``: ``entropy`` is the
    entropy of the coupling returned (a feasible point) and ``lower_bound`` the largest of the
    certified lower bounds in ``lower_bounds``.

    Attributes
    ----------
    method : str
        Name of the coupling plugin (``"greedy"``, ``"lattice"``, ``"exact"``, ...).
    indices : tuple of numpy.ndarray
        One integer array per marginal: cell ``c`` has coordinates
        ``(indices[0][c], indices[1][c], ...)`` in the caller's ORIGINAL index order.
    values : numpy.ndarray
        The probability of each cell (all > 0; no cell is stored twice).
    shape : tuple of int
        Lengths of the marginals as given (zero atoms included).
    entropy : float
        ``H`` of the coupling in bits: an upper bound on the MEC.
    lower_bound : float
        Certified lower bound on the MEC in bits, the maximum of ``lower_bounds``.
    lower_bound_source : str
        Which bound ``lower_bound`` came from (``"meet"``, ``"threshold-profile"``, ``"exact"``).
    lower_bounds : dict of str -> float
        Every lower bound computed (bits).
    exact : bool
        True when ``entropy`` is certified minimal (``method="exact"``); ``lower_bound`` then
        equals it.
    marginal_error : float
        ``max |row/column sums - marginals|`` of the returned coupling (the marginals are met
        to 1e-12 when the inputs' totals agree to that accuracy).
    notes : tuple of str
        Assumptions and remarks the numbers rest on.
    info : dict
        Method diagnostics (run time in seconds, sizes, options).
    """

    method: str
    indices: tuple[NDArray[np.int64], ...]
    values: NDArray[np.float64]
    shape: tuple[int, ...]
    entropy: float
    lower_bound: float
    lower_bound_source: str
    lower_bounds: dict[str, float]
    exact: bool = False
    marginal_error: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    info: dict[str, Any] = field(default_factory=dict)
    units: str = "bits"

    # ----------------------------------------------------------------- derived views
    @property
    def rows(self) -> NDArray[np.int64]:
        """Indices into the first marginal (``p``) of each cell."""
        return self.indices[0]

    @property
    def cols(self) -> NDArray[np.int64]:
        """Indices into the second marginal (``q``) of each cell."""
        return self.indices[1]

    @property
    def upper_bound(self) -> float:
        """The entropy of the coupling found: an upper bound on the MEC (bits)."""
        return self.entropy

    @property
    def gap(self) -> float:
        """Width of the certified bracket ``entropy - lower_bound`` (bits)."""
        return max(0.0, self.entropy - self.lower_bound)

    @property
    def bracket(self) -> tuple[float, float]:
        """``(lower_bound, entropy)``: the MEC lies in this interval (bits)."""
        return (self.lower_bound, self.entropy)

    @property
    def nnz(self) -> int:
        """Number of cells with positive mass."""
        return int(self.values.size)

    @property
    def joint(self) -> Any:
        """The coupling as a ``scipy.sparse.coo_array`` (two marginals only)."""
        if len(self.shape) != 2:
            raise InvalidDistributionError(
                f"joint is a 2-D sparse matrix; this coupling has {len(self.shape)} marginals. "
                "Use .indices and .values (one index array per marginal) instead."
            )
        from scipy.sparse import coo_array

        return coo_array((self.values, (self.rows, self.cols)), shape=self.shape)

    def to_dense(self, *, max_cells: int = DENSE_MAX_CELLS) -> NDArray[np.float64]:
        """The coupling as a dense array of shape ``shape``.

        Raises
        ------
        InvalidDistributionError
            When the dense array would hold more than ``max_cells`` cells.
        """
        size = int(np.prod(self.shape, dtype=np.float64))
        if size > max_cells:
            raise InvalidDistributionError(
                f"a dense coupling of shape {self.shape} has {size} cells (limit max_cells={max_cells}); "
                "use the sparse coordinates .indices/.values or .joint instead."
            )
        out = np.zeros(self.shape)
        np.add.at(out, self.indices, self.values)
        return out

    def to_dict(self, *, cells: bool | None = None) -> dict[str, Any]:
        """JSON-ready summary; the cells are listed when ``cells`` is True (default: when
        there are at most 10,000 of them)."""
        d: dict[str, Any] = {
            "method": self.method,
            "units": self.units,
            "entropy": float(self.entropy),
            "lower_bound": float(self.lower_bound),
            "lower_bound_source": self.lower_bound_source,
            "lower_bounds": {k: float(v) for k, v in self.lower_bounds.items()},
            "gap": float(self.gap),
            "exact": bool(self.exact),
            "shape": [int(s) for s in self.shape],
            "nnz": self.nnz,
            "marginal_error": float(self.marginal_error),
            "notes": list(self.notes),
            "info": {k: (v.item() if isinstance(v, np.generic) else v) for k, v in self.info.items()},
        }
        if cells if cells is not None else self.nnz <= DICT_MAX_CELLS:
            d["indices"] = [ix.tolist() for ix in self.indices]
            d["values"] = self.values.tolist()
        return d

    def _repr_html_(self) -> str:
        e = html.escape
        rows = [
            ("coupling entropy (upper bound on MEC)", f"{self.entropy:.6f}"),
            (f"certified lower bound ({self.lower_bound_source})", f"{self.lower_bound:.6f}"),
            ("gap", f"{self.gap:.6f}"),
        ]
        body = "".join(f"<tr><td>{e(a)}</td><td>{e(b)}</td></tr>" for a, b in rows)
        joint = ""
        if len(self.shape) == 2 and self.shape[0] * self.shape[1] <= 64:
            m = self.to_dense()
            head = "".join(f"<th>q{j}</th>" for j in range(self.shape[1]))
            trs = "".join(
                f"<tr><th>p{i}</th>" + "".join(f"<td>{v:.4g}</td>" for v in m[i]) + "</tr>"
                for i in range(self.shape[0])
            )
            joint = f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{trs}</tbody></table>"
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        return (
            f"<div class='pidlab-coupling'><b>{e(self.method)}</b> coupling of shape {e(str(self.shape))}, "
            f"{self.nnz} non-zero cells{' (certified optimal)' if self.exact else ''}"
            f"<table><thead><tr><th>quantity</th><th>bits</th></tr></thead><tbody>{body}</tbody></table>"
            f"{joint}" + (f"<ul>{notes}</ul>" if notes else "") + "</div>"
        )

    def __repr__(self) -> str:
        return (
            f"CouplingResult(method={self.method!r}, shape={self.shape}, nnz={self.nnz}, "
            f"entropy={self.entropy:.6f}, lower_bound={self.lower_bound:.6f} ({self.lower_bound_source}))"
        )


class Coupling(ABC):
    """Base class of the min-entropy coupling plugins.

    A subclass sets ``name`` (lower case) and implements :meth:`_couple_sorted`, which sees
    only the positive atoms of each marginal sorted decreasingly and returns cells in those
    sorted positions. :meth:`couple` validates the input, sorts, maps the cells back to the
    caller's index order, checks the marginals and attaches the certified bracket. Third-party
    plugins may instead override :meth:`couple` entirely (the host only calls ``couple``).

    Attributes
    ----------
    name : str
        Registered name.
    max_marginals : int or None
        How many marginals the method couples at once (None: any number >= 2).
    reference, description : str
        Citation and one-line summary.
    """

    name: ClassVar[str]
    max_marginals: ClassVar[int | None] = 2
    reference: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def couple(
        self,
        p: ArrayLike,
        q: ArrayLike,
        *more: ArrayLike,
        tol: float = SUM_TOL,
        profile: bool | None = None,
        **options: Any,
    ) -> CouplingResult:
        """Couple ``p`` and ``q`` (and further marginals where supported).

        Parameters
        ----------
        p, q, *more : array_like
            Probability vectors (a table is read over its cells); lengths may differ. They must
            be finite, non-negative and sum to 1 within ``tol``.
        tol : float, default 1e-9
            Tolerance on each total; nothing is renormalised.
        profile : bool or None
            Compute the ``threshold-profile`` lower bound (default: when all marginals together
            have at most 5,000 positive atoms).
        **options
            Method-specific options.
        """
        marg = (p, q, *more)
        if self.max_marginals is not None and len(marg) > self.max_marginals:
            raise InvalidDistributionError(
                f"coupling method {self.name!r} couples at most {self.max_marginals} marginals, got {len(marg)}; "
                "use method='greedy' for more."
            )
        t0 = time.perf_counter()
        vecs = check_marginals(marg, tol=tol)
        orders, sorted_pos = [], []
        for v in vecs:
            order = np.argsort(-v)
            k = int(np.count_nonzero(v))
            orders.append(order[:k])
            sorted_pos.append(np.ascontiguousarray(v[order[:k]]))
        idx_sorted, values, extra = self._couple_sorted(sorted_pos, **options)
        values = np.asarray(values, dtype=float)
        keep = values > 0
        indices = tuple(_ro(np.asarray(o[np.asarray(ix, dtype=np.int64)[keep]], dtype=np.int64)) for o, ix in zip(orders, idx_sorted))
        values = _ro(values[keep])
        err = 0.0
        for ix, v in zip(indices, vecs):
            err = max(err, float(np.abs(marginal_sums(ix, values, v.size) - v).max()))
        h = entropy(values)
        notes = list(extra.pop("notes", ()))
        bounds = certified_lower_bounds(sorted_pos, profile=profile)
        exact = bool(extra.pop("exact", False))
        if exact:
            bounds["exact"] = h
        lb, src = best_bound(bounds)
        if lb > h + _BRACKET_SLACK:
            notes.append(
                f"the {src} lower bound ({lb:.12g}) exceeded the coupling entropy ({h:.12g}) by more than "
                "rounding; this can only come from inputs whose totals differ; the bound was capped at the entropy"
            )
        lb = min(lb, h)
        totals = [float(v.sum()) for v in vecs]
        if max(totals) - min(totals) > 1e-12:
            notes.append(
                f"the marginals' totals differ by {max(totals) - min(totals):.3g} (within tol={tol:g}); "
                "the coupling's marginals can match them only to that accuracy"
            )
        info = {"time": time.perf_counter() - t0, "n_atoms": sum(v.size for v in sorted_pos), **extra}
        return CouplingResult(
            method=self.name,
            indices=indices,
            values=values,
            shape=tuple(int(v.size) for v in vecs),
            entropy=h,
            lower_bound=lb,
            lower_bound_source=src,
            lower_bounds=bounds,
            exact=exact,
            marginal_error=err,
            notes=tuple(notes),
            info=info,
        )

    @abstractmethod
    def _couple_sorted(
        self, sorted_marginals: list[NDArray[np.float64]], **options: Any
    ) -> tuple[list[NDArray[np.int64]], NDArray[np.float64], dict[str, Any]]:
        """Couple positive atoms sorted decreasingly; return (index arrays, values, extra info).

        ``extra`` may hold ``"notes"`` (tuple of str) and ``"exact"`` (bool).
        """

    def cite(self) -> str:
        return self.reference
