"""Studies on real dask clusters: a worker process killed mid-run, a cluster of separate ``dask scheduler`` /
``dask worker`` processes driven through ``pidlab study --scheduler``, and scheduler addresses that do not answer."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pidlab.study._runner as runner
from pidlab.exceptions import PidlabError
from pidlab.study import InvalidStudyError, dirichlet, run_study

distributed = pytest.importorskip("distributed")  # in the dev extra; the other study tests fail without it

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------------------- a worker process killed mid-run
@pytest.mark.slow  # a LocalCluster of two worker processes, a killed worker restarted by its nanny (~15-25 s)
def test_killing_a_worker_process_mid_run_still_gives_the_clean_table():
    fam = dirichlet((2, 2, 2), n=3000, seed=21)
    clean = run_study(fam, ["mmi"], batch=False)  # one by one: ~2 ms per item, 30 chunks of ~0.2 s below
    killed: dict[str, Any] = {}

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cl, distributed.Client(cl) as client:
        pids = client.run(os.getpid)
        assert len(pids) == 2 and os.getpid() not in pids.values()  # two real worker processes

        def progress(done: int, total: int) -> None:
            if killed:
                return
            busy = {w: ks for w, ks in client.processing().items() if ks}
            victim = max(busy, key=lambda w: len(busy[w]))  # a worker holding tasks right now
            killed.update(address=victim, pid=pids[victim], held=len(busy[victim]), done=done)
            os.kill(pids[victim], signal.SIGKILL)

        res = run_study(fam, ["mmi"], batch=False, executor=client, chunk_size=100, progress=progress)
        assert killed and killed["held"] >= 1 and killed["done"] < 3000  # killed mid-run, with tasks on it
        with pytest.raises(ProcessLookupError):  # really gone (its nanny reaped it)
            os.kill(killed["pid"], 0)
    assert res.n_chunks == 30 and len(res) == 3000
    assert res.digest() == clean.digest()  # bit-identical to the clean run
    assert res.to_frame().equals(clean.to_frame())


# ----------------------------------------------------------------------------- separate dask processes, the CLI
def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End a process started below and its children (own session), by its process group id."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the nanny's worker process, if it outlived the nanny
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


@pytest.fixture
def dask_processes(tmp_path: Path) -> Iterator[str]:
    """A ``dask scheduler`` and a ``dask worker`` as separate OS processes on loopback; yields the address."""
    sched_file = tmp_path / "scheduler.json"
    common = {"cwd": tmp_path, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(_free_port()),
             "--no-dashboard", "--scheduler-file", str(sched_file)], **common))
        deadline = time.monotonic() + 60
        while not sched_file.exists() or not sched_file.read_text().strip():
            assert procs[0].poll() is None, "dask scheduler exited"
            assert time.monotonic() < deadline, "dask scheduler did not start within 60 s"
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "dask", "worker", address, "--nworkers", "1", "--nthreads", "1",
             "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0"], **common))
        with distributed.Client(address, timeout="30s") as c:
            c.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            _stop(p)


@pytest.mark.slow  # three interpreters start (scheduler, nanny + worker, the CLI): ~10-20 s under load
def test_cli_study_on_separate_scheduler_and_worker_processes(dask_processes, tmp_path):
    from pidlab.cli import main

    study = ["study", "--family", "dirichlet", "--n", "300", "--seed", "5", "--measures", "broja", "imin", "mmi",
             "--format", "json"]
    assert main([*study, "--out", str(tmp_path / "local.csv")]) == 0
    proc = subprocess.run([sys.executable, "-m", "pidlab.cli", *study, "--executor", "dask", "--scheduler",
                           dask_processes, "--chunk-size", "64", "--out", str(tmp_path / "dask.csv")],
                          capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["study"]["executor"].startswith(f"dask ({dask_processes}, 1 worker thread")
    local, remote = (tmp_path / "local.csv").read_bytes(), (tmp_path / "dask.csv").read_bytes()
    assert remote.count(b"\n") == 1 + 900 and remote == local  # the same table, byte for byte


# ----------------------------------------------------------------------------- addresses that do not answer
@pytest.fixture
def short_timeouts(monkeypatch):
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT", 2.0)
    monkeypatch.setattr(runner, "WORKER_TIMEOUT", 1.0)


@pytest.fixture
def fake_server() -> Iterator[Any]:
    """Loopback servers that accept connections and then stay silent, or answer like an HTTP server."""
    socks: list[socket.socket] = []

    def start(reply: bytes | None) -> str:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        socks.append(srv)

        def serve() -> None:
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                socks.append(conn)
                if reply is not None:
                    conn.sendall(reply)

        threading.Thread(target=serve, daemon=True).start()
        return f"tcp://127.0.0.1:{srv.getsockname()[1]}"

    yield start
    for s in socks:
        s.close()


def _run_bounded(address: str, limit: float) -> tuple[BaseException | None, float]:
    """run_study on ``address`` in a thread; fails (instead of hanging the suite) if it takes over ``limit`` s."""
    box: dict[str, BaseException] = {}

    def go() -> None:
        try:
            run_study(dirichlet(n=3), ["imin"], executor="dask", scheduler=address)
        except BaseException as exc:
            box["exc"] = exc

    t0 = time.monotonic()
    th = threading.Thread(target=go, daemon=True)
    th.start()
    th.join(limit)
    assert not th.is_alive(), f"run_study on {address} still waiting after {limit} s"
    return box.get("exc"), time.monotonic() - t0


def test_nothing_listening_is_an_error_naming_the_address_in_bounded_time(short_timeouts):
    address = f"tcp://127.0.0.1:{_free_port()}"
    exc, took = _run_bounded(address, 20)
    assert isinstance(exc, PidlabError) and address in str(exc) and "dask scheduler" in str(exc)
    assert took < 2.0 + 3  # CONNECT_TIMEOUT and the import of distributed


def test_a_port_that_accepts_and_never_answers_does_not_hang(short_timeouts, fake_server):
    address = fake_server(None)  # distributed.Client(address, timeout=...) waited for ever here
    exc, took = _run_bounded(address, 20)
    assert isinstance(exc, PidlabError) and f"{address!r} did not answer within 2 s" in str(exc)
    assert took < 2.0 + 3


def test_a_server_that_is_not_dask_is_named(short_timeouts, fake_server):
    address = fake_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)
    exc, _ = _run_bounded(address, 20)  # before: MemoryError (the HTTP bytes read as a frame length)
    assert isinstance(exc, PidlabError) and "not as a dask scheduler" in str(exc) and address in str(exc)


def test_malformed_scheduler_address(short_timeouts):
    for bad in ("nonsense", "", "  "):
        exc, took = _run_bounded(bad, 20)
        assert isinstance(exc, InvalidStudyError) and "tcp://host:8786" in str(exc) and took < 3


def test_a_scheduler_without_workers_is_an_error_not_a_wait_for_ever(short_timeouts):
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cl:
        exc, took = _run_bounded(cl.scheduler_address, 20)  # the tasks would have queued for ever
    assert isinstance(exc, PidlabError) and "has no workers" in str(exc) and "dask worker" in str(exc)
    assert cl.scheduler_address in str(exc) and took < 1.0 + 5


def test_cli_reports_a_dead_scheduler_in_one_line(short_timeouts, capsys):
    from pidlab.cli import main

    address = f"tcp://127.0.0.1:{_free_port()}"
    code = main(["study", "--family", "gates", "--measures", "imin", "--executor", "dask", "--scheduler", address])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("pidlab: error: ") and address in err and err.count("\n") == 1


def test_a_client_that_is_not_the_default_one():
    # as_completed took the *default* client's loop: "ValueError: No clients found" (or another cluster's loop)
    fam = dirichlet((2, 2, 2), n=40, seed=2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl, set_as_default=False) as client:
        res = run_study(fam, ["imin", "mmi"], executor=client, chunk_size=10, block=10)
    assert res.n_chunks == 4 and res.digest() == run_study(fam, ["imin", "mmi"], block=10).digest()


def test_a_workers_address_is_not_taken_for_the_schedulers(short_timeouts):
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
                                  dashboard_address=None) as cl, distributed.Client(cl) as client:
        worker = next(iter(client.nthreads()))
        exc, took = _run_bounded(worker, 20)
        assert isinstance(exc, PidlabError) and f"{worker!r} answered, but it is a dask Worker" in str(exc)
        # host:port without the protocol is a valid address
        res = run_study(dirichlet(n=3), ["imin"], executor="dask", scheduler=cl.scheduler_address[len("tcp://"):])
        assert res.executor.startswith(f"dask ({cl.scheduler_address}")
