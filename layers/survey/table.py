"""A survey as columns: what :mod:`.check` works on, filled chunk by chunk while a file is read.

A million rows cost a few arrays, not a million :class:`SurveyRow` objects: coordinates are
float arrays, text columns (name, id, notes, verdict, date) integer codes into the distinct
values (survey names repeat: the same sites, visited again and again), reasons and reading
remarks a sparse object column. :meth:`SurveyTable.row` gives back the :class:`SurveyRow` of
one row when something wants it.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from .rows import SurveyRow

__all__ = ["SurveyTable", "TEXT_FIELDS"]

TEXT_FIELDS = ("name", "fid", "notes", "status", "date")


class _Codes:
    """Distinct values of one text column and each row's code (-1 = None). A column whose
    values hardly repeat (a running number in an id column) is kept as the strings
    themselves (``raw``): a dictionary of a million distinct strings costs more than they do."""

    def __init__(self):
        self.values: list[str] = []
        self.lookup: dict[str, int] = {}
        self.chunks: list[np.ndarray] = []
        self.raw = False
        self.seen = 0

    def encode(self, values: list[str | None]) -> np.ndarray:
        lookup, vals = self.lookup, self.values
        lookup.setdefault(None, -1)
        for v in dict.fromkeys(values):            # new values, in order of appearance
            if v not in lookup:
                lookup[v] = len(vals)
                vals.append(v)
        return np.fromiter(map(lookup.__getitem__, values), np.int32, len(values))

    def add(self, values: Iterable[str | None]) -> None:
        values = list(values)
        self.seen += len(values)
        if self.raw:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            self.chunks.append(arr)
            return
        self.chunks.append(self.encode(values))
        if self.seen >= 20000 and len(self.values) > 0.3 * self.seen:
            table = np.array(self.values + [None], dtype=object)
            self.chunks = [table[c] for c in self.chunks]
            self.raw, self.values, self.lookup = True, [], {}


class SurveyTable:
    """Columns of a survey (see the module docstring). Add rows with :meth:`add_rows` or
    :meth:`add_columns`, then call :meth:`finish` once; afterwards ``lon``, ``lat``, ``row``,
    ``error``, ``hint``, ``message`` and ``codes[field]`` / ``values[field]`` are arrays."""

    def __init__(self, source: str = "survey", where_fmt: str = "line {loc}"):
        self.source = source
        self.where_fmt = where_fmt          # for rows whose place is a number (CSV lines)
        self._codes = {f: _Codes() for f in TEXT_FIELDS}
        self._num: dict[str, list[np.ndarray]] = {k: [] for k in ("row", "lon", "lat", "hint")}
        self._obj: dict[str, list[np.ndarray]] = {k: [] for k in ("error", "message", "where")}
        self.n = 0
        self.finished = False

    def __len__(self) -> int:
        return self.n

    # ------------------------------------------------------------------ filling
    def add_rows(self, rows: Iterable[SurveyRow]) -> None:
        rows = list(rows)
        if not rows:
            return
        for f in TEXT_FIELDS:
            self._codes[f].add(getattr(r, f) for r in rows)
        self._num["row"].append(np.fromiter((r.row for r in rows), np.int64, len(rows)))
        self._num["lon"].append(np.fromiter((r.lon for r in rows), np.float64, len(rows)))
        self._num["lat"].append(np.fromiter((r.lat for r in rows), np.float64, len(rows)))
        self._num["hint"].append(np.fromiter((r.hint_swapped for r in rows), bool, len(rows)))
        for k, attr in (("error", "error"), ("message", "message"), ("where", "where")):
            arr = np.empty(len(rows), dtype=object)
            arr[:] = [getattr(r, attr) for r in rows]
            self._obj[k].append(arr)
        self.n += len(rows)

    def add_columns(self, *, row: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                    hint: np.ndarray, error: list, message: list, where: list,
                    text: dict[str, list]) -> None:
        """A chunk of rows given column-wise (the CSV reader's fast path)."""
        k = len(row)
        if not k:
            return
        for f in TEXT_FIELDS:
            self._codes[f].add(text.get(f) or [None] * k)
        self._num["row"].append(np.asarray(row, dtype=np.int64))
        self._num["lon"].append(np.asarray(lon, dtype=np.float64))
        self._num["lat"].append(np.asarray(lat, dtype=np.float64))
        self._num["hint"].append(np.asarray(hint, dtype=bool))
        for key, vals in (("error", error), ("message", message), ("where", where)):
            arr = np.empty(k, dtype=object)
            arr[:] = vals
            self._obj[key].append(arr)
        self.n += k

    def finish(self) -> "SurveyTable":
        if self.finished:
            return self
        empty = {"row": np.int64, "lon": np.float64, "lat": np.float64, "hint": bool}
        for key, parts in self._num.items():
            setattr(self, key, np.concatenate(parts) if parts else np.zeros(0, empty[key]))
        for key, parts in self._obj.items():
            setattr(self, key, np.concatenate(parts) if parts else np.zeros(0, object))
        self.raw = {f: (np.concatenate(c.chunks) if c.chunks else np.zeros(0, object))
                    for f, c in self._codes.items() if c.raw}
        self.codes = {f: (np.concatenate(c.chunks) if c.chunks else np.zeros(0, np.int32))
                      for f, c in self._codes.items() if not c.raw}
        self.values = {f: c.values for f, c in self._codes.items()}
        del self._num, self._obj
        self.finished = True
        return self

    # ------------------------------------------------------------------ reading back
    def where_text(self, i: int) -> str:
        w = self.where[i]
        return w if isinstance(w, str) else self.where_fmt.format(loc=w)

    def text(self, field: str, i: int) -> str | None:
        if field in self.raw:
            return self.raw[field][i]
        c = int(self.codes[field][i])
        return self.values[field][c] if c >= 0 else None

    def column(self, field: str, a: int = 0, b: int | None = None) -> np.ndarray:
        """Rows ``a:b`` of a text column as an object array (None where empty)."""
        if field in self.raw:
            return self.raw[field][a:b]
        table = np.array(self.values[field] + [None], dtype=object)
        return table[self.codes[field][a:b]]              # code -1: the final None

    def row_of(self, i: int) -> SurveyRow:
        """The SurveyRow of row ``i`` (0-based position in the table)."""
        return SurveyRow(row=int(self.row[i]), where=self.where_text(i), name=self.text("name", i),
                         fid=self.text("fid", i), lon=float(self.lon[i]), lat=float(self.lat[i]),
                         error=self.error[i], notes=self.text("notes", i),
                         status=self.text("status", i), date=self.text("date", i),
                         hint_swapped=bool(self.hint[i]), message=self.message[i])

    @classmethod
    def from_rows(cls, rows: Iterable[SurveyRow], source: str = "survey",
                  chunk: int = 20000, tick=None) -> "SurveyTable":
        t = cls(source)
        buf: list[SurveyRow] = []
        for sr in rows:
            buf.append(sr)
            if len(buf) >= chunk:
                t.add_rows(buf)
                buf = []
                if tick is not None:
                    tick(t.n)
        t.add_rows(buf)
        return t.finish()

