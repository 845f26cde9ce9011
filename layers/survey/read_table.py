"""Tabular surveys: header recognition, rows to SurveyRows, and CSV (UTF-8/GBK/Big5, any delimiter)."""
from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path
from typing import Any, Iterable, Iterator

from planatlas.layers.encoding import EncodingGuess, guess_encoding

from .guard import MAX_LINE_CHARS, MAX_RECORD_CHARS, Guard
from .rows import NoSurveyHeader, SurveyFormatError, SurveyRow
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


def _find_header(path: Path, it, header_scan: int = 25) -> tuple[dict[str, int], int]:
    """Read rows from ``it`` up to the header (a row naming coordinate columns); returns its
    role mapping and ordinal. Raises :class:`NoSurveyHeader` when there is none."""
    scanned: list[Any] = []            # non-blank rows before the header (a bounded number)
    looked = multi = 0
    for cells, _, ordinal in it:
        looked += 1
        filled = sum(1 for c in cells if c is not None and str(c).strip())
        if filled == 0:
            if looked > 100 * header_scan:
                break
            continue
        scanned.append(cells)
        if filled >= 2:
            m = _map_header(cells)
            if _has_coordinates(m):
                return m, ordinal
            multi += 1
            if multi >= header_scan:
                break
        elif len(scanned) >= 4 * header_scan:     # title lines
            break
    nonempty = [c for c in scanned if any(x not in (None, "") for x in c)]
    if not nonempty:
        raise NoSurveyHeader(f"{path}: the file is empty (no header row)")
    # report the row that looked most like a header
    header = max(nonempty[:header_scan], key=lambda c: len(_map_header(c)))
    raise NoSurveyHeader(_missing_coordinate_message(path, header))


def _rows_from_table(path: Path, rows: Iterable[tuple[Any, str, int]], *, where_fmt: str,
                     guard: Guard | None = None, header_scan: int = 25) -> Iterator[SurveyRow]:
    """Find the header among the first rows, then yield SurveyRows for the following ones.

    ``rows`` yields ``(cells, where, ordinal)``; a data row's number is its ordinal minus the
    header's (so rows a reader skips, such as missing XLSX rows, keep their numbers)."""
    guard = guard or Guard(path)
    it = iter(rows)
    mapping, header_at = _find_header(path, it, header_scan)
    plan = _compile(mapping)
    for cells, loc, ordinal in it:
        sr = _row_from_cells(cells, plan, ordinal - header_at, where_fmt.format(loc=loc))
        if sr is not None:
            yield guard.take(sr)
        else:
            guard.poll()


# --------------------------------------------------------------------------- CSV

def detect_encoding(sample: bytes, *, complete: bool = False) -> str:
    """Encoding of a text sample: a BOM, UTF-8, GB18030 or Big5 (told apart by
    :mod:`planatlas.layers.encoding`), else charset-normalizer's guess.

    Raises :class:`SurveyFormatError` for binary data."""
    try:
        return guess_encoding(sample, complete=complete)[0]
    except EncodingGuess as exc:
        if b"\x00" in sample:
            raise SurveyFormatError(str(exc)) from None
    from charset_normalizer import from_bytes

    best = from_bytes(sample[: 1 << 16]).best()
    if best is None:
        raise SurveyFormatError("not UTF-8, GB18030/GBK or Big5 text")
    return best.encoding


class _Lines:
    """Lines of a text file for ``csv.reader``, each at most :data:`MAX_LINE_CHARS` long and at
    most :data:`MAX_RECORD_CHARS` per record (a quoted field can span lines: an unclosed quote
    would otherwise swallow the rest of the file); polls cancel."""

    def __init__(self, fh, path: Path, guard: Guard):
        self.fh = fh
        self.path = path
        self.guard = guard
        self.number = 0
        self.record = 0
        self.unpolled = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.fh.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise SurveyFormatError(f"{self.path}: line {self.number} is longer than "
                                    f"{MAX_LINE_CHARS:,} characters (the limit)")
        self.record += len(line)
        if self.record > MAX_RECORD_CHARS:
            raise SurveyFormatError(
                f"{self.path}: the record ending at line {self.number} is longer than "
                f"{MAX_RECORD_CHARS:,} characters (the limit; an unclosed quote?)")
        self.unpolled += len(line)
        if self.unpolled > 16384 or not self.number & 255:
            # cancel is asked every 16 k characters or 256 lines, whichever comes first (Guard.poll
            # keeps time itself; reading the clock on every line cost most of a short line)
            self.unpolled = 0
            self.guard.poll()
        return line


def csv_encoding_and_delimiter(path: Path) -> tuple[str, str]:
    """A CSV survey's encoding (from its first MB) and delimiter (sniffed from the first 4 kB:
    csv.Sniffer's regular expressions take quadratic time in the text they are given)."""
    with open(path, "rb") as fh:
        sample = fh.read(1 << 20)
        complete = not fh.read(1)
    if not sample.strip():
        raise SurveyFormatError(f"{path}: the file is empty")
    try:
        encoding = detect_encoding(sample, complete=complete)
    except SurveyFormatError as exc:
        raise SurveyFormatError(f"{path}: cannot decode: {exc}") from None
    text_sample = sample[: 1 << 16].decode(encoding, errors="replace")
    first_lines = "\n".join(line[:1000] for line in text_sample.splitlines()[:30])[:4096]
    delimiter = ","
    try:
        delimiter = csv.Sniffer().sniff(first_lines, delimiters=",;\t|").delimiter
    except csv.Error:
        if path.suffix.lower() == ".tsv" or "\t" in first_lines and "," not in first_lines:
            delimiter = "\t"
    return encoding, delimiter


def _iter_csv(path: Path, guard: Guard | None = None) -> Iterator[SurveyRow]:
    guard = guard or Guard(path)
    encoding, delimiter = csv_encoding_and_delimiter(path)
    with open(path, "r", encoding=encoding, errors="replace", newline="") as fh:
        lines = _Lines(fh, path, guard)
        reader = csv.reader(lines, delimiter=delimiter)

        def rows() -> Iterator[tuple[list[Any], str, int]]:
            n = 0
            try:
                for cells in reader:
                    lines.record = 0
                    n += 1
                    yield cells, str(reader.line_num), n
            except csv.Error as exc:
                raise SurveyFormatError(f"{path}: line {reader.line_num}: {exc}") from None

        for sr in _rows_from_table(path, rows(), where_fmt="line {loc}", guard=guard):
            if (sr.name and "\ufffd" in sr.name) or (sr.notes and "\ufffd" in sr.notes):
                sr.message = f"undecodable bytes replaced (file read as {encoding})"
            yield sr
