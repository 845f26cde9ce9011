"""Map series (atlas) units: one page per plan, district or category (Qt-free).

    units = series_units(atlas, ["guangzhou"], "district")
    [(u.name, u.extent) for u in units]      # 荔湾区 (113.17, 23.04, …), 越秀区 …

What QGIS calls an atlas: the same layout, framed on each unit in turn. ``district`` gives the
plan's districts in the basemap (a city-level plan such as 广州 has 11; a district-level plan
one), in adcode order; ``plan`` one page per plan; ``category`` one page per category of the
plans, framed on the plans. :mod:`desktop.export_atlas` draws them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from planatlas.layers.errors import InputError
from planatlas.layers.model import CATEGORIES, CATEGORY_LABELS

__all__ = ["SeriesUnit", "series_units", "SERIES_BY", "file_stem"]

SERIES_BY = ("district", "plan", "category")


@dataclass(frozen=True)
class SeriesUnit:
    """One page: its ``name`` (page title part), the plans and categories shown, and the
    lon/lat ``extent`` it is framed on (``context``: the wider box for the overview map)."""
    name: str
    plans: tuple[str, ...]
    categories: tuple[str, ...]
    extent: tuple[float, float, float, float]
    context: tuple[float, float, float, float] | None = None


def _plan_box(atlas, pid: str):
    try:
        return tuple(float(v) for v in atlas.basemap.plan_extent(pid))
    except Exception:  # noqa: BLE001 - imported plans have no area in the basemap
        feats = atlas.features_for(plans=[pid]) if hasattr(atlas, "features_for") else []
        if not feats:
            return None
        import shapely
        b = shapely.GeometryCollection([f.geometry for f in feats]).bounds
        return tuple(float(v) for v in b)


def series_units(atlas, plans: Sequence[str], by: str = "district",
                 categories: Sequence[str] | None = None) -> list[SeriesUnit]:
    """The pages of a series of ``plans`` ``by`` district | plan | category (see module doc)."""
    if by not in SERIES_BY:
        raise InputError(f"--by must be one of {', '.join(SERIES_BY)}, got {by!r}")
    cats = tuple(categories or CATEGORIES)
    units: list[SeriesUnit] = []
    if by == "category":
        boxes = [b for b in (_plan_box(atlas, p) for p in plans) if b is not None]
        if not boxes:
            raise InputError(f"plans {', '.join(plans)} have no area and no sites to frame")
        box = (min(b[0] for b in boxes), min(b[1] for b in boxes),
               max(b[2] for b in boxes), max(b[3] for b in boxes))
        return [SeriesUnit(CATEGORY_LABELS[c][0], tuple(plans), (c,), box) for c in cats]
    for pid in plans:
        pbox = _plan_box(atlas, pid)
        if by == "plan":
            if pbox is not None:
                units.append(SeriesUnit(pid, (pid,), cats, pbox))
            continue
        table = atlas.basemap.table("districts")
        rows = table.rows("plan", pid)
        if not rows:
            raise InputError(f"plan {pid!r} has no districts in the basemap; use --by plan")
        names, adcodes = table.values("name"), table.values("adcode")
        for r in sorted(rows, key=lambda i: str(adcodes[i])):
            b = table.geometry[r].bounds
            units.append(SeriesUnit(str(names[r]), (pid,), cats, tuple(float(v) for v in b), pbox))
    if not units:
        raise InputError(f"nothing to make pages of: plans {', '.join(plans)} by {by}")
    return units


def file_stem(n: int, name: str) -> str:
    """``"03-越秀区"``: a page's file name (numbered, no path separators or control chars)."""
    clean = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", name).strip(" .") or "page"
    return f"{n:02d}-{clean}"
