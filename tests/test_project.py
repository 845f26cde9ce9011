"""Project files (planatlas.layers.project): relative paths, order/styles kept, missing files
reported and skipped, recent projects."""
from __future__ import annotations

import json

import pytest

from planatlas.layers.errors import InputError
from planatlas.layers.project import (
    Project, apply_project, load_project, recent_projects, save_project,
)
from planatlas.layers.stack import standard_stack
from planatlas.layers.userdata import tile_layer, vector_layer

from userdata_fixtures import make_mbtiles


@pytest.fixture()
def files(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    data = tmp_path / "work" / "data"
    data.mkdir(parents=True)
    csv = data / "pois.csv"
    csv.write_text("name,lng,lat,kind\n甲,113.30,23.10,a\n乙,113.31,23.11,b\n", encoding="utf-8")
    mb = make_mbtiles(data / "base.mbtiles")
    return tmp_path / "work", csv, mb


def test_save_and_reopen_keeps_layers_order_styles_and_relative_paths(files):
    work, csv, mb = files
    stack = standard_stack(["guangzhou"])
    vec, _ = vector_layer(csv, crs="gcj02", taken=stack.ids())
    tiles = tile_layer({"path": str(mb)}, taken=stack.ids())
    stack.add(tiles, 0)
    stack.add(vec)
    stack.set_style(vec.id, mode="categorized", field="kind", label_field="name")
    stack.set_opacity(tiles.id, 0.6)
    stack.set_visible("plan/guangzhou/scenic_area", False)
    proj = Project(stack, (113.2, 23.0, 113.5, 23.2), ["guangzhou"],
                   [{"name": "珠江新城", "bbox": [113.31, 23.11, 113.33, 23.13]}], "测试")
    path = save_project(proj, work / "map.planatlas.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    srcs = [r["source"] for r in raw["layers"] if r["kind"] in ("user_vector", "tile_layer")]
    assert {s["path"] for s in srcs} == {"data/pois.csv", "data/base.mbtiles"}
    # the project moves with its folder: paths are relative
    moved = work.parent / "moved"
    work.rename(moved)
    again, problems = load_project(moved / "map.planatlas.json")
    assert problems == []
    assert again.stack.ids() == stack.ids()
    v = again.stack[vec.id]
    assert v.style["mode"] == "categorized" and v.source["crs"] == "gcj02"
    assert v.source["path"] == str(moved / "data" / "pois.csv")
    assert again.stack[tiles.id].opacity == 0.6 and again.extent == (113.2, 23.0, 113.5, 23.2)
    assert again.bookmarks[0]["name"] == "珠江新城" and again.plans == ["guangzhou"]
    assert recent_projects()[0] == str(moved / "map.planatlas.json")
    # applied to a fresh app stack: user layers where they were, built-in state taken over
    app = standard_stack(["guangzhou"])
    apply_project(app, again)
    assert app.ids() == stack.ids() and not app["plan/guangzhou/scenic_area"].visible


def test_missing_files_are_reported_and_skipped(files):
    work, csv, mb = files
    stack = standard_stack(["guangzhou"])
    vec, _ = vector_layer(csv, taken=stack.ids())
    stack.add(vec)
    stack.add(tile_layer({"path": str(mb)}, taken=stack.ids()), 0)
    path = save_project(Project(stack), work / "p.planatlas.json")
    csv.unlink()
    proj, problems = load_project(path)
    assert len(problems) == 1 and "pois.csv" in problems[0] and "skipped" in problems[0]
    assert vec.id not in proj.stack and any(x.kind == "tile_layer" for x in proj.stack)


@pytest.mark.parametrize("text,match", [("{", "not a PlanAtlas project"),
                                        ('{"format": "other"}', "not a PlanAtlas project"),
                                        ('{"format": "planatlas-project", "version": 9}', "version 9")])
def test_bad_project_files(tmp_path, text, match):
    p = tmp_path / "x.planatlas.json"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        load_project(p)
    with pytest.raises(InputError, match="no such project"):
        load_project(tmp_path / "none.json")
