"""Tiled and image basemaps (Qt-free): MBTiles, PMTiles, a folder of XYZ tiles, GeoTIFF or an image
with a world file, and — only when the user adds one — online XYZ services with a disk cache.

    src = open_tiles({"type": "mbtiles", "path": "city.mbtiles"})
    z, tiles = plan_tiles(src, view_extent_merc, metres_per_pixel)
    tile = src.fetch(t.z, t.x, t.y)          # Tile(bytes) | Tile(None, "empty"/"pending"/"missing")

:func:`open_tiles` keeps one open source per description, so the canvas, exports and the
layers panel share it. ``tile_kind(path)`` tells what a local path is.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Mapping

from planatlas.layers.errors import InputError

from .base import DATUMS, PlannedTile, Tile, TileSource, plan_tiles, tile_bounds, zoom_for_res
from .local import MBTilesSource, PMTilesSource, XYZFolderSource
from .online import OnlineXYZSource, check_template, tile_url
from .raster import RASTER_SUFFIXES, RasterSource

__all__ = ["open_tiles", "tile_kind", "close_all", "Tile", "TileSource", "PlannedTile",
           "plan_tiles", "tile_bounds", "zoom_for_res", "MBTilesSource", "PMTilesSource",
           "XYZFolderSource", "OnlineXYZSource", "RasterSource", "tile_url", "check_template",
           "TILE_TYPES", "TILE_SUFFIXES"]

TILE_TYPES = ("mbtiles", "pmtiles", "xyz", "raster", "online")
TILE_SUFFIXES = (".mbtiles", ".pmtiles", *RASTER_SUFFIXES)
_OPEN: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def tile_kind(path: str | Path) -> str | None:
    """"mbtiles" | "pmtiles" | "xyz" (a folder) | "raster" | None for a local path."""
    p = Path(path)
    if p.is_dir():
        return "xyz"
    suf = p.suffix.lower()
    if suf == ".mbtiles":
        return "mbtiles"
    if suf == ".pmtiles":
        return "pmtiles"
    if suf in RASTER_SUFFIXES:
        return "raster"
    return None


def _key(source: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in source.items() if k not in ("attribution", "name")))


def open_tiles(source: Mapping[str, Any]):
    """The open tile source for a layer's ``source`` description (opened once, then shared)."""
    kind = str(source.get("type") or "")
    if kind not in TILE_TYPES:
        raise InputError(f"unknown tile source type {kind!r} (known: {', '.join(TILE_TYPES)})")
    datum = str(source.get("datum") or "wgs84").lower()
    if datum not in DATUMS:
        raise InputError(f"tile datum must be one of {', '.join(DATUMS)}, got {datum!r}")
    key = _key(source)
    with _LOCK:
        src = _OPEN.get(key)
        if src is not None:
            return src
        if kind == "online":
            src = OnlineXYZSource(str(source.get("url") or ""), source.get("cache") or None,
                                  datum=datum, attribution=str(source.get("attribution") or ""),
                                  subdomains=str(source.get("subdomains") or ""),
                                  minzoom=int(source.get("minzoom", 0)),
                                  maxzoom=int(source.get("maxzoom", 18)),
                                  name=str(source.get("name") or ""))
        else:
            path = source.get("path")
            if not path:
                raise InputError(f"a {kind} tile source needs a path")
            if kind == "mbtiles":
                src = MBTilesSource(path, datum)
            elif kind == "pmtiles":
                src = PMTilesSource(path, datum)
            elif kind == "xyz":
                src = XYZFolderSource(path, datum, tms=bool(source.get("tms", False)))
            else:
                src = RasterSource(path, source.get("crs") or None)
        if source.get("attribution"):
            src.attribution = str(source["attribution"])
        _OPEN[key] = src
        return src


def close_all() -> None:
    with _LOCK:
        for src in _OPEN.values():
            try:
                src.close()
            except Exception:            # noqa: BLE001 - closing is best effort
                pass
        _OPEN.clear()
