"""Positions against cited WGS-84 anchors (tests/data/anchors.csv), and the GCJ-02 fingerprint.

The anchors table holds independent reference coordinates (Wikipedia infobox coordinates,
Baidu-derived metro stations converted once with layers.crs, airport reference points); rows
marked ``held_back = yes`` were NOT used to place the feature they belong to.
"""
from __future__ import annotations

import dataclasses
import json
import statistics
from pathlib import Path

import pytest
from shapely.geometry import Point

from planatlas.layers import crs
from planatlas.layers.gazetteer import GazetteerError, feature_from_geojson, load_features
from planatlas.layers.positions import (MIN_PRECISION_M, Anchor, check_reference, distance_m,
                                        distance_to_feature_m, gcj_signature, gcj_signature_any,
                                        load_anchors, to_wgs84)

ANCHORS = Path(__file__).parent / "data" / "anchors.csv"


@pytest.fixture(scope="module")
def features():
    return {f.id: f for f in load_features()}


@pytest.fixture(scope="module")
def anchors():
    return load_anchors(ANCHORS)


def test_anchor_table_is_cited_and_converted(anchors, features):
    assert len(anchors) >= 20
    for a in anchors:
        assert a.feature in features, a.feature
        assert a.source.startswith(("http", "airportsdata")), a.source
    assert sum(a.held_back for a in anchors) >= 15
    kinds = {a.kind for a in anchors}
    assert {"airport", "station", "landmark"} <= kinds


def test_each_feature_within_its_precision_of_its_anchor(anchors, features):
    checked = [(a, features[a.feature]) for a in anchors]
    misses = [(a.feature, round(distance_to_feature_m(f, a.lonlat)), f.precision_m)
              for a, f in checked if distance_to_feature_m(f, a.lonlat) > f.precision_m]
    share = 1 - len(misses) / len(checked)
    assert share >= 0.9, misses
    assert not misses, misses     # today every checked feature is within its radius


def test_referenced_points_median_error_against_held_back_anchors(anchors, features):
    errors = [distance_to_feature_m(features[a.feature], a.lonlat) for a in anchors
              if a.held_back and features[a.feature].referenced
              and features[a.feature].geometry.geom_type == "Point"]
    assert len(errors) >= 10
    assert statistics.median(errors) <= 150, sorted(round(e) for e in errors)


def test_no_feature_shows_the_gcj02_signature_of_its_anchor(anchors, features):
    flagged = [a.feature for a in anchors if gcj_signature(features[a.feature], a)]
    assert flagged == []


def test_gcj02_fingerprint_over_the_whole_gazetteer(anchors, features):
    """No point of any plan sits on the GCJ-02 transform of any anchor (the audit's sign)."""
    hits = {f.id: [a.feature for a in gcj_signature_any(f, anchors)] for f in features.values()}
    assert {k: v for k, v in hits.items() if v} == {}


def test_signature_detector_catches_gcj_copied_coordinates(anchors, features):
    """Coordinates copied from a GCJ-02 map (a later Wikipedia revision of 广州东站 and the
    Italian page of 天河体育场 are such copies) are flagged; the converted ones are not."""
    east = next(a for a in anchors if a.feature == "gz-guangzhou-east-station")
    copied = dataclasses.replace(features[east.feature], geometry=Point(113.3249, 23.150566))
    assert gcj_signature(copied, east)
    stadium = Anchor("gz-tianhe-sports-center", 113.319328, 23.140647, "landmark", "x", "wgs84", True)
    it_wiki = dataclasses.replace(features[stadium.feature], geometry=Point(113.324661, 23.138031))
    assert gcj_signature(it_wiki, stadium)
    assert not gcj_signature(features[stadium.feature], stadium)
    gx, gy = crs.wgs84_to_gcj02(east.lon, east.lat)
    shifted = dataclasses.replace(features[east.feature], geometry=Point(float(gx), float(gy)))
    assert gcj_signature_any(shifted, anchors)


def test_every_referenced_point_is_its_reference_converted_once(features):
    problems = [p for f in features.values() for p in check_reference(f)]
    assert problems == []
    refs = [f for f in features.values() if f.ref_lonlat and f.geometry.geom_type == "Point"]
    assert len(refs) >= 25
    assert {f.ref_crs for f in refs} >= {"wgs84", "bd09"}


def test_reference_check_names_unconverted_and_double_conversions(features):
    f = next(f for f in features.values() if f.ref_crs == "bd09" and f.ref_lonlat)
    raw = dataclasses.replace(f, geometry=Point(*f.ref_lonlat))
    assert "stored unconverted" in check_reference(raw)[0]
    once = to_wgs84(*f.ref_lonlat, "bd09")
    twice = dataclasses.replace(f, geometry=Point(*to_wgs84(*once, "bd09")))
    assert "converted twice" in check_reference(twice)[0]


def test_every_feature_says_where_its_position_comes_from(features):
    for f in features.values():
        assert f.source and f.source_zh, f.id
        assert f.precision_m >= MIN_PRECISION_M[f.method], f.id
        if f.referenced:
            assert f.ref and f.ref_crs and f.conversion, f.id
    gz_estimates = [f for f in features.values() if f.id.startswith("gz-") and f.method == "estimate"]
    assert all(f.precision_m >= 800 for f in gz_estimates)
    assert sum(f.referenced for f in features.values()) >= 30


def test_loading_rejects_dishonest_position_fields():
    base = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [113.3, 23.1]},
            "properties": {"id": "t", "name": "测试", "categories": ["scenic_area"], "subtype": "x",
                           "plans": ["guangzhou"], "district": "海珠区", "adcode": "440105",
                           "precision_m": 900, "source": "estimate", "source_zh": "估计",
                           "status": "approximate"}}
    assert feature_from_geojson(json.loads(json.dumps(base)), "t").method == "estimate"
    bad = [({"precision_m": 200}, "better than a estimate"),
           ({"method": "direct", "precision_m": 100}, "needs a ref"),
           ({"method": "proxy", "ref": "x", "ref_crs": "gcj02", "conversion": "none", "precision_m": 200},
            "conversion must be"),
           ({"method": "teleport"}, "method must be one of"),
           ({"source_zh": ""}, "source_zh"),
           ({"ref_lonlat": [23.1, 113.3], "ref_crs": "wgs84"}, "swapped")]
    for change, msg in bad:
        obj = json.loads(json.dumps(base))
        obj["properties"].update(change)
        with pytest.raises(GazetteerError, match=msg):
            feature_from_geojson(obj, "t")


def test_distance_is_metres():
    assert distance_m((113.0, 23.0), (113.0, 23.01)) == pytest.approx(1112, abs=2)


def test_airports_are_their_airportsdata_reference_points(features):
    """The airport features cite airportsdata (MIT, WGS-84): the installed package agrees."""
    airportsdata = pytest.importorskip("airportsdata")
    db = airportsdata.load()
    for fid, icao in (("gz-baiyun-airport", "ZGGG"), ("tj-bh-binhai-airport", "ZBTJ")):
        f = features[fid]
        assert icao in f.ref and f.method == "direct"
        a = db[icao]
        assert distance_m((f.geometry.x, f.geometry.y), (a["lon"], a["lat"])) < 50
