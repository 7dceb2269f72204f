"""``pidlab bounds``: semi-supervised synergy bounds from three sample files or three tables."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from pidlab.cli._common import FORMAT_HELP, emit, parse_columns
from pidlab.examples import names as example_names
from pidlab.exceptions import InvalidDistributionError


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bounds",
        help="bounds on synergy from labelled unimodal data and unlabelled pairs (bits)",
        description=(
            "Semi-supervised interaction bounds (Liang et al., ICLR 2024) in bits: exact R, U1, U2 and bounds on "
            "synergy S and on the Bayes accuracy, from three sample files (.csv, one row per sample, with a header "
            "naming the columns: x1,y / x2,y / x1,x2; other columns are ignored) or three probability tables "
            "p(x1,y), p(x2,y), p(x1,x2) (.json nested lists, .npy arrays or .csv rows of numbers). "
            "--columns X1,X2,Y renames the three variables' columns for all three sample files; each file is "
            "read for the two it holds. CSV cells are symbol labels: non-numeric cells are fine, and 07 and 7 are "
            "two different symbols."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--samples", nargs=3, metavar=("D1.csv", "D2.csv", "DM.csv"),
                     help="labelled modality 1 (columns x1,y), labelled modality 2 (x2,y), unlabelled pairs (x1,x2) "
                     "(default: none; give --samples, --tables or --example)")
    src.add_argument("--tables", nargs=3, metavar=("P1Y", "P2Y", "P12"),
                     help="tables p(x1,y), p(x2,y), p(x1,x2) as .json (nested lists), .npy or .csv (rows of numbers) "
                     "files (default: none)")
    src.add_argument("--example", metavar="NAME",
                     help=f"the pairwise marginals of a canonical gate, one of: {', '.join(example_names())} "
                     "(default: none)")
    p.add_argument("--columns", metavar="X1,X2,Y",
                   help="samples: the header names of the x1, x2 and y columns, matched case-insensitively, in "
                   "that order; D1 is read for X1,Y, D2 for X2,Y and DM for X1,X2 (default: x1,x2,y)")
    p.add_argument("--no-header", dest="header", action="store_false",
                   help="samples: the files have no header row; each file's two columns are read by position "
                   "(D1: x1,y; D2: x2,y; DM: x1,x2) (default: off, the first non-blank row is the header)")
    p.add_argument("--normalize", action="store_true",
                   help="tables: divide each table by its total instead of rejecting it (default: off)")
    p.add_argument("--repair", choices=("none", "tv", "kl"), default="none",
                   help="tables: repair inconsistent tables explicitly (default: %(default)s, refuse them)")
    p.add_argument("--reconcile", choices=("ml", "tv", "strict"), default="ml",
                   help="samples: how to reconcile the three data sets (default: %(default)s, recorded)")
    p.add_argument("--variant", choices=("valid", "paper"), default="valid",
                   help="'paper' also prints the released code's (flagged) numbers (default: %(default)s)")
    p.add_argument("--mec-bound", choices=("best", "meet"), default="best",
                   help="tables/example: lower bound on each min-entropy coupling in the upper bound on S "
                        "(best = largest certified bound; meet = the paper's, also valid) (default: %(default)s)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="samples: N bootstrap replicates for a band on S under the plug-in model "
                   "(default: %(default)s = off)")
    p.add_argument("--confidence", type=float, default=0.9,
                   help="samples: level of the bootstrap intervals (default: %(default)s)")
    p.add_argument("--solver", default=None, help="BROJA backend (default: the preferred available one)")
    p.add_argument("--format", choices=("table", "json"), default="table", help=FORMAT_HELP)
    return p


def _load_table(path: str, what: str, normalize: bool) -> np.ndarray:
    """A 2-D probability table through :func:`pidlab.io.read_table`, checked with the file named."""
    from pidlab._distribution import check_pmf
    from pidlab.io import read_table

    return check_pmf(read_table(path, ndim=2), ndim=2, what=f"{path} ({what})", normalize=normalize)


def _uniform_type(values: list[Any]) -> np.ndarray:
    if all(isinstance(v, int) for v in values):
        return np.asarray(values, dtype=np.int64)
    return np.asarray([str(v) for v in values], dtype=object)


def run(args: argparse.Namespace) -> int:
    import pidlab
    from pidlab.io import _samples, read_samples

    repair = False if args.repair == "none" else args.repair
    if not args.samples and (args.columns is not None or not args.header):
        raise InvalidDistributionError("--columns and --no-header apply to --samples files; drop them.")
    if args.samples:
        if args.columns is not None and not args.header:
            raise InvalidDistributionError(
                "with --no-header each file's two columns are read by position (D1: x1,y; D2: x2,y; DM: x1,x2); "
                "drop --columns, or add header rows and name the columns with --columns."
            )
        c1, c2, cy = parse_columns(args.columns, header=True) or ("x1", "x2", "y")
        _, (x1a, ya), (n1, ny) = _samples(args.samples[0], (c1, cy), args.header, None)
        _, (x2b, yb), (n2, _) = _samples(args.samples[1], (c2, cy), args.header, None)
        x1m, x2m = read_samples(args.samples[2], (c1, c2), header=args.header)
        # named columns become the variable names, as written in the header of D1 and D2
        names = ("X1", "X2", "Y") if args.columns is None else (n1, n2, ny)
        x1_all = _uniform_type(x1a + x1m)
        x2_all = _uniform_type(x2b + x2m)
        y_all = _uniform_type(ya + yb)
        res = pidlab.estimate(
            x1_all[: len(x1a)], y_all[: len(ya)], x2_all[: len(x2b)], y_all[len(ya):],
            x1_all[len(x1a):], x2_all[len(x2b):],
            discretizer="categorical", reconcile=args.reconcile, solver=args.solver, variant=args.variant,
            n_bootstrap=args.bootstrap, confidence=args.confidence, names=names,
        )
        emit(res, args.format, text=res.report() if args.variant == "valid" else res.report() + "\n" + str(res.bounds))
        return 0
    if args.example:
        m = pidlab.Marginals.from_joint(pidlab.examples.get(args.example))
    else:
        a, b, c = (_load_table(t, w, args.normalize) for t, w in zip(args.tables, ("p(x1,y)", "p(x2,y)", "p(x1,x2)")))
        m = pidlab.Marginals(a, b, c)
    out = pidlab.synergy_bounds(m, solver=args.solver, repair=repair, variant=args.variant, mec_bound=args.mec_bound)
    emit(out, args.format, text=str(out))
    return 0
