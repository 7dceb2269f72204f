"""Helpers shared by the CLI subcommands: output, CLI wording of messages, ``--columns``.

Files are read by :mod:`pidlab.io` (the same reader as the panels and Python code).
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from pidlab._render import jsonable as to_jsonable  # one converter for to_json and the CLI (inf -> "inf")
from pidlab.exceptions import InvalidDistributionError

__all__ = [
    "emit",
    "to_jsonable",
    "compact_json",
    "cli_wording",
    "parse_columns",
    "option_strings",
    "FORMAT_HELP",
]

#: Help of every ``--format`` option.
FORMAT_HELP = "output format: a readable table or JSON (default: %(default)s)"


def compact_json(obj: Any) -> str:
    """JSON with one line per top-level key of an object (one line for anything else).

    >>> print(compact_json({"a": [1, 2], "b": {"c": None}}))
    {
      "a": [1, 2],
      "b": {"c": null}
    }
    """
    data = to_jsonable(obj)
    if isinstance(data, dict) and data:
        return "{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in data.items()) + "\n}"
    return json.dumps(data)


def emit(obj: Any, fmt: str, text: str | None = None, *, compact: bool = False) -> None:
    """Print ``obj`` as JSON (``fmt == "json"``; ``compact``: one line per top-level key) or ``text``."""
    if fmt == "json":
        print(compact_json(obj) if compact else json.dumps(to_jsonable(obj), indent=2))
    else:
        print(text if text is not None else str(obj))


#: Python keyword spellings in library messages and the CLI flag that says the same; a rule
#: applies only when the running subcommand has that flag.
_WORDING: tuple[tuple[str, str, str], ...] = (
    (r"\bnormalize=True\b", "--normalize", "--normalize"),
    (r"\bheader=False\b", "--no-header", "--no-header"),
    (r"\bcolumns=\(\.\.\.\)", "--columns", "--columns"),
    (r"\b[Pp]ass hours=None\b", "drop --hours", "--hours"),
    (r"\bhours=None\b", "no --hours", "--hours"),
    (r"\ballow_inconsistent=True\b", "--allow-inconsistent", "--allow-inconsistent"),
    (r"\btry solver=None\b", "try without --solver", "--solver"),
    (r"\bsolver='([^']*)'", r"--solver \1", "--solver"),
    (r"\bmethod='([^']*)'", r"--method \1", "--method"),
    (r"\breconcile='([^']*)'", r"--reconcile \1", "--reconcile"),
    (r"\brepair=True\b", "--repair tv", "--repair"),
    (r"\brepair='([^']*)'", r"--repair \1", "--repair"),
    (r"\bn_bootstrap=0\b", "--bootstrap 0", "--bootstrap"),
    (r"\berrors='([^']*)'", r"--errors \1", "--errors"),
    (r"\bexecutor='([^']*)'", r"--executor \1", "--executor"),
)


def cli_wording(message: str, flags: frozenset[str] | set[str]) -> str:
    """``message`` on one line, with Python keywords (``normalize=True``) replaced by the flags
    of the running subcommand (``--normalize``).

    >>> cli_wording("sums to 2; pass normalize=True to divide by the total.", {"--normalize"})
    'sums to 2; pass --normalize to divide by the total.'
    """
    text = " ".join(str(message).split())
    for pattern, repl, flag in _WORDING:
        if flag in flags:
            text = re.sub(pattern, repl, text)
    return text


def option_strings(parser: argparse.ArgumentParser) -> frozenset[str]:
    """Every option string (``--normalize``, ...) of ``parser`` itself."""
    return frozenset(s for a in parser._actions for s in a.option_strings)


def parse_columns(text: str | None, *, header: bool, what: str = "X1, X2 and Y") -> tuple[str | int, ...] | None:
    """``--columns A,B,C`` as three header names, or with ``--no-header`` as 0-based positions
    from column numbers counted from 1.

    >>> parse_columns("Age, income,LABEL", header=True)
    ('Age', 'income', 'LABEL')
    >>> parse_columns("3,1,2", header=False)
    (2, 0, 1)
    """
    if text is None:
        return None
    parts = [s.strip() for s in text.split(",")]
    if len(parts) != 3 or any(not s for s in parts):
        raise InvalidDistributionError(
            f"--columns {text!r}: give three comma-separated columns, those of {what} in that order, "
            "e.g. --columns a,b,label."
        )
    if len({p.lower() for p in parts}) != 3:
        raise InvalidDistributionError(f"--columns {text!r} names a column twice; each variable needs its own column.")
    if header:
        return tuple(parts)
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise InvalidDistributionError(
            f"--columns {text!r} with --no-header: give column numbers counted from 1 (there is no header row to "
            "find names in), e.g. --columns 3,1,2, or drop --no-header."
        ) from None
    if min(nums) < 1:
        raise InvalidDistributionError(f"--columns {text!r}: column numbers count from 1.")
    return tuple(n - 1 for n in nums)
