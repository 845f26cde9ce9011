"""Checking a survey against the gazetteer: match rows, detect the CRS, measure, classify.

Everything is done on columns (:class:`.table.SurveyTable`): names are looked up once per
distinct (name, id) pair, validity, swaps, CRS conversion, distances and statuses are array
operations, and the row results are built only when they are read (:mod:`.results`).
"""
from __future__ import annotations

import datetime as _dt
import math
import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from planatlas.layers.model import Feature
from .crs_detect import _detect_crs, _in_china
from .model import CheckCancelled, SurveyReport, _FeatureTable
from .names import NameIndex
from .read import SurveyFormatError, SurveyRow, iter_survey
from .results import (
    INVALID, MSG_HINT, MSG_OUTSIDE, MSG_SWAP_ALL, MSG_SWAP_ROW, UNMATCHED, CONFIRMED, MOVED,
    ReportRows, iso_date,
)
from .table import SurveyTable

__all__ = ["check_survey", "check_rows", "check_table", "read_table"]


def read_table(path: str | os.PathLike, cancel: Callable[[], bool] | None = None,
               tick: Callable[[int], None] | None = None) -> SurveyTable:
    """A survey file as columns: CSV read chunk by chunk (:mod:`.read_columns`), other formats
    row by row (:func:`.read.iter_survey`)."""
    from .guard import Guard
    from .read import survey_kind
    from .read_columns import table_from_csv

    p = Path(path)
    kind = survey_kind(p)                  # the same checks, in the same words, as iter_survey
    if kind != "csv":
        return SurveyTable.from_rows(iter_survey(p, cancel), str(p), tick=tick)
    try:
        return table_from_csv(p, Guard(p, cancel), tick)
    except UnicodeDecodeError as exc:
        raise SurveyFormatError(f"{p}: cannot decode ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise SurveyFormatError(f"{p}: cannot read ({exc.strerror or exc})") from None


def check_survey(path: str | os.PathLike, features: Iterable[Feature], *, crs: str = "auto",
                 tolerance_m: float = 200.0, plans: Sequence[str] | None = None,
                 other_features: Iterable[Feature] = (),
                 progress: Callable[[float, str], None] | None = None,
                 cancel: Callable[[], bool] | None = None) -> SurveyReport:
    """Check a survey file against ``features`` (see the module docstring).

    ``other_features`` (e.g. features of plans not selected) are only used to explain
    unmatched rows. ``progress(fraction, text)`` is called now and then; ``cancel()``
    returning True aborts with :class:`CheckCancelled`. File-level problems raise
    :class:`planatlas.layers.survey.SurveyFormatError`.
    """
    p = Path(path)

    def read_tick(n: int) -> None:
        if cancel is not None and cancel():
            raise CheckCancelled("survey check cancelled")
        if progress is not None:
            progress(0.0, f"read {n:,} rows")

    if cancel is not None and cancel():
        raise CheckCancelled("survey check cancelled")
    table = read_table(p, cancel, read_tick)
    report = check_table(table, features, crs=crs, tolerance_m=tolerance_m, plans=plans,
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
    """Check already-read survey rows (streamed into columns); see :func:`check_survey`."""
    def tick(n: int) -> None:
        if cancel is not None and cancel():
            raise CheckCancelled("survey check cancelled")
        if progress is not None:
            progress(0.0, f"read {n:,} rows")

    if progress is not None:
        progress(0.0, "reading")
    table = SurveyTable.from_rows(rows, source, tick=tick)
    return check_table(table, features, crs=crs, tolerance_m=tolerance_m, plans=plans,
                       other_features=other_features, progress=progress, cancel=cancel,
                       source=source)


def _match(table: SurveyTable, index: NameIndex, fidx: dict[str, int]):
    """Candidate (row, feature) pairs, as NameIndex.lookup(name, id) gives them, with one
    lookup per distinct id and per distinct name (not one per row)."""
    n = len(table)
    n_feat = len(fidx)
    # an id naming a feature decides (lookup's first rule); else the name does
    by_id = np.full(n, -1, dtype=np.int64)
    id_lower = index._id_lower

    def resolve(v) -> int:
        real = id_lower.get(str(v).strip().casefold())
        return fidx[real] if real is not None else -1

    if "fid" in table.raw:                 # ids that hardly repeat: one lookup per row
        col = table.raw["fid"]
        for i in np.flatnonzero(np.not_equal(col, None)).tolist():
            by_id[i] = resolve(col[i])
    else:                                  # one lookup per distinct id
        per_code = np.array([resolve(v) for v in table.values["fid"]] + [-1], dtype=np.int64)
        by_id = per_code[table.codes["fid"]]
    if "name" in table.raw:                # names that hardly repeat: one lookup per row
        col = table.raw["name"]
        name_vals = col.tolist() + [None]
        name_code = np.arange(n, dtype=np.int64)
    else:
        name_vals = table.values["name"] + [None]
        name_code = np.where(table.codes["name"] < 0, len(name_vals) - 1, table.codes["name"])
    # candidate lists: one per distinct name, then one per feature (rows matched by id)
    cand_lists: list[list[int]] = []
    notes = []
    for v in name_vals:
        cands, note = index.lookup(v, None) if v else ([], None)
        cand_lists.append([fidx[c] for c in cands])
        notes.append(note)
    cand_lists += [[k] for k in range(n_feat)]
    notes += [None] * n_feat
    u = np.where(by_id >= 0, len(name_vals) + by_id, name_code).astype(np.int64)
    counts = np.fromiter((len(c) for c in cand_lists), np.int64, len(cand_lists))
    start = np.zeros(len(cand_lists) + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    flat = np.fromiter((k for c in cand_lists for k in c), np.int64, int(start[-1]))
    per_row = counts[u]
    prow = np.repeat(np.arange(n, dtype=np.int64), per_row)
    offs = np.arange(len(prow), dtype=np.int64) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    pfeat = flat[np.repeat(start[u], per_row) + offs] if len(prow) else np.zeros(0, np.int64)
    note_arr = np.empty(len(notes), dtype=object)
    note_arr[:] = notes
    return prow, pfeat, per_row.astype(np.int32), note_arr[u]


def check_table(table: SurveyTable, features: Iterable[Feature], *, crs: str = "auto",
                tolerance_m: float = 200.0, plans: Sequence[str] | None = None,
                other_features: Iterable[Feature] = (),
                progress: Callable[[float, str], None] | None = None,
                cancel: Callable[[], bool] | None = None, source: str = "survey") -> SurveyReport:
    """Check a survey given as columns; see :func:`check_survey`."""
    from planatlas.layers import crs as crsmod

    if not (tolerance_m > 0 and math.isfinite(tolerance_m)):
        raise ValueError(f"tolerance must be a positive number of metres, got {tolerance_m!r}")
    req = (crs or "auto").strip().lower()
    if req not in ("auto", *crsmod.CRS_NAMES):
        raise ValueError(f"unknown CRS {crs!r}; expected auto or one of {', '.join(crsmod.CRS_NAMES)}")
    feats = list(features)
    index = NameIndex(feats)
    others = NameIndex([f for f in other_features if f.id not in index.by_id])
    ftable = _FeatureTable(feats)

    def tick(frac: float, text: str) -> None:
        if cancel is not None and cancel():
            raise CheckCancelled("survey check cancelled")
        if progress is not None:
            progress(frac, text)

    t = table.finish()
    n = len(t)
    if n == 0:
        raise SurveyFormatError(f"{source}: no data rows")
    tick(0.4, f"read {n:,} rows; matching")
    lon, lat = t.lon.copy(), t.lat.copy()
    reasons = t.error.copy()
    flags = np.zeros(n, dtype=np.uint8)          # which reading remarks a row gets (bits)
    file_messages: list[str] = []

    # ---- validity, swapped columns
    parsed = np.fromiter((r is None for r in reasons), bool, n)
    hint = t.hint.copy()
    if hint.any():
        lon[hint], lat[hint] = lat[hint].copy(), lon[hint].copy()
        flags[hint] |= MSG_HINT
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
        flags[swap_all & ~back] |= MSG_SWAP_ALL
    else:
        lon[swapped_ok], lat[swapped_ok] = lat[swapped_ok].copy(), lon[swapped_ok].copy()
        flags[swapped_ok] |= MSG_SWAP_ROW
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(lon) & np.isfinite(lat)
        bad = parsed & (~finite | (np.abs(lat) > 90) | (np.abs(lon) > 180) | ((lon == 0) & (lat == 0)))
    for i in np.flatnonzero(bad).tolist():
        x, y = lon[i], lat[i]
        if not (math.isfinite(x) and math.isfinite(y)):
            reasons[i] = "coordinates are not numbers"
        elif abs(y) > 90:
            reasons[i] = f"latitude {y:g} is outside -90..90"
        elif abs(x) > 180:
            reasons[i] = f"longitude {x:g} is outside -180..180"
        else:
            reasons[i] = "coordinates are 0,0 (no GPS fix?)"
    valid = parsed & ~bad
    flags[valid & ~_in_china(lon, lat)] |= MSG_OUTSIDE
    tick(0.5, "matching names")

    # ---- name matching: (row, feature) candidate pairs, one lookup per distinct name
    prow, pfeat, n_cands, match_note = _match(t, index, ftable.index)
    tick(0.7, "detecting coordinate system")

    # ---- CRS
    single_pairs = np.flatnonzero(valid[prow] & (n_cands[prow] == 1)) if prow.size else np.zeros(0, int)
    choice = _detect_crs(lon, lat, prow, pfeat, single_pairs, ftable, req)
    if choice.message:
        file_messages.append(choice.message)
    tick(0.8, f"converting from {choice.chosen}")
    wlon = np.full(n, np.nan)
    wlat = np.full(n, np.nan)
    if valid.any():
        x, y = crsmod.convert(lon[valid], lat[valid], choice.chosen, "wgs84")
        wlon[valid], wlat[valid] = x, y

    # ---- distances for all candidate pairs; best candidate per row
    best_feat = np.full(n, -1, dtype=np.int64)
    best_dist = np.full(n, np.nan)
    best_az = np.full(n, np.nan)
    if prow.size:
        pv = valid[prow]
        dist = np.full(prow.size, np.inf)
        az = np.full(prow.size, np.nan)
        if pv.any():
            d, a, _, _ = ftable.nearest(wlon[prow[pv]], wlat[prow[pv]], pfeat[pv])
            dist[pv] = d
            az[pv] = a
        order = np.lexsort((dist, prow))
        first = order[np.r_[True, prow[order][1:] != prow[order][:-1]]]
        best_feat[prow[first]] = pfeat[first]
        best_dist[prow[first]] = np.where(np.isfinite(dist[first]), dist[first], np.nan)
        best_az[prow[first]] = az[first]
    tick(0.9, "classifying")

    # ---- statuses
    invalid = np.fromiter((r is not None for r in reasons), bool, n)
    status = np.where(invalid, INVALID, np.where(best_feat < 0, UNMATCHED,
                      np.where(best_dist <= float(tolerance_m), CONFIRMED, MOVED))).astype(np.uint8)
    matched = (status == CONFIRMED) | (status == MOVED)
    reported = set(np.unique(best_feat[matched]).tolist())
    not_surveyed = [f.id for k, f in enumerate(feats) if k not in reported]
    sample = t.codes["date"][: 2000]
    dates = sorted({d for d in (iso_date(t.values["date"][c]) for c in np.unique(sample[sample >= 0]))
                    if d})
    rows = ReportRows(t, status=status, best_feat=best_feat, best_dist=best_dist, best_az=best_az,
                      wlon=wlon, wlat=wlat, lon=lon, lat=lat, reasons=reasons, flags=flags,
                      n_cands=n_cands, match_note=match_note, feats=feats, others=others,
                      tolerance=float(tolerance_m))
    tick(1.0, "done")
    return SurveyReport(
        source=source, crs=choice, rows=rows, not_surveyed=not_surveyed,
        tolerance_m=float(tolerance_m), plans=list(plans) if plans else None,
        features={f.id: f for f in feats}, messages=file_messages,
        survey_date=dates[-1] if dates else None)
