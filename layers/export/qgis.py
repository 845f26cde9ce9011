"""QGIS styles and a QGIS project for the GeoPackage export (QGIS 3.22 reads both).

* :func:`site_qml` — a rule-based style per category layer: the category's shape (circle,
  diamond, square, triangle as on the map) in its colour; *verified* sites solid with a dark
  rim, *approximate* ones with a faint halo whose radius is the site's precision in metres
  (data-defined, so it scales with the map), *schematic* ones hollow and dashed (areas hatched).
* :func:`basemap_qml` — districts, water and plan-area outline as PlanAtlas draws them.
* :func:`write_qgz` — a ``.qgz`` beside the GeoPackage: every layer styled, grouped by plan
  (one group per plan, its categories filtered from the shared category layers), the basemap
  group underneath, and relations from every site layer to the ``mentions`` and
  ``target_features`` tables and from those to ``targets`` (QGIS shows them in the feature
  form). Paths are relative, so the two files can be moved together.
"""
from __future__ import annotations

import html
import uuid
import zipfile
from pathlib import Path
from typing import Any, Sequence

from planatlas.layers.layer import CATEGORY_SHAPES

__all__ = ["site_qml", "basemap_qml", "write_qgz", "QML_HEAD"]

QML_HEAD = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
_GEOM = {"points": 0, "lines": 1, "polygons": 2}
_SHAPE = {"circle": "circle", "diamond": "diamond", "square": "square", "triangle": "triangle"}


def _rgb(hex_color: str, alpha: int = 255) -> str:
    h = hex_color.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _props(**kv) -> str:
    return "".join(f'<prop k="{k}" v="{html.escape(str(v))}"/>' for k, v in kv.items())


def _dd(name: str, expression: str) -> str:
    """A data-defined property of a symbol layer (QGIS 3 Option map)."""
    return ('<data_defined_properties><Option type="Map"><Option name="name" value="" type="QString"/>'
            f'<Option name="properties" type="Map"><Option name="{name}" type="Map">'
            '<Option name="active" value="true" type="bool"/>'
            f'<Option name="expression" value="{html.escape(expression)}" type="QString"/>'
            '<Option name="type" value="3" type="int"/></Option></Option>'
            '<Option name="type" value="collection" type="QString"/></Option></data_defined_properties>')


def _symbol(kind: str, name: str, layers: list[str]) -> str:
    t = {"points": "marker", "lines": "line", "polygons": "fill"}[kind]
    return (f'<symbol type="{t}" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
            + "".join(layers) + "</symbol>")


def _marker(shape: str, fill: str, outline: str, size: float, *, width=0.4, style="solid",
            extra: str = "", unit: str = "MM") -> str:
    return ('<layer class="SimpleMarker" enabled="1" locked="0" pass="0">'
            + _props(name=_SHAPE.get(shape, "circle"), color=fill, outline_color=outline,
                     outline_style=style, outline_width=width, outline_width_unit="MM", size=size,
                     size_unit=unit, scale_method="diameter", joinstyle="miter")
            + extra + "</layer>")


def _fill(fill: str, outline: str, *, style="solid", width=0.5) -> str:
    return ('<layer class="SimpleFill" enabled="1" locked="0" pass="0">'
            + _props(color=fill, style="solid" if fill else "no", outline_color=outline,
                     outline_style=style, outline_width=width, outline_width_unit="MM",
                     joinstyle="round") + "</layer>")


def _hatch(color: str) -> str:
    line = ('<layer class="SimpleLine" enabled="1" locked="0" pass="0">'
            + _props(line_color=color, line_width=0.3, line_width_unit="MM", line_style="solid")
            + "</layer>")
    return ('<layer class="LinePatternFill" enabled="1" locked="0" pass="0">'
            + _props(angle=45, distance=2.2, distance_unit="MM", line_width=0.3,
                     line_width_unit="MM", color=color)
            + _symbol("lines", "@0@0", [line]) + "</layer>")


def _line(color: str, width: float, style="solid") -> str:
    return ('<layer class="SimpleLine" enabled="1" locked="0" pass="0">'
            + _props(line_color=color, line_width=width, line_width_unit="MM", line_style=style,
                     capstyle="round", joinstyle="round") + "</layer>")


def _labels(field: str, size: float = 9, color: str = "40,40,40,255", placement: str = "") -> str:
    return ('<labeling type="simple"><settings calloutType="simple">'
            f'<text-style fieldName="{html.escape(field)}" isExpression="0" fontSize="{size}" '
            f'fontSizeUnit="Point" fontWeight="50" textColor="{color}" textOpacity="1" '
            'fontFamily="Noto Sans CJK SC" namedStyle="Regular" multilineHeight="1"/>'
            '<text-format wrapChar="" autoWrapLength="12" multilineAlign="0" useMaxLineLengthForAutoWrap="1"/>'
            '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
            'bufferOpacity="0.9" bufferJoinStyle="128" bufferNoFill="1"/>'
            + (placement or '<placement placement="6" dist="1" distUnits="MM" '
                             'predefinedPositionOrder="TR,TL,BR,BL,R,L,TSR,BSR"/>')
            + '<rendering obstacle="1" obstacleType="1" displayAll="0" upsidedownLabels="0" '
              'labelPerPart="0" mergeLines="0" scaleVisibility="0" drawLabels="1" limitNumLabels="0"/>'
              '</settings></labeling>')


def _wrap(kind: str, renderer: str, labeling: str = "") -> str:
    return (QML_HEAD + '<qgis version="3.22.0-Białowieża" styleCategories="Symbology|Labeling" '
            f'labelsEnabled="{1 if labeling else 0}">{renderer}{labeling}'
            '<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode>'
            f'<layerGeometryType>{_GEOM[kind]}</layerGeometryType></qgis>\n')


def site_qml(kind: str, category: str, color: str) -> str:
    """The rule-based QML of one category layer (see the module doc)."""
    shape = CATEGORY_SHAPES.get(category, "circle")
    solid, faint, rim = _rgb(color, 235), _rgb(color, 45), _rgb(color, 160)
    if kind == "points":
        halo = _marker("circle", faint, rim, 0, width=0.2, unit="RenderMetersInMapUnits",
                       extra=_dd("size", '2 * "precision_m"'))
        symbols = [_symbol(kind, "0", [_marker(shape, solid, "40,40,40,255", 3.4, width=0.5)]),
                   _symbol(kind, "1", [halo, _marker(shape, solid, "255,255,255,255", 3.2)]),
                   _symbol(kind, "2", [_marker(shape, "255,255,255,200", solid, 3.2, width=0.5,
                                               style="dash")])]
    elif kind == "lines":
        symbols = [_symbol(kind, "0", [_line("255,255,255,230", 1.6), _line(solid, 1.0)]),
                   _symbol(kind, "1", [_line("255,255,255,230", 1.6), _line(solid, 1.0)]),
                   _symbol(kind, "2", [_line("255,255,255,230", 1.6), _line(solid, 1.0, "dash")])]
    else:
        symbols = [_symbol(kind, "0", [_fill(_rgb(color, 90), solid, width=0.6)]),
                   _symbol(kind, "1", [_fill(_rgb(color, 60), solid)]),
                   _symbol(kind, "2", [_fill(faint, "", style="no"), _hatch(rim),
                                       _fill("", solid, style="dash")])]
    rules = ('<rules key="{root}">'
             '<rule key="{schematic}" symbol="2" label="示意位置 schematic" filter="&quot;schematic&quot; = 1"/>'
             '<rule key="{verified}" symbol="0" label="已核实 verified" '
             'filter="&quot;schematic&quot; = 0 AND &quot;status&quot; = \'verified\'"/>'
             '<rule key="{approx}" symbol="1" label="近似位置（光晕＝精度）approximate (halo = precision)" '
             'filter="ELSE"/></rules>')
    renderer = ('<renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0">'
                + rules + "<symbols>" + "".join(symbols) + "</symbols></renderer-v2>")
    placement = {"lines": '<placement placement="2" placementFlags="10" dist="1" distUnits="MM"/>',
                 "polygons": '<placement placement="1" dist="0" distUnits="MM"/>'}.get(kind, "")
    return _wrap(kind, renderer, _labels("name", placement=placement))


def basemap_qml(table: str) -> str:
    """Styles of the basemap layers (``basemap_districts``, ``basemap_water``, ``basemap_plan_area``)."""
    if table == "basemap_districts":
        sym = _symbol("polygons", "0", [_fill("251,250,246,255", "196,188,174,255", width=0.3)])
        lab = _labels("name", 8, "122,113,99,255", '<placement placement="1" dist="0" distUnits="MM"/>')
        kind = "polygons"
    elif table == "basemap_plan_area":
        sym = _symbol("polygons", "0", [_fill("", "216,162,74,255", style="dash", width=0.7)])
        lab, kind = "", "polygons"
    else:
        sym = _symbol("polygons", "0", [_fill("181,213,230,255", "143,186,211,255", width=0.2)])
        lab, kind = "", "polygons"
    return _wrap(kind, '<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" '
                       f'enableorderby="0"><symbols>{sym}</symbols></renderer-v2>', lab)


# --------------------------------------------------------------------------- project
def _qml_body(qml: str) -> str:
    """The elements inside a QML's <qgis> root (a project's <maplayer> holds the same)."""
    start = qml.index(">", qml.index("<qgis ")) + 1
    return qml[start:qml.rindex("</qgis>")]


def _maplayer(lid: str, name: str, source: str, geometry: str | None, srs: str, qml: str = "") -> str:
    geom = f' geometry="{geometry}"' if geometry else ""
    return (f'<maplayer type="vector"{geom} hasScaleBasedVisibilityFlag="0" '
            f'labelsEnabled="{1 if "<labeling" in qml else 0}">'
            f"<id>{lid}</id><datasource>{html.escape(source)}</datasource>"
            f"<layername>{html.escape(name)}</layername>{srs}"
            '<provider encoding="UTF-8">ogr</provider>' + (_qml_body(qml) if qml else "") + "</maplayer>")


def _srs(wkt: str, authid: str = "") -> str:
    return (f"<spatialrefsys><wkt>{html.escape(wkt)}</wkt>"
            + (f"<authid>{authid}</authid>" if authid else "") + "</spatialrefsys>")


def _merc() -> str:
    from pyproj import CRS
    return _srs(CRS.from_epsg(3857).to_wkt(), "EPSG:3857")


def write_qgz(path, gpkg: Path, layers: Sequence[dict[str, Any]], plans: Sequence[tuple[str, str]],
              srs_wkt: str, extent: tuple[float, float, float, float], title: str) -> Path:
    """Write the QGIS project ``path`` (.qgz) for ``gpkg``.

    ``layers``: ``{"table", "kind" (points/lines/polygons/None), "category" or "basemap" or
    "table", "qml"}`` in drawing order, top first; ``plans``: ``(plan id, name)`` for the
    groups; the sites' layers are repeated per plan with a ``plans LIKE`` filter."""
    rel = f"./{gpkg.name}"
    srs = f"<srs>{_srs(srs_wkt)}</srs>"
    _MERC = _merc()
    geometry = {"points": "Point", "lines": "Line", "polygons": "Polygon", None: None}
    maplayers, tree, rels = [], [], []
    ids = {}
    for rec in layers:                                   # tables (no geometry) once each
        if rec.get("role") == "table":
            lid = f"{rec['table']}_{uuid.uuid4().hex[:8]}"
            ids[rec["table"]] = lid
            maplayers.append(_maplayer(lid, rec["table"], f"{rel}|layername={rec['table']}", None, srs))
    site_ids: list[str] = []
    for pid, pname in plans:
        group = []
        for rec in layers:
            if rec.get("role") != "site":
                continue
            lid = f"{pid}_{rec['table']}_{uuid.uuid4().hex[:8]}"
            site_ids.append(lid)
            src = f"{rel}|layername={rec['table']}|subset=\"plans\" LIKE '%{pid}%'"
            name = f"{pname} · {rec['label']}"
            maplayers.append(_maplayer(lid, name, src, geometry[rec["kind"]], srs, rec["qml"]))
            group.append(f'<layer-tree-layer id="{lid}" name="{html.escape(name)}" '
                         f'source="{html.escape(src)}" providerKey="ogr" checked="Qt::Checked" expanded="0"/>')
        tree.append(f'<layer-tree-group name="{html.escape(pname)}" checked="Qt::Checked" expanded="1">'
                    + "".join(group) + "</layer-tree-group>")
    base = []
    for rec in layers:
        if rec.get("role") == "basemap":
            lid = f"{rec['table']}_{uuid.uuid4().hex[:8]}"
            src = f"{rel}|layername={rec['table']}"
            maplayers.append(_maplayer(lid, rec["label"], src, geometry[rec["kind"]], srs, rec["qml"]))
            base.append(f'<layer-tree-layer id="{lid}" name="{html.escape(rec["label"])}" '
                        f'source="{html.escape(src)}" providerKey="ogr" checked="Qt::Checked" expanded="0"/>')
    tree.append('<layer-tree-group name="底图 Basemap" checked="Qt::Checked" expanded="0">'
                + "".join(base) + "</layer-tree-group>")
    tables = [("mentions", "feature_id", "条款 Clauses"), ("target_features", "feature_id", "目标 Targets")]
    for lid in site_ids:
        for table, field, label in tables:
            if table in ids:
                rels.append(f'<relation id="rel_{lid}_{table}" name="{label}" strength="Association" '
                            f'referencingLayer="{ids[table]}" referencedLayer="{lid}">'
                            f'<fieldRef referencingField="{field}" referencedField="id"/></relation>')
    if "target_features" in ids and "targets" in ids:
        rels.append(f'<relation id="rel_targets" name="目标 Target" strength="Association" '
                    f'referencingLayer="{ids["target_features"]}" referencedLayer="{ids["targets"]}">'
                    '<fieldRef referencingField="target_id" referencedField="id"/></relation>')
    x0, y0, x1, y1 = extent
    qgs = ('<!DOCTYPE qgis PUBLIC \'http://mrcc.com/qgis.dtd\' \'SYSTEM\'>\n'
           f'<qgis projectname="{html.escape(title)}" version="3.22.0-Białowieża">'
           f"<title>{html.escape(title)}</title>"
           f'<projectCrs>{_MERC}</projectCrs>'
           '<layer-tree-group><customproperties/>' + "".join(tree) + "</layer-tree-group>"
           '<mapcanvas name="theMapCanvas"><units>meters</units>'
           f"<extent><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></extent>"
           f'<destinationsrs>{_MERC}</destinationsrs>'
           '</mapcanvas>'
           "<relations>" + "".join(rels) + "</relations>"
           "<projectlayers>" + "".join(maplayers) + "</projectlayers>"
           '<properties><Paths><Absolute type="bool">false</Absolute></Paths>'
           '<SpatialRefSys><ProjectionsEnabled type="int">1</ProjectionsEnabled></SpatialRefSys>'
           '</properties>'
           "</qgis>\n")
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(path.with_suffix(".qgs").name, qgs.encode("utf-8"))
    return path
