"""The curated gazetteer: ``geodata/features/*.geojson`` read into :class:`Feature` records.

Loading is strict: a malformed file or feature raises :class:`GazetteerError` naming the file,
the feature and the field.  :func:`validate` checks the content against the plans and the basemap
(names found in the texts, evidence quotes verbatim, every feature inside the district it claims).
"""
from __future__ import annotations

from planatlas.layers.errors import InputError

import json
import math
from pathlib import Path

from shapely.geometry import shape

from .model import CATEGORIES, STATUSES, Feature
from .positions import check_fields, check_reference

REQUIRED = ("id", "name", "categories", "subtype", "plans", "district", "adcode",
            "precision_m", "source", "status")
CHINA_BOX = (73.0, 3.0, 136.0, 54.0)


class GazetteerError(InputError):
    pass


def features_dir() -> Path:
    here = Path(__file__).resolve().parent.parent / "geodata" / "features"
    if here.is_dir():
        return here
    from importlib.resources import files
    return Path(str(files("planatlas.geodata") / "features"))


def check_lonlat(lon: float, lat: float, where: str) -> None:
    """Raise a clear error for impossible or swapped coordinates."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GazetteerError(f"{where}: coordinates are not finite numbers ({lon}, {lat})")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        if -90 <= lon <= 90 and -180 <= lat <= 180:
            raise GazetteerError(f"{where}: ({lon}, {lat}) looks like swapped lat/lon (GeoJSON is lon, lat)")
        raise GazetteerError(f"{where}: coordinates out of range ({lon}, {lat})")
    minx, miny, maxx, maxy = CHINA_BOX
    if not (minx <= lon <= maxx and miny <= lat <= maxy):
        if minx <= lat <= maxx and miny <= lon <= maxy:
            raise GazetteerError(f"{where}: ({lon}, {lat}) looks like swapped lat/lon (GeoJSON is lon, lat)")
        raise GazetteerError(f"{where}: ({lon}, {lat}) is outside China")


def _coords(geom):
    if geom.geom_type == "Point":
        yield geom.x, geom.y
    elif hasattr(geom, "geoms"):
        for g in geom.geoms:
            yield from _coords(g)
    elif geom.geom_type == "Polygon":
        yield from geom.exterior.coords
        for ring in geom.interiors:
            yield from ring.coords
    else:
        yield from geom.coords


def feature_from_geojson(obj: dict, where: str, origin: str = "shipped") -> Feature:
    if not isinstance(obj, dict) or obj.get("type") != "Feature":
        raise GazetteerError(f"{where}: not a GeoJSON Feature")
    props = obj.get("properties") or {}
    missing = [k for k in REQUIRED if props.get(k) in (None, "")]
    if missing:
        raise GazetteerError(f"{where}: missing {', '.join(missing)}")
    fid = str(props["id"])
    where = f"{where} ({fid})"
    cats = props["categories"]
    if not isinstance(cats, list) or not cats or any(c not in CATEGORIES for c in cats):
        raise GazetteerError(f"{where}: categories must be a non-empty list of {', '.join(CATEGORIES)}; got {cats!r}")
    if props["status"] not in STATUSES:
        raise GazetteerError(f"{where}: status must be one of {STATUSES}; got {props['status']!r}")
    try:
        precision = float(props["precision_m"])
    except (TypeError, ValueError):
        raise GazetteerError(f"{where}: precision_m must be a number") from None
    if not precision > 0:
        raise GazetteerError(f"{where}: precision_m must be positive")
    try:
        geom = shape(obj["geometry"])
    except Exception as exc:  # shapely raises several types for bad geometry
        raise GazetteerError(f"{where}: invalid geometry: {exc}") from None
    if geom.is_empty:
        raise GazetteerError(f"{where}: empty geometry")
    for lon, lat in _coords(geom):
        check_lonlat(lon, lat, where)
    if not geom.is_valid:
        raise GazetteerError(f"{where}: invalid {geom.geom_type} (self-intersecting?)")
    ref_lonlat = props.get("ref_lonlat")
    if ref_lonlat is not None:
        if (not isinstance(ref_lonlat, list) or len(ref_lonlat) != 2
                or not all(isinstance(v, (int, float)) for v in ref_lonlat)):
            raise GazetteerError(f"{where}: ref_lonlat must be [lon, lat] as published; got {ref_lonlat!r}")
        check_lonlat(float(ref_lonlat[0]), float(ref_lonlat[1]), f"{where} ref_lonlat")
        ref_lonlat = (float(ref_lonlat[0]), float(ref_lonlat[1]))
    feature = Feature(
        id=fid, name=str(props["name"]), aliases=[str(a) for a in props.get("aliases") or []],
        categories=list(cats), subtype=str(props["subtype"]), tier=props.get("tier"),
        plans=list(props["plans"]), district=str(props["district"]), adcode=str(props["adcode"]),
        geometry=geom, precision_m=precision, source=str(props["source"]), status=props["status"],
        schematic=bool(props.get("schematic", False)), evidence=dict(props.get("evidence") or {}),
        note=props.get("note"), note_zh=props.get("note_zh") or None, other_names=[str(a) for a in props.get("other_names") or []],
        indicators=[str(a) for a in props.get("indicators") or []],
        origin=origin, source_zh=str(props.get("source_zh") or ""),
        method=str(props.get("method") or "estimate"), ref=props.get("ref"),
        ref_crs=props.get("ref_crs"), ref_lonlat=ref_lonlat, conversion=props.get("conversion"),
        offshore=props.get("offshore"))
    problems = check_fields(feature, where)
    if problems:
        raise GazetteerError(problems[0])
    return feature


def load_file(path: Path, origin: str = "shipped") -> list[Feature]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise GazetteerError(f"{path}: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise GazetteerError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise GazetteerError(f"{path}: not a GeoJSON FeatureCollection")
    return [feature_from_geojson(f, f"{path.name}#{i}", origin) for i, f in enumerate(data.get("features", []))]


def load_features(directory: Path | None = None) -> list[Feature]:
    directory = directory or features_dir()
    out: list[Feature] = []
    seen: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.geojson")):
        for f in load_file(path):
            if f.id in seen:
                raise GazetteerError(f"{path.name}: duplicate feature id {f.id!r} (also in {seen[f.id]})")
            seen[f.id] = path.name
            out.append(f)
    return out


def load_excluded(directory: Path | None = None) -> list[dict]:
    """Place-like mentions deliberately not made features, with the reason (``*.excluded.json``)."""
    directory = directory or features_dir()
    out: list[dict] = []
    for path in sorted(Path(directory).glob("*.excluded.json")):
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise GazetteerError(f"{path}: malformed JSON at line {exc.lineno}: {exc.msg}") from None
        for item in items:
            if not {"plan", "surface", "reason"} <= set(item):
                raise GazetteerError(f"{path}: entry {item!r} needs plan, surface and reason")
            out.append(item)
    return out


def validate(features: list[Feature], plans: dict, basemap=None) -> list[str]:
    """Problems with the gazetteer as human-readable strings (empty list = all good)."""
    from .text import squeeze

    problems: list[str] = []
    texts = {}
    for pid, plan in plans.items():
        body = "\n".join(c.text + "\n" + "\n".join(c.notes) for c in plan.clauses)
        texts[pid] = squeeze(body)
    every = "\n".join(texts.values())
    for f in features:
        for name in f.names:
            if squeeze(name) not in every:
                problems.append(f"{f.id}: name/alias {name!r} not found in any plan text")
        for pid in f.plans:
            if pid not in plans:
                problems.append(f"{f.id}: unknown plan {pid!r}")
            elif not any(squeeze(n) in texts[pid] for n in f.names):
                problems.append(f"{f.id}: claims plan {pid!r} but none of its names occurs there")
        for cat in f.categories:
            quote = f.evidence.get(cat)
            if not quote:
                problems.append(f"{f.id}: no evidence quote for category {cat}")
            elif squeeze(quote) not in every:
                problems.append(f"{f.id}: evidence for {cat} not found verbatim: {quote[:30]!r}")
        problems.extend(check_reference(f))
        if basemap is not None:
            problems.extend(check_containment(f, basemap))
    return problems


# ---------------------------------------------------------------- whole-shape checks
# A vertex may lie this far outside the district it claims (river borders drawn mid-channel,
# 20 m boundary simplification, hand-drawn outlines that follow a bank).
DISTRICT_TOLERANCE_M = 300.0
# plausible area per subtype, km² (min, max); others get DEFAULT_AREA_KM2
AREA_BOUNDS_KM2 = {
    "商圈": (0.3, 25.0),            # a 商圈 is drawn to its commercial core
    "商务区": (0.3, 25.0), "商务商业区": (0.3, 25.0), "商业集聚区": (0.1, 10.0),
    "功能区": (0.5, 40.0), "新城片区": (20.0, 40.0),   # 中新天津生态城: ~30 km² planned area
    "新城区": (5.0, 150.0), "城市中央活力区": (5.0, 100.0),
    "物流枢纽": (0.5, 60.0), "港区": (1.0, 200.0), "港口": (10.0, 250.0),
    "综合保税区/港区": (1.0, 80.0),
    "生态公园带": (600.0, 800.0),    # 绿色生态屏障: 736 km² officially
    "湿地公园": (1.0, 30.0), "文化公园": (1.0, 40.0), "文化公园板块": (0.5, 20.0),
    "历史文化片区": (0.5, 15.0),
}
DEFAULT_AREA_KM2 = (0.01, 100.0)
# a polygon is "mostly at sea" above this share of basemap sea (kind == sea)
SEA_SHARE_MAX = 0.5


def area_km2(geom) -> float:
    """Area in km² in the local CGCS2000 3° Gauss–Krüger zone."""
    import numpy as np
    import shapely

    from .crs import to_gk3

    def fwd(xy):
        x, y, _ = to_gk3(xy[:, 0], xy[:, 1], zone=zone)
        return np.column_stack([x, y])

    from .crs import gk3_zone
    zone = gk3_zone(geom.centroid.x)
    return shapely.transform(geom, fwd).area / 1e6


def _sea(basemap):
    import shapely
    cached = getattr(basemap, "_planatlas_sea", None)
    if cached is None:
        w = basemap.water
        polys = w[(w["kind"] == "sea") & w.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
        cached = shapely.union_all(polys.geometry.values)
        shapely.prepare(cached)
        try:
            basemap._planatlas_sea = cached
        except AttributeError:
            pass
    return cached


def check_containment(f: Feature, basemap) -> list[str]:
    """Every vertex inside the claimed district (± DISTRICT_TOLERANCE_M); area bounds per
    subtype; polygons not mostly at sea unless ``offshore`` says why."""
    import shapely

    from .positions import distance_m

    try:
        area = basemap.district(f.adcode)
    except KeyError:
        return [f"{f.id}: unknown district adcode {f.adcode} ({f.district})"]
    out: list[str] = []
    tol_deg = DISTRICT_TOLERANCE_M / 111_000.0
    near = area.buffer(tol_deg * 1.5)
    shapely.prepare(near)
    worst, where = 0.0, None
    for lon, lat in _coords(f.geometry):
        if near.contains(shapely.Point(lon, lat)):
            continue
        nearest = shapely.ops.nearest_points(area, shapely.Point(lon, lat))[0]
        d = distance_m((lon, lat), (nearest.x, nearest.y))
        if d > worst:
            worst, where = d, (lon, lat)
    if worst > DISTRICT_TOLERANCE_M:
        out.append(f"{f.id}: vertex {where[0]:.5f},{where[1]:.5f} is {worst:.0f} m outside "
                   f"{f.district} ({f.adcode}); tolerance {DISTRICT_TOLERANCE_M:g} m")
    if f.geometry.geom_type in ("Polygon", "MultiPolygon"):
        km2 = area_km2(f.geometry)
        lo, hi = AREA_BOUNDS_KM2.get(f.subtype, DEFAULT_AREA_KM2)
        if not lo <= km2 <= hi:
            out.append(f"{f.id}: area {km2:.1f} km² is implausible for a {f.subtype} "
                       f"(expected {lo:g}–{hi:g} km²)")
        share = f.geometry.intersection(_sea(basemap)).area / f.geometry.area
        if share > SEA_SHARE_MAX and not f.offshore:
            out.append(f"{f.id}: {share:.0%} of the polygon lies on basemap sea; redraw it on land "
                       f"or say why in 'offshore' (port, reclaimed land the shoreline predates)")
    return out
