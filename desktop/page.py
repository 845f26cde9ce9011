"""Page furniture for print and slides: paper sizes, and the things drawn around a map — legend,
north arrow, a scale bar true at the centre latitude, fitted text.

:mod:`desktop.layout_render` places them on a page as a print layout says. Page text is drawn
with ``drawText`` in :func:`page_font`: real text in SVG and PDF that extracts as printed.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from planatlas.layers.export.data import ExportError

__all__ = ["PAPERS_MM", "MM_PER_INCH", "PageSpec", "page_spec", "page_font", "fit_font",
           "north_arrow", "scale_bar", "legend_box", "fit_columns", "scale_denominator"]

# landscape width × height in millimetres (ISO 216)
PAPERS_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0), "A2": (594.0, 420.0)}
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class PageSpec:
    """Output page: exact pixel size at ``dpi`` and the paper it stands for."""
    width_px: int
    height_px: int
    dpi: float
    paper: str                 # "A3" or "1920x1080px"
    orientation: str           # "landscape" | "portrait"

    @property
    def width_mm(self) -> float:
        return self.width_px / self.dpi * MM_PER_INCH

    @property
    def height_mm(self) -> float:
        return self.height_px / self.dpi * MM_PER_INCH

    @property
    def named(self) -> bool:
        return self.paper in PAPERS_MM


def page_spec(paper: str = "A4", orientation: str | None = "landscape", dpi: float | None = None) -> PageSpec:
    """Pixel size for ``paper`` (A4/A3/A2 or ``WIDTHxHEIGHTpx``) at ``dpi``.

    Named papers default to 300 dpi and honour ``orientation``; a pixel size is taken as given
    (``dpi`` then only scales symbols and text, default 96, and sets the physical size of
    PDF/SVG pages).
    """
    text = str(paper).strip()
    key = text.upper()
    if orientation not in (None, "landscape", "portrait"):
        raise ExportError(f"--orientation must be landscape or portrait, got {orientation!r}")
    if key in PAPERS_MM:
        dpi = 300.0 if dpi is None else float(dpi)
        _check_dpi(dpi)
        w_mm, h_mm = PAPERS_MM[key]
        if orientation == "portrait":
            w_mm, h_mm = h_mm, w_mm
        w = int(math.floor(w_mm / MM_PER_INCH * dpi + 0.5))
        h = int(math.floor(h_mm / MM_PER_INCH * dpi + 0.5))
        return PageSpec(w, h, dpi, key, orientation or "landscape")
    m = re.fullmatch(r"(\d{2,5})\s*[x×]\s*(\d{2,5})\s*(?:px)?", text, re.I)
    if not m:
        raise ExportError(f"unknown --paper {paper!r}; use A4, A3, A2 or WIDTHxHEIGHTpx (e.g. 1920x1080px)")
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= 20000 and 16 <= h <= 20000):
        raise ExportError(f"--paper {paper!r}: width and height must be 16–20000 px")
    dpi = 96.0 if dpi is None else float(dpi)
    _check_dpi(dpi)
    return PageSpec(w, h, dpi, f"{w}x{h}px", "landscape" if w >= h else "portrait")


def _check_dpi(dpi: float) -> None:
    if not (math.isfinite(dpi) and 36 <= dpi <= 1200):
        raise ExportError(f"--dpi must be between 36 and 1200, got {dpi:g}")


def _nice_length(max_m: float) -> float:
    """Largest 1/2/5 × 10^k metres not above ``max_m``."""
    if max_m <= 0:
        return 1.0
    exp = math.floor(math.log10(max_m))
    for f in (5, 2, 1):
        v = f * 10 ** exp
        if v <= max_m:
            return float(v)
    return float(10 ** (exp - 1) * 5)


def _round_sig(x: float, sig: int = 3) -> int:
    if x <= 0:
        return 0
    p = sig - 1 - math.floor(math.log10(x))
    return int(round(x, p))


def page_font(family: str, px: float, *, bold: bool = False):
    """Page text font: :func:`desktop.pdftext.pdf_font` (extracts as printed from PDFs)."""
    from planatlas.desktop.pdftext import pdf_font

    return pdf_font(family, px, bold=bold)


def fit_font(family: str, px: float, text: str, max_w: float, *, bold=False, min_ratio=0.55):
    """Shrink the font until ``text`` fits in ``max_w`` (down to ``min_ratio``)."""
    from PySide6.QtGui import QFontMetricsF

    size = px
    while True:
        f = page_font(family, size, bold=bold)
        if QFontMetricsF(f).horizontalAdvance(text) <= max_w or size <= px * min_ratio:
            return f
        size *= 0.93


def north_arrow(painter, rect, family: str, color) -> None:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QBrush, QPainterPath, QPen

    h = rect.height()
    label_h = h * 0.32
    cx = rect.left() + rect.width() / 2
    top = rect.top() + label_h
    bottom = rect.bottom()
    half = min(rect.width() * 0.32, (bottom - top) * 0.32)
    left = QPainterPath()
    left.moveTo(cx, top)
    left.lineTo(cx - half, bottom)
    left.lineTo(cx, bottom - (bottom - top) * 0.25)
    left.closeSubpath()
    right = QPainterPath()
    right.moveTo(cx, top)
    right.lineTo(cx + half, bottom)
    right.lineTo(cx, bottom - (bottom - top) * 0.25)
    right.closeSubpath()
    painter.save()
    pen = QPen(color, max(1.0, h * 0.02))
    pen.setJoinStyle(Qt.MiterJoin)
    painter.setPen(pen)
    painter.setBrush(QBrush(color))
    painter.drawPath(left)
    painter.setBrush(QBrush(Qt.white))
    painter.drawPath(right)
    painter.setPen(color)
    painter.setFont(page_font(family, label_h * 0.85, bold=True))
    painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), label_h),
               int(Qt.AlignHCenter | Qt.AlignBottom), "N")
    painter.restore()


def scale_denominator(view, dpi: float) -> int:
    """The page's scale 1:N at the map centre, rounded to 3 significant figures (the same N
    whatever the output format: it depends only on the view and the DPI)."""
    return _round_sig(view.ground_resolution() * dpi / (MM_PER_INCH / 1000.0))


def scale_bar(painter, rect, view, dpi: float, family: str, px: float, color) -> None:
    """Scale bar for the true ground resolution at the map centre (Mercator 1/cos(lat))."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFontMetricsF, QPen

    ground = view.ground_resolution()                      # true metres per device pixel
    font = page_font(family, px)
    fm = QFontMetricsF(font)
    max_len = _nice_length(rect.width() * 0.82 * ground)
    bar_px = max_len / ground
    segs = 5 if round(max_len / 10 ** math.floor(math.log10(max_len))) == 5 else 4
    painter.save()
    painter.setFont(font)
    x0 = rect.left() + fm.horizontalAdvance("0") / 2
    text_h = fm.height()
    bar_h = max(3.0, px * 0.45)
    y = rect.top() + text_h * 1.05
    pen = QPen(color, max(1.0, px * 0.06))
    painter.setPen(pen)
    for i in range(segs):
        r = QRectF(x0 + bar_px * i / segs, y, bar_px / segs, bar_h)
        painter.setBrush(color if i % 2 == 0 else QColor(Qt.white))
        painter.drawRect(r)
    painter.setPen(color)
    unit, div = ("km", 1000.0) if max_len >= 1000 else ("m", 1.0)
    ticks = [(0.0, "0"), (1.0, f"{max_len / div:g} {unit}")]
    mid = f"{max_len / 2 / div:g}"
    w_mid, w_end = fm.horizontalAdvance(mid), fm.horizontalAdvance(ticks[1][1])
    if bar_px / 2 > (w_mid + w_end) / 2 + px * 0.6:
        ticks.insert(1, (0.5, mid))
    for frac, label in ticks:
        w = fm.horizontalAdvance(label)
        painter.drawText(QRectF(x0 + bar_px * frac - w / 2 - 2, rect.top(), w + 4, text_h),
                   int(Qt.AlignCenter), label)
    _, lat = view.center_lonlat()
    denom = scale_denominator(view, dpi)
    _, lat0, _, lat1 = view.extent_lonlat()
    k0, k1 = (1 / math.cos(math.radians(min(abs(v), 89.0))) for v in (lat0, lat1))
    varies = max(k0, k1) / min(k0, k1) > 1.05      # Mercator scale changes >5 % top to bottom
    note = (f"比例尺 1:{denom:,}（中心纬度 {abs(lat):.1f}°{'N' if lat >= 0 else 'S'}"
            + ("，随纬度变化" if varies else "") + "）")
    small = fit_font(family, px * 0.85, note, rect.width())
    painter.setFont(small)
    painter.drawText(QRectF(rect.left(), y + bar_h + px * 0.3, rect.width(), QFontMetricsF(small).height() * 1.2),
               int(Qt.AlignLeft | Qt.AlignTop), note)
    painter.restore()


def fit_columns(family: str, px: float, rect, n: int, row_factor: float, min_ratio: float, widest):
    """Shrink a heading + ``n`` rows in columns into ``rect``: from ``px`` down to
    ``min_ratio × px`` until the widest row (``widest(font_metrics)``) fits its column.
    Returns ``(head_font, font, metrics, head_h, row_h, rows_per_column, columns, column_w)``."""
    from PySide6.QtGui import QFontMetricsF

    size = px
    while True:
        head = page_font(family, size * 1.1)
        font = page_font(family, size)
        fm = QFontMetricsF(font)
        head_h = QFontMetricsF(head).height() * 1.3
        row_h = fm.height() * row_factor
        per_col = max(1, int((rect.height() - head_h) // row_h))
        cols = math.ceil(n / per_col)
        col_w = rect.width() / cols
        if (widest(fm) <= col_w and cols * per_col >= n) or size <= px * min_ratio:
            return head, font, fm, head_h, row_h, per_col, cols, col_w
        size *= 0.92


def column_cells(painter, rect, fit, heading: str, color, n: int, cols: int | None = None):
    """Draw ``heading`` over ``rect`` and set the rows' font; yield ``(index, x, y)`` of each of
    ``n`` rows, column by column (a :func:`fit_columns` result; ``cols`` overrides its count)."""
    from PySide6.QtCore import QRectF, Qt

    head, font, _fm, head_h, row_h, per_col, fit_cols, col_w = fit
    cols = fit_cols if cols is None else cols
    painter.setPen(color)
    painter.setFont(head)
    painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), head_h),
                     int(Qt.AlignLeft | Qt.AlignVCenter), heading)
    painter.setFont(font)
    for k in range(n):
        c, r = divmod(k, per_col)
        if c >= cols:
            return
        yield k, rect.left() + c * col_w, rect.top() + head_h + r * row_h


def legend_box(painter, rect, entries, family: str, px: float, color) -> None:
    from PySide6.QtCore import QRectF, Qt

    if not entries:
        return
    fit = fit_columns(family, px, rect, len(entries), 1.45, 0.6,
                      lambda fm: max(fm.horizontalAdvance(label) for label, _ in entries)
                      + fm.height() * 0.95 * 1.6)
    _head, _font, fm, _head_h, row_h, rows, cols, col_w = fit
    sym = fm.height() * 0.95
    shown = entries
    if cols * rows < len(entries):
        cols = max(1, int(rect.width() // max(col_w, 1)))
        shown = entries[:cols * rows - 1] + [(f"… 另有 {len(entries) - cols * rows + 1} 项", None)]
    painter.save()
    for n, x, y in column_cells(painter, rect, fit, "图例 Legend", color, len(shown), cols):
        label, drawer = shown[n]
        if drawer is not None:
            drawer(painter, QRectF(x, y + (row_h - sym) / 2, sym, sym))
        painter.setPen(color)
        text = fm.elidedText(label, Qt.ElideRight, col_w - sym * 1.6)
        painter.drawText(QRectF(x + sym * 1.4, y, col_w - sym * 1.4, row_h),
                   int(Qt.AlignLeft | Qt.AlignVCenter), text)
    painter.restore()
