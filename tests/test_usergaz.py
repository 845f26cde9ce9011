"""The user gazetteer: accept → history → undo, atomic and crash-safe saves, atlas overrides."""
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

from planatlas.layers import usergaz
from planatlas.layers.model import Feature
from planatlas.layers.survey import check_rows, check_survey
from planatlas.layers.survey import SurveyRow
from test_sites_data import offset, point_features, survey_features, survey_points, write_csv

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(d))
    return d


@pytest.fixture(scope="module")
def pts():
    return point_features(survey_features())[:10]


def _report(tmp_path, pts, moved=None, name="survey.csv"):
    rows = [[f.name, x, y, "2024-05-03"] for f, x, y in
            survey_points(pts, crs="wgs84", noise_m=10, moved=moved or {})]
    path = write_csv(tmp_path / name, ["名称", "经度", "纬度", "日期"], rows)
    return check_survey(path, pts)


def _state(store: usergaz.UserGazetteer):
    return ({k: (v["geometry"].wkt, v["op_id"]) for k, v in store.verified().items()},
            [o["op"] for o in store.operations()])


def test_accept_writes_verified_positions_and_history(tmp_path, data_dir, pts):
    report = _report(tmp_path, pts, moved={pts[0].id: 600.0})
    res = usergaz.accept(report)
    assert len(res["accepted"]) == len(pts)
    path = Path(res["path"])
    assert path == data_dir / "usergaz.gpkg" and path.exists()
    store = usergaz.default_store()
    ver = store.verified()
    assert set(ver) == {f.id for f in pts}
    rec = ver[pts[0].id]
    assert rec["status"] == "verified" and rec["survey_status"] == "moved"
    assert rec["source"] == "survey.csv" and rec["survey_date"] == "2024-05-03"
    r0 = report.row(1)
    assert rec["geometry"].x == pytest.approx(r0.lon) and rec["geometry"].y == pytest.approx(r0.lat)
    # the shipped position stays visible as history
    h = usergaz.history(pts[0].id)
    assert len(h) == 1
    assert h[0]["previous"]["geometry"].equals(pts[0].geometry)
    assert h[0]["previous"]["status"] == pts[0].status
    assert h[0]["new"]["status"] == "verified" and h[0]["new"]["source"] == "survey.csv"
    # the atlas loader's hook applies the positions
    out = usergaz.apply_user_overrides(list(pts))
    assert out[0].status == "verified" and out[0].geometry.distance(pts[0].geometry) > 0.004
    assert "field survey survey.csv" in out[0].source
    assert out[0].id == pts[0].id and out[0].name == pts[0].name
    as_dict = usergaz.apply_user_overrides({f.id: f for f in pts})
    assert as_dict[pts[0].id].status == "verified"
    # GDAL reads it as an ordinary GeoPackage
    pyogrio = pytest.importorskip("pyogrio")
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"verified", "history"} <= layers
    df = pyogrio.read_dataframe(path, layer="verified")
    assert len(df) == len(pts) and df.crs.to_epsg() == 4326
    hist = pyogrio.read_dataframe(path, layer="history")
    assert hist.geometry.iloc[0].equals(pts[0].geometry)


def test_second_survey_keeps_the_chain_and_undo_restores_each_state(tmp_path, data_dir, pts):
    store = usergaz.default_store()
    s0 = _state(store)
    usergaz.accept(_report(tmp_path, pts[:4], name="a.csv"))
    s1 = _state(store)
    usergaz.accept(_report(tmp_path, pts[:2], moved={pts[1].id: 400}, name="b.csv"), rows=[2])
    s2 = _state(store)
    assert s2 != s1
    h = usergaz.history(pts[1].id)
    assert [x["new"]["source"] for x in h] == ["a.csv", "b.csv"]
    assert h[1]["previous"]["status"] == "verified"               # previous = first survey
    assert h[1]["previous"]["geometry"].equals(h[0]["new"]["geometry"])
    undone = usergaz.undo()
    assert undone["source"] == "b.csv" and undone["n_features"] == 1
    assert _state(store) == s1
    usergaz.undo()
    assert _state(store) == s0 == ({}, [])
    with pytest.raises(usergaz.UserGazetteerError, match="nothing to undo"):
        usergaz.undo()
    assert usergaz.apply_user_overrides(list(pts))[0].status == pts[0].status


def test_only_confirmed_or_moved_rows_are_accepted(tmp_path, data_dir, pts):
    rows = [[f.name, x, y] for f, x, y in survey_points(pts[:3])]
    rows += [["不存在", 113.1, 23.1], [pts[3].name, "bad", "1"]]
    path = write_csv(tmp_path / "mix.csv", ["名称", "经度", "纬度"], rows)
    report = check_survey(path, pts)
    res = usergaz.accept(report, rows=[1, 4, 5])
    assert [a["feature"] for a in res["accepted"]] == [pts[0].id]
    assert {s["row"] for s in res["skipped"]} == {4, 5}
    with pytest.raises(ValueError, match="nothing to accept"):
        usergaz.accept(report, rows=[4])
    with pytest.raises(ValueError, match="no data row"):
        usergaz.accept(report, rows=[99])
    dry = usergaz.accept(report, dry_run=True)
    assert dry["op"] is None and len(dry["accepted"]) == 3
    assert len(usergaz.operations()) == 1


def test_site_reported_missing_is_not_accepted(tmp_path, data_dir, pts):
    rows = [[f.name, x, y, "missing" if i == 0 else "found"]
            for i, (f, x, y) in enumerate(survey_points(pts[:3]))]
    path = write_csv(tmp_path / "miss.csv", ["名称", "经度", "纬度", "状态"], rows)
    res = usergaz.accept(check_survey(path, pts))
    assert pts[0].id not in {a["feature"] for a in res["accepted"]}
    assert any("missing" in s["reason"] for s in res["skipped"])


def test_polygon_moved_is_translated_and_confirmed_is_kept(tmp_path, data_dir):
    park = Feature(id="t-park", name="越秀公园", aliases=[], categories=["scenic_area"], subtype="park",
                   tier=None, plans=["guangzhou"], district="越秀区", adcode="440104",
                   geometry=box(113.2600, 23.1360, 113.2720, 23.1440), precision_m=100,
                   source="shipped", status="approximate")
    inside = SurveyRow(row=1, where="x", name="越秀公园", lon=113.265, lat=23.140)
    report = check_rows([inside], [park], crs="wgs84", source=str(tmp_path / "p1.csv"))
    usergaz.accept(report)
    assert usergaz.default_store().verified()["t-park"]["geometry"].equals(park.geometry)
    ex, ey = offset(113.2720, 23.1400, 800, 0)
    east = SurveyRow(row=1, where="x", name="越秀公园", lon=ex, lat=ey)
    report = check_rows([east], [park], crs="wgs84", source=str(tmp_path / "p2.csv"))
    assert report.rows[0].status == "moved"
    usergaz.accept(report)
    g = usergaz.default_store().verified()["t-park"]["geometry"]
    assert g.geom_type == "Polygon" and g.area == pytest.approx(park.geometry.area)
    assert g.bounds[2] == pytest.approx(ex, abs=1e-9)          # east edge moved onto the observation


def test_failed_save_loses_nothing(tmp_path, data_dir, pts, monkeypatch):
    usergaz.accept(_report(tmp_path, pts[:3], name="first.csv"))
    store = usergaz.default_store()
    before = _state(store)
    raw_before = store.path.read_bytes()
    real_replace = os.replace

    def failing_replace(src, dst):
        if Path(dst) == store.path:
            raise OSError("simulated crash between write and replace")
        return real_replace(src, dst)

    monkeypatch.setattr(usergaz.os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated crash"):
        usergaz.accept(_report(tmp_path, pts[3:6], name="second.csv"))
    monkeypatch.setattr(usergaz.os, "replace", real_replace)
    assert store.path.read_bytes() == raw_before
    assert _state(store) == before
    assert not list(store.path.parent.glob(".usergaz.gpkg.*.tmp"))
    # the store still works afterwards, and undo still goes back to the first state
    usergaz.accept(_report(tmp_path, pts[3:6], name="second.csv"))
    usergaz.undo()
    assert _state(store) == before


_WORKER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r}); sys.path.insert(0, {root!r})
    from pathlib import Path
    from planatlas.layers import usergaz
    from planatlas.layers.survey import check_survey
    from test_sites_data import point_features, survey_features, survey_points, write_csv
    pts = point_features(survey_features())[:10]
    tmp = Path({tmp!r})
    reports = []
    for k in range(4):
        rows = [[f.name, x, y] for f, x, y in survey_points(pts, seed=k, noise_m=20 + 30 * k)]
        reports.append(check_survey(write_csv(tmp / f"w{{k}}.csv", ["名称", "经度", "纬度"], rows), pts))
    print("ready", flush=True)
    i = 0
    while True:
        usergaz.accept(reports[i % 4])
        i += 1
""")


def _consistent(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        ops = {r[0]: r[1] for r in con.execute("SELECT op_id, n_features FROM operations")}
        hist = dict(con.execute("SELECT op_id, count(*) FROM history GROUP BY op_id").fetchall())
        assert hist == ops                     # every operation complete, none half-written
        for (op,) in con.execute("SELECT DISTINCT op_id FROM verified"):
            assert op in ops
        return len(ops)
    finally:
        con.close()


def test_killed_process_never_leaves_a_broken_file(tmp_path, data_dir):
    script = tmp_path / "worker.py"
    script.write_text(_WORKER.format(tests=str(ROOT / "tests"), root=str(ROOT), tmp=str(tmp_path)),
                      encoding="utf-8")
    path = data_dir / "usergaz.gpkg"
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
        assert path.exists()
        seen_ops.append(_consistent(path))
        assert usergaz.apply_user_overrides(point_features(survey_features())[:10])[0].status == "verified"
    assert seen_ops[-1] > seen_ops[0] >= 1          # the worker was really saving when killed
    # undo works after a kill
    store = usergaz.default_store()
    n = len(store.operations())
    store.undo()
    assert len(store.operations()) == n - 1
    assert _consistent(path) == n - 1


def test_damaged_user_file_is_reported_not_deleted(data_dir, pts):
    data_dir.mkdir(parents=True)
    bad = data_dir / "usergaz.gpkg"
    bad.write_bytes(b"this is not sqlite" * 20)
    with pytest.warns(RuntimeWarning, match="user gazetteer ignored"):
        out = usergaz.apply_user_overrides(list(pts))
    assert [f.geometry for f in out] == [f.geometry for f in pts]
    assert bad.read_bytes() == b"this is not sqlite" * 20


def test_atlas_and_cli_round_trip(tmp_path, data_dir, capsys):
    from planatlas.layers.atlas import load_atlas
    from planatlas.desktop.cli import main as cli_main

    atlas = load_atlas(reload=True)
    feats = point_features(list(atlas.features.values()))[:6]
    if len(feats) < 3:
        pytest.skip("the gazetteer has too few located features yet")
    rows = [[f.name, x, y] for f, x, y in survey_points(feats, crs="gcj02", moved={feats[0].id: 700})]
    survey = write_csv(tmp_path / "field.csv", ["名称", "经度", "纬度"], rows)
    assert cli_main(["accept-survey", str(survey), "--dry-run"]) == 0
    assert "would accept" in capsys.readouterr().out
    assert not (data_dir / "usergaz.gpkg").exists()
    assert cli_main(["accept-survey", str(survey), "--rows", "1-2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert [a["feature"] for a in res["accepted"]] == [feats[0].id, feats[1].id]
    fresh = load_atlas(reload=True)
    f0 = fresh.features[feats[0].id]
    assert f0.status == "verified"
    assert f0.geometry.distance(feats[0].geometry) > 0.005
    assert cli_main(["undo-accept"]) == 0
    assert "undid operation" in capsys.readouterr().out
    assert load_atlas(reload=True).features[feats[0].id].geometry.equals(feats[0].geometry)
    assert cli_main(["undo-accept"]) == 2
    assert "nothing to undo" in capsys.readouterr().err
    load_atlas(reload=True)
