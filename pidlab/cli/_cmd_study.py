"""``pidlab study``: a comparative study (family of distributions x measures), local or on dask."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pidlab.cli._common import FORMAT_HELP, emit


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "study",
        help="decompose a family of distributions with several measures (local, process pool or dask)",
        description=(
            "Comparative study: every distribution of a family decomposed with every measure; prints the mean and "
            "5%/95% quantiles of R, U1, U2, S (bits, target Y) per measure and writes the full table with --out. "
            "The same family spec gives identical results whatever the executor and chunk size."
        ),
    )
    p.add_argument("--preset", choices=("synthetic", "gates"),
                   help="the paper's studies: 'synthetic' = 100,000 random 2x2x2 joints (uniform on the simplex) "
                   "with the true BROJA S and every semi-supervised bound (--n, --seed to change); 'gates' = the "
                   "canonical gates under every registered measure (--measures to choose), one block per gate (default: none)")
    p.add_argument("--family", help="dirichlet, gates or noisy (default: dirichlet)")
    p.add_argument("--shape", type=int, nargs=3, metavar=("N1", "N2", "NY"), help="dirichlet: alphabet sizes (default: 2 2 2)")
    p.add_argument("--n", type=int, help="dirichlet: number of distributions (default: 1000)")
    p.add_argument("--alpha", type=float, help="dirichlet: concentration (default: 1.0 = uniform on the simplex)")
    p.add_argument("--seed", type=int, help="dirichlet: seed (default: 0)")
    p.add_argument("--gates", nargs="+", metavar="NAME", help="gates/noisy: gate names (default: all for gates, "
                   "xor for noisy)")
    p.add_argument("--noise", type=float, nargs="+", metavar="E", help="noisy: noise levels (default: 0, 0.05, ..., 0.5)")
    p.add_argument("--measures", nargs="+", metavar="NAME", help="measure names (default: all registered)")
    p.add_argument("--solvers", nargs="+", metavar="NAME", help="BROJA solvers to compare (default: batched native)")
    p.add_argument("--no-batch", action="store_true", help="compute every measure one distribution at a time "
                   "(pidlab.decompose) (default: off: BROJA and solver-free measures batched)")
    p.add_argument("--executor", default="local", help="local, process or dask (default: %(default)s)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address, e.g. tcp://host:8786, with "
                   "--executor dask (default: none, a LocalCluster is started for the run)")
    p.add_argument("--workers", type=int, metavar="W", help="process pool size / LocalCluster workers (default: CPUs)")
    p.add_argument("--chunk-size", type=int, metavar="K", help="distributions per task (default: automatic)")
    p.add_argument("--errors", default="record", choices=("record", "raise"),
                   help="record failures per row, or stop at the first (default: %(default)s)")
    p.add_argument("--out", metavar="FILE|DIR", help="FILE.csv / FILE.json: write the table (or everything) once at "
                   "the end; DIR (a path without suffix): a crash-safe store, each finished chunk committed as it "
                   "finishes (DIR/study.sqlite, SQLite WAL; the table also goes to DIR/table.csv at the end) "
                   "(default: none, print the summary only)")
    p.add_argument("--resume", action="store_true", help="continue the study stored in --out DIR: finished chunks "
                   "are kept, the others computed; the study's options must be the stored ones (default: off)")
    p.add_argument("--bounds", action="store_true", help="also the semi-supervised bounds on S of every item "
                   "(pidlab.synergy_bounds from its pairwise marginals) and their mean gaps to BROJA's S; measures "
                   "default to broja (default: off). The paper's synthetic study: --family dirichlet --n 100000 "
                   "--bounds")
    p.add_argument("--plot", metavar="FILE.png", help="write the overview figure: each measure's atoms as "
                   "distributions, pairwise scatter between measures, atoms against a swept parameter "
                   "(default: none)")
    p.add_argument("--format", choices=("table", "json"), default="table", help=FORMAT_HELP)
    return p


#: What each preset sets, and the options it still takes.
_PRESET_TAKES = {"synthetic": {"n", "seed"}, "gates": {"measures"}}
_FAMILY_OPTIONS = ("family", "shape", "n", "alpha", "seed", "gates", "noise", "measures", "bounds")


def _apply_preset(args: argparse.Namespace) -> None:
    """Fill in the family, measures and bounds of ``--preset``; refuse options it fixes."""
    from pidlab.study import InvalidStudyError
    from pidlab.study._presets import SYNTHETIC_N

    if args.preset is None:
        return
    given = {k for k in _FAMILY_OPTIONS if getattr(args, k) not in (None, False)}
    fixed = given - _PRESET_TAKES[args.preset]
    if fixed:
        raise InvalidStudyError(
            f"--preset {args.preset} sets the family, measures and bounds itself; drop "
            f"{', '.join('--' + k for k in sorted(fixed))} (it takes "
            f"{', '.join('--' + k for k in sorted(_PRESET_TAKES[args.preset]))}), or use --family without --preset."
        )
    if args.preset == "synthetic":
        args.family, args.shape, args.alpha = "dirichlet", [2, 2, 2], 1.0
        args.n = SYNTHETIC_N if args.n is None else args.n
        args.measures, args.bounds = ["broja"], True
    else:
        args.family = "gates"


def _family(args: argparse.Namespace) -> Any:
    from pidlab.study import family
    from pidlab.study._families import InvalidStudyError

    name = str(args.family or "dirichlet").strip().lower()
    given = {k for k in ("shape", "n", "alpha", "seed", "gates", "noise") if getattr(args, k) is not None}
    allowed = {"dirichlet": {"shape", "n", "alpha", "seed"}, "gates": {"gates"}, "noisy": {"gates", "noise"}}.get(name)
    if allowed is not None and given - allowed:
        raise InvalidStudyError(
            f"--{', --'.join(sorted(given - allowed))} do(es) not apply to --family {name}; "
            f"it takes {', '.join('--' + a for a in sorted(allowed))}."
        )
    params: dict[str, Any] = {}
    if name == "dirichlet":
        params = {"shape": tuple(args.shape) if args.shape else (2, 2, 2), "n": 1000 if args.n is None else args.n,
                  "alpha": 1.0 if args.alpha is None else args.alpha, "seed": 0 if args.seed is None else args.seed}
    elif name == "gates":
        params = {"names": args.gates}
    elif name == "noisy":
        params = {"names": args.gates or ["xor"]}
        if args.noise is not None:
            params["noise"] = args.noise
    return family(name, **params)


def _out_paths(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """(table file, store directory) of --out, checked before any work."""
    from pidlab.study import InvalidStudyError, StudyResult
    from pidlab.study._store import check_store_dir

    if not args.out:
        if args.resume:
            raise InvalidStudyError("--resume needs --out DIR, the directory holding the study's store.")
        return None, None
    p = Path(args.out)
    suffix = p.suffix.lower()
    if suffix in (".csv", ".json"):
        if args.resume:
            raise InvalidStudyError(f"--resume needs --out DIR (a store directory), not the file {args.out!r}: only a "
                                    "directory store keeps finished chunks.")
        return StudyResult.check_save_path(p), None
    if suffix and not p.is_dir():
        raise InvalidStudyError(f"cannot save a study to {p.name!r}: use a .csv (the table) or .json (everything) "
                                "file, or a directory (a path without suffix) for a crash-safe store.")
    check_store_dir(p, None, bool(args.resume))
    return None, p


def _check_plot_path(path: str) -> None:
    from pidlab.study import InvalidStudyError

    p = Path(path)
    if p.suffix.lower() != ".png":
        raise InvalidStudyError(f"--plot writes a PNG image: give a FILE.png path, not {path!r}.")
    if not p.parent.is_dir():
        raise InvalidStudyError(f"cannot write the figure to {path!r}: the directory {str(p.parent)!r} does not "
                                "exist; create it first or choose another path.")
    from pidlab.study._store import probe_writable

    try:
        probe_writable(p.parent, p)
    except OSError as exc:
        raise InvalidStudyError(f"cannot write the figure to {path!r}: {exc.strerror or exc}; choose a writable "
                                "path.") from None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        from pidlab.study import MissingDependencyError

        raise MissingDependencyError("--plot needs matplotlib: pip install matplotlib (or 'pidlab[lab]').") from None


def _gaps_text(g: dict[str, Any]) -> str:
    def f(v: float | None) -> str:
        return "—" if v is None else f"{v:.4f}"

    lines = [f"Semi-supervised bounds against the true S (BROJA), {g['units']}: {g['n']} item(s)"
             + (f", {g['n_left_out']} left out (not a number)" if g["n_left_out"] else ""),
             f"{'bound':22s}{'mean gap':>10s}{'median':>10s}{'max':>10s}{'mean, S > ' + str(g['s_above']):>16s}"
             f"{'wrong side':>12s}"]
    for name, d in g["gaps"].items():
        d = d or {}
        lines.append(f"{name:22s}{f(d.get('mean')):>10s}{f(d.get('median')):>10s}{f(d.get('max')):>10s}"
                     f"{f(g['gaps_above'][name]):>16s}{g['violations'][name]:>12d}")
    lines.append(f"({g['n_above']} item(s) with S > {g['s_above']}; gap = S - lower bound, upper bound - S)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from pidlab.study import run_study
    from pidlab.study._progress import ProgressLine
    from pidlab.study._runner import import_distributed

    _apply_preset(args)
    fam = _family(args)
    measures = args.measures
    if args.bounds:
        from pidlab.study import InvalidStudyError

        measures = measures or ["broja"]
        if "broja" not in [str(m).strip().lower() for m in measures]:
            raise InvalidStudyError("--bounds compares the bounds with the true synergy, BROJA's S: add broja to "
                                    "--measures.")
    out_file, out_dir = _out_paths(args)  # before computing: a study can take long, and its results would be lost
    if args.plot:
        _check_plot_path(args.plot)
    executor: Any = args.executor
    cluster = client = None
    max_workers = args.workers
    if str(executor).strip().lower() in ("dask", "distributed"):
        max_workers = None
        if args.scheduler is not None and args.workers is not None:
            from pidlab.study import InvalidStudyError

            raise InvalidStudyError("--workers sizes the LocalCluster started without --scheduler; an existing "
                                    "cluster keeps its own workers: drop --workers.")
        if args.scheduler is None:
            distributed = import_distributed()
            print(f"pidlab: starting a dask LocalCluster ({args.workers or 'default number of'} workers) for this run; "
                  "pass --scheduler ADDRESS to use an existing cluster.", file=sys.stderr)
            cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None)
            client = distributed.Client(cluster)
            executor = client
    bar = ProgressLine(sys.stderr, resumed=bool(args.resume))  # draws only on a terminal
    try:
        res = run_study(
            fam, measures, solvers=args.solvers, batch=not args.no_batch, executor=executor,
            scheduler=args.scheduler if client is None else None, max_workers=max_workers,
            chunk_size=args.chunk_size, errors=args.errors, progress=bar, store=out_dir, resume=args.resume,
            bounds=args.bounds,
        )
    finally:
        bar.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    if out_file is not None:
        path = res.save(out_file)
        print(f"pidlab: wrote {len(res)} rows to {path}", file=sys.stderr)
    if out_dir is not None:
        from pidlab.study._store import STORE_FILE

        path = res.save(Path(out_dir) / "table.csv")
        print(f"pidlab: {len(res)} rows stored in {out_dir} ({STORE_FILE}; table in {path.name})", file=sys.stderr)
    if args.plot:
        from pidlab.study._plot import study_figure

        fig = study_figure(res)
        fig.savefig(args.plot, dpi=90)
        print(f"pidlab: wrote the figure to {args.plot}", file=sys.stderr)
    summary = res.summary()
    spec = ", ".join(f"{k}={v}" for k, v in fam.to_dict().items() if k not in ("family", "block"))
    head = (f"family {fam.name} ({spec}) x measures {res.spec['measures']}: {len(res)} rows, target {res.target}, bits; "
            f"executor {res.executor}, {res.n_chunks} chunk(s), {res.elapsed:.3g} s")
    notes = "".join(f"\nnote: {n}" for n in res.notes)
    data = {"study": {k: v for k, v in res.to_dict().items() if k not in ("rows", "summary")}, "summary": summary.to_dict()}
    text = f"{head}\n{summary.table()}"
    if args.bounds:
        gaps = res.bound_gaps()
        data["bound_gaps"] = gaps
        text += "\n" + _gaps_text(gaps)
    if args.preset == "gates":
        data["by_item"] = res.by_item()
        text += "\n\n" + res.item_table()
    emit(data, args.format, text=text + notes)
    return 0
