"""decompose_samples: bootstrap intervals, bias correction and significance tests from samples."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import pidlab
from pidlab.exceptions import AssumptionWarning, InvalidDistributionError, ParameterError


def _xor(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    return a, b, a ^ b


def _unq(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y = X1 with 10% noise, X2 independent: U1 large, R = U2 = S = 0."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    y = np.where(rng.random(n) < 0.1, 1 - a, a)
    return a, b, y


def _h2(e: float) -> float:
    return -e * math.log2(e) - (1 - e) * math.log2(1 - e)


def test_public_name_and_result_interface() -> None:
    res = pidlab.decompose_samples(*_xor(2000), n_boot=100, permutations=49, seed=1)
    assert isinstance(res, pidlab._results.Result)
    d = json.loads(res.to_json())
    assert set(d["atoms"]) == {"R", "U1", "U2", "S"}
    assert d["permutations"] == 49 and d["n_boot"] == 100 and d["ci"] == 0.9
    assert "90% interval" in res.table() and "<table>" in res._repr_html_()
    assert res.S == res.plugin["S"] == pytest.approx(res.point.S)


def test_xor_synergy_significant_others_not() -> None:
    # XOR from 2000 samples: S close to 1 bit (independent truth), every surrogate from q* has S near 0
    res = pidlab.decompose_samples(*_xor(2000, seed=1), n_boot=200, permutations=99, seed=4)
    assert res.p_value["S"] == pytest.approx(1 / 100)  # the smallest possible: never 0
    lo, hi = res.interval["S"]
    assert 0.98 < lo <= hi <= 1.0 + 1e-9 and hi - lo < 0.02  # S = 1 = H(Y) is itself a boundary
    assert any("inherits" in f for f in res.flags["S"])  # R, U1, U2 at 0 give S a kink: flagged
    for a in ("R", "U1", "U2"):
        assert res.p_value[a] > 0.05
        assert res.interval[a][0] == 0.0  # the test does not reject a = 0: the interval reaches 0
        assert res.null[a]  # the surrogates are named


def test_unique_information_interval_holds_closed_form_truth() -> None:
    # UNQ: U1 = I(X1;Y) = 1 - h(0.1) bits for BROJA and I_min (independent computation)
    truth = 1 - _h2(0.1)
    for m in ("broja", "imin"):
        res = pidlab.decompose_samples(*_unq(3000, seed=5), m, n_boot=300, permutations=49, seed=2)
        lo, hi = res.interval["U1"]
        assert lo <= truth <= hi, (m, lo, hi, truth)
        assert res.p_value["U1"] == pytest.approx(1 / 50)
        assert res.p_value["U2"] > 0.05 and res.p_value["S"] > 0.05


def test_corrected_estimate_reduces_upward_bias_of_mutual_information() -> None:
    # independent X1, X2, Y: every atom is 0 but the plug-in I(X1,X2;Y) is biased upward (Miller-Madow:
    # about (cells - ...)/(2 N ln 2)); the corrected total is closer to 0 on average
    rng = np.random.default_rng(11)
    plug, corr = [], []
    for k in range(6):
        x1, x2, y = (rng.integers(0, 3, 300) for _ in range(3))
        r = pidlab.decompose_samples(x1, x2, y, "imin", n_boot=200, permutations=0, seed=k)
        plug.append(sum(r.plugin[a] for a in r.atoms))
        corr.append(sum(float(r.corrected[a]) for a in r.atoms))
    assert np.mean(corr) < 0.6 * np.mean(plug)
    assert all(r_p is None for r_p in r.p_value.values())


def test_p_value_formula_and_seed_reproducible() -> None:
    args = _unq(500, seed=9)
    r1 = pidlab.decompose_samples(*args, n_boot=50, permutations=19, seed=4)
    r2 = pidlab.decompose_samples(*args, n_boot=50, permutations=19, seed=4)
    d1, d2 = r1.to_dict(), r2.to_dict()
    d1["point"].pop("solve_time"), d2["point"].pop("solve_time")
    assert d1 == d2
    for a in r1.atoms:
        pv = r1.p_value[a]
        assert 1 / 20 <= pv <= 1 and round(pv * 20) == pytest.approx(pv * 20)


def test_bca_matches_independent_implementation_for_mean() -> None:
    # the BCa helper on a known case: for a symmetric bootstrap around theta with no skew the interval
    # is the percentile interval
    from pidlab._inference import _bca

    boot = np.linspace(-1, 1, 2001)
    lo, hi, used = _bca(0.0, boot, np.array([-1.0, 1.0]), np.array([1.0, 1.0]), 0.9)
    assert used == "bca"
    assert lo == pytest.approx(np.quantile(boot, 0.05), abs=1e-3) and hi == pytest.approx(np.quantile(boot, 0.95), abs=1e-3)


def test_missing_symbol_in_resample_keeps_shape() -> None:
    # a symbol seen once: many resamples lack it; the alphabet is kept, no NaN anywhere
    rng = np.random.default_rng(0)
    x1 = np.r_[rng.integers(0, 2, 400), 2]
    x2 = np.r_[rng.integers(0, 2, 400), 0]
    y = np.r_[x1[:-1] & x2[:-1], 1]
    res = pidlab.decompose_samples(x1, x2, y, n_boot=100, permutations=19, seed=0)
    assert res.shape == (3, 2, 2)
    d = res.to_dict()
    for a in res.atoms:
        assert all(math.isfinite(v) for v in res.interval[a])
        assert math.isfinite(d["atoms"][a]["corrected"])


def test_fewer_samples_than_cells_warns_and_flags() -> None:
    x = [0, 1, 2, 3, 4, 0]
    with pytest.warns(AssumptionWarning, match="samples for a table of"):
        res = pidlab.decompose_samples(x, x, x, "imin", n_boot=20, permutations=9, seed=0)
    assert not any(res.reliable(a) for a in res.atoms)
    assert all("small sample" in res.flags[a][0] for a in res.atoms)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"ci": 1.0}, "ci"), ({"ci": 0}, "ci"), ({"ci": float("nan")}, "ci"), ({"ci": "0.9"}, "ci"),
     ({"permutations": -1}, "permutations"), ({"n_boot": -5}, "n_boot"), ({"n_boot": 1.5}, "n_boot"),
     ({"seed": "x"}, "seed")],
)
def test_bad_parameters(kwargs: dict, name: str) -> None:
    with pytest.raises(ParameterError, match=f"`'{name}'` parameter of `decompose_samples`"):
        pidlab.decompose_samples([0, 1], [0, 1], [0, 1], **kwargs)


def test_bad_samples() -> None:
    with pytest.raises(InvalidDistributionError):
        pidlab.decompose_samples([0, 1], [0], [0, 1])
    with pytest.raises(InvalidDistributionError):
        pidlab.decompose_samples([], [], [])


def test_net_measure_has_intervals_but_no_test() -> None:
    res = pidlab.decompose_samples(*_xor(500), "wms", n_boot=50, permutations=9, seed=0)
    assert res.atoms == ("net",) and res.p_value["net"] is None and res.interval["net"] is not None
    assert any("net measure" in n for n in res.notes)


def test_generator_input_and_names() -> None:
    a, b, y = _xor(300)
    res = pidlab.decompose_samples(iter(a.tolist()), iter(b.tolist()), iter(y.tolist()), "imin", n_boot=20,
                                   permutations=0, names=("left", "right", "digit"))
    assert res.n_samples == 300 and res.target == "digit" and res.sources == ("left", "right")


def test_unique_null_is_least_favourable_and_has_zero_unique() -> None:
    # the U1 null table: U1 = 0 under BROJA and I_min, p(x2,y) kept, and for a table whose U1 is
    # already 0 (noisy AND, symmetric sources) p(x1,y) is reproduced: the null sits where the data are
    from pidlab._inference import _garbled, _null_tables

    p = 0.9 * pidlab.examples.get("and").p + 0.1 / 8
    (q,) = _null_tables(p, "broja")["U1"]
    assert np.allclose(q.sum(axis=0), p.sum(axis=0), atol=1e-12)
    assert np.abs(q.sum(axis=1) - p.sum(axis=1)).sum() < 1e-6
    assert np.abs(q - p).sum() < 1e-5  # and the joint too: the data already have U1 = 0
    for m in ("broja", "imin"):
        assert abs(pidlab.decompose(q / q.sum(), m).U1) < 1e-6
    # on a random table (U1 > 0): independent check that q's p(x1,y) is a garbling of p(x2,y)
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.ones(27)).reshape(3, 3, 3)
    (q,) = _null_tables(p, "broja")["U1"]
    p12, p2y = q.sum(axis=2), q.sum(axis=0)
    lam = _garbled(q.sum(axis=1), p2y, p12 / p12.sum(axis=0, keepdims=True))
    markov = lam[:, :, None] * p2y[None, :, :]  # X1 - X2 - Y: I(X1;Y|X2) = 0, so U1 = 0
    assert np.allclose(markov.sum(axis=1), q.sum(axis=1), atol=1e-4)
    assert pidlab.Distribution(markov / markov.sum()).mutual_information(0, 2, given=1) < 1e-9
    assert pidlab.decompose(p).U1 > 0.05 and abs(pidlab.decompose(q).U1) < 1e-6
    # I_min's null: I(Y=y; X1) <= I(Y=y; X2) for every y (computed here from the definition), p(x2,y) kept
    (q,) = _null_tables(p, "imin")["U1"]
    assert np.allclose(q.sum(axis=0), p.sum(axis=0), atol=1e-9)

    def spec(pxy: np.ndarray) -> list[float]:
        px, py = pxy.sum(axis=1), pxy.sum(axis=0)
        return [sum(pxy[x, y] / py[y] * math.log2(pxy[x, y] / py[y] / px[x]) for x in range(len(px)) if pxy[x, y] > 0)
                for y in range(len(py))]

    assert all(s1 <= s2 + 1e-9 for s1, s2 in zip(spec(q.sum(axis=1)), spec(q.sum(axis=0))))
    assert pidlab.decompose(p, "imin").U1 > 0.05 and abs(pidlab.decompose(q, "imin").U1) < 1e-9


def test_synergy_null_is_broja_optimiser() -> None:
    from pidlab._inference import _null_tables

    p = 0.9 * pidlab.examples.get("xor").p + 0.1 / 8
    (q,) = _null_tables(p, "broja")["S"]
    assert np.allclose(q.sum(axis=1), p.sum(axis=1), atol=1e-7) and np.allclose(q.sum(axis=0), p.sum(axis=0), atol=1e-7)
    assert pidlab.decompose(q / q.sum()).S < 1e-6


def test_imin_kink_is_flagged() -> None:
    # COPY (Y = (X1, X2), independent bits): the two specific informations of I_min tie for every y, where
    # the validation measures poor coverage and false positives: every atom must be flagged; a random
    # table far from a tie is not
    rng = np.random.default_rng(2)
    a, b = rng.integers(0, 2, 1000), rng.integers(0, 2, 1000)
    res = pidlab.decompose_samples(a, b, 2 * a + b, "imin", n_boot=100, permutations=0, seed=0)
    assert not any(res.reliable(k) for k in res.atoms)
    assert all(any("I_min at a kink" in f for f in res.flags[k]) for k in res.atoms)
    from pidlab._inference import _imin_ties, _specific

    # independent check of the specific information: I(Y=y; X1) = log2(2) = 1 bit for COPY
    p = np.zeros((2, 2, 4))
    for i in range(2):
        for j in range(2):
            p[i, j, 2 * i + j] = 0.25
    assert np.allclose(_specific(p, 1), 1.0) and np.allclose(_specific(p, 0), 1.0)
    q = rng.dirichlet(np.ones(27)).reshape(3, 3, 3)
    boot = rng.multinomial(5000, q.ravel(), size=50).reshape(50, 3, 3, 3) / 5000
    assert _imin_ties(q, boot) == [k for k in range(3) if abs(_specific(q, 1)[k] - _specific(q, 0)[k]) < 0.02]


@pytest.mark.slow
def test_validation_reduced() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import validate_inference as v

    res = v.run(False, reps=12, verbose=False)
    s = res["summary"]
    # 12 data sets per row: loose bounds that a broken interval or test would still miss by far
    assert s["fpr_mean"] <= 0.08  # tests at 5% on the atoms that are truly 0
    assert s["coverage_reliable_pooled"] >= 0.8  # nominal 90% where the output calls the interval reliable
    assert s["coverage_at_zero_mean"] >= 0.9
    q_star = [r for r in res["rows"] if r["measure"] == "broja" and r["atom"] == "S" and r["fpr_5pct"] is not None]
    assert q_star and all(r["fpr_5pct"] <= 0.25 for r in q_star)  # the q* synergy test


def test_progress_reports_every_chunk_and_never_changes_the_values() -> None:
    from pidlab._inference import STACK_CHUNK

    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 2, 500), rng.integers(0, 2, 500)
    y = a & b
    seen: list[tuple[int, int]] = []
    with_bar = pidlab.decompose_samples(a, b, y, n_boot=1500, permutations=99, seed=4,
                                        progress=lambda d, t: seen.append((d, t)))
    plain = pidlab.decompose_samples(a, b, y, n_boot=1500, permutations=99, seed=4)
    total = seen[-1][1]
    assert seen[-1] == (total, total) and len(seen) == -(-total // STACK_CHUNK) >= 2
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert with_bar.interval == plain.interval and with_bar.p_value == plain.p_value
    with pytest.raises(pidlab.ParameterError, match="progress"):
        pidlab.decompose_samples(a, b, y, n_boot=10, permutations=0, progress="yes")


@pytest.mark.slow
def test_bounds_validation_reduced() -> None:
    """The semi-supervised bootstrap's validation at a reduced size (5 joints x 10 data sets of 3 x 1,000 samples,
    100 replicates; full size in docs/inference.rst). Loose pooled bounds that a broken interval would miss by far:
    the band holds the true S, and S_upper's interval (built from its terms) holds the population's S_upper on the
    four joints where it is below H(Y) (noisy COPY's two tied couplings among them)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import validate_inference as v

    res = v.run_bounds(n=1000, reps=10, n_bootstrap=100, seed=3, verbose=False)
    rows = {r["distribution"]: r for r in res["rows"]}
    assert np.mean([r["band_contains_S"] for r in rows.values()]) >= 0.9
    inner = [rows[k]["coverage"]["S_upper"] for k in ("noisy AND", "Markov X1-X2-Y", "noisy COPY", "random 3x3x3")]
    assert np.mean(inner) >= 0.8 and rows["noisy COPY"]["coverage"]["S_upper"] >= 0.7
