"""Printable field checklists of sites (Qt-free parts; the PDF is in ``desktop/sitelist.py``).

:func:`sitelist_groups` groups features by district (one row per site: id, name, categories,
district, coordinates in the chosen CRS, status) and :func:`write_sitelist_xlsx` writes the
workbook: one sheet per district, a frozen header that repeats on every printed page, landscape
A4 fit-to-width, ☐ tick cells for found / moved / missing (with a ☐/☑ dropdown), a
found/moved/missing *Result* dropdown, empty *Survey lon/lat*, *Date* and *Notes* columns, and a
guide sheet. A filled-in workbook can be checked directly with ``planatlas check-sites``: the
survey reader takes the "实测经度 Survey lon / 实测纬度 Survey lat" columns as the observation
and skips rows nobody filled in.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from planatlas.layers.export.tables import id_width, print_fit_width
from planatlas.layers.fsutil import durable_path, ensure_folder
from planatlas.layers.model import CATEGORIES, CATEGORY_LABELS, Feature

__all__ = ["SiteRow", "sitelist_groups", "write_sitelist_xlsx", "list_title", "COLUMNS",
           "CRS_LABELS", "category_label"]

CRS_LABELS = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09", "cgcs2000": "CGCS2000"}
TICK_EMPTY = "☐"
TICK_DONE = "☑"
RESULTS = ("found", "moved", "missing")

# (header, width) — the headers are what the survey reader recognises on re-import.
COLUMNS = (
    ("序号 No", 6), ("编号 ID", 20), ("名称 Name", 26), ("类别 Category", 18),
    ("区县 District", 12), ("经度 Lon", 12), ("纬度 Lat", 12), ("坐标质量 Accuracy", 16),
    ("找到 Found", 8), ("移位 Moved", 8), ("缺失 Missing", 8), ("结果 Result", 11),
    ("实测经度 Survey lon", 14), ("实测纬度 Survey lat", 14), ("日期 Date", 12),
    ("备注 Notes", 36),
)


@dataclass
class SiteRow:
    no: int
    id: str
    name: str
    categories: list[str]
    district: str
    lon: float
    lat: float
    status: str
    precision_m: float | None
    feature: Feature

    @property
    def category_text(self) -> str:
        return "、".join(category_label(c) for c in self.categories)

    @property
    def accuracy_text(self) -> str:
        label = {"verified": "已核实 verified", "approximate": "约 approx."}.get(self.status, self.status)
        if self.precision_m:
            return f"{label} ±{self.precision_m:.0f} m"
        return label


def category_label(cat: str) -> str:
    return CATEGORY_LABELS.get(cat, (cat, cat))[0]


def _cat_rank(f: Feature) -> int:
    return min((CATEGORIES.index(c) for c in f.categories if c in CATEGORIES), default=len(CATEGORIES))


def sitelist_groups(features: Iterable[Feature], crs: str = "wgs84") -> dict[str, list[SiteRow]]:
    """District -> rows (districts sorted by name; rows by category, then name), coordinates
    of each feature's anchor point converted to ``crs``; numbering runs across districts."""
    import numpy as np

    from planatlas.layers import crs as crsmod
    from planatlas.layers.survey import feature_anchor

    feats = sorted(features, key=lambda f: (f.district or "", _cat_rank(f), f.name, f.id))
    if not feats:
        return {}
    anchors = np.array([feature_anchor(f) for f in feats], dtype=float).reshape(-1, 2)
    xs, ys = crsmod.convert(anchors[:, 0], anchors[:, 1], "wgs84", crs)
    groups: dict[str, list[SiteRow]] = {}
    for i, f in enumerate(feats):
        district = f.district or "（未注明区县）"
        groups.setdefault(district, []).append(SiteRow(
            no=i + 1, id=f.id, name=f.name, categories=list(f.categories), district=district,
            lon=float(xs[i]), lat=float(ys[i]), status=f.status, precision_m=f.precision_m,
            feature=f))
    return groups


def list_title(atlas: Any, plans: Sequence[str] | None) -> str:
    """Title for a checklist of the given plans."""
    if plans and len(plans) == 1 and plans[0] in getattr(atlas, "plans", {}):
        return f"现场核查清单 · {atlas.plans[plans[0]].title}"
    if plans:
        return f"现场核查清单 · {len(plans)} 个规划 ({', '.join(plans)})"
    return "现场核查清单 · 全部规划 Field site checklist"


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", name).strip("'") or "sites"
    base = base[:31]
    cand = base
    k = 2
    while cand.casefold() in used:
        suffix = f" ({k})"
        cand = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(cand.casefold())
    return cand


def _text_cell(ws, row: int, col: int, value: Any):
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"          # never a formula
    return cell


def write_sitelist_xlsx(features: Iterable[Feature], out: str | os.PathLike, *, crs: str = "wgs84",
                        title: str = "现场核查清单 Field site checklist",
                        date: _dt.date | None = None) -> Path:
    """Write the checklist workbook atomically; returns the path."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from planatlas.layers.crs import CRS_NAMES

    if crs not in CRS_NAMES:
        raise ValueError(f"unknown CRS {crs!r}; expected one of {', '.join(CRS_NAMES)}")
    groups = sitelist_groups(features, crs)
    if not groups:
        raise ValueError("no sites to list")
    out = Path(out)
    date = date or _dt.date.today()
    crs_label = CRS_LABELS[crs]
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="DDE6F0")
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    header_row = 4
    total = sum(len(v) for v in groups.values())
    for district, rows in groups.items():
        ws = wb.create_sheet(_sheet_name(district, used))
        _text_cell(ws, 1, 1, title).font = Font(bold=True, size=14)
        _text_cell(ws, 2, 1, f"区县 District: {district} · {len(rows)} 处 sites (共 {total}) · "
                             f"坐标系 CRS: {crs_label} · 生成日期 {date.isoformat()}")
        _text_cell(ws, 3, 1, "核查后在“实测经度/纬度”填写现场坐标，在“结果”选择 found / moved / missing；"
                             "Fill in Survey lon/lat and pick a Result; then run: planatlas check-sites THIS.xlsx")
        ws["A3"].font = Font(italic=True, size=9, color="555555")
        for j, (head, width) in enumerate(COLUMNS, start=1):
            text = head
            if head.startswith("经度") or head.startswith("纬度"):
                text = f"{head} ({crs_label})"
            c = _text_cell(ws, header_row, j, text)
            c.font = Font(bold=True)
            c.fill = head_fill
            c.border = border
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            if head.startswith("编号"):          # ids shown whole
                width = id_width([s.id for s in rows], least=width)
            ws.column_dimensions[get_column_letter(j)].width = width
        ws.row_dimensions[header_row].height = 30
        r0 = header_row + 1
        for k, s in enumerate(rows):
            r = r0 + k
            values = [s.no, s.id, s.name, s.category_text, s.district, round(s.lon, 6),
                      round(s.lat, 6), s.accuracy_text, TICK_EMPTY, TICK_EMPTY, TICK_EMPTY,
                      None, None, None, None, None]
            for j, v in enumerate(values, start=1):
                c = _text_cell(ws, r, j, v)
                c.border = border
                c.alignment = Alignment(vertical="center", wrap_text=j in (3, 4, 16),
                                        horizontal="center" if 9 <= j <= 12 else None)
            ws.cell(row=r, column=6).number_format = "0.000000"
            ws.cell(row=r, column=7).number_format = "0.000000"
            ws.cell(row=r, column=13).number_format = "0.000000"
            ws.cell(row=r, column=14).number_format = "0.000000"
            for j in (9, 10, 11):
                ws.cell(row=r, column=j).font = Font(size=14)
            ws.row_dimensions[r].height = 24
        last = r0 + len(rows) - 1
        dv = DataValidation(type="list", formula1='"' + ",".join(RESULTS) + '"', allow_blank=True,
                            showDropDown=False)
        dv.errorTitle = "found / moved / missing"
        dv.error = "Pick found, moved or missing"
        dv.promptTitle = "结果 Result"
        dv.prompt = "found / moved / missing"
        ws.add_data_validation(dv)
        dv.add(f"L{r0}:L{last}")
        tick = DataValidation(type="list", formula1=f'"{TICK_EMPTY},{TICK_DONE}"', allow_blank=True)
        ws.add_data_validation(tick)
        tick.add(f"I{r0}:K{last}")
        ws.freeze_panes = ws.cell(row=r0, column=3)       # header rows and id/no columns stay
        ws.print_title_rows = f"{header_row}:{header_row}"
        # landscape A4, one page wide, header/footer clear of the table (LibreOffice clips a
        # 0.5" header in a 0.6" top margin)
        print_fit_width(ws, title_rows=None)
        ws.print_options.gridLines = False
        ws.oddHeader.center.text = title.replace("&", "&&")
        ws.oddFooter.left.text = f"{district}".replace("&", "&&")
        ws.oddFooter.center.text = "&P / &N"
        ws.oddFooter.right.text = date.isoformat()
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(COLUMNS))}{last}"
    guide = wb.create_sheet("说明 Guide")
    lines = [
        title, "",
        f"坐标系 CRS of the printed coordinates: {crs_label}",
        "1. 到达现场后核对位置 / At each site compare the place with the listed position.",
        "2. 勾选 found / moved / missing（☐→☑），或在“结果 Result”下拉选择。",
        "3. 在“实测经度/实测纬度”填写手机或GPS读数（任一坐标系均可，导入时自动识别）。",
        "   Write the phone/GPS reading in Survey lon / Survey lat (any of WGS-84, GCJ-02, BD-09).",
        "4. 导入检查 / Check: planatlas check-sites THIS.xlsx --json",
        "5. 接受结果 / Accept: planatlas accept-survey THIS.xlsx   (undo: planatlas undo-accept)",
    ]
    for i, line in enumerate(lines, start=1):
        _text_cell(guide, i, 1, line)
    guide["A1"].font = Font(bold=True, size=14)
    guide.column_dimensions["A"].width = 100
    with durable_path(ensure_folder(out)) as tmp:
        wb.save(tmp)
    return out
