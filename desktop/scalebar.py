"""The canvas' scale bar: a round length for the ground resolution at the view's centre."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen

from planatlas.desktop.maptools import format_distance

__all__ = ["paint_scalebar"]


def paint_scalebar(p: QPainter, view, height: int, font: QFont) -> None:
    """Draw the scale bar in the bottom-left corner of a widget ``height`` px tall showing
    ``view`` (a MapView), labelled in ``font`` at 11 px."""
    gr = view.ground_resolution()
    target = gr * 110
    mag = 10 ** math.floor(math.log10(max(target, 1e-6)))
    nice = max(m * mag for m in (1, 2, 5) if m * mag <= target) if target >= mag else mag
    w = nice / gr
    x0, y0 = 14, height - 18
    p.setRenderHint(QPainter.Antialiasing, True)
    p.setPen(QPen(QColor(255, 255, 255, 230), 5, Qt.SolidLine, Qt.FlatCap))
    p.drawLine(QPointF(x0, y0), QPointF(x0 + w, y0))
    p.setPen(QPen(QColor("#333333"), 2, Qt.SolidLine, Qt.FlatCap))
    p.drawLine(QPointF(x0, y0), QPointF(x0 + w, y0))
    p.drawLine(QPointF(x0, y0 - 5), QPointF(x0, y0))
    p.drawLine(QPointF(x0 + w, y0 - 5), QPointF(x0 + w, y0))
    f = QFont(font)
    f.setPixelSize(11)
    tp = QPainterPath()
    tp.addText(QPointF(x0 + 2, y0 - 6), f, format_distance(nice))
    p.strokePath(tp, QPen(QColor(255, 255, 255, 230), 3))
    p.fillPath(tp, QColor("#333333"))
