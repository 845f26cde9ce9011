"""Coordinate conversions (layers.crs) against published reference values."""
from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from planatlas.layers import crs


def metres(lon1, lat1, lon2, lat2) -> float:
    """Haversine distance in metres (sphere of radius 6371008.8 m)."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


# Test vectors of googollee/eviltransform (python/test.py, go/transform_test.go, php tests:
# "shanghai", "shenzhen", "beijing"), given there as (wgsLat, wgsLng, gcjLat, gcjLng).
EVILTRANSFORM_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]
# Results printed in wandergis/coordtransform test/app.js for input (116.404, 39.915) (lng, lat);
# the same numbers are asserted by the coordtransform ports (e.g. hutool's CoordinateUtilTest).
# eviltransform's BD-09 vectors are not used: they come from Baidu's service and differ from
# the public BD-09 formula (and from eviltransform's own bd2wgs) by 10–40 m.
COORDTRANSFORM_IN = (116.404, 39.915)
COORDTRANSFORM = {
    "wgs84_to_gcj02": (116.41024449916938, 39.91640428150164),
    "gcj02_to_bd09": (116.41036949371029, 39.92133699351021),
    "bd09_to_gcj02": (116.39762729119315, 39.90865673957631),
    # coordtransform's gcj02->wgs84 is the one-step approximation (error of a few metres at
    # most); it must still agree with our exact inverse to well within 1 m here.
    "gcj02_to_wgs84": (116.39775550083061, 39.91359571849836),
}


@pytest.mark.parametrize("wlat,wlon,glat,glon", EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(wlat, wlon, glat, glon):
    lon, lat = crs.wgs84_to_gcj02(wlon, wlat)
    assert metres(lon, lat, glon, glat) < 1.0
    # and the exact inverse gets back to the published WGS-84 point
    lon, lat = crs.gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat) < 0.1


@pytest.mark.parametrize("func", sorted(COORDTRANSFORM))
def test_matches_coordtransform(func):
    lon, lat = getattr(crs, func)(*COORDTRANSFORM_IN)
    elon, elat = COORDTRANSFORM[func]
    assert metres(lon, lat, elon, elat) < 1.0


def test_gcj_offset_size_and_direction_in_plan_areas():
    # the obfuscation moves points by a few hundred metres; in these areas east-ish
    for lon, lat in [(113.3245, 23.1064), (117.2, 39.13), (117.7, 39.0), (121.18, 31.87),
                     (113.38, 22.52)]:
        glon, glat = crs.wgs84_to_gcj02(lon, lat)
        d = metres(lon, lat, glon, glat)
        assert 200 < d < 800, (lon, lat, d)
        assert glon > lon


def test_round_trips_sub_decimetre_on_a_grid():
    lon, lat = np.meshgrid(np.linspace(73.0, 135.0, 63), np.linspace(18.0, 53.0, 36))
    g = crs.wgs84_to_gcj02(lon, lat)
    w = crs.gcj02_to_wgs84(*g)
    err = np.hypot((w[0] - lon) * 111320 * np.cos(np.radians(lat)), (w[1] - lat) * 110574)
    assert err.max() < 0.1
    b = crs.wgs84_to_bd09(lon, lat)
    w2 = crs.bd09_to_wgs84(*b)
    err2 = np.hypot((w2[0] - lon) * 111320 * np.cos(np.radians(lat)), (w2[1] - lat) * 110574)
    assert err2.max() < 0.1
    g2 = crs.bd09_to_gcj02(*crs.gcj02_to_bd09(*g))
    assert np.abs(g2[0] - g[0]).max() < 1e-8 and np.abs(g2[1] - g[1]).max() < 1e-8


@pytest.mark.parametrize("lon,lat", [(2.3522, 48.8566), (-74.0, 40.7), (139.69, 35.69),
                                     (100.0, 60.0), (130.0, 0.5)])
def test_out_of_china_passthrough(lon, lat):
    for fn in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, crs.gcj02_to_bd09, crs.bd09_to_gcj02,
               crs.wgs84_to_bd09, crs.bd09_to_wgs84):
        rlon, rlat = fn(lon, lat)
        assert (float(rlon), float(rlat)) == (lon, lat), fn.__name__
    assert bool(crs.out_of_china(lon, lat))
    assert not bool(crs.out_of_china(116.4, 39.9))


def test_vector_input_matches_scalar_and_keeps_shape():
    lons = np.array([[113.3245, 2.35], [117.78, 121.17]])
    lats = np.array([[23.1064, 48.85], [39.01, 31.89]])
    glon, glat = crs.wgs84_to_gcj02(lons, lats)
    assert glon.shape == (2, 2) and glat.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            s = crs.wgs84_to_gcj02(lons[i, j], lats[i, j])
            assert glon[i, j] == s[0] and glat[i, j] == s[1]
    assert (glon[0, 1], glat[0, 1]) == (2.35, 48.85)          # Paris untouched
    # lists work too, and a point's result does not depend on its neighbours
    a = crs.gcj02_to_wgs84([113.33, 117.79], [23.10, 39.01])
    b = crs.gcj02_to_wgs84([113.33], [23.10])
    assert a[0][0] == b[0][0] and a[1][0] == b[1][0]


def test_scalar_in_scalar_out():
    lon, lat = crs.wgs84_to_gcj02(113.3245, 23.1064)
    assert np.ndim(lon) == 0 and np.ndim(lat) == 0
    assert isinstance(float(lon), float)


def test_nan_and_empty_input():
    lon, lat = crs.gcj02_to_wgs84([np.nan, 113.3], [23.1, 23.1])
    assert np.isnan(lon[0]) and np.isfinite(lon[1])
    lon, lat = crs.wgs84_to_gcj02([], [])
    assert lon.size == 0 and lat.size == 0


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match="incompatible shapes"):
        crs.wgs84_to_gcj02([1.0, 2.0, 3.0], [1.0, 2.0])


@pytest.mark.parametrize("src", crs.CRS_NAMES)
@pytest.mark.parametrize("dst", crs.CRS_NAMES)
def test_convert_all_pairs_round_trip(src, dst):
    lons = np.array([113.3245, 117.78, 121.17, 2.35])
    lats = np.array([23.1064, 39.01, 31.89, 48.85])
    x, y = crs.convert(lons, lats, src, dst)
    assert isinstance(x, np.ndarray) and x.shape == lons.shape
    bx, by = crs.convert(x, y, dst, src)
    err = np.hypot((bx - lons) * 111320 * np.cos(np.radians(lats)), (by - lats) * 110574)
    assert err.max() < 0.1


def test_convert_consistent_with_direct_functions():
    x, y = crs.convert(116.404, 39.915, "bd09", "wgs84")
    ex, ey = crs.bd09_to_wgs84(116.404, 39.915)
    assert abs(x - ex) < 1e-12 and abs(y - ey) < 1e-12
    # CGCS2000 is WGS-84 to within centimetres at map scale
    x, y = crs.convert([117.7, 113.3], [39.0, 23.1], "wgs84", "cgcs2000")
    assert np.allclose(x, [117.7, 113.3], atol=1e-6) and np.allclose(y, [39.0, 23.1], atol=1e-6)
    # aliases
    x2, y2 = crs.convert(116.404, 39.915, "BD-09", "EPSG:4326")
    assert x2 == ex and y2 == ey


def test_convert_unknown_crs_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown target coordinate system 'mercator'"):
        crs.convert(1, 2, "wgs84", "mercator")
    with pytest.raises(ValueError, match="source"):
        crs.convert(1, 2, "nad27", "wgs84")


@pytest.mark.parametrize("lon,zone,epsg", [
    (117.70, 39, 4527),    # 天津市滨海新区
    (117.02, 39, 4527),    # 天津市西青区
    (121.20, 40, 4528),    # 南通市海门区
    (113.39, 38, 4526),    # 中山市
    (113.30, 38, 4526),    # 广州市
])
def test_gk3_zones_for_plan_areas(lon, zone, epsg):
    assert crs.gk3_zone(lon) == zone
    assert crs.gk3_epsg(lon) == epsg
    from pyproj import CRS
    assert CRS.from_epsg(epsg).name == f"CGCS2000 / 3-degree Gauss-Kruger zone {zone}"


def test_gk3_range_and_vector():
    assert crs.gk3_zone(75.0) == 25 and crs.gk3_epsg(75.0) == 4513
    assert crs.gk3_zone(135.0) == 45 and crs.gk3_epsg(135.0) == 4533
    assert list(crs.gk3_zone([113.3, 117.7, 121.2])) == [38, 39, 40]
    with pytest.raises(ValueError, match="outside the CGCS2000 3-degree zones"):
        crs.gk3_zone(2.35)


def test_to_gk3_metres_and_zone_prefix():
    x, y, epsg = crs.to_gk3(117.0, 39.0)
    assert epsg == 4527
    assert abs(x - 39_500_000.0) < 0.01         # on the central meridian: false easting
    assert 4_300_000 < y < 4_330_000
    # one degree of latitude along the meridian ~ 111 km
    xs, ys, _ = crs.to_gk3([117.0, 117.0], [39.0, 40.0])
    assert 110_900 < ys[1] - ys[0] < 111_100
    # inputs in GCJ-02 are converted first
    gx, gy = crs.wgs84_to_gcj02(117.0, 39.0)
    x2, y2, _ = crs.to_gk3(gx, gy, src="gcj02")
    assert abs(x2 - x) < 0.1 and abs(y2 - y) < 0.1


def test_convert_geometry_all_types():
    poly = Polygon([(113.3, 23.1), (113.35, 23.1), (113.35, 23.15), (113.3, 23.1)])
    line = LineString([(117.0, 39.0), (117.5, 39.1)])
    for geom in (poly, line, Point(121.17, 31.89), shapely.MultiPolygon([poly])):
        g = crs.convert_geometry(geom, "wgs84", "gcj02")
        assert g.geom_type == geom.geom_type
        a = np.asarray(shapely.get_coordinates(geom))
        b = np.asarray(shapely.get_coordinates(g))
        ex, ey = crs.wgs84_to_gcj02(a[:, 0], a[:, 1])
        assert np.allclose(b[:, 0], ex, atol=1e-12) and np.allclose(b[:, 1], ey, atol=1e-12)
        back = crs.convert_geometry(g, "gcj02", "wgs84")
        assert np.allclose(shapely.get_coordinates(back), a, atol=1e-8)
    assert crs.convert_geometry(poly, "wgs84", "wgs84") is poly
