"""Field site lists and survey checking.

* :func:`check_survey` reads a survey file (:mod:`layers.survey_io`), matches each row to a
  curated feature by id or by name/alias (tolerant Chinese normalisation), works out which
  coordinate system the file uses (WGS-84 / GCJ-02 / BD-09, ``crs="auto"``), and gives every row
  a status: ``confirmed`` (within ``tolerance_m`` of its feature; for polygons and lines the
  distance to the geometry), ``moved`` (matched but farther), ``unmatched`` (no feature of
  that name) or ``invalid`` (unusable coordinates, with the reason). Features that no
  confirmed/moved row reports are listed as not surveyed. Distances are geodesic (WGS-84
  ellipsoid, one vectorised :class:`pyproj.Geod` call).
* :func:`write_report` saves a report as CSV or XLSX; :func:`report_layer` gives points for a
  map layer.
* :func:`add_site_commands` registers the CLI subcommands ``check-sites``, ``accept-survey``,
  ``undo-accept`` and ``sitelist``.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import re
import sys
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from planatlas.layers.model import CATEGORIES, Feature
from planatlas.layers.survey_io import SurveyFormatError, SurveyRow, iter_survey

__all__ = [
    "normalize_name", "NameIndex", "RowResult", "CrsChoice", "SurveyReport", "CheckCancelled",
    "check_survey", "check_rows", "write_report", "report_layer", "STATUS_COLORS",
    "feature_anchor", "add_site_commands", "main",
]

ROW_STATUSES = ("confirmed", "moved", "unmatched", "invalid")
STATUS_COLORS = {  # used by the desktop layer, the XLSX report and the dialog
    "confirmed": "#2e7d32", "moved": "#ef6c00", "unmatched": "#6d4c9f", "invalid": "#c62828",
}
DETECT_CRS = ("wgs84", "gcj02", "bd09")
MIN_DETECT_ROWS = 3          # fewer usable matched rows -> "undetermined"
DETECT_SAMPLE = 4000         # rows used for CRS detection (random, seeded)
ABSTAIN_M = 30.0             # rows whose hypotheses differ by less than this do not vote

# China bounding box used for swap detection (generous: includes the South China Sea islands).
_CN_LON = (73.0, 135.5)
_CN_LAT = (3.0, 54.0)


# --------------------------------------------------------------------------- names

_NAME_PUNCT = re.compile(
    r"[\s·•・\-—–―‐_~～.,，。、;；:：'\"“”‘’()（）\[\]【】{}<>《》〈〉「」『』!！?？/\\|&＋+*#@]+")
_GENERIC_SUFFIXES = sorted(
    ["商圈", "步行街", "商业街", "商业区", "商业街区", "商业中心", "特色街区", "街区", "景区",
     "风景区", "风景名胜区", "旅游区", "旅游度假区", "度假区", "物流园", "物流园区", "产业园",
     "园区", "集聚区", "夜间经济集聚区", "夜市", "市场", "专业市场", "港区", "枢纽", "公园",
     "博物馆", "古镇"], key=len, reverse=True)


@lru_cache(maxsize=200_000)
def normalize_name(text: str) -> str:
    """Tolerant comparison key: NFKC (full/half width), case-folded, spaces and punctuation removed."""
    s = unicodedata.normalize("NFKC", str(text)).casefold()
    return _NAME_PUNCT.sub("", s)


def _core(key: str) -> str:
    for suf in _GENERIC_SUFFIXES:
        if key.endswith(suf) and len(key) - len(suf) >= 2:
            return key[: -len(suf)]
    return key


class NameIndex:
    """Feature lookup by id and by normalised name / alias / other_names."""

    def __init__(self, features: Iterable[Feature]):
        self.by_id: dict[str, Feature] = {}
        self.by_key: dict[str, list[str]] = {}
        self.by_core: dict[str, list[str]] = {}
        for f in features:
            self.by_id[f.id] = f
            names = [f.name, *f.aliases, *getattr(f, "other_names", ())]
            for n in names:
                if not n:
                    continue
                key = normalize_name(n)
                if not key:
                    continue
                lst = self.by_key.setdefault(key, [])
                if f.id not in lst:
                    lst.append(f.id)
                lst = self.by_core.setdefault(_core(key), [])
                if f.id not in lst:
                    lst.append(f.id)
        self._id_lower = {k.casefold(): k for k in self.by_id}
        self._by_first: dict[str, list[str]] = {}
        for k in self.by_key:
            if len(k) >= 3:
                self._by_first.setdefault(k[0], []).append(k)
        self._joined = "\x00".join(self.by_key)
        self._partial_cache: dict[str, tuple[list[str], str | None]] = {}

    def lookup(self, name: str | None, fid: str | None = None) -> tuple[list[str], str | None]:
        """Candidate feature ids and a note on how they were matched (None = exact)."""
        if fid:
            real = self._id_lower.get(str(fid).strip().casefold())
            if real:
                return [real], None
        if not name:
            return [], None
        key = normalize_name(name)
        if not key:
            return [], None
        hit = self.by_key.get(key)
        if hit:
            return hit, None
        return self._partial(key)

    def _partial(self, key: str) -> tuple[list[str], str | None]:
        cached = self._partial_cache.get(key)
        if cached is not None:
            return cached
        res: tuple[list[str], str | None] = ([], None)
        core = _core(key)
        hit = self.by_core.get(core)
        if hit and len(core) >= 2:
            res = (hit, f"matched by core name {core!r}")
        elif len(key) >= 3:
            cands: set[str] = set()
            via = None
            # feature names contained in the row's name
            for pos, ch in enumerate(key):
                for k in self._by_first.get(ch, ()):
                    if key.startswith(k, pos):
                        cands.update(self.by_key[k])
                        via = k
            # the row's name contained in a feature name
            if key in self._joined:
                for k, ids in self.by_key.items():
                    if len(k) >= 3 and key in k:
                        cands.update(ids)
                        via = k
            if len(cands) == 1:
                res = (sorted(cands), f"matched by partial name {via!r}")
        if len(self._partial_cache) < 100_000:
            self._partial_cache[key] = res
        return res


# --------------------------------------------------------------------------- geometry helpers

@lru_cache(maxsize=1)
def _geod():
    from pyproj import Geod

    return Geod(ellps="WGS84")


def feature_anchor(feature: Feature) -> tuple[float, float]:
    """One representative (lon, lat) of a feature: the point itself, or a point on its surface."""
    g = feature.geometry
    if g is None or g.is_empty:
        return (math.nan, math.nan)
    if g.geom_type == "Point":
        return (g.x, g.y)
    p = g.representative_point()
    return (p.x, p.y)


class _FeatureTable:
    """Arrays describing the features for vectorised distance computation."""

    def __init__(self, features: Sequence[Feature]):
        import shapely

        self.ids = [f.id for f in features]
        self.index = {fid: i for i, fid in enumerate(self.ids)}
        n = len(features)
        self.is_point = np.zeros(n, dtype=bool)
        self.px = np.full(n, np.nan)
        self.py = np.full(n, np.nan)
        self.scale = np.ones(n)
        self.scaled = np.empty(n, dtype=object)
        for i, f in enumerate(features):
            g = f.geometry
            if g is None or g.is_empty:
                self.is_point[i] = True
                continue
            if g.geom_type == "Point":
                self.is_point[i] = True
                self.px[i], self.py[i] = g.x, g.y
            else:
                lat0 = g.centroid.y
                k = max(math.cos(math.radians(lat0)), 0.05)
                self.scale[i] = k
                self.scaled[i] = shapely.transform(g, lambda c, k=k: c * np.array([k, 1.0]))
                self.px[i], self.py[i] = feature_anchor(f)

    def nearest(self, lon: np.ndarray, lat: np.ndarray, fidx: np.ndarray):
        """Distance (m), azimuth from feature to point, and nearest feature point per pair."""
        import shapely

        tlon = self.px[fidx].copy()
        tlat = self.py[fidx].copy()
        nonpt = ~self.is_point[fidx]
        if nonpt.any():
            sel = fidx[nonpt]
            k = self.scale[sel]
            pts = shapely.points(lon[nonpt] * k, lat[nonpt])
            lines = shapely.shortest_line(self.scaled[sel], pts)
            xy = shapely.get_coordinates(shapely.get_point(lines, 0))
            if len(xy) == len(sel):
                tlon[nonpt] = xy[:, 0] / k
                tlat[nonpt] = xy[:, 1]
        if lon.size == 0:
            return np.zeros(0), np.zeros(0), tlon, tlat
        az, _, dist = _geod().inv(tlon, tlat, lon, lat)
        dist = np.asarray(dist, dtype=float)
        dist[~np.isfinite(dist)] = np.inf
        return dist, np.asarray(az, dtype=float), tlon, tlat


# --------------------------------------------------------------------------- results

@dataclass(slots=True)
class RowResult:
    row: int
    name: str | None
    feature: str | None
    status: str                     # confirmed | moved | unmatched | invalid
    distance_m: float | None
    message: str
    lon: float | None = None        # WGS-84 position of the observation (after CRS conversion)
    lat: float | None = None
    raw_lon: float | None = None    # as read from the file (after swap fixing)
    raw_lat: float | None = None
    where: str = ""
    fid: str | None = None
    notes: str | None = None
    reported: str | None = None     # the surveyor's verdict: found | moved | missing | text
    date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row, "name": self.name, "feature": self.feature, "status": self.status,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
            "message": self.message,
            "lon": None if self.lon is None else round(self.lon, 7),
            "lat": None if self.lat is None else round(self.lat, 7),
            "where": self.where, "reported": self.reported, "date": self.date,
        }


@dataclass
class CrsChoice:
    chosen: str                      # the CRS the coordinates were read in
    confidence: float | None         # share of voting rows that agree (None: not detected)
    detected: bool                   # True if chosen by detection from the data
    requested: str = "auto"
    status: str = "given"            # detected | undetermined | given
    votes: dict[str, int] = field(default_factory=dict)
    medians_m: dict[str, float] = field(default_factory=dict)
    rows_used: int = 0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "detected": self.detected, "requested": self.requested, "status": self.status,
            "votes": dict(self.votes),
            "medians_m": {k: round(v, 1) for k, v in self.medians_m.items()},
            "rows_used": self.rows_used, "message": self.message,
        }


@dataclass
class SurveyReport:
    source: str
    crs: CrsChoice
    rows: list[RowResult]
    not_surveyed: list[str]
    tolerance_m: float
    plans: list[str] | None
    features: dict[str, Feature]
    messages: list[str] = field(default_factory=list)
    survey_date: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(r.status for r in self.rows)
        return {s: c.get(s, 0) for s in ROW_STATUSES} | {"not_surveyed": len(self.not_surveyed)}

    def row(self, n: int) -> RowResult:
        for r in self.rows:
            if r.row == n:
                return r
        raise KeyError(f"no data row {n} in {self.source}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "crs": self.crs.to_dict(), "tolerance_m": self.tolerance_m,
            "plans": self.plans, "counts": self.counts, "messages": list(self.messages),
            "rows": [r.to_dict() for r in self.rows], "not_surveyed": list(self.not_surveyed),
        }


class CheckCancelled(Exception):
    """Raised by :func:`check_survey` when its ``cancel`` callback returns True."""


# --------------------------------------------------------------------------- checking

def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= _CN_LON[0]) & (lon <= _CN_LON[1]) & (lat >= _CN_LAT[0]) & (lat <= _CN_LAT[1])


_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def _compass(az: float) -> str:
    return _COMPASS[int(((az % 360) + 22.5) // 45) % 8]


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    s = unicodedata.normalize("NFKC", str(value)).strip()
    m = re.match(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", s)
    if not m:
        return None
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


def check_survey(path: str | os.PathLike, features: Iterable[Feature], *, crs: str = "auto",
                 tolerance_m: float = 200.0, plans: Sequence[str] | None = None,
                 other_features: Iterable[Feature] = (),
                 progress: Callable[[float, str], None] | None = None,
                 cancel: Callable[[], bool] | None = None) -> SurveyReport:
    """Check a survey file against ``features`` (see module docstring).

    ``other_features`` (e.g. features of plans not selected) are only used to explain
    unmatched rows. ``progress(fraction, text)`` is called now and then; ``cancel()``
    returning True aborts with :class:`CheckCancelled`. File-level problems raise
    :class:`layers.survey_io.SurveyFormatError`.
    """
    p = Path(path)
    report = check_rows(iter_survey(p), features, crs=crs, tolerance_m=tolerance_m, plans=plans,
                        other_features=other_features, progress=progress, cancel=cancel,
                        source=str(p))
    if report.survey_date is None:
        try:
            report.survey_date = _dt.date.fromtimestamp(p.stat().st_mtime).isoformat()
        except OSError:
            pass
    return report


def check_rows(rows: Iterable[SurveyRow], features: Iterable[Feature], *, crs: str = "auto",
               tolerance_m: float = 200.0, plans: Sequence[str] | None = None,
               other_features: Iterable[Feature] = (),
               progress: Callable[[float, str], None] | None = None,
               cancel: Callable[[], bool] | None = None, source: str = "survey") -> SurveyReport:
    """Check already-read survey rows (streamed); see :func:`check_survey`."""
    from planatlas.layers import crs as crsmod

    if not (tolerance_m > 0 and math.isfinite(tolerance_m)):
        raise ValueError(f"tolerance must be a positive number of metres, got {tolerance_m!r}")
    req = (crs or "auto").strip().lower()
    if req not in ("auto", *crsmod.CRS_NAMES):
        raise ValueError(f"unknown CRS {crs!r}; expected auto or one of {', '.join(crsmod.CRS_NAMES)}")
    feats = list(features)
    index = NameIndex(feats)
    feat_by_id = index.by_id
    others = NameIndex([f for f in other_features if f.id not in feat_by_id])
    table = _FeatureTable(feats)

    def tick(frac: float, text: str) -> None:
        if cancel is not None and cancel():
            raise CheckCancelled("survey check cancelled")
        if progress is not None:
            progress(frac, text)

    # ---- 1. stream rows into columns
    meta: list[SurveyRow] = []
    lons: list[float] = []
    lats: list[float] = []
    tick(0.0, "reading")
    for sr in rows:
        meta.append(sr)
        lons.append(sr.lon)
        lats.append(sr.lat)
        if len(meta) % 5000 == 0:
            tick(0.0, f"read {len(meta):,} rows")
    n = len(meta)
    if n == 0:
        raise SurveyFormatError(f"{source}: no data rows")
    tick(0.4, f"read {n:,} rows; matching")
    lon = np.asarray(lons, dtype=float)
    lat = np.asarray(lats, dtype=float)
    del lons, lats
    msgs: list[list[str]] = [[] for _ in range(n)]
    reasons: list[str | None] = [sr.error for sr in meta]
    file_messages: list[str] = []

    # ---- 2. validity, swapped columns
    parsed = np.array([r is None for r in reasons], dtype=bool)
    hint = np.array([sr.hint_swapped for sr in meta], dtype=bool)
    if hint.any():
        lon[hint], lat[hint] = lat[hint].copy(), lon[hint].copy()
        for i in np.flatnonzero(hint):
            msgs[i].append("hemisphere letters show latitude and longitude were swapped; swapped back")
    asis = _in_china(lon, lat) & parsed
    swapped_ok = _in_china(lat, lon) & parsed & ~asis
    if swapped_ok.sum() > max(asis.sum(), 0) and swapped_ok.sum() >= 1:
        file_messages.append(
            f"longitude and latitude columns appear swapped ({int(swapped_ok.sum())} of "
            f"{int(parsed.sum())} rows only make sense swapped); read them swapped")
        swap_all = parsed & ~hint
        lon[swap_all], lat[swap_all] = lat[swap_all].copy(), lon[swap_all].copy()
        # rows that made sense as written are now the odd ones out: swap those back
        back = swap_all & ~_in_china(lon, lat) & _in_china(lat, lon)
        lon[back], lat[back] = lat[back].copy(), lon[back].copy()
        for i in np.flatnonzero(swap_all & ~back):
            msgs[i].append("lat/lon read swapped")
    else:
        for i in np.flatnonzero(swapped_ok):
            lon[i], lat[i] = lat[i], lon[i]
            msgs[i].append("latitude and longitude were swapped in this row; swapped back")
    for i in np.flatnonzero(parsed):
        x, y = lon[i], lat[i]
        if not (math.isfinite(x) and math.isfinite(y)):
            reasons[i] = "coordinates are not numbers"
        elif abs(y) > 90:
            reasons[i] = f"latitude {y:g} is outside -90..90"
        elif abs(x) > 180:
            reasons[i] = f"longitude {x:g} is outside -180..180"
        elif x == 0 and y == 0:
            reasons[i] = "coordinates are 0,0 (no GPS fix?)"
    valid = np.array([r is None for r in reasons], dtype=bool)
    outside = valid & ~_in_china(lon, lat)
    for i in np.flatnonzero(outside):
        msgs[i].append(f"position {lon[i]:.5f},{lat[i]:.5f} is outside China")
    tick(0.5, "matching names")

    # ---- 3. name matching: (row, feature) candidate pairs
    pair_row: list[int] = []
    pair_feat: list[int] = []
    n_cands = np.zeros(n, dtype=np.int32)
    match_note: dict[int, str] = {}
    for i, sr in enumerate(meta):
        cands, note = index.lookup(sr.name, sr.fid)
        if cands:
            n_cands[i] = len(cands)
            for fid in cands:
                pair_row.append(i)
                pair_feat.append(table.index[fid])
            if note:
                match_note[i] = note
        if i and i % 20000 == 0:
            tick(0.5 + 0.2 * i / n, f"matched {i:,} rows")
    prow = np.asarray(pair_row, dtype=np.int64)
    pfeat = np.asarray(pair_feat, dtype=np.int64)
    tick(0.7, "detecting coordinate system")

    # ---- 4. CRS
    single_pairs = np.flatnonzero(valid[prow] & (n_cands[prow] == 1)) if prow.size else np.zeros(0, int)
    choice = _detect_crs(lon, lat, prow, pfeat, single_pairs, table, req)
    if choice.message:
        file_messages.append(choice.message)
    tick(0.8, f"converting from {choice.chosen}")
    wlon = np.full(n, np.nan)
    wlat = np.full(n, np.nan)
    if valid.any():
        x, y = crsmod.convert(lon[valid], lat[valid], choice.chosen, "wgs84")
        wlon[valid], wlat[valid] = x, y

    # ---- 5. distances for all candidate pairs; best candidate per row
    best_feat = np.full(n, -1, dtype=np.int64)
    best_dist = np.full(n, np.nan)
    best_az = np.full(n, np.nan)
    if prow.size:
        pv = valid[prow]
        dist = np.full(prow.size, np.inf)
        az = np.full(prow.size, np.nan)
        if pv.any():
            d, a, _, _ = table.nearest(wlon[prow[pv]], wlat[prow[pv]], pfeat[pv])
            dist[pv] = d
            az[pv] = a
        order = np.lexsort((dist, prow))
        first = order[np.r_[True, prow[order][1:] != prow[order][:-1]]]
        best_feat[prow[first]] = pfeat[first]
        best_dist[prow[first]] = np.where(np.isfinite(dist[first]), dist[first], np.nan)
        best_az[prow[first]] = az[first]
    tick(0.9, "classifying")

    # ---- 6. statuses
    results: list[RowResult] = []
    append = results.append
    reported: set[str] = set()
    fnames = [f.name for f in feats]
    ids = table.ids
    bf = best_feat.tolist()
    bd = best_dist.tolist()
    baz = best_az.tolist()
    wl, wt, rl, rt = wlon.tolist(), wlat.tolist(), lon.tolist(), lat.tolist()
    nc = n_cands.tolist()
    tol = float(tolerance_m)
    for i, sr in enumerate(meta):
        fi = bf[i]
        fid = ids[fi] if fi >= 0 else None
        reason = reasons[i]
        d = None
        if reason is not None:
            status = "invalid"
            head = reason
        elif fid is None:
            status = "unmatched"
            if not sr.name and not sr.fid:
                head = "row has no name or id"
            else:
                other, _ = others.lookup(sr.name, sr.fid) if others.by_id else ([], None)
                if other:
                    f_o = others.by_id[other[0]]
                    head = (f"{f_o.name} ({f_o.id}) is not in the selected plans "
                            f"({', '.join(f_o.plans) or 'no plan'})")
                else:
                    head = f"no feature named {sr.name or sr.fid!r}"
        else:
            d = bd[i]
            if d <= tol:
                status = "confirmed"
                head = f"{d:.0f} m from {fnames[fi]}"
            else:
                status = "moved"
                head = f"{d:.0f} m {_compass(baz[i])} of {fnames[fi]} (tolerance {tol:g} m)"
            reported.add(fid)
        parts = msgs[i]
        if sr.message or parts or i in match_note or nc[i] > 1 or sr.status:
            extra = [head]
            if sr.message:
                extra.append(sr.message)
            extra += parts
            if i in match_note:
                extra.append(match_note[i])
            if fid is not None and nc[i] > 1:
                extra.append(f"{nc[i]} features share this name; nearest chosen")
            if sr.status:
                extra.append(f"surveyor reported: {sr.status}")
            head = "; ".join(extra)
        ok = reason is None
        date = sr.date
        append(RowResult(
            sr.row, sr.name, fid, status, d, head,
            wl[i] if ok else None, wt[i] if ok else None,
            rl[i] if ok else None, rt[i] if ok else None,
            sr.where, sr.fid, sr.notes, sr.status,
            (_iso_date(date) or date) if date else None))
    not_surveyed = [f.id for f in feats if f.id not in reported]
    dates = sorted({d for d in (_iso_date(r.date) for r in meta[:2000]) if d})
    tick(1.0, "done")
    return SurveyReport(
        source=source, crs=choice, rows=results, not_surveyed=not_surveyed,
        tolerance_m=float(tolerance_m), plans=list(plans) if plans else None,
        features={f.id: f for f in feats}, messages=file_messages,
        survey_date=dates[-1] if dates else None)


def _detect_crs(lon, lat, prow, pfeat, single_pairs, table: _FeatureTable, req: str) -> CrsChoice:
    from planatlas.layers import crs as crsmod

    sample = single_pairs
    if sample.size > DETECT_SAMPLE:
        rng = np.random.default_rng(20240501)
        sample = np.sort(rng.choice(sample, DETECT_SAMPLE, replace=False))
    rows_used = int(sample.size)
    medians: dict[str, float] = {}
    votes: dict[str, int] = {}
    n_voting = 0
    if rows_used:
        r = prow[sample]
        fidx = pfeat[sample]
        dists = []
        for h in DETECT_CRS:
            x, y = crsmod.convert(lon[r], lat[r], h, "wgs84")
            d, _, _, _ = table.nearest(np.asarray(x), np.asarray(y), fidx)
            dists.append(d)
            medians[h] = float(np.median(d))
        D = np.vstack(dists)
        spread = D.max(axis=0) - D.min(axis=0)
        voting = spread >= ABSTAIN_M
        n_voting = int(voting.sum())
        winner = D.argmin(axis=0)
        votes = {h: int(((winner == k) & voting).sum()) for k, h in enumerate(DETECT_CRS)}

    def detected_guess() -> tuple[str, float] | None:
        if rows_used < MIN_DETECT_ROWS or n_voting < MIN_DETECT_ROWS:
            return None
        best = min(DETECT_CRS, key=lambda h: (medians[h], -votes[h], DETECT_CRS.index(h)))
        return best, votes[best] / n_voting

    def describe(h: str) -> str:
        others = sorted((m, k) for k, m in medians.items() if k != h)
        alt = f"; next best {others[0][1]} {others[0][0]:.0f} m" if others else ""
        return (f"{votes.get(h, 0)} of {n_voting} matched rows voted for {h}; median distance "
                f"{medians[h]:.0f} m{alt}")

    guess = detected_guess()
    if req != "auto":
        msg = ""
        same = {guess[0], req} <= {"wgs84", "cgcs2000"} if guess else True
        if guess and not same and guess[1] >= 0.6:
            msg = (f"coordinates read as {req} as requested, but the data look like {guess[0]} "
                   f"({describe(guess[0])})")
        return CrsChoice(chosen=req, confidence=None, detected=False, requested=req,
                         status="given", votes=votes, medians_m=medians, rows_used=rows_used,
                         message=msg)
    if guess is None:
        why = (f"only {rows_used} matched row(s) with usable coordinates"
               if rows_used < MIN_DETECT_ROWS else
               f"only {n_voting} of {rows_used} matched rows tell the systems apart")
        return CrsChoice(chosen="wgs84", confidence=None, detected=False, requested="auto",
                         status="undetermined", votes=votes, medians_m=medians,
                         rows_used=rows_used,
                         message=f"coordinate system undetermined ({why}, need {MIN_DETECT_ROWS}); "
                                 "assumed wgs84 — pass --crs to choose")
    best, conf = guess
    msg = f"coordinate system detected: {best} (confidence {conf:.0%}: {describe(best)})"
    if medians[best] > 5000:
        msg += "; even so most rows are far from their features — check the file"
    return CrsChoice(chosen=best, confidence=conf, detected=True, requested="auto",
                     status="detected", votes=votes, medians_m=medians, rows_used=rows_used,
                     message=msg)


# --------------------------------------------------------------------------- outputs

def report_layer(report: SurveyReport) -> list[tuple[float, float, str, str]]:
    """``(lon, lat, status, label)`` in WGS-84 for every row with usable coordinates."""
    out = []
    for r in report.rows:
        if r.lon is None or r.lat is None:
            continue
        label = r.name or r.fid or f"row {r.row}"
        out.append((r.lon, r.lat, r.status, label))
    return out


REPORT_COLUMNS = ("row", "where", "name", "id", "feature", "feature_name", "status",
                  "distance_m", "lon_wgs84", "lat_wgs84", "lon_raw", "lat_raw", "reported",
                  "date", "notes", "message")


def _report_records(report: SurveyReport) -> Iterable[list[Any]]:
    for r in report.rows:
        f = report.features.get(r.feature) if r.feature else None
        yield [r.row, r.where, r.name, r.fid, r.feature, f.name if f else None, r.status,
               None if r.distance_m is None else round(r.distance_m, 1),
               None if r.lon is None else round(r.lon, 7),
               None if r.lat is None else round(r.lat, 7),
               None if r.raw_lon is None else round(r.raw_lon, 7),
               None if r.raw_lat is None else round(r.raw_lat, 7),
               r.reported, r.date, r.notes, r.message]


def _csv_safe(v: Any) -> Any:
    """Neutralise spreadsheet formula injection in text cells."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def _atomic_target(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    os.close(fd)
    return Path(tmp)


def write_report(report: SurveyReport, path: str | os.PathLike) -> Path:
    """Write the report as ``.csv`` (UTF-8 with BOM, opens in Excel) or ``.xlsx``; atomically."""
    import csv

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"report file must end in .csv or .xlsx, got {out.name!r}")
    tmp = _atomic_target(out)
    try:
        if suffix == ".csv":
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(REPORT_COLUMNS)
                for rec in _report_records(report):
                    w.writerow([_csv_safe(v) for v in rec])
                if report.not_surveyed:
                    for fid in report.not_surveyed:
                        f = report.features.get(fid)
                        w.writerow([None, None, None, None, fid, _csv_safe(f.name if f else fid),
                                    "not_surveyed", None, None, None, None, None, None, None,
                                    None, "no row reports this feature"])
        else:
            _write_report_xlsx(report, tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def _xlsx_text(cell, value) -> None:
    """Store ``value`` in an openpyxl cell, never as a formula."""
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def _write_report_xlsx(report: SurveyReport, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "report"
    ws.append(list(REPORT_COLUMNS))
    for c in ws[1]:
        c.font = Font(bold=True)
    fills = {s: PatternFill("solid", fgColor=col.lstrip("#"))
             for s, col in STATUS_COLORS.items()}
    status_col = REPORT_COLUMNS.index("status") + 1
    for rec in _report_records(report):
        ws.append([None] * len(rec))
        rown = ws.max_row
        for j, v in enumerate(rec, start=1):
            _xlsx_text(ws.cell(row=rown, column=j), v)
        c = ws.cell(row=rown, column=status_col)
        if c.value in fills:
            c.fill = fills[c.value]
            c.font = Font(color="FFFFFF", bold=True)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for col, width in zip("ABCDEFGHIJKLMNOP", (6, 14, 24, 14, 22, 24, 11, 11, 12, 12, 12, 12, 10, 12, 24, 60)):
        ws.column_dimensions[col].width = width
    ns = wb.create_sheet("not surveyed")
    ns.append(["feature", "name", "district", "categories"])
    for c in ns[1]:
        c.font = Font(bold=True)
    for fid in report.not_surveyed:
        f = report.features.get(fid)
        vals = [fid, f.name if f else None, f.district if f else None,
                ", ".join(f.categories) if f else None]
        ns.append([None] * 4)
        for j, v in enumerate(vals, start=1):
            _xlsx_text(ns.cell(row=ns.max_row, column=j), v)
    info = wb.create_sheet("summary")
    summary = [("source", report.source), ("crs", report.crs.chosen),
               ("crs status", report.crs.status),
               ("crs confidence", report.crs.confidence),
               ("tolerance_m", report.tolerance_m),
               ("plans", ", ".join(report.plans or []) or "all"),
               *[(k, v) for k, v in report.counts.items()],
               *[("message", m) for m in report.messages]]
    for k, v in summary:
        info.append([None, None])
        _xlsx_text(info.cell(row=info.max_row, column=1), k)
        _xlsx_text(info.cell(row=info.max_row, column=2), v)
    wb.save(path)


def format_report(report: SurveyReport, *, limit: int = 200) -> str:
    c = report.counts
    lines = [f"Survey {report.source}: {len(report.rows)} rows — "
             f"{c['confirmed']} confirmed, {c['moved']} moved, {c['unmatched']} unmatched, "
             f"{c['invalid']} invalid; {c['not_surveyed']} features not surveyed "
             f"(tolerance {report.tolerance_m:g} m)"]
    crs = report.crs
    conf = "" if crs.confidence is None else f", confidence {crs.confidence:.0%}"
    lines.append(f"CRS: {crs.chosen} ({crs.status}{conf})")
    lines += [f"note: {m}" for m in report.messages]
    shown = 0
    for r in report.rows:
        if r.status == "confirmed":
            continue
        if shown >= limit:
            rest = sum(1 for x in report.rows if x.status != "confirmed") - shown
            lines.append(f"… {rest} more rows (use --json or --report for all)")
            break
        shown += 1
        lines.append(f"  row {r.row:>5} [{r.where}] {r.status:<9} {r.name or r.fid or '-'}"
                     f"{' → ' + r.feature if r.feature else ''}: {r.message}")
    if report.not_surveyed:
        names = [f"{fid} ({report.features[fid].name})" for fid in report.not_surveyed[:limit]]
        lines.append(f"not surveyed ({len(report.not_surveyed)}): " + ", ".join(names)
                     + (" …" if len(report.not_surveyed) > limit else ""))
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI

def _split_list(values: Sequence[str] | None) -> list[str] | None:
    if not values:
        return None
    out: list[str] = []
    for v in values:
        out += [x.strip() for x in re.split(r"[,，\s]+", v) if x.strip()]
    return out or None


def _load_atlas():
    try:
        from planatlas.layers.atlas import load_atlas
    except ImportError as exc:
        raise SystemExit(f"planatlas: cannot load the atlas ({exc})") from None
    return load_atlas()


def _select_features(plans: list[str] | None, categories: list[str] | None = None,
                     districts: list[str] | None = None):
    atlas = _load_atlas()
    if plans:
        unknown = [p for p in plans if p not in atlas.plans]
        if unknown:
            raise SystemExit(f"planatlas: unknown plan(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(atlas.plans))}")
    if categories:
        bad = [c for c in categories if c not in CATEGORIES]
        if bad:
            raise SystemExit(f"planatlas: unknown categor(ies) {', '.join(bad)}; "
                             f"known: {', '.join(CATEGORIES)}")
    feats = atlas.features_for(plans=plans, categories=categories)
    if districts:
        keys = [normalize_name(d) for d in districts]
        feats = [f for f in feats if any(k and k in normalize_name(f.district or "") for k in keys)]
    return atlas, feats


def _parse_rows(spec: str | None) -> list[int] | None:
    if not spec:
        return None
    out: list[int] = []
    for part in re.split(r"[,\s]+", spec.strip()):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise SystemExit(f"planatlas: bad --rows item {part!r}; use e.g. 3,5-9")
        a = int(m.group(1))
        b = int(m.group(2) or a)
        out += list(range(a, b + 1))
    return out


def _add_check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="survey file: CSV (UTF-8/GBK), XLSX, GPX, KML/KMZ")
    p.add_argument("--plan", action="append", metavar="P[,P…]",
                   help="check against features of these plans (default: all)")
    p.add_argument("--crs", default="auto",
                   choices=("auto", "wgs84", "gcj02", "bd09", "cgcs2000"),
                   help="coordinate system of the file (default: detect)")
    p.add_argument("--tolerance-m", type=float, default=200.0,
                   help="distance within which a site is confirmed (default 200 m)")


def _run_check(args) -> SurveyReport:
    plans = _split_list(args.plan)
    atlas, feats = _select_features(plans)
    others = [f for f in atlas.features.values()] if plans else []
    if args.tolerance_m <= 0:
        raise SystemExit("planatlas: --tolerance-m must be positive")
    return check_survey(args.file, feats, crs=args.crs, tolerance_m=args.tolerance_m,
                        plans=plans, other_features=others)


def _cmd_check(args) -> int:
    try:
        report = _run_check(args)
    except SurveyFormatError as exc:
        print(f"planatlas check-sites: {exc}", file=sys.stderr)
        return 2
    if args.report:
        try:
            out = write_report(report, args.report)
        except (OSError, ValueError) as exc:
            print(f"planatlas check-sites: cannot write report: {exc}", file=sys.stderr)
            return 2
        print(f"report written to {out}", file=sys.stderr)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(format_report(report, limit=args.limit))
    return 0


def _cmd_accept(args) -> int:
    from planatlas.layers import usergaz

    try:
        report = _run_check(args)
    except SurveyFormatError as exc:
        print(f"planatlas accept-survey: {exc}", file=sys.stderr)
        return 2
    statuses = tuple(_split_list([args.status]) or ())
    try:
        result = usergaz.accept(report, rows=_parse_rows(args.rows), statuses=statuses,
                                dry_run=args.dry_run)
    except ValueError as exc:
        print(f"planatlas accept-survey: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        verb = "would accept" if args.dry_run else "accepted"
        print(f"{verb} {len(result['accepted'])} feature(s) from {Path(args.file).name}"
              + ("" if args.dry_run else f" as operation {result['op']} (undo: planatlas undo-accept)"))
        for a in result["accepted"]:
            print(f"  {a['feature']:<28} {a['name']}  row {a['row']} ({a['survey_status']}, "
                  f"{a['distance_m']:.0f} m)")
        for s in result["skipped"]:
            print(f"  skipped row {s['row']}: {s['reason']}")
        if not args.dry_run:
            print(f"user gazetteer: {result['path']}")
    return 0


def _cmd_undo(args) -> int:
    from planatlas.layers import usergaz

    try:
        op = usergaz.undo()
    except (ValueError, OSError) as exc:
        print(f"planatlas undo-accept: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(op, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(f"undid operation {op['op']} ({op['kind']} of {op['n_features']} feature(s) "
              f"from {op['source']}, {op['created_at']})")
    return 0


def _cmd_sitelist(args) -> int:
    from planatlas.layers import sitelist

    plans = _split_list(args.plan)
    fmt = args.format or Path(args.out).suffix.lstrip(".").lower()
    if fmt not in ("pdf", "xlsx"):
        print("planatlas sitelist: --format must be pdf or xlsx", file=sys.stderr)
        return 2
    atlas, feats = _select_features(plans, _split_list(args.category), _split_list(args.district))
    if not feats:
        print("planatlas sitelist: no features match the selection", file=sys.stderr)
        return 2
    title = sitelist.list_title(atlas, plans)
    if fmt == "xlsx":
        out = sitelist.write_sitelist_xlsx(feats, args.out, crs=args.crs, title=title)
    else:
        try:
            from planatlas.desktop import sitelist as dsitelist  # needs Qt
        except ImportError as exc:
            print(f"planatlas sitelist: PDF output needs Qt (PySide6), which is not available "
                  f"({exc}); use --format xlsx, or install PySide6", file=sys.stderr)
            return 2
        out = dsitelist.write_sitelist_pdf(feats, args.out, crs=args.crs, title=title, atlas=atlas)
    n_d = len({f.district for f in feats})
    print(f"site list with {len(feats)} sites in {n_d} district(s) written to {out}")
    return 0


def add_site_commands(subparsers) -> None:
    """Register check-sites, accept-survey, undo-accept and sitelist on an argparse subparsers
    object. Each subcommand sets ``func`` (``args -> int`` exit code)."""
    p = subparsers.add_parser("check-sites", help="check a field survey against the gazetteer",
                              description="Match each survey row to a feature by name or id, "
                                          "detect the coordinate system, and report confirmed / "
                                          "moved / unmatched / invalid rows and sites not surveyed.")
    _add_check_args(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--report", metavar="FILE.csv|FILE.xlsx", help="also write the report to a file")
    p.add_argument("--limit", type=int, default=200, help="rows listed in the text output")
    p.set_defaults(func=_cmd_check)

    p = subparsers.add_parser("accept-survey", help="accept confirmed/moved survey rows into the "
                                                    "user gazetteer (undoable)")
    _add_check_args(p)
    p.add_argument("--rows", help="only these data rows, e.g. 3,5-9 (default: all confirmed and moved)")
    p.add_argument("--status", default="confirmed,moved",
                   help="row statuses to accept (default confirmed,moved)")
    p.add_argument("--dry-run", action="store_true", help="show what would be accepted")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_accept)

    p = subparsers.add_parser("undo-accept", help="undo the last accept-survey")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_undo)

    p = subparsers.add_parser("sitelist", help="printable field checklist of sites (PDF or XLSX)")
    p.add_argument("--plan", action="append", metavar="P[,P…]")
    p.add_argument("--category", action="append", metavar="C[,C…]",
                   help=f"one of {', '.join(CATEGORIES)}")
    p.add_argument("--district", action="append", metavar="D[,D…]",
                   help="only districts whose name contains this")
    p.add_argument("--crs", default="wgs84", choices=("wgs84", "gcj02", "bd09", "cgcs2000"),
                   help="coordinate system of the printed coordinates (default wgs84)")
    p.add_argument("--format", choices=("pdf", "xlsx"), help="default: from --out's suffix")
    p.add_argument("--out", required=True, help="output file")
    p.set_defaults(func=_cmd_sitelist)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (``python -m layers.sites …``) with the same subcommands."""
    parser = argparse.ArgumentParser(prog="planatlas")
    sub = parser.add_subparsers(dest="command", required=True)
    add_site_commands(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
