"""``pidlab study``: a comparative study (family of distributions x measures), local or on dask."""

from __future__ import annotations

import argparse
import sys
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
    p.add_argument("--family", default="dirichlet", help="dirichlet, gates or noisy (default: %(default)s)")
    p.add_argument("--shape", type=int, nargs=3, metavar=("N1", "N2", "NY"), help="dirichlet: alphabet sizes (default: 2 2 2)")
    p.add_argument("--n", type=int, help="dirichlet: number of distributions (default: 1000)")
    p.add_argument("--alpha", type=float, help="dirichlet: concentration (default: 1.0 = uniform on the simplex)")
    p.add_argument("--seed", type=int, help="dirichlet: seed (default: 0)")
    p.add_argument("--gates", nargs="+", metavar="NAME", help="gates/noisy: gate names (default: all for gates, "
                   "xor for noisy)")
    p.add_argument("--noise", type=float, nargs="+", metavar="E", help="noisy: noise levels (default: 0, 0.05, ..., 0.5)")
    p.add_argument("--measures", nargs="+", metavar="NAME", help="measure names (default: all registered)")
    p.add_argument("--solvers", nargs="+", metavar="NAME", help="BROJA solvers to compare (default: batched native)")
    p.add_argument("--no-batch", action="store_true", help="solve BROJA one distribution at a time (pidlab.decompose) "
                   "(default: off, batched)")
    p.add_argument("--executor", default="local", help="local, process or dask (default: %(default)s)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address, e.g. tcp://host:8786, with "
                   "--executor dask (default: none, a LocalCluster is started for the run)")
    p.add_argument("--workers", type=int, metavar="W", help="process pool size / LocalCluster workers (default: CPUs)")
    p.add_argument("--chunk-size", type=int, metavar="K", help="distributions per task (default: automatic)")
    p.add_argument("--errors", default="record", choices=("record", "raise"),
                   help="record failures per row, or stop at the first (default: %(default)s)")
    p.add_argument("--out", metavar="FILE", help="write the table to FILE.csv or everything to FILE.json "
                   "(default: none, print the summary only)")
    p.add_argument("--format", choices=("table", "json"), default="table", help=FORMAT_HELP)
    return p


def _family(args: argparse.Namespace) -> Any:
    from pidlab.study import family
    from pidlab.study._families import InvalidStudyError

    name = str(args.family).strip().lower()
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


def run(args: argparse.Namespace) -> int:
    from pidlab.study import run_study
    from pidlab.study._runner import import_distributed

    fam = _family(args)
    if args.out:  # before computing: a study can take long, and its results would be lost
        from pidlab.study import StudyResult

        StudyResult.check_save_path(args.out)
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
    try:
        res = run_study(
            fam, args.measures, solvers=args.solvers, batch=not args.no_batch, executor=executor,
            scheduler=args.scheduler if client is None else None, max_workers=max_workers,
            chunk_size=args.chunk_size, errors=args.errors,
        )
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    if args.out:
        path = res.save(args.out)
        print(f"pidlab: wrote {len(res)} rows to {path}", file=sys.stderr)
    summary = res.summary()
    spec = ", ".join(f"{k}={v}" for k, v in fam.to_dict().items() if k not in ("family", "block"))
    head = (f"family {fam.name} ({spec}) x measures {res.spec['measures']}: {len(res)} rows, target {res.target}, bits; "
            f"executor {res.executor}, {res.n_chunks} chunk(s), {res.elapsed:.3g} s")
    notes = "".join(f"\nnote: {n}" for n in res.notes)
    emit({"study": {k: v for k, v in res.to_dict().items() if k not in ("rows", "summary")}, "summary": summary.to_dict()},
         args.format, text=f"{head}\n{summary.table()}{notes}")
    return 0
