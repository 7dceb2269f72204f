"""The ``pidlab`` command line.

Subcommands live in modules ``pidlab/cli/_cmd_<name>.py``; each defines
``add_parser(subparsers) -> ArgumentParser`` and ``run(args) -> int``. Errors on bad input print
one line on stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings
from collections.abc import Sequence
from enum import IntEnum

from pidlab.exceptions import PidlabError, PidlabWarning

__all__ = ["main", "ExitCode"]


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE_ERROR = 2
    INTERRUPTED = 130


def _command_modules() -> list[str]:
    pkg = importlib.import_module("pidlab.cli")
    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith("_cmd_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pidlab",
        description="Partial information decomposition and semi-supervised interaction bounds (all values in bits).",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for modname in _command_modules():
        mod = importlib.import_module(f"pidlab.cli.{modname}")
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return parser


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
        return ExitCode.USAGE_ERROR
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", PidlabWarning)
            warnings.showwarning = _show_warning  # one readable line per warning
            return int(args._run(args))
    except PidlabError as exc:
        print(f"pidlab: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    except (OSError, ValueError) as exc:
        print(f"pidlab: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


def _show_warning(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
    print(f"pidlab: warning: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
