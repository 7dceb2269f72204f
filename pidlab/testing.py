"""Checks that plugins of every kind (measures, solvers, discretizers, couplings) can run in
their own test suites, and a fake solver for testing what the host does with a bad backend.

Each ``check_*`` takes a class, an instance or a registered name and raises
:class:`AssertionError` on the first property that fails; pidlab runs them on every registered
plugin, the built-ins and the installed third-party ones alike (tests/test_conformance.py):

>>> import pidlab
>>> class MinMI(pidlab.Measure):
...     name = "minmi"
...     def compute(self, dist, *, solver=None):
...         R = min(dist.mutual_information(0, 2), dist.mutual_information(1, 2))
...         return pidlab.PIDResult.from_redundancy(dist, self.name, R)
>>> pidlab.testing.check_measure(MinMI)
>>> pidlab.testing.check_coupling("greedy")
>>> pidlab.testing.check_discretizer("quantile")

:func:`register_fake_solver` registers, for the duration of a ``with`` block, a BROJA backend
that answers badly on purpose (an uncertified point, an error, NaN, ...) and is tried before
every real one, so the host's certification and hand-over run in milliseconds:

>>> import numpy as np
>>> p = np.random.default_rng(0).dirichlet(np.ones(8)).reshape(2, 2, 2)
>>> with pidlab.testing.register_fake_solver("fake-doc", behaviour="uncertified") as fake:
...     r = pidlab.decompose(p)
>>> len(fake.calls), r.solver != "fake-doc", str(r.status)
(1, True, 'optimal')
>>> r.notes[-1].startswith("solvers tried in turn: fake-doc: optimal_inaccurate")
True
>>> "fake-doc" in pidlab.solvers()   # unregistered on leaving the block
False
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from pidlab._contracts import Solver
from pidlab._distribution import Distribution

if TYPE_CHECKING:
    from pidlab._broja import BrojaProblem, SolveResult

__all__ = [
    "FAKE_BEHAVIOURS",
    "FakeSolver",
    "GATE_VALUES",
    "check_coupling",
    "check_discretizer",
    "check_measure",
    "check_solver",
    "copy_distributions",
    "gate_distributions",
    "random_distributions",
    "register_fake_solver",
]

_NAME_RE = re.compile(r"^[a-z][a-z0-9_.-]*$")


def random_distributions(shape: tuple[int, int, int] = (2, 2, 2), n: int = 5, seed: int = 0) -> list[Distribution]:
    """``n`` random Dirichlet(1) distributions (fixed seed), some with zero cells."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
        if k % 2 == 1:
            p[rng.random(shape) < 0.2] = 0.0
            p = p / p.sum()
        out.append(Distribution(p))
    return out


def _approx(a: float, b: float, tol: float, what: str) -> None:
    if not abs(a - b) <= tol:
        raise AssertionError(f"{what}: {a!r} != {b!r} (tolerance {tol:g})")


def _instance(kind: str, plugin: Any) -> Any:
    """A registered name -> a new instance of its class; a class -> an instance; else as is."""
    if isinstance(plugin, str):
        from pidlab._plugins import lookup

        plugin = lookup(kind, plugin).cls
    return plugin() if isinstance(plugin, type) else plugin


def _check_contract(kind: str, inst: Any, methods: tuple[str, ...]) -> str:
    """The attributes every plugin of every kind has; returns its name."""
    who = f"{kind} {type(inst).__qualname__}"
    name = getattr(inst, "name", None)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise AssertionError(f"{who}: 'name' must be a lower-case string such as 'my-{kind}', got {name!r}")
    aliases = getattr(inst, "aliases", ())
    if not isinstance(aliases, (tuple, list)) or not all(isinstance(a, str) and _NAME_RE.match(a) for a in aliases):
        raise AssertionError(f"{who} ({name!r}): 'aliases' must be a tuple of lower-case strings, got {aliases!r}")
    for attr in ("reference", "description"):
        if not isinstance(getattr(inst, attr, ""), str):
            raise AssertionError(f"{who} ({name!r}): {attr!r} must be a string")
    for m in methods:
        if not callable(getattr(inst, m, None)):
            raise AssertionError(f"{who} ({name!r}) has no method {m}()")
    if callable(getattr(inst, "availability", None)):
        av = inst.availability()
        if not (isinstance(av, bool) or isinstance(getattr(av, "available", None), bool)):
            raise AssertionError(f"{who} ({name!r}): availability() must return a pidlab.Availability, got {av!r}")
    return name


def _finite(v: Any, what: str) -> float:
    if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool) or not math.isfinite(v):
        raise AssertionError(f"{what} must be a finite number, got {v!r}")
    return float(v)


def _gate(n1: int, n2: int, ny: int, rule: Callable[[int, int], int]) -> Distribution:
    """Independent uniform inputs and ``y = rule(x1, x2)``."""
    p = np.zeros((n1, n2, ny))
    for a, b in itertools.product(range(n1), range(n2)):
        p[a, b, rule(a, b)] += 1.0 / (n1 * n2)
    return Distribution(p)


def gate_distributions() -> dict[str, Distribution]:
    """The canonical gates of :data:`GATE_VALUES`, built here from their rules (uniform inputs)."""
    return {
        "xor": _gate(2, 2, 2, lambda a, b: a ^ b),
        "and": _gate(2, 2, 2, lambda a, b: a & b),
        "copy": _gate(2, 2, 4, lambda a, b: 2 * a + b),
        "unq": _gate(2, 2, 2, lambda a, b: a),
        "rdn": Distribution(np.array([[[0.5, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.5]]])),  # X1 = X2 = Y
    }


def _hb(p: float) -> float:
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


#: I(Xi;Y) of the AND gate: h(1/4) - 1/2 bits (knowing one input leaves Y a fair coin half the time).
_I_AND = _hb(0.25) - 0.5
#: ``I(X1,X2;Y) - I(X1;Y) - I(X2;Y)`` of AND: 1 - h(1/4) bits.
_WMS_AND = 1.0 - _hb(0.25)

#: Published values (bits) of the canonical gates for the measures that have them, keyed by measure
#: name; :func:`check_measure` compares a measure whose name (or an alias) is here against them.
#: Full decompositions give ``(R, U1, U2, S)``, net measures their single value.
#:
#: * ``broja``: Bertschinger, Rauh, Olbrich, Jost & Ay, *Quantifying unique information*, Entropy 16
#:   (2014) 2161, and the table of Griffith & Koch, *Quantifying synergistic mutual information*
#:   (2014): XOR one synergistic bit, AND R = I(Xi;Y) and S = 1/2, COPY two unique bits, UNQ one
#:   unique bit, RDN one redundant bit.
#: * ``imin``: Williams & Beer, *Nonnegative decomposition of multivariate information*,
#:   arXiv:1004.2515 (2010); COPY gives one redundant and one synergistic bit (the criticism of
#:   Harder, Salge & Polani, Phys. Rev. E 87, 2013).
#: * ``mmi``: Barrett, Phys. Rev. E 91 (2015) 052802, R = min_i I(Xi;Y) (COPY as I_min).
#: * ``wms`` (S - R) and ``ci`` (R - S, McGill 1954): closed forms I(X1,X2;Y) - I(X1;Y) - I(X2;Y)
#:   and its negative (Griffith & Koch 2014; Williams & Beer 2010).
GATE_VALUES: dict[str, dict[str, tuple[float, ...] | float]] = {
    "broja": {"xor": (0, 0, 0, 1), "and": (_I_AND, 0, 0, 0.5), "copy": (0, 1, 1, 0), "unq": (0, 1, 0, 0),
              "rdn": (1, 0, 0, 0)},
    "imin": {"xor": (0, 0, 0, 1), "and": (_I_AND, 0, 0, 0.5), "copy": (1, 0, 0, 1), "unq": (0, 1, 0, 0),
             "rdn": (1, 0, 0, 0)},
    "mmi": {"xor": (0, 0, 0, 1), "and": (_I_AND, 0, 0, 0.5), "copy": (1, 0, 0, 1), "unq": (0, 1, 0, 0),
            "rdn": (1, 0, 0, 0)},
    "wms": {"xor": 1.0, "and": _WMS_AND, "copy": 0.0, "unq": 0.0, "rdn": -1.0},
    "ci": {"xor": -1.0, "and": -_WMS_AND, "copy": 0.0, "unq": 0.0, "rdn": 1.0},
}


def copy_distributions(n: int = 3, seed: int = 4) -> list[Distribution]:
    """Distributions whose second source is a copy of the first (``X2 = X1``), for self-redundancy."""
    rng = np.random.default_rng(seed)
    out = []
    for k, (nx, ny) in enumerate([(2, 2), (3, 4), (4, 3)][:n]):
        q = rng.dirichlet(np.ones(nx * ny)).reshape(nx, ny)
        if k == 2:
            q[0, 0] = 0.0
            q /= q.sum()
        p = np.zeros((nx, nx, ny))
        p[np.arange(nx), np.arange(nx), :] = q
        out.append(Distribution(p))
    return out


def _gap(r: Any) -> float:
    """The certified gap a result declares (its certificate's), 0 when it declares none."""
    gap = getattr(getattr(r, "certificate", None), "gap", None)
    return float(gap) if isinstance(gap, (int, float)) and math.isfinite(gap) and gap > 0 else 0.0


def _approx_atom(r: Any, atom: str, want: float, tol: float, what: str) -> None:
    """``atom`` of ``r`` equals ``want`` within ``tol``, or within the certified interval the
    result declares for it (``bracket[atom]``, or its certificate's gap) widened by ``tol``."""
    bracket = getattr(r, "bracket", None) or {}
    if atom in bracket:
        lo, hi = (float(v) for v in bracket[atom])
        if lo - tol <= want <= hi + tol:
            return
    _approx(float(getattr(r, atom)), want, tol + _gap(r), what)


def _check_informations(name: str, r: Any, d: Distribution, tol: float, where: str) -> None:
    for attr, value in (("I_x1y", d.mutual_information(0, 2)), ("I_x2y", d.mutual_information(1, 2)),
                        ("I_x1x2y", d.mutual_information((0, 1), 2))):
        got = getattr(r, attr, None)
        if got is not None:
            _approx(_finite(got, f"measure {name!r}: {attr} {where}"), value, tol, f"measure {name!r}: {attr} {where}")


def _check_one(name: str, kind: str, r: Any, d: Distribution, tol: float, where: str) -> None:
    """The properties of one result that hold for every measure of its kind."""
    if getattr(r, "measure", None) != name:
        raise AssertionError(f"measure {name!r}: its results must carry measure={name!r}, got {getattr(r, 'measure', None)!r}")
    _check_informations(name, r, d, tol, where)
    I1, I2, I12 = d.mutual_information(0, 2), d.mutual_information(1, 2), d.mutual_information((0, 1), 2)
    if kind == "pid":
        for atom in ("R", "U1", "U2", "S"):
            _finite(getattr(r, atom), f"measure {name!r}: atom {atom} {where}")
        t = tol + _gap(r)
        _approx(r.R + r.U1, I1, t, f"measure {name!r}: R + U1 = I(X1;Y) {where}")
        _approx(r.R + r.U2, I2, t, f"measure {name!r}: R + U2 = I(X2;Y) {where}")
        _approx(r.R + r.U1 + r.U2 + r.S, I12, t, f"measure {name!r}: R + U1 + U2 + S = I(X1,X2;Y) {where}")
        return
    net = _finite(getattr(r, "net", None), f"measure {name!r}: net {where}")
    net_kind = getattr(r, "net_kind", None)
    # S - R = I(X1,X2;Y) - I(X1;Y) - I(X2;Y) for EVERY decomposition with the consistency identities.
    if net_kind == "net synergy":
        _approx(net, I12 - I1 - I2, tol, f"measure {name!r}: a net synergy S - R = I(X1,X2;Y) - I(X1;Y) - I(X2;Y) {where}")
    elif net_kind == "net redundancy":
        _approx(net, I1 + I2 - I12, tol, f"measure {name!r}: a net redundancy R - S = I(X1;Y) + I(X2;Y) - I(X1,X2;Y) {where}")
    else:
        raise AssertionError(f"measure {name!r}: a net result needs net_kind 'net synergy' or 'net redundancy', got {net_kind!r}")


def check_measure(measure: Any, *, tol: float = 1e-7, solver: Any = None, gate_values: Any = None) -> None:
    """Assert the properties every bivariate PID measure must have.

    The contract: a lower-case ``name``, ``kind`` ``"pid"`` or ``"net"``, results labelled with
    the measure's name, finite in bits and carrying the distribution's own informations
    (``I_x1y``, ``I_x2y``, ``I_x1x2y``), on random tables and on degenerate ones (a single cell, a
    constant target). For a full decomposition (``kind == "pid"``): the consistency identities of
    docs/theory.rst §1 (R+U1 = I(X1;Y), R+U2 = I(X2;Y), R+U1+U2+S = I(X1,X2;Y)), symmetry
    (swapping the sources swaps U1 and U2), invariance under relabelling the alphabets and
    self-redundancy (Williams & Beer 2010): with the second source a copy of the first,
    R(X1, X1 -> Y) = I(X1;Y). For a net measure, its own identity: a net synergy is
    S - R = I(X1,X2;Y) - I(X1;Y) - I(X2;Y) and a net redundancy its negative, for every
    decomposition satisfying the consistency identities; symmetry and relabelling invariance.

    Where the measure is one with published values (its name or an alias is a key of
    :data:`GATE_VALUES`: ``broja``, ``imin``, ``mmi``, ``wms``, ``ci``), it must reproduce them on
    the canonical gates (XOR, AND, COPY, UNQ, RDN); for any other measure only the universal
    properties above are checked, unless ``gate_values`` (gate name -> ``(R, U1, U2, S)`` or the
    net value, gates from :func:`gate_distributions`) gives its published values.

    The batch path is checked too: ``compute_many`` (the measure's own vectorised one, or the
    contract's default loop over ``compute``) on a small stack of tables of one shape must agree
    item by item with ``compute``, return finite arrays of shape ``(N,)`` and leave its input
    unchanged.

    ``measure`` is a class, an instance or a registered name.
    """
    inst = _instance("measure", measure)
    name = _check_contract("measure", inst, ("compute",))
    kind = getattr(inst, "kind", "pid")
    if kind not in ("pid", "net"):
        raise AssertionError(f"measure {name!r}: kind must be 'pid' or 'net', got {kind!r}")
    kw = {"solver": solver} if getattr(inst, "uses_solver", False) else {}
    rng = np.random.default_rng(1)
    degenerate = [Distribution(np.ones((1, 1, 1))),
                  Distribution(np.random.default_rng(5).dirichlet(np.ones(6)).reshape(2, 3, 1))]
    for k, d in enumerate(random_distributions((2, 2, 2), 3) + random_distributions((3, 2, 4), 3, seed=2) + degenerate):
        where = f"(on a table of shape {d.shape}, case {k + 1})"
        r = inst.compute(d, **kw)
        _check_one(name, kind, r, d, tol, where)
        s = inst.compute(d.swap_sources(), **kw)
        _check_one(name, kind, s, d.swap_sources(), tol, where + " with the sources swapped")
        if kind == "pid":
            _approx(s.U1, r.U2, tol, f"measure {name!r}: swapping sources swaps U1 and U2 {where}")
            _approx(s.R, r.R, tol, f"measure {name!r}: swapping sources keeps R {where}")
        else:
            _approx(s.net, r.net, tol, f"measure {name!r}: swapping sources keeps the net value {where}")
        perm = tuple(rng.permutation(n) for n in d.shape)
        dp = Distribution(d.p[np.ix_(*perm)])
        rp = inst.compute(dp, **kw)
        for atom in ("R", "U1", "U2", "S", "net"):
            a, b = getattr(r, atom), getattr(rp, atom)
            if (a is None) != (b is None):
                raise AssertionError(f"measure {name!r}: relabelling changed whether {atom} is defined {where}")
            if a is not None:
                _approx(a, b, tol, f"measure {name!r}: relabelling invariance of {atom} {where}")
    if kind == "pid":
        for d in copy_distributions():
            where = f"(second source a copy of the first, shape {d.shape})"
            r = inst.compute(d, **kw)
            _check_one(name, kind, r, d, tol, where)
            _approx_atom(r, "R", d.mutual_information(0, 2), tol,
                         f"measure {name!r}: self-redundancy R(X1, X1 -> Y) = I(X1;Y) {where}")
    if gate_values is None:
        keys = [name, *getattr(inst, "aliases", ())]
        gate_values = next((GATE_VALUES[k] for k in keys if k in GATE_VALUES), None)
    if gate_values:
        gates = gate_distributions()
        for g, want in gate_values.items():
            if g not in gates:
                raise AssertionError(f"gate_values: unknown gate {g!r}; known: {', '.join(gates)}")
            d = gates[g]
            r = inst.compute(d, **kw)
            _check_one(name, kind, r, d, tol, f"(gate {g.upper()})")
            if kind == "pid":
                for atom, w in zip(("R", "U1", "U2", "S"), want):
                    _approx_atom(r, atom, float(w), tol,
                                 f"measure {name!r}: {atom} of gate {g.upper()} against its published value "
                                 f"(all four: {tuple(round(float(x), 6) for x in want)}; see pidlab.testing.GATE_VALUES)")
            else:
                _approx(float(r.net), float(want), tol,
                        f"measure {name!r}: gate {g.upper()} against its published net value")
    _check_batch(name, inst, kind, kw, tol)


def _check_batch(name: str, inst: Any, kind: str, kw: dict[str, Any], tol: float) -> None:
    """``compute_many`` (the measure's vectorised one, or the contract's default loop) on a small
    stack agrees item by item with ``compute``, returns finite arrays of shape ``(N,)`` for the
    measure's atoms and leaves its input unchanged."""
    keys = ("R", "U1", "U2", "S") if kind == "pid" else ("net",)
    for shape, seed in (((2, 2, 2), 11), ((3, 2, 4), 12)):
        ds = random_distributions(shape, 4, seed=seed)
        if shape == (2, 2, 2):
            ds.append(gate_distributions()["and"])  # zeros in the joint
        ps = np.stack([d.p for d in ds])
        before = ps.copy()
        where = f"(compute_many on a stack of {len(ds)} tables of shape {shape})"
        got = inst.compute_many(ps, **kw)
        if not np.array_equal(ps, before):
            raise AssertionError(f"measure {name!r}: compute_many changed the stack it was given {where}")
        if not isinstance(got, dict):
            raise AssertionError(f"measure {name!r}: compute_many must return a dict of arrays, got "
                                 f"{type(got).__name__} {where}")
        for k in keys:
            if k not in got:
                raise AssertionError(f"measure {name!r}: compute_many returned no {k!r} {where}")
            v = np.asarray(got[k], dtype=np.float64)
            if v.shape != (len(ds),):
                raise AssertionError(f"measure {name!r}: compute_many returned {k!r} of shape {v.shape}, "
                                     f"expected ({len(ds)},) {where}")
            for i, d in enumerate(ds):
                r = inst.compute(d, **kw)
                one = _finite(getattr(r, k), f"measure {name!r}: {k} of compute on item {i} {where}")
                many = _finite(v[i], f"measure {name!r}: {k} of item {i} {where}")
                _approx(many, one, tol + _gap(r),
                        f"measure {name!r}: compute_many and compute disagree on {k} of item {i} {where}")


def check_solver(solver: Any, *, reference: str = "clarabel", tol: float = 1e-6) -> None:
    """Assert a BROJA solver has the solver contract, agrees with a reference backend and that
    its certificate holds.

    The contract: a lower-case ``name``, an int ``priority``, ``availability()`` saying it can run
    here, ``can_solve`` and ``solve``. ``solver`` is a class, an instance or a registered name.
    """
    from pidlab._broja import BrojaProblem
    from pidlab._solvers import solve_broja

    inst = _instance("solver", solver)
    name = _check_contract("solver", inst, ("solve", "availability"))
    if not isinstance(getattr(inst, "priority", 100), int):
        raise AssertionError(f"solver {name!r}: priority must be an int, got {getattr(inst, 'priority', None)!r}")
    av = inst.availability()
    if not getattr(av, "available", av):
        raise AssertionError(f"solver {name!r} is not available here: {getattr(av, 'reason', None)}")
    for shape, seed in itertools.product([(2, 2, 2), (3, 3, 2), (4, 3, 3)], [0, 1]):
        for d in random_distributions(shape, 2, seed):
            prob = BrojaProblem(d.p.sum(1), d.p.sum(0))
            mine = solve_broja(prob, solver if isinstance(solver, str) else inst, joint=d.p)
            ref = solve_broja(prob, reference, joint=d.p)
            _approx(mine.m, ref.m, tol, f"m* against {reference} on shape {shape}")
            c = mine.certificate
            if not c.m_lower - 1e-9 <= ref.m <= c.m_upper + 1e-9:
                raise AssertionError(f"certificate [{c.m_lower}, {c.m_upper}] excludes the {reference} optimum {ref.m}")


# --------------------------------------------------------------------------- discretizers
def _default_samples() -> Any:
    """180 samples of 3 features in four separated groups, rounded (so some rows repeat)."""
    rng = np.random.default_rng(7)
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 0.0, 1.0], [0.0, 4.0, -1.0], [4.0, 4.0, 2.0]])
    return (centres[rng.integers(0, 4, 180)] + rng.normal(size=(180, 3))).round(1)


def _is_not_fitted(exc: BaseException) -> bool:
    return any(c.__name__ == "NotFittedError" for c in type(exc).__mro__)


def check_discretizer(discretizer: Any, *, X: Any = None, random_state: int = 0) -> None:
    """Assert the discretizer contract (scikit-learn's estimator contract, as the host uses it).

    * a lower-case ``name`` and callable ``fit`` and ``transform``;
    * ``get_params``/``set_params`` (when present): ``set_params(**get_params())`` returns the
      instance and changes nothing; ``fit`` leaves the parameters as they were;
    * no learned attribute (a name ending in ``_``) before ``fit``, and ``transform`` before
      ``fit`` raises a ``NotFittedError`` (pidlab's, or any exception class of that name);
    * ``fit(X)`` returns the instance itself;
    * ``transform(X)`` returns a 1-D integer array, one non-negative code per sample, below
      ``n_symbols_`` when the discretizer has that attribute;
    * the codes of a sample depend on that sample only (transforming a subset or a reordering
      gives the same codes) and transforming twice gives the same codes;
    * determinism: two fits of copies with the same ``random_state`` (when a parameter of that
      name exists; otherwise as they are) give the same codes;
    * ``fit_transform(X)`` (when present) equals ``fit(X).transform(X)``.

    Parameters
    ----------
    discretizer : class, instance or str
        A class (instantiated with its defaults), an unfitted instance or a registered name.
    X : array_like, optional
        Samples to fit (default: 180 rounded samples of 3 numeric features in four groups).
    random_state : int, default 0
        Seed given to both copies in the determinism check.
    """
    inst = _instance("discretizer", discretizer)
    name = _check_contract("discretizer", inst, ("fit", "transform"))
    who = f"discretizer {name!r}"
    X = _default_samples() if X is None else X
    n = len(X)
    has_params = callable(getattr(inst, "get_params", None))
    params = inst.get_params() if has_params else {}
    if has_params:
        if not isinstance(params, dict):
            raise AssertionError(f"{who}: get_params() must return a dict, got {type(params).__name__}")
        if callable(getattr(inst, "set_params", None)):
            if inst.set_params(**params) is not inst:
                raise AssertionError(f"{who}: set_params() must return the instance itself")
            if repr(inst.get_params()) != repr(params):
                raise AssertionError(f"{who}: set_params(**get_params()) changed the parameters")
    learned = sorted(k for k in vars(inst) if k.endswith("_") and not k.startswith("__"))
    if learned:
        raise AssertionError(f"{who}: an unfitted instance has learned attributes {learned}; set them in fit")
    twins = [copy.deepcopy(inst), copy.deepcopy(inst)]
    try:
        inst.transform(X)
    except Exception as exc:
        if not _is_not_fitted(exc):
            raise AssertionError(f"{who}: transform before fit must raise NotFittedError, got {exc!r}") from exc
    else:
        raise AssertionError(f"{who}: transform before fit must raise NotFittedError; it returned codes")
    if inst.fit(X) is not inst:
        raise AssertionError(f"{who}: fit() must return the instance itself")
    if has_params and repr(inst.get_params()) != repr(params):
        raise AssertionError(f"{who}: fit() changed the parameters {params} -> {inst.get_params()}")
    codes = inst.transform(X)
    if not isinstance(codes, np.ndarray) or codes.ndim != 1 or codes.shape[0] != n:
        raise AssertionError(f"{who}: transform must return a 1-D array of {n} codes, got {type(codes).__name__} "
                             f"of shape {getattr(codes, 'shape', None)}")
    if codes.dtype.kind not in "iu" or (n and int(codes.min()) < 0):
        raise AssertionError(f"{who}: codes must be non-negative integers, got dtype {codes.dtype} "
                             f"(min {codes.min() if n else None})")
    k = getattr(inst, "n_symbols_", None)
    if k is not None:
        if not isinstance(k, (int, np.integer)) or k < 1 or int(codes.max()) >= k:
            raise AssertionError(f"{who}: codes must lie in 0..n_symbols_-1 (n_symbols_={k!r}, max code {codes.max()})")
    if not np.array_equal(inst.transform(X), codes):
        raise AssertionError(f"{who}: transforming the same samples twice gave different codes")
    rows = X if hasattr(X, "iloc") else np.asarray(X)
    sub, rev = (rows.iloc[:7], rows.iloc[::-1]) if hasattr(rows, "iloc") else (rows[:7], rows[::-1])
    if not np.array_equal(inst.transform(sub), codes[:7]) or not np.array_equal(inst.transform(rev), codes[::-1]):
        raise AssertionError(f"{who}: a sample's code must depend on that sample only (a subset or a reordering "
                             "of the samples changed codes)")
    if has_params and "random_state" in params:
        for t in twins:
            t.set_params(random_state=random_state)
    a, b = (t.fit(X).transform(X) for t in twins)
    if not np.array_equal(a, b):
        raise AssertionError(f"{who}: two fits with the same random_state={random_state} gave different codes")
    if callable(getattr(inst, "fit_transform", None)):
        again = copy.deepcopy(twins[0])
        if not np.array_equal(np.asarray(again.fit_transform(X)), a):
            raise AssertionError(f"{who}: fit_transform(X) differs from fit(X).transform(X)")


# --------------------------------------------------------------------------- couplings
def _coupling_cases() -> list[tuple[np.ndarray, ...]]:
    """Marginal pairs (and triples) small enough for the exact minimum: unsorted, with zero atoms."""
    rng = np.random.default_rng(3)
    cases: list[tuple[np.ndarray, ...]] = [
        (np.array([0.6, 0.4]), np.array([0.4, 0.3, 0.3])),
        (np.array([1.0]), np.full(4, 0.25)),
        (np.array([0.5, 0.5]), np.array([0.5, 0.5])),
        (np.array([0.1, 0.0, 0.7, 0.2]), np.array([0.25, 0.05, 0.0, 0.7])),
    ]
    for m, k in ((3, 4), (4, 4), (4, 2)):
        cases.append((rng.dirichlet(np.ones(m)), rng.dirichlet(np.ones(k))))
    return cases


def _h(v: np.ndarray) -> float:
    v = v[v > 0]
    return float(-(v * np.log2(v)).sum()) + 0.0


def _check_coupling_result(who: str, name: str, r: Any, marginals: tuple[np.ndarray, ...], tol: float) -> float:
    k = len(marginals)
    shape = tuple(m.size for m in marginals)
    if tuple(getattr(r, "shape", ())) != shape:
        raise AssertionError(f"{who}: result shape {getattr(r, 'shape', None)} != the marginals' lengths {shape}")
    if getattr(r, "method", name) != name:
        raise AssertionError(f"{who}: result method {r.method!r} != the plugin's name {name!r}")
    if getattr(r, "units", "bits") != "bits":
        raise AssertionError(f"{who}: results are in bits, got units={r.units!r}")
    values = np.asarray(r.values)
    indices = tuple(np.asarray(ix) for ix in r.indices)
    if len(indices) != k or any(ix.shape != values.shape or ix.dtype.kind not in "iu" for ix in indices):
        raise AssertionError(f"{who}: indices must be {k} integer arrays as long as values")
    if values.dtype.kind != "f" or not np.isfinite(values).all() or (values.size and values.min() <= 0):
        raise AssertionError(f"{who}: values must be finite positive floats (zero cells dropped)")
    for ix, n in zip(indices, shape):
        if ix.size and (ix.min() < 0 or ix.max() >= n):
            raise AssertionError(f"{who}: an index lies outside its marginal (length {n})")
    cells = set(zip(*(ix.tolist() for ix in indices)))
    if len(cells) != values.size:
        raise AssertionError(f"{who}: a cell is stored twice")
    for i, (ix, m) in enumerate(zip(indices, marginals)):
        err = float(np.abs(np.bincount(ix, weights=values, minlength=m.size) - m).max())
        if err > tol:
            raise AssertionError(f"{who}: marginal {i + 1} is met only to {err:.3g} (tolerance {tol:g}), in the "
                                 "caller's index order")
    h = _finite(getattr(r, "entropy", None), f"{who}: entropy")
    _approx(h, _h(values), 1e-9, f"{who}: entropy (bits) of the cells returned")
    lb = _finite(getattr(r, "lower_bound", None), f"{who}: lower_bound")
    if lb > h + 1e-12:
        raise AssertionError(f"{who}: lower_bound {lb!r} exceeds the entropy {h!r}")
    if float(getattr(r, "marginal_error", 0.0)) > tol:
        raise AssertionError(f"{who}: reported marginal_error {r.marginal_error!r} above tolerance {tol:g}")
    hs = [_h(m) for m in marginals]
    if not max(hs) - 1e-9 <= h <= sum(hs) + 1e-9:
        raise AssertionError(f"{who}: entropy {h!r} outside [max H(marginal), sum H(marginal)] = [{max(hs)}, {sum(hs)}]")
    return h


def check_coupling(coupling: Any, *, tol: float = 1e-9) -> None:
    """Assert the min-entropy coupling contract on small instances whose minimum is known.

    * a lower-case ``name`` and a callable ``couple(p, q, ...)``;
    * the result's ``shape`` is the marginals' lengths, ``method`` the plugin's name and
      ``units`` bits; one integer index array per marginal and positive finite ``values``,
      no cell twice, every index inside its marginal;
    * the marginals are met within ``tol`` in the caller's (unsorted) index order, zero atoms
      included;
    * ``entropy`` is the entropy in bits of the cells returned, between the largest marginal
      entropy and their sum, and at least the exact minimum (computed here by vertex search);
    * ``lower_bound`` is finite, at most ``entropy`` and at most the exact minimum (it is
      certified); with ``exact`` True the entropy is the minimum;
    * the same input gives the same entropy twice; marginals not summing to 1 raise a
      ``ValueError`` (:class:`pidlab.InvalidDistributionError`);
    * with ``max_marginals`` None or >= 3, a coupling of three marginals meets all three.

    ``coupling`` is a class, an instance or a registered name.
    """
    from pidlab._couplings._exact import exact_sorted

    inst = _instance("coupling", coupling)
    name = _check_contract("coupling", inst, ("couple",))
    who = f"coupling {name!r}"
    for marg in _coupling_cases():
        r = inst.couple(*marg)
        h = _check_coupling_result(who, name, r, marg, tol)
        srt = [np.sort(m[m > 0])[::-1] for m in marg]
        _, v, _ = exact_sorted(srt[0], srt[1])
        mec = _h(np.asarray(v))
        if h < mec - 1e-9:
            raise AssertionError(f"{who}: entropy {h!r} below the minimum-entropy coupling {mec!r}: not a coupling?")
        if r.lower_bound > mec + 1e-9:
            raise AssertionError(f"{who}: the certified lower bound {r.lower_bound!r} exceeds the minimum {mec!r}")
        if getattr(r, "exact", False):
            _approx(h, mec, 1e-9, f"{who}: an exact result's entropy against the minimum")
        _approx(float(inst.couple(*marg).entropy), h, 1e-12, f"{who}: the same input twice")
    try:
        inst.couple(np.array([0.5, 0.4]), np.array([1.0]))
    except ValueError:
        pass
    else:
        raise AssertionError(f"{who}: a marginal summing to 0.9 must raise InvalidDistributionError (a ValueError)")
    mm = getattr(inst, "max_marginals", 2)
    if mm is None or mm >= 3:
        marg3 = (np.array([0.5, 0.3, 0.2]), np.array([0.6, 0.4]), np.array([0.1, 0.2, 0.3, 0.4]))
        _check_coupling_result(who + " (three marginals)", name, inst.couple(*marg3), marg3, tol)


# --------------------------------------------------------------------------- a fake backend
#: What :class:`FakeSolver` can do (its ``behaviour``):
#:
#: ``"uncertified"``
#:     status ``optimal`` with a feasible but (in general) not optimal point, the conditionally
#:     independent one, and no dual point: the host's certificate is then only the trivial
#:     bracket, so the host downgrades the status to ``optimal_inaccurate`` (on tables where that
#:     bracket is wider than the accepted gap; where the trivial bracket already closes, the host
#:     does not call any backend).
#: ``"inaccurate"``
#:     the same point with an honest ``iteration_limit`` status.
#: ``"error"``
#:     status ``solver_error`` and no point.
#: ``"raise"``
#:     raises :class:`pidlab.SolverError`.
#: ``"crash"``
#:     raises :class:`RuntimeError` (an unexpected bug in a plugin).
#: ``"nan"``
#:     status ``optimal`` with a point and a dual point full of NaN.
#: ``"nan-dual"``
#:     status ``optimal``, the conditionally independent point and a NaN dual point.
#: ``"wrong-shape"``
#:     status ``optimal`` with a point of the wrong shape (one more symbol on every axis).
#: ``"wrong-shape-dual"``
#:     status ``optimal``, the conditionally independent point and dual arrays of the wrong shape.
#: ``"not-a-result"``
#:     returns ``None`` instead of a :class:`pidlab.SolveResult`.
#:
#: ``behaviour`` may also be a callable ``f(problem) -> SolveResult``.
FAKE_BEHAVIOURS: tuple[str, ...] = (
    "uncertified",
    "inaccurate",
    "error",
    "raise",
    "crash",
    "nan",
    "nan-dual",
    "wrong-shape",
    "wrong-shape-dual",
    "not-a-result",
)


class FakeSolver(Solver):
    """A BROJA backend that answers badly on purpose, to test the host (see :data:`FAKE_BEHAVIOURS`).

    It is always available and accepts any problem and any option (ignored). Every call appends
    the problem to :attr:`calls`. Use :func:`register_fake_solver`, which registers a subclass
    with its own name, priority, behaviour and ``calls`` list, and unregisters it afterwards.
    """

    name: ClassVar[str] = "fake"
    priority: ClassVar[int] = -1000
    description: ClassVar[str] = "a test double that answers badly on purpose (pidlab.testing)"
    behaviour: ClassVar[str | Callable[[BrojaProblem], SolveResult]] = "uncertified"
    calls: ClassVar[list[BrojaProblem]] = []

    def solve(self, problem: BrojaProblem, **options: Any) -> SolveResult:
        from pidlab._broja import SolveResult
        from pidlab._status import Status
        from pidlab.exceptions import SolverError

        type(self).calls.append(problem)
        how = type(self).behaviour
        if callable(how):
            return how(problem)
        nan = float("nan")
        ci = problem.conditionally_independent()
        n1, n2, ny = problem.shape
        ok = Status.OPTIMAL
        if how == "uncertified":
            return SolveResult(self.name, ok, ci, iterations=1)
        if how == "inaccurate":
            return SolveResult(self.name, Status.ITERATION_LIMIT, ci, iterations=1)
        if how == "error":
            return SolveResult(self.name, Status.SOLVER_ERROR, None)
        if how == "raise":
            raise SolverError(f"fake solver {self.name!r} failed on purpose")
        if how == "crash":
            raise RuntimeError(f"fake solver {self.name!r} crashed on purpose")
        if how == "nan":
            return SolveResult(self.name, ok, np.full(problem.shape, nan),
                               lam=np.full((n1, ny), nan), mu=np.full((n2, ny), nan), iterations=1)
        if how == "nan-dual":
            return SolveResult(self.name, ok, ci, lam=np.full((n1, ny), nan), mu=np.full((n2, ny), nan), iterations=1)
        if how == "wrong-shape":
            return SolveResult(self.name, ok, np.full((n1 + 1, n2 + 1, ny + 1), 1.0 / ((n1 + 1) * (n2 + 1) * (ny + 1))),
                               iterations=1)
        if how == "wrong-shape-dual":
            return SolveResult(self.name, ok, ci, lam=np.zeros((n1 + 1, ny + 1)), mu=np.zeros((n2 + 1, ny + 1)),
                               iterations=1)
        if how == "not-a-result":
            return None  # type: ignore[return-value]
        raise ValueError(f"unknown fake behaviour {how!r}; known: {', '.join(FAKE_BEHAVIOURS)} or a callable")


@contextmanager
def register_fake_solver(
    name: str = "fake",
    *,
    priority: int = -1000,
    behaviour: str | Callable[[BrojaProblem], SolveResult] = "uncertified",
) -> Iterator[type[FakeSolver]]:
    """Register a :class:`FakeSolver` for the duration of a ``with`` block.

    Parameters
    ----------
    name : str
        Registered solver name (lower case; must not be taken).
    priority : int
        Lower is tried first when ``solver=None``; the default puts it before every real backend.
    behaviour : str or callable
        One of :data:`FAKE_BEHAVIOURS`, or ``f(problem) -> SolveResult``.

    Yields
    ------
    type
        The registered class; its ``calls`` list holds the problems it was asked to solve.

    The plugin is registered on the current plugin manager and unregistered from it on leaving
    the block (also on an exception), which leaves the registry as it was.

    Raises
    ------
    ValueError
        An unknown ``behaviour``.
    pidlab.PluginValidationError
        ``name`` is already taken or malformed.
    """
    from pidlab._plugins import plugin_manager
    from pidlab.hookspecs import hookimpl

    if not callable(behaviour) and behaviour not in FAKE_BEHAVIOURS:
        raise ValueError(f"unknown fake behaviour {behaviour!r}; known: {', '.join(FAKE_BEHAVIOURS)} or a callable")
    cls = type(
        "FakeSolver_" + "".join(c if c.isalnum() else "_" for c in str(name)),
        (FakeSolver,),
        {"name": name, "priority": priority, "behaviour": staticmethod(behaviour) if callable(behaviour) else behaviour,
         "calls": [], "__doc__": FakeSolver.__doc__},
    )

    class _Plugin:
        @hookimpl
        def pidlab_register_solvers(self) -> list[type[Solver]]:
            return [cls]

    pm = plugin_manager()
    pname = f"pidlab.testing.fake-solver:{name}"
    pm.register(_Plugin(), name=pname)
    try:
        yield cls
    finally:
        if pm.has_plugin(pname):
            pm.unregister(name=pname)
