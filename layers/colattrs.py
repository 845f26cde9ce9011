"""Attribute columns of the columnar feature store (:mod:`planatlas.layers.columns`): strings
as one UTF-8 buffer plus offsets (the Arrow layout) and categories as integer codes — no
Python object per value."""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ["StringColumn", "Categorical", "take_attr", "attr_nbytes", "concat_attr"]


class StringColumn:
    """Strings as one UTF-8 byte buffer plus ``n + 1`` offsets (the Arrow layout)."""
    __slots__ = ("offsets", "data")

    def __init__(self, offsets: np.ndarray, data: np.ndarray):
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.data = np.asarray(data, dtype=np.uint8)

    @classmethod
    def from_list(cls, values: Iterable[Any]) -> "StringColumn":
        enc = [("" if v is None else str(v)).encode("utf-8") for v in values]
        offsets = np.zeros(len(enc) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in enc], out=offsets[1:])
        return cls(offsets, np.frombuffer(b"".join(enc), dtype=np.uint8).copy())

    @classmethod
    def from_arrow(cls, arr) -> "StringColumn":
        """A pyarrow (large_)string array or chunked array (nulls become "")."""
        import pyarrow as pa
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            arr = arr.fill_null("")
            off_t = np.int32 if pa.types.is_string(arr.type) else np.int64
            bufs = arr.buffers()
            offsets = np.frombuffer(bufs[1], dtype=off_t, count=len(arr) + 1 + arr.offset)
            offsets = offsets[arr.offset:].astype(np.int64)
            data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else \
                np.zeros(0, np.uint8)
            data = data[offsets[0]:offsets[-1]].copy()
            return cls(offsets - offsets[0], data)
        return cls.from_list(arr.to_pylist())

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            n = len(self)
            if i < 0:
                i += n
            if not 0 <= i < n:
                raise IndexError(f"row {i} out of range (0..{n - 1})")
            return self.data[self.offsets[i]:self.offsets[i + 1]].tobytes().decode("utf-8")
        return self.take(np.arange(len(self))[i])

    def __iter__(self):
        raw = self.data.tobytes()
        off = self.offsets.tolist()
        for a, b in zip(off[:-1], off[1:]):
            yield raw[a:b].decode("utf-8")

    def tolist(self) -> list[str]:
        return list(self)

    def take(self, rows) -> "StringColumn":
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lens = ends - starts
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        if offsets[-1] == 0:
            return StringColumn(offsets, np.zeros(0, np.uint8))
        # gather the byte ranges in one vectorised step
        pos = np.repeat(starts - offsets[:-1], lens) + np.arange(offsets[-1])
        return StringColumn(offsets, self.data[pos])

    def byte_lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def nbytes(self) -> int:
        return self.offsets.nbytes + self.data.nbytes

    def __repr__(self) -> str:
        return f"<StringColumn {len(self):,} strings, {self.data.nbytes:,} bytes>"


class Categorical:
    """Integer codes (``-1`` = missing) into a tuple of category strings."""
    __slots__ = ("codes", "categories", "_lookup")

    def __init__(self, codes: np.ndarray, categories: Sequence[str]):
        self.codes = np.asarray(codes, dtype=np.int32)
        self.categories = tuple(str(c) for c in categories)
        self._lookup = {c: k for k, c in enumerate(self.categories)}

    @classmethod
    def from_values(cls, values: Iterable[Any], categories: Sequence[str] | None = None) -> "Categorical":
        vals = list(values)
        cats = list(dict.fromkeys(str(v) for v in vals if v is not None)) if categories is None \
            else [str(c) for c in categories]
        lookup = {c: k for k, c in enumerate(cats)}
        codes = np.fromiter((lookup.get(str(v), -1) if v is not None else -1 for v in vals),
                            dtype=np.int32, count=len(vals))
        return cls(codes, cats)

    @classmethod
    def from_arrow(cls, arr) -> "Categorical":
        import pyarrow as pa
        import pyarrow.compute as pc
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if not pa.types.is_dictionary(arr.type):
            arr = pc.dictionary_encode(arr)
        codes = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
        return cls(codes, [str(v) for v in arr.dictionary.to_pylist()])

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            c = int(self.codes[i])
            return self.categories[c] if c >= 0 else None
        return Categorical(self.codes[i], self.categories)

    def take(self, rows) -> "Categorical":
        return Categorical(self.codes[np.asarray(rows, dtype=np.int64)], self.categories)

    def code(self, value: str) -> int:
        return self._lookup.get(str(value), -1)

    def mask(self, *values: str) -> np.ndarray:
        """Rows whose value is one of ``values``."""
        codes = [self.code(v) for v in values]
        codes = [c for c in codes if c >= 0]
        return np.isin(self.codes, codes) if codes else np.zeros(len(self), dtype=bool)

    def tolist(self) -> list[str | None]:
        cats = list(self.categories)
        return [cats[c] if c >= 0 else None for c in self.codes.tolist()]

    @property
    def nbytes(self) -> int:
        return self.codes.nbytes

    def __repr__(self) -> str:
        return f"<Categorical {len(self):,} rows, {len(self.categories)} categories>"


def take_attr(col, rows):
    if isinstance(col, (StringColumn, Categorical)):
        return col.take(rows)
    return np.asarray(col)[rows]


def attr_nbytes(col) -> int:
    if isinstance(col, (StringColumn, Categorical)):
        return col.nbytes
    arr = np.asarray(col)
    if arr.dtype == object:           # a rough figure: pointer + a small Python object
        return arr.nbytes + 56 * len(arr)
    return arr.nbytes



def concat_attr(cols: list) -> Any:
    if all(isinstance(c, StringColumn) for c in cols):
        offsets, base = [np.zeros(1, np.int64)], 0
        for c in cols:
            offsets.append(c.offsets[1:] + base)
            base += int(c.offsets[-1])
        return StringColumn(np.concatenate(offsets), np.concatenate([c.data for c in cols]))
    if all(isinstance(c, Categorical) for c in cols):
        cats = list(dict.fromkeys(v for c in cols for v in c.categories))
        lookup = {v: k for k, v in enumerate(cats)}
        codes = []
        for c in cols:
            remap = np.array([lookup[v] for v in c.categories] + [-1], dtype=np.int32)
            codes.append(remap[c.codes])          # code -1 -> last entry -> -1
        return Categorical(np.concatenate(codes), cats)
    return np.concatenate([c.tolist() if isinstance(c, (StringColumn, Categorical)) else
                           np.asarray(c) for c in cols])

