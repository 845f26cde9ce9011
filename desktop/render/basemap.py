"""Basemap layers: districts (with their names as labels), water, plan-area and city outlines.

Each reads its colours from the layer's style and the projected records from the scene, culls
them to the view and draws them simplified to about half a pixel (paths cached per zoom level).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen

from planatlas.layers.stack import Layer

from .labels import LabelPlacer, label_font
from .renderers import LayerRenderer, LegendEntry, RenderContext, is_raster, register_renderer
from .styles import qcolor
from .symbols import swatch_drawer
from .vector import to_page
from .view import MapView, merc_to_lonlat

__all__ = ["DistrictsRenderer", "WaterRenderer", "PlanAreasRenderer", "CityOutlinesRenderer"]


def _meets(rec: dict[str, Any], extent) -> bool:
    x0, y0, x1, y1 = extent
    bx0, by0, bx1, by1 = rec["bounds"]
    return bx1 >= x0 and bx0 <= x1 and by1 >= y0 and by0 <= y1


def _pen(color: QColor, width: float, style=Qt.SolidLine, *, round_join: bool = False) -> QPen:
    pen = QPen(color, width, style)
    pen.setCosmetic(True)
    if round_join:
        pen.setJoinStyle(Qt.RoundJoin)
    return pen


def _paths(painter, view, ctx, recs) -> list:
    """The records' paths: map coordinates (under the world transform) on raster devices,
    page pixels on SVG/PDF (:mod:`.vector`: no huge coordinates, no non-scaling strokes)."""
    paths = [ctx.scene.basemap_path(rec, view.res) for rec in recs]
    return paths if is_raster(painter) else [to_page(view, p) for p in paths]


def _device_pen(painter, pen: QPen) -> QPen:
    if is_raster(painter):
        return pen
    pen = QPen(pen)
    pen.setCosmetic(False)        # page pixels: the width scales with the page
    return pen


class _BasemapRenderer(LayerRenderer):
    """Records of one scene list (``records``), drawn in map coordinates."""
    static = True
    records = ""

    def recs(self, ctx: RenderContext) -> list[dict[str, Any]]:
        return getattr(ctx.scene, self.records)

    def paint(self, painter: QPainter, view: MapView, layer: Layer, ctx: RenderContext) -> None:
        extent = view.extent()
        recs = [r for r in self.recs(ctx) if _meets(r, extent)]
        if not recs:
            return
        painter.save()
        painter.setOpacity(painter.opacity() * layer.opacity)
        painter.setRenderHint(QPainter.Antialiasing, True)
        if is_raster(painter):     # SVG/PDF get plain page paths instead (see _paths)
            painter.setWorldTransform(view.transform(), True)
        self.draw(painter, view, layer, ctx, recs)
        painter.restore()

    def paint_run(self, painter, view, layers, ctx) -> None:
        for layer in layers:
            self.paint(painter, view, layer, ctx)

    def draw(self, painter, view, layer, ctx, recs) -> None:
        raise NotImplementedError

    @staticmethod
    def fill_then_outline(painter, view, ctx, recs, brush_of, pen) -> None:
        # raster: fills without anti-aliasing (fast; the AA outline drawn next hides the edge)
        paths = _paths(painter, view, ctx, recs)
        painter.setRenderHint(QPainter.Antialiasing, not is_raster(painter))
        painter.setPen(Qt.NoPen)
        for rec, path in zip(recs, paths):
            painter.setBrush(brush_of(rec))
            painter.drawPath(path)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(_device_pen(painter, pen))
        for path in paths:
            painter.drawPath(path)

    @staticmethod
    def outline(painter, view, ctx, recs, pen) -> None:
        painter.setBrush(Qt.NoBrush)
        painter.setPen(_device_pen(painter, pen))
        for path in _paths(painter, view, ctx, recs):
            painter.drawPath(path)

    def extent(self, layer, ctx):
        recs = self.recs(ctx)
        if not recs:
            return None
        b = [r["bounds"] for r in recs]
        lon, lat = merc_to_lonlat([min(x[0] for x in b), max(x[2] for x in b)],
                                  [min(x[1] for x in b), max(x[3] for x in b)])
        return (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))

    def swatch(self, layer: Layer):
        raise NotImplementedError

    def legend(self, layer, ctx, view=None) -> list[LegendEntry]:
        recs = self.recs(ctx)
        if view is not None:
            recs = [r for r in recs if _meets(r, view.extent())]
        if not recs:
            return []
        title = layer.title(ctx.lang)
        return [LegendEntry(title, self.swatch(layer), None, (layer.kind, *layer.style.values()),
                            title, layer.id)]


@register_renderer
class DistrictsRenderer(_BasemapRenderer):
    """County-level districts; those of a plan area tinted. Labels: district names, or city
    names when zoomed out."""
    kind = "districts"
    records = "bm_districts"
    label_priority = 10

    def draw(self, painter, view, layer, ctx, recs) -> None:
        st = layer.style
        land, plan_land = qcolor(st["fill"]), qcolor(st["plan_fill"])
        self.fill_then_outline(painter, view, ctx, recs, lambda rec: plan_land if rec["plan"] else land,
                               _pen(qcolor(st["edge"]), 0.9 * ctx.scale, round_join=True))

    def swatch(self, layer):
        return swatch_drawer(layer.style["plan_fill"], layer.style["edge"])

    def place_labels(self, placer: LabelPlacer, view, layers, ctx) -> None:
        scene, scale = ctx.scene, placer.scale
        z = view.zoom
        recs = scene.bm_districts if z >= 8.5 else scene.bm_cities
        dsize = min(max(12.0 + (z - 9.0) * 1.5, 12.0), 20.0) * scale
        dfont = label_font(dsize)      # no letter-spacing: PDF text search finds "佛冈县"
        dh = QFontMetricsF(dfont).height()
        extent = view.extent()
        for layer in layers:
            color = qcolor(layer.style["label_color"])
            halo = QColor(255, 255, 255, 200)
            for rec in sorted(recs, key=lambda r: -r["area"]):
                if not rec["name"] or not _meets(rec, extent):
                    continue
                bx0, _by0, bx1, _by1 = rec["bounds"]
                tw = scene.text_width(rec["name"], dfont)
                if (bx1 - bx0) / view.res < tw * 1.3:
                    continue
                lx, ly = view.to_screen(*rec["label"])
                placer.try_place(dfont, [(float(lx) - tw / 2, float(ly) - dh / 2)], tw, dh,
                                 rec["name"], color, halo, opacity=layer.opacity, under=True,
                                 counted=False)


@register_renderer
class WaterRenderer(_BasemapRenderer):
    """Sea, lakes and wide rivers as areas; narrow rivers as lines."""
    kind = "water"
    records = "bm_water"

    def draw(self, painter, view, layer, ctx, recs) -> None:
        fill = qcolor(layer.style["fill"])
        areas = [r for r in recs if "Line" not in r["kind"]]
        self.fill_then_outline(painter, view, ctx, areas, lambda rec: fill,
                               _pen(qcolor(layer.style["edge"]), 0.8 * ctx.scale))
        pen = _pen(fill, 2.2 * ctx.scale)
        pen.setCapStyle(Qt.RoundCap)
        self.outline(painter, view, ctx, [r for r in recs if "Line" in r["kind"]], pen)

    def swatch(self, layer):
        return swatch_drawer(layer.style["fill"], layer.style["edge"])


@register_renderer
class PlanAreasRenderer(_BasemapRenderer):
    """The area each plan covers (union of its districts), dashed."""
    kind = "plan_areas"
    records = "bm_plan_areas"

    def draw(self, painter, view, layer, ctx, recs) -> None:
        self.outline(painter, view, ctx, recs,
                     _pen(qcolor(layer.style["edge"]), 2.0 * ctx.scale, Qt.DashLine))

    def swatch(self, layer):
        return swatch_drawer(None, layer.style["edge"], dashed=True)


@register_renderer
class CityOutlinesRenderer(_BasemapRenderer):
    kind = "city_outlines"
    records = "bm_cities"

    def draw(self, painter, view, layer, ctx, recs) -> None:
        self.outline(painter, view, ctx, recs, _pen(qcolor(layer.style["edge"]), 1.4 * ctx.scale))

    def swatch(self, layer):
        return swatch_drawer(None, layer.style["edge"])
