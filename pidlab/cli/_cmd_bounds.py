"""``pidlab bounds``: semi-supervised synergy bounds from three sample files or three tables."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from pidlab.cli._common import emit, existing_file, read_json, read_npy, read_samples_csv
from pidlab.exceptions import InvalidDistributionError


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bounds",
        help="bounds on synergy from labelled unimodal data and unlabelled pairs (bits)",
        description=(
            "Semi-supervised interaction bounds (Liang et al., ICLR 2024) in bits: exact R, U1, U2 and bounds on "
            "synergy S and on the Bayes accuracy, from three sample CSV files (x1,y / x2,y / x1,x2 columns) or "
            "three probability tables p(x1,y), p(x2,y), p(x1,x2) (.json nested lists or .npy)."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--samples", nargs=3, metavar=("D1.csv", "D2.csv", "DM.csv"),
                     help="labelled modality 1 (columns x1,y), labelled modality 2 (x2,y), unlabelled pairs (x1,x2)")
    src.add_argument("--tables", nargs=3, metavar=("P1Y", "P2Y", "P12"),
                     help="tables p(x1,y), p(x2,y), p(x1,x2) as .json (nested lists) or .npy files")
    src.add_argument("--example", metavar="NAME", help="the pairwise marginals of a canonical gate")
    p.add_argument("--repair", choices=("none", "tv", "kl"), default="none",
                   help="tables: repair inconsistent tables explicitly (default: refuse them)")
    p.add_argument("--reconcile", choices=("ml", "tv", "strict"), default="ml",
                   help="samples: how to reconcile the three data sets (default: %(default)s, recorded)")
    p.add_argument("--variant", choices=("valid", "paper"), default="valid",
                   help="'paper' also prints the released code's (flagged) numbers")
    p.add_argument("--mec-bound", choices=("best", "meet"), default="best",
                   help="tables/example: lower bound on each min-entropy coupling in the upper bound on S "
                        "(best = largest certified bound; meet = the paper's, also valid)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="samples: N bootstrap replicates for a band on S under the plug-in model (default 0 = off)")
    p.add_argument("--confidence", type=float, default=0.9, help="samples: level of the bootstrap intervals (default 0.9)")
    p.add_argument("--solver", default=None, help="BROJA backend (default: the preferred available one)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    return p


def _load_table(path: str) -> np.ndarray:
    suffix = existing_file(path).suffix.lower()
    if suffix == ".npy":
        return read_npy(path)
    if suffix == ".json":
        data = read_json(path)
        if isinstance(data, dict):
            if "p" not in data:
                raise InvalidDistributionError(f"{path}: a JSON object needs a key 'p' holding the table.")
            data = data["p"]
        return np.asarray(data, dtype=float)
    raise InvalidDistributionError(f"{path}: a table must be a .json or .npy file (got {suffix or 'no suffix'}).")


def _uniform_type(values: list[Any]) -> np.ndarray:
    if all(isinstance(v, int) for v in values):
        return np.asarray(values, dtype=np.int64)
    return np.asarray([str(v) for v in values], dtype=object)


def run(args: argparse.Namespace) -> int:
    import pidlab

    repair = False if args.repair == "none" else args.repair
    if args.samples:
        x1a, ya = read_samples_csv(args.samples[0], ("x1", "y"))
        x2b, yb = read_samples_csv(args.samples[1], ("x2", "y"))
        x1m, x2m = read_samples_csv(args.samples[2], ("x1", "x2"))
        x1_all = _uniform_type(x1a + x1m)
        x2_all = _uniform_type(x2b + x2m)
        y_all = _uniform_type(ya + yb)
        res = pidlab.estimate(
            x1_all[: len(x1a)], y_all[: len(ya)], x2_all[: len(x2b)], y_all[len(ya):],
            x1_all[len(x1a):], x2_all[len(x2b):],
            discretizer="categorical", reconcile=args.reconcile, solver=args.solver, variant=args.variant,
            n_bootstrap=args.bootstrap, confidence=args.confidence,
        )
        emit(res, args.format, text=res.report() if args.variant == "valid" else res.report() + "\n" + str(res.bounds))
        return 0
    if args.example:
        m = pidlab.Marginals.from_joint(pidlab.examples.get(args.example))
    else:
        a, b, c = (_load_table(t) for t in args.tables)
        m = pidlab.Marginals(a, b, c)
    out = pidlab.synergy_bounds(m, solver=args.solver, repair=repair, variant=args.variant, mec_bound=args.mec_bound)
    emit(out, args.format, text=str(out))
    return 0
