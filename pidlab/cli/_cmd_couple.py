"""``pidlab couple``: a low-entropy coupling of two probability vectors and a bracket on the minimum."""

from __future__ import annotations

import argparse
import math
from typing import Any

from pidlab.cli._common import FORMAT_HELP, emit
from pidlab.exceptions import InvalidDistributionError

#: the joint is printed in table format when it has at most this many rows and columns
SHOW_MAX = 12


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "couple",
        help="min-entropy coupling of two probability vectors: entropy and certified bracket (bits)",
        description=(
            "Couple two probability vectors p and q with a low-entropy joint distribution and bracket the "
            "minimum-entropy coupling (MEC): lower_bound <= MEC <= entropy, in bits. Vectors must sum to 1 "
            "within --tol; lengths may differ."
        ),
    )
    p.add_argument("--p", metavar="P", help="comma-separated probabilities, e.g. 0.6,0.4 (default: none; give --p "
                   "and --q, or --file)")
    p.add_argument("--q", metavar="Q", help="comma-separated probabilities, e.g. 0.4,0.3,0.3 (default: none)")
    p.add_argument(
        "--file",
        metavar="F",
        help="F.json ({'p': [...], 'q': [...]} or [[...], [...]]), F.csv (two rows of numbers, or a "
        "header with columns p,q where the shorter column may end in empty cells) or F.npy (shape (2, n)) "
        "(default: none)",
    )
    p.add_argument(
        "--method",
        default=None,
        help="coupling method: greedy, lattice, exact or a third-party one (see `pidlab plugins`) "
        "(default: greedy; the default may change between versions)",
    )
    p.add_argument("--tol", type=float, default=1e-9, help="tolerance on each vector's total (default: %(default)s)")
    p.add_argument("--format", choices=("table", "json"), default="table", help=FORMAT_HELP)
    return p


def _parse_vector(text: str, what: str) -> list[float]:
    parts = [s.strip() for s in text.replace(";", ",").split(",")]
    if not parts or any(s == "" for s in parts):
        raise InvalidDistributionError(
            f"{what} {text!r} has an empty entry; give comma-separated numbers such as 0.6,0.4."
        )
    try:
        values = [float(s) for s in parts]
    except ValueError:
        raise InvalidDistributionError(
            f"{what} {text!r} is not a list of numbers; give comma-separated numbers such as 0.6,0.4."
        ) from None
    for k, (s, v) in enumerate(zip(parts, values)):
        if not math.isfinite(v):
            raise InvalidDistributionError(
                f"{what} {text!r}: entry {k + 1} ({s!r}) is not a finite number; give probabilities such as 0.6,0.4."
            )
    return values


def load_vectors(path: str) -> tuple[list[float], list[float]]:
    """Read two probability vectors through :func:`pidlab.io.read_vectors` (.json, .csv or .npy)."""
    from pidlab.io import read_vectors

    return read_vectors(path)


def _table(res: Any) -> str:
    lines = [
        f"method: {res.method}   shape: {res.shape[0]} x {res.shape[1]}   non-zero cells: {res.nnz}",
        f"coupling entropy H(X,Y)       : {res.entropy:.6f} bits  (upper bound on the MEC)",
        f"certified lower bound on MEC  : {res.lower_bound:.6f} bits  ({res.lower_bound_source})",
        f"gap                           : {res.gap:.6f} bits" + ("  (exact optimum)" if res.exact else ""),
    ]
    for k, v in res.lower_bounds.items():
        lines.append(f"  lower bound {k:<18}: {v:.6f}")
    if max(res.shape) <= SHOW_MAX:
        m = res.to_dense()
        lines.append("joint p(x, y) (rows: p in input order, columns: q in input order):")
        lines.append("      " + " ".join(f"{'q' + str(j):>8}" for j in range(res.shape[1])))
        for i in range(res.shape[0]):
            lines.append(f"{'p' + str(i):>5} " + " ".join(f"{v:8.4g}" if v else f"{'.':>8}" for v in m[i]))
    else:
        lines.append(f"(joint not shown: more than {SHOW_MAX} rows or columns; use --format json)")
    for n in res.notes:
        lines.append(f"note: {n}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import pidlab

    if args.file is not None:
        if args.p is not None or args.q is not None:
            raise InvalidDistributionError("give either --file or --p and --q, not both.")
        p, q = load_vectors(args.file)
    else:
        if args.p is None or args.q is None:
            raise InvalidDistributionError(
                "give both vectors: --p 0.6,0.4 --q 0.4,0.3,0.3 (or --file with two vectors)."
            )
        p, q = _parse_vector(args.p, "--p"), _parse_vector(args.q, "--q")
    res = pidlab.couple(p, q, method=args.method, tol=args.tol)
    emit(res, args.format, text=_table(res))
    return 0

