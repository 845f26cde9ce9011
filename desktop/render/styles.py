"""Colours, point-symbol styles and symbol outlines shared by every renderer.

A layer's style is a plain dict in the model (:mod:`planatlas.layers.stack`); :class:`LayerStyle`
is the point-symbol part of it (colour, size, shape) with Qt conveniences.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainterPath, QPolygonF

from planatlas.layers.model import CATEGORY_COLORS
from planatlas.layers.stack import CATEGORY_SHAPES

__all__ = ["LayerStyle", "default_style", "symbol_path", "qcolor", "CATEGORY_SYMBOLS", "PAPER",
           "SELECT_COLOR", "HOVER_COLOR"]

# category -> (symbol shape, default colour). Colours are from a colour-blind-safe set and
# differ in hue and lightness; shapes differ too, so the map also reads in grey scale.
CATEGORY_SYMBOLS: dict[str, tuple[str, str]] = {
    cat: (CATEGORY_SHAPES[cat], CATEGORY_COLORS[cat]) for cat in CATEGORY_SHAPES}
PAPER = QColor("#eef0ec")          # behind every map (sea and land outside the basemap)
SELECT_COLOR = "#ffb000"
HOVER_COLOR = "#00a6d6"


def qcolor(value: str, alpha: int | None = None) -> QColor:
    """``"#rrggbb"`` -> QColor (grey if invalid), with ``alpha`` 0-255 if given."""
    c = QColor(value)
    if not c.isValid():
        c = QColor("#888888")
    if alpha is not None:
        c.setAlpha(alpha)
    return c


@dataclass
class LayerStyle:
    color: str = "#d1495b"       # "#rrggbb"
    size: float = 10.0           # symbol size in pixels at scale 1
    shape: str = "circle"        # circle | square | diamond | triangle

    def qcolor(self, alpha: int | None = None) -> QColor:
        return qcolor(self.color, alpha)

    def to_dict(self) -> dict[str, Any]:
        return {"color": self.color, "size": self.size, "shape": self.shape}

    @classmethod
    def of(cls, style: Mapping[str, Any]) -> "LayerStyle":
        """The symbol part of a layer's style dict."""
        return cls(str(style.get("color", "#666666")), float(style.get("size", 10.0)),
                   str(style.get("shape", "circle")))


def default_style(category: str) -> LayerStyle:
    shape, color = CATEGORY_SYMBOLS.get(category, ("circle", "#666666"))
    return LayerStyle(color=color, size=10.0, shape=shape)


def symbol_path(shape: str, size: float) -> QPainterPath:
    """A symbol outline centred on (0, 0) that fits a ``size`` x ``size`` box."""
    r = size / 2.0
    path = QPainterPath()
    if shape == "square":
        s = r * 0.86
        path.addRect(QRectF(-s, -s, 2 * s, 2 * s))
    elif shape == "diamond":
        path.addPolygon(QPolygonF([QPointF(0, -r), QPointF(r, 0), QPointF(0, r), QPointF(-r, 0)]))
        path.closeSubpath()
    elif shape == "triangle":
        h = r * 1.0
        path.addPolygon(QPolygonF([QPointF(0, -h), QPointF(r * 0.95, h * 0.75),
                                   QPointF(-r * 0.95, h * 0.75)]))
        path.closeSubpath()
    else:
        path.addEllipse(QPointF(0, 0), r * 0.9, r * 0.9)
    return path
