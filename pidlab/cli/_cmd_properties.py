"""``pidlab properties``: the bivariate PID properties of the registered measures, checked
numerically (a measure x property table with a counterexample for each violation)."""

from __future__ import annotations

import argparse
from typing import Any

from pidlab.cli._common import FORMAT_HELP, emit


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("properties", help="check the PID properties (symmetry, identity, ...) of the measures")
    p.add_argument("--measure", action="append", metavar="NAME",
                   help="a registered measure name or alias; repeat for several (default: every registered measure)")
    p.add_argument("--n-random", type=int, default=12, metavar="N",
                   help="random tables added to the canonical gates (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random tables (default: %(default)s)")
    p.add_argument("--tol", type=float, default=1e-7, help="tolerance in bits (default: %(default)s)")
    p.add_argument("--format", choices=("table", "json"), default="table", help=FORMAT_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    import pidlab

    res = pidlab.check_properties(args.measure, n_random=args.n_random, seed=args.seed, tol=args.tol)
    emit(res.to_dict(), args.format, text=res.table())
    return 0
