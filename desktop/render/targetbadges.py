"""Target badges: a small numbered disc at the upper right of every shown place that targets
are tied to — how many targets of the plans name it (``layers.target_places.target_counts``).

The badge follows the place's symbol: it is drawn only while the place is shown by a visible
plan × category layer and lies in the view. Its legend entry says what the number means."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from planatlas.desktop.i18n import tr

from .features import feature_owners
from .labels import label_font
from .renderers import LayerRenderer, LegendEntry, register_renderer
from .styles import qcolor

__all__ = ["TargetBadgeRenderer", "badge_drawer"]


def _badge(p: QPainter, centre: QPointF, radius: float, text: str, color: QColor, font) -> None:
    p.setPen(QPen(QColor("white"), max(1.0, radius * 0.18)))
    p.setBrush(color)
    w = max(2 * radius, radius * (0.9 + 0.55 * len(text)))
    p.drawRoundedRect(QRectF(centre.x() - w / 2, centre.y() - radius, w, 2 * radius), radius, radius)
    p.setPen(QColor("white"))
    p.setFont(font)
    p.drawText(QRectF(centre.x() - w / 2, centre.y() - radius, w, 2 * radius), Qt.AlignCenter, text)


def badge_drawer(color: str, text: str = "3"):
    def draw(p: QPainter, r: QRectF) -> None:
        p.save()
        p.setRenderHint(QPainter.Antialiasing, True)
        radius = r.width() * 0.32
        _badge(p, r.center(), radius, text, qcolor(color), label_font(radius * 1.35, bold=True))
        p.restore()
    return draw


@register_renderer
class TargetBadgeRenderer(LayerRenderer):
    """``source["counts"]``: ``{feature id: number of targets}``."""
    kind = "target_counts"

    @staticmethod
    def _rows(layer, ctx) -> tuple[np.ndarray, np.ndarray]:
        counts = layer.source["counts"]

        def build():
            index = ctx.scene.index
            pairs = [(index.get(fid), n) for fid, n in counts.items()]
            pairs = [(i, n) for i, n in pairs if i is not None and n > 0]
            return (np.asarray([i for i, _ in pairs], dtype=np.int64),
                    np.asarray([n for _, n in pairs], dtype=np.int64))
        return ctx.scene.memo(("target-badges", layer.id), counts, build)

    def _shown(self, view, layer, ctx, margin: float):
        rows, counts = self._rows(layer, ctx)
        if not len(rows):
            return rows, counts, np.empty(0), np.empty(0)
        keep = feature_owners(ctx).own.visible[rows]
        rows, counts = rows[keep], counts[keep]
        sx, sy = view.to_screen(ctx.scene.ax[rows], ctx.scene.ay[rows])
        inside = (sx > -margin) & (sy > -margin) & (sx < view.width + margin) & (sy < view.height + margin)
        return rows[inside], counts[inside], sx[inside], sy[inside]

    def paint(self, painter, view, layer, ctx) -> None:
        s = ctx.scale
        radius, off = 6.5 * s, 7.0 * s
        rows, counts, sx, sy = self._shown(view, layer, ctx, 3 * radius)
        if not len(rows):
            return
        color = qcolor(layer.style["color"])
        font = label_font(radius * 1.35, bold=True)          # one font for every badge
        painter.save()
        painter.setOpacity(painter.opacity() * layer.opacity)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setRenderHint(QPainter.TextAntialiasing, True)
        for order in np.argsort(counts, kind="stable").tolist():    # the biggest numbers on top
            _badge(painter, QPointF(float(sx[order]) + off, float(sy[order]) - off), radius,
                   str(int(counts[order])), color, font)
        painter.restore()

    def hit_test(self, view, px, py, layer, ctx) -> list[str]:
        """The places whose badge is under the pixel (the place itself, for identify)."""
        s = ctx.scale
        rows, _counts, sx, sy = self._shown(view, layer, ctx, 0)
        d = np.hypot(sx + 7.0 * s - px, sy - 7.0 * s - py)
        near = np.flatnonzero(d <= 7.0 * s)
        return [str(ctx.scene.ids[int(rows[i])]) for i in near[np.argsort(d[near], kind="stable")]]

    def extent(self, layer, ctx):
        rows, _ = self._rows(layer, ctx)
        return ctx.scene.bbox_lonlat([ctx.scene.ids[int(i)] for i in rows]) if len(rows) else None

    def count(self, layer, ctx) -> int:
        return int(len(self._rows(layer, ctx)[0]))

    def legend(self, layer, ctx, view=None) -> list[LegendEntry]:
        rows, counts = self._rows(layer, ctx)[:2] if view is None else \
            self._shown(view, layer, ctx, 0)[:2]
        if not len(rows):
            return []
        label = tr("legend.target_badges", lang=ctx.lang, max=int(counts.max()))
        return [LegendEntry(label, badge_drawer(layer.style["color"]), int(len(rows)),
                            ("target_counts", layer.style["color"]), label, layer.id)]
