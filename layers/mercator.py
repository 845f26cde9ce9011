"""WGS-84 lon/lat ↔ Web Mercator (EPSG:3857), vectorised (one pyproj call per array).

Shared by the columnar feature store (:mod:`planatlas.layers.columns`), the basemap and the
map painter, so every part of PlanAtlas projects with the same numbers.
"""
from __future__ import annotations

import math

import numpy as np
from pyproj import Transformer

__all__ = ["lonlat_to_merc", "merc_to_lonlat", "R_EARTH", "MAX_LAT", "MAX_MERC_Y"]

R_EARTH = 6378137.0
MAX_LAT = 85.05112878
MAX_MERC_Y = 20037508.342789244

# pyproj >= 3.1 transformers are thread-safe (the canvas renders in a worker thread)
_TO_MERC = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
_TO_LONLAT = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)


def lonlat_to_merc(lon, lat):
    """WGS-84 lon/lat (scalars or arrays) -> Web-Mercator metres (latitude clipped to ±85.05°)."""
    lat = np.clip(np.asarray(lat, dtype=np.float64), -MAX_LAT, MAX_LAT)
    return _TO_MERC.transform(np.asarray(lon, dtype=np.float64), lat)


def merc_to_lonlat(x, y):
    """Web-Mercator metres -> WGS-84 lon/lat."""
    return _TO_LONLAT.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))


def merc_scale(lat) -> np.ndarray:
    """Web-Mercator scale factor (map metres per ground metre) at latitude ``lat``."""
    return 1.0 / np.cos(np.radians(np.asarray(lat, dtype=np.float64)))


assert math.isclose(R_EARTH * math.pi, MAX_MERC_Y, rel_tol=1e-12)
