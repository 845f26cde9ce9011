"""The embedded store (GeoPackage): accept → history → undo, transactions that survive kill -9,
quarantine of damaged or foreign files, the old usergaz.gpkg moved in, atlas overrides, CLI."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from shapely.geometry import box

from planatlas.layers import store
from planatlas.layers.model import Feature
from planatlas.layers.survey import SurveyRow, check_rows, check_survey
from store_fixtures import data_dir  # noqa: F401 - fixture
from test_sites_data import offset, point_features, survey_features, survey_points, write_csv

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pts():
    return point_features(survey_features())[:10]


def _report(tmp_path, pts, moved=None, name="survey.csv", seed=0):
    rows = [[f.name, x, y, "2024-05-03"] for f, x, y in
            survey_points(pts, crs="wgs84", noise_m=10, moved=moved or {}, seed=seed)]
    path = write_csv(tmp_path / name, ["名称", "经度", "纬度", "日期"], rows)
    return check_survey(path, pts)


def _state(s):
    return ({k: (v["geometry"].wkt, v["version"]) for k, v in s.positions().items()},
            [(o.op_id, o.state) for o in s.operations() if o.kind == "accept"])


def test_accept_writes_verified_positions_and_history(tmp_path, data_dir, pts):
    report = _report(tmp_path, pts, moved={pts[0].id: 600.0})
    res = store.accept(report)
    assert len(res["accepted"]) == len(pts)
    path = data_dir / "store.gpkg"
    assert res["path"] == str(path) and path.exists()
    s = store.current_store()
    ver = s.positions()
    assert set(ver) == {f.id for f in pts}
    rec = ver[pts[0].id]
    assert rec["status"] == "verified" and rec["survey_status"] == "moved" and rec["version"] == 1
    assert rec["source"] == "survey.csv" and rec["survey_date"] == "2024-05-03"
    r0 = report.row(1)
    assert rec["geometry"].x == pytest.approx(r0.lon) and rec["geometry"].y == pytest.approx(r0.lat)
    # the shipped position stays visible as history, with who and from which survey
    h = store.history(pts[0].id)
    assert len(h) == 1
    assert h[0]["previous"]["geometry"].equals(pts[0].geometry)
    assert h[0]["previous"]["status"] == pts[0].status
    assert h[0]["new"]["status"] == "verified" and h[0]["new"]["source"] == "survey.csv"
    assert h[0]["who"] == s.user and h[0]["kind"] == "accept"
    out = store.apply_user_overrides(list(pts))
    assert out[0].status == "verified" and out[0].geometry.distance(pts[0].geometry) > 0.004
    assert "field survey survey.csv" in out[0].source
    assert out[0].id == pts[0].id and out[0].name == pts[0].name
    assert store.apply_user_overrides({f.id: f for f in pts})[pts[0].id].status == "verified"
    # GDAL reads it as an ordinary GeoPackage, with QGIS styles
    pyogrio = pytest.importorskip("pyogrio")
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"positions", "history", "features", "layer_styles"} <= layers
    df = pyogrio.read_dataframe(path, layer="positions")
    assert len(df) == len(pts) and df.crs.to_epsg() == 4326
    hist = pyogrio.read_dataframe(path, layer="history")
    assert hist.geometry.iloc[0].equals(pts[0].geometry)
    styles = pyogrio.read_dataframe(path, layer="layer_styles")
    assert set(styles["f_table_name"]) == {"features", "positions", "history"}


def test_second_survey_keeps_the_chain_and_undo_restores_each_state(tmp_path, data_dir, pts):
    s = store.current_store()
    s0 = _state(s)
    store.accept(_report(tmp_path, pts[:4], name="a.csv"))
    s1 = _state(s)
    store.accept(_report(tmp_path, pts[:2], moved={pts[1].id: 400}, name="b.csv"), rows=[2])
    s2 = _state(s)
    assert s2 != s1
    h = store.history(pts[1].id)
    assert [x["new"]["source"] for x in h] == ["a.csv", "b.csv"]
    assert h[1]["previous"]["status"] == "verified"               # previous = first survey
    assert h[1]["previous"]["geometry"].equals(h[0]["new"]["geometry"])
    undone = store.undo()
    assert undone.source == "b.csv" and len(undone.items) == 1 and undone.state == "undone"
    pos = s.positions()
    assert {k: v["geometry"].wkt for k, v in pos.items()} == {k: v[0] for k, v in s1[0].items()}
    assert pos[pts[1].id]["version"] == 3                          # versions never go back
    store.undo()
    assert s.positions() == {}
    with pytest.raises(store.NothingToDo, match="nothing to undo"):
        store.undo()
    assert store.apply_user_overrides(list(pts))[0].status == pts[0].status
    # redo brings both back, newest undone first
    assert store.redo().source == "a.csv"
    assert store.redo().source == "b.csv"
    assert {k: v["geometry"].wkt for k, v in s.positions().items()} == {k: v[0] for k, v in s2[0].items()}
    with pytest.raises(store.NothingToDo, match="nothing to redo"):
        store.redo()


def test_only_confirmed_or_moved_rows_are_accepted(tmp_path, data_dir, pts):
    rows = [[f.name, x, y] for f, x, y in survey_points(pts[:3])]
    rows += [["不存在", 113.1, 23.1], [pts[3].name, "bad", "1"]]
    path = write_csv(tmp_path / "mix.csv", ["名称", "经度", "纬度"], rows)
    report = check_survey(path, pts)
    res = store.accept(report, rows=[1, 4, 5])
    assert [a["feature"] for a in res["accepted"]] == [pts[0].id]
    assert {s["row"] for s in res["skipped"]} == {4, 5}
    with pytest.raises(ValueError, match="nothing to accept"):
        store.accept(report, rows=[4])
    with pytest.raises(ValueError, match="no data row"):
        store.accept(report, rows=[99])
    dry = store.accept(report, dry_run=True)
    assert dry["op"] is None and len(dry["accepted"]) == 3
    assert len(store.operations()) == 1


def test_site_reported_missing_is_not_accepted(tmp_path, data_dir, pts):
    rows = [[f.name, x, y, "missing" if i == 0 else "found"]
            for i, (f, x, y) in enumerate(survey_points(pts[:3]))]
    path = write_csv(tmp_path / "miss.csv", ["名称", "经度", "纬度", "状态"], rows)
    res = store.accept(check_survey(path, pts))
    assert pts[0].id not in {a["feature"] for a in res["accepted"]}
    assert any("missing" in s["reason"] for s in res["skipped"])


def test_polygon_moved_is_translated_and_confirmed_is_kept(tmp_path, data_dir):
    park = Feature(id="t-park", name="越秀公园", aliases=[], categories=["scenic_area"], subtype="park",
                   tier=None, plans=["guangzhou"], district="越秀区", adcode="440104",
                   geometry=box(113.2600, 23.1360, 113.2720, 23.1440), precision_m=100,
                   source="shipped", status="approximate")
    inside = SurveyRow(row=1, where="x", name="越秀公园", lon=113.265, lat=23.140)
    report = check_rows([inside], [park], crs="wgs84", source=str(tmp_path / "p1.csv"))
    store.accept(report)
    assert store.current_store().positions()["t-park"]["geometry"].equals(park.geometry)
    ex, ey = offset(113.2720, 23.1400, 800, 0)
    east = SurveyRow(row=1, where="x", name="越秀公园", lon=ex, lat=ey)
    report = check_rows([east], [park], crs="wgs84", source=str(tmp_path / "p2.csv"))
    assert report.rows[0].status == "moved"
    store.accept(report)
    g = store.current_store().positions()["t-park"]["geometry"]
    assert g.geom_type == "Polygon" and g.area == pytest.approx(park.geometry.area)
    assert g.bounds[2] == pytest.approx(ex, abs=1e-9)          # east edge moved onto the observation


def test_a_failure_inside_the_transaction_writes_nothing(tmp_path, data_dir, pts, monkeypatch):
    store.accept(_report(tmp_path, pts[:3], name="first.csv"))
    s = store.current_store()
    before = _state(s)
    raw_before = s.path.read_bytes()
    real = type(s)._history
    calls = []

    def failing_history(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("simulated crash in the middle of an accept")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(s), "_history", failing_history)
    with pytest.raises(OSError, match="simulated crash"):
        store.accept(_report(tmp_path, pts[3:6], name="second.csv"))
    monkeypatch.setattr(type(s), "_history", real)
    assert _state(s) == before and s.path.read_bytes() == raw_before
    assert not list(s.path.parent.glob("*-journal"))
    store.accept(_report(tmp_path, pts[3:6], name="second.csv"))
    store.undo()
    assert {k: v[0] for k, v in _state(s)[0].items()} == {k: v[0] for k, v in before[0].items()}


_WORKER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r}); sys.path.insert(0, {root!r})
    from pathlib import Path
    from planatlas.layers import store
    from planatlas.layers.survey import check_survey
    from test_sites_data import point_features, survey_features, survey_points, write_csv
    pts = point_features(survey_features())[:10]
    tmp = Path({tmp!r})
    reports = []
    for k in range(4):
        rows = [[f.name, x, y] for f, x, y in survey_points(pts, seed=k, noise_m=20 + 30 * k)]
        reports.append(check_survey(write_csv(tmp / f"w{{k}}.csv", ["名称", "经度", "纬度"], rows), pts))
    s = store.current_store()
    print("ready", flush=True)
    i = 0
    while True:
        s.accept(reports[i % 4])
        if i % 3 == 2:
            s.undo()
        i += 1
""")


def consistent_gpkg(path: Path) -> int:
    """Check a store file's invariants; returns the number of operations."""
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        ops = dict(con.execute("SELECT op_id, n_items FROM operations").fetchall())
        items = dict(con.execute("SELECT op_id, count(*) FROM op_items GROUP BY op_id").fetchall())
        hist = dict(con.execute("SELECT op_id, count(*) FROM history GROUP BY op_id").fetchall())
        assert items == ops and hist == ops            # every operation complete, none half-written
        for (op,) in con.execute("SELECT DISTINCT op_id FROM positions"):
            assert op in ops
        # each row's version is the last version an operation gave it
        last = dict(con.execute("SELECT entity_id, max(max(version), coalesce(max(undo_version), 0)) "
                                "FROM op_items WHERE entity = 'position' GROUP BY entity_id").fetchall())
        assert dict(con.execute("SELECT feature_id, version FROM positions").fetchall()) == last
        return len(ops)
    finally:
        con.close()


def test_killed_process_never_leaves_a_broken_store(tmp_path, data_dir):
    script = tmp_path / "worker.py"
    script.write_text(_WORKER.format(tests=str(ROOT / "tests"), root=str(ROOT), tmp=str(tmp_path)),
                      encoding="utf-8")
    path = data_dir / "store.gpkg"
    seen_ops = []
    for delay in (0.35, 0.6, 0.9):
        proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=dict(os.environ), text=True)
        try:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
            deadline = time.monotonic() + 60
            while not path.exists() and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        s = store.open_store(str(path))          # opening rolls back a hot journal
        s.positions()
        s.close()
        seen_ops.append(consistent_gpkg(path))
        assert store.apply_user_overrides(point_features(survey_features())[:10])[0].status == "verified"
    assert seen_ops[-1] > seen_ops[0] >= 1          # the worker was really saving when killed
    s = store.open_store(str(path))
    n = len(s.operations())
    s.undo()
    assert len(s.operations()) == n + 1             # the undo is logged
    assert consistent_gpkg(path) == n + 1


def test_damaged_store_is_quarantined_and_the_atlas_still_loads(data_dir, pts):
    data_dir.mkdir(parents=True)
    bad = data_dir / "store.gpkg"
    bad.write_bytes(b"this is not sqlite" * 20)
    with pytest.warns(store.StoreWarning, match="moved aside"):
        out = store.apply_user_overrides(list(pts))
    assert [f.geometry for f in out] == [f.geometry for f in pts]
    moved = list(data_dir.glob("store.gpkg.quarantined-*"))
    assert len(moved) == 1 and moved[0].read_bytes() == b"this is not sqlite" * 20
    assert not bad.exists()


def test_a_foreign_geopackage_is_quarantined_not_used(tmp_path, data_dir, pts):
    import geopandas as gpd
    from shapely.geometry import Point

    data_dir.mkdir(parents=True)
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(113, 23)], crs=4326).to_file(
        data_dir / "store.gpkg", layer="somebody_else", driver="GPKG")
    with pytest.warns(store.StoreWarning, match="not a PlanAtlas store|without PlanAtlas"):
        store.accept(_report(tmp_path, pts[:2]))
    assert len(list(data_dir.glob("store.gpkg.quarantined-*"))) == 1
    assert len(store.current_store().positions()) == 2


def test_newer_schema_is_refused_and_kept(tmp_path, data_dir, pts):
    store.accept(_report(tmp_path, pts[:2]))
    path = data_dir / "store.gpkg"
    store.reset()
    con = sqlite3.connect(path)
    con.execute("UPDATE store_meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    raw = path.read_bytes()
    with pytest.raises(store.SchemaError, match="newer than this PlanAtlas"):
        store.current_store().positions()
    with pytest.warns(store.StoreWarning, match="newer than this PlanAtlas"):
        assert store.apply_user_overrides(list(pts))[0].geometry.equals(pts[0].geometry)
    assert path.read_bytes() == raw and not list(data_dir.glob("*quarantined*"))


def test_old_schema_is_migrated(tmp_path, data_dir, pts, capsys):
    from planatlas.desktop.cli import main as cli_main
    from planatlas.layers.store.gpkg import GpkgStore

    path = data_dir / "store.gpkg"
    GpkgStore(path).migrate()
    con = sqlite3.connect(path)                  # make it a schema-1 store
    con.execute("DROP TABLE sync_queue")
    con.execute("DROP TABLE layer_styles")
    con.execute("DELETE FROM gpkg_contents WHERE table_name = 'layer_styles'")
    con.execute("ALTER TABLE features DROP COLUMN aliases")
    con.execute("UPDATE store_meta SET value = '1' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    store.reset()
    assert cli_main(["store", "migrate"]) == 0
    assert "schema 1 → 3" in capsys.readouterr().out
    assert cli_main(["store", "migrate"]) == 0
    assert "nothing to migrate" in capsys.readouterr().out


def test_old_user_files_are_moved_into_the_store(tmp_path, data_dir, pts):
    """A usergaz.gpkg and plans/ folder of an older PlanAtlas become one undoable operation."""
    from planatlas.layers.store.geom import gpkg_blob

    data_dir.mkdir(parents=True)
    old = data_dir / "usergaz.gpkg"
    con = sqlite3.connect(old)
    con.execute("CREATE TABLE verified (fid INTEGER PRIMARY KEY, geom BLOB, feature_id TEXT, name TEXT, "
                "status TEXT, survey_date TEXT, source TEXT, survey_row INTEGER, survey_status TEXT, "
                "distance_m REAL, precision_m REAL, crs TEXT, accepted_at TEXT, op_id TEXT)")
    con.execute("CREATE TABLE history (fid INTEGER PRIMARY KEY, geom BLOB, feature_id TEXT, "
                "prev_status TEXT, prev_source TEXT)")
    from shapely.geometry import Point
    moved = Point(pts[0].geometry.x + 0.001, pts[0].geometry.y)
    con.execute("INSERT INTO verified VALUES (1, ?, ?, ?, 'verified', '2024-01-02', 'old.csv', 3, "
                "'moved', 120.0, 30.0, 'wgs84', '2024-01-02', 'x')", (gpkg_blob(moved), pts[0].id, pts[0].name))
    con.execute("INSERT INTO verified VALUES (2, X'00', 'broken', 'b', 'verified', NULL, NULL, NULL, "
                "NULL, NULL, NULL, NULL, 'x', 'x')")
    con.execute("INSERT INTO history VALUES (1, ?, ?, 'approximate', 'shipped')",
                (gpkg_blob(pts[0].geometry), pts[0].id))
    con.commit()
    con.close()
    plans = data_dir / "plans"
    plans.mkdir()
    (plans / "mini.txt").write_text("测试规划\n一、总体要求\n建设天河路商圈。\n", encoding="utf-8")
    (plans / "mini.toml").write_text('id = "mini"\ntitle = "测试规划"\nperiod = { start = 2021, end = 2025 }\n'
                                     'region = { province = "广东省", city = "广州市", district = "", adcode = "" }\n',
                                     encoding="utf-8")
    with pytest.warns(store.StoreWarning, match="moved 2 record"):
        s = store.current_store()
    assert set(s.positions()) == {pts[0].id} and set(s.plan_records()) == {"mini"}
    assert store.history(pts[0].id)[0]["previous"]["geometry"].equals(pts[0].geometry)
    assert (data_dir / "usergaz.gpkg.migrated").exists() and (data_dir / "plans.migrated").is_dir()
    assert not old.exists()
    from planatlas.layers.catalog import load_plans
    assert load_plans()["mini"].origin == "user"
    assert store.undo().kind == "migrate" and s.positions() == {}


def test_atlas_and_cli_round_trip(tmp_path, data_dir, capsys):
    from planatlas.desktop.cli import main as cli_main
    from planatlas.layers.atlas import load_atlas

    atlas = load_atlas(reload=True)
    feats = point_features(list(atlas.features.values()))[:6]
    rows = [[f.name, x, y] for f, x, y in survey_points(feats, crs="gcj02", moved={feats[0].id: 700})]
    survey = write_csv(tmp_path / "field.csv", ["名称", "经度", "纬度"], rows)
    assert cli_main(["accept-survey", str(survey), "--dry-run"]) == 0
    assert "would accept" in capsys.readouterr().out
    assert not (data_dir / "store.gpkg").exists()
    assert cli_main(["accept-survey", str(survey), "--rows", "1-2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert [a["feature"] for a in res["accepted"]] == [feats[0].id, feats[1].id]
    fresh = load_atlas(reload=True)
    f0 = fresh.features[feats[0].id]
    assert f0.status == "verified" and fresh.versions[feats[0].id] == 1
    assert f0.geometry.distance(feats[0].geometry) > 0.005
    assert cli_main(["undo-accept"]) == 0
    assert "undid operation" in capsys.readouterr().out
    assert load_atlas(reload=True).features[feats[0].id].geometry.equals(feats[0].geometry)
    assert cli_main(["undo"]) == 2
    assert "nothing to undo" in capsys.readouterr().err
    assert cli_main(["redo"]) == 0
    assert "redid operation" in capsys.readouterr().out
    assert load_atlas(reload=True).features[feats[0].id].status == "verified"
    load_atlas(reload=True)
