"""Every result class follows the one result interface of :class:`pidlab._results.Result`.

One instance of each: ``hash()`` works, ``to_json()`` is strict JSON (no NaN) equal to
``jsonable(to_dict())``, ``str(x) == x.table()``, and ``_repr_html_()`` is HTML.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import pidlab
from pidlab._render import jsonable
from pidlab._results import FrozenMap, Result

XOR_COPY = np.eye(2)[::-1] / 2  # with two identities: consistent singletons, no joint


def _all_subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _all_subclasses(sub)
    return out


@pytest.fixture(scope="module")
def instances() -> dict[str, Result]:
    from pidlab.hardness import rtt
    from pidlab.study import dirichlet, run_study

    and_gate = pidlab.examples.get("and")
    m = pidlab.Marginals.from_joint(and_gate)
    bad = pidlab.Marginals(np.eye(2) / 2, np.eye(2) / 2, XOR_COPY)
    pid = pidlab.decompose(and_gate)
    rng = np.random.default_rng(0)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, n)
        return y + 0.3 * rng.normal(size=n), y + 0.3 * rng.normal(size=n), y

    a1, _, ya = draw(200)
    _, b2, yb = draw(200)
    p1, p2, _ = draw(200)
    est = pidlab.estimate(a1, ya, b2, yb, p1, p2, discretizer="quantile", discretizer_params={"n_bins": 3},
                          n_bootstrap=4)
    p = np.asarray(and_gate.p)
    study = run_study(dirichlet((2, 2, 2), n=6, seed=0), ["broja", "imin", "wms"])
    inst = rtt.RTTInstance([{1, 2}, {3}], [[1, 1], [0, 1]])
    assert est.bootstrap is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paper = pidlab.synergy_bounds(bad, repair=True, variant="paper")
    return {
        "PIDResult": pid,
        "Comparison": pidlab.compare(and_gate),
        "BatchResult": pidlab.decompose_many([and_gate.p, pidlab.examples.get("xor").p]),
        "SynergyBoundsMany": pidlab.bounds.synergy_bounds_many(np.stack([and_gate.p, pidlab.examples.get("xor").p])),
        "Certificate": pid.certificate,
        "SynergyBounds": paper,
        "EstimateResult": est,
        "BootstrapResult": est.bootstrap,
        "CouplingResult": pidlab.couple([0.5, 0.3, 0.2], [0.6, 0.4]),
        "PairwiseMinEntropy": pidlab.min_joint_entropy(p.sum(1), p.sum(0), p.sum(2)),
        "ConsistencyReport": bad.consistency(),
        "RepairResult": bad.repair(method="kl"),
        "MaxEntResult": m.max_entropy_joint(),
        "StudyResult": study,
        "StudySummary": study.summary(),
        "RTTInstance": inst,
        "ExactMarginals": rtt.reduce(inst, exact=True),
        "Verification": rtt.verify(inst, {(0, 0, 1), (0, 1, 3), (1, 1, 3)}),
        "CookReductionResult": rtt.cook_reduction(inst),
        "PropertiesResult": pidlab.check_properties("imin", n_random=1),
        "SampleDecomposition": pidlab.decompose_samples(ya, (ya + yb) % 2, yb, n_boot=20, permutations=9, seed=0),
    }


def test_every_result_class_is_covered(instances: dict[str, Result]) -> None:
    import pidlab.bounds._estimate  # noqa: F401 - lazily imported classes
    import pidlab.hardness.rtt  # noqa: F401
    import pidlab.study  # noqa: F401

    classes = {c for c in _all_subclasses(Result) if c.__module__.startswith("pidlab")}
    assert {c.__name__ for c in classes} == set(instances)
    for name, x in instances.items():
        assert type(x).__name__ == name


@pytest.mark.parametrize(
    "name",
    ["PIDResult", "Comparison", "BatchResult", "Certificate", "SynergyBounds", "EstimateResult", "BootstrapResult",
     "CouplingResult", "PairwiseMinEntropy", "ConsistencyReport", "RepairResult", "MaxEntResult", "StudyResult",
     "StudySummary", "RTTInstance", "ExactMarginals", "Verification", "CookReductionResult", "SampleDecomposition",
     "PropertiesResult", "SynergyBoundsMany"],
)
def test_result_interface(instances: dict[str, Result], name: str) -> None:
    x = instances[name]
    assert isinstance(x, Result)
    assert isinstance(hash(x), int)
    text = x.to_json()

    def no_constant(c: str) -> None:
        raise AssertionError(f"{name}.to_json() holds {c}")

    assert json.loads(text, parse_constant=no_constant) == jsonable(x.to_dict())
    table = x.table()
    assert isinstance(table, str) and table and str(x) == table
    page = x._repr_html_()
    assert isinstance(page, str) and page.startswith("<")


def test_frozen_mappings_are_read_only_and_dicts_plain(instances: dict[str, Result]) -> None:
    b = instances["SynergyBounds"]
    for attr in ("upper_terms", "broja", "maxent", "repair", "assumptions", "paper"):
        value = getattr(b, attr)
        assert isinstance(value, FrozenMap), attr
        with pytest.raises(TypeError):
            value["x"] = 1  # type: ignore[index]
    d = b.to_dict()
    assert type(d["upper_terms"]) is dict and type(d["paper"]["flags"]) is list
    assert type(d["repair"]["tv"]) is dict and type(d["assumptions"]["R"]) is list
    assert isinstance(instances["CouplingResult"].info, FrozenMap)
    assert isinstance(instances["BootstrapResult"].intervals, FrozenMap)
    assert isinstance(instances["StudyResult"].spec, FrozenMap)
    assert type(instances["StudyResult"].to_dict()["spec"]) is dict


def test_same_names_for_the_same_ideas(instances: dict[str, Result]) -> None:
    b = instances["SynergyBounds"]
    assert b.sources == b.names[:2] and b.target == b.names[2]
    est = instances["EstimateResult"]
    assert est.sources == ("X1", "X2") and est.target == "Y"
    assert isinstance(b.status, pidlab.Status) and isinstance(est.status, pidlab.Status)
    for name in ("SynergyBounds", "EstimateResult", "BootstrapResult", "CouplingResult", "PairwiseMinEntropy",
                 "RepairResult", "MaxEntResult", "StudyResult", "StudySummary", "Certificate"):
        assert instances[name].to_dict()["units"] == "bits", name


def test_I_x1_x2_renamed_with_a_deprecated_alias(instances: dict[str, Result]) -> None:
    b = instances["SynergyBounds"]
    with pytest.warns(DeprecationWarning, match="I_x1_x2"):
        old = b.I_x1x2  # type: ignore[attr-defined]
    assert old == b.I_x1_x2
    d = b.to_dict()
    assert d["I_x1x2"] == d["I_x1_x2"] == b.I_x1_x2


def test_cli_uses_the_one_converter() -> None:
    from pidlab.cli._common import to_jsonable

    assert to_jsonable is jsonable
    assert jsonable({"a": (np.float64(np.inf), np.nan, np.int64(2))}) == {"a": ["inf", None, 2]}
