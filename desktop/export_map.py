"""Map images for print and slides: PNG, SVG and PDF pages drawn by the canvas painter.

    planatlas export map --plan guangzhou --format pdf --paper A3 --dpi 300 --out gz.pdf

``export_map(atlas, plans, out, …)`` lays out one page — title and subtitle, the map, a legend
of the visible layers only, a north arrow, a scale bar correct for the latitude of the map
centre (Web Mercator exaggerates distances by 1/cos(lat)), the data sources, plan names and the
date — and draws the map with :func:`desktop.render.paint_map`, the same painter as the
screen canvas, so a printed map looks like the app.

* PNG: exactly ``paper × dpi`` pixels (A3 landscape at 300 dpi is 4961×3508), with the DPI
  stored in the file.
* SVG (QSvgGenerator) and PDF (QPdfWriter): vector; the page furniture (title, legend, scale
  bar labels, sources) is written with ``drawText`` so it is real, selectable text.
* ``progress(percent) -> bool`` is called along the way; returning ``False`` cancels, raises
  :class:`ExportCancelled` and leaves nothing behind (the page is built under a temporary name
  and moved into place only when complete).

Needs a ``QGuiApplication`` (the CLI creates an offscreen one). Chinese text uses the bundled
font from :mod:`desktop.fonts`.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from planatlas.layers.export.data import ExportError, atomic_path, resolve_categories, resolve_plans
from planatlas.layers.fsutil import WriteFailed
from planatlas.layers.safetext import xml_safe
from planatlas.layers.model import CATEGORY_LABELS

__all__ = ["PAPERS_MM", "PageSpec", "page_spec", "parse_extent", "map_extent", "export_map",
           "render_page", "ExportCancelled", "FORMATS", "fix_pdf_tounicode", "ensure_app"]

FORMATS = ("png", "svg", "pdf")
# landscape width × height in millimetres (ISO 216)
PAPERS_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0), "A2": (594.0, 420.0)}
MM_PER_INCH = 25.4


class ExportCancelled(Exception):
    """The progress callback asked to stop; no file was written."""


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


def parse_extent(value: str | Sequence[float] | None):
    """``None``/``"plan"`` → ``None`` (fit the plans); ``"minlon,minlat,maxlon,maxlat"`` → tuple."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "plan")):
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    try:
        nums = [float(p) for p in parts]
    except (TypeError, ValueError):
        raise ExportError(f"--extent must be 'plan' or minlon,minlat,maxlon,maxlat, got {value!r}") from None
    if len(nums) != 4 or not all(math.isfinite(v) for v in nums):
        raise ExportError(f"--extent needs 4 numbers minlon,minlat,maxlon,maxlat, got {value!r}")
    minlon, minlat, maxlon, maxlat = nums
    if not (-180 <= minlon < maxlon <= 180 and -85 <= minlat < maxlat <= 85):
        raise ExportError(f"--extent {value!r} is not a valid lon/lat box (min < max, |lat| ≤ 85)")
    return (minlon, minlat, maxlon, maxlat)


def _visible_ids(scene, keys) -> list[str]:
    import numpy as np

    cols = [scene.layer_index[k] for k in keys if k in scene.layer_index]
    if not cols or not len(scene.ids):
        return []
    mask = scene.member[:, cols].any(axis=1)
    return [scene.ids[i] for i in np.flatnonzero(mask)]


def map_extent(atlas, plans: Sequence[str], scene=None, keys=None) -> tuple[float, float, float, float]:
    """Lon/lat box covering the plans' areas (basemap) and their visible features."""
    boxes = []
    basemap = getattr(atlas, "basemap", None)
    for pid in plans:
        try:
            boxes.append(tuple(basemap.plan_extent(pid)))
        except Exception:  # noqa: BLE001 - user plans have no area in the basemap
            pass
    if scene is not None and keys:
        b = scene.bbox_lonlat(_visible_ids(scene, keys))
        if b is not None:
            boxes.append(b)
    if not boxes:
        raise ExportError(f"nothing to frame: plans {', '.join(plans)} have no area in the "
                          "basemap and no visible features; give --extent")
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


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


# ----------------------------------------------------------------------------- page drawing

@dataclass
class PageInfo:
    title: str
    subtitle: str
    legend: list[tuple[str, Any]]          # (label, drawer(painter, QRectF))
    attribution: list[str]
    date: str


def _plan_short(plan) -> str:
    r = plan.region
    return r.district or r.city or plan.id


def _font(family: str, px: float, *, bold: bool = False):
    from PySide6.QtGui import QFont

    f = QFont(family)
    f.setPixelSize(max(1, int(round(px))))
    # The bundled font has one weight: Qt would fake bold by drawing the text twice, which
    # doubles it in PDF text extraction; emphasis comes from size instead.
    f.setBold(False)
    f.setHintingPreference(QFont.PreferNoHinting)
    if hasattr(f, "setFeature"):
        # Noto Sans SC's 'locl' swaps digits/Latin for glyphs outside its cmap: they print the
        # same but Qt's PDF writer cannot map them back to Unicode (copy/search would fail).
        f.setFeature(QFont.Tag("locl"), 0)
    return f


_RADICALS = range(0x2E80, 0x2FE0)      # CJK Radicals Supplement + Kangxi Radicals


def _radical_map(family: str) -> dict[int, int]:
    """Radical code point -> unified ideograph drawn with the same glyph in ``family``.

    Qt's PDF writer maps each glyph back to the LOWEST code point that uses it, so 广 (U+5E7F)
    comes out as the Kangxi radical ⼴ (U+2F34) when text is copied or searched.
    """
    from PySide6.QtGui import QRawFont

    raw = QRawFont.fromFont(_font(family, 32))
    if not raw.isValid():
        return {}
    unified = "".join(chr(c) for c in range(0x4E00, 0xA000))
    by_glyph: dict[int, int] = {}
    for c, g in zip(range(0x4E00, 0xA000), raw.glyphIndexesForString(unified)):
        if g:
            by_glyph.setdefault(int(g), c)
    rads = "".join(chr(c) for c in _RADICALS)
    out = {}
    for c, g in zip(_RADICALS, raw.glyphIndexesForString(rads)):
        if g and int(g) in by_glyph:
            out[c] = by_glyph[int(g)]
    return out


def fix_pdf_tounicode(path: Path, family: str) -> int:
    """Rewrite radical code points in the PDF's ToUnicode maps to the ideographs they stand for.

    Works in place on Qt's uncompressed CMaps, replacing 4-hex-digit destination codes with
    4-hex-digit codes, so no byte offset changes. Returns the number of codes replaced.
    """
    mapping = _radical_map(family)
    if not mapping:
        return 0
    data = path.read_bytes()
    count = 0
    hexmap = {f"{k:04X}".encode(): f"{v:04X}".encode() for k, v in mapping.items()}

    def fix_dst(m: "re.Match[bytes]") -> bytes:
        nonlocal count
        code = m.group(1).upper()
        if code in hexmap:
            count += 1
            return b"<" + hexmap[code] + b">"
        return m.group(0)

    def fix_cmap(m: "re.Match[bytes]") -> bytes:
        lines = []
        for line in m.group(0).split(b"\n"):
            mm = re.match(rb"^(<[0-9A-Fa-f]{4}>\s+<[0-9A-Fa-f]{4}>\s+)(.*)$", line) or \
                re.match(rb"^(<[0-9A-Fa-f]{4}>\s+)(<[0-9A-Fa-f]{4}>.*)$", line)
            if mm and b"codespacerange" not in line:
                line = mm.group(1) + re.sub(rb"<([0-9A-Fa-f]{4})>", fix_dst, mm.group(2))
            lines.append(line)
        return b"\n".join(lines)

    fixed = re.sub(rb"(?s)beginbf(?:range|char).*?endbf(?:range|char)", fix_cmap, data)
    if len(fixed) != len(data):      # pragma: no cover - same-length substitution by design
        raise RuntimeError("PDF ToUnicode fix changed the file length")
    if count:
        path.write_bytes(fixed)
    return count


def _fit_font(family: str, px: float, text: str, max_w: float, *, bold=False, min_ratio=0.55):
    """Shrink the font until ``text`` fits in ``max_w`` (down to ``min_ratio``)."""
    from PySide6.QtGui import QFontMetricsF

    size = px
    while True:
        f = _font(family, size, bold=bold)
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
    painter.setFont(_font(family, label_h * 0.85, bold=True))
    _draw_text(painter, QRectF(rect.left(), rect.top(), rect.width(), label_h),
               int(Qt.AlignHCenter | Qt.AlignBottom), "N")
    painter.restore()


def _scale_bar(painter, rect, view, dpi: float, family: str, px: float, color) -> None:
    """Scale bar for the true ground resolution at the map centre (Mercator 1/cos(lat))."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFontMetricsF, QPen

    ground = view.ground_resolution()                      # true metres per device pixel
    font = _font(family, px)
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
        head = _font(family, size * 1.1, bold=True)
        font = _font(family, size)
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


def _legend_entries(atlas, scene, view, keys, scale: float) -> list[tuple[str, Any]]:
    """Legend rows: the visible (plan, category) layers that have a feature in the view,
    then the basemap symbols and the position-quality symbols actually on the map."""
    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QBrush, QColor, QPen

    from planatlas.desktop import render as R

    in_view = scene._in_extent(*view.extent()) & scene.any_visible
    entries: list[tuple[str, Any]] = []
    for key in keys:
        li = scene.layer_index.get(key)
        if li is None or key not in scene.visible:
            continue
        count = int((scene.member[:, li] & in_view).sum())
        if not count:
            continue
        st = scene.styles[key]
        plan = atlas.plans.get(key[0]) if hasattr(atlas.plans, "get") else None
        label = f"{_plan_short(plan) if plan is not None else key[0]} · {CATEGORY_LABELS[key[1]][0]}（{count}）"

        def draw(p, r, st=st):
            p.save()
            p.setRenderHint(p.RenderHint.Antialiasing, True)
            p.translate(r.center())
            path = R.symbol_path(st.shape, r.width() * 0.9)
            p.setPen(QPen(QColor(255, 255, 255), max(1.0, r.width() * 0.08)))
            p.setBrush(st.qcolor())
            p.drawPath(path)
            p.setPen(QPen(st.qcolor().darker(160), max(0.6, r.width() * 0.04)))
            p.setBrush(Qt.NoBrush)
            p.drawPath(R.symbol_path(st.shape, r.width() * 0.98))
            p.restore()
        entries.append((label, draw))

    idx = np.flatnonzero(in_view)
    if len(idx) and bool((scene.approx[idx] & (scene.kind[idx] == scene.KIND_POINT)).any()):
        def halo(p, r):
            p.save()
            p.setRenderHint(p.RenderHint.Antialiasing, True)
            p.setPen(QPen(QColor(120, 120, 120, 160), max(1.0, r.width() * 0.06), Qt.DotLine))
            p.setBrush(QColor(120, 120, 120, 40))
            p.drawEllipse(r.center(), r.width() / 2, r.width() / 2)
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(90, 90, 90))
            p.drawEllipse(r.center(), r.width() * 0.15, r.width() * 0.15)
            p.restore()
        entries.append(("近似位置（圈为精度范围）", halo))
    if len(idx) and bool(scene.schematic[idx].any()):
        def schematic(p, r):
            p.save()
            p.setPen(QPen(QColor(90, 90, 90), max(1.0, r.width() * 0.07), Qt.DashLine))
            p.setBrush(QBrush(QColor(90, 90, 90, 120), Qt.BDiagPattern))
            p.drawRect(r.adjusted(r.width() * 0.08, r.height() * 0.2, -r.width() * 0.08, -r.height() * 0.2))
            p.restore()
        entries.append(("示意范围（手绘轮廓）", schematic))

    def fill(brush_color, pen_color, style=Qt.SolidLine, brush=True):
        def d(p, r):
            p.save()
            pen = QPen(QColor(pen_color), max(1.0, r.width() * 0.08), style)
            p.setPen(pen)
            p.setBrush(QColor(brush_color) if brush else Qt.NoBrush)
            p.drawRect(r.adjusted(r.width() * 0.08, r.height() * 0.2, -r.width() * 0.08, -r.height() * 0.2))
            p.restore()
        return d

    bm = scene
    if bm.bm_districts:
        entries.append(("区县界 Districts", fill(getattr(R, "PLAN_LAND", QColor("#fffdf4")),
                                                getattr(R, "DISTRICT_EDGE", QColor("#c4bcae")))))
    if bm.bm_plan_areas:
        entries.append(("规划范围 Plan area", fill("#ffffff", getattr(R, "PLAN_EDGE", QColor("#d8a24a")),
                                                    Qt.DashLine, brush=False)))
    if bm.bm_water:
        water = getattr(R, "WATER", QColor("#b9d6ee"))
        entries.append(("水系 Water", fill(water, getattr(R, "WATER_EDGE", water))))
    return entries


def render_page(painter, width: float, height: float, spec: PageSpec, view, scene, info: PageInfo,
                *, labels: bool = True, progress: Callable[[int], None] | None = None):
    """Draw the whole page (furniture + map) on ``painter`` (device pixels ``width × height``).

    ``view`` must already be fitted to the map frame returned by :func:`page_frames`.
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
    paint_map(painter, fr.map_rect, view, scene, labels=labels, scale=scale)
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
        f = _font(family, size)
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


# ----------------------------------------------------------------------------- entry point

def _check_format(fmt: str | None, out: Path) -> str:
    key = (fmt or out.suffix.lstrip(".")).lower()
    if key not in FORMATS:
        raise ExportError(f"unknown map format {fmt or out.suffix!r}; expected one of {', '.join(FORMATS)}")
    return key


def export_map(atlas, plans, out, *, fmt: str | None = None, layers=None, paper: str = "A4",
               orientation: str | None = "landscape", dpi: float | None = None, extent=None,
               title: str | None = None, subtitle: str | None = None, labels: bool = True,
               scene=None, progress: Callable[[int], bool] | None = None) -> dict[str, Any]:
    """Write a map page of ``plans`` (ids, list or ``"a,b"``) to ``out`` as PNG/SVG/PDF.

    ``layers``: categories to show (default all); ``extent``: ``None``/``"plan"`` or a lon/lat
    box; ``scene``: a prepared :class:`desktop.render.MapScene` (e.g. the canvas's, so user
    styles carry over; its visibility/selection are restored afterwards). ``progress(percent)``
    returning ``False`` cancels (:class:`ExportCancelled`, nothing written).

    Returns ``{"path", "format", "width_px", "height_px", "dpi", "page_mm", "extent", "plans",
    "layers", "legend"}``.
    """
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        raise RuntimeError("export_map needs a QGuiApplication (see desktop.export_map.ensure_app)")
    out = Path(out)
    fmt = _check_format(fmt, out)
    spec = page_spec(paper, orientation, dpi)
    box = parse_extent(extent)
    plan_ids = resolve_plans(atlas, plans)
    cats = resolve_categories(layers)

    def step(percent: int) -> None:
        if progress is not None and progress(int(percent)) is False:
            raise ExportCancelled(f"map export to {out} cancelled at {percent}%")

    step(0)
    from planatlas.desktop.render import MapScene

    own_scene = scene is None
    if own_scene:
        scene = MapScene.from_atlas(atlas)
    keys = [(p, c) for p in plan_ids for c in cats]
    saved = (set(scene.visible), set(scene.selection), scene.highlight)
    try:
        scene.set_visible_layers(keys)
        scene.set_selection(())
        scene.set_highlight(None)
        step(10)
        if box is None:
            box = map_extent(atlas, plan_ids, scene, keys)
        plans_txt = "、".join(atlas.plans[p].title for p in plan_ids)
        page_title = title if title is not None else (
            f"{'、'.join(_plan_short(atlas.plans[p]) for p in plan_ids)} · 规划点位图")
        page_sub = subtitle if subtitle is not None else plans_txt
        from planatlas.layers.export.html import basemap_attribution

        attribution = [
            "规划：" + "；".join(f"{atlas.plans[p].title}（{atlas.plans[p].issuer}，{atlas.plans[p].issued}）"
                               for p in plan_ids),
            "底图：" + basemap_attribution(getattr(atlas, "basemap", None)).replace("PlanAtlas 内置底图：", ""),
            "点位：PlanAtlas 整理（多为近似位置，精度见数据导出）；Web 墨卡托投影，WGS-84",
        ]
        date = _dt.date.today().isoformat()

        with atomic_path(out, create=False) as tmp:
            result = _paint_to_file(tmp, fmt, spec, scene, box, keys, atlas, labels,
                                    page_title, page_sub, attribution, date, step)
        step(100)
    finally:
        if not own_scene:
            scene.set_visible_layers(saved[0])
            scene.set_selection(saved[1])
            scene.set_highlight(saved[2])
    result.update({"path": str(out), "format": fmt, "dpi": spec.dpi,
                   "page_mm": [round(spec.width_mm, 1), round(spec.height_mm, 1)],
                   "extent": [round(v, 6) for v in box], "plans": plan_ids, "layers": cats,
                   "title": page_title})
    return result


def _paint_to_file(tmp: Path, fmt: str, spec: PageSpec, scene, box, keys, atlas, labels,
                   title, subtitle, attribution, date, step) -> dict[str, Any]:
    from PySide6.QtCore import QMarginsF, QRect, QSize, QSizeF
    from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

    from planatlas.desktop.render import MapView

    device = None
    if fmt == "png":
        device = QImage(spec.width_px, spec.height_px, QImage.Format_ARGB32_Premultiplied)
        if device.isNull():
            raise ExportError(f"not enough memory for a {spec.width_px}×{spec.height_px} image")
        dpm = int(round(spec.dpi / MM_PER_INCH * 1000))
        device.setDotsPerMeterX(dpm)
        device.setDotsPerMeterY(dpm)
        device.fill(0xFFFFFFFF)
    elif fmt == "pdf":
        device = QPdfWriter(str(tmp))
        device.setResolution(int(round(spec.dpi)))
        if spec.named:
            size = QPageSize(getattr(QPageSize.PageSizeId, spec.paper))
            orient = QPageLayout.Landscape if spec.orientation == "landscape" else QPageLayout.Portrait
        else:
            size = QPageSize(QSizeF(spec.width_mm, spec.height_mm), QPageSize.Millimeter,
                             spec.paper, QPageSize.ExactMatch)
            orient = QPageLayout.Portrait
        device.setPageLayout(QPageLayout(size, orient, QMarginsF(0, 0, 0, 0)))
        device.setTitle(title)
        device.setCreator("PlanAtlas")
    else:
        from PySide6.QtSvg import QSvgGenerator

        device = QSvgGenerator()
        device.setFileName(str(tmp))
        device.setSize(QSize(spec.width_px, spec.height_px))
        device.setViewBox(QRect(0, 0, spec.width_px, spec.height_px))
        device.setResolution(int(round(spec.dpi)))
        device.setTitle(title)
        device.setDescription(subtitle)

    painter = QPainter()
    if not painter.begin(device):
        raise ExportError(f"cannot write {fmt.upper()} to {tmp.parent}")
    try:
        w, h = painter.device().width(), painter.device().height()
        frames = page_frames(w, h, spec, title, subtitle)
        mr = frames.map_rect
        view = MapView.fit(box, (max(1, int(round(mr.width()))), max(1, int(round(mr.height())))),
                           margin=0.03, min_res=0.05)
        legend = _legend_entries(atlas, scene, view, keys, spec.dpi / 96.0)
        info = PageInfo(title, subtitle, legend, attribution, date)
        step(25)
        render_page(painter, w, h, spec, view, scene, info, labels=labels,
                    progress=lambda pc: step(pc))
        step(90)
    finally:
        painter.end()
    if fmt == "png":
        if not device.save(str(tmp), "PNG"):
            raise WriteFailed("Qt could not write the PNG")
    del device
    if fmt == "svg":
        _svg_font_fallbacks(tmp)
    if fmt == "pdf":
        from planatlas.desktop.fonts import ensure_fonts

        fix_pdf_tounicode(tmp, ensure_fonts())
    return {"width_px": w, "height_px": h, "legend": [label for label, _ in legend],
            "map_rect_px": [round(mr.left(), 2), round(mr.top(), 2), view.width, view.height],
            "view_extent": [round(v, 6) for v in view.extent_lonlat()],
            "scale_m_per_px": view.ground_resolution()}


_SVG_FONTS = "'Noto Sans SC', 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', " \
             "'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif"


def _svg_font_fallbacks(path: Path) -> None:
    """Let SVG viewers without the bundled font fall back to a system Chinese sans font."""
    text = xml_safe(path.read_text(encoding="utf-8"))   # Qt writes control characters verbatim
    text = re.sub(r'font-family="([^"]*)"',
                  lambda m: f'font-family="{_SVG_FONTS}"' if "Noto Sans SC" in m.group(1) else m.group(0),
                  text)
    path.write_text(text, encoding="utf-8")


# ----------------------------------------------------------------------------- command line

def ensure_app():
    """A QGuiApplication for command-line painting: offscreen (no window is ever shown, so no
    display or X11 library is needed) unless the user chose a platform in QT_QPA_PLATFORM."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QGuiApplication(["planatlas"])
    return app
