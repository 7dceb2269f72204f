from __future__ import annotations

import subprocess
import sys
import types

import pytest

import pidlab
from pidlab import hookimpl
from pidlab._plugins import get_plugin_manager, lookup
from pidlab.exceptions import PluginLoadWarning, PluginValidationError


def _plugin(**hooks) -> types.SimpleNamespace:
    """A plugin object whose hooks return the given classes."""
    ns = types.SimpleNamespace()
    for hook, classes in hooks.items():
        # pluggy validates hookimpl argument names against the spec, which takes none
        setattr(ns, f"pidlab_register_{hook}", hookimpl(lambda classes=classes: classes))
    return ns


class Halfway(pidlab.Measure):
    """A toy measure: R = I(X1;Y)/2."""

    name = "halfway"

    def compute(self, dist, *, solver=None):
        return pidlab.PIDResult.from_redundancy(dist, self.name, 0.5 * min(dist.mutual_information(0, 2), dist.mutual_information(1, 2)))


def test_builtins_are_ordinary_plugins():
    pm = get_plugin_manager(autoload=False)
    assert pm is not get_plugin_manager(autoload=False)  # a factory, not a global
    assert {"broja", "imin", "wms", "ci"} <= set(pm.entries["measure"])
    assert all(e.builtin for e in pm.entries["measure"].values())  # autoload=False: built-ins only
    assert {"clarabel", "ecos", "scs", "mosek"} <= set(pm.entries["solver"])
    assert pm.get_plugins()  # registered through pluggy


def test_third_party_plugin_discovered_through_entry_point():
    assert "mmi" in pidlab.measures(), "install plugins/pidlab-mmi (make test does this)"
    e = lookup("measure", "mmi")
    assert not e.builtin and e.plugin == "mmi"
    r = pidlab.decompose(pidlab.examples.get("copy"), "mmi")
    assert (r.R, r.U1, r.U2, r.S) == pytest.approx((1.0, 0.0, 0.0, 1.0))
    assert lookup("measure", "barrett").name == "mmi"
    pidlab.testing.check_measure(e.cls)


def test_autoload_can_be_disabled():
    code = "import pidlab; print(','.join(pidlab.measures()))"
    env = {"PIDLAB_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    listed = out.strip().split(",")
    assert {"broja", "imin", "wms", "ci"} <= set(listed) and "mmi" not in listed
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": ""}, check=True).stdout
    assert "mmi" in out.strip().split(",")


@pytest.mark.parametrize(
    "classes, match",
    [
        ([type("NoName", (), {"compute": lambda self, dist, *, solver=None: None})], "needs a class attribute 'name'"),
        ([type("Upper", (), {"name": "Bad Name", "compute": lambda self, dist, *, solver=None: None})], "lower-case"),
        ([type("NoCompute", (), {"name": "nocompute"})], r"has no method compute\(\)"),
        ([type("WrongSig", (), {"name": "wrongsig", "compute": lambda self, x: None})], "must accept parameter"),
        ([type("Dup", (), {"name": "broja", "compute": lambda self, dist, *, solver=None: None})], "already registered by plugin 'pidlab._measures'"),
        ([type("DupAlias", (), {"name": "fresh", "aliases": ("williams-beer",), "compute": lambda self, dist, *, solver=None: None})], "already registered"),
        ([42], "must be a class"),
        ("notalist", "must return a list"),
    ],
)
def test_validation_at_registration_names_the_plugin(classes, match):
    pm = get_plugin_manager(autoload=False)
    before = dict(pm.entries["measure"])
    with pytest.raises(PluginValidationError, match=match) as ei:
        pm.register(_plugin(measures=classes), name="acme-pid")
    assert ei.value.plugin == "acme-pid"
    assert "acme-pid" in str(ei.value)
    assert pm.entries["measure"] == before and not pm.has_plugin("acme-pid")


def test_abstract_class_rejected():
    pm = get_plugin_manager(autoload=False)
    with pytest.raises(PluginValidationError, match="abstract"):
        pm.register(_plugin(measures=[type("Abstract", (pidlab.Measure,), {"name": "abstract"})]), name="abs")


def test_hook_with_unknown_argument_rejected():
    ns = types.SimpleNamespace()

    @hookimpl
    def pidlab_register_measures(config):  # the spec takes no arguments
        return []

    ns.pidlab_register_measures = pidlab_register_measures
    with pytest.raises(PluginValidationError, match="bad"):
        get_plugin_manager(autoload=False).register(ns, name="bad")


def test_broken_entry_point_warns_and_host_survives(monkeypatch):
    import pidlab._plugins as plug

    class EP:
        name, value = "broken", "broken_pkg:plugin"

        def load(self):
            raise ImportError("No module named 'broken_pkg'")

    monkeypatch.setattr(plug, "entry_points", lambda group: [EP()])
    with pytest.warns(PluginLoadWarning, match="broken"):
        pm = plug.get_plugin_manager(autoload=True)
    assert "broken" in pm.failed and "broken_pkg" in pm.failed["broken"]
    assert "broja" in pm.entries["measure"]


def test_runtime_registration_appears_everywhere():
    try:
        pidlab.register_plugin(_plugin(measures=[Halfway]), name="halfway-plugin")
        assert "halfway" in pidlab.measures()
        cmp = pidlab.compare(pidlab.examples.get("rdn"))
        assert cmp["halfway"].R == pytest.approx(0.5)
        infos = {i.name: i for i in pidlab.plugins()}
        assert infos["halfway"].plugin == "halfway-plugin" and not infos["halfway"].builtin
        # a toy, not a valid PID: with X2 a copy of X1 it gives R = I(X1;Y)/2, and the kit says so
        with pytest.raises(AssertionError, match="self-redundancy"):
            pidlab.testing.check_measure(Halfway)
    finally:
        pidlab.reload_plugins()
    assert "halfway" not in pidlab.measures()


def test_solver_listing_reports_unavailable_with_reason():
    infos = {(i.kind, i.name): i for i in pidlab.plugins()}
    mosek = infos[("solver", "mosek")]
    if not mosek.available:
        assert mosek.reason and ("not installed" in mosek.reason or "licence" in mosek.reason)
    assert infos[("solver", "clarabel")].available


@pytest.mark.parametrize("m", ["broja", "imin"])
def test_builtin_measures_pass_the_public_checks(m):
    """Loopback: the built-ins go through the same checks third parties run."""
    pidlab.testing.check_measure(lookup("measure", m).cls)


def test_import_is_clean_and_light():
    code = (
        "import sys, pidlab; pidlab.measures();"
        "bad = [m for m in ('cvxpy', 'ipywidgets', 'sklearn', 'matplotlib') if m in sys.modules];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-Werror", "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
