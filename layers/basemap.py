"""The offline basemap: county-level districts, city outlines and water context.

The data are committed GeoJSON files in ``geodata/basemap/`` (EPSG:4326), produced by
``python -m planatlas.geodata.build``, plus ``basemap.npz``, the same geometries as WKB with
their properties and the plan-area outlines, written by the same build (``--only binary`` from
the committed GeoJSON alone). The app reads the binary file — a few milliseconds, no JSON, no
pandas — and falls back to the GeoJSON when the binary is missing or was built from other
GeoJSON (their SHA-256 are stored in it). Nothing here touches the network or the source
packages.

    from planatlas.layers.basemap import load_basemap
    bm = load_basemap()
    bm.table("districts")   # BasemapTable: geometry (shapely, WGS-84), values("name"), projected()
    bm.districts            # the same as a GeoDataFrame (geopandas imported on first use)
    bm.district("海珠区")    # shapely geometry; a city name/adcode gives the union of its districts
    bm.district_at(113.3245, 23.1064)   # {"name": "海珠区", "adcode": "440105", ...} or None
    bm.plan_extent("zhongshan")         # (minlon, minlat, maxlon, maxlat)
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import threading
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import shapely
from shapely.geometry import shape

from planatlas.layers.errors import InputError

__all__ = ["Basemap", "BasemapError", "BasemapTable", "load_basemap", "write_binary",
           "BASEMAP_DIR", "BINARY_NAME"]

BASEMAP_DIR = Path(__file__).resolve().parent.parent / "geodata" / "basemap"
BINARY_NAME = "basemap.npz"
CRS = "EPSG:4326"
LAYERS = ("districts", "cities", "water")

_DISTRICT_COLUMNS = ("name", "adcode", "city", "city_adcode", "province", "plan", "source")
_REQUIRED = {"districts": _DISTRICT_COLUMNS, "cities": ("name", "adcode"), "water": ("kind",)}


class BasemapError(InputError, LookupError):
    """Unknown district/plan name, or missing/broken basemap files."""


class BasemapTable:
    """One basemap layer: shapely geometries (WGS-84) and their properties, column-wise."""

    def __init__(self, geometry: Sequence, props: Sequence[dict[str, Any]],
                 columns: Sequence[str] = ()):
        self.geometry = np.asarray(list(geometry), dtype=object)
        names = list(dict.fromkeys([*columns, *(k for r in props for k in r)]))
        self.columns = names
        self.props = {c: [r.get(c) for r in props] for c in names}
        self._projected: np.ndarray | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.geometry)

    def values(self, name: str) -> list:
        return self.props.get(name, [None] * len(self))

    def rows(self, name: str, value: Any) -> list[int]:
        return [i for i, v in enumerate(self.values(name)) if v == value]

    def projected(self) -> np.ndarray:
        """The geometries in Web Mercator (projected once)."""
        with self._lock:
            if self._projected is None:
                from planatlas.layers.columns import project
                self._projected = project(self.geometry)
            return self._projected

    def records(self) -> list[dict[str, Any]]:
        return [{c: self.props[c][i] for c in self.columns} for i in range(len(self))]

    def to_geodataframe(self):
        import geopandas as gpd
        import pandas as pd
        df = pd.DataFrame(self.records(), columns=self.columns)
        return gpd.GeoDataFrame(df, geometry=list(self.geometry), crs=CRS)


def _read_geojson(path: Path, required: tuple[str, ...] = ()) -> BasemapTable:
    """Read a GeoJSON FeatureCollection with json + shapely (no GDAL driver quirks)."""
    if not path.exists():
        raise BasemapError(
            f"basemap file {path} is missing; rebuild it with `python -m planatlas.geodata.build`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BasemapError(f"basemap file {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BasemapError(f"basemap file {path} is not a GeoJSON FeatureCollection")
    rows: list[dict[str, Any]] = []
    geoms = []
    for i, feat in enumerate(data.get("features") or []):
        try:
            geoms.append(shape(feat["geometry"]))
        except Exception as exc:  # noqa: BLE001 - report which feature is broken
            raise BasemapError(f"{path}: feature #{i} has an invalid geometry: {exc}") from exc
        props = dict(feat.get("properties") or {})
        missing = [k for k in required if k not in props]
        if missing:
            raise BasemapError(f"{path}: feature #{i} lacks properties {missing}")
        rows.append(props)
    return BasemapTable(geoms, rows, required)


def _normalise(tables: dict[str, BasemapTable]) -> None:
    d = tables["districts"]
    for col in ("adcode", "city_adcode"):
        d.props[col] = [str(v) for v in d.props[col]]
    d.props["plan"] = [v if isinstance(v, str) and v else None for v in d.props["plan"]]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sources(folder: Path) -> dict[str, str]:
    return {f"{n}.geojson": _sha256(folder / f"{n}.geojson") for n in LAYERS
            if (folder / f"{n}.geojson").exists()}


def _pack(geoms: Sequence) -> tuple[np.ndarray, np.ndarray]:
    wkb = shapely.to_wkb(np.asarray(list(geoms), dtype=object)) if len(geoms) else []
    off = np.zeros(len(wkb) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in wkb], out=off[1:])
    return np.frombuffer(b"".join(wkb), dtype=np.uint8), off


def _unpack(data: np.ndarray, off: np.ndarray) -> np.ndarray:
    raw = data.tobytes()
    return shapely.from_wkb([raw[a:b] for a, b in zip(off[:-1].tolist(), off[1:].tolist())])


def _text(obj: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(obj, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def write_binary(folder: Path | str = BASEMAP_DIR) -> Path:
    """Write ``basemap.npz`` from the GeoJSON files in ``folder`` (see the module docstring)."""
    folder = Path(folder)
    bm = Basemap.from_geojson(folder)
    arrays: dict[str, np.ndarray] = {"sources": _text(_sources(folder))}
    for name in LAYERS:
        tab = bm.table(name)
        arrays[f"{name}_wkb"], arrays[f"{name}_off"] = _pack(tab.geometry)
        arrays[f"{name}_props"] = _text({"columns": tab.columns, "rows": tab.records()})
    plans = bm.plans
    arrays["plan_areas_wkb"], arrays["plan_areas_off"] = _pack([bm._union_of_plan(p) for p in plans])
    arrays["plan_areas_ids"] = _text(plans)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    from planatlas.layers.fsutil import atomic_write_bytes
    out = folder / BINARY_NAME
    atomic_write_bytes(out, buf.getvalue())
    return out


def _key(text: Any) -> str:
    return str(text).strip()


class Basemap:
    """Districts, cities and water layers (WGS-84) plus lookups."""

    def __init__(self, tables: dict[str, BasemapTable], manifest: dict | None = None,
                 plan_areas: dict[str, Any] | None = None):
        self.tables = tables
        self.manifest = manifest or {}
        self._plan_areas = dict(plan_areas or {})
        self._lock = threading.Lock()

    @classmethod
    def from_dir(cls, folder: Path | str = BASEMAP_DIR) -> "Basemap":
        """The binary file if it matches the GeoJSON files, else the GeoJSON files."""
        folder = Path(folder)
        binary = folder / BINARY_NAME
        if binary.exists():
            try:
                return cls.from_binary(folder)
            except (BasemapError, OSError, ValueError, KeyError):
                pass                      # stale or broken: the GeoJSON is the source
        return cls.from_geojson(folder)

    @classmethod
    def from_geojson(cls, folder: Path | str = BASEMAP_DIR) -> "Basemap":
        folder = Path(folder)
        tables = {"districts": _read_geojson(folder / "districts.geojson", _DISTRICT_COLUMNS),
                  "cities": _read_geojson(folder / "cities.geojson", ("name", "adcode"))}
        water_path = folder / "water.geojson"
        tables["water"] = _read_geojson(water_path, ("kind",)) if water_path.exists() else \
            BasemapTable([], [], ("kind", "name", "source"))   # districts before water is built
        _normalise(tables)
        return cls(tables, cls._manifest(folder))

    @classmethod
    def from_binary(cls, folder: Path | str = BASEMAP_DIR) -> "Basemap":
        folder = Path(folder)
        with np.load(folder / BINARY_NAME) as z:
            if json.loads(z["sources"].tobytes()) != _sources(folder):
                raise BasemapError(f"{folder / BINARY_NAME} was built from other GeoJSON files")
            tables = {}
            for name in LAYERS:
                meta = json.loads(z[f"{name}_props"].tobytes())
                tables[name] = BasemapTable(_unpack(z[f"{name}_wkb"], z[f"{name}_off"]),
                                            meta["rows"], meta["columns"])
            ids = json.loads(z["plan_areas_ids"].tobytes())
            areas = dict(zip(ids, _unpack(z["plan_areas_wkb"], z["plan_areas_off"])))
        _normalise(tables)
        return cls(tables, cls._manifest(folder), areas)

    @staticmethod
    def _manifest(folder: Path) -> dict:
        mpath = folder / "manifest.json"
        if not mpath.exists():
            return {}
        try:
            return json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BasemapError(f"basemap manifest {mpath} cannot be read: {exc}") from exc

    def table(self, name: str) -> BasemapTable:
        """The layer ``districts``, ``cities`` or ``water`` (no pandas)."""
        try:
            return self.tables[name]
        except KeyError:
            raise BasemapError(f"no basemap layer {name!r} (layers: {', '.join(LAYERS)})") from None

    # GeoDataFrames for callers that want them (geopandas is imported on first use)
    @cached_property
    def districts(self):
        return self.tables["districts"].to_geodataframe()

    @cached_property
    def cities(self):
        return self.tables["cities"].to_geodataframe()

    @cached_property
    def water(self):
        return self.tables["water"].to_geodataframe()

    # ------------------------------------------------------------------ lookups
    @property
    def plans(self) -> list[str]:
        """Plan ids that have a plan area in the districts layer."""
        return sorted({p for p in self.tables["districts"].values("plan") if p})

    def _rows_for(self, name_or_adcode: Any) -> list[int]:
        key = _key(name_or_adcode)
        if not key:
            raise BasemapError("empty district name or adcode")
        d = self.tables["districts"]
        for col in ("adcode", "name", "city_adcode", "city"):
            hit = d.rows(col, key)
            if hit:
                return hit
        # a city/district given without its suffix: "海珠" -> "海珠区", "中山" -> "中山市"
        for suffix in ("区", "市", "县", "新区"):
            for col in ("name", "city"):
                hit = d.rows(col, key + suffix)
                if hit:
                    return hit
        known = ", ".join(sorted(set(d.values("name")))[:12])
        raise BasemapError(
            f"unknown district or city {name_or_adcode!r} (not in the basemap; "
            f"it has {len(d)} districts, e.g. {known} …)"
        )

    def district(self, name_or_adcode: Any):
        """Geometry of a district (by name or adcode) or of a city (union of its districts)."""
        rows = self._rows_for(name_or_adcode)
        geoms = self.tables["districts"].geometry
        if len(rows) == 1:
            return geoms[rows[0]]
        return shapely.union_all(list(geoms[rows]), grid_size=1e-6)

    def district_info(self, name_or_adcode: Any) -> dict[str, Any]:
        """Properties of one district (by name or adcode). Raises for cities with several."""
        rows = self._rows_for(name_or_adcode)
        if len(rows) != 1:
            raise BasemapError(
                f"{name_or_adcode!r} is a city with {len(rows)} districts, not a single district"
            )
        return self._props(rows[0])

    def _props(self, row: int) -> dict[str, Any]:
        d = self.tables["districts"]
        out = {}
        for col in _DISTRICT_COLUMNS:
            v = d.values(col)[row]
            if v is not None and isinstance(v, float) and math.isnan(v):
                v = None
            out[col] = v
        return out

    @cached_property
    def _tree(self):
        return shapely.STRtree(self.tables["districts"].geometry)

    def district_at(self, lon: float, lat: float) -> dict[str, Any] | None:
        """Properties of the district containing WGS-84 point (lon, lat), or None."""
        try:
            lon = float(lon)
            lat = float(lat)
        except (TypeError, ValueError):
            raise ValueError(f"district_at: lon/lat must be numbers, got {lon!r}, {lat!r}") from None
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise ValueError(f"district_at: lon/lat must be finite, got {lon}, {lat}")
        pt = shapely.Point(lon, lat)
        with self._lock:
            idx = self._tree.query(pt, predicate="intersects")
        if len(idx) == 0:
            return None
        # on a shared border several districts intersect: take the lowest adcode, stably
        adcodes = self.tables["districts"].values("adcode")
        best = min(sorted(int(i) for i in idx), key=lambda i: adcodes[i])
        return self._props(best)

    def _plan_rows(self, plan_id: str) -> list[int]:
        rows = self.tables["districts"].rows("plan", plan_id)
        if not rows:
            raise BasemapError(
                f"unknown plan {plan_id!r}: no plan area in the basemap (known: {self.plans})"
            )
        return rows

    def plan_area(self, plan_id: str):
        """Union geometry of a plan's area."""
        rows = self._plan_rows(plan_id)
        if len(rows) == 1:
            return self.tables["districts"].geometry[rows[0]]
        return self._union_of_plan(plan_id)

    def _union_of_plan(self, plan_id: str):
        """The plan area as drawn on the map (districts united on a 1e-6° grid), kept."""
        g = self._plan_areas.get(plan_id)
        if g is None:
            rows = self._plan_rows(plan_id)
            g = shapely.union_all(list(self.tables["districts"].geometry[rows]), grid_size=1e-6)
            self._plan_areas[plan_id] = g
        return g

    def plan_areas_projected(self) -> list[tuple[str, Any]]:
        """(plan, outline in Web Mercator) for every plan with a plan area."""
        from planatlas.layers.columns import project
        plans = self.plans
        geoms = project([self._union_of_plan(p) for p in plans])
        return list(zip(plans, geoms))

    def plan_extent(self, plan_id: str) -> tuple[float, float, float, float]:
        """(minlon, minlat, maxlon, maxlat) of a plan's area."""
        rows = self._plan_rows(plan_id)
        b = shapely.bounds(self.tables["districts"].geometry[rows])
        return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()),
                float(b[:, 3].max()))

    def total_bounds(self) -> tuple[float, float, float, float] | None:
        """(minlon, minlat, maxlon, maxlat) of the districts."""
        g = self.tables["districts"].geometry
        if not len(g):
            return None
        b = shapely.bounds(g)
        return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()),
                float(b[:, 3].max()))

    def __repr__(self) -> str:
        return (f"<Basemap {len(self.tables['districts'])} districts, "
                f"{len(self.tables['cities'])} cities, {len(self.tables['water'])} water features>")


_CACHE: dict[Path, Basemap] = {}
_CACHE_LOCK = threading.Lock()


def load_basemap(folder: Path | str | None = None) -> Basemap:
    """Load (once per folder, then cached) the committed basemap."""
    path = Path(folder) if folder is not None else BASEMAP_DIR
    path = path.resolve()
    with _CACHE_LOCK:
        bm = _CACHE.get(path)
        if bm is None:
            bm = Basemap.from_dir(path)
            _CACHE[path] = bm
        return bm
