"""Any registered measure on a stack of tables: the ``measure=`` path of :func:`pidlab.decompose_many`.

The measure's :meth:`~pidlab.Measure.compute_many` runs on chunks of the validated stack (the
contract's default loops over ``compute``; closed-form and scaling-based measures override it
with array code), and the host checks what it returns exactly as it checks a single result:
arrays of the right length, finite, and for a full decomposition the consistency identities
against the host's own mutual informations.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from pidlab._info import clean_zero
from pidlab._measures._stack import Arr, mi_stack, shared_stack
from pidlab._status import Status
from pidlab.exceptions import PidlabError, PluginOutputError

if TYPE_CHECKING:
    from pidlab._solvers._batch import BatchResult

__all__ = ["decompose_many_measure", "IDENTITY_TOL"]

#: Largest violation (bits) of a consistency identity accepted from a measure (as for decompose).
IDENTITY_TOL = 1e-6
#: Cells per chunk handed to ``compute_many`` (bounds the temporaries of the array code).
CHUNK_CELLS = 4_000_000


def decompose_many_measure(ps: Any, measure: str, *, normalize: bool = False,
                           chunk_size: int | None = None) -> BatchResult:
    """:func:`pidlab.decompose_many` for a measure other than BROJA (see there)."""
    from pidlab._plugins import lookup
    from pidlab._solvers._batch import BatchResult, _validate

    entry = lookup("measure", measure)
    inst = entry.instance()
    name = entry.name
    t0 = time.perf_counter()
    p = _validate(ps, normalize)
    N, a, b, c = p.shape
    kind = getattr(inst, "kind", "pid")
    keys = ("R", "U1", "U2", "S") if kind == "pid" else ("net",)
    cs = chunk_size or max(1, CHUNK_CELLS // (a * b * c))
    A = np.empty((len(keys), N))  # the returned arrays, one row per key
    I1, I2, I12 = np.empty(N), np.empty(N), np.empty(N)
    notes: list[str] = []
    for start in range(0, N, cs):
        sub = p[start:start + cs]
        stop = start + len(sub)
        with shared_stack(sub):  # marginals and informations once, for the measure and the checks
            try:
                got = inst.compute_many(sub)
            except PidlabError:
                raise
            except Exception as exc:
                raise PluginOutputError(f"measure {name!r} failed on a batch: {type(exc).__name__}: {exc}") from None
            I1[start:stop], I2[start:stop], I12[start:stop] = mi_stack(sub)
        if not isinstance(got, dict):
            raise PluginOutputError(f"measure {name!r}: compute_many returned {type(got).__name__}, not a dict of arrays.")
        for j, k in enumerate(keys):
            if k not in got:
                raise PluginOutputError(f"measure {name!r}: compute_many returned no {k!r} (kind {kind!r} needs {list(keys)}).")
            v = np.asarray(got[k], dtype=np.float64)
            if v.shape != (len(sub),):
                raise PluginOutputError(
                    f"measure {name!r}: compute_many returned {k!r} of shape {v.shape}, expected ({len(sub)},).")
            A[j, start:stop] = v
        for note in got.get("notes", ()) or ():
            if note not in notes:
                notes.append(str(note))
    bad = ~np.isfinite(A)  # one pass over every returned value
    if bad.any():
        j, i = (int(v) for v in np.argwhere(bad)[0])
        raise PluginOutputError(f"measure {name!r} returned a non-finite {keys[j]} for item {i}; the batch is not shown.")
    if kind == "pid":
        R, U1, U2, S = A
        for lhs, v, rhs, w in (("R + U1", R + U1, "I(X1;Y)", I1), ("R + U2", R + U2, "I(X2;Y)", I2),
                               ("R + U1 + U2 + S", R + U1 + U2 + S, "I(X1,X2;Y)", I12)):
            off = np.abs(v - w) > IDENTITY_TOL
            if off.any():
                i = int(np.argmax(off))
                raise PluginOutputError(
                    f"measure {name!r} returned atoms that break the PID identities on item {i} "
                    f"({lhs} = {v[i]:.6g} but {rhs} = {w[i]:.6g}); the batch is not shown.")
        neg = int(np.count_nonzero(A.min(axis=0) < -IDENTITY_TOL))
        if neg:
            notes.append(f"{neg} item(s) with a negative atom: allowed by some measures, not by a nonnegative "
                         "decomposition")
        net = None
        m = I1 + I2 - R
    else:
        nan = np.full(N, np.nan)
        R, U1, U2, S = nan, nan, nan, nan
        net = clean_zero(A[0])
        m = np.full(N, np.nan)
        notes.append(f"{name} is a net quantity ({'S - R' if name == 'wms' else 'see .net_kind'}); "
                     "R, U1, U2, S are not defined (NaN) and .net holds the values")
    extra: dict[str, Any] = {}
    if net is not None:
        extra["net"] = net
        extra["net_kind"] = _net_kind(inst)
    return BatchResult(
        measure=name,
        shape=(a, b, c),
        R=_c(R), U1=_c(U1), U2=_c(U2), S=_c(S),
        m=m, m_lower=m.copy(), gap=np.zeros(N),
        I_x1y=I1, I_x2y=I2, I_x1x2y=I12,
        status=np.full(N, Status.OPTIMAL, dtype=object),
        gap_tol=0.0,
        solve_time=time.perf_counter() - t0,
        iterations=np.zeros(N, dtype=np.int64),
        notes=tuple(notes),
        **extra,
    )


def _c(v: Arr) -> Arr:
    """Exact zeros for rounding-level values (the NaN rows of a net measure pass through)."""
    return np.where(np.abs(v) < 1e-12, 0.0, v)


def _net_kind(inst: Any) -> str:
    """``"net synergy"`` or ``"net redundancy"`` (asked of one small table)."""
    from pidlab._distribution import Distribution

    cls = type(inst)
    if cls not in _NET_KINDS:
        r = inst.compute(Distribution(np.full((2, 2, 2), 0.125)))
        _NET_KINDS[cls] = str(r.net_kind or "net")
    return _NET_KINDS[cls]


_NET_KINDS: dict[type, str] = {}
