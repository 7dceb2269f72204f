"""``pidlab hardness rtt ...``: generate, reduce, solve and verify restricted-timetable instances.

Files are JSON. An instance file holds ``{"availability": [[1, 2], [3]], "requirements": [[1, 1], [0, 1]]}``
(extra keys are ignored, so the output of ``generate`` is an instance file). A schedule file holds a
list of ``[teacher, class, hour]`` triples, or an object with that list under ``"schedule"``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from pidlab.cli._common import FORMAT_HELP, compact_json, emit
from pidlab.exceptions import InvalidDistributionError, ParameterError


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "hardness",
        help="NP-hard instances of the minimum joint entropy (restricted timetables)",
        description="Hard instances for min H(X1,X2,Y) under three pairwise marginals (Liang et al. 2024, App. B.5).",
    )
    kinds = p.add_subparsers(dest="hardness_kind", metavar="KIND", required=True)
    r = kinds.add_parser(
        "rtt",
        help="restricted timetable (RTT) instances and their reduction",
        description="Restricted timetable problem (Even, Itai & Shamir 1975) and its reduction to pairwise marginals. "
        "Indices are 0-based, hours are 1, 2, 3.",
    )
    acts = r.add_subparsers(dest="rtt_action", metavar="ACTION", required=True)

    g = acts.add_parser("generate", help="write a random instance (JSON)",
                        description="Write a random RTT instance as compact JSON (one line per key).")
    g.add_argument("--kind", choices=("solvable", "unsolvable", "random"), default="solvable",
                   help="solvable: with a planted schedule (included); unsolvable: proved so by the exact solver; "
                   "random: unknown (default: %(default)s)")
    g.add_argument("--teachers", type=int, default=4, metavar="N", help="number of teachers (default: %(default)s)")
    g.add_argument("--classes", type=int, default=4, metavar="N", help="number of classes (default: %(default)s)")
    g.add_argument("--density", type=float, default=None,
                   help="lesson density in (0, 1] (default: 0.6 for --kind solvable, 0.7 for unsolvable, 0.5 for random)")
    g.add_argument("--seed", type=int, default=None,
                   help="random seed, for a reproducible instance (default: none, a fresh instance each run)")
    g.add_argument("--out", metavar="FILE", help="write here instead of stdout (default: stdout)")

    d = acts.add_parser("reduce", help="write the three pairwise marginals (JSON)",
                        description="The reduction's marginals p(x1,y), p(x2,y), p(x1,x2) as floats and exact fractions. "
                        "X1 = teachers then holding rooms h1,h2,h3; X2 = classes; target Y = (0 null colour, hours 1,2,3).")
    d.add_argument("instance", metavar="INSTANCE", help="instance JSON file")
    d.add_argument("--hours", type=int, nargs=3, metavar=("N1", "N2", "N3"), default=None,
                   help="lessons per hour (default: the counts forced by the tight teachers)")
    d.add_argument("--allow-inconsistent", action="store_true",
                   help="build a split other than the forced one (default: off, refuse it)")
    d.add_argument("--out", metavar="FILE", help="write here instead of stdout (default: stdout)")

    s = acts.add_parser("solve", help="decide the instance exactly and print a schedule",
                        description="Exact decision procedure (backtracking or MILP).")
    s.add_argument("instance", metavar="INSTANCE", help="instance JSON file")
    s.add_argument("--hours", type=int, nargs=3, metavar=("N1", "N2", "N3"), default=None,
                   help="required lessons per hour (default: any hour counts)")
    s.add_argument("--method", choices=("backtrack", "milp"), default=None,
                   help="exact method (default: backtrack)")
    s.add_argument("--draw", metavar="PNG", help="also draw the graph with the schedule as edge colours "
                   "(default: no drawing)")
    s.add_argument("--out", metavar="FILE", help="write the JSON result here (default: stdout only)")
    s.add_argument("--format", choices=("json", "text"), default="json", help=FORMAT_HELP)

    v = acts.add_parser("verify", help="check a schedule against the RTT conditions (exit 1 if it fails)",
                        description="Check the four RTT conditions (and the hour counts with --hours); exit code 1 "
                        "when a condition fails.")
    v.add_argument("instance", metavar="INSTANCE", help="instance JSON file")
    v.add_argument("schedule", metavar="SCHEDULE", help="schedule JSON file")
    v.add_argument("--hours", type=int, nargs=3, metavar=("N1", "N2", "N3"), default=None,
                   help="also check these lessons per hour (default: no hour-count check)")
    v.add_argument("--draw", metavar="PNG", help="also draw the graph with the schedule as edge colours "
                   "(default: no drawing)")
    v.add_argument("--format", choices=("json", "text"), default="json", help=FORMAT_HELP)
    return p


def _read_json(path: str, what: str) -> Any:
    from pidlab.hardness.rtt import InvalidInstanceError
    from pidlab.io import read_json

    try:
        return read_json(path)
    except InvalidDistributionError as exc:
        raise InvalidInstanceError(f"{what} file: {exc}") from None


def _load_instance(path: str) -> Any:
    from pidlab.hardness import rtt

    return rtt.RTTInstance.from_dict(_read_json(path, "instance"))


def _load_schedule(path: str) -> list[Any]:
    from pidlab.hardness.rtt import InvalidScheduleError

    data = _read_json(path, "schedule")
    if isinstance(data, dict):
        if "schedule" not in data or data["schedule"] is None:
            raise InvalidScheduleError(f"{path}: a JSON object needs a key 'schedule' holding [teacher, class, hour] triples.")
        data = data["schedule"]
    if not isinstance(data, list):
        raise InvalidScheduleError(f"{path}: expected a list of [teacher, class, hour] triples.")
    return [tuple(t) if isinstance(t, list) else t for t in data]


def _check_out(out: str) -> None:
    d = Path(out).parent
    if not d.is_dir():
        raise ParameterError(f"--out {out!r}: the directory {str(d)!r} does not exist; create it first or choose "
                             "another path.")


def _write(obj: Any, out: str | None) -> None:
    """Compact JSON (one line per top-level key) to ``out`` or stdout."""
    if out:
        Path(out).write_text(compact_json(obj) + "\n")
    else:
        emit(obj, "json", compact=True)


def _sched_list(s: Any) -> list[list[int]] | None:
    return None if s is None else [list(t) for t in sorted(s)]


def _draw(inst: Any, sched: Any, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pidlab.hardness import rtt

    ax = rtt.draw(inst, sched)
    fig: Any = ax.figure  # a Figure (rtt.draw makes its own when no axes are given)
    fig.savefig(path, bbox_inches="tight", dpi=120)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    from pidlab.hardness import rtt

    act = args.rtt_action
    if act == "generate":
        for flag, v in (("--teachers", args.teachers), ("--classes", args.classes)):
            if v < 1:
                raise ParameterError(f"{flag} must be an integer >= 1. Got {v} instead.")
        if args.seed is not None and args.seed < 0:
            raise ParameterError(f"--seed must be an integer >= 0. Got {args.seed} instead; e.g. --seed 0.")
        if args.density is not None and not 0 < args.density <= 1:
            raise ParameterError(f"--density must be a number in (0, 1]. Got {args.density} instead.")
        if args.out:  # before generating: an unsolvable instance can take a while to find
            _check_out(args.out)
        kw = {} if args.density is None else {"density": args.density}
        sched = None
        if args.kind == "solvable":
            inst, sched = rtt.random_solvable(args.teachers, args.classes, seed=args.seed, **kw)
        elif args.kind == "unsolvable":
            inst = rtt.random_unsolvable(args.teachers, args.classes, seed=args.seed, **kw)
        else:
            inst = rtt.random_instance(args.teachers, args.classes, seed=args.seed, **kw)
        out = {**inst.to_dict(), "kind": args.kind, "seed": args.seed}
        if sched is not None:
            out["schedule"] = _sched_list(sched)
        _write(out, args.out)
        return 0
    inst = _load_instance(args.instance)
    if act == "reduce":
        em: Any = rtt.reduce(inst, args.hours, exact=True, allow_inconsistent=args.allow_inconsistent)
        out = {
            "target": "Y (0 = null colour, 1-3 = hours)",
            **em.to_dict(),
            "H_x1x2_bits": math.log2(em.N),
            "note": "a joint with these marginals and H(Y|X1,X2)=0 exists iff the instance has a schedule with "
            "these hour counts; then min H(X1,X2,Y) = H(X1,X2) = log2 N bits, otherwise it is larger.",
        }
        _write(out, args.out)
        return 0
    if act == "solve":
        t0 = time.perf_counter()
        sched = rtt.solve(inst, args.hours, method=args.method)
        dt = time.perf_counter() - t0
        out = {
            "solvable": sched is not None,
            "schedule": _sched_list(sched),
            "hour_counts": None if sched is None else list(rtt.verify(inst, sched).hour_counts),
            "method": args.method or "backtrack",
            "solve_time_s": dt,
        }
        if args.draw:
            _draw(inst, sched, args.draw)
        if args.out:
            _write(out, args.out)
        if args.format == "json":
            if not args.out:
                emit(out, "json", compact=True)
        elif sched is None:
            print("unsolvable: no schedule exists" + (f" with hour counts {tuple(args.hours)}" if args.hours else ""))
        else:
            print(f"solvable: {len(sched)} lessons, hour counts {tuple(out['hour_counts'])}")
            for i, j, h in sorted(sched):
                print(f"  teacher {i} teaches class {j} at hour {h}")
        return 0
    # verify
    lessons = _load_schedule(args.schedule)
    res = rtt.verify(inst, lessons, args.hours)
    if args.draw:
        _draw(inst, lessons, args.draw)
    if args.format == "json":
        emit(res, "json", compact=True)
    else:
        print("ok: the schedule satisfies every RTT condition" if res.ok else "FAILED:")
        for line in res.violations:
            print(f"  {line}")
    return 0 if res.ok else 1
