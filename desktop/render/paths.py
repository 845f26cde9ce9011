"""Geometry for painting: shapely lon/lat -> Web Mercator (one pyproj call) -> QPainterPath."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainterPath, QPolygonF

from planatlas.layers.columns import project

__all__ = ["qpolygon", "geom_path", "project_geoms"]


def qpolygon(coords: np.ndarray) -> QPolygonF:
    """Nx2 float array -> QPolygonF (one memcpy, no per-point Python)."""
    coords = np.ascontiguousarray(coords[:, :2], dtype=np.float64)
    n = len(coords)
    poly = QPolygonF()
    if n == 0:
        return poly
    poly.resize(n)
    buf = np.frombuffer(shiboken6.VoidPtr(poly.data(), n * 16, True), dtype=np.float64, count=2 * n)
    buf[:] = coords.ravel()
    return poly


def geom_path(geom) -> QPainterPath:
    """Projected shapely geometry -> QPainterPath (polygons closed, holes via odd-even fill)."""
    path = QPainterPath()
    path.setFillRule(Qt.OddEvenFill)
    if geom is None or geom.is_empty:
        return path
    gt = geom.geom_type
    if gt == "Polygon":
        for ring in (geom.exterior, *geom.interiors):
            path.addPolygon(qpolygon(np.asarray(ring.coords)))
            path.closeSubpath()
    elif gt == "LineString" or gt == "LinearRing":
        path.addPolygon(qpolygon(np.asarray(geom.coords)))
    elif gt.startswith("Multi") or gt == "GeometryCollection":
        for part in geom.geoms:
            path.addPath(geom_path(part))
    return path


def project_geoms(geoms: Sequence) -> np.ndarray:
    """shapely geometries lon/lat -> EPSG:3857, all coordinates in one pyproj call."""
    return project(list(geoms))
