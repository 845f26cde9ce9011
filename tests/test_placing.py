"""Qt-free pieces of placing a plan's places by hand: geometry and default precision, aliases
in the store (schema 3) on both backends, what Undo/Redo would do next, an imported plan joining
a live atlas, and the import preview's progress and cancel."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import shapely

from planatlas.layers import store
from planatlas.layers.errors import Cancelled, InputError
from planatlas.layers.placing import BASEMAP_FLOOR_M, click_precision_m, placed_geometry, round_up
from store_fixtures import backend, data_dir, pg  # noqa: F401 - fixtures

PLANS = Path(__file__).resolve().parent / "plans"
P = shapely.Point(121.6147, 38.9140)


def test_default_precision_follows_the_zoom_and_never_beats_the_basemap():
    assert round_up(37) == 50 and round_up(120) == 200 and round_up(2400) == 2500 and round_up(1) == 1
    assert click_precision_m(0.5) == BASEMAP_FLOOR_M           # street zoom: the basemap's 25 m
    assert click_precision_m(10) == 100                        # 8 px × 10 m
    assert click_precision_m(625) == 5000                      # a whole city in view: ±5 km
    with pytest.raises(InputError):
        click_precision_m(0)


def test_placed_geometry_points_lines_and_areas():
    assert placed_geometry("point", [(121.6, 38.9)]).equals(shapely.Point(121.6, 38.9))
    line = placed_geometry("line", [(121.6, 38.9), (121.6, 38.9), (121.7, 38.9)])   # repeated click
    assert line.geom_type == "LineString" and len(line.coords) == 2
    poly = placed_geometry("polygon", [(0, 0), (1, 0), (1, 1), (0, 0)])
    assert poly.geom_type == "Polygon" and poly.area == pytest.approx(0.5)
    for kind, pts, why in (("point", [], "exactly one"), ("line", [(1, 1)], "two"),
                           ("polygon", [(0, 0), (1, 1)], "three"),
                           ("polygon", [(0, 0), (1, 1), (2, 2)], "one line"),
                           ("polygon", [(0, 0), (1, 1), (1, 0), (0, 1)], "crosses itself"),
                           ("circle", [(0, 0)], "must be one of")):
        with pytest.raises(InputError, match=why):
            placed_geometry(kind, pts)


def test_aliases_are_stored_edited_undone_and_reach_the_atlas(backend):
    s = backend.open()
    op = s.place_feature("青泥洼商圈", P, "dalian", "commercial_district", 100,
                         aliases=["青泥洼--天津街", "青泥洼商圈", " 天津街 ", "天津街"])
    fid = op.ids[0]
    assert s.user_features()[fid]["aliases"] == "青泥洼--天津街|天津街"     # no name, no repeats
    s.edit_feature(fid, aliases="青泥洼、天津街", base_version=1)
    assert s.user_features()[fid]["aliases"] == "青泥洼|天津街"
    s.move_feature(fid, shapely.Point(121.62, 38.91), base_version=2)
    assert s.user_features()[fid]["aliases"] == "青泥洼|天津街"              # a move keeps them
    feats, _v = store.user_layer([], s)
    assert feats[0].aliases == ["青泥洼", "天津街"] and feats[0].method == "placed"
    assert not feats[0].referenced                    # placed by hand is not a published reference
    assert s.next_undo().kind == "move" and s.next_redo() is None
    s.undo()
    s.undo()
    assert s.user_features()[fid]["aliases"] == "青泥洼--天津街|天津街"
    nxt = s.next_redo()
    assert nxt.kind == "edit" and nxt.items[0].after["aliases"] == "青泥洼|天津街"
    with pytest.raises(InputError, match="at most 20"):
        s.edit_feature(fid, aliases=[f"别名{i}" for i in range(21)])
    s.close()


def test_a_schema_2_store_is_read_then_migrated_on_the_first_write(data_dir):
    from planatlas.layers.store.gpkg import GpkgStore

    path = data_dir / "store.gpkg"
    s = GpkgStore(path)
    fid = s.place_feature("旧的点", P, "dalian", "scenic_area", 50).ids[0]
    s.close()
    con = sqlite3.connect(path)                                  # as PlanAtlas before aliases
    con.execute("ALTER TABLE features DROP COLUMN aliases")
    con.execute("UPDATE store_meta SET value = '2' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    old = GpkgStore(path)
    assert old.user_features()[fid]["name"] == "旧的点"        # read as it is
    assert old.user_features()[fid]["aliases"] is None
    assert old.schema_version == 2 and not list(data_dir.glob("*quarantined*"))
    old.edit_feature(fid, aliases=["旧点"])                      # the write migrates first
    assert old.schema_version == 3 and old.user_features()[fid]["aliases"] == "旧点"
    old.close()


def test_an_imported_plan_joins_a_live_atlas_and_placed_places_link_at_once(data_dir):
    from planatlas.layers.atlas import load_atlas
    from planatlas.layers.catalog import import_plan

    atlas = load_atlas(reload=True)
    before = len(atlas.plans)
    plan = import_plan(PLANS / "dalian.txt", "dalian", province="辽宁省", city="大连市", adcode="210200")
    atlas.add_plan(plan)
    assert len(atlas.plans) == before + 1 and atlas.clause("dalian:二.(一)").heading == "打造夜商圈"
    names = [u["name"] for u in atlas.unlocated("dalian")]
    assert "西安路" in names and "星海湾" in names
    hits = atlas.search("香炉礁")
    assert any(h["type"] == "clause" and h["plan"] == "dalian" for h in hits)
    op = store.current_store().place_feature("星海湾", P, "dalian", "commercial_district", 500)
    feats, atlas.versions = store.user_layer(atlas.features.values())
    atlas.features = {f.id: f for f in feats}
    atlas.relink()
    fid = op.ids[0]
    assert [c.id for c in atlas.clauses_of(fid)] == ["dalian:二.(一)", "dalian:二.(二).1"]
    assert "星海湾" not in [u["name"] for u in atlas.unlocated("dalian")]
    assert atlas.remove_plan("dalian") is plan and "dalian" not in atlas.plans
    assert atlas.clauses_of(fid) == [] and atlas.remove_plan("dalian") is None
    with pytest.raises(KeyError):
        atlas.clause("dalian:二.(一)")


def test_preview_reports_progress_and_stops_when_asked():
    from planatlas.layers.importer import preview_plan

    seen = []
    pv = preview_plan(PLANS / "dalian.txt", progress=lambda f, stage: seen.append((f, stage)))
    fractions = [f for f, _s in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert {"read", "parse", "region", "segmenter", "places", "locate"} <= {s for _f, s in seen}
    assert len(pv.places) >= 10
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 3                        # stop during the work
    with pytest.raises(Cancelled):
        preview_plan(PLANS / "dalian.txt", cancel=cancel)


def test_a_team_store_of_schema_2_is_read_and_asks_for_the_migration(backend):
    if backend.kind != "postgis":
        pytest.skip("the embedded store migrates itself (test above)")
    s = backend.open()
    fid = s.place_feature("旧的点", P, "dalian", "scenic_area", 50).ids[0]
    s.close()
    db = backend.url.rsplit("/", 1)[1]
    backend.pg.sql("ALTER TABLE planatlas.features DROP COLUMN aliases", db=db)
    backend.pg.sql("UPDATE planatlas.store_meta SET value = '2' WHERE key = 'schema_version'", db=db)
    old = backend.open()
    assert old.user_features()[fid]["aliases"] is None and old.next_undo().kind == "place"
    with pytest.raises(store.SchemaError, match="store migrate"):
        old.edit_feature(fid, aliases=["旧点"])
    assert old.migrate() == (2, 3)
    old.edit_feature(fid, aliases=["旧点"])
    assert old.user_features()[fid]["aliases"] == "旧点"
    old.close()


def test_cli_walkthrough_import_unlocated_place_with_an_alias(data_dir, capsys):
    """The README's command-line path: import, list what needs placing, place (with the
    plan's own spelling as an alias), see the place with its clause."""
    import json as _json

    from planatlas.desktop.cli import main as cli
    from planatlas.layers import atlas as atlas_mod

    assert cli(["import-plan", str(PLANS / "dalian.txt"), "--id", "dalian-night",
                "--province", "辽宁省", "--city", "大连市"]) == 0
    assert "15 place mention(s) found" in capsys.readouterr().out
    assert cli(["unlocated", "dalian-night", "--json"]) == 0
    assert "青泥洼-天津街" in {u["name"] for u in _json.loads(capsys.readouterr().out)}
    assert cli(["place", "青泥洼商圈", "--plan", "dalian-night", "--lonlat", "121.6400,38.9180",
                "--alias", "青泥洼--天津街", "--precision-m", "300", "--json"]) == 0
    fid = _json.loads(capsys.readouterr().out)["items"][0]["id"]
    atlas_mod._CACHE.clear()                            # each command is a new process
    assert cli(["feature", fid, "--json"]) == 0
    out = _json.loads(capsys.readouterr().out)
    assert out["properties"]["aliases"] == ["青泥洼--天津街"]
    assert [c["heading"] for c in out["clauses"]] == ["打造夜商圈"]
    assert out["clauses"][0]["mentions"][0]["surface"] == "青泥洼--天津街"
    assert cli(["unlocated", "dalian-night", "--json"]) == 0
    assert "青泥洼-天津街" not in {u["name"] for u in _json.loads(capsys.readouterr().out)}
    assert cli(["place", "青泥洼商圈", "--plan", "dalian-night", "--lonlat", "121.64,38.92",
                "--alias", "x"]) == 2                          # aliases of a placed one: the app
