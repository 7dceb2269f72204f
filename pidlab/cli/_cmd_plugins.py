"""``pidlab plugins``: every registered plugin with its availability and, when unavailable, why."""

from __future__ import annotations

import argparse
from typing import Any

from pidlab.cli._common import FORMAT_HELP, emit


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("plugins", help="list measures, solvers, discretizers and couplings with their availability")
    p.add_argument("--format", choices=("table", "json"), default="table", help=FORMAT_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    import pidlab

    infos = pidlab.plugins()
    rows = [("kind", "name", "plugin", "status", "description / reason")]
    for i in infos:
        status = "available" if i.available else ("FAILED" if i.kind == "failed" else "unavailable")
        why = i.description if i.available else (i.reason or "")
        alias = f" (aliases: {', '.join(i.aliases)})" if i.aliases else ""
        rows.append((i.kind, i.name + alias, i.plugin + ("" if i.builtin else " [third-party]"), status, why))
    widths = [max(len(r[k]) for r in rows) for k in range(4)]
    lines = ["  ".join(r[k].ljust(widths[k]) for k in range(4)) + "  " + r[4] for r in rows]
    emit([i.to_dict() for i in infos], args.format, text="\n".join(lines))
    return 0
