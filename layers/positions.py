"""Where a feature's position comes from, and checks that it was taken over honestly.

Every shipped feature says how its position was obtained (``Feature.method``):

* ``direct`` — the published coordinate of the place itself (an airport reference point, the
  Wikipedia coordinate of a stadium, a railway station from a published station list);
* ``proxy`` — the published coordinate of something standing for it (the metro station under a
  square, the station named after a business district);
* ``area_centroid`` / ``town_centroid`` — the centre of a cited area or town;
* ``estimate`` — no public reference: placed from descriptions, with an honest radius;
* ``survey`` — a field survey accepted into the user's gazetteer.

A referenced point keeps the coordinate as published (``ref_lonlat``) in the CRS of its source
(``ref_crs``); :func:`check_reference` verifies that the stored WGS-84 point is that coordinate
converted exactly once with :mod:`planatlas.layers.crs` (a GCJ-02 value left unconverted, or
converted twice, is off by the local GCJ shift of 300–700 m and is reported).

:func:`gcj_signature` is the test of the issue-12 audit: a point that lies closer to the GCJ-02
transform of an independent WGS-84 anchor than to the anchor itself was, in all likelihood, copied
from a Chinese web map without conversion.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import crs
from .model import METHODS, REF_CRSES, Feature

# the smallest honest radius for each method (metres); an estimate is never better than ±800 m
MIN_PRECISION_M = {
    "direct": 25.0,
    "proxy": 100.0,
    "area_centroid": 300.0,
    "town_centroid": 1500.0,
    "estimate": 800.0,
    "survey": 5.0,
    "placed": 25.0,     # put on the map by the user: no better than the basemap (Hausdorff 25.5 m)
}
# a stored point must equal its converted reference to within this (rounding to 6 decimals)
REF_TOLERANCE_M = 2.0
CONVERSIONS = {
    "wgs84": "none",
    "gcj02": "gcj02→wgs84",
    "bd09": "bd09→gcj02→wgs84",
}
EARTH_RADIUS_M = 6371008.8


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def to_wgs84(lon: float, lat: float, ref_crs: str) -> tuple[float, float]:
    """A published coordinate converted once to WGS-84 (rounded to 6 decimals, ~0.1 m)."""
    if ref_crs not in REF_CRSES:
        raise ValueError(f"unknown reference CRS {ref_crs!r}; expected one of {', '.join(REF_CRSES)}")
    x, y = crs.convert(lon, lat, ref_crs, "wgs84")
    return round(float(np.ravel(x)[0]), 6), round(float(np.ravel(y)[0]), 6)


def feature_point(f: Feature) -> tuple[float, float]:
    """The feature's point, or a representative point of its line/polygon."""
    g = f.geometry if f.geometry.geom_type == "Point" else f.geometry.representative_point()
    return float(g.x), float(g.y)


def distance_to_feature_m(f: Feature, lonlat: tuple[float, float]) -> float:
    """Metres from ``lonlat`` to the feature (0 inside a polygon; nearest vertex/segment otherwise)."""
    from shapely.geometry import Point
    from shapely.ops import nearest_points
    if f.geometry.geom_type == "Point":
        return distance_m(feature_point(f), lonlat)
    p = Point(lonlat)
    if f.geometry.geom_type in ("Polygon", "MultiPolygon") and f.geometry.covers(p):
        return 0.0
    q = nearest_points(f.geometry, p)[0]
    return distance_m((q.x, q.y), lonlat)


def _mostly_latin(text: str) -> bool:
    import re
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return latin >= 5 and latin > han


def check_fields(f: Feature, where: str) -> list[str]:
    """Problems with the position fields of one feature (schema-level; no basemap needed)."""
    out: list[str] = []
    if f.method not in METHODS:
        out.append(f"{where}: method must be one of {', '.join(METHODS)}; got {f.method!r}")
        return out
    floor = MIN_PRECISION_M[f.method]
    if f.precision_m < floor:
        out.append(f"{where}: precision_m {f.precision_m:g} is better than a {f.method} position "
                   f"allows (≥ {floor:g} m)")
    if f.origin == "shipped" and not f.source_zh:
        out.append(f"{where}: source_zh (Chinese source label) is missing")
    if f.origin == "shipped" and f.note and not f.note_zh and _mostly_latin(f.note):
        out.append(f"{where}: the note is in English; note_zh (the Chinese note) is missing")
    if f.ref_crs is not None and f.ref_crs not in REF_CRSES:
        out.append(f"{where}: ref_crs must be one of {', '.join(REF_CRSES)}; got {f.ref_crs!r}")
    if f.method in ("direct", "proxy", "area_centroid", "town_centroid"):
        if not f.ref:
            out.append(f"{where}: a {f.method} position needs a ref (URL or dataset + id)")
        if not f.ref_crs:
            out.append(f"{where}: a {f.method} position needs ref_crs (the CRS its source publishes)")
        elif f.conversion != CONVERSIONS.get(f.ref_crs):
            out.append(f"{where}: conversion must be {CONVERSIONS.get(f.ref_crs)!r} for a "
                       f"{f.ref_crs} reference; got {f.conversion!r}")
    if f.ref_lonlat is not None and not f.ref_crs:
        out.append(f"{where}: ref_lonlat given without ref_crs")
    return out


def check_reference(f: Feature) -> list[str]:
    """A referenced point must be its published coordinate converted exactly once."""
    if f.ref_lonlat is None or f.ref_crs not in REF_CRSES or f.method not in ("direct", "proxy"):
        return []
    if f.geometry.geom_type != "Point":
        return []
    want = to_wgs84(f.ref_lonlat[0], f.ref_lonlat[1], f.ref_crs)
    have = feature_point(f)
    d = distance_m(want, have)
    if d <= REF_TOLERANCE_M:
        return []
    hint = ""
    if f.ref_crs != "wgs84":
        raw = distance_m(tuple(f.ref_lonlat), have)
        twice = to_wgs84(*want, f.ref_crs)
        if raw <= REF_TOLERANCE_M:
            hint = f" (the {f.ref_crs} value was stored unconverted)"
        elif distance_m(twice, have) <= REF_TOLERANCE_M:
            hint = " (converted twice)"
    return [f"{f.id}: point {have[0]:.6f},{have[1]:.6f} is {d:.0f} m from its reference "
            f"{f.ref_lonlat[0]},{f.ref_lonlat[1]} ({f.ref_crs}) converted to WGS-84 "
            f"{want[0]:.6f},{want[1]:.6f}{hint}"]


# ---------------------------------------------------------------------------- anchors
@dataclass(frozen=True)
class Anchor:
    """An independent WGS-84 reference coordinate for one feature (``tests/data/anchors.csv``)."""
    feature: str
    lon: float
    lat: float
    kind: str            # airport | station | landmark | area
    source: str          # citation (URL or dataset + id)
    ref_crs: str         # CRS the source published; lon/lat here are already WGS-84
    held_back: bool      # True: not used to place the feature (an independent check)
    note: str = ""

    @property
    def lonlat(self) -> tuple[float, float]:
        return self.lon, self.lat


ANCHOR_COLUMNS = ("feature", "lon", "lat", "kind", "source", "ref_crs", "published_lon",
                  "published_lat", "held_back", "note")


def load_anchors(path: Path) -> list[Anchor]:
    """Read the anchors table; published coordinates are converted once to WGS-84 here."""
    out: list[Anchor] = []
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(fh)
        missing = set(ANCHOR_COLUMNS) - set(rows.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for i, row in enumerate(rows, start=2):
            try:
                plon, plat = float(row["published_lon"]), float(row["published_lat"])
            except ValueError:
                raise ValueError(f"{path}:{i}: published_lon/published_lat must be numbers") from None
            lon, lat = to_wgs84(plon, plat, row["ref_crs"])
            if row["lon"] or row["lat"]:
                if distance_m((lon, lat), (float(row["lon"]), float(row["lat"]))) > REF_TOLERANCE_M:
                    raise ValueError(f"{path}:{i}: lon/lat do not match the published coordinate "
                                     f"converted from {row['ref_crs']}")
            if row["held_back"] not in ("yes", "no"):
                raise ValueError(f"{path}:{i}: held_back must be yes or no")
            out.append(Anchor(row["feature"], lon, lat, row["kind"], row["source"], row["ref_crs"],
                              row["held_back"] == "yes", row.get("note") or ""))
    return out


def gcj_signature(f: Feature, anchor: Anchor) -> bool:
    """True when the feature is closer to the GCJ-02 transform of the anchor than to the anchor.

    Only meaningful for points: a polygon containing both says nothing.  A feature within 50 m
    of its anchor is never flagged (the two distances then differ by the whole shift anyway).
    """
    if f.geometry.geom_type != "Point":
        return False
    p = feature_point(f)
    d_true = distance_m(p, anchor.lonlat)
    if d_true <= 50:
        return False
    g = crs.wgs84_to_gcj02(anchor.lon, anchor.lat)
    d_gcj = distance_m(p, (float(g[0]), float(g[1])))
    return d_gcj < d_true


def gcj_signature_any(f: Feature, anchors: list[Anchor], radius_m: float = 3000.0) -> list[Anchor]:
    """Anchors (of any feature) within ``radius_m`` whose GCJ transform the point sits on (≤ 60 m)
    while lying ≥ 250 m from the anchor itself — the audit's fingerprint, run over the whole
    gazetteer, not only over the features an anchor belongs to."""
    if f.geometry.geom_type != "Point":
        return []
    p = feature_point(f)
    hits = []
    for a in anchors:
        d_true = distance_m(p, a.lonlat)
        if d_true > radius_m or d_true < 250:
            continue
        g = crs.wgs84_to_gcj02(a.lon, a.lat)
        if distance_m(p, (float(g[0]), float(g[1]))) <= 60:
            hits.append(a)
    return hits
