"""``pidlab decompose``: PID of a canonical gate or of a distribution read from a file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pidlab import Distribution
from pidlab.cli._common import FORMAT_HELP, emit, parse_columns
from pidlab.examples import names as example_names
from pidlab.exceptions import InvalidDistributionError


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "decompose",
        help="decompose I(X1,X2;Y) of a gate or file into R, U1, U2, S (bits)",
        description=(
            "Partial information decomposition of I(X1,X2;Y) in bits; the target is the last axis / the y column. "
            "Files: F.json holds a nested list p[x1][x2][y] or {\"p\": ..., \"names\": [...], \"labels\": [...]}; "
            "F.npy a 3-D array; F.csv samples, one row per sample, with a header naming the columns x1,x2,y "
            "(case-insensitive; other columns are ignored; blank lines are skipped). CSV cells are symbol "
            "labels: non-numeric cells are fine, and 07 and 7 are two different symbols; an empty cell or a NaN "
            "(nan, NaN) is a missing value and is refused, never made a class."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--example",
        metavar="NAME",
        help=f"a canonical gate, one of: {', '.join(example_names())} (default: none; give --example or --file)",
    )
    src.add_argument(
        "--file",
        metavar="F",
        help="F.json (nested list p[x1][x2][y] or {'p': ..., 'names': [...], 'labels': [...]}), F.npy (3-D array) "
        "or F.csv (samples, one row per sample, header x1,x2,y) (default: none; give --example or --file)",
    )
    p.add_argument(
        "--columns",
        metavar="A,B,C",
        help="samples: the columns holding X1, X2 and Y, in that order; header names, matched case-insensitively, "
        "which become the variable names; with --no-header, column numbers counted from 1, e.g. 3,1,2 "
        "(default: x1,x2,y; with --no-header 1,2,3)",
    )
    p.add_argument(
        "--no-header",
        dest="header",
        action="store_false",
        help="samples (.csv): the file has no header row; every row is a sample and x1, x2, y are read by "
        "position (default: off, the first non-blank row is the header)",
    )
    p.add_argument("--measure", default="broja", help="a measure name, or 'all' to compare every registered one "
                   "(default: %(default)s)")
    p.add_argument("--solver", default=None, help="BROJA backend (default: the preferred available one)")
    p.add_argument("--normalize", action="store_true",
                   help="tables (.json/.npy): divide the table by its total instead of rejecting it (default: off)")
    p.add_argument("--ci", type=float, metavar="LEVEL",
                   help="samples (.csv): also bootstrap intervals (hull of BCa and percentile) at this confidence level in (0, 1), a "
                   "bias-corrected estimate and a significance test of each atom (pidlab.decompose_samples) "
                   "(default: off, the plug-in table only)")
    p.add_argument("--permutations", type=int, metavar="N",
                   help="samples: surrogates per significance test (default: 200 when --ci is given; 0: no tests)")
    p.add_argument("--n-boot", type=int, metavar="N",
                   help="samples: bootstrap replicates (default: 1000 when --ci is given)")
    p.add_argument("--seed", type=int, metavar="S", help="samples: seed of the resampling (default: fresh entropy)")
    p.add_argument("--format", choices=("table", "json"), default="table", help=FORMAT_HELP)
    return p


def _samples_inference(args: argparse.Namespace) -> int:
    import pidlab
    from pidlab.io import read_samples

    if args.file is None or not str(args.file).lower().endswith(".csv"):
        raise InvalidDistributionError(
            "--ci, --permutations, --n-boot and --seed need samples: give --file F.csv (one row per sample), "
            "not a table or an --example."
        )
    if args.measure.strip().lower() == "all":
        raise InvalidDistributionError("--ci works with one measure at a time: give --measure NAME, not 'all'.")
    cols = parse_columns(args.columns, header=args.header) or (("x1", "x2", "y") if args.header else (0, 1, 2))
    x1, x2, y = read_samples(args.file, cols, header=args.header)
    names = tuple(str(c) for c in cols) if args.header else ("X1", "X2", "Y")
    from pidlab.study._progress import ProgressLine

    bar = ProgressLine(sys.stderr, label="resampling", unit=" tables")  # draws only on a terminal
    try:
        res = pidlab.decompose_samples(
            x1, x2, y, measure=args.measure, ci=0.9 if args.ci is None else args.ci,
            n_boot=1000 if args.n_boot is None else args.n_boot,
            permutations=200 if args.permutations is None else args.permutations,
            seed=args.seed, names=names, progress=bar,  # type: ignore[arg-type]
        )
    finally:
        bar.close()
    emit(res, args.format, text=f"{args.file}: {len(y)} samples\n{res.table()}")
    return 0


def load_distribution(
    path: str, *, normalize: bool = False, columns: str | None = None, header: bool = True
) -> Distribution:
    """Read a distribution from .json, .npy or .csv through :func:`pidlab.io.read_distribution`."""
    from pidlab.io import read_distribution

    return read_distribution(path, columns=parse_columns(columns, header=header), header=header, normalize=normalize)


def run(args: argparse.Namespace) -> int:
    import pidlab

    if any(v is not None for v in (args.ci, args.permutations, args.n_boot, args.seed)):
        return _samples_inference(args)
    if args.example is not None:
        if args.columns is not None or not args.header:
            raise InvalidDistributionError("--columns and --no-header apply to samples read with --file; drop them.")
        dist = pidlab.examples.get(args.example)
        title = f"{args.example.lower()}: {pidlab.examples.describe(args.example)}"
    else:
        dist = load_distribution(args.file, normalize=args.normalize, columns=args.columns, header=args.header)
        title = f"{args.file}: {dist!r}"
    if args.measure.strip().lower() == "all":
        cmp = pidlab.compare(dist, solver=args.solver)
        emit(cmp, args.format, text=f"{title}\n{cmp.table()}")
    else:
        res = pidlab.decompose(dist, measure=args.measure, solver=args.solver)
        emit(res, args.format, text=f"{title}\n{res}")
    return 0
