"""Tabular surveys: header recognition, CSV (UTF-8/GBK, any delimiter) and XLSX."""
from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from pathlib import Path
from typing import Any, Iterable, Iterator

from .rows import SurveyFormatError, SurveyRow
from .values import _norm_header, _parse_pair, _text, _ticked, normalize_verdict, parse_coord

__all__ = ["detect_encoding"]

_TOKEN_SPLIT = re.compile(r"[\s/\\|()（）\[\]【】,，;；:：]+")

# Role order matters: more specific roles first (a "实测经度 Survey lon" column also has a
# "lon" token and must become survey_lon).
_ROLES: list[tuple[str, tuple[str, ...]]] = [
    ("survey_lon", ("实测经度", "调查经度", "新经度", "gps经度", "surveylon", "surveylng",
                    "surveylongitude", "newlon", "newlng", "measuredlon", "gpslon", "gpslng")),
    ("survey_lat", ("实测纬度", "调查纬度", "新纬度", "gps纬度", "surveylat", "surveylatitude",
                    "newlat", "measuredlat", "gpslat")),
    ("lon", ("经度", "lon", "lng", "long", "longitude", "x", "东经", "经度e", "lonx")),
    ("lat", ("纬度", "lat", "latitude", "y", "北纬", "纬度n", "laty")),
    ("coords", ("坐标", "经纬度", "经纬度坐标", "coordinates", "coordinate", "coords", "lonlat",
                "lnglat", "位置坐标", "gps", "gps坐标")),
    ("fid", ("id", "编号", "featureid", "siteid", "code", "要素编号", "站点编号", "地点编号",
             "点位编号", "fid")),
    ("name", ("名称", "name", "站点", "地点", "站点名称", "地点名称", "点位", "点位名称", "场所",
              "site", "place", "sitename", "placename", "名字", "title", "标题", "poi")),
    ("result", ("结果", "result", "核查结果", "调查结果", "核查", "surveyresult", "verdict",
                "outcome")),
    ("status", ("状态", "status", "现状")),
    ("notes", ("备注", "notes", "note", "remarks", "remark", "comment", "comments", "说明",
               "描述", "description", "desc", "cmt")),
    ("date", ("日期", "date", "调查日期", "核查日期", "surveydate", "时间", "time", "datetime",
              "when", "调查时间")),
    ("tick_found", ("找到", "found", "已找到")),
    ("tick_moved", ("移位", "moved", "已移位")),
    ("tick_missing", ("缺失", "missing", "未找到")),
]
_ROLE_ORDER = {role: i for i, (role, _) in enumerate(_ROLES)}
_SUBSTRING_OK = {"survey_lon", "survey_lat", "lon", "lat", "name", "notes", "date", "fid", "result"}


def _header_role(cell: Any) -> tuple[str, int] | None:
    """Best (role, priority) for a header cell; priority 0 exact, 1 token, 2 substring."""
    raw = unicodedata.normalize("NFKC", str(cell or "")).strip()
    if not raw:
        return None
    whole = _norm_header(raw)
    tokens = [_norm_header(t) for t in _TOKEN_SPLIT.split(raw) if _norm_header(t)]
    best: tuple[int, int, str] | None = None
    for role, syns in _ROLES:
        pri = None
        if whole in syns:
            pri = 0
        elif any(t in syns for t in tokens):
            pri = 1
        elif role in _SUBSTRING_OK and any(
                len(s) >= 2 and not s.isascii() and s in whole for s in syns):
            pri = 2
        if pri is not None:
            key = (pri, _ROLE_ORDER[role], role)
            if best is None or key < best:
                best = key
    return (best[2], best[0]) if best else None


def _map_header(cells: list[Any]) -> dict[str, int]:
    """Column index for each role found in a header row (best priority, then leftmost)."""
    chosen: dict[str, tuple[int, int]] = {}
    for idx, cell in enumerate(cells):
        hit = _header_role(cell)
        if hit is None:
            continue
        role, pri = hit
        if role not in chosen or pri < chosen[role][0]:
            chosen[role] = (pri, idx)
    return {role: idx for role, (_, idx) in chosen.items()}


def _has_coordinates(mapping: dict[str, int]) -> bool:
    return ("lon" in mapping and "lat" in mapping) or (
        "survey_lon" in mapping and "survey_lat" in mapping) or "coords" in mapping


def _missing_coordinate_message(path: Path, header: list[Any]) -> str:
    shown = ", ".join(repr(str(h)) for h in header if h not in (None, "")) or "(none)"
    mapping = _map_header(header)
    if not ({"lon", "survey_lon", "coords"} & mapping.keys()):
        what = "no longitude column found"
    elif not ({"lat", "survey_lat", "coords"} & mapping.keys()):
        what = "no latitude column found"
    else:
        what = "no coordinate columns found"
    return (f"{path}: {what}; headers were: {shown} "
            "(expected e.g. 经度/lon/lng/longitude/x and 纬度/lat/latitude/y, or 坐标/coordinates)")


# --------------------------------------------------------------------------- tabular rows

_FIELD_ROLES = ("name", "fid", "notes", "date", "result", "status", "tick_found", "tick_moved",
                "tick_missing", "survey_lon", "survey_lat", "lon", "lat", "coords")


def _compile(mapping: dict[str, int]) -> list[tuple[str, int]]:
    """(role, column) pairs to extract; a final ("survey"|"plain", -1) says which lon/lat to use."""
    plan = [(role, mapping[role]) for role in _FIELD_ROLES if role in mapping]
    survey = "survey_lon" in mapping or "survey_lat" in mapping
    plan.append(("survey" if survey else "plain", -1))
    return plan


def _row_from_cells(cells: list[Any], plan: list[tuple[str, int]], row: int,
                    where: str) -> SurveyRow | None:
    n = len(cells)
    v: dict[str, Any] = {}
    for role, idx in plan:
        if 0 <= idx < n:
            x = cells[idx]
            if x is None:
                continue
            if x.__class__ is str:
                x = x.strip()
                if not x:
                    continue
            v[role] = x
    if not v:
        if any(c is not None and str(c).strip() for c in cells):
            return SurveyRow(row=row, where=where,
                             error="no name, id or coordinates in the recognised columns")
        return None
    get = v.get
    r = SurveyRow(row=row, where=where)
    if "name" in v:
        r.name = _text(v["name"])
    if "fid" in v:
        r.fid = _text(v["fid"])
    if "notes" in v:
        r.notes = _text(v["notes"])
    if "date" in v:
        r.date = _text(v["date"])
    verdict = None
    if "result" in v or "status" in v:
        verdict = normalize_verdict(get("result")) or normalize_verdict(get("status"))
    if verdict is None:
        for role, word in (("tick_found", "found"), ("tick_moved", "moved"),
                           ("tick_missing", "missing")):
            if role in v and _ticked(v[role]):
                verdict = word
                break
    r.status = verdict
    if plan[-1][0] == "survey" and "survey_lon" not in v and "survey_lat" not in v \
            and verdict is None and r.notes is None and r.date is None:
        return None           # a checklist row nobody filled in: not surveyed
    try:
        if plan[-1][0] == "survey":
            lon_v, lat_v = get("survey_lon"), get("survey_lat")
            label = "surveyed coordinates"
        else:
            lon_v, lat_v = get("lon"), get("lat")
            label = "coordinates"
        if lon_v is None and lat_v is None and "coords" in v:
            a, ha, b, hb = _parse_pair(v["coords"])
        else:
            if lon_v is None and lat_v is None:
                raise ValueError(f"no {label}")
            if lon_v is None:
                raise ValueError("longitude is empty")
            if lat_v is None:
                raise ValueError("latitude is empty")
            try:
                a, ha = parse_coord(lon_v)
            except ValueError as exc:
                raise ValueError(f"longitude {exc}") from None
            try:
                b, hb = parse_coord(lat_v)
            except ValueError as exc:
                raise ValueError(f"latitude {exc}") from None
    except ValueError as exc:
        r.error = str(exc)
        return r
    if ha is not None or hb is not None:
        if ha is not None and hb is not None and (ha in "NS") == (hb in "NS"):
            r.error = f"both values are marked as {'latitudes' if ha in 'NS' else 'longitudes'}"
            return r
        if (ha is not None and ha in "NS") or (hb is not None and hb in "EW"):
            r.hint_swapped = True
    r.lon, r.lat = a, b
    return r


def _with_error(r: SurveyRow, reason: str) -> SurveyRow:
    r.error = reason
    return r


def _rows_from_table(path: Path, rows: Iterable[tuple[list[Any], str]], *,
                     where_fmt: str, header_scan: int = 25) -> Iterator[SurveyRow]:
    """Find the header among the first rows, then yield SurveyRows for the following ones."""
    it = iter(rows)
    scanned: list[list[Any]] = []
    mapping: dict[str, int] | None = None
    for cells, _ in it:
        scanned.append(cells)
        if sum(1 for c in cells if c is not None and str(c).strip()) < 2:
            continue          # a title line, not a header
        m = _map_header(cells)
        if _has_coordinates(m):
            mapping = m
            break
        if len(scanned) >= header_scan:
            break
    if mapping is None:
        nonempty = [c for c in scanned if any(x not in (None, "") for x in c)]
        if not nonempty:
            raise SurveyFormatError(f"{path}: the file is empty (no header row)")
        # report the row that looked most like a header
        header = max(nonempty[:header_scan], key=lambda c: len(_map_header(c)))
        raise SurveyFormatError(_missing_coordinate_message(path, header))
    n = 0
    plan = _compile(mapping)
    for cells, loc in it:
        n += 1
        sr = _row_from_cells(cells, plan, n, where_fmt.format(loc=loc))
        if sr is not None:
            yield sr


# --------------------------------------------------------------------------- CSV

def detect_encoding(sample: bytes) -> str:
    """Encoding of a text sample: utf-8-sig (BOM), utf-8, gb18030, else charset-normalizer's guess.

    Raises :class:`SurveyFormatError` for binary data.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise SurveyFormatError("binary data (NUL bytes), not a text file")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise SurveyFormatError("not UTF-8 or GBK/GB18030 text")
    return best.encoding


def _iter_csv(path: Path) -> Iterator[SurveyRow]:
    with open(path, "rb") as fh:
        sample = fh.read(1 << 20)
    if not sample.strip():
        raise SurveyFormatError(f"{path}: the file is empty")
    try:
        encoding = detect_encoding(sample)
    except SurveyFormatError as exc:
        raise SurveyFormatError(f"{path}: cannot decode: {exc}") from None
    text_sample = sample.decode(encoding, errors="replace")
    delimiter = ","
    first_lines = "\n".join(text_sample.splitlines()[:30])
    try:
        delimiter = csv.Sniffer().sniff(first_lines, delimiters=",;\t|").delimiter
    except csv.Error:
        if path.suffix.lower() == ".tsv" or "\t" in first_lines and "," not in first_lines:
            delimiter = "\t"
    with open(path, "r", encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)

        def rows() -> Iterator[tuple[list[Any], str]]:
            try:
                for cells in reader:
                    yield cells, str(reader.line_num)
            except csv.Error as exc:
                raise SurveyFormatError(f"{path}: line {reader.line_num}: {exc}") from None

        for sr in _rows_from_table(path, rows(), where_fmt="line {loc}"):
            if (sr.name and "\ufffd" in sr.name) or (sr.notes and "\ufffd" in sr.notes):
                sr.message = f"undecodable bytes replaced (file read as {encoding})"
            yield sr


# --------------------------------------------------------------------------- XLSX

def _iter_xlsx(path: Path) -> Iterator[SurveyRow]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise SurveyFormatError(f"{path}: not a readable XLSX workbook ({exc})") from None
    try:
        errors: list[str] = []
        found = False
        offset = 0
        for ws in wb.worksheets:
            def rows(ws=ws) -> Iterator[tuple[list[Any], str]]:
                for i, cells in enumerate(ws.iter_rows(values_only=True), start=1):
                    yield list(cells), f"{i}"

            multi = len(wb.worksheets) > 1
            fmt = (f"sheet {ws.title} row {{loc}}" if multi else "row {loc}")
            try:
                last = 0
                for sr in _rows_from_table(path, rows(), where_fmt=fmt):
                    found = True
                    last = sr.row
                    sr.row += offset
                    yield sr
                offset += last
            except SurveyFormatError as exc:
                errors.append(f"sheet {ws.title!r}: {str(exc).split(': ', 1)[-1]}")
        if not found and errors:
            raise SurveyFormatError(f"{path}: " + "; ".join(errors))
        if not found and not errors:
            raise SurveyFormatError(f"{path}: the workbook has no data rows")
    finally:
        wb.close()
