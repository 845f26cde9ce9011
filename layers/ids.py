"""Identifiers the user chooses (plan ids) and the labels stored with them.

A plan id names files (``<id>.txt``, ``<id>.toml``) on every platform, so it must be plain:
2–32 lowercase ASCII letters, digits, ``-`` or ``_``, starting with a letter — checked as a
whole string (``re.match`` with ``$`` would accept a trailing newline) — and not a name Windows
reserves for devices (``con``, ``nul``, ``com1`` …), which no file there may carry.
"""
from __future__ import annotations

import re

from .errors import InputError
from .safetext import one_line

__all__ = ["check_plan_id", "clean_label", "WINDOWS_RESERVED"]

_PLAN_ID = re.compile(r"[a-z][a-z0-9_-]{1,31}")
WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul", "clock$", "conin$", "conout$"]
    + [f"com{i}" for i in range(10)] + [f"lpt{i}" for i in range(10)])


def check_plan_id(plan_id: object) -> str:
    """``plan_id`` if it is a usable plan id, else :class:`InputError` saying why."""
    if not isinstance(plan_id, str) or not _PLAN_ID.fullmatch(plan_id):
        raise InputError(f"plan id {plan_id!r} must be 2-32 lowercase letters, digits, '-' or '_', "
                         "starting with a letter")
    if plan_id in WINDOWS_RESERVED:
        raise InputError(f"plan id {plan_id!r} is a device name on Windows "
                         "(con, prn, aux, nul, com0-9, lpt0-9); choose another id")
    return plan_id


def clean_label(value: str | None) -> str:
    """A title, issuer or place name as one line without control characters."""
    return one_line(value)
