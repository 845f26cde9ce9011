"""Your own vector data (planatlas.layers.userdata): every format GDAL reads, tables with
coordinate columns, datums (GCJ-02/BD-09 converted once), bad files, progress and cancel."""
from __future__ import annotations

import csv
import zipfile

import numpy as np
import pytest
import shapely

from planatlas.layers.crs import wgs84_to_bd09, wgs84_to_gcj02
from planatlas.layers.errors import Cancelled, InputError
from planatlas.layers.userdata import (
    REGISTRY, UserData, feature_id, parse_feature_id, tile_layer, vector_layer,
)
from planatlas.layers.userdata.datum import detect_datum
from planatlas.layers.userdata.style import classify
from planatlas.layers.userdata.read import read_vector
from planatlas.layers.userdata.vector import POINT, POLYGON

LON = np.array([113.3245, 113.2644, 113.3312, 113.2800])
LAT = np.array([23.1064, 23.1291, 23.1200, 23.1000])
NAMES = ["广州塔", "北京路", "天河城", "某店"]


def _gdf():
    import geopandas as gpd
    return gpd.GeoDataFrame({"name": NAMES, "kind": ["a", "b", "a", "c"], "v": [1.0, 5.0, 9.0, 3.0]},
                            geometry=shapely.points(LON, LAT), crs=4326)


@pytest.mark.parametrize("suffix,driver", [(".gpkg", "GPKG"), (".shp", "ESRI Shapefile"),
                                           (".geojson", "GeoJSON"), (".fgb", "FlatGeobuf"),
                                           (".kml", "KML"), (".gml", "GML")])
def test_every_ogr_format_reads_the_same_points(tmp_path, suffix, driver):
    path = tmp_path / f"shops{suffix}"
    _gdf().to_file(path, driver=driver, engine="pyogrio")
    d = read_vector(path)
    assert d.n == 4 and d.all_points and (d.kind == POINT).all()
    name = "name" if "name" in d.fields else "Name"
    order = [list(d.column(name)).index(n) for n in NAMES]     # FlatGeobuf sorts spatially
    assert np.allclose(d.lon[order], LON, atol=1e-7) and np.allclose(d.lat[order], LAT, atol=1e-7)


def test_kmz_and_gpx(tmp_path):
    kml = tmp_path / "doc.kml"
    _gdf().to_file(kml, driver="KML", engine="pyogrio")
    kmz = tmp_path / "colleague.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.write(kml, "doc.kml")
    assert read_vector(kmz).n == 4
    gpx = tmp_path / "track.gpx"
    gpx.write_text('<?xml version="1.0"?><gpx version="1.1" creator="t" '
                   'xmlns="http://www.topografix.com/GPX/1/1">'
                   '<wpt lat="23.1064" lon="113.3245"><name>广州塔</name></wpt>'
                   '<wpt lat="23.1291" lon="113.2644"><name>北京路</name></wpt></gpx>',
                   encoding="utf-8")
    d = read_vector(gpx)
    assert d.n == 2 and np.isclose(d.lon[0], 113.3245)


def test_polygons_in_a_projected_crs_come_out_in_wgs84(tmp_path):
    import geopandas as gpd
    polys = [shapely.box(113.30, 23.10, 113.31, 23.11), shapely.box(113.32, 23.12, 113.35, 23.14)]
    g = gpd.GeoDataFrame({"code": ["A1", "B2"]}, geometry=polys, crs=4326).to_crs(4526)
    path = tmp_path / "parcels.shp"
    g.to_file(path, engine="pyogrio")
    d = read_vector(path)
    assert (d.kind == POLYGON).all() and "4526" in d.crs
    lon0, lat0, lon1, lat1 = d.extent_lonlat()
    assert abs(lon0 - 113.30) < 1e-6 and abs(lat1 - 23.14) < 1e-6
    # a click inside the small parcel hits it; the hit test reports it
    from planatlas.layers.userdata.vector import merc
    x, y = merc(113.305, 23.105)
    assert d.hits(float(x), float(y), 5.0) == [0]


def test_file_with_chinese_datum_is_converted_once(tmp_path):
    import geopandas as gpd
    glon, glat = wgs84_to_gcj02(LON, LAT)
    path = tmp_path / "amap.geojson"
    gpd.GeoDataFrame({"name": NAMES}, geometry=shapely.points(glon, glat)).to_file(path, engine="pyogrio")
    d = read_vector(path, crs="gcj02")
    assert d.crs == "gcj02" and "chosen" in d.crs_note
    assert np.allclose(d.lon, LON, atol=1e-6) and np.allclose(d.lat, LAT, atol=1e-6)


def test_csv_gbk_with_title_line_dms_and_bad_rows(tmp_path):
    path = tmp_path / "点位.csv"
    with open(path, "w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["2024年商业网点调查"])
        w.writerow(["序号", "名称", "经度", "纬度", "面积"])
        w.writerow([1, "广州塔", "113°19'28.2\"E", "23°6'23.04\"N", "120"])
        w.writerow([2, "北京路", "113.2644", "23.1291", "80"])
        w.writerow([3, "坏行", "abc", "23.1", "5"])
        w.writerow([4, "天河城", "113.3312", "23.1200", ""])
    d = read_vector(path, crs="wgs84")
    assert d.n == 3 and d.skipped == 1
    assert any("line 5" in m and "longitude" in m for m in d.messages)
    assert abs(d.lon[0] - 113.3245) < 1e-4 and abs(d.lat[0] - 23.1064) < 1e-4
    assert d.column("面积").dtype == np.float64            # numbers stay numbers
    assert d.row(1)["名称"] == "北京路"


def test_xlsx_and_coordinate_pairs(tmp_path):
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(["名称", "坐标"])
    ws.append(["广州塔", "113.3245,23.1064"])
    ws.append(["北京路", "23.1291N, 113.2644E"])
    path = tmp_path / "pairs.xlsx"
    wb.save(path)
    d = read_vector(path, crs="wgs84")
    assert d.n == 2 and np.allclose(d.lon, [113.3245, 113.2644]) and np.allclose(d.lat, [23.1064, 23.1291])


def test_gcj02_table_is_detected_from_known_places_and_converted(tmp_path):
    from planatlas.layers.gazetteer import load_features
    feats = [f for f in load_features() if f.geometry.geom_type == "Point"][:12]
    lon = np.array([f.geometry.x for f in feats])
    lat = np.array([f.geometry.y for f in feats])
    for datum, conv in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        glon, glat = conv(lon, lat)
        path = tmp_path / f"{datum}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["name", "lng", "lat"])
            for f, a, b in zip(feats, glon, glat):
                w.writerow([f.name, f"{a:.7f}", f"{b:.7f}"])
        d = read_vector(path)
        assert d.crs == datum, d.crs_note
        assert "detected" in d.crs_note and "converted once" in d.crs_note
        assert np.allclose(d.lon, lon, atol=2e-6) and np.allclose(d.lat, lat, atol=2e-6)


def test_datum_from_water_when_no_names_and_undetermined_says_assumed():
    from planatlas.layers.basemap import load_basemap
    bm = load_basemap()
    rng = np.random.default_rng(7)
    lon = 113.25 + rng.random(20000) * 0.2
    lat = 23.05 + rng.random(20000) * 0.12
    land = shapely.union_all(list(bm.districts.geometry))
    water = shapely.union_all([g for g in bm.water.geometry if g.geom_type.endswith("Polygon")])
    ok = shapely.contains_xy(land, lon, lat) & ~shapely.contains_xy(water, lon, lat)
    glon, glat = wgs84_to_gcj02(lon[ok], lat[ok])
    choice = detect_datum(glon, glat)
    assert choice.crs == "gcj02" and choice.status == "detected" and "rivers or the sea" in choice.note
    # the true WGS-84 points are not mistaken for GCJ-02
    assert detect_datum(lon[ok], lat[ok]).crs == "wgs84"
    few = detect_datum(lon[:5], lat[:5], headers=["x", "y"], filename="pts.csv")
    assert few.crs == "wgs84" and few.status == "assumed" and "assumed" in few.note
    hinted = detect_datum(lon[:5], lat[:5], headers=["高德经度", "高德纬度"])
    assert hinted.crs == "gcj02" and hinted.status == "hinted"


@pytest.mark.parametrize("content,expect", [
    (b"", "empty"), (b"\x00\x01\x02binary\x00", "decode"),
    (b"name,value\na,1\nb,2\n", "no longitude column"),
])
def test_bad_tables_say_what_is_wrong(tmp_path, content, expect):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=expect):
        read_vector(path)


def test_bad_vector_files_say_what_is_wrong(tmp_path):
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"this is not a geopackage" * 10)
    with pytest.raises(InputError, match="junk.gpkg"):
        read_vector(junk)
    with pytest.raises(InputError, match="no such file"):
        read_vector(tmp_path / "absent.shp")
    half = tmp_path / "half.geojson"
    half.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat', encoding="utf-8")
    with pytest.raises(InputError, match="half.geojson"):
        read_vector(half)


def test_progress_is_reported_and_cancel_stops(tmp_path, monkeypatch):
    import geopandas as gpd
    from planatlas.layers.userdata import vector
    n = 5000
    g = gpd.GeoDataFrame({"i": np.arange(n)}, geometry=shapely.points(113 + np.arange(n) * 1e-5,
                                                                      np.full(n, 23.0)), crs=4326)
    path = tmp_path / "many.gpkg"
    g.to_file(path, engine="pyogrio")
    monkeypatch.setattr(vector, "BATCH", 1000)
    seen = []
    d = read_vector(path, progress=lambda done, total: seen.append((done, total)) is None)
    assert d.n == n and seen[-1] == (n, n) and len(seen) >= 5
    with pytest.raises(Cancelled, match="cancelled after 2,000 of 5,000"):
        read_vector(path, progress=lambda done, total: done < 2000)


def test_layer_record_registry_and_styles(tmp_path):
    path = tmp_path / "shops.gpkg"
    _gdf().to_file(path, engine="pyogrio")
    reg = UserData()
    layer, data = vector_layer(path, registry=reg)
    assert layer.kind == "user_vector" and layer.source["crs"] == "wgs84"
    assert reg.vector(layer) is data            # loaded once, shared
    assert parse_feature_id(feature_id(layer.id, 3)) == (layer.id, 3)
    cat = classify(data, {**layer.style, "mode": "categorized", "field": "kind"})
    assert cat.labels[:1] == ["a"] and cat.counts[0] == 2 and cat.index.tolist() == [0, 1, 0, 2]
    grad = classify(data, {**layer.style, "mode": "graduated", "field": "v", "classes": 2})
    assert grad.index.tolist() == [0, 1, 1, 0] and len(grad.colors) == 2
    with pytest.raises(InputError, match="no attribute"):
        classify(data, {**layer.style, "mode": "categorized", "field": "nope"})
    with pytest.raises(InputError, match="not a tile basemap"):
        tile_layer({"path": str(path)})
    assert REGISTRY is not reg
