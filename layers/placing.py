"""Putting a place on the map by hand: the geometry of what the user clicked or drew, and an
honest default precision for it.

A click is only as good as what the user can see: at a zoom of *r* metres per pixel a click
lands within a few pixels of where it was meant, so the default ``precision_m`` is
:data:`CLICK_TOLERANCE_PX` × *r*, rounded up to a round figure, and never better than the
basemap the user placed it against (:data:`BASEMAP_FLOOR_M`, the largest deviation of the
simplified district boundaries, ``geodata/README.md``). The user may type a better or worse
figure; the store keeps what was chosen, and the feature says it was placed by the user
(``method = "placed"``, status *approximate* until a field survey verifies it).
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

from .errors import InputError

__all__ = ["CLICK_TOLERANCE_PX", "BASEMAP_FLOOR_M", "PLACED_SOURCE", "GEOMETRY_KINDS",
           "click_precision_m", "round_up", "placed_geometry"]

CLICK_TOLERANCE_PX = 8          # how far from the intended spot a deliberate click lands
BASEMAP_FLOOR_M = 25.0          # simplified district boundaries deviate up to 25.5 m
PLACED_SOURCE = "placed on the map by the user"
GEOMETRY_KINDS = ("point", "line", "polygon")


def round_up(metres: float) -> float:
    """The next round figure at or above ``metres`` (1, 2, 2.5, 5 × a power of ten)."""
    if not math.isfinite(metres) or metres <= 0:
        return 0.0
    mag = 10 ** math.floor(math.log10(metres))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= metres - 1e-9:
            return float(m * mag)
    return float(10 * mag)          # pragma: no cover - the loop always returns


def click_precision_m(metres_per_pixel: float, *, tolerance_px: float = CLICK_TOLERANCE_PX) -> float:
    """Default ``precision_m`` of a place clicked at ``metres_per_pixel`` (ground resolution)."""
    try:
        r = float(metres_per_pixel)
    except (TypeError, ValueError):
        raise InputError(f"ground resolution must be a number, got {metres_per_pixel!r}") from None
    if not math.isfinite(r) or r <= 0:
        raise InputError(f"ground resolution must be positive, got {metres_per_pixel!r}")
    return max(BASEMAP_FLOOR_M, round_up(tolerance_px * r))


def _distinct(lonlats: Iterable[Sequence[float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for p in lonlats:
        q = (float(p[0]), float(p[1]))
        if not (math.isfinite(q[0]) and math.isfinite(q[1])):
            raise InputError(f"not a coordinate: {p!r}")
        if not out or (abs(out[-1][0] - q[0]) > 1e-9 or abs(out[-1][1] - q[1]) > 1e-9):
            out.append(q)
    return out


def placed_geometry(kind: str, lonlats: Iterable[Sequence[float]]):
    """A shapely geometry (WGS-84) from clicked vertices: ``point`` (one vertex), ``line`` (two
    or more) or ``polygon`` (three or more, closed for you; an outline that crosses itself is
    refused with the reason)."""
    import shapely

    if kind not in GEOMETRY_KINDS:
        raise InputError(f"geometry kind must be one of {', '.join(GEOMETRY_KINDS)}, got {kind!r}")
    pts = _distinct(lonlats)
    if kind == "point":
        if len(pts) != 1:
            raise InputError(f"a point needs exactly one position, got {len(pts)}")
        return shapely.Point(pts[0])
    if kind == "line":
        if len(pts) < 2:
            raise InputError("a line needs at least two different vertices")
        return shapely.LineString(pts)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    if len(pts) < 3:
        raise InputError("an area needs at least three different vertices")
    poly = shapely.Polygon(pts)
    if poly.convex_hull.area == 0:
        raise InputError("an area's vertices must not lie on one line")
    if not poly.is_valid:
        raise InputError(f"the outline crosses itself ({shapely.is_valid_reason(poly)}); draw it again")
    return poly
