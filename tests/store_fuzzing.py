"""Damaged stores for the fuzz test and ``benchmarks/store_fuzz.py``: a valid store file, and
ways to break it (bytes flipped, cut, tables or values replaced with hostile ones)."""
from __future__ import annotations

import random
import sqlite3
import tempfile
import warnings
from pathlib import Path

import shapely

from planatlas.layers.errors import PlanAtlasError

TABLES = {
    "features": ["geom", "feature_id", "name", "plan", "category", "precision_m", "source", "version", "deleted"],
    "positions": ["geom", "feature_id", "status", "survey_row", "distance_m", "precision_m", "version", "deleted"],
    "plans": ["plan_id", "title", "period_start", "text_sha256", "size", "imported_from", "version", "deleted"],
    "plan_texts": ["sha256", "data", "size"],
    "operations": ["op_id", "kind", "user_name", "state", "target_op", "n_items", "seq"],
    "op_items": ["op_id", "entity", "entity_id", "before", "after", "base_version", "version", "undo_version"],
    "history": ["geom", "feature_id", "new_wkb", "prev_version"],
    "store_meta": ["key", "value"],
}
HOSTILE = [None, "", "../victim.txt", "/etc/passwd", "x" * 20000, "\x00", "{", "[]", '{"geometry": "zz"}',
           -1, 0, 2**62, 1.5, float("inf"), b"GP\x00\x01", b"GP\x00\x03\xe6\x10\x00\x00" + b"\x00" * 40,
           b"\x01\x01\x00\x00\x00", "99", "verified", "feature", "done", "undone"]


def template(path: Path, pts) -> bytes:
    """A valid store with positions, placed features, a plan and undo history."""
    from planatlas.layers.store.gpkg import GpkgStore

    s = GpkgStore(path, user="fuzz")
    from planatlas.layers.store.records import Item
    s.commit("accept", [Item("position", f.id, None, {
        "name": f.name, "status": "verified", "survey_date": "2024-05-01", "source": "s.csv",
        "survey_row": i + 1, "survey_status": "moved", "distance_m": 12.5, "precision_m": 30.0,
        "crs": "wgs84", "geometry": shapely.Point(f.geometry.x + 0.001, f.geometry.y)}, 0)
        for i, f in enumerate(pts[:4])], source="s.csv")
    fid = s.place_feature("新建", shapely.Point(113.3, 23.1), "guangzhou", "scenic_area", 10).ids[0]
    s.move_feature(fid, shapely.Point(113.31, 23.1))
    s.store_plan("mini", "测试规划\n一、任务\n建设天河路商圈。\n".encode(), {
        "title": "测试", "period_start": 2021, "period_end": 2025, "imported_from": "/tmp/x.txt"})
    s.undo()
    s.close()
    return path.read_bytes()


def break_bytes(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    how = rnd.choice(["flip", "cut", "zero", "append", "header"])
    if how == "flip":
        for _ in range(rnd.randint(1, 40)):
            i = rnd.randrange(len(b))
            b[i] = rnd.randrange(256)
    elif how == "cut":
        b = b[:rnd.randrange(len(b))]
    elif how == "zero":
        i = rnd.randrange(len(b))
        b[i:i + rnd.randint(1, 8192)] = bytes(min(len(b) - i, 8192))
    elif how == "append":
        b += bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 5000)))
    else:
        b[rnd.randrange(100)] = rnd.randrange(256)
    return bytes(b)


def break_sql(path: Path, rnd: random.Random) -> None:
    con = sqlite3.connect(path)
    try:
        for _ in range(rnd.randint(1, 4)):
            table = rnd.choice(list(TABLES))
            how = rnd.random()
            if how < 0.08:
                con.execute(f"DROP TABLE {table}")
            elif how < 0.15:
                con.execute(f"DELETE FROM {table}")
            elif how < 0.2:
                con.execute(f"PRAGMA application_id = {rnd.randrange(2**31)}")
            else:
                col = rnd.choice(TABLES[table])
                value = rnd.choice(HOSTILE)
                try:
                    con.execute(f"UPDATE {table} SET {col} = ? WHERE rowid IN "
                                f"(SELECT rowid FROM {table} ORDER BY random() LIMIT ?)",
                                (value, rnd.randint(1, 3)))
                except sqlite3.Error:
                    pass
        con.commit()
    except sqlite3.Error:
        pass
    finally:
        con.close()


def exercise(path: Path, pts) -> list[str]:
    """Everything a user does with a store; returns what failed *badly* (not a PlanAtlasError)."""
    from planatlas.layers.store import apply_user_overrides
    from planatlas.layers.store.gpkg import GpkgStore

    bad = []
    victim = path.parent / "victim.txt"
    victim.write_text("keep me")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = GpkgStore(path, user="fuzz")
        out = apply_user_overrides(list(pts), s)
        if len(out) < len(pts):
            bad.append("features lost by the overlay")
        for call in (lambda: s.operations(items=True), lambda: s.history(pts[0].id),
                     lambda: [s.plan_text(r["text_sha256"]) for r in s.plan_records().values()],
                     s.undo, s.redo, s.last_seq,
                     lambda: s.place_feature("再建", shapely.Point(113.32, 23.1), "guangzhou", "scenic_area", 5),
                     lambda: s.move_feature(pts[1].id, shapely.Point(113.33, 23.1)), s.undo):
            try:
                call()
            except PlanAtlasError:
                pass
            except Exception as exc:  # noqa: BLE001 - this is what the fuzz test looks for
                bad.append(f"{type(exc).__name__}: {exc}"[:300])
        s.close()
    if not victim.exists() or victim.read_text() != "keep me":
        bad.append("a file the store did not own was touched")
    return bad


def run_case(data: bytes, seed: int, pts, sql: bool) -> list[str]:
    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="planatlas-fuzz-") as d:
        path = Path(d) / "store.gpkg"
        if sql:
            path.write_bytes(data)
            break_sql(path, rnd)
        else:
            path.write_bytes(break_bytes(data, rnd))
        return exercise(path, pts)
