"""Exceptions and warnings raised by pidlab.

Every error pidlab raises on bad input derives from :class:`PidlabError` and, where a
builtin exception fits, from that builtin too, so ``except ValueError`` keeps working.
Messages name the problem and the fix.
"""

from __future__ import annotations

__all__ = [
    "PidlabError",
    "InvalidDistributionError",
    "InconsistentMarginalsError",
    "ParameterError",
    "UnknownNameError",
    "SolverError",
    "NotFittedError",
    "InvalidStudyError",
    "MissingDependencyError",
    "ProblemTooLargeError",
    "PluginValidationError",
    "PluginOutputError",
    "PidlabWarning",
    "ConvergenceWarning",
    "InaccurateSolutionWarning",
    "AssumptionWarning",
    "PluginLoadWarning",
]


class PidlabError(Exception):
    """Root of every exception raised by pidlab."""


class InvalidDistributionError(PidlabError, ValueError):
    """A probability table, sample set or marginal is malformed (shape, sign, NaN, normalisation)."""


class ParameterError(PidlabError, ValueError):
    """A keyword argument or option is out of range or of the wrong type (not the data itself).

    Messages follow one template: "The `'name'` parameter of `function` must be <what>. Got <value>
    instead." followed by the fix where it is not obvious.
    """


class InconsistentMarginalsError(InvalidDistributionError):
    """Pairwise marginals that no joint distribution can have (disagreeing or unrealisable).

    Attributes
    ----------
    report : object or None
        The consistency report that found the problem, when one was computed.
    """

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class UnknownNameError(PidlabError, KeyError):
    """A measure, solver, discretizer, coupling or example name that is not registered."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class SolverError(PidlabError, RuntimeError):
    """A solver is unavailable, cannot handle the problem, or failed."""


class ProblemTooLargeError(PidlabError, ValueError):
    """An exact (exponential-time) method was asked for an instance above its size limit."""


class InvalidStudyError(PidlabError, ValueError):
    """A study parameter is out of range (sizes, counts, noise levels, chunk sizes, options)."""


class MissingDependencyError(PidlabError, ImportError):
    """An optional dependency needed for the requested feature is not installed."""


class NotFittedError(PidlabError, ValueError, AttributeError):
    """A discretizer was used before ``fit``."""


class PluginOutputError(PidlabError, RuntimeError):
    """A plugin returned something the host cannot stand behind (wrong type, NaN or infinite
    values, atoms that break the measure's own identities) or raised an unexpected exception."""


class PluginValidationError(PidlabError, TypeError):
    """A plugin is malformed or clashes with a registered name.

    Attributes
    ----------
    plugin : str
        Name of the offending plugin.
    """

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(f"plugin {plugin!r}: {message}")
        self.plugin = plugin


class PidlabWarning(UserWarning):
    """Root of every warning issued by pidlab."""


class ConvergenceWarning(PidlabWarning):
    """An iterative method stopped before reaching its target accuracy."""


class InaccurateSolutionWarning(PidlabWarning):
    """A solver reported an inaccurate solution; the result records the status."""


class AssumptionWarning(PidlabWarning):
    """A number rests on an assumption the caller should know about (recorded on the result)."""


class PluginLoadWarning(PidlabWarning, RuntimeWarning):
    """A third-party plugin failed to load; the host continues without it."""
