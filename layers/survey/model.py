"""Records of a survey check: row results, the coordinate-system choice, the report; feature anchors."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from planatlas.layers.errors import Cancelled
from planatlas.layers.model import Feature

__all__ = ["ROW_STATUSES", "STATUS_COLORS", "RowResult", "CrsChoice", "SurveyReport", "CheckCancelled",
           "feature_anchor"]

ROW_STATUSES = ("confirmed", "moved", "unmatched", "invalid")
STATUS_COLORS = {  # used by the desktop layer, the XLSX report and the dialog
    "confirmed": "#2e7d32", "moved": "#ef6c00", "unmatched": "#6d4c9f", "invalid": "#c62828",
}


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

    def nearest(self, lon: np.ndarray, lat: np.ndarray, fidx: np.ndarray, *,
                chunk: int = 65536):
        """Distance (m), azimuth from feature to point, and nearest feature point per pair.
        Pairs with area/line features are done ``chunk`` at a time: each needs shapely
        objects (a point, a shortest line), and a million of them at once cost ~400 MB."""
        import shapely

        tlon = self.px[fidx].copy()
        tlat = self.py[fidx].copy()
        nonpt = np.flatnonzero(~self.is_point[fidx])
        for a in range(0, len(nonpt), chunk):
            rows = nonpt[a:a + chunk]
            sel = fidx[rows]
            k = self.scale[sel]
            pts = shapely.points(lon[rows] * k, lat[rows])
            lines = shapely.shortest_line(self.scaled[sel], pts)
            xy = shapely.get_coordinates(shapely.get_point(lines, 0))
            if len(xy) == len(sel):
                tlon[rows] = xy[:, 0] / k
                tlat[rows] = xy[:, 1]
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
    rows: Sequence[RowResult]          # a results.ReportRows: RowResults made when read
    not_surveyed: list[str]
    tolerance_m: float
    plans: list[str] | None
    features: dict[str, Feature]
    messages: list[str] = field(default_factory=list)
    survey_date: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        if hasattr(self.rows, "counts"):               # results kept as columns
            c = self.rows.counts()
        else:
            c = Counter(r.status for r in self.rows)
        return {s: c.get(s, 0) for s in ROW_STATUSES} | {"not_surveyed": len(self.not_surveyed)}

    def row(self, n: int) -> RowResult:
        hit = self.rows.find(n) if hasattr(self.rows, "find") else \
            next((r for r in self.rows if r.row == n), None)
        if hit is None:
            raise KeyError(f"no data row {n} in {self.source}")
        return hit

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "crs": self.crs.to_dict(), "tolerance_m": self.tolerance_m,
            "plans": self.plans, "counts": self.counts, "messages": list(self.messages),
            "rows": [r.to_dict() for r in self.rows], "not_surveyed": list(self.not_surveyed),
        }


class CheckCancelled(Cancelled):
    """Raised by :func:`check_survey` when its ``cancel`` callback returns True."""
