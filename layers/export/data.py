"""Data exports: site lists and geodata for GIS tools, spreadsheets and phones.

``export_data(atlas, plans, categories, fmt, crs, out)`` writes the features of the chosen
plans (optionally restricted to some categories) as

* ``geojson`` – one FeatureCollection (RFC 7946 layout; coordinates in the chosen system),
* ``gpkg``    – a GeoPackage 1.3 (readable by QGIS 3.22) with one layer per category and
  geometry kind, a ``mentions`` and a ``targets`` table, and a QGIS ``layer_styles`` table so
  that QGIS opens every layer coloured by category and labelled,
* ``kml``/``kmz`` – placemarks in one folder per category, real geometry plus a pin,
* ``gpx``     – waypoints (non-point features at a representative point), extra fields as
  GPX extensions,
* ``csv``     – UTF-8 with BOM so that Excel opens Chinese text,
* ``xlsx``    – sheets ``sites``, ``citations``, ``targets`` and ``about``.

Coordinates are converted with :mod:`layers.crs` (``wgs84``, ``gcj02``, ``bd09``,
``cgcs2000``); every file names the system it uses. Every write is atomic: the file is built
under a temporary name in the destination folder and moved into place with ``os.replace``, so
a failed export leaves any existing file untouched and no partial file behind.
"""
from __future__ import annotations

import csv
import datetime as _dt
import html
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from planatlas.layers import crs as _crs
from planatlas.layers.model import CATEGORIES, CATEGORY_COLORS, CATEGORY_LABELS, Clause, Feature, Target

__all__ = [
    "FORMATS", "CRS_CHOICES", "CRS_LABELS", "CATEGORY_COLORS", "ExportError", "Citation", "Site",
    "export_data", "select_sites", "selection", "resolve_plans", "resolve_categories", "atomic_path",
    "format_target", "citation_label",
]

FORMATS = ("geojson", "gpkg", "kml", "kmz", "gpx", "csv", "xlsx")
CRS_CHOICES = ("wgs84", "gcj02", "bd09", "cgcs2000")
CRS_LABELS = {
    "wgs84": "WGS-84 (EPSG:4326)",
    "gcj02": "GCJ-02 (国测局坐标 / Amap, Tencent)",
    "bd09": "BD-09 (百度坐标 / Baidu)",
    "cgcs2000": "CGCS2000 (EPSG:4490)",
}
# One colour per category, shared by every export (HTML map, GeoPackage styles, KML); the same
# values as the desktop painter's defaults (desktop.render.CATEGORY_SYMBOLS), so that a map
# image, the HTML page and QGIS show a category in the same colour.
_EXTENSIONS = {"geojson": (".geojson", ".json"), "gpkg": (".gpkg",), "kml": (".kml",),
               "kmz": (".kmz",), "gpx": (".gpx",), "csv": (".csv",), "xlsx": (".xlsx",)}
_COORD_DECIMALS = 7          # ~1 cm; the curated precision is tens of metres anyway
_SNIPPET_CONTEXT = 40        # characters either side of a mention in snippets


class ExportError(ValueError):
    """Bad export request (unknown plan/category/format, nothing to export, bad path)."""


# --------------------------------------------------------------------------- selection

@dataclass
class Citation:
    """One place where a clause names a feature."""
    plan: str
    clause: str                  # clause id "guangzhou:二.(二).5"
    path: str                    # "二.(二).5"
    number: str                  # as printed "5."
    heading: str
    line: int
    surface: str
    before: str                  # snippet text before the mention (with leading "…")
    after: str                   # snippet text after the mention (with trailing "…")

    @property
    def label(self) -> str:
        return f"{self.plan} {self.path} L{self.line}"

    @property
    def snippet(self) -> str:
        return f"{self.before}{self.surface}{self.after}"


@dataclass
class Site:
    """A feature as exported: its selected plans/categories, citations and targets."""
    feature: Feature
    categories: list[str]        # the feature's categories that are selected, CATEGORIES order
    plans: list[str]             # the feature's plans that are selected, in selection order
    citations: list[Citation] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    @property
    def primary_category(self) -> str:
        return self.categories[0]


def _split(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def resolve_plans(atlas, plans: str | Iterable[str] | None) -> list[str]:
    """Validate plan ids (a list or ``"a,b"``); ``None``/empty means every plan of the atlas."""
    known = list(atlas.plans)
    wanted = _split(plans)
    if not wanted:
        if not known:
            raise ExportError("the atlas has no plans to export")
        return known
    unknown = [p for p in wanted if p not in atlas.plans]
    if unknown:
        raise ExportError(f"unknown plan {', '.join(map(repr, unknown))} in --plan; "
                          f"known plans: {', '.join(known) or '(none)'}")
    return wanted


def resolve_categories(categories: str | Iterable[str] | None) -> list[str]:
    """Validate category ids; ``None``/empty means all of :data:`CATEGORIES` (in that order)."""
    wanted = _split(categories)
    if not wanted:
        return list(CATEGORIES)
    unknown = [c for c in wanted if c not in CATEGORIES]
    if unknown:
        raise ExportError(f"unknown category {', '.join(map(repr, unknown))} in --category; "
                          f"known categories: {', '.join(CATEGORIES)}")
    return [c for c in CATEGORIES if c in wanted]


def citation_label(plan: str, clause_id: str, line: int) -> str:
    """``"guangzhou 二.(二).5 L77"`` for clause ``guangzhou:二.(二).5`` at line 77."""
    path = clause_id.split(":", 1)[1] if ":" in clause_id else clause_id
    return f"{plan} {path} L{line}"


def _snippet(text: str, start: int, end: int) -> tuple[str, str, str]:
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    a = max(0, start - _SNIPPET_CONTEXT)
    b = min(len(text), end + _SNIPPET_CONTEXT)
    before = ("…" if a > 0 else "") + text[a:start]
    after = text[end:b] + ("…" if b < len(text) else "")
    return before, text[start:end], after


def select_sites(atlas, plans: Sequence[str], categories: Sequence[str]) -> list[Site]:
    """The features of ``plans`` in ``categories`` with their citations and targets.

    ``plans`` and ``categories`` must already be validated (see :func:`resolve_plans`,
    :func:`resolve_categories`). Citations and targets are limited to the selected plans.
    Sites are ordered by plan (selection order), primary category, then name.
    """
    plan_rank = {p: i for i, p in enumerate(plans)}
    cat_rank = {c: i for i, c in enumerate(CATEGORIES)}
    sites: list[Site] = []
    plans_of = getattr(atlas, "plans_of", None)
    for feat in atlas.features_for(plans=list(plans), categories=list(categories)):
        cats = sorted((c for c in feat.categories if c in categories), key=cat_rank.__getitem__)
        feat_plans = plans_of(feat.id) if plans_of is not None else feat.plans
        fplans = sorted((p for p in feat_plans if p in plan_rank), key=plan_rank.__getitem__)
        if not cats or not fplans:
            continue
        cits: list[Citation] = []
        seen: set[tuple[str, int]] = set()
        clause_cache: dict[str, Clause] = {}
        for m in atlas.mentions(feat.id):
            if m.plan not in plan_rank or (m.clause, m.line) in seen:
                continue   # one citation per clause line (a line may name a place twice)
            seen.add((m.clause, m.line))
            clause = clause_cache.get(m.clause)
            if clause is None:
                clause = clause_cache[m.clause] = atlas.clause(m.clause)
            text = clause.text
            in_note = getattr(m, "in_note", None)   # mention inside a footnote of the clause
            if in_note is not None and 0 <= in_note < len(clause.notes):
                text = clause.notes[in_note]
            before, mid, after = _snippet(text, m.start, m.end)
            path = m.clause.split(":", 1)[1] if ":" in m.clause else m.clause
            cits.append(Citation(plan=m.plan, clause=m.clause, path=path, number=clause.number,
                                 heading=clause.heading, line=m.line, surface=mid or m.surface,
                                 before=before, after=after))
        cits.sort(key=lambda c: (plan_rank[c.plan], c.line, c.clause))
        targets = [t for t in atlas.targets_of(feat.id) if t.plan in plan_rank]
        sites.append(Site(feature=feat, categories=cats, plans=fplans, citations=cits,
                          targets=targets))
    sites.sort(key=lambda s: (plan_rank[s.plans[0]], cat_rank[s.primary_category],
                              s.feature.name, s.feature.id))
    return sites


_COMPARATORS = {">": "＞", ">=": "≥", "<": "＜", "<=": "≤", "=": "", "~": "约"}


def _num(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e15 else f"{v:.0f}"


def format_target(t: Target) -> str:
    """Human-readable target: ``"天河路商圈销售额 ＞1000亿元 (2025)"``."""
    if t.comparator == "range" and t.upper is not None:
        value = f"{_num(t.value)}–{_num(t.upper)}{t.unit}"
    else:
        value = f"{_COMPARATORS.get(t.comparator, t.comparator)}{_num(t.value)}{t.unit}"
    extra = [x for x in (t.basis, t.period, str(t.year) if t.year else None) if x]
    kind = "基期 " if t.kind == "baseline" else ""
    return f"{kind}{t.indicator} {value}" + (f" ({', '.join(extra)})" if extra else "")


# --------------------------------------------------------------------------- helpers

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_text(value: Any) -> str:
    """Text safe for XML/XLSX: characters XML 1.0 forbids are removed."""
    return _XML_BAD.sub("", "" if value is None else str(value))


def _neutralise_formula(text: str) -> str:
    """Spreadsheet formula injection guard for CSV (OWASP): prefix a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@contextmanager
def atomic_path(out: str | os.PathLike, *, create: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; on success move it over ``out`` atomically.

    With ``create=False`` the temporary name is reserved but the file is removed before
    yielding (for writers such as GDAL that refuse to write into an existing file). On any
    exception the temporary file (and SQLite side files) is deleted and ``out`` is untouched.
    """
    out = Path(out)
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ExportError(f"output path {out} is a folder, not a file")
    if not parent.is_dir():
        raise ExportError(f"output folder {parent} does not exist (for {out})")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".part{out.suffix}", dir=parent)
    os.close(fd)
    tmp = Path(tmp_name)
    if not create:
        tmp.unlink()
    try:
        yield tmp
        if not tmp.exists():
            raise ExportError(f"the exporter wrote nothing for {out}")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException:
        for p in (tmp, *(tmp.with_name(tmp.name + s) for s in ("-wal", "-shm", "-journal"))):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        raise


def _round_geom(geom):
    return shapely.transform(geom, lambda c: np.round(c, _COORD_DECIMALS))


def representative_point(geom) -> shapely.Point:
    """The point a site is shown at when only a point will do (GPX, CSV, pins)."""
    if geom.geom_type == "Point":
        return geom
    if geom.is_empty:
        raise ExportError("feature has an empty geometry")
    return geom.representative_point()


def _convert(geom, crs: str):
    return _round_geom(_crs.convert_geometry(geom, "wgs84", crs))


def _category_label(cat: str) -> str:
    zh, en = CATEGORY_LABELS.get(cat, (cat, cat))
    return f"{zh} {en}"


def _site_record(site: Site, crs: str) -> dict[str, Any]:
    """Flat, typed record of a site (lists kept as lists)."""
    f = site.feature
    pt = _convert(representative_point(f.geometry), crs)
    return {
        "id": f.id,
        "name": f.name,
        "aliases": list(f.aliases),
        "categories": list(f.categories),
        "category_labels": [CATEGORY_LABELS.get(c, (c, c))[0] for c in f.categories],
        "subtype": f.subtype,
        "tier": f.tier,
        "plans": list(site.plans),
        "district": f.district,
        "adcode": f.adcode,
        "lon": round(float(pt.x), _COORD_DECIMALS),
        "lat": round(float(pt.y), _COORD_DECIMALS),
        "crs": crs,
        "precision_m": float(f.precision_m),
        "status": f.status,
        "schematic": bool(f.schematic),
        "citations": [c.label for c in site.citations],
        "targets": [format_target(t) for t in site.targets],
        "source": f.source,
        "note": f.note,
    }


_LIST_FIELDS = ("aliases", "categories", "category_labels", "plans", "citations", "targets")
_TABLE_COLUMNS = ("id", "name", "aliases", "categories", "category_labels", "subtype", "tier",
                  "plans", "district", "adcode", "lon", "lat", "crs", "precision_m", "status",
                  "schematic", "citations", "targets", "source", "note")


def _flat(rec: dict[str, Any]) -> dict[str, Any]:
    out = dict(rec)
    for k in _LIST_FIELDS:
        out[k] = "; ".join(out[k])
    return out


def _metadata(atlas, plans: Sequence[str], categories: Sequence[str], crs: str) -> dict[str, Any]:
    return {
        "generator": "PlanAtlas",
        "generated": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "crs": crs,
        "crs_label": CRS_LABELS[crs],
        "plans": [{"id": p, "title": atlas.plans[p].title, "issuer": atlas.plans[p].issuer,
                   "issued": atlas.plans[p].issued} for p in plans],
        "categories": list(categories),
    }


# --------------------------------------------------------------------------- GeoJSON

def _write_geojson(path: Path, sites: list[Site], crs: str, meta: dict[str, Any]) -> None:
    feats = []
    for s in sites:
        rec = _site_record(s, crs)
        feats.append({"type": "Feature", "id": s.feature.id,
                      "geometry": shapely.geometry.mapping(_convert(s.feature.geometry, crs)),
                      "properties": rec})
    doc: dict[str, Any] = {"type": "FeatureCollection", "name": "planatlas_sites"}
    if crs == "cgcs2000":   # legacy GeoJSON 2008 member; GDAL and QGIS honour it
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}
    doc["planatlas"] = meta
    doc["features"] = feats
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1)
        fh.write("\n")


# --------------------------------------------------------------------------- CSV / XLSX

def _write_csv(path: Path, sites: list[Site], crs: str) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, dialect="excel")
        w.writerow(_TABLE_COLUMNS)
        for s in sites:
            rec = _flat(_site_record(s, crs))
            row = []
            for col in _TABLE_COLUMNS:
                v = rec[col]
                if v is None:
                    row.append("")
                elif isinstance(v, bool):
                    row.append("true" if v else "false")
                elif isinstance(v, (int, float)):
                    row.append(f"{v:.{_COORD_DECIMALS}f}" if col in ("lon", "lat") else f"{v:g}")
                else:
                    row.append(_neutralise_formula(clean_text(v)))
            w.writerow(row)


def _write_xlsx(path: Path, sites: list[Site], crs: str, meta: dict[str, Any]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    bold = Font(bold=True)

    def add_sheet(ws, header: Sequence[str], rows: Iterable[Sequence[Any]], widths: dict[str, int]):
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append([clean_text(v) if isinstance(v, str) else v for v in row])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"   # text stays text: "=..." must not become a formula
        ws.freeze_panes = "A2"
        if ws.max_row > 1:
            ws.auto_filter.ref = ws.dimensions
        for i, name in enumerate(header, start=1):
            ws.column_dimensions[get_column_letter(i)].width = widths.get(name, 14)

    ws = wb.active
    ws.title = "sites"
    add_sheet(ws, _TABLE_COLUMNS,
              ([_flat(_site_record(s, crs))[c] for c in _TABLE_COLUMNS] for s in sites),
              {"id": 22, "name": 26, "citations": 40, "targets": 40, "categories": 24,
               "category_labels": 20, "source": 30, "lon": 14, "lat": 13, "crs": 9})
    for cell in ws["K"][1:] + ws["L"][1:]:
        cell.number_format = "0.0000000"

    cits = [(s.feature.id, s.feature.name, c.plan, c.clause, c.number, c.heading, c.line,
             c.label, c.snippet) for s in sites for c in s.citations]
    add_sheet(wb.create_sheet("citations"),
              ("feature_id", "feature_name", "plan", "clause", "number", "heading", "line",
               "citation", "snippet"), cits,
              {"feature_name": 24, "clause": 22, "heading": 24, "citation": 26, "snippet": 80})

    seen: dict[str, tuple[Target, list[str]]] = {}
    for s in sites:
        for t in s.targets:
            seen.setdefault(t.id, (t, []))[1].append(s.feature.id)
    add_sheet(wb.create_sheet("targets"),
              ("id", "plan", "clause", "indicator", "comparator", "value", "upper", "unit", "year",
               "scope", "kind", "line", "text", "features"),
              ((t.id, t.plan, t.clause, t.indicator, t.comparator, t.value, t.upper, t.unit, t.year,
                t.scope, t.kind, t.line, format_target(t), "; ".join(fids))
               for t, fids in seen.values()),
              {"indicator": 26, "clause": 22, "text": 40, "features": 30})

    about = wb.create_sheet("about")
    rows = [("generator", meta["generator"]), ("generated", meta["generated"]),
            ("coordinate system", f"{crs} — {meta['crs_label']}"),
            ("categories", ", ".join(meta["categories"]))]
    rows += [(f"plan {p['id']}", f"{p['title']} ({p['issuer']}, {p['issued']})") for p in meta["plans"]]
    rows += [("sites", len(sites))]
    add_sheet(about, ("item", "value"), rows, {"item": 20, "value": 80})
    wb.save(path)


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
        f = s.feature
        pm = ET.SubElement(folders[s.primary_category], "Placemark", {"id": clean_text(f.id)})
        ET.SubElement(pm, "name").text = clean_text(f.name)
        ET.SubElement(pm, "description").text = clean_text(_description_html(s))
        ET.SubElement(pm, "styleUrl").text = f"#cat-{s.primary_category}"
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
        else:   # real geometry plus a pin, so phones that only show points still show it
            multi = ET.SubElement(pm, "MultiGeometry")
            _kml_geometry(multi, _convert(representative_point(f.geometry), crs))
            _kml_geometry(multi, geom)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# --------------------------------------------------------------------------- GPX

def _write_gpx(path: Path, sites: list[Site], crs: str, meta: dict[str, Any]) -> None:
    import geopandas as gpd
    import pyogrio

    rows, geoms = [], []
    for s in sites:
        rec = _flat(_site_record(s, crs))
        f = s.feature
        desc = [f"{rec['category_labels']} · {f.subtype}".strip(" ·"), f.district]
        desc += [f"{c.label} {c.heading}" for c in s.citations]
        desc += [format_target(t) for t in s.targets]
        if crs != "wgs84":
            desc.append(f"坐标系 {CRS_LABELS[crs]}")
        rows.append({
            "name": clean_text(f.name),
            "desc": clean_text("\n".join(x for x in desc if x)),
            "type": s.primary_category,
            "id": clean_text(f.id),
            "categories": clean_text(rec["categories"]),
            "district": clean_text(f.district),
            "plans": clean_text(rec["plans"]),
            "precision_m": float(f.precision_m),
            "status": clean_text(f.status),
            "citations": clean_text(rec["citations"]),
            "crs": crs,
        })
        geoms.append(shapely.Point(rec["lon"], rec["lat"]))
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
    pyogrio.write_dataframe(
        gdf, path, layer="waypoints", driver="GPX",
        dataset_options={"GPX_USE_EXTENSIONS": "YES", "GPX_EXTENSIONS_NS": "planatlas",
                         "GPX_EXTENSIONS_NS_URL": "urn:planatlas:gpx:1"},
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
                categories: Sequence[str]) -> list[str]:
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    layer_crs = gpkg_crs(crs)
    groups: dict[tuple[str, str], tuple[list[dict], list]] = {}
    for s in sites:
        rec = _flat(_site_record(s, crs))
        kind, geom = _geometry_kind(_convert(s.feature.geometry, crs))
        for cat in s.categories:
            rows, geoms = groups.setdefault((cat, kind), ([], []))
            rows.append({k: (clean_text(v) if isinstance(v, str) else v) for k, v in rec.items()})
            geoms.append(geom)

    written: list[str] = []
    styles: list[dict[str, Any]] = []
    first = True
    cat_rank = {c: i for i, c in enumerate(CATEGORIES)}
    kind_rank = {"polygons": 0, "lines": 1, "points": 2}
    for (cat, kind) in sorted(groups, key=lambda k: (cat_rank[k[0]], kind_rank[k[1]])):
        rows, geoms = groups[(cat, kind)]
        gdf = gpd.GeoDataFrame(pd.DataFrame(rows, columns=list(rows[0])), geometry=geoms,
                               crs=layer_crs)
        layer = f"{cat}_{kind}"
        pyogrio.write_dataframe(
            gdf, path, layer=layer, driver="GPKG", promote_to_multi=None,
            dataset_options={"VERSION": "1.3"} if first else None,
            layer_options={"IDENTIFIER": f"{_category_label(cat)} ({kind})",
                           "DESCRIPTION": f"PlanAtlas {cat} {kind}; coordinates {CRS_LABELS[crs]}"},
        )
        first = False
        written.append(layer)
        styles.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": layer,
                       "f_geometry_column": "geom", "styleName": layer,
                       "styleQML": qml_style(kind, CATEGORY_COLORS[cat]), "styleSLD": "",
                       "useAsDefault": True,
                       "description": f"PlanAtlas style for {_category_label(cat)}",
                       "owner": "", "ui": None,
                       "update_time": pd.Timestamp.now(tz="UTC").tz_localize(None)})

    mentions = pd.DataFrame(
        [{"feature_id": s.feature.id, "feature_name": clean_text(s.feature.name), "plan": c.plan,
          "clause": c.clause, "number": c.number, "heading": clean_text(c.heading), "line": c.line,
          "citation": c.label, "surface": clean_text(c.surface), "snippet": clean_text(c.snippet)}
         for s in sites for c in s.citations],
        columns=["feature_id", "feature_name", "plan", "clause", "number", "heading", "line",
                 "citation", "surface", "snippet"])
    if len(mentions):
        pyogrio.write_dataframe(mentions, path, layer="mentions", driver="GPKG",
                                layer_options={"DESCRIPTION": "Plan clauses naming each site"})
        written.append("mentions")
    seen: dict[str, tuple[Target, list[str]]] = {}
    for s in sites:
        for t in s.targets:
            seen.setdefault(t.id, (t, []))[1].append(s.feature.id)
    if seen:
        targets = pd.DataFrame([
            {"id": t.id, "plan": t.plan, "clause": t.clause, "indicator": clean_text(t.indicator),
             "comparator": t.comparator, "value": float(t.value),
             "upper": float(t.upper) if t.upper is not None else None, "unit": clean_text(t.unit),
             "year": t.year, "scope": clean_text(t.scope), "kind": t.kind, "line": t.line,
             "text": clean_text(format_target(t)), "features": "; ".join(fids)}
            for t, fids in seen.values()])
        pyogrio.write_dataframe(targets, path, layer="targets", driver="GPKG",
                                layer_options={"DESCRIPTION": "Quantitative targets of the clauses"})
        written.append("targets")
    if styles:
        pyogrio.write_dataframe(pd.DataFrame(styles), path, layer="layer_styles", driver="GPKG",
                                layer_options={"FID": "id"})
    return written


# --------------------------------------------------------------------------- entry point

def _check_format(fmt: str | None, out: Path) -> str:
    if not fmt:   # infer from the file name
        suffix = out.suffix.lower()
        for name, exts in _EXTENSIONS.items():
            if suffix in exts:
                return name
        raise ExportError(f"cannot tell the export format from {out.name!r}; "
                          f"give one of {', '.join(FORMATS)}")
    key = str(fmt).lower().lstrip(".")
    if key == "json":
        key = "geojson"
    if key not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return key


def _check_crs(crs: str | None) -> str:
    if crs is None:
        return "wgs84"
    key = "".join(ch for ch in str(crs).lower() if ch.isalnum())
    key = {"epsg4326": "wgs84", "epsg4490": "cgcs2000"}.get(key, key)
    if key not in CRS_CHOICES:
        raise ExportError(f"unknown coordinate system {crs!r}; expected one of {', '.join(CRS_CHOICES)}")
    return key


def selection(atlas, plans, categories) -> tuple[list[str], list[str], list]:
    """``(plan ids, categories, sites)`` to export; :class:`ExportError` when nothing matches."""
    plan_ids = resolve_plans(atlas, plans)
    cats = resolve_categories(categories)
    sites = select_sites(atlas, plan_ids, cats)
    if not sites:
        raise ExportError(f"nothing to export: plans {', '.join(plan_ids)} have no features in "
                          f"categories {', '.join(cats)}")
    return plan_ids, cats, sites


def export_data(atlas, plans, categories, fmt: str, crs: str | None, out) -> dict[str, Any]:
    """Export the sites of ``plans`` (ids, list or ``"a,b"``) in ``categories`` (``None`` =
    all) to ``out`` as ``fmt`` with coordinates in ``crs`` (default ``wgs84``).

    Returns a summary ``{"path", "format", "crs", "plans", "categories", "sites", "layers"}``.
    Raises :class:`ExportError` for unknown plans/categories/formats/systems, an empty
    selection, or a missing output folder; nothing is written in that case.
    """
    out = Path(out)
    fmt = _check_format(fmt, out)
    crs = _check_crs(crs)
    plan_ids, cats, sites = selection(atlas, plans, categories)
    meta = _metadata(atlas, plan_ids, cats, crs)
    layers: list[str] = []
    if fmt == "geojson":
        with atomic_path(out) as tmp:
            _write_geojson(tmp, sites, crs, meta)
    elif fmt == "csv":
        with atomic_path(out) as tmp:
            _write_csv(tmp, sites, crs)
    elif fmt == "xlsx":
        with atomic_path(out) as tmp:
            _write_xlsx(tmp, sites, crs, meta)
    elif fmt in ("kml", "kmz"):
        data = _build_kml(sites, crs, meta, cats)
        with atomic_path(out) as tmp:
            if fmt == "kml":
                tmp.write_bytes(data)
            else:
                with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                    zf.writestr("doc.kml", data)
    elif fmt == "gpx":
        with atomic_path(out, create=False) as tmp:
            _write_gpx(tmp, sites, crs, meta)
    elif fmt == "gpkg":
        with atomic_path(out, create=False) as tmp:
            layers = _write_gpkg(tmp, sites, crs, meta, cats)
    return {"path": str(out), "format": fmt, "crs": crs, "plans": plan_ids, "categories": cats,
            "sites": len(sites), "layers": layers}
