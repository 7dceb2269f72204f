"""Plain-text and HTML renderings shared by the CLI, notebooks and widgets."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pidlab._api import Comparison

__all__ = ["comparison_rows", "comparison_table", "comparison_html", "fmt_bits"]

HEADER = ("measure", "R", "U1", "U2", "S", "net", "solver", "status")


def fmt_bits(v: float | None, digits: int = 6) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def comparison_rows(cmp: Comparison) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in cmp.results:
        net = "" if r.net is None else f"{r.net:+.6f} ({r.net_kind})"
        rows.append(
            (
                r.measure,
                fmt_bits(r.R),
                fmt_bits(r.U1),
                fmt_bits(r.U2),
                fmt_bits(r.S),
                net,
                r.solver or "",
                str(r.status) if r.status is not None else "",
            )
        )
    return rows


def comparison_table(cmp: Comparison) -> str:
    rows = [HEADER, *comparison_rows(cmp)]
    # Drop solver/status columns when no measure used a solver.
    ncols = len(HEADER) if any(r[6] for r in rows[1:]) else 6
    widths = [max(len(r[i]) for r in rows) for i in range(ncols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:ncols], widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"(bits; target {cmp.target}; — = atom not defined by the measure)")
    for m, e in cmp.errors:
        lines.append(f"{m}: failed: {e}")
    return "\n".join(lines)


def comparison_html(cmp: Comparison) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in comparison_rows(cmp))
    errs = "".join(f"<li>{e(m)}: {e(err)}</li>" for m, err in cmp.errors)
    return (
        f"<div class='pidlab-comparison'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<p>bits; target <b>{e(cmp.target)}</b>; — = atom not defined by the measure</p>"
        + (f"<ul>{errs}</ul>" if errs else "")
        + "</div>"
    )
