"""Overlay layers: a checked field survey (one square per row, coloured by its status) and the
shipped positions of features verified in the field (a grey ring linked to the new position)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from planatlas.desktop.i18n import tr

from .renderers import LayerRenderer, LegendEntry, is_raster, register_renderer
from .styles import qcolor
from .symbols import square_drawer
from .view import lonlat_to_merc

__all__ = ["SurveyReportRenderer", "PositionHistoryRenderer"]


def _status_colors() -> dict[str, str]:
    from planatlas.layers.survey import STATUS_COLORS
    return STATUS_COLORS


def _projected(ctx, layer, rows, *pairs) -> tuple:
    """Mercator (x, y) arrays for each (lon index, lat index) pair of ``rows``, cached while the
    layer keeps the same rows."""
    def build():
        out = []
        for lon_i, lat_i in pairs:
            x, y = lonlat_to_merc([r[lon_i] for r in rows], [r[lat_i] for r in rows])
            out += [np.asarray(x, float).reshape(-1), np.asarray(y, float).reshape(-1)]
        return tuple(out)
    return ctx.scene.memo((layer.kind, layer.id, pairs), rows, build)


def _bbox(lons, lats):
    if not len(lons):
        return None
    return (float(min(lons)), float(min(lats)), float(max(lons)), float(max(lats)))


@register_renderer
class SurveyReportRenderer(LayerRenderer):
    """``source["points"]``: ``[(lon, lat, status, label), …]`` in WGS-84."""
    kind = "survey_report"

    @staticmethod
    def _data(layer, ctx):
        pts = layer.source["points"]
        xs, ys = _projected(ctx, layer, pts, (0, 1))
        statuses = ctx.scene.memo(("survey-status", layer.id), pts,
                                  lambda: np.asarray([str(p[2]) for p in pts], dtype=object))
        return xs, ys, statuses

    def _in_view(self, view, layer, ctx, margin: float):
        xs, ys, statuses = self._data(layer, ctx)
        sx, sy = view.to_screen(xs, ys)
        inside = ((sx > -margin) & (sy > -margin) & (sx < view.width + margin)
                  & (sy < view.height + margin))
        return sx[inside], sy[inside], statuses[inside]

    def paint(self, painter, view, layer, ctx) -> None:
        size = float(layer.style["size"]) * ctx.scale
        sx, sy, statuses = self._in_view(view, layer, ctx, size)
        if not len(sx):
            return
        colors = _status_colors()
        raster = is_raster(painter)
        painter.save()
        painter.setOpacity(painter.opacity() * layer.opacity)
        painter.setRenderHint(QPainter.Antialiasing, True)
        for status in np.unique(statuses).tolist():
            m = statuses == status
            fill = qcolor(colors.get(status, "#555555"))
            if raster:
                img = ctx.scene.memo(("survey-sprite", fill.rgba(), round(size, 2)), None,
                                     lambda fill=fill: self._sprite(fill, size))
                half = img.width() / 2.0
                for x, y in zip(np.rint(sx[m] - half).astype(np.int64).tolist(),
                                np.rint(sy[m] - half).astype(np.int64).tolist()):
                    painter.drawImage(x, y, img)
            else:
                painter.setPen(QPen(QColor("white"), 1.5 * ctx.scale))
                painter.setBrush(fill)
                for x, y in zip(sx[m].tolist(), sy[m].tolist()):
                    painter.drawRect(QRectF(x - size / 2, y - size / 2, size, size))
        painter.restore()

    @staticmethod
    def _sprite(fill: QColor, size: float) -> QImage:
        dim = int(np.ceil(size)) + 4
        img = QImage(dim, dim, QImage.Format_ARGB32_Premultiplied)
        img.fill(Qt.transparent)
        p = QPainter(img)
        p.setPen(QPen(QColor("white"), 1.5))
        p.setBrush(fill)
        p.drawRect(QRectF((dim - size) / 2, (dim - size) / 2, size, size))
        p.end()
        return img

    def extent(self, layer, ctx):
        pts = layer.source["points"]
        return _bbox([p[0] for p in pts], [p[1] for p in pts])

    def count(self, layer, ctx) -> int:
        return len(layer.source["points"])

    def legend(self, layer, ctx, view=None) -> list[LegendEntry]:
        if view is not None:
            statuses = self._in_view(view, layer, ctx, 0)[2]
        else:
            statuses = self._data(layer, ctx)[2]
        colors = _status_colors()
        out = []
        for status in colors:
            n = int((statuses == status).sum())
            if n:
                label = f"{layer.title(ctx.lang)} · {tr('survey.' + status, lang=ctx.lang)}"
                out.append(LegendEntry(label, square_drawer(colors[status]), n,
                                       ("survey", status, colors[status]), label, layer.id))
        return out


@register_renderer
class PositionHistoryRenderer(LayerRenderer):
    """``source["moves"]``: ``[(feature id, old lon, old lat, lon, lat), …]``."""
    kind = "position_history"

    @staticmethod
    def _data(layer, ctx):
        return _projected(ctx, layer, layer.source["moves"], (1, 2), (3, 4))

    def paint(self, painter, view, layer, ctx) -> None:
        ox, oy, nx, ny = self._data(layer, ctx)
        if not len(ox):
            return
        osx, osy = view.to_screen(ox, oy)
        nsx, nsy = view.to_screen(nx, ny)
        s = ctx.scale
        color = qcolor(layer.style["color"])
        painter.save()
        painter.setOpacity(painter.opacity() * layer.opacity)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setBrush(Qt.NoBrush)
        for a, b in zip(zip(osx.tolist(), osy.tolist()), zip(nsx.tolist(), nsy.tolist())):
            color.setAlpha(170)
            painter.setPen(QPen(color, 1.2 * s, Qt.DashLine))
            painter.drawLine(QPointF(*a), QPointF(*b))
            color.setAlpha(200)
            painter.setPen(QPen(color, 1.5 * s))
            painter.drawEllipse(QPointF(*a), 4.5 * s, 4.5 * s)
        painter.restore()

    def hit_test(self, view, px, py, layer, ctx) -> list[str]:
        """The features whose shipped position (the ring) is under the pixel, nearest first."""
        ox, oy, _nx, _ny = self._data(layer, ctx)
        sx, sy = view.to_screen(ox, oy)
        d = np.hypot(sx - px, sy - py)
        near = np.flatnonzero(d <= 7.0)
        moves = layer.source["moves"]
        return [str(moves[i][0]) for i in near[np.argsort(d[near], kind="stable")]]

    def extent(self, layer, ctx):
        moves = layer.source["moves"]
        return _bbox([m[1] for m in moves] + [m[3] for m in moves],
                     [m[2] for m in moves] + [m[4] for m in moves])

    def count(self, layer, ctx) -> int:
        return len(layer.source["moves"])

    def legend(self, layer, ctx, view=None) -> list[LegendEntry]:
        n = self.count(layer, ctx)
        if not n:
            return []
        color = layer.style["color"]

        def ring(p: QPainter, r: QRectF) -> None:
            p.save()
            p.setRenderHint(QPainter.Antialiasing, True)
            p.setPen(QPen(qcolor(color), max(1.0, r.width() * 0.08)))
            p.setBrush(Qt.NoBrush)
            p.drawEllipse(r.center(), r.width() * 0.3, r.width() * 0.3)
            p.restore()
        title = layer.title(ctx.lang)
        return [LegendEntry(title, ring, n, ("history", color), title, layer.id)]
