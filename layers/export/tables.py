"""GeoJSON, CSV and XLSX site lists."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import shapely

from planatlas.layers.model import Target

from .records import (
    Site, _COORD_DECIMALS, _TABLE_COLUMNS, _flat, _neutralise_formula, clean_text,
    converted_geometries, format_target, site_records,
)


# --------------------------------------------------------------------------- GeoJSON

def _write_geojson(path: Path, sites: list[Site], crs: str, meta: dict[str, Any]) -> None:
    feats = []
    for s, rec, geom in zip(sites, site_records(sites, crs), converted_geometries(sites, crs)):
        feats.append({"type": "Feature", "id": s.feature.id,
                      # RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise
                      "geometry": shapely.geometry.mapping(shapely.orient_polygons(geom, exterior_cw=False)),
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

def print_fit_width(ws, *, landscape: bool = True, title_rows: str | None = "1:1") -> None:
    """Print settings for a worksheet: A4, landscape, all columns on one page width (as many
    pages down as needed), the header row repeated, margins that leave the header/footer room."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = 9                    # A4 (also on write-only sheets)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    m = ws.page_margins
    m.left = m.right = 0.4
    m.top = m.bottom = 0.8          # inches; header/footer at 0.3 stay clear of the table
    m.header = m.footer = 0.3
    if title_rows:
        ws.print_title_rows = title_rows


def id_width(values, *, least: int = 12, most: int = 48) -> int:
    """A column width (characters) that shows the longest of ``values`` whole."""
    return max(least, min(most, max((len(str(v)) for v in values), default=0) + 2))


def _write_csv(path: Path, sites: list[Site], crs: str) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, dialect="excel")
        w.writerow(_TABLE_COLUMNS)
        for rec in map(_flat, site_records(sites, crs)):
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


def _xlsx_row(ws, values: Sequence[Any], formats: dict[int, str] | None = None) -> list:
    """One write-only row: text cells forced to text ("=..." must not become a formula),
    ``formats`` = number formats by column index."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for i, v in enumerate(values):
        if isinstance(v, str):
            cell = WriteOnlyCell(ws, clean_text(v))
            cell.data_type = "s"
        elif formats and i in formats and v is not None:
            cell = WriteOnlyCell(ws, v)
            cell.number_format = formats[i]
        else:
            cell = v
        row.append(cell)
    return row


def _write_xlsx(path: Path, sites: list[Site], crs: str, meta: dict[str, Any], *,
                atlas=None, plan_ids: Sequence[str] = ()) -> None:
    """Sheets sites, citations, targets, (with ``atlas``) compare and charts, and about.

    The workbook is written in openpyxl's write-only mode (rows streamed to the file, no cell
    objects kept) from site records built once (:func:`records.site_records`);
    ``python benchmarks/exports.py`` measures it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)

    def add_sheet(ws, header: Sequence[str], rows: Iterable[Sequence[Any]], widths: dict[str, int],
                  formats: dict[int, str] | None = None):
        for i, name in enumerate(header, start=1):    # column styles before any row
            ws.column_dimensions[get_column_letter(i)].width = widths.get(name, 14)
        ws.freeze_panes = "A2"
        print_fit_width(ws)                           # sheet properties too (written first)
        head = []
        for name in header:
            cell = WriteOnlyCell(ws, name)
            cell.font = bold
            head.append(cell)
        ws.append(head)
        n = 1
        for row in rows:
            ws.append(_xlsx_row(ws, row, formats))
            n += 1
        if n > 1:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{n}"

    records = [_flat(r) for r in site_records(sites, crs)]
    ll = {_TABLE_COLUMNS.index("lon"): "0.0000000", _TABLE_COLUMNS.index("lat"): "0.0000000"}
    add_sheet(wb.create_sheet("sites"), _TABLE_COLUMNS,
              ([r[c] for c in _TABLE_COLUMNS] for r in records),
              {"id": id_width(s.feature.id for s in sites), "name": 26, "citations": 40, "targets": 40,
               "categories": 24, "category_labels": 20, "source": 30, "lon": 14, "lat": 13, "crs": 9}, ll)

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

    if atlas is not None:
        from .compare_sheet import add_compare_sheets
        add_compare_sheets(wb, atlas, plan_ids, add_sheet)

    about = wb.create_sheet("about")
    rows = [("generator", meta["generator"]), ("generated", meta["generated"]),
            ("coordinate system", f"{crs} — {meta['crs_label']}"),
            ("categories", ", ".join(meta["categories"]))]
    rows += [(f"plan {p['id']}", f"{p['title']} ({p['issuer']}, {p['issued']})") for p in meta["plans"]]
    rows += [("sites", len(sites))]
    add_sheet(about, ("item", "value"), rows, {"item": 20, "value": 80})
    wb.save(path)
