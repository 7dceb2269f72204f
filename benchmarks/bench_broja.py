"""BROJA benchmark: pidlab's native solver against every installed cvxpy backend and dit.

Run from the repository root::

    .venv/bin/python benchmarks/bench_broja.py                 # sizes 2..64, 3 instances each
    .venv/bin/python benchmarks/bench_broja.py --quick         # a minute or two
    .venv/bin/python benchmarks/bench_broja.py --sizes 8 16 --reps 5 --time-limit 60
    .venv/bin/python benchmarks/bench_broja.py --suite          # the shape suite (issue 14)
    .venv/bin/python benchmarks/bench_broja.py --shapes 400x400x2 100x100x10@0.1
    .venv/bin/python benchmarks/bench_broja.py --batch-only    # decompose_many, 2x2x2 to 8x8x8

Everything is measured in one run on the same random tables: by default Dirichlet(1) cubes
|X1| = |X2| = |Y| = n; with ``--suite`` the shape suite (cubes 2-64, classification shapes with
many source symbols and few classes, target-heavy shapes and sparse Dirichlet(0.1) tables;
``--large`` adds the n = 128 cube); ``--shapes`` takes ``N1xN2xNY`` or ``N1xN2xNY@alpha``. The native solver runs in this process; every peer runs in its own
subprocess with a wall-clock limit per call (``--time-limit``), so a slow peer is abandoned
and, once it has timed out at some size, not tried at larger sizes. Peers:

* ``clarabel``, ``ecos``, ``scs``: pidlab's own cvxpy backends (one vector variable over the
  support, redundant rows dropped, tolerances 1e-10 / 1e-9), certified by the same host code.
Peer processes are started once per peer (their imports are not timed) and killed when a
call exceeds the limit.

* ``dit-cone``: ``dit.pid.PID_BROJA(..., method="cone")`` (ECOS exponential cone), if dit is
  installed (``pip install dit``); it gives atoms but no certificate.

For each size the table reports the median time per method, the ratio peer/native, and the
largest difference in any atom (R, U1, U2, S) from the best-certified answer (the method
with the narrowest certified bracket on that instance). It also times
:func:`pidlab.decompose_many` on 100,000 random 2x2x2 tables, and the peak memory that numpy
allocates inside the native solver (``tracemalloc``) relative to the size of the input table.
The report is printed and written to ``benchmarks/results/broja.md``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ATOMS = ("R", "U1", "U2", "S")
CVXPY_PEERS = ("clarabel", "ecos", "scs")
STARTUP_ALLOWANCE = 30.0  # seconds a subprocess may spend importing before the limit counts


def _instance(n: int, rep: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, n, rep])
    return rng.dirichlet(np.ones(n**3)).reshape(n, n, n)


#: A shape of the suite: (|X1|, |X2|, |Y|, Dirichlet concentration).
Shape = tuple[int, int, int, float]

#: The shape suite (issue 14): cubes, classification shapes (many clusters per modality, few
#: classes), target-heavy shapes and sparse tables.
SUITE: tuple[Shape, ...] = (
    *((n, n, n, 1.0) for n in (2, 4, 8, 16, 32, 64)),
    *((n, n, 2, 0.5) for n in (20, 50, 100, 200, 400)),
    *((n, n, 10, 0.5) for n in (20, 50, 100)),
    (10, 10, 20, 1.0), (2, 2, 100, 1.0),
    (16, 16, 16, 0.1), (100, 100, 2, 0.1),
)


def _parse_shape(text: str) -> Shape:
    dims, _, alpha = text.partition("@")
    n1, n2, ny = (int(x) for x in dims.lower().split("x"))
    return (n1, n2, ny, float(alpha) if alpha else 1.0)


def _label(shape: Shape) -> str:
    n1, n2, ny, alpha = shape
    base = str(n1) if n1 == n2 == ny and alpha == 1.0 else f"{n1}x{n2}x{ny}"
    return base if alpha == 1.0 else f"{base} (Dir {alpha:g})"


def _instance_shape(shape: Shape, rep: int, seed: int) -> np.ndarray:
    n1, n2, ny, alpha = shape
    if n1 == n2 == ny and alpha == 1.0:
        return _instance(n1, rep, seed)  # the cubes' instances of earlier runs
    rng = np.random.default_rng([seed, n1, n2, ny, int(round(alpha * 1000)), rep])
    return rng.dirichlet(np.full(n1 * n2 * ny, alpha)).reshape(n1, n2, ny)


def _atoms_from_m(p: np.ndarray, m: float) -> dict[str, float]:
    from pidlab._broja import BrojaProblem
    from pidlab._distribution import Distribution

    pr = BrojaProblem(p.sum(axis=1), p.sum(axis=0))
    I1, I2 = pr.I_x1y, pr.I_x2y
    I12 = Distribution(p).mutual_information((0, 1), 2)
    return {"R": I1 + I2 - m, "U1": m - I2, "U2": m - I1, "S": I12 - m}


# ----------------------------------------------------------------------------- workers
def run_native(p: np.ndarray, time_limit: float | None = None, memory: bool = False) -> dict:
    """Native solver in this process: time, certificate, atoms (and, with ``memory``, the peak
    numpy allocation in a second, untimed run: tracemalloc slows allocation down)."""
    from pidlab._broja import BrojaProblem, certify
    from pidlab._solvers._native import NativeSolver

    pr = BrojaProblem(p.sum(axis=1), p.sum(axis=0))
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = NativeSolver().solve(pr, time_limit=time_limit)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    peak = None
    if memory:
        tracemalloc.start()
        NativeSolver().solve(pr, time_limit=time_limit)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    cert, _ = certify(pr, res, joint=p)
    return {
        "status": str(res.status),
        "time": wall,
        "cpu": cpu,
        "m_lower": cert.m_lower,
        "m_upper": cert.m_upper,
        "gap": cert.gap,
        "iterations": res.iterations,
        "peak_bytes": peak,
        "linear_solver": res.info.get("linear_solver"),
        "atoms": _atoms_from_m(p, cert.m_upper),
    }


def _worker(method: str, path: str) -> dict:
    """Body of a peer subprocess: solve the table in ``path`` and return a JSON-able dict."""
    p = np.load(path)
    if method in CVXPY_PEERS:
        import warnings

        from pidlab._broja import BrojaProblem, certify
        from pidlab._solvers import get_solver

        pr = BrojaProblem(p.sum(axis=1), p.sum(axis=0))
        inst = get_solver(method)
        import cvxpy  # noqa: F401  (import outside the timed region)

        t0 = time.perf_counter()
        res = inst.solve(pr)
        wall = time.perf_counter() - t0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cert, _ = certify(pr, res, joint=p)
        return {
            "status": str(res.status),
            "time": wall,
            "m_lower": cert.m_lower,
            "m_upper": cert.m_upper,
            "gap": cert.gap,
            "atoms": _atoms_from_m(p, cert.m_upper),
        }
    if method == "dit-cone":
        import dit
        from dit.pid import PID_BROJA

        n1, n2, ny = p.shape
        outcomes = list(itertools.product(range(n1), range(n2), range(ny)))
        d = dit.Distribution([o for o, v in zip(outcomes, p.ravel()) if v > 0],
                             [float(v) for v in p.ravel() if v > 0])
        t0 = time.perf_counter()
        pid = PID_BROJA(d, [[0], [1]], [2], method="cone")
        wall = time.perf_counter() - t0
        atoms = {
            "R": float(pid.get_pi(((0,), (1,)))),
            "U1": float(pid.get_pi(((0,),))),
            "U2": float(pid.get_pi(((1,),))),
            "S": float(pid.get_pi(((0, 1),))),
        }
        return {"status": "finished", "time": wall, "gap": None, "atoms": atoms}
    raise SystemExit(f"unknown method {method!r}")


class PeerProcess:
    """One long-lived subprocess per peer (imports paid once); a call that exceeds the time
    limit kills it, and the peer is then abandoned."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", method],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
        )
        self.tmp = tempfile.TemporaryDirectory()
        ready = self._read(STARTUP_ALLOWANCE + 60)
        if ready is None:
            self.close()
            raise RuntimeError(f"{method}: worker did not start")

    def _read(self, timeout: float) -> str | None:
        import select

        assert self.proc.stdout is not None
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return None
        line = self.proc.stdout.readline()
        return line or None

    def call(self, p: np.ndarray, time_limit: float) -> dict:
        path = os.path.join(self.tmp.name, "p.npy")
        np.save(path, p)
        assert self.proc.stdin is not None
        self.proc.stdin.write(path + "\n")
        self.proc.stdin.flush()
        line = self._read(time_limit + 5.0)
        if line is None:
            self.close()
            return {"status": "timeout", "time": None}
        res = json.loads(line)
        if res.get("status") == "error":
            return res
        if res["time"] > time_limit:
            res["status"] = "timeout"
        return res

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.tmp.cleanup()


def _serve(method: str) -> None:
    """Worker loop: read a path per line, answer one JSON line per request."""
    if method in CVXPY_PEERS:
        import cvxpy  # noqa: F401
    elif method == "dit-cone":
        import dit  # noqa: F401
    print("ready", flush=True)
    for line in sys.stdin:
        try:
            out = _worker(method, line.strip())
        except Exception as exc:  # a peer failing is a result, not a crash of the benchmark
            out = {"status": "error", "time": None, "error": repr(exc)[:200]}
        print(json.dumps(out), flush=True)


def available_peers() -> list[str]:
    import importlib.util

    import pidlab

    peers = [s for s in CVXPY_PEERS if s in pidlab.solvers(available=True)]
    if importlib.util.find_spec("dit") is not None:
        peers.append("dit-cone")
    return peers


# ----------------------------------------------------------------------------- batch
def run_batch(n_items: int, seed: int) -> dict:
    import pidlab

    rng = np.random.default_rng([seed, 2222])
    ps = rng.dirichlet(np.ones(8), size=n_items).reshape(-1, 2, 2, 2)
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = pidlab.decompose_many(ps)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {
        "n": n_items,
        "time": wall,
        "cpu": cpu,
        "all_optimal": bool(res.all_optimal),
        "max_gap": float(res.gap.max()),
        "per_item_us": 1e6 * wall / n_items,
    }


#: (|X1|, |X2|, |Y|, items, Dirichlet alpha) of ``--batch-only`` (issue 14's batch targets:
#: 100,000 2x2x2 in under 1 s, 10,000 4x4x4 in under 5 s, all certified to 1e-9 bits).
BATCH_SUITE = [
    (2, 2, 2, 100_000, 1.0),
    (2, 2, 2, 100_000, 0.1),
    (3, 3, 3, 10_000, 1.0),
    (4, 4, 4, 10_000, 1.0),
    (8, 8, 8, 1_000, 1.0),
]


def run_batch_suite(seed: int, scale: float = 1.0) -> list[dict]:
    """Time :func:`pidlab.decompose_many` on each stack of ``BATCH_SUITE`` (items times ``scale``);
    prints one line per stack and returns the figures."""
    import pidlab

    pidlab.decompose_many(np.full((4, 2, 2, 2), 1 / 8))  # warm-up: imports
    out = []
    for n1, n2, ny, n, alpha in BATCH_SUITE:
        n = max(1, int(n * scale))
        rng = np.random.default_rng([seed, n1, n2, ny, int(alpha * 100)])
        ps = rng.dirichlet(alpha * np.ones(n1 * n2 * ny), size=n).reshape(-1, n1, n2, ny)
        t0 = time.perf_counter()
        c0 = time.process_time()
        res = pidlab.decompose_many(ps)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        row = {"shape": f"{n1}x{n2}x{ny}", "alpha": alpha, "n": n, "time": wall, "cpu": cpu,
               "all_optimal": bool(res.all_optimal), "max_gap": float(res.gap.max()),
               "per_item_us": 1e6 * wall / n, "notes": list(res.notes)}
        out.append(row)
        print(f"{row['shape']:>6s} Dirichlet({alpha:g}) x {n:>7,d}: {wall:6.2f} s wall, {cpu:6.2f} s CPU "
              f"({row['per_item_us']:.1f} µs per table), all certified to 1e-9 bits: {row['all_optimal']} "
              f"(largest gap {row['max_gap']:.1e} bits){'; ' + '; '.join(row['notes']) if row['notes'] else ''}",
              flush=True)
    return out


# ----------------------------------------------------------------------------- report
def _fmt_t(t: float | None) -> str:
    if t is None:
        return "—"
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def build_report(sizes, peers, results, batch, args, header) -> str:
    cvx = [m for m in peers if m in CVXPY_PEERS]
    lines = [
        "# BROJA benchmark (pidlab native vs peers)",
        "",
        header,
        "",
        "Random Dirichlet tables (a bare n: the cube |X1| = |X2| = |Y| = n, Dirichlet(1); otherwise "
        "|X1| x |X2| x |Y| and the concentration when it is not 1), the same instances for every method. "
        "Times are medians of wall-clock time per call; `(r x)` = peer median / native median "
        "(higher = native faster); `fastest cvxpy` = the ratio for the fastest cvxpy backend that finished "
        "on that shape. `timeout` = abandoned at the time limit; `skipped` = the peer timed out on an "
        "earlier shape with at least as many cells.",
        "",
        "## Time",
        "",
        "| shape | cells | instances | native (CPU) | Newton steps | " + " | ".join(peers)
        + (" | fastest cvxpy |" if cvx else " |"),
        "|---|---|---|---|---|" + "---|" * (len(peers) + bool(cvx)),
    ]
    acc = [
        "## Accuracy",
        "",
        "Largest certified gap (bits) of each method, and `Δ` = largest difference in any atom (R, U1, U2, S; "
        "bits) from the best-certified answer on the same instance (dit has no certificate).",
        "",
        "| shape | native gap | " + " | ".join(f"{m} Δ / gap" for m in peers) + " |",
        "|---|---|" + "---|" * len(peers),
    ]
    mem = [
        "## Memory",
        "",
        "Peak numpy allocation inside the native solver (tracemalloc), against the 8·|X1||X2||Y| bytes of the "
        "input table, and the Newton-system path it took (`dense`: one dense solve; `direct`: Cholesky of the "
        "Schur complement, used while that matrix is at most 2 MiB or when |X2| > |Y|; `cg`: matrix-free conjugate gradients).",
        "",
        "| shape | input | native peak | ratio | Newton systems |",
        "|---|---|---|---|---|",
    ]
    for shape in sizes:
        rows = results[shape]
        n1, n2, ny, _ = shape
        nat = [r["native"] for r in rows]
        nat_t = statistics.median([x["time"] for x in nat])
        nat_cpu = statistics.median([x["cpu"] for x in nat])
        nat_gap = max(x["gap"] for x in nat)
        steps = sorted({int(x["iterations"] or 0) for x in nat})
        tcells = [_label(shape), f"{n1 * n2 * ny:,}", str(len(rows)), f"{_fmt_t(nat_t)} ({_fmt_t(nat_cpu)})",
                  "-".join(map(str, (steps[0], steps[-1]))) if len(steps) > 1 else str(steps[0])]
        acells = [_label(shape), f"{nat_gap:.1e}"]
        fastest: float | None = None
        for m in peers:
            rs = [r.get(m) for r in rows if r.get(m) is not None]
            done = [x for x in rs if x["status"] not in ("timeout", "error", "skipped")]
            if not rs or all(x["status"] == "skipped" for x in rs):
                tcells.append("skipped")
                acells.append("—")
                continue
            if not done:
                st = rs[0]["status"]
                tcells.append(f"timeout (> {args.time_limit:g} s)" if st == "timeout" else st)
                acells.append("—")
                continue
            t = statistics.median([x["time"] for x in done])
            if m in CVXPY_PEERS and len(done) == len(rs):
                fastest = t if fastest is None else min(fastest, t)
            dmax = max(x["max_delta"] for x in done)
            gaps = [x["gap"] for x in done if x.get("gap") is not None]
            n_to = sum(x["status"] == "timeout" for x in rs)
            n_sk = sum(x["status"] == "skipped" for x in rs)
            n_er = sum(x["status"] == "error" for x in rs)
            note = "".join(f", {k} {lab}" for k, lab in ((n_to, "timeout"), (n_sk, "skipped"), (n_er, "error")) if k)
            tcells.append(f"{_fmt_t(t)} ({t / nat_t:.1f}x{note})")
            acells.append(f"{dmax:.1e} / " + (f"{max(gaps):.1e}" if gaps else "n/a"))
        if cvx:
            tcells.append("—" if fastest is None else f"{fastest / nat_t:.1f}x")
        lines.append("| " + " | ".join(tcells) + " |")
        acc.append("| " + " | ".join(acells) + " |")
        peaks = [x["peak_bytes"] for x in nat if x.get("peak_bytes")]
        if peaks:
            pk = max(peaks)
            inp = 8 * n1 * n2 * ny
            path = ", ".join(sorted({str(x.get("linear_solver")) for x in nat}))
            mem.append(f"| {_label(shape)} | {inp / 1e6:.3f} MB | {pk / 1e6:.2f} MB | {pk / inp:.1f}x | {path} |")
    lines += [""] + acc + [""] + mem + [""]
    if batch is not None:
        lines += [
            "## Batch path",
            "",
            f"`pidlab.decompose_many` on {batch['n']:,} random 2x2x2 Dirichlet(1) tables: "
            f"{batch['time']:.2f} s wall ({batch['cpu']:.2f} s CPU, {batch['per_item_us']:.1f} µs per table), "
            f"all certified to 1e-9 bits: {batch['all_optimal']} (largest gap {batch['max_gap']:.1e} bits).",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64])
    ap.add_argument("--shapes", nargs="+", default=None, help="N1xN2xNY or N1xN2xNY@alpha (instead of --sizes)")
    ap.add_argument("--suite", action="store_true", help="the shape suite (cubes, classification, target-heavy, sparse)")
    ap.add_argument("--large", action="store_true", help="with --suite: add the n = 128 cube")
    ap.add_argument("--reps", type=int, default=3, help="instances per size (default 3)")
    ap.add_argument("--reps-large", type=int, default=1, help="instances for n >= 64 (default 1)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per peer call (default 120)")
    ap.add_argument("--native-time-limit", type=float, default=None)
    ap.add_argument("--peers", nargs="*", default=None, help="subset of peers (default: all installed)")
    ap.add_argument("--batch", type=int, default=100_000, help="2x2x2 tables for the batch timing (0: skip)")
    ap.add_argument("--batch-only", action="store_true",
                    help="only time decompose_many on the batch suite (2x2x2 to 8x8x8) and print the figures "
                         "(writes no report)")
    ap.add_argument("--batch-scale", type=float, default=1.0, help="with --batch-only: scale the item counts")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--quick", action="store_true", help="sizes 2 4 8 16, 2 instances, 30 s limit, 20k batch")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "broja.md"))
    ap.add_argument("--serve", metavar="METHOD", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        _serve(args.serve)
        return 0
    if args.batch_only:
        print(f"load average at start {os.getloadavg()[0] if hasattr(os, 'getloadavg') else '?'}; "
              f"{os.cpu_count()} CPUs; wall time counts other processes' load, CPU time this process only")
        run_batch_suite(args.seed, args.batch_scale)
        return 0
    if args.quick:
        args.sizes, args.reps, args.time_limit, args.batch = [2, 4, 8, 16], 2, 30.0, 20_000
    if args.suite:
        shapes = list(SUITE) + ([(128, 128, 128, 1.0)] if args.large else [])
    elif args.shapes:
        shapes = [_parse_shape(x) for x in args.shapes]
    else:
        shapes = [(n, n, n, 1.0) for n in args.sizes]

    import numpy
    import scipy

    import pidlab

    peers = available_peers() if args.peers is None else args.peers
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    header = (
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()} with "
        f"{os.cpu_count()} CPUs (load average at start {load[0]:.1f}), Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, scipy {scipy.__version__}, pidlab {pidlab.__version__}; "
        f"peers: {', '.join(peers) or 'none'}; peer time limit {args.time_limit:g} s per call; "
        f"native solver single-threaded BLAS (its default)."
    )
    print(header, flush=True)
    for n_warm in (3, 12):  # warm-up: imports and first-call overheads of both linear-algebra paths
        run_native(_instance(n_warm, 0, args.seed))
    results: dict[Shape, list[dict]] = {}
    dead: dict[str, int] = {}  # peer -> fewest cells at which it timed out
    workers: dict[str, PeerProcess] = {}
    for shape in shapes:
        cells = shape[0] * shape[1] * shape[2]
        reps = args.reps_large if cells >= 64**3 else args.reps
        results[shape] = []
        for rep in range(reps):
            p = _instance_shape(shape, rep, args.seed)
            row: dict[str, dict] = {"native": run_native(p, args.native_time_limit, memory=rep == 0)}
            nat = row["native"]
            print(f"{_label(shape):>20s} rep={rep} native {nat['time']:.3f}s ({nat['iterations']} Newton steps) "
                  f"gap {nat['gap']:.1e} {nat['status']}", flush=True)
            for m in peers:
                if m in dead and cells >= dead[m]:
                    row[m] = {"status": "skipped", "time": None}
                    continue
                if m not in workers:
                    workers[m] = PeerProcess(m)
                r = workers[m].call(p, args.time_limit)
                row[m] = r
                if r["status"] == "timeout":
                    dead[m] = min(dead.get(m, cells), cells)
                    workers.pop(m).close()
                t = r.get("time")
                print(f"         {m:9s} {r['status']:18s} {t if t is None else round(t, 3)}", flush=True)
            # best-certified answer on this instance: the narrowest certified bracket
            cands = [(v["gap"], v["atoms"]) for v in row.values()
                     if v.get("gap") is not None and v.get("atoms") and v["status"] not in ("timeout", "error")]
            best = min(cands, key=lambda c: c[0])[1]
            for v in row.values():
                if v.get("atoms") and v["status"] not in ("timeout", "error", "skipped"):
                    v["max_delta"] = max(abs(v["atoms"][a] - best[a]) for a in ATOMS)
            results[shape].append(row)
    for wk in workers.values():
        wk.close()
    batch = run_batch(args.batch, args.seed) if args.batch else None
    if batch:
        print(f"batch {batch['n']} x 2x2x2: {batch['time']:.2f}s wall, {batch['cpu']:.2f}s CPU, "
              f"all optimal {batch['all_optimal']}", flush=True)
    report = build_report(shapes, peers, results, batch, args, header)
    print()
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
