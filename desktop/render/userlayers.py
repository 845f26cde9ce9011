"""User vector layers (``user_vector``): points, lines and areas from the user's files.

Large point layers are drawn without a Python loop: on raster devices the points in view are
reduced to one per pixel (last drawn wins, as painting would), then stamped into a padded
ARGB buffer with numpy — the outline ring, then the fill disc, one vectorised assignment per
symbol pixel offset — and the buffer is drawn as one image with the layer's opacity. Areas and
lines smaller than 4 px are drawn as points the same way; larger ones as cached paths.
On vector devices (SVG/PDF) every symbol is a real shape.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPen

from planatlas.layers.errors import InputError
from planatlas.layers.stack import Layer
from planatlas.layers.userdata import REGISTRY, USER_VECTOR, feature_id
from planatlas.layers.userdata.style import Classes, classify
from planatlas.layers.userdata.vector import POINT, POLYGON, VectorData

from .labels import LabelPlacer, label_font
from .paths import geom_path
from .renderers import LayerRenderer, LegendEntry, RenderContext, is_raster, register_renderer
from .styles import SELECT_COLOR, qcolor
from .view import MapView

__all__ = ["UserVectorRenderer", "splat_points", "layer_data", "layer_classes"]

SMALL_PX = 4.0
MAX_PATHS = 60_000


def layer_data(layer: Layer) -> VectorData | None:
    try:
        return REGISTRY.vector(layer)
    except (InputError, OSError):
        return None


_CLASSES: dict[tuple, Classes] = {}


def layer_classes(layer: Layer, data: VectorData, lang: str = "zh") -> Classes:
    st = layer.style
    key = (id(data), st["mode"], st["field"], st["color"], st["classes"], st["ramp"],
           tuple(sorted(dict(st["categories"]).items())), lang)
    c = _CLASSES.get(key)
    if c is None:
        try:
            c = classify(data, st, lang)
        except InputError:
            c = classify(data, {**st, "mode": "single"}, lang)
        if len(_CLASSES) > 64:
            _CLASSES.clear()
        _CLASSES[key] = c
    return c


@lru_cache(maxsize=64)
def _disc(radius: float) -> tuple[np.ndarray, np.ndarray]:
    r = int(math.ceil(radius))
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    m = dx * dx + dy * dy <= radius * radius + 0.25
    return dx[m].astype(np.int64), dy[m].astype(np.int64)


def _argb(color: QColor) -> int:
    return int(color.rgba()) & 0xFFFFFFFF


def splat_points(w: int, h: int, px: np.ndarray, py: np.ndarray, cls: np.ndarray,
                 fills: list[int], edge: int, size: float) -> QImage:
    """A w×h ARGB32 premultiplied image of round symbols (diameter ``size`` px) at (px, py),
    filled with ``fills[cls]`` and ringed with ``edge`` (opaque colours)."""
    r_fill = max(0.5, size / 2.0 - 1.0)
    r_edge = size / 2.0
    pad = int(math.ceil(r_edge)) + 1
    W, H = w + 2 * pad, h + 2 * pad
    ix = np.rint(px).astype(np.int64) + pad
    iy = np.rint(py).astype(np.int64) + pad
    inside = (ix >= 0) & (iy >= 0) & (ix < W) & (iy < H)
    key = iy[inside] * W + ix[inside]
    cl = cls[inside].astype(np.int64)
    centre = np.zeros(W * H, dtype=np.int32)
    centre[key] = cl + 1                       # one symbol per pixel: the last drawn wins
    at = np.flatnonzero(centre)
    col = np.asarray(fills, dtype=np.uint32)[centre[at] - 1]
    buf = np.zeros(W * H, dtype=np.uint32)
    ex, ey = _disc(r_edge)
    fx, fy = _disc(r_fill)
    ring = ~np.isin(ex * 1000 + ey, fx * 1000 + fy)
    for dx, dy in zip(ex[ring].tolist(), ey[ring].tolist()):
        t = at + (dy * W + dx)
        ok = (t >= 0) & (t < W * H)
        buf[t[ok]] = edge
    for dx, dy in zip(fx.tolist(), fy.tolist()):
        t = at + (dy * W + dx)
        ok = (t >= 0) & (t < W * H)
        buf[t[ok]] = col[ok]
    img2 = buf.reshape(H, W)[pad:pad + h, pad:pad + w]
    arr = np.ascontiguousarray(img2)
    img = QImage(arr.data, w, h, 4 * w, QImage.Format_ARGB32_Premultiplied)
    return img.copy()                          # own the pixels (arr goes away)


@register_renderer
class UserVectorRenderer(LayerRenderer):
    kind = USER_VECTOR
    label_priority = 5

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, view: MapView, layer: Layer, ctx: RenderContext) -> None:
        data = layer_data(layer)
        if data is None or not data.n:
            return
        st = layer.style
        scale = ctx.scale
        size = float(st["size"]) * scale
        m = size * view.res
        x0, y0, x1, y1 = view.extent()
        idx = data.in_box(x0 - m, y0 - m, x1 + m, y1 + m)
        if not len(idx):
            return
        classes = layer_classes(layer, data, ctx.lang)
        colors = [qcolor(c) for c in classes.colors]
        painter.save()
        painter.setOpacity(painter.opacity() * layer.opacity)
        if data.all_points:
            pts = idx
            shapes = idx[:0]
        else:
            b = data.bounds[idx]
            tiny = ((b[:, 2] - b[:, 0]) < SMALL_PX * view.res) & ((b[:, 3] - b[:, 1]) < SMALL_PX * view.res)
            pts = idx[(data.kind[idx] == POINT) | tiny]
            shapes = idx[(data.kind[idx] != POINT) & ~tiny]
        if len(shapes):
            self._paint_shapes(painter, view, layer, data, shapes, classes, colors, scale)
        if len(pts):
            self._paint_points(painter, view, data, pts, classes, colors, size)
        sel = REGISTRY.selected(layer.id) if ctx.selection else ()
        if len(sel):
            self._paint_selection(painter, view, data, sel, size)
        painter.restore()

    def _paint_points(self, painter, view, data, pts, classes, colors, size) -> None:
        px, py = view.to_screen(data.mx[pts], data.my[pts])
        cls = classes.index[pts]
        if is_raster(painter) and len(pts) > 300:
            edge = QColor(255, 255, 255) if size < 5 else QColor(60, 60, 60)
            fills = [_argb(c) for c in colors]
            img = splat_points(view.width, view.height, px, py, cls, fills, _argb(edge), size)
            painter.drawImage(QRectF(0, 0, view.width, view.height), img)
            return
        painter.setRenderHint(QPainter.Antialiasing, True)
        pen = QPen(QColor(60, 60, 60), max(0.8, size * 0.12))
        painter.setPen(pen)
        r = size / 2.0
        for k in np.unique(cls).tolist():
            painter.setBrush(colors[k])
            mk = cls == k
            for x, y in zip(px[mk].tolist(), py[mk].tolist()):
                painter.drawEllipse(QPointF(x, y), r, r)

    def _paint_shapes(self, painter, view, layer, data, shapes, classes, colors, scale) -> None:
        st = layer.style
        alpha = int(round(255 * max(0.0, min(1.0, float(st["fill_alpha"])))))
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setWorldTransform(view.transform(), True)
        cache = _path_cache(data)
        kinds = data.kind[shapes]
        if (kinds == POLYGON).any():               # largest first, so small areas stay visible
            b = data.bounds[shapes]
            order = np.argsort(-(b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), kind="stable")
            shapes, kinds = shapes[order], kinds[order]
        cls = classes.index[shapes]
        width = float(st["width"]) * scale
        for i, k, c in zip(shapes.tolist(), kinds.tolist(), cls.tolist()):
            path = cache.get(i)
            if path is None:
                path = geom_path(data.geoms[i])
                if len(cache) < MAX_PATHS:
                    cache[i] = path
            color = colors[c]
            pen = QPen(color.darker(130) if k == POLYGON else color, width)
            pen.setCosmetic(True)
            pen.setJoinStyle(Qt.RoundJoin)
            painter.setPen(pen)
            if k == POLYGON:
                fill = QColor(color)
                fill.setAlpha(alpha)
                painter.setBrush(fill)
            else:
                painter.setBrush(Qt.NoBrush)
            painter.drawPath(path)
        painter.restore()

    def _paint_selection(self, painter, view, data, sel, size) -> None:
        sel = np.asarray(sel)[:5000]
        painter.setOpacity(1.0)
        painter.setRenderHint(QPainter.Antialiasing, True)
        pen = QPen(QColor(SELECT_COLOR), 2.5)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(pen)
        shapes = sel[data.kind[sel] != POINT] if not data.all_points else sel[:0]
        if len(shapes):
            painter.save()
            painter.setWorldTransform(view.transform(), True)
            pen.setCosmetic(True)
            painter.setPen(pen)
            for i in shapes.tolist():
                painter.drawPath(geom_path(data.geoms[i]))
            painter.restore()
        pts = sel[data.kind[sel] == POINT]
        px, py = view.to_screen(data.mx[pts], data.my[pts])
        r = size / 2.0 + 3
        for x, y in zip(px.tolist(), py.tolist()):
            painter.drawEllipse(QPointF(x, y), r, r)

    # ------------------------------------------------------------------ queries
    def hit_test(self, view, px, py, layer, ctx) -> list[str]:
        data = layer_data(layer)
        if data is None:
            return []
        x, y = view.to_map(px, py)
        tol = (float(layer.style["size"]) * ctx.scale / 2.0 + 3.0) * view.res
        return [feature_id(layer.id, i) for i in data.hits(float(x), float(y), tol)]

    def ids_in_rect(self, view, rect: QRectF, layers, ctx) -> list[str]:
        out = []
        for layer in layers:
            data = layer_data(layer)
            if data is None:
                continue
            xa, ya = view.to_map(rect.left(), rect.bottom())
            xb, yb = view.to_map(rect.right(), rect.top())
            out += [feature_id(layer.id, i) for i in data.in_box(float(xa), float(ya), float(xb),
                                                                   float(yb)).tolist()]
        return out

    def extent(self, layer, ctx):
        data = layer_data(layer)
        return data.extent_lonlat() if data is not None else None

    def count(self, layer, ctx) -> int | None:
        data = layer_data(layer)
        return data.n if data is not None else None

    def legend(self, layer, ctx, view=None) -> list[LegendEntry]:
        data = layer_data(layer)
        if data is None or not data.n:
            return []
        classes = layer_classes(layer, data, ctx.lang)
        counts = list(classes.counts)
        if view is not None:
            x0, y0, x1, y1 = view.extent()
            idx = data.in_box(x0, y0, x1, y1)
            counts = np.bincount(classes.index[idx], minlength=len(classes.colors)).tolist()
        title = layer.title(ctx.lang)
        area = not data.all_points and bool((data.kind == POLYGON).any())
        out = []
        for c, (color, label, n) in enumerate(zip(classes.colors, classes.labels, counts)):
            if view is not None and not n:
                continue
            text = title if not label else f"{title} · {label}"
            out.append(LegendEntry(text, _legend_drawer(color, area, float(layer.style["fill_alpha"])),
                                   int(n), ("user", layer.id, c, color), label or title, layer.id))
        return out

    def place_labels(self, placer: LabelPlacer, view: MapView, layers, ctx) -> None:
        for layer in layers:
            fieldname = str(layer.style.get("label_field") or "")
            data = layer_data(layer)
            if not fieldname or data is None or fieldname not in data.fields:
                continue
            x0, y0, x1, y1 = view.extent()
            idx = data.in_box(x0, y0, x1, y1)
            if len(idx) > 4000:                      # too dense to label: the nearest to the centre
                d = np.hypot(data.mx[idx] - view.cx, data.my[idx] - view.cy)
                idx = idx[np.argsort(d)[:4000]]
            values = data.column(fieldname)[idx]
            font = label_font(11.0 * placer.scale)
            fm = QFontMetricsF(font)
            th = fm.height()
            px, py = view.to_screen(data.mx[idx], data.my[idx])
            off = float(layer.style["size"]) * placer.scale / 2.0 + 2
            color, halo = QColor("#222222"), QColor(255, 255, 255, 220)
            for v, x, y in zip(values.tolist(), px.tolist(), py.tolist()):
                if placer.full:
                    return
                if v is None or (isinstance(v, float) and math.isnan(v)) or str(v) == "":
                    continue
                text = str(v)[:40]
                tw = fm.horizontalAdvance(text)
                placer.try_place(font, [(x + off, y - th / 2), (x - off - tw, y - th / 2),
                                        (x - tw / 2, y - off - th)], tw, th, text, color, halo,
                                 opacity=layer.opacity)


_PATHS: dict[int, tuple[VectorData, dict]] = {}


def _path_cache(data: VectorData) -> dict:
    hit = _PATHS.get(id(data))
    if hit is None or hit[0] is not data:
        if len(_PATHS) > 16:
            _PATHS.clear()
        hit = (data, {})
        _PATHS[id(data)] = hit
    return hit[1]


def _legend_drawer(color: str, area: bool, fill_alpha: float):
    def draw(p: QPainter, r: QRectF) -> None:
        p.save()
        p.setRenderHint(QPainter.Antialiasing, True)
        c = qcolor(color)
        if area:
            f = QColor(c)
            f.setAlpha(int(255 * max(0.15, min(1.0, fill_alpha))))
            p.setPen(QPen(c.darker(130), 1.2))
            p.setBrush(f)
            p.drawRect(r.adjusted(r.width() * 0.15, r.height() * 0.2, -r.width() * 0.15,
                                  -r.height() * 0.2))
        else:
            p.setPen(QPen(QColor(60, 60, 60), 1.0))
            p.setBrush(c)
            d = min(r.width(), r.height()) * 0.55
            p.drawEllipse(r.center(), d / 2, d / 2)
        p.restore()
    return draw
