"""Schedules (meeting functions): checking them, and the two directions schedule <-> deterministic joint."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pidlab._limits import check_memory
from pidlab._results import FrozenMap, Result
from pidlab.exceptions import InvalidDistributionError
from pidlab.hardness.rtt._guards import BOXED_CELL_BYTES, guard_cells
from pidlab.hardness.rtt._instance import (
    HOURS,
    InvalidScheduleError,
    RTTInstance,
    Schedule,
    _check_hours,
    _check_instance,
)
from pidlab.hardness.rtt._reduction import _exact_tables


def _check_schedule(inst: RTTInstance, schedule: Any) -> list[tuple[int, int, int]]:
    if schedule is None or isinstance(schedule, (str, bytes)) or not isinstance(schedule, Iterable):
        raise InvalidScheduleError(
            f"a schedule must be an iterable of (teacher, class, hour) triples, got {type(schedule).__name__}."
        )
    out = []
    for trip in schedule:
        try:
            i, j, h = trip
        except (TypeError, ValueError):
            raise InvalidScheduleError(
                f"schedule entry {trip!r} is not a (teacher, class, hour) triple."
            ) from None
        for v, what, hi in ((i, "teacher", inst.n_teachers), (j, "class", inst.n_classes)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < hi:
                raise InvalidScheduleError(
                    f"schedule entry {trip!r}: {what} index {v!r} is not an integer in 0..{hi - 1}."
                )
        if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or int(h) not in HOURS:
            raise InvalidScheduleError(f"schedule entry {trip!r}: hour {h!r} is not 1, 2 or 3.")
        out.append((int(i), int(j), int(h)))
    return out


@dataclass(frozen=True)
class Verification(Result):
    """Outcome of :func:`verify` or :func:`verify_joint`; truthy iff every check passed.

    A :class:`~pidlab._results.Result` (``to_dict``, ``to_json``, ``table``/``str``,
    ``_repr_html_``); equal and hashed by value.

    Attributes
    ----------
    ok : bool
    violations : tuple of str
        One readable line per violated condition.
    checks : FrozenMap
        Condition name -> passed (read-only), e.g. ``"availability"``, ``"requirements"``,
        ``"one teacher per class and hour"``, ``"one class per teacher and hour"``, ``"hour counts"``
        (and for joints ``"entries in {0, 1/N}"``, ``"deterministic"``, ``"marginals"``).
    hour_counts : tuple of int
        Lessons at hours 1, 2, 3 in the schedule checked.
    """

    ok: bool
    violations: tuple[str, ...]
    checks: Mapping[str, bool]
    hour_counts: tuple[int, int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", FrozenMap(self.checks))

    def __bool__(self) -> bool:
        return self.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "violations": list(self.violations),
            "checks": dict(self.checks),
            "hour_counts": list(self.hour_counts),
        }

    def table(self) -> str:
        from pidlab._render import verification_text

        return verification_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import verification_html

        return verification_html(self)


def verify(instance: RTTInstance, schedule: Iterable[tuple[int, int, int]], hours: Sequence[int] | None = None) -> Verification:
    """Check a schedule against the four RTT conditions (and the hour counts when ``hours`` is given).

    Conditions: (1) ``f(i,j,h) = 1 ⇒ h ∈ T_i``; (2) ``Σ_h f(i,j,h) = R_ij`` (a repeated triple counts
    twice); (3) at most one teacher per class per hour; (4) at most one class per teacher per hour;
    and, for (n1,n2,n3)-RTT, exactly ``n_h`` lessons at hour ``h``.

    Raises
    ------
    InvalidScheduleError
        An entry that is not a triple of a teacher index, a class index and an hour in {1, 2, 3}.

    Examples
    --------
    >>> inst = RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
    >>> v = verify(inst, {(0, 0, 1), (0, 1, 3), (1, 1, 3)})
    >>> v.ok, v.violations[0]
    (False, 'availability: teacher 0 teaches class 1 at hour 3, not in T_0 = [1, 2]')
    """
    inst = _check_instance(instance)
    check_memory(16.0 * inst.n_teachers * inst.n_classes,
                 f"rtt.verify on a {inst.n_teachers} x {inst.n_classes} instance",
                 hint="The check counts meetings in a dense teachers x classes matrix; use a smaller instance")
    trips = _check_schedule(inst, schedule)
    viol: dict[str, list[str]] = {
        "availability": [],
        "requirements": [],
        "one teacher per class and hour": [],
        "one class per teacher and hour": [],
        "hour counts": [],
    }
    for i, j, h in trips:
        if h not in inst.availability[i]:
            viol["availability"].append(
                f"availability: teacher {i} teaches class {j} at hour {h}, not in T_{i} = {sorted(inst.availability[i])}"
            )
    met = np.zeros_like(inst.requirements)
    for i, j, _ in trips:
        met[i, j] += 1
    for i, j in np.argwhere(met != inst.requirements):
        viol["requirements"].append(
            f"requirements: teacher {i} meets class {j} {met[i, j]} time(s), R[{i}][{j}] = {inst.requirements[i, j]}"
        )
    for key, a, b, who, whom in (
        ("one teacher per class and hour", 1, 0, "class", "teachers"),
        ("one class per teacher and hour", 0, 1, "teacher", "classes"),
    ):
        seen: dict[tuple[int, int], list[int]] = {}
        for t in trips:
            seen.setdefault((t[a], t[2]), []).append(t[b])
        for (x, h), ys in sorted(seen.items()):
            if len(ys) > 1:
                viol[key].append(f"{key}: {who} {x} has {len(ys)} {whom} {sorted(ys)} at hour {h}")
    counts = tuple(sum(1 for t in trips if t[2] == h) for h in HOURS)
    if hours is not None:
        hs = _check_hours(hours)
        if counts != hs:
            viol["hour counts"].append(f"hour counts: {counts} lessons at hours 1, 2, 3, required {hs}")
    flat = tuple(v for vs in viol.values() for v in vs)
    return Verification(
        ok=not flat,
        violations=flat,
        checks={k: not v for k, v in viol.items()},
        hour_counts=counts,  # type: ignore[arg-type]
    )


def schedule_to_joint(
    instance: RTTInstance, schedule: Iterable[tuple[int, int, int]], *, exact: bool = False
) -> NDArray[Any]:
    """The joint ``r(x1, x2, y)`` of a valid schedule: ``H(Y | X1, X2) = 0``, entries in ``{0, 1/N}``.

    ``r(t, c, h) = 1/N`` when teacher t teaches class c at hour h; ``r(h_k, c, k) = 1/N`` when class
    c has no lesson at hour k, else ``r(h_k, c, 0) = 1/N``. Its pairwise marginals are
    ``reduce(instance, hours=counts)`` where ``counts`` are the schedule's lessons per hour.

    Parameters
    ----------
    exact : bool, default False
        Return ``Fraction`` entries (dtype object) instead of float64.

    Returns
    -------
    ndarray, shape (n+3, m, 4)
        Axes as in :func:`reduce`.

    Raises
    ------
    InvalidScheduleError
        The schedule violates an RTT condition (the message lists them).
    """
    inst = _check_instance(instance)
    cells = 4.0 * (inst.n_teachers + 3) * inst.n_classes
    # an object array of shared Fractions (8 B a cell) and its float copy, before anything is built
    guard_cells(cells, 8.0 if exact else 16.0, f"rtt.schedule_to_joint of a {inst.n_teachers} x {inst.n_classes} "
                "instance", "The joint is dense in (teachers + 3) x classes x 4; use a smaller instance",
                python_loop=False)
    trips = _check_schedule(inst, schedule)
    v = verify(inst, trips)
    if not v.ok:
        raise InvalidScheduleError(
            "the schedule is not a valid RTT meeting function, so it has no deterministic joint: "
            + "; ".join(v.violations)
        )
    n, m, N = inst.n_teachers, inst.n_classes, inst.n_atoms
    one = Fraction(1, N)
    r = np.full((n + 3, m, 4), Fraction(0), dtype=object)
    taught = set()
    for i, j, h in trips:
        r[i, j, h] = one
        taught.add((j, h))
    for j in range(m):
        for k in HOURS:
            r[n + k - 1, j, 0 if (j, k) in taught else k] = one
    return r if exact else r.astype(float)


def _to_exact_joint(inst: RTTInstance, joint: Any, atol: float) -> NDArray[Any]:
    """Read a joint (Fraction or float entries) as exact multiples of 1/N; raise if impossible."""
    from pidlab._distribution import Distribution

    if isinstance(joint, Distribution):
        joint = joint.p
    shape = (inst.n_teachers + 3, inst.n_classes, 4)
    given = getattr(joint, "shape", None)
    if given is not None and tuple(given) != shape:
        raise InvalidDistributionError(
            f"the joint has shape {tuple(given)}, but this instance's reduction has axes (teachers + 3 holding rooms, "
            f"classes, Y) = {shape}; build it with rtt.schedule_to_joint or keep reduce()'s axis order."
        )
    # estimate first: every cell becomes a Python Fraction, read in an interpreted loop (then sums, checks)
    guard_cells(10.0 * math.prod(shape), BOXED_CELL_BYTES / 10.0,
                f"checking a joint of a {inst.n_teachers} x {inst.n_classes} instance exactly",
                "Exact checks cost one Python Fraction per cell of the (teachers + 3) x classes x 4 joint; use a "
                "smaller instance")
    a = np.asarray(joint, dtype=object)
    if a.shape != shape:
        raise InvalidDistributionError(
            f"the joint has shape {a.shape}, but this instance's reduction has axes (teachers + 3 holding rooms, "
            f"classes, Y) = {shape}; build it with rtt.schedule_to_joint or keep reduce()'s axis order."
        )
    N = inst.n_atoms
    out = np.empty(shape, dtype=object)
    for idx, v in np.ndenumerate(a):
        if isinstance(v, (Fraction, int, np.integer)) and not isinstance(v, bool):
            out[idx] = Fraction(int(v)) if not isinstance(v, Fraction) else v
            continue
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise InvalidDistributionError(f"joint entry {idx} = {v!r} is not a number.") from None
        if not math.isfinite(x):
            raise InvalidDistributionError(f"joint entry {idx} = {v!r} is not finite.")
        k = round(x * N)
        # floats are read as the nearest multiple of 1/N when they are that close; otherwise kept as-is
        out[idx] = Fraction(k, N) if abs(x - k / N) <= atol else Fraction(x)
    return out


def verify_joint(
    instance: RTTInstance, joint: Any, hours: Sequence[int] | None = None, *, atol: float = 1e-12
) -> Verification:
    """Check that ``joint`` is a witness of the reduction: exact marginals, entries in {0, 1/N},
    ``H(Y|X1,X2) = 0``, and that the schedule read off it passes :func:`verify`.

    Parameters
    ----------
    joint : array_like or Distribution, shape (n+3, m, 4)
        ``Fraction`` entries are used as they are; float entries within ``atol`` of a multiple of
        ``1/N`` are read as that multiple (a float table cannot be checked more exactly).
    hours : (n1, n2, n3), optional
        Split whose marginals the joint must match (default: the forced one).
    """
    inst = _check_instance(instance)
    hs = inst.forced_hours if hours is None else _check_hours(hours)
    r = _to_exact_joint(inst, joint, atol)
    N = inst.n_atoms
    one = Fraction(1, N)
    viol: dict[str, list[str]] = {"entries in {0, 1/N}": [], "deterministic": [], "marginals": []}
    bad = [idx for idx, v in np.ndenumerate(r) if v not in (0, one)]
    if bad:
        viol["entries in {0, 1/N}"].append(
            f"entries in {{0, 1/N}}: {len(bad)} entr{'y' if len(bad) == 1 else 'ies'} not 0 or 1/{N}, "
            f"first {bad[0]} = {r[bad[0]]}"
        )
    nz = (r != 0).sum(axis=2)
    for x1, x2 in np.argwhere(nz > 1):
        viol["deterministic"].append(f"deterministic: Y takes {nz[x1, x2]} values at (x1, x2) = ({x1}, {x2})")
    if max(hs) <= inst.n_classes:
        target = _exact_tables(inst, hs)
        for name, got, want in (
            ("p_x1y", r.sum(axis=1), target.p_x1y),
            ("p_x2y", r.sum(axis=0), target.p_x2y),
            ("p_x1x2", r.sum(axis=2), target.p_x1x2),
        ):
            diff = [idx for idx, v in np.ndenumerate(got) if v != want[idx]]
            if diff:
                viol["marginals"].append(
                    f"marginals: {name} differs from the reduction (hours={hs}) in {len(diff)} cell(s), first "
                    f"{diff[0]}: {got[diff[0]]} != {want[diff[0]]}"
                )
    else:
        viol["marginals"].append(f"marginals: hours={hs} has n_h > m = {inst.n_classes}; no reduction exists")
    n = inst.n_teachers
    trips = [(int(i), int(j), int(h)) for i, j, h in np.argwhere(r[:n, :, 1:] != 0) + (0, 0, 1)]
    sv = verify(inst, trips, hours=hs)
    flat = tuple(v for vs in viol.values() for v in vs) + sv.violations
    return Verification(
        ok=not flat, violations=flat, checks={**{k: not v for k, v in viol.items()}, **sv.checks},
        hour_counts=sv.hour_counts,
    )


def joint_to_schedule(
    instance: RTTInstance, joint: Any, hours: Sequence[int] | None = None, *, atol: float = 1e-12
) -> Schedule:
    """The schedule encoded by a deterministic joint: ``f(t, c, h) = 1`` iff ``r(t, c, h) = 1/N``.

    The joint is first checked with :func:`verify_joint` (exact marginals of the reduction for
    ``hours``, entries in {0, 1/N}, ``H(Y|X1,X2) = 0``, RTT conditions).

    Raises
    ------
    InvalidDistributionError
        The joint is not such a witness (the message lists every failed check).
    """
    inst = _check_instance(instance)
    v = verify_joint(inst, joint, hours, atol=atol)
    if not v.ok:
        raise InvalidDistributionError(
            "the joint is not a zero-conditional-entropy joint of this instance's reduction: "
            + "; ".join(v.violations)
            + ". Pass a joint from rtt.schedule_to_joint or rtt.find_deterministic_joint."
        )
    r = _to_exact_joint(inst, joint, atol)
    n = inst.n_teachers
    return {(int(i), int(j), int(h) + 1) for i, j, h in np.argwhere(r[:n, :, 1:] != 0)}
