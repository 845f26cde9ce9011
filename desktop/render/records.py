"""Helpers of the scene: string ids over a columnar layer, and the basemap's projected
records (one dict per district, city, water body; plan-area outlines)."""
from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from planatlas.layers.colattrs import StringColumn

from .paths import project_geoms

__all__ = ["Ids", "IdIndex", "char_counts", "GdfTable", "basemap_records", "plan_areas_of"]


class Ids:
    """Feature ids of a columnar scene as strings, without a Python string per row."""

    def __init__(self, raw: np.ndarray):
        self.raw = raw

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            return str(self.raw[i])
        return [str(v) for v in self.raw[i]]

    def __iter__(self):
        return (str(v) for v in self.raw.tolist())


class IdIndex:
    """id -> row for a columnar scene: integer ids by binary search, others by a dict built on
    first use."""

    def __init__(self, raw: np.ndarray):
        self.raw = raw
        self.ints = raw.dtype.kind in "iu"
        self._dict: dict[str, int] | None = None
        if self.ints:
            self.order = np.argsort(raw, kind="stable")
            self.sorted = raw[self.order]

    def get(self, fid, default=None):
        if fid is None:
            return default
        if not self.ints:
            if self._dict is None:
                self._dict = {str(v): i for i, v in enumerate(self.raw.tolist())}
            return self._dict.get(str(fid), default)
        try:
            v = int(str(fid))
        except ValueError:
            return default
        if str(v) != str(fid):
            return default
        k = int(np.searchsorted(self.sorted, v))
        return int(self.order[k]) if k < len(self.sorted) and self.sorted[k] == v else default

    def __getitem__(self, fid) -> int:
        i = self.get(fid)
        if i is None:
            raise KeyError(fid)
        return i

    def __contains__(self, fid) -> bool:
        return self.get(fid) is not None

    def __len__(self) -> int:
        return len(self.raw)


def char_counts(names) -> np.ndarray:
    """Number of characters of each name (UTF-8 continuation bytes not counted)."""
    if isinstance(names, StringColumn):
        if not len(names):
            return np.zeros(0, dtype=np.int64)
        lead = ((names.data & 0xC0) != 0x80).astype(np.int64)
        csum = np.concatenate([[0], np.cumsum(lead)])
        return csum[names.offsets[1:]] - csum[names.offsets[:-1]]
    return np.array([len(n) for n in names], dtype=np.int64)


class GdfTable:
    """A GeoDataFrame seen as a basemap table (for basemaps handed in as GeoDataFrames)."""

    def __init__(self, gdf):
        self.gdf = gdf

    def __len__(self) -> int:
        return 0 if self.gdf is None else len(self.gdf)

    def projected(self) -> np.ndarray:
        return project_geoms(list(self.gdf.geometry))

    def values(self, name: str) -> list:
        if name not in self.gdf.columns:
            return [None] * len(self.gdf)
        return list(self.gdf[name])


def basemap_records(tab) -> list[dict[str, Any]]:
    if tab is None or len(tab) == 0:
        return []
    geoms = tab.projected()
    names, plans, kinds = tab.values("name"), tab.values("plan"), tab.values("kind")
    out = []
    for k, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        name = names[k] if isinstance(names[k], str) else None
        lp = g.representative_point() if g.geom_type.endswith("Polygon") else \
            g.interpolate(0.5, normalized=True) if "Line" in g.geom_type else g.centroid
        out.append({"geom": g, "paths": {}, "name": name, "bounds": g.bounds,
                    "label": (lp.x, lp.y), "area": g.area, "kind": g.geom_type,
                    "plan": plans[k] if isinstance(plans[k], str) else None, "wkind": kinds[k]})
    return out


def plan_areas_of(d) -> list[tuple[str, Any]]:
    """(plan, projected union of its districts) from a districts GeoDataFrame."""
    if d is None or not len(d) or "plan" not in d.columns:
        return []
    out = []
    for pid in sorted({p for p in d["plan"] if isinstance(p, str) and p}):
        geom = shapely.union_all(list(d[d["plan"] == pid].geometry), grid_size=1e-6)
        out.append((pid, project_geoms([geom])[0]))
    return out
