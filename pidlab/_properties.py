"""The bivariate PID properties, checked numerically for any registered measure:
:func:`check_properties` and :class:`PropertiesResult`.

Each property is a statement about the decomposition of some distributions; it is tested on a
fixed battery (the canonical gates of :mod:`pidlab.examples` and seeded random tables, with and
without exact zeros) and reported as satisfied on the battery or violated, with the first
counterexample (the distribution, the value found and the value expected). A property that holds
on the battery is not proved; a violation is a proof.

==================== ==========================================================================
property             statement (bits; tolerance ``tol`` plus the measure's certified gap)
==================== ==========================================================================
finite               every quantity is a finite number (no NaN, no infinity)
identities           R + U1 = I(X1;Y), R + U2 = I(X2;Y), R + U1 + U2 + S = I(X1,X2;Y)
symmetry             swapping the sources keeps R and S and swaps U1 and U2
self-redundancy      with X2 a copy of X1: R = I(X1;Y)
monotonicity         R <= min(I(X1;Y), I(X2;Y))  (equivalently U1, U2 >= 0)
nonnegative R        R >= 0
nonnegativity        every atom R, U1, U2, S >= 0 (local positivity of the bivariate lattice)
identity             Y = (X1, X2): R = I(X1;X2)  (Harder, Salge & Polani 2013)
independent identity Y = (X1, X2) with X1, X2 independent: R = 0
continuity           mixing p with the uniform table at weight 1e-9 moves R by at most 1e-4
==================== ==========================================================================

Net measures (WMS, CI) define no atoms: only ``finite`` and the symmetry of the net value apply;
the other properties are reported ``n/a``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pidlab._distribution import Distribution
from pidlab._results import Result, freeze, thaw
from pidlab.exceptions import ParameterError, PidlabError

__all__ = ["check_properties", "PropertiesResult", "PROPERTIES"]

#: The properties checked, in table order.
PROPERTIES: tuple[str, ...] = (
    "finite",
    "identities",
    "symmetry",
    "self-redundancy",
    "monotonicity",
    "nonnegative R",
    "nonnegativity",
    "identity",
    "independent identity",
    "continuity",
)
_NET_PROPERTIES = ("finite", "symmetry")


@dataclass(frozen=True, eq=False)
class PropertiesResult(Result):
    """Which measure satisfies which property on the battery, with counterexamples.

    Attributes
    ----------
    measures : tuple of str
        The measures checked, in order.
    properties : tuple of str
        The properties (see :data:`PROPERTIES`).
    results : mapping measure -> property -> str
        ``"yes"`` (holds on the battery), ``"NO"`` (violated; see ``counterexamples``),
        or ``"n/a"`` (does not apply: net measures). Distributions a measure refuses (a shape it
        does not support) are skipped and counted in ``notes``.
    counterexamples : tuple of mappings
        One per violation: ``measure``, ``property``, ``distribution`` (its name in the
        battery), ``p`` (the joint, nested lists), ``value``, ``expected``, ``detail``.
    n_distributions : int
        Size of the battery.
    tol : float
    """

    measures: tuple[str, ...]
    properties: tuple[str, ...]
    results: Any  # FrozenMap measure -> FrozenMap property -> status
    counterexamples: tuple[Any, ...] = ()
    n_distributions: int = 0
    tol: float = 1e-7
    notes: tuple[str, ...] = field(default_factory=tuple)

    def status(self, measure: str, prop: str) -> str:
        """``"yes"``, ``"NO"`` or ``"n/a"``."""
        return str(self.results[measure][prop])

    def satisfies(self, measure: str, prop: str) -> bool:
        """Whether ``measure`` satisfied ``prop`` on the whole battery."""
        return self.status(measure, prop) == "yes"

    def to_dict(self) -> dict[str, Any]:
        return {
            "measures": list(self.measures),
            "properties": list(self.properties),
            "table": thaw(self.results),
            "counterexamples": thaw(self.counterexamples),
            "n_distributions": self.n_distributions,
            "tol": self.tol,
            "units": self.units,
            "notes": list(self.notes),
        }

    def table(self) -> str:
        from pidlab._render import properties_text

        return properties_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import properties_html

        return properties_html(self)


# --------------------------------------------------------------------------- the battery
def battery(n_random: int = 12, seed: int = 0) -> list[tuple[str, Distribution]]:
    """The canonical gates and ``n_random`` seeded random tables (sizes 2 to 3, a third with zeros)."""
    from pidlab import examples

    out = [(g, examples.get(g)) for g in examples.names()]
    rng = np.random.default_rng(seed)
    for k in range(n_random):
        shape = tuple(int(v) for v in rng.integers(2, 4, size=3))
        p = rng.dirichlet(np.full(int(np.prod(shape)), 0.8)).reshape(shape)
        if k % 3 == 2:
            p[rng.random(shape) < 0.3] = 0.0
            if p.sum() == 0:
                p.flat[0] = 1.0
            p /= p.sum()
        out.append((f"random#{k} {shape[0]}x{shape[1]}x{shape[2]}", Distribution(p)))
    return out


def _copy_source(d: Distribution) -> Distribution:
    """X2 := X1, same (X1, Y)."""
    p1y = d.p.sum(axis=1)
    a, c = p1y.shape
    q = np.zeros((a, a, c))
    q[np.arange(a), np.arange(a), :] = p1y
    return Distribution(q)


def _copy_target(p12: np.ndarray) -> Distribution:
    """Y := (X1, X2)."""
    a, b = p12.shape
    q = np.zeros((a, b, a * b))
    i, j = np.meshgrid(np.arange(a), np.arange(b), indexing="ij")
    q[i, j, i * b + j] = p12
    return Distribution(q)


def _mi2(p12: np.ndarray) -> float:
    from pidlab._info import mutual_information_2d

    return mutual_information_2d(p12)


# --------------------------------------------------------------------------- the check
def check_properties(measure: str | Iterable[str] | None = None, *, n_random: int = 12, seed: int = 0,
                     tol: float = 1e-7) -> PropertiesResult:
    """Test the bivariate PID properties of one or more registered measures numerically.

    Parameters
    ----------
    measure : str, iterable of str or None
        Registered measure name(s) or alias(es); None: every registered measure (built-in and
        third-party).
    n_random : int, default 12
        Random tables added to the canonical gates (seeded; sizes 2 to 3 per variable).
    seed : int
    tol : float, default 1e-7
        Tolerance in bits (plus the certified gap of measures that solve a program).

    Returns
    -------
    PropertiesResult
        ``str()`` prints the measure x property table and the counterexamples.

    Examples
    --------
    >>> import pidlab
    >>> r = pidlab.check_properties(["imin", "broja"], n_random=2)
    >>> r.status("imin", "identity"), r.status("broja", "identity")
    ('NO', 'yes')
    """
    from pidlab import decompose
    from pidlab._plugins import lookup, names

    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise ParameterError(f"The `'tol'` parameter of `check_properties` must be a positive number of bits. "
                             f"Got {tol!r} instead. Use e.g. tol=1e-7.")
    if not (isinstance(n_random, int) and 0 <= n_random <= 10_000):
        raise ParameterError(f"The `'n_random'` parameter of `check_properties` must be an int in [0, 10000]. "
                             f"Got {n_random!r} instead.")
    if measure is None:
        wanted = list(names("measure"))
    elif isinstance(measure, str):
        wanted = [measure]
    else:
        wanted = list(measure)
    entries = [lookup("measure", m) for m in wanted]
    mnames = tuple(dict.fromkeys(e.name for e in entries))
    bat = battery(n_random, seed)
    rng = np.random.default_rng(seed + 1)
    p12s = [("independent 2x2", np.full((2, 2), 0.25)), ("independent 2x3", np.outer([0.3, 0.7], [0.2, 0.3, 0.5]))]
    dep12 = [("perfectly correlated", np.diag([0.5, 0.5])),
             *((f"random X1X2 #{k}", rng.dirichlet(np.ones(6)).reshape(2, 3)) for k in range(3))]
    results: dict[str, dict[str, str]] = {}
    cex: list[dict[str, Any]] = []
    notes: list[str] = []
    for name in mnames:
        entry = lookup("measure", name)
        row: dict[str, str] = {}
        results[name] = row

        def run(d: Distribution, name: str = name) -> Any:
            return decompose(d, name)

        def violate(prop: str, label: str, d: Distribution, value: float | str, expected: str, detail: str = "",
                    name: str = name, row: dict[str, str] = row) -> None:
            if row.get(prop) != "NO":
                row[prop] = "NO"
                cex.append({"measure": name, "property": prop, "distribution": label,
                            "p": np.round(d.p, 12).tolist(), "value": value, "expected": expected,
                            "detail": detail})

        is_net = getattr(entry.cls, "kind", "pid") == "net"
        skipped: list[str] = []
        _check_one(name, is_net, bat, p12s, dep12, run, violate, row, tol, skipped)
        if skipped:
            notes.append(f"{name} refused {len(skipped)} distribution(s) of the battery (not counted), "
                         f"first: {skipped[0]}")
        for prop in PROPERTIES:
            row.setdefault(prop, "n/a" if is_net and prop not in _NET_PROPERTIES else "yes")
    return PropertiesResult(
        measures=mnames,
        properties=PROPERTIES,
        results=freeze(results),
        counterexamples=tuple(freeze(c, sequences=False) for c in cex),
        n_distributions=len(bat),
        tol=float(tol),
        notes=tuple(notes),
    )


def _check_one(name: str, is_net: bool, bat: list[tuple[str, Distribution]],
               p12s: list[tuple[str, np.ndarray]], dep12: list[tuple[str, np.ndarray]],
               run: Callable[[Distribution], Any], violate: Callable[..., None], row: dict[str, str],
               tol: float, skipped: list[str]) -> None:
    from pidlab.exceptions import PluginOutputError

    def gap(r: Any) -> float:
        c = getattr(r, "certificate", None)
        return float(c.gap) if c is not None else 0.0

    def safe(label: str, d: Distribution) -> Any:
        try:
            return run(d)
        except PluginOutputError as exc:  # NaN, broken identities: the host refused the result
            prop = "finite" if "non-finite" in str(exc) else "identities"
            violate(prop, label, d, "refused", "a finite decomposition satisfying the identities", str(exc))
            return None
        except PidlabError as exc:  # e.g. a shape the measure does not support: skipped, counted
            skipped.append(f"{label}: {exc}")
            return None

    for label, d in bat:
        r = safe(label, d)
        if r is None:
            continue
        t = tol + gap(r)
        if is_net:
            s = safe(label + " (sources swapped)", d.swap_sources())
            if s is not None and abs(s.net - r.net) > t:
                violate("symmetry", label, d, s.net, f"{r.net:.9g}", "net value changed when swapping sources")
            continue
        R, U1, U2, S = r.R, r.U1, r.U2, r.S
        s = safe(label + " (sources swapped)", d.swap_sources())
        if s is not None and max(abs(s.R - R), abs(s.U1 - U2), abs(s.U2 - U1), abs(s.S - S)) > t + gap(s):
            violate("symmetry", label, d, f"R={s.R:.9g}, U1={s.U1:.9g}", f"R={R:.9g}, U1={U2:.9g}",
                    "swapping the sources must keep R and swap U1, U2")
        if R > min(r.I_x1y, r.I_x2y) + t:
            violate("monotonicity", label, d, R, f"<= min(I(X1;Y), I(X2;Y)) = {min(r.I_x1y, r.I_x2y):.9g}")
        if R < -t:
            violate("nonnegative R", label, d, R, ">= 0")
        neg = {k: v for k, v in (("R", R), ("U1", U1), ("U2", U2), ("S", S)) if v < -t}
        if neg:
            k, v = min(neg.items(), key=lambda kv: kv[1])
            violate("nonnegativity", label, d, v, ">= 0", f"atom {k}")
        # self-redundancy on the same (X1, Y)
        dc = _copy_source(d)
        rc = safe(label + " with X2 := X1", dc)
        if rc is not None:
            I1 = dc.mutual_information(0, 2)
            if abs(rc.R - I1) > tol + gap(rc):
                violate("self-redundancy", label + " with X2 := X1", dc, rc.R, f"I(X1;Y) = {I1:.9g}")
        # continuity: a tiny full-support perturbation
        pe = (1 - 1e-9) * d.p + 1e-9 / d.p.size
        re = safe(label + " + 1e-9 uniform", Distribution(pe / pe.sum()))
        if re is not None and abs(re.R - R) > 1e-4 + gap(re):
            violate("continuity", label, d, f"R = {re.R:.9g} after mixing in 1e-9 of the uniform table",
                    f"R = {R:.9g} (within 1e-4)")
    if is_net:
        return
    for label, p12 in p12s:
        d = _copy_target(p12)
        r = safe(f"Y = (X1, X2), {label}", d)
        if r is not None and abs(r.R) > tol + gap(r):
            violate("independent identity", f"Y = (X1, X2), {label}", d, r.R, "0")
    for label, p12 in p12s + dep12:
        d = _copy_target(p12)
        r = safe(f"Y = (X1, X2), {label}", d)
        want = _mi2(p12)
        if r is not None and abs(r.R - want) > tol + gap(r):
            violate("identity", f"Y = (X1, X2), {label}", d, r.R, f"I(X1;X2) = {want:.9g}")
