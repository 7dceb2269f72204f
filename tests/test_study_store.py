"""The crash-safe results store of studies (SQLite, WAL): resume, damage, bad input, a real SIGKILL;
the progress line; the overview figure (``--plot``)."""

from __future__ import annotations

import collections
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pidlab.study import InvalidStudyError, dirichlet, noisy_gates, read_store, run_study
from pidlab.study._store import STORE_FILE, store_log

ROOT = Path(__file__).resolve().parents[1]


def _db(d: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(d / STORE_FILE))


# ----------------------------------------------------------------------------- the store, in process
def test_store_resume_recomputes_only_missing_and_damaged_chunks(tmp_path):
    fam = dirichlet((2, 2, 2), n=90, seed=3)
    clean = run_study(fam, ["broja", "imin"], batch=False)
    d = tmp_path / "s"
    first = run_study(fam, ["broja", "imin"], batch=False, chunk_size=10, store=d)
    assert first.digest() == clean.digest() and read_store(d).digest() == clean.digest()
    assert [i for _, i in store_log(d)] == list(range(9))
    # a study killed after some chunks: drop chunks 2 and 7; damage chunk 5's bytes (a bad disk block)
    with _db(d) as con:
        con.execute("DELETE FROM chunks WHERE idx IN (2, 7)")
        con.execute("UPDATE chunks SET data = substr(data, 1, length(data) - 3) || x'000000' WHERE idx = 5")
    with pytest.raises(InvalidStudyError, match="incomplete.*resume"):
        read_store(d)
    res = run_study(fam, ["broja", "imin"], batch=False, store=d, resume=True)
    log = store_log(d)
    assert sorted(i for r, i in log if r == 2) == [2, 5, 7]  # exactly the missing and the damaged ones
    assert collections.Counter(i for r, i in log if r == 1) == collections.Counter(range(9))
    assert res.digest() == clean.digest() and read_store(d).digest() == clean.digest()
    assert any("damaged" in n for n in res.notes) and any("3 computed now" in n for n in res.notes)
    # the table read back equals the clean run's, column by column, bit for bit
    back = read_store(d)
    for k, v in clean.columns.items():
        w = back.columns[k]
        assert v.dtype == w.dtype and (v.tobytes() == w.tobytes() if v.dtype != object else v.tolist() == w.tolist())
    # a complete store resumed again computes nothing
    assert run_study(fam, ["broja", "imin"], batch=False, store=d, resume=True).digest() == clean.digest()
    assert len(store_log(d)) == len(log)


def test_store_refuses_other_study_and_bad_directories(tmp_path):
    fam = noisy_gates("xor", noise=[0.0, 0.5])
    d = tmp_path / "s"
    run_study(fam, ["imin"], block=1, store=d, chunk_size=1)
    n_log = len(store_log(d))
    with pytest.raises(InvalidStudyError, match="already holds a store.*--resume"):
        run_study(fam, ["imin"], block=1, store=d)
    with pytest.raises(InvalidStudyError, match="another study.*measures: stored \\['imin'\\], now \\['mmi'\\]"):
        run_study(fam, ["mmi"], block=1, store=d, resume=True)
    with pytest.raises(InvalidStudyError, match="another study.*noise"):
        run_study(noisy_gates("xor", noise=[0.0, 0.4]), ["imin"], block=1, store=d, resume=True)
    with pytest.raises(InvalidStudyError, match="chunk_size=1"):
        run_study(fam, ["imin"], block=1, store=d, resume=True, chunk_size=2)
    assert len(store_log(d)) == n_log  # refused before any work
    with pytest.raises(InvalidStudyError, match="holds no study store"):
        run_study(fam, ["imin"], block=1, store=tmp_path / "none", resume=True)
    with pytest.raises(InvalidStudyError, match="needs store"):
        run_study(fam, ["imin"], resume=True)
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InvalidStudyError, match="is a file"):
        run_study(fam, ["imin"], block=1, store=f)
    with pytest.raises(InvalidStudyError, match="cannot create"):
        run_study(fam, ["imin"], block=1, store=f / "sub")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / STORE_FILE).write_bytes(b"not a database at all" * 100)
    with pytest.raises(InvalidStudyError, match="not a readable pidlab study store"):
        run_study(fam, ["imin"], block=1, store=junk, resume=True)


def test_arrays_store_fingerprints_the_content(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.dirichlet(np.ones(8), size=4).reshape(4, 2, 2, 2)
    run_study(list(a), ["imin"], store=tmp_path / "s")
    b = a.copy()
    b[0] = b[1]
    with pytest.raises(InvalidStudyError, match="another study.*arrays_sha256"):
        run_study(list(b), ["imin"], store=tmp_path / "s", resume=True)
    assert run_study(list(a), ["imin"], store=tmp_path / "s", resume=True).digest() == run_study(list(a), ["imin"]).digest()


@pytest.mark.skipif(os.name != "posix", reason="read-only directory permissions")
def test_unwritable_out_directory_is_refused_before_work(tmp_path):
    if os.geteuid() == 0:
        # root writes anywhere: a read-only bind is not available here, use a path below a file instead
        target = tmp_path / "afile"
        target.write_text("")
        target = target / "out"
    else:
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o500)
    proc = subprocess.run([sys.executable, "-m", "pidlab.cli", "study", "--family", "gates", "--measures", "imin",
                           "--out", str(target)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.startswith("pidlab: error: cannot ") and proc.stdout == ""


# ----------------------------------------------------------------------------- a real process, killed
def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pidlab.cli", "study", *args]


@pytest.mark.slow  # three processes (~10 s under load): the fault test
def test_sigkill_mid_run_then_resume_recomputes_no_finished_chunk(tmp_path):
    d = tmp_path / "study"
    args = ["--family", "dirichlet", "--n", "3000", "--seed", "11", "--measures", "mmi", "--chunk-size", "100",
            "--no-batch", "--out", str(d)]
    proc = subprocess.Popen(_cli(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    done = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if (d / STORE_FILE).exists():
                try:
                    done = len(store_log(d))
                except sqlite3.Error:  # the schema is being created
                    done = 0
                if done >= 3:
                    break
            time.sleep(0.01)
        assert proc.poll() is None, "the study finished before it could be killed: make it longer"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    before = store_log(d)
    assert 3 <= len(before) < 30
    with pytest.raises(InvalidStudyError, match="incomplete"):
        read_store(d)
    again = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert again.returncode == 2 and "--resume" in again.stderr  # no silent overwrite
    res = subprocess.run(_cli(*args, "--resume"), capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "\r" not in res.stderr  # no progress line when stderr is not a terminal
    after = store_log(d)
    counts = collections.Counter(i for _, i in after)
    assert sorted(counts) == list(range(30)) and set(counts.values()) == {1}  # none lost, none computed twice
    assert after[:len(before)] == before and {r for r, _ in after[len(before):]} == {2}
    clean = run_study(dirichlet((2, 2, 2), n=3000, seed=11), ["mmi"], batch=False)
    assert read_store(d).digest() == clean.digest()
    import pandas as pd

    table = pd.read_csv(d / "table.csv")
    assert np.array_equal(table["S"].to_numpy(), clean.column("S"))


@pytest.mark.parametrize(
    "args, match",
    [
        (["--resume"], "--resume needs --out DIR"),
        (["--out", "x.csv", "--resume"], "not the file"),
        (["--out", "nostore", "--resume"], "holds no study store"),
        (["--plot", "f.jpg"], "FILE.png"),
        (["--plot", "missing/f.png"], "does not exist"),
    ],
)
def test_cli_store_bad_input_is_one_line(args, match, capsys, tmp_path, monkeypatch):
    from pidlab.cli import main

    monkeypatch.chdir(tmp_path)
    rc = main(["study", "--family", "gates", "--measures", "imin", *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("pidlab: error:") and err.count("\n") == 1 and match in err


# ----------------------------------------------------------------------------- progress
def test_progress_line_draws_eta_on_a_terminal_only():
    from pidlab.study._progress import ProgressLine

    quiet = io.StringIO()
    p = ProgressLine(quiet)
    p(50, 100)
    p(100, 100)
    p.close()
    assert quiet.getvalue() == ""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    p = ProgressLine(tty, interval=0.0)
    p(25, 100)
    out = tty.getvalue()
    assert "25%" in out and "25/100" in out and "<" in out  # tqdm's [elapsed<remaining, rate]
    p(100, 100)
    p.close()
    assert tty.getvalue().endswith("\n") and "100%" in tty.getvalue() and "100/100" in tty.getvalue()
    # a resumed study: the items already stored are the starting point, not part of the rate
    r = ProgressLine(Tty(), interval=0.0, resumed=True)
    r(80, 100)
    assert r.bar.n == 80 and r.bar.initial == 80
    r(90, 100)
    assert r.bar.n == 90
    r.close()


def test_run_study_reports_stored_items_first_when_resuming(tmp_path):
    fam = dirichlet((2, 2, 2), n=30, seed=0)
    run_study(fam, ["imin"], store=tmp_path / "s", chunk_size=10, block=10)
    with _db(tmp_path / "s") as con:
        con.execute("DELETE FROM chunks WHERE idx = 1")
    seen: list[tuple[int, int]] = []
    run_study(fam, ["imin"], store=tmp_path / "s", block=10, resume=True, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(20, 30), (30, 30)]


# ----------------------------------------------------------------------------- the figure
@pytest.mark.slow  # a CLI run and a PNG rendered under load: ~8 s on the shared 2-core machine
def test_cli_plot_writes_a_valid_png(tmp_path, capsys):
    from pidlab.cli import main

    png = tmp_path / "f.png"
    rc = main(["study", "--family", "noisy", "--gates", "xor", "and", "--noise", "0", "0.2", "0.4",
               "--measures", "broja", "imin", "--plot", str(png)])
    assert rc == 0 and "wrote the figure" in capsys.readouterr().err
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert width > 300 and height > 300


def test_figure_data_are_the_tables(tmp_path):
    from pidlab.study._plot import study_figure

    res = run_study(noisy_gates(["xor", "and"], noise=[0.0, 0.2, 0.4]), ["broja", "imin"])
    csv = res.save(tmp_path / "t.csv")
    # the figure's data against the table, computed independently with pandas from the CSV
    import pandas as pd

    table = pd.read_csv(csv)
    fig = study_figure(res)
    axes = {ax.get_gid(): ax for ax in fig.get_axes()}
    assert {"dist:R", "dist:U1", "dist:U2", "dist:S", "pair:broja|imin", "sweep:S:gate=xor", "sweep:S:gate=and"} <= set(axes)
    # distributions: whiskers at min and max, median line at the median, per measure
    ax = axes["dist:S"]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["broja", "imin"]
    lines = ax.get_lines()  # whiskers, caps, boxes and medians of each box
    for k, m in enumerate(labels):
        v = table.loc[table["measure"] == m, "S"].to_numpy()
        ys = sorted({float(y) for ln in lines for y in ln.get_ydata()
                     if abs(np.mean(ln.get_xdata()) - (k + 1)) < 0.5})
        assert ys[0] == pytest.approx(v.min(), abs=1e-12) and ys[-1] == pytest.approx(v.max(), abs=1e-12)
        assert any(y == pytest.approx(np.median(v), abs=1e-12) for y in ys)
    # pairwise scatter: every item's S of broja against imin's
    ax = axes["pair:broja|imin"]
    pts = {c.get_gid(): c.get_offsets() for c in ax.collections}
    b = table[table["measure"] == "broja"].sort_values("item")
    i = table[table["measure"] == "imin"].sort_values("item")
    assert np.allclose(np.asarray(pts["scatter:S"]), np.c_[b["S"].to_numpy(), i["S"].to_numpy()], atol=1e-12)
    # sweep: mean S at each noise level, one line per measure
    for gate in ("xor", "and"):
        ax = axes[f"sweep:S:gate={gate}"]
        got = {ln.get_gid(): (ln.get_xdata(), ln.get_ydata()) for ln in ax.get_lines()}
        assert set(got) == {"line:broja", "line:imin"}
        for m in ("broja", "imin"):
            want = table[(table["measure"] == m) & (table["gate"] == gate)].groupby("noise")["S"].mean()
            assert np.allclose(got[f"line:{m}"][0], want.index.to_numpy())
            assert np.allclose(got[f"line:{m}"][1], want.to_numpy(), atol=1e-12)
    # the noisy XOR's synergy is 1 - h(e) (independent closed form)
    h = lambda e: 0.0 if e == 0 else -(e * np.log2(e) + (1 - e) * np.log2(1 - e))  # noqa: E731
    xor = {ln.get_gid(): ln.get_ydata() for ln in axes["sweep:S:gate=xor"].get_lines()}
    assert np.allclose(xor["line:broja"], [1 - h(e) for e in (0.0, 0.2, 0.4)], atol=1e-8)


def test_plot_of_an_unswept_study_has_no_sweep_row():
    from pidlab.study._plot import study_figure, sweep_parameter

    res = run_study(dirichlet((2, 2, 2), n=20, seed=1), ["imin", "wms"])
    assert sweep_parameter(res) == (None, None)
    fig = study_figure(res)
    gids = {ax.get_gid() for ax in fig.get_axes()}
    assert "dist:net" in gids and not any(g.startswith("sweep") for g in gids)
    # imin has atoms and no net, wms a net and no atoms: their scatter has nothing in common
    pair = next(ax for ax in fig.get_axes() if ax.get_gid() == "pair:imin|wms")
    assert not pair.collections and "no common quantity" in pair.texts[0].get_text()


def test_a_store_killed_while_being_created_starts_afresh(tmp_path):
    fam = noisy_gates("xor", noise=[0.0, 0.5])
    (tmp_path / STORE_FILE).write_bytes(b"")  # the database file exists, its schema was never committed
    with pytest.raises(InvalidStudyError, match="never initialised"):
        run_study(fam, ["imin"], store=tmp_path, resume=True)
    assert run_study(fam, ["imin"], store=tmp_path).digest() == run_study(fam, ["imin"]).digest()
    assert read_store(tmp_path).digest() == run_study(fam, ["imin"]).digest()


def test_a_store_being_run_by_another_process_is_refused(tmp_path):
    import fcntl

    fam = noisy_gates("xor", noise=[0.0, 0.5])
    run_study(fam, ["imin"], store=tmp_path, chunk_size=1)
    with (tmp_path / "study.lock").open("a+") as fh:  # what a running study holds
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        with pytest.raises(InvalidStudyError, match="another process.* is running the study"):
            run_study(fam, ["imin"], store=tmp_path, resume=True)
    assert run_study(fam, ["imin"], store=tmp_path, resume=True).digest() == run_study(fam, ["imin"]).digest()


# ----------------------------------------------------------------------------- the paper's synthetic study (bounds)
def test_bounds_columns_bracket_the_true_synergy_and_gaps_match_the_table(tmp_path):
    fam = dirichlet((2, 2, 2), n=24, seed=5)
    res = run_study(fam, ["broja", "imin"], bounds=True, store=tmp_path / "s", chunk_size=8)
    assert res.spec["bounds"] is True
    f = res.to_frame()
    b = f[f["measure"] == "broja"]
    assert len(b) == 24 and (b["bounds_error"] == "").all()
    tol = 1e-6 + b["gap"].to_numpy()
    S = b["S"].to_numpy()
    # validity, checked from the table alone: every lower bound below S, the upper bound above
    for c in ("S_lower_redundancy", "S_lower_disagreement", "S_lower"):
        assert np.all(b[c].to_numpy() <= S + tol)
    assert np.all(b["S_upper"].to_numpy() >= S - tol)
    assert np.allclose(b["S_lower"], np.maximum(0, np.maximum(b["S_lower_redundancy"], b["S_lower_disagreement"])),
                       atol=1e-12)
    # an item's bounds are repeated on each of its rows
    i = f[f["measure"] == "imin"]
    assert np.array_equal(i["S_upper"].to_numpy(), b["S_upper"].to_numpy())
    g = res.bound_gaps(s_above=0.1)
    assert g["n"] == 24 and set(g["violations"].values()) == {0}
    assert g["gaps"]["S_lower"]["mean"] == pytest.approx(float(np.mean(S - b["S_lower"].to_numpy())), abs=1e-12)
    assert g["gaps"]["S_upper"]["max"] == pytest.approx(float(np.max(b["S_upper"].to_numpy() - S)), abs=1e-12)
    hi = S > 0.1
    assert g["n_above"] == int(hi.sum()) > 0
    assert g["gaps_above"]["S_lower_disagreement"] == pytest.approx(
        float(np.mean(S[hi] - b["S_lower_disagreement"].to_numpy()[hi])), abs=1e-12)
    # stored and read back bit for bit; a study without bounds is another study
    assert read_store(tmp_path / "s").digest() == res.digest()
    with pytest.raises(InvalidStudyError, match="another study.*bounds"):
        run_study(fam, ["broja", "imin"], store=tmp_path / "s", resume=True)
    with pytest.raises(InvalidStudyError, match="bounds=True"):
        run_study(fam, ["imin"]).bound_gaps()
    # the noisy-free XOR: all of I(X1,X2;Y) = 1 bit is synergy; the upper bound reaches it
    x = run_study(noisy_gates("xor", noise=[0.0]), ["broja"], bounds=True)
    assert x.column("S")[0] == pytest.approx(1.0, abs=1e-8) and x.column("S_upper")[0] >= 1.0 - 1e-8
    from pidlab.study._plot import study_figure

    fig = study_figure(res)
    ax = next(a for a in fig.get_axes() if a.get_gid() == "bounds")
    pts = {c.get_gid(): np.asarray(c.get_offsets()) for c in ax.collections}
    assert np.allclose(pts["scatter:S_upper"], np.c_[S, b["S_upper"].to_numpy()], atol=1e-12)


def test_cli_bounds_prints_the_gaps(capsys):
    from pidlab.cli import main

    rc = main(["study", "--family", "gates", "--gates", "xor", "and", "--bounds"])
    out = capsys.readouterr().out
    assert rc == 0 and "Semi-supervised bounds against the true S (BROJA)" in out and "S_upper" in out
    rc = main(["study", "--family", "gates", "--bounds", "--measures", "imin"])
    err = capsys.readouterr().err
    assert rc == 2 and "add broja" in err


def test_store_with_pool_and_dask_executors_resumes_identically(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    import distributed

    fam = dirichlet((2, 2, 2), n=40, seed=2)
    clean = run_study(fam, ["imin", "mmi"], block=5)
    with ThreadPoolExecutor(2) as pool:
        r = run_study(fam, ["imin", "mmi"], block=5, executor=pool, chunk_size=5, store=tmp_path / "p")
    assert r.digest() == clean.digest() and sorted(i for _, i in store_log(tmp_path / "p")) == list(range(8))
    with _db(tmp_path / "p") as con:
        con.execute("DELETE FROM chunks WHERE idx IN (0, 6)")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        r = run_study(fam, ["imin", "mmi"], block=5, executor=client, store=tmp_path / "p", resume=True)
    assert r.digest() == clean.digest() and [i for run, i in store_log(tmp_path / "p") if run == 2] in ([0, 6], [6, 0])
