"""``planatlas store status``: which store, how it was chosen, schema, role, counts, queue."""
from __future__ import annotations

from typing import Any

from .config import configured, parse_target, sanitize
from .errors import StoreError
from .schema import SCHEMA_VERSION

__all__ = ["status"]


def status() -> dict[str, Any]:
    from . import open_store

    url, origin = configured()
    kind, target = parse_target(url)
    info: dict[str, Any] = {"backend": "PostGIS (team)" if kind == "postgis" else "GeoPackage (embedded)",
                            "location": sanitize(target) if kind == "postgis" else target,
                            "chosen by": origin}
    try:
        store = open_store(url)
    except StoreError as exc:
        info["state"] = f"unusable: {exc}"
        return info
    try:
        info["user"] = store.user
        if getattr(store, "offline", False):
            from .sync import queued
            q = queued(store) if store.exists() else []
            info["state"] = f"OFFLINE — working on {store.path}"
            info["queued"] = sum(1 for _o, s, _m in q if s == "queued")
            info["conflicts"] = [f"{o}: {m}" for o, s, m in q if s == "conflict"]
        if kind == "postgis" and not getattr(store, "offline", False):
            info["role"] = store.role()
        info["schema"] = f"{getattr(store, 'schema_version', 0) or SCHEMA_VERSION} (this PlanAtlas: {SCHEMA_VERSION})"
        info["contents"] = {"placed features": len(store.user_features()),
                            "verified positions": len(store.positions()),
                            "imported plans": len(store.plan_records()),
                            "operations": store.last_seq()}
        if not getattr(store, "offline", False):
            info["state"] = "online" if kind == "postgis" else ("ready" if store.exists() else
                                                               "empty (created on the first change)")
        if store.notices:
            info["warnings"] = list(store.notices)
    except StoreError as exc:
        info["state"] = f"unusable: {exc}"
    finally:
        store.close()
    return info
