"""The store schema, its versioned migrations (SQLite/GeoPackage and PostgreSQL/PostGIS) and
the check run on every open.

``SCHEMA_VERSION`` is what this PlanAtlas understands. A store records its version in
``store_meta.schema_version``; migrations ``n`` bring a store from ``n-1`` to ``n`` inside one
transaction. A store with a *newer* version is refused with a clear message (an older
PlanAtlas must never write into a schema it does not know).

1. entity tables (``features``, ``positions``, ``plans`` + ``plan_texts``), ``operations`` and
   ``op_items`` (the undo/redo log), ``history`` (one row per change of a feature's position);
2. ``layer_styles`` (QGIS opens the tables coloured) and ``sync_queue`` (operations made
   offline, waiting for ``planatlas store sync``);
3. ``features.aliases`` (a placed feature's other names, ``|``-joined).

A column added by a later migration is listed in its entity's ``added``
(:class:`~planatlas.layers.store.records.Entity`), so the tables of schema 1 are created as they
were and every later version only adds to them.
"""
from __future__ import annotations

from .records import ENTITIES

__all__ = ["SCHEMA_VERSION", "APPLICATION", "sqlite_migrations", "pg_migrations", "EXPECTED",
           "expected_columns", "missing_columns", "GEOMETRY_TABLES", "ATTRIBUTE_TABLES"]

SCHEMA_VERSION = 3
APPLICATION = "planatlas-store"

GEOMETRY_TABLES = {"features": "places the user put on the map",
                   "positions": "accepted or edited positions of shipped features",
                   "history": "previous positions (shipped or earlier), one row per change"}
ATTRIBUTE_TABLES = {"plans": "imported plans (metadata)", "plan_texts": "original plan bytes",
                    "operations": "operation log (undo/redo)", "op_items": "entities changed by each operation"}

_TYPES = {"sqlite": {"text": "TEXT", "real": "REAL", "int": "INTEGER", "blob": "BLOB",
                     "geom": "GEOMETRY", "pk": "INTEGER PRIMARY KEY AUTOINCREMENT"},
          "pg": {"text": "text", "real": "double precision", "int": "bigint", "blob": "bytea",
                 "geom": "geometry(Geometry,4326)", "pk": "bigserial PRIMARY KEY"}}


def _entity_table(dialect: str, name: str, prefix: str) -> list[str]:
    t = _TYPES[dialect]
    ent = ENTITIES[name]
    cols = [f"fid {t['pk']}"]
    if ent.geometry:
        cols.append(f"geom {t['geom']}")
    cols.append(f"{ent.key} {t['text']} NOT NULL UNIQUE")
    cols += [f"{c} {t[k]}" for c, k, _req in ent.columns_at(1)]
    cols += [f"version {t['int']} NOT NULL DEFAULT 0", f"deleted {t['int']} NOT NULL DEFAULT 1",
             f"changed_by {t['text']}", f"changed_at {t['text']}", f"op_id {t['text']}"]
    return [f"CREATE TABLE {prefix}{ent.table} ({', '.join(cols)})"]


def _core(dialect: str, prefix: str) -> list[str]:
    t = _TYPES[dialect]
    out = [f"CREATE TABLE {prefix}store_meta (key {t['text']} PRIMARY KEY, value {t['text']} NOT NULL)"]
    for name in ENTITIES:
        out += _entity_table(dialect, name, prefix)
    out += [
        f"CREATE TABLE {prefix}plan_texts (fid {t['pk']}, sha256 {t['text']} NOT NULL UNIQUE, "
        f"data {t['blob']} NOT NULL, size {t['int']} NOT NULL)",
        f"CREATE TABLE {prefix}operations (seq {t['pk']}, op_id {t['text']} NOT NULL UNIQUE, "
        f"kind {t['text']} NOT NULL, user_name {t['text']} NOT NULL, client {t['text']}, "
        f"created_at {t['text']} NOT NULL, source {t['text']}, summary {t['text']}, "
        f"state {t['text']} NOT NULL, target_op {t['text']}, n_items {t['int']} NOT NULL)",
        f"CREATE TABLE {prefix}op_items (fid {t['pk']}, op_id {t['text']} NOT NULL, "
        f"idx {t['int']} NOT NULL, entity {t['text']} NOT NULL, entity_id {t['text']} NOT NULL, "
        f"before {t['text']}, after {t['text']}, base_version {t['int']} NOT NULL, "
        f"version {t['int']} NOT NULL, undo_version {t['int']}, UNIQUE (op_id, idx))",
        f"CREATE INDEX op_items_entity ON {prefix}op_items (entity, entity_id)",
        f"CREATE INDEX operations_user ON {prefix}operations (user_name, seq)",
        f"CREATE TABLE {prefix}history (fid {t['pk']}, geom {t['geom']}, entity {t['text']} NOT NULL, "
        f"feature_id {t['text']} NOT NULL, name {t['text']}, op_id {t['text']} NOT NULL, "
        f"kind {t['text']} NOT NULL, who {t['text']}, at {t['text']} NOT NULL, source {t['text']}, "
        f"survey_row {t['int']}, survey_status {t['text']}, survey_date {t['text']}, "
        f"distance_m {t['real']}, prev_status {t['text']}, prev_source {t['text']}, "
        f"new_status {t['text']}, new_source {t['text']}, prev_version {t['int']}, "
        f"new_version {t['int']}, new_wkb {t['text']})",
        f"CREATE INDEX history_feature ON {prefix}history (feature_id)",
    ]
    return out


def _v2(dialect: str, prefix: str) -> list[str]:
    t = _TYPES[dialect]
    out = [f"CREATE TABLE {prefix}sync_queue (op_id {t['text']} PRIMARY KEY, "
           f"state {t['text']} NOT NULL, message {t['text']}, updated_at {t['text']} NOT NULL)"]
    if dialect == "sqlite":
        out.append(
            "CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT, "
            "f_table_schema TEXT, f_table_name TEXT, f_geometry_column TEXT, styleName TEXT, "
            "styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT, "
            "ui TEXT, update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))")
    else:
        # the table QGIS itself creates ("Save style in database") — shared by every schema
        out.append(
            "CREATE TABLE IF NOT EXISTS public.layer_styles (id serial PRIMARY KEY, "
            "f_table_catalog varchar, f_table_schema varchar, f_table_name varchar, "
            "f_geometry_column varchar, stylename text, styleqml xml, stylesld xml, "
            "useasdefault boolean, description text, owner varchar(63) DEFAULT CURRENT_USER, "
            "ui xml, update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar)")
    return out


def _added(dialect: str, prefix: str, version: int) -> list[str]:
    """ALTER TABLE statements for the entity columns schema ``version`` adds."""
    t = _TYPES[dialect]
    kinds = {}
    for ent in ENTITIES.values():
        kinds.update({(ent.table, c): k for c, k, _r in ent.columns})
    return [f"ALTER TABLE {prefix}{ent.table} ADD COLUMN {col} {t[kinds[(ent.table, col)]]}"
            for ent in ENTITIES.values() for col, since in ent.added if since == version]


def sqlite_migrations() -> dict[int, list[str]]:
    return {1: _core("sqlite", ""), 2: _v2("sqlite", ""), 3: _added("sqlite", "", 3)}


def pg_migrations(schema: str) -> dict[int, list[str]]:
    return {1: _core("pg", f"{schema}."), 2: _v2("pg", f"{schema}."), 3: _added("pg", f"{schema}.", 3)}


def _expected(version: int = SCHEMA_VERSION) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"store_meta": {"key", "value"}}
    for ent in ENTITIES.values():
        cols = {"fid", ent.key, "version", "deleted", "changed_by", "changed_at", "op_id"}
        cols |= {c for c, _k, _r in ent.columns_at(version)}
        if ent.geometry:
            cols.add("geom")
        out[ent.table] = cols
    out["plan_texts"] = {"sha256", "data", "size"}
    out["operations"] = {"seq", "op_id", "kind", "user_name", "client", "created_at", "source",
                         "summary", "state", "target_op", "n_items"}
    out["op_items"] = {"op_id", "idx", "entity", "entity_id", "before", "after", "base_version",
                       "version", "undo_version"}
    out["history"] = {"geom", "entity", "feature_id", "name", "op_id", "kind", "who", "at", "source",
                      "survey_row", "survey_status", "survey_date", "distance_m", "prev_status",
                      "prev_source", "new_status", "new_source", "prev_version", "new_version", "new_wkb"}
    return out


EXPECTED = _expected()
expected_columns = _expected
EXPECTED_V2 = {"sync_queue": {"op_id", "state", "message", "updated_at"}}


def missing_columns(version: int, columns_of) -> list[str]:
    """``table.column`` names the schema needs but the store lacks (``columns_of(table)`` returns
    the set of lower-case column names, empty if the table is missing)."""
    need = _expected(version)
    if version >= 2:
        need.update(EXPECTED_V2)
    out = []
    for table, cols in need.items():
        have = columns_of(table)
        if not have:
            out.append(f"{table} (table)")
            continue
        out += [f"{table}.{c}" for c in sorted(cols - have)]
    return out
