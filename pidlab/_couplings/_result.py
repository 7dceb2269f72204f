"""The coupling result object (the base class of coupling plugins is :class:`pidlab._contracts.Coupling`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._results import FrozenMap, Result, freeze, thaw
from pidlab.exceptions import InvalidDistributionError

__all__ = ["CouplingResult", "DENSE_MAX_CELLS", "marginal_sums"]

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
    out: NDArray[np.float64] = np.bincount(ix, weights=values, minlength=n).astype(float, copy=False)
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
class CouplingResult(Result):
    """A coupling of two or more marginals, its entropy and a certified bracket on the MEC.

    The minimum-entropy coupling (MEC) lies in ``[lower_bound, entropy]``: ``entropy`` is the
    entropy of the coupling returned (a feasible point) and ``lower_bound`` the largest of the
    certified lower bounds in ``lower_bounds``.

    A :class:`~pidlab._results.Result` (``to_dict``, ``to_json``, ``table``/``str``,
    ``_repr_html_``); compared and hashed by identity (it holds arrays).

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
    lower_bounds : FrozenMap of str -> float
        Every lower bound computed (bits); read-only.
    exact : bool
        True when ``entropy`` is certified minimal (``method="exact"``); ``lower_bound`` then
        equals it.
    marginal_error : float
        ``max |row/column sums - marginals|`` of the returned coupling (the marginals are met
        to 1e-12 when the inputs' totals agree to that accuracy).
    notes : tuple of str
        Assumptions and remarks the numbers rest on.
    info : FrozenMap
        Method diagnostics (run time in seconds, sizes, options); read-only.
    """

    method: str
    indices: tuple[NDArray[np.int64], ...]
    values: NDArray[np.float64]
    shape: tuple[int, ...]
    entropy: float
    lower_bound: float
    lower_bound_source: str
    lower_bounds: Mapping[str, float]
    exact: bool = False
    marginal_error: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    info: Mapping[str, Any] = field(default_factory=FrozenMap)
    units: str = "bits"

    def __post_init__(self) -> None:
        object.__setattr__(self, "lower_bounds", FrozenMap(self.lower_bounds))
        object.__setattr__(self, "info", freeze(self.info, sequences=False))

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
            "info": {k: thaw(v.item() if isinstance(v, np.generic) else v) for k, v in self.info.items()},
        }
        if cells if cells is not None else self.nnz <= DICT_MAX_CELLS:
            d["indices"] = [ix.tolist() for ix in self.indices]
            d["values"] = self.values.tolist()
        return d

    def table(self) -> str:
        from pidlab._render import coupling_text

        return coupling_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import coupling_html

        return coupling_html(self)

    def __repr__(self) -> str:
        return (
            f"CouplingResult(method={self.method!r}, shape={self.shape}, nnz={self.nnz}, "
            f"entropy={self.entropy:.6f}, lower_bound={self.lower_bound:.6f} ({self.lower_bound_source}))"
        )
