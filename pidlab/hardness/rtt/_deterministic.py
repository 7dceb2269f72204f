"""Deterministic joints (``H(Y | X1, X2) = 0``) with three given pairwise marginals, by a binary program."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._limits import check_memory, max_work
from pidlab.exceptions import InvalidDistributionError, ProblemTooLargeError, SolverError
from pidlab.hardness.rtt._decide import SECONDS_PER_OP
from pidlab.hardness.rtt._guards import BOXED_CELL_BYTES, guard_cells


def _guard_tables(raw: list[Any]) -> None:
    """Before converting three tables to Python objects: refuse what would not fit the memory limit."""
    if len(raw) != 3:
        return  # the caller says what is wrong
    cells = 0.0
    for t in raw:
        shape = getattr(t, "shape", None)
        if shape is None:
            return  # nested lists: already Python objects, converted as they are
        cells += float(math.prod(shape))
    # object conversion (a boxed number a cell), Fractions and integer copies on the exact path
    guard_cells(2.0 * cells, BOXED_CELL_BYTES / 2.0, f"rtt.find_deterministic_joint of tables with {cells:.3g} cells",
                "Use smaller alphabets")


def find_deterministic_joint(marginals: Any, *, atol: float = 1e-9) -> NDArray[Any] | None:
    """Search for a joint with the three given pairwise marginals and ``H(Y | X1, X2) = 0``.

    Works on any marginals (not only RTT ones): a binary program (HiGHS through
    :func:`scipy.optimize.milp`) picks one ``y = g(x1, x2)`` per pair of positive mass, allowed
    only where ``p(x1, y) > 0`` and ``p(x2, y) > 0``, such that
    ``Σ_{x2} p(x1,x2)[g = y] = p(x1, y)`` and ``Σ_{x1} p(x1,x2)[g = y] = p(x2, y)``. Such a joint
    exists iff the minimum of ``H(X1, X2, Y)`` over the joints with these marginals equals
    ``H(X1, X2)``.

    Parameters
    ----------
    marginals : ExactMarginals, pidlab.Marginals, or a triple (p_x1y, p_x2y, p_x1x2)
        With ``Fraction`` entries the constraints are scaled to integers and the answer is checked
        exactly; with floats it is checked to ``atol``.

    Returns
    -------
    ndarray, shape (|X1|, |X2|, |Y|), or None
        The joint (``Fraction`` entries for exact input, float otherwise), or None if none exists.

    Raises
    ------
    ProblemTooLargeError
        The tables or the program would not fit pidlab's memory or work limit (estimated before
        they are built), or HiGHS reaches the time that the work limit allows (1e12 operations:
        an hour); raise them with :func:`pidlab.limits`.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    if all(hasattr(marginals, a) for a in ("p_x1y", "p_x2y", "p_x1x2")):
        raw = [getattr(marginals, a) for a in ("p_x1y", "p_x2y", "p_x1x2")]
        _guard_tables(raw)
        tabs = [np.asarray(t, dtype=object) for t in raw]
    else:
        try:
            raw = list(marginals)
            _guard_tables(raw)
            tabs = [np.asarray(t, dtype=object) for t in raw]
        except TypeError:
            raise InvalidDistributionError(
                "marginals must be an ExactMarginals, a pidlab.Marginals or a triple (p_x1y, p_x2y, p_x1x2)."
            ) from None
        if len(tabs) != 3:
            raise InvalidDistributionError(f"expected three tables (p_x1y, p_x2y, p_x1x2), got {len(tabs)}.")
    a, b, c = tabs
    if a.ndim != 2 or b.ndim != 2 or c.ndim != 2 or c.shape != (a.shape[0], b.shape[0]) or a.shape[1] != b.shape[1]:
        raise InvalidDistributionError(
            f"table shapes {a.shape}, {b.shape}, {c.shape} do not fit (|X1|,|Y|), (|X2|,|Y|), (|X1|,|X2|)."
        )
    exact = all(isinstance(v, (Fraction, int)) and not isinstance(v, bool) for t in tabs for v in t.ravel())
    if exact:
        tabs = [np.vectorize(Fraction, otypes=[object])(t) for t in tabs]
        den = 1
        for t in tabs:
            for v in t.ravel():
                den = den * v.denominator // math.gcd(den, v.denominator)
        A_, B_, C_ = (np.vectorize(lambda v: int(v * den), otypes=[object])(t).astype(np.int64) for t in tabs)
        A, B, C = (x.astype(float) for x in (A_, B_, C_))
    else:
        A, B, C = (t.astype(float) for t in tabs)
    n1, ny = A.shape
    n2 = B.shape[0]

    def close(x: Any, y: Any) -> bool:
        return bool(np.array_equal(x, y)) if exact else bool(np.allclose(x, y, atol=atol, rtol=0))

    # agreement on singletons is necessary
    if not (close(A.sum(1), C.sum(1)) and close(B.sum(1), C.sum(0)) and close(A.sum(0), B.sum(0))):
        return None
    pos = (lambda t: t > 0) if exact else (lambda t: t > atol)
    # estimate first: the binary program has one variable per admissible (x1, x2, y), counted here by
    # vectorised products before any Python list is built (about 0.5 KiB and 10 interpreted steps each)
    pa, pb, pc = (pos(t).astype(np.float64) for t in (A, B, C))
    n_var = float(np.einsum("iy,ij,jy->", pa, pc, pb, optimize=True))
    guard_cells(10.0 * n_var, 50.0, f"rtt.find_deterministic_joint of {n1} x {n2} x {ny} tables ({n_var:.3g} "
                "binary variables)", "Use smaller alphabets or sparser marginals")
    check_memory(8.0 * n1 * n2 * ny, f"rtt.find_deterministic_joint of {n1} x {n2} x {ny} tables (the joint)",
                 hint="Use smaller alphabets")
    var = [(x1, x2, y) for x1, x2 in zip(*np.nonzero(pos(C))) for y in range(ny) if pos(A[x1, y]) and pos(B[x2, y])]
    pairs = {(x1, x2) for x1, x2 in zip(*np.nonzero(pos(C)))}
    if {(x1, x2) for x1, x2, _ in var} != pairs:
        return None  # some pair of positive mass has no admissible y
    rows, cols, vals, lo = [], [], [], []
    pair_row = {p: k for k, p in enumerate(sorted(pairs))}
    for v, (x1, x2, _y) in enumerate(var):
        rows.append(pair_row[(x1, x2)])
        cols.append(v)
        vals.append(1.0)
    r = len(pair_row)
    lo.extend([1.0] * r)
    for v, (x1, x2, y) in enumerate(var):
        rows.append(r + x1 * ny + y)
        cols.append(v)
        vals.append(C[x1, x2])
    lo.extend(A.ravel().tolist())
    r += n1 * ny
    for v, (x1, x2, y) in enumerate(var):
        rows.append(r + x2 * ny + y)
        cols.append(v)
        vals.append(C[x1, x2])
    lo.extend(B.ravel().tolist())
    r += n2 * ny
    M = coo_matrix((vals, (rows, cols)), shape=(r, len(var))).tocsr()
    bnd = np.array(lo)
    tol = 0.0 if exact else atol
    res = milp(
        np.zeros(len(var)),
        constraints=LinearConstraint(M, bnd - tol, bnd + tol),
        integrality=np.ones(len(var)),
        bounds=Bounds(0, 1),
        options={"time_limit": max(1.0, max_work() * SECONDS_PER_OP)},
    )
    if res.status == 2:
        return None
    if res.status == 1:
        raise ProblemTooLargeError(
            f"rtt.find_deterministic_joint stopped at HiGHS's time limit of {max(1.0, max_work() * SECONDS_PER_OP):.3g} s "
            f"(pidlab's work limit of {max_work():.2g} elementary operations) on a binary program of {len(var)} "
            "variables, without an answer. Raise the limit: `with pidlab.limits(max_work=1e14): ...` or "
            "PIDLAB_MAX_WORK=1e14."
        )
    if res.status != 0 or res.x is None:
        raise SolverError(f"HiGHS (scipy.optimize.milp) failed on the deterministic-joint program: {res.message}")
    if exact:
        joint = np.full((n1, n2, ny), Fraction(0), dtype=object)
        for v, (x1, x2, y) in enumerate(var):
            if res.x[v] > 0.5:
                joint[x1, x2, y] = tabs[2][x1, x2]
        ok = (
            all(joint.sum(axis=1).ravel() == tabs[0].ravel())
            and all(joint.sum(axis=0).ravel() == tabs[1].ravel())
            and all(joint.sum(axis=2).ravel() == tabs[2].ravel())
        )
    else:
        joint = np.zeros((n1, n2, ny))
        for v, (x1, x2, y) in enumerate(var):
            if res.x[v] > 0.5:
                joint[x1, x2, y] = C[x1, x2]
        ok = close(joint.sum(1), A) and close(joint.sum(0), B) and close(joint.sum(2), C)
    if not ok:
        raise SolverError("HiGHS returned a deterministic joint whose marginals do not check exactly; report this.")
    return joint
