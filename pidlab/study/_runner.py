"""Running a comparative study in chunks: sequentially, on a process pool, or on dask.distributed."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pidlab._limits import check_memory, check_work
from pidlab.exceptions import PidlabError, SolverError, UnknownNameError
from pidlab.study._families import Family, InvalidStudyError, MissingDependencyError, from_arrays
from pidlab.study._result import BOUND_COLUMNS, FLOAT_COLUMNS, TAIL_COLUMNS, StudyResult

__all__ = ["run_study", "check_study_size", "EXECUTORS"]

#: Executor names accepted by :func:`run_study` (a dask ``Client`` or a
#: ``concurrent.futures.Executor`` instance is accepted too).
EXECUTORS = ("local", "process", "dask")
_EXECUTOR_ALIASES = {"sequential": "local", "serial": "local", "processes": "process", "distributed": "dask"}
MAX_CHUNK = 2000
#: Default number of consecutive items per :func:`pidlab.decompose_many` call.
BLOCK = 512
NAN = float("nan")


@dataclass(frozen=True)
class _Task:
    """What one worker receives: a family shard, an index range and the measure plan (small)."""

    family: Family
    start: int
    stop: int
    measures: tuple[tuple[str, bool], ...]  # (canonical name, uses a solver)
    solvers: tuple[str | None, ...]
    batch: bool
    errors: str
    block: int = 512
    bounds: bool = False  # also the semi-supervised synergy bounds of every item (BOUND_COLUMNS)


# Row layout inside a chunk, after the family parameters.
_ROW = ("solver", "batched", "status", "R", "U1", "U2", "S", "net", "net_kind", "I_x1y", "I_x2y", "I_x1x2y",
        "gap", "error")


def _f(v: Any) -> float:
    return NAN if v is None else float(v)


def _error_row(solver: str, msg: str) -> tuple[Any, ...]:
    return (solver, False, "error", NAN, NAN, NAN, NAN, NAN, "", NAN, NAN, NAN, NAN, msg)


def _result_row(res: Any, solver_label: str | None) -> tuple[Any, ...]:
    cert = getattr(res, "certificate", None)
    return (
        res.solver if res.solver is not None else (solver_label or ""),
        False,
        str(res.status) if res.status is not None else "closed-form",
        _f(res.R), _f(res.U1), _f(res.U2), _f(res.S), _f(res.net), res.net_kind or "",
        float(res.I_x1y), float(res.I_x2y), float(res.I_x1x2y),
        float(cert.gap) if cert is not None else NAN,
        "",
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _context(task: _Task, i: int, params: dict[str, Any], measure: str, solver: str | None) -> str:
    where = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return (f"pidlab study: item {i} of family {task.family.name!r} ({where}), measure {measure!r}"
            + (f", solver {solver!r}" if solver else "") + "; pass errors='record' to record failures per row.")


def _run_chunk(task: _Task) -> dict[str, np.ndarray]:
    """Generate items ``task.start .. task.stop-1`` and decompose each with every measure.

    Runs on a worker. Returns the chunk's rows column-wise, in (item, measure, solver) order.
    """
    from pidlab._api import decompose
    from pidlab._distribution import Distribution

    n = task.stop - task.start
    arrays, params = task.family.generate(task.start, task.stop)
    if len(arrays) != n or len(params) != n:
        raise InvalidStudyError(
            f"family {task.family.name!r} generated {len(arrays)} arrays / {len(params)} parameter sets for the "
            f"{n} items {task.start}..{task.stop - 1}; generate(start, stop) must return one per item."
        )
    raise_ = task.errors == "raise"
    rows: dict[tuple[int, int, int], tuple[Any, ...]] = {}
    # Warnings are not captured here (warnings.catch_warnings is not thread-safe and dask runs
    # tasks in threads); what a warning says about a row is in its status and gap.
    dists: list[Distribution | None] = []
    derr: list[str] = []
    for j, a in enumerate(arrays):
        try:
            dists.append(Distribution(a))
            derr.append("")
        except Exception as exc:
            if raise_:
                exc.add_note(_context(task, task.start + j, params[j], "(all)", None))
                raise
            dists.append(None)
            derr.append(_describe(exc))
    shapes = ["x".join(str(s) for s in np.shape(a)) for a in arrays]

    for k, (mname, uses_solver) in enumerate(task.measures):
        for si, solver in enumerate(task.solvers if uses_solver else (None,)):
            todo = [j for j in range(n) if dists[j] is not None]
            for j in range(n):
                if dists[j] is None:
                    rows[(j, k, si)] = _error_row(solver or "", derr[j])
            if task.batch and ((uses_solver and solver is None and mname == "broja") or not uses_solver):
                todo = _batch_measure(task, mname, dists, todo, rows, k, si)
            for j in todo:
                dj = dists[j]
                assert dj is not None  # items that failed to build went to the error rows above
                try:
                    res = decompose(dj, mname, solver=solver) if uses_solver else decompose(dj, mname)
                    rows[(j, k, si)] = _result_row(res, solver)
                except Exception as exc:
                    if raise_:
                        exc.add_note(_context(task, task.start + j, params[j], mname, solver))
                        raise
                    rows[(j, k, si)] = _error_row(solver or "", _describe(exc))

    keys = sorted(rows)
    out: dict[str, np.ndarray] = {"item": np.array([task.start + j for j, _, _ in keys], dtype=np.int64)}
    for p in task.family.param_names:
        out["param:" + p] = _objects([params[j].get(p) for j, _, _ in keys])
    out["shape"] = _objects([shapes[j] for j, _, _ in keys])
    out["measure"] = _objects([task.measures[k][0] for _, k, _ in keys])
    for c, vals in zip(_ROW, zip(*(rows[key] for key in keys)) if keys else [()] * len(_ROW)):
        if c in FLOAT_COLUMNS:
            out[c] = np.array(vals, dtype=np.float64)
        elif c == "batched":
            out[c] = np.array(vals, dtype=bool)
        else:
            out[c] = _objects(list(vals))
    if task.bounds:
        bvals = _bounds_of(task, dists, derr, params)
        for t, c in enumerate(BOUND_COLUMNS):
            out["bound:" + c] = np.array([bvals[j][t] for j, _, _ in keys], dtype=np.float64)
        out["bound:bounds_error"] = _objects([bvals[j][len(BOUND_COLUMNS)] for j, _, _ in keys])
    return out


def _bounds_of(task: _Task, dists: list[Any], derr: list[str], params: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Per item: the semi-supervised bounds on S from its three pairwise marginals, and an error message."""
    from pidlab._marginals import Marginals
    from pidlab.bounds import synergy_bounds

    out: list[tuple[Any, ...]] = []
    done = _bounds_batched(task, dists) if task.batch else {}
    for j, d in enumerate(dists):
        if d is None:
            out.append((NAN,) * len(BOUND_COLUMNS) + (derr[j],))
            continue
        if j in done:
            out.append(done[j])
            continue
        try:
            b = synergy_bounds(Marginals.from_joint(d.p))
            out.append(tuple(float(getattr(b, c)) for c in BOUND_COLUMNS) + ("",))
        except Exception as exc:
            if task.errors == "raise":
                exc.add_note(_context(task, task.start + j, params[j], "(synergy bounds)", None))
                raise
            out.append((NAN,) * len(BOUND_COLUMNS) + (_describe(exc),))
    return out


def _bounds_batched(task: _Task, dists: list[Any]) -> dict[int, tuple[Any, ...]]:
    """The bounds of the valid items through :func:`pidlab.bounds.synergy_bounds_many`, one call per
    canonical block and shape (as the batched measures: chunking never changes a value). A call
    that raises leaves its items to the one-by-one path, which records or raises per item."""
    from pidlab.bounds import synergy_bounds_many

    by_shape: dict[tuple[Any, ...], list[int]] = {}
    for j, d in enumerate(dists):
        if d is not None:
            by_shape.setdefault(((task.start + j) // task.block, d.shape), []).append(j)
    done: dict[int, tuple[Any, ...]] = {}
    for idx in by_shape.values():
        try:
            b = synergy_bounds_many(np.stack([dists[j].p for j in idx]))
        except Exception:
            continue
        cols = [getattr(b, c) for c in BOUND_COLUMNS]
        for t, j in enumerate(idx):
            done[j] = tuple(float(v[t]) for v in cols) + ("",)
    return done


def _objects(vals: list[Any]) -> np.ndarray:
    arr = np.empty(len(vals), dtype=object)
    arr[:] = vals
    return arr


def _batch_measure(task: _Task, mname: str, dists: list[Any], todo: list[int],
                   rows: dict[tuple[int, int, int], tuple[Any, ...]], k: int, si: int) -> list[int]:
    """One measure on the valid items through :func:`pidlab.decompose_many`, one call per shape:
    BROJA (native, certified) or a measure that needs no solver (its vectorised ``compute_many``;
    rows as the single path writes them, status ``closed-form``, marked ``batched``).

    Returns the items left for the one-by-one path (those of a batch that raised).
    """
    try:
        from pidlab import decompose_many
    except ImportError:  # pragma: no cover - a build without the batched solver
        return todo

    # Canonical batches: consecutive blocks of `task.block` items (absolute indices), one call per
    # shape inside a block. Chunks are whole blocks, so the batches never depend on the chunking.
    by_shape: dict[tuple[Any, ...], list[int]] = {}
    for j in todo:
        by_shape.setdefault(((task.start + j) // task.block, dists[j].shape), []).append(j)
    left: list[int] = []
    for idx in by_shape.values():
        try:
            res = decompose_many(np.stack([dists[j].p for j in idx]), measure=mname)
        except Exception:  # e.g. an item decompose_many rejects: isolate it on the single path
            left.extend(idx)
            continue
        if mname != "broja":
            net = res.net
            for t, j in enumerate(idx):
                rows[(j, k, si)] = (
                    "", True, "closed-form",
                    *((NAN,) * 4 if net is not None else (float(res.R[t]), float(res.U1[t]), float(res.U2[t]),
                                                          float(res.S[t]))),
                    NAN if net is None else float(net[t]), res.net_kind or "",
                    float(res.I_x1y[t]), float(res.I_x2y[t]), float(res.I_x1x2y[t]), NAN, "",
                )
            continue
        for t, j in enumerate(idx):
            rows[(j, k, si)] = (
                "native", True, str(res.status[t]),
                float(res.R[t]), float(res.U1[t]), float(res.U2[t]), float(res.S[t]), NAN, "",
                float(res.I_x1y[t]), float(res.I_x2y[t]), float(res.I_x1x2y[t]), float(res.gap[t]), "",
            )
    return sorted(left)


# --------------------------------------------------------------------------- executors
def import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError(
            "the dask executor needs dask.distributed, which is not installed here: "
            "pip install 'pidlab[dask]' (or pip install 'dask[distributed]'), or use executor='local'/'process'."
        ) from None
    return distributed


def _is_dask_client(obj: Any) -> bool:
    t = type(obj)
    return t.__module__.split(".")[0] == "distributed" and hasattr(obj, "submit") and hasattr(obj, "gather")


class _Backend:
    """Runs tasks (taken lazily from an iterator) and returns their chunks in task order."""

    description = "local"
    workers = 1
    #: Tasks the executor holds at once on this machine (memory estimate of a study).
    concurrent = 1

    def map(self, tasks: Iterable[_Task], n_tasks: int, progress: Callable[[int, int], None] | None,
            total: int, on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
        out = []
        done = 0
        for i, t in enumerate(tasks):
            out.append(_run_chunk(t))
            if on_done:
                on_done(i, out[-1])
            done += t.stop - t.start
            if progress:
                progress(done, total)
        return out

    def close(self) -> None:
        pass


class _FuturesBackend(_Backend):
    def __init__(self, pool: Any, owned: bool, description: str, workers: int, local: bool = True) -> None:
        self.pool, self.owned, self.description, self.workers = pool, owned, description, workers
        self.concurrent = workers if local else 1

    def map(self, tasks: Iterable[_Task], n_tasks: int, progress: Callable[[int, int], None] | None,
            total: int, on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
        from concurrent.futures import FIRST_COMPLETED, wait

        it = iter(tasks)
        out: list[Any] = [None] * n_tasks
        inflight: dict[Any, tuple[int, int]] = {}  # future -> (task index, items); at most 2 per worker
        nxt = done = 0
        try:
            while True:
                while len(inflight) < 2 * self.workers:
                    t = next(it, None)
                    if t is None:
                        break
                    inflight[self.pool.submit(_run_chunk, t)] = (nxt, t.stop - t.start)
                    nxt += 1
                if not inflight:
                    return out
                finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for f in finished:
                    i, size = inflight.pop(f)
                    out[i] = f.result()
                    if on_done:
                        on_done(i, out[i])
                    done += size
                    if progress:
                        progress(done, total)
        except BaseException:
            for f in inflight:
                f.cancel()
            raise

    def close(self) -> None:
        if self.owned:
            self.pool.shutdown(wait=True, cancel_futures=True)


class _DaskBackend(_Backend):
    def __init__(self, client: Any, owned: bool) -> None:
        self.client, self.owned = client, owned
        address = client.scheduler.address if getattr(client, "scheduler", None) else "client"
        try:
            nthreads = client.nthreads()
        except Exception:  # pragma: no cover - a client that cannot list its workers
            nthreads = {"?": 1}
        if not nthreads:  # tasks would wait for ever on a cluster without workers: wait a bounded time
            try:
                client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
                nthreads = client.nthreads()
            except Exception:
                raise PidlabError(
                    f"the dask scheduler at {address!r} has no workers (none joined within {WORKER_TIMEOUT:g} s), so "
                    f"the study would never run; start one (dask worker {address}) or scale the cluster "
                    "(cluster.scale(n)) before running the study."
                ) from None
        self.workers = max(1, int(sum(nthreads.values())))
        self.description = f"dask ({address}, {self.workers} worker thread(s))"

    def map(self, tasks: Iterable[_Task], n_tasks: int, progress: Callable[[int, int], None] | None,
            total: int, on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
        distributed = import_distributed()
        it = iter(tasks)
        out: list[Any] = [None] * n_tasks
        pos: dict[str, tuple[int, int]] = {}  # future key -> (task index, items); at most 4 per worker thread
        live: list[Any] = []
        nxt = done = 0

        def submit() -> Any:
            nonlocal nxt
            t = next(it, None)
            if t is None:
                return None
            f = self.client.submit(_run_chunk, t, pure=False)
            pos[f.key] = (nxt, t.stop - t.start)
            live.append(f)
            nxt += 1
            return f

        try:
            first = [f for f in (submit() for _ in range(4 * self.workers)) if f is not None]
            ac = distributed.as_completed(first, loop=self.client.loop)  # this client's, not the default one's
            for f in ac:
                i, size = pos.pop(f.key)
                out[i] = f.result()
                live.remove(f)
                if on_done:
                    on_done(i, out[i])
                done += size
                if progress:
                    progress(done, total)
                g = submit()
                if g is not None:
                    ac.add(g)
            return out
        except BaseException:
            self.client.cancel(live)
            raise

    def close(self) -> None:
        if self.owned:
            self.client.close()


def _backend(executor: Any, scheduler: str | None, max_workers: int | None) -> _Backend:
    from concurrent.futures import Executor

    if max_workers is not None and (isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1):
        raise InvalidStudyError(f"`max_workers` must be an integer >= 1; got {max_workers!r}.")
    if _is_dask_client(executor):
        _reject_max_workers(max_workers, "a dask Client")
        return _DaskBackend(executor, owned=False)
    if isinstance(executor, Executor):
        _reject_max_workers(max_workers, "an Executor instance")
        return _FuturesBackend(executor, False, type(executor).__name__, getattr(executor, "_max_workers", 1) or 1,
                               local=not type(executor).__module__.startswith("distributed"))
    if not isinstance(executor, str):
        raise InvalidStudyError(
            f"`executor` must be one of {', '.join(EXECUTORS)}, a dask.distributed.Client or a "
            f"concurrent.futures.Executor; got {type(executor).__name__}."
        )
    key = executor.strip().lower()
    key = _EXECUTOR_ALIASES.get(key, key)
    if key not in EXECUTORS:
        raise UnknownNameError(
            f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)} (or pass a dask.distributed.Client)."
        )
    if scheduler is not None and key != "dask":
        raise InvalidStudyError(f"`scheduler` ({scheduler!r}) is a dask scheduler address; use it with executor='dask'.")
    if key == "local":
        if max_workers not in (None, 1):
            raise InvalidStudyError("the local executor runs in this process; use executor='process' for max_workers > 1.")
        return _Backend()
    if key == "process":
        import multiprocessing
        import os
        from concurrent.futures import ProcessPoolExecutor

        w = max_workers or os.cpu_count() or 1
        # spawn: safe when the calling process has threads (Jupyter, dask); workers import pidlab.
        pool = ProcessPoolExecutor(max_workers=w, mp_context=multiprocessing.get_context("spawn"))
        return _FuturesBackend(pool, True, f"process pool ({w} workers)", w)
    distributed = import_distributed()
    _reject_max_workers(max_workers, "the dask executor")
    if scheduler is not None:
        _probe_scheduler(scheduler)  # bounded: a wrong address fails here, naming it, within CONNECT_TIMEOUT
        try:
            client = distributed.Client(scheduler, timeout=f"{CONNECT_TIMEOUT:g}s")
        except Exception as exc:
            raise PidlabError(
                f"could not connect to the dask scheduler at {scheduler!r} ({_describe(exc)}); check the address "
                "(e.g. tcp://host:8786) and that the scheduler is running."
            ) from None
        try:
            return _DaskBackend(client, owned=True)
        except BaseException:
            client.close()
            raise
    try:
        client = distributed.default_client()
    except ValueError:
        raise InvalidStudyError(
            "executor='dask' needs a dask.distributed cluster: pass executor=client (a "
            "dask.distributed.Client), or scheduler='tcp://host:8786'; on one machine: "
            "from dask.distributed import Client; client = Client()."
        ) from None
    return _DaskBackend(client, owned=False)


#: Seconds to reach a dask scheduler (connect and handshake) before giving up with an error naming it.
CONNECT_TIMEOUT = 10.0
#: Seconds to wait for a first worker on a dask cluster that has none.
WORKER_TIMEOUT = 60.0


def _probe_scheduler(address: str) -> None:
    """Ask ``address`` for its identity, in at most :data:`CONNECT_TIMEOUT` seconds.

    ``distributed.Client(address, timeout=...)`` bounds the TCP connect only: a port that accepts
    and never answers (or answers something else than dask) hangs it for ever or fails with an
    unrelated error. The probe runs on its own event loop in a helper thread (this thread may
    already run one, as in Jupyter) and is abandoned after the timeout.
    """
    import asyncio
    import threading

    if not isinstance(address, str) or not address.strip():
        raise InvalidStudyError(f"`scheduler` must be a dask scheduler address such as 'tcp://host:8786'; "
                                f"got {address!r}.")
    from distributed.comm import connect
    from distributed.security import Security

    box: dict[str, Any] = {}
    conn_args = Security().get_connection_args("client")  # TLS settings from dask's config, as a Client takes them

    async def ask() -> None:
        comm = await connect(address, timeout=CONNECT_TIMEOUT, **conn_args)
        try:
            await comm.write({"op": "identity", "reply": True})
            box["identity"] = await comm.read()
        finally:
            comm.abort()

    def run() -> None:
        try:
            asyncio.run(asyncio.wait_for(ask(), CONNECT_TIMEOUT))
        except BaseException as exc:  # reported in the calling thread
            box["error"] = exc

    th = threading.Thread(target=run, name="pidlab-dask-probe", daemon=True)
    th.start()
    th.join(CONNECT_TIMEOUT + 0.5)
    fix = "check the address (e.g. tcp://host:8786) and that `dask scheduler` is running there"
    exc = box.get("error")
    if isinstance(exc, ValueError) and "address" in str(exc):
        raise InvalidStudyError(f"`scheduler` {address!r} is not a dask address ({exc}); give one such as "
                                "'tcp://host:8786'.") from None
    if th.is_alive() or isinstance(exc, (TimeoutError, asyncio.TimeoutError)) or (
            isinstance(exc, OSError) and "Timed out" in str(exc)):
        raise PidlabError(f"the dask scheduler at {address!r} did not answer within {CONNECT_TIMEOUT:g} s; "
                          f"{fix}.") from None
    if isinstance(exc, OSError):
        raise PidlabError(f"could not connect to the dask scheduler at {address!r} ({_describe(exc)}); {fix}.") from None
    if exc is not None:  # e.g. an HTTP server: its bytes read as a dask frame of absurd length
        raise PidlabError(f"{address!r} answered, but not as a dask scheduler (its reply is not dask's protocol: "
                          f"{type(exc).__name__}); {fix}.") from None
    ident = box.get("identity")
    kind = ident.get("type") if isinstance(ident, dict) else None
    if kind != "Scheduler":
        raise PidlabError(f"{address!r} answered, but it is {'a dask ' + str(kind) if kind else 'not dask'}, not a "
                          f"dask scheduler; {fix} (a worker's address is not the scheduler's).")


def _reject_max_workers(max_workers: int | None, what: str) -> None:
    if max_workers is not None:
        raise InvalidStudyError(f"`max_workers` applies to executor='process' only; size {what} when you create it.")


# --------------------------------------------------------------------------- the study
def _measure_plan(measures: Iterable[str] | str | None) -> tuple[tuple[str, bool], ...]:
    from pidlab._plugins import lookup, names

    chosen = names("measure") if measures is None else ([measures] if isinstance(measures, str) else list(measures))
    plan: dict[str, bool] = {}
    for m in chosen:
        entry = lookup("measure", m)  # UnknownNameError naming the known measures
        plan.setdefault(entry.name, bool(getattr(entry.cls, "uses_solver", False)))
    if not plan:
        raise InvalidStudyError("the list of measures is empty; name at least one (see pidlab.measures()).")
    return tuple(plan.items())


def _solver_plan(solvers: Iterable[str] | str | None, plan: tuple[tuple[str, bool], ...]) -> tuple[str | None, ...]:
    from pidlab._plugins import lookup

    if solvers is None:
        return (None,)
    chosen = [solvers] if isinstance(solvers, str) else list(solvers)
    if not chosen:
        raise InvalidStudyError("the list of solvers is empty; pass None for the default solver or name some.")
    if not any(uses for _, uses in plan):
        raise InvalidStudyError(
            f"solvers={chosen} given, but none of the measures {[m for m, _ in plan]} uses a solver; "
            "add 'broja' to the measures or drop solvers=."
        )
    out: list[str] = []
    for s in chosen:
        entry = lookup("solver", s)
        ok, reason = entry.availability()
        if not ok:
            raise SolverError(f"solver {entry.name!r} is not available here: {reason}")
        if entry.name not in out:
            out.append(entry.name)
    return tuple(out)


def _as_family(distributions: Any) -> Family:
    if isinstance(distributions, Family):
        if len(distributions) < 1:
            raise InvalidStudyError("the family has no items; a study needs at least one distribution.")
        return distributions
    if isinstance(distributions, str):
        raise InvalidStudyError(
            f"pass a family object, not the string {distributions!r}: e.g. "
            f"pidlab.study.family({distributions!r}, ...) or pidlab.study.dirichlet((2, 2, 2), n=1000, seed=0)."
        )
    from pidlab._distribution import Distribution

    if isinstance(distributions, Distribution) or (isinstance(distributions, np.ndarray) and distributions.ndim == 3):
        raise InvalidStudyError(
            "got a single distribution; a study takes several: pass [p1, p2, ...] or an array of shape "
            "(N, |X1|, |X2|, |Y|) (for one distribution use pidlab.compare(p))."
        )
    if isinstance(distributions, Iterable):
        return from_arrays(distributions)
    raise InvalidStudyError(
        f"distributions must be a pidlab.study family or an iterable of arrays p[x1, x2, y]; got "
        f"{type(distributions).__name__}."
    )


def run_study(
    distributions: Family | Iterable[Any],
    measures: Iterable[str] | str | None = None,
    *,
    solvers: Iterable[str] | str | None = None,
    batch: bool = True,
    executor: Any = "local",
    scheduler: str | None = None,
    max_workers: int | None = None,
    chunk_size: int | None = None,
    errors: str = "record",
    progress: Callable[[int, int], None] | None = None,
    block: int = BLOCK,
    store: str | Path | None = None,
    resume: bool = False,
    bounds: bool = False,
) -> StudyResult:
    """Decompose every distribution of a family with every measure, in chunks, locally or on dask.

    Parameters
    ----------
    distributions : Family or iterable of array_like
        A family specification (:func:`dirichlet`, :func:`gates`, :func:`noisy_gates`,
        :func:`family`, or a :class:`Family` subclass), or your own joints ``p[x1, x2, y]``
        (arrays or Distributions, validated up front; they are shipped to workers in slices).
        Families are shipped as specifications: workers generate their items themselves.
    measures : str or list of str, optional
        Measure names (default: every registered one, ``pidlab.measures()``).
    solvers : str or list of str, optional
        BROJA backends to compare (one set of rows per solver). Default: the batched native
        solver (:func:`pidlab.decompose_many`) when ``batch`` is true, else the preferred one.
    batch : bool, default True
        Compute default-solver BROJA rows and the rows of every measure that needs no solver with
        :func:`pidlab.decompose_many` (one call per block and shape; a measure's vectorised
        ``compute_many``) instead of one :func:`pidlab.decompose` per item. Batched and single
        values agree to rounding (closed forms) or within the certified gaps (BROJA).
    executor : {"local", "process", "dask"}, dask.distributed.Client or concurrent.futures.Executor
        ``"local"`` runs the chunks one after another here; ``"process"`` on a process pool of
        ``max_workers`` (spawned: a script must guard its entry point with
        ``if __name__ == "__main__":``); a dask ``Client`` (LocalCluster or a multi-machine cluster) runs them on
        its workers, which need pidlab installed; ``"dask"`` uses ``scheduler`` or the current
        default client.
    scheduler : str, optional
        Address of a dask scheduler (``tcp://host:8786``), with ``executor="dask"``. One that
        does not answer as a dask scheduler within ``CONNECT_TIMEOUT`` (10 s) raises
        :class:`pidlab.PidlabError` naming it; a cluster without workers is waited on for at most
        ``WORKER_TIMEOUT`` (60 s), then refused.
    max_workers : int, optional
        Size of the process pool (``executor="process"``; default: the number of CPUs).
    chunk_size : int, optional
        Distributions per task. Default: about four tasks per worker, at most 2000 per task.
        When a batched measure runs, it is rounded up to a multiple of ``block``. It changes
        nothing in the results.
    errors : {"record", "raise"}
        ``"record"`` stores a failing (item, measure) as a row with status ``"error"`` and the
        message; ``"raise"`` re-raises the first failure, with a note naming the item.
    progress : callable, optional
        Called as ``progress(done, total)`` (distributions) on this machine after each chunk.
    block : int, default 512
        Batched BROJA solves items ``k*block .. (k+1)*block - 1`` together (one
        :func:`pidlab.decompose_many` call per block and shape). Part of the study spec:
        batched interior-point iterates can differ in the last bits with the batch's
        composition, so batches are fixed by the spec, never by the chunking. Values for
        different ``block`` agree within the certified gaps (1e-9 bits).
    store : str or Path, optional
        A directory for a crash-safe results store (``study.sqlite``, SQLite in WAL mode): each
        finished chunk is committed as it arrives, so a killed study loses no finished chunk.
        The directory is created if needed; one that holds another study's store is refused
        before any work starts. :func:`read_store` reads it back.
    bounds : bool, default False
        Also compute, for every item, the semi-supervised bounds on synergy of Liang et al.
        (:func:`pidlab.synergy_bounds` on :meth:`pidlab.Marginals.from_joint`: only the
        pairwise marginals ``p(x1,y), p(x2,y), p(x1,x2)``), in the columns
        ``S_lower_redundancy, S_lower_disagreement, S_lower, S_upper`` (bits; repeated on each
        of the item's rows) and ``bounds_error``. :meth:`StudyResult.bound_gaps` compares them
        with BROJA's S. About 30 decompositions' worth of work per item.
    resume : bool, default False
        Continue the study stored in ``store``: finished chunks are read back (checksums
        verified; a damaged chunk is recomputed), the others computed. The spec must be the
        stored one (else :class:`InvalidStudyError`); the table is bit-identical to that of a
        run that never stopped. Without ``resume``, a directory holding this study's store is
        refused (nothing is overwritten).

    Returns
    -------
    StudyResult
        Rows in (item, measure, solver) order; identical, bit for bit, for the same
        ``distributions, measures, solvers, batch`` whatever the executor and chunk size.

    Raises
    ------
    UnknownNameError
        Unknown measure, solver, family or executor name.
    InvalidStudyError, InvalidDistributionError
        Bad sizes, counts or options; malformed user-supplied distributions.
    MissingDependencyError
        ``executor="dask"`` without dask.distributed installed (``pip install 'pidlab[dask]'``).
    ProblemTooLargeError
        Before anything runs: the study's estimated work (rows x a per-row cost growing with the
        table size) or the memory of its table of results is above pidlab's limits, or one task
        (its items, their solves, its rows; times the workers of a process pool) would not fit the
        memory limit. Raise them with :func:`pidlab.limits`. Tasks are made lazily, a few per
        worker at a time, so a large study never holds its whole task list.

    Examples
    --------
    >>> from pidlab.study import run_study, dirichlet
    >>> res = run_study(dirichlet((2, 2, 2), n=20, seed=0), ["broja", "imin"], chunk_size=7)
    >>> len(res), sorted(res.summary().groups)
    (40, ['broja', 'imin'])
    >>> res.digest() == run_study(dirichlet((2, 2, 2), n=20, seed=0), ["broja", "imin"]).digest()
    True
    """
    t0 = time.perf_counter()
    fam = _as_family(distributions)
    plan = _measure_plan(measures)
    solver_plan = _solver_plan(solvers, plan)
    if errors not in ("record", "raise"):
        raise InvalidStudyError(f"`errors` must be 'record' or 'raise'; got {errors!r}.")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer))
                                   or chunk_size < 1):
        raise InvalidStudyError(f"`chunk_size` must be an integer >= 1 (distributions per task); got {chunk_size!r}.")
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise InvalidStudyError(f"`block` must be an integer >= 1 (items per batched BROJA solve); got {block!r}.")
    block = int(block)
    # batched: default-solver BROJA through the native batch, and every measure that needs no solver
    # through its vectorised compute_many; batches are whole blocks, so chunking never changes a value
    batched = bool(batch) and ((solvers is None and any(m == "broja" for m, _ in plan))
                               or any(not uses for _, uses in plan))
    align = block if batched else 1
    n = len(fam)
    rows_per_item = sum(len(solver_plan) if uses else 1 for _, uses in plan)
    cells = fam.max_cells()
    bounds_rows = (BOUNDS_ROWS_SEGMENT if batch and cells is not None and cells <= 8 else BOUNDS_ROWS) if bounds else 0
    _guard_study(fam, n, rows_per_item + bounds_rows, cells)
    spec = {
        "family": fam.to_dict(),
        "n_items": n,
        "measures": [m for m, _ in plan],
        "solver_measures": [m for m, uses in plan if uses],
        "solvers": None if solvers is None else list(solver_plan),
        "batch": bool(batch),
        "block": block if batched else None,
    }
    if bounds:  # only when asked: the spec (and store identity) of other studies is unchanged
        spec["bounds"] = True
    state = sspec = None
    if store is not None:  # before any work: a wrong directory or another study's store is refused here
        from pidlab.study._store import check_store_dir, store_spec

        sspec = store_spec(spec, fam)
        state = check_store_dir(store, sspec, bool(resume))
        if state.chunk_size is not None and chunk_size is not None and int(chunk_size) != state.chunk_size:
            raise InvalidStudyError(
                f"the store in {str(state.directory)!r} was made with chunk_size={state.chunk_size}; resume it with "
                "that chunk size (or without chunk_size)."
            )
    elif resume:
        raise InvalidStudyError("resume=True needs store=DIR (the directory of the study's store).")
    backend = _backend(executor, scheduler, max_workers)
    st = None
    try:
        if state is not None and state.chunk_size is not None:
            cs = state.chunk_size
        else:
            cs = int(chunk_size) if chunk_size is not None else max(1, min(
                MAX_CHUNK, math.ceil(n / (4 * backend.workers)) if backend.workers > 1 else MAX_CHUNK))
            cs = -(-cs // align) * align
        _guard_task(fam, min(cs, n), rows_per_item, cells, block if batched else 1, backend.concurrent)
        n_tasks = -(-n // cs)
        have: dict[int, dict[str, np.ndarray]] = {}
        if state is not None:
            from pidlab.study._store import StudyStore

            assert sspec is not None
            st = StudyStore.open(state, sspec, chunk_size=cs, n_tasks=n_tasks, n_items=n, family_name=fam.name,
                                 param_names=tuple(fam.param_names), target=fam.target())
            have = st.finished()
        todo = [k for k in range(n_tasks) if k not in have]
        done0 = sum(min(n, (k + 1) * cs) - k * cs for k in have)
        # tasks are made lazily, as the executor takes them: never the whole list of a huge study
        tasks = (_Task(fam.shard(k * cs, min(n, (k + 1) * cs)), k * cs, min(n, (k + 1) * cs), plan, solver_plan,
                       bool(batch), errors, block, bool(bounds)) for k in todo)
        on_done = None
        if st is not None:
            store_ = st

            def on_done(i: int, chunk: Any) -> None:
                k = todo[i]
                store_.append(k, k * cs, min(n, (k + 1) * cs), chunk)

        if progress is not None and done0:
            progress(done0, n)
        prog = progress if progress is None or not done0 else (lambda d, t: progress(done0 + d, t))
        new = backend.map(tasks, len(todo), prog, n, on_done)
        description = backend.description
    finally:
        backend.close()
        if st is not None:
            st.close()
    notes: tuple[str, ...] = ()
    if st is not None and state is not None:
        from pidlab.study._store import decode_chunk, encode_chunk

        # the table is made of the stored bytes, so a resumed study and one that never stopped are identical
        got = dict(have)
        for k, ch in zip(todo, new):
            got[k] = decode_chunk(encode_chunk(ch))
        chunks = [got[k] for k in range(n_tasks)]
        if have:
            notes += (f"resumed from the store in {str(state.directory)!r}: {len(have)} of {n_tasks} chunk(s) were "
                      f"already done, {len(todo)} computed now",)
        if st.dropped:
            notes += (f"{len(st.dropped)} damaged chunk(s) in the store (checksum mismatch) were recomputed",)
    else:
        chunks = new
    columns = _assemble(chunks, fam.name, tuple(fam.param_names), fam.target())
    return StudyResult(spec, columns, fam.target(), description, n_tasks, cs, time.perf_counter() - t0,
                       _notes(columns) + notes)


#: The synergy bounds of one item cost about as much as this many decompositions (measured ~30) ...
BOUNDS_ROWS = 30
#: ... and batched on 2 x 2 x 2 tables (synergy_bounds_many's segment method, ~25 µs an item): one.
BOUNDS_ROWS_SEGMENT = 1
#: Bytes of one row of the study's table (nine float columns, object columns, the per-chunk copy).
ROW_BYTES = 512
#: Elementary operations of one (distribution, measure) row on a table of K cells: a decomposition
#: costs about a millisecond of Python and solver iterations on a 2x2x2 table (measured 0.7-3 ms).
ROW_WORK_BASE = 3e5
ROW_WORK_PER_CELL = 3e4
#: Working memory of one decomposition, in copies of its float64 table (solver iterates, gradients).
WORK_COPIES = 32


def _what(fam: Family, n: int, cells: int | None) -> str:
    shape = getattr(fam, "shape", None)
    size = f"{'x'.join(map(str, shape))} tables" if shape is not None else (
        f"tables of up to {cells} cells" if cells is not None else "tables")
    return f"a study of {n} distributions ({fam.name} family, {size})"


def check_study_size(families: Family | Sequence[Family], measures: Sequence[str]) -> None:
    """Refuse, before any work, studies that together exceed pidlab's limits (:func:`pidlab.limits`).

    ``run_study`` checks each study itself; a caller about to run several (a sweep of families,
    as the StudyPanel runs one study per concentration) checks them as a whole here. Raises
    :class:`pidlab.ProblemTooLargeError` naming the estimate, the limit and the fix.
    """
    fams = [families] if isinstance(families, Family) else list(families)
    if not fams:
        return
    cells = [f.max_cells() for f in fams]
    known = [c for c in cells if c is not None]
    _guard_study(fams[0], sum(len(f) for f in fams), max(1, len(measures)), max(known) if known else None)


def _guard_study(fam: Family, n: int, rows_per_item: int, cells: int | None) -> None:
    """Before any task exists: the whole study's work, and the memory of its table of results."""
    rows = float(n) * rows_per_item
    what = _what(fam, n, cells) + f" x {rows_per_item} measure row(s) each"
    hint = "Use fewer distributions (n), smaller tables or fewer measures"
    check_work(rows * (ROW_WORK_BASE + ROW_WORK_PER_CELL * (cells or 0)), what, hint=hint)
    check_memory(rows * ROW_BYTES, what + " (its table of results)", hint=hint)


def _guard_task(fam: Family, cs: int, rows_per_item: int, cells: int | None, batch_items: int, concurrent: int) -> None:
    """Before the first task starts: the memory one task needs (its items, their solves, its rows),
    times the tasks run at once on this machine."""
    gen = fam.generation_bytes(0, cs)
    if gen is None or cells is None:
        return  # a custom family that does not say its sizes
    per_task = gen + 8.0 * cells * cs + 8.0 * cells * WORK_COPIES * min(batch_items, cs) + ROW_BYTES * cs * rows_per_item
    what = (f"{_what(fam, len(fam), cells)}: one task of {cs} distribution(s)"
            + (f", {concurrent} at once" if concurrent > 1 else ""))
    check_memory(per_task * concurrent, what,
                 hint="Use smaller tables, a smaller chunk_size, fewer workers or batch=False")


def _assemble(chunks: list[dict[str, np.ndarray]], fam_name: str, param_names: tuple[str, ...],
              target: str) -> dict[str, np.ndarray]:
    """Concatenate the chunks' columns (already in row order) into the study's typed table."""
    cat = {k: np.concatenate([ch[k] for ch in chunks]) for k in chunks[0]} if chunks else {}
    nrows = int(cat["item"].shape[0]) if cat else 0
    cols: dict[str, np.ndarray] = {"item": cat.get("item", np.zeros(0, dtype=np.int64)),
                                   "family": np.full(nrows, fam_name, dtype=object)}
    for p in param_names:
        vals = cat.get("param:" + p, _objects([]))
        lst = vals.tolist()
        if lst and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in lst):
            cols[p] = np.asarray(lst, dtype=np.int64)
        elif lst and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in lst):
            cols[p] = np.asarray(lst, dtype=np.float64)
        else:
            cols[p] = vals
    for c in TAIL_COLUMNS:
        if c == "target":
            cols[c] = np.full(nrows, target, dtype=object)
        else:
            cols[c] = cat[c]
    for c in (*BOUND_COLUMNS, "bounds_error"):
        if "bound:" + c in cat:
            cols[c] = cat["bound:" + c]
    for a in cols.values():
        a.setflags(write=False)
    return cols


def _notes(cols: dict[str, np.ndarray]) -> tuple[str, ...]:
    notes = []
    status = cols["status"]
    n_err = int(np.sum(status == "error"))
    if n_err:
        first = next(e for e in cols["error"] if e)
        notes.append(f"{n_err} row(s) failed and are recorded with status 'error' (first: {first})")
    inexact = sorted(set(status.tolist()) - {"optimal", "closed-form", "error"})
    for s in inexact:
        notes.append(f"{int(np.sum(status == s))} row(s) have solver status {s!r}: their atoms carry the certified "
                     "gap in column 'gap' (bits)")
    return tuple(notes)

