"""Field work offline, and moving whole stores.

* :func:`open_replica` — when the team server cannot be reached, work goes on in a local
  GeoPackage copy (``<data dir>/team-cache/<hash>.gpkg``) that mirrors the server as of the last
  sync; every operation made there is queued (``sync_queue``).
* :func:`sync` — pushes each queued operation to the server with the versions it was based
  on: one that meets a newer change is *reported as a conflict*, never applied over it; then the
  local copy is refreshed from the server.
* :func:`copy_store` — ``planatlas store export/import``: every row of one store (GeoPackage or
  PostGIS) into another, empty one, versions and operation log included.
"""
from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from planatlas.layers.errors import InputError

from .config import configured, parse_target, sanitize
from .errors import ConflictError, StoreError, StoreWarning
from .records import ENTITIES

__all__ = ["open_team", "open_replica", "replica_path", "sync", "copy_store", "SyncReport", "label_of", "queued"]

COPY_TABLES = ("plan_texts", "plans", "features", "positions", "operations", "op_items", "history")


def replica_path(conninfo: str) -> Path:
    from planatlas.layers.fsutil import user_data_dir

    digest = hashlib.sha256(sanitize(conninfo).encode("utf-8")).hexdigest()[:16]
    return user_data_dir() / "team-cache" / f"{digest}.gpkg"


def queued(replica) -> list[tuple[str, str, str | None]]:
    """(op_id, state, message) of the replica's sync queue, oldest first."""
    with replica._transaction(write=False) as tx:
        return [tuple(r) for r in tx.q(
            "SELECT q.op_id, q.state, q.message FROM sync_queue q JOIN operations o ON o.op_id = q.op_id "
            "ORDER BY o.seq")]


def open_team(conninfo: str, *, offline_ok: bool = True):
    """The team store, or — if the server cannot be reached — the local replica (queued work)."""
    from .postgis import PostgisStore, Unreachable

    store = PostgisStore(conninfo)
    try:
        return store.connect()
    except Unreachable as exc:
        if not offline_ok:
            raise
        return open_replica(conninfo, reason=str(exc))


def open_replica(conninfo: str, *, reason: str = ""):
    from .gpkg import GpkgStore

    store = GpkgStore(replica_path(conninfo), queue=True)
    store.offline = True
    store.remote = conninfo
    store.label = f"{replica_path(conninfo)} (offline copy of {sanitize(conninfo)})"
    try:
        waiting = sum(1 for _o, state, _m in queued(store) if state == "queued")
    except StoreError:
        waiting = 0
    store._warn(f"{reason}; working offline on the local copy — {waiting} operation(s) waiting; "
                f"run 'planatlas store sync' when the server is back")
    return store


@dataclass
class SyncReport:
    remote: str
    pushed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    pulled: int = 0

    def lines(self) -> list[str]:
        out = [f"sync with {self.remote}: {len(self.pushed)} operation(s) pushed"
               + (f", {len(self.already)} already there" if self.already else "")
               + f", {len(self.conflicts)} conflict(s); local copy refreshed ({self.pulled} row(s))"]
        for op_id, msg in self.conflicts:
            out.append(f"  conflict in {op_id}: {msg} — kept the server's value, yours is in the "
                       f"local log ('planatlas store status')")
        return out


def _replay(remote, op) -> None:
    """Apply a queued operation on the server, keeping its id and time (idempotent)."""
    from .records import Item

    items = [Item(i.entity, i.id, i.before, i.after, i.base_version) for i in op.items]
    remote.commit(op.kind, items, source=op.source, summary=op.summary, op_id=op.op_id,
                  created_at=op.created_at, texts=_texts(op))
    if op.kind in ("undo", "redo") and op.target_op:
        with remote._transaction(write=True) as tx:
            tx.x(f"UPDATE {tx.tab('operations')} SET state = %s WHERE op_id = %s AND user_name = %s",
                 ["undone" if op.kind == "undo" else "done", op.target_op, tx.user])
            tx.x(f"UPDATE {tx.tab('operations')} SET state = 'log' WHERE op_id = %s", [op.op_id])


def _texts(op) -> dict[str, bytes]:
    texts = getattr(op, "_texts", None)
    return texts or {}


def sync(url: str | None = None) -> SyncReport:
    """Push the offline queue of the configured team store, then refresh the local copy."""
    from .postgis import PostgisStore
    from .gpkg import GpkgStore

    if url is None:
        url, _origin = configured()
    kind, conninfo = parse_target(url)
    if kind != "postgis":
        raise InputError("the store is the embedded GeoPackage: there is nothing to sync "
                         "('planatlas store use postgresql://…' chooses a team store)")
    remote = PostgisStore(conninfo).connect()
    replica = GpkgStore(replica_path(conninfo), queue=True)
    report = SyncReport(remote.label)
    try:
        pending = [q for q in (queued(replica) if replica.exists() else []) if q[1] == "queued"]
        for op_id, _state, _msg in pending:
            op = replica.operation(op_id)
            op._texts = {}
            for it in op.items:
                if it.entity == "plan" and it.after:
                    op._texts[it.after["text_sha256"]] = replica.plan_text(it.after["text_sha256"])
            try:
                with remote._transaction(write=False) as tx:
                    exists = tx.q(f"SELECT 1 FROM {tx.tab('operations')} WHERE op_id = %s", [op_id])
                if exists:
                    report.already.append(op_id)
                    state, msg = "sent", None
                else:
                    _replay(remote, op)
                    report.pushed.append(op_id)
                    state, msg = "sent", None
            except ConflictError as exc:
                report.conflicts.append((op_id, str(exc)))
                state, msg = "conflict", str(exc)[:2000]
            with replica._transaction(write=True) as tx:
                tx.x("UPDATE sync_queue SET state = %s, message = %s WHERE op_id = %s", [state, msg, op_id])
        report.pulled = _copy(remote, replica, replace=True)
    finally:
        remote.close()
        replica.close()
    return report


def label_of(url: str) -> str:
    kind, target = parse_target(url)
    return sanitize(target) if kind == "postgis" else target


def _open_plain(url: str | None):
    from . import open_store
    from .postgis import PostgisStore

    if url is None:
        return open_store(offline_ok=False)
    kind, target = parse_target(url)
    if kind == "postgis":
        return PostgisStore(target).connect()
    from .gpkg import GpkgStore
    return GpkgStore(target)


def copy_store(src_url: str | None, dst_url: str | None, *, replace: bool = False) -> int:
    """Copy every row of one store into another (``None`` = the configured store)."""
    if src_url is not None and dst_url is not None and label_of(src_url) == label_of(dst_url):
        raise InputError("source and destination are the same store")
    src, dst = _open_plain(src_url), _open_plain(dst_url)
    try:
        if getattr(dst, "kind", "") == "gpkg":
            dst.migrate()
        return _copy(src, dst, replace=replace)
    finally:
        src.close()
        dst.close()


def _columns(table: str, version: int = 0) -> list[str]:
    """Columns to copy: those of the source's schema (an older source lacks the newest)."""
    from .schema import SCHEMA_VERSION, expected_columns

    return sorted(expected_columns(version or SCHEMA_VERSION)[table] - {"fid", "seq", "geom"})


def _copy(src, dst, *, replace: bool) -> int:
    geom_tables = {ENTITIES[e].table for e in ENTITIES if ENTITIES[e].geometry} | {"history"}
    n = 0
    with src._transaction(write=False) as stx, dst._transaction(write=True) as dtx:
        nonempty = dtx.q(f"SELECT count(*) FROM {dtx.tab('operations')}")[0][0]
        if nonempty and not replace:
            raise InputError(f"the destination store {dst.label} is not empty ({nonempty} operation(s)); "
                             f"use --replace to empty it first")
        for table in reversed(COPY_TABLES):
            if replace:
                dtx.x(f"DELETE FROM {dtx.tab(table)}")
        for table in COPY_TABLES:
            cols = _columns(table, getattr(src, "schema_version", 0))
            has_geom = table in geom_tables
            sel = ", ".join(cols + ([stx.g_out("geom")] if has_geom else []))
            order = "seq" if table == "operations" else "fid"
            rows = stx.q(f"SELECT {sel} FROM {stx.tab(table)} ORDER BY {order}")
            if not rows:
                continue
            names = cols + (["geom"] if has_geom else [])
            marks = ["%s"] * len(cols) + ([dtx.g_in] if has_geom else [])
            sql = f"INSERT INTO {dtx.tab(table)} ({', '.join(names)}) VALUES ({', '.join(marks)})"
            for row in rows:
                row = list(row)
                if has_geom and row[-1] is not None:
                    row[-1] = dtx.enc(stx.dec(row[-1]))
                if table == "plan_texts":
                    row[cols.index("data")] = bytes(row[cols.index("data")])
                dtx.x(sql, row)
                n += 1
    if n == 0:
        warnings.warn(f"{src.label} is empty: nothing copied", StoreWarning, stacklevel=2)
    return n
