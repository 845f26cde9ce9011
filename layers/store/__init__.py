"""The user store: ONE interface through which everything the user writes goes — imported
plans, features placed/moved/edited/deleted on the map, accepted survey positions — with an
operation log for undo and redo, row versions against lost updates, and two backends:

* the embedded GeoPackage (default; ``<data dir>/store.gpkg``, no server) — :mod:`.gpkg`;
* PostGIS for a team (``PLANATLAS_STORE=postgresql://…`` or ``planatlas store use URL``) —
  :mod:`.postgis`; when the server is unreachable the work goes on in a local replica and the
  operations are queued for ``planatlas store sync`` (:mod:`.sync`).

    from planatlas.layers import store
    s = store.current_store()
    op = s.place_feature("新建商业街", shapely.Point(113.3, 23.1), plan="guangzhou",
                         category="commercial_district", precision_m=20)
    s.move_feature(op.ids[0], shapely.Point(113.31, 23.1), base_version=1)
    s.undo(); s.redo()

Every write returns an :class:`OpRecord`; a write based on a stale version raises
:class:`ConflictError` (both values attached) and writes nothing.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Sequence

from .config import configured, parse_target, sanitize
from .engine import Store
from .errors import (Conflict, ConflictError, NothingToDo, PermissionRefused, SchemaError,
                     StoreError, StoreWarning)
from .overlay import apply_user_overrides, user_layer
from .records import Item, OpRecord

__all__ = ["Store", "OpRecord", "Item", "Conflict", "ConflictError", "NothingToDo", "PermissionRefused",
           "SchemaError", "StoreError", "StoreWarning", "open_store", "current_store", "reset",
           "apply_user_overrides", "user_layer", "accept", "undo", "redo", "history", "operations",
           "describe"]

_CACHE: dict[str, Any] = {}
_LOCK = threading.Lock()


def open_store(url: str | None = None, *, configured_default: bool = True, offline_ok: bool = True) -> Store:
    """A new handle on the store at ``url`` (default: the configured one, see
    :mod:`.config`). A team store that cannot be reached opens the local replica instead
    (unless ``offline_ok`` is False), with a warning."""
    if url is None and configured_default:
        url, _origin = configured()
    kind, target = parse_target(url)
    if kind == "gpkg":
        from .gpkg import GpkgStore
        from .legacy import import_legacy

        store = GpkgStore(target)
        if url is None:
            import_legacy(store)
        return store
    from .sync import open_team
    return open_team(target, offline_ok=offline_ok)


def _key() -> str:
    url, _origin = configured()
    return f"{url}|{os.environ.get('PLANATLAS_DATA_DIR', '')}"


def current_store() -> Store:
    """The configured store, opened once per process (reopened if the configuration changes)."""
    key = _key()
    with _LOCK:
        store = _CACHE.get(key)
        if store is None:
            for old in _CACHE.values():
                old.close()
            _CACHE.clear()
            store = _CACHE[key] = open_store()
        return store


def reset() -> None:
    """Forget the cached store (after ``planatlas store use`` or in tests)."""
    with _LOCK:
        for old in _CACHE.values():
            old.close()
        _CACHE.clear()


def describe(store: Store | None = None) -> str:
    store = store or current_store()
    return f"{store.kind} {sanitize(store.label) if store.kind == 'postgis' else store.label}"


# ---------------------------------------------------------------- the old user-gazetteer API
def accept(report, rows: Sequence[int] | None = None, **kwargs) -> dict[str, Any]:
    """Accept rows of a survey report into the user's store (see :meth:`Store.accept`)."""
    return current_store().accept(report, rows, **kwargs)


def undo() -> OpRecord:
    return current_store().undo()


def redo() -> OpRecord:
    return current_store().redo()


def history(feature_id: str) -> list[dict[str, Any]]:
    return current_store().history(feature_id)


def operations() -> list[OpRecord]:
    return current_store().operations()
