"""Which coordinate system a survey file uses (WGS-84, GCJ-02 or BD-09), decided from the data."""
from __future__ import annotations

import numpy as np

from .model import CrsChoice, _FeatureTable

__all__ = ["DETECT_CRS", "detect_crs"]

DETECT_CRS = ("wgs84", "gcj02", "bd09")
MIN_DETECT_ROWS = 3          # fewer usable matched rows -> "undetermined"
DETECT_SAMPLE = 4000         # rows used for CRS detection (random, seeded)
ABSTAIN_M = 30.0             # rows whose hypotheses differ by less than this do not vote

# China bounding box used for swap detection (generous: includes the South China Sea islands).
_CN_LON = (73.0, 135.5)
_CN_LAT = (3.0, 54.0)


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= _CN_LON[0]) & (lon <= _CN_LON[1]) & (lat >= _CN_LAT[0]) & (lat <= _CN_LAT[1])


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


detect_crs = _detect_crs
