"""The map view: an immutable Web-Mercator (EPSG:3857) window, and lon/lat ↔ Mercator.

``MapView(cx, cy, res, width, height)``: centre in metres, ``res`` metres per pixel, pixel size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QTransform

from planatlas.layers.mercator import MAX_MERC_Y, R_EARTH, lonlat_to_merc, merc_to_lonlat

__all__ = ["MapView", "lonlat_to_merc", "merc_to_lonlat", "view_for_rect", "R_EARTH", "RES_Z0",
           "MAX_MERC_Y"]

RES_Z0 = 2 * math.pi * R_EARTH / 256.0          # metres per pixel at zoom 0


@dataclass(frozen=True)
class MapView:
    """Web-Mercator view: centre (cx, cy) in EPSG:3857 metres, ``res`` metres/pixel, pixel size."""
    cx: float
    cy: float
    res: float
    width: int
    height: int

    MIN_RES = 0.15          # ~zoom 20
    MAX_RES = 20000.0       # ~zoom 3

    def __post_init__(self):
        for name in ("cx", "cy", "res"):
            v = getattr(self, name)
            if not math.isfinite(v):
                raise ValueError(f"MapView.{name} must be finite, got {v!r}")
        if self.res <= 0:
            raise ValueError(f"MapView.res must be > 0, got {self.res!r}")
        if self.width < 1 or self.height < 1:
            raise ValueError(f"MapView size must be at least 1x1, got {self.width}x{self.height}")

    # -- geometry
    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def zoom(self) -> float:
        """Slippy-map zoom level equivalent of ``res`` (z=12 ≈ 38 m/px)."""
        return math.log2(RES_Z0 / self.res)

    def to_screen(self, xs, ys):
        """Map metres -> pixel coordinates (origin top-left of the view). Arrays or scalars."""
        px = (np.asarray(xs, dtype=np.float64) - self.cx) / self.res + self.width / 2.0
        py = self.height / 2.0 - (np.asarray(ys, dtype=np.float64) - self.cy) / self.res
        return px, py

    def to_map(self, px, py):
        """Pixel coordinates -> map metres."""
        xs = self.cx + (np.asarray(px, dtype=np.float64) - self.width / 2.0) * self.res
        ys = self.cy - (np.asarray(py, dtype=np.float64) - self.height / 2.0) * self.res
        return xs, ys

    def to_lonlat(self, px, py):
        return merc_to_lonlat(*self.to_map(px, py))

    def extent(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in EPSG:3857 metres."""
        hw, hh = self.width * self.res / 2.0, self.height * self.res / 2.0
        return (self.cx - hw, self.cy - hh, self.cx + hw, self.cy + hh)

    def extent_lonlat(self) -> tuple[float, float, float, float]:
        """(minlon, minlat, maxlon, maxlat) of the view."""
        x0, y0, x1, y1 = self.extent()
        lon, lat = merc_to_lonlat([x0, x1], [max(y0, -MAX_MERC_Y), min(y1, MAX_MERC_Y)])
        return (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))

    def center_lonlat(self) -> tuple[float, float]:
        lon, lat = merc_to_lonlat(self.cx, self.cy)
        return (float(lon), float(lat))

    def transform(self) -> QTransform:
        """QTransform from map metres to view pixels."""
        s = 1.0 / self.res
        return QTransform(s, 0.0, 0.0, -s, self.width / 2.0 - self.cx * s,
                          self.height / 2.0 + self.cy * s)

    def ground_resolution(self) -> float:
        """True metres per pixel at the view centre (Mercator scale corrected)."""
        _, lat = self.center_lonlat()
        return self.res * math.cos(math.radians(lat))

    # -- constructors / changes (views are immutable)
    @classmethod
    def fit(cls, lonlat_bbox: Sequence[float], size: Sequence[int], *, margin: float = 0.06,
            min_res: float = 1.0) -> "MapView":
        """View of pixel ``size`` that shows ``lonlat_bbox`` (minlon, minlat, maxlon, maxlat)."""
        try:
            minlon, minlat, maxlon, maxlat = (float(v) for v in lonlat_bbox)
        except (TypeError, ValueError):
            raise ValueError(f"MapView.fit: bbox must be 4 numbers, got {lonlat_bbox!r}") from None
        if not all(math.isfinite(v) for v in (minlon, minlat, maxlon, maxlat)):
            raise ValueError(f"MapView.fit: bbox has non-finite values: {lonlat_bbox!r}")
        if minlon > maxlon or minlat > maxlat:
            raise ValueError(f"MapView.fit: bbox is inverted: {lonlat_bbox!r}")
        w, h = max(1, int(size[0])), max(1, int(size[1]))
        xs, ys = lonlat_to_merc([minlon, maxlon], [minlat, maxlat])
        bw, bh = float(xs[1] - xs[0]), float(ys[1] - ys[0])
        usable_w, usable_h = max(1.0, w * (1 - 2 * margin)), max(1.0, h * (1 - 2 * margin))
        res = max(bw / usable_w, bh / usable_h, min_res)
        res = min(res, cls.MAX_RES)
        return cls(float(xs[0] + xs[1]) / 2.0, float(ys[0] + ys[1]) / 2.0, res, w, h)

    def framed(self, lonlat_bbox: Sequence[float], *, margin: float = 0.06,
               min_res: float = 1.0) -> "MapView":
        return MapView.fit(lonlat_bbox, self.size, margin=margin, min_res=min_res)

    def resized(self, width: int, height: int) -> "MapView":
        return replace(self, width=max(1, int(width)), height=max(1, int(height)))

    def panned(self, dx: float, dy: float) -> "MapView":
        """Move the content by (dx, dy) pixels (drag right -> map moves right)."""
        return replace(self, cx=self.cx - dx * self.res, cy=self.cy + dy * self.res)

    def zoomed(self, factor: float, anchor: tuple[float, float] | None = None) -> "MapView":
        """Zoom in by ``factor`` (>1 = closer) keeping the map point under ``anchor`` fixed."""
        new_res = min(max(self.res / factor, self.MIN_RES), self.MAX_RES)
        if anchor is None:
            return replace(self, res=new_res)
        ax, ay = self.to_map(anchor[0], anchor[1])
        ax, ay = float(ax), float(ay)
        f = new_res / self.res
        return replace(self, res=new_res, cx=ax + (self.cx - ax) * f, cy=ay + (self.cy - ay) * f)

    def to_dict(self) -> dict[str, float]:
        return {"cx": self.cx, "cy": self.cy, "res": self.res,
                "width": self.width, "height": self.height}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MapView":
        try:
            return cls(float(d["cx"]), float(d["cy"]), float(d["res"]),
                       int(d["width"]), int(d["height"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a map view: {d!r} ({exc})") from None


def view_for_rect(view: MapView, rect: QRectF) -> MapView:
    """The view drawn into ``rect``: same centre and ground width, rect's pixel size."""
    w, h = max(1, int(round(rect.width()))), max(1, int(round(rect.height())))
    if (w, h) == view.size:
        return view
    return MapView(view.cx, view.cy, view.res * view.width / w, w, h)
