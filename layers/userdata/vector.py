"""User vector data held as columns: geometry and attributes as arrays, not one object a feature.

    data = read_vector("shops.gpkg")                       # anything GDAL/pyogrio reads
    data = read_vector("pois.csv", crs="gcj02")            # tables with coordinate columns
    data.n, data.kind, data.mx, data.my, data.attrs        # columns (Web-Mercator metres)

:class:`VectorData` keeps, per feature, its geometry kind (point / line / polygon), an anchor
point in WGS-84 and Web Mercator, its Mercator bounds, and — for lines and polygons only — the
projected shapely geometry. Points (the million-row case) are never turned into objects: their
coordinates come straight out of the WKB buffer. Attributes stay an Arrow table.

Coordinates are stored in WGS-84. A file in GCJ-02 or BD-09 (or a table the user says is) is
converted ONCE on reading with :mod:`planatlas.layers.crs`; ``data.crs`` says what the file was
in and ``data.crs_note`` how that was decided, so the app can always show it.

Reading a large file reports ``progress(done, total) -> bool`` between Arrow batches; returning
False stops it with :class:`~planatlas.layers.errors.Cancelled`.

The plan features have their own columnar store, :class:`planatlas.layers.columns.FeatureColumns`
(categories, precision, a north-first spatial index); its docstring says why there are two.
Both project with :mod:`planatlas.layers.mercator`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from planatlas.layers.errors import Cancelled, InputError
from planatlas.layers.mercator import lonlat_to_merc, merc_to_lonlat

__all__ = ["VectorData", "read_ogr", "check_path", "merc", "lonlat_of_merc", "VECTOR_SUFFIXES",
           "TABLE_SUFFIXES", "POINT", "LINE", "POLYGON", "Progress"]

Progress = Callable[[int, int], bool]
POINT, LINE, POLYGON = 0, 1, 2
VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".kml", ".kmz", ".gpx", ".fgb", ".gml",
                   ".sqlite", ".gdb", ".tab", ".mif", ".dxf", ".geojsonl", ".geojsons", ".zip")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
BATCH = 200_000


def merc(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat -> spherical Web Mercator metres (EPSG:3857), vectorised: the projection
    the plan layers and the map painter use (:mod:`planatlas.layers.mercator`), as arrays."""
    x, y = lonlat_to_merc(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def lonlat_of_merc(x, y) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = merc_to_lonlat(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _merc_coords(coords: np.ndarray) -> np.ndarray:
    x, y = merc(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


@dataclass
class VectorData:
    """One user layer's features as columns (see the module doc)."""
    path: str
    layer: str | None
    kind: np.ndarray                       # uint8 POINT/LINE/POLYGON per feature
    lon: np.ndarray                        # anchor, WGS-84
    lat: np.ndarray
    attrs: Any                             # pyarrow.Table, one row per feature
    geoms: np.ndarray | None = None        # projected shapely geometries (None for points)
    crs: str = "wgs84"                     # what the file was in (wgs84, gcj02, bd09, EPSG:…)
    crs_note: str = ""                     # how that was decided / what was done
    skipped: int = 0                       # rows/features without usable geometry
    messages: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.mx, self.my = merc(self.lon, self.lat)
        n = len(self.kind)
        if self.geoms is not None and n:
            import shapely
            b = shapely.bounds(self.geoms)
            pts = self.kind == POINT
            b[pts, 0] = b[pts, 2] = self.mx[pts]
            b[pts, 1] = b[pts, 3] = self.my[pts]
            self.bounds = b
        else:
            self.bounds = None                 # points: mx/my are their bounds

    # ------------------------------------------------------------------ reading
    @property
    def n(self) -> int:
        return len(self.kind)

    @property
    def all_points(self) -> bool:
        return self.geoms is None

    @property
    def fields(self) -> list[str]:
        return [str(c) for c in self.attrs.column_names]

    def extent_lonlat(self) -> tuple[float, float, float, float] | None:
        if not self.n:
            return None
        if self.bounds is None:
            return (float(self.lon.min()), float(self.lat.min()), float(self.lon.max()),
                    float(self.lat.max()))
        lon0, lat0 = lonlat_of_merc(self.bounds[:, 0].min(), self.bounds[:, 1].min())
        lon1, lat1 = lonlat_of_merc(self.bounds[:, 2].max(), self.bounds[:, 3].max())
        return (float(lon0), float(lat0), float(lon1), float(lat1))

    def column(self, name: str) -> np.ndarray:
        """An attribute column as a numpy array (strings as objects, nulls as None/NaN)."""
        if name not in self.attrs.column_names:
            raise InputError(f"{self.path}: no attribute {name!r} (has: {', '.join(self.fields)})")
        col = self.attrs.column(name)
        try:
            return col.to_numpy(zero_copy_only=False)
        except Exception:                                   # noqa: BLE001 - odd Arrow types
            return np.asarray(col.to_pylist(), dtype=object)

    def row(self, i: int) -> dict[str, Any]:
        """Attributes of feature ``i`` as a plain dict."""
        return {k: v[0] for k, v in self.attrs.slice(int(i), 1).to_pydict().items()}

    # ------------------------------------------------------------------ queries
    def in_box(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Indices of the features whose bounds meet a Mercator box."""
        if self.all_points:
            mx, my = self.mx, self.my
            return np.flatnonzero((mx >= x0) & (mx <= x1) & (my >= y0) & (my <= y1))
        b = self.bounds
        return np.flatnonzero((b[:, 2] >= x0) & (b[:, 0] <= x1) & (b[:, 3] >= y0) & (b[:, 1] <= y1))

    def hits(self, x: float, y: float, tol: float) -> list[int]:
        """Features under the Mercator point (x, y): points within ``tol`` metres (nearest first),
        then lines within ``tol`` and polygons containing the point (smallest first)."""
        cand = self.in_box(x - tol, y - tol, x + tol, y + tol)
        if not len(cand):
            return []
        out: list[int] = []
        k = self.kind[cand]
        pts = cand[k == POINT]
        if len(pts):
            d = np.hypot(self.mx[pts] - x, self.my[pts] - y)
            near = d <= tol
            out += pts[near][np.argsort(d[near], kind="stable")].tolist()
        other = cand[k != POINT]
        if len(other):
            import shapely
            p = shapely.points(x, y)
            geoms = self.geoms[other]
            is_poly = self.kind[other] == POLYGON
            inside = np.where(is_poly, shapely.contains_xy(geoms, x, y),
                              shapely.dwithin(geoms, p, tol))
            sel = other[inside]
            area = shapely.area(self.geoms[sel])
            out += sel[np.argsort(area, kind="stable")].tolist()
        return out


# ---------------------------------------------------------------------------- reading files
def check_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir() and p.suffix.lower() != ".gdb":
        raise InputError(f"{p}: is a folder, not a vector file")
    if p.is_file() and p.stat().st_size == 0:
        raise InputError(f"{p}: the file is empty")
    return p


def _ogr_path(p: Path) -> str:
    return str(p)


def list_layers(path: str | os.PathLike) -> list[str]:
    """Layer names in a multi-layer file (GeoPackage, KML with folders, …)."""
    import pyogrio
    p = check_path(path)
    try:
        return [str(row[0]) for row in pyogrio.list_layers(_ogr_path(p))]
    except Exception as exc:            # noqa: BLE001 - GDAL says why, in many classes
        raise InputError(f"{p}: not a vector file GDAL can read ({_gdal_reason(exc)})") from None


def _gdal_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _pick_layer(p: Path, layer):
    if layer is not None:
        return layer
    import pyogrio
    try:
        layers = pyogrio.list_layers(_ogr_path(p))
    except Exception as exc:            # noqa: BLE001
        raise InputError(f"{p}: not a vector file GDAL can read ({_gdal_reason(exc)})") from None
    if not len(layers):
        raise InputError(f"{p}: the file has no layers")
    with_geom = [str(r[0]) for r in layers if r[1] not in (None, "")]
    return with_geom[0] if with_geom else str(layers[0][0])


def _source_crs(p: Path, info_crs: str | None, crs: str) -> tuple[str, str]:
    """(what the data are in, note) from the file's CRS and the user's choice."""
    if crs != "auto":
        note = f"coordinates read as {crs} (chosen)"
        if info_crs:
            note += f"; the file says {info_crs}"
        return crs, note
    if not info_crs:
        return "wgs84", ("the file names no coordinate system; read as WGS-84 lon/lat — choose "
                         "GCJ-02 or BD-09 if it came from Amap/Tencent or Baidu")
    return info_crs, f"coordinate system from the file: {info_crs}"


def read_ogr(p: Path, layer, crs: str, progress: Progress | None) -> VectorData:
    import pyarrow as pa
    import pyogrio

    layer = _pick_layer(p, layer)
    src = _ogr_path(p)
    try:
        info = pyogrio.read_info(src, layer=layer)
    except Exception as exc:            # noqa: BLE001
        raise InputError(f"{p}: cannot read layer {layer!r} ({_gdal_reason(exc)})") from None
    total = int(info.get("features") or 0)
    if total < 0:
        total = 0
    if info.get("geometry_type") in (None, "None") and not info.get("geometry_name") \
            and p.suffix.lower() not in (".kml", ".kmz", ".gpx", ".gml"):
        raise InputError(f"{p}: layer {layer!r} has no geometry column (a plain table? "
                         "save it as CSV/XLSX with longitude and latitude columns)")
    src_crs, note = _source_crs(p, info.get("crs"), crs)
    batches = []
    done = 0
    try:
        with pyogrio.open_arrow(src, layer=layer, batch_size=BATCH, use_pyarrow=True) as (meta, reader):
            gname = meta.get("geometry_name") or "wkb_geometry"
            for batch in reader:
                batches.append(batch)
                done += batch.num_rows
                if progress is not None and progress(done, max(total, done)) is False:
                    raise Cancelled(f"reading {p} cancelled after {done:,} of {total:,} features")
            table = pa.Table.from_batches(batches, schema=reader.schema) if batches \
                else reader.schema.empty_table()
    except Cancelled:
        raise
    except Exception as exc:            # noqa: BLE001
        raise InputError(f"{p}: cannot read layer {layer!r} ({_gdal_reason(exc)})") from None
    if gname not in table.column_names:
        raise InputError(f"{p}: layer {layer!r} has no geometry column")
    wkb = table.column(gname).combine_chunks()
    attrs = table.drop_columns([gname])
    return from_wkb(p, str(layer), wkb, attrs, src_crs, note)


# ---------------------------------------------------------------------------- geometry
def _fast_points(wkb) -> tuple[np.ndarray, np.ndarray] | None:
    """x, y straight from a WKB column when every value is a 2-D little-endian point."""
    import pyarrow as pa
    if isinstance(wkb, pa.ExtensionArray):
        wkb = wkb.storage
    n = len(wkb)
    if not n or wkb.null_count or not (pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type)):
        return None
    width = 8 if pa.types.is_large_binary(wkb.type) else 4
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int64 if width == 8 else np.int32,
                            count=n + 1, offset=wkb.offset * width)
    if not np.all(np.diff(offsets) == 21):
        return None
    data = np.frombuffer(wkb.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(n, 21)
    if not (np.all(data[:, 0] == 1) and np.all(data[:, 1:5].view("<u4")[:, 0] == 1)):
        return None
    xy = np.ascontiguousarray(data[:, 5:21]).view("<f8")
    return xy[:, 0].copy(), xy[:, 1].copy()


def to_wgs84(x: np.ndarray, y: np.ndarray, src: str) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat in WGS-84 from coordinates in ``src`` (a Chinese datum name or any pyproj CRS)."""
    from planatlas.layers import crs as crsmod
    key = str(src).strip().lower()
    if key in crsmod.CRS_NAMES:
        return tuple(np.asarray(a, dtype=np.float64) for a in crsmod.convert(x, y, key, "wgs84"))
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError
    try:
        c = CRS.from_user_input(src)
    except CRSError as exc:
        raise InputError(f"unknown coordinate system {src!r} ({exc})") from None
    if c.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    t = Transformer.from_crs(c, "EPSG:4326", always_xy=True)
    lon, lat = t.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.asarray(lon), np.asarray(lat)


def _datum_key(src: str) -> str:
    from planatlas.layers import crs as crsmod
    key = str(src).strip().lower()
    if key in crsmod.CRS_NAMES:
        return key
    if key in ("epsg:4326", "ogc:crs84"):
        return "wgs84"
    if key == "epsg:4490":
        return "cgcs2000"
    return str(src)


def from_wkb(p: Path, layer: str | None, wkb, attrs, src_crs: str, note: str) -> VectorData:
    """Build :class:`VectorData` from an Arrow WKB column (+ attributes) in ``src_crs``."""
    import shapely

    src = _datum_key(src_crs)
    fast = _fast_points(wkb)
    if fast is not None:
        x, y = fast
        ok = np.isfinite(x) & np.isfinite(y)
        skipped = int((~ok).sum())
        if skipped:
            x, y, attrs = x[ok], y[ok], attrs.filter(ok)
        lon, lat = (x, y) if src == "wgs84" else to_wgs84(x, y, src)
        _check_lonlat(p, lon, lat, src)
        return VectorData(str(p), layer, np.zeros(len(lon), dtype=np.uint8), lon, lat, attrs,
                          None, src, note, skipped)
    geoms = shapely.from_wkb(np.asarray(wkb.to_numpy(zero_copy_only=False), dtype=object),
                             on_invalid="ignore")
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    skipped = int((~ok).sum())
    if skipped:
        geoms, attrs = geoms[ok], attrs.filter(ok)
    if src != "wgs84":
        geoms = shapely.transform(geoms, lambda c: np.column_stack(to_wgs84(c[:, 0], c[:, 1], src)))
    tid = shapely.get_type_id(geoms)
    kind = np.full(len(geoms), POLYGON, dtype=np.uint8)
    kind[np.isin(tid, (0, 4))] = POINT
    kind[np.isin(tid, (1, 2, 5))] = LINE
    anchor = shapely.point_on_surface(geoms)
    lon, lat = shapely.get_x(anchor), shapely.get_y(anchor)
    _check_lonlat(p, lon, lat, src)
    proj = shapely.transform(geoms, _merc_coords)
    return VectorData(str(p), layer, kind, np.asarray(lon), np.asarray(lat), attrs,
                      proj, src, note, skipped)


def _check_lonlat(p: Path, lon: np.ndarray, lat: np.ndarray, src: str) -> None:
    if not len(lon):
        return
    bad = ~((np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0))
    if bad.mean() > 0.5:
        raise InputError(f"{p}: coordinates are not longitude/latitude after reading them as "
                         f"{src} (e.g. {float(lon[bad][0]):.6g}, {float(lat[bad][0]):.6g}); the "
                         "file's coordinate system is missing or wrong — choose one")


def points_data(path: str, lon: Sequence[float], lat: Sequence[float], attrs, src: str,
                note: str, skipped: int = 0, messages: list[str] | None = None) -> VectorData:
    """VectorData of points given as lon/lat arrays in ``src`` (converted to WGS-84 once)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    src = _datum_key(src)
    if src != "wgs84":
        lon, lat = to_wgs84(lon, lat, src)
    return VectorData(path, None, np.zeros(len(lon), dtype=np.uint8), lon, lat, attrs, None, src,
                      note, skipped, list(messages or []))

