"""``pidlab decompose``: PID of a canonical gate or of a distribution read from a file."""

from __future__ import annotations

import argparse
from typing import Any

from pidlab._distribution import Distribution
from pidlab.cli._common import emit, existing_file, read_json, read_npy, read_samples_csv
from pidlab.exceptions import InvalidDistributionError


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "decompose",
        help="decompose I(X1,X2;Y) of a gate or file into R, U1, U2, S (bits)",
        description="Partial information decomposition of I(X1,X2;Y) in bits; the target is the last axis / the y column.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--example", metavar="NAME", help="a canonical gate (see pidlab.examples.names())")
    src.add_argument(
        "--file",
        metavar="F",
        help="F.json (nested list p[x1][x2][y] or {'p': ..., 'names': [...]}), F.npy (3-D array) "
        "or F.csv (samples with columns x1,x2,y)",
    )
    p.add_argument("--measure", default="broja", help="a measure name, or 'all' (default: broja)")
    p.add_argument("--solver", default=None, help="BROJA backend (default: the preferred available one)")
    p.add_argument("--normalize", action="store_true", help="divide the table by its total instead of rejecting it")
    p.add_argument("--format", choices=("table", "json"), default="table")
    return p


def load_distribution(path: str, *, normalize: bool = False) -> Distribution:
    """Read a distribution from .json, .npy or .csv (samples with columns x1, x2, y)."""
    suffix = existing_file(path).suffix.lower()
    if suffix == ".json":
        data = read_json(path)
        if isinstance(data, dict):
            if "p" not in data:
                raise InvalidDistributionError(f"{path}: a JSON object needs a key 'p' holding p[x1][x2][y].")
            names = tuple(data.get("names", ("X1", "X2", "Y")))
            return Distribution(data["p"], labels=data.get("labels"), names=names, normalize=normalize)  # type: ignore[arg-type]
        return Distribution(data, normalize=normalize)
    if suffix == ".npy":
        return Distribution(read_npy(path), normalize=normalize)
    if suffix == ".csv":
        return Distribution.from_samples(*read_samples_csv(path, ("x1", "x2", "y")))
    raise InvalidDistributionError(f"unsupported file type {suffix!r} for {path}; use .json, .npy or .csv.")


def run(args: argparse.Namespace) -> int:
    import pidlab

    if args.example is not None:
        dist = pidlab.examples.get(args.example)
        title = f"{args.example.lower()}: {pidlab.examples.describe(args.example)}"
    else:
        dist = load_distribution(args.file, normalize=args.normalize)
        title = f"{args.file}: {dist!r}"
    if args.measure.strip().lower() == "all":
        cmp = pidlab.compare(dist, solver=args.solver)
        emit(cmp, args.format, text=f"{title}\n{cmp.table()}")
    else:
        res = pidlab.decompose(dist, measure=args.measure, solver=args.solver)
        emit(res, args.format, text=f"{title}\n{res}")
    return 0
