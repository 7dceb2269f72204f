"""The contracts of the four plugin kinds: :class:`Measure`, :class:`Solver`, :class:`Discretizer`
and :class:`Coupling` (plus :class:`Availability`).

The host only duck-types a plugin (see :mod:`pidlab.hookspecs` and the registration checks in
:mod:`pidlab._plugins`); these base classes are the convenient way to satisfy a contract. Each one
has the same shape: class attributes describing the plugin (``name``, ``aliases``, ``reference``,
``description``), a public entry point the host calls, and, where the base class does generic
work around the method itself, one public method for the subclass to implement:

===============  ============================  =============================================
kind             the host calls                a subclass implements
===============  ============================  =============================================
measure          ``compute(dist, *, solver)``  ``compute`` (optionally ``compute_many``, the
                 ``compute_many(ps)``          vectorised batch; the default loops)
solver           ``availability()``,           ``solve`` (``availability`` from ``requires``)
                 ``can_solve``, ``solve``
discretizer      ``fit(X)``, ``transform(X)``  ``fit_matrix(X)``, ``transform_matrix(X)``
coupling         ``couple(p, q, *more)``       ``couple_sorted(p, q, *more)``
===============  ============================  =============================================

Nothing here imports an optional dependency or a plugin implementation (``import pidlab`` stays
light); the coupling base imports its helpers when :meth:`Coupling.couple` runs.
"""

from __future__ import annotations

import importlib.util
import inspect
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pidlab._distribution import SUM_TOL
from pidlab.exceptions import InvalidDistributionError, NotFittedError, ParameterError

if TYPE_CHECKING:
    from pidlab._broja import BrojaProblem, SolveResult
    from pidlab._couplings._result import CouplingResult
    from pidlab._distribution import Distribution
    from pidlab._results import PIDResult

__all__ = [
    "Availability",
    "Coupling",
    "Discretizer",
    "Measure",
    "Solver",
    "as_feature_matrix",
    "check_is_fitted",
]


# ============================================================================ availability
@dataclass(frozen=True)
class Availability:
    """Whether a plugin can run here, and why not."""

    available: bool
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.available


def _requirements_met(requires: tuple[str, ...], install_hint: str) -> Availability:
    """Availability from importable module names (``importlib.util.find_spec``, never imported)."""
    missing = [m for m in requires if importlib.util.find_spec(m) is None]
    if missing:
        hint = f"; install it with {install_hint}" if install_hint else ""
        return Availability(False, f"Python package(s) {', '.join(missing)} not installed{hint}")
    return Availability(True)


# ============================================================================ measure
class Measure(ABC):
    """A PID definition for two sources and one target.

    Subclasses set the class attributes and implement :meth:`compute`. Nothing runs in
    ``__init__``; measures are stateless.

    Attributes
    ----------
    name : str
        Registered lower-case name (``"broja"``).
    aliases : tuple of str
        Other names accepted by :func:`pidlab.decompose` (``("bertschinger",)``).
    symbol : str
        Short display symbol.
    reference : str
        Citation of the definition.
    description : str
        One-line summary shown by ``pidlab plugins``.
    kind : {"pid", "net"}
        ``"pid"`` defines R, U1, U2, S; ``"net"`` a single net quantity.
    uses_solver : bool
        Whether :meth:`compute` solves a convex program (and accepts ``solver=``).
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    symbol: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    description: ClassVar[str] = ""
    kind: ClassVar[Literal["pid", "net"]] = "pid"
    uses_solver: ClassVar[bool] = False

    @abstractmethod
    def compute(self, dist: Distribution, *, solver: Any = None) -> PIDResult:
        """Decompose ``dist`` and return a :class:`pidlab.PIDResult` (bits)."""

    def compute_many(self, ps: NDArray[np.float64], *, solver: Any = None) -> dict[str, Any]:
        """Decompose a stack of joints of one shape (optional, vectorised; used by
        :func:`pidlab.decompose_many` and the study runner).

        ``ps`` has shape ``(N, |X1|, |X2|, |Y|)``; the host has validated it (finite,
        non-negative, each item summing to 1). Returns arrays of shape ``(N,)`` in bits: the
        atoms ``"R", "U1", "U2", "S"`` for ``kind == "pid"``, or ``"net"`` for ``kind ==
        "net"``; optionally ``"notes"`` (a tuple of str about the whole batch). The host checks
        the arrays (finite, the consistency identities) as it checks :meth:`compute`.

        This default loops over :meth:`compute`; a measure with a closed form or a scaling
        iteration overrides it with array code over the stack.
        """
        from pidlab._distribution import Distribution

        keys = ("R", "U1", "U2", "S") if self.kind == "pid" else ("net",)
        out = {k: np.empty(len(ps)) for k in keys}
        kw = {"solver": solver} if self.uses_solver else {}
        for i, p in enumerate(ps):
            r = self.compute(Distribution(p), **kw)
            for k in keys:
                v = getattr(r, k)
                out[k][i] = np.nan if v is None else float(v)
        return dict(out)


# ============================================================================ solver
class Solver(ABC):
    """A backend for the BROJA convex program (cvxpy-style interface).

    Subclasses set the class attributes and implement :meth:`solve`; :meth:`availability`
    checks ``requires`` unless overridden (for example to check a licence).

    Attributes
    ----------
    name : str
        Registered name, looked up case-insensitively.
    priority : int
        Lower is preferred when ``solver=None``.
    requires : tuple of str
        Importable module names the backend needs (checked with ``importlib.util.find_spec``,
        never imported to find out).
    install_hint : str
        What to install when it is missing.
    reference, description : str
        Citation and one-line summary.
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    priority: ClassVar[int] = 100
    requires: ClassVar[tuple[str, ...]] = ()
    install_hint: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def availability(self) -> Availability:
        """Whether the backend can run here; the reason when it cannot. Checked on every call."""
        return _requirements_met(self.requires, self.install_hint)

    def can_solve(self, problem: BrojaProblem) -> bool:
        """Whether this backend accepts ``problem`` (size limits and the like); default True."""
        return True

    @abstractmethod
    def solve(self, problem: BrojaProblem, **options: Any) -> SolveResult:
        """Solve ``min I_q(X1,X2;Y)`` over Δ_p and return the primal (and dual) point."""


# ============================================================================ discretizer
def check_is_fitted(est: object) -> None:
    """Raise :class:`~pidlab.exceptions.NotFittedError` unless ``est`` has a learned attribute
    (a name ending in ``_``)."""
    fitted = [k for k in vars(est) if k.endswith("_") and not k.startswith("__")]
    if not fitted:
        raise NotFittedError(
            f"This {type(est).__name__} instance is not fitted yet. Call 'fit' with appropriate data before "
            "using 'transform' (or use 'fit_transform')."
        )


def as_feature_matrix(X: Any, *, what: str = "X", allow_object: bool = False) -> NDArray[Any]:
    """Samples as a 2-D array (n_samples, n_features); rejects empty input and NaN/inf features.

    Numeric input becomes float64. With ``allow_object`` other dtypes are kept as they are
    (missing values rejected); without it they must convert to float.
    """
    if hasattr(X, "to_numpy"):  # DataFrame or Series
        arr = X.to_numpy()
    else:
        arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    elif arr.ndim > 2:
        arr = arr.reshape(arr.shape[0], -1)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise InvalidDistributionError(f"{what} has no samples (shape {np.shape(X)}); pass at least one sample per row.")
    if arr.shape[1] == 0:
        raise InvalidDistributionError(f"{what} has no features (shape {arr.shape}).")
    if arr.dtype.kind in "biuf":
        arr = arr.astype(float, copy=False)
        bad = ~np.isfinite(arr)
        if bad.any():
            rows = np.unique(np.nonzero(bad)[0])
            raise InvalidDistributionError(
                f"{what} has {int(bad.sum())} NaN or infinite feature value(s) in {rows.size} sample(s) "
                f"(first at row {int(rows[0])}); drop or impute them before discretising."
            )
        return arr
    if not allow_object:
        try:
            out = arr.astype(float)
        except (TypeError, ValueError):
            raise InvalidDistributionError(
                f"{what} has non-numeric features (dtype {arr.dtype}); use discretizer='categorical' for "
                "categorical data, or encode the columns numerically."
            ) from None
        return as_feature_matrix(out, what=what)
    for v in arr.ravel():
        if v is None or (isinstance(v, float) and np.isnan(v)):
            raise InvalidDistributionError(
                f"{what} has missing values ({v!r}); drop or impute them before discretising."
            )
    return arr


class Discretizer(ABC):
    """Samples of a modality (any number of features) -> integer codes ``0..n_symbols_-1``.

    The scikit-learn estimator contract: keyword-only ``__init__`` parameters stored verbatim
    with no validation there; ``parameter_constraints`` checked in :meth:`fit`; :meth:`fit`
    returns ``self``; learned state ends in ``_``; :meth:`transform` raises
    :class:`~pidlab.exceptions.NotFittedError` before :meth:`fit`; :meth:`get_params` and
    :meth:`set_params` work by signature introspection; randomness goes through a
    ``random_state`` parameter.

    A subclass sets ``name`` and ``parameter_constraints`` and implements
    :meth:`fit_matrix` and :meth:`transform_matrix`; :meth:`fit` and :meth:`transform`
    validate the parameters and the samples (a 2-D float array, or any dtype with
    ``accepts_objects``), check the number of features and call them. A third-party
    discretizer need not subclass it: any class with ``fit`` and ``transform`` registers (the
    host only calls those); :func:`pidlab.testing.check_discretizer` checks either.

    Attributes
    ----------
    name : str
        Registered lower-case name.
    parameter_constraints : dict of str -> list
        For each ``__init__`` parameter, the accepted values: objects with
        ``is_satisfied_by(value) -> bool`` whose ``str()`` says what they accept, or ``None``
        (the value None). A value satisfying none of them raises
        :class:`~pidlab.exceptions.ParameterError` at :meth:`fit`.
    accepts_objects : bool
        Whether non-numeric samples (strings, mixed rows) are accepted as they are.
    requires : tuple of str
        Importable module names :meth:`fit` needs (for :meth:`availability`).
    install_hint : str
        What to install when one of them is missing.
    reference, description : str
        Citation and one-line summary.

    Examples
    --------
    >>> import numpy as np, pidlab
    >>> d = pidlab.get_discretizer("uniform", n_bins=4)
    >>> d.fit(np.array([0.0, 1.0, 2.0, 3.0, 4.0])).transform([0.1, 3.9]).tolist()
    [0, 3]
    >>> d.get_params()
    {'n_bins': 4}
    """

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    reference: ClassVar[str] = ""
    description: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    install_hint: ClassVar[str] = ""
    accepts_objects: ClassVar[bool] = False
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {}

    # ------------------------------------------------------------------ params
    @classmethod
    def _get_param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind == p.KEYWORD_ONLY)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this discretizer (as passed to ``__init__``)."""
        return {k: getattr(self, k) for k in self._get_param_names()}

    def set_params(self, **params: Any) -> Discretizer:
        """Set parameters (validated at the next :meth:`fit`); returns ``self``.

        Raises
        ------
        ParameterError
            A name that is not a parameter of this discretizer.
        """
        valid = self._get_param_names()
        for k, v in params.items():
            if k not in valid:
                raise ParameterError(
                    f"Invalid parameter {k!r} for {type(self).__name__}; valid parameters are {valid}."
                )
            setattr(self, k, v)
        return self

    def _validate_params(self) -> None:
        for k, constraints in self.parameter_constraints.items():
            v = getattr(self, k)
            if not any((v is None) if c is None else c.is_satisfied_by(v) for c in constraints):
                desc = " or ".join("None" if c is None else str(c) for c in constraints)
                raise ParameterError(
                    f"The `{k!r}` parameter of `{type(self).__name__}` must be {desc}. Got {v!r} instead."
                )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def availability(self) -> Availability:
        """Whether the discretizer can run here (``requires`` importable); the reason when not."""
        return _requirements_met(self.requires, self.install_hint)

    # ------------------------------------------------------------------ API the host calls
    def fit(self, X: Any, y: Any = None) -> Discretizer:
        """Learn the discretisation from samples ``X`` (one per row); returns ``self``.

        Raises
        ------
        ParameterError
            A parameter outside its ``parameter_constraints``.
        InvalidDistributionError
            No samples, NaN or infinite features, non-numeric features (unless
            ``accepts_objects``), or data the method cannot discretise.
        """
        self._validate_params()
        A = as_feature_matrix(X, what=f"the samples given to {type(self).__name__}.fit", allow_object=self.accepts_objects)
        self.fit_matrix(A)
        self.n_features_in_ = A.shape[1]
        return self

    def transform(self, X: Any) -> NDArray[np.intp]:
        """Integer codes ``0..n_symbols_-1`` of the samples ``X`` (one per row).

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        InvalidDistributionError
            Malformed samples, or another number of features than at :meth:`fit`.
        """
        check_is_fitted(self)
        A = as_feature_matrix(
            X, what=f"the samples given to {type(self).__name__}.transform", allow_object=self.accepts_objects
        )
        if A.shape[1] != self.n_features_in_:
            raise InvalidDistributionError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} features but got {A.shape[1]}."
            )
        return np.asarray(self.transform_matrix(A), dtype=np.intp)

    def fit_transform(self, X: Any, y: Any = None) -> NDArray[np.intp]:
        """``fit(X).transform(X)``."""
        return self.fit(X, y).transform(X)

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def fit_matrix(self, X: NDArray[Any]) -> None:
        """Learn from validated samples: ``X`` is 2-D (float64 unless ``accepts_objects``).

        Store what is learned in attributes ending in ``_``, among them ``n_symbols_`` (the
        size of the output alphabet). Called by :meth:`fit` after the parameters were
        validated; ``n_features_in_`` is set by :meth:`fit` once this returns.
        """

    @abstractmethod
    def transform_matrix(self, X: NDArray[Any]) -> NDArray[np.intp]:
        """Integer codes ``0..n_symbols_-1`` of validated samples ``X`` (2-D, one per row,
        with the fitted number of features). Each row's code depends on that row only."""


# ============================================================================ coupling
class Coupling(ABC):
    """Base class of the min-entropy coupling plugins.

    A subclass sets ``name`` (lower case) and implements :meth:`couple_sorted`, which sees
    only the positive atoms of each marginal, sorted decreasingly, and returns its cells in
    those sorted positions. :meth:`couple` validates the input, sorts, maps the cells back to
    the caller's index order, measures how well the marginals are met and attaches the
    certified bracket on the minimum. A third-party plugin need not subclass it: any class with
    a ``couple`` method registers (the host only calls ``couple``);
    :func:`pidlab.testing.check_coupling` checks either.

    Attributes
    ----------
    name : str
        Registered name.
    max_marginals : int or None
        How many marginals the method couples at once (None: any number >= 2).
    reference, description : str
        Citation and one-line summary.

    Examples
    --------
    The product coupling, as a plugin of three lines:

    >>> import numpy as np, pidlab
    >>> class Product(pidlab.Coupling):
    ...     name = "product"
    ...     def couple_sorted(self, p, q):
    ...         i, j = np.meshgrid(np.arange(p.size), np.arange(q.size), indexing="ij")
    ...         return [i.ravel(), j.ravel()], np.outer(p, q).ravel()
    >>> r = Product().couple([0.5, 0.5], [0.25, 0.75])
    >>> round(r.entropy, 6), r.shape, r.marginal_error < 1e-15
    (1.811278, (2, 2), True)
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    max_marginals: ClassVar[int | None] = 2
    reference: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def couple(
        self,
        p: ArrayLike,
        q: ArrayLike,
        *more: ArrayLike,
        tol: float = SUM_TOL,
        profile: bool | None = None,
        **options: Any,
    ) -> CouplingResult:
        """Couple ``p`` and ``q`` (and further marginals where supported).

        Parameters
        ----------
        p, q, *more : array_like
            Probability vectors (a table is read over its cells); lengths may differ. They must
            be finite, non-negative and sum to 1 within ``tol``.
        tol : float, default 1e-9
            Tolerance on each total; nothing is renormalised.
        profile : bool or None
            Compute the ``threshold-profile`` lower bound (default: when all marginals together
            have at most 5,000 positive atoms).
        **options
            Method-specific options, passed to :meth:`couple_sorted`.

        Returns
        -------
        CouplingResult
            Cells in the caller's index order, the entropy (bits) and the certified bracket.
        """
        from pidlab._couplings._bounds import best_bound, certified_lower_bounds
        from pidlab._couplings._meet import check_marginals
        from pidlab._couplings._result import _BRACKET_SLACK, CouplingResult, _ro, marginal_sums
        from pidlab._info import entropy

        marg = (p, q, *more)
        if self.max_marginals is not None and len(marg) > self.max_marginals:
            raise InvalidDistributionError(
                f"coupling method {self.name!r} couples at most {self.max_marginals} marginals, got {len(marg)}; "
                "use method='greedy' for more."
            )
        t0 = time.perf_counter()
        vecs = check_marginals(marg, tol=tol)
        orders, sorted_pos = [], []
        for v in vecs:
            order = np.argsort(-v)
            k = int(np.count_nonzero(v))
            orders.append(order[:k])
            sorted_pos.append(np.ascontiguousarray(v[order[:k]]))
        got = self.couple_sorted(*sorted_pos, **options)
        if not isinstance(got, tuple) or len(got) not in (2, 3):
            raise TypeError(
                f"{type(self).__name__}.couple_sorted must return (indices, values) or (indices, values, extra); "
                f"got {type(got).__name__}"
            )
        idx_sorted, values = got[0], got[1]
        extra: dict[str, Any] = dict(got[2]) if len(got) == 3 and got[2] else {}
        values = np.asarray(values, dtype=float)
        keep = values > 0
        indices = tuple(
            _ro(np.asarray(o[np.asarray(ix, dtype=np.int64)[keep]], dtype=np.int64)) for o, ix in zip(orders, idx_sorted)
        )
        values = _ro(values[keep])
        err = 0.0
        for ix, v in zip(indices, vecs):
            err = max(err, float(np.abs(marginal_sums(ix, values, v.size) - v).max()))
        h = entropy(values)
        notes = list(extra.pop("notes", ()))
        bounds = certified_lower_bounds(sorted_pos, profile=profile)
        exact = bool(extra.pop("exact", False))
        if exact:
            bounds["exact"] = h
        lb, src = best_bound(bounds)
        if lb > h + _BRACKET_SLACK:
            notes.append(
                f"the {src} lower bound ({lb:.12g}) exceeded the coupling entropy ({h:.12g}) by more than "
                "rounding; this can only come from inputs whose totals differ; the bound was capped at the entropy"
            )
        lb = min(lb, h)
        totals = [float(v.sum()) for v in vecs]
        if max(totals) - min(totals) > 1e-12:
            notes.append(
                f"the marginals' totals differ by {max(totals) - min(totals):.3g} (within tol={tol:g}); "
                "the coupling's marginals can match them only to that accuracy"
            )
        info = {"time": time.perf_counter() - t0, "n_atoms": sum(v.size for v in sorted_pos), **extra}
        return CouplingResult(
            method=self.name,
            indices=indices,
            values=values,
            shape=tuple(int(v.size) for v in vecs),
            entropy=h,
            lower_bound=lb,
            lower_bound_source=src,
            lower_bounds=bounds,
            exact=exact,
            marginal_error=err,
            notes=tuple(notes),
            info=info,
        )

    @abstractmethod
    def couple_sorted(
        self, p: NDArray[np.float64], q: NDArray[np.float64], *more: NDArray[np.float64], **options: Any
    ) -> tuple[Any, ...]:
        """Couple marginals given as their positive atoms sorted decreasingly.

        Parameters
        ----------
        p, q, *more : numpy.ndarray
            One float64 vector per marginal: its positive atoms, sorted decreasingly (each sums
            to 1 within the caller's tolerance). At most ``max_marginals`` of them.
        **options
            The method's own options (raise :class:`~pidlab.exceptions.ParameterError` for
            unknown ones).

        Returns
        -------
        indices : list of numpy.ndarray
            One integer array per marginal: cell ``c`` sits at ``(indices[0][c], indices[1][c],
            ...)``, positions in the SORTED vectors given.
        values : numpy.ndarray
            The mass of each cell; cells with mass 0 are dropped.
        extra : dict, optional
            A third element may carry ``"notes"`` (tuple of str, kept on the result),
            ``"exact"`` (bool: the coupling is certified minimal) and diagnostics (kept in
            ``info``).
        """
