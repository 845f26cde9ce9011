"""Coordinate systems used by Chinese map data, and conversions between them.

* ``wgs84``    – WGS-84 geographic lon/lat (EPSG:4326); PlanAtlas stores everything in it.
* ``cgcs2000`` – China Geodetic Coordinate System 2000, geographic (EPSG:4490). Its ellipsoid
  and realisation differ from WGS-84 by centimetres, so at map scale it is the same; the
  conversion still goes through pyproj so that the datum is named correctly.
* ``gcj02``    – the obfuscated "Mars" datum required for public maps in mainland China
  (Amap/Gaode, Tencent, Google China). It is WGS-84 plus a deterministic, non-linear shift of
  about 100–700 m. The forward formula is public (widely re-implemented, e.g. eviltransform,
  coordtransform); the inverse has no closed form and is solved here by fixed-point iteration.
* ``bd09``     – Baidu's datum: a second, small rotation/scaling applied on top of GCJ-02.

All functions are pure numpy, vectorised, and accept scalars or array-likes. Scalars in give
numpy float scalars out; arrays in give float64 arrays of the same shape out. Points outside
mainland China (by the usual rectangular "out of China" rule used by the reference
implementations) are returned unchanged by the GCJ-02/BD-09 conversions, matching how the
providers themselves behave.

Gauss–Krüger helpers (:func:`gk3_zone`, :func:`gk3_epsg`, :func:`to_gk3`) give the CGCS2000
3-degree zone projections EPSG:4513–4533 ("CGCS2000 / 3-degree Gauss-Kruger zone 25..45", false
easting with the zone number as prefix), useful for metric lengths and areas.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "CRS_NAMES", "out_of_china",
    "wgs84_to_gcj02", "gcj02_to_wgs84", "gcj02_to_bd09", "bd09_to_gcj02",
    "wgs84_to_bd09", "bd09_to_wgs84",
    "convert", "convert_geometry",
    "gk3_zone", "gk3_epsg", "to_gk3",
]

CRS_NAMES = ("wgs84", "gcj02", "bd09", "cgcs2000")

# Krasovsky 1940 ellipsoid parameters used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def _as_arrays(lons: Any, lats: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    lon = np.asarray(lons, dtype=np.float64)
    lat = np.asarray(lats, dtype=np.float64)
    if lon.shape != lat.shape:
        try:
            lon, lat = np.broadcast_arrays(lon, lat)
        except ValueError:
            raise ValueError(
                f"longitudes and latitudes have incompatible shapes {lon.shape} and {lat.shape}"
            ) from None
    scalar = lon.ndim == 0
    return lon, lat, scalar


def _out(lon: np.ndarray, lat: np.ndarray, scalar: bool):
    if scalar:
        return np.float64(lon), np.float64(lat)
    return lon, lat


def out_of_china(lons: Any, lats: Any) -> np.ndarray | np.bool_:
    """True where the point is outside the rectangle in which GCJ-02 applies.

    This is the simple bounding-box rule of the reference implementations
    (72.004–137.8347 °E, 0.8293–55.8271 °N); it deliberately does not try to follow borders.
    """
    lon, lat, scalar = _as_arrays(lons, lats)
    res = (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)
    res = res | ~np.isfinite(lon) | ~np.isfinite(lat)
    return np.bool_(res) if scalar else res


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS-84 position (lon, lat)."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = np.sin(radlat)
    magic = 1.0 - _EE * magic * magic
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lons: Any, lats: Any):
    """WGS-84 → GCJ-02. Points outside China are returned unchanged."""
    lon, lat, scalar = _as_arrays(lons, lats)
    outside = out_of_china(lon, lat)
    dlon, dlat = _gcj_delta(lon, lat)
    rlon = np.where(outside, lon, lon + dlon)
    rlat = np.where(outside, lat, lat + dlat)
    return _out(rlon, rlat, scalar)


def gcj02_to_wgs84(lons: Any, lats: Any, *, tol: float = 1e-10, max_iter: int = 30):
    """GCJ-02 → WGS-84 by fixed-point iteration (error far below 0.1 m; ~1e-10° by default).

    Solves ``wgs + delta(wgs) = gcj`` for ``wgs``; the offset field varies slowly, so the
    iteration ``wgs <- gcj - delta(wgs)`` converges in a handful of steps. Points outside
    China are returned unchanged.
    """
    lon, lat, scalar = _as_arrays(lons, lats)
    outside = out_of_china(lon, lat)
    wlon = lon.copy()
    wlat = lat.copy()
    # each point iterates until *its own* update is below tol, so a point's result never
    # depends on the other points in the array (shared polygon vertices stay identical)
    active = ~outside & np.isfinite(lon) & np.isfinite(lat)
    for _ in range(max_iter):
        if not active.any():
            break
        dlon, dlat = _gcj_delta(wlon[active], wlat[active])
        nlon = lon[active] - dlon
        nlat = lat[active] - dlat
        moved = np.maximum(np.abs(nlon - wlon[active]), np.abs(nlat - wlat[active])) > tol
        wlon[active] = nlon
        wlat[active] = nlat
        idx = np.flatnonzero(active)
        active.flat[idx[~moved]] = False
    return _out(wlon, wlat, scalar)


def _gcj_to_bd_raw(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def gcj02_to_bd09(lons: Any, lats: Any):
    """GCJ-02 → BD-09. Points outside China are returned unchanged."""
    lon, lat, scalar = _as_arrays(lons, lats)
    outside = out_of_china(lon, lat)
    blon, blat = _gcj_to_bd_raw(lon, lat)
    return _out(np.where(outside, lon, blon), np.where(outside, lat, blat), scalar)


def bd09_to_gcj02(lons: Any, lats: Any, *, iterations: int = 3):
    """BD-09 → GCJ-02. Points outside China are returned unchanged.

    Starts from the usual closed-form approximate inverse (as in the reference
    implementations, error up to ~1 m) and refines it by fixed-point iteration on the exact
    forward formula, so that round trips close to well below a millimetre. The correction
    is ~1e-4 of the offset, so each step gains about four digits; a fixed number of steps
    keeps every point's result independent of the other points.
    """
    lon, lat, scalar = _as_arrays(lons, lats)
    outside = out_of_china(lon, lat)
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon = z * np.cos(theta)
    glat = z * np.sin(theta)
    for _ in range(iterations):
        flon, flat = _gcj_to_bd_raw(glon, glat)
        glon = glon - (flon - lon)
        glat = glat - (flat - lat)
    return _out(np.where(outside, lon, glon), np.where(outside, lat, glat), scalar)


def wgs84_to_bd09(lons: Any, lats: Any):
    """WGS-84 → BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lons, lats))


def bd09_to_wgs84(lons: Any, lats: Any):
    """BD-09 → WGS-84 (via GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lons, lats))


# --------------------------------------------------------------------------- pyproj parts

@lru_cache(maxsize=None)
def _transformer(src_epsg: int, dst_epsg: int):
    from pyproj import Transformer

    return Transformer.from_crs(f"EPSG:{src_epsg}", f"EPSG:{dst_epsg}", always_xy=True)


def _wgs84_to_cgcs2000(lon: np.ndarray, lat: np.ndarray):
    x, y = _transformer(4326, 4490).transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _cgcs2000_to_wgs84(lon: np.ndarray, lat: np.ndarray):
    x, y = _transformer(4490, 4326).transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


_ALIASES = {"wgs84": "wgs84", "epsg4326": "wgs84", "gcj02": "gcj02", "gcj": "gcj02",
            "bd09": "bd09", "bd": "bd09", "cgcs2000": "cgcs2000", "epsg4490": "cgcs2000"}


def _check_name(name: str, role: str) -> str:
    key = "".join(ch for ch in str(name).lower() if ch.isalnum())
    if key not in _ALIASES:
        raise ValueError(f"unknown {role} coordinate system {name!r}; expected one of {CRS_NAMES}")
    return _ALIASES[key]


_TO_WGS = {
    "wgs84": lambda lon, lat: (lon, lat),
    "gcj02": lambda lon, lat: gcj02_to_wgs84(lon, lat),
    "bd09": lambda lon, lat: bd09_to_wgs84(lon, lat),
    "cgcs2000": _cgcs2000_to_wgs84,
}
_FROM_WGS = {
    "wgs84": lambda lon, lat: (lon, lat),
    "gcj02": lambda lon, lat: wgs84_to_gcj02(lon, lat),
    "bd09": lambda lon, lat: wgs84_to_bd09(lon, lat),
    "cgcs2000": _wgs84_to_cgcs2000,
}


def convert(lons: Any, lats: Any, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert lon/lat between ``wgs84``, ``gcj02``, ``bd09`` and ``cgcs2000``.

    Always returns a pair of float64 numpy arrays (0-d for scalar input). Direct routes are
    used where they exist (gcj02<->bd09); everything else goes through WGS-84.
    """
    s = _check_name(src, "source")
    d = _check_name(dst, "target")
    lon, lat, _ = _as_arrays(lons, lats)
    if s == d:
        return lon.copy(), lat.copy()
    if (s, d) == ("gcj02", "bd09"):
        x, y = gcj02_to_bd09(lon, lat)
    elif (s, d) == ("bd09", "gcj02"):
        x, y = bd09_to_gcj02(lon, lat)
    else:
        x, y = _FROM_WGS[d](*_TO_WGS[s](lon, lat))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def convert_geometry(geom, src: str, dst: str):
    """Convert a shapely geometry (any type, 2-D) between coordinate systems."""
    import shapely

    s = _check_name(src, "source")
    d = _check_name(dst, "target")
    if s == d:
        return geom

    def _fn(coords: np.ndarray) -> np.ndarray:
        x, y = convert(coords[:, 0], coords[:, 1], s, d)
        return np.column_stack([x, y])

    return shapely.transform(geom, _fn)


# --------------------------------------------------------------------------- Gauss–Krüger

def gk3_zone(lon: Any):
    """3-degree Gauss–Krüger zone number: ``round(lon / 3)`` (central meridian = 3 × zone).

    CGCS2000 defines zones 25 (75 °E) to 45 (135 °E); longitudes outside 73.5–136.5 °E raise.
    Returns an int for scalar input, an int array otherwise. A longitude exactly on a zone
    edge (x.5 × 3) belongs to the eastern zone.
    """
    arr = np.asarray(lon, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("gk3_zone: longitude must be finite")
    zone = np.floor(arr / 3.0 + 0.5).astype(np.int64)
    if np.any((zone < 25) | (zone > 45)):
        bad = arr[(zone < 25) | (zone > 45)] if arr.ndim else arr
        raise ValueError(
            f"gk3_zone: longitude {np.ravel(bad)[0]!r} is outside the CGCS2000 3-degree zones "
            "25–45 (73.5–136.5 °E)"
        )
    return int(zone) if zone.ndim == 0 else zone


def gk3_epsg(lon: Any):
    """EPSG code of the CGCS2000 3-degree GK zone (with zone-number prefix) at ``lon``.

    Zone 25 is EPSG:4513 … zone 45 is EPSG:4533.
    """
    return 4513 + (gk3_zone(lon) - 25)


def to_gk3(lons: Any, lats: Any, *, zone: int | None = None, src: str = "wgs84"):
    """Project lon/lat to CGCS2000 3-degree Gauss–Krüger easting/northing (metres).

    All points use one zone: ``zone`` if given, else the zone of the mean longitude, so
    distances between the returned points are consistent. Returns ``(x, y, epsg)``; x carries
    the zone prefix (e.g. 39 500 000 m at the central meridian of zone 39).
    """
    lon, lat, scalar = _as_arrays(lons, lats)
    s = _check_name(src, "source")
    if s != "cgcs2000":
        lon, lat = convert(lon, lat, s, "cgcs2000")
    if zone is None:
        finite = lon[np.isfinite(lon)]
        if finite.size == 0:
            raise ValueError("to_gk3: no finite longitude to choose a zone from")
        zone = gk3_zone(float(np.mean(finite)))
    if not 25 <= int(zone) <= 45:
        raise ValueError(f"to_gk3: zone {zone} is not a CGCS2000 3-degree zone (25–45)")
    epsg = 4513 + int(zone) - 25
    x, y = _transformer(4490, epsg).transform(lon, lat)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if scalar:
        return np.float64(x), np.float64(y), epsg
    return x, y, epsg
