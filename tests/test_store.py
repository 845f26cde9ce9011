"""One suite, two backends: every test here runs on the embedded GeoPackage and on a real
PostGIS server (``backend`` fixture, see store_fixtures.py)."""
from __future__ import annotations

import json

import pytest
import shapely

from planatlas.desktop.cli import main as cli
from planatlas.layers import store
from store_fixtures import backend, pg  # noqa: F401 - fixtures
from test_sites_data import point_features, survey_features, survey_points, write_csv

P1, P2, P3 = shapely.Point(113.30, 23.10), shapely.Point(113.31, 23.11), shapely.Point(113.32, 23.12)


def handle(backend, user: str):
    """A second client of the same store, writing as ``user``."""
    if backend.kind == "gpkg":
        from planatlas.layers.store.gpkg import GpkgStore
        return GpkgStore(backend.url, user=user)
    from planatlas.layers.store.config import add_pgpass, with_user
    from planatlas.layers.store.postgis import EDITOR, PostgisStore

    backend.pg.create_login(user, f"pw-{user}")
    backend.pg.sql(f'GRANT {EDITOR} TO "{user}"')
    url = with_user(backend.url, user)
    add_pgpass(url, f"pw-{user}")
    return PostgisStore(url).connect()


def test_place_move_edit_delete_with_versions_undo_and_redo(backend):
    s = store.current_store()
    op = s.place_feature("新建商业街", P1, "guangzhou", "commercial_district", 20, note="试点")
    fid = op.ids[0]
    assert op.kind == "place" and op.items[0].version == 1 and op.items[0].before is None
    rec = s.user_features()[fid]
    assert rec["geometry"].equals(P1) and rec["version"] == 1 and rec["changed_by"] == s.user
    mv = s.move_feature(fid, P2, base_version=1)
    assert mv.items[0].version == 2 and mv.items[0].before["geometry"].equals(P1)
    # a move based on version 1 after the store moved on is a conflict with both values
    with pytest.raises(store.ConflictError) as err:
        s.move_feature(fid, P3, base_version=1)
    c = err.value.conflicts[0]
    assert c["mine"]["geometry"].equals(P3) and c["theirs"]["geometry"].equals(P2)
    assert c["base_version"] == 1 and c["version"] == 2 and c["by"] == s.user
    assert s.user_features()[fid]["geometry"].equals(P2)          # nothing was written
    s.edit_feature(fid, base_version=2, name="新建商业街（二期）", category="night_economy")
    s.delete_feature(fid, base_version=3)
    assert fid not in s.user_features()
    from planatlas.layers.atlas import load_atlas
    assert fid not in load_atlas(reload=True).features
    assert s.undo().kind == "delete"
    assert s.user_features()[fid]["category"] == "night_economy"
    assert s.undo().kind == "edit" and s.user_features()[fid]["name"] == "新建商业街"
    assert s.undo().kind == "move" and s.user_features()[fid]["geometry"].equals(P1)
    assert s.redo().kind == "move" and s.user_features()[fid]["geometry"].equals(P2)
    at = load_atlas(reload=True)
    f = at.features[fid]
    assert f.origin == "user" and f.plans == ["guangzhou"] and f.geometry.equals(P2)
    assert at.versions[fid] == s.user_features()[fid]["version"] == 8
    assert fid in {x.id for x in at.features_for(plans=["guangzhou"], categories=["commercial_district"])}
    h = s.history(fid)
    assert [x["kind"] for x in h] == ["place", "move", "edit", "delete", "undo", "undo", "undo", "redo"]
    assert h[1]["previous"]["geometry"].equals(P1) and h[1]["new"]["geometry"].equals(P2)


def test_bad_input_is_refused_before_anything_is_written(backend):
    s = store.current_store()
    for kwargs, msg in ((dict(category="nightlife"), "unknown category"),
                        (dict(name=" "), "must not be empty"),
                        (dict(geometry=shapely.Point(23.1, 113.3)), "swapped"),
                        (dict(geometry=shapely.Point(2.35, 48.85)), "outside China"),
                        (dict(precision_m=float("nan")), "precision")):
        args = dict(name="x", geometry=P1, plan="guangzhou", category="scenic_area", precision_m=10)
        args.update(kwargs)
        with pytest.raises(ValueError, match=msg):
            s.place_feature(**args)
    with pytest.raises(ValueError, match="no placed feature"):
        s.delete_feature("user-nothing")
    assert s.last_seq() == 0


def test_undo_only_undoes_your_own_and_refuses_after_a_colleague(backend):
    me = store.current_store()
    colleague = handle(backend, "colleague")
    fid = me.place_feature("夜市", P1, "guangzhou", "night_economy", 30).ids[0]
    me.move_feature(fid, P2)
    colleague.move_feature(fid, P3, base_version=2)
    with pytest.raises(store.ConflictError, match="someone has changed") as err:
        me.undo()
    assert err.value.conflicts[0]["by"] == "colleague"
    assert me.user_features()[fid]["geometry"].equals(P3)
    # the colleague's undo is theirs alone; afterwards mine goes through
    assert colleague.undo().user == "colleague"
    assert me.undo().kind == "move" and me.user_features()[fid]["geometry"].equals(P1)
    with pytest.raises(store.NothingToDo):
        colleague.undo()
    colleague.close()


def _report(tmp_path, feats, name, seed=0, moved=None):
    from planatlas.layers.survey import check_survey
    rows = [[f.name, x, y] for f, x, y in survey_points(feats, seed=seed, noise_m=15, moved=moved or {})]
    return check_survey(write_csv(tmp_path / name, ["名称", "经度", "纬度"], rows), feats)


def test_accept_based_on_a_stale_view_is_a_conflict(backend, tmp_path):
    feats = point_features(survey_features())[:6]
    s = store.current_store()
    seen = s.versions()                                  # what my survey check was based on
    other = handle(backend, "teamb")
    other.accept(_report(tmp_path, feats[:3], "b.csv", seed=1))
    with pytest.raises(store.ConflictError) as err:
        s.accept(_report(tmp_path, feats[2:5], "a.csv", seed=2), base_versions=seen)
    assert [c["id"] for c in err.value.conflicts] == [feats[2].id]
    assert err.value.conflicts[0]["by"] == "teamb"
    assert set(s.positions()) == {f.id for f in feats[:3]}          # nothing of mine half-written
    res = s.accept(_report(tmp_path, feats[2:5], "a.csv", seed=2), base_versions=s.versions())
    assert res["op"] and set(s.positions()) == {f.id for f in feats[:5]}
    other.close()


def test_imported_plans_live_in_the_store_and_undo(backend, tmp_path):
    from planatlas.layers.catalog import import_plan, load_plans, remove_plan

    text = "某区消费提升方案（2024-2026年）\n一、重点任务\n1.建设商圈。打造天河路商圈。\n"
    src = tmp_path / "p.txt"
    src.write_bytes(text.encode("gb18030"))
    plan = import_plan(src, "mini", title="试点方案", city="广州市")
    assert plan.origin == "user" and plan.title == "试点方案" and plan.region.city == "广州市"
    with pytest.raises(ValueError, match="already exists"):
        import_plan(src, "mini")
    src.write_text(text.replace("商圈。", "商圈和夜市。"), encoding="utf-8")
    import_plan(src, "mini", title="试点方案二", replace=True)
    s = store.current_store()
    rec = s.plan_records()["mini"]
    assert rec["version"] == 2 and s.plan_text(rec["text_sha256"]) == src.read_bytes()
    assert load_plans()["mini"].title == "试点方案二"
    s.undo()
    assert load_plans()["mini"].title == "试点方案"
    remove_plan("mini")
    assert "mini" not in load_plans()
    assert s.undo().kind == "remove_plan" and "mini" in load_plans()


def test_cli_place_unplace_undo_redo_and_conflict_exit_1(backend, capsys):
    from planatlas.layers.crs import wgs84_to_gcj02

    glon, glat = (float(v) for v in wgs84_to_gcj02(113.30, 23.10))
    assert cli(["place", "试点商圈", "--plan", "guangzhou", "--lonlat", f"{glon},{glat}", "--crs", "gcj02",
                "--category", "commercial_district", "--precision-m", "15", "--json"]) == 0
    op = json.loads(capsys.readouterr().out)
    fid = op["items"][0]["id"]
    rec = store.current_store().user_features()[fid]
    assert rec["geometry"].distance(P1) < 1e-6 and rec["crs"] == "gcj02 converted to WGS-84"
    # same name again: a move; a stale --if-version is a conflict (exit 1, both values)
    assert cli(["place", "试点商圈", "--plan", "guangzhou", "--lonlat", "113.31,23.11"]) == 0
    assert "moved 试点商圈" in capsys.readouterr().out
    assert cli(["place", "试点商圈", "--plan", "guangzhou", "--lonlat", "113.32,23.12",
                "--if-version", "1"]) == 1
    err = capsys.readouterr().err
    assert "refused" in err and "113.320000" in err and "113.310000" in err and len(err.splitlines()) == 1
    assert cli(["place", "x", "--plan", "nowhere", "--lonlat", "113.3,23.1"]) == 2
    assert cli(["place", "x", "--plan", "guangzhou", "--lonlat", "23.1,113.3"]) == 2
    capsys.readouterr()
    assert cli(["unplace", "试点商圈"]) == 0
    assert cli(["undo"]) == 0 and "undid operation" in capsys.readouterr().out
    assert fid in store.current_store().user_features()
    assert cli(["redo"]) == 0 and "redid operation" in capsys.readouterr().out
    assert fid not in store.current_store().user_features()
    assert cli(["store", "status", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["contents"]["operations"] == 5 and info["contents"]["placed features"] == 0
    assert cli(["store", "log"]) == 0
    assert "redo" in capsys.readouterr().out
