"""Speed-up of a study on a dask cluster of 2 worker processes over 1, measured in one run.

Run from the repository root::

    .venv/bin/python benchmarks/bench_study_dask.py                 # 20,000 random 2x2x2 tables x 4 measures
    .venv/bin/python benchmarks/bench_study_dask.py --n 5000 --reps 3
    .venv/bin/python benchmarks/bench_study_dask.py --measures broja imin --no-batch --n 2000

The fixed study is ``dirichlet((2, 2, 2), n, seed=0)`` (uniform on the simplex) with the measures
``broja imin mmi ccs`` (batched, as ``pidlab study`` runs them by default). It starts two
``LocalCluster`` clusters of worker *processes* (one thread each), of 1 and of 2 workers, warms them up
with a tiny study (imports on the workers are not timed), then times
:func:`pidlab.study.run_study` on each, alternating 1, 2, 1, 2 (``--reps`` times each, the best
kept), so that a change in the machine's load affects both alike. Chunking is the same for both
(the default chunk size is capped at 2000 items, rounded up to the 512-item batch block), so both
runs do the same tasks; the tables are checked to be bit-identical (``StudyResult.digest``). It prints each time, the
distributions per second and the speed-up t(1 worker) / t(2 workers); on a machine whose cores
are busy with other work the speed-up falls below 2 accordingly: ``os.cpu_count()`` and the load
average are printed with it, and, for scale, the speed-up of 2 plain processes over 1 on
pure-Python work measured right after (no dask, no pidlab: what the machine allows now).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings


def _burn(n: int) -> int:
    s = 0
    for i in range(n):
        s += i * i
    return s


def _ceiling(n: int = 5_000_000) -> float:
    """What 2 processes gain over 1 on this machine right now: pure-Python work, no dask, no pidlab."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        list(ex.map(_burn, [1, 1]))
        t0 = time.perf_counter()
        list(ex.map(_burn, [n]))
        one = time.perf_counter() - t0
        t0 = time.perf_counter()
        list(ex.map(_burn, [n, n]))
        two = time.perf_counter() - t0
    return 2 * one / two


def _time_studies(fam: object, measures: list[str], batch: bool, reps: int) -> dict[int, tuple[float, str, str]]:
    """Best time, digest and executor of the study on 1 and on 2 worker processes, runs alternated."""
    from contextlib import ExitStack

    import distributed

    from pidlab.study import dirichlet, run_study

    out: dict[int, tuple[float, str, str]] = {}
    with ExitStack() as stack:
        clients = {}
        for w in (1, 2):
            cl = stack.enter_context(distributed.LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                                              dashboard_address=None))
            clients[w] = stack.enter_context(distributed.Client(cl, set_as_default=False))
            run_study(dirichlet((2, 2, 2), n=8, seed=1), measures, batch=batch, executor=clients[w])  # warm-up
        for _ in range(reps):  # 1, 2, 1, 2, ...: a change of the machine's load hits both alike
            for w, client in clients.items():
                t0 = time.perf_counter()
                res = run_study(fam, measures, batch=batch, executor=client)  # type: ignore[arg-type]
                t = time.perf_counter() - t0
                if w not in out or t < out[w][0]:
                    out[w] = (t, res.digest(), f"{res.executor}, {res.n_chunks} chunks of {res.chunk_size}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20_000, help="random 2x2x2 tables (default: %(default)s)")
    ap.add_argument("--measures", nargs="+", default=["broja", "imin", "mmi", "ccs"],
                    help="measures (default: %(default)s)")
    ap.add_argument("--no-batch", action="store_true", help="one decompose per item (default: batched)")
    ap.add_argument("--reps", type=int, default=2, help="timed runs per cluster size, alternated, best kept "
                    "(default: %(default)s)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    from pidlab.study import dirichlet

    fam = dirichlet((2, 2, 2), n=args.n, seed=0)
    batch = not args.no_batch
    print(f"study: {args.n} random 2x2x2 tables (Dirichlet(1), seed 0) x measures {args.measures}, "
          f"{'batched' if batch else 'one by one'}; os.cpu_count() = {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    times = _time_studies(fam, args.measures, batch, args.reps)
    (t1, d1, e1), (t2, d2, e2) = times[1], times[2]
    print(f"1 worker : {t1:7.2f} s  {args.n / t1:9.0f} distributions/s   [{e1}]")
    print(f"2 workers: {t2:7.2f} s  {args.n / t2:9.0f} distributions/s   [{e2}]")
    print(f"speed-up of 2 workers over 1: {t1 / t2:.2f}x   (tables bit-identical: {d1 == d2}; "
          f"load average now {os.getloadavg()[0]:.2f})")
    print(f"for scale, 2 processes over 1 on plain Python work, now: {_ceiling():.2f}x (2.00x on 2 idle cores)")
    return 0 if d1 == d2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
