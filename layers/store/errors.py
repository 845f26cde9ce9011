"""Errors of the user store (all :mod:`planatlas.layers.errors` types, so the CLI maps them).

* :class:`StoreError` — the store cannot be opened or read (exit 1): unreachable server,
  wrong password, a schema newer than this PlanAtlas, a damaged file;
* :class:`ConflictError` — an edit was based on a value someone has changed since; it carries
  both values (``conflicts``) so the app can show them and the CLI can print them (exit 1);
* :class:`PermissionRefused` — a viewer tried to write (exit 1);
* :class:`NothingToDo` — nothing to undo / redo (exit 2, like the old ``undo-accept``).
"""
from __future__ import annotations

from typing import Any

from planatlas.layers.errors import InputError, OperationError

__all__ = ["StoreError", "ConflictError", "PermissionRefused", "NothingToDo", "SchemaError",
           "StoreWarning", "Conflict"]


class StoreError(OperationError):
    """The store cannot be opened, read or written (says which store and why)."""


class SchemaError(StoreError):
    """The store's schema is missing, foreign, damaged or newer than this PlanAtlas."""


class PermissionRefused(StoreError):
    """The connected role may not write (a viewer), or may not run this administrative step."""


class NothingToDo(InputError):
    """Nothing to undo or redo."""


class StoreWarning(UserWarning):
    """Shown once on stderr by the CLI and in the app: a quarantined file, offline work, …"""


class Conflict(dict):
    """One conflicting item: ``entity``, ``id``, ``name``, ``mine`` and ``theirs`` (states),
    ``base_version`` (what the edit was based on), ``version`` (what the store has now),
    ``by`` and ``at`` (who changed it last, when), ``reason``."""

    def describe(self) -> str:
        who = f" by {self['by']}" if self.get("by") else ""
        when = f" at {self['at']}" if self.get("at") else ""
        what = self.get("name") or self["id"]
        base = f"{self['entity']} {self['id']} ({what})" if what != self["id"] else f"{self['entity']} {self['id']}"
        reason = self.get("reason") or (f"changed{who}{when} since version {self['base_version']} "
                                        f"(now version {self['version']})")
        mine, theirs = _short(self.get("mine")), _short(self.get("theirs"))
        return f"{base}: {reason}; yours: {mine}; theirs: {theirs}"


def _short(state: Any) -> str:
    if state is None:
        return "absent"
    if not isinstance(state, dict):
        return str(state)
    geom = state.get("geometry")
    parts = []
    if geom is not None and not getattr(geom, "is_empty", True):
        p = geom.representative_point() if geom.geom_type != "Point" else geom
        parts.append(f"{geom.geom_type} at {p.x:.6f},{p.y:.6f}")
    for key in ("name", "status", "source", "title"):
        if state.get(key):
            parts.append(f"{key}={state[key]}")
    return " ".join(parts) or "(no attributes)"


class ConflictError(OperationError):
    """An edit based on a stale version was refused; nothing was written."""

    def __init__(self, message: str, conflicts: list[Conflict], op_kind: str = ""):
        self.conflicts = conflicts
        self.op_kind = op_kind
        detail = "; ".join(c.describe() for c in conflicts[:3])
        more = f" (and {len(conflicts) - 3} more)" if len(conflicts) > 3 else ""
        super().__init__(f"{message}: {detail}{more}" if detail else message)
