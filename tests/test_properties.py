"""``pidlab.check_properties`` and ``pidlab properties``: the measure x property table agrees with
the literature for the built-ins, and a third-party measure gets its own row and counterexamples."""

from __future__ import annotations

import json
import math
import types

import numpy as np
import pytest

import pidlab
from pidlab.exceptions import ParameterError, UnknownNameError


@pytest.fixture(scope="module")
def table():
    return pidlab.check_properties(["broja", "imin", "sx", "gk", "proj", "dep", "pm", "ccs", "wms"], n_random=3)


def test_literature_statements(table):
    # Harder et al. 2013: I_min violates the identity property; BROJA and I_proj satisfy it.
    assert table.status("imin", "identity") == "NO"
    assert table.status("broja", "identity") == "yes"
    assert table.status("proj", "identity") == "yes"
    # Makkeh et al. 2021: I_sx gives negative redundancy on XOR.
    sx = [c for c in table.counterexamples if c["measure"] == "sx" and c["property"] == "nonnegative R"]
    assert sx and sx[0]["distribution"] == "xor" and sx[0]["value"] == pytest.approx(math.log2(2 / 3))
    # Griffith et al. 2014: I_∧ depends on the support only (discontinuous), its synergy can be negative.
    assert table.status("gk", "continuity") == "NO" and table.status("gk", "nonnegativity") == "NO"
    # Finn & Lizier 2018: I_± violates monotonicity (R > min I on AND) and allows negative atoms.
    assert table.status("pm", "monotonicity") == "NO"
    # Every measure of the list is symmetric and self-redundant; BROJA and I_dep are nonnegative.
    for m in ("broja", "imin", "sx", "gk", "proj", "dep", "pm", "ccs"):
        assert table.status(m, "symmetry") == "yes" and table.status(m, "self-redundancy") == "yes", m
    assert table.status("broja", "nonnegativity") == "yes" and table.status("dep", "nonnegativity") == "yes"
    # net measures: only finite and symmetry apply
    assert table.status("wms", "identity") == "n/a" and table.status("wms", "symmetry") == "yes"


def test_counterexamples_carry_the_distribution_value_and_expectation(table):
    c = next(c for c in table.counterexamples if c["measure"] == "imin" and c["property"] == "identity")
    p = np.array(c["p"])
    assert p.ndim == 3 and abs(p.sum() - 1) < 1e-9
    r = pidlab.decompose(p, "imin")
    assert r.R == pytest.approx(c["value"])  # the value is what the measure gives on that table
    assert "I(X1;X2)" in c["expected"]
    text = table.table()
    assert "counterexample: imin / identity" in text and "measure" in text.splitlines()[1]
    d = json.loads(table.to_json())
    assert d["table"]["imin"]["identity"] == "NO"


def _plugin(*classes):
    ns = types.SimpleNamespace()
    ns.pidlab_register_measures = pidlab.hookimpl(lambda: list(classes))
    return ns


class Lopsided(pidlab.Measure):
    """Not symmetric: R = I(X1;Y) / 2 whatever X2 is."""

    name = "lopsided"

    def compute(self, dist, *, solver=None):
        return pidlab.PIDResult.from_redundancy(dist, self.name, dist.mutual_information(0, 2) / 2)


class NaNMeasure(pidlab.Measure):
    name = "nanmeasure"

    def compute(self, dist, *, solver=None):
        return pidlab.PIDResult.from_redundancy(dist, self.name, float("nan"))


def test_third_party_measure_gets_its_row():
    try:
        pidlab.register_plugin(_plugin(Lopsided, NaNMeasure), name="props-test")
        r = pidlab.check_properties(["lopsided", "nanmeasure"], n_random=0)
        assert r.status("lopsided", "symmetry") == "NO"
        assert r.status("lopsided", "self-redundancy") == "NO"
        assert r.status("nanmeasure", "finite") == "NO"  # reported, not tabulated as numbers
        c = next(c for c in r.counterexamples if c["measure"] == "nanmeasure")
        assert c["value"] == "refused" and "non-finite" in c["detail"]
        everything = pidlab.check_properties(n_random=0)
        assert "lopsided" in everything.measures and "broja" in everything.measures
    finally:
        pidlab.reload_plugins()


def test_bad_arguments():
    with pytest.raises(UnknownNameError):
        pidlab.check_properties("nope")
    with pytest.raises(ParameterError, match="'tol'"):
        pidlab.check_properties("imin", tol=-1)
    with pytest.raises(ParameterError, match="'n_random'"):
        pidlab.check_properties("imin", n_random=-3)


def test_cli(capsys):
    from pidlab.cli import main

    assert main(["properties", "--measure", "imin", "--measure", "sx", "--n-random", "0"]) == 0
    out = capsys.readouterr().out
    assert "imin" in out and "counterexample: sx / nonnegative R: on xor" in out
    assert main(["properties", "--measure", "imin", "--n-random", "0", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["table"]["imin"]["identity"] == "NO"
