"""Printable site checklist as PDF (QPdfWriter, A4 landscape).

Per district: a heading, a small overview map painted with the desktop map painter
(:func:`desktop.render.paint_map`, site numbers drawn on top so map and table match), then the
table — No, ID, name, categories, district, coordinates in the chosen CRS, status, tick boxes
found / moved / missing, and a notes column with writing room. Every page has a header with
the plan title and a footer with page number ("page n of N") and date. Chinese text uses the
font registered by :mod:`desktop.fonts`. Rows and grouping come from :mod:`layers.sitelist`;
nothing here knows about coordinates beyond drawing them.
"""
from __future__ import annotations

import datetime as _dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (QColor, QFont, QFontMetricsF, QGuiApplication, QPageLayout, QPageSize,
                           QPainter, QPdfWriter, QPen)

from planatlas.desktop.pdftext import fix_pdf_tounicode, pdf_font
from planatlas.layers.fsutil import WriteFailed, durable_path, ensure_folder
from planatlas.layers.model import Feature
from planatlas.layers.safetext import xml_safe as clean_text
from planatlas.layers.sitelist import CRS_LABELS, SiteRow, sitelist_groups

__all__ = ["write_sitelist_pdf", "paginate", "PAGE_ROWS_FIRST", "PAGE_ROWS_NEXT"]

DPI = 300
MARGIN_MM = 10.0
HEADER_MM = 12.0
FOOTER_MM = 8.0
MAP_MM = 68.0
ROW_MM = 8.5
TABLE_HEAD_MM = 9.0
PAGE_W_MM, PAGE_H_MM = 297.0, 210.0       # A4 landscape
# (header, width mm); the notes column takes what is left
TABLE_COLUMNS: tuple[tuple[str, float], ...] = (
    ("序号\nNo", 9), ("编号\nID", 36), ("名称\nName", 44), ("类别\nCategory", 26),
    ("区县\nDistrict", 18), ("经度\nLon", 21), ("纬度\nLat", 19), ("坐标质量\nAccuracy", 27),
    ("找到\nFound", 11), ("移位\nMoved", 11), ("缺失\nMissing", 11), ("备注\nNotes", 0),
)


def _rows_fit(height_mm: float) -> int:
    return max(1, int((height_mm - TABLE_HEAD_MM) // ROW_MM))


_BODY_MM = PAGE_H_MM - 2 * MARGIN_MM - HEADER_MM - FOOTER_MM
PAGE_ROWS_FIRST = _rows_fit(_BODY_MM - MAP_MM - 12.0)    # 12 mm: district heading
PAGE_ROWS_NEXT = _rows_fit(_BODY_MM - 8.0)


@dataclass
class _Page:
    district: str
    rows: list[SiteRow]
    first: bool                 # the district's first page (heading + overview map)
    part: int
    parts: int


def paginate(groups: dict[str, list[SiteRow]], rows_first: int = PAGE_ROWS_FIRST,
             rows_next: int = PAGE_ROWS_NEXT) -> list[_Page]:
    """Split each district's rows into pages (first page has the map, so fewer rows)."""
    pages: list[_Page] = []
    for district, rows in groups.items():
        chunks = [rows[:rows_first]]
        rest = rows[rows_first:]
        while rest:
            chunks.append(rest[:rows_next])
            rest = rest[rows_next:]
        for k, chunk in enumerate(chunks):
            pages.append(_Page(district, chunk, k == 0, k + 1, len(chunks)))
    return pages


_app_ref: list[Any] = []


def _ensure_app() -> None:
    if QGuiApplication.instance() is not None:
        return
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")) \
            and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"     # a CLI run on a machine without a display
    from PySide6.QtWidgets import QApplication    # not only a QGuiApplication: widgets may follow

    _app_ref.append(QApplication([]))


def _bbox(rows: Sequence[SiteRow]) -> tuple[float, float, float, float]:
    from planatlas.layers.survey import feature_anchor

    xs, ys = [], []
    for r in rows:
        g = r.feature.geometry
        if g is not None and not g.is_empty:
            x0, y0, x1, y1 = g.bounds
            xs += [x0, x1]
            ys += [y0, y1]
        else:
            x, y = feature_anchor(r.feature)
            xs.append(x)
            ys.append(y)
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad = 0.01  # ≈ 1 km: a single site still gets surroundings
    if x1 - x0 < 2 * pad:
        cx = (x0 + x1) / 2
        x0, x1 = cx - pad, cx + pad
    if y1 - y0 < 2 * pad:
        cy = (y0 + y1) / 2
        y0, y1 = cy - pad, cy + pad
    return (x0, y0, x1, y1)


class _Doc:
    def __init__(self, painter: QPainter, family: str, title: str, crs: str, date: str, total: int):
        self.p = painter
        self.family = family
        self.title = title
        self.crs = crs
        self.date = date
        self.total = total
        self.mm = DPI / 25.4

    def font(self, pt: float, bold: bool = False) -> QFont:
        # the same text path as the map pages: digits and Chinese extract as printed
        return pdf_font(self.family, pt * DPI / 72.0, bold=bold)

    def rect(self, x_mm: float, y_mm: float, w_mm: float, h_mm: float) -> QRectF:
        m = self.mm
        return QRectF(x_mm * m, y_mm * m, w_mm * m, h_mm * m)

    def text(self, rect: QRectF, text: str, pt: float, *, bold=False, flags=None, color="#000000",
             elide=True) -> None:
        p = self.p
        p.setFont(self.font(pt, bold))
        p.setPen(QColor(color))
        flags = flags if flags is not None else int(Qt.AlignLeft | Qt.AlignVCenter)
        if elide and "\n" not in text:
            fm = QFontMetricsF(p.font(), p.device())
            if fm.horizontalAdvance(text) > rect.width():
                # wrap onto two lines, eliding what still does not fit
                lines = _wrap(text, fm, rect.width(), 2)
                text = "\n".join(lines)
        p.drawText(rect, flags, text)

    # -------------------------------------------------------------- page frame
    def frame(self, page_no: int, district: str, part: int, parts: int) -> None:
        W = PAGE_W_MM - 2 * MARGIN_MM
        top = MARGIN_MM
        self.text(self.rect(MARGIN_MM, top, W * 0.72, HEADER_MM - 3), self.title, 12, bold=True)
        extra = f"  ({part}/{parts})" if parts > 1 else ""
        self.text(self.rect(MARGIN_MM + W * 0.72, top, W * 0.28, HEADER_MM - 3),
                  f"{district}{extra}", 10, bold=True,
                  flags=int(Qt.AlignRight | Qt.AlignVCenter))
        pen = QPen(QColor("#1f4e79"))
        pen.setWidthF(0.4 * self.mm)
        self.p.setPen(pen)
        y = (top + HEADER_MM - 2) * self.mm
        self.p.drawLine(QPointF(MARGIN_MM * self.mm, y), QPointF((MARGIN_MM + W) * self.mm, y))
        fy = PAGE_H_MM - MARGIN_MM - FOOTER_MM + 2
        pen = QPen(QColor("#999999"))
        pen.setWidthF(0.2 * self.mm)
        self.p.setPen(pen)
        self.p.drawLine(QPointF(MARGIN_MM * self.mm, fy * self.mm),
                        QPointF((MARGIN_MM + W) * self.mm, fy * self.mm))
        self.text(self.rect(MARGIN_MM, fy, W / 3, FOOTER_MM - 2),
                  f"PlanAtlas · 坐标 {CRS_LABELS.get(self.crs, self.crs)}", 7.5, color="#555555")
        self.text(self.rect(MARGIN_MM + W / 3, fy, W / 3, FOOTER_MM - 2),
                  f"第 {page_no} / {self.total} 页 · Page {page_no} of {self.total}", 7.5,
                  flags=int(Qt.AlignHCenter | Qt.AlignVCenter), color="#555555")
        self.text(self.rect(MARGIN_MM + 2 * W / 3, fy, W / 3, FOOTER_MM - 2),
                  f"{self.date}", 7.5, flags=int(Qt.AlignRight | Qt.AlignVCenter), color="#555555")

    # -------------------------------------------------------------- table
    def table(self, y_mm: float, rows: Sequence[SiteRow]) -> None:
        W = PAGE_W_MM - 2 * MARGIN_MM
        fixed = sum(w for _, w in TABLE_COLUMNS)
        widths = [w if w else W - fixed for _, w in TABLE_COLUMNS]
        p = self.p
        grid = QPen(QColor("#888888"))
        grid.setWidthF(0.15 * self.mm)
        x = MARGIN_MM
        p.fillRect(self.rect(MARGIN_MM, y_mm, W, TABLE_HEAD_MM), QColor("#dde6f0"))
        for (head, _), w in zip(TABLE_COLUMNS, widths):
            if head.startswith("经度") or head.startswith("纬度"):
                head = f"{head} ({CRS_LABELS.get(self.crs, self.crs)})"
            self.text(self.rect(x + 0.8, y_mm, w - 1.6, TABLE_HEAD_MM), head, 6.5, bold=True,
                      flags=int(Qt.AlignHCenter | Qt.AlignVCenter), elide=False)
            x += w
        y = y_mm + TABLE_HEAD_MM
        for k, r in enumerate(rows):
            if k % 2:
                p.fillRect(self.rect(MARGIN_MM, y, W, ROW_MM), QColor("#f6f8fa"))
            values = [str(r.no), r.id, r.name, r.category_text, r.district, f"{r.lon:.6f}",
                      f"{r.lat:.6f}", r.accuracy_text, None, None, None, ""]
            x = MARGIN_MM
            for j, (v, w) in enumerate(zip(values, widths)):
                if v is None:
                    s = 4.2
                    box = self.rect(x + (w - s) / 2, y + (ROW_MM - s) / 2, s, s)
                    pen = QPen(QColor("#000000"))
                    pen.setWidthF(0.25 * self.mm)
                    p.setPen(pen)
                    p.setBrush(Qt.NoBrush)
                    p.drawRect(box)
                elif v:
                    pt = 7.5 if j in (2,) else 6.8
                    align = Qt.AlignHCenter if j == 0 else Qt.AlignLeft
                    self.text(self.rect(x + 1.0, y, w - 2.0, ROW_MM), v, pt, bold=(j == 2),
                              flags=int(align | Qt.AlignVCenter))
                x += w
            y += ROW_MM
        # grid
        p.setPen(grid)
        p.setBrush(Qt.NoBrush)
        total_h = TABLE_HEAD_MM + ROW_MM * len(rows)
        p.drawRect(self.rect(MARGIN_MM, y_mm, W, total_h))
        x = MARGIN_MM
        for w in widths[:-1]:
            x += w
            p.drawLine(QPointF(x * self.mm, y_mm * self.mm),
                       QPointF(x * self.mm, (y_mm + total_h) * self.mm))
        yy = y_mm + TABLE_HEAD_MM
        for _ in range(len(rows) + 1):
            p.drawLine(QPointF(MARGIN_MM * self.mm, yy * self.mm),
                       QPointF((MARGIN_MM + W) * self.mm, yy * self.mm))
            yy += ROW_MM

    # -------------------------------------------------------------- overview map
    def overview(self, y_mm: float, rows: Sequence[SiteRow], scene) -> None:
        from planatlas.desktop.render import MapView, lonlat_to_merc, paint_map

        W = PAGE_W_MM - 2 * MARGIN_MM
        rect = self.rect(MARGIN_MM, y_mm, W, MAP_MM)
        view = MapView.fit(_bbox(rows), (int(rect.width()), int(rect.height())), margin=0.12)
        scale = DPI / 96.0
        paint_map(self.p, rect, view, scene, labels=False, scale=scale)
        p = self.p
        p.save()
        p.setClipRect(rect)
        p.setRenderHint(QPainter.Antialiasing, True)
        from planatlas.layers.survey import feature_anchor

        r_px = 2.2 * self.mm
        p.setFont(self.font(6.5, bold=True))
        for r in rows:
            lon, lat = feature_anchor(r.feature)
            mx, my = lonlat_to_merc([lon], [lat])
            px, py = view.to_screen(mx, my)
            c = QPointF(rect.left() + float(px[0]), rect.top() + float(py[0]))
            p.setPen(QPen(QColor("#1f4e79"), 0.25 * self.mm))
            p.setBrush(QColor(255, 255, 255, 235))
            p.drawEllipse(c + QPointF(r_px * 1.1, -r_px * 1.1), r_px, r_px)
            p.setPen(QColor("#1f4e79"))
            p.drawText(QRectF(c.x() + r_px * 0.1, c.y() - r_px * 2.1, r_px * 2, r_px * 2),
                       int(Qt.AlignCenter), str(r.no))
        p.restore()
        pen = QPen(QColor("#555555"))
        pen.setWidthF(0.25 * self.mm)
        p.setPen(pen)
        p.setBrush(Qt.NoBrush)
        p.drawRect(rect)
        # scale bar
        gr = view.ground_resolution()  # metres per view pixel
        target_m = gr * rect.width() / 5
        nice = min((v for v in (100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
                    if v >= target_m * 0.5), default=50000)
        bar_px = nice / gr
        x0 = rect.left() + 3 * self.mm
        y0 = rect.bottom() - 3 * self.mm
        p.fillRect(QRectF(x0 - 1 * self.mm, y0 - 4 * self.mm, bar_px + 14 * self.mm, 5.5 * self.mm),
                   QColor(255, 255, 255, 210))
        pen = QPen(QColor("#000000"))
        pen.setWidthF(0.4 * self.mm)
        p.setPen(pen)
        p.drawLine(QPointF(x0, y0), QPointF(x0 + bar_px, y0))
        p.drawLine(QPointF(x0, y0), QPointF(x0, y0 - 1.2 * self.mm))
        p.drawLine(QPointF(x0 + bar_px, y0), QPointF(x0 + bar_px, y0 - 1.2 * self.mm))
        label = f"{nice // 1000} km" if nice >= 1000 else f"{nice} m"
        p.setFont(self.font(6.5))
        p.drawText(QPointF(x0 + bar_px + 1.5 * self.mm, y0), label)


def _wrap(text: str, fm: QFontMetricsF, width: float, max_lines: int) -> list[str]:
    lines: list[str] = []
    cur = ""
    for ch in text:
        if fm.horizontalAdvance(cur + ch) > width and cur:
            lines.append(cur)
            cur = ch
            if len(lines) == max_lines:
                break
        else:
            cur += ch
    else:
        lines.append(cur)
        return lines
    # overflow: elide the last line
    rest = lines[-1] + cur + text[len("".join(lines)) + len(cur):]
    lines[-1] = fm.elidedText(rest, Qt.ElideRight, width)
    return lines


def write_sitelist_pdf(features: Iterable[Feature], out: str | os.PathLike, *, crs: str = "wgs84",
                       title: str = "现场核查清单 Field site checklist", atlas: Any = None,
                       date: _dt.date | None = None) -> Path:
    """Write the checklist PDF durably (:func:`planatlas.layers.fsutil.durable_path`); returns the path."""
    from planatlas.layers.crs import CRS_NAMES

    if crs not in CRS_NAMES:
        raise ValueError(f"unknown CRS {crs!r}; expected one of {', '.join(CRS_NAMES)}")
    feats = list(features)
    groups = sitelist_groups(feats, crs)
    if not groups:
        raise ValueError("no sites to list")
    _ensure_app()
    from planatlas.desktop.fonts import ensure_fonts
    from planatlas.desktop.render import MapScene

    family = ensure_fonts()
    basemap = None
    if atlas is not None:
        try:
            basemap = atlas.basemap
        except Exception:  # noqa: BLE001 - the list is still useful without a basemap
            basemap = None
    scene = MapScene(feats, basemap=basemap)
    pages = paginate(groups)
    out = ensure_folder(out)
    with durable_path(out) as tmp:
        writer = QPdfWriter(str(tmp))
        writer.setResolution(DPI)
        writer.setTitle(clean_text(title))
        writer.setCreator("PlanAtlas")
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Landscape,
                                         QMarginsF(0, 0, 0, 0), QPageLayout.Millimeter))
        painter = QPainter()
        if not painter.begin(writer):
            raise WriteFailed("Qt could not start the PDF")
        try:
            doc = _Doc(painter, family, title, crs, (date or _dt.date.today()).isoformat(), len(pages))
            for i, page in enumerate(pages, start=1):
                if i > 1 and not writer.newPage():
                    raise WriteFailed(f"Qt could not start page {i}")
                doc.frame(i, page.district, page.part, page.parts)
                y = MARGIN_MM + HEADER_MM
                if page.first:
                    n = len(groups[page.district])
                    doc.text(doc.rect(MARGIN_MM, y, PAGE_W_MM - 2 * MARGIN_MM, 8),
                             f"{page.district} · {n} 处 sites · 地图 map WGS-84 · "
                             f"表中坐标 table {CRS_LABELS.get(crs, crs)}", 10, bold=True)
                    y += 9
                    doc.overview(y, groups[page.district], scene)
                    y += MAP_MM + 3
                else:
                    y += 2
                doc.table(y, page.rows)
        finally:
            ended = painter.end()
        del writer
        if not ended:
            raise WriteFailed("Qt could not finish the PDF")
        fix_pdf_tounicode(tmp, family)
    return out
