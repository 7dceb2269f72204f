"""Frozen result objects returned by the analyses."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pidlab._status import Status

if TYPE_CHECKING:
    from pidlab._broja import Certificate
    from pidlab._distribution import Distribution

__all__ = ["PIDResult", "ATOMS"]

ATOMS = ("R", "U1", "U2", "S")

_NET_MEANING = {
    "net synergy": "S - R (net synergy: positive means synergy dominates)",
    "net redundancy": "R - S (net redundancy: positive means redundancy dominates)",
}


@dataclass(frozen=True)
class PIDResult:
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
    bracket : dict of atom -> (lower, upper)
        Certified interval on each atom (width = certificate gap), where available.
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
    bracket: dict[str, tuple[float, float]] | None = None
    iterations: int | None = None
    solve_time: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    units: str = "bits"

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

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self) -> str:
        head = f"{self.measure}: I({self.sources[0]},{self.sources[1]}; {self.target}) = {self.I_x1x2y:.6f} bits"
        if self.is_net:
            body = f"  {self.net_kind} = {self.net:+.6f} bits"
        else:
            body = "  " + "  ".join(f"{a}={_fmt(getattr(self, a))}" for a in ATOMS)
        tail = ""
        if self.solver is not None:
            gap = self.certificate.gap if self.certificate is not None else None
            tail = f"\n  solver={self.solver} status={self.status}" + (f" gap={gap:.2e} bits" if gap is not None else "")
        return head + "\n" + body + tail

    def _repr_html_(self) -> str:
        e = html.escape
        rows = []
        if self.is_net:
            rows.append(f"<tr><td>{e(str(self.net_kind))}</td><td>{self.net:+.6f}</td></tr>")
        else:
            names = {"R": "redundancy R", "U1": f"unique U1 ({self.sources[0]})", "U2": f"unique U2 ({self.sources[1]})", "S": "synergy S"}
            for a in ATOMS:
                lohi = (self.bracket or {}).get(a)
                br = f"[{lohi[0]:.9f}, {lohi[1]:.9f}]" if lohi else ""
                rows.append(f"<tr><td>{e(names[a])}</td><td>{_fmt(getattr(self, a))}</td><td>{br}</td></tr>")
        meta = ""
        if self.solver is not None:
            c = self.certificate
            meta = (
                f"<p>solver <b>{e(self.solver)}</b>, status <b>{e(str(self.status))}</b>"
                + (f", certified gap {c.gap:.2e} bits, marginal residual {c.marginal_residual:.1e}" if c else "")
                + "</p>"
            )
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        return (
            f"<div class='pidlab-result'><b>{e(self.measure)}</b>: "
            f"I({e(self.sources[0])},{e(self.sources[1])}; target {e(self.target)}) = {self.I_x1x2y:.6f} bits"
            f"<table><thead><tr><th>atom</th><th>bits</th><th>{'certified bracket' if self.bracket else ''}</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>{meta}"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )


def _clean(v: float) -> float:
    """Round values within 1e-12 of 0 to exactly 0 (floating-point dust, not information)."""
    v = float(v)
    return 0.0 if abs(v) < 1e-12 else v


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.6f}"
