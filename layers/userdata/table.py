"""CSV/TSV/XLSX tables with coordinate columns as point layers.

Header recognition (经度/lon/lng/x, 纬度/lat/y, 坐标/经纬度 "lon,lat" cells, title lines above the
header), encodings (UTF-8, BOM, GBK/GB18030) and coordinate values (decimal, DMS, 东经/北纬,
full-width digits, decimal commas) are the survey readers' (:mod:`planatlas.layers.survey`); this
module adds speed for large tables (pandas' C parser, vectorised numbers first, the per-cell
parser only for cells that are not plain numbers) and keeps every column as an attribute.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from planatlas.layers.errors import Cancelled, InputError
from planatlas.layers.survey.read_table import (
    _has_coordinates, _map_header, _missing_coordinate_message, detect_encoding,
)
from planatlas.layers.survey.rows import SurveyFormatError
from planatlas.layers.survey.values import _parse_pair, parse_coord

from .vector import Progress, VectorData, points_data

__all__ = ["read_table"]

HEADER_SCAN = 25
CHUNK = 200_000
MAX_REASONS = 5


def _find_header(rows: list[list[Any]], path: Path) -> tuple[int, dict[str, int]]:
    for i, cells in enumerate(rows[:HEADER_SCAN]):
        if sum(1 for c in cells if c is not None and str(c).strip()) < 2:
            continue
        m = _map_header(cells)
        if _has_coordinates(m):
            return i, m
    nonempty = [c for c in rows[:HEADER_SCAN] if any(x not in (None, "") for x in c)]
    if not nonempty:
        raise InputError(f"{path}: the file is empty (no header row)")
    header = max(nonempty, key=lambda c: len(_map_header(c)))
    raise InputError(_missing_coordinate_message(path, header))


def _coord_columns(mapping: dict[str, int]) -> tuple[str, int, int]:
    """("pair", lon col, lat col) or ("coords", col, -1)."""
    if "lon" in mapping and "lat" in mapping:
        return "pair", mapping["lon"], mapping["lat"]
    if "survey_lon" in mapping and "survey_lat" in mapping:
        return "pair", mapping["survey_lon"], mapping["survey_lat"]
    return "coords", mapping["coords"], -1


def _parse_column(values: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]], np.ndarray]:
    """Numbers of a text column: vectorised float parse, the survey parser for the rest.
    Returns (values, [(row, reason)], hemisphere letters or '')."""
    import pandas as pd
    s = pd.Series(values, dtype=object)
    out = np.array(pd.to_numeric(s, errors="coerce"), dtype=np.float64, copy=True)
    hemi = np.full(len(out), "", dtype=object)
    errors: list[tuple[int, str]] = []
    for i in np.flatnonzero(~np.isfinite(out)).tolist():
        v = values[i]
        if v is None or (isinstance(v, str) and not v.strip()):
            errors.append((i, "empty"))
            continue
        try:
            out[i], h = parse_coord(v)
            hemi[i] = h or ""
        except ValueError as exc:
            out[i] = np.nan
            errors.append((i, str(exc)))
    return out, errors, hemi


def _pairs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str]]]:
    lon = np.full(len(values), np.nan)
    lat = np.full(len(values), np.nan)
    errors = []
    for i, v in enumerate(values.tolist()):
        try:
            a, ha, b, hb = _parse_pair(v)
        except ValueError as exc:
            errors.append((i, str(exc)))
            continue
        if (ha and ha in "NS") or (hb and hb in "EW"):
            a, b = b, a
        lon[i], lat[i] = a, b
    return lon, lat, errors


def _typed(df):
    """Columns that are all numbers (or empty) become float columns, the rest stay text."""
    import pandas as pd
    import pyarrow as pa
    cols, names = [], []
    for name in df.columns:
        s = df[name]
        text = s.astype(object).where(s.notna(), None)
        blank = text.map(lambda v: v is None or (isinstance(v, str) and not v.strip())).to_numpy()
        num = pd.to_numeric(text.where(~blank, None), errors="coerce")
        if (~blank).any() and bool(num.notna().to_numpy()[~blank].all()):
            arr = pa.array(num.to_numpy(dtype=np.float64), mask=blank)
        else:
            arr = pa.array([None if b else (v if isinstance(v, str) else str(v))
                            for v, b in zip(text.tolist(), blank.tolist())], type=pa.string())
        cols.append(arr)
        names.append(str(name) if str(name).strip() else f"column_{len(names) + 1}")
    seen: dict[str, int] = {}
    for i, n in enumerate(names):                     # duplicate header names stay apart
        if n in seen:
            seen[n] += 1
            names[i] = f"{n}_{seen[n]}"
        else:
            seen[n] = 1
    return pa.Table.from_arrays(cols, names=names)


def _csv_frame(path: Path, progress: Progress | None):
    import pandas as pd
    with open(path, "rb") as fh:
        sample = fh.read(1 << 20)
    if not sample.strip():
        raise InputError(f"{path}: the file is empty")
    try:
        encoding = detect_encoding(sample)
    except SurveyFormatError as exc:
        raise InputError(f"{path}: cannot decode: {exc}") from None
    text = sample.decode(encoding, errors="replace")
    lines = text.splitlines()[:30]
    delimiter = ","
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        if path.suffix.lower() == ".tsv" or ("\t" in text and "," not in text):
            delimiter = "\t"
    rows = list(csv.reader(lines, delimiter=delimiter))
    skip, mapping = _find_header(rows, path)
    size = max(path.stat().st_size, 1)
    chunks = []
    with open(path, "rb") as fh:
        try:
            reader = pd.read_csv(fh, encoding=encoding, encoding_errors="replace", sep=delimiter,
                                 skiprows=skip, header=0, dtype=str, keep_default_na=False,
                                 chunksize=CHUNK, skip_blank_lines=True, on_bad_lines="warn",
                                 engine="c")
            for chunk in reader:
                chunks.append(chunk)
                if progress is not None and progress(min(fh.tell(), size), size) is False:
                    raise Cancelled(f"reading {path} cancelled at {fh.tell() * 100 // size} %")
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"{path}: not a readable table ({str(exc).splitlines()[0]})") from None
    df = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=rows[skip])
    return df, mapping, skip + 2, "line {}"


def _xlsx_frame(path: Path, progress: Progress | None):
    import pandas as pd
    from openpyxl import load_workbook
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:            # noqa: BLE001 - zip / xml / openpyxl errors
        raise InputError(f"{path}: not a readable XLSX workbook ({exc})") from None
    try:
        problems = []
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            try:
                skip, mapping = _find_header(rows, path)
            except InputError as exc:
                problems.append(f"sheet {ws.title!r}: {str(exc).split(': ', 1)[-1]}")
                continue
            header = [("" if c is None else str(c)) for c in rows[skip]]
            body = [r + [None] * (len(header) - len(r)) for r in rows[skip + 1:]]
            df = pd.DataFrame([r[:len(header)] for r in body], columns=header, dtype=object)
            if progress is not None and progress(1, 1) is False:
                raise Cancelled(f"reading {path} cancelled")
            where = f"sheet {ws.title} row {{}}" if len(wb.worksheets) > 1 else "row {}"
            return df, mapping, skip + 2, where
        raise InputError(f"{path}: " + ("; ".join(problems) or "the workbook has no sheets"))
    finally:
        wb.close()


def read_table(path: Path, *, crs: str = "auto", progress: Progress | None = None) -> VectorData:
    """A point layer from a CSV/TSV/XLSX table (see the module doc)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        df, mapping, first_row, where = _xlsx_frame(path, progress)
    else:
        df, mapping, first_row, where = _csv_frame(path, progress)
    how, a, b = _coord_columns(mapping)
    # drop rows that are entirely blank
    if len(df):
        filled = df.astype(str).apply(lambda s: s.str.strip() != "").any(axis=1) if len(df.columns) \
            else np.zeros(len(df), bool)
        df = df[filled.to_numpy() & df.notna().any(axis=1).to_numpy()].reset_index(drop=True)
    if not len(df):
        raise InputError(f"{path}: the table has a header but no data rows")
    messages: list[str] = []
    if how == "pair":
        lon, e1, h1 = _parse_column(df.iloc[:, a].to_numpy(dtype=object))
        lat, e2, h2 = _parse_column(df.iloc[:, b].to_numpy(dtype=object))
        merged = {i: f"latitude {r}" for i, r in e2}
        merged.update({i: f"longitude {r}" for i, r in e1})
        errors = sorted(merged.items())
        marked = (np.isin(h1, ["N", "S"]) | np.isin(h2, ["E", "W"]))
        if marked.any():
            lon[marked], lat[marked] = lat[marked].copy(), lon[marked].copy()
    else:
        lon, lat, errors = _pairs(df.iloc[:, a].to_numpy(dtype=object))
    ok = np.isfinite(lon) & np.isfinite(lat)
    # columns swapped for the whole file (lat in the lon column): China-sized values tell
    if ok.any():
        swapped = (np.abs(lon[ok]) <= 60) & (np.abs(lat[ok]) > 70)
        if swapped.mean() > 0.9:
            lon, lat = lat, lon
            messages.append("longitude and latitude columns were swapped in the file; "
                            "read the other way round")
    rng = ok & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    for i in np.flatnonzero(ok & ~rng).tolist():
        errors.append((i, f"out of range ({lon[i]:.6g}, {lat[i]:.6g})"))
    skipped = int((~rng).sum())
    if skipped == len(df):
        reasons = "; ".join(f"{where.format(first_row + i)}: {r}" for i, r in errors[:3])
        raise InputError(f"{path}: no row has usable coordinates ({reasons})")
    if skipped:
        shown = "; ".join(f"{where.format(first_row + i)}: {r}" for i, r in errors[:MAX_REASONS])
        messages.append(f"{skipped} row(s) without usable coordinates skipped ({shown}"
                        f"{' …' if len(errors) > MAX_REASONS else ''})")
    df = df[rng].reset_index(drop=True)
    lon, lat = lon[rng], lat[rng]
    attrs = _typed(df)
    if crs == "auto":
        from .datum import detect_datum
        names = df.iloc[:, mapping["name"]].to_numpy(dtype=object) if "name" in mapping else None
        choice = detect_datum(lon, lat, names=names, headers=[str(c) for c in df.columns],
                              filename=path.name)
        src, note = choice.crs, choice.note
    else:
        src, note = crs, f"coordinates read as {crs} (chosen)"
    if src in ("gcj02", "bd09"):
        note += f"; converted once from {src.upper().replace('0', '-0', 1)} to WGS-84"
    return points_data(str(path), lon, lat, attrs, src, note, skipped, messages)
