"""The offline basemap: county-level districts, city outlines and water context.

The data are committed GeoJSON files in ``geodata/basemap/`` (EPSG:4326), produced by
``python -m planatlas.geodata.build``. Nothing here touches the network or the big source packages.

    from planatlas.layers.basemap import load_basemap
    bm = load_basemap()
    bm.districts            # GeoDataFrame: name, adcode, city, city_adcode, province, plan, source
    bm.district("海珠区")    # shapely geometry; a city name/adcode gives the union of its districts
    bm.district_at(113.3245, 23.1064)   # {"name": "海珠区", "adcode": "440105", ...} or None
    bm.plan_extent("zhongshan")         # (minlon, minlat, maxlon, maxlat)
"""
from __future__ import annotations

from planatlas.layers.errors import InputError

import json
import math
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import shape

__all__ = ["Basemap", "BasemapError", "load_basemap", "BASEMAP_DIR"]

BASEMAP_DIR = Path(__file__).resolve().parent.parent / "geodata" / "basemap"
CRS = "EPSG:4326"

_DISTRICT_COLUMNS = ("name", "adcode", "city", "city_adcode", "province", "plan", "source")


class BasemapError(InputError, LookupError):
    """Unknown district/plan name, or missing/broken basemap files."""


def _read_geojson(path: Path, required: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
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
    df = pd.DataFrame(rows, columns=list(dict.fromkeys([*required, *(k for r in rows for k in r)])))
    return gpd.GeoDataFrame(df, geometry=geoms, crs=CRS)


def _key(text: Any) -> str:
    return str(text).strip()


class Basemap:
    """Districts, cities and water layers (GeoDataFrames in EPSG:4326) plus lookups."""

    def __init__(self, districts: gpd.GeoDataFrame, cities: gpd.GeoDataFrame,
                 water: gpd.GeoDataFrame, manifest: dict | None = None):
        self.districts = districts
        self.cities = cities
        self.water = water
        self.manifest = manifest or {}
        self._lock = threading.Lock()

    @classmethod
    def from_dir(cls, folder: Path | str = BASEMAP_DIR) -> "Basemap":
        folder = Path(folder)
        districts = _read_geojson(folder / "districts.geojson", _DISTRICT_COLUMNS)
        districts["adcode"] = districts["adcode"].astype(str)
        districts["city_adcode"] = districts["city_adcode"].astype(str)
        districts["plan"] = districts["plan"].astype(object).where(districts["plan"].notna(), None)
        cities = _read_geojson(folder / "cities.geojson", ("name", "adcode"))
        water_path = folder / "water.geojson"
        if water_path.exists():
            water = _read_geojson(water_path, ("kind",))
        else:  # districts can be used before the water layer is built
            water = gpd.GeoDataFrame({"kind": [], "name": [], "source": []},
                                     geometry=[], crs=CRS)
        manifest = {}
        mpath = folder / "manifest.json"
        if mpath.exists():
            try:
                manifest = json.loads(mpath.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise BasemapError(f"basemap manifest {mpath} cannot be read: {exc}") from exc
        return cls(districts, cities, water, manifest)

    # ------------------------------------------------------------------ lookups
    @property
    def plans(self) -> list[str]:
        """Plan ids that have a plan area in the districts layer."""
        return sorted({p for p in self.districts["plan"] if p})

    def _rows_for(self, name_or_adcode: Any) -> gpd.GeoDataFrame:
        key = _key(name_or_adcode)
        if not key:
            raise BasemapError("empty district name or adcode")
        d = self.districts
        for col in ("adcode", "name"):
            hit = d[d[col] == key]
            if len(hit):
                return hit
        for col in ("city_adcode", "city"):
            hit = d[d[col] == key]
            if len(hit):
                return hit
        # a city/district given without its suffix: "海珠" -> "海珠区", "中山" -> "中山市"
        for suffix in ("区", "市", "县", "新区"):
            for col in ("name", "city"):
                hit = d[d[col] == key + suffix]
                if len(hit):
                    return hit
        known = ", ".join(sorted(set(d["name"]))[:12])
        raise BasemapError(
            f"unknown district or city {name_or_adcode!r} (not in the basemap; "
            f"it has {len(d)} districts, e.g. {known} …)"
        )

    def district(self, name_or_adcode: Any):
        """Geometry of a district (by name or adcode) or of a city (union of its districts)."""
        rows = self._rows_for(name_or_adcode)
        if len(rows) == 1:
            return rows.geometry.iloc[0]
        return shapely.union_all(list(rows.geometry), grid_size=1e-6)

    def district_info(self, name_or_adcode: Any) -> dict[str, Any]:
        """Properties of one district (by name or adcode). Raises for cities with several."""
        rows = self._rows_for(name_or_adcode)
        if len(rows) != 1:
            raise BasemapError(
                f"{name_or_adcode!r} is a city with {len(rows)} districts, not a single district"
            )
        return self._props(rows.iloc[0])

    @staticmethod
    def _props(row) -> dict[str, Any]:
        out = {}
        for col in _DISTRICT_COLUMNS:
            v = row[col]
            if v is not None and isinstance(v, float) and math.isnan(v):
                v = None
            out[col] = v
        return out

    @cached_property
    def _sindex(self):
        return self.districts.sindex

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
            idx = self._sindex.query(pt, predicate="intersects")
        if len(idx) == 0:
            return None
        # on a shared border several districts intersect: take the lowest adcode, stably
        rows = self.districts.iloc[sorted(idx)]
        rows = rows.sort_values("adcode", kind="stable")
        return self._props(rows.iloc[0])

    def plan_area(self, plan_id: str):
        """Union geometry of a plan's area."""
        rows = self.districts[self.districts["plan"] == plan_id]
        if not len(rows):
            raise BasemapError(
                f"unknown plan {plan_id!r}: no plan area in the basemap (known: {self.plans})"
            )
        if len(rows) == 1:
            return rows.geometry.iloc[0]
        return shapely.union_all(list(rows.geometry), grid_size=1e-6)

    def plan_extent(self, plan_id: str) -> tuple[float, float, float, float]:
        """(minlon, minlat, maxlon, maxlat) of a plan's area."""
        rows = self.districts[self.districts["plan"] == plan_id]
        if not len(rows):
            raise BasemapError(
                f"unknown plan {plan_id!r}: no plan area in the basemap (known: {self.plans})"
            )
        minx, miny, maxx, maxy = rows.total_bounds
        return (float(minx), float(miny), float(maxx), float(maxy))

    def __repr__(self) -> str:
        return (f"<Basemap {len(self.districts)} districts, {len(self.cities)} cities, "
                f"{len(self.water)} water features>")


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
