"""Canonical bivariate gates, by name (uniform inputs unless stated).

>>> import pidlab
>>> pidlab.examples.names()[:4]
['xor', 'and', 'or', 'copy']
>>> pidlab.examples.get("XOR").shape
(2, 2, 2)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable

import numpy as np

from pidlab._distribution import Distribution
from pidlab.exceptions import InvalidDistributionError, UnknownNameError

__all__ = ["names", "get", "describe", "noisy"]


def _gate(fn: Callable[[int, int], Hashable], n1: int = 2, n2: int = 2, labels: list[Hashable] | None = None) -> Distribution:
    outs = [fn(a, b) for a, b in itertools.product(range(n1), range(n2))]
    ys = labels if labels is not None else sorted(set(outs), key=repr)
    # Keep integer targets in numeric order.
    if labels is None and all(isinstance(v, int) for v in ys):
        ys = sorted(ys)  # type: ignore[type-var]
    p = np.zeros((n1, n2, len(ys)))
    for a, b in itertools.product(range(n1), range(n2)):
        p[a, b, ys.index(fn(a, b))] += 1.0 / (n1 * n2)
    return Distribution(p, labels=(None, None, ys))


def _rdn() -> Distribution:
    p = np.zeros((2, 2, 2))
    p[0, 0, 0] = p[1, 1, 1] = 0.5
    return Distribution(p)


def _rdnxor() -> Distribution:
    # X1 = (r, a), X2 = (r, b), Y = (r, a xor b), r, a, b uniform bits: 1 bit redundant, 1 bit synergistic.
    p = np.zeros((4, 4, 4))
    for r, a, b in itertools.product(range(2), repeat=3):
        p[2 * r + a, 2 * r + b, 2 * r + (a ^ b)] += 1 / 8
    return Distribution(p)


def _rdnunqxor() -> Distribution:
    # X1 = (r, u1, a), X2 = (r, u2, b), Y = (r, u1, u2, a xor b): one bit of each atom.
    p = np.zeros((8, 8, 16))
    for r, u1, u2, a, b in itertools.product(range(2), repeat=5):
        x1 = 4 * r + 2 * u1 + a
        x2 = 4 * r + 2 * u2 + b
        y = 8 * r + 4 * u1 + 2 * u2 + (a ^ b)
        p[x1, x2, y] += 1 / 32
    return Distribution(p)


def _dxor() -> Distribution:
    # Y = (b1, b2) uniform on 4 symbols; X1 = b1, X2 = b1 xor b2. Each modality alone predicts a
    # different half of the label, so separately trained unimodal classifiers disagree on every
    # input; the second bit needs both modalities (synergy).
    p = np.zeros((2, 2, 4))
    for b1, b2 in itertools.product(range(2), repeat=2):
        p[b1, b1 ^ b2, 2 * b1 + b2] += 1 / 4
    return Distribution(p)


_GATES: dict[str, tuple[Callable[[], Distribution], str]] = {
    "xor": (lambda: _gate(lambda a, b: a ^ b), "Y = X1 xor X2: 1 bit of pure synergy"),
    "and": (lambda: _gate(lambda a, b: a & b), "Y = X1 and X2"),
    "or": (lambda: _gate(lambda a, b: a | b), "Y = X1 or X2"),
    "copy": (lambda: _gate(lambda a, b: 2 * a + b), "Y = (X1, X2) coded as 2*X1 + X2: 1 bit unique to each source"),
    "unq": (lambda: _gate(lambda a, b: a), "Y = X1: 1 bit unique to X1"),
    "rdn": (_rdn, "X1 = X2 = Y, a uniform bit: 1 bit of redundancy"),
    "sum": (lambda: _gate(lambda a, b: a + b), "Y = X1 + X2 in {0, 1, 2}"),
    "xorand": (
        lambda: _gate(lambda a, b: (a ^ b, a & b), labels=[(0, 0), (1, 0), (0, 1)]),
        "Y = (X1 xor X2, X1 and X2); the same information structure as SUM",
    ),
    "rdnxor": (_rdnxor, "X1 = (r, a), X2 = (r, b), Y = (r, a xor b): 1 bit redundant + 1 bit synergistic"),
    "rdnunqxor": (_rdnunqxor, "one bit each of redundancy, unique X1, unique X2 and synergy"),
    "dxor": (
        _dxor,
        "disagreement-XOR: Y = (b1, b2), X1 = b1, X2 = b1 xor b2; unimodal predictors disagree, b2 needs both",
    ),
}
_ALIASES = {"disagreement-xor": "dxor", "disagreement_xor": "dxor", "xor-and": "xorand", "rdn-xor": "rdnxor", "rdn-unq-xor": "rdnunqxor"}


def names() -> list[str]:
    """Names of the canonical gates, in a fixed order."""
    return list(_GATES)


def _key(name: str) -> str:
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _GATES:
        raise UnknownNameError(
            f"unknown example {name!r}; known examples: {', '.join(names())} (also 'disagreement-xor')."
        )
    return key


def get(name: str) -> Distribution:
    """The canonical gate ``name`` (case-insensitive) as a :class:`pidlab.Distribution`."""
    return _GATES[_key(name)][0]()


def describe(name: str) -> str:
    """One-line description of the gate ``name``."""
    return _GATES[_key(name)][1]


def noisy(name: str, noise: float) -> Distribution:
    """The gate ``name`` with its target passed through a symmetric channel of error ``noise``.

    With probability ``noise`` the target is replaced by a uniformly random other symbol
    (``noise`` in [0, 1 - 1/|Y|] keeps it informative). Useful for parametric families.
    """
    if not 0.0 <= float(noise) <= 1.0:
        raise InvalidDistributionError(f"noise must be a probability in [0, 1], got {noise!r}.")
    d = get(name)
    ny = d.shape[2]
    if ny == 1:
        return d
    ch = np.full((ny, ny), noise / (ny - 1))
    np.fill_diagonal(ch, 1.0 - noise)
    p = np.einsum("abk,ky->aby", d.p, ch)
    return Distribution(p / p.sum(), labels=(d.labels[0], d.labels[1], d.labels[2]), names=d.names)
