"""The host checks what plugins return (part of issue 13): couplings, discretizers, name clashes
at load time, and the conformance kit's checks of measures. Every fake plugin here is registered
through the pluggy hooks exactly as an installed one would be."""

from __future__ import annotations

import math
import types
import warnings

import numpy as np
import pytest

import pidlab
from pidlab import hookimpl, testing
from pidlab._couplings._result import CouplingResult
from pidlab._plugins import get_plugin_manager, plugin_manager
from pidlab.exceptions import PluginLoadWarning, PluginOutputError, ProblemTooLargeError
from tests.reference_gates import GATES


def _plugin(**hooks) -> types.SimpleNamespace:
    ns = types.SimpleNamespace()
    for hook, classes in hooks.items():
        setattr(ns, f"pidlab_register_{hook}", hookimpl(lambda classes=classes: classes))
    return ns


@pytest.fixture
def registered():
    """Register plugins for one test; unregister them afterwards."""
    names: list[str] = []

    def add(name: str, **hooks) -> None:
        pidlab.register_plugin(_plugin(**hooks), name=name)
        names.append(name)

    yield add
    for n in names:
        if plugin_manager().has_plugin(n):
            plugin_manager().unregister(name=n)


def _h(v) -> float:
    v = np.asarray(v, float)
    v = v[v > 0]
    return float(-(v * np.log2(v)).sum())


# ----------------------------------------------------------------------------- couplings
P, Q = [0.6, 0.4], [0.4, 0.3, 0.3]


class WrongMarginals(pidlab.Coupling):
    """Cells (0,0)=0.6, (1,0)=0.2, (1,1)=0.2: p is met, q only to 0.4 (q0 gets 0.8 instead of 0.4)."""

    name = "wrong-marginals"

    def couple_sorted(self, p, q):
        return [np.array([0, 1, 1]), np.array([0, 0, 1])], np.array([0.6, 0.2, 0.2])


def test_coupling_with_wrong_marginals_is_refused(registered) -> None:
    # The cells' entropy, 1.371 bits, is below the true minimum-entropy coupling of p and q:
    # H(meet) = H(0.4, 0.3, 0.3) = 1.571 bits (partial sums min(0.6, 0.4), min(1, 0.7), 1), attained.
    true_min = -(0.4 * math.log2(0.4) + 2 * 0.3 * math.log2(0.3))
    assert _h([0.6, 0.2, 0.2]) < true_min - 0.19
    assert pidlab.couple(P, Q, method="exact").entropy == pytest.approx(true_min, abs=1e-12)
    registered("acme-couplings", couplings=[WrongMarginals])
    with pytest.raises(PluginOutputError, match=r"coupling 'wrong-marginals' returned a coupling whose marginal 2 is off by 0\.4"):
        pidlab.couple(P, Q, method="wrong-marginals")


def _result(name, indices, values, shape, entropy=None, lb=0.0, **kw) -> CouplingResult:
    values = np.asarray(values, float)
    return CouplingResult(name, tuple(np.asarray(i) for i in indices), values, shape,
                          _h(values) if entropy is None else entropy, lb, "claimed", {"claimed": lb}, **kw)


def _duck(name: str, make):
    """A coupling plugin that does not subclass pidlab.Coupling: couple() returns make(p, q)."""
    return type(name.title().replace("-", ""), (), {"name": name, "couple": lambda self, p, q, **o: make(p, q)})


PRODUCT = ([np.repeat(np.arange(2), 3), np.tile(np.arange(3), 2)], np.outer(P, Q).ravel(), (2, 3))


@pytest.mark.parametrize(
    "make, match",
    [
        # correct cells (the product coupling, 2.542 bits) but a "certified" lower bound of 3 bits above it
        (lambda p, q: _result("x", *PRODUCT, lb=3.0), r"lower_bound of 3 bits above its own coupling's entropy 2\.54"),
        (lambda p, q: _result("x", *PRODUCT, lb=float("nan")), "non-finite lower_bound"),
        (lambda p, q: _result("x", *PRODUCT, entropy=1.0), r"entropy 1\.0 bits, but its cells have entropy 2\.54"),
        (lambda p, q: _result("x", *PRODUCT, lb=2.0, exact=True), "exact=True with a lower bound"),
        (lambda p, q: _result("x", PRODUCT[0], np.where(np.arange(6) == 0, np.nan, PRODUCT[1]), (2, 3)), "NaN or infinite"),
        (lambda p, q: _result("x", [[0, 0, 1, 1], [0, 0, 1, 2]], [0.4, 0.2, 0.1, 0.3], (2, 3)), "a cell stored twice"),
        (lambda p, q: _result("x", [[0, 1, 1, 1], [0, 0, 1, 2]], [0.6, -0.2, 0.3, 0.3], (2, 3)), "negative cell value"),
        (lambda p, q: _result("x", [[0, 1], [0, 5]], [0.6, 0.4], (2, 3)), r"entries outside 0\.\.2"),
        (lambda p, q: _result("x", [[0], [0]], [1.0], (1, 1)), r"shape \(1, 1\) for marginals of lengths \(2, 3\)"),
        (lambda p, q: _result("x", [np.array([0, 1, 1]), np.array([0, 1, 2])], [0.3, 0.15, 0.15], (2, 3)),
         "marginal 1 is off by 0.3"),
        (lambda p, q: {"entropy": 1.571}, "returned a dict, not a pidlab.CouplingResult"),
        (lambda p, q: 1 / 0, "coupling 'duck' failed: ZeroDivisionError"),
    ],
)
def test_coupling_outputs_the_host_refuses(registered, make, match) -> None:
    registered("duck-couplings", couplings=[_duck("duck", make)])
    with pytest.raises(PluginOutputError, match=match) as ei:
        pidlab.couple(P, Q, method="duck")
    assert "'duck'" in str(ei.value)


def test_a_correct_third_party_coupling_passes_the_host(registered) -> None:
    registered("duck-couplings", couplings=[_duck("duck", lambda p, q: _result("duck", *PRODUCT, lb=1.5))])
    r = pidlab.couple(P, Q, method="duck")
    assert r.entropy == pytest.approx(_h(np.outer(P, Q)), abs=1e-12) and r.lower_bound == 1.5


def test_builtin_couplings_pass_the_host_check_on_awkward_inputs() -> None:
    rng = np.random.default_rng(0)
    for k in range(20):
        p = rng.dirichlet(np.ones(6))
        q = rng.dirichlet(np.ones(4))
        p[rng.random(6) < 0.3] = 0
        p /= p.sum()
        for m in ("greedy", "lattice"):
            pidlab.couple(p, q, method=m)
        if k < 5:
            pidlab.couple(p[:3] / p[:3].sum() if p[:3].sum() > 0 else [1.0], q, method="exact")
    # totals that differ within tol: the coupling can only meet both to that spread
    pidlab.couple([0.5, 0.5 + 4e-10], [1.0], method="greedy", tol=1e-9)
    big = rng.dirichlet(np.ones(3000))
    pidlab.couple(big, rng.dirichlet(np.ones(2000)), method="greedy", profile=False)


# ----------------------------------------------------------------------------- name clashes
class _EP:
    def __init__(self, name: str, obj: object) -> None:
        self.name, self.value, self._obj = name, f"{name}_pkg:plugin", obj

    def load(self) -> object:
        return self._obj


def _measure(name: str, aliases: tuple[str, ...] = ()) -> type:
    return type(name.title().replace("-", ""), (pidlab.Measure,), {
        "name": name, "aliases": aliases,
        "compute": lambda self, dist, *, solver=None: pidlab.PIDResult.from_redundancy(dist, name, 0.0),
    })


def _load(monkeypatch, eps) -> tuple[object, list[str]]:
    import pidlab._plugins as plug

    monkeypatch.setattr(plug, "entry_points", lambda group: eps)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        pm = plug.get_plugin_manager(autoload=True)
    return pm, [str(w.message) for w in rec if issubclass(w.category, PluginLoadWarning)]


@pytest.mark.parametrize("order", [1, -1])
def test_a_claimed_alias_is_refused_for_both_plugins_whatever_the_order(monkeypatch, order) -> None:
    import pidlab_mmi

    squatter = _plugin(measures=[_measure("squat", aliases=("barrett",))])
    bystander = _plugin(measures=[_measure("bystander")])
    eps = [_EP("aaa-squatter", squatter), _EP("mmi", pidlab_mmi), _EP("bystander", bystander)][::order]
    pm, msgs = _load(monkeypatch, eps)
    assert "mmi" not in pm.entries["measure"] and "squat" not in pm.entries["measure"]
    assert "barrett" not in pm.aliases["measure"]
    assert not pm.has_plugin("mmi") and not pm.has_plugin("aaa-squatter")
    assert "bystander" in pm.entries["measure"]  # an innocent plugin of the same batch loads
    assert set(pm.failed) == {"mmi", "aaa-squatter"}
    for me, other in (("mmi", "aaa-squatter"), ("aaa-squatter", "mmi")):
        (msg,) = [m for m in msgs if m.startswith(f"pidlab plugin {me!r}")]
        assert f"measure alias 'barrett' is also claimed by plugin {other!r}" in msg
        assert "refused for both" in msg


def test_a_claimed_name_is_refused_for_both_plugins_of_any_kind(monkeypatch) -> None:
    def coupling(name):
        return type("C", (pidlab.Coupling,), {"name": name, "couple_sorted": lambda self, p, q: ([[0], [0]], [1.0])})

    def discretizer(name):
        return type("D", (), {"name": name, "fit": lambda self, X, y=None: self, "transform": lambda self, X: X})

    eps = [_EP("one", _plugin(couplings=[coupling("shared")], discretizers=[discretizer("mine")])),
           _EP("two", _plugin(couplings=[coupling("other")], discretizers=[discretizer("mine")])),
           _EP("three", _plugin(couplings=[coupling("shared")]))]
    pm, msgs = _load(monkeypatch, eps)
    assert set(pm.failed) == {"one", "two", "three"}
    assert not {"shared", "other"} & set(pm.entries["coupling"]) and "mine" not in pm.entries["discretizer"]
    one = next(m for m in msgs if m.startswith("pidlab plugin 'one'"))
    assert "coupling name 'shared' is also claimed by plugin 'three'" in one
    assert "discretizer name 'mine' is also claimed by plugin 'two'" in one


def test_a_plugin_claiming_a_builtin_alias_is_refused_alone(monkeypatch) -> None:
    pm, msgs = _load(monkeypatch, [_EP("thief", _plugin(measures=[_measure("fresh", aliases=("williams-beer",))]))])
    assert pm.failed.keys() == {"thief"} and pm.aliases["measure"]["williams-beer"] == "imin"
    assert "already registered by plugin 'pidlab._measures'" in msgs[0]


def test_runtime_registration_of_a_taken_alias_names_both_plugins() -> None:
    pm = get_plugin_manager(autoload=True)
    assert pm.aliases["measure"].get("barrett") == "mmi"
    with pytest.raises(pidlab.PluginValidationError, match=r"plugin 'late'.*'barrett' is already registered by plugin 'mmi'"):
        pm.register(_plugin(measures=[_measure("late", aliases=("barrett",))]), name="late")
    assert pm.aliases["measure"]["barrett"] == "mmi"


# ----------------------------------------------------------------------------- conformance kit
class ConstantR(pidlab.Measure):
    """R = -0.3 everywhere, the other atoms from the identities (so those hold)."""

    name = "constant-r"

    def compute(self, dist, *, solver=None):
        return pidlab.PIDResult.from_redundancy(dist, self.name, -0.3)


def test_kit_catches_a_constant_redundancy() -> None:
    with pytest.raises(AssertionError, match=r"self-redundancy R\(X1, X1 -> Y\) = I\(X1;Y\).*-0\.3 !="):
        testing.check_measure(ConstantR)


def test_kit_catches_non_finite_values_on_degenerate_tables() -> None:
    class Ratio(pidlab.Measure):
        """min(I1, I2) scaled by I12 / I12: NaN when the target is constant."""

        name = "ratio"

        def compute(self, dist, *, solver=None):
            i12 = dist.mutual_information((0, 1), 2)
            with np.errstate(invalid="ignore", divide="ignore"):
                r = float(np.float64(min(dist.mutual_information(0, 2), dist.mutual_information(1, 2))) * i12 / np.float64(i12))
            return pidlab.PIDResult.from_redundancy(dist, self.name, r)

    with pytest.raises(AssertionError, match="must be a finite number, got nan"):
        testing.check_measure(Ratio)


def test_kit_catches_a_net_measure_breaking_its_identity() -> None:
    class Backwards(pidlab.Measure):
        """Claims to be a net synergy but returns the co-information (R - S)."""

        name = "backwards"
        kind = "net"

        def compute(self, dist, *, solver=None):
            return pidlab.PIDResult.from_net(dist, self.name, dist.coinformation(), "net synergy")

    with pytest.raises(AssertionError, match=r"net synergy S - R = I\(X1,X2;Y\) - I\(X1;Y\) - I\(X2;Y\)"):
        testing.check_measure(Backwards)


def test_kit_catches_wrong_informations_on_the_result() -> None:
    class Liar(pidlab.Measure):
        name = "liar"

        def compute(self, dist, *, solver=None):
            import dataclasses

            r = pidlab.PIDResult.from_redundancy(dist, self.name, 0.0)
            return dataclasses.replace(r, I_x1x2y=r.I_x1x2y + 0.5)

    with pytest.raises(AssertionError, match="I_x1x2y"):
        testing.check_measure(Liar)


def test_kit_checks_published_gate_values() -> None:
    import pidlab_mmi

    testing.check_measure(pidlab_mmi.MMI)  # found in the table under its name, and correct
    with pytest.raises(AssertionError, match=r"R of gate COPY against its published value"):
        testing.check_measure(pidlab_mmi.MMI, gate_values=testing.GATE_VALUES["broja"])  # MMI is not BROJA on COPY
    with pytest.raises(AssertionError, match="unknown gate"):
        testing.check_measure(pidlab_mmi.MMI, gate_values={"nand": (0, 0, 0, 1)})


def test_kit_gate_values_agree_with_the_independent_reference_table() -> None:
    """pidlab.testing's table and gates against tests/reference_gates.py (built separately)."""
    ref = {g["name"].lower(): g for g in GATES}
    gates = testing.gate_distributions()
    for g, d in gates.items():
        np.testing.assert_allclose(d.p, np.asarray(ref[g]["p"]), atol=1e-15)
        for m in ("broja", "imin"):
            assert testing.GATE_VALUES[m][g] == pytest.approx(tuple(ref[g][m][a] for a in ("R", "U1", "U2", "S")), abs=1e-12)
        assert testing.GATE_VALUES["wms"][g] == pytest.approx(ref[g]["wms"], abs=1e-12)
        assert testing.GATE_VALUES["ci"][g] == pytest.approx(ref[g]["ci"], abs=1e-12)
        i1, i2 = ref[g]["I_X1_Y"], ref[g]["I_X2_Y"]
        R = min(i1, i2)  # Barrett's MMI
        assert testing.GATE_VALUES["mmi"][g] == pytest.approx((R, i1 - R, i2 - R, ref[g]["I_X1X2_Y"] - i1 - i2 + R), abs=1e-12)


def test_copy_distributions_have_identical_sources() -> None:
    for d in testing.copy_distributions():
        assert np.allclose(d.p, np.swapaxes(d.p, 0, 1)) and np.count_nonzero(d.p.sum(2) - np.diag(np.diag(d.p.sum(2)))) == 0


# ----------------------------------------------------------------------------- discretizers
def _continuous(n: int = 600, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x1 = y[:, None] + rng.normal(size=(n, 2))
    x2 = y[:, None] + rng.normal(size=(n, 3))
    return x1, x2, y


def test_categorical_refuses_one_symbol_per_continuous_row() -> None:
    x1, x2, y = _continuous()
    with pytest.raises(ProblemTooLargeError, match=r"found 400 distinct values.*max_symbols=256.*pca-kmeans.*max_symbols.: 400"):
        pidlab.estimate(x1[:200], y[:200], x2[200:400], y[200:400], x1[400:], x2[400:], discretizer="categorical")
    d = pidlab.get_discretizer("categorical", max_symbols=600).fit(x1)
    assert d.n_symbols_ == 600
    with pytest.raises(pidlab.ParameterError, match=r"`'max_symbols'` parameter of `CategoricalDiscretizer` must be an int >= 1"):
        pidlab.get_discretizer("categorical", max_symbols=0).fit(x1)
    assert pidlab.get_discretizer("categorical", max_symbols=3).fit(np.array(["a", "b", "c", "a"], dtype=object)).n_symbols_ == 3


def _bad_discretizer(name: str, transform, **attrs) -> type:
    def fit(self, X, y=None):
        self.n_fitted_ = len(X)
        for k, v in attrs.items():
            setattr(self, k, v)
        return self

    return type("Bad", (), {"name": name, "fit": fit, "transform": lambda self, X: transform(len(X))})


@pytest.mark.parametrize(
    "transform, attrs, error, match",
    [
        (lambda n: np.arange(n) % 3 + 0.5, {}, PluginOutputError, "non-integer codes"),
        (lambda n: np.where(np.arange(n) == 0, np.nan, 1.0), {}, PluginOutputError, "1 NaN or infinite code"),
        (lambda n: np.zeros(n - 1, dtype=int), {}, PluginOutputError, r"shape \(399,\).*1-D array of length 400"),
        (lambda n: np.zeros((n, 2), dtype=int), {}, PluginOutputError, r"shape \(400, 2\)"),
        (lambda n: np.arange(n) % 3 - 1, {}, PluginOutputError, r"negative code \(-1\)"),
        (lambda n: np.array(["a"] * n), {}, PluginOutputError, "dtype <U1"),
        (lambda n: np.arange(n) % 5, {"n_symbols_": 3}, PluginOutputError, "its n_symbols_ is 3"),
        (lambda n: np.arange(n), {"max_symbols": 50}, ProblemTooLargeError, r"400 distinct symbols, above 50 \(its max_symbols"),
    ],
)
def test_the_host_checks_a_plugin_discretizers_codes(registered, transform, attrs, error, match) -> None:
    registered("bad-discretizers", discretizers=[_bad_discretizer("bad-codes", transform, **attrs)])
    x1, x2, y = _continuous()
    with pytest.raises(error, match=match) as ei:
        pidlab.estimate(x1[:200], y[:200], x2[200:400], y[200:400], x1[400:], x2[400:], discretizer=("bad-codes", "kmeans"))
    assert "discretizer 'bad-codes' on the samples of modality 1" in str(ei.value)


def test_the_host_guard_applies_to_discretizers_without_their_own(monkeypatch, registered) -> None:
    import pidlab._discretizers as disc

    monkeypatch.setattr(disc, "MAX_SYMBOLS", 100)
    registered("bad-discretizers", discretizers=[_bad_discretizer("per-row", lambda n: np.arange(n))])
    x1, x2, y = _continuous()
    with pytest.raises(ProblemTooLargeError, match=r"400 distinct symbols, above 100 \(pidlab's limit"):
        pidlab.estimate(x1[:200], y[:200], x2[200:400], y[200:400], x1[400:], x2[400:], discretizer="per-row")


def test_integral_float_codes_are_accepted_unchanged(registered) -> None:
    registered("float-discretizers", discretizers=[_bad_discretizer("float-codes", lambda n: (np.arange(n) % 3).astype(float))])
    x1, x2, y = _continuous()
    res = pidlab.estimate(x1[:200], y[:200], x2[200:400], y[200:400], x1[400:], x2[400:], discretizer="float-codes")
    assert res.marginals_raw.shape == (3, 3, 3)
