"""A marker overlay: where a coordinate search (or *what is here*) jumped to.

One layer kind (``marker``, an overlay with ``source["points"] = [(lon, lat, label), …]`` in
WGS-84) and its renderer — the stack's way of adding a layer, so the marker shows in the layers
panel (where it can be hidden or removed) and in image exports like everything else on the map.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from planatlas.desktop.render.renderers import LayerRenderer, LegendEntry, register_renderer
from planatlas.desktop.render.styles import qcolor
from planatlas.desktop.render.view import lonlat_to_merc
from planatlas.layers.layer import LayerKind, register_kind

__all__ = ["MarkerRenderer", "MARKER_KIND", "pin_path"]

MARKER_KIND = register_kind(LayerKind(
    "marker", "overlay", {"zh": "搜索位置", "en": "Searched location"},
    {"color": "#d7301f", "size": 26.0}, source_keys=("points",), group="overlays"))


def pin_path(x: float, y: float, h: float) -> QPainterPath:
    """A map pin of height ``h`` whose tip is at (x, y)."""
    r = h * 0.32
    cy = y - h + r
    path = QPainterPath()
    path.moveTo(x, y)
    path.cubicTo(x - r * 0.35, y - h * 0.35, x - r, cy + r * 0.9, x - r, cy)
    path.arcTo(QRectF(x - r, cy - r, 2 * r, 2 * r), 180, -180)
    path.cubicTo(x + r, cy + r * 0.9, x + r * 0.35, y - h * 0.35, x, y)
    path.closeSubpath()
    path.addEllipse(QPointF(x, cy), r * 0.38, r * 0.38)
    return path


@register_renderer
class MarkerRenderer(LayerRenderer):
    kind = "marker"

    def _screen(self, view, layer):
        pts = layer.source["points"]
        if not pts:
            return []
        xs, ys = lonlat_to_merc([p[0] for p in pts], [p[1] for p in pts])
        sx, sy = view.to_screen(xs, ys)
        return list(zip([float(v) for v in sx], [float(v) for v in sy]))

    def paint(self, painter, view, layer, ctx) -> None:
        h = float(layer.style["size"]) * ctx.scale
        color = qcolor(layer.style["color"])
        painter.save()
        painter.setOpacity(painter.opacity() * layer.opacity)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setPen(QPen(QColor("white"), max(1.0, 1.6 * ctx.scale)))
        painter.setBrush(color)
        for x, y in self._screen(view, layer):
            if -h <= x <= view.width + h and -h <= y <= view.height + h:
                painter.drawPath(pin_path(x, y, h))
        painter.restore()

    def extent(self, layer, ctx):
        pts = layer.source["points"]
        if not pts:
            return None
        lons, lats = [p[0] for p in pts], [p[1] for p in pts]
        return (min(lons), min(lats), max(lons), max(lats))

    def count(self, layer, ctx) -> int:
        return len(layer.source["points"])

    def legend(self, layer, ctx, view=None) -> list[LegendEntry]:
        if not layer.source["points"]:
            return []
        color = layer.style["color"]

        def draw(p: QPainter, r: QRectF) -> None:
            p.save()
            p.setRenderHint(QPainter.Antialiasing, True)
            p.setPen(QPen(QColor("white"), 1.0))
            p.setBrush(qcolor(color))
            p.drawPath(pin_path(r.center().x(), r.bottom() - 1, r.height() * 0.9))
            p.restore()
        title = layer.title(ctx.lang)
        return [LegendEntry(title, draw, len(layer.source["points"]), ("marker", color), title,
                            layer.id)]

