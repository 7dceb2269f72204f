"""The host's check of what a coupling plugin returns (plugins are code from strangers).

:func:`pidlab.couple` runs every coupling plugin, built-in or third-party, through
:func:`checked_result` before anyone prints the answer: a coupling that does not have the requested
marginals (or reports a lower bound above its own entropy) would otherwise be shown as a
"certified" bracket on the minimum-entropy coupling.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._couplings._result import CouplingResult, marginal_sums
from pidlab._info import entropy
from pidlab.exceptions import PluginOutputError

__all__ = ["MARGINAL_TOL", "BOUND_SLACK", "checked_result"]

#: Largest ``|row sums - marginal|`` the host accepts from a coupling, on top of the spread of the
#: marginals' own totals (which no coupling can meet more closely than that spread).
MARGINAL_TOL = 1e-9
#: A reported entropy or lower bound may differ from the host's recomputation by this much (bits).
BOUND_SLACK = 1e-9


def _refuse(name: str, problem: str) -> PluginOutputError:
    return PluginOutputError(
        f"coupling {name!r} returned {problem}; the result is not shown (a coupling plugin must return a "
        "pidlab.CouplingResult whose cells meet the marginals it was given)."
    )


def checked_result(name: str, res: Any, vecs: list[NDArray[np.float64]], tol: float) -> CouplingResult:
    """Check a coupling plugin's answer against the marginals ``vecs`` (validated by the host).

    Refused with :class:`~pidlab.exceptions.PluginOutputError` naming the plugin: a result that is
    not a :class:`CouplingResult`; a shape other than the marginals' lengths; index arrays that are
    not integer, not one per marginal, not as long as ``values`` or outside their marginal; a cell
    stored twice; negative, NaN or infinite values; marginals missed by more than
    :data:`MARGINAL_TOL` plus the spread of the marginals' totals; a total mass more than ``tol`` +
    :data:`MARGINAL_TOL` away from 1; an ``entropy`` that is not the entropy of the cells; a lower
    bound that is not finite or lies above the coupling's own entropy (every coupling's entropy
    is at least the minimum, so such a "certified" bound is false); ``exact`` with a gap.
    """
    if not isinstance(res, CouplingResult):
        raise _refuse(name, f"a {type(res).__name__}, not a pidlab.CouplingResult")
    shape = tuple(int(v.size) for v in vecs)
    if tuple(res.shape) != shape:
        raise _refuse(name, f"a coupling of shape {tuple(res.shape)} for marginals of lengths {shape}")
    values = np.asarray(res.values)
    if values.ndim != 1 or values.dtype.kind not in "fiu":
        raise _refuse(name, f"values of dtype {values.dtype} and shape {values.shape} (need a 1-D float array)")
    values = values.astype(float, copy=False)
    if not np.isfinite(values).all():
        raise _refuse(name, f"{int((~np.isfinite(values)).sum())} NaN or infinite cell value(s)")
    if values.size and float(values.min()) < 0:
        raise _refuse(name, f"a negative cell value ({float(values.min()):.3g})")
    if len(res.indices) != len(vecs):
        raise _refuse(name, f"{len(res.indices)} index arrays for {len(vecs)} marginals")
    indices = []
    for k, (ix, n) in enumerate(zip(res.indices, shape)):
        a = np.asarray(ix)
        if a.ndim != 1 or a.shape != values.shape or a.dtype.kind not in "iu":
            raise _refuse(name, f"index array {k + 1} of dtype {a.dtype} and shape {a.shape} for {values.size} values "
                                "(need one integer array per marginal, as long as values)")
        if a.size and (int(a.min()) < 0 or int(a.max()) >= n):
            raise _refuse(name, f"index array {k + 1} with entries outside 0..{n - 1}")
        indices.append(a.astype(np.int64, copy=False))
    if values.size > 1:
        if math.prod(shape) < 2**62:
            flat = np.sort(np.ravel_multi_index(tuple(indices), shape))
            dup = bool((flat[1:] == flat[:-1]).any())
        else:  # pragma: no cover - astronomically many cells
            order = np.lexsort(tuple(indices[::-1]))
            st = np.stack([ix[order] for ix in indices])
            dup = bool((st[:, 1:] == st[:, :-1]).all(axis=0).any())
        if dup:
            raise _refuse(name, "a cell stored twice")
    totals = [float(v.sum()) for v in vecs]
    allowed = MARGINAL_TOL + (max(totals) - min(totals))
    for k, (ix, v) in enumerate(zip(indices, vecs)):
        err = float(np.abs(marginal_sums(ix, values, v.size) - v).max())
        if not err <= allowed:
            raise _refuse(name, f"a coupling whose marginal {k + 1} is off by {err:.3g} (tolerance {allowed:.3g})")
    mass = float(values.sum())
    if not abs(mass - 1.0) <= tol + MARGINAL_TOL:
        raise _refuse(name, f"cells with total mass {mass:.12g}, not 1 (tolerance {tol + MARGINAL_TOL:.3g})")
    h = entropy(values)
    try:
        h_rep = float(res.entropy)
        lb = float(res.lower_bound)
        bounds = {str(k): float(b) for k, b in res.lower_bounds.items()}
    except (TypeError, ValueError) as exc:
        raise _refuse(name, f"a non-numeric entropy or bound ({exc})") from None
    if not math.isfinite(h_rep) or abs(h_rep - h) > BOUND_SLACK * max(1.0, h):
        raise _refuse(name, f"entropy {h_rep!r} bits, but its cells have entropy {h:.12g} bits")
    for what, b in [("lower_bound", lb), *((f"lower_bounds[{k!r}]", b) for k, b in bounds.items())]:
        if not math.isfinite(b):
            raise _refuse(name, f"a non-finite {what} ({b!r})")
        if b > h + BOUND_SLACK * max(1.0, h):
            raise _refuse(
                name, f"a certified {what} of {b:.6g} bits above its own coupling's entropy {h:.6g} bits (every "
                      "coupling's entropy is at least the minimum, so the bound is false)"
            )
    if res.exact and abs(lb - h) > BOUND_SLACK * max(1.0, h):
        raise _refuse(name, f"exact=True with a lower bound {lb:.6g} below the entropy {h:.6g}")
    return res
