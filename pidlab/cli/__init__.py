"""The ``pidlab`` command line.

Subcommands live in modules ``pidlab/cli/_cmd_<name>.py``; each defines
``add_parser(subparsers) -> ArgumentParser`` and ``run(args) -> int``; every option's help states
its default. Files are read by :mod:`pidlab.io`. Errors on bad input print one line on stderr,
naming CLI flags (``--normalize``) rather than Python keywords, and exit with code 2, never a traceback.
An unexpected exception (a bug in pidlab or in a plugin) is also one line, ``pidlab: internal error:
...``, with exit code 70 (set ``PIDLAB_DEBUG=1`` to see the traceback instead).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import pkgutil
import sys
import warnings
from collections.abc import Sequence
from enum import IntEnum

from pidlab.cli._common import cli_wording, option_strings
from pidlab.exceptions import PidlabError, PidlabWarning

__all__ = ["main", "ExitCode", "build_parser", "subparsers"]


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE_ERROR = 2
    INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug, not bad input
    INTERRUPTED = 130


def _command_modules() -> list[str]:
    pkg = importlib.import_module("pidlab.cli")
    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith("_cmd_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pidlab",
        description="Partial information decomposition and semi-supervised interaction bounds (all values in bits).",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit (default: off)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for modname in _command_modules():
        mod = importlib.import_module(f"pidlab.cli.{modname}")
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
        _record_flags(p, frozenset())
    return parser


def subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers nested in ``parser`` (one level)."""
    out: list[argparse.ArgumentParser] = []
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            out.extend(dict.fromkeys(a.choices.values()))
    return out


def _record_flags(parser: argparse.ArgumentParser, inherited: frozenset[str]) -> None:
    """``_flags`` on each (sub)command: the options it has, so messages can name them."""
    flags = inherited | option_strings(parser)
    parser.set_defaults(_flags=flags)
    for child in subparsers(parser):
        _record_flags(child, flags)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (see :class:`ExitCode`)."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.version:
        import pidlab

        print(pidlab.__version__)
        return ExitCode.OK
    if not getattr(args, "_run", None):
        parser.print_help()
        print("pidlab: error: no command given; choose one of the commands listed above.", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", PidlabWarning)
            warnings.showwarning = functools.partial(_show_warning, flags=getattr(args, "_flags", frozenset()))
            return int(args._run(args))
    except BrokenPipeError:  # the reader went away (`pidlab ... | head`): stop quietly, as Unix tools do
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep the interpreter's final flush quiet
        except OSError:
            pass
        return ExitCode.OK
    except (PidlabError, OSError, ValueError) as exc:
        # one line, naming this subcommand's flags where the library names a Python keyword
        print(f"pidlab: error: {cli_wording(str(exc), getattr(args, '_flags', frozenset()))}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - a bug: one line, not a traceback (PIDLAB_DEBUG=1 re-raises)
        if os.environ.get("PIDLAB_DEBUG", "").strip() not in ("", "0"):
            raise
        text = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        print(
            f"pidlab: internal error: {text}. This is a bug in pidlab or a plugin, not in your input; "
            "please report it with the command line (PIDLAB_DEBUG=1 shows the traceback).",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL_ERROR


def _show_warning(message, category, filename, lineno, file=None, line=None, *, flags=frozenset()):
    """One readable line per warning, in the CLI's wording."""
    print(f"pidlab: warning: {cli_wording(str(message), flags)}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
