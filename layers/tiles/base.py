"""Tile sources: what a tiled basemap is, and which tiles a map view needs (Qt-free).

A :class:`TileSource` answers ``fetch(z, x, y)`` with a :class:`Tile` — image bytes (PNG, JPEG,
WebP …) or a state: ``empty`` (the source has nothing there), ``pending`` (being fetched in the
background, ask again) or ``missing`` (could not be had: offline and not cached). Tiles are in
the XYZ scheme of Web Mercator (z/x/y, y down from the north). ``datum`` says which geographic
frame the tiles are drawn in: ``wgs84`` (also CGCS2000: the same at map scale — 天地图, OSM,
most local caches) or ``gcj02`` (Amap/Gaode, Tencent). :func:`plan_tiles` lists the tiles of a
view with the Mercator box each must be drawn into; for GCJ-02 tiles that box is shifted by the
GCJ-02 → WGS-84 offset at the tile's centre, so the tiles are drawn under features stored in
WGS-84 with their streets where the features are (tiles shown larger than their zoom are
moved piece by piece, so the error stays under a quarter of a pixel).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["Tile", "TileSource", "PlannedTile", "plan_tiles", "tile_bounds", "zoom_for_res",
           "TileError", "RES_Z0", "ORIGIN", "sniff_format", "DATUMS"]

R_EARTH = 6378137.0
ORIGIN = math.pi * R_EARTH                       # 20037508.34 m
RES_Z0 = 2 * ORIGIN / 256.0
DATUMS = ("wgs84", "cgcs2000", "gcj02")
MAX_TILES = 600


class TileError(ValueError):
    """Raised by :func:`planatlas.layers.tiles.open_tiles` wrappers as InputError."""


@dataclass(frozen=True)
class Tile:
    data: bytes | None
    state: str = "ok"             # ok | empty | pending | missing


def sniff_format(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    return "unknown"


class TileSource:
    """Base: a tiled raster basemap (see the module doc)."""
    kind = ""
    minzoom = 0
    maxzoom = 18
    tile_size = 256
    datum = "wgs84"
    attribution = ""
    name = ""
    bounds: tuple[float, float, float, float] | None = None        # lon/lat, WGS-84
    on_tile: Callable[[int, int, int], None] | None = None           # a background tile arrived

    def fetch(self, z: int, x: int, y: int) -> Tile:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "minzoom": self.minzoom,
                "maxzoom": self.maxzoom, "datum": self.datum, "attribution": self.attribution,
                "bounds": list(self.bounds) if self.bounds else None}

    def close(self) -> None:
        pass


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Mercator box (x0, y0, x1, y1) of an XYZ tile."""
    size = 2 * ORIGIN / (1 << z)
    x0 = -ORIGIN + x * size
    y1 = ORIGIN - y * size
    return (x0, y1 - size, x0 + size, y1)


def zoom_for_res(res: float, tile_size: int = 256) -> float:
    return math.log2(RES_Z0 * 256.0 / tile_size / res)


@dataclass(frozen=True)
class PlannedTile:
    z: int
    x: int
    y: int
    box: tuple[float, float, float, float]        # where to draw it, WGS-84 Mercator metres
    part: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)   # of the tile image (u0, v0, u1, v1)


def _gcj_shift(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mercator shift that moves GCJ-02-framed positions onto WGS-84 ones."""
    from planatlas.layers.crs import gcj02_to_wgs84
    lon = np.degrees(x / R_EARTH)
    lat = np.degrees(2 * np.arctan(np.exp(y / R_EARTH)) - np.pi / 2)
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    wx = np.radians(wlon) * R_EARTH
    wy = np.log(np.tan(np.pi / 4 + np.radians(np.clip(wlat, -85.0511, 85.0511)) / 2)) * R_EARTH
    return wx - x, wy - y


def plan_tiles(src: TileSource, extent: tuple[float, float, float, float], res: float,
               *, max_tiles: int = MAX_TILES) -> tuple[int, list[PlannedTile]]:
    """(zoom, tiles) covering a Mercator ``extent`` shown at ``res`` metres/pixel: the zoom
    nearest the view (never coarser than needed by more than √2), clamped to the source's
    zoom range (beyond its max zoom the max-zoom tiles are enlarged)."""
    z = int(math.floor(zoom_for_res(res, src.tile_size) + 0.5))
    z = max(src.minzoom, min(src.maxzoom, z))
    x0, y0, x1, y1 = extent
    gcj = src.datum == "gcj02"
    if gcj:                  # the view in the tiles' frame: shift by the offset at its centre
        dx, dy = _gcj_shift(np.array([(x0 + x1) / 2]), np.array([(y0 + y1) / 2]))
        pad = 800.0
        x0, x1 = x0 - dx[0] - pad, x1 - dx[0] + pad
        y0, y1 = y0 - dy[0] - pad, y1 - dy[0] + pad
    while True:
        n = 1 << z
        size = 2 * ORIGIN / n
        tx0 = max(0, int(math.floor((x0 + ORIGIN) / size)))
        tx1 = min(n - 1, int(math.floor((x1 + ORIGIN) / size)))
        ty0 = max(0, int(math.floor((ORIGIN - y1) / size)))
        ty1 = min(n - 1, int(math.floor((ORIGIN - y0) / size)))
        count = max(0, tx1 - tx0 + 1) * max(0, ty1 - ty0 + 1)
        if count <= max_tiles or z <= src.minzoom:
            break
        z -= 1
    if count <= 0:
        return z, []
    xs, ys = np.meshgrid(np.arange(tx0, tx1 + 1), np.arange(ty0, ty1 + 1))
    xs, ys = xs.ravel(), ys.ravel()
    bx0 = -ORIGIN + xs * size
    by1 = ORIGIN - ys * size
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    order = np.argsort(np.hypot(bx0 + size / 2 - cx, by1 - size / 2 - cy), kind="stable")
    if not gcj:
        return z, [PlannedTile(z, int(xs[i]), int(ys[i]),
                               (float(bx0[i]), float(by1[i] - size), float(bx0[i] + size), float(by1[i])))
                   for i in order.tolist()]
    # GCJ-02: each tile — or, for tiles enlarged past their zoom, each screen-tile-sized piece
    # (≤ 256 px, across which the offset varies by < 0.25 px) — moves by the offset at its centre
    zview = int(math.ceil(zoom_for_res(res, src.tile_size)))
    k = 1 << max(0, min(6, zview - z))
    psize = size / k
    tiles = []
    for i in order.tolist():
        u = np.arange(k)
        pu, pv = np.meshgrid(u, u)
        pu, pv = pu.ravel(), pv.ravel()
        px0 = bx0[i] + pu * psize
        py1 = by1[i] - pv * psize
        keep = (px0 + psize >= x0) & (px0 <= x1) & (py1 >= y0) & (py1 - psize <= y1)
        pu, pv, px0, py1 = pu[keep], pv[keep], px0[keep], py1[keep]
        sx, sy = _gcj_shift(px0 + psize / 2, py1 - psize / 2)
        for a, b, qx, qy, dx, dy in zip(pu.tolist(), pv.tolist(), px0.tolist(), py1.tolist(),
                                        sx.tolist(), sy.tolist()):
            tiles.append(PlannedTile(z, int(xs[i]), int(ys[i]),
                                     (qx + dx, qy - psize + dy, qx + psize + dx, qy + dy),
                                     (a / k, b / k, (a + 1) / k, (b + 1) / k)))
    return z, tiles
