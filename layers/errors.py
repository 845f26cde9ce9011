"""Typed errors of the PlanAtlas core.

Every ``planatlas.layers`` function that refuses its input raises an :class:`InputError`
(a ``ValueError``); one that fails while doing its work (a disk that is full, a store that is
locked, a conflicting edit) raises an :class:`OperationError`. The command line maps them to
exit codes 2 and 1 and prints their message as one line; the app shows it in a message box.
Messages say what was wrong and where (file, line, column) and never need a traceback.
"""
from __future__ import annotations

__all__ = ["PlanAtlasError", "InputError", "OperationError", "WriteFailed", "Cancelled"]


class PlanAtlasError(Exception):
    """Base of every error PlanAtlas raises on purpose."""
    exit_code = 1


class InputError(PlanAtlasError, ValueError):
    """Bad input: a file, an argument, an id or a value PlanAtlas cannot use (exit code 2)."""
    exit_code = 2


class OperationError(PlanAtlasError):
    """The input was fine but the operation failed (I/O, lock, conflict; exit code 1)."""
    exit_code = 1


class WriteFailed(OperationError):
    """A writer (Qt, GDAL) or the check of a written file found the file incomplete; the
    durable-write path turns it into "cannot write FILE: …" and keeps the previous file."""


class Cancelled(PlanAtlasError):
    """The user (a progress callback) asked to stop; nothing was written."""
    exit_code = 1
