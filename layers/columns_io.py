"""Reading a :class:`planatlas.layers.columns.FeatureColumns` from any OGR source.

GDAL hands the features over as an Arrow table (``pyogrio.raw.read_arrow``): attribute columns
become numpy arrays, :class:`Categorical` or :class:`StringColumn` without a Python object per
value, and 2-D WKB points are decoded straight from the Arrow buffers (x at byte 5, y at byte
13 of every 21-byte record). Other geometries go through ``shapely.from_wkb``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import shapely

from .colattrs import Categorical, StringColumn, concat_attr
from .errors import InputError, OperationError

__all__ = ["read_columns", "wkb_points"]


def wkb_points(arr) -> tuple[np.ndarray, np.ndarray] | None:
    """(x, y) of a pyarrow binary array of 2-D little-endian WKB points, or None if it holds
    anything else (nulls, other types, Z/M, big-endian)."""
    import pyarrow as pa
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    n = len(arr)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    if arr.null_count or not (pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type)):
        return None
    bufs = arr.buffers()
    off_t = np.int32 if pa.types.is_binary(arr.type) else np.int64
    offsets = np.frombuffer(bufs[1], dtype=off_t, count=n + 1 + arr.offset)[arr.offset:]
    data = np.frombuffer(bufs[2], dtype=np.uint8)
    start = int(offsets[0])
    if not (np.diff(offsets) == 21).all():
        return None
    rec = data[start:start + 21 * n].reshape(n, 21)
    if not ((rec[:, 0] == 1).all() and (rec[:, 1] == 1).all() and not rec[:, 2:5].any()):
        return None               # byte order 1 (little endian), geometry type 1 (Point)
    xy = np.ndarray((n, 2), dtype="<f8", buffer=data, offset=start + 5, strides=(21, 8))
    return xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)


def _to_wgs84(crs: str | None, source: str):
    """A function (x, y) -> (lon, lat), or None when the data are WGS-84 lon/lat already."""
    if crs is None:
        return None
    from pyproj import CRS, Transformer
    try:
        src = CRS.from_user_input(crs)
    except Exception as exc:  # noqa: BLE001 - pyproj raises its own CRSError
        raise InputError(f"{source}: unknown coordinate reference system {crs!r} ({exc})") from None
    if src.to_epsg() == 4326 or src.equals("EPSG:4326", ignore_axis_order=True):
        return None
    tr = Transformer.from_crs(src, "EPSG:4326", always_xy=True)
    return lambda x, y: tr.transform(x, y)


class _Column:
    """One output column filled batch by batch (preallocated when the row count is known)."""

    def __init__(self, n: int | None):
        self.n, self.pos, self.pieces, self.arr = n, 0, [], None

    def add(self, piece: np.ndarray) -> None:
        if self.n is None:
            self.pieces.append(piece)
            return
        if self.arr is None:
            self.arr = np.empty(self.n, dtype=piece.dtype)
        self.arr[self.pos:self.pos + len(piece)] = piece
        self.pos += len(piece)

    def result(self, dtype=None) -> np.ndarray:
        if self.n is not None and self.arr is not None:
            return self.arr[:self.pos]
        if not self.pieces:
            return np.zeros(0, dtype=dtype or np.float64)
        out = np.concatenate(self.pieces)
        self.pieces = []
        return out


def read_columns(cls, path: str | Path, layer: Any = None, *, columns: Sequence[str] | None = None,
                 categorical: Sequence[str] = (), where: str | None = None,
                 bbox: tuple[float, float, float, float] | None = None,
                 max_features: int | None = None, batch_size: int = 65536):
    """See :meth:`planatlas.layers.columns.FeatureColumns.read`. Streams Arrow record batches
    into preallocated arrays, so the peak memory is the result plus one batch."""
    try:
        import pyarrow as pa
        import pyogrio
        import pyogrio.raw
    except ImportError as exc:          # pragma: no cover - both are dependencies
        raise OperationError(f"reading vector files needs pyogrio and pyarrow ({exc})") from None
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    errors = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
              pyogrio.errors.FieldError, pyogrio.errors.GeometryError, ValueError)
    try:
        n = None
        if where is None and bbox is None:
            n = int(pyogrio.read_info(str(p), layer=layer).get("features", -1))
            n = None if n < 0 else (min(n, max_features) if max_features is not None else n)
        with pyogrio.raw.open_arrow(
                str(p), layer=layer, columns=list(columns) if columns is not None else None,
                where=where, bbox=bbox, max_features=max_features, return_fids=True,
                batch_size=batch_size, use_pyarrow=True) as (meta, reader):
            names = reader.schema.names
            geom_name = meta.get("geometry_name") or "wkb_geometry"
            if geom_name not in names:
                geom_name = next((c for c in names if c in ("geometry", "wkb_geometry", "geom")), None)
            if geom_name is None:
                raise InputError(f"{p}: layer {layer or 0!r} has no geometry column")
            fid_name = "fid" if "fid" in names else (meta.get("fid_column") or None)
            cat = set(categorical)
            fields = [c for c in names if c not in (geom_name, fid_name)]
            unknown = sorted(cat - set(fields))
            if unknown:
                raise InputError(f"{p}: no field(s) {', '.join(unknown)} (fields: {', '.join(fields)})")
            fids, xs, ys = _Column(n), _Column(n), _Column(n)
            numeric = {c: _Column(n) for c in fields
                       if _is_numeric(reader.schema.field(c).type) and c not in cat}
            other: dict[str, list] = {c: [] for c in fields if c not in numeric}
            geoms: list[np.ndarray] = []
            points = True
            seen = 0
            for batch in reader:
                k = batch.num_rows
                fids.add(batch.column(fid_name).to_numpy(zero_copy_only=False).astype(np.int64)
                         if fid_name in names else np.arange(seen, seen + k, dtype=np.int64))
                g = batch.column(geom_name)
                if g.null_count:
                    bad = int(np.flatnonzero(g.is_null().to_numpy(zero_copy_only=False))[0])
                    raise InputError(f"{p}: feature {seen + bad} has no geometry")
                xy = wkb_points(g) if points else None
                if xy is None and points:
                    points = False                     # earlier batches: points as geometries
                    prev_x, prev_y = xs.result(), ys.result()
                    geoms = [shapely.points(prev_x, prev_y)] if len(prev_x) else []
                if points:
                    xs.add(xy[0])
                    ys.add(xy[1])
                else:
                    geoms.append(shapely.from_wkb(g.to_numpy(zero_copy_only=False)))
                for c, col in numeric.items():
                    col.add(_numeric(batch.column(c)))
                for c in other:
                    arr = batch.column(c)
                    other[c].append(Categorical.from_arrow(arr) if c in cat or
                                    pa.types.is_dictionary(arr.type) else _text(arr))
                seen += k
                del batch
    except errors as exc:
        raise InputError(f"{p}: cannot read it as a vector layer ({exc})") from None
    finally:
        _release_memory(pa)
    attrs = {c: col.result() for c, col in numeric.items()}
    for c, pieces in other.items():
        attrs[c] = concat_attr(pieces) if len(pieces) > 1 else (
            pieces[0] if pieces else StringColumn.from_list([]))
    attrs = {c: attrs[c] for c in fields}
    to_wgs = _to_wgs84(meta.get("crs"), p.name)
    ids = fids.result(np.int64)
    if points:
        x, y = xs.result(), ys.result()
        if to_wgs is not None:
            x, y = (np.asarray(v, dtype=np.float64) for v in to_wgs(x, y))
        return cls.from_points(x, y, ids, source=p.name, **attrs)
    geom = np.concatenate(geoms) if geoms else np.zeros(0, dtype=object)
    if to_wgs is not None:
        geom = shapely.transform(geom, lambda c: np.column_stack(to_wgs(c[:, 0], c[:, 1])))
    return cls.from_geometries(geom, ids, source=p.name, **attrs)


def _release_memory(pa) -> None:
    """Give the Arrow batches' memory back to the system (Arrow's pool and glibc's heap keep
    freed memory otherwise, ~60 MB after a million points)."""
    pa.default_memory_pool().release_unused()
    try:
        import ctypes
        import ctypes.util
        name = ctypes.util.find_library("c")
        if name and "libc" in name:
            ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError):        # not glibc: nothing to trim
        pass


def _is_numeric(t) -> bool:
    import pyarrow as pa
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)


def _numeric(col) -> np.ndarray:
    import pyarrow as pa
    if col.null_count:
        if pa.types.is_boolean(col.type):
            return col.fill_null(False).to_numpy(zero_copy_only=False)
        return col.to_numpy(zero_copy_only=False).astype(np.float64)    # nulls -> NaN
    return col.to_numpy(zero_copy_only=False)


def _text(col):
    import pyarrow as pa
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return StringColumn.from_arrow(col)
    if pa.types.is_null(t):
        return StringColumn.from_list([""] * len(col))
    return StringColumn.from_list("" if v is None else v for v in col.cast(pa.string()).to_pylist())
