"""One-time move of the data of older PlanAtlas versions into the embedded store.

Before the store, accepted positions lived in ``<data dir>/usergaz.gpkg`` and imported plans in
``<data dir>/plans/<id>.txt`` + ``<id>.toml``. The first time the default store is opened they
are copied into it as one ``migrate`` operation (undoable like any other); the old file and
folder are then renamed ``usergaz.gpkg.migrated`` / ``plans.migrated`` (kept, never deleted).
Only those fixed names are touched; every row read from the old file is validated and a bad
row is skipped with a warning.
"""
from __future__ import annotations

import sqlite3
import tomllib
import warnings
from contextlib import closing
from pathlib import Path

from .errors import StoreError, StoreWarning
from .geom import BadValue, gpkg_geom
from .records import Item, clean_state

__all__ = ["import_legacy", "LEGACY_OP"]

LEGACY_OP = "legacy-import"


def _legacy_positions(path: Path) -> tuple[list[Item], dict[str, dict], int]:
    items, hints, bad = [], {}, 0
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        rows = con.execute("SELECT feature_id, geom, name, status, survey_date, source, survey_row, "
                           "survey_status, distance_m, precision_m, crs FROM verified ORDER BY fid").fetchall()
        first_prev = {}
        try:
            for fid, geom, status, source in con.execute(
                    "SELECT feature_id, geom, prev_status, prev_source FROM history ORDER BY fid DESC"):
                first_prev[fid] = (geom, status, source)
        except sqlite3.DatabaseError:
            pass
    for r in rows:
        try:
            fid = r[0]
            if not isinstance(fid, str) or not fid or len(fid) > 200:
                raise BadValue("bad feature id")
            state = clean_state("position", {
                "geometry": gpkg_geom(r[1]), "name": r[2], "status": r[3] or "verified",
                "survey_date": r[4], "source": r[5], "survey_row": r[6], "survey_status": r[7],
                "distance_m": r[8], "precision_m": r[9], "crs": r[10]}, f"usergaz.gpkg {fid}")
        except (BadValue, TypeError):
            bad += 1
            continue
        items.append(Item("position", fid, None, state, 0))
        prev = first_prev.get(fid)
        if prev is not None:
            try:
                hints[fid] = {"geometry": gpkg_geom(prev[0]), "status": prev[1] if isinstance(prev[1], str) else None,
                              "source": prev[2] if isinstance(prev[2], str) else None}
            except BadValue:
                pass
    return items, hints, bad


def _legacy_plans(folder: Path) -> tuple[list[Item], dict[str, bytes], int]:
    import hashlib

    items, texts, bad = [], {}, 0
    for manifest in sorted(folder.glob("*.toml")):
        try:
            with open(manifest, "rb") as fh:
                entry = tomllib.load(fh)
            data = manifest.with_suffix(".txt").read_bytes()
            period = entry.get("period") or {}
            region = entry.get("region") or {}
            sha = hashlib.sha256(data).hexdigest()
            state = clean_state("plan", {
                "title": entry.get("title") or entry["id"], "issuer": entry.get("issuer"),
                "issued": str(entry.get("issued") or ""), "period_start": period.get("start"),
                "period_end": period.get("end"), "province": region.get("province"),
                "city": region.get("city"), "district": region.get("district"),
                "adcode": str(region.get("adcode") or ""), "imported_from": entry.get("imported_from"),
                "text_sha256": sha, "size": len(data)}, str(manifest))
            pid = entry["id"]
            if not isinstance(pid, str) or not pid:
                raise BadValue("bad id")
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, KeyError, BadValue, TypeError) as exc:
            bad += 1
            warnings.warn(f"old imported plan {manifest.name} not moved into the store: {exc}",
                          StoreWarning, stacklevel=3)
            continue
        items.append(Item("plan", pid, None, state, 0))
        texts[sha] = data
    return items, texts, bad


def import_legacy(store) -> None:
    """Move ``usergaz.gpkg`` and ``plans/`` beside ``store.path`` into ``store`` (once)."""
    folder = store.path.parent
    gaz, plans = folder / "usergaz.gpkg", folder / "plans"
    if not gaz.is_file() and not plans.is_dir():
        return
    try:
        if any(op.op_id == LEGACY_OP for op in store.operations()):
            return
    except StoreError:
        return
    items, hints, texts, bad = [], {}, {}, 0
    if gaz.is_file():
        try:
            items, hints, bad = _legacy_positions(gaz)
        except sqlite3.DatabaseError as exc:
            warnings.warn(f"{gaz} could not be read ({exc}); it was left as it is and its positions "
                          f"are not in the store", StoreWarning, stacklevel=3)
    if plans.is_dir():
        p_items, texts, p_bad = _legacy_plans(plans)
        items += p_items
        bad += p_bad
    if items:
        try:
            store.commit("migrate", items, source="usergaz.gpkg + plans/", texts=texts, hints=hints,
                         op_id=LEGACY_OP, summary=f"moved {len(items)} record(s) from the old user files")
        except StoreError:
            return
        except Exception as exc:  # noqa: BLE001 - sqlite3.IntegrityError: another process did it first
            if "UNIQUE" not in str(exc):
                raise
            return
    for old in (gaz, plans):
        if old.exists():
            try:
                old.rename(old.with_name(old.name + ".migrated"))
            except OSError:
                pass
    if items or bad:
        warnings.warn(f"moved {len(items)} record(s) from the old usergaz.gpkg / plans folder into "
                      f"{store.path.name}" + (f"; {bad} unreadable record(s) skipped" if bad else ""),
                      StoreWarning, stacklevel=3)
