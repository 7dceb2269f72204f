"""Benchmark of pidlab's coupling code: meet and greedy at n = m = 10^6 (time and memory).

Run: ``.venv/bin/python benchmarks/bench_couplings.py [--max-n 1000000] [--quick]``

For each input family and size it prints the wall time of ``pidlab.meet`` and of
``pidlab.couple(method="greedy")`` (validation, sorting, coupling, mapping back, marginal check
and the meet bound; the profile bound is off above 5,000 atoms, as by default), the peak memory
``tracemalloc`` sees during the greedy call in bytes per support point (linear memory: no dense
matrix is ever built), and, up to ``--reference-max-n``, the time of a straightforward Python
greedy (one heap per marginal, one step per loop iteration, as the algorithm is usually written)
with the ratio reference/pidlab; the two entropies must agree to 1e-9. POT is not installed, so
no third-party peer is timed. The machine is shared: read the ratios measured in the same run.
Also times ``lattice`` (O(n^2) worst case) on a smaller size.
"""

from __future__ import annotations

import argparse
import heapq
import time
import tracemalloc

import numpy as np

import pidlab


def reference_greedy(p: np.ndarray, q: np.ndarray) -> float:
    """Straightforward greedy: pop both maxima from heaps, push the residual back."""
    hp = [-v for v in p.tolist() if v > 0]
    hq = [-v for v in q.tolist() if v > 0]
    heapq.heapify(hp)
    heapq.heapify(hq)
    h = 0.0
    while hp and hq:
        a, b = -heapq.heappop(hp), -heapq.heappop(hq)
        m = min(a, b)
        h -= m * np.log2(m)
        if a - m > 1e-15:
            heapq.heappush(hp, -(a - m))
        if b - m > 1e-15:
            heapq.heappush(hq, -(b - m))
    return float(h)


def families(n: int, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    u = np.full(n, 1.0 / n)
    big = np.concatenate([[0.5], np.full(n - 1, 0.5 / (n - 1))])
    return {
        "dirichlet(1) vs dirichlet(1)": (rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))),
        "dirichlet(0.1) vs dirichlet(10)": (rng.dirichlet(np.full(n, 0.1)), rng.dirichlet(np.full(n, 10.0))),
        "one atom 1/2 + uniform vs uniform": (big, u),
        "zipf vs dirichlet(1)": ((1 / np.arange(1, n + 1)) / (1 / np.arange(1, n + 1)).sum(), rng.dirichlet(np.ones(n))),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-n", type=int, default=1_000_000)
    ap.add_argument("--reference-max-n", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="only the first family")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    pidlab.couple([0.5, 0.5], [1.0])  # warm up imports and plugin loading
    sizes = [n for n in (10_000, 100_000, 1_000_000) if n <= args.max_n]
    print(f"{'family':36} {'n=m':>9} {'meet s':>7} {'greedy s':>8} {'B/pt':>5} {'ref s':>7} {'ref/ours':>8}  gap to meet")
    for n in sizes:
        fams = families(n, rng)
        for name, (p, q) in list(fams.items())[: 1 if args.quick else None]:
            t = time.perf_counter()
            pidlab.meet(p, q)
            t_meet = time.perf_counter() - t
            tracemalloc.start()
            pidlab.couple(p, q, method="greedy")
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            t = time.perf_counter()
            r = pidlab.couple(p, q, method="greedy")
            t_greedy = time.perf_counter() - t
            assert r.marginal_error < 1e-12, r.marginal_error
            ref_s = ratio = ""
            if n <= args.reference_max_n:
                t = time.perf_counter()
                h_ref = reference_greedy(p, q)
                t_ref = time.perf_counter() - t
                assert abs(h_ref - r.entropy) < 1e-9, (h_ref, r.entropy)
                ref_s, ratio = f"{t_ref:7.2f}", f"{t_ref / t_greedy:8.1f}"
            print(
                f"{name:36} {n:>9} {t_meet:7.3f} {t_greedy:8.3f} {peak / (2 * n):5.0f} {ref_s:>7} {ratio:>8}  "
                f"{r.entropy - r.lower_bounds['meet']:.4f}",
                flush=True,
            )
    n = 10_000
    p, q = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
    t = time.perf_counter()
    r = pidlab.couple(p, q, method="lattice")
    print(f"lattice, dirichlet(1), n=m={n}: {time.perf_counter() - t:.3f} s, H - H(meet) = {r.entropy - r.lower_bounds['meet']:.4f}")


if __name__ == "__main__":
    main()
