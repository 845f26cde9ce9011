"""Writing tile stores: an MBTiles file from (z, x, y, bytes) tiles (atomically)."""
from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

__all__ = ["write_mbtiles", "lonlat_tile_range"]


def lonlat_tile_range(bbox, z: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) XYZ tile index range covering a lon/lat box at zoom ``z``."""
    import math
    minlon, minlat, maxlon, maxlat = bbox
    n = 1 << z

    def tx(lon):
        return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))

    def ty(lat):
        r = math.radians(max(-85.0511, min(85.0511, lat)))
        return min(n - 1, max(0, int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)))

    return tx(minlon), ty(maxlat), tx(maxlon), ty(minlat)


def write_mbtiles(path: str | os.PathLike, tiles: Iterable[tuple[int, int, int, bytes]],
                  metadata: Mapping[str, str]) -> int:
    """Write an MBTiles 1.3 file of raster ``tiles`` (XYZ rows; stored as TMS). Returns the
    number of tiles. The file appears only when complete."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    n = 0
    try:
        db = sqlite3.connect(tmp)
        try:
            db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
            db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
                       "tile_row INTEGER, tile_data BLOB)")
            db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
            for z, x, y, data in tiles:
                db.execute("INSERT OR REPLACE INTO tiles VALUES (?, ?, ?, ?)",
                           (z, x, (1 << z) - 1 - y, sqlite3.Binary(data)))
                n += 1
            db.executemany("INSERT INTO metadata VALUES (?, ?)",
                           [(str(k), str(v)) for k, v in metadata.items()])
            db.commit()
        finally:
            db.close()
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return n
