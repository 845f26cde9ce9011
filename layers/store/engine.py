"""The store engine shared by both backends: reads, the atomic versioned commit, undo and redo.

A backend (:mod:`.gpkg`, :mod:`.postgis`) only supplies transactions (``_transaction``) whose
handle speaks one SQL with ``%s`` placeholders plus a few dialect hooks (geometry in/out,
``FOR UPDATE``, ``NOTIFY``). Every change — place, move, edit, delete, accept, import, undo,
redo, a queued offline operation replayed by ``sync`` — goes through :meth:`Store.commit`:

1. lock each entity row (creating a tombstone row for a new id), in a fixed order;
2. compare its version with the version the change was based on; any difference is a
   conflict, reported with both values (:class:`ConflictError`) and nothing is written;
3. write the new states with version + 1, the operation, its items and history rows, all in
   one transaction (a client killed mid-write leaves the store as it was).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import uuid
import warnings
from contextlib import contextmanager
from typing import Any, Iterator

from planatlas.layers.errors import InputError

from .edits import Edits
from .errors import Conflict, ConflictError, NothingToDo, StoreError, StoreWarning
from .geom import BadValue, from_wkb, wkb_hex
from .records import ENTITIES, Item, OpRecord, clean_state, state_from_json, state_to_json

__all__ = ["Store", "new_op_id", "now_iso", "NORMAL_KINDS"]

NORMAL_KINDS = ("accept", "place", "move", "edit", "delete", "import_plan", "remove_plan", "migrate")
_HISTORY_ENTITIES = ("feature", "position")


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def new_op_id() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:12]


class Store(Edits):
    """One user store (see the package docstring). Backends subclass it."""

    kind = "abstract"

    def __init__(self) -> None:
        self.client = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.notices: list[str] = []

    # ------------------------------------------------------------------ backend hooks
    label = "store"

    @property
    def user(self) -> str:               # pragma: no cover - backends override
        raise NotImplementedError

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Any]:   # pragma: no cover
        raise NotImplementedError
        yield None

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _warn(self, message: str) -> None:
        if message not in self.notices:
            self.notices.append(message)
            warnings.warn(message, StoreWarning, stacklevel=3)

    # ------------------------------------------------------------------ reading
    def _data_columns(self, entity: str) -> list[str]:
        """The data columns of ``entity`` in this store's schema (a team store not migrated
        yet lacks the newest; reading it still works, writing asks for the migration)."""
        from .schema import SCHEMA_VERSION

        version = getattr(self, "schema_version", 0) or SCHEMA_VERSION
        return [c for c, _k, _r in ENTITIES[entity].columns_at(version)]

    def _row_sql(self, tx, entity: str) -> str:
        ent = ENTITIES[entity]
        cols = [ent.key] + self._data_columns(entity)
        cols += ["version", "deleted", "changed_by", "changed_at", "op_id"]
        if ent.geometry:
            cols.append(tx.g_out("geom"))
        return f"SELECT {', '.join(cols)} FROM {tx.tab(ent.table)}"

    def _decode_row(self, tx, entity: str, row: tuple) -> tuple[str, dict | None, dict]:
        """(id, state or None if deleted, meta) — BadValue if the row is unusable."""
        ent = ENTITIES[entity]
        names = [ent.key] + self._data_columns(entity) + [
            "version", "deleted", "changed_by", "changed_at", "op_id"]
        data = dict(zip(names, row))
        key = data[ent.key]
        if not isinstance(key, str) or not key or len(key) > 200:
            raise BadValue(f"{ent.table}: bad {ent.key}")
        version, deleted = data["version"], data["deleted"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 0 or deleted not in (0, 1):
            raise BadValue(f"{ent.table} {key}: bad version/deleted")
        meta = {"version": version, "deleted": bool(deleted),
                "changed_by": data["changed_by"] if isinstance(data["changed_by"], str) else None,
                "changed_at": data["changed_at"] if isinstance(data["changed_at"], str) else None,
                "op_id": data["op_id"] if isinstance(data["op_id"], str) else None}
        if deleted:
            return key, None, meta
        if ent.geometry:
            data["geometry"] = tx.dec(row[len(names)])
        return key, clean_state(entity, data, f"{ent.table} {key}"), meta

    def entities(self, entity: str, ids: list[str] | None = None,
                 include_deleted: bool = False) -> dict[str, dict[str, Any]]:
        """Current rows of one entity kind: id -> state dict plus ``version``, ``changed_by``,
        ``changed_at``, ``op_id`` (and ``deleted``). Unreadable rows are skipped with a warning."""
        out: dict[str, dict[str, Any]] = {}
        bad = 0
        with self._transaction(write=False) as tx:
            sql = self._row_sql(tx, entity)
            where = [] if include_deleted else ["deleted = 0"]
            params: list[Any] = []
            if ids is not None:
                if not ids:
                    return {}
                where.append(f"{ENTITIES[entity].key} IN ({', '.join(['%s'] * len(ids))})")
                params += list(ids)
            if where:
                sql += " WHERE " + " AND ".join(where)
            for row in tx.q(sql + " ORDER BY fid", params):
                try:
                    key, state, meta = self._decode_row(tx, entity, row)
                except BadValue:
                    bad += 1
                    continue
                if state is None and not include_deleted:
                    continue
                out[key] = {**(state or {}), **meta}
        if bad:
            self._warn(f"{self.label}: {bad} unreadable {ENTITIES[entity].table} row(s) ignored")
        return out

    def user_features(self) -> dict[str, dict[str, Any]]:
        return self.entities("feature")

    def positions(self) -> dict[str, dict[str, Any]]:
        return self.entities("position")

    def plan_records(self) -> dict[str, dict[str, Any]]:
        return self.entities("plan")

    def plan_text(self, sha256: str) -> bytes:
        with self._transaction(write=False) as tx:
            rows = tx.q(f"SELECT data, size FROM {tx.tab('plan_texts')} WHERE sha256 = %s", [sha256])
        if not rows or not isinstance(rows[0][0], (bytes, bytearray, memoryview)):
            raise BadValue(f"plan text {sha256[:12]} is missing")
        data = bytes(rows[0][0])
        import hashlib
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BadValue(f"plan text {sha256[:12]} is damaged (hash mismatch)")
        return data

    def versions(self, ids: list[str] | None = None) -> dict[str, int]:
        """feature id -> version of its user record (placed feature or position), tombstones
        too; only ``ids`` if given."""
        out: dict[str, int] = {}
        if ids is not None and not ids:
            return out
        where = "" if ids is None else f" WHERE feature_id IN ({', '.join(['%s'] * len(ids))})"
        with self._transaction(write=False) as tx:
            for table in ("positions", "features"):
                for fid, ver in tx.q(f"SELECT feature_id, version FROM {tx.tab(table)}{where}",
                                     list(ids or [])):
                    if isinstance(fid, str) and isinstance(ver, int):
                        out[fid] = ver
        return out

    def _op_from_row(self, row) -> OpRecord:
        seq, op_id, kind, user, client, created, source, summary, state, target, _n = row
        if not isinstance(op_id, str) or not isinstance(kind, str) or not isinstance(seq, int):
            raise BadValue("operations: bad row")
        return OpRecord(op_id=op_id, kind=kind, user=str(user or ""), created_at=str(created or ""),
                        source=str(source or ""), summary=str(summary or ""), state=str(state or ""),
                        target_op=target if isinstance(target, str) else None, seq=seq,
                        client=str(client or ""))

    _OP_COLS = "seq, op_id, kind, user_name, client, created_at, source, summary, state, target_op, n_items"

    def _load_items(self, tx, op: OpRecord, *, strict: bool = True) -> None:
        rows = tx.q(f"SELECT entity, entity_id, before, after, base_version, version, undo_version "
                    f"FROM {tx.tab('op_items')} WHERE op_id = %s ORDER BY idx", [op.op_id])
        items = []
        for entity, eid, before, after, base, ver, undo_ver in rows:
            try:
                if entity not in ENTITIES or not isinstance(eid, str):
                    raise BadValue("op_items: bad entity")
                where = f"operation {op.op_id} item {eid}"
                items.append(Item(entity, eid, state_from_json(entity, before, where),
                                  state_from_json(entity, after, where), int(base), int(ver),
                                  int(undo_ver) if undo_ver is not None else None))
            except (BadValue, TypeError, ValueError, OverflowError) as exc:
                if strict:
                    raise BadValue(f"operation {op.op_id} is damaged ({exc})") from None
        op.items = items

    def operations(self, *, limit: int | None = None, items: bool = False,
                   since_seq: int | None = None) -> list[OpRecord]:
        """Operations, oldest first (the last ``limit`` ones; those after ``since_seq``)."""
        out = []
        with self._transaction(write=False) as tx:
            sql = f"SELECT {self._OP_COLS} FROM {tx.tab('operations')}"
            params: list[Any] = []
            if since_seq is not None:
                sql += " WHERE seq > %s"
                params.append(since_seq)
            sql += " ORDER BY seq DESC"
            if limit:
                sql += f" LIMIT {int(limit)}"
            for row in tx.q(sql, params):
                try:
                    op = self._op_from_row(row)
                    if items:
                        self._load_items(tx, op, strict=False)
                except (BadValue, TypeError, ValueError, OverflowError):
                    continue
                out.append(op)
        return out[::-1]

    def operation(self, op_id: str) -> OpRecord:
        with self._transaction(write=False) as tx:
            rows = tx.q(f"SELECT {self._OP_COLS} FROM {tx.tab('operations')} WHERE op_id = %s", [op_id])
            if not rows:
                raise KeyError(f"no operation {op_id!r} in {self.label}")
            op = self._op_from_row(rows[0])
            self._load_items(tx, op, strict=False)
        return op

    def last_seq(self) -> int:
        with self._transaction(write=False) as tx:
            rows = tx.q(f"SELECT max(seq) FROM {tx.tab('operations')}")
        return int(rows[0][0] or 0)

    def history(self, feature_id: str) -> list[dict[str, Any]]:
        """Changes of one feature, oldest first: previous and new position, who, when, from what."""
        out = []
        with self._transaction(write=False) as tx:
            rows = tx.q(f"SELECT {tx.g_out('geom')}, entity, name, op_id, kind, who, at, source, "
                        f"survey_row, survey_status, survey_date, distance_m, prev_status, prev_source, "
                        f"new_status, new_source, prev_version, new_version, new_wkb "
                        f"FROM {tx.tab('history')} WHERE feature_id = %s ORDER BY fid", [feature_id])
            for r in rows:
                try:
                    prev = tx.dec(r[0]) if r[0] is not None else None
                    new = from_wkb(r[18]) if r[18] else None
                except BadValue:
                    continue
                out.append({
                    "feature": feature_id, "entity": r[1], "name": r[2], "op": r[3], "kind": r[4],
                    "who": r[5], "recorded_at": r[6],
                    "previous": {"geometry": prev, "status": r[12], "source": r[13], "version": r[16]},
                    "new": {"geometry": new, "status": r[14], "source": r[7] if r[14] else r[15],
                            "survey_row": r[8], "survey_status": r[9], "survey_date": r[10],
                            "distance_m": r[11], "version": r[17]},
                })
        return out

    # ------------------------------------------------------------------ the commit
    def _lock_row(self, tx, item: Item) -> tuple[int, dict | None, dict]:
        ent = ENTITIES[item.entity]
        tab = tx.tab(ent.table)
        tx.x(f"INSERT INTO {tab} ({ent.key}, version, deleted) VALUES (%s, 0, 1) "
             f"ON CONFLICT ({ent.key}) DO NOTHING", [item.id])
        rows = tx.q(self._row_sql(tx, item.entity) + f" WHERE {ent.key} = %s{tx.for_update}", [item.id])
        try:
            _key, state, meta = self._decode_row(tx, item.entity, rows[0])
        except BadValue as exc:
            # a damaged row can be overwritten, but never silently: it counts as "changed"
            ver = rows[0][len(self._data_columns(item.entity)) + 1]
            meta = {"version": ver if isinstance(ver, int) else -1, "changed_by": None,
                    "changed_at": None, "damaged": str(exc)}
            state = None
        return meta["version"], state, meta

    def _write(self, tx, item: Item, version: int, op_id: str, who: str, at: str,
               texts: dict[str, bytes]) -> None:
        ent = ENTITIES[item.entity]
        st = item.after
        cols = [c for c, _k, _r in ent.columns]
        sets = [f"{c} = %s" for c in cols] + ["version = %s", "deleted = %s", "changed_by = %s",
                                               "changed_at = %s", "op_id = %s"]
        params: list[Any] = [(st or {}).get(c) for c in cols] + [version, 0 if st else 1, who, at, op_id]
        if ent.geometry:
            sets.append(f"geom = {tx.g_in if st else '%s'}")
            params.append(tx.enc(st["geometry"]) if st else None)
        tx.x(f"UPDATE {tx.tab(ent.table)} SET {', '.join(sets)} WHERE {ent.key} = %s", params + [item.id])
        if item.entity == "plan" and st:
            sha = st["text_sha256"]
            if sha in texts:
                tx.x(f"INSERT INTO {tx.tab('plan_texts')} (sha256, data, size) VALUES (%s, %s, %s) "
                     f"ON CONFLICT (sha256) DO NOTHING", [sha, texts[sha], len(texts[sha])])
            elif not tx.q(f"SELECT 1 FROM {tx.tab('plan_texts')} WHERE sha256 = %s", [sha]):
                raise BadValue(f"plan {item.id}: its text {sha[:12]} is not in the store")

    def _history(self, tx, item: Item, kind: str, op_id: str, who: str, at: str, source: str,
                 prev_version: int, version: int, hint: dict | None) -> None:
        if item.entity not in _HISTORY_ENTITIES:
            return
        prev = item.before or hint or {}
        new = item.after or {}
        pgeom = prev.get("geometry")
        tx.x(f"INSERT INTO {tx.tab('history')} (geom, entity, feature_id, name, op_id, kind, who, at, "
             f"source, survey_row, survey_status, survey_date, distance_m, prev_status, prev_source, "
             f"new_status, new_source, prev_version, new_version, new_wkb) VALUES "
             f"({tx.g_in if pgeom is not None else '%s'}, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
             f"%s, %s, %s, %s, %s, %s, %s, %s, %s)",
             [tx.enc(pgeom) if pgeom is not None else None, item.entity, item.id,
              new.get("name") or prev.get("name"), op_id, kind, who, at, source,
              new.get("survey_row"), new.get("survey_status"), new.get("survey_date"),
              new.get("distance_m"), prev.get("status") or ("placed" if item.before and item.entity == "feature" else None),
              prev.get("source"), new.get("status") or ("placed" if new and item.entity == "feature" else
                                                        ("deleted" if not new else None)),
              new.get("source"), prev_version, version,
              wkb_hex(new["geometry"]) if new.get("geometry") is not None else None])

    def _apply(self, tx, kind: str, items: list[Item], *, op_id: str, who: str, at: str,
               source: str, summary: str, state: str, target_op: str | None,
               texts: dict[str, bytes], hints: dict[str, dict], check: str = "base") -> list[Item]:
        """Lock, check and write ``items``; insert the operation. ``check``: which item field
        holds the expected current version (``base_version``, ``version`` or ``undo_version``)."""
        conflicts: list[Conflict] = []
        locked = []
        for item in sorted(items, key=lambda i: (i.entity, i.id)):
            cur, current, meta = self._lock_row(tx, item)
            expected = {"base": item.base_version, "version": item.version,
                        "undo": item.undo_version}[check]
            if expected is not None and cur != expected:
                conflicts.append(Conflict(
                    entity=item.entity, id=item.id,
                    name=(item.after or item.before or current or {}).get("name")
                    or (item.after or item.before or current or {}).get("title"),
                    mine=item.after, theirs=current, base_version=expected, version=cur,
                    by=meta.get("changed_by"), at=meta.get("changed_at"),
                    reason=("the stored row is damaged: " + meta["damaged"]) if meta.get("damaged") else None))
                continue
            locked.append((item, cur, current))
        if conflicts:
            raise ConflictError(f"{kind} refused, nothing was written ({len(conflicts)} conflict(s) "
                                f"in {self.label})", conflicts, kind)
        out = []
        for item, cur, current in locked:
            item.before = current          # versions match: this is the state the change was based on
            new_version = cur + 1
            self._write(tx, item, new_version, op_id, who, at, texts)
            self._history(tx, item, kind, op_id, who, at, source, cur, new_version, hints.get(item.id))
            out.append(Item(item.entity, item.id, item.before, item.after, cur, new_version))
        order = {(i.entity, i.id): k for k, i in enumerate(items)}
        out.sort(key=lambda i: order[(i.entity, i.id)])
        tx.x(f"INSERT INTO {tx.tab('operations')} (op_id, kind, user_name, client, created_at, source, "
             f"summary, state, target_op, n_items) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
             [op_id, kind, who, self.client, at, source, summary, state, target_op, len(out)])
        for idx, it in enumerate(out):
            tx.x(f"INSERT INTO {tx.tab('op_items')} (op_id, idx, entity, entity_id, before, after, "
                 f"base_version, version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                 [op_id, idx, it.entity, it.id, state_to_json(it.entity, it.before),
                  state_to_json(it.entity, it.after), it.base_version, it.version])
        return out

    def _notify(self, tx, op: OpRecord) -> None:
        ids = op.ids
        payload = {"op": op.op_id, "seq": None, "kind": op.kind, "user": op.user,
                   "client": self.client, "ids": ids if len(json.dumps(ids)) < 6000 else None}
        tx.notify(json.dumps(payload, ensure_ascii=False))

    def commit(self, kind: str, items: list[Item], *, source: str = "", summary: str = "",
               texts: dict[str, bytes] | None = None, hints: dict[str, dict] | None = None,
               op_id: str | None = None, user: str | None = None,
               created_at: str | None = None) -> OpRecord:
        """Apply ``items`` as one operation (see the module docstring); returns its record.

        ``item.base_version`` is the version the change was based on (None: the current one,
        no conflict possible). Raises :class:`ConflictError` and writes nothing on a conflict.
        """
        if not items:
            raise InputError(f"{kind}: nothing to change")
        op_id = op_id or new_op_id()
        with self._transaction(write=True) as tx:
            who = user or tx.user
            at = created_at or now_iso()
            done = self._apply(tx, kind, items, op_id=op_id, who=who, at=at, source=source,
                               summary=summary, state="done", target_op=None, texts=texts or {},
                               hints=hints or {})
            # a new operation ends the user's redo chain
            tx.x(f"UPDATE {tx.tab('operations')} SET state = 'dropped' WHERE user_name = %s "
                 f"AND state = 'undone'", [who])
            op = OpRecord(op_id, kind, who, at, source, summary, "done", None, None, self.client, done)
            self._notify(tx, op)
            self._on_commit(tx, op)
        return op

    def _on_commit(self, tx, op: OpRecord) -> None:
        """Called inside the transaction of every write (the offline replica queues it)."""

    # ------------------------------------------------------------------ undo / redo
    def _next_rows(self, tx, redo: bool, who: str) -> list[tuple]:
        """The log row of the operation ``undo`` (or ``redo``) would act on, as a list."""
        ops = tx.tab("operations")
        if redo:
            return tx.q(f"SELECT o.seq, o.op_id, o.kind, o.user_name, o.client, o.created_at, "
                        f"o.source, o.summary, o.state, o.target_op, o.n_items FROM {ops} o "
                        f"JOIN {ops} u ON u.target_op = o.op_id AND u.kind = 'undo' "
                        f"WHERE o.user_name = %s AND o.state = 'undone' "
                        f"ORDER BY u.seq DESC LIMIT 1", [who])
        kinds = ", ".join(f"'{k}'" for k in NORMAL_KINDS)
        return tx.q(f"SELECT {self._OP_COLS} FROM {ops} WHERE user_name = %s AND state = 'done' "
                    f"AND kind IN ({kinds}) ORDER BY seq DESC LIMIT 1", [who])

    def next_undo(self) -> OpRecord | None:
        """The operation :meth:`undo` would undo now (with its items), or None — for menus
        that say what will be undone. Nothing is written."""
        return self._peek(redo=False)

    def next_redo(self) -> OpRecord | None:
        """The operation :meth:`redo` would redo now, or None."""
        return self._peek(redo=True)

    def _peek(self, redo: bool) -> OpRecord | None:
        with self._transaction(write=False) as tx:
            who = self.user
            try:
                rows = self._next_rows(tx, redo, who)
                if not rows:
                    return None
                op = self._op_from_row(rows[0])
                self._load_items(tx, op, strict=False)
            except (BadValue, TypeError, ValueError):
                return None
        return op

    def _undo_redo(self, redo: bool) -> OpRecord:
        word = "redo" if redo else "undo"
        with self._transaction(write=True) as tx:
            who = tx.user
            ops = tx.tab("operations")
            rows = self._next_rows(tx, redo, who)
            if not rows:
                raise NothingToDo(f"nothing to {word} in {self.label} (no operation of {who} "
                                  f"{'undone' if redo else 'left to undo'})")
            op = self._op_from_row(rows[0])
            if tx.for_update:
                tx.q(f"SELECT state FROM {ops} WHERE op_id = %s{tx.for_update}", [op.op_id])
            try:
                self._load_items(tx, op)
            except BadValue as exc:
                raise StoreError(f"cannot {word} operation {op.op_id} in {self.label}: "
                                 f"its log entry is damaged ({exc})") from None
            if redo:
                items = [Item(i.entity, i.id, i.before, i.after, i.base_version, i.version,
                              i.undo_version) for i in op.items]
            else:
                items = [Item(i.entity, i.id, i.after, i.before, i.base_version, i.version,
                              i.undo_version) for i in op.items]
            log_id = new_op_id()
            at = now_iso()
            try:
                done = self._apply(tx, word, items, op_id=log_id, who=who, at=at, source=op.source,
                                   summary=f"{word} {op.kind} {op.op_id}", state="log",
                                   target_op=op.op_id, texts={}, hints={},
                                   check="undo" if redo else "version")
            except ConflictError as exc:
                raise ConflictError(f"cannot {word} your {op.kind} {op.op_id}: someone has changed "
                                    f"the same {'feature' if len(exc.conflicts) == 1 else 'features'} "
                                    f"since", exc.conflicts, word) from None
            items_t = tx.tab("op_items")
            for it in op.items:
                new = next(d.version for d in done if d.entity == it.entity and d.id == it.id)
                # the state now written was known under an older version number (the state before
                # the operation, or its result): every log entry naming that number follows, so
                # undoing or redoing the neighbouring operations is not mistaken for a colleague's
                # change — versions are never reused, so a number names exactly one state
                old = it.version if redo else it.base_version
                if old:
                    for col in ("base_version", "version", "undo_version"):
                        tx.x(f"UPDATE {items_t} SET {col} = %s WHERE entity = %s AND entity_id = %s "
                             f"AND {col} = %s", [new, it.entity, it.id, old])
                if not redo:
                    tx.x(f"UPDATE {items_t} SET undo_version = %s WHERE op_id = %s AND entity = %s "
                         f"AND entity_id = %s", [new, op.op_id, it.entity, it.id])
            tx.x(f"UPDATE {ops} SET state = %s WHERE op_id = %s", ["done" if redo else "undone", op.op_id])
            op.state = "done" if redo else "undone"
            log = OpRecord(log_id, word, who, at, op.source, f"{word} {op.kind} {op.op_id}", "log",
                           op.op_id, None, self.client, done)
            self._notify(tx, log)
            self._on_commit(tx, log)
        op.items = done
        return op

    def undo(self) -> OpRecord:
        """Undo the current user's last operation (refused if someone changed the same
        feature since); returns the undone operation."""
        return self._undo_redo(redo=False)

    def redo(self) -> OpRecord:
        """Redo the current user's last undone operation (same conflict rule)."""
        return self._undo_redo(redo=True)
