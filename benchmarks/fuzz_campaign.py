"""Fuzz campaign: N generated inputs per public entry point and the CLI, with the counts.

Run: ``.venv/bin/python benchmarks/fuzz_campaign.py [--n 500] [--only cli "io readers"] [--time-limit 20] [--seed 0]``

Uses the strategies and the classification of ``tests/test_fuzz.py`` (the same property as the
fast-tier suite, on many more inputs). For each entry point it prints the inputs tried and how
many gave a clear error (a PidlabError with a one-line message), a valid result (JSON with
``allow_nan=False``, no NaN), a traceback (any other exception, or ``pidlab: internal error`` from
the CLI), NaN (a NaN in a result, or invalid JSON output), a hang (over the time limit) or an
unclear error (a PidlabError with an empty, multi-line or repr-like message), then one repro line
per distinct failure. Exit code 1 when anything but clear errors and valid results was seen.

With ``--n 500`` (4,500 inputs) it takes about five minutes on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.test_fuzz

KINDS = ("error", "valid", "traceback", "nan", "hang", "unclear")


def _campaign(strategy: Any, n: int, seed_value: int, record: Callable[[Any], None]) -> Callable[[], None]:
    """A hypothesis loop over ``strategy`` that hands every generated case to ``record``."""

    @seed(seed_value)
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(strategy)
    def body(case: Any) -> None:
        record(case)

    return body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="inputs per entry point (default: %(default)s)")
    ap.add_argument("--only", nargs="*", default=None,
                    help="entry points to run, matched by substring (default: all)")
    ap.add_argument("--time-limit", type=float, default=20.0,
                    help="seconds per call before it counts as a hang (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="hypothesis seed (default: %(default)s)")
    ap.add_argument("--show", type=int, default=8, help="repro lines shown per entry point (default: %(default)s)")
    args = ap.parse_args(argv)
    os.environ["PIDLAB_FUZZ_TIME_LIMIT"] = str(args.time_limit)

    import tests.test_fuzz as fz

    fz.TIME_LIMIT = args.time_limit
    names = [n for n in fz.ENTRY_POINTS if args.only is None or any(o.lower() in n.lower() for o in args.only)]
    totals: Counter[str] = Counter()
    rows: list[tuple[Any, ...]] = []
    findings: list[tuple[str, str, str, str]] = []
    for name in names:
        strategy, run = fz.ENTRY_POINTS[name]
        counts: Counter[str] = Counter()
        seen: set[str] = set()
        slowest = [0.0]

        def record(case: Any, name: str = name, run: Any = run, counts: Counter[str] = counts,
                   seen: set[str] = seen, slowest: list[float] = slowest) -> None:
            out = run(case)
            counts[out.kind] += 1
            slowest[0] = max(slowest[0], out.seconds)
            if out.kind not in ("error", "valid"):
                key = f"{out.kind}: {out.detail[:90]}"
                if key not in seen:
                    seen.add(key)
                    findings.append((name, out.kind, out.detail, case.__doc__ or ""))

        t0 = time.perf_counter()
        _campaign(strategy, args.n, args.seed, record)()
        dt = time.perf_counter() - t0
        tried = sum(counts.values())
        totals.update(counts)
        totals["tried"] += tried
        rows.append((name, tried, *(counts[k] for k in KINDS), dt, slowest[0]))
        print(f"{name:<26} {tried:>6} " + " ".join(f"{counts[k]:>9}" for k in KINDS)
              + f" {dt:8.1f}s {slowest[0]:7.2f}s", flush=True)

    print()
    print(f"{'entry point':<26} {'tried':>6} " + " ".join(f"{k:>9}" for k in KINDS) + f" {'time':>9} {'slowest':>8}")
    for r in rows:
        print(f"{r[0]:<26} {r[1]:>6} " + " ".join(f"{v:>9}" for v in r[2:8]) + f" {r[8]:8.1f}s {r[9]:7.2f}s")
    print(f"{'TOTAL':<26} {totals['tried']:>6} " + " ".join(f"{totals[k]:>9}" for k in KINDS))
    if findings:
        print("\nfindings (one per distinct message):")
        shown: Counter[str] = Counter()
        for name, kind, detail, repro in findings:
            shown[name] += 1
            if shown[name] <= args.show:
                print(f"- [{name}] {kind}: {detail[:240]}\n    repro: {repro[:400]}")
    bad = sum(totals[k] for k in KINDS if k not in ("error", "valid"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
