"""Checking a survey against the gazetteer: match rows, detect the CRS, measure, classify."""
from __future__ import annotations

import datetime as _dt
import math
import os
import re
import unicodedata
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from planatlas.layers.model import Feature
from .crs_detect import _detect_crs, _in_china
from .model import CheckCancelled, RowResult, SurveyReport, _FeatureTable
from .names import NameIndex
from .read import SurveyFormatError, SurveyRow, iter_survey

__all__ = ["check_survey", "check_rows"]

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
    :class:`planatlas.layers.survey.SurveyFormatError`.
    """
    p = Path(path)
    report = check_rows(iter_survey(p, cancel=cancel), features, crs=crs, tolerance_m=tolerance_m, plans=plans,
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
        if i and i % 20000 == 0:
            tick(0.9 + 0.1 * i / n, f"classified {i:,} rows")
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
