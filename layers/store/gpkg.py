"""The embedded backend: one GeoPackage file (default ``<data dir>/store.gpkg``), no server.

* **Transactions, not file copies**: every write is one SQLite transaction opened with
  ``BEGIN IMMEDIATE`` (a second process waits for the lock, up to ``busy_timeout``), with
  ``synchronous=FULL`` and SQLite's rollback journal — a process killed mid-write leaves the
  previous state, which SQLite restores from the journal on the next open.
* **Trust nothing read**: on open the file must be SQLite, a GeoPackage, carry
  ``store_meta.application = planatlas-store`` with a schema version this PlanAtlas knows, pass
  ``PRAGMA quick_check`` and have every table and column the schema needs. A damaged or foreign
  file is *quarantined* — renamed aside to ``store.gpkg.quarantined-<time>`` (a name made here,
  never read from the file) with a visible warning — and an empty store takes its place; a
  store with a *newer* schema is refused, not quarantined. The store never opens, moves or
  deletes a path it read from its own tables.
* The file is an ordinary GeoPackage 1.3: QGIS/GDAL open ``features``, ``positions`` and
  ``history`` as layers, styled from ``layer_styles``.
"""
from __future__ import annotations

import datetime as _dt
import getpass
import os
import sqlite3
import tempfile
import threading
import uuid
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Iterator

from .engine import Store, now_iso
from .errors import SchemaError, StoreError
from .geom import SRS, gpkg_blob, gpkg_geom
from .schema import (APPLICATION, ATTRIBUTE_TABLES, GEOMETRY_TABLES, SCHEMA_VERSION,
                     missing_columns, sqlite_migrations)

__all__ = ["GpkgStore", "FILE_NAME", "BUSY_TIMEOUT_MS"]

FILE_NAME = "store.gpkg"
BUSY_TIMEOUT_MS = 60_000
_APPLICATION_ID = 0x47504B47   # "GPKG"
_GPKG_VERSION = 10300
_WGS84_WKT = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
              'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
              'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
              'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]')
_GPKG_CORE = [
    """CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
       organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
       definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
       identifier TEXT UNIQUE, description TEXT DEFAULT '',
       last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
       min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
       CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
       geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
       m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
       CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
       CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
]


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Tx:
    """A transaction handle in the engine's one SQL (``%s`` placeholders)."""

    g_in = "%s"
    for_update = ""

    def __init__(self, con: sqlite3.Connection, user: str):
        self.con = con
        self.user = user

    def q(self, sql: str, params=()) -> list[tuple]:
        return self.con.execute(sql.replace("%s", "?"), list(params)).fetchall()

    def x(self, sql: str, params=()) -> int:
        return self.con.execute(sql.replace("%s", "?"), list(params)).rowcount

    @staticmethod
    def tab(name: str) -> str:
        return name

    @staticmethod
    def g_out(col: str) -> str:
        return col

    @staticmethod
    def enc(geom) -> bytes:
        return gpkg_blob(geom)

    @staticmethod
    def dec(value):
        return gpkg_geom(value)

    def notify(self, payload: str) -> None:      # other processes poll max(seq)
        pass


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    """SQLite errors that mean "this file is damaged or not a database" (not busy/locked/IO)."""
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return "malformed" in text or "no such table" in text or "no such column" in text
    return True


class GpkgStore(Store):
    """The store in one GeoPackage file at ``path``."""

    kind = "gpkg"

    def __init__(self, path: str | os.PathLike, *, queue: bool = False, user: str | None = None):
        super().__init__()
        self._user_name = user             # who writes (default: PLANATLAS_USER or the login)
        self.path = Path(path)
        self.label = str(self.path)
        self.queue = queue                 # offline replica: queue every operation for sync
        self._con: sqlite3.Connection | None = None
        self._identity: tuple | None = None
        self._lock = threading.RLock()
        self.quarantined: list[Path] = []
        self.schema_version = 0

    @property
    def user(self) -> str:
        if self._user_name:
            return self._user_name
        env = os.environ.get("PLANATLAS_USER")
        if env and env.strip():
            return env.strip()[:64]
        try:
            return getpass.getuser()
        except (OSError, KeyError, ImportError):
            return "user"

    # ------------------------------------------------------------------ open / validate
    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def _file_identity(self):
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def _quarantine(self, why: str) -> None:
        self.close()
        stamp = _dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.quarantined-{stamp}-{uuid.uuid4().hex[:6]}")
        try:
            os.replace(self.path, target)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"{self.path} is damaged ({why}) and cannot be moved aside: {exc.strerror}") from None
        for side in ("-journal", "-wal", "-shm"):       # SQLite's own sidecar files go along
            extra = self.path.with_name(self.path.name + side)
            if extra.exists():
                os.replace(extra, target.with_name(target.name + side))
        self.quarantined.append(target)
        self._warn(f"{self.path} was damaged or not a PlanAtlas store ({why}); it was moved aside to "
                   f"{target.name} and an empty store is used — nothing in it was deleted")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                              check_same_thread=False)
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        con.execute("PRAGMA synchronous = FULL")
        return con

    def _validate(self, con: sqlite3.Connection) -> int:
        """Schema version of an open file; SchemaError (newer) or ValueError (damaged/foreign)."""
        if con.execute("PRAGMA application_id").fetchone()[0] != _APPLICATION_ID:
            raise ValueError("not a GeoPackage")
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "store_meta" not in tables:
            raise ValueError("a GeoPackage without PlanAtlas store tables")
        meta = dict(r for r in con.execute("SELECT key, value FROM store_meta")
                    if isinstance(r[0], str) and isinstance(r[1], str))
        if meta.get("application") != APPLICATION:
            raise ValueError("store_meta does not name a PlanAtlas store")
        try:
            version = int(meta.get("schema_version", ""))
        except ValueError:
            raise ValueError("store_meta.schema_version is not a number") from None
        if version > SCHEMA_VERSION:
            raise SchemaError(f"{self.path} has store schema version {version}, newer than this "
                              f"PlanAtlas understands ({SCHEMA_VERSION}); upgrade PlanAtlas to use it "
                              f"(the file was left untouched)")
        if version < 1:
            raise ValueError(f"bad schema version {version}")
        check = con.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise ValueError(f"quick_check: {str(check)[:120]}")

        def cols(table: str) -> set[str]:
            if table not in tables:
                return set()
            return {str(r[1]).lower() for r in con.execute(f'PRAGMA table_info("{table}")')}

        missing = missing_columns(version, cols)
        if missing:
            raise ValueError(f"missing {', '.join(missing[:5])}")
        return version

    def _open(self, create: bool, auto_migrate: bool = True) -> sqlite3.Connection | None:
        ident = self._file_identity()
        if self._con is not None and ident == self._identity:
            if self.schema_version < SCHEMA_VERSION and create and auto_migrate:
                self.migrate()             # opened for reading before: migrate for this write
            return self._con
        self.close()
        if ident is None:
            if not create:
                return None
            self._create()
            ident = self._file_identity()
        con = None
        try:
            con = self._connect()
            version = self._validate(con)
        except SchemaError:
            con.close()
            raise
        except (ValueError, sqlite3.DatabaseError) as exc:
            if con is not None:
                con.close()
            if isinstance(exc, sqlite3.DatabaseError) and not _is_corrupt(exc):
                raise StoreError(f"{self.path}: cannot read ({exc})") from None
            self._quarantine(str(exc))
            return self._open(create, auto_migrate)
        self._con, self._identity, self.schema_version = con, ident, version
        if version < SCHEMA_VERSION and create and auto_migrate:
            self.migrate()
        return self._con

    def _create(self) -> None:
        """A new, empty store: built in a temp file and linked into place (never over a file
        another process created meanwhile)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=str(self.path.parent))
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            os.chmod(tmp_path, 0o666 & ~_umask())
            with closing(sqlite3.connect(tmp, isolation_level=None)) as con:
                con.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                con.execute(f"PRAGMA user_version = {_GPKG_VERSION}")
                con.execute("BEGIN")
                for stmt in _GPKG_CORE:
                    con.execute(stmt)
                con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", [
                    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
                    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
                    ("WGS 84 geodetic", SRS, "EPSG", SRS, _WGS84_WKT, "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid")])
                self._migrate_con(con, 0)
                con.execute("COMMIT")
            fdt = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fdt)
            finally:
                os.close(fdt)
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass                       # another process created it first: use theirs
            except OSError:
                if not self.path.exists():
                    os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        finally:
            tmp_path.unlink(missing_ok=True)

    def _migrate_con(self, con: sqlite3.Connection, current: int) -> int:
        from .styles import style_rows

        for version, stmts in sorted(sqlite_migrations().items()):
            if version <= current:
                continue
            for stmt in stmts:
                con.execute(stmt)
            if version == 1:
                con.execute("INSERT INTO store_meta VALUES ('application', ?)", (APPLICATION,))
                con.execute("INSERT INTO store_meta VALUES ('schema_version', '0')")
                con.execute("INSERT INTO store_meta VALUES ('store_id', ?)", (uuid.uuid4().hex,))
                con.execute("INSERT INTO store_meta VALUES ('created_at', ?)", (now_iso(),))
                for table, desc in GEOMETRY_TABLES.items():
                    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                                "min_x, min_y, max_x, max_y, srs_id) VALUES (?,?,?,?,?,?,?,?,?)",
                                (table, "features", table, desc, 73.0, 3.0, 136.0, 54.0, SRS))
                    con.execute("INSERT INTO gpkg_geometry_columns VALUES (?,?,?,?,?,?)",
                                (table, "geom", "GEOMETRY", SRS, 0, 0))
                for table, desc in ATTRIBUTE_TABLES.items():
                    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
                                "VALUES (?,?,?,?)", (table, "attributes", table, desc))
            if version == 2:
                con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
                            "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles')")
                for s in style_rows():
                    con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, "
                                "description, owner) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '')",
                                (s["table"], s["column"], s["name"], s["qml"], s["description"]))
            con.execute("UPDATE store_meta SET value = ? WHERE key = 'schema_version'", (str(version),))
            current = version
        return current

    def migrate(self) -> tuple[int, int]:
        """Bring the file to this PlanAtlas' schema version; returns (before, after)."""
        with self._lock:
            con = self._open(create=True, auto_migrate=False)
            con.execute("BEGIN IMMEDIATE")
            try:
                before = int(con.execute("SELECT value FROM store_meta WHERE key = 'schema_version'").fetchone()[0])
                after = self._migrate_con(con, before)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            self.schema_version = after
            return before, after

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Any]:
        with self._lock:
            con = self._open(create=write)
            if con is None:             # no file yet: reads see an empty store
                yield _EmptyTx()
                return
            try:
                con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"{self.path}: {exc} (another PlanAtlas is writing; try again)") from None
            tx = _Tx(con, self.user)
            try:
                yield tx
                con.execute("COMMIT")
            except BaseException as exc:
                try:
                    con.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if not isinstance(exc, sqlite3.Error):
                    raise
                if isinstance(exc, sqlite3.DatabaseError) and (
                        "malformed" in str(exc) or type(exc) is sqlite3.DatabaseError):
                    self._quarantine(f"{type(exc).__name__}: {exc}")
                    raise StoreError(f"{self.path} turned out to be damaged ({exc}); it was moved "
                                     f"aside and nothing was changed — try again") from None
                raise StoreError(f"{self.path}: {exc}") from None

    def _on_commit(self, tx, op) -> None:
        if self.queue:
            tx.x("INSERT INTO sync_queue (op_id, state, message, updated_at) VALUES (%s, 'queued', NULL, %s)",
                 [op.op_id, now_iso()])

    def exists(self) -> bool:
        return self.path.exists()

    def meta(self) -> dict[str, str]:
        with self._transaction(write=False) as tx:
            return {k: v for k, v in tx.q("SELECT key, value FROM store_meta")}

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction(write=True) as tx:
            tx.x("INSERT INTO store_meta (key, value) VALUES (%s, %s) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])


class _EmptyTx:
    """Reads of a store file that does not exist yet: every query is empty."""

    g_in = "%s"
    for_update = ""
    user = ""

    def q(self, sql, params=()):
        return [(None,)] if sql.lstrip().upper().startswith("SELECT MAX(") else []

    def x(self, sql, params=()):          # pragma: no cover - reads only
        raise StoreError("the store does not exist yet")

    tab = staticmethod(_Tx.tab)
    g_out = staticmethod(_Tx.g_out)
    dec = staticmethod(_Tx.dec)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
