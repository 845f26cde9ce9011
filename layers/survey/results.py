"""Row results of a survey check, kept as columns and made into :class:`RowResult` s on demand.

``report.rows`` is a :class:`ReportRows`: a read-only sequence (``len``, indexing, slicing,
iteration) whose items are the same RowResult records as before, built when read — so a
million-row check holds arrays, not a million objects. ``counts()`` and ``records()`` (the
report file's columns, chunk by chunk) work on the arrays directly.
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Iterator

import numpy as np

from .model import ROW_STATUSES, RowResult

__all__ = ["ReportRows", "iso_date", "CONFIRMED", "MOVED", "UNMATCHED", "INVALID",
           "MSG_HINT", "MSG_SWAP_ALL", "MSG_SWAP_ROW", "MSG_OUTSIDE"]

CONFIRMED, MOVED, UNMATCHED, INVALID = (ROW_STATUSES.index(s) for s in
                                        ("confirmed", "moved", "unmatched", "invalid"))
MSG_HINT, MSG_SWAP_ALL, MSG_SWAP_ROW, MSG_OUTSIDE = 1, 2, 4, 8
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def _compass(az: float) -> str:
    return _COMPASS[int(((az % 360) + 22.5) // 45) % 8]


@lru_cache(maxsize=4096)
def iso_date(value: str | None) -> str | None:
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


class ReportRows(Sequence):
    """The checked rows of a survey (see the module docstring)."""

    def __init__(self, table, *, status, best_feat, best_dist, best_az, wlon, wlat, lon, lat,
                 reasons, flags, n_cands, match_note, feats, others, tolerance: float):
        self.t = table
        self.status, self.best_feat, self.best_dist, self.best_az = status, best_feat, best_dist, best_az
        self.wlon, self.wlat, self.lon, self.lat = wlon, wlat, lon, lat
        self.reasons, self.flags, self.n_cands, self.match_note = reasons, flags, n_cands, match_note
        self.fids = [f.id for f in feats]
        self.fnames = [f.name for f in feats]
        self.others = others
        self.tol = tolerance
        self._other_cache: dict[tuple, str | None] = {}

    def __len__(self) -> int:
        return len(self.status)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._row(k) for k in range(*i.indices(len(self)))]
        n = len(self)
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"row index {i} out of range")
        return self._row(i)

    def __iter__(self) -> Iterator[RowResult]:
        return (self._row(i) for i in range(len(self)))

    def counts(self) -> dict[str, int]:
        c = np.bincount(self.status, minlength=len(ROW_STATUSES))
        return {s: int(c[k]) for k, s in enumerate(ROW_STATUSES)}

    def find(self, number: int) -> RowResult | None:
        hit = np.flatnonzero(self.t.row == int(number))
        return self._row(int(hit[0])) if len(hit) else None

    # ------------------------------------------------------------------ one row
    def _unmatched_head(self, name: str | None, fid: str | None) -> str:
        if not name and not fid:
            return "row has no name or id"
        key = (name, fid)
        if key not in self._other_cache:
            head = None
            if self.others.by_id:
                other, _ = self.others.lookup(name, fid)
                if other:
                    f_o = self.others.by_id[other[0]]
                    head = (f"{f_o.name} ({f_o.id}) is not in the selected plans "
                            f"({', '.join(f_o.plans) or 'no plan'})")
            self._other_cache[key] = head
        return self._other_cache[key] or f"no feature named {name or fid!r}"

    def message(self, i: int) -> str:
        t = self.t
        return self._message(i, int(self.status[i]), t.text("name", i), t.text("fid", i),
                             int(self.best_feat[i]), t.text("status", i), t.message[i])

    def _message(self, i, st, name, fid, fi, reported, read_msg) -> str:
        if st == INVALID:
            head = self.reasons[i]
        elif st == UNMATCHED:
            head = self._unmatched_head(name, fid)
        else:
            d = float(self.best_dist[i])
            if st == CONFIRMED:
                head = f"{d:.0f} m from {self.fnames[fi]}"
            else:
                head = (f"{d:.0f} m {_compass(float(self.best_az[i]))} of {self.fnames[fi]} "
                        f"(tolerance {self.tol:g} m)")
        flags = int(self.flags[i])
        note = self.match_note[i]
        nc = int(self.n_cands[i])
        if not (read_msg or flags or note or nc > 1 or reported):
            return head
        extra = [head]
        if read_msg:
            extra.append(read_msg)
        if flags & MSG_HINT:
            extra.append("hemisphere letters show latitude and longitude were swapped; swapped back")
        if flags & MSG_SWAP_ALL:
            extra.append("lat/lon read swapped")
        if flags & MSG_SWAP_ROW:
            extra.append("latitude and longitude were swapped in this row; swapped back")
        if flags & MSG_OUTSIDE:
            extra.append(f"position {self.lon[i]:.5f},{self.lat[i]:.5f} is outside China")
        if note:
            extra.append(note)
        if fi >= 0 and nc > 1:          # (an invalid row keeps its nearest candidate)
            extra.append(f"{nc} features share this name; nearest chosen")
        if reported:
            extra.append(f"surveyor reported: {reported}")
        return "; ".join(extra)

    def _row(self, i: int) -> RowResult:
        t = self.t
        st = int(self.status[i])
        ok = st != INVALID
        matched = st in (CONFIRMED, MOVED)
        fi = int(self.best_feat[i])
        date = t.text("date", i)
        return RowResult(
            int(t.row[i]), t.text("name", i), self.fids[fi] if fi >= 0 else None,
            ROW_STATUSES[st], float(self.best_dist[i]) if matched else None, self.message(i),
            float(self.wlon[i]) if ok else None, float(self.wlat[i]) if ok else None,
            float(self.lon[i]) if ok else None, float(self.lat[i]) if ok else None,
            t.where_text(i), t.text("fid", i), t.text("notes", i), t.text("status", i),
            (iso_date(date) or date) if date else None)

    # ------------------------------------------------------------------ the report file
    def column_chunks(self, features: dict[str, Any], chunk: int = 20000) -> Iterator[list[list]]:
        """The report's columns (report.REPORT_COLUMNS), ``chunk`` rows at a time, made as
        arrays where they can be (the messages row by row)."""
        t = self.t
        n = len(self)
        fid_of = np.array(self.fids + [None], dtype=object)
        fname_of = np.array([features[f].name if f in features else None for f in self.fids]
                            + [None], dtype=object)
        status_of = np.array(ROW_STATUSES, dtype=object)
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            st = self.status[a:b]
            ok = st != INVALID
            matched = (st == CONFIRMED) | (st == MOVED)
            bf = self.best_feat[a:b]

            def num(v, mask, digits):
                r = np.where(mask, np.round(v, digits), np.nan).tolist()
                return [None if x != x else x for x in r]
            name, fid = t.column("name", a, b), t.column("fid", a, b)
            reported, read_msg = t.column("status", a, b), t.message[a:b]
            date = [(iso_date(d) or d) if d else None for d in t.column("date", a, b).tolist()]
            where = [w if isinstance(w, str) else t.where_fmt.format(loc=w)
                     for w in t.where[a:b].tolist()]
            sl, bl, nl, fl, rl, ml = st.tolist(), bf.tolist(), name.tolist(), fid.tolist(), \
                reported.tolist(), read_msg.tolist()
            messages = [self._message(a + k, sl[k], nl[k], fl[k], bl[k], rl[k], ml[k])
                        for k in range(b - a)]
            yield [t.row[a:b].tolist(), where, nl, fl, fid_of[bf].tolist(), fname_of[bf].tolist(),
                   status_of[st].tolist(), num(self.best_dist[a:b], matched, 1),
                   num(self.wlon[a:b], ok, 7), num(self.wlat[a:b], ok, 7),
                   num(self.lon[a:b], ok, 7), num(self.lat[a:b], ok, 7), rl, date,
                   t.column("notes", a, b).tolist(), messages]

    def records(self, features: dict[str, Any], chunk: int = 20000) -> Iterator[list[Any]]:
        """The report's rows, made a chunk at a time."""
        for cols in self.column_chunks(features, chunk):
            yield from (list(r) for r in zip(*cols))
