"""Comparative studies (pidlab.study): correctness against independent computations, executor and
chunking invariance (bit for bit), dask handling, errors, exports and the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import pidlab
from pidlab.exceptions import InvalidDistributionError, PidlabError, UnknownNameError
from pidlab.study import (
    Family,
    InvalidStudyError,
    MissingDependencyError,
    dirichlet,
    family,
    from_arrays,
    gates,
    noisy_gates,
    run_study,
)

M4 = ["broja", "imin", "wms", "ci"]
FULL = ("broja", "imin")


# ----------------------------------------------------------------------------- independent helpers
def recipe(seed: int, i: int, shape=(2, 2, 2), alpha: float = 1.0) -> np.ndarray:
    """The documented generation recipe, written out without pidlab."""
    K = math.prod(shape)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i // 1024,)))
    return rng.dirichlet(np.full(K, alpha), size=1024).reshape(1024, *shape)[i % 1024]


def H(p: np.ndarray) -> float:
    p = np.asarray(p, dtype=float).ravel()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def mis(p: np.ndarray) -> tuple[float, float, float]:
    """I(X1;Y), I(X2;Y), I(X1,X2;Y) in bits by plain entropies."""
    py = p.sum(axis=(0, 1))
    i1 = H(p.sum(axis=1).sum(axis=1)) + H(py) - H(p.sum(axis=1))
    i2 = H(p.sum(axis=0).sum(axis=1)) + H(py) - H(p.sum(axis=0))
    i12 = H(p.sum(axis=2)) + H(py) - H(p)
    return i1, i2, i12


@pytest.fixture(scope="module")
def study():
    return run_study(dirichlet((2, 2, 2), n=300, seed=7), M4, chunk_size=64, block=32)


# ----------------------------------------------------------------------------- generation
def test_dirichlet_generation_follows_documented_recipe():
    fam = dirichlet((2, 3, 2), n=1030, alpha=0.5, seed=11)
    arrays, params = fam.generate(1020, 1030)  # crosses a generation block boundary
    for j, a in enumerate(arrays):
        assert np.array_equal(a, recipe(11, 1020 + j, (2, 3, 2), 0.5))
    assert params[0] == {"alpha": 0.5, "seed": 11}
    # item i does not depend on n nor on the range asked for
    small = dirichlet((2, 3, 2), n=5, alpha=0.5, seed=11).generate(3, 5)[0]
    assert np.array_equal(small[1], fam.generate(0, 5)[0][4])
    assert not np.array_equal(recipe(11, 0), recipe(12, 0))


# ----------------------------------------------------------------------------- correctness
def test_rows_equal_decompose_on_regenerated_distributions(study):
    frame = study.to_frame()
    assert len(frame) == 300 * 4 and list(frame["measure"].unique()) == M4
    assert (frame["status"].isin(["optimal", "closed-form"])).all() and (frame["error"] == "").all()
    for i in (0, 1, 63, 64, 65, 150, 299):
        p = recipe(7, i)
        rows = frame[frame["item"] == i].set_index("measure")
        i1, i2, i12 = mis(p)
        for m in M4:
            ref = pidlab.decompose(p, m)
            row = rows.loc[m]
            assert row["I_x1x2y"] == pytest.approx(i12, abs=1e-12)
            assert row["I_x1y"] == pytest.approx(i1, abs=1e-12) and row["I_x2y"] == pytest.approx(i2, abs=1e-12)
            if m in FULL:
                tol = 2e-9 if m == "broja" else 1e-12  # broja: batched vs single solve, each certified to 1e-9
                for a in ("R", "U1", "U2", "S"):
                    assert row[a] == pytest.approx(getattr(ref, a), abs=tol)
            else:
                assert math.isnan(row["R"]) and row["net"] == pytest.approx(ref.net, abs=1e-12)
        # independent closed forms of the net measures
        assert rows.loc["wms", "net"] == pytest.approx(i12 - i1 - i2, abs=1e-12)
        assert rows.loc["ci", "net"] == pytest.approx(i1 + i2 - i12, abs=1e-12)
        assert rows.loc["broja", "batched"] and rows.loc["broja", "gap"] <= 1e-9


def test_identities_hold_on_every_row_of_full_measures(study):
    f = study.to_frame()
    full = f[f["measure"].isin(FULL)]
    assert np.allclose(full["R"] + full["U1"] + full["U2"] + full["S"], full["I_x1x2y"], atol=1e-12, rtol=0)
    assert np.allclose(full["R"] + full["U1"], full["I_x1y"], atol=1e-12, rtol=0)
    assert np.allclose(full["R"] + full["U2"], full["I_x2y"], atol=1e-12, rtol=0)
    assert (full[["R", "U1", "U2", "S"]] >= -1e-9).all().all()


def test_gates_against_published_reference_values(gates):
    items = [np.array(c["p"], dtype=float) for c in gates]
    res = run_study(from_arrays(items, labels=[c["name"] for c in gates]), M4, chunk_size=3)
    f = res.to_frame().set_index(["label", "measure"])
    for c in gates:
        for m in FULL:
            for a in ("R", "U1", "U2", "S"):
                assert f.loc[(c["name"], m), a] == pytest.approx(c[m][a], abs=1e-6), (c["name"], m, a)
        assert f.loc[(c["name"], "wms"), "net"] == pytest.approx(c["wms"], abs=1e-9)
        assert f.loc[(c["name"], "ci"), "net"] == pytest.approx(c["ci"], abs=1e-9)
    # mixed shapes (2x2x2, 2x2x3, 2x2x4, 4x4x4, 8x8x16) went through decompose_many per shape
    assert set(f["shape"]) >= {"2x2x2", "2x2x3", "2x2x4", "8x8x16"} and f.xs("broja", level="measure")["batched"].all()


def test_noisy_xor_matches_closed_form():
    grid = [0.0, 0.1, 0.2, 0.3, 0.5]
    res = run_study(noisy_gates("xor", noise=grid), ["broja", "imin"])
    f = res.to_frame()
    assert list(f["noise"].unique()) == grid and (f["gate"] == "xor").all()
    for m in ("broja", "imin"):
        sub = f[f["measure"] == m]
        h = [0.0 if e in (0, 1) else -(e * math.log2(e) + (1 - e) * math.log2(1 - e)) for e in grid]
        # each source alone says nothing about a noisy XOR: all of I(X1,X2;Y) = 1 - h(e) is synergy
        assert np.allclose(sub["S"], 1 - np.array(h), atol=1e-8)
        assert np.allclose(sub[["R", "U1", "U2"]].to_numpy(), 0.0, atol=1e-8)


def test_unbatched_and_explicit_solvers_agree_with_decompose():
    fam = dirichlet((2, 2, 3), n=6, seed=2)
    res = run_study(fam, "broja", batch=False)
    for i, p in enumerate(fam.generate(0, 6)[0]):
        ref = pidlab.decompose(p, "broja")
        assert res.column("S")[i] == ref.S and res.column("gap")[i] == ref.certificate.gap  # same code path: exact
    assert not res.column("batched").any()
    avail = [s for s in ("native", "clarabel") if s in pidlab.solvers(available=True)]
    two = run_study(fam, ["broja", "imin"], solvers=avail)
    assert len(two) == 6 * (len(avail) + 1)
    groups = two.summary().groups
    assert set(groups) == {f"broja/{s}" for s in avail} | {"imin"}
    s_by = {s: two.select(measure="broja", solver=s).column("S") for s in avail}
    for s in avail:
        assert np.allclose(s_by[s], s_by["native"], atol=1e-6)


# ----------------------------------------------------------------------------- invariance
def test_bit_identical_across_chunking_and_executors(study):
    fam = dirichlet((2, 2, 2), n=300, seed=7)
    ref = study.to_frame()
    seq = run_study(fam, M4, chunk_size=300, block=32)
    odd = run_study(fam, M4, chunk_size=7, block=32)  # rounded up to one block of 32
    assert seq.n_chunks == 1 and odd.n_chunks == 10 and odd.chunk_size == 32
    assert seq.to_frame().equals(ref) and odd.to_frame().equals(ref)
    assert seq.digest() == odd.digest() == study.digest()
    # closed forms are batched too (compute_many), by the same blocks: any chunking, still identical
    cf = run_study(fam, ["imin", "ci"], chunk_size=7, block=32)
    assert cf.n_chunks == 10 and cf.digest() == run_study(fam, ["imin", "ci"], block=32).digest()
    assert cf.column("batched").all()
    single = run_study(fam, ["imin", "ci"], batch=False)  # the one-by-one path: equal to rounding
    for c in ("R", "U1", "U2", "S", "net"):
        a, b = cf.column(c), single.column(c)
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], atol=1e-12)
    # another BROJA batch layout is another spec: equal within the certified gaps, not bitwise
    other = run_study(fam, ["broja"], block=300)
    assert np.allclose(other.column("S"), study.select(measure="broja").column("S"), atol=2e-9, rtol=0)
    import distributed  # in the dev extra: a missing dask must fail, not skip
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        seen = []
        d = run_study(fam, M4, executor=client, chunk_size=40, block=32,
                      progress=lambda done, tot: seen.append((done, tot)))
        assert d.to_frame().equals(ref) and d.digest() == study.digest()
        assert d.executor.startswith("dask") and seen[-1] == (300, 300) and len(seen) == d.n_chunks == 5
        # executor="dask" picks up the default client
        assert run_study(fam, M4, executor="dask", chunk_size=100, block=32).digest() == study.digest()
        # failures: recorded per row exactly as locally, or raised with the item named
        assert run_study(_Bad(), ["imin"], executor=client, chunk_size=1).digest() == run_study(_Bad(), ["imin"]).digest()
        with pytest.raises(InvalidDistributionError) as ei:
            run_study(_Bad(), ["imin"], executor=client, chunk_size=1, errors="raise")
        assert any("item 2" in n for n in getattr(ei.value, "__notes__", []))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl:
        # by scheduler address: run_study opens its own client and closes it
        by_addr = run_study(fam, M4, executor="dask", scheduler=cl.scheduler_address, chunk_size=64, block=32)
        assert by_addr.digest() == study.digest() and cl.scheduler_address in by_addr.executor


def test_process_pool_and_dask_processes_give_identical_tables():
    fam = noisy_gates(["xor", "and", "sum"], noise=[0.0, 0.05, 0.2])
    ref = run_study(fam, M4, block=4)
    pool = run_study(fam, M4, executor="process", max_workers=2, chunk_size=2, block=4)
    assert pool.executor.startswith("process") and pool.digest() == ref.digest()
    import distributed  # in the dev extra: a missing dask must fail, not skip
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        d = run_study(fam, M4, executor=client, chunk_size=8, block=4)
        assert d.to_frame().equals(ref.to_frame())
        # a concurrent.futures.Executor instance works too
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as ex:
            assert run_study(fam, M4, executor=ex, chunk_size=5, block=4).digest() == ref.digest()


# ----------------------------------------------------------------------------- errors
class _Bad(Family):
    """Item 2 is not a distribution (sums to 1.5)."""

    name = "bad"
    param_names = ("k",)

    def __len__(self) -> int:
        return 4

    def generate(self, start, stop):
        arrays = [np.full((2, 2, 2), 0.125 if i != 2 else 0.1875) for i in range(start, stop)]
        return arrays, [{"k": i} for i in range(start, stop)]


def test_item_errors_are_recorded_per_row_or_raised():
    res = run_study(_Bad(), ["broja", "imin"], chunk_size=3)
    f = res.to_frame()
    bad = f[f["item"] == 2]
    assert (bad["status"] == "error").all() and bad["error"].str.contains("InvalidDistributionError").all()
    assert bad["R"].isna().all() and (f[f["item"] != 2]["status"] != "error").all()
    assert any("2 row(s) failed" in n for n in res.notes)
    assert res.summary().groups["broja"]["status"] == {"error": 1, "optimal": 3}
    with pytest.raises(InvalidDistributionError) as ei:
        run_study(_Bad(), ["broja"], errors="raise")
    assert any("item 2" in n for n in getattr(ei.value, "__notes__", []))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: family("gaussian"), UnknownNameError, "known families: dirichlet"),
        (lambda: run_study(dirichlet(n=3), ["nope"]), UnknownNameError, "unknown measure 'nope'"),
        (lambda: dirichlet((2, 0, 2), n=3), InvalidDistributionError, "alphabet of size < 1"),
        (lambda: dirichlet((2, 2), n=3), InvalidDistributionError, "three integers"),
        (lambda: dirichlet(n=0), InvalidStudyError, "integer >= 1"),
        (lambda: dirichlet(alpha=-1.0), InvalidStudyError, "alpha"),
        (lambda: noisy_gates("xor", noise=[1.5]), InvalidStudyError, r"\[0, 1\]"),
        (lambda: gates(["xor", "bogus"]), UnknownNameError, "unknown example"),
        (lambda: run_study(dirichlet(n=3), executor="spark"), UnknownNameError, "local, process, dask"),
        (lambda: run_study(dirichlet(n=3), executor=42), InvalidStudyError, "Client"),
        (lambda: run_study(dirichlet(n=3), chunk_size=0), InvalidStudyError, "chunk_size"),
        (lambda: run_study(dirichlet(n=3), errors="ignore"), InvalidStudyError, "record"),
        (lambda: run_study(dirichlet(n=3), ["imin"], solvers=["native"]), InvalidStudyError, "uses a solver"),
        (lambda: run_study(dirichlet(n=3), ["broja"], solvers=["gurobi"]), UnknownNameError, "unknown solver"),
        (lambda: run_study("dirichlet"), InvalidStudyError, "pidlab.study.family"),
        (lambda: run_study(np.full((2, 2, 2), 0.125)), InvalidStudyError, "single distribution"),
        (lambda: run_study([np.ones((2, 2, 2))]), InvalidDistributionError, "item 0"),
        (lambda: run_study(dirichlet(n=3), scheduler="tcp://x:1"), InvalidStudyError, "executor='dask'"),
        (lambda: run_study(dirichlet(n=3), max_workers=2), InvalidStudyError, "process"),
    ],
)
def test_bad_input_raises_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match) as ei:
        call()
    assert isinstance(ei.value, PidlabError)


def test_missing_dask_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    with pytest.raises(MissingDependencyError, match=r"pip install 'pidlab\[dask\]'") as ei:
        run_study(dirichlet(n=3), ["imin"], executor="dask")
    assert isinstance(ei.value, ImportError)
    assert run_study(dirichlet(n=3), ["imin"]).n_chunks == 1  # the other executors need no dask


def test_import_stays_light():
    code = ("import sys, pidlab.study; heavy = [m for m in ('dask', 'distributed', 'pandas', 'matplotlib', 'cvxpy') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-Werror", "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- views and exports
def test_summary_matches_the_table(study):
    f = study.to_frame()
    s = study.summary()
    assert s.target == "Y" and list(s.groups) == M4
    for m in FULL:
        sub = f[f["measure"] == m]
        for a in ("R", "U1", "U2", "S"):
            st = s.groups[m][a]
            assert st["mean"] == pytest.approx(sub[a].mean(), rel=1e-12)
            assert st["median"] == pytest.approx(sub[a].median(), rel=1e-12)
            assert st["q95"] == pytest.approx(sub[a].quantile(0.95), rel=1e-12)
            assert st["min"] == sub[a].min() and st["max"] == sub[a].max()
    assert s.groups["wms"]["S"] is None and s.groups["wms"]["net"]["mean"] == pytest.approx(-s.groups["ci"]["net"]["mean"])
    assert s.groups["imin"]["status"] == {"closed-form": 300}
    assert s.to_frame().loc["broja", "n"] == 300
    text = str(study)
    assert "target Y" in text and "bits" in text and "broja" in text


def test_exports_round_trip(study, tmp_path):
    d = study.to_dict()
    json.dumps(d, allow_nan=False)  # JSON-ready: NaN became None
    assert d["units"] == "bits" and d["target"] == "Y" and len(d["rows"]) == len(study)
    import pandas as pd

    back = pd.read_csv(study.save(tmp_path / "t.csv"), keep_default_na=False, na_values=[""])
    orig = study.to_frame()
    for c in ("R", "U1", "U2", "S", "net", "gap", "I_x1x2y"):
        assert np.array_equal(back[c].to_numpy(), orig[c].to_numpy(), equal_nan=True)  # repr floats: exact
    j = json.loads(study.save(tmp_path / "t.json").read_text())
    assert j["rows"][0]["R"] == orig["R"][0]
    with pytest.raises(InvalidStudyError, match=".csv"):
        study.save(tmp_path / "t.xlsx")
    assert "pidlab-study" in study._repr_html_()
    sel = study.select(measure=["broja", "imin"], item=[0, 1])
    assert len(sel) == 4 and set(sel.column("measure")) == {"broja", "imin"}
    with pytest.raises(UnknownNameError, match="no column 'noise'"):
        study.select(noise=0.1)


def test_plot_helper():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = run_study(noisy_gates("xor", noise=[0.0, 0.25, 0.5]), ["broja", "imin", "wms"])
    fig = res.plot()
    assert len(fig.axes) == 4 and "bits" in fig.axes[0].get_title()
    fig2 = res.plot(x="noise", atoms=("S", "net"))
    lines = fig2.axes[0].get_lines()
    assert len(lines) == 2 and np.allclose(lines[0].get_ydata(), [1.0, 1 - 0.8112781244591328, 0.0], atol=1e-8)
    with pytest.raises(InvalidStudyError, match="numeric"):
        res.plot(x="gate")
    plt.close("all")


# ----------------------------------------------------------------------------- CLI
def test_cli_study_table_and_out(tmp_path, capsys):
    from pidlab.cli import main

    out = tmp_path / "r.csv"
    rc = main(["study", "--family", "dirichlet", "--shape", "2", "2", "2", "--n", "40", "--seed", "7",
               "--measures", "broja", "imin", "--chunk-size", "16", "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 0 and "target Y" in cap.out and "bits" in cap.out and "imin" in cap.out
    assert "wrote 80 rows" in cap.err
    import pandas as pd

    f = pd.read_csv(out)
    ref = run_study(dirichlet((2, 2, 2), n=40, seed=7), ["broja", "imin"]).to_frame()
    assert np.array_equal(f["S"].to_numpy(), ref["S"].to_numpy())
    rc = main(["study", "--family", "noisy", "--gates", "xor", "--noise", "0", "0.5", "--measures", "broja",
               "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["summary"]["groups"]["broja"]["S"]["max"] == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(
    "args, match",
    [
        (["--family", "gaussian"], "unknown distribution family"),
        (["--shape", "2", "0", "2"], "alphabet"),
        (["--n", "0"], "integer >= 1"),
        (["--executor", "spark"], "unknown executor"),
        (["--measures", "nope"], "unknown measure"),
        (["--family", "gates", "--n", "3"], "does not apply|do\\(es\\) not apply"),
        (["--out", "r.txt"], ".csv"),
    ],
)
def test_cli_bad_input_is_one_line(args, match, capsys):
    from pidlab.cli import main

    rc = main(["study", *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("pidlab: error:") and err.count("\n") == 1
    import re

    assert re.search(match, err)


def test_cli_subprocess_smoke():
    out = subprocess.run([sys.executable, "-m", "pidlab.cli", "study", "--family", "gates", "--measures", "imin"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "imin" in out.stdout and "Traceback" not in out.stderr
