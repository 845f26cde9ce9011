"""KML/KMZ placemarks (Google Earth, phone map apps)."""
from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from planatlas.layers.model import CATEGORY_COLORS, CATEGORY_LABELS

from .records import (
    Site, _COORD_DECIMALS, _category_label, _convert, _flat, _site_record, clean_text,
    format_target, representative_point,
)


# --------------------------------------------------------------------------- KML / KMZ

KML_NS = "http://www.opengis.net/kml/2.2"


def _kml_color(hex_color: str, alpha: int) -> str:
    """KML colours are aabbggrr."""
    h = hex_color.lstrip("#")
    return f"{alpha:02x}{h[4:6]}{h[2:4]}{h[0:2]}"


def _kml_coords(coords) -> str:
    return " ".join(f"{x:.{_COORD_DECIMALS}f},{y:.{_COORD_DECIMALS}f}" for x, y, *_ in coords)


def _kml_geometry(parent: ET.Element, geom) -> None:
    gt = geom.geom_type
    if gt == "Point":
        ET.SubElement(ET.SubElement(parent, "Point"), "coordinates").text = _kml_coords(geom.coords)
    elif gt in ("LineString", "LinearRing"):
        ls = ET.SubElement(parent, "LineString")
        ET.SubElement(ls, "tessellate").text = "1"
        ET.SubElement(ls, "coordinates").text = _kml_coords(geom.coords)
    elif gt == "Polygon":
        poly = ET.SubElement(parent, "Polygon")
        ET.SubElement(poly, "tessellate").text = "1"
        ring = ET.SubElement(ET.SubElement(poly, "outerBoundaryIs"), "LinearRing")
        ET.SubElement(ring, "coordinates").text = _kml_coords(geom.exterior.coords)
        for hole in geom.interiors:
            ring = ET.SubElement(ET.SubElement(poly, "innerBoundaryIs"), "LinearRing")
            ET.SubElement(ring, "coordinates").text = _kml_coords(hole.coords)
    else:  # Multi* and GeometryCollection
        for part in geom.geoms:
            _kml_geometry(parent, part)


def _description_html(site: Site) -> str:
    """Balloon HTML for KML; every piece of data is HTML-escaped (then XML-escaped on write)."""
    e = html.escape
    f = site.feature
    parts = [f"<b>{e(f.name)}</b>"]
    parts.append(e(" · ".join(CATEGORY_LABELS.get(c, (c, c))[0] for c in f.categories)
                   + (f" · {f.subtype}" if f.subtype else "")))
    parts.append(e(f"{f.district} · 精度约 {f.precision_m:g} m · {f.status}"))
    if site.citations:
        items = "".join(f"<li>{e(c.label)} {e(c.heading)}: {e(c.before)}<b>{e(c.surface)}</b>"
                        f"{e(c.after)}</li>" for c in site.citations)
        parts.append(f"条款 Clauses:<ul>{items}</ul>")
    if site.targets:
        items = "".join(f"<li>{e(format_target(t))}</li>" for t in site.targets)
        parts.append(f"目标 Targets:<ul>{items}</ul>")
    return "<br/>".join(parts)


def _placemarks(folder: ET.Element, s: Site, crs: str, cat: str, suffix: str) -> None:
    """A point Placemark for the site (area sites at their label point, so GPS apps that read
    points get every site) and, for areas and lines, a second Placemark with the outline."""
    f = s.feature
    pm = ET.SubElement(folder, "Placemark", {"id": clean_text(f.id) + suffix})
    ET.SubElement(pm, "name").text = clean_text(f.name)
    ET.SubElement(pm, "description").text = clean_text(_description_html(s))
    ET.SubElement(pm, "styleUrl").text = f"#cat-{cat}"
    ext = ET.SubElement(pm, "ExtendedData")
    for key, val in _flat(_site_record(s, crs)).items():
        if val is None or key == "name":
            continue
        data = ET.SubElement(ext, "Data", {"name": key})
        ET.SubElement(data, "value").text = clean_text(
            ("true" if val else "false") if isinstance(val, bool) else val)
    geom = _convert(f.geometry, crs)
    if geom.geom_type == "Point":
        _kml_geometry(pm, geom)
        return
    _kml_geometry(pm, _convert(representative_point(f.geometry), crs))
    outline = ET.SubElement(folder, "Placemark", {"id": clean_text(f.id) + suffix + "-outline"})
    ET.SubElement(outline, "name").text = clean_text(f"{f.name}（范围）")
    ET.SubElement(outline, "styleUrl").text = f"#cat-{cat}"
    parts = list(getattr(geom, "geoms", [geom]))
    _kml_geometry(ET.SubElement(outline, "MultiGeometry") if len(parts) > 1 else outline, geom)


def _build_kml(sites: list[Site], crs: str, meta: dict[str, Any], categories: Sequence[str]) -> bytes:
    root = ET.Element("kml", {"xmlns": KML_NS})
    doc = ET.SubElement(root, "Document")
    plan_titles = "；".join(p["title"] for p in meta["plans"])
    ET.SubElement(doc, "name").text = clean_text(f"PlanAtlas — {plan_titles}")
    ET.SubElement(doc, "description").text = clean_text(
        f"Coordinates: {meta['crs_label']}. Generated {meta['generated']} by PlanAtlas.")
    for cat in categories:
        color = CATEGORY_COLORS[cat]
        style = ET.SubElement(doc, "Style", {"id": f"cat-{cat}"})
        icon = ET.SubElement(style, "IconStyle")
        ET.SubElement(icon, "color").text = _kml_color(color, 0xFF)
        ET.SubElement(icon, "scale").text = "1.0"
        line = ET.SubElement(style, "LineStyle")
        ET.SubElement(line, "color").text = _kml_color(color, 0xFF)
        ET.SubElement(line, "width").text = "3"
        poly = ET.SubElement(style, "PolyStyle")
        ET.SubElement(poly, "color").text = _kml_color(color, 0x55)
    folders = {}
    for cat in categories:
        folder = ET.SubElement(doc, "Folder", {"id": f"folder-{cat}"})
        ET.SubElement(folder, "name").text = _category_label(cat)
        folders[cat] = folder
    for s in sites:
        # in every category folder the site belongs to (the first copy has the feature's id)
        for k, cat in enumerate(c for c in s.categories if c in folders):
            _placemarks(folders[cat], s, crs, cat, "" if k == 0 else f"--{cat}")
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


