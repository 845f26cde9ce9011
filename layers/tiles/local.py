"""Local tile stores: MBTiles (SQLite), PMTiles (one file, read with the ``pmtiles`` package) and
a folder of XYZ tiles ({z}/{x}/{y}.png|jpg|webp). Raster tiles only: vector tiles (MVT/PBF) are
refused with a message, since drawing them needs a style this viewer does not have."""
from __future__ import annotations

import gzip
import json
import re
import sqlite3
import threading
from pathlib import Path

from planatlas.layers.errors import InputError

from .base import Tile, TileSource, sniff_format

__all__ = ["MBTilesSource", "PMTilesSource", "XYZFolderSource"]

RASTER = ("png", "jpg", "jpeg", "webp")


def _bounds(text) -> tuple[float, float, float, float] | None:
    try:
        b = tuple(float(v) for v in str(text).split(","))
    except (TypeError, ValueError):
        return None
    return b if len(b) == 4 and b[0] < b[2] and b[1] < b[3] else None


def _refuse_vector(path: Path, fmt: str) -> None:
    if fmt.lower() in ("pbf", "mvt", "vector"):
        raise InputError(f"{path}: holds vector tiles ({fmt}); PlanAtlas draws raster tiles "
                         "(PNG/JPEG/WebP) — export a raster version of the basemap")


class MBTilesSource(TileSource):
    """An MBTiles file (TMS rows flipped to XYZ). Thread-safe reads."""
    kind = "mbtiles"

    def __init__(self, path: str | Path, datum: str = "wgs84"):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file")
        try:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                       check_same_thread=False)
            meta = dict(self._db.execute("SELECT name, value FROM metadata").fetchall())
            self._db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1")
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: not an MBTiles file ({exc})") from None
        self._lock = threading.Lock()
        fmt = str(meta.get("format", "png"))
        _refuse_vector(self.path, fmt)
        self.format = fmt
        self.name = str(meta.get("name") or self.path.stem)
        self.attribution = str(meta.get("attribution") or "")
        self.bounds = _bounds(meta.get("bounds"))
        zooms = self._db.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
        if zooms[0] is None:
            raise InputError(f"{self.path}: the MBTiles file has no tiles")
        self.minzoom = int(meta.get("minzoom", zooms[0]))
        self.maxzoom = int(meta.get("maxzoom", zooms[1]))
        self.datum = datum

    def fetch(self, z, x, y) -> Tile:
        with self._lock:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (1 << z) - 1 - y)).fetchone()
        if row is None or row[0] is None:
            return Tile(None, "empty")
        return Tile(bytes(row[0]))

    def close(self) -> None:
        self._db.close()


class PMTilesSource(TileSource):
    """A PMTiles v3 archive (memory-mapped; raster tile types only)."""
    kind = "pmtiles"

    def __init__(self, path: str | Path, datum: str = "wgs84"):
        from pmtiles.reader import MmapSource, Reader
        from pmtiles.tile import Compression, TileType
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file")
        self._fh = open(self.path, "rb")
        try:
            self._reader = Reader(MmapSource(self._fh))
            h = self._reader.header()
        except (ValueError, OSError, KeyError, Exception) as exc:   # noqa: BLE001 - pmtiles' own
            self._fh.close()
            raise InputError(f"{self.path}: not a PMTiles v3 archive ({exc})") from None
        tt = h.get("tile_type")
        if tt == TileType.MVT:
            self._fh.close()
            _refuse_vector(self.path, "mvt")
        self.format = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp"}.get(tt, "png")
        self._gzip = h.get("tile_compression") == Compression.GZIP
        try:
            meta = self._reader.metadata()
        except (ValueError, OSError, json.JSONDecodeError):
            meta = {}
        self.name = str(meta.get("name") or self.path.stem)
        self.attribution = str(meta.get("attribution") or "")
        self.minzoom, self.maxzoom = int(h["min_zoom"]), int(h["max_zoom"])
        self.bounds = (h["min_lon_e7"] / 1e7, h["min_lat_e7"] / 1e7, h["max_lon_e7"] / 1e7,
                       h["max_lat_e7"] / 1e7)
        self.datum = datum
        self._lock = threading.Lock()

    def fetch(self, z, x, y) -> Tile:
        with self._lock:
            data = self._reader.get(z, x, y)
        if not data:
            return Tile(None, "empty")
        data = bytes(data)
        if self._gzip or sniff_format(data) == "gzip":
            data = gzip.decompress(data)
        return Tile(data)

    def close(self) -> None:
        self._fh.close()


class XYZFolderSource(TileSource):
    """A folder of tiles laid out as {z}/{x}/{y}.ext (``tms=True``: rows counted from the south)."""
    kind = "xyz"

    def __init__(self, path: str | Path, datum: str = "wgs84", tms: bool = False):
        self.path = Path(path)
        if not self.path.is_dir():
            raise InputError(f"{self.path}: not a folder of tiles")
        zooms = sorted(int(p.name) for p in self.path.iterdir()
                       if p.is_dir() and re.fullmatch(r"\d{1,2}", p.name))
        if not zooms:
            raise InputError(f"{self.path}: no zoom folders (expected {{z}}/{{x}}/{{y}}.png)")
        ext = None
        for z in zooms:
            for xdir in (self.path / str(z)).iterdir():
                for f in xdir.iterdir() if xdir.is_dir() else ():
                    if f.suffix.lower().lstrip(".") in RASTER:
                        ext = f.suffix
                        break
                    _refuse_vector(self.path, f.suffix.lstrip("."))
                if ext:
                    break
            if ext:
                break
        if ext is None:
            raise InputError(f"{self.path}: no PNG/JPEG/WebP tiles in the zoom folders")
        self.ext = ext
        self.minzoom, self.maxzoom = zooms[0], zooms[-1]
        self.name = self.path.name
        meta = self.path / "metadata.json"
        if meta.is_file():
            try:
                m = json.loads(meta.read_text(encoding="utf-8"))
                self.attribution = str(m.get("attribution") or "")
                self.bounds = _bounds(m.get("bounds")) if isinstance(m.get("bounds"), str) else \
                    (tuple(m["bounds"]) if isinstance(m.get("bounds"), list) else None)
            except (ValueError, OSError, KeyError):
                pass
        self.datum = datum
        self.tms = tms

    def fetch(self, z, x, y) -> Tile:
        row = (1 << z) - 1 - y if self.tms else y
        f = self.path / str(z) / str(x) / f"{row}{self.ext}"
        try:
            return Tile(f.read_bytes())
        except FileNotFoundError:
            return Tile(None, "empty")
        except OSError:
            return Tile(None, "missing")

