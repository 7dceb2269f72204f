r"""From raw samples to the three empirical tables: the first steps of :func:`pidlab.estimate`.

:func:`read_samples` checks the three data sets and encodes the labels, :func:`discretize` fits
one discretizer per modality on all its samples (labelled and unlabelled), :func:`count_tables`
counts ``p(x1,y)`` from D1, ``p(x2,y)`` from D2 and ``p(x1,x2)`` from the pairs, and
:func:`classifier_disagreements` gives the optional classifier disagreement of each pair
(Liang et al., ICLR 2024, §4-5; docs/theory.rst §3.2).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from pidlab._marginals import Marginals
from pidlab.exceptions import InvalidDistributionError, ParameterError

__all__ = [
    "MIN_SAMPLES",
    "Samples",
    "Tables",
    "read_samples",
    "discretize",
    "count_tables",
    "classifier_disagreements",
]

#: Fewest samples accepted in each of the three data sets.
MIN_SAMPLES = 5


class Samples(NamedTuple):
    """The three data sets as :func:`read_samples` checked them."""

    sizes: dict[str, int]  # "labelled_1", "labelled_2", "pairs"
    classes: tuple[Hashable, ...]  # target labels in table order
    ia: NDArray[np.intp]  # class index of each D1 sample
    ib: NDArray[np.intp]  # class index of each D2 sample


class Tables(NamedTuple):
    """The empirical tables and the symbol codes of every sample (reused by the bootstrap)."""

    raw: Marginals  # the three tables as counted, labelled with the symbols that occur
    codes1: tuple[NDArray[np.intp], NDArray[np.intp]]  # (x1, y) cell of each D1 sample; x1 symbol of each pair
    codes2: tuple[NDArray[np.intp], NDArray[np.intp]]  # (x2, y) cell of each D2 sample; x2 symbol of each pair
    shape: tuple[int, int, int]  # (|X1|, |X2|, |Y|) over the symbols that occur
    labels: tuple[tuple[int, ...], tuple[int, ...], tuple[Hashable, ...]]


def read_samples(x1_labelled: Any, y1: Any, x2_labelled: Any, y2: Any, x1_pairs: Any, x2_pairs: Any) -> Samples:
    """Check the sizes and labels of the three data sets and encode the labels as class indices.

    Raises
    ------
    InvalidDistributionError
        A data set with fewer than ``MIN_SAMPLES`` samples, mismatched lengths, NaN or missing
        labels, or labelled sets whose label sets differ.
    """
    for what, X in (("x1_labelled", x1_labelled), ("x2_labelled", x2_labelled), ("x1_pairs", x1_pairs),
                    ("x2_pairs", x2_pairs)):
        _check_feature_shape(X, what)
    ya, yb = _labels(y1, "y1 (labels of modality 1)"), _labels(y2, "y2 (labels of modality 2)")
    sizes = {
        "labelled_1": _n(x1_labelled), "labelled_2": _n(x2_labelled), "pairs": _n(x1_pairs),
    }
    for what, n in (("x1_labelled (D1)", sizes["labelled_1"]), ("x2_labelled (D2)", sizes["labelled_2"]),
                    ("x1_pairs (unlabelled pairs)", sizes["pairs"])):
        if n < MIN_SAMPLES:
            raise InvalidDistributionError(
                f"{what} has {n} samples; at least {MIN_SAMPLES} are needed to estimate a probability table "
                "(and many more for a useful one)."
            )
    if len(ya) != sizes["labelled_1"]:
        raise InvalidDistributionError(f"x1_labelled has {sizes['labelled_1']} samples but y1 has {len(ya)} labels.")
    if len(yb) != sizes["labelled_2"]:
        raise InvalidDistributionError(f"x2_labelled has {sizes['labelled_2']} samples but y2 has {len(yb)} labels.")
    if _n(x2_pairs) != sizes["pairs"]:
        raise InvalidDistributionError(
            f"x1_pairs has {sizes['pairs']} samples but x2_pairs has {_n(x2_pairs)}; row i of each must be one pair."
        )
    ca, cb = list(dict.fromkeys(ya.tolist())), list(dict.fromkeys(yb.tolist()))
    sa, sb = set(ca), set(cb)
    if sa != sb:
        if not (sa & sb):
            raise InvalidDistributionError(
                f"the two labelled sets share no class: y1 has {sorted(map(repr, sa))[:10]}, y2 has "
                f"{sorted(map(repr, sb))[:10]}; both must label the same target with the same label values "
                "(check the encoding, e.g. strings vs integers)."
            )
        only1, only2 = sa - sb, sb - sa
        raise InvalidDistributionError(
            "a class is present in one labelled set only"
            + (f" (only in y1: {sorted(map(repr, only1))})" if only1 else "")
            + (f" (only in y2: {sorted(map(repr, only2))})" if only2 else "")
            + "; p(y) cannot be estimated consistently. Drop those classes from both sets or label more samples."
        )
    try:
        classes = tuple(sorted(sa))
    except TypeError:
        classes = tuple(ca)
    cidx = {c: i for i, c in enumerate(classes)}
    ia = np.fromiter((cidx[v] for v in ya.tolist()), dtype=np.intp, count=len(ya))
    ib = np.fromiter((cidx[v] for v in yb.tolist()), dtype=np.intp, count=len(yb))
    return Samples(sizes=sizes, classes=classes, ia=ia, ib=ib)


def discretize(
    x1_labelled: Any, x1_pairs: Any, x2_labelled: Any, x2_pairs: Any, *, discretizer: Any, n_clusters: int | None,
    discretizer_params: dict[str, Any] | None, random_state: Any,
) -> tuple[Any, Any, NDArray[np.intp], NDArray[np.intp]]:
    """Fit one discretizer per modality on all its samples (labelled first, then the pairs).

    Returns the two fitted discretizers and the symbol of every sample of each modality, in the
    order labelled samples, then pairs.
    """
    specs = discretizer if isinstance(discretizer, (tuple, list)) else (discretizer, discretizer)
    if len(specs) != 2:
        raise ParameterError(
            f"The `'discretizer'` parameter of `estimate` must be one spec or a pair (one per modality). Got "
            f"{len(specs)} specs instead."
        )
    params = dict(discretizer_params or {})
    d1 = _make_discretizer(specs[0], n_clusters, random_state, params)
    d2 = _make_discretizer(specs[1], n_clusters, random_state, params)
    all1 = _stack(x1_labelled, x1_pairs)
    all2 = _stack(x2_labelled, x2_pairs)
    from pidlab._discretizers import fit_codes  # checks the codes (integers, one per sample, within the guard)

    c1 = fit_codes(d1, all1, "the samples of modality 1")
    c2 = fit_codes(d2, all2, "the samples of modality 2")
    return d1, d2, c1, c2


def count_tables(
    c1: NDArray[np.intp], c2: NDArray[np.intp], samples: Samples, names: tuple[str, str, str]
) -> Tables:
    """Count ``p(x1,y)`` from D1, ``p(x2,y)`` from D2 and ``p(x1,x2)`` from the pairs.

    Only symbols that occur somewhere get a row: a grid discretizer's unused cells would only add zeros.
    """
    sizes, classes, ia, ib = samples
    ny = len(classes)
    n1l, n2l = sizes["labelled_1"], sizes["labelled_2"]
    used1, inv1 = np.unique(c1, return_inverse=True)
    used2, inv2 = np.unique(c2, return_inverse=True)
    inv1, inv2 = inv1.ravel(), inv2.ravel()
    k1u, k2u = used1.size, used2.size
    cells1, cells2 = inv1[:n1l] * ny + ia, inv2[:n2l] * ny + ib
    t1y = np.bincount(cells1, minlength=k1u * ny).reshape(k1u, ny).astype(float)
    t2y = np.bincount(cells2, minlength=k2u * ny).reshape(k2u, ny).astype(float)
    t12 = np.bincount(inv1[n1l:] * k2u + inv2[n2l:], minlength=k1u * k2u).reshape(k1u, k2u).astype(float)
    lab = (tuple(int(v) for v in used1), tuple(int(v) for v in used2), classes)
    raw = Marginals(t1y / t1y.sum(), t2y / t2y.sum(), t12 / t12.sum(), labels=lab, names=names)
    return Tables(raw=raw, codes1=(cells1, inv1[n1l:]), codes2=(cells2, inv2[n2l:]), shape=(k1u, k2u, ny), labels=lab)


def _labels(y: Any, what: str) -> NDArray[Any]:
    """The labels as a 1-D array, refusing values that would silently become a class of their own.

    Refused: NaN / None / ``pd.NA`` (missing labels), the text ``"nan"`` in any case (what
    ``str(float("nan"))`` and ``astype(str)`` make of a missing label; a real class is never
    called that), and strings or bytes containing a NUL character (numpy's string arrays drop
    trailing NULs, so ``"a"`` and ``"a\\x00"`` would silently merge, and a NUL is never part of a
    meaningful label). Python sequences of strings are kept as objects so that their NULs are seen.
    """
    if hasattr(y, "to_numpy"):
        arr = y.to_numpy()
    elif isinstance(y, np.ndarray):
        arr = y
    else:
        arr = np.asarray(y)
        if arr.dtype.kind in "USO":  # keep the Python strings (a numpy str array drops trailing NULs)
            arr = np.empty(arr.shape, dtype=object)
            arr[...] = _nested(y, arr.ndim)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise InvalidDistributionError(f"{what} must be one label per sample (1-D); got shape {arr.shape}.")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise InvalidDistributionError(f"{what} contains NaN labels; drop unlabelled samples from the labelled sets.")
    if arr.dtype.kind == "c" and np.isnan(arr).any():
        raise InvalidDistributionError(f"{what} contains NaN labels; drop unlabelled samples from the labelled sets.")
    if arr.dtype.kind in "USO":
        for i, v in enumerate(arr.tolist()):
            problem = _bad_label(v)
            if problem:
                raise InvalidDistributionError(
                    f"{what} contains {problem} at position {i} ({v!r}); it would silently become a class of its own. "
                    "Drop those samples (missing labels) or relabel them."
                )
    return arr


def _nested(y: Any, ndim: int) -> Any:
    """``y`` as nested lists of depth ``ndim`` (for filling an object array element by element)."""
    if ndim == 0:
        return y
    return [_nested(v, ndim - 1) for v in y]


def _bad_label(v: Any) -> str:
    """What is wrong with one label ("" when nothing)."""
    if v is None or type(v).__name__ in ("NAType", "NaTType"):
        return "a missing (None/NA) label"
    if isinstance(v, float | np.floating | complex | np.complexfloating) and v != v:
        return "a NaN label"
    if isinstance(v, str | bytes | np.str_ | np.bytes_):
        text = v.decode("latin-1") if isinstance(v, bytes | np.bytes_) else str(v)
        if "\x00" in text:
            return "a label with a NUL character"
        if text.strip().lower() == "nan":
            return "the text 'nan' (a stringified missing label)"
    return ""


def _check_feature_shape(X: Any, what: str) -> None:
    """Features must be one value per sample (1-D) or one row of features per sample (2-D)."""
    shape = getattr(X, "shape", None)
    if shape is None:
        try:
            shape = np.shape(X)
        except ValueError:  # ragged nested sequences
            raise InvalidDistributionError(
                f"{what} must be a 1-D array (one feature) or a 2-D array (one row of features per sample); its rows "
                "have different lengths. Give every sample the same number of features."
            ) from None
    if len(shape) not in (1, 2):
        hint = (
            f"flatten each sample first, e.g. X.reshape(len(X), -1) for shape {tuple(shape)} -> "
            f"({shape[0]}, {int(np.prod(shape[1:]))}), or embed it (an image or a sequence) into a feature vector"
            if len(shape) > 2 else "pass one row per sample, e.g. np.asarray(X).reshape(-1, 1)"
        )
        raise InvalidDistributionError(
            f"{what} must be a 1-D array (one feature) or a 2-D array (samples x features); got shape {tuple(shape)}. "
            f"pidlab does not flatten features silently: {hint}."
        )


def _n(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") and len(X.shape) > 0 else len(X)


def _make_discretizer(spec: Any, n_clusters: int | None, random_state: Any, params: dict[str, Any]) -> Any:
    from pidlab._discretizers import get_discretizer

    if isinstance(spec, str):
        d = get_discretizer(spec)
        names = d.get_params() if hasattr(d, "get_params") else {}
        extra = dict(params)
        if n_clusters is not None and "n_clusters" in names and "n_clusters" not in extra:
            extra["n_clusters"] = n_clusters
        if "random_state" in names and "random_state" not in extra:
            extra["random_state"] = random_state
        if extra:
            d.set_params(**extra)
        return d
    if callable(getattr(spec, "fit", None)) and callable(getattr(spec, "transform", None)):
        import copy

        return copy.deepcopy(spec)
    raise ParameterError(
        f"The `'discretizer'` parameter of `estimate` must be a registered name (see pidlab.discretizers()) or an "
        f"object with fit/transform. Got {spec!r} instead."
    )


def _stack(a: Any, b: Any) -> Any:
    if hasattr(a, "columns") and hasattr(b, "columns"):
        import pandas as pd

        return pd.concat([a, b], ignore_index=True)
    A = a.to_numpy() if hasattr(a, "to_numpy") else np.asarray(a)
    B = b.to_numpy() if hasattr(b, "to_numpy") else np.asarray(b)
    if A.ndim == 1:
        A = A.reshape(-1, 1)
    if B.ndim == 1:
        B = B.reshape(-1, 1)
    if A.shape[1:] != B.shape[1:]:
        raise InvalidDistributionError(
            f"the labelled and the unlabelled samples of a modality have different numbers of features "
            f"({A.shape[1:]} vs {B.shape[1:]}); both must describe the same modality."
        )
    if A.dtype.kind in "biuf" and B.dtype.kind in "biuf":
        return np.concatenate([A.astype(float, copy=False), B.astype(float, copy=False)])
    return np.concatenate([A.astype(object), B.astype(object)])


def classifier_disagreements(
    classifier: Any, x1: Any, ia: NDArray[np.intp], x2: Any, ib: NDArray[np.intp], p1: Any, p2: Any, ny: int
) -> NDArray[np.float64]:
    """Squared L2 disagreement of the two fitted classifiers' soft predictions on each pair."""
    import copy

    pair = classifier if isinstance(classifier, (tuple, list)) else (classifier, classifier)

    def fitted_proba(est: Any, X: Any, y: NDArray[np.intp], Xp: Any) -> NDArray[np.float64]:
        if not callable(getattr(est, "predict_proba", None)):
            raise ParameterError(
                f"The `'classifier'` parameter of `estimate` must have predict_proba: the disagreement bound needs "
                f"soft predictions (hard labels admit no valid constant). Got {type(est).__name__} instead."
            )
        try:
            from sklearn.base import clone

            e = clone(est)
        except Exception:
            e = copy.deepcopy(est)
        e.fit(X, y)
        pr = np.asarray(e.predict_proba(Xp), dtype=float)
        cls = list(getattr(e, "classes_", range(pr.shape[1])))
        out = np.zeros((pr.shape[0], ny))
        for j, c in enumerate(cls):
            out[:, int(c)] = pr[:, j]
        return out

    f1 = fitted_proba(pair[0], x1, ia, p1)
    f2 = fitted_proba(pair[1], x2, ib, p2)
    return ((f1 - f2) ** 2).sum(axis=1)
