"""Drawing for vector devices (SVG, PDF): plain paths in page pixels, so every viewer agrees.

On a raster device the renderers draw map-coordinate paths under the view's world transform
with cosmetic (non-scaling) pens — fast and exact. Written to SVG that becomes paths with
coordinates in the millions under a tiny scale matrix and ``vector-effect="non-scaling-stroke"``,
which rsvg drops, Inkscape misdraws and browsers draw right only at the native size; Qt's
hatched brushes become ``<pattern>``s with ``<mask>``s that Inkscape paints as black bands.
Here, instead:

* :func:`to_page` maps a map-coordinate path into view pixels once (no world transform left),
* :func:`page_pen` is the same pen with its width in those pixels (not cosmetic),
* :func:`hatch_path` is hatching as ordinary line segments already clipped to the area.

:func:`paint_shapes` draws the plan features' areas and lines this way (the vector twin of
``PlanCategoryRenderer._paint_shapes``).
"""
from __future__ import annotations

import math

import numpy as np
import shapely
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from .paths import geom_path
from .styles import HOVER_COLOR, SELECT_COLOR
from .view import MapView

__all__ = ["to_page", "page_pen", "hatch_path", "page_geometry", "paint_shapes"]


def to_page(view: MapView, path: QPainterPath) -> QPainterPath:
    """A map-coordinate (Web Mercator) path in view pixels."""
    return view.transform().map(path)


def page_pen(color, width: float, style=Qt.SolidLine, *, cap=Qt.RoundCap,
             join=Qt.RoundJoin) -> QPen:
    """A pen ``width`` view pixels wide that scales with the page (never cosmetic)."""
    pen = QPen(QColor(color), width, style)
    pen.setCosmetic(False)
    pen.setCapStyle(cap)
    pen.setJoinStyle(join)
    return pen


def page_geometry(view: MapView, geom):
    """A projected (Mercator) shapely geometry in view pixels."""
    x0, y0, x1, y1 = view.extent()
    res = view.res

    def fn(c: np.ndarray) -> np.ndarray:
        return np.column_stack([(c[:, 0] - x0) / res, (y1 - c[:, 1]) / res])

    return shapely.transform(geom, fn)


def hatch_path(area, spacing: float, angle_deg: float = 45.0) -> QPainterPath:
    """Parallel lines ``spacing`` px apart across ``area`` (shapely, view pixels), cut to it."""
    path = QPainterPath()
    if area is None or area.is_empty or spacing <= 0:
        return path
    minx, miny, maxx, maxy = area.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = math.hypot(maxx - minx, maxy - miny) / 2 + spacing
    a = math.radians(angle_deg)
    d = np.array([math.cos(a), -math.sin(a)])          # along the hatch (screen y is down)
    n = np.array([math.sin(a), math.cos(a)])           # across it
    offsets = np.arange(-half, half + spacing, spacing)
    starts = np.array([cx, cy]) + offsets[:, None] * n - half * d
    ends = np.array([cx, cy]) + offsets[:, None] * n + half * d
    lines = shapely.linestrings(np.stack([starts, ends], axis=1))
    cut = shapely.intersection(lines, area)
    for geom in cut:
        if not geom.is_empty:
            path.addPath(geom_path(geom))
    return path


def _clip(view: MapView, geom, pad: float):
    """Cut a pixel geometry to the view plus ``pad`` (keeps paths small and inside the frame)."""
    box = shapely.box(-pad, -pad, view.width + pad, view.height + pad)
    return shapely.intersection(geom, box) if not box.contains(geom) else geom


def paint_shapes(painter: QPainter, view: MapView, scene, run, shapes_idx, sel, hl, scale,
                 opacity) -> None:
    """The plan features' areas (largest first), lines and selection marks as page paths."""
    kind = scene.kind[shapes_idx]
    order = shapes_idx[np.argsort(-scene.area[shapes_idx], kind="stable")]
    kind = scene.kind[order]
    polys, lines = order[kind == scene.KIND_POLYGON], order[kind == scene.KIND_LINE]
    owner = run.own.owner
    pad = 20 * scale

    def page(i: int):
        return _clip(view, page_geometry(view, scene.geoms[i]), pad)

    painter.save()
    for i in polys.tolist():
        k = int(owner[i])
        opacity(k)
        st = run.styles[k]
        area = page(i)
        if area.is_empty:
            continue
        path = geom_path(area)
        edge = page_pen(st.qcolor().darker(115), 1.6 * scale)
        if scene.schematic[i]:
            edge.setStyle(Qt.DashLine)
            painter.setPen(Qt.NoPen)
            painter.setBrush(st.qcolor(28))
            painter.drawPath(path)
            painter.setBrush(Qt.NoBrush)
            painter.setPen(page_pen(st.qcolor(150), 1.0 * scale, cap=Qt.FlatCap))
            painter.drawPath(hatch_path(area, 8.0 * scale))
            painter.setPen(edge)
        else:
            painter.setPen(edge)
            painter.setBrush(st.qcolor(60))
        painter.drawPath(path)
    painter.setBrush(Qt.NoBrush)
    for i in lines.tolist():
        k = int(owner[i])
        opacity(k)
        st = run.styles[k]
        path = geom_path(page(i))
        painter.setPen(page_pen(QColor(255, 255, 255, 230), 6.5 * scale))
        painter.drawPath(path)
        pen = page_pen(st.qcolor(), 3.8 * scale)
        if scene.schematic[i]:
            pen.setStyle(Qt.DashLine)
            pen.setCapStyle(Qt.FlatCap)
        painter.setPen(pen)
        painter.drawPath(path)
    painter.setOpacity(1.0)
    marks = [(int(i), SELECT_COLOR) for i in shapes_idx[sel[shapes_idx]]]
    if hl is not None and hl in set(shapes_idx.tolist()):
        marks.append((hl, HOVER_COLOR))
    for i, colour in marks:
        painter.setPen(page_pen(colour, 3.2 * scale))
        painter.drawPath(geom_path(page(i)))
    painter.restore()
