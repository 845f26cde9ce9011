"""The GeoPackage export opens meaningfully in QGIS 3.22: styled category layers (shapes,
precision halos, schematic/verified rules), the basemap in the same file, a .qgz project beside
it with the layers grouped by plan and relations to the clause and target tables. The PyQGIS
check runs where a system Python has QGIS (CI: the qgis package); it is skipped elsewhere."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import zipfile

import pytest

from planatlas.layers.atlas import load_atlas
from planatlas.layers.export.data import export_data

_CHECK = r'''
import json, sys
from qgis.core import QgsApplication, QgsProject
app = QgsApplication([], False); app.initQgis()
p = QgsProject.instance()
out = {"ok": p.read(sys.argv[1]), "crs": p.crs().authid(), "relations": [],
       "groups": {g.name(): [c.name() for c in g.children()] for g in p.layerTreeRoot().children()},
       "layers": {}}
for r in p.relationManager().relations().values():
    out["relations"].append([r.referencingLayer().name(), r.referencedLayer().name(), r.isValid()])
for lyr in p.mapLayers().values():
    info = {"valid": lyr.isValid(), "n": lyr.featureCount()}
    r = lyr.renderer() if hasattr(lyr, "renderer") else None
    if r is not None:
        info["renderer"] = r.type()
        if r.type() == "RuleRenderer":
            rules = r.rootRule().children()
            info["rules"] = [x.filterExpression() for x in rules]
            sl = rules[0].symbol().symbolLayer(0)
            info["shape"] = int(sl.shape()) if hasattr(sl, "shape") else None
            halo = rules[2].symbol().symbolLayer(0)
            info["halo"] = halo.dataDefinedProperties().hasActiveProperties()
    out["layers"][lyr.name()] = info
print(json.dumps(out, ensure_ascii=False))
app.exitQgis()
'''


def _qgis_python() -> str | None:
    py = shutil.which("python3", path="/usr/bin")
    if py is None:
        return None
    probe = subprocess.run([py, "-c", "import qgis.core"], capture_output=True)
    return py if probe.returncode == 0 else None


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpkg") / "guangzhou.gpkg"
    res = export_data(load_atlas(), "guangzhou", None, "gpkg", "wgs84", out)
    return out, res


def test_gpkg_holds_styles_basemap_and_link_tables(gpkg):
    out, res = gpkg
    assert {"basemap_districts", "basemap_water", "basemap_plan_area", "mentions", "targets",
            "target_features"} <= set(res["layers"])
    assert res["qgis_project"] == str(out.with_suffix(".qgz"))
    with sqlite3.connect(out) as db:
        styles = dict(db.execute("select f_table_name, styleQML from layer_styles"))
        links = db.execute("select count(*) from target_features").fetchone()[0]
    assert 'type="RuleRenderer"' in styles["scenic_area_points"]
    assert '<prop k="name" v="triangle"/>' in styles["scenic_area_points"]
    assert '<prop k="name" v="square"/>' in styles["logistics_hub_points"]
    assert "precision_m" in styles["commercial_district_points"]          # halo = precision
    assert "LinePatternFill" in styles["commercial_district_polygons"]     # schematic hatching
    assert "basemap_districts" in styles and links > 0
    with zipfile.ZipFile(out.with_suffix(".qgz")) as zf:
        qgs = zf.read(zf.namelist()[0]).decode("utf-8")
    assert "./guangzhou.gpkg|layername=" in qgs and str(out.parent) not in qgs    # relative


@pytest.mark.skipif(_qgis_python() is None, reason="no system Python with QGIS (PyQGIS)")
def test_qgis_opens_the_project_styled_grouped_with_basemap_and_relations(gpkg, tmp_path):
    out, _res = gpkg
    moved = tmp_path / "moved"                        # the two files travel together
    moved.mkdir()
    for f in (out, out.with_suffix(".qgz")):
        shutil.copy(f, moved / f.name)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("PYTHONPATH", None)
    run = subprocess.run([_qgis_python(), "-c", _CHECK, str(moved / "guangzhou.qgz")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    info = json.loads(run.stdout.strip().splitlines()[-1])
    assert info["ok"] and info["crs"] == "EPSG:3857"
    assert list(info["groups"]) == ["广州市", "底图 Basemap"]
    assert set(info["groups"]["底图 Basemap"]) == {"区县界 Districts", "水系 Water", "规划范围 Plan area"}
    assert "广州市 · 景区与文旅（点）" in info["groups"]["广州市"]
    layers = info["layers"]
    assert all(v["valid"] for v in layers.values())
    assert layers["区县界 Districts"]["n"] > 10 and layers["水系 Water"]["n"] > 0
    pts = {k: v for k, v in layers.items() if k.endswith("（点）")}
    assert {v["renderer"] for v in pts.values()} == {"RuleRenderer"}
    assert len({v["shape"] for v in pts.values()}) == len(pts) >= 3          # a shape per category
    assert all(v["halo"] for v in pts.values())
    assert all(v["rules"][2] == "ELSE" and "schematic" in v["rules"][0] for v in pts.values())
    rels = info["relations"]
    assert rels and all(valid for *_n, valid in rels)
    assert {(a, b) for a, b, _v in rels if a == "mentions"} >= {("mentions", k) for k in pts}
    assert ["target_features", "targets", True] in rels
