"""Geometry for painting: shapely lon/lat -> Web Mercator (one pyproj call) -> QPainterPath."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainterPath, QPolygonF

from planatlas.layers.columns import project

__all__ = ["qpolygon", "geom_path", "project_geoms", "rings_of"]


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


def rings_of(geoms) -> list[list[QPolygonF]]:
    """For each geometry, its rings (areas: exterior counter-clockwise, holes clockwise, so
    a winding fill unites overlapping areas and keeps holes) or lines, as QPolygonF — all
    coordinates fetched in one shapely call."""
    import shapely
    geoms = np.asarray(geoms, dtype=object)
    out: list[list[QPolygonF]] = [[] for _ in range(len(geoms))]
    if not len(geoms):
        return out
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    is_area = shapely.get_type_id(parts) == 3
    pieces = [parts[~is_area]]
    owner = [part_of[~is_area]]
    if is_area.any():
        ext = shapely.get_exterior_ring(parts[is_area])
        pieces.append(ext)
        owner.append(part_of[is_area])
        n_int = shapely.get_num_interior_rings(parts[is_area])
        if n_int.any():
            holes, hole_of = shapely.get_rings(parts[is_area], return_index=True)
            keep = np.ones(len(holes), dtype=bool)
            first = np.r_[0, np.cumsum(n_int + 1)[:-1]]
            keep[first] = False                    # get_rings lists the exterior first
            pieces.append(holes[keep])
            owner.append(part_of[is_area][hole_of[keep]])
    lines = np.concatenate(pieces)
    who = np.concatenate(owner)
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    bounds = np.searchsorted(idx, np.arange(len(lines) + 1))
    for k, (a, b) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist())):
        if b > a:
            out[int(who[k])].append(qpolygon(coords[a:b]))
    return out
