"""Which datum a plain lon/lat table is in — WGS-84, GCJ-02 (Amap, Tencent) or BD-09 (Baidu).

The three differ by 100–700 m, so a table of POIs can tell them apart where the data allow:

1. **Known features**: rows whose name is a gazetteer feature's name or alias (the curated
   plan places) are compared with that feature under each hypothesis, as the survey checker
   does (:mod:`planatlas.layers.survey.crs_detect`): a row votes for the hypothesis that puts
   it nearest, if the hypotheses differ by ≥ 30 m; ≥ 3 voting rows are needed.
2. **The basemap's water and coast**: shops, offices and bus stops are on land. Shifting the
   points by the wrong datum puts riverside and coastal ones into the river or the sea, so the
   hypothesis with clearly the fewest points in water wins (≥ 8 points fewer and ≤ 60 % of the
   next best). Only points inside the basemap's districts take part.
3. Otherwise the table's header and file name are read for a hint (gcj/高德/火星, bd09/百度,
   wgs84/gps); with none, WGS-84 is **assumed** and the note says so.

The answer is a :class:`DatumChoice` whose ``note`` the app shows next to the layer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

__all__ = ["DatumChoice", "detect_datum", "DATUMS", "DATUM_LABELS"]

DATUMS = ("wgs84", "gcj02", "bd09")
DATUM_LABELS = {"wgs84": "WGS-84", "cgcs2000": "CGCS2000", "gcj02": "GCJ-02", "bd09": "BD-09"}
SAMPLE = 20_000
ABSTAIN_M = 30.0
_HINTS = (("bd09", re.compile(r"bd[-_ ]?09|baidu|百度|bmap", re.I)),
          ("gcj02", re.compile(r"gcj[-_ ]?02|gcj|amap|gaode|高德|火星|腾讯|tencent|qq地图", re.I)),
          ("wgs84", re.compile(r"wgs[-_ ]?84|gps|cgcs2000|天地图|tianditu", re.I)))


@dataclass
class DatumChoice:
    crs: str                         # wgs84 | gcj02 | bd09
    status: str                      # detected | hinted | assumed
    note: str
    evidence: dict = field(default_factory=dict)


def _sample(n: int) -> np.ndarray:
    if n <= SAMPLE:
        return np.arange(n)
    return np.sort(np.random.default_rng(20240501).choice(n, SAMPLE, replace=False))


def _by_known_features(lon, lat, names) -> DatumChoice | None:
    if names is None:
        return None
    try:
        from planatlas.layers.gazetteer import load_features
        feats = load_features()
    except (OSError, ValueError):
        return None
    index: dict[str, int] = {}
    for k, f in enumerate(feats):
        for nm in (f.name, *f.aliases, *getattr(f, "other_names", [])):
            index.setdefault(str(nm).strip(), k)
    rows, fidx = [], []
    for i, nm in enumerate(names):
        k = index.get(str(nm).strip()) if nm is not None else None
        if k is not None:
            rows.append(i)
            fidx.append(k)
    if len(rows) < 3:
        return None
    from planatlas.layers.crs import convert
    from planatlas.layers.survey.model import _FeatureTable
    table = _FeatureTable(feats)
    r = np.asarray(rows)
    fi = np.asarray(fidx)
    dists = []
    for h in DATUMS:
        x, y = convert(lon[r], lat[r], h, "wgs84")
        d, *_ = table.nearest(np.asarray(x), np.asarray(y), fi)
        dists.append(np.asarray(d, dtype=float))
    D = np.vstack(dists)
    voting = (D.max(axis=0) - D.min(axis=0)) >= ABSTAIN_M
    if voting.sum() < 3:
        return None
    winner = D[:, voting].argmin(axis=0)
    votes = {h: int((winner == k).sum()) for k, h in enumerate(DATUMS)}
    med = {h: float(np.median(D[k])) for k, h in enumerate(DATUMS)}
    best = max(DATUMS, key=lambda h: (votes[h], -med[h]))
    share = votes[best] / int(voting.sum())
    if share < 0.6:
        return None
    return DatumChoice(best, "detected",
                       f"detected {DATUM_LABELS[best]}: {votes[best]} of {int(voting.sum())} rows "
                       f"named like a known place sit nearest to it that way (median "
                       f"{med[best]:.0f} m)", {"votes": votes, "median_m": med, "method": "features"})


def _in_any(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points inside any of the polygons (prepared, tested only on points in their box)."""
    import shapely
    out = np.zeros(len(x), dtype=bool)
    if not len(x):
        return out
    bx = shapely.bounds(geoms)
    for g, (a, b, c, d) in zip(geoms.tolist(), bx.tolist()):
        m = (x >= a) & (x <= c) & (y >= b) & (y <= d) & ~out
        if m.any():
            shapely.prepare(g)
            idx = np.flatnonzero(m)
            out[idx[shapely.contains_xy(g, x[idx], y[idx])]] = True
    return out


def _by_water(lon, lat) -> DatumChoice | None:
    try:
        from planatlas.layers.basemap import load_basemap
        bm = load_basemap()
    except (OSError, ValueError, LookupError):
        return None
    import shapely
    from planatlas.layers.crs import convert
    s = _sample(len(lon))
    x0, y0 = lon[s], lat[s]
    inside = _in_any(np.asarray(bm.districts.geometry, dtype=object), x0, y0)
    if inside.sum() < 50:
        return None
    x0, y0 = x0[inside], y0[inside]
    water = np.asarray(bm.water.geometry, dtype=object)
    water = water[shapely.get_type_id(water) >= 3]                # areas only
    if not len(water):
        return None
    wet = {}
    for h in DATUMS:
        x, y = convert(x0, y0, h, "wgs84")
        wet[h] = int(_in_any(water, np.asarray(x), np.asarray(y)).sum())
    order = sorted(DATUMS, key=lambda h: wet[h])
    best, second = order[0], order[1]
    if wet[second] - wet[best] >= 8 and wet[best] <= 0.6 * wet[second]:
        return DatumChoice(best, "detected",
                           f"detected {DATUM_LABELS[best]}: read that way {wet[best]} of "
                           f"{len(x0)} points fall in rivers or the sea, "
                           f"{wet[second]} as {DATUM_LABELS[second]}",
                           {"in_water": wet, "points": int(len(x0)), "method": "water"})
    return None


def _by_hint(headers: Sequence[str], filename: str) -> DatumChoice | None:
    text = " ".join([*map(str, headers), filename])
    for crs, rx in _HINTS:
        m = rx.search(text)
        if m:
            return DatumChoice(crs, "hinted",
                               f"{DATUM_LABELS[crs]} from the name {m.group(0)!r} in the table "
                               "(the data could not decide)", {"method": "hint"})
    return None


def detect_datum(lon, lat, *, names=None, headers: Sequence[str] = (), filename: str = "",
                 water: bool = True) -> DatumChoice:
    """The datum of lon/lat points (see the module doc)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    from planatlas.layers.crs import out_of_china
    if not len(lon) or bool(np.all(out_of_china(lon, lat))):
        return DatumChoice("wgs84", "assumed", "outside China: read as WGS-84 lon/lat")
    for step in (lambda: _by_known_features(lon, lat, names),
                 (lambda: _by_water(lon, lat)) if water else (lambda: None),
                 lambda: _by_hint(headers, filename)):
        choice = step()
        if choice is not None:
            return choice
    return DatumChoice("wgs84", "assumed",
                       "datum undetermined (no known places named, no water evidence); assumed "
                       "WGS-84 — choose GCJ-02 if the points came from Amap/Tencent, BD-09 "
                       "if from Baidu")
