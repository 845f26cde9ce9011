"""Survey files read straight into a :class:`.table.SurveyTable`, chunk by chunk.

CSV (the format of large surveys: GPS loggers, phone apps, exports) goes through the same
decoding, delimiter sniffing, line limits and header recognition as :func:`.read.iter_survey`,
then 8,192 data rows at a time are turned into columns: text cells stripped in one pass per
column, verdicts normalised once per distinct value, plain decimal coordinates converted as
arrays. A row the fast path cannot vouch for — any coordinate that is not a plain finite
decimal (DMS, hemisphere letters, full-width digits, a 坐标 column, errors) — goes through the
row reader's own :func:`.read_table._row_from_cells`, so every row comes out exactly as
``iter_survey`` would give it (``tests/test_survey_columns.py`` compares the two on the fuzz
cases). Other formats are read row by row into the table.
"""
from __future__ import annotations

import csv
import math
from itertools import compress
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .guard import Guard
from .read_table import _Lines, _compile, _find_header, _row_from_cells, csv_encoding_and_delimiter
from .rows import SurveyFormatError
from .table import SurveyTable
from .values import _ticked, normalize_verdict

__all__ = ["table_from_csv", "CHUNK"]

CHUNK = 8192
_REPLACED = "\ufffd"


def _floats(strs: list) -> tuple[np.ndarray, np.ndarray]:
    """Values of plain decimal strings (Python's float(), as parse_coord's first try) and which
    are finite numbers (others: False)."""
    try:
        a = np.fromiter(map(float, strs), np.float64, len(strs))
        return a, np.isfinite(a)
    except (ValueError, TypeError):
        a = np.zeros(len(strs))
        ok = np.zeros(len(strs), dtype=bool)
        for j, s in enumerate(strs):
            try:
                v = float(s)
            except (ValueError, TypeError):
                continue
            a[j] = v
            ok[j] = math.isfinite(v)
        return a, ok


class _Chunks:
    """Turns chunks of CSV records (lists of str) into table columns, as _row_from_cells."""

    def __init__(self, plan: list[tuple[str, int]], header_at: int, table: SurveyTable,
                 guard: Guard, where_fmt: str):
        self.plan = plan
        self.roles = dict(plan[:-1])
        self.survey = plan[-1][0] == "survey"
        self.header_at = header_at
        self.table, self.guard, self.where_fmt = table, guard, where_fmt
        self._verdict: dict[Any, str | None] = {}

    def _col(self, records: list[list[str]], role: str) -> list[str | None] | None:
        """The role's cells of ``records``, stripped, empty ones None (as _row_from_cells)."""
        idx = self.roles.get(role)
        if idx is None:
            return None
        try:
            cells = list(map(itemgetter(idx), records))            # C loops where they can
        except IndexError:                                          # short records
            return [(r[idx].strip() or None) if idx < len(r) else None for r in records]
        return [v or None for v in map(str.strip, cells)]

    def _verdict_of(self, result, status, found, moved, missing) -> str | None:
        key = (result, status, found, moved, missing)
        v = self._verdict.get(key, self)
        if v is self:
            v = None
            if result is not None or status is not None:
                v = normalize_verdict(result) or normalize_verdict(status)
            if v is None:
                for cell, word in ((found, "found"), (moved, "moved"), (missing, "missing")):
                    if cell is not None and _ticked(cell):
                        v = word
                        break
            if len(self._verdict) < 100_000:
                self._verdict[key] = v
        return v

    def add(self, chunk: list[tuple[list[str], str, int]]) -> None:
        records = [c[0] for c in chunk]
        k = len(records)
        lon_role, lat_role = ("survey_lon", "survey_lat") if self.survey else ("lon", "lat")
        lon_c, lat_c = self._col(records, lon_role), self._col(records, lat_role)
        fast = np.zeros(k, dtype=bool)
        lon = np.full(k, np.nan)
        lat = np.full(k, np.nan)
        if lon_c is not None and lat_c is not None:
            both = [j for j in range(k) if lon_c[j] is not None and lat_c[j] is not None]
            if both:
                a, ok_a = _floats([lon_c[j] for j in both])
                b, ok_b = _floats([lat_c[j] for j in both])
                ok = ok_a & ok_b
                idx = np.asarray(both)[ok]
                fast[idx] = True
                lon[idx], lat[idx] = a[ok], b[ok]
        none = [None] * k
        cols = {f: self._col(records, f) or list(none) for f in ("name", "fid", "notes", "date")}
        flags = [self._col(records, r) or none for r in ("result", "status", "tick_found",
                                                         "tick_moved", "tick_missing")]
        if all(f is none for f in flags):            # no verdict columns: nothing to normalise
            cols["status"] = list(none)
        else:
            cols["status"] = [self._verdict_of(*vals) for vals in zip(*flags)]
        err, hint = list(none), np.zeros(k, dtype=bool)
        keep = fast.copy()
        rows = [c[2] - self.header_at for c in chunk]
        for j in np.flatnonzero(~fast).tolist():     # rows the fast path cannot vouch for
            sr = _row_from_cells(records[j], self.plan, rows[j],
                                 self.where_fmt.format(loc=chunk[j][1]))
            if sr is None:
                self.guard.poll()
                continue
            keep[j] = True
            for f in ("name", "fid", "notes", "date", "status"):
                cols[f][j] = getattr(sr, f)
            err[j], hint[j], lon[j], lat[j] = sr.error, sr.hint_swapped, sr.lon, sr.lat
        sel = keep.tolist()
        if not all(sel):
            cols = {f: list(compress(v, sel)) for f, v in cols.items()}
            err, rows = list(compress(err, sel)), list(compress(rows, sel))
        where = [int(c[1]) for c in compress(chunk, sel)]
        chars = sum(sum(map(len, filter(None, c))) for c in cols.values())
        if any(_REPLACED in "".join(filter(None, cols[f])) for f in ("name", "notes")):
            msg = [True if (nm and _REPLACED in nm) or (nt and _REPLACED in nt) else None
                   for nm, nt in zip(cols["name"], cols["notes"])]
        else:
            msg = [None] * len(rows)
        self.guard.take_many(len(rows), chars,
                             self.where_fmt.format(loc=where[-1]) if where else "")
        self.table.add_columns(row=np.asarray(rows, dtype=np.int64), lon=lon[keep], lat=lat[keep],
                               hint=hint[keep], error=err, message=msg, where=where, text=cols)


def table_from_csv(path: Path, guard: Guard, tick: Callable[[int], None] | None = None,
                   *, chunk: int = CHUNK) -> SurveyTable:
    """A CSV survey read into a table (see the module docstring)."""
    encoding, delimiter = csv_encoding_and_delimiter(path)
    table = SurveyTable(str(path), "line {loc}")
    with open(path, "r", encoding=encoding, errors="replace", newline="") as fh:
        lines = _Lines(fh, path, guard)
        reader = csv.reader(lines, delimiter=delimiter)
        count = [0]

        def rows():
            try:
                for cells in reader:
                    lines.record = 0
                    count[0] += 1
                    yield cells, str(reader.line_num), count[0]
            except csv.Error as exc:
                raise SurveyFormatError(f"{path}: line {reader.line_num}: {exc}") from None

        mapping, header_at = _find_header(path, rows())
        conv = _Chunks(_compile(mapping), header_at, table, guard, "line {loc}")
        buf: list = []
        try:                                  # the data rows: no generator between us and csv
            for cells in reader:
                lines.record = 0
                count[0] += 1
                buf.append((cells, reader.line_num, count[0]))
                if len(buf) >= chunk:
                    conv.add(buf)
                    buf = []
                    if tick is not None:
                        tick(table.n)
        except csv.Error as exc:
            raise SurveyFormatError(f"{path}: line {reader.line_num}: {exc}") from None
        if buf:
            conv.add(buf)
    table.finish()
    # the reading remark, worded as iter_survey words it
    marked = np.fromiter((v is True for v in table.message), bool, len(table.message))
    table.message = np.full(len(marked), None, dtype=object)
    table.message[marked] = f"undecodable bytes replaced (file read as {encoding})"
    return table
