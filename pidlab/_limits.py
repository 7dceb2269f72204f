"""Size guards: estimate a job's memory and work before starting it, refuse clearly when too big.

Every entry point that can be handed an arbitrarily large input (tables, marginals, couplings,
RTT generators, studies, discretizers, panels) calls :func:`check_memory` (and, where the work
grows faster than the memory, :func:`check_work`) with its own estimate *before* allocating.
The refusal is a :class:`~pidlab.exceptions.ProblemTooLargeError` naming what was asked, the
estimate, the limit, and how to raise the limit.

Limits
------
``max_memory``
    Bytes one pidlab call may plan to allocate. Default: half of this machine's physical memory
    (so a refused job never brings the machine or the Jupyter kernel down).
``max_work``
    Elementary operations (roughly: inner-loop steps) one call may plan. Default ``1e12``, about an
    hour of vectorised numpy on one core; exact exponential searches have their own, smaller limits.

Raise either for one block with ``with pidlab.limits(max_memory="64GiB"): ...``, or for a whole
process with the environment variables ``PIDLAB_MAX_MEMORY`` and ``PIDLAB_MAX_WORK``.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections.abc import Iterator
from typing import Any

from pidlab.exceptions import ParameterError, ProblemTooLargeError

__all__ = ["limits", "max_memory", "max_work", "check_memory", "check_work", "format_bytes", "parse_bytes"]

DEFAULT_MAX_WORK = 1e12

_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 2**10, "m": 1e6, "mb": 1e6, "mib": 2**20,
          "g": 1e9, "gb": 1e9, "gib": 2**30, "t": 1e12, "tb": 1e12, "tib": 2**40}

_memory: contextvars.ContextVar[float | None] = contextvars.ContextVar("pidlab_max_memory", default=None)
_work: contextvars.ContextVar[float | None] = contextvars.ContextVar("pidlab_max_work", default=None)


def parse_bytes(value: Any, name: str = "max_memory") -> float:
    """Bytes from an int/float or a string such as ``"8GiB"``, ``"500 MB"``, ``"2e9"``."""
    if isinstance(value, bool):
        raise ParameterError(f"The `{name!r}` parameter must be a size in bytes such as 8e9 or '8GiB'. Got {value!r} instead.")
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", value)
        if m is None or m.group(2).lower() not in _UNITS:
            raise ParameterError(
                f"The `{name!r}` parameter must be a size in bytes such as 8e9 or '8GiB' (units B, KB, MB, GB, TB, "
                f"KiB, MiB, GiB, TiB). Got {value!r} instead."
            )
        out = float(m.group(1)) * _UNITS[m.group(2).lower()]
    else:
        raise ParameterError(f"The `{name!r}` parameter must be a size in bytes such as 8e9 or '8GiB'. Got {value!r} instead.")
    if not (out > 0 and out < float("inf")):
        raise ParameterError(f"The `{name!r}` parameter must be a positive, finite size. Got {value!r} instead.")
    return out


def _positive_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParameterError(f"The `{name!r}` parameter must be a positive number such as 1e12. Got {value!r} instead.")
    try:
        out = float(value)
    except ValueError:
        raise ParameterError(f"The `{name!r}` parameter must be a positive number such as 1e12. Got {value!r} instead.") from None
    if not (out > 0 and out < float("inf")):
        raise ParameterError(f"The `{name!r}` parameter must be a positive, finite number. Got {value!r} instead.")
    return out


def physical_memory() -> float:
    """This machine's physical memory in bytes (8 GiB when the system does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8.0 * 2**30


def _limit(var: contextvars.ContextVar[float | None], env_name: str, parse: Any, default: Any) -> float:
    """The value set by :func:`limits`, else the environment variable, else ``default()``."""
    v = var.get()
    if v is not None:
        return v
    env = os.environ.get(env_name)
    return float(parse(env, env_name)) if env else float(default())


def max_memory() -> float:
    """The memory limit in force (bytes): :func:`limits`, else ``PIDLAB_MAX_MEMORY``, else half the RAM."""
    return _limit(_memory, "PIDLAB_MAX_MEMORY", parse_bytes, lambda: physical_memory() / 2)


def max_work() -> float:
    """The work limit in force (elementary operations): :func:`limits`, else ``PIDLAB_MAX_WORK``, else 1e12."""
    return _limit(_work, "PIDLAB_MAX_WORK", _positive_number, lambda: DEFAULT_MAX_WORK)


@contextlib.contextmanager
def limits(*, max_memory: Any = None, max_work: Any = None) -> Iterator[None]:
    """Raise (or lower) pidlab's size guards inside a ``with`` block.

    >>> import pidlab
    >>> with pidlab.limits(max_memory="64GiB", max_work=1e13):
    ...     pass
    """
    tokens = []
    if max_memory is not None:
        tokens.append((_memory, _memory.set(parse_bytes(max_memory, "max_memory"))))
    if max_work is not None:
        tokens.append((_work, _work.set(_positive_number(max_work, "max_work"))))
    try:
        yield
    finally:
        for var, tok in reversed(tokens):
            var.reset(tok)


def format_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def _memory_source() -> str:
    if _memory.get() is not None or os.environ.get("PIDLAB_MAX_MEMORY"):
        return ""
    return " (half this machine's memory)"


def check_memory(nbytes: float, what: str, *, hint: str = "") -> None:
    """Refuse with :class:`ProblemTooLargeError` if ``nbytes`` exceeds :func:`max_memory`.

    ``what`` names the job ("a BROJA solve of a 2000x2000x2 table"); ``hint`` says how to make it
    smaller (fewer symbols, a coarser discretizer, a smaller n).
    """
    limit = max_memory()
    if nbytes > limit:
        raise ProblemTooLargeError(
            f"{what} would need about {format_bytes(nbytes)} of memory, above pidlab's limit of "
            f"{format_bytes(limit)}{_memory_source()}. "
            + (f"{hint.rstrip('.')}. " if hint else "")
            + "To raise the limit: `with pidlab.limits(max_memory='64GiB'): ...` or PIDLAB_MAX_MEMORY=64GiB."
        )


def check_work(operations: float, what: str, *, hint: str = "") -> None:
    """Refuse with :class:`ProblemTooLargeError` if ``operations`` exceeds :func:`max_work`."""
    limit = max_work()
    if operations > limit:
        raise ProblemTooLargeError(
            f"{what} would take about {operations:.2g} elementary operations, above pidlab's limit of "
            f"{limit:.2g}{'' if _work.get() is not None or os.environ.get('PIDLAB_MAX_WORK') else ' (about an hour of work)'}. "
            + (f"{hint.rstrip('.')}. " if hint else "")
            + "To raise the limit: `with pidlab.limits(max_work=1e14): ...` or PIDLAB_MAX_WORK=1e14."
        )
