"""Columnar features: a vector layer held as arrays, not one Python object per feature.

The map's thematic features and user vector layers of any size share this store (Qt-free)::

    from planatlas.layers.columns import FeatureColumns
    cols = FeatureColumns.read("shops.gpkg", categorical=["kind"])    # any OGR source, via arrow
    cols = FeatureColumns.from_points(lon, lat, ids=fids, kind=Categorical.from_values(kinds))
    cols = FeatureColumns.from_features(atlas.features.values())      # the curated plan features
    rows = cols.query(x0, y0, x1, y1)      # Web-Mercator box -> row numbers, north first
    cols.x[rows], cols.y[rows]             # anchors (symbol / label point) in EPSG:3857 metres
    cols.attrs["kind"].mask("cafe")        # attribute columns: numpy, Categorical, StringColumn

Every row has an id (``ids``: int64 fids from a file, or strings), a ``kind`` (POINT, LINE,
POLYGON), an anchor in WGS-84 (``lon``, ``lat``) and in Web Mercator (``x``, ``y``) — a point's
coordinates, a line's midpoint, a polygon's representative point, all computed on the projected
geometry — and bounds in both systems. Point layers keep no geometry objects at all (their
bounds *are* the anchor arrays); lines and polygons keep shapely geometries (``geometry`` in
WGS-84, ``projected()`` in EPSG:3857, projected once). Attributes live in ``attrs``: numeric
numpy arrays, :class:`Categorical` (int codes + category list) and :class:`StringColumn`
(UTF-8 bytes + offsets, as Arrow stores them). ``index`` is a bulk spatial index: rows sorted
by the top edge of their bounds, so a box query is two binary searches and a mask, and the rows
come out north first — the order the painter draws them in (southern symbols on top).

:meth:`FeatureColumns.read` reads GeoPackage, Shapefile, GeoJSON, FlatGeobuf … through
``pyogrio.raw.read_arrow`` (GDAL's Arrow stream; needs ``pyarrow``); WKB points are decoded
straight from the Arrow buffers with numpy. Measured in ``benchmarks/render.py`` (the load rows).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import shapely

from .colattrs import Categorical, StringColumn, attr_nbytes, concat_attr, take_attr
from .errors import InputError
from .mercator import lonlat_to_merc, merc_scale, merc_to_lonlat

__all__ = ["FeatureColumns", "StringColumn", "Categorical", "SpatialIndex", "POINT", "LINE",
           "POLYGON", "anchors_of"]

POINT, LINE, POLYGON = 0, 1, 2


# ----------------------------------------------------------------------------- spatial index
class SpatialIndex:
    """Rows sorted by the top edge of their bounds (north first).

    A box query takes the rows whose top edge is inside ``[y0, y1 + tallest]`` with two binary
    searches and keeps those whose bounds meet the box; rows taller than a 64th of the data's
    height are few and tested directly. The result comes out north first, ties in row order.
    """

    def __init__(self, bx0: np.ndarray, by0: np.ndarray, bx1: np.ndarray, by1: np.ndarray):
        self.bx0, self.by0, self.bx1, self.by1 = bx0, by0, bx1, by1
        n = len(by1)
        h = by1 - by0
        span = float(by1.max() - by0.min()) if n else 0.0
        tall = h > span / 64.0 if n else np.zeros(0, bool)
        self.tall = np.flatnonzero(tall)
        small = np.flatnonzero(~tall)
        order = small[np.argsort(-by1[small], kind="stable")]
        self.order = order
        self.key = -by1[order]                       # ascending
        self.hmax = float(h[small].max()) if len(small) else 0.0

    def query(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Rows whose bounds meet the box (Web-Mercator metres), north first."""
        lo = int(np.searchsorted(self.key, -(y1 + self.hmax), "left"))
        hi = int(np.searchsorted(self.key, -y0, "right"))
        rows = self.order[lo:hi]
        if self.hmax > 0:
            ok = (self.by0[rows] <= y1) & (self.bx1[rows] >= x0) & (self.bx0[rows] <= x1)
        else:
            ok = (self.bx1[rows] >= x0) & (self.bx0[rows] <= x1)
        rows = rows[ok]
        if len(self.tall):
            t = self.tall
            hit = t[(self.bx1[t] >= x0) & (self.bx0[t] <= x1) & (self.by1[t] >= y0) & (self.by0[t] <= y1)]
            if len(hit):
                rows = np.concatenate([rows, hit])
                rows = rows[np.argsort(-self.by1[rows], kind="stable")]
        return rows

    @property
    def nbytes(self) -> int:
        return self.order.nbytes + self.key.nbytes + self.tall.nbytes


# ----------------------------------------------------------------------------- anchors
def anchors_of(projected: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kind (POINT/LINE/POLYGON) and anchor (x, y) of projected shapely geometries: a point
    itself, a multipoint's centroid, a line's midpoint along its length, a multiline's or an
    area's representative point."""
    n = len(projected)
    kind = np.full(n, POLYGON, dtype=np.uint8)
    ax, ay = np.zeros(n), np.zeros(n)
    if not n:
        return kind, ax, ay
    tid = shapely.get_type_id(projected)
    pts = np.zeros(n, dtype=object)
    m = tid == 0
    kind[m] = POINT
    pts[m] = projected[m]
    m = tid == 4
    kind[m] = POINT
    pts[m] = shapely.centroid(projected[m])
    m = tid == 1
    kind[m] = LINE
    pts[m] = shapely.line_interpolate_point(projected[m], 0.5, normalized=True)
    m = (tid == 2) | (tid == 5)
    kind[m] = LINE
    pts[m] = shapely.point_on_surface(projected[m])
    m = ~np.isin(tid, (0, 1, 2, 4, 5))
    pts[m] = shapely.point_on_surface(projected[m])
    ax, ay = shapely.get_x(pts.astype(object)), shapely.get_y(pts.astype(object))
    return kind, np.asarray(ax, float), np.asarray(ay, float)


def project(geoms: np.ndarray) -> np.ndarray:
    """shapely geometries lon/lat -> EPSG:3857, all coordinates in one pyproj call."""
    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0:
        return arr

    def fn(c: np.ndarray) -> np.ndarray:
        x, y = lonlat_to_merc(c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(arr, fn)


# ----------------------------------------------------------------------------- the store
@dataclass(eq=False)
class FeatureColumns:
    """A vector layer as arrays (see the module docstring). Build with the ``from_*``
    constructors or :meth:`read`; rows are never reordered after construction."""
    ids: np.ndarray
    kind: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    merc_bounds: np.ndarray | None = None        # (n, 4) x0 y0 x1 y1; None: all points
    lonlat_bounds_: np.ndarray | None = None     # (n, 4); None: all points
    geometry: np.ndarray | None = None           # shapely, WGS-84; None: all points
    attrs: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    _projected: np.ndarray | None = field(default=None, repr=False)
    _index: SpatialIndex | None = field(default=None, repr=False)

    def __post_init__(self):
        n = len(self.ids)
        for name in ("kind", "lon", "lat", "x", "y"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"FeatureColumns: column {name!r} has {len(getattr(self, name))} "
                                 f"rows, ids have {n}")
        for name, col in self.attrs.items():
            if len(col) != n:
                raise ValueError(f"FeatureColumns: attribute {name!r} has {len(col)} rows, ids have {n}")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_points(cls, lon, lat, ids=None, *, source: str = "", **attrs) -> "FeatureColumns":
        """Point rows from WGS-84 coordinate arrays (ids default to 0..n-1)."""
        lon = np.ascontiguousarray(lon, dtype=np.float64)
        lat = np.ascontiguousarray(lat, dtype=np.float64)
        if lon.shape != lat.shape or lon.ndim != 1:
            raise ValueError(f"from_points: lon and lat must be 1-d arrays of one length, got "
                             f"{lon.shape} and {lat.shape}")
        bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{source or 'points'}: row {i} has no valid WGS-84 position "
                             f"({lon[i]!r}, {lat[i]!r}); {int(bad.sum())} such rows")
        x, y = lonlat_to_merc(lon, lat)
        ids = np.arange(len(lon), dtype=np.int64) if ids is None else np.asarray(ids)
        return cls(ids, np.zeros(len(lon), np.uint8), lon, lat, np.asarray(x), np.asarray(y),
                   attrs=dict(attrs), source=source)

    @classmethod
    def from_geometries(cls, geoms, ids=None, *, source: str = "", **attrs) -> "FeatureColumns":
        """Rows from shapely geometries in WGS-84 (any mix of points, lines and areas)."""
        geoms = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
        n = len(geoms)
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms) if n else np.zeros(0, bool)
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            who = ids[i] if ids is not None else i
            raise InputError(f"{source or 'features'}: feature {who!r} has no geometry")
        proj = project(geoms)
        kind, ax, ay = anchors_of(proj)
        lon, lat = merc_to_lonlat(ax, ay)
        ids = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids)
        return cls(ids, kind, np.asarray(lon), np.asarray(lat), ax, ay,
                   shapely.bounds(proj) if n else np.zeros((0, 4)),
                   shapely.bounds(geoms) if n else np.zeros((0, 4)), geoms,
                   attrs=dict(attrs), source=source, _projected=proj)

    @classmethod
    def from_features(cls, features: Iterable[Any]) -> "FeatureColumns":
        """The curated plan features (:class:`planatlas.layers.model.Feature`): ids, geometry and
        the attributes the map needs — name, tier, precision_m, status, schematic."""
        feats = list(features)
        ids = np.empty(len(feats), dtype=object)
        ids[:] = [f.id for f in feats]
        return cls.from_geometries(
            [f.geometry for f in feats], ids, source="gazetteer",
            name=StringColumn.from_list(f.name for f in feats),
            tier=Categorical.from_values(f.tier for f in feats),
            precision_m=np.array([float(f.precision_m or 0.0) for f in feats]),
            status=Categorical.from_values((f.status for f in feats), ("approximate", "verified")),
            schematic=np.array([bool(f.schematic) for f in feats], dtype=bool))

    @classmethod
    def read(cls, path: str | Path, layer: str | int | None = None, *,
             columns: Sequence[str] | None = None, categorical: Sequence[str] = (),
             where: str | None = None, bbox: tuple[float, float, float, float] | None = None,
             max_features: int | None = None) -> "FeatureColumns":
        """Read any OGR vector source (GeoPackage, Shapefile, GeoJSON, FlatGeobuf …) through
        GDAL's Arrow stream. ``categorical`` names string fields stored as codes; other string
        fields become :class:`StringColumn`; numbers stay numpy. Geometries are reprojected to
        WGS-84 if the source has another CRS. Ids are the source's feature ids (fids)."""
        from .columns_io import read_columns
        return read_columns(cls, path, layer, columns=columns, categorical=categorical,
                            where=where, bbox=bbox, max_features=max_features)

    @classmethod
    def concat(cls, parts: Sequence["FeatureColumns"]) -> "FeatureColumns":
        """Rows of ``parts`` one after the other (attributes all parts share are kept)."""
        parts = [p for p in parts if p is not None]
        if not parts:
            raise ValueError("concat: nothing to join")
        if len(parts) == 1:
            return parts[0]
        names = [k for k in parts[0].attrs if all(k in p.attrs for p in parts[1:])]
        attrs = {k: concat_attr([p.attrs[k] for p in parts]) for k in names}
        points = all(p.merc_bounds is None for p in parts)
        ids = np.concatenate([np.asarray(p.ids, dtype=object if any(
            np.asarray(q.ids).dtype == object for q in parts) else None) for p in parts])
        geometry = None
        if not points:                       # point parts keep no geometry objects (None)
            geometry = np.concatenate([p.geometry if p.geometry is not None else
                                       np.full(len(p), None, dtype=object) for p in parts])
        out = cls(ids, np.concatenate([p.kind for p in parts]),
                  np.concatenate([p.lon for p in parts]), np.concatenate([p.lat for p in parts]),
                  np.concatenate([p.x for p in parts]), np.concatenate([p.y for p in parts]),
                  None if points else np.concatenate([p.bounds for p in parts]),
                  None if points else np.concatenate([p.lonlat_bounds for p in parts]),
                  geometry, attrs=attrs, source=parts[0].source)
        if not points:
            out._projected = np.concatenate([p.projected() if p.geometry is not None else
                                             np.full(len(p), None, dtype=object) for p in parts])
        return out

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self.ids)

    @property
    def points_only(self) -> bool:
        return self.merc_bounds is None

    @property
    def bounds(self) -> np.ndarray:
        """(n, 4) Web-Mercator bounds (a point's are its anchor)."""
        if self.merc_bounds is None:
            return np.column_stack([self.x, self.y, self.x, self.y])
        return self.merc_bounds

    def bound_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """x0, y0, x1, y1 as four arrays (views of the anchors for point layers: no copy)."""
        if self.merc_bounds is None:
            return self.x, self.y, self.x, self.y
        b = self.merc_bounds
        return (np.ascontiguousarray(b[:, 0]), np.ascontiguousarray(b[:, 1]),
                np.ascontiguousarray(b[:, 2]), np.ascontiguousarray(b[:, 3]))

    @property
    def lonlat_bounds(self) -> np.ndarray:
        if self.lonlat_bounds_ is None:
            return np.column_stack([self.lon, self.lat, self.lon, self.lat])
        return self.lonlat_bounds_

    def geometry_at(self, row: int):
        """The shapely geometry (WGS-84) of one row."""
        g = None if self.geometry is None else self.geometry[row]
        return shapely.Point(float(self.lon[row]), float(self.lat[row])) if g is None else g

    def projected(self) -> np.ndarray:
        """Geometries in EPSG:3857 (projected once, then kept). Rows of a point layer (and
        point rows joined from one by :meth:`concat`) keep no geometry: ``None`` — their
        position is ``x, y``."""
        if self._projected is None:
            if self.geometry is None:
                self._projected = np.full(len(self), None, dtype=object)
            else:
                keep = ~shapely.is_missing(self.geometry)
                out = np.full(len(self), None, dtype=object)
                out[keep] = project(self.geometry[keep])
                self._projected = out
        return self._projected

    def area(self) -> np.ndarray:
        """Projected area of polygon rows (0 for points and lines)."""
        out = np.zeros(len(self))
        if self.geometry is not None:
            rows = np.flatnonzero(self.kind == POLYGON)
            out[rows] = shapely.area(self.projected()[rows])
        return out

    def merc_scale(self) -> np.ndarray:
        """Web-Mercator scale factor at each row (metres on the map per metre on the ground)."""
        b = self.lonlat_bounds_
        lat = self.lat if b is None else b[:, 1] * 0.5 + b[:, 3] * 0.5
        return merc_scale(lat)

    @property
    def index(self) -> SpatialIndex:
        if self._index is None:
            self._index = SpatialIndex(*self.bound_columns())
        return self._index

    def query(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Rows whose bounds meet a Web-Mercator box, north first."""
        return self.index.query(x0, y0, x1, y1)

    def query_lonlat(self, minlon: float, minlat: float, maxlon: float, maxlat: float) -> np.ndarray:
        xs, ys = lonlat_to_merc([minlon, maxlon], [minlat, maxlat])
        return self.query(float(xs[0]), float(ys[0]), float(xs[1]), float(ys[1]))

    def nearest(self, x: float, y: float, radius: float) -> np.ndarray:
        """Rows whose anchor is within ``radius`` metres (Mercator) of (x, y), nearest first."""
        rows = self.query(x - radius, y - radius, x + radius, y + radius)
        d = np.hypot(self.x[rows] - x, self.y[rows] - y)
        keep = d <= radius
        rows, d = rows[keep], d[keep]
        return rows[np.argsort(d, kind="stable")]

    def bbox_lonlat(self, rows=None) -> tuple[float, float, float, float] | None:
        b = self.lonlat_bounds if rows is None else self.lonlat_bounds[np.asarray(rows, dtype=np.int64)]
        if not len(b):
            return None
        return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))

    def take(self, rows) -> "FeatureColumns":
        """A new store with ``rows`` (in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = FeatureColumns(
            np.asarray(self.ids)[rows], self.kind[rows], self.lon[rows], self.lat[rows],
            self.x[rows], self.y[rows],
            None if self.merc_bounds is None else self.merc_bounds[rows],
            None if self.lonlat_bounds_ is None else self.lonlat_bounds_[rows],
            None if self.geometry is None else self.geometry[rows],
            attrs={k: take_attr(v, rows) for k, v in self.attrs.items()}, source=self.source)
        if self._projected is not None and self.geometry is not None:
            out._projected = self._projected[rows]
        return out

    def nbytes(self) -> int:
        """Bytes held by the arrays (geometries counted at their WKB size)."""
        total = sum(a.nbytes for a in (self.kind, self.lon, self.lat, self.x, self.y))
        total += attr_nbytes(self.ids)
        for b in (self.merc_bounds, self.lonlat_bounds_):
            total += 0 if b is None else b.nbytes
        if self.geometry is not None:
            total += self.geometry.nbytes
            total += int(shapely.get_num_coordinates(self.geometry).sum()) * 16 * 2
        total += sum(attr_nbytes(v) for v in self.attrs.values())
        if self._index is not None:
            total += self._index.nbytes
        return total

    def __repr__(self) -> str:
        kinds = np.bincount(self.kind, minlength=3)
        return (f"<FeatureColumns {len(self):,} rows ({kinds[0]:,} points, {kinds[1]:,} lines, "
                f"{kinds[2]:,} areas), attrs {list(self.attrs)}>")
