"""Every plain-text and HTML rendering of pidlab's results, and their conversion to JSON.

Results (:mod:`pidlab._results`) hold numbers; this module turns them into what a person reads:
``table()``/``str()`` in a terminal, ``_repr_html_()`` in a notebook, and JSON for files. One
converter (:func:`jsonable`) serves ``to_json`` and the CLI's ``--format json``; one pair of
primitives (:func:`text_table`, :func:`html_table`) lays out every table.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pidlab._api import Comparison
    from pidlab._broja import Certificate
    from pidlab._couplings._pairwise import PairwiseMinEntropy
    from pidlab._couplings._result import CouplingResult
    from pidlab._inference import SampleDecomposition
    from pidlab._marginals import ConsistencyReport, MaxEntResult, RepairResult
    from pidlab._properties import PropertiesResult
    from pidlab._results import PIDResult
    from pidlab._solvers._batch import BatchResult
    from pidlab.bounds._bootstrap import BootstrapResult
    from pidlab.bounds._estimate import EstimateResult
    from pidlab.bounds._synergy import SynergyBounds
    from pidlab.hardness.rtt._cook import CookReductionResult
    from pidlab.hardness.rtt._instance import RTTInstance
    from pidlab.hardness.rtt._reduction import ExactMarginals
    from pidlab.hardness.rtt._schedule import Verification
    from pidlab.study._result import StudyResult, StudySummary

__all__ = [
    "jsonable",
    "fmt_bits",
    "text_table",
    "html_table",
    "notes_html",
    "pid_text",
    "pid_html",
    "comparison_rows",
    "comparison_table",
    "comparison_html",
    "batch_text",
    "batch_html",
    "certificate_text",
    "certificate_html",
    "synergy_text",
    "synergy_html",
    "bootstrap_summary",
    "bootstrap_text",
    "bootstrap_html",
    "estimate_text",
    "estimate_html",
    "coupling_text",
    "coupling_html",
    "pairwise_text",
    "pairwise_html",
    "consistency_summary",
    "consistency_html",
    "repair_summary",
    "repair_text",
    "repair_html",
    "maxent_text",
    "maxent_html",
    "study_summary_text",
    "study_summary_html",
    "study_text",
    "study_html",
    "rtt_instance_text",
    "rtt_instance_html",
    "exact_marginals_text",
    "exact_marginals_html",
    "verification_text",
    "verification_html",
    "cook_text",
    "cook_html",
    "inference_rows",
    "inference_text",
    "inference_html",
    "ATOM_NAMES",
]

ATOMS = ("R", "U1", "U2", "S")

#: Reading of each atom, for tables.
ATOM_NAMES = {"R": "redundancy R", "U1": "unique U1", "U2": "unique U2", "S": "synergy S"}

e = html.escape


# ---------------------------------------------------------------------------------------- JSON
def jsonable(obj: Any) -> Any:
    """``obj`` as JSON-ready Python: results through ``to_dict()``, numpy values as Python numbers,
    tuples as lists, mappings with string keys; NaN becomes None and infinities ``"inf"``/``"-inf"``
    (JSON has neither)."""
    if hasattr(obj, "to_dict") and not isinstance(obj, type):
        return jsonable(obj.to_dict())
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None if np.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


# ---------------------------------------------------------------------------------------- primitives
def fmt_bits(v: float | None, digits: int = 6) -> str:
    """A value in bits with ``digits`` decimals; ``—`` where a measure does not define it."""
    return "—" if v is None else f"{v:.{digits}f}"


def text_table(header: Sequence[str], rows: Iterable[Sequence[str]], *, footer: Iterable[str] = ()) -> str:
    """Columns padded to their widest cell, a rule under the header, then the footer lines."""
    all_rows = [tuple(header), *(tuple(r) for r in rows)]
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in all_rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([*lines, *footer])


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table of already formatted cells (escaped here)."""
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def notes_html(notes: Iterable[str]) -> str:
    items = "".join(f"<li>{e(n)}</li>" for n in notes)
    return f"<ul>{items}</ul>" if items else ""


# ---------------------------------------------------------------------------------------- PIDResult
def pid_text(r: PIDResult) -> str:
    head = f"{r.measure}: I({r.sources[0]},{r.sources[1]}; {r.target}) = {r.I_x1x2y:.6f} bits"
    if r.is_net:
        body = f"  {r.net_kind} = {r.net:+.6f} bits"
    else:
        body = "  " + "  ".join(f"{a}={fmt_bits(getattr(r, a))}" for a in ATOMS)
    tail = ""
    if r.solver is not None:
        gap = r.certificate.gap if r.certificate is not None else None
        tail = f"\n  solver={r.solver} status={r.status}" + (f" gap={gap:.2e} bits" if gap is not None else "")
    return head + "\n" + body + tail


def pid_html(r: PIDResult) -> str:
    rows = []
    if r.is_net:
        rows.append(f"<tr><td>{e(str(r.net_kind))}</td><td>{r.net:+.6f}</td></tr>")
    else:
        names = {"R": "redundancy R", "U1": f"unique U1 ({r.sources[0]})", "U2": f"unique U2 ({r.sources[1]})",
                 "S": "synergy S"}
        for a in ATOMS:
            lohi = (r.bracket or {}).get(a)
            br = f"[{lohi[0]:.9f}, {lohi[1]:.9f}]" if lohi else ""
            rows.append(f"<tr><td>{e(names[a])}</td><td>{fmt_bits(getattr(r, a))}</td><td>{br}</td></tr>")
    meta = ""
    if r.solver is not None:
        c = r.certificate
        meta = (
            f"<p>solver <b>{e(r.solver)}</b>, status <b>{e(str(r.status))}</b>"
            + (f", certified gap {c.gap:.2e} bits, marginal residual {c.marginal_residual:.1e}" if c else "")
            + "</p>"
        )
    return (
        f"<div class='pidlab-result'><b>{e(r.measure)}</b>: "
        f"I({e(r.sources[0])},{e(r.sources[1])}; target {e(r.target)}) = {r.I_x1x2y:.6f} bits"
        f"<table><thead><tr><th>atom</th><th>bits</th><th>{'certified bracket' if r.bracket else ''}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{meta}"
        + notes_html(r.notes)
        + "</div>"
    )


# ---------------------------------------------------------------------------------------- Comparison
HEADER = ("measure", "R", "U1", "U2", "S", "net", "solver", "status")


def comparison_rows(cmp: Comparison) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in cmp.results:
        net = "" if r.net is None else f"{r.net:+.6f} ({r.net_kind})"
        rows.append((r.measure, fmt_bits(r.R), fmt_bits(r.U1), fmt_bits(r.U2), fmt_bits(r.S), net, r.solver or "",
                     str(r.status) if r.status is not None else ""))
    return rows


def comparison_table(cmp: Comparison) -> str:
    rows = comparison_rows(cmp)
    # Drop solver/status columns when no measure used a solver.
    ncols = len(HEADER) if any(r[6] for r in rows) else 6
    footer = [f"(bits; target {cmp.target}; — = atom not defined by the measure)"]
    footer += [f"{m}: failed: {err}" for m, err in cmp.errors]
    return text_table(HEADER[:ncols], [r[:ncols] for r in rows], footer=footer)


def comparison_html(cmp: Comparison) -> str:
    return (
        f"<div class='pidlab-comparison'>{html_table(HEADER, comparison_rows(cmp))}"
        f"<p>bits; target <b>{e(cmp.target)}</b>; — = atom not defined by the measure</p>"
        + notes_html(f"{m}: {err}" for m, err in cmp.errors)
        + "</div>"
    )


# ---------------------------------------------------------------------------------------- BatchResult
def _batch_rows(r: BatchResult) -> list[tuple[str, ...]]:
    if not len(r):
        return []
    cols = (("net", r.net),) if r.net is not None else (("R", r.R), ("U1", r.U1), ("U2", r.U2), ("S", r.S))
    return [(a, f"{np.mean(v):.6g}", f"{np.min(v):.6g}", f"{np.max(v):.6g}") for a, v in cols]


def _batch_title(r: BatchResult) -> str:
    return "BROJA batch" if r.measure == "broja" else f"{r.measure} batch"


def _batch_head(r: BatchResult) -> str:
    n = len(r)
    n_opt = int(np.sum(r.status == "optimal"))
    return (f"{n} distributions of shape {r.shape}, target {r.target}, bits; {n_opt}/{n} certified to {r.gap_tol:g} "
            f"bits (largest gap {(float(np.max(r.gap)) if n else 0.0):.2e}); {r.solve_time:.3g} s")


def batch_text(r: BatchResult) -> str:
    return (f"{_batch_title(r)}: {_batch_head(r)}\n"
            + text_table(("atom", "mean", "min", "max"), _batch_rows(r), footer=[f"note: {x}" for x in r.notes]))


def batch_html(r: BatchResult) -> str:
    return (f"<div><b>{e(_batch_title(r))}</b>: {e(_batch_head(r))}"
            + html_table(("atom", "mean", "min", "max"), _batch_rows(r))
            + "".join(f"<p>{e(x)}</p>" for x in r.notes) + "</div>")


# ---------------------------------------------------------------------------------------- PropertiesResult
def _properties_rows(r: PropertiesResult) -> list[tuple[str, ...]]:
    return [(m, *(r.status(m, p) for p in r.properties)) for m in r.measures]


def _counterexample_line(c: Any) -> str:
    v = c["value"]
    val = f"{v:.9g}" if isinstance(v, float) else str(v)
    extra = f" ({c['detail']})" if c.get("detail") else ""
    return f"{c['measure']} / {c['property']}: on {c['distribution']}: got {val}, expected {c['expected']}{extra}"


def properties_text(r: PropertiesResult) -> str:
    head = (f"PID properties on {r.n_distributions} distributions (+ derived ones), tolerance {r.tol:g} bits; "
            "yes = holds on the battery, NO = violated (counterexample below), n/a = not a full decomposition")
    foot = [f"counterexample: {_counterexample_line(c)}" for c in r.counterexamples]
    foot += [f"note: {x}" for x in r.notes]
    return head + "\n" + text_table(("measure", *r.properties), _properties_rows(r), footer=foot)


def properties_html(r: PropertiesResult) -> str:
    return (f"<div><b>PID properties</b> on {r.n_distributions} distributions, tolerance {r.tol:g} bits"
            + html_table(("measure", *r.properties), _properties_rows(r))
            + "".join(f"<p>{e(_counterexample_line(c))}</p>" for c in r.counterexamples)
            + "".join(f"<p>{e(x)}</p>" for x in r.notes) + "</div>")


# ---------------------------------------------------------------------------------------- Certificate
def certificate_rows(c: Certificate) -> list[tuple[str, str]]:
    rows = [
        ("m lower (dual bound)", f"{c.m_lower:.12f}"),
        ("m upper (primal value)", f"{c.m_upper:.12f}"),
        ("gap", f"{c.gap:.2e}"),
        ("marginal residual", f"{c.marginal_residual:.1e}"),
        ("raw residual", "—" if c.raw_residual is None else f"{c.raw_residual:.1e}"),
        ("primal source", c.primal_source),
        ("dual source", c.dual_source),
    ]
    return rows


def certificate_text(c: Certificate) -> str:
    return ("BROJA certificate: m* = R + U1 + U2 lies in [m lower, m upper] (bits)\n"
            + text_table(("quantity", "value"), certificate_rows(c)))


def certificate_html(c: Certificate) -> str:
    return ("<div class='pidlab-certificate'><b>BROJA certificate</b>: m* = R + U1 + U2 lies in [m lower, m upper] "
            "(bits)" + html_table(("quantity", "value"), certificate_rows(c)) + "</div>")


# ---------------------------------------------------------------------------------------- SynergyBounds
def upper_source(b: SynergyBounds) -> str:
    """Which lower bound on the minimum-entropy coupling set ``S_upper`` (``"meet"`` by default)."""
    t = b.upper_terms
    term = t.get(t.get("largest", ""), {})
    return str(term.get("source", "meet")) if isinstance(term, Mapping) else "meet"


def synergy_text(b: SynergyBounds) -> str:
    n1, n2, ny = b.names
    lines = [
        f"Semi-supervised PID bounds for target {ny} from sources {n1}, {n2} (bits)",
        f"  R  = {b.R:.6f}   U1 = {b.U1:.6f}   U2 = {b.U2:.6f}   (exact, BROJA on p({n1},{ny}), p({n2},{ny}))",
        f"  S lower (redundancy, Thm 1)    = {b.S_lower_redundancy:+.6f}",
        f"  S lower (disagreement, Thm 2)  = {b.S_lower_disagreement:+.6f}   (alpha = {b.alpha:.6f}, c = {b.c:.4f})",
        f"  {'S upper (eq. 50, ' + upper_source(b) + ')':<30} = {b.S_upper:+.6f}",
        f"  S in [{b.S_lower:.6f}, {b.S_upper:.6f}]",
        f"  Bayes-optimal accuracy in [{b.accuracy_lower:.4f}, {b.accuracy_upper:.4f}] ({b.n_classes} classes)",
    ]
    if b.repair is not None:
        lines.append(f"  NOTE: marginals were repaired ({b.repair['method']}); moved TV {_plain(b.repair['tv'])}")
    if b.paper is not None:
        lines.append("  paper variants (released code, flagged): " + ", ".join(
            f"{k}={v:.6f}" for k, v in b.paper.items() if isinstance(v, float)))
    return "\n".join(lines)


def synergy_html(b: SynergyBounds) -> str:
    rows = [
        ("R (redundancy, exact)", b.R),
        ("U1 (unique to " + b.names[0] + ", exact)", b.U1),
        ("U2 (unique to " + b.names[1] + ", exact)", b.U2),
        ("S lower bound, redundancy (Thm 1)", b.S_lower_redundancy),
        ("S lower bound, disagreement (Thm 2)", b.S_lower_disagreement),
        (f"S upper bound (eq. 50, {upper_source(b)})", b.S_upper),
        ("Bayes accuracy, lower", b.accuracy_lower),
        ("Bayes accuracy, upper", b.accuracy_upper),
    ]
    body = "".join(f"<tr><td>{e(k)}</td><td>{v:.6f}</td></tr>" for k, v in rows)
    return (
        f"<div class='pidlab-bounds'><b>synergy bounds</b> for target {e(b.names[2])} (bits)"
        f"<table>{body}</table>" + notes_html(b.notes) + "</div>"
    )


def _plain(v: Any) -> Any:
    """A frozen mapping shown as the dict it was (``{'p_x1y': 0.5, ...}``, not ``FrozenMap({...})``)."""
    from pidlab._results import thaw

    return thaw(v) if isinstance(v, Mapping) else v


# ---------------------------------------------------------------------------------------- BootstrapResult
def bootstrap_summary(bs: BootstrapResult) -> str:
    lo, hi = bs.S_band
    return (
        f"bootstrap ({bs.n_used}/{bs.n_bootstrap} replicates, {bs.confidence:.0%}, percentile and bias-corrected): "
        f"S band [{lo:.4f}, {hi:.4f}] bits (an assumption-laden band under the plug-in model, not a guarantee)"
    )


def bootstrap_text(bs: BootstrapResult) -> str:
    def c(k: str) -> str:
        return f"{bs.corrected[k]:.4f}" if k in bs.corrected else "—"

    rows = [(k, f"{v[0]:.4f}", f"{v[1]:.4f}", c(k), "flag" if k in bs.flags else "")
            for k, v in bs.intervals.items()]
    return (bootstrap_summary(bs) + "\n"
            + text_table(("quantity", "lower", "upper", "bias-corrected", ""), rows,
                         footer=[f"note: {n}" for n in bs.notes]))


def bootstrap_html(bs: BootstrapResult) -> str:
    rows = "".join(
        f"<tr><td>{e(k)}</td><td>{v[0]:.4f}</td><td>{v[1]:.4f}</td></tr>" for k, v in bs.intervals.items()
    )
    return (
        f"<div class='pidlab-bootstrap'>{e(bootstrap_summary(bs))}<table><tr><th>quantity</th><th>lower</th>"
        f"<th>upper</th></tr>{rows}</table></div>"
    )



# ---------------------------------------------------------------------------------------- EstimateResult
def estimate_text(r: EstimateResult, **kwargs: Any) -> str:
    """:meth:`EstimateResult.report` (``kwargs`` go to :meth:`EstimateResult.guidelines`)."""
    b = r.bounds
    g = r.guidelines(**kwargs)
    a, c, t = b.names
    bs = r.bootstrap
    ns = r.n_samples

    def named(name: str, sym: str) -> str:
        return name if name == sym else f"{name} ({sym})"

    lines = [
        f"pidlab: how {named(a, 'X1')} and {named(c, 'X2')} inform the target {named(t, 'Y')}, "
        f"{len(r.classes)} classes; information in bits",
        f"  data: {ns['labelled_1']} labelled {a} (X1 with Y), {ns['labelled_2']} labelled {c} (X2 with Y), "
        f"{ns['pairs']} unlabelled pairs (X1, X2 without Y)",
    ]
    d1, d2 = r.discretizers
    lines.append(f"  symbols: both modalities discretised by {d1}" if d1 == d2
                 else f"  symbols: {a} discretised by {d1}; {c} by {d2}")
    cr = r.consistency_raw
    worst = max(float(cr.get(k, 0.0)) for k in ("tv_y", "tv_x1", "tv_x2"))
    lines.append(
        f"  the three data sets disagree, as independent samples do: their distributions of Y, X1 and X2 differ "
        f"by up to {worst:.3f} in total variation (TV: half the summed absolute difference; 0 = identical)"
    )
    if r.repair is not None:
        how = {"ml": "maximum likelihood: the one joint table that best explains all three data sets",
               "tv": "least total variation: the nearest tables that one joint can have"}.get(r.reconcile, "")
        moved = max(float(v) for v in r.repair["tv"].values())
        lines.append(f"  reconciled by {r.reconcile!r} ({how}); the tables moved by at most {moved:.3f} in TV")

    def lower(v: float) -> str:
        return f"{v:.4f}" if v >= 0 else f"no information (the bound is {v:.4f}, below zero)"

    lines += [
        f"  Information about {t}: H(Y) = {b.H_y:.4f}; both modalities together carry I(X1,X2;Y) in "
        f"[{b.I_lower:.4f}, {b.I_upper:.4f}], split into four parts (partial information decomposition, BROJA):",
        f"    R  = {b.R:.4f}  redundancy: information each modality carries alone (the same bits in both)",
        f"    U1 = {b.U1:.4f}  unique to {a}",
        f"    U2 = {b.U2:.4f}  unique to {c}",
        f"    S in [{b.S_lower:.4f}, {b.S_upper:.4f}]  synergy: information only the two together carry; without "
        "labelled pairs it is bounded, not known (Liang et al., ICLR 2024):",
        f"      lower bound from redundancy (their Theorem 1):              {lower(b.S_lower_redundancy)}",
        f"      lower bound from classifier disagreement (Theorem 2):       {lower(b.S_lower_disagreement)}"
        f" (disagreement alpha = {b.alpha:.4f})",
        f"      upper bound from min-entropy couplings (their eq. 50):      {b.S_upper:.4f}",
        f"  Best achievable accuracy predicting {t} (Bayes accuracy: that of the best possible classifier; "
        "Theorem 5 for both together):",
        f"    from both together in [{b.accuracy_lower:.3f}, {b.accuracy_upper:.3f}];   from {a} alone "
        f"{r.unimodal_accuracy[0]:.3f};   from {c} alone {r.unimodal_accuracy[1]:.3f}",
    ]
    if bs is not None:
        iv = bs.intervals

        def rng(k: str, f: str = ".4f") -> str:
            return f"[{iv[k][0]:{f}}, {iv[k][1]:{f}}]"

        lines += [
            f"  Sampling error: {bs.confidence:.0%} bootstrap intervals from {bs.n_used} resamples of each data set "
            "(discretizers fitted once; an approximation, not a guarantee):",
            f"    R {rng('R')}   U1 {rng('U1')}   U2 {rng('U2')}",
            f"    band for S: [{bs.S_band[0]:.4f}, {bs.S_band[1]:.4f}] (low end of the lower bound, high end of "
            "the upper bound)",
            f"    accuracy from both {iv['accuracy_lower'][0]:.3f} to {iv['accuracy_upper'][1]:.3f};   {a} alone "
            f"{rng('accuracy_x1', '.3f')};   {c} alone {rng('accuracy_x2', '.3f')}",
        ]
    lines += [
        f"  Advice, resting on {g['basis']}:",
        f"    Collect labelled multimodal data? {g['collect_multimodal']['verdict']}: "
        f"{g['collect_multimodal']['reason']}",
        f"    Fusion model built for synergy?   {g['synergy_model']['verdict']}: {g['synergy_model']['reason']}",
    ]
    if bs is None:
        lines.append("  Caveat: the numbers describe the discretised variables and treat the estimated tables as "
                     "exact (n_bootstrap > 0 adds a bootstrap band for sampling error).")
    else:
        lines.append("  Caveat: the numbers describe the discretised variables; plug-in estimates from few samples "
                     "are biased, which the bootstrap intervals correct only to first order (each is the hull of "
                     "the percentile and the bias-corrected interval).")
    lines += [f"  note: {n}" for n in r.notes if not n.startswith("the three empirical tables were reconciled")]
    return "\n".join(lines)


def estimate_html(r: EstimateResult) -> str:
    return f"<pre class='pidlab-estimate'>{e(r.report())}</pre>"


# ---------------------------------------------------------------------------------------- CouplingResult
#: Couplings of two marginals up to this many cells show their joint table.
COUPLING_SHOW_CELLS = 64


def _coupling_rows(r: CouplingResult) -> list[tuple[str, str]]:
    return [
        ("coupling entropy (upper bound on MEC)", f"{r.entropy:.6f}"),
        (f"certified lower bound ({r.lower_bound_source})", f"{r.lower_bound:.6f}"),
        ("gap", f"{r.gap:.6f}"),
    ]


def _coupling_head(r: CouplingResult) -> str:
    return f"{r.method} coupling of shape {r.shape}, {r.nnz} non-zero cells{' (certified optimal)' if r.exact else ''}"


def _coupling_small(r: CouplingResult) -> bool:
    return len(r.shape) == 2 and r.shape[0] * r.shape[1] <= COUPLING_SHOW_CELLS


def coupling_text(r: CouplingResult) -> str:
    rows = _coupling_rows(r) + [(f"lower bound: {k}", f"{v:.6f}") for k, v in r.lower_bounds.items()]
    out = [_coupling_head(r), text_table(("quantity", "bits"), rows)]
    if _coupling_small(r):
        m = r.to_dense()
        out.append("joint (rows: p in input order, columns: q in input order):")
        out.append(text_table(("", *(f"q{j}" for j in range(r.shape[1]))),
                              [(f"p{i}", *(f"{v:.4g}" for v in m[i])) for i in range(r.shape[0])]))
    out += [f"note: {n}" for n in r.notes]
    return "\n".join(out)


def coupling_html(r: CouplingResult) -> str:
    joint = ""
    if _coupling_small(r):
        m = r.to_dense()
        head = "".join(f"<th>q{j}</th>" for j in range(r.shape[1]))
        trs = "".join(
            f"<tr><th>p{i}</th>" + "".join(f"<td>{v:.4g}</td>" for v in m[i]) + "</tr>"
            for i in range(r.shape[0])
        )
        joint = f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{trs}</tbody></table>"
    return (
        f"<div class='pidlab-coupling'><b>{e(r.method)}</b> coupling of shape {e(str(r.shape))}, "
        f"{r.nnz} non-zero cells{' (certified optimal)' if r.exact else ''}"
        + html_table(("quantity", "bits"), _coupling_rows(r))
        + f"{joint}" + notes_html(r.notes) + "</div>"
    )


# ---------------------------------------------------------------------------------------- PairwiseMinEntropy
def _pairwise_kind(r: PairwiseMinEntropy) -> str:
    return "exact minimum" if r.exact else "heuristic (upper bound on the minimum)"


def pairwise_text(r: PairwiseMinEntropy) -> str:
    lo, hi = r.max_mutual_information
    rows = [
        ("min H(X1,X2,Y), lower bound", f"{r.lower_bound:.6f}", r.lower_bound_source),
        ("min H(X1,X2,Y), upper bound", f"{r.entropy:.6f}", _pairwise_kind(r)),
        ("gap", f"{r.gap:.6f}", ""),
        ("max I(X1,X2;Y)", f"[{lo:.6f}, {hi:.6f}]", "H(X1,X2) + H(Y) - min H(X1,X2,Y)"),
        *((f"lower bound: {k}", f"{v:.6f}", "") for k, v in r.lower_bounds.items()),
    ]
    return (f"min H(X1,X2,Y) under three pairwise marginals (bits): [{r.lower_bound:.6f}, {r.entropy:.6f}], "
            f"{_pairwise_kind(r)}; method {r.method}, marginal residual {r.marginal_residual:.1e}\n"
            + text_table(("quantity", "bits", "from"), rows, footer=[f"note: {n}" for n in r.notes]))


def pairwise_html(r: PairwiseMinEntropy) -> str:
    kind = _pairwise_kind(r)
    return (
        "<div class='pidlab-pairwise-min-entropy'><b>min H(X1,X2,Y)</b> under three pairwise marginals: "
        f"[{r.lower_bound:.6f}, {r.entropy:.6f}] bits ({e(kind)}; lower bound from {e(r.lower_bound_source)}; "
        f"method {e(r.method)})"
        + notes_html(r.notes)
        + "</div>"
    )


# ---------------------------------------------------------------------------------------- Marginals results
def consistency_summary(r: ConsistencyReport) -> str:
    """One-line description naming the largest disagreement."""
    if r.consistent:
        return (
            f"consistent: singleton marginals agree (largest TV {r.max_tv:.2e}) and a joint "
            f"distribution realises all three tables (L1 violation {r.violation_l1:.2e}, tol {r.tol:g})"
        )
    parts = []
    if not r.singletons_agree:
        parts.append(
            f"implied singleton marginals disagree (TV: p(y) {r.tv_y:.3g}, p(x1) {r.tv_x1:.3g}, "
            f"p(x2) {r.tv_x2:.3g})"
        )
    if not r.realisable:
        parts.append(
            f"no joint distribution has these three pairwise marginals (minimal total L1 change "
            f"needed {r.violation_l1:.3g})"
        )
    return "inconsistent marginals: " + "; ".join(parts)


def consistency_html(r: ConsistencyReport) -> str:
    rows = "".join(f"<tr><td>{e(k)}</td><td>{v}</td></tr>" for k, v in r.to_dict().items())
    return f"<div class='pidlab-consistency'><b>{e(consistency_summary(r))}</b><table>{rows}</table></div>"


def repair_summary(r: RepairResult) -> str:
    return (
        f"marginals repaired by method {r.method!r}: total variation moved "
        + ", ".join(f"{k} {v:.3g}" for k, v in r.tv.items())
        + "; KL(given||repaired) "
        + ", ".join(f"{k} {v:.3g}" for k, v in r.kl.items())
        + " bits"
    )


def _repair_rows(r: RepairResult) -> list[tuple[str, str, str]]:
    return [(k, f"{r.tv[k]:.6g}", f"{r.kl[k]:.6g}" if k in r.kl else "") for k in r.tv]


def repair_text(r: RepairResult) -> str:
    return (repair_summary(r) + "\n"
            + text_table(("table", "TV moved", "KL(given||repaired), bits"), _repair_rows(r),
                         footer=[f"before: {consistency_summary(r.before)}"]))


def repair_html(r: RepairResult) -> str:
    return (f"<div class='pidlab-repair'><b>marginals repaired</b> by method {e(repr(r.method))}"
            + html_table(("table", "TV moved", "KL(given||repaired), bits"), _repair_rows(r))
            + f"<p>before: {e(consistency_summary(r.before))}</p></div>")


def _maxent_rows(r: MaxEntResult) -> list[tuple[str, str]]:
    return [
        ("entropy H(r*)", f"{r.entropy:.12f}"),
        ("certified upper bound on max H", f"{r.entropy_upper:.12f}"),
        ("duality gap", f"{r.duality_gap:.2e}"),
        ("marginal residual", f"{r.residual:.2e}"),
        ("Newton iterations", str(r.iterations)),
        ("support size", str(int(r.support.sum()))),
    ]


def maxent_text(r: MaxEntResult) -> str:
    return ("maximum-entropy joint under three pairwise marginals (bits)\n"
            + text_table(("quantity", "value"), _maxent_rows(r)))


def maxent_html(r: MaxEntResult) -> str:
    return ("<div class='pidlab-maxent'><b>maximum-entropy joint</b> under three pairwise marginals (bits)"
            + html_table(("quantity", "value"), _maxent_rows(r)) + "</div>")


# ---------------------------------------------------------------------------------------- StudyResult
STUDY_QUANTITIES = ("R", "U1", "U2", "S", "net")


def study_summary_text(s: StudySummary) -> str:
    """Plain-text table: mean [q05, q95] of each atom per measure, and status counts."""
    head = f"{'measure':<16}{'n':>7}" + "".join(f"{a:>26}" for a in STUDY_QUANTITIES) + "  status"
    lines = [f"Comparative study, target {s.target}: mean [5%, 95%] of each quantity, {s.units}", head]
    for g, d in s.groups.items():
        cells = []
        for q in STUDY_QUANTITIES:
            st = d[q]
            cells.append(f"{'—':>26}" if not st else f"{st['mean']:>10.6f} [{st['q05']:.4f}, {st['q95']:.4f}]".rjust(26))
        status = ", ".join(f"{k}={v}" for k, v in d["status"].items())
        lines.append(f"{g:<16}{d['n']:>7}" + "".join(cells) + f"  {status}")
    lines.extend(f"note: {x}" for x in s.left_out())
    return "\n".join(lines)


def study_summary_html(s: StudySummary) -> str:
    rows = []
    for g, d in s.groups.items():
        cells = "".join(
            "<td>—</td>" if not d[q] else f"<td>{d[q]['mean']:.6f} [{d[q]['q05']:.4f}, {d[q]['q95']:.4f}]</td>"
            for q in STUDY_QUANTITIES
        )
        st = ", ".join(f"{e(str(k))}: {v}" for k, v in d["status"].items())
        rows.append(f"<tr><td>{e(g)}</td><td>{d['n']}</td>{cells}<td>{st}</td></tr>")
    heads = "".join(f"<th>{q}</th>" for q in STUDY_QUANTITIES)
    return (f"<div class='pidlab-study-summary'><b>Study summary</b>, target {e(s.target)}, "
            f"mean [5%, 95%] in {s.units}<table><tr><th>measure</th><th>n</th>{heads}<th>status</th></tr>"
            + "".join(rows) + "</table>" + "".join(f"<p>note: {e(x)}</p>" for x in s.left_out()) + "</div>")


def study_text(r: StudyResult) -> str:
    return (f"StudyResult: {r.n_items} distributions x {len(r.spec.get('measures', []))} measures = "
            f"{len(r)} rows (family {r.spec.get('family', {}).get('family')}), target {r.target}, bits; "
            f"executor {r.executor}, {r.n_chunks} chunk(s), {r.elapsed:.3g} s\n" + study_summary_text(r.summary())
            + "".join(f"\nnote: {n}" for n in r.notes))


def study_html(r: StudyResult) -> str:
    return (f"<div class='pidlab-study'><p><b>Comparative study</b>: {r.n_items} distributions "
            f"(family {e(str(r.spec.get('family', {}).get('family')))}) x measures "
            f"{e(', '.join(r.spec.get('measures', [])))}: {len(r)} rows; executor {e(r.executor)}, "
            f"{r.n_chunks} chunk(s), {r.elapsed:.3g} s</p>"
            + study_summary_html(r.summary()) + notes_html(r.notes) + "</div>")


# ---------------------------------------------------------------------------------------- RTT (pidlab.hardness.rtt)
def _rtt_instance_head(inst: RTTInstance) -> str:
    return (f"{inst.n_teachers} teachers, {inst.n_classes} classes, {inst.n_lessons} lessons, "
            f"forced hour counts {inst.forced_hours}, N = {inst.n_atoms}")


def rtt_instance_text(inst: RTTInstance) -> str:
    rows = [(f"t{i}", str(sorted(T)), *(str(v) for v in row))
            for i, (T, row) in enumerate(zip(inst.availability, inst.requirements.tolist()))]
    return (f"RTT instance: {_rtt_instance_head(inst)}\n"
            + text_table(("teacher", "T_i", *(f"c{j}" for j in range(inst.n_classes))), rows))


def rtt_instance_html(inst: RTTInstance) -> str:
    head = "".join(f"<th>c{j}</th>" for j in range(inst.n_classes))
    rows = "".join(
        f"<tr><th>t{i}</th><td>{sorted(T)}</td>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
        for i, (T, row) in enumerate(zip(inst.availability, inst.requirements.tolist()))
    )
    return (
        f"<p><b>RTT instance</b>: {_rtt_instance_head(inst)}</p>"
        f"<table><tr><th>teacher</th><th>T_i</th>{head}</tr>{rows}</table>"
    )


def _exact_tables(m: ExactMarginals) -> list[tuple[str, Any, Sequence[Any], Sequence[Any]]]:
    return [
        ("p(x1, y)", m.p_x1y, m.x1_labels, m.y_labels),
        ("p(x2, y)", m.p_x2y, m.x2_labels, m.y_labels),
        ("p(x1, x2)", m.p_x1x2, m.x1_labels, m.x2_labels),
    ]


def _exact_head(m: ExactMarginals) -> str:
    return f"exact, N = {m.N}, hours = {m.hours}, consistent = {m.is_consistent}"


def exact_marginals_text(m: ExactMarginals) -> str:
    out = [f"RTT marginals, {_exact_head(m)}"]
    for title, t, rows, cols in _exact_tables(m):
        out.append(title)
        out.append(text_table(("", *(str(c) for c in cols)),
                              [(str(r), *(str(v) for v in row)) for r, row in zip(rows, t.tolist())]))
    return "\n".join(out)


def exact_marginals_html(m: ExactMarginals) -> str:
    def table(t: Any, rows: Sequence[Any], cols: Sequence[Any], title: str) -> str:
        head = "".join(f"<th>{e(str(c))}</th>" for c in cols)
        body = "".join(
            f"<tr><th>{e(str(r))}</th>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
            for r, row in zip(rows, t.tolist())
        )
        return f"<p>{title}</p><table><tr><th></th>{head}</tr>{body}</table>"

    return f"<p><b>RTT marginals</b>, {_exact_head(m)}</p>" + "".join(
        table(t, rows, cols, title) for title, t, rows, cols in _exact_tables(m))


def verification_text(v: Verification) -> str:
    rows = [(name, "passed" if ok else "FAILED") for name, ok in v.checks.items()]
    return (f"RTT verification: {'ok' if v.ok else 'FAILED'} (hour counts {tuple(v.hour_counts)})\n"
            + text_table(("condition", "result"), rows, footer=[f"  {line}" for line in v.violations]))


def verification_html(v: Verification) -> str:
    return f"<p><b>RTT verification</b>: {'ok' if v.ok else 'FAILED'}</p>" + notes_html(v.violations)


def _cook_head(r: CookReductionResult) -> str:
    verdict = f"solvable with hour counts {r.hours}" if r.solvable else "unsolvable"
    return (f"{verdict}; {r.splits_tried} of {r.splits_total} splits tried (oracle {r.oracle!r})")


def cook_text(r: CookReductionResult) -> str:
    lines = [f"Cook reduction RTT -> (n1,n2,n3)-RTT: {_cook_head(r)}"]
    lines += [f"  teacher {i} teaches class {j} at hour {h}" for i, j, h in sorted(r.schedule or ())]
    return "\n".join(lines)


def cook_html(r: CookReductionResult) -> str:
    rows = [(str(i), str(j), str(h)) for i, j, h in sorted(r.schedule or ())]
    return (f"<div class='pidlab-rtt-cook'><p><b>Cook reduction</b> RTT → (n1,n2,n3)-RTT: {e(_cook_head(r))}</p>"
            + (html_table(("teacher", "class", "hour"), rows) if rows else "") + "</div>")


# ---------------------------------------------------------------------------------------- samples (inference)
def inference_rows(r: SampleDecomposition) -> list[tuple[str, ...]]:
    """Per atom: plug-in, corrected, interval, p-value, reliability."""
    rows: list[tuple[str, ...]] = []
    for a in r.atoms:
        iv = r.interval[a]
        pv = r.p_value[a]
        rows.append((
            ATOM_NAMES.get(a, a),
            fmt_bits(r.plugin[a], 4),
            fmt_bits(r.corrected[a], 4),
            "—" if iv is None else f"[{iv[0]:.4f}, {iv[1]:.4f}]",
            "—" if pv is None else f"{pv:.3g}",
            "yes" if r.reliable(a) else "no (see flags)",
        ))
    return rows


def _inference_head(r: SampleDecomposition) -> str:
    return (f"{r.measure} from {r.n_samples} samples: I({r.sources[0]},{r.sources[1]}; {r.target}) = "
            f"{r.point.I_x1x2y:.4f} bits (plug-in), table {'x'.join(map(str, r.shape))}")


def _inference_header(r: SampleDecomposition) -> tuple[str, ...]:
    return ("atom", "plug-in", "corrected", f"{r.ci:.0%} interval", f"p (atom=0, {r.permutations} surr.)",
            "reliable")


def inference_text(r: SampleDecomposition) -> str:
    flags = [f"{a}: {f}" for a in r.atoms for f in r.flags[a]]
    return _inference_head(r) + "\n" + text_table(_inference_header(r), inference_rows(r),
                                                   footer=[*flags, *r.notes])


def inference_html(r: SampleDecomposition) -> str:
    flags = [f"{a}: {f}" for a in r.atoms for f in r.flags[a]]
    return (f"<div class='pidlab-result'><p>{e(_inference_head(r))}</p>"
            + html_table(_inference_header(r), inference_rows(r)) + notes_html([*flags, *r.notes]) + "</div>")
