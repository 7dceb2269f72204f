"""The joint distribution p(x1, x2, y) over two sources and a target."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._info import entropy, marginal
from pidlab.exceptions import InvalidDistributionError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Distribution", "SUM_TOL", "check_pmf"]

#: Absolute tolerance on ``|sum(p) - 1|`` accepted without ``normalize=True``.
SUM_TOL = 1e-9

_AXES = {"X1": 0, "X2": 1, "Y": 2, "x1": 0, "x2": 1, "y": 2, 0: 0, 1: 1, 2: 2}


def as_real_array(p: ArrayLike, what: str) -> NDArray[np.float64]:
    """``p`` as a new float64 array; bool, complex, string, date and object entries are refused
    (they are not probabilities), with an error naming ``what`` and the fix."""
    try:
        raw = np.asarray(p)
        if raw.dtype.kind not in "iuf":
            if raw.dtype.kind == "O":  # nested lists of Python numbers (ragged or mixed ones fail below)
                raw = np.array(p, dtype=float)
            else:
                raise TypeError(f"its entries are of type {raw.dtype}, not real numbers")
        return np.array(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidDistributionError(
            f"{what} must be an array of numbers; could not use it ({exc}). "
            "Pass a nested list or a numpy array of probabilities (floats or integers)."
        ) from None


def normalized(a: NDArray[np.float64], ndim: int) -> NDArray[np.float64]:
    """Each table of ``a`` (its last ``ndim`` axes) divided by its total, without overflow: a table
    whose total exceeds the float range is first scaled by an exact power of 2. Totals must be > 0."""
    axes = tuple(range(a.ndim - ndim, a.ndim))
    with np.errstate(over="ignore"):
        total = a.sum(axis=axes, keepdims=True)
    if not np.isfinite(total).all():
        exp = np.ceil(np.log2(a.max(axis=axes, keepdims=True)))
        a = a * np.exp2(-np.where(np.isfinite(total), 0.0, exp))
        total = a.sum(axis=axes, keepdims=True)
    return np.asarray(a / total)


def check_pmf(
    p: ArrayLike,
    *,
    ndim: int | None,
    what: str,
    normalize: bool = False,
    atol: float = SUM_TOL,
) -> NDArray[np.float64]:
    """Validate a probability table and return it as a new float64 array.

    Raises :class:`InvalidDistributionError` naming the problem and the fix for a wrong number
    of dimensions, an empty axis, a non-numeric, NaN, infinite or negative entry, or a total
    that is not 1 within ``atol`` (unless ``normalize=True``, which divides by the total).
    """
    a = as_real_array(p, what)
    if ndim is not None and a.ndim != ndim:
        raise InvalidDistributionError(
            f"{what} must have {ndim} dimensions, got shape {a.shape} ({a.ndim} dimensions). "
            + (
                "A joint distribution is indexed p[x1, x2, y]; reshape or add the missing axis."
                if ndim == 3
                else "Check which table you passed."
            )
        )
    if a.size == 0 or 0 in a.shape:
        raise InvalidDistributionError(
            f"{what} has an empty alphabet (shape {a.shape}); every variable needs at least one symbol."
        )
    bad = ~np.isfinite(a)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidDistributionError(
            f"{what} has {int(bad.sum())} NaN or infinite entr{'y' if bad.sum() == 1 else 'ies'} "
            f"(first at index {idx}: {a[idx]}); remove or impute them before building the table."
        )
    if (a < 0).any():
        idx = tuple(int(i) for i in np.argwhere(a < 0)[0])
        raise InvalidDistributionError(
            f"{what} has {int((a < 0).sum())} negative entr{'y' if (a < 0).sum() == 1 else 'ies'} "
            f"(first at index {idx}: {a[idx]:.3g}); probabilities must be >= 0."
        )
    with np.errstate(over="ignore"):
        total = float(a.sum())
    if total <= 0:
        raise InvalidDistributionError(f"{what} sums to 0; it has no probability mass.")
    if normalize:
        a = normalized(a, a.ndim)
    elif abs(total - 1.0) > atol:
        raise InvalidDistributionError(
            f"{what} sums to {total:.12g}, not 1 (tolerance {atol:g}); "
            "pass normalize=True to divide by the total, or fix the table."
        )
    a.setflags(write=False)
    return a


def _is_missing(v: object) -> bool:
    """None, a NaN of any numeric type (float, numpy, complex), or a value whose self-comparison
    has no truth value (``pandas.NA``): a missing value, never a symbol."""
    if v is None:
        return True
    if isinstance(v, (str, bytes, int, tuple, frozenset)):  # the common labels: no NaN inside a scalar
        return False
    try:
        return bool(v != v)
    except (TypeError, ValueError):
        return True


def _labels_for(n: int, labels: Sequence[Hashable] | None, axis: str) -> tuple[Hashable, ...]:
    if labels is None:
        return tuple(range(n))
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Iterable):
        raise InvalidDistributionError(
            f"the labels for {axis} must be a sequence with one label per symbol, got {type(labels).__name__} "
            f"{labels!r:.40}; pass e.g. ('a', 'b'), or None for 0..n-1."
        )
    out = tuple(labels)
    if len(out) != n:
        raise InvalidDistributionError(
            f"{len(out)} labels given for {axis}, whose alphabet has {n} symbols; give one label per symbol."
        )
    for v in out:
        if _unhashable(v):
            raise InvalidDistributionError(
                f"the labels for {axis} must be hashable (numbers, strings, tuples), got a {type(v).__name__}; "
                "convert lists to tuples."
            )
        if _is_missing(v):
            raise InvalidDistributionError(
                f"the labels for {axis} contain a missing value ({v!r}); give every symbol a real label."
            )
    distinct = len(set(out))
    if distinct != n:
        raise InvalidDistributionError(f"the labels for {axis} contain duplicates: {out!r:.200}; labels must be distinct.")
    return out


def _unhashable(v: object) -> bool:
    try:
        hash(v)
    except TypeError:
        return True
    return False


class Distribution:
    """A validated joint pmf ``p[x1, x2, y]`` over two sources and a target, in bits.

    Parameters
    ----------
    p : array_like, shape (|X1|, |X2|, |Y|)
        Probabilities, non-negative and summing to 1 within ``SUM_TOL`` (1e-9).
    labels : tuple of three sequences, optional
        Symbol labels for X1, X2 and Y (any hashable values). Defaults to ``0..n-1``.
    names : tuple of three str, optional
        Variable names, default ``("X1", "X2", "Y")``. The third is the target.
    normalize : bool, default False
        Divide by the total instead of rejecting a table that does not sum to 1.

    Raises
    ------
    InvalidDistributionError
        Wrong number of dimensions, an empty alphabet, NaN, infinite or negative entries, or a
        total that is not 1 (without ``normalize=True``).

    Examples
    --------
    >>> import pidlab
    >>> d = pidlab.Distribution([[[.25, 0], [0, .25]], [[0, .25], [.25, 0]]])   # XOR
    >>> d.mutual_information(["X1", "X2"], "Y")
    1.0
    >>> d.coinformation()
    -1.0
    """

    __slots__ = ("_p", "_labels", "_names")

    def __init__(
        self,
        p: ArrayLike,
        labels: tuple[Sequence[Hashable] | None, Sequence[Hashable] | None, Sequence[Hashable] | None] | None = None,
        names: tuple[str, str, str] = ("X1", "X2", "Y"),
        *,
        normalize: bool = False,
    ) -> None:
        if isinstance(p, Distribution):
            p = p.p
        arr = check_pmf(p, ndim=3, what="the joint distribution p[x1, x2, y]", normalize=normalize)
        if labels is None or (isinstance(labels, (tuple, list)) and not labels):
            labels = (None, None, None)
        if not isinstance(labels, (tuple, list, np.ndarray)) or len(labels) != 3:
            raise InvalidDistributionError(
                f"labels must be a tuple of three sequences (X1, X2, Y; None for 0..n-1) or None; got "
                f"{type(labels).__name__} {labels!r:.60}."
            )
        if isinstance(names, (str, bytes)) or not isinstance(names, (tuple, list)):
            raise InvalidDistributionError(
                f"names must be a tuple of three distinct strings (sources, then target), e.g. ('X1', 'X2', 'Y'); "
                f"got {names!r}."
            )
        str_names = tuple(str(n) for n in names)
        if len(str_names) != 3 or len(set(str_names)) != 3:
            raise InvalidDistributionError(
                f"names must be three distinct strings (sources, then target); got {str_names!r}."
            )
        self._p = arr
        self._names: tuple[str, str, str] = (str_names[0], str_names[1], str_names[2])
        self._labels = tuple(
            _labels_for(arr.shape[i], labels[i], names[i]) for i in range(3)
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_samples(
        cls,
        x1: Iterable[Hashable],
        x2: Iterable[Hashable],
        y: Iterable[Hashable],
        *,
        names: tuple[str, str, str] = ("X1", "X2", "Y"),
    ) -> Distribution:
        """Empirical joint distribution of paired samples (labels of any hashable type).

        Symbols are sorted when they are mutually orderable, else kept in order of first
        appearance; the labels are recorded on the result.

        Raises
        ------
        InvalidDistributionError
            Sample sequences of different lengths, or no samples.

        Examples
        --------
        >>> d = Distribution.from_samples(["a", "a", "b", "b"], [0, 1, 0, 1], [0, 1, 1, 0])
        >>> d.labels[0], d.shape
        (('a', 'b'), (2, 2, 2))
        """
        cols = [list(_as_1d(v, name)) for v, name in zip((x1, x2, y), names)]
        lens = [len(c) for c in cols]
        if len(set(lens)) != 1:
            raise InvalidDistributionError(
                f"sample sequences have different lengths ({names[0]}: {lens[0]}, {names[1]}: {lens[1]}, "
                f"{names[2]}: {lens[2]}); each sample needs a value for all three variables."
            )
        if lens[0] == 0:
            raise InvalidDistributionError("no samples were given; at least one (x1, x2, y) triple is needed.")
        codes = []
        alphabets = []
        for c, name in zip(cols, names):
            for v in c:
                if type(v) is int or type(v) is str:  # the common labels, checked fast
                    continue
                if _unhashable(v):
                    raise InvalidDistributionError(
                        f"samples of {name} must be hashable symbols (numbers, strings, tuples), got a "
                        f"{type(v).__name__} ({v!r:.40}); convert lists to tuples, or discretise vectors first."
                    )
                if _is_missing(v):
                    raise InvalidDistributionError(
                        f"samples of {name} contain a missing value ({v!r}); drop or impute missing samples first."
                    )
            uniq = list(dict.fromkeys(c))
            try:
                uniq = sorted(uniq)  # type: ignore[type-var]
            except TypeError:
                pass
            index = {v: i for i, v in enumerate(uniq)}
            codes.append(np.fromiter((index[v] for v in c), dtype=np.intp, count=len(c)))
            alphabets.append(tuple(_plain(v) for v in uniq))
        shape = tuple(len(a) for a in alphabets)
        counts = np.bincount(np.ravel_multi_index(tuple(codes), shape), minlength=int(np.prod(shape)))
        p = counts.reshape(shape) / lens[0]
        return cls(p, labels=tuple(alphabets), names=names)  # type: ignore[arg-type]

    @classmethod
    def from_dataframe(
        cls, df: pd.DataFrame, x1: str = "x1", x2: str = "x2", y: str = "y"
    ) -> Distribution:
        """Empirical distribution from three columns of a pandas DataFrame (one row per sample).

        The column names become the variable names; ``y`` names the target column.
        """
        missing = [c for c in (x1, x2, y) if c not in df.columns]
        if missing:
            raise InvalidDistributionError(
                f"the DataFrame has no column(s) {missing}; its columns are {list(df.columns)}. "
                "Name the source and target columns with x1=, x2=, y=."
            )
        return cls.from_samples(df[x1].tolist(), df[x2].tolist(), df[y].tolist(), names=(str(x1), str(x2), str(y)))

    # ------------------------------------------------------------------ basic properties
    @property
    def p(self) -> NDArray[np.float64]:
        """The joint table ``p[x1, x2, y]`` (read-only)."""
        return self._p

    @property
    def shape(self) -> tuple[int, int, int]:
        n1, n2, ny = self._p.shape
        return (n1, n2, ny)

    @property
    def labels(self) -> tuple[tuple[Hashable, ...], ...]:
        return self._labels

    @property
    def names(self) -> tuple[str, str, str]:
        """Variable names ``(source 1, source 2, target)``."""
        return self._names

    @property
    def target(self) -> str:
        """Name of the target variable."""
        return self._names[2]

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray[np.float64]:
        return np.array(self._p, dtype=dtype) if dtype is not None else self._p.copy()

    def __repr__(self) -> str:
        n1, n2, ny = self.shape
        return (
            f"Distribution({self._names[0]}:{n1} x {self._names[1]}:{n2} -> target {self._names[2]}:{ny}, "
            f"support {int((self._p > 0).sum())})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Distribution):
            return NotImplemented
        return (
            self.shape == other.shape
            and self._labels == other._labels
            and self._names == other._names
            and bool(np.array_equal(self._p, other._p))
        )

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ information theory
    def _axes(self, variables: object) -> tuple[int, ...]:
        items: Any = [variables] if isinstance(variables, (str, int)) else variables
        out = []
        for v in items:
            if v in self._names:
                out.append(self._names.index(v))
            elif v in _AXES:
                out.append(_AXES[v])
            else:
                raise InvalidDistributionError(
                    f"unknown variable {v!r}; use one of {self._names} (or 'X1', 'X2', 'Y', or axis 0, 1, 2)."
                )
        return tuple(sorted(set(out)))

    def marginal(self, variables: object) -> NDArray[np.float64]:
        """Marginal table over ``variables`` (names or axes), axes kept in X1, X2, Y order.

        >>> import pidlab
        >>> pidlab.examples.get("and").marginal("Y")
        array([0.75, 0.25])
        """
        return marginal(self._p, self._axes(variables))

    def entropy(self, variables: object = ("X1", "X2", "Y"), given: object = ()) -> float:
        """Entropy ``H(variables | given)`` in bits."""
        a = self._axes(variables)
        g = self._axes(given) if given not in ((), None, []) else ()
        joint = tuple(sorted(set(a) | set(g)))
        h = entropy(marginal(self._p, joint)) - (entropy(marginal(self._p, g)) if g else 0.0)
        return max(h, 0.0)

    def mutual_information(self, a: object, b: object, given: object = ()) -> float:
        """Mutual information ``I(a; b | given)`` in bits (clipped at 0 against rounding).

        >>> import pidlab
        >>> pidlab.examples.get("xor").mutual_information("X1", "Y")
        0.0
        """
        A, B = self._axes(a), self._axes(b)
        G = self._axes(given) if given not in ((), None, []) else ()
        if set(A) & set(B) or set(A) & set(G) or set(B) & set(G):
            raise InvalidDistributionError("the variable sets of I(a; b | given) must be disjoint.")

        def H(ax: tuple[int, ...]) -> float:
            return entropy(marginal(self._p, tuple(sorted(ax)))) if ax else 0.0

        val = H(A + G) + H(B + G) - H(A + B + G) - H(G)
        return max(val, 0.0) if abs(val) > 1e-15 else 0.0

    def coinformation(self) -> float:
        """Co-information ``I(X1;X2;Y) = I(X1;Y) + I(X2;Y) - I(X1,X2;Y)`` (McGill's sign), bits."""
        return (
            self.mutual_information(0, 2) + self.mutual_information(1, 2) - self.mutual_information((0, 1), 2)
        )

    def swap_sources(self) -> Distribution:
        """The same distribution with X1 and X2 exchanged."""
        return Distribution(
            np.transpose(self._p, (1, 0, 2)),
            labels=(self._labels[1], self._labels[0], self._labels[2]),
            names=(self._names[1], self._names[0], self._names[2]),
        )


def _as_1d(v: Iterable[Hashable], name: str) -> Iterable[Hashable]:
    if isinstance(v, np.ndarray):
        if v.ndim != 1:
            raise InvalidDistributionError(
                f"samples of {name} must be one-dimensional (one symbol per sample), got shape {v.shape}; "
                "discretise multi-dimensional data first (see pidlab.discretizers())."
            )
        return v.tolist()
    if isinstance(v, (str, bytes)):
        raise InvalidDistributionError(f"samples of {name} must be a sequence of symbols, not a single string.")
    if v is None or not hasattr(v, "__iter__"):
        raise InvalidDistributionError(
            f"samples of {name} must be a sequence of symbols (a list or a 1-D array); got {type(v).__name__}."
        )
    return v


def _plain(v: Hashable) -> Hashable:
    """numpy scalars to Python scalars so labels print and serialise cleanly."""
    return v.item() if isinstance(v, np.generic) else v
