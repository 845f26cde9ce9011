"""The user's own gazetteer layer: surveyed positions accepted from field checks.

Stored as a GeoPackage (``usergaz.gpkg``) in the user data directory
(``PLANATLAS_DATA_DIR`` or ``platformdirs.user_data_dir("planatlas")``), never in the shipped
files. It holds three tables:

* ``verified`` (feature layer) — the current accepted position of each feature: status
  ``verified``, survey date, source file, the survey row, distance from the previous position;
* ``history`` (feature layer) — one record per accepted change, whose geometry is the
  *previous* position (the shipped one the first time) with its status and source, plus the
  new position as WKT; so the shipped position always stays visible;
* ``operations`` (attribute table) — the operation log used by :func:`undo`.

Every save is atomic: the current file is copied to a temporary file in the same directory,
the change is committed there, the copy is fsync'ed and then ``os.replace``'d over the real
file; a process killed at any point leaves either the old or the new state. Before each save
the old state is kept as ``usergaz-backups/<op>.gpkg``; :func:`undo` restores it (again via a
temporary copy and ``os.replace``).

Positions: a point feature takes the surveyed point. A polygon or line feature keeps its
shape; if the survey found it *moved* the shape is translated so that its nearest point to
the observation lands on the observed position (a confirmed polygon keeps its geometry).

The GeoPackage is written with :mod:`sqlite3` (standard GeoPackage 1.3 tables and geometry
blobs), so GDAL/QGIS open it as an ordinary layer.
"""
from __future__ import annotations

from planatlas.layers.errors import InputError

import dataclasses
import datetime as _dt
import json
import os
import shutil
import sqlite3
import struct
import tempfile
import uuid
import warnings
from contextlib import closing
from pathlib import Path
from typing import Any, Iterable, Sequence

__all__ = [
    "UserGazetteer", "default_store", "gazetteer_path", "accept", "undo", "history",
    "apply_user_overrides", "operations", "MAX_BACKUPS", "UserGazetteerError",
]

FILE_NAME = "usergaz.gpkg"
BACKUP_DIR = "usergaz-backups"
MAX_BACKUPS = 50
SURVEY_PRECISION_M = 30.0      # typical hand-held GNSS / phone accuracy recorded for surveyed points
_SRS = 4326
_APPLICATION_ID = 0x47504B47   # "GPKG"
_USER_VERSION = 10300


class UserGazetteerError(InputError):
    """The user gazetteer cannot be read or changed (says which file and why)."""


# --------------------------------------------------------------------------- GPKG encoding

def _gpkg_blob(geom) -> bytes:
    import shapely

    minx, miny, maxx, maxy = geom.bounds
    flags = 0b0000_0011  # little endian, envelope [minx, maxx, miny, maxy]
    head = b"GP" + bytes([0, flags]) + struct.pack("<i", _SRS) + struct.pack("<4d", minx, maxx, miny, maxy)
    return head + shapely.to_wkb(geom, byte_order=1, output_dimension=2)


def _gpkg_geom(blob: bytes | None):
    import shapely

    if blob is None:
        return None
    if blob[:2] != b"GP":
        raise UserGazetteerError("geometry blob is not a GeoPackage geometry")
    flags = blob[3]
    env = (flags >> 1) & 0b111
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get(env)
    if size is None:
        raise UserGazetteerError(f"bad GeoPackage envelope code {env}")
    return shapely.from_wkb(blob[8 + size:])


_SCHEMA = [
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
    """CREATE TABLE verified (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom GEOMETRY,
       feature_id TEXT NOT NULL UNIQUE, name TEXT, status TEXT NOT NULL, survey_date TEXT,
       source TEXT, survey_row INTEGER, survey_status TEXT, distance_m REAL, precision_m REAL,
       crs TEXT, accepted_at TEXT NOT NULL, op_id TEXT NOT NULL)""",
    """CREATE TABLE history (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom GEOMETRY,
       feature_id TEXT NOT NULL, name TEXT, prev_status TEXT, prev_source TEXT,
       prev_origin TEXT, new_status TEXT, new_wkt TEXT, source TEXT, survey_date TEXT,
       survey_row INTEGER, survey_status TEXT, distance_m REAL, op_id TEXT NOT NULL,
       recorded_at TEXT NOT NULL)""",
    """CREATE TABLE operations (id INTEGER PRIMARY KEY AUTOINCREMENT, op_id TEXT NOT NULL UNIQUE,
       kind TEXT NOT NULL, created_at TEXT NOT NULL, source TEXT, n_features INTEGER,
       feature_ids TEXT, backup TEXT)""",
    "CREATE INDEX history_feature ON history(feature_id)",
]

_WGS84_WKT = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
              'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
              'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
              'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]')


def _create_empty(path: Path) -> None:
    with closing(sqlite3.connect(path)) as con:
        con.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {_USER_VERSION}")
        for stmt in _SCHEMA:
            con.execute(stmt)
        con.executemany(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)",
            [("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
             ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
             ("WGS 84 geodetic", _SRS, "EPSG", _SRS, _WGS84_WKT, "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid")])
        for table, kind, desc in (("verified", "features", "surveyed positions accepted by the user"),
                                  ("history", "features", "previous positions (shipped or earlier surveys)"),
                                  ("operations", "attributes", "accept operations (for undo)")):
            srs = _SRS if kind == "features" else None
            con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                        "min_x, min_y, max_x, max_y, srs_id) VALUES (?,?,?,?,?,?,?,?,?)",
                        (table, kind, table, desc, 73.0, 3.0, 136.0, 54.0, srs))
            if kind == "features":
                con.execute("INSERT INTO gpkg_geometry_columns VALUES (?,?,?,?,?,?)",
                            (table, "geom", "GEOMETRY", _SRS, 0, 0))
        con.commit()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


# --------------------------------------------------------------------------- the store

class UserGazetteer:
    """The user gazetteer stored at ``path`` (a GeoPackage)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.backup_dir = self.path.parent / BACKUP_DIR

    # ---- reading
    def exists(self) -> bool:
        return self.path.exists()

    def _connect_ro(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            app = con.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise UserGazetteerError(f"{self.path}: not a readable GeoPackage ({exc})") from None
        if app != _APPLICATION_ID:
            con.close()
            raise UserGazetteerError(f"{self.path}: not a PlanAtlas user gazetteer (not a GeoPackage)")
        return con

    def verified(self) -> dict[str, dict[str, Any]]:
        """Current accepted positions: feature id -> record (``geometry`` is shapely)."""
        if not self.exists():
            return {}
        with closing(self._connect_ro()) as con:
            con.row_factory = sqlite3.Row
            try:
                rows = con.execute("SELECT * FROM verified ORDER BY fid").fetchall()
            except sqlite3.DatabaseError as exc:
                raise UserGazetteerError(f"{self.path}: cannot read verified positions ({exc})") from None
        out = {}
        for r in rows:
            d = dict(r)
            d["geometry"] = _gpkg_geom(d.pop("geom"))
            out[d["feature_id"]] = d
        return out

    def history(self, feature_id: str) -> list[dict[str, Any]]:
        """Changes of one feature, oldest first: previous and new position, status, source."""
        import shapely

        if not self.exists():
            return []
        with closing(self._connect_ro()) as con:
            con.row_factory = sqlite3.Row
            rows = con.execute("SELECT h.*, o.id AS op_seq FROM history h LEFT JOIN operations o "
                               "ON o.op_id = h.op_id WHERE h.feature_id = ? ORDER BY h.fid",
                               (feature_id,)).fetchall()
        out = []
        for r in rows:
            d = dict(r)
            out.append({
                "feature": d["feature_id"], "name": d["name"], "op": d["op_id"],
                "recorded_at": d["recorded_at"],
                "previous": {"geometry": _gpkg_geom(d["geom"]), "status": d["prev_status"],
                             "source": d["prev_source"], "origin": d["prev_origin"]},
                "new": {"geometry": shapely.from_wkt(d["new_wkt"]) if d["new_wkt"] else None,
                        "status": d["new_status"], "source": d["source"],
                        "survey_date": d["survey_date"], "survey_row": d["survey_row"],
                        "survey_status": d["survey_status"], "distance_m": d["distance_m"]},
            })
        return out

    def operations(self) -> list[dict[str, Any]]:
        if not self.exists():
            return []
        with closing(self._connect_ro()) as con:
            con.row_factory = sqlite3.Row
            rows = con.execute("SELECT * FROM operations ORDER BY id").fetchall()
        out = []
        for r in rows:
            d = dict(r)
            d["feature_ids"] = json.loads(d["feature_ids"] or "[]")
            d["op"] = d.pop("op_id")
            out.append(d)
        return out

    # ---- writing
    def _save(self, change, *, op_id: str) -> None:
        """Apply ``change(con)`` to a temporary copy and atomically replace the file.

        The previous state is copied to the backup directory first (for undo).
        """
        backup = self.backup_dir / f"{op_id}.gpkg"

        def fill(tmp: Path) -> None:
            if self.exists():
                shutil.copyfile(self.path, tmp)
            else:
                tmp.unlink()
                _create_empty(tmp)
            # the state before this operation, for undo (the first one is the empty layer)
            self.backup_dir.mkdir(parents=True, exist_ok=True)
            btmp = backup.with_suffix(".tmp")
            shutil.copyfile(tmp, btmp)
            _fsync_file(btmp)
            os.replace(btmp, backup)
            with closing(sqlite3.connect(tmp)) as con:
                try:
                    change(con)
                    con.commit()
                except BaseException:
                    con.rollback()
                    raise

        self._replace_with(fill)
        self._prune_backups()
        self._remove_stale_temps()

    def _remove_stale_temps(self, max_age_s: float = 3600.0) -> None:
        """Temp files left by a process killed mid-save (never the real file)."""
        import time

        now = time.time()
        for folder, pattern in ((self.path.parent, f".{self.path.name}.*.tmp"),
                                (self.backup_dir, "*.tmp")):
            for p in folder.glob(pattern):
                try:
                    if now - p.stat().st_mtime > max_age_s:
                        p.unlink()
                except OSError:
                    pass

    def _prune_backups(self) -> None:
        try:
            keep = {o["backup"] for o in self.operations()[-MAX_BACKUPS:]}
        except UserGazetteerError:
            return
        for p in self.backup_dir.glob("*.gpkg"):
            if p.name not in keep:
                p.unlink(missing_ok=True)

    def accept(self, report, rows: Sequence[int] | None = None, *,
               statuses: Sequence[str] = ("confirmed", "moved"), dry_run: bool = False,
               precision_m: float = SURVEY_PRECISION_M) -> dict[str, Any]:
        """Accept survey rows of ``report`` (a :class:`planatlas.layers.survey.SurveyReport`).

        ``rows``: 1-based data row numbers (default: every row whose status is in
        ``statuses``). Rows that are invalid, unmatched or reported *missing* by the surveyor
        are skipped with a reason; if a feature has several accepted rows the last one wins.
        Returns ``{"op", "path", "accepted": [...], "skipped": [...]}``; raises ValueError if
        nothing can be accepted.
        """
        import shapely

        statuses = tuple(statuses) or ("confirmed", "moved")
        bad = [s for s in statuses if s not in ("confirmed", "moved")]
        if bad:
            raise ValueError(f"only confirmed or moved rows can be accepted, not {', '.join(bad)}")
        by_row = {r.row: r for r in report.rows}
        if rows is None:
            chosen = [r for r in report.rows if r.status in statuses]
        else:
            missing = [n for n in rows if n not in by_row]
            if missing:
                raise ValueError(f"{report.source}: no data row(s) {', '.join(map(str, missing))}")
            chosen = [by_row[n] for n in dict.fromkeys(rows)]
        skipped: list[dict[str, Any]] = []
        picked: dict[str, Any] = {}
        for r in chosen:
            if r.status not in ("confirmed", "moved"):
                skipped.append({"row": r.row, "reason": f"status is {r.status}: {r.message}"})
            elif r.reported == "missing":
                skipped.append({"row": r.row, "reason": "the surveyor reported the site missing"})
            elif r.feature not in report.features:
                skipped.append({"row": r.row, "reason": f"feature {r.feature} is not in the report"})
            else:
                if r.feature in picked:
                    skipped.append({"row": picked[r.feature].row,
                                    "reason": f"row {r.row} reports {r.feature} too; the later row wins"})
                picked[r.feature] = r
        if not picked:
            why = "; ".join(f"row {s['row']}: {s['reason']}" for s in skipped[:5])
            raise ValueError(f"nothing to accept from {report.source}" + (f" ({why})" if why else
                             " (no confirmed or moved rows)"))
        source = Path(report.source).name
        op_id = _dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        now = _now()
        current = self.verified()
        accepted = []
        records = []
        for fid, r in picked.items():
            f = report.features[fid]
            point = shapely.Point(r.lon, r.lat)
            geom = _new_geometry(f.geometry, point, r.status)
            date = r.date if r.date and len(r.date) >= 10 and r.date[4] == "-" else report.survey_date
            prev = current.get(fid)
            records.append((f, r, geom, date, prev))
            accepted.append({"feature": fid, "name": f.name, "row": r.row,
                             "survey_status": r.status, "distance_m": r.distance_m or 0.0,
                             "lon": r.lon, "lat": r.lat, "survey_date": date})
        result = {"op": None if dry_run else op_id, "path": str(self.path),
                  "accepted": accepted, "skipped": skipped}
        if dry_run:
            return result

        def change(con: sqlite3.Connection) -> None:
            for f, r, geom, date, prev in records:
                if prev is not None:
                    prev_geom, prev_status = prev["geometry"], prev["status"]
                    prev_source, prev_origin = f"survey {prev['source']} ({prev['survey_date']})", "user"
                else:
                    prev_geom, prev_status, prev_source, prev_origin = (
                        f.geometry, f.status, f.source, f.origin)
                con.execute(
                    "INSERT INTO history (geom, feature_id, name, prev_status, prev_source, prev_origin, "
                    "new_status, new_wkt, source, survey_date, survey_row, survey_status, distance_m, "
                    "op_id, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (_gpkg_blob(prev_geom), f.id, f.name, prev_status, prev_source, prev_origin,
                     "verified", geom.wkt, source, date, r.row, r.status, r.distance_m, op_id, now))
                con.execute("DELETE FROM verified WHERE feature_id = ?", (f.id,))
                con.execute(
                    "INSERT INTO verified (geom, feature_id, name, status, survey_date, source, "
                    "survey_row, survey_status, distance_m, precision_m, crs, accepted_at, op_id) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (_gpkg_blob(geom), f.id, f.name, "verified", date, source, r.row, r.status,
                     r.distance_m, precision_m, report.crs.chosen, now, op_id))
            con.execute("INSERT INTO operations (op_id, kind, created_at, source, n_features, "
                        "feature_ids, backup) VALUES (?,?,?,?,?,?,?)",
                        (op_id, "accept", now, source, len(records),
                         json.dumps([rec[0].id for rec in records], ensure_ascii=False),
                         f"{op_id}.gpkg"))
            _update_extent(con)

        self._save(change, op_id=op_id)
        return result

    def _replace_with(self, fill) -> None:
        """Build the new file as a temp beside the GeoPackage (``fill(tmp)``), make it durable,
        then swap it in: a crash leaves the old file or the new one, never a half-written one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmpname = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                       dir=str(self.path.parent))
        os.close(fd)
        tmp = Path(tmpname)
        try:
            fill(tmp)
            _fsync_file(tmp)
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def undo(self) -> dict[str, Any]:
        """Restore the state before the last operation; returns that operation's record."""
        ops = self.operations()
        if not ops:
            raise UserGazetteerError(f"nothing to undo ({self.path} has no accepted surveys)")
        last = ops[-1]
        backup = self.backup_dir / (last.get("backup") or f"{last['op']}.gpkg")
        if not backup.exists():
            raise UserGazetteerError(
                f"cannot undo operation {last['op']}: its backup {backup} is missing "
                f"(only the last {MAX_BACKUPS} operations can be undone)")
        self._replace_with(lambda tmp: shutil.copyfile(backup, tmp))
        backup.unlink(missing_ok=True)
        return last


def _update_extent(con: sqlite3.Connection) -> None:
    import shapely

    for table in ("verified", "history"):
        geoms = [_gpkg_geom(b) for (b,) in con.execute(f"SELECT geom FROM {table}")]
        geoms = [g for g in geoms if g is not None and not g.is_empty]
        if geoms:
            minx, miny, maxx, maxy = shapely.total_bounds(geoms)
            con.execute("UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?, "
                        "last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name=?",
                        (minx, miny, maxx, maxy, table))


def _new_geometry(old, point, survey_status: str):
    """New geometry for a feature observed at ``point`` (see module docstring)."""
    import shapely
    from shapely import affinity

    if old is None or old.is_empty or old.geom_type == "Point":
        return point
    if survey_status == "confirmed":
        return old
    near = shapely.get_point(shapely.shortest_line(old, point), 0)
    return affinity.translate(old, xoff=point.x - near.x, yoff=point.y - near.y)


# --------------------------------------------------------------------------- module API

def gazetteer_path() -> Path:
    from planatlas.layers.fsutil import user_data_dir

    return user_data_dir() / FILE_NAME


def default_store() -> UserGazetteer:
    """The user's gazetteer in the data directory (``PLANATLAS_DATA_DIR`` overrides it)."""
    return UserGazetteer(gazetteer_path())


def accept(report, rows: Sequence[int] | None = None, **kwargs) -> dict[str, Any]:
    """Accept rows of a survey report into the user's gazetteer (see :meth:`UserGazetteer.accept`)."""
    return default_store().accept(report, rows, **kwargs)


def undo() -> dict[str, Any]:
    """Undo the last accept (see :meth:`UserGazetteer.undo`)."""
    return default_store().undo()


def history(feature_id: str) -> list[dict[str, Any]]:
    """Accepted changes of one feature, oldest first (previous and new positions)."""
    return default_store().history(feature_id)


def operations() -> list[dict[str, Any]]:
    return default_store().operations()


def apply_user_overrides(features: Iterable, store: UserGazetteer | None = None):
    """Features with the user's verified positions applied (same container type back).

    Accepts a list of :class:`layers.model.Feature` or a dict id -> Feature. Features the user
    has not verified are returned unchanged (same objects). A damaged user file does not stop
    the atlas from loading: it gives a warning and the shipped positions.
    """
    store = store or default_store()
    is_dict = isinstance(features, dict)
    items = list(features.values()) if is_dict else list(features)
    if not store.exists():
        return features if is_dict else items
    try:
        ver = store.verified()
    except (UserGazetteerError, sqlite3.DatabaseError) as exc:
        warnings.warn(f"user gazetteer ignored: {exc}", RuntimeWarning, stacklevel=2)
        return features if is_dict else items
    out = []
    for f in items:
        rec = ver.get(f.id)
        if rec is None or rec["geometry"] is None:
            out.append(f)
            continue
        out.append(dataclasses.replace(
            f, geometry=rec["geometry"], status="verified",
            precision_m=rec["precision_m"] if rec["precision_m"] is not None else f.precision_m,
            source=f"field survey {rec['source']} ({rec['survey_date'] or rec['accepted_at'][:10]}); "
                   f"previously: {f.source}",
            source_zh=f"实地核查 {rec['source']}（{rec['survey_date'] or rec['accepted_at'][:10]}）；"
                      f"此前：{f.source_label('zh')}",
            method="survey", ref=f"survey file {rec['source']}", ref_crs=None, ref_lonlat=None,
            conversion=f"{rec['crs']}→wgs84" if rec.get("crs") and rec["crs"] != "wgs84" else None))
    return {f.id: f for f in out} if is_dict else out
