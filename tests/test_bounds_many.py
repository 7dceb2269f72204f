"""Tier 1: the semi-supervised bounds of a stack of joints (pidlab.bounds.synergy_bounds_many), the
exact threshold-profile integral, and the paper's presets (``pidlab study --preset``).

The batched bounds are checked against the one-table path (pidlab.synergy_bounds) item by item,
the 2 x 2 x 2 maximum entropy against a dense scan of the segment of joints with the same
pairwise marginals, the exact profile integral against exact minimum-entropy couplings, and the
gate table against the closed forms of tests/reference_gates.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import pidlab
from pidlab._couplings._bounds import _profile_exact_rows, _profile_rows, threshold_profile_bound_many
from pidlab._couplings._exact import exact_sorted
from pidlab._marginals import Marginals
from pidlab.bounds import synergy_bounds, synergy_bounds_many
from pidlab.bounds._many import _maxent_upper_loop, maxent_upper_binary, maxent_upper_stack
from pidlab.study import InvalidStudyError, dirichlet, gate_comparison, paper_synthetic, run_study
from tests.reference_gates import GATES

BOUNDS = ("S_lower_redundancy", "S_lower_disagreement", "S_lower", "S_upper")
# the BROJA solves of the two paths are each certified to 1e-9 bits, so their atoms may differ by twice that
TOL = 2.5e-9


def _stack(shape: tuple[int, int, int], n: int, alpha: float, seed: int, zeros: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(int(np.prod(shape)), alpha), size=n).reshape(-1, *shape)
    if zeros:  # exact zeros: boundary cases of every step (supports, segments of length 0, meets)
        P = np.where(P < 0.05, 0.0, P)
        P /= P.sum(axis=(1, 2, 3), keepdims=True)
    return P


def _one_by_one(P: np.ndarray) -> list[pidlab.SynergyBounds]:
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in P:
            out.append(synergy_bounds(Marginals.from_joint(p)))
    return out


@pytest.mark.parametrize(("shape", "alpha", "zeros"), [
    ((2, 2, 2), 1.0, False), ((2, 2, 2), 0.2, True), ((3, 2, 2), 1.0, False), ((2, 3, 3), 0.3, True),
])
def test_batched_bounds_equal_the_one_table_path(shape: tuple[int, int, int], alpha: float, zeros: bool) -> None:
    P = _stack(shape, 60, alpha, seed=sum(shape), zeros=zeros)
    many = synergy_bounds_many(P)
    assert many.method.startswith("segment" if shape == (2, 2, 2) else "stacked dual sweeps")
    for i, b in enumerate(_one_by_one(P)):
        for c in ("R", "U1", "U2", "S_lower_disagreement", "S_upper"):
            assert abs(getattr(many, c)[i] - getattr(b, c)) <= TOL, (i, c)
        # Theorem 1 rests on a certified upper bound on the maximum entropy: the segment method's is
        # never looser than the support-LP + Newton certificate, and equal where that one is tight
        me_scalar = b.maxent["entropy_upper"] if "entropy_upper" in b.maxent else None
        if me_scalar is not None:
            assert many.maxent_upper[i] <= me_scalar + TOL
            assert many.maxent_upper[i] >= b.maxent["entropy"] - 1e-12  # a feasible joint's entropy
        assert many.S_lower_redundancy[i] >= b.S_lower_redundancy - TOL
        tight = me_scalar is None or me_scalar - b.maxent["entropy"] <= 1e-10
        if tight:
            assert abs(many.S_lower_redundancy[i] - b.S_lower_redundancy) <= TOL, i
            assert abs(many.S_lower[i] - b.S_lower) <= TOL, i
            for c in ("I_lower", "I_upper", "accuracy_lower", "accuracy_upper"):  # Theorem 5
                assert abs(getattr(many, c)[i] - getattr(b, c)) <= 4 * TOL, (i, c)


@pytest.mark.parametrize(("shape", "alpha", "zeros"), [
    ((2, 2, 4), 0.5, False), ((3, 3, 3), 0.1, False), ((4, 4, 2), 1.0, True), ((2, 3, 4), 0.3, True),
])
def test_stacked_maximum_entropy_brackets_the_one_table_solver(shape: tuple[int, int, int], alpha: float,
                                                               zeros: bool) -> None:
    """The stacked dual certificate (sweeps + Newton over the stack) against the one-table solver
    (support LP, Newton, its own certificate) item by item: never below the entropy of that solver's
    maximum-entropy joint (a joint with the same marginals, to rounding: the bound must hold for it),
    and within 1e-12 bits of that solver's certified value. Tables resampled from a strongly dependent joint
    (the bootstrap's, where plain sweeps converge slowly) are included."""
    P = _stack(shape, 40, alpha, seed=7 * sum(shape), zeros=zeros)
    rng = np.random.default_rng(1)
    copy = np.full(shape, 0.01)
    for k in range(min(shape)):
        copy[k, k, k] = 1.0
    copy /= copy.sum()
    P = np.concatenate([P, rng.multinomial(300, copy.ravel(), size=20).reshape(-1, *shape) / 300.0])
    up, alone = maxent_upper_stack(P)
    for i, p in enumerate(P):
        me = Marginals.from_joint(p).max_entropy_joint()
        # that joint meets the marginals to about 1e-13, so its entropy is known to a few 1e-12 bits
        assert up[i] >= me.entropy - 5e-12, i
        assert up[i] <= me.entropy_upper + 1e-12, i
    assert alone.sum() <= 0.1 * P.shape[0]  # the stack does the work


def test_stacked_maximum_entropy_hands_unconverged_items_to_the_one_table_solver() -> None:
    """An item whose stacked certificate is not within ``tol`` of its dual point's entropy is solved
    alone: with tol=0 every item is, and the values are the one-table solver's exactly."""
    P = _stack((3, 2, 2), 6, 1.0, seed=3)
    up, alone = maxent_upper_stack(P, sweeps=1, tol=0.0)
    assert alone.all()
    assert np.array_equal(up, _maxent_upper_loop(P))


def test_profile_bound_on_part_of_a_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """When only some items of a stack are small enough for the threshold-profile bound (zeros change the number
    of atoms), the batch uses it for those: S_upper and accuracy_lower equal the one-table path item by item, the
    profile terms are +inf exactly where it was not computed, and the bounds are the extremum of their terms."""
    import pidlab._couplings._bounds as cb

    monkeypatch.setattr(cb, "PROFILE_MAX_ATOMS", 11)  # a 3x3x3 coupling has 12 atoms unless some are 0
    P = _stack((3, 3, 3), 60, 0.05, 8)
    P = np.where(P < 1e-3, 0.0, P)
    P /= P.sum(axis=(1, 2, 3), keepdims=True)
    b = synergy_bounds_many(P)
    prof = b.terms["S_upper"][:, 1::2]
    assert 0 < int(np.isinf(prof).sum()) < prof.size  # some items with, some without the profile bound
    for i, ref in enumerate(_one_by_one(P)):
        n_atoms = [np.count_nonzero(u) + np.count_nonzero(v) for u, v in (
            (P[i].sum(2), P[i].sum((0, 1))), (P[i].sum(1), P[i].sum((1, 2))), (P[i].sum(0), P[i].sum((0, 2))))]
        assert list(np.isinf(prof[i])) == [n > 11 for n in n_atoms]
        assert b.S_upper[i] == pytest.approx(ref.S_upper, abs=TOL)
        assert b.accuracy_lower[i] == pytest.approx(ref.accuracy_lower, abs=TOL)
    np.testing.assert_array_equal(b.terms["S_upper"].min(axis=1), b.S_upper)
    np.testing.assert_array_equal(b.terms["accuracy_lower"].max(axis=1), b.accuracy_lower)


def test_segment_maximum_entropy_against_a_dense_scan() -> None:
    """Joints with the pairwise marginals of a 2x2x2 p are p + t e, e = (-1)^(x1+x2+y); a scan of
    20,001 points of the segment (plain numpy, no solver) never exceeds the certified value and
    comes within 1e-6 bits of it."""
    P = _stack((2, 2, 2), 40, 0.5, seed=3)
    P[0] = pidlab.examples.get("xor").p  # the uniform table: segment [-1/8, 1/8], maximum 3 bits at t = 0
    P[1] = pidlab.examples.get("and").p  # zeros on both parities: the joint is determined, H(p)
    up = maxent_upper_binary(P)
    e = np.array([(-1.0) ** (i + j + k) for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    for i, p in enumerate(P.reshape(-1, 8)):
        lo, hi = -p[e > 0].min(), p[e < 0].min()
        ts = np.linspace(lo, hi, 20_001) if hi > lo else np.array([0.0])
        r = np.clip(p[None, :] + ts[:, None] * e[None, :], 0.0, None)
        with np.errstate(divide="ignore", invalid="ignore"):
            H = -np.nansum(np.where(r > 0, r * np.log2(r), 0.0), axis=1)
        # the marginals really are those of p all along the segment
        for t in (ts[0], ts[-1]):
            q = (p + t * e).reshape(2, 2, 2)
            for ax in range(3):
                assert np.allclose(q.sum(axis=ax), P[i].sum(axis=ax), atol=1e-15)
        assert H.max() <= up[i] + 1e-12
        assert up[i] - H.max() <= 1e-6
    assert up[0] == pytest.approx(3.0, abs=1e-12)


def test_bounds_hold_on_twenty_thousand_tables() -> None:
    P = _stack((2, 2, 2), 20_000, 1.0, seed=11)
    b = synergy_bounds_many(P)
    assert np.all(b.status == "optimal")
    assert np.all(b.S_lower <= b.S + b.gap + 1e-12)
    assert np.all(b.S_upper >= b.S - 1e-12)
    assert np.all(b.S_lower_redundancy <= b.S + b.gap + 1e-12)
    assert np.all(b.S_lower_disagreement <= b.S + b.gap + 1e-12)
    d = b.to_dict()
    assert d["n"] == 20_000 and d["target"] == "Y" and d["units"] == "bits"
    assert "wrong side of S (should be 0): 0" in b.table()


def test_a_given_disagreement_replaces_the_posteriors() -> None:
    P = _stack((2, 2, 2), 30, 1.0, seed=8)
    alpha = np.linspace(0.0, 2.0, 30)
    many = synergy_bounds_many(P, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in (0, 13, 29):
            b = synergy_bounds(Marginals.from_joint(P[i]), alpha=float(alpha[i]))
            assert abs(many.S_lower_disagreement[i] - b.S_lower_disagreement) <= TOL
    with pytest.raises(pidlab.ParameterError, match="one squared L2 disagreement in \\[0, 2\\] per table"):
        synergy_bounds_many(P, alpha=np.full(30, 3.0))


def test_bad_stacks_are_clear_errors() -> None:
    with pytest.raises(pidlab.InvalidDistributionError, match="4 dimensions"):
        synergy_bounds_many(np.full((2, 2, 2), 0.125))
    with pytest.raises(pidlab.InvalidDistributionError):
        synergy_bounds_many(np.full((3, 2, 2, 2), 0.2))  # totals 1.6
    with pytest.raises(pidlab.ProblemTooLargeError):
        with pidlab.limits(max_memory="1MiB"):
            synergy_bounds_many(np.full((2000, 2, 2, 2), 0.125))


# --------------------------------------------------------------------------- the profile integral
def test_exact_profile_integral_is_a_lower_bound_on_the_exact_coupling() -> None:
    """On 800 random pairs (2-5 by 2-3 atoms, some sparse) the exact integral lies between the grid's
    lower Riemann sum and the exact minimum-entropy coupling (exhaustive search)."""
    rng = np.random.default_rng(5)
    for _ in range(800):
        n1, n2 = int(rng.integers(2, 6)), int(rng.integers(2, 4))
        a = float(rng.choice([1.0, 0.3, 0.05]))
        u, v = rng.dirichlet(np.full(n1, a)), rng.dirichlet(np.full(n2, a))
        su, sv = np.sort(u[u > 0])[::-1], np.sort(v[v > 0])[::-1]
        _, vals, _ = exact_sorted(su, sv)
        mec = float(-np.sum(vals[vals > 0] * np.log2(vals[vals > 0])))
        pu, pv = np.zeros((1, n1)), np.zeros((1, n2))
        pu[0, : su.size], pv[0, : sv.size] = su, sv
        exact = _profile_exact_rows([pu, pv])[0]
        grid = _profile_rows([pu, pv])[0]
        assert exact <= mec + 1e-12
        assert exact >= grid - 1e-11  # the exact form takes off a rounding allowance (~1e-12 here)


def test_profile_rows_agree_with_the_one_table_function() -> None:
    rng = np.random.default_rng(2)
    U, V = rng.dirichlet(np.ones(4), size=300), rng.dirichlet(np.full(2, 0.2), size=300)
    U[0] = [1.0, 0.0, 0.0, 0.0]
    U[1] = [1e-310, 0.5, 0.5 - 1e-310, 0.0]  # subnormal atoms
    su, sv = -np.sort(-U, axis=1), -np.sort(-V, axis=1)
    many = threshold_profile_bound_many([su, sv])
    assert np.all(np.isfinite(many))
    for i in range(U.shape[0]):
        one = pidlab._couplings._bounds.threshold_profile_bound([su[i][su[i] > 0], sv[i][sv[i] > 0]])
        assert abs(many[i] - one) <= 1e-11  # the rounding allowance counts the padded row's pieces


# --------------------------------------------------------------------------- studies and presets
def test_study_bounds_are_the_batched_bounds_whatever_the_chunking() -> None:
    fam = dirichlet((2, 2, 2), 300, seed=4)
    a = run_study(fam, ["broja"], bounds=True, chunk_size=7)
    b = run_study(fam, ["broja"], bounds=True, chunk_size=300)
    for c in BOUNDS:
        assert np.array_equal(a.column(c), b.column(c))
    one = run_study(fam, ["broja"], bounds=True, batch=False)  # synergy_bounds item by item
    for c in ("S_lower_disagreement", "S_upper"):
        assert np.max(np.abs(a.column(c) - one.column(c))) <= TOL
    assert np.all(a.column("S_lower") >= one.column("S_lower") - TOL)


def test_paper_synthetic_preset_small() -> None:
    res = paper_synthetic(3000, seed=1)
    g = res.bound_gaps()
    assert g["n"] == 3000 and g["n_left_out"] == 0
    assert all(v == 0 for v in g["violations"].values())
    # the lower bounds are below S and the upper above: every mean gap is non-negative
    assert all(d["mean"] >= -1e-9 for d in g["gaps"].values())
    assert res.spec["family"]["alpha"] == 1.0 and res.spec["family"]["shape"] == [2, 2, 2]


def test_gate_comparison_matches_the_closed_forms() -> None:
    res = gate_comparison(["broja", "imin", "wms"])
    table = res.by_item()
    for ref in GATES:
        row = table[ref["name"].lower()]
        for m in ("broja", "imin"):
            for atom in ("R", "U1", "U2", "S"):
                assert row[m][atom] == pytest.approx(ref[m][atom], abs=1e-7), (ref["name"], m, atom)
        assert row["wms"]["net"] == pytest.approx(ref["wms"], abs=1e-9)
        assert row["wms"]["R"] is None
    text = res.item_table()
    assert text.count("\n  broja ") == len(table)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pidlab", *args], capture_output=True, text=True, timeout=300)


def test_cli_presets(tmp_path) -> None:
    r = _cli("study", "--preset", "synthetic", "--n", "2000", "--format", "json", "--plot", str(tmp_path / "f.png"))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["bound_gaps"]["n"] == 2000
    assert sum(data["bound_gaps"]["violations"].values()) == 0
    assert (tmp_path / "f.png").stat().st_size > 10_000
    r = _cli("study", "--preset", "gates", "--measures", "broja", "imin")
    assert r.returncode == 0, r.stderr
    assert "\nxor\n" in r.stdout and "\nrdnunqxor\n" in r.stdout
    r = _cli("study", "--preset", "synthetic", "--alpha", "2")
    assert r.returncode == 2 and "drop --alpha" in r.stderr and "Traceback" not in r.stderr
    r = _cli("study", "--preset", "gates", "--bounds")
    assert r.returncode == 2 and "drop --bounds" in r.stderr


def test_by_item_names_a_missing_key() -> None:
    res = gate_comparison(["broja"])
    with pytest.raises(InvalidStudyError, match="no column 'noise'"):
        res.by_item("noise")


def test_check_study_size_guards_a_sweep_as_a_whole() -> None:
    from pidlab.study import check_study_size

    sweep = [dirichlet((2, 2, 2), 1000, alpha=a) for a in (0.1, 1.0, 10.0)]
    check_study_size(sweep, ["broja"])  # small: passes
    with pidlab.limits(max_work=1e8):
        with pytest.raises(pidlab.ProblemTooLargeError, match="3000"):
            check_study_size(sweep, ["broja", "imin"])
