"""Validation of :func:`pidlab.decompose_samples`: coverage, bias and false-positive rates by simulation.

For known distributions (noisy gates, distributions with an atom exactly 0, random 3x3x3 tables,
and with ``--full`` 10x10x10 tables shaped like discretised digits), draw many data sets of ``N``
samples, run ``decompose_samples`` on each, and measure per (distribution, measure, N, atom):

- the coverage of the nominal 90% interval (share of data sets whose interval holds the true
  atom), overall and among the intervals not flagged unreliable;
- the bias of the plug-in and of the bias-corrected estimate (mean minus truth, bits);
- where the true atom is 0: the false-positive rate of the test at 5% (share with p <= 0.05).

Targets (issue 17): coverage in [85%, 95%] for atoms not on the boundary at N >= 1000; false
positives at most 6%; |bias of corrected| <= |bias of plug-in| / 2.

Usage::

    python benchmarks/validate_inference.py            # reduced size (about 1-2 minutes)
    python benchmarks/validate_inference.py --full     # N = 200, 1000, 5000; 500 data sets each
    python benchmarks/validate_inference.py --json out.json
    python benchmarks/validate_inference.py --bounds --reps 40   # the semi-supervised bounds (pidlab.estimate)

The reduced run is what ``tests/test_inference.py::test_validation_reduced`` (slow) calls.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

import pidlab
from pidlab._inference import decompose_samples

ZERO = 1e-9


def _noisy(table: np.ndarray, eps: float) -> np.ndarray:
    t = np.asarray(table, dtype=float)
    return (1 - eps) * t / t.sum() + eps / t.size


def _gate(f: Any, ny: int = 2) -> np.ndarray:
    p = np.zeros((2, 2, ny))
    for a in range(2):
        for b in range(2):
            p[a, b, f(a, b)] += 0.25
    return p


def _markov(eps: float = 0.2) -> np.ndarray:
    """X1 - X2 - Y: X1 a noisy copy of X2, Y a noisy copy of X2 (U1 = 0 for every measure here)."""
    p = np.zeros((2, 2, 2))
    for x2 in range(2):
        for x1 in range(2):
            for y in range(2):
                p[x1, x2, y] = 0.5 * (1 - eps if x1 == x2 else eps) * (0.9 if y == x2 else 0.1)
    return p


def _qstar(p: np.ndarray) -> np.ndarray:
    """The BROJA optimiser of p: same pairwise marginals, BROJA synergy exactly 0."""
    from pidlab._broja import BrojaProblem
    from pidlab._solvers import solve_broja

    q = np.clip(solve_broja(BrojaProblem(p.sum(axis=1), p.sum(axis=0)), joint=p).q, 0, None)
    return q / q.sum()


def _digits_like(rng: np.random.Generator, k: int = 10) -> np.ndarray:
    """A 10x10x10 table shaped like discretised halves of digit images: Y a class, X1 and X2
    cluster ids that each reveal the class with noise and mostly agree."""
    p = np.zeros((k, k, k))
    conf1 = rng.dirichlet(np.full(k, 0.3), size=k) * 0.4 + 0.6 * np.eye(k)
    conf2 = rng.dirichlet(np.full(k, 0.3), size=k) * 0.5 + 0.5 * np.eye(k)
    for y in range(k):
        p[:, :, y] = np.outer(conf1[y], conf2[y]) / k
    return p / p.sum()


def distributions(full: bool, large: bool = True) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(2024)
    out = [
        ("noisy AND", _noisy(_gate(lambda a, b: a & b), 0.1)),
        ("noisy XOR", _noisy(_gate(lambda a, b: a ^ b), 0.1)),
        ("noisy UNQ (Y=X1)", _noisy(_gate(lambda a, b: a), 0.1)),
        ("Markov X1-X2-Y", _markov()),
        ("q* of noisy AND", _qstar(_noisy(_gate(lambda a, b: a & b), 0.1))),
        ("noisy COPY", _noisy(_gate(lambda a, b: 2 * a + b, 4), 0.1)),
        ("random 3x3x3 #1", rng.dirichlet(np.ones(27)).reshape(3, 3, 3)),
    ]
    if full:
        out += [
            ("noisy OR", _noisy(_gate(lambda a, b: a | b), 0.1)),
            ("noisy RDN", _noisy(np.array([[[0.5, 0], [0, 0]], [[0, 0], [0, 0.5]]]), 0.1)),
            ("noisy AND eps=0.3", _noisy(_gate(lambda a, b: a & b), 0.3)),
            ("noisy XOR eps=0.3", _noisy(_gate(lambda a, b: a ^ b), 0.3)),
            ("Markov eps=0.05", _markov(0.05)),
            ("q* of noisy XOR+AND", _qstar(_noisy(0.5 * _gate(lambda a, b: a ^ b) + 0.5 * _gate(lambda a, b: a & b), 0.2))),
        ]
        out += [(f"random 3x3x3 #{i}", rng.dirichlet(np.ones(27)).reshape(3, 3, 3)) for i in range(2, 10)]
        digits = [(f"digits-like 10x10x10 #{i}", _digits_like(rng)) for i in range(1, 3)]
        out += digits if large else []
    return out


@dataclass
class Cell:
    dist: str
    measure: str
    N: int
    atom: str
    truth: float
    covered: int = 0
    covered_reliable: int = 0
    reliable: int = 0
    runs: int = 0
    plugin_sum: float = 0.0
    plugin_sq: float = 0.0
    corrected_sum: float = 0.0
    rejections: int = 0
    rejections_reliable: int = 0

    def row(self) -> dict[str, Any]:
        r = max(self.runs, 1)
        return {
            "distribution": self.dist, "measure": self.measure, "N": self.N, "atom": self.atom,
            "truth": self.truth, "runs": self.runs, "coverage": self.covered / r,
            "reliable_share": self.reliable / r,
            "coverage_reliable": (self.covered_reliable / self.reliable) if self.reliable else None,
            "bias_plugin": self.plugin_sum / r - self.truth, "bias_corrected": self.corrected_sum / r - self.truth,
            # Monte Carlo standard error of a bias (spread of the plug-in over the data sets / sqrt(runs))
            "bias_se": float(np.sqrt(max(self.plugin_sq / r - (self.plugin_sum / r) ** 2, 0.0) / r)),
            "fpr_5pct": (self.rejections / r) if abs(self.truth) <= ZERO else None,
            # the test's false positives among the results that do not flag the atom
            "fpr_5pct_reliable": ((self.rejections_reliable / self.reliable) if self.reliable else None)
            if abs(self.truth) <= ZERO else None,
        }


def _samples(rng: np.random.Generator, p: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cells = rng.choice(p.size, size=n, p=p.ravel() / p.sum())
    return np.unravel_index(cells, p.shape)  # type: ignore[return-value]


def run(full: bool = False, *, sizes: tuple[int, ...] | None = None, reps: int | None = None,
        n_boot: int | None = None, permutations: int | None = None, measures: tuple[str, ...] = ("broja", "imin"),
        seed: int = 0, verbose: bool = True, large: bool = True, only_large: bool = False) -> dict[str, Any]:
    sizes = sizes or ((200, 1000, 5000) if full else (1000,))
    reps = reps or (500 if full else 20)
    n_boot = n_boot or (1000 if full else 200)
    permutations = permutations or (200 if full else 99)
    rng = np.random.default_rng(seed)
    cells: list[Cell] = []
    t0 = time.time()
    dists = distributions(full, large)
    if only_large:
        dists = [(name, p) for name, p in dists if p.size > 27]
    for name, p in dists:
        for m in measures:
            truth = pidlab.decompose(p, m)
            for n in sizes:
                cs = {a: Cell(name, m, n, a, float(getattr(truth, a))) for a in ("R", "U1", "U2", "S")}
                for _ in range(reps):
                    x1, x2, y = _samples(rng, p, n)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        r = decompose_samples(x1, x2, y, m, ci=0.9, n_boot=n_boot, permutations=permutations,
                                              seed=int(rng.integers(2**31)))
                    for a, c in cs.items():
                        lo, hi = r.interval[a]
                        # an atom the samples cannot see (a symbol never drawn) is still compared with the truth
                        inside = lo - 1e-7 <= c.truth <= hi + 1e-7
                        c.runs += 1
                        c.covered += inside
                        rejected = float(r.p_value[a]) <= 0.05
                        if r.reliable(a):
                            c.reliable += 1
                            c.covered_reliable += inside
                            c.rejections_reliable += rejected
                        c.plugin_sum += r.plugin[a]
                        c.plugin_sq += r.plugin[a] ** 2
                        c.corrected_sum += float(r.corrected[a])
                        c.rejections += rejected
                cells.extend(cs.values())
                if verbose:
                    print(f"  {name:28s} {m:6s} N={n:5d}  {time.time() - t0:7.1f} s", file=sys.stderr, flush=True)
    rows = [c.row() for c in cells]
    return {"settings": {"full": full, "sizes": list(sizes), "reps": reps, "n_boot": n_boot,
                         "permutations": permutations, "ci": 0.9, "seed": seed, "only_large": only_large,
                         "measures": list(measures), "distributions": [name for name, _ in dists]},
            "rows": rows, "summary": summarise(rows), "seconds": time.time() - t0}


def _biased(r: dict[str, Any]) -> bool:
    """Whether a row's plug-in bias is clearly measured (above 3 Monte Carlo standard errors)."""
    return bool(abs(r["bias_plugin"]) > max(3 * r["bias_se"], 1e-4))


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The targets of issue 17 over all rows."""
    interior = [r for r in rows if r["truth"] > 0.02 and r["N"] >= 1000]
    zero = [r for r in rows if r["fpr_5pct"] is not None]
    # rows whose plug-in bias is clearly measured (above 3 Monte Carlo standard errors)
    biased = [r for r in rows if _biased(r)]
    cov = [r["coverage"] for r in interior]
    # coverage where the output calls the interval reliable (pooled over the data sets)
    rel_runs = sum(r["reliable_share"] * r["runs"] for r in interior)
    rel_cov = sum((r["coverage_reliable"] or 0.0) * r["reliable_share"] * r["runs"] for r in interior)
    return {
        "interior_rows": len(interior),
        "coverage_min": min(cov) if cov else None,
        "coverage_mean": float(np.mean(cov)) if cov else None,
        "coverage_in_85_95": sum(0.85 <= c <= 0.95 for c in cov),
        "coverage_at_least_85": sum(c >= 0.85 for c in cov),
        "coverage_reliable_pooled": (rel_cov / rel_runs) if rel_runs else None,
        "reliable_interior_share": rel_runs / max(sum(r["runs"] for r in interior), 1),
        "zero_rows": len(zero),
        "fpr_max": max((r["fpr_5pct"] for r in zero), default=None),
        "fpr_rows_at_most_6pct": sum(r["fpr_5pct"] <= 0.06 for r in zero),
        "fpr_mean": float(np.mean([r["fpr_5pct"] for r in zero])) if zero else None,
        "coverage_at_zero_mean": float(np.mean([r["coverage"] for r in zero])) if zero else None,
        "biased_rows": len(biased),
        "bias_halved": sum(abs(r["bias_corrected"]) <= 0.5 * abs(r["bias_plugin"]) for r in biased),
        "mean_abs_bias_plugin": float(np.mean([abs(r["bias_plugin"]) for r in biased])) if biased else None,
        "mean_abs_bias_corrected": float(np.mean([abs(r["bias_corrected"]) for r in biased])) if biased else None,
        **regime_summary(rows),
    }


def _se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / max(n, 1)))


def regime_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The targets where the output does not flag the result (issue 17: "where a regime misses a target,
    the output flags the interval as unreliable there").

    A row is in an *unflagged regime* when at least half of its data sets leave the atom unflagged.
    There: the coverage of the unflagged intervals (interior atoms, N >= 1000), the bias halving (rows
    whose plug-in bias exceeds 3 Monte Carlo standard errors) and the false-positive rate of the
    unflagged tests (atoms truly 0). A coverage counts as "within Monte Carlo error" of [85%, 95%] when
    it is no more than two binomial standard errors (at 90%, over the unflagged data sets) outside."""
    reg = [r for r in rows if r["reliable_share"] >= 0.5]
    interior = [r for r in reg if r["truth"] > 0.02 and r["N"] >= 1000 and r["coverage_reliable"] is not None]
    n_rel = {id(r): int(round(r["reliable_share"] * r["runs"])) for r in interior}
    cov_miss = [r for r in interior if not 0.85 <= r["coverage_reliable"] <= 0.95]
    cov_miss_mc = [r for r in cov_miss
                   if not 0.85 - 2 * _se(0.9, n_rel[id(r)]) <= r["coverage_reliable"] <= 0.95 + 2 * _se(0.9, n_rel[id(r)])]
    biased = [r for r in reg if _biased(r)]
    halved = [r for r in biased if abs(r["bias_corrected"]) <= 0.5 * abs(r["bias_plugin"])]
    # not halved, but the corrected bias is within 2 Monte Carlo SEs of half the plug-in's
    halved_mc = [r for r in biased if abs(r["bias_corrected"]) <= 0.5 * abs(r["bias_plugin"]) + 2 * r["bias_se"]]
    # A false positive "without a flag": the test rejects a true 0 and the result does not flag the
    # atom, as a share of all data sets. (The false-positive rate among unflagged results alone is
    # no measure: an atom whose test does not reject gets the flag "lower end set to 0", so the
    # unflagged results at a true 0 are mostly the rejections.)
    zero = [r for r in rows if r.get("fpr_5pct_reliable") is not None or
            (r["fpr_5pct"] is not None and not r["reliable_share"])]
    unwarned = [(r.get("fpr_5pct_reliable") or 0.0) * r["reliable_share"] for r in zero]
    return {
        "unflagged_regime_interior_rows": len(interior),
        "unflagged_regime_coverage_in_85_95": len(interior) - len(cov_miss),
        "unflagged_regime_coverage_misses_beyond_mc_error": len(cov_miss_mc),
        "unflagged_regime_coverage_pooled": (
            sum(r["coverage_reliable"] * n_rel[id(r)] for r in interior) / max(sum(n_rel.values()), 1)
        ) if interior else None,
        "unflagged_regime_biased_rows": len(biased),
        "unflagged_regime_bias_halved": len(halved),
        "unflagged_regime_bias_halved_within_mc_error": len(halved_mc),
        "zero_rows_with_flag_record": len(zero),
        "unwarned_fpr_mean": float(np.mean(unwarned)) if unwarned else None,
        "unwarned_fpr_max": max(unwarned, default=None),
        "unwarned_fpr_rows_at_most_6pct": sum(u <= 0.06 for u in unwarned),
    }


# ----------------------------------------------------------------------------- semi-supervised bounds
BOUND_KEYS = ("R", "U1", "U2", "S_lower", "S_upper", "accuracy_lower", "accuracy_upper")


def bounds_distributions() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    return [
        ("noisy AND", _noisy(_gate(lambda a, b: a & b), 0.1)),
        ("noisy XOR", _noisy(_gate(lambda a, b: a ^ b), 0.1)),
        ("Markov X1-X2-Y", _markov()),
        ("noisy COPY", _noisy(_gate(lambda a, b: 2 * a + b, 4), 0.1)),
        ("random 3x3x3", rng.dirichlet(np.full(27, 2.0)).reshape(3, 3, 3)),
    ]


def run_bounds(*, n: int = 1000, reps: int = 40, n_bootstrap: int = 200, seed: int = 0,
               verbose: bool = True) -> dict[str, Any]:
    """Coverage of pidlab.estimate's bootstrap intervals for the semi-supervised bounds.

    Each data set: ``n`` labelled (x1, y), ``n`` labelled (x2, y) and ``n`` unlabelled (x1, x2) samples,
    three independent draws from the known joint (categorical symbols). The truth of each bound is
    the bound of the population's pairwise marginals (:func:`pidlab.synergy_bounds` on the joint's
    marginals); the band for S is also checked against the true BROJA S of the joint, and the
    advice's "synergy is at least" end (the band's lower end) against it.
    """
    from pidlab._marginals import Marginals

    rng = np.random.default_rng(seed)
    rows = []
    t0 = time.time()
    for name, p in bounds_distributions():
        truth = pidlab.synergy_bounds(Marginals.from_joint(p))
        S_true = pidlab.decompose(p).S
        hits = dict.fromkeys(BOUND_KEYS, 0)
        rel = dict.fromkeys(BOUND_KEYS, 0)
        rel_hits = dict.fromkeys(BOUND_KEYS, 0)
        band_hits = 0
        point_hits = 0
        widths = {k: 0.0 for k in BOUND_KEYS}
        for _ in range(reps):
            a1, _, ay = _samples(rng, p, n)
            _, b2, by = _samples(rng, p, n)
            c1, c2, _ = _samples(rng, p, n)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = pidlab.estimate(a1, ay, b2, by, c1, c2, discretizer="categorical", n_bootstrap=n_bootstrap,
                                      confidence=0.9, random_state=int(rng.integers(2**31)))
            bs = est.bootstrap
            for k in BOUND_KEYS:
                lo, hi = bs.intervals[k]
                inside = lo - 1e-9 <= getattr(truth, k) <= hi + 1e-9
                hits[k] += inside
                widths[k] += hi - lo
                if bs.reliable(k):
                    rel[k] += 1
                    rel_hits[k] += inside
            band_hits += bs.contains(S_true)
            point_hits += est.bounds.S_lower - 1e-9 <= S_true <= est.bounds.S_upper + 1e-9
        rows.append({"distribution": name, "N": n, "reps": reps, "S_true": S_true,
                     "coverage": {k: hits[k] / reps for k in BOUND_KEYS},
                     "unflagged_share": {k: rel[k] / reps for k in BOUND_KEYS},
                     "coverage_unflagged": {k: (rel_hits[k] / rel[k]) if rel[k] else None for k in BOUND_KEYS},
                     "mean_width": {k: widths[k] / reps for k in BOUND_KEYS},
                     "band_contains_S": band_hits / reps, "point_interval_contains_S": point_hits / reps})
        if verbose:
            print(f"  bounds {name:20s} N={n}  {time.time() - t0:7.1f} s", file=sys.stderr, flush=True)
    return {"settings": {"n": n, "reps": reps, "n_bootstrap": n_bootstrap, "confidence": 0.9, "seed": seed},
            "rows": rows, "seconds": time.time() - t0}


def bounds_rst(res: dict[str, Any]) -> str:
    """Per distribution and quantity: coverage of all intervals, then (in brackets) the coverage of the
    unflagged ones and how many were unflagged; the band and the point interval against the true S."""
    head = ("distribution", "N", *BOUND_KEYS, "band ∋ S", "point ∋ S")

    def cell(r: dict[str, Any], k: str) -> str:
        cu = r["coverage_unflagged"][k]
        return f"{r['coverage'][k]:.0%} ({'—' if cu is None else f'{cu:.0%}'}/{r['unflagged_share'][k]:.0%})"

    lines = [(r["distribution"], str(r["N"]), *(cell(r, k) for k in BOUND_KEYS),
              f"{r['band_contains_S']:.0%}", f"{r['point_interval_contains_S']:.0%}") for r in res["rows"]]
    return _rst(head, lines)


def _rst(head: tuple[str, ...], lines: list[tuple[str, ...]]) -> str:
    w = [max(len(x[i]) for x in [head, *lines]) for i in range(len(head))]
    rule = "  ".join("=" * k for k in w)
    fmt = lambda t: "  ".join(c.ljust(k) for c, k in zip(t, w)).rstrip()  # noqa: E731
    return "\n".join([rule, fmt(head), rule, *(fmt(x) for x in lines), rule])


def summary_rst(res: dict[str, Any]) -> str:
    """One line per N: coverage of the interior atoms (truth > 0.02 bits), all and unflagged;
    false positives at a true 0, all and unflagged tests; mean absolute bias of the rows with a
    measured bias, plug-in and corrected."""
    head = ("N", "coverage, atoms > 0.02 bits", "unflagged: coverage (share)", "false positives at 5%",
            "FP without a flag", "mean abs. bias, plug-in → corrected")
    lines = []
    for n in sorted({r["N"] for r in res["rows"]}):
        rows = [r for r in res["rows"] if r["N"] == n]
        inter = [r for r in rows if r["truth"] > 0.02]
        cov = [r["coverage"] for r in inter]
        runs = sum(r["runs"] for r in inter)
        rel = sum(r["reliable_share"] * r["runs"] for r in inter)
        rel_cov = sum((r["coverage_reliable"] or 0.0) * r["reliable_share"] * r["runs"] for r in inter)
        zero = [r for r in rows if r["fpr_5pct"] is not None]
        fpr = [r["fpr_5pct"] for r in zero]
        zk = [r for r in zero if r.get("fpr_5pct_reliable") is not None or not r["reliable_share"]]
        unw = [(r.get("fpr_5pct_reliable") or 0.0) * r["reliable_share"] for r in zk]  # rejected and unflagged
        biased = [r for r in rows if _biased(r)]
        halved = sum(abs(r["bias_corrected"]) <= 0.5 * abs(r["bias_plugin"]) for r in biased)
        lines.append((
            f"{n:,}",
            f"mean {np.mean(cov):.1%}; {sum(0.85 <= c <= 0.95 for c in cov)} of {len(cov)} rows in 85-95%" if cov else "—",
            f"{rel_cov / rel:.1%} ({rel / max(runs, 1):.0%})" if rel else "—",
            f"mean {np.mean(fpr):.1%} ({sum(f <= 0.06 for f in fpr)} of {len(fpr)} rows ≤ 6%), max {max(fpr):.1%}"
            if fpr else "—",
            f"mean {np.mean(unw):.1%}, max {max(unw):.1%}" if unw else "—",
            (f"{np.mean([abs(r['bias_plugin']) for r in biased]):.4f} → "
             f"{np.mean([abs(r['bias_corrected']) for r in biased]):.4f} (halved in {halved} of {len(biased)})")
            if biased else "—",
        ))
    return _rst(head, lines)


def misses_rst(res: dict[str, Any]) -> str:
    """The rows that miss a target at N >= 1000: in an unflagged regime (at least half the data sets
    unflagged) coverage of the unflagged intervals outside 85-95% (interior atoms), false positives
    without a flag above 6% of the data sets, a corrected bias above half the plug-in's (measured
    bias)."""
    head = ("distribution", "measure", "N", "atom", "truth", "unflagged", "cov. unflagged", "FP w/o flag",
            "bias plug-in", "bias corrected")
    lines = []
    for r in res["rows"]:
        if r["N"] < 1000:
            continue
        regime = r["reliable_share"] >= 0.5
        cov_miss = regime and r["truth"] > 0.02 and r["coverage_reliable"] is not None and not (
            0.85 <= r["coverage_reliable"] <= 0.95)
        fp_miss = r.get("fpr_5pct_reliable") is not None and r["fpr_5pct_reliable"] * r["reliable_share"] > 0.06
        biased = _biased(r)
        bias_miss = regime and biased and abs(r["bias_corrected"]) > 0.5 * abs(r["bias_plugin"])
        if cov_miss or fp_miss or bias_miss:
            lines.append((r["distribution"], r["measure"], str(r["N"]), r["atom"], f"{r['truth']:.4f}",
                          f"{r['reliable_share']:.0%}",
                          "—" if r["coverage_reliable"] is None else f"{r['coverage_reliable']:.1%}",
                          "—" if r.get("fpr_5pct_reliable") is None else f"{r['fpr_5pct_reliable'] * r['reliable_share']:.1%}",
                          f"{r['bias_plugin']:+.4f}", f"{r['bias_corrected']:+.4f}"))
    return _rst(head, lines) if lines else "(none)"


def rst_table(res: dict[str, Any]) -> str:
    head = ("distribution", "measure", "N", "atom", "truth", "coverage", "reliable", "cov. if reliable",
            "bias plug-in", "bias corrected", "FPR 5%")
    lines = []
    for r in res["rows"]:
        lines.append((r["distribution"], r["measure"], str(r["N"]), r["atom"], f"{r['truth']:.4f}",
                      f"{r['coverage']:.0%}", f"{r['reliable_share']:.0%}",
                      "—" if r["coverage_reliable"] is None else f"{r['coverage_reliable']:.0%}",
                      f"{r['bias_plugin']:+.4f}", f"{r['bias_corrected']:+.4f}",
                      "—" if r["fpr_5pct"] is None else f"{r['fpr_5pct']:.0%}"))
    return _rst(head, lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="N = 200, 1000, 5000; 500 data sets; 1000 resamples")
    ap.add_argument("--reps", type=int, default=None, help="data sets per (distribution, N)")
    ap.add_argument("--sizes", default=None, help="comma-separated sample sizes (default: 1000; --full: 200,1000,5000)")
    ap.add_argument("--json", default=None, help="write the rows and the summary to this file")
    ap.add_argument("--all-distributions", action="store_true", help="the --full set of distributions (21, and the "
                    "two 10x10x10 tables unless --no-large) at the reduced settings (--reps, --sizes)")
    ap.add_argument("--no-large", action="store_true", help="leave out the 10x10x10 digits-like tables (slow)")
    ap.add_argument("--only-large", action="store_true", help="only the 10x10x10 digits-like tables (about 12 s per "
                    "data set for BROJA: run them at fewer --reps)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the simulation")
    ap.add_argument("--measures", default="broja,imin", help="comma-separated measures (default: broja,imin)")
    ap.add_argument("--report-from", default=None, metavar="JSON", help="print the summary tables of a saved "
                    "run (--json) instead of running")
    ap.add_argument("--bounds", action="store_true", help="instead: coverage of the semi-supervised bounds' "
                    "bootstrap intervals (pidlab.estimate); --reps data sets per distribution, --sizes the N "
                    "of each data set (comma-separated)")
    args = ap.parse_args(argv)
    if args.report_from:
        with open(args.report_from) as f:
            saved = json.load(f)
        print(summary_rst(saved))
        print()
        print(misses_rst(saved))
        print(json.dumps(regime_summary(saved["rows"]), indent=1))
        return 0
    if args.bounds:
        ns = [int(v) for v in args.sizes.split(",")] if args.sizes else [1000]
        parts = [run_bounds(n=n, reps=args.reps or 40, seed=args.seed + k) for k, n in enumerate(ns)]
        res = {"settings": {**parts[0]["settings"], "n": ns}, "rows": [r for p in parts for r in p["rows"]],
               "seconds": sum(p["seconds"] for p in parts)}
        print(bounds_rst(res))
        print(f"{res['seconds']:.0f} s, settings {res['settings']}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=1)
        return 0
    sizes = tuple(int(v) for v in args.sizes.split(",")) if args.sizes else None
    measures = tuple(m.strip() for m in args.measures.split(",") if m.strip())
    if args.all_distributions and not args.full:
        res = run(True, sizes=sizes or (1000,), reps=args.reps or 20, n_boot=200, permutations=99,
                  large=not args.no_large, only_large=args.only_large, seed=args.seed, measures=measures)
    else:
        res = run(args.full, sizes=sizes, reps=args.reps, large=not args.no_large, only_large=args.only_large,
                  seed=args.seed, measures=measures)
    print(rst_table(res))
    print(summary_rst(res))
    print(json.dumps(res["summary"], indent=1))
    print(f"{res['seconds']:.0f} s, settings {res['settings']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
