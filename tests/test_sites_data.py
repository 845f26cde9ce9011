"""Survey test data: features to survey and writers that build survey files from them.

The features are the real gazetteer (``layers.atlas.load_atlas()``) when it has enough located
features; otherwise a small synthetic set of real places (approximate positions) built from
``layers.model.Feature``. Surveys are made *from the features*: each site's WGS-84 position
plus small seeded GPS noise, optionally shifted to simulate a moved site, then converted to the
file's CRS with ``layers.crs``. The helpers are imported by the other ``test_sites*`` modules;
the tests at the bottom check the helpers themselves.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from shapely.geometry import Point, Polygon, box

from planatlas.layers import crs as crsmod
from planatlas.layers.model import Feature
from planatlas.layers.survey import feature_anchor

_SYNTH = [
    # id, name, aliases, categories, plans, district, lon, lat
    ("gz-tianhe-road", "天河路商圈", ["天河路"], ["commercial_district"], ["guangzhou"], "天河区", 113.3290, 23.1375),
    ("gz-beijing-road", "北京路步行街", ["北京路"], ["commercial_district", "night_economy"], ["guangzhou"], "越秀区", 113.2700, 23.1255),
    ("gz-zhujiang-new-town", "珠江新城", ["珠江新城中央商务区"], ["commercial_district"], ["guangzhou"], "天河区", 113.3245, 23.1190),
    ("gz-pati", "珠江琶醍", ["琶醍"], ["night_economy"], ["guangzhou"], "海珠区", 113.3560, 23.1030),
    ("gz-baiyun-airport", "白云国际机场", ["白云机场"], ["logistics_hub"], ["guangzhou"], "白云区", 113.2990, 23.3920),
    ("gz-chimelong", "长隆旅游度假区", ["长隆"], ["scenic_area"], ["guangzhou"], "番禺区", 113.3290, 23.0050),
    ("gz-shangxiajiu", "上下九步行街", ["上下九"], ["commercial_district"], ["guangzhou"], "荔湾区", 113.2480, 23.1200),
    ("gz-huacheng-square", "花城广场", [], ["scenic_area"], ["guangzhou"], "天河区", 113.3260, 23.1160),
    ("bh-binhai-port", "天津港东疆港区", ["东疆港区"], ["logistics_hub"], ["binhai"], "滨海新区", 117.7800, 39.0100),
    ("bh-yujiapu", "于家堡金融区", ["于家堡"], ["commercial_district"], ["binhai"], "滨海新区", 117.6990, 39.0000),
    ("zs-sunwen-road", "孙文西路步行街", ["孙文步行街"], ["commercial_district"], ["zhongshan"], "中山市", 113.3790, 22.5220),
    ("hm-diehu", "叠石桥家纺市场", ["叠石桥"], ["commercial_district"], ["haimen"], "海门区", 121.1560, 31.9760),
    ("xq-yangliuqing", "杨柳青古镇", ["杨柳青"], ["scenic_area"], ["xiqing"], "西青区", 117.0140, 39.1380),
    ("xq-zhangjiawo", "张家窝镇夜市", [], ["night_economy"], ["xiqing"], "西青区", 117.1000, 39.0500),
]


def _synthetic() -> list[Feature]:
    out = []
    for fid, name, aliases, cats, plans, district, lon, lat in _SYNTH:
        out.append(Feature(id=fid, name=name, aliases=list(aliases), categories=list(cats),
                           subtype="test", tier=None, plans=list(plans), district=district,
                           adcode="000000", geometry=Point(lon, lat), precision_m=300.0,
                           source="synthetic test data", status="approximate"))
    # polygons: a park (≈ 1.2 km × 0.8 km) and a port area
    out.append(Feature(id="gz-yuexiu-park", name="越秀公园", aliases=["越秀山"], categories=["scenic_area"],
                       subtype="park", tier=None, plans=["guangzhou"], district="越秀区", adcode="440104",
                       geometry=box(113.2600, 23.1360, 113.2720, 23.1440), precision_m=100.0,
                       source="synthetic test data", status="approximate"))
    out.append(Feature(id="gz-nansha-port", name="南沙港区", aliases=["南沙港"], categories=["logistics_hub"],
                       subtype="port", tier=None, plans=["guangzhou"], district="南沙区", adcode="440115",
                       geometry=Polygon([(113.60, 22.70), (113.66, 22.70), (113.66, 22.76), (113.60, 22.74)]),
                       precision_m=500.0, source="synthetic test data", status="approximate"))
    return out


def survey_features(min_count: int = 12) -> list[Feature]:
    """Real atlas features in mainland China if there are enough, else the synthetic set."""
    try:
        from planatlas.layers.atlas import load_atlas

        feats = [f for f in load_atlas().features.values()
                 if f.geometry is not None and not f.geometry.is_empty
                 and 73 < feature_anchor(f)[0] < 135 and 18 < feature_anchor(f)[1] < 54]
    except Exception:  # noqa: BLE001 - atlas not available yet: synthetic data
        feats = []
    if len(feats) >= min_count:
        return feats
    return _synthetic()


def point_features(features: list[Feature]) -> list[Feature]:
    return [f for f in features if f.geometry.geom_type == "Point"]


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """Move a WGS-84 position by metres east/north (small offsets)."""
    dlat = north_m / 111_320.0
    dlon = east_m / (111_320.0 * math.cos(math.radians(lat)))
    return lon + dlon, lat + dlat


def survey_points(features: list[Feature], *, crs: str = "wgs84", noise_m: float = 15.0,
                  moved: dict[str, float] | None = None, seed: int = 7):
    """(feature, lon, lat) in ``crs``: each anchor with GPS noise; ``moved`` shifts sites east."""
    rng = np.random.default_rng(seed)
    out = []
    for f in features:
        lon, lat = feature_anchor(f)
        e, n = rng.normal(0.0, noise_m, 2)
        e += (moved or {}).get(f.id, 0.0)
        lon, lat = offset(lon, lat, e, n)
        x, y = crsmod.convert(lon, lat, "wgs84", crs)
        out.append((f, float(x), float(y)))
    return out


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


# ----------------------------------------------------------------------------- helper checks

def test_survey_features_are_usable():
    feats = survey_features()
    assert len(feats) >= 12
    assert len({f.id for f in feats}) == len(feats)
    for f in feats:
        lon, lat = feature_anchor(f)
        assert 73 < lon < 135 and 18 < lat < 54, f.id


def test_offset_moves_by_the_requested_distance():
    from pyproj import Geod

    lon, lat = offset(113.3, 23.1, 300.0, 400.0)
    d = Geod(ellps="WGS84").inv(113.3, 23.1, lon, lat)[2]
    assert abs(d - 500.0) < 2.0
