"""Tile and image basemaps (``tile_layer``): MBTiles, PMTiles, XYZ folders, online XYZ (cached)
and georeferenced images, drawn under the map's features.

Tiles come from :func:`planatlas.layers.tiles.plan_tiles` (GCJ-02 tiles already moved onto
WGS-84), are decoded once into an LRU of images, and a tile still on its way is stood in for by
its parent tile when that one is decoded. A tile that cannot be had (offline, not cached) is
marked: a light hatched square. The source's attribution is written in the map's corner.
"""
from __future__ import annotations

import time
from collections import OrderedDict

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen

from planatlas.layers.errors import InputError
from planatlas.layers.stack import Layer
from planatlas.layers.tiles import RasterSource, open_tiles, plan_tiles
from planatlas.layers.userdata import TILE_LAYER

from .renderers import LayerRenderer, LegendEntry, RenderContext, register_renderer
from .view import MapView

__all__ = ["TileLayerRenderer", "tile_source", "EXPORT_WAIT_S"]

MAX_DECODED = 768
EXPORT_WAIT_S = 6.0
MISSING_FILL = QColor(236, 233, 226)
MISSING_EDGE = QColor(200, 192, 180)


def tile_source(layer: Layer):
    try:
        return open_tiles(layer.source)
    except (InputError, OSError):
        return None


class _Decoded:
    def __init__(self):
        self.images: OrderedDict[tuple, QImage] = OrderedDict()

    def get(self, key):
        img = self.images.get(key)
        if img is not None:
            self.images.move_to_end(key)
        return img

    def put(self, key, img: QImage) -> None:
        self.images[key] = img
        if len(self.images) > MAX_DECODED:
            self.images.popitem(last=False)


_DECODED = _Decoded()


def _image(src, z, x, y) -> tuple[QImage | None, str]:
    key = (id(src), z, x, y)
    img = _DECODED.get(key)
    if img is not None:
        return img, "ok"
    tile = src.fetch(z, x, y)
    if tile.data is None:
        return None, tile.state
    img = QImage.fromData(tile.data)
    if img.isNull():
        return None, "missing"
    img = img.convertToFormat(QImage.Format_ARGB32_Premultiplied)
    _DECODED.put(key, img)
    return img, "ok"


def _parent(src, z, x, y, part):
    """A decoded ancestor tile and the part of it that covers (z, x, y, part)."""
    u0, v0, u1, v1 = part
    for up in range(1, 5):
        if z - up < 0:
            break
        img = _DECODED.get((id(src), z - up, x >> up, y >> up))
        if img is not None:
            k = 1 << up
            ox, oy = (x % k) / k, (y % k) / k
            return img, (ox + u0 / k, oy + v0 / k, ox + u1 / k, oy + v1 / k)
    return None, None


@register_renderer
class TileLayerRenderer(LayerRenderer):
    kind = TILE_LAYER
    static = True

    def paint(self, painter: QPainter, view: MapView, layer: Layer, ctx: RenderContext) -> None:
        src = tile_source(layer)
        if src is None:
            return
        painter.save()
        painter.setOpacity(painter.opacity() * layer.opacity)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
        if isinstance(src, RasterSource):
            self._paint_raster(painter, view, src)
        else:
            self._paint_tiles(painter, view, layer, src, ctx)
        painter.restore()
        self._attribution(painter, view, src, ctx)

    @staticmethod
    def _paint_raster(painter, view, src: RasterSource) -> None:
        dev = painter.device()
        dpr = float(dev.devicePixelRatioF()) if dev is not None else 1.0
        w, h = int(view.width * dpr), int(view.height * dpr)
        rgba = src.render(view.extent(), w, h)
        img = QImage(rgba.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()
        painter.drawImage(QRectF(0, 0, view.width, view.height), img)

    def _paint_tiles(self, painter, view, layer, src, ctx) -> None:
        _z, tiles = plan_tiles(src, view.extent(), view.res)
        if not ctx.selection and getattr(src, "kind", "") == "online":
            for t in tiles:                       # a page export waits (briefly) for the tiles
                src.fetch(t.z, t.x, t.y)
            deadline = time.monotonic() + EXPORT_WAIT_S
            while src.pending() and time.monotonic() < deadline:
                time.sleep(0.05)
        missing = []
        for t in tiles:
            img, state = _image(src, t.z, t.x, t.y)
            part = t.part
            if img is None and state in ("pending", "missing"):
                img, part = _parent(src, t.z, t.x, t.y, t.part)
            sx0, sy0 = view.to_screen(t.box[0], t.box[3])
            sx1, sy1 = view.to_screen(t.box[2], t.box[1])
            target = QRectF(float(sx0), float(sy0), float(sx1 - sx0), float(sy1 - sy0))
            if img is not None:
                w, h = img.width(), img.height()
                source = QRectF(part[0] * w, part[1] * h, (part[2] - part[0]) * w,
                                (part[3] - part[1]) * h)
                # a hair of overlap hides seams between neighbouring tiles
                painter.drawImage(target.adjusted(-0.25, -0.25, 0.25, 0.25), img, source)
            elif state == "missing" and layer.style.get("show_missing", True):
                missing.append(target)
        if missing:
            painter.setOpacity(1.0)
            painter.setPen(QPen(MISSING_EDGE, 1.0))
            for r in missing:
                painter.setBrush(MISSING_FILL)
                painter.drawRect(r)
                painter.setBrush(QBrush(MISSING_EDGE, Qt.BDiagPattern))
                painter.drawRect(r)

    @staticmethod
    def _attribution(painter, view, src, ctx) -> None:
        text = getattr(src, "attribution", "") or ""
        if not text:
            return
        painter.save()
        f = QFont(painter.font())
        f.setPixelSize(max(9, int(10 * ctx.scale)))
        painter.setFont(f)
        fm = painter.fontMetrics()
        w = fm.horizontalAdvance(text) + 8 * ctx.scale
        h = fm.height() + 2 * ctx.scale
        r = QRectF(view.width - w - 2 * ctx.scale, view.height - h - 2 * ctx.scale, w, h)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(255, 255, 255, 190))
        painter.drawRect(r)
        painter.setPen(QColor(70, 70, 70))
        painter.drawText(r, Qt.AlignCenter, text)
        painter.restore()

    def extent(self, layer, ctx):
        src = tile_source(layer)
        return tuple(src.bounds) if src is not None and src.bounds else None

    def legend(self, layer, ctx, view=None) -> list[LegendEntry]:
        title = layer.title(ctx.lang)

        def draw(p: QPainter, r: QRectF) -> None:
            p.save()
            p.setPen(QPen(QColor(150, 150, 150), 1))
            for i, c in enumerate(("#cfd8c4", "#e6dfcf", "#c9dbe6", "#e1e1dc")):
                p.setBrush(QColor(c))
                cw, ch = r.width() * 0.35, r.height() * 0.35
                p.drawRect(QRectF(r.center().x() - cw + (i % 2) * cw, r.center().y() - ch + (i // 2) * ch,
                                  cw, ch))
            p.restore()
        return [LegendEntry(title, draw, None, ("tiles", layer.id), title, layer.id)]
