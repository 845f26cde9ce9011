"""The user's own data on the map: vector layers and tile/image basemaps (Qt-free).

Two layer kinds join the kinds registry (:mod:`planatlas.layers.layer`):

* ``user_vector`` — a file the user added (GeoPackage, Shapefile, GeoJSON, KML/KMZ, GPX,
  FlatGeobuf, GML, CSV/XLSX with coordinate columns …). ``source``: ``path``, ``layer`` (in a
  multi-layer file), ``crs`` (``auto`` or the datum chosen/detected) and ``crs_note``. Style:
  ``mode`` single/categorized/graduated by ``field``, ``color``, ``size`` (points, px),
  ``width`` (lines, px), ``fill_alpha`` (areas), ``label_field``, ``classes``/``ramp`` for graded
  colours and ``categories`` (value → colour) for fixed category colours.
* ``tile_layer`` — a basemap: ``source`` as for :func:`planatlas.layers.tiles.open_tiles`
  (``type`` mbtiles/pmtiles/xyz/raster/online, ``path`` or ``url``, ``datum``, ``attribution``).

The data behind the layers live in :data:`REGISTRY` (loaded once per file and CRS, shared by the
canvas, exports and the attribute table), together with the selection of user features.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from planatlas.layers.errors import InputError
from planatlas.layers.layer import Layer, LayerKind, register_kind

from .read import read_vector
from .vector import TABLE_SUFFIXES, VECTOR_SUFFIXES, Progress, VectorData

__all__ = ["REGISTRY", "UserData", "vector_layer", "tile_layer", "VectorData", "read_vector",
           "USER_VECTOR", "TILE_LAYER", "feature_id", "parse_feature_id", "is_vector_file",
           "VECTOR_STYLE"]

USER_VECTOR = "user_vector"
TILE_LAYER = "tile_layer"
VECTOR_STYLE = {"mode": "single", "field": "", "color": "#1f78b4", "size": 7.0, "width": 1.6,
                "fill_alpha": 0.3, "labels": True, "label_field": "", "classes": 5.0, "ramp": "reds",
                "categories": {}}

register_kind(LayerKind(USER_VECTOR, "thematic", {"zh": "我的图层", "en": "My layer"},
                        VECTOR_STYLE, source_keys=("path",), group="user"))
register_kind(LayerKind(TILE_LAYER, "basemap", {"zh": "瓦片底图", "en": "Tile basemap"},
                        {"show_missing": True}, source_keys=("type",), group="basemap"))


def feature_id(layer_id: str, row: int) -> str:
    """The id of row ``row`` of a user layer, as the hit test and selection use it."""
    return f"{layer_id}#{int(row)}"


def parse_feature_id(fid: str) -> tuple[str, int] | None:
    m = re.fullmatch(r"(user/.+)#(\d+)", str(fid))
    return (m.group(1), int(m.group(2))) if m else None


def is_vector_file(path: str | Path) -> bool:
    p = Path(path)
    return p.suffix.lower() in VECTOR_SUFFIXES + TABLE_SUFFIXES or p.suffix.lower() == ".gdb"


def _slug(text: str) -> str:
    s = re.sub(r"[^\w\u4e00-\u9fff-]+", "-", text).strip("-").lower()
    return s[:40] or "layer"


class UserData:
    """Loaded user data keyed by file + layer + CRS, and the selection of user features."""

    def __init__(self):
        self._vectors: dict[tuple, VectorData] = {}
        self._lock = threading.Lock()
        self.selection: dict[str, np.ndarray] = {}      # layer id -> selected rows (sorted)
        self.revision = 0

    @staticmethod
    def _key(source: Mapping[str, Any]) -> tuple:
        p = Path(str(source["path"]))
        try:
            mtime = p.stat().st_mtime_ns
        except OSError:
            mtime = 0
        return (str(p.resolve()), mtime, source.get("layer"), str(source.get("crs") or "auto"))

    def load(self, source: Mapping[str, Any], progress: Progress | None = None) -> VectorData:
        """The data of a ``user_vector`` source (read on first use)."""
        key = self._key(source)
        with self._lock:
            hit = self._vectors.get(key)
        if hit is not None:
            return hit
        data = read_vector(source["path"], layer=source.get("layer"),
                           crs=str(source.get("crs") or "auto"), progress=progress)
        with self._lock:
            self._vectors[key] = data
        return data

    def vector(self, layer: Layer) -> VectorData:
        return self.load(layer.source)

    def forget(self, source: Mapping[str, Any]) -> None:
        with self._lock:
            self._vectors.pop(self._key(source), None)

    # -- selection of user features
    def select(self, layer_id: str, rows) -> None:
        rows = np.unique(np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows,
                                    dtype=np.int64))
        if len(rows):
            self.selection[layer_id] = rows
        else:
            self.selection.pop(layer_id, None)
        self.revision += 1

    def clear_selection(self, layer_id: str | None = None) -> None:
        if layer_id is None:
            self.selection.clear()
        else:
            self.selection.pop(layer_id, None)
        self.revision += 1

    def selected(self, layer_id: str) -> np.ndarray:
        return self.selection.get(layer_id, np.zeros(0, dtype=np.int64))


REGISTRY = UserData()


def _unique_id(prefix: str, name: str, taken) -> str:
    base = f"user/{prefix}/{_slug(name)}"
    lid, k = base, 2
    while lid in taken:
        lid, k = f"{base}-{k}", k + 1
    return lid


def vector_layer(path: str | os.PathLike, *, layer: str | None = None, crs: str = "auto",
                 taken=(), name: str | None = None, progress: Progress | None = None,
                 registry: UserData | None = None) -> tuple[Layer, VectorData]:
    """Read ``path`` and make its layer record (the CRS found is written into the source, so a
    saved project reopens it the same way)."""
    reg = registry or REGISTRY
    p = Path(path).resolve()
    source = {"path": str(p), "layer": layer, "crs": crs}
    data = reg.load(source, progress)
    resolved = {"path": str(p), "layer": data.layer if layer is not None else None,
                "crs": data.crs, "crs_note": data.crs_note}
    if resolved["crs"] != crs:                      # same data under the resolved key too
        with reg._lock:
            reg._vectors[reg._key(resolved)] = data
    title = name or (p.stem if not layer else f"{p.stem} · {layer}")
    style = dict(VECTOR_STYLE)
    if data.n and not data.all_points and (data.kind != 0).all():
        style["size"] = 5.0
    lid = _unique_id("vector", title, taken)
    return Layer(lid, USER_VECTOR, {"zh": title, "en": title}, style=style, source=resolved,
                 group="user"), data


def tile_layer(source: Mapping[str, Any], *, taken=(), name: str | None = None) -> Layer:
    """A ``tile_layer`` record for a tile source description (opened to check it first)."""
    from planatlas.layers.tiles import open_tiles, tile_kind
    src = dict(source)
    if "type" not in src and src.get("path"):
        kind = tile_kind(src["path"])
        if kind is None:
            raise InputError(f"{src['path']}: not a tile basemap (MBTiles, PMTiles, a folder of "
                             "XYZ tiles, GeoTIFF or PNG/JPEG with a world file)")
        src["type"] = kind
    if src.get("path"):
        src["path"] = str(Path(src["path"]).resolve())
    opened = open_tiles(src)
    if not src.get("attribution") and getattr(opened, "attribution", ""):
        src["attribution"] = opened.attribution
    title = name or getattr(opened, "name", "") or src.get("type", "tiles")
    return Layer(_unique_id("tiles", title, taken), TILE_LAYER, {"zh": title, "en": title},
                 source=src, group="basemap")
