"""Point symbols (pre-rendered sprites on raster devices, vector shapes on SVG/PDF), precision
halos, and the small legend drawings shared by the layers panel and page exports."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen

from .splat import SpriteBatch, draw_order
from .styles import HOVER_COLOR, SELECT_COLOR, LayerStyle, qcolor, symbol_path

__all__ = ["make_sprite", "make_halo", "draw_symbol", "add_symbols", "paint_halos", "symbol_drawer",
           "halo_drawer", "schematic_drawer", "swatch_drawer", "square_drawer", "Drawer"]

Drawer = Callable[[QPainter, QRectF], None]      # draws a legend symbol into a box


def draw_symbol(p: QPainter, shape: str, color: QColor, size: float, variant: str,
                scale: float) -> None:
    """One symbol centred on the painter's origin; ``variant`` normal | selected | hover."""
    path = symbol_path(shape, size)
    if variant in ("selected", "hover"):
        ring = QPen(QColor(SELECT_COLOR if variant == "selected" else HOVER_COLOR), 3.5 * scale)
        ring.setJoinStyle(Qt.RoundJoin)
        p.setPen(ring)
        p.setBrush(Qt.NoBrush)
        p.drawPath(path)
    outline = QPen(QColor(255, 255, 255), 1.4 * scale)
    outline.setJoinStyle(Qt.RoundJoin)
    p.setPen(outline)
    p.setBrush(color)
    p.drawPath(path)
    inner = QPen(color.darker(160), 0.8 * scale)
    p.setPen(inner)
    p.setBrush(Qt.NoBrush)
    p.drawPath(symbol_path(shape, size + 1.6 * scale))


def make_sprite(shape: str, color: QColor, size: float, variant: str) -> QImage:
    pad = 3 if variant == "normal" else 6
    dim = int(math.ceil(size)) + 2 * pad
    img = QImage(dim, dim, QImage.Format_ARGB32_Premultiplied)
    img.fill(Qt.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    p.translate(dim / 2.0, dim / 2.0)
    draw_symbol(p, shape, color, size, variant, 1.0)
    p.end()
    return img


def add_symbols(batch, painter: QPainter, px, py, style: LayerStyle, sprites, size: float,
                variant: str, raster: bool, scale: float, opacity: float = 1.0) -> None:
    """Symbols at pixel positions ``px, py``: on raster devices pre-rendered sprites
    (``sprites.sprite`` caches them) added to ``batch`` (a :class:`.splat.SpriteBatch`) from
    the top of the screen down, left to right; on vector devices drawn at once as shapes."""
    if not len(px):
        return
    if raster:
        img = sprites.sprite(style.shape, style.color, size, variant)
        half = img.width() / 2.0
        xs = np.rint(px - half).astype(np.int64)
        ys = np.rint(py - half).astype(np.int64)
        order = draw_order(xs, ys)
        batch.add(img, xs[order], ys[order], opacity)
        return
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setOpacity(painter.opacity() * opacity)
    col = style.qcolor()
    order = np.lexsort((px, py))
    for x, y in zip(px[order].tolist(), py[order].tolist()):
        painter.save()
        painter.translate(x, y)
        draw_symbol(painter, style.shape, col, size, variant, scale)
        painter.restore()
    painter.restore()


def make_halo(color: str, radius: float, scale: float) -> QImage:
    """A precision disc of ``radius`` pixels (faint fill, dotted rim) as a sprite."""
    pad = 2 + scale
    dim = int(math.ceil(2 * (radius + pad)))
    img = QImage(dim, dim, QImage.Format_ARGB32_Premultiplied)
    img.fill(Qt.transparent)
    p = QPainter(img)
    _halo(p, QColor(color), QPointF(dim / 2.0, dim / 2.0), radius, scale)
    p.end()
    return img


def _halo(p: QPainter, color: QColor, centre: QPointF, radius: float, scale: float) -> None:
    p.setRenderHint(QPainter.Antialiasing, True)
    rim = QColor(color)
    rim.setAlpha(110)
    fill = QColor(color)
    fill.setAlpha(34)
    p.setPen(QPen(rim, 1.0 * scale, Qt.DotLine))
    p.setBrush(fill)
    p.drawEllipse(centre, radius, radius)


HALO_SPRITE_MAX = 160.0          # larger discs are drawn as ellipses (they are few: zoomed in)


def paint_halos(painter: QPainter, px, py, r, styles: list[LayerStyle], which, scale: float,
                opacity: list[float] | None = None, sprites=None) -> None:
    """Faint precision discs of radius ``r`` pixels; ``styles[which[i]]`` colours disc i and
    ``opacity[which[i]]`` (default 1) fades it. With ``sprites`` (a raster device) and many
    discs, each (colour, radius rounded to a quarter octave) is a sprite composited in bulk."""
    painter.save()
    base = painter.opacity()
    fade = opacity or [1.0] * len(styles)
    many = sprites is not None and len(px) > 400
    bulk = many & (r <= HALO_SPRITE_MAX) if many else np.zeros(len(px), dtype=bool)
    if bulk.any():
        rb = np.round(np.log2(np.maximum(r, 1.0)) * 4) / 4     # quarter-octave buckets
        batch = SpriteBatch()
        for k in sorted(np.unique(which[bulk]).tolist(), reverse=True):    # bottom layer first
            m = bulk & (which == k)
            for b in np.unique(rb[m]).tolist():
                mm = m & (rb == b)
                img = sprites.halo_sprite(styles[k].color, 2.0 ** b, scale)
                half = img.width() / 2.0
                xs = np.rint(px[mm] - half).astype(np.int64)
                ys = np.rint(py[mm] - half).astype(np.int64)
                order = draw_order(xs, ys)
                batch.add(img, xs[order], ys[order], fade[k])
        batch.draw(painter)
    rest = ~bulk
    for x, y, rr, k in zip(px[rest].tolist(), py[rest].tolist(), r[rest].tolist(),
                           which[rest].tolist()):
        painter.setOpacity(base * fade[k])
        _halo(painter, styles[k].qcolor(), QPointF(x, y), rr, scale)
    painter.restore()


# ----------------------------------------------------------------------------- legend drawings
def symbol_drawer(style: LayerStyle, variant: str = "normal") -> Drawer:
    """The layer's point symbol, sized after its style, in a legend box."""
    def draw(p: QPainter, r: QRectF) -> None:
        d = r.width()
        p.save()
        p.setRenderHint(QPainter.Antialiasing, True)
        p.translate(r.center())
        draw_symbol(p, style.shape, style.qcolor(), d * min(0.9, 0.35 + style.size / 30.0),
                    variant, max(1.0, d / 16.0))
        p.restore()
    return draw


def halo_drawer(color: str = "#787878") -> Drawer:
    def draw(p: QPainter, r: QRectF) -> None:
        p.save()
        p.setRenderHint(QPainter.Antialiasing, True)
        p.setPen(QPen(qcolor(color, 160), max(1.0, r.width() * 0.06), Qt.DotLine))
        p.setBrush(qcolor(color, 40))
        p.drawEllipse(r.center(), r.width() / 2, r.width() / 2)
        p.setPen(Qt.NoPen)
        p.setBrush(qcolor(color).darker(130))
        p.drawEllipse(r.center(), r.width() * 0.15, r.width() * 0.15)
        p.restore()
    return draw


def _inset(r: QRectF) -> QRectF:
    return r.adjusted(r.width() * 0.08, r.height() * 0.2, -r.width() * 0.08, -r.height() * 0.2)


def schematic_drawer(color: str = "#5a5a5a") -> Drawer:
    def draw(p: QPainter, r: QRectF) -> None:
        p.save()
        import shapely

        from .vector import hatch_path           # lines, not a pattern brush: same in every SVG viewer
        box = _inset(r)
        p.setBrush(Qt.NoBrush)
        p.setPen(QPen(qcolor(color, 120), max(0.5, r.width() * 0.05)))
        p.drawPath(hatch_path(shapely.box(box.left(), box.top(), box.right(), box.bottom()),
                              max(2.0, r.width() * 0.22)))
        p.setPen(QPen(qcolor(color), max(1.0, r.width() * 0.07), Qt.DashLine))
        p.drawRect(box)
        p.restore()
    return draw


def swatch_drawer(fill: str | None, edge: str, *, dashed: bool = False) -> Drawer:
    """An area: ``fill`` (None = hollow) with an ``edge`` outline."""
    def draw(p: QPainter, r: QRectF) -> None:
        p.save()
        p.setRenderHint(QPainter.Antialiasing, True)
        p.setPen(QPen(qcolor(edge), max(1.0, r.width() * 0.08),
                      Qt.DashLine if dashed else Qt.SolidLine))
        p.setBrush(qcolor(fill) if fill else Qt.NoBrush)
        p.drawRect(_inset(r))
        p.restore()
    return draw


def square_drawer(fill: str) -> Drawer:
    """A small filled square with a white rim (survey report points)."""
    def draw(p: QPainter, r: QRectF) -> None:
        p.save()
        s = r.width() * 0.55
        p.setPen(QPen(QColor("white"), max(1.0, r.width() * 0.07)))
        p.setBrush(qcolor(fill))
        p.drawRect(QRectF(r.center().x() - s / 2, r.center().y() - s / 2, s, s))
        p.restore()
    return draw
