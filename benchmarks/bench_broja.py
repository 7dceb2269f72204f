"""BROJA benchmark: pidlab's native solver against every installed cvxpy backend and dit.

Run from the repository root::

    .venv/bin/python benchmarks/bench_broja.py                 # sizes 2..64, 3 instances each
    .venv/bin/python benchmarks/bench_broja.py --quick         # a minute or two
    .venv/bin/python benchmarks/bench_broja.py --sizes 8 16 --reps 5 --time-limit 60
    .venv/bin/python benchmarks/bench_broja.py --suite          # the shape suite (issue 14)
    .venv/bin/python benchmarks/bench_broja.py --shapes 400x400x2 100x100x10@0.1
    .venv/bin/python benchmarks/bench_broja.py --batch-only    # decompose_many, 2x2x2 to 8x8x8
    .venv/bin/python benchmarks/bench_broja.py --suite --large --broja2pid ~/src/BROJA_2PID \
        --time-limit 60 --reps-large-cells 10000 --batch-suite --out benchmarks/results/broja_suite.md

Everything is measured in one run on the same random tables: by default Dirichlet(1) cubes
|X1| = |X2| = |Y| = n; with ``--suite`` the shape suite (cubes 2-64, classification shapes with
many source symbols and few classes, target-heavy shapes and sparse Dirichlet(0.1) tables;
``--large`` adds the n = 128 cube); ``--shapes`` takes ``N1xN2xNY`` or ``N1xN2xNY@alpha``. The native solver runs in this process; every peer runs in its own
subprocess with a wall-clock limit per call (``--time-limit``), so a slow peer is abandoned
and, once it has timed out on a shape, not tried on any shape at least as large in every
dimension (|X1|, |X2| and |Y|). Peers:

* ``clarabel``, ``ecos``, ``scs``: pidlab's own cvxpy backends (one vector variable over the
  support, redundant rows dropped, tolerances 1e-10 / 1e-9), certified by the same host code.
Peer processes are started once per peer (their imports are not timed) and killed when a
call exceeds the limit.

* ``dit-cone``: ``dit.pid.PID_BROJA(..., method="cone")`` (ECOS exponential cone), if dit is
  installed (``pip install dit``); it gives atoms but no certificate. (dit 2.3 also has
  ``method="scipy"``, ``"admui"`` and ``"auto"``; on random tables from 2x2x2 to 20x20x2 they
  are slower than ``"cone"`` and, from 4x4x4 on, agree with the optimum only to 1e-5 to 1e-2
  bits, so the cone is dit's fastest exact method.)
* ``broja2pid``: the reference exact solver BROJA_2PID (Makkeh, Theis and Vicente, ECOS
  exponential cone), only with ``--broja2pid DIR``. It is not a pip package and is not
  vendored here: ``git clone https://github.com/Abzinger/BROJA_2PID`` and pass
  ``--broja2pid PATH`` (the clone, or any directory holding the package ``broja2pid/`` or the
  file ``BROJA_2PID.py``); it needs ``pip install ecos``. Its pdf keys are (target, source 1,
  source 2), so p[x1, x2, y] goes in as {(y, x1, x2): p}, and its atoms SI, UIY, UIZ, CI are
  R, U1, U2, S. The timed call is ``BROJA_2PID.pid(pdf)`` (model building, ECOS and its own
  optimality check); it gives atoms and its own duality gap, but no certificate.

For each size the table reports the median time per method, the ratio peer/native, and the
largest difference in any atom (R, U1, U2, S) from the best-certified answer (the method
with the narrowest certified bracket on that instance). It also times
:func:`pidlab.decompose_many` on 100,000 random 2x2x2 tables, and the peak memory that numpy
allocates inside the native solver (``tracemalloc``) relative to the size of the input table.
With ``--batch-suite`` the report gets the :func:`pidlab.decompose_many` figures of every stack of
``BATCH_SUITE`` (100,000 2x2x2 and 10,000 4x4x4 among them) instead of the single 2x2x2 figure,
and with ``--large`` or ``--suite`` a section on issue 14's targets. The native time is the
solve (which certifies internally); the report also gives the host certificate's time and the
end-to-end :func:`pidlab.decompose` call. Load averages are recorded at start and end. A cvxpy
answer with status ``solver_error`` or ``infeasible`` counts as failed (shown, not timed or
compared); ``optimal_inaccurate`` is timed and noted, and kept out of the 1e-7 agreement target
(the peer itself says it did not converge). dit and BROJA_2PID return an answer whatever their
ECOS call ends with, so the benchmark records ECOS's exit flag in their process and gives them
the status cvxpy gives the same flag (``ECOS_STATUS``).
The report is printed and written to ``benchmarks/results/broja.md`` (``--out``); ``--json PATH``
saves the raw results and ``--report-from PATH`` rebuilds the report from them.
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
B2P = "broja2pid"
#: Peer answers that do not count as finishing: no answer, or a backend that returned a status
#: saying it failed (its point is still certified by the host and shown, but not timed or compared).
NO_ANSWER = ("timeout", "error", "skipped")
FAILED = ("solver_error", "infeasible")
#: Finished with a solution the backend itself calls inaccurate (counted as finishing, noted).
INACCURATE = ("optimal_inaccurate", "iteration_limit")
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
#: A call faster than this is repeated on the same instance (``REPEATS`` calls in all) and the
#: median reported, for every method alike: a single call of a few ms is at the mercy of the
#: shared machine (measured: 8x8x8 native calls 2.3-3.8 ms in one process).
FAST_CALL = 0.1
REPEATS = 5


def _median_time(first: float, again) -> float:
    """``first`` (seconds) or, when it is below ``FAST_CALL``, the median of it and
    ``REPEATS - 1`` more timings returned by ``again()``."""
    if first >= FAST_CALL:
        return first
    return float(np.median([first, *(again() for _ in range(REPEATS - 1))]))


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_native(p: np.ndarray, time_limit: float | None = None, memory: bool = False,
               end_to_end: bool = True) -> dict:
    """Native solver in this process: time, certificate, atoms (and, with ``memory``, the peak
    numpy allocation in a second, untimed run: tracemalloc slows allocation down). ``cert_time``
    is the host certificate's time; with ``end_to_end`` a third run times
    ``pidlab.decompose(p)`` (validation, solve, certificate, atoms: what a user waits for)."""
    import pidlab
    from pidlab._broja import BrojaProblem, certify
    from pidlab._solvers._native import NativeSolver

    pr = BrojaProblem(p.sum(axis=1), p.sum(axis=0))
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = NativeSolver().solve(pr, time_limit=time_limit)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if wall < FAST_CALL:
        c1 = time.process_time()
        wall = _median_time(wall, lambda: _timed(lambda: NativeSolver().solve(pr, time_limit=time_limit)))
        cpu = (cpu + time.process_time() - c1) / REPEATS
    peak = None
    if memory:
        tracemalloc.start()
        NativeSolver().solve(pr, time_limit=time_limit)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    t1 = time.perf_counter()
    cert, _ = certify(pr, res, joint=p)
    cert_time = time.perf_counter() - t1
    e2e = e2e_gap = e2e_status = None
    if end_to_end:
        t2 = time.perf_counter()
        try:
            full = pidlab.decompose(p)
        except Exception as exc:  # e.g. a size limit: recorded, not a crash of the benchmark
            e2e_status = f"error: {exc!r}"[:200]
        else:
            e2e = time.perf_counter() - t2
            e2e_status = str(full.status)
            e2e_gap = float(full.certificate.gap) if full.certificate is not None else None
    return {
        "status": str(res.status),
        "time": wall,
        "cpu": cpu,
        "cert_time": cert_time,
        "e2e": e2e,
        "e2e_status": e2e_status,
        "e2e_gap": e2e_gap,
        "m_lower": cert.m_lower,
        "m_upper": cert.m_upper,
        "gap": cert.gap,
        "iterations": res.iterations,
        "peak_bytes": peak,
        "linear_solver": res.info.get("linear_solver"),
        "atoms": _atoms_from_m(p, cert.m_upper),
    }


def _numba_version() -> str:
    try:
        import numba
    except Exception:  # noqa: BLE001 - absent: the numpy iteration is used
        return "(not installed: numpy iteration)"
    return str(numba.__version__)


def _import_broja2pid(directory: str):
    """The module ``BROJA_2PID`` from ``directory`` (holding the package ``broja2pid/`` of
    https://github.com/Abzinger/BROJA_2PID, or the file ``BROJA_2PID.py``), put on sys.path."""
    import importlib

    d = Path(directory).expanduser().resolve()
    if str(d) not in sys.path:
        sys.path.insert(0, str(d))
    if (d / "broja2pid" / "BROJA_2PID.py").is_file():
        return importlib.import_module("broja2pid.BROJA_2PID")
    if (d / "BROJA_2PID.py").is_file():
        return importlib.import_module("BROJA_2PID")
    raise SystemExit(f"--broja2pid {directory}: no broja2pid/BROJA_2PID.py or BROJA_2PID.py there "
                     "(git clone https://github.com/Abzinger/BROJA_2PID)")


#: ECOS's exit flags as cvxpy reads them (cvxpy's ECOS interface): dit's and BROJA_2PID's cone
#: programs are solved by ECOS, and both return an answer whatever ECOS says, so the benchmark
#: reads ECOS's own verdict and gives their answers the status cvxpy would give the same run.
ECOS_STATUS = {0: "optimal", 1: "infeasible", 2: "unbounded", 10: "optimal_inaccurate", 11: "infeasible",
               12: "unbounded"}


def _ecos_exit_recorder() -> dict:
    """Wrap ``ecos.solve`` in this (peer) process so that the exit flag of its last call is kept
    in the returned dict (key ``"exit"``); the peers call ``ecos.solve`` through the module, so
    they go through the wrapper. Adds a dictionary write per call, nothing else."""
    import ecos

    orig = ecos.solve
    if getattr(orig, "_seen", None) is not None:
        return orig._seen
    seen: dict = {}

    def solve(*args, **kwargs):
        sol = orig(*args, **kwargs)
        seen["exit"] = int(sol.get("info", {}).get("exitFlag", -7))
        return sol

    solve._seen = seen  # type: ignore[attr-defined]
    ecos.solve = solve
    return seen


def _ecos_status(seen: dict) -> str:
    """The cvxpy status of ECOS's last exit flag (``solver_error`` for the failures: iteration
    limit -1, numerical problems -2, outside the cone -3, interrupted -4, fatal -7)."""
    return ECOS_STATUS.get(seen.get("exit", -7), "solver_error")


def _worker(method: str, path: str, b2p_dir: str | None = None) -> dict:
    """Body of a peer subprocess: solve the table in ``path`` and return a JSON-able dict."""
    p = np.load(path)
    if method == B2P:
        import math

        b2p = _import_broja2pid(b2p_dir)  # already imported by _serve: a cache hit
        # BROJA_2PID's keys are (target, source 1, source 2): p[x1, x2, y] -> {(y, x1, x2): p}
        pdf = {(int(y), int(a), int(b)): float(p[a, b, y]) for a, b, y in np.argwhere(p > 0)}
        seen = _ecos_exit_recorder()
        t0 = time.perf_counter()
        r = b2p.pid(pdf)
        wall = _median_time(time.perf_counter() - t0, lambda: _timed(lambda: b2p.pid(pdf)))
        # SI = shared (R), UIY = I(T; source 1 | source 2) at the optimum (U1), UIZ (U2), CI (S)
        atoms = {"R": float(r["SI"]), "U1": float(r["UIY"]), "U2": float(r["UIZ"]), "S": float(r["CI"])}
        primal_inf, dual_inf, dgap = (float(x) for x in r["Num_err"])
        return {"status": _ecos_status(seen), "time": wall, "gap": None, "atoms": atoms, "ecos_exit": seen.get("exit"),
                "own_gap": dgap / math.log(2),  # its duality gap is in nats
                "own_infeasibility": [primal_inf, dual_inf]}
    if method in CVXPY_PEERS:
        import warnings

        from pidlab._broja import BrojaProblem, certify
        from pidlab._solvers import get_solver

        pr = BrojaProblem(p.sum(axis=1), p.sum(axis=0))
        inst = get_solver(method)
        import cvxpy  # noqa: F401  (import outside the timed region)

        t0 = time.perf_counter()
        res = inst.solve(pr)
        wall = _median_time(time.perf_counter() - t0, lambda: _timed(lambda: inst.solve(pr)))
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
        seen = _ecos_exit_recorder()
        t0 = time.perf_counter()
        pid = PID_BROJA(d, [[0], [1]], [2], method="cone")
        wall = _median_time(time.perf_counter() - t0, lambda: _timed(lambda: PID_BROJA(d, [[0], [1]], [2], method="cone")))
        atoms = {
            "R": float(pid.get_pi(((0,), (1,)))),
            "U1": float(pid.get_pi(((0,),))),
            "U2": float(pid.get_pi(((1,),))),
            "S": float(pid.get_pi(((0, 1),))),
        }
        return {"status": _ecos_status(seen), "time": wall, "gap": None, "atoms": atoms, "ecos_exit": seen.get("exit")}
    raise SystemExit(f"unknown method {method!r}")


class PeerProcess:
    """One long-lived subprocess per peer (imports paid once); a call that exceeds the time
    limit kills it, and the peer is then abandoned."""

    def __init__(self, method: str, b2p_dir: str | None = None) -> None:
        self.method = method
        extra = ["--broja2pid", str(b2p_dir)] if method == B2P else []
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", method, *extra],
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
        try:
            res = json.loads(line)
        except ValueError:
            self.close()
            return {"status": "error", "time": None, "error": f"bad answer {line[:100]!r}"}
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


def _serve(method: str, b2p_dir: str | None = None) -> None:
    """Worker loop: read a path per line, answer one JSON line per request. The answers go to
    a copy of the original stdout; file descriptor 1 goes to stderr, so that whatever a peer
    prints (Python or C) cannot corrupt the protocol."""
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if method in CVXPY_PEERS:
        import cvxpy  # noqa: F401
    elif method == "dit-cone":
        import dit  # noqa: F401
    elif method == B2P:
        _import_broja2pid(b2p_dir)
    print("ready", file=proto, flush=True)
    for line in sys.stdin:
        try:
            out = _worker(method, line.strip(), b2p_dir)
        except Exception as exc:  # a peer failing is a result, not a crash of the benchmark
            out = {"status": "error", "time": None, "error": repr(exc)[:200]}
        print(json.dumps(out), file=proto, flush=True)


def available_peers(b2p_dir: str | None = None) -> list[str]:
    import importlib.util

    import pidlab

    peers = [s for s in CVXPY_PEERS if s in pidlab.solvers(available=True)]
    if importlib.util.find_spec("dit") is not None:
        peers.append("dit-cone")
    if b2p_dir:
        peers.append(B2P)
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


def _loadavg() -> tuple[float, float, float] | None:
    return os.getloadavg() if hasattr(os, "getloadavg") else None


def _uptime_line() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        la = _loadavg()
        return "load average: " + (", ".join(f"{x:.2f}" for x in la) if la else "?")


def _dominates(shape: Shape, other: Shape) -> bool:
    """``shape`` is at least as large as ``other`` in |X1|, |X2| and |Y|."""
    return all(a >= b for a, b in zip(shape[:3], other[:3]))


def _summarise(shape: Shape, rows: list[dict], peers: list[str]) -> dict:
    """Per-shape figures used by the tables and the targets."""
    n1, n2, ny, _ = shape
    nat = [r["native"] for r in rows]
    out = {
        "cells": n1 * n2 * ny,
        "nat_t": statistics.median([x["time"] for x in nat]),
        "nat_cpu": statistics.median([x["cpu"] for x in nat]),
        "cert_t": statistics.median([x["time"] + x["cert_time"] for x in nat]),
        "e2e": statistics.median([x["e2e"] for x in nat]) if all(x.get("e2e") is not None for x in nat) else None,
        "nat_gap": max(x["gap"] for x in nat),
        "e2e_gap": max((x["e2e_gap"] for x in nat if x.get("e2e_gap") is not None), default=None),
        "e2e_status": sorted({str(x.get("e2e_status")) for x in nat if x.get("e2e_status")}),
        "nat_status": sorted({x["status"] for x in nat}),
        "peak": max((x["peak_bytes"] for x in nat if x.get("peak_bytes")), default=None),
        "input": 8 * n1 * n2 * ny,
        "peers": {},
        "fastest": None,  # (name, median time) of the fastest cvxpy backend finishing every instance
    }
    for m in peers:
        rs = [r.get(m) for r in rows if r.get(m) is not None]
        done = [x for x in rs if x["status"] not in NO_ANSWER + FAILED]
        failed = [x for x in rs if x["status"] in FAILED]
        info = {"n": len(rs), "done": len(done),
                "timeout": sum(x["status"] == "timeout" for x in rs),
                "skipped": sum(x["status"] == "skipped" for x in rs),
                "error": sum(x["status"] == "error" for x in rs),
                "failed": len(failed),
                "inaccurate": sum(x["status"] in INACCURATE for x in rs),
                "errors": sorted({x.get("error", "") for x in rs if x["status"] == "error"}),
                "first_status": rs[0]["status"] if rs else "skipped"}
        if failed:
            info["failed_status"] = ", ".join(sorted({x["status"] for x in failed}))
            info["failed_t"] = statistics.median([x["time"] for x in failed])
            info["failed_delta"] = max((x.get("max_delta") or 0.0) for x in failed)
            fg = [x["gap"] for x in failed if x.get("gap") is not None]
            info["failed_gap"] = max(fg) if fg else None
        if done:
            info["t"] = statistics.median([x["time"] for x in done])
            info["delta"] = max(x["max_delta"] for x in done)
            # answers the peer itself reports as converged (not optimal_inaccurate/iteration_limit)
            sure = [x["max_delta"] for x in done if x["status"] not in INACCURATE]
            info["delta_sure"] = max(sure) if sure else None
            unsure = [x for x in done if x["status"] in INACCURATE]
            info["delta_unsure"] = max(x["max_delta"] for x in unsure) if unsure else None
            gaps = [x["gap"] for x in done if x.get("gap") is not None]
            info["gap"] = max(gaps) if gaps else None
            own = [x["own_gap"] for x in done if x.get("own_gap") is not None]
            info["own_gap"] = max(own) if own else None
            if m in CVXPY_PEERS and len(done) == len(rs):
                if out["fastest"] is None or info["t"] < out["fastest"][1]:
                    out["fastest"] = (m, info["t"])
        out["peers"][m] = info
    return out


def build_report(sizes, peers, results, batch, args, header, batch_suite=None, load_end=None) -> str:
    cvx = [m for m in peers if m in CVXPY_PEERS]
    summ = {shape: _summarise(shape, results[shape], peers) for shape in sizes}
    lines = [
        "# BROJA benchmark (pidlab native vs peers)",
        "",
        header,
        "",
        "Random Dirichlet tables (a bare n: the cube |X1| = |X2| = |Y| = n, Dirichlet(1); otherwise "
        "|X1| x |X2| x |Y| and the concentration when it is not 1), the same instances for every method. "
        "Times are medians over the instances of wall-clock time per call (a call under "
        f"{FAST_CALL:g} s is repeated, {REPEATS} calls in all on the same instance, for every method "
        "alike, and its median taken); `native` is the native solve (it certifies "
        "internally), `+ cert.` adds the host certificate (`pidlab._broja.certify`), `decompose` is the "
        "end-to-end `pidlab.decompose(p)` call (validation, solve, certificate, atoms). "
        "`(r x)` = peer median / native solve median (higher = native faster); the cvxpy peers' "
        "times are their solve calls (certificate not timed), dit's the `PID_BROJA` call, "
        "broja2pid's the `BROJA_2PID.pid` call. `fastest cvxpy` = the ratio for the fastest cvxpy "
        "backend that finished every instance of that shape. `timeout` = abandoned at the time limit; "
        "`skipped` = the peer timed out on an earlier shape no larger in any dimension.",
        "",
        "## Time",
        "",
        "| shape | cells | instances | native (CPU) | + cert. | decompose | Newton steps | " + " | ".join(peers)
        + (" | fastest cvxpy |" if cvx else " |"),
        "|---|---|---|---|---|---|---|" + "---|" * (len(peers) + bool(cvx)),
    ]
    acc = [
        "## Accuracy",
        "",
        "Largest certified gap (bits) of the native solve and of `decompose`, and for each peer "
        "`Δ` = largest difference in any atom (R, U1, U2, S; bits) from the best-certified answer on "
        "the same instance (the narrowest certified bracket among native and the cvxpy backends) / "
        "the peer's certified gap (dit and broja2pid have no certificate: `n/a`; for broja2pid the "
        "duality gap it reports itself, converted to bits, is given as `own`).",
        "",
        "| shape | native gap | decompose gap | " + " | ".join(f"{m} Δ / gap" for m in peers) + " |",
        "|---|---|---|" + "---|" * len(peers),
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
        s = summ[shape]
        nat = [r["native"] for r in rows]
        steps = sorted({int(x["iterations"] or 0) for x in nat})
        tcells = [_label(shape), f"{s['cells']:,}", str(len(rows)),
                  f"{_fmt_t(s['nat_t'])} ({_fmt_t(s['nat_cpu'])})", _fmt_t(s["cert_t"]), _fmt_t(s["e2e"]),
                  "-".join(map(str, (steps[0], steps[-1]))) if len(steps) > 1 else str(steps[0])]
        acells = [_label(shape), f"{s['nat_gap']:.1e}", "—" if s["e2e_gap"] is None else f"{s['e2e_gap']:.1e}"]
        for m in peers:
            info = s["peers"][m]
            if info["n"] == 0 or info["skipped"] == info["n"]:
                tcells.append("skipped")
                acells.append("—")
                continue
            if not info["done"]:
                st = info["first_status"]
                if st == "timeout":
                    tcells.append(f"timeout (> {args.time_limit:g} s)")
                elif st == "error":
                    tcells.append("error: " + "; ".join(info["errors"])[:80].replace("|", "/"))
                elif info["failed"]:
                    tcells.append(f"{info['failed_status']} after {_fmt_t(info['failed_t'])}")
                else:
                    tcells.append(st)
                if info["failed"]:
                    acells.append(f"{info['failed_status']}: {info['failed_delta']:.1e} / "
                                  + ("n/a" if info["failed_gap"] is None else f"{info['failed_gap']:.1e}"))
                else:
                    acells.append("—")
                continue
            t = info["t"]
            note = "".join(f", {k} {lab}" for k, lab in ((info["inaccurate"], "inaccurate"), (info["failed"], "failed"),
                                                          (info["timeout"], "timeout"), (info["skipped"], "skipped"),
                                                          (info["error"], "error")) if k)
            tcells.append(f"{_fmt_t(t)} ({t / s['nat_t']:.1f}x{note})")
            cell = f"{info['delta']:.1e} / " + (f"{info['gap']:.1e}" if info["gap"] is not None else "n/a")
            if info.get("own_gap") is not None:
                cell += f" (own {info['own_gap']:.1e})"
            acells.append(cell)
        if cvx:
            tcells.append("—" if s["fastest"] is None else f"{s['fastest'][1] / s['nat_t']:.1f}x ({s['fastest'][0]})")
        lines.append("| " + " | ".join(tcells) + " |")
        acc.append("| " + " | ".join(acells) + " |")
        if s["peak"]:
            path = ", ".join(sorted({str(x.get("linear_solver")) for x in nat}))
            mem.append(f"| {_label(shape)} | {s['input'] / 1e6:.3f} MB | {s['peak'] / 1e6:.2f} MB | "
                       f"{s['peak'] / s['input']:.1f}x | {path} |")
    lines += [""] + acc + [""] + mem + [""]
    if batch_suite:
        lines += [
            "## Batch path",
            "",
            "`pidlab.decompose_many` on stacks of random Dirichlet tables (one call per stack, after a warm-up call); "
            "`all certified` = every item's certified gap at most 1e-9 bits.",
            "",
            "| stack | Dirichlet | items | wall | CPU | per table | all certified | largest gap | notes |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for b in batch_suite:
            lines.append(f"| {b['shape']} | {b['alpha']:g} | {b['n']:,} | {b['time']:.2f} s | {b['cpu']:.2f} s | "
                         f"{b['per_item_us']:.1f} µs | {b['all_optimal']} | {b['max_gap']:.1e} | "
                         f"{'; '.join(b['notes']) if b['notes'] else ''} |")
        lines.append("")
    elif batch is not None:
        lines += [
            "## Batch path",
            "",
            f"`pidlab.decompose_many` on {batch['n']:,} random 2x2x2 Dirichlet(1) tables: "
            f"{batch['time']:.2f} s wall ({batch['cpu']:.2f} s CPU, {batch['per_item_us']:.1f} µs per table), "
            f"all certified to 1e-9 bits: {batch['all_optimal']} (largest gap {batch['max_gap']:.1e} bits).",
            "",
        ]
    if args.suite or args.large:
        lines += _targets(sizes, summ, peers, batch_suite, batch)
    if load_end is not None:
        lines += ["## Machine load", "", f"- start: `{args._uptime_start}`", f"- end: `{load_end}`", ""]
    return "\n".join(lines)


def _yes(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def _targets(sizes, summ, peers, batch_suite, batch) -> list[str]:
    """Issue 14's targets, judged on the figures above."""
    out = ["## Issue 14 targets", ""]
    # 1. 20x the fastest cvxpy backend (shapes with >= 500 cells where it finishes)
    big, small, nofin = [], [], []
    for shape in sizes:
        s = summ[shape]
        if s["fastest"] is None:
            nofin.append(_label(shape))
            continue
        name, t = s["fastest"]
        r = t / s["nat_t"]
        (big if s["cells"] >= 500 else small).append((_label(shape), name, r))
    ok1 = all(r >= 20 for _, _, r in big) if big else None
    out.append(f"- At least 20x faster than the fastest finishing cvxpy backend on every shape with >= 500 cells: "
               f"{_yes(ok1)}. " + ("Ratios: " + ", ".join(f"{lab} {r:.1f}x ({n})" for lab, n, r in big) + "." if big else "")
               + (" Below 500 cells (reported only): " + ", ".join(f"{lab} {r:.1f}x ({n})" for lab, n, r in small) + "."
                  if small else "")
               + (f" No cvxpy backend finished: {', '.join(nofin)}." if nofin else ""))
    # 2. 400x400x2 under 1 s, n = 128 under 20 s with peak < 10x input
    for shape, limit in (((400, 400, 2, 0.5), 1.0), ((128, 128, 128, 1.0), 20.0)):
        if shape not in summ:
            out.append(f"- {_label(shape)} certified in under {limit:g} s: not run.")
            continue
        s = summ[shape]
        cert_ok = s["nat_gap"] <= 1e-9 and (s["e2e_gap"] is None or s["e2e_gap"] <= 1e-9)
        t = s["e2e"] if s["e2e"] is not None else s["cert_t"]
        ok = cert_ok and t < limit
        line = (f"- {_label(shape)} certified in under {limit:g} s: {_yes(ok)} (decompose {_fmt_t(s['e2e'])}, "
                f"native solve {_fmt_t(s['nat_t'])}, solve + certificate {_fmt_t(s['cert_t'])}; "
                f"gap {s['nat_gap']:.1e} bits")
        if shape[0] == 128 and s["peak"]:
            r = s["peak"] / s["input"]
            line += f"). Native peak memory under 10x the input: {_yes(r < 10)} ({r:.1f}x: {s['peak'] / 1e6:.1f} MB for {s['input'] / 1e6:.1f} MB)."
        else:
            line += ")."
        out.append(line)
    # 3. batch
    if batch_suite:
        for shp, n, limit in (("2x2x2", 100_000, 1.0), ("4x4x4", 10_000, 5.0)):
            b = next((x for x in batch_suite if x["shape"] == shp and x["alpha"] == 1.0), None)
            if b is None:
                continue
            ok = b["all_optimal"] and b["max_gap"] <= 1e-9 and b["time"] < limit and b["n"] >= n
            out.append(f"- {b['n']:,} random {shp} tables decomposed and certified to 1e-9 bits in under {limit:g} s: "
                       f"{_yes(ok)} ({b['time']:.2f} s wall, {b['cpu']:.2f} s CPU; all certified {b['all_optimal']}, "
                       f"largest gap {b['max_gap']:.1e} bits).")
    elif batch is not None:
        ok = batch["all_optimal"] and batch["time"] < 1.0 and batch["n"] >= 100_000
        out.append(f"- {batch['n']:,} random 2x2x2 tables in under 1 s: {_yes(ok)} ({batch['time']:.2f} s).")
    # 4. gaps and agreement
    worst = max(sizes, key=lambda sh: summ[sh]["nat_gap"])
    ok_gap = all(summ[sh]["nat_gap"] <= 1e-9 and (summ[sh]["e2e_gap"] is None or summ[sh]["e2e_gap"] <= 1e-9)
                 for sh in sizes)
    out.append(f"- Certified gap <= 1e-9 bits everywhere: {_yes(ok_gap)} (largest native gap "
               f"{summ[worst]['nat_gap']:.1e} bits, on {_label(worst)}).")
    # a peer "finishes" when it returns an answer it calls converged: cvxpy's status optimal, ECOS's
    # exit flag 0 inside dit and BROJA_2PID; answers their own solver calls inaccurate are listed apart
    bad = [(m, _label(sh), summ[sh]["peers"][m]["delta_sure"]) for sh in sizes for m in peers
           if summ[sh]["peers"][m].get("delta_sure") is not None and summ[sh]["peers"][m]["delta_sure"] > 1e-7]
    unsure = [(m, _label(sh), summ[sh]["peers"][m]["delta_unsure"]) for sh in sizes for m in peers
              if summ[sh]["peers"][m].get("delta_unsure") is not None and summ[sh]["peers"][m]["delta_unsure"] > 1e-7]

    def _own(m, lab):
        info = next(summ[sh]["peers"][m] for sh in sizes if _label(sh) == lab)
        g = info.get("gap") if info.get("gap") is not None else info.get("own_gap")
        kind = "certified gap" if info.get("gap") is not None else "own gap"
        return "" if g is None else f"; its {kind} {g:.1e}"

    worst_d = {m: max((summ[sh]["peers"][m].get("delta_sure") or 0.0 for sh in sizes), default=0.0) for m in peers}
    out.append(f"- Agreement to 1e-7 bits with every peer that finishes (returns an answer its own solver calls "
               f"converged: cvxpy status `optimal`, ECOS exit flag 0 inside dit and BROJA_2PID): {_yes(not bad)} "
               "(largest Δ per peer: " + ", ".join(f"{m} {d:.1e}" for m, d in worst_d.items()) + ")"
               + (". Above 1e-7: " + ", ".join(f"{m} on {lab} (Δ {d:.1e}{_own(m, lab)})" for m, lab, d in bad) if bad else "")
               + ".")
    out.append("- Answers the peer's own solver calls inaccurate (`optimal_inaccurate`, or ECOS exit flag 10 "
               "inside dit and BROJA_2PID) and more than 1e-7 bits from the certified optimum: "
               + (", ".join(f"{m} on {lab} (Δ {d:.1e}{_own(m, lab)})" for m, lab, d in unsure) if unsure else "none")
               + ". The native bracket on those instances is at most 1e-9 bits wide (above), so these "
               "differences are the peers' errors.")
    faster = [(m, _label(sh), summ[sh]["nat_t"] / summ[sh]["peers"][m]["t"]) for sh in sizes for m in peers
              if summ[sh]["peers"][m].get("t") is not None and summ[sh]["peers"][m]["t"] < summ[sh]["nat_t"]]
    out.append("- Peers faster than the native solve (not a target; for the record): "
               + (", ".join(f"{m} on {lab} ({r:.1f}x faster)" for m, lab, r in faster) if faster else "none") + ".")
    out.append("")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64])
    ap.add_argument("--shapes", nargs="+", default=None, help="N1xN2xNY or N1xN2xNY@alpha (instead of --sizes)")
    ap.add_argument("--suite", action="store_true", help="the shape suite (cubes, classification, target-heavy, sparse)")
    ap.add_argument("--large", action="store_true", help="with --suite: add the n = 128 cube")
    ap.add_argument("--reps", type=int, default=3, help="instances per size (default 3)")
    ap.add_argument("--reps-large", type=int, default=1, help="instances for large shapes (default 1)")
    ap.add_argument("--reps-large-cells", type=int, default=64**3,
                    help="shapes with at least this many cells count as large (default 64^3)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per peer call (default 120)")
    ap.add_argument("--native-time-limit", type=float, default=None)
    ap.add_argument("--peers", nargs="*", default=None, help="subset of peers (default: all installed)")
    ap.add_argument("--broja2pid", metavar="DIR", default=None,
                    help="add the peer broja2pid: a clone of https://github.com/Abzinger/BROJA_2PID (or a directory "
                         "with BROJA_2PID.py), put on sys.path at run time")
    ap.add_argument("--batch", type=int, default=100_000, help="2x2x2 tables for the batch timing (0: skip)")
    ap.add_argument("--batch-suite", action="store_true",
                    help="time decompose_many on every stack of the batch suite (2x2x2 to 8x8x8) and report them")
    ap.add_argument("--batch-only", action="store_true",
                    help="only time decompose_many on the batch suite (2x2x2 to 8x8x8) and print the figures "
                         "(writes no report)")
    ap.add_argument("--batch-scale", type=float, default=1.0, help="with --batch-only: scale the item counts")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--quick", action="store_true", help="sizes 2 4 8 16, 2 instances, 30 s limit, 20k batch")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "broja.md"))
    ap.add_argument("--json", metavar="PATH", default=None, help="also write the raw results as JSON")
    ap.add_argument("--report-from", metavar="PATH", default=None,
                    help="rebuild the report from a --json file (no run; give the run's --suite/--large/--time-limit)")
    ap.add_argument("--serve", metavar="METHOD", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        _serve(args.serve, args.broja2pid)
        return 0
    if args.report_from:
        raw = json.loads(Path(args.report_from).read_text())
        shapes = [tuple(x["shape"]) for x in raw["results"]]
        results = {tuple(x["shape"]): x["rows"] for x in raw["results"]}
        for k, v in raw.get("args", {}).items():
            if k in ("suite", "large", "time_limit"):
                setattr(args, k, v)
        args._uptime_start = raw["uptime_start"]
        report = build_report(shapes, raw["peers"], results, raw["batch"], args, raw["header"], raw["batch_suite"],
                              raw["uptime_end"])
        print(report)
        Path(args.out).write_text(report + "\n")
        print(f"written to {args.out}")
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
    if args.broja2pid:
        d = Path(args.broja2pid).expanduser()
        if not ((d / "broja2pid" / "BROJA_2PID.py").is_file() or (d / "BROJA_2PID.py").is_file()):
            ap.error(f"--broja2pid {args.broja2pid}: no broja2pid/BROJA_2PID.py or BROJA_2PID.py there "
                     "(git clone https://github.com/Abzinger/BROJA_2PID)")
    if args.peers is not None and B2P in args.peers and not args.broja2pid:
        ap.error("peer broja2pid needs --broja2pid DIR")

    import numpy
    import scipy

    import pidlab

    peers = available_peers(args.broja2pid) if args.peers is None else args.peers
    args._uptime_start = _uptime_line()
    load = _loadavg()
    versions = []
    for mod in ("cvxpy", "clarabel", "ecos", "scs", "dit"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except Exception:  # noqa: BLE001  (absent or without __version__)
            pass
    header = (
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()} with "
        f"{os.cpu_count()} CPUs (load average at start {', '.join(f'{x:.2f}' for x in load) if load else '?'}), "
        f"Python {platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}, "
        f"pidlab {pidlab.__version__}{'; ' + ', '.join(versions) if versions else ''}; "
        f"peers: {', '.join(peers) or 'none'}; peer time limit {args.time_limit:g} s per call; "
        f"instances per shape {args.reps} ({args.reps_large} from {args.reps_large_cells:,} cells); "
        f"native solver with its defaults (one BLAS thread; small problems' Newton steps compiled with numba "
        f"{_numba_version()}; from 2^19 cells the matrix-free path's chunks on a pool of up to "
        f"{min(4, len(os.sched_getaffinity(0)))} threads)."
    )
    print(header, flush=True)
    print("uptime at start:", args._uptime_start, flush=True)
    for n_warm in (3, 12):  # warm-up: imports and first-call overheads of both linear-algebra paths
        run_native(_instance(n_warm, 0, args.seed))
    results: dict[Shape, list[dict]] = {}
    dead: dict[str, list[Shape]] = {}  # peer -> shapes on which it timed out
    workers: dict[str, PeerProcess] = {}
    for shape in shapes:
        cells = shape[0] * shape[1] * shape[2]
        reps = args.reps_large if cells >= args.reps_large_cells else args.reps
        results[shape] = []
        for rep in range(reps):
            p = _instance_shape(shape, rep, args.seed)
            row: dict[str, dict] = {"native": run_native(p, args.native_time_limit, memory=rep == 0)}
            nat = row["native"]
            print(f"{_label(shape):>20s} rep={rep} native {nat['time']:.3f}s (+cert {nat['cert_time']:.3f}s, "
                  f"decompose {_fmt_t(nat['e2e'])} {nat['e2e_status']}; {nat['iterations']} Newton steps) "
                  f"gap {nat['gap']:.1e} {nat['status']}", flush=True)
            for m in peers:
                if any(_dominates(shape, d) for d in dead.get(m, ())):
                    row[m] = {"status": "skipped", "time": None}
                    continue
                if m not in workers:
                    workers[m] = PeerProcess(m, args.broja2pid)
                r = workers[m].call(p, args.time_limit)
                row[m] = r
                if r["status"] == "timeout":
                    dead.setdefault(m, []).append(shape)
                if r["status"] == "timeout" or workers[m].proc.poll() is not None:
                    workers.pop(m).close()  # abandoned, or died: a new process next time
                t = r.get("time")
                print(f"         {m:9s} {r['status']:18s} {t if t is None else round(t, 3)}"
                      f"{'  ' + r['error'] if r.get('error') else ''}", flush=True)
            # best-certified answer on this instance: the narrowest certified bracket
            cands = [(v["gap"], v["atoms"]) for v in row.values()
                     if v.get("gap") is not None and v.get("atoms") and v["status"] not in ("timeout", "error")]
            best = min(cands, key=lambda c: c[0])[1]
            for v in row.values():
                if v.get("atoms") and v["status"] not in NO_ANSWER:
                    v["max_delta"] = max(abs(v["atoms"][a] - best[a]) for a in ATOMS)
            results[shape].append(row)
    for wk in workers.values():
        wk.close()
    batch = batch_suite = None
    if args.batch_suite:
        batch_suite = run_batch_suite(args.seed)
    elif args.batch:
        batch = run_batch(args.batch, args.seed)
        print(f"batch {batch['n']} x 2x2x2: {batch['time']:.2f}s wall, {batch['cpu']:.2f}s CPU, "
              f"all optimal {batch['all_optimal']}", flush=True)
    load_end = _uptime_line()
    print("uptime at end:", load_end, flush=True)
    report = build_report(shapes, peers, results, batch, args, header, batch_suite, load_end)
    print()
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")
    print(f"written to {out}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"header": header, "args": {k: v for k, v in vars(args).items() if not k.startswith("_")},
             "uptime_start": args._uptime_start, "uptime_end": load_end, "peers": peers,
             "results": [{"shape": list(sh), "rows": results[sh]} for sh in shapes],
             "batch": batch, "batch_suite": batch_suite}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
