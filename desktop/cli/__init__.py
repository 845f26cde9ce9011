"""The ``planatlas`` command line — the one place where arguments are parsed.

Without a command ``planatlas`` opens the desktop app (``--plan``, ``--lang`` and ``--reset``
reach it); with a command it is the CLI. Each command group lives in its own module
(``plans``, ``places``, ``sites``, ``export``, ``compare``, ``app``) and is a thin call into
``planatlas.layers`` (or, for painting commands, ``planatlas.desktop``, imported only when the
command runs).

One error convention for every command: a one-line message on stderr,
``planatlas COMMAND: error: …``; exit code 2 for bad input (unknown ids, unreadable or
malformed files, bad options), 1 for an operation that failed (a full disk, a locked store,
no display) and never a traceback (``PLANATLAS_DEBUG=1`` shows it for bug reports).
"""
from __future__ import annotations

import argparse
import os
import sys

from planatlas.layers.errors import PlanAtlasError

from . import app, compare, export, places, plans, sites, store

__all__ = ["main", "build_parser"]

GROUPS = (plans, places, sites, store, export, compare, app)


class _Parser(argparse.ArgumentParser):
    """argparse with PlanAtlas' error convention: one line on stderr, exit code 2."""

    def error(self, message: str):
        first = message.strip().splitlines()[0] if message.strip() else "bad arguments"
        topic = " ".join(["planatlas help", *self.prog.split()[1:]])
        self.exit(2, f"{self.prog}: error: {first} (see '{topic}')\n")


def _version() -> str:
    from planatlas import __version__
    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="planatlas",
        description="PlanAtlas — offline map of Chinese city commerce plans. "
                    "Without a command, opens the app.",
        epilog="'planatlas help COMMAND' shows the options of a command.")
    parser.add_argument("--version", action="version", version=f"planatlas {_version()}")
    app.add_app_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    p = sub.add_parser("help", help="show the help of planatlas or of one command")
    p.add_argument("topic", nargs="*", help="a command (and sub-command), e.g. 'export map'")
    p.set_defaults(func=None)
    parser._planatlas_sub = sub
    return parser


def _help(parser: argparse.ArgumentParser, topic: list[str]) -> int:
    target = parser
    for word in topic:
        subs = [a for a in target._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or word not in subs[0].choices:
            known = ", ".join(sorted(subs[0].choices)) if subs else "none"
            print(f"planatlas help: error: no command {' '.join(topic)!r}; commands: {known}",
                  file=sys.stderr)
            return 2
        target = subs[0].choices[word]
    target.print_help()
    return 0


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename or ""
        return f"{where}: {exc.strerror}" if where else exc.strerror
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def run(args: argparse.Namespace) -> int:
    """Run a parsed command with the error convention; returns the exit code."""
    name = "planatlas " + " ".join(x for x in (args.command, getattr(args, "export_command", None),
                                               getattr(args, "store_command", None)) if x)
    try:
        return int(args.func(args) or 0)
    except PlanAtlasError as exc:
        err, code = exc, exc.exit_code
    except (KeyError, ValueError, FileNotFoundError, IsADirectoryError, NotADirectoryError,
            UnicodeError) as exc:
        err, code = exc, 2
    except BrokenPipeError:
        return 0
    except OSError as exc:
        err, code = exc, 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: still one line, unless debugging
        if os.environ.get("PLANATLAS_DEBUG"):
            raise
        print(f"{name}: internal error: {type(exc).__name__}: {_message(exc)} "
              "(PLANATLAS_DEBUG=1 shows the traceback; please report it)", file=sys.stderr)
        return 1
    if os.environ.get("PLANATLAS_DEBUG"):
        raise err
    print(f"{name}: error: {_message(err)}", file=sys.stderr)
    return code


def _one_line_warnings() -> None:
    """Store warnings (a quarantined file, offline work, a skipped row) as one stderr line each."""
    import warnings

    from planatlas.layers.store.errors import StoreWarning

    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, StoreWarning):
            print(f"planatlas: warning: {' '.join(str(message).split())}", file=file or sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``planatlas`` command and ``python -m planatlas``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    _one_line_warnings()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return run(argparse.Namespace(command="app", func=app.cmd_app, plan=args.plan,
                                      lang=args.lang, reset=args.reset))
    if args.command == "help":
        return _help(parser, args.topic)
    return run(args)
