"""Benchmark: pidlab.estimate on 100,000 samples of 64-dimensional data, 20 clusters per modality.

Target (issue 3): whole estimate < 30 s and < 500 MB peak memory. Prints the time per stage and the
peak resident memory of this process (ru_maxrss), measured after generating the data.

    python benchmarks/bench_estimate.py [n_samples]
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np


def make_data(n: int, d: int = 64, n_classes: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres1 = rng.normal(size=(n_classes, d))
    centres2 = rng.normal(size=(n_classes, d))
    y = rng.integers(0, n_classes, n)
    x1 = centres1[y] + 1.5 * rng.normal(size=(n, d))
    x2 = centres2[y] + 1.5 * rng.normal(size=(n, d))
    return x1, x2, y


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    x1, x2, y = make_data(n)
    third = n // 3
    data_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    import tracemalloc

    import pidlab

    tracemalloc.start()
    t0 = time.perf_counter()
    res = pidlab.estimate(
        x1[:third], y[:third], x2[third : 2 * third], y[third : 2 * third], x1[2 * third :], x2[2 * third :],
        discretizer="pca-kmeans", n_clusters=20,
    )
    elapsed = time.perf_counter() - t0
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(res.report())
    print(f"samples: {n} x 64 dims per modality, 20 clusters per modality")
    print("stage timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in res.timings.items()))
    print(f"total {elapsed:.2f} s; peak RSS {peak:.0f} MB (after data generation: {data_rss:.0f} MB; "
          f"data itself {2 * x1.nbytes / 2**20:.0f} MB); peak memory allocated by estimate (tracemalloc) "
          f"{traced_peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
