"""Geometry encoding for the store: GeoPackage blobs (SQLite) and WKB (PostGIS, op log).

Every decoder distrusts its input: a blob that is not a valid, finite, 2-D WGS-84 geometry of
a known type raises :class:`BadValue`, which readers turn into "row skipped" warnings.
"""
from __future__ import annotations

import math
import struct

from .errors import StoreError

__all__ = ["BadValue", "gpkg_blob", "gpkg_geom", "wkb_hex", "from_wkb", "check_geometry", "SRS"]

SRS = 4326
_TYPES = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"}
MAX_COORDS = 200_000


class BadValue(StoreError):
    """A value read from the store is unusable (the message says why; exit code 1)."""


def check_geometry(geom, where: str = "geometry"):
    """Raise :class:`BadValue` unless ``geom`` is a non-empty lon/lat geometry PlanAtlas can draw."""
    import shapely

    if geom is None or not isinstance(geom, shapely.Geometry):
        raise BadValue(f"{where}: not a geometry")
    if geom.geom_type not in _TYPES:
        raise BadValue(f"{where}: unsupported geometry type {geom.geom_type}")
    if geom.is_empty:
        raise BadValue(f"{where}: empty geometry")
    n = shapely.get_num_coordinates(geom)
    if n > MAX_COORDS:
        raise BadValue(f"{where}: {n} coordinates (limit {MAX_COORDS})")
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise BadValue(f"{where}: coordinates are not finite")
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadValue(f"{where}: coordinates outside longitude/latitude range")
    return geom


def from_wkb(data) -> object:
    import shapely

    if isinstance(data, str):
        try:
            data = bytes.fromhex(data)
        except ValueError:
            raise BadValue("geometry: bad hex WKB") from None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise BadValue("geometry: not WKB bytes")
    try:
        geom = shapely.from_wkb(bytes(data))
    except Exception as exc:  # noqa: BLE001 - GEOSException and friends: the bytes are bad
        raise BadValue(f"geometry: unreadable WKB ({type(exc).__name__})") from None
    if geom is not None and shapely.has_z(geom):
        geom = shapely.force_2d(geom)
    return check_geometry(geom)


def wkb_hex(geom) -> str:
    import shapely

    return shapely.to_wkb(check_geometry(geom), hex=True, byte_order=1, output_dimension=2)


def gpkg_blob(geom) -> bytes:
    import shapely

    check_geometry(geom)
    minx, miny, maxx, maxy = geom.bounds
    flags = 0b0000_0011  # little endian, envelope [minx, maxx, miny, maxy]
    head = b"GP" + bytes([0, flags]) + struct.pack("<i", SRS) + struct.pack("<4d", minx, maxx, miny, maxy)
    return head + shapely.to_wkb(geom, byte_order=1, output_dimension=2)


def gpkg_geom(blob):
    """Shapely geometry of a GeoPackage geometry blob (None for NULL); BadValue if damaged."""
    if blob is None:
        return None
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise BadValue("geometry: not a blob")
    blob = bytes(blob)
    if len(blob) < 8 or blob[:2] != b"GP":
        raise BadValue("geometry: not a GeoPackage geometry blob")
    flags = blob[3]
    if flags & 0b0010_0000:
        raise BadValue("geometry: extended GeoPackage geometry is not supported")
    env = (flags >> 1) & 0b111
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get(env)
    if size is None:
        raise BadValue(f"geometry: bad GeoPackage envelope code {env}")
    if len(blob) < 8 + size + 5:
        raise BadValue("geometry: truncated GeoPackage blob")
    endian = "<" if flags & 1 else ">"
    srs = struct.unpack(endian + "i", blob[4:8])[0]
    if srs not in (SRS, 0, -1):
        raise BadValue(f"geometry: SRS {srs} is not WGS-84 (EPSG:4326)")
    return from_wkb(blob[8 + size:])
