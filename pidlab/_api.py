"""Top-level analysis functions and registry listings."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from numpy.typing import ArrayLike

from pidlab._distribution import Distribution
from pidlab._plugins import lookup, names, plugin_manager
from pidlab._results import PIDResult, Result
from pidlab.exceptions import PidlabError, PluginOutputError, SolverError

__all__ = [
    "decompose",
    "compare",
    "Comparison",
    "measures",
    "solvers",
    "discretizers",
    "couplings",
    "plugins",
    "PluginInfo",
]


def _as_distribution(p: Distribution | ArrayLike) -> Distribution:
    return p if isinstance(p, Distribution) else Distribution(p)


def decompose(p: Distribution | ArrayLike, measure: str = "broja", solver: Any = None, **options: Any) -> PIDResult:
    """Partial information decomposition of ``I(X1, X2; Y)`` in bits, target Y the last axis.

    Parameters
    ----------
    p : Distribution or array_like, shape (|X1|, |X2|, |Y|)
    measure : str, default "broja"
        A registered measure name or alias (``pidlab.measures()``).
    solver : str, Solver or None
        For measures that solve a program (BROJA): backend name (``pidlab.solvers()``) or
        None for the preferred available one. The default choice may change between versions.
    **options
        Backend options; only with an explicit ``solver``.

    Returns
    -------
    PIDResult
        Frozen; ``to_dict()`` gives ``measure, R, U1, U2, S`` in bits (None where undefined).

    Raises
    ------
    InvalidDistributionError, UnknownNameError, SolverError

    Examples
    --------
    >>> import pidlab
    >>> r = pidlab.decompose(pidlab.examples.get("and"), measure="imin")
    >>> round(r.R, 6), round(r.S, 6)
    (0.311278, 0.5)
    """
    dist = _as_distribution(p)
    entry = lookup("measure", measure)
    inst = entry.instance()
    if not getattr(entry.cls, "uses_solver", False):
        if solver is not None or options:
            raise SolverError(
                f"measure {entry.name!r} is closed-form and takes no solver or solver options; "
                "drop solver= (only 'broja' and other solver-based measures use one)."
            )
        return _checked(entry.name, dist, lambda: inst.compute(dist))
    return _checked(entry.name, dist, lambda: inst.compute(dist, solver=solver, **options))


#: Largest violation (bits) of a consistency identity the host accepts from a measure, on top of
#: the certified gap of its solve.
IDENTITY_TOL = 1e-6


def _checked(name: str, dist: Distribution, run: Any) -> PIDResult:
    """Run a measure plugin and check what it returns before anyone prints it (plugins are code
    from strangers): a PIDResult, finite values, and for a full decomposition the identities
    ``R + U1 = I(X1;Y)``, ``R + U2 = I(X2;Y)``, ``R + U1 + U2 + S = I(X1,X2;Y)`` against the
    host's own informations. Negative atoms are allowed (some measures have them) but noted."""
    try:
        res = run()
    except PidlabError:
        raise
    except Exception as exc:
        raise PluginOutputError(f"measure {name!r} failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(res, PIDResult):
        raise PluginOutputError(f"measure {name!r} returned {type(res).__name__}, not a pidlab.PIDResult.")
    values = {k: getattr(res, k) for k in ("R", "U1", "U2", "S", "net", "I_x1y", "I_x2y", "I_x1x2y")}
    bad = [k for k, v in values.items() if v is not None and not math.isfinite(float(v))]
    if bad:
        raise PluginOutputError(
            f"measure {name!r} returned non-finite values for {', '.join(bad)}; the result is not shown."
        )
    if not res.is_net:
        atoms = [values[k] for k in ("R", "U1", "U2", "S")]
        if any(a is None for a in atoms):
            raise PluginOutputError(f"measure {name!r} is a full decomposition but left an atom undefined.")
        R, U1, U2, S = (float(a) for a in atoms)
        I1, I2 = dist.mutual_information(0, 2), dist.mutual_information(1, 2)
        I12 = dist.mutual_information((0, 1), 2)
        tol = IDENTITY_TOL + (res.certificate.gap if res.certificate is not None else 0.0)
        broken = [f"{lhs} = {v:.6g} but {rhs} = {w:.6g}" for lhs, v, rhs, w in (
            ("R + U1", R + U1, "I(X1;Y)", I1), ("R + U2", R + U2, "I(X2;Y)", I2),
            ("R + U1 + U2 + S", R + U1 + U2 + S, "I(X1,X2;Y)", I12)) if abs(v - w) > tol]
        if broken:
            raise PluginOutputError(
                f"measure {name!r} returned atoms that break the PID identities ({'; '.join(broken)}); "
                "the result is not shown."
            )
        neg = [k for k, v in zip(("R", "U1", "U2", "S"), (R, U1, U2, S)) if v < -tol]
        if neg:
            note = f"negative atom(s) {', '.join(neg)}: allowed by some measures, not by a nonnegative decomposition"
            res = dataclasses.replace(res, notes=(*res.notes, note))
    return res


@dataclass(frozen=True)
class Comparison(Result):
    """Several measures on one distribution, side by side (bits).

    Attributes
    ----------
    results : tuple of PIDResult
        One per measure that succeeded, in the order asked.
    target : str
    errors : tuple of (str, str)
        The measures that failed and their messages (with ``compare(..., errors="record")``).
    """

    results: tuple[PIDResult, ...]
    target: str
    errors: tuple[tuple[str, str], ...] = ()

    @property
    def sources(self) -> tuple[str, str]:
        return self.results[0].sources if self.results else ("X1", "X2")

    def __getitem__(self, measure: str) -> PIDResult:
        for r in self.results:
            if r.measure == measure:
                return r
        raise KeyError(f"no result for measure {measure!r} in this comparison; it holds {[r.measure for r in self.results]}")

    def __iter__(self) -> Iterator[PIDResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "units": "bits",
            "results": [r.to_dict() for r in self.results],
            "errors": [{"measure": m, "error": e} for m, e in self.errors],
        }

    def table(self) -> str:
        """A plain-text table (measures as rows)."""
        from pidlab._render import comparison_table

        return comparison_table(self)

    def _repr_html_(self) -> str:
        from pidlab._render import comparison_html

        return comparison_html(self)


def compare(
    p: Distribution | ArrayLike, measures: Iterable[str] | None = None, *, solver: Any = None, errors: str = "raise"
) -> Comparison:
    """Decompose ``p`` with several measures (all registered ones by default).

    ``errors="record"`` keeps going when one measure fails and records its message;
    ``"raise"`` (default) stops at the first failure.
    """
    if errors not in ("raise", "record"):
        raise ValueError(f"errors must be 'raise' or 'record', got {errors!r}")
    dist = _as_distribution(p)
    chosen = list(measures) if measures is not None else names("measure")
    out, errs = [], []
    for m in chosen:
        entry = lookup("measure", m)
        try:
            uses = getattr(entry.cls, "uses_solver", False)
            out.append(decompose(dist, entry.name, solver=solver if uses else None))
        except PidlabError as exc:
            if errors == "raise":
                raise
            errs.append((entry.name, str(exc)))
    return Comparison(tuple(out), dist.target, tuple(errs))


# ---------------------------------------------------------------------------- listings
@dataclass(frozen=True)
class PluginInfo:
    """One plugin class as listed by :func:`plugins`."""

    kind: str
    name: str
    plugin: str
    builtin: bool
    available: bool
    reason: str | None
    aliases: tuple[str, ...]
    description: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def measures() -> list[str]:
    """Registered PID measure names (built-in and third-party)."""
    return names("measure")


def solvers(*, available: bool = False) -> list[str]:
    """Registered solver names in preference order; ``available=True`` keeps those usable here."""
    out = names("solver")
    if available:
        out = [n for n in out if lookup("solver", n).availability()[0]]
    return out


def discretizers() -> list[str]:
    """Registered discretizer names."""
    return names("discretizer")


def couplings() -> list[str]:
    """Registered min-entropy coupling approximators."""
    return names("coupling")


def plugins() -> list[PluginInfo]:
    """Every registered plugin class with its availability and, when unavailable, why.

    Third-party plugins that failed to load are listed with kind ``"failed"``.
    """
    pm = plugin_manager()
    out = []
    for kind in ("measure", "solver", "discretizer", "coupling"):
        for n in names(kind):
            e = pm.entries[kind][n]
            ok, reason = e.availability()
            out.append(PluginInfo(kind, n, e.plugin, e.builtin, ok, reason, e.aliases, e.description))
    for pname, reason in pm.failed.items():
        out.append(PluginInfo("failed", pname, pname, False, False, reason, (), ""))
    return out
