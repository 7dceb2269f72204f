"""The result interface every analysis returns, and the decomposition result itself.

Every result of pidlab (:class:`PIDResult`, :class:`~pidlab.Comparison`,
:class:`~pidlab.BatchResult`, :class:`~pidlab.SynergyBounds`, :class:`~pidlab.CouplingResult`,
:class:`~pidlab.study.StudyResult`, ...) is a frozen object with the same four views, from the
:class:`Result` base: ``to_dict()`` (plain Python, bits), ``to_json()``, ``table()`` (also
``str()``) and ``_repr_html_()`` (notebooks). The layout of the text and HTML lives in one module,
:mod:`pidlab._render`. The same idea has the same name on every result: ``sources`` and
``target`` (variable names), ``status`` (a :class:`~pidlab.Status`), ``bracket`` (certified
interval per quantity), ``units`` (always ``"bits"``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pidlab._info import clean_zero
from pidlab._status import Status

if TYPE_CHECKING:
    from pidlab._broja import Certificate
    from pidlab._distribution import Distribution

__all__ = ["Result", "FrozenMap", "freeze", "thaw", "PIDResult", "ATOMS"]

ATOMS = ("R", "U1", "U2", "S")

_NET_MEANING = {
    "net synergy": "S - R (net synergy: positive means synergy dominates)",
    "net redundancy": "R - S (net redundancy: positive means redundancy dominates)",
}


class Result:
    """The interface of every pidlab result.

    Subclasses are frozen dataclasses that implement :meth:`to_dict` and :meth:`table`; the base
    adds :meth:`to_json` and ``str()``, and ``_repr_html_`` defaults to the table in a ``<pre>``.
    Results are hashable (by identity, unless a subclass says otherwise): they hold arrays and
    floats, for which equality is not the useful notion of "the same result".
    """

    __slots__ = ()  # subclasses with __slots__ (RTTInstance) stay without a __dict__

    units: str = "bits"

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view (JSON-ready after :func:`pidlab._render.jsonable`), values in bits."""
        raise NotImplementedError

    def to_json(self, **kwargs: Any) -> str:
        """``to_dict()`` as JSON; non-finite numbers become ``null``/``"inf"`` (JSON has neither)."""
        from pidlab._render import jsonable

        kwargs.setdefault("allow_nan", False)
        return json.dumps(jsonable(self.to_dict()), **kwargs)

    def table(self) -> str:
        """A plain-text rendering (also ``str(result)``)."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        import html

        return f"<pre class='pidlab-result'>{html.escape(self.table())}</pre>"


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping (nested mappings of a frozen result)."""

    __slots__ = ("_d",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._d = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._d.items())))

    def __repr__(self) -> str:
        return f"FrozenMap({self._d!r})"


def freeze(obj: Any, *, sequences: bool = True) -> Any:
    """``obj`` with every nested mapping a :class:`FrozenMap` (read-only, hashable); with
    ``sequences`` lists (and tuples) become tuples too, so that the whole value hashes."""
    if isinstance(obj, Mapping):
        return FrozenMap({k: freeze(v, sequences=sequences) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)) and (sequences or isinstance(obj, tuple)):
        return tuple(freeze(v, sequences=sequences) for v in obj)
    if isinstance(obj, list):
        return [freeze(v, sequences=sequences) for v in obj]
    return obj


def thaw(obj: Any) -> Any:
    """The plain-Python form of a frozen value (for ``to_dict``): mappings as dicts, tuples as lists."""
    if isinstance(obj, Mapping):
        return {k: thaw(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [thaw(v) for v in obj]
    return obj


@dataclass(frozen=True)
class PIDResult(Result):
    """A partial information decomposition of ``I(X1, X2; Y)`` in bits.

    Attributes
    ----------
    measure : str
        Registered name of the measure.
    sources : tuple of str
        Names of the two sources.
    target : str
        Name of the target variable.
    R, U1, U2, S : float or None
        Redundancy, the two unique informations and synergy in bits; None where the measure
        does not define the atom (WMS and CI define only a net quantity).
    net : float or None
        The single net quantity of a net measure (WMS: S - R; CI: R - S), else None.
    net_kind : str or None
        ``"net synergy"`` or ``"net redundancy"``.
    I_x1y, I_x2y, I_x1x2y : float
        The mutual informations the atoms decompose.
    solver, status, certificate : solver name, :class:`Status` and :class:`Certificate`
        For measures that solve a program (BROJA); None otherwise.
    bracket : FrozenMap of atom -> (lower, upper)
        Certified interval on each atom (width = certificate gap), where available; read-only.
    notes : tuple of str
        Assumptions and warnings the numbers rest on.
    """

    measure: str
    sources: tuple[str, str] = ("X1", "X2")
    target: str = "Y"
    R: float | None = None
    U1: float | None = None
    U2: float | None = None
    S: float | None = None
    net: float | None = None
    net_kind: str | None = None
    I_x1y: float = 0.0
    I_x2y: float = 0.0
    I_x1x2y: float = 0.0
    solver: str | None = None
    status: Status | None = None
    certificate: Certificate | None = None
    bracket: Mapping[str, tuple[float, float]] | None = None
    iterations: int | None = None
    solve_time: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    units: str = "bits"

    def __post_init__(self) -> None:
        if self.bracket is not None and not isinstance(self.bracket, FrozenMap):
            object.__setattr__(self, "bracket", FrozenMap({k: tuple(v) for k, v in self.bracket.items()}))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_redundancy(
        cls, dist: Distribution, measure: str, R: float, *, notes: tuple[str, ...] = (), **extra: Any
    ) -> PIDResult:
        """Build a full decomposition from a redundancy value via the consistency identities.

        ``U1 = I(X1;Y) - R``, ``U2 = I(X2;Y) - R``, ``S = I(X1,X2;Y) - I(X1;Y) - I(X2;Y) + R``.
        """
        I1 = dist.mutual_information(0, 2)
        I2 = dist.mutual_information(1, 2)
        I12 = dist.mutual_information((0, 1), 2)
        return cls(
            measure=measure,
            sources=(dist.names[0], dist.names[1]),
            target=dist.target,
            R=_clean(R),
            U1=_clean(I1 - R),
            U2=_clean(I2 - R),
            S=_clean(I12 - I1 - I2 + R),
            I_x1y=I1,
            I_x2y=I2,
            I_x1x2y=I12,
            notes=notes,
            **extra,
        )

    @classmethod
    def from_net(cls, dist: Distribution, measure: str, value: float, net_kind: str, **extra: Any) -> PIDResult:
        """Build the result of a net measure (a single quantity, no atoms)."""
        if net_kind not in _NET_MEANING:
            raise ValueError(f"net_kind must be one of {sorted(_NET_MEANING)}, got {net_kind!r}")
        return cls(
            measure=measure,
            sources=(dist.names[0], dist.names[1]),
            target=dist.target,
            net=_clean(value),
            net_kind=net_kind,
            I_x1y=dist.mutual_information(0, 2),
            I_x2y=dist.mutual_information(1, 2),
            I_x1x2y=dist.mutual_information((0, 1), 2),
            notes=(f"{measure} is a net quantity, {_NET_MEANING[net_kind]}; it defines no R, U1, U2, S.",),
            **extra,
        )

    # ------------------------------------------------------------------ views
    @property
    def is_net(self) -> bool:
        return self.net_kind is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view: ``measure, target, units, R, U1, U2, S`` and diagnostics (JSON-ready)."""
        d: dict[str, Any] = {
            "measure": self.measure,
            "sources": list(self.sources),
            "target": self.target,
            "units": self.units,
            "R": self.R,
            "U1": self.U1,
            "U2": self.U2,
            "S": self.S,
        }
        if self.is_net:
            d["net"] = self.net
            d["net_kind"] = self.net_kind
        d["I_x1y"] = self.I_x1y
        d["I_x2y"] = self.I_x2y
        d["I_x1x2y"] = self.I_x1x2y
        if self.solver is not None:
            d["solver"] = self.solver
            d["status"] = str(self.status) if self.status is not None else None
            d["certificate"] = self.certificate.to_dict() if self.certificate is not None else None
            d["bracket"] = {k: list(v) for k, v in (self.bracket or {}).items()}
            d["iterations"] = self.iterations
            d["solve_time"] = self.solve_time
        if self.notes:
            d["notes"] = list(self.notes)
        return d

    def table(self) -> str:
        from pidlab._render import pid_text

        return pid_text(self)

    def _repr_html_(self) -> str:
        from pidlab._render import pid_html

        return pid_html(self)


_clean = clean_zero  # floating-point dust within 1e-12 of 0 is reported as exactly 0
