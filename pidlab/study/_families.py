r"""Distribution families of a comparative study.

A family is a small, picklable *specification* of a numbered set of joint distributions
``p[x1, x2, y]``. Item ``i`` depends only on the specification and on ``i`` (never on which
machine or chunk generates it), so a study ships chunk specifications (index ranges) to its
workers, not arrays, and gives bit-identical results whatever the executor and chunking.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from pidlab.exceptions import InvalidDistributionError, InvalidStudyError, MissingDependencyError, UnknownNameError

__all__ = [
    "Family",
    "Dirichlet",
    "Gates",
    "NoisyGates",
    "Arrays",
    "dirichlet",
    "gates",
    "noisy_gates",
    "from_arrays",
    "family",
    "families",
    "InvalidStudyError",
    "MissingDependencyError",
]

Arr = NDArray[np.float64]

#: Items per generation block of :class:`Dirichlet` (part of the generation recipe; fixed).
DIRICHLET_BLOCK = 1024


class Family(ABC):
    """Base class of distribution families (subclass it for a custom family).

    A family numbers its items ``0 .. len(family) - 1``. Contract for subclasses:

    * ``generate(start, stop)`` returns the arrays ``p[x1, x2, y]`` of items ``start..stop-1``
      and one dict of family parameters per item (plain str/int/float values, the same keys
      for every item: :attr:`param_names`);
    * item ``i`` depends only on the family's fields and on ``i`` (deterministic);
    * the object is small and picklable: it is sent to every worker. For the ``process``
      executor the class must be importable by the workers (defined in a module, not in a
      notebook); dask pickles notebook-defined classes by value.

    ``shard(start, stop)`` returns what is shipped for that index range (the family itself by
    default; :class:`Arrays` ships only its slice).
    """

    name: ClassVar[str] = "custom"
    param_names: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def generate(self, start: int, stop: int) -> tuple[list[Arr], list[dict[str, Any]]]:
        """Arrays and family parameters of items ``start .. stop-1``."""

    def shard(self, start: int, stop: int) -> Family:
        """The (picklable) object a worker needs to generate items ``start .. stop-1``."""
        return self

    def target(self) -> str:
        """Name of the target variable of every item (``"Y"``)."""
        return "Y"

    def max_cells(self) -> int | None:
        """Cells ``|X1||X2||Y|`` of the family's largest item, for the study's size estimates made
        before any item is generated; None when unknown (a custom family: override it)."""
        return None

    def generation_bytes(self, start: int, stop: int) -> float | None:
        """Memory that ``generate(start, stop)`` needs (None when unknown): by default the float64
        arrays of the items."""
        cells = self.max_cells()
        return None if cells is None else 8.0 * cells * (stop - start)

    def to_dict(self) -> dict[str, Any]:
        """The specification as plain Python types (JSON-ready)."""
        return {"family": self.name, "n": len(self)}


def _shape3(shape: Any) -> tuple[int, int, int]:
    try:
        dims = tuple(int(s) for s in shape)
        ok = len(dims) == 3 and all(float(s) == int(s) for s in shape)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidDistributionError(
            f"shape must be three integers (|X1|, |X2|, |Y|), got {shape!r}; e.g. shape=(2, 2, 2)."
        )
    if any(d < 1 for d in dims):
        raise InvalidDistributionError(
            f"shape {dims} has an alphabet of size < 1; every variable needs at least one symbol, "
            "e.g. shape=(2, 2, 2)."
        )
    return dims  # type: ignore[return-value]


def _count(n: Any, what: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or int(n) < 1:
        raise InvalidStudyError(f"`{what}` must be an integer >= 1 (the number of distributions); got {n!r}.")
    return int(n)


@dataclass(frozen=True)
class Dirichlet(Family):
    """``n`` random joints of a given shape, each drawn from a symmetric Dirichlet(alpha).

    Generation recipe (reproducible without pidlab): item ``i`` is row ``i % 1024`` of
    ``np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i // 1024,)))
    .dirichlet(np.full(K, alpha), size=1024).reshape(1024, *shape)`` with
    ``K = |X1||X2||Y|``. Item ``i`` does not depend on ``n``: a larger study extends a smaller
    one with the same seed. ``alpha = 1`` is the uniform distribution on the simplex (the
    paper's synthetic experiment); small ``alpha`` gives sparse tables.
    """

    shape: tuple[int, int, int] = (2, 2, 2)
    n: int = 1000
    alpha: float = 1.0
    seed: int = 0

    name: ClassVar[str] = "dirichlet"
    param_names: ClassVar[tuple[str, ...]] = ("alpha", "seed")

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", _shape3(self.shape))
        object.__setattr__(self, "n", _count(self.n))
        try:
            alpha = float(self.alpha)
        except (TypeError, ValueError):
            alpha = float("nan")
        if not (math.isfinite(alpha) and alpha > 0):
            raise InvalidStudyError(f"`alpha` of the Dirichlet family must be a finite number > 0; got {self.alpha!r}.")
        object.__setattr__(self, "alpha", alpha)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or int(self.seed) < 0:
            raise InvalidStudyError(f"`seed` must be an integer >= 0; got {self.seed!r}.")
        object.__setattr__(self, "seed", int(self.seed))

    def __len__(self) -> int:
        return self.n

    def max_cells(self) -> int:
        return math.prod(self.shape)

    def generation_bytes(self, start: int, stop: int) -> float:
        """Whole blocks of 1024 items are drawn, one at a time, and the items of the range kept."""
        return 8.0 * math.prod(self.shape) * (DIRICHLET_BLOCK + (stop - start))

    def _block(self, b: int) -> Arr:
        K = math.prod(self.shape)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(b,)))
        return rng.dirichlet(np.full(K, self.alpha), size=DIRICHLET_BLOCK).reshape(DIRICHLET_BLOCK, *self.shape)

    def generate(self, start: int, stop: int) -> tuple[list[Arr], list[dict[str, Any]]]:
        arrays: list[Arr] = []
        for b in range(start // DIRICHLET_BLOCK, (stop - 1) // DIRICHLET_BLOCK + 1 if stop > start else 0):
            blk = self._block(b)
            lo = max(start, b * DIRICHLET_BLOCK) - b * DIRICHLET_BLOCK
            hi = min(stop, (b + 1) * DIRICHLET_BLOCK) - b * DIRICHLET_BLOCK
            arrays.extend(blk[lo:hi])
        params = [{"alpha": self.alpha, "seed": self.seed} for _ in range(stop - start)]
        return arrays, params

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.name, "shape": list(self.shape), "n": self.n, "alpha": self.alpha,
                "seed": self.seed, "block": DIRICHLET_BLOCK}


def _gate_names(names: Iterable[str] | None) -> tuple[str, ...]:
    from pidlab import examples

    if names is None:
        return tuple(examples.names())
    if isinstance(names, str):
        names = [names]
    out = []
    for nm in names:
        examples.get(nm)  # raises UnknownNameError naming the known gates
        out.append(examples._key(nm))
    if not out:
        raise InvalidStudyError("the list of gates is empty; name at least one, e.g. names=['xor', 'and'].")
    return tuple(out)


@dataclass(frozen=True)
class Gates(Family):
    """The canonical gates of :mod:`pidlab.examples` (all of them by default), one item each."""

    names: tuple[str, ...] | None = None

    name: ClassVar[str] = "gates"
    param_names: ClassVar[tuple[str, ...]] = ("gate",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", _gate_names(self.names))

    def __len__(self) -> int:
        return len(self.names or ())

    def max_cells(self) -> int:
        from pidlab import examples

        return max(examples.get(g).p.size for g in (self.names or ()))

    def generate(self, start: int, stop: int) -> tuple[list[Arr], list[dict[str, Any]]]:
        from pidlab import examples

        sel = (self.names or ())[start:stop]
        return [examples.get(g).p for g in sel], [{"gate": g} for g in sel]

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.name, "n": len(self), "names": list(self.names or ())}


@dataclass(frozen=True)
class NoisyGates(Family):
    """Gates whose target passes through a symmetric channel, over a grid of noise levels.

    Item order: gate-major (for each gate, every noise level in the given order). Item for
    (gate, e) is :func:`pidlab.examples.noisy` ``(gate, e)``: with probability ``e`` the target
    is replaced by a uniformly random other symbol.
    """

    names: tuple[str, ...] | None = ("xor",)
    noise: tuple[float, ...] = tuple(float(x) for x in np.linspace(0.0, 0.5, 11))

    name: ClassVar[str] = "noisy"
    param_names: ClassVar[tuple[str, ...]] = ("gate", "noise")

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", _gate_names(self.names))
        try:
            grid = tuple(float(e) for e in np.atleast_1d(np.asarray(self.noise, dtype=float)))
        except (TypeError, ValueError):
            raise InvalidStudyError(f"`noise` must be a sequence of numbers in [0, 1]; got {self.noise!r}.") from None
        if not grid:
            raise InvalidStudyError("the noise grid is empty; pass e.g. noise=np.linspace(0, 0.5, 11).")
        bad = [e for e in grid if not (0.0 <= e <= 1.0)]
        if bad:
            raise InvalidStudyError(f"noise levels must be in [0, 1]; got {bad[:3]}. Use e.g. noise=np.linspace(0, 0.5, 11).")
        object.__setattr__(self, "noise", grid)

    def __len__(self) -> int:
        return len(self.names or ()) * len(self.noise)

    def max_cells(self) -> int:
        from pidlab import examples

        return max(examples.get(g).p.size for g in (self.names or ()))

    def generate(self, start: int, stop: int) -> tuple[list[Arr], list[dict[str, Any]]]:
        from pidlab import examples

        k = len(self.noise)
        arrays, params = [], []
        for i in range(start, stop):
            g, e = (self.names or ())[i // k], self.noise[i % k]
            arrays.append(examples.noisy(g, e).p)
            params.append({"gate": g, "noise": e})
        return arrays, params

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.name, "n": len(self), "names": list(self.names or ()), "noise": list(self.noise)}


@dataclass(frozen=True)
class Arrays(Family):
    """User-supplied joints (arrays or :class:`pidlab.Distribution` objects), validated up front.

    These cannot be regenerated by the workers, so each chunk ships its own slice.
    """

    arrays: tuple[Arr, ...] = ()
    labels: tuple[str, ...] | None = None
    offset: int = 0
    n: int = -1
    target_name: str = "Y"

    name: ClassVar[str] = "arrays"
    param_names: ClassVar[tuple[str, ...]] = ("label",)

    def __len__(self) -> int:
        return self.n if self.n >= 0 else len(self.arrays)

    def shard(self, start: int, stop: int) -> Arrays:
        lo, hi = start - self.offset, stop - self.offset
        return Arrays(self.arrays[lo:hi], None if self.labels is None else self.labels[lo:hi],
                      offset=start, n=len(self), target_name=self.target_name)

    def generate(self, start: int, stop: int) -> tuple[list[Arr], list[dict[str, Any]]]:
        lo, hi = start - self.offset, stop - self.offset
        if lo < 0 or hi > len(self.arrays):
            raise InvalidStudyError(f"this shard holds items {self.offset}..{self.offset + len(self.arrays) - 1}, "
                                    f"not {start}..{stop - 1}.")
        labels = self.labels if self.labels is not None else tuple(str(self.offset + j) for j in range(len(self.arrays)))
        return list(self.arrays[lo:hi]), [{"label": labels[j]} for j in range(lo, hi)]

    def target(self) -> str:
        return self.target_name

    def max_cells(self) -> int:
        return max((a.size for a in self.arrays), default=0)

    def generation_bytes(self, start: int, stop: int) -> float:
        return 8.0 * self.max_cells() * (stop - start)  # copies of the slice (the arrays are already held)

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.name, "n": len(self),
                "shapes": sorted({"x".join(map(str, a.shape)) for a in self.arrays})}


def dirichlet(shape: Sequence[int] = (2, 2, 2), n: int = 1000, *, alpha: float = 1.0, seed: int = 0) -> Dirichlet:
    """``n`` random joints of ``shape`` from a symmetric Dirichlet(``alpha``), reproducible from ``seed``.

    Examples
    --------
    >>> from pidlab.study import dirichlet
    >>> fam = dirichlet((2, 2, 2), n=3, seed=0)
    >>> arrays, params = fam.generate(0, 3)
    >>> len(arrays), arrays[0].shape, params[0]
    (3, (2, 2, 2), {'alpha': 1.0, 'seed': 0})
    """
    return Dirichlet(tuple(shape) if not isinstance(shape, str) else shape, n, alpha, seed)  # type: ignore[arg-type]


def gates(names: Iterable[str] | None = None) -> Gates:
    """The canonical gates (``pidlab.examples.names()`` by default)."""
    return Gates(names if names is None else tuple([names] if isinstance(names, str) else names))


def noisy_gates(names: Iterable[str] | str = ("xor",), noise: Iterable[float] = tuple(np.linspace(0.0, 0.5, 11))) -> NoisyGates:
    """Gates with a noisy target over a grid of noise levels (default XOR, noise 0, 0.05, ..., 0.5).

    Examples
    --------
    >>> from pidlab.study import noisy_gates
    >>> fam = noisy_gates("xor", noise=[0.0, 0.1])
    >>> len(fam), fam.generate(1, 2)[1]
    (2, [{'gate': 'xor', 'noise': 0.1}])
    """
    return NoisyGates(tuple([names] if isinstance(names, str) else names), tuple(noise))


def from_arrays(items: Iterable[Any], labels: Iterable[str] | None = None, *, normalize: bool = False) -> Arrays:
    """Wrap user-supplied joints ``p[x1, x2, y]`` (arrays or Distributions) as a family.

    Every item is validated now (a malformed table raises :class:`InvalidDistributionError`
    naming its index). Shapes may differ between items.
    """
    from pidlab._distribution import Distribution

    arrays: list[Arr] = []
    targets = set()
    for i, x in enumerate(items):
        try:
            d = x if isinstance(x, Distribution) else Distribution(x, normalize=normalize)
        except InvalidDistributionError as exc:
            raise InvalidDistributionError(f"item {i} of the supplied distributions: {exc}") from None
        arrays.append(np.array(d.p, dtype=float))
        targets.add(d.target)
    if not arrays:
        raise InvalidStudyError("the supplied iterable of distributions is empty; pass at least one p[x1, x2, y].")
    if len(targets) > 1:
        raise InvalidStudyError(f"the supplied distributions name different targets {sorted(targets)}; "
                                "a study compares one target: rename them to a common target name.")
    lab = None
    if labels is not None:
        lab = tuple(str(v) for v in labels)
        if len(lab) != len(arrays):
            raise InvalidStudyError(f"got {len(lab)} labels for {len(arrays)} distributions; pass one label per item.")
    for a in arrays:
        a.setflags(write=False)
    return Arrays(tuple(arrays), lab, 0, len(arrays), targets.pop())


_FAMILIES = {"dirichlet": dirichlet, "gates": gates, "noisy": noisy_gates}


def families() -> list[str]:
    """Names accepted by :func:`family`."""
    return list(_FAMILIES)


def family(name: str, **params: Any) -> Family:
    """Build a named family: ``"dirichlet"`` (shape, n, alpha, seed), ``"gates"`` (names) or
    ``"noisy"`` (names, noise).

    Examples
    --------
    >>> from pidlab.study import family
    >>> len(family("dirichlet", shape=(2, 2, 3), n=10, seed=1))
    10
    """
    key = str(name).strip().lower()
    if key not in _FAMILIES:
        raise UnknownNameError(
            f"unknown distribution family {name!r}; known families: {', '.join(families())}. "
            "For your own arrays use pidlab.study.from_arrays(...), or subclass pidlab.study.Family."
        )
    try:
        return _FAMILIES[key](**params)  # type: ignore[operator]
    except TypeError as exc:
        raise InvalidStudyError(f"bad parameters for family {key!r}: {exc}") from None

