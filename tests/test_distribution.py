from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pidlab
from pidlab import Distribution
from pidlab.exceptions import InvalidDistributionError, PidlabError

XOR = [[[0.25, 0], [0, 0.25]], [[0, 0.25], [0.25, 0]]]


def brute_entropy(p):
    p = np.asarray(p, float).ravel()
    return -sum(v * np.log(v) / np.log(2) for v in p if v > 0)


def test_shannon_quantities_match_brute_force(rng):
    p = rng.dirichlet(np.ones(3 * 4 * 2)).reshape(3, 4, 2)
    d = Distribution(p)
    H = lambda *axes: brute_entropy(p.sum(axis=tuple(a for a in range(3) if a not in axes)))
    assert d.entropy() == pytest.approx(H(0, 1, 2), abs=1e-12)
    assert d.entropy("Y", given="X1") == pytest.approx(H(0, 2) - H(0), abs=1e-12)
    assert d.mutual_information("X1", "Y") == pytest.approx(H(0) + H(2) - H(0, 2), abs=1e-12)
    assert d.mutual_information(["X1", "X2"], "Y") == pytest.approx(H(0, 1) + H(2) - H(0, 1, 2), abs=1e-12)
    cmi = H(0, 2) + H(1, 2) - H(0, 1, 2) - H(2)
    assert d.mutual_information("X1", "X2", given="Y") == pytest.approx(cmi, abs=1e-12)
    # McGill's sign: CI = I(X1;X2) - I(X1;X2|Y)
    assert d.coinformation() == pytest.approx(d.mutual_information(0, 1) - cmi, abs=1e-12)


def test_coinformation_signs():
    assert Distribution(XOR).coinformation() == pytest.approx(-1.0)
    assert pidlab.examples.get("rdn").coinformation() == pytest.approx(1.0)


def test_from_samples_any_hashable_labels():
    d = Distribution.from_samples(["cat", "dog", "cat", "dog"], [(0, 1), (0, 1), (1, 0), (1, 0)], [True, False, False, True])
    assert d.shape == (2, 2, 2)
    assert d.labels[0] == ("cat", "dog")
    assert d.labels[2] == (False, True)
    assert d.mutual_information(["X1", "X2"], "Y") == pytest.approx(1.0)
    assert d.mutual_information("X1", "Y") == pytest.approx(0.0)


def test_from_samples_numpy_and_unorderable_labels():
    d = Distribution.from_samples(np.array([1, 1, 2]), np.array([0, 0, 0]), ["a", 1, "a"])
    assert d.shape == (2, 1, 2)
    assert np.isclose(d.p.sum(), 1.0)


def test_from_dataframe_names_the_target():
    df = pd.DataFrame({"img": [0, 0, 1, 1], "txt": [0, 1, 0, 1], "label": [0, 1, 1, 0]})
    d = Distribution.from_dataframe(df, x1="img", x2="txt", y="label")
    assert d.names == ("img", "txt", "label") and d.target == "label"
    r = pidlab.decompose(d, measure="imin")
    assert r.target == "label" and r.to_dict()["target"] == "label"
    assert r.S == pytest.approx(1.0)
    with pytest.raises(InvalidDistributionError, match="no column"):
        Distribution.from_dataframe(df, x1="image")


def test_table_is_read_only_and_copied():
    src = np.array(XOR, dtype=float)
    d = Distribution(src)
    src[0, 0, 0] = 0.9  # the caller's array is not aliased
    assert d.p[0, 0, 0] == 0.25
    with pytest.raises(ValueError):
        d.p[0, 0, 0] = 0.5


@pytest.mark.parametrize(
    "bad, match",
    [
        ([[[0.5, -0.25], [0.25, 0.5]], [[0, 0], [0, 0]]], "negative"),
        ([[[np.nan, 0.5], [0.25, 0.25]], [[0, 0], [0, 0]]], "NaN or infinite"),
        ([[[np.inf, 0.5], [0.25, 0.25]], [[0, 0], [0, 0]]], "NaN or infinite"),
        ([[0.5, 0.5]], "3 dimensions"),
        (np.zeros((2, 0, 2)), "empty alphabet"),
        ([[[0.5, 0.5], [0.5, 0.5]], [[0, 0], [0, 0]]], "normalize=True"),
        ([[["a", "b"]]], "array of numbers"),
    ],
)
def test_bad_tables_name_problem_and_fix(bad, match):
    with pytest.raises(InvalidDistributionError, match=match) as ei:
        Distribution(bad)
    assert isinstance(ei.value, PidlabError) and isinstance(ei.value, ValueError)


def test_normalize_on_request_only():
    d = Distribution(np.ones((2, 2, 2)), normalize=True)
    assert np.allclose(d.p, 1 / 8)


def test_sample_errors():
    with pytest.raises(InvalidDistributionError, match="different lengths"):
        Distribution.from_samples([0, 1], [0, 1, 1], [0, 1])
    with pytest.raises(InvalidDistributionError, match="no samples"):
        Distribution.from_samples([], [], [])
    with pytest.raises(InvalidDistributionError, match="missing value"):
        Distribution.from_samples([0, None], [0, 1], [0, 1])
    with pytest.raises(InvalidDistributionError, match="one-dimensional"):
        Distribution.from_samples(np.zeros((2, 2)), [0, 1], [0, 1])
    with pytest.raises(InvalidDistributionError, match="labels"):
        Distribution(XOR, labels=(["a"], None, None))


def test_examples_registry():
    names = pidlab.examples.names()
    for n in ["xor", "and", "or", "copy", "unq", "rdn", "sum", "xorand", "rdnxor", "rdnunqxor", "dxor"]:
        assert n in names
        d = pidlab.examples.get(n.upper())
        assert np.isclose(d.p.sum(), 1.0)
    assert pidlab.examples.get("disagreement-xor") == pidlab.examples.get("dxor")
    with pytest.raises(pidlab.UnknownNameError, match="known examples: xor"):
        pidlab.examples.get("nand")


def test_noisy_family_interpolates():
    assert pidlab.examples.noisy("xor", 0.0) == pidlab.examples.get("xor")
    d = pidlab.examples.noisy("xor", 0.5)  # Y independent of inputs
    assert d.mutual_information(["X1", "X2"], "Y") == pytest.approx(0.0, abs=1e-12)


# ----------------------------------------------------------------------------- issue 13: no NaN class, no TypeError
@pytest.mark.parametrize(
    "labels, match",
    [
        (-496, "labels must be a tuple of three sequences"),  # was: TypeError (int has no len())
        (3 + 8j, "labels must be a tuple of three sequences"),
        ("abc", "labels must be a tuple of three sequences"),
        ((None, None), "labels must be a tuple of three sequences"),
        ({"a": 1, "b": 2, "c": 3}, "labels must be a tuple of three sequences"),  # was: KeyError
        ((5, None, None), "the labels for X1 must be a sequence"),
        ((["a", float("nan")], None, None), "the labels for X1 contain a missing value"),
        ((None, [np.float32("nan"), 1], None), "the labels for X2 contain a missing value"),
        ((None, None, [[0], [1]]), "the labels for Y must be hashable"),  # was: TypeError (unhashable list)
    ],
)
def test_bad_labels_are_clear_errors(labels, match):
    with pytest.raises(InvalidDistributionError, match=match):
        Distribution(XOR, labels=labels)


def test_missing_samples_of_any_type_never_become_a_class():
    pd = pytest.importorskip("pandas")
    # np.float32 NaN is not a Python float: before, it became a class of its own
    for missing in (np.float32("nan"), np.float64("nan"), complex("nan"), pd.NA, pd.NaT):
        with pytest.raises(InvalidDistributionError, match="samples of X1 contain a missing value"):
            Distribution.from_samples([0, missing], [0, 1], [0, 1])
    with pytest.raises(InvalidDistributionError, match="samples of Y must be hashable symbols"):
        Distribution.from_samples([0, 1], [0, 1], [[0], [1]])  # was: TypeError (unhashable list)
    # ordinary labels are unaffected (the fast path)
    d = Distribution.from_samples([0, 1, "a"], ["u", "v", "v"], [1.5, 2, 2])
    assert d.labels[0] == (0, 1, "a") and d.labels[2] == (1.5, 2)
