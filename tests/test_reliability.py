"""Nothing silently wrong: extreme and malformed input gets a clear error or a finite, valid answer,
and the host checks what a measure plugin returns before it prints it (part of the reliability work)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import pidlab
from pidlab import PIDResult
from pidlab.exceptions import InvalidDistributionError, ParameterError, PluginOutputError

AND = pidlab.examples.get("and").p


def test_normalising_a_table_near_the_float_limit_does_not_overflow() -> None:
    d = pidlab.Distribution(np.full((2, 2, 2), 1e308), normalize=True)
    np.testing.assert_allclose(d.p, np.full((2, 2, 2), 0.125), rtol=0, atol=1e-15)
    r = pidlab.decompose(d, measure="imin")
    assert r.S == pytest.approx(0.0, abs=1e-12) and r.I_x1x2y == pytest.approx(0.0, abs=1e-12)


def test_the_batch_path_validates_and_normalises_like_the_single_path() -> None:
    ps = np.stack([np.full((2, 2, 2), 1e308), AND * 3.0])
    r = pidlab.decompose_many(ps, normalize=True)
    single = [pidlab.decompose(pidlab.Distribution(p, normalize=True)) for p in ps]
    for i, s in enumerate(single):
        assert r.S[i] == pytest.approx(s.S, abs=1e-9) and r.R[i] == pytest.approx(s.R, abs=1e-9)
    assert r.R[1] == pytest.approx(pidlab.examples.get("and").mutual_information(0, 2), abs=1e-9)
    with pytest.raises(InvalidDistributionError, match="not real numbers"):
        pidlab.decompose_many(np.ones((1, 2, 2, 2), dtype=complex) / 8)


def test_subnormal_mass_gives_a_finite_certificate_and_valid_json() -> None:
    p = np.zeros((1, 2, 2))
    p[0, 0, 0] = 1.0
    p[0, 1, 1] = 1e-310
    r = pidlab.decompose(p)
    c = r.certificate
    assert all(math.isfinite(v) for v in (c.m_lower, c.m_upper, c.gap, c.marginal_residual))
    assert "NaN" not in r.to_json()
    json.loads(r.to_json())  # strict JSON


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: pidlab.Distribution(AND, names=None), "names must be a tuple of three"),
        (lambda: pidlab.Distribution(AND, names="abc"), "names must be a tuple of three"),
        (lambda: pidlab.Distribution.from_samples(None, [0], [0]), "samples of X1 must be a sequence"),
        (lambda: pidlab.Distribution(AND.astype(complex)), "real numbers"),
        (lambda: pidlab.Distribution(np.ones((2, 2, 2), dtype=bool)), "real numbers"),
        (lambda: pidlab.Distribution(np.array(["0.125"] * 8).reshape(2, 2, 2)), "real numbers"),
        (lambda: pidlab.decompose_many(np.zeros((0, 2, 2, 2))), "stack of distributions is empty"),
    ],
)
def test_bad_data_gets_a_clear_error(make: Any, match: str) -> None:
    with pytest.raises(InvalidDistributionError, match=match):
        make()


def test_a_coupling_method_that_is_neither_a_name_nor_a_plugin_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="'method'.*Got 123"):
        pidlab.couple([0.5, 0.5], [0.5, 0.5], method=123)


# ------------------------------------------------------------------------- measure plugins
@contextmanager
def _measure(name: str, compute: Any) -> Iterator[None]:
    from pidlab._contracts import Measure
    from pidlab._plugins import plugin_manager
    from pidlab.hookspecs import hookimpl

    cls = type("Faulty", (Measure,), {"name": name, "kind": "pid", "reference": "test", "compute":
                                      lambda self, dist, *, solver=None: compute(dist)})

    class _Plugin:
        @hookimpl
        def pidlab_register_measures(self) -> list[type]:
            return [cls]

    pm = plugin_manager()
    pname = f"tests.faulty:{name}"
    pm.register(_Plugin(), name=pname)
    try:
        yield
    finally:
        pm.unregister(name=pname)


def _imin_with(dist: pidlab.Distribution, **changes: Any) -> PIDResult:
    import dataclasses

    return dataclasses.replace(pidlab.decompose(dist, "imin"), measure="faulty", **changes)


@pytest.mark.parametrize(
    ("compute", "match"),
    [
        (lambda d: _imin_with(d, R=float("nan")), "non-finite values for R"),
        (lambda d: _imin_with(d, S=float("inf")), "non-finite values for S"),
        (lambda d: _imin_with(d, R=-0.3), "break the PID identities"),
        (lambda d: {"R": 0.1}, "not a pidlab.PIDResult"),
        (lambda d: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_the_host_checks_a_measure_plugins_result(compute: Any, match: str) -> None:
    with _measure("faulty", compute):
        with pytest.raises(PluginOutputError, match=match):
            pidlab.decompose(AND, measure="faulty")
        # compare(errors="record") records the faulty measure and shows the others
        cmp = pidlab.compare(AND, errors="record")
        assert [m for m, _ in cmp.errors] == ["faulty"]
        assert {"broja", "imin"} <= {r.measure for r in cmp.results}
        assert "nan" not in cmp.table().lower().replace("—", "")


def test_a_consistent_measure_with_a_negative_atom_is_shown_with_a_note() -> None:
    def shifted(d: pidlab.Distribution) -> PIDResult:  # R - 0.5, U + 0.5, S - 0.5: the identities still hold
        r = pidlab.decompose(d, "imin")
        return _imin_with(d, R=r.R - 0.5, U1=r.U1 + 0.5, U2=r.U2 + 0.5, S=r.S - 0.5)

    with _measure("faulty", shifted):
        r = pidlab.decompose(AND, measure="faulty")
    assert r.R < 0 and any("negative atom(s) R" in n for n in r.notes)
