"""Survey reports out: a map layer, CSV/XLSX files and a text summary."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from planatlas.layers.errors import InputError
from planatlas.layers.export.tables import print_fit_width
from planatlas.layers.fsutil import durable_path, ensure_folder

from .model import STATUS_COLORS, SurveyReport

__all__ = ["report_layer", "write_report", "format_report", "REPORT_COLUMNS"]

def report_layer(report: SurveyReport) -> list[tuple[float, float, str, str]]:
    """``(lon, lat, status, label)`` in WGS-84 for every row with usable coordinates."""
    out = []
    for r in report.rows:
        if r.lon is None or r.lat is None:
            continue
        label = r.name or r.fid or f"row {r.row}"
        out.append((r.lon, r.lat, r.status, label))
    return out


REPORT_COLUMNS = ("row", "where", "name", "id", "feature", "feature_name", "status",
                  "distance_m", "lon_wgs84", "lat_wgs84", "lon_raw", "lat_raw", "reported",
                  "date", "notes", "message")


def _report_records(report: SurveyReport) -> Iterable[list[Any]]:
    if hasattr(report.rows, "records"):            # results kept as columns: chunk by chunk
        yield from report.rows.records(report.features)
        return
    for r in report.rows:
        f = report.features.get(r.feature) if r.feature else None
        yield [r.row, r.where, r.name, r.fid, r.feature, f.name if f else None, r.status,
               None if r.distance_m is None else round(r.distance_m, 1),
               None if r.lon is None else round(r.lon, 7),
               None if r.lat is None else round(r.lat, 7),
               None if r.raw_lon is None else round(r.raw_lon, 7),
               None if r.raw_lat is None else round(r.raw_lat, 7),
               r.reported, r.date, r.notes, r.message]


_TEXT_COLS = {k for k, c in enumerate(REPORT_COLUMNS)
              if c in ("where", "name", "id", "feature", "feature_name", "reported", "date",
                       "notes", "message")}


def _csv_safe(v: Any) -> Any:
    """Neutralise spreadsheet formula injection in text cells."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def write_report(report: SurveyReport, path: str | os.PathLike) -> Path:
    """Write the report as ``.csv`` (UTF-8 with BOM, opens in Excel) or ``.xlsx``; atomically."""
    import csv

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(f"report file must end in .csv or .xlsx, got {out.name!r}")
    if out.is_dir():
        raise InputError(f"report path {out} is a folder, not a file")
    with durable_path(ensure_folder(out)) as tmp:
        if suffix == ".csv":
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(REPORT_COLUMNS)
                if hasattr(report.rows, "column_chunks"):     # columns, 20,000 rows at a time
                    for cols in report.rows.column_chunks(report.features):
                        w.writerows(zip(*[[_csv_safe(v) for v in c] if k in _TEXT_COLS else c
                                          for k, c in enumerate(cols)]))
                else:
                    for rec in _report_records(report):
                        w.writerow([_csv_safe(v) for v in rec])
                if report.not_surveyed:
                    for fid in report.not_surveyed:
                        f = report.features.get(fid)
                        w.writerow([None, None, None, None, fid, _csv_safe(f.name if f else fid),
                                    "not_surveyed", None, None, None, None, None, None, None,
                                    None, "no row reports this feature"])
        else:
            _write_report_xlsx(report, tmp)
    return out


def _write_report_xlsx(report: SurveyReport, path: Path) -> None:
    """Streamed (openpyxl write-only mode): memory and time stay flat for 200,000 rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    white = Font(color="FFFFFF", bold=True)
    fills = {s: PatternFill("solid", fgColor=col.lstrip("#")) for s, col in STATUS_COLORS.items()}

    def cell(ws, value, *, font=None, fill=None):
        if font is None and fill is None and not (isinstance(value, str) and value.startswith("=")):
            return value
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"          # never a formula
        if font is not None:
            c.font = font
        if fill is not None:
            c.fill = fill
        return c

    def header(ws, names):
        ws.append([cell(ws, n, font=bold) for n in names])

    ws = wb.create_sheet("report")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:P{len(report.rows) + 1}"
    for col, width in zip("ABCDEFGHIJKLMNOP", (6, 14, 24, 14, 22, 24, 11, 11, 12, 12, 12, 12, 10, 12, 24, 60)):
        ws.column_dimensions[col].width = width
    header(ws, REPORT_COLUMNS)
    print_fit_width(ws)                  # landscape, one page wide (not 15 portrait pages)
    status_at = REPORT_COLUMNS.index("status")
    for rec in _report_records(report):
        row = [cell(ws, v) for v in rec]
        status = rec[status_at]
        if status in fills:
            row[status_at] = cell(ws, status, font=white, fill=fills[status])
        ws.append(row)
    ns = wb.create_sheet("not surveyed")
    header(ns, ["feature", "name", "district", "categories"])
    for fid in report.not_surveyed:
        f = report.features.get(fid)
        ns.append([cell(ns, v) for v in (fid, f.name if f else None, f.district if f else None,
                                          ", ".join(f.categories) if f else None)])
    info = wb.create_sheet("summary")
    summary = [("source", report.source), ("crs", report.crs.chosen),
               ("crs status", report.crs.status),
               ("crs confidence", report.crs.confidence),
               ("tolerance_m", report.tolerance_m),
               ("plans", ", ".join(report.plans or []) or "all"),
               *[(k, v) for k, v in report.counts.items()],
               *[("message", m) for m in report.messages]]
    for k, v in summary:
        info.append([cell(info, k), cell(info, v)])
    wb.save(path)


def format_report(report: SurveyReport, *, limit: int = 200) -> str:
    c = report.counts
    lines = [f"Survey {report.source}: {len(report.rows)} rows — "
             f"{c['confirmed']} confirmed, {c['moved']} moved, {c['unmatched']} unmatched, "
             f"{c['invalid']} invalid; {c['not_surveyed']} features not surveyed "
             f"(tolerance {report.tolerance_m:g} m)"]
    crs = report.crs
    conf = "" if crs.confidence is None else f", confidence {crs.confidence:.0%}"
    lines.append(f"CRS: {crs.chosen} ({crs.status}{conf})")
    lines += [f"note: {m}" for m in report.messages]
    shown = 0
    for r in report.rows:
        if r.status == "confirmed":
            continue
        if shown >= limit:
            rest = sum(1 for x in report.rows if x.status != "confirmed") - shown
            lines.append(f"… {rest} more rows (use --json or --report for all)")
            break
        shown += 1
        lines.append(f"  row {r.row:>5} [{r.where}] {r.status:<9} {r.name or r.fid or '-'}"
                     f"{' → ' + r.feature if r.feature else ''}: {r.message}")
    if report.not_surveyed:
        names = [f"{fid} ({report.features[fid].name})" for fid in report.not_surveyed[:limit]]
        lines.append(f"not surveyed ({len(report.not_surveyed)}): " + ", ".join(names)
                     + (" …" if len(report.not_surveyed) > limit else ""))
    return "\n".join(lines)
