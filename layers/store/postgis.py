"""The team backend: PostgreSQL + PostGIS through psycopg 3, schema ``planatlas``.

* Row versions are checked under ``SELECT … FOR UPDATE`` row locks taken in a fixed order, in
  one transaction per operation (a deadlock or serialisation failure is retried); a client
  killed mid-write leaves nothing (the server rolls the transaction back).
* Every commit sends ``NOTIFY planatlas`` with the operation id, so open apps update within
  seconds (:mod:`.live`).
* Roles: ``planatlas_viewer`` (SELECT) and ``planatlas_editor`` (viewer + INSERT/UPDATE),
  created with their grants by :func:`init_server` (``planatlas store init``); a viewer's
  write is refused with :class:`PermissionRefused` before anything is sent.
* Passwords come only from libpq (``~/.pgpass``, ``PGPASSFILE``, service files); every
  message shows the connection string without one.
"""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

from .config import conninfo_parts, sanitize
from .engine import Store
from .errors import PermissionRefused, SchemaError, StoreError
from .geom import from_wkb
from .schema import APPLICATION, SCHEMA_VERSION, missing_columns, pg_migrations

__all__ = ["PostgisStore", "init_server", "check_connection", "Unreachable",
           "SCHEMA", "CHANNEL", "VIEWER", "EDITOR", "connect"]

SCHEMA = "planatlas"
CHANNEL = "planatlas"
VIEWER, EDITOR = "planatlas_viewer", "planatlas_editor"
_WRITE_TABLES = ("features", "positions", "plans", "plan_texts", "operations", "op_items", "history")


class Unreachable(StoreError):
    """The server cannot be reached (network, host down): work can go on offline."""


def _where(conninfo: str) -> str:
    try:
        p = conninfo_parts(conninfo)
    except Exception:  # noqa: BLE001
        return sanitize(conninfo)
    if p.get("service"):
        return f"service {p['service']}"
    host = p.get("host") or "localhost"
    port = p.get("port") or "5432"
    return f"{p.get('user') or os.environ.get('PGUSER') or 'you'}@{host}:{port}/{p.get('dbname') or '(default db)'}"


def connect(conninfo: str, *, autocommit: bool = True, password: str | None = None):
    """A psycopg connection, errors turned into one clear line (never with a password).
    ``password`` (the app's connection test) is used for this connection only."""
    import psycopg

    timeout = int(os.environ.get("PLANATLAS_CONNECT_TIMEOUT", "5"))
    extra = {"password": password} if password else {}
    try:
        return psycopg.connect(conninfo, autocommit=autocommit, connect_timeout=timeout,
                               application_name="planatlas", **extra)
    except psycopg.Error as exc:
        raise _connect_error(conninfo, exc) from None


def _connect_error(conninfo: str, exc) -> StoreError:
    where = _where(conninfo)
    text = " ".join(str(exc).split())
    state = getattr(exc, "sqlstate", None) or ""
    low = text.lower()
    if state.startswith("28") or "password authentication failed" in low or "no password supplied" in low:
        return StoreError(f"team store {where}: authentication failed — check the password in "
                          f"~/.pgpass (or PGPASSFILE / a service file); PlanAtlas never stores it "
                          f"({_tail(text)})")
    if state == "3D000":
        return StoreError(f"team store {where}: the database does not exist; create it, then run "
                          f"'planatlas store init'")
    if state == "42501":
        return PermissionRefused(f"team store {where}: permission denied ({_tail(text)})")
    if any(k in low for k in ("could not connect", "connection refused", "timeout expired",
                              "could not translate host name", "no route to host", "network is unreachable",
                              "connection timed out", "name or service not known", "server closed")):
        return Unreachable(f"team store {where} is unreachable ({_tail(text)})")
    return StoreError(f"team store {where}: {_tail(text)}")


def _tail(text: str) -> str:
    text = sanitize(text) if "password=" in text else text
    return text[-300:]


class _Tx:
    g_in = "ST_GeomFromWKB(%s, 4326)"
    for_update = " FOR UPDATE"

    def __init__(self, cur, user: str):
        self.cur = cur
        self.user = user

    def q(self, sql: str, params=()) -> list[tuple]:
        self.cur.execute(sql, list(params))
        return self.cur.fetchall() if self.cur.description else []

    def x(self, sql: str, params=()) -> int:
        self.cur.execute(sql, list(params))
        return self.cur.rowcount

    @staticmethod
    def tab(name: str) -> str:
        return f"{SCHEMA}.{name}"

    @staticmethod
    def g_out(col: str) -> str:
        return f"ST_AsBinary({col})"

    @staticmethod
    def enc(geom) -> bytes:
        import shapely
        return shapely.to_wkb(geom, byte_order=1, output_dimension=2)

    @staticmethod
    def dec(value):
        return from_wkb(value)

    def notify(self, payload: str) -> None:
        self.cur.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])


class PostgisStore(Store):
    kind = "postgis"
    offline = False

    def __init__(self, conninfo: str, *, password: str | None = None):
        super().__init__()
        self.conninfo = conninfo
        self._password = password          # only for a connection test; never saved
        self.label = _where(conninfo)
        self._conn = None
        self._user = ""
        self._lock = threading.RLock()
        self.schema_version = 0
        self._can_write: bool | None = None

    # ------------------------------------------------------------------ connection
    def connect(self) -> "PostgisStore":
        with self._lock:
            if self._conn is not None and not self._conn.closed:
                return self
            import psycopg

            self._conn = connect(self.conninfo, password=self._password)
            try:
                with self._conn.cursor() as cur:
                    cur.execute("SELECT current_user")
                    self._user = cur.fetchone()[0]
                self.schema_version = self._check_schema()
            except psycopg.errors.InsufficientPrivilege:
                self.close()
                raise PermissionRefused(
                    f"{self._user or 'this login'} has no access to the PlanAtlas store {self.label}; "
                    f"ask its owner: 'planatlas store init --viewer {self._user}' (or --editor)") from None
            except psycopg.Error as exc:
                self.close()
                raise _connect_error(self.conninfo, exc) from None
            except StoreError:
                self.close()
                raise
            return self

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except Exception:  # noqa: BLE001
                    pass
                self._conn = None

    @property
    def user(self) -> str:
        if not self._user:
            self.connect()
        return self._user

    def _check_schema(self) -> int:
        with self._conn.cursor() as cur:
            cur.execute("SELECT to_regclass(%s), to_regclass(%s)",
                        [f"{SCHEMA}.store_meta", f"{SCHEMA}.operations"])
            meta, ops = cur.fetchone()
            if meta is None:
                raise SchemaError(f"team store {self.label} has no PlanAtlas schema yet; run "
                                  f"'planatlas store init' as the database owner")
            cur.execute(f"SELECT key, value FROM {SCHEMA}.store_meta")
            data = {k: v for k, v in cur.fetchall()}
            if data.get("application") != APPLICATION:
                raise SchemaError(f"team store {self.label}: schema {SCHEMA} is not a PlanAtlas store")
            try:
                version = int(data.get("schema_version", ""))
            except ValueError:
                raise SchemaError(f"team store {self.label}: bad schema_version") from None
            if version > SCHEMA_VERSION:
                raise SchemaError(f"team store {self.label} has store schema version {version}, newer "
                                  f"than this PlanAtlas understands ({SCHEMA_VERSION}); upgrade PlanAtlas")
            cur.execute("SELECT table_name, column_name FROM information_schema.columns "
                        "WHERE table_schema = %s", [SCHEMA])
            cols: dict[str, set[str]] = {}
            for t, c in cur.fetchall():
                cols.setdefault(t, set()).add(c.lower())
        missing = missing_columns(version, lambda t: cols.get(t, set()))
        if missing:
            raise SchemaError(f"team store {self.label}: schema damaged, missing {', '.join(missing[:5])}")
        return version

    def can_write(self) -> bool:
        if self._can_write is None:
            with self._transaction(write=False) as tx:
                self._can_write = bool(tx.q("SELECT has_table_privilege(%s, 'INSERT') AND "
                                            "has_table_privilege(%s, 'UPDATE')",
                                            [f"{SCHEMA}.operations", f"{SCHEMA}.features"])[0][0])
        return self._can_write

    def role(self) -> str:
        with self._transaction(write=False) as tx:
            owner = tx.q("SELECT pg_has_role(current_user, tableowner, 'MEMBER') FROM pg_tables "
                         "WHERE schemaname = %s AND tablename = 'operations'", [SCHEMA])
        if owner and owner[0][0]:
            return "owner"
        return "editor" if self.can_write() else "viewer"

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Any]:
        import psycopg

        with self._lock:
            self.connect()
            if write:
                if self.schema_version < SCHEMA_VERSION:
                    raise SchemaError(f"team store {self.label} has schema {self.schema_version}; this "
                                      f"PlanAtlas writes schema {SCHEMA_VERSION}: run 'planatlas store migrate'")
                if not self.can_write():
                    raise PermissionRefused(
                        f"{self._user} may only read the team store {self.label} (viewer); ask its "
                        f"owner for the editor role ('planatlas store init --editor {self._user}')")
            try:
                with self._conn.transaction():
                    with self._conn.cursor() as cur:
                        yield _Tx(cur, self._user)
            except psycopg.errors.InsufficientPrivilege as exc:
                raise PermissionRefused(f"{self._user} may not write to the team store {self.label} "
                                        f"({_tail(str(exc).splitlines()[0])})") from None
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
                raise _Retry(str(exc)) from None
            except psycopg.OperationalError as exc:
                self.close()
                raise StoreError(f"connection to the team store {self.label} was lost "
                                 f"({_tail(' '.join(str(exc).split()))}); if a change was being "
                                 f"saved, 'planatlas store log' shows whether it arrived") from None

    def _retrying(self, fn, *args, **kwargs):
        for attempt in range(6):
            try:
                return fn(*args, **kwargs)
            except _Retry:
                time.sleep(0.02 * (attempt + 1))
        return fn(*args, **kwargs)

    def commit(self, *args, **kwargs):
        return self._retrying(super().commit, *args, **kwargs)

    def undo(self):
        return self._retrying(super().undo)

    def redo(self):
        return self._retrying(super().redo)

    def meta(self) -> dict[str, str]:
        with self._transaction(write=False) as tx:
            return {k: v for k, v in tx.q(f"SELECT key, value FROM {SCHEMA}.store_meta")}

    def migrate(self) -> tuple[int, int]:
        """Apply this PlanAtlas' migrations (needs the schema owner); returns (before, after)."""
        conn = connect(self.conninfo)
        try:
            return _migrate(conn)
        finally:
            conn.close()
            self.close()
            self.connect()


class _Retry(StoreError):
    pass


def _migrate(conn) -> tuple[int, int]:
    import psycopg
    from .styles import style_rows

    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('planatlas-migrate'))")
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            cur.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.store_meta"])
            before = 0
            if cur.fetchone()[0] is not None:
                cur.execute(f"SELECT value FROM {SCHEMA}.store_meta WHERE key = 'schema_version'")
                row = cur.fetchone()
                before = int(row[0]) if row else 0
            if before > SCHEMA_VERSION:
                raise SchemaError(f"the team store has schema {before}, newer than this PlanAtlas "
                                  f"({SCHEMA_VERSION}); upgrade PlanAtlas")
            current = before
            for version, stmts in sorted(pg_migrations(SCHEMA).items()):
                if version <= current:
                    continue
                for stmt in stmts:
                    cur.execute(stmt)
                if version == 1:
                    import uuid
                    from .engine import now_iso
                    cur.executemany(f"INSERT INTO {SCHEMA}.store_meta VALUES (%s, %s)",
                                    [("application", APPLICATION), ("schema_version", "0"),
                                     ("store_id", uuid.uuid4().hex), ("created_at", now_iso())])
                if version == 2:
                    cur.execute("DELETE FROM public.layer_styles WHERE f_table_schema = %s "
                                "AND f_table_catalog = current_database()", [SCHEMA])
                    for s in style_rows():
                        cur.execute("INSERT INTO public.layer_styles (f_table_catalog, f_table_schema, "
                                    "f_table_name, f_geometry_column, stylename, styleqml, stylesld, "
                                    "useasdefault, description, type) VALUES (current_database(), %s, %s, "
                                    "%s, %s, XMLPARSE(DOCUMENT %s), NULL, true, %s, NULL)",
                                    [SCHEMA, s["table"], s["column"], s["name"],
                                     s["qml"].split("\n", 1)[1], s["description"]])
                cur.execute(f"UPDATE {SCHEMA}.store_meta SET value = %s WHERE key = 'schema_version'",
                            [str(version)])
                current = version
            _grant(cur)
            return before, current
    except psycopg.errors.InsufficientPrivilege as exc:
        raise PermissionRefused(f"cannot create or migrate the PlanAtlas schema: "
                                f"{str(exc).splitlines()[0]} (run it as the database owner)") from None


def _grant(cur) -> None:
    """Viewer and editor roles (NOLOGIN groups) and their grants on the current tables."""
    for role in (VIEWER, EDITOR):
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if not cur.fetchone():
            cur.execute(f"CREATE ROLE {role} NOLOGIN")
    cur.execute(f"GRANT {VIEWER} TO {EDITOR}")
    cur.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {VIEWER}")
    cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {VIEWER}")
    cur.execute(f"GRANT SELECT ON public.layer_styles TO {VIEWER}")
    tables = ", ".join(f"{SCHEMA}.{t}" for t in _WRITE_TABLES)
    cur.execute(f"GRANT INSERT, UPDATE ON {tables} TO {EDITOR}")
    cur.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {EDITOR}")


def init_server(conninfo: str, *, editors: list[str] = (), viewers: list[str] = ()) -> list[str]:
    """``planatlas store init``: PostGIS extension, schema, tables, roles, grants (idempotent)."""
    import psycopg
    from psycopg import sql

    conn = connect(conninfo)
    out = []
    try:
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.errors.InsufficientPrivilege:
            raise PermissionRefused(f"team store {_where(conninfo)}: the PostGIS extension is not "
                                    f"installed and this role may not install it; ask a superuser to "
                                    f"run CREATE EXTENSION postgis in the database") from None
        except psycopg.errors.UndefinedFile:
            raise StoreError("PostGIS is not installed on the server (Debian: apt-get install postgis)") from None
        try:
            before, after = _migrate(conn)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise PermissionRefused(f"cannot create roles: {str(exc).splitlines()[0]} (needs CREATEROLE)") from None
        out.append(f"team store {_where(conninfo)}: schema {SCHEMA} at version {after}"
                   + (f" (was {before})" if before != after else ""))
        for role, users in ((EDITOR, editors), (VIEWER, viewers)):
            for user in users:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [user])
                    if not cur.fetchone():
                        raise StoreError(f"login role {user!r} does not exist; create it first "
                                         f"(CREATE ROLE {user} LOGIN PASSWORD '…') and rerun")
                    if role == VIEWER:
                        cur.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(EDITOR), sql.Identifier(user)))
                    cur.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(user)))
                out.append(f"{user}: {role.split('_')[1]}")
        out.append(f"roles: {VIEWER} (read only), {EDITOR} (read and write); "
                   f"grant one with 'planatlas store init --editor LOGIN' or '--viewer LOGIN'")
    finally:
        conn.close()
    return out


def check_connection(conninfo: str, *, password: str | None = None) -> str:
    """One line: connected as whom, schema version, role — or the clear reason why not."""
    store = PostgisStore(conninfo, password=password)
    try:
        store.connect()
        role = store.role()
        return (f"connected to {store.label} as {store._user}: PlanAtlas schema {store.schema_version}, "
                f"role {role}")
    except SchemaError as exc:
        return f"connected, but {exc}"
    finally:
        store.close()
