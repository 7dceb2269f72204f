"""The README's main job: semi-supervised interaction bounds on scikit-learn's handwritten digits.

Each 8x8 digit image is split into its left half (modality X1, 32 pixels) and right half
(modality X2, 32 pixels); the target is the digit. The 1,797 images are shuffled and split into
three disjoint parts: labelled left halves (D1), labelled right halves (D2) and unlabelled
pairs of halves (DM). :func:`pidlab.estimate` discretises each modality (L2-normalise, PCA to 5,
k-means), estimates the three tables, reconciles them and bounds the synergy. Because digits is
fully labelled, the demo also computes the *oracle*: the BROJA decomposition of the discretised
full joint of all images, which the bounds should bracket (up to estimation error). The point
bounds treat the three estimated tables as exact; a nonparametric bootstrap (100 replicates by
default) adds percentile intervals and a band for S under the plug-in model; the advice rests on
the conservative ends of those intervals. It prints the report, says whether the oracle S lies in
the point interval and in the band, checks every statement of the advice against the oracle
(exit code 1 if one is false), and draws the bounds, the band, the accuracies and the oracle values.

Run ``python -m pidlab._demo [--out FILE] [--clusters K] [--seed S] [--bootstrap N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["main", "run", "plot", "advice_checks"]


def run(
    *, n_clusters: int = 10, seed: int = 0, discretizer: str = "pca-kmeans", n_bootstrap: int = 0,
    confidence: float = 0.9,
) -> dict[str, Any]:
    """Run the analysis; returns the estimate (with its bootstrap when ``n_bootstrap > 0``),
    the oracle PID and the oracle Bayes accuracy."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - exercised only without scikit-learn
        from pidlab.exceptions import PidlabError

        raise PidlabError(
            "the digits demo needs scikit-learn (it ships the data set): pip install 'pidlab[ml]'"
        ) from None
    import pidlab

    digits = load_digits()
    images = digits.images.astype(float)  # (n, 8, 8)
    y = digits.target
    left = images[:, :, :4].reshape(len(y), -1)
    right = images[:, :, 4:].reshape(len(y), -1)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    parts = np.array_split(order, 3)
    d1, d2, dm = parts
    res = pidlab.estimate(
        left[d1], y[d1], right[d2], y[d2], left[dm], right[dm],
        discretizer=discretizer, n_clusters=n_clusters, random_state=seed,
        names=("left half", "right half", "digit"), n_bootstrap=n_bootstrap, confidence=confidence,
    )
    # Oracle: the discretised full joint over all images (digits is fully labelled).
    assert res.fitted_discretizers is not None  # estimate() always records them
    disc1, disc2 = res.fitted_discretizers
    c1 = disc1.transform(left)
    c2 = disc2.transform(right)
    full = pidlab.Distribution.from_samples(c1, c2, y, names=("left half", "right half", "digit"))
    oracle = pidlab.decompose(full)
    oracle_acc = float(full.p.max(axis=2).sum())
    oracle_uni = (float(full.p.sum(axis=1).max(axis=1).sum()), float(full.p.sum(axis=0).max(axis=1).sum()))
    # The same bounds computed from the full data's pairwise tables: by the theorems these must
    # bracket the oracle values exactly (no estimation error), which separates the two effects.
    oracle_bounds = pidlab.synergy_bounds(pidlab.Marginals.from_joint(full))
    return {"estimate": res, "oracle": oracle, "oracle_accuracy": oracle_acc, "oracle_unimodal_accuracy": oracle_uni,
            "oracle_bounds": oracle_bounds, "n": len(y), "parts": [len(p) for p in parts]}


def advice_checks(out: dict[str, Any]) -> list[tuple[str, bool]]:
    """Each statement the advice makes, checked against the oracle: ``(statement, holds)`` pairs.

    The advice states intervals (or one end of them) for the synergy, the best multimodal
    accuracy and the best single-modality accuracy; the oracle values come from the full
    labelled data with the same symbols.
    """
    g = out["estimate"].guidelines()
    o = out["oracle"]
    checks: list[tuple[str, bool]] = []
    s_lo, s_hi = g["synergy_model"]["synergy_interval"]
    v = g["synergy_model"]["verdict"]
    if v in ("yes", "undetermined"):
        checks.append((f"synergy is at least {max(s_lo, 0.0):.3f} bits (oracle S = {o.S:.3f})", o.S >= s_lo - 1e-9))
    if v in ("no", "undetermined"):
        checks.append((f"synergy is at most {s_hi:.3f} bits (oracle S = {o.S:.3f})", o.S <= s_hi + 1e-9))
    a_lo, a_hi = g["collect_multimodal"]["accuracy_interval"]
    u_lo, u_hi = g["collect_multimodal"]["unimodal_interval"]
    acc, uni = out["oracle_accuracy"], max(out["oracle_unimodal_accuracy"])
    v = g["collect_multimodal"]["verdict"]
    if v in ("yes", "undetermined"):
        checks.append((f"the best multimodal accuracy is at least {a_lo:.3f} (oracle {acc:.3f})", acc >= a_lo - 1e-9))
        checks.append((f"the best single modality is at most {u_hi:.3f} accurate (oracle {uni:.3f})", uni <= u_hi + 1e-9))
    if v in ("no", "undetermined"):
        checks.append((f"the best multimodal accuracy is at most {a_hi:.3f} (oracle {acc:.3f})", acc <= a_hi + 1e-9))
        checks.append((f"the best single modality is at least {u_lo:.3f} accurate (oracle {uni:.3f})", uni >= u_lo - 1e-9))
    return checks


def plot(out: dict[str, Any], path: str) -> str:
    """Draw the estimated atoms and bounds beside the oracle values, and the accuracy ranges; returns the path."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    est = out["estimate"]
    b = est.bounds
    o = out["oracle"]
    bs = est.bootstrap
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.6), gridspec_kw={"width_ratios": [3, 2]})
    names = ["R", "U1", "U2", "S"]
    est_lo = [b.R, b.U1, b.U2, b.S_lower]
    est_hi = [b.R, b.U1, b.U2, b.S_upper]
    orc = [o.R, o.U1, o.U2, o.S]
    xs = np.arange(len(names))
    for x, lo, hi in zip(xs, est_lo, est_hi):
        if hi - lo > 1e-9:
            ax1.vlines(x - 0.1, lo, hi, color="C0", lw=6, alpha=0.7)
        else:
            ax1.plot(x - 0.1, lo, "o", color="C0", ms=8)
    values = [*est_lo, *est_hi, *orc]
    if bs is not None:
        for x, key in zip(xs[:3], ("R", "U1", "U2")):
            ax1.vlines(x - 0.25, *bs.intervals[key], color="C2", lw=2.5)
            values += list(bs.intervals[key])
        ax1.vlines(3 - 0.25, *bs.S_band, color="C2", lw=2.5,
                   label=f"{bs.confidence:.0%} bootstrap intervals / band for S ({bs.n_used} resamples)")
        values += list(bs.S_band)
    ob = out["oracle_bounds"]
    ax1.vlines(3 + 0.3, ob.S_lower, ob.S_upper, color="0.5", lw=3, alpha=0.8,
               label="bounds from the full data's pairwise tables")
    values += [ob.S_lower, ob.S_upper]
    ax1.plot(xs + 0.1, orc, "D", color="C3", ms=7, label="oracle (full labelled data)")
    ax1.plot([], [], color="C0", lw=6, alpha=0.7, label="estimate from the three data sets (S: bounds)")
    ax1.set_xticks(xs, ["R\nredundancy", "U1\nunique to left", "U2\nunique to right", "S\nsynergy"])
    ax1.set_ylabel("bits")
    span = max(values) - min(values)
    ax1.set_ylim(max(0.0, min(values) - 0.08 * span), max(values) + 0.08 * span)
    ax1.set_title("digits: what the left and right halves tell about the digit", fontsize=10)
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=7.5, ncol=2, frameon=False)

    ua = est.unimodal_accuracy
    oua = out["oracle_unimodal_accuracy"]
    ax2.vlines(0 - 0.1, b.accuracy_lower, b.accuracy_upper, color="C0", lw=6, alpha=0.7)
    acc_values = [b.accuracy_lower, b.accuracy_upper, *ua, *oua, out["oracle_accuracy"]]
    for xa, u in ((1, ua[0]), (2, ua[1])):
        ax2.plot(xa - 0.1, u, "o", color="C0", ms=8)
    if bs is not None:
        iv = bs.intervals
        ax2.vlines(-0.25, iv["accuracy_lower"][0], iv["accuracy_upper"][1], color="C2", lw=2.5)
        ax2.vlines(1 - 0.25, *iv["accuracy_x1"], color="C2", lw=2.5)
        ax2.vlines(2 - 0.25, *iv["accuracy_x2"], color="C2", lw=2.5)
        acc_values += [iv["accuracy_lower"][0], *iv["accuracy_x1"], *iv["accuracy_x2"]]
    ax2.plot([0.1, 1.1, 2.1], [out["oracle_accuracy"], *oua], "D", color="C3", ms=7)
    ax2.set_xlim(-0.6, 2.5)
    lo_acc = min(acc_values)
    ax2.set_ylim(max(0.0, lo_acc - 0.05), 1.01)
    ax2.set_xticks([0, 1, 2], ["both halves\n(range)", "left half\nalone", "right half\nalone"])
    ax2.set_ylabel("Bayes accuracy")
    ax2.set_title("best achievable accuracy", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: prints the report, writes the figure; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m pidlab._demo",
        description="Semi-supervised synergy bounds on scikit-learn's digits (left/right image halves).",
    )
    parser.add_argument("--out", default="pidlab-digits-bounds.png", help="figure path (default: %(default)s)")
    parser.add_argument("--clusters", type=int, default=10, help="k-means clusters per modality (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="split and clustering seed (default: %(default)s)")
    parser.add_argument("--bootstrap", type=int, default=100, metavar="N",
                        help="bootstrap replicates for the sampling band (0: none; default: %(default)s)")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    from pidlab.exceptions import PidlabError

    t0 = time.perf_counter()
    try:
        out = run(n_clusters=args.clusters, seed=args.seed, n_bootstrap=args.bootstrap)
    except PidlabError as exc:
        print(f"pidlab demo: error: {exc}", file=sys.stderr)
        return 2
    res, o = out["estimate"], out["oracle"]
    b = res.bounds
    print(f"scikit-learn digits: {out['n']} images, each split into a left and a right half, divided into three "
          f"disjoint parts of {out['parts']} images (labelled left halves | labelled right halves | unlabelled pairs)")
    print(res.report())
    ua = out["oracle_unimodal_accuracy"]
    print(f"Oracle: the same decomposition of all {out['n']} labelled images (same symbols), which the semi-supervised "
          "analysis never sees:")
    print(f"  R = {o.R:.4f}   U1 = {o.U1:.4f}   U2 = {o.U2:.4f}   S = {o.S:.4f};   Bayes accuracy from both "
          f"{out['oracle_accuracy']:.3f}, left alone {ua[0]:.3f}, right alone {ua[1]:.3f}")
    ob = out["oracle_bounds"]
    print(f"  bounds from the full data's pairwise tables: S in [{ob.S_lower:.4f}, {ob.S_upper:.4f}] (the theorems "
          "guarantee these contain the oracle S; the difference to the estimate is estimation error)")
    inside = b.S_lower - 1e-9 <= o.S <= b.S_upper + 1e-9
    print(f"  point interval for S [{b.S_lower:.4f}, {b.S_upper:.4f}]: "
          + ("contains the oracle S" if inside else
             f"does NOT contain the oracle S: with {min(out['parts'])} samples per data set the point bounds carry "
             "estimation error, which is why the advice rests on the bootstrap band"))
    bs = res.bootstrap
    if bs is not None:
        print(f"  bootstrap band for S [{bs.S_band[0]:.4f}, {bs.S_band[1]:.4f}]: "
              + ("contains" if bs.contains(o.S) else "does NOT contain") + f" the oracle S ({bs.seconds:.1f} s)")
    checks = advice_checks(out)
    print("  the advice's statements, checked against the oracle:")
    for text, ok in checks:
        print(f"    {'true ' if ok else 'FALSE'}  {text}")
    if not args.no_plot:
        path = plot(out, args.out)
        print(f"figure written to {path}")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
