"""One map page for print and slides: paper sizes, where everything goes, and the furniture
around the map — title, legend, north arrow, a scale bar true at the centre latitude, sources.

:func:`render_page` draws a whole page on any QPainter (QImage, QPdfWriter, QSvgGenerator); the
map in it is painted by :func:`desktop.render.paint_map` from a layer stack, so the page shows
what the canvas shows. Page text is drawn with ``drawText``: real, selectable text in SVG/PDF.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from planatlas.layers.export.data import ExportError

__all__ = ["PAPERS_MM", "MM_PER_INCH", "PageSpec", "PageInfo", "Frames", "page_spec",
           "page_frames", "render_page", "page_font"]

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


@dataclass
class PageInfo:
    title: str
    subtitle: str
    legend: list[tuple[str, Any]]          # (label, drawer(painter, QRectF))
    attribution: list[str]
    date: str


def page_font(family: str, px: float, *, bold: bool = False):
    """Page text font: :func:`desktop.pdftext.pdf_font` (extracts as printed from PDFs)."""
    from planatlas.desktop.pdftext import pdf_font

    return pdf_font(family, px, bold=bold)


def _fit_font(family: str, px: float, text: str, max_w: float, *, bold=False, min_ratio=0.55):
    """Shrink the font until ``text`` fits in ``max_w`` (down to ``min_ratio``)."""
    from PySide6.QtGui import QFontMetricsF

    size = px
    while True:
        f = page_font(family, size, bold=bold)
        if QFontMetricsF(f).horizontalAdvance(text) <= max_w or size <= px * min_ratio:
            return f
        size *= 0.93


def _draw_text(painter, rect, flags, text: str) -> None:
    painter.drawText(rect, flags, text)


def _north_arrow(painter, rect, family: str, color) -> None:
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
    _draw_text(painter, QRectF(rect.left(), rect.top(), rect.width(), label_h),
               int(Qt.AlignHCenter | Qt.AlignBottom), "N")
    painter.restore()


def _scale_bar(painter, rect, view, dpi: float, family: str, px: float, color) -> None:
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
        _draw_text(painter, QRectF(x0 + bar_px * frac - w / 2 - 2, rect.top(), w + 4, text_h),
                   int(Qt.AlignCenter), label)
    _, lat = view.center_lonlat()
    denom = _round_sig(ground * dpi / (MM_PER_INCH / 1000.0))
    _, lat0, _, lat1 = view.extent_lonlat()
    k0, k1 = (1 / math.cos(math.radians(min(abs(v), 89.0))) for v in (lat0, lat1))
    varies = max(k0, k1) / min(k0, k1) > 1.05      # Mercator scale changes >5 % top to bottom
    note = (f"比例尺 1:{denom:,}（中心纬度 {abs(lat):.1f}°{'N' if lat >= 0 else 'S'}"
            + ("，随纬度变化" if varies else "") + "）")
    small = _fit_font(family, px * 0.85, note, rect.width())
    painter.setFont(small)
    _draw_text(painter, QRectF(rect.left(), y + bar_h + px * 0.3, rect.width(), QFontMetricsF(small).height() * 1.2),
               int(Qt.AlignLeft | Qt.AlignTop), note)
    painter.restore()


def _legend(painter, rect, entries, family: str, px: float, color) -> None:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QFontMetricsF

    if not entries:
        return
    size = px
    while True:
        head = page_font(family, size * 1.1, bold=True)
        font = page_font(family, size)
        fm = QFontMetricsF(font)
        head_h = QFontMetricsF(head).height() * 1.3
        row_h = fm.height() * 1.45
        rows = max(1, int((rect.height() - head_h) // row_h))
        cols = math.ceil(len(entries) / rows)
        sym = fm.height() * 0.95
        col_w = rect.width() / cols
        widest = max(fm.horizontalAdvance(label) for label, _ in entries) + sym * 1.6
        if (widest <= col_w and cols * rows >= len(entries)) or size <= px * 0.6:
            break
        size *= 0.92
    shown = entries
    if cols * rows < len(entries):
        cols = max(1, int(rect.width() // max(col_w, 1)))
        shown = entries[:cols * rows - 1] + [(f"… 另有 {len(entries) - cols * rows + 1} 项", None)]
    painter.save()
    painter.setPen(color)
    painter.setFont(head)
    _draw_text(painter, QRectF(rect.left(), rect.top(), rect.width(), head_h),
               int(Qt.AlignLeft | Qt.AlignVCenter), "图例 Legend")
    painter.setFont(font)
    for n, (label, drawer) in enumerate(shown):
        c, r = divmod(n, rows)
        x = rect.left() + c * col_w
        y = rect.top() + head_h + r * row_h
        if drawer is not None:
            drawer(painter, QRectF(x, y + (row_h - sym) / 2, sym, sym))
        painter.setPen(color)
        text = fm.elidedText(label, Qt.ElideRight, col_w - sym * 1.6)
        _draw_text(painter, QRectF(x + sym * 1.4, y, col_w - sym * 1.4, row_h),
                   int(Qt.AlignLeft | Qt.AlignVCenter), text)
    painter.restore()


def render_page(painter, width: float, height: float, spec: PageSpec, view, scene, info: PageInfo,
                *, labels: bool = True, progress: Callable[[int], None] | None = None, stack=None):
    """Draw the whole page (furniture + map) on ``painter`` (device pixels ``width × height``).

    ``view`` must already be fitted to the map frame returned by :func:`page_frames`; the map
    shows ``stack`` (default: the scene's standard stack) without selection or hover marks.
    """
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QPainter, QPen

    from planatlas.desktop.fonts import ensure_fonts
    from planatlas.desktop.render import paint_map

    family = ensure_fonts()
    frames = page_frames(width, height, spec, info.title, info.subtitle)
    ink = QColor("#222222")
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setRenderHint(QPainter.TextAntialiasing, True)
    painter.fillRect(QRectF(0, 0, width, height), QColor(Qt.white))

    # the map, by the canvas painter
    fr = frames
    scale = spec.dpi / 96.0
    paint_map(painter, fr.map_rect, view, scene, stack=stack, labels=labels, scale=scale,
              selection=False)
    if progress:
        progress(80)
    # QSvgGenerator ignores clipping: mask whatever the map drew outside its frame
    mr = fr.map_rect
    painter.setPen(Qt.NoPen)
    for r in (QRectF(0, 0, width, mr.top()), QRectF(0, mr.bottom(), width, height - mr.bottom()),
              QRectF(0, mr.top(), mr.left(), mr.height()),
              QRectF(mr.right(), mr.top(), width - mr.right(), mr.height())):
        if r.width() > 0 and r.height() > 0:
            painter.fillRect(r, QColor(Qt.white))

    # title and subtitle (real text)
    painter.setPen(ink)
    painter.setFont(_fit_font(family, fr.title_px, info.title, fr.title_rect.width(), bold=True))
    _draw_text(painter, fr.title_rect, int(Qt.AlignLeft | Qt.AlignVCenter), info.title)
    if info.subtitle:
        painter.setPen(QColor("#555555"))
        painter.setFont(_fit_font(family, fr.sub_px, info.subtitle, fr.sub_rect.width()))
        _draw_text(painter, fr.sub_rect, int(Qt.AlignLeft | Qt.AlignVCenter), info.subtitle)
    painter.setBrush(Qt.NoBrush)
    painter.setPen(QPen(ink, max(1.0, spec.dpi / 150.0)))
    painter.drawRect(fr.map_rect)

    # furniture in the panel, never over the map (so it cannot hide labels or sites)
    body = fr.body_px
    _north_arrow(painter, fr.north_rect, family, ink)
    _scale_bar(painter, fr.scale_rect, view, spec.dpi, family, body, ink)
    painter.setPen(QPen(QColor("#bbbbbb"), max(1.0, spec.dpi / 300.0)))
    _legend(painter, fr.legend_rect, info.legend, family, body, ink)

    # sources, plans and date at the bottom of the panel (word-wrapped real text)
    text = "\n".join(info.attribution + [f"制图 PlanAtlas · {info.date}"])
    size = fr.small_px
    flags = int(Qt.AlignLeft | Qt.AlignBottom | Qt.TextWordWrap)
    while True:
        f = page_font(family, size)
        painter.setFont(f)
        need = painter.boundingRect(QRectF(0, 0, fr.attr_rect.width(), 1e6), flags, text)
        if need.height() <= fr.attr_rect.height() or size <= fr.small_px * 0.5:
            break
        size *= 0.92
    painter.setPen(QColor("#444444"))
    _draw_text(painter, fr.attr_rect, flags, text)
    painter.restore()
    return frames


@dataclass
class Frames:
    title_rect: Any
    sub_rect: Any
    map_rect: Any
    north_rect: Any
    scale_rect: Any
    legend_rect: Any
    attr_rect: Any
    title_px: float
    sub_px: float
    body_px: float
    small_px: float


def page_frames(width: float, height: float, spec: PageSpec, title: str, subtitle: str) -> Frames:
    """Where everything goes on a ``width × height`` device-pixel page."""
    from PySide6.QtCore import QRectF

    short_mm = min(width, height) / spec.dpi * MM_PER_INCH
    k = max(0.5, short_mm / 210.0)                     # 1.0 on A4, 1.41 on A3, 2 on A2
    pt = spec.dpi / 72.0
    title_px = 20 * pt * k
    sub_px = 11 * pt * k
    body_px = 8.5 * pt * k
    small_px = 6.8 * pt * k
    m = 0.035 * min(width, height)
    gap = 0.5 * body_px * 1.5
    y = m
    title_rect = QRectF(m, y, width - 2 * m, title_px * 1.35)
    y += title_rect.height()
    sub_rect = QRectF(m, y, width - 2 * m, sub_px * 1.4 if subtitle else 0)
    y += sub_rect.height() + gap
    top, bottom, left, right = y, height - m, m, width - m
    ns_h = body_px * 5.2
    if width >= height:
        panel_w = 0.235 * (right - left)
        map_rect = QRectF(left, top, right - left - panel_w - gap, bottom - top)
        px0 = map_rect.right() + gap
        north_rect = QRectF(px0, top, ns_h * 0.55, ns_h)
        scale_rect = QRectF(north_rect.right() + gap, top + body_px * 0.6, right - north_rect.right() - gap, ns_h)
        attr_h = (bottom - top) * 0.30
        attr_rect = QRectF(px0, bottom - attr_h, right - px0, attr_h)
        legend_rect = QRectF(px0, top + ns_h + gap * 2, right - px0,
                             attr_rect.top() - gap - (top + ns_h + gap * 2))
    else:
        panel_h = 0.25 * (bottom - top)
        map_rect = QRectF(left, top, right - left, bottom - top - panel_h - gap)
        py0 = map_rect.bottom() + gap
        split = left + (right - left) * 0.6
        legend_rect = QRectF(left, py0, split - left - gap, bottom - py0)
        north_rect = QRectF(split, py0, ns_h * 0.55, ns_h)
        scale_rect = QRectF(north_rect.right() + gap, py0 + body_px * 0.6, right - north_rect.right() - gap, ns_h)
        attr_rect = QRectF(split, py0 + ns_h + gap, right - split, bottom - (py0 + ns_h + gap))
    return Frames(title_rect, sub_rect, map_rect, north_rect, scale_rect, legend_rect, attr_rect,
                  title_px, sub_px, body_px, small_px)
