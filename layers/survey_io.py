"""Reading field-survey files: CSV, XLSX, GPX, KML/KMZ.

A survey is a list of observed sites: a name (or feature id) and the coordinates where the
field team found it, plus optional notes, the surveyor's verdict and a date. Files come from
spreadsheets, GPS receivers and phone map apps, so this module is tolerant about the shape:

* CSV in UTF-8, UTF-8 with BOM or GBK/GB18030 (detected), any delimiter among ``, ; tab |``;
* XLSX (every sheet that has a recognisable header row, header may sit below title rows);
* GPX waypoints / route points, KML and KMZ placemarks (namespaces handled by local names);
* Chinese or English headers in any column order (名称/name/站点/地点, 经度/lon/lng/longitude/x,
  纬度/lat/latitude/y, 编号/id, 备注/notes, 状态/status, 日期/date, or one 坐标/coordinates
  column holding "lon,lat"); "实测经度/Survey lon" columns win over plain 经度/lon so that a
  filled-in site checklist (``planatlas sitelist --format xlsx``) can be imported directly;
* coordinates as decimal degrees, DMS strings (``113°19'30"E``, ``113度19分30秒``, ``N23 7 12``)
  and full-width digits (``１１３．３``).

Rows are *streamed* (:func:`iter_survey` is a generator) and each :class:`SurveyRow` carries
either parsed coordinates or the reason they could not be parsed; a bad row never stops the
reading. File-level problems (empty, undecodable, no coordinate column) raise
:class:`SurveyFormatError` with a message that names the file and what was found.
Range checks, swapped columns and CRS handling are done by :mod:`layers.sites`.
"""
from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator
from xml.etree import ElementTree as ET

__all__ = [
    "SurveyRow", "SurveyFormatError", "iter_survey", "read_survey", "detect_encoding",
    "parse_coord", "normalize_verdict", "SUPPORTED_SUFFIXES",
]

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".gpx", ".kml", ".kmz")


class SurveyFormatError(ValueError):
    """The file as a whole cannot be read as a survey (says which file and why)."""


@dataclass(slots=True)
class SurveyRow:
    row: int                       # 1-based data row (blank rows keep their number but are skipped)
    where: str                     # "line 7" / "sheet 天河区 row 12" / "waypoint 3"
    name: str | None = None
    fid: str | None = None         # feature id if the file has an id/编号 column
    lon: float = math.nan
    lat: float = math.nan
    error: str | None = None       # why the coordinates are unusable (None = parsed)
    notes: str | None = None
    status: str | None = None      # surveyor's verdict, normalised: found | moved | missing | raw text
    date: str | None = None
    hint_swapped: bool = False     # hemisphere letters say lon/lat columns are swapped in this row
    message: str | None = None     # non-fatal remark from reading (e.g. replaced bytes)


# --------------------------------------------------------------------------- headers

def _norm_header(text: Any) -> str:
    s = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return re.sub(r"[\s_\-\.·:：()（）\[\]【】<>《》/\\|,，;；'\"°*#]+", "", s)


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


# --------------------------------------------------------------------------- values

_HEMI = {"e": "E", "w": "W", "n": "N", "s": "S", "东经": "E", "西经": "W", "北纬": "N",
         "南纬": "S", "东": "E", "西": "W", "北": "N", "南": "S"}
_HEMI_RE = re.compile(r"^(东经|西经|北纬|南纬|[东西南北]|[ewns])\s*|\s*(东经|西经|北纬|南纬|[东西南北]|[ewns])$")
_NUM_RE = re.compile(r"[-+]?\d+(?:\.\d*)?|[-+]?\.\d+")


def _clean_text(value: Any) -> str:
    s = unicodedata.normalize("NFKC", str(value)).strip()
    # NFKC keeps these quote/prime marks; unify them
    for a, b in (("′", "'"), ("’", "'"), ("‘", "'"), ("″", '"'), ("“", '"'), ("”", '"'),
                 ("º", "°"), ("˚", "°"), ("−", "-"), ("–", "-"), ("—", "-")):
        s = s.replace(a, b)
    return s


def parse_coord(value: Any) -> tuple[float, str | None]:
    """Parse one coordinate value; return ``(degrees, hemisphere)``.

    ``hemisphere`` is ``"E"``/``"W"``/``"N"``/``"S"`` when the text said so, else ``None``.
    Raises :class:`ValueError` with a short reason for anything that is not a coordinate.
    """
    if value is None:
        raise ValueError("empty")
    if isinstance(value, bool):
        raise ValueError(f"not a coordinate: {value!r}")
    if isinstance(value, (int, float)):
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"not a number: {value!r}")
        return v, None
    try:  # fast path: plain decimal text
        v = float(value)
    except (TypeError, ValueError):
        pass
    else:
        if not math.isfinite(v):
            raise ValueError(f"not a number: {str(value).strip()!r}")
        return v, None
    s = _clean_text(value)
    if not s:
        raise ValueError("empty")
    try:
        v = float(s)
    except ValueError:
        pass
    else:
        if not math.isfinite(v):
            raise ValueError(f"not a number: {s!r}")
        return v, None
    low = s.casefold().strip()
    hemi = None
    m = _HEMI_RE.search(low)
    if m:
        word = m.group(1) or m.group(2)
        hemi = _HEMI[word]
        low = low[:m.start()] + low[m.end():]
        low = low.strip()
    if re.fullmatch(r"[-+]?\d+,\d+", low):          # decimal comma: "113,35"
        low = low.replace(",", ".")
    if not low or re.search(r"[^\d.\-+°'\"度分秒:\s]", low):
        raise ValueError(f"not a coordinate: {s!r}")
    nums = _NUM_RE.findall(low)
    if not 1 <= len(nums) <= 3 or (len(nums) > 1 and not re.search(r"[°'\"度分秒:\s]", low)):
        raise ValueError(f"not a coordinate: {s!r}")
    try:
        parts = [float(n) for n in nums]
    except ValueError:
        raise ValueError(f"not a coordinate: {s!r}") from None
    neg = parts[0] < 0 or low.startswith("-")
    deg = abs(parts[0])
    minutes = parts[1] if len(parts) > 1 else 0.0
    seconds = parts[2] if len(parts) > 2 else 0.0
    if minutes < 0 or seconds < 0 or minutes >= 60 or seconds >= 60:
        raise ValueError(f"minutes/seconds out of range in {s!r}")
    v = deg + minutes / 60.0 + seconds / 3600.0
    if neg or hemi in ("W", "S"):
        v = -v
    return v, hemi


def _parse_pair(value: Any) -> tuple[float, str | None, float, str | None]:
    """A "lon,lat" cell (or "lat,lon" with hemisphere letters)."""
    if value is None or str(value).strip() == "":
        raise ValueError("empty")
    s = _clean_text(value)
    parts = [p for p in re.split(r"\s*[,;，；]\s*|\s+(?=[-+]?\d|[东西南北NSEWnsew])", s) if p]
    if len(parts) < 2:
        raise ValueError(f"expected 'lon,lat' in {s!r}")
    if len(parts) > 3:  # maybe "lon lat" as DMS with spaces; give up clearly
        raise ValueError(f"cannot split {s!r} into longitude and latitude")
    a, ha = parse_coord(parts[0])
    b, hb = parse_coord(parts[1])
    return a, ha, b, hb


_VERDICTS = {
    "found": ("found", "找到", "已找到", "存在", "正常", "确认", "confirmed", "ok", "yes", "是", "在"),
    "moved": ("moved", "移位", "已移位", "搬迁", "迁移", "位置变动", "位置有变", "变更", "relocated"),
    "missing": ("missing", "缺失", "未找到", "不存在", "消失", "已关闭", "关闭", "拆除", "gone",
                "closed", "notfound"),
}
_VERDICT_INDEX = {_norm_header(w): k for k, ws in _VERDICTS.items() for w in ws}
_TICKED = {"☑", "☒", "✓", "✔", "√", "x", "X", "×", "1", "是", "yes", "y", "true", "■", "●"}


def normalize_verdict(value: Any) -> str | None:
    """Map a surveyor's verdict to found | moved | missing; other text is returned as is."""
    if value is None:
        return None
    s = str(value).strip()
    if not s or s == "☐":
        return None
    return _VERDICT_INDEX.get(_norm_header(s), s)


def _ticked(value: Any) -> bool:
    if value is None:
        return False
    s = unicodedata.normalize("NFKC", str(value)).strip()
    return s in _TICKED or s.casefold() in _TICKED


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if value.__class__ is str:
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    s = str(value).strip()
    return s or None


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


# --------------------------------------------------------------------------- GPX / KML

def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag


def _child_text(elem: ET.Element, name: str) -> str | None:
    for ch in elem:
        if _local(ch.tag) == name:
            return (ch.text or "").strip() or None
    return None


def _iter_gpx(path: Path) -> Iterator[SurveyRow]:
    n = 0
    n_track = 0
    try:
        for _, elem in ET.iterparse(path, events=("end",)):
            tag = _local(elem.tag)
            if tag in ("wpt", "rtept"):
                n += 1
                r = SurveyRow(row=n, where=f"{'waypoint' if tag == 'wpt' else 'route point'} {n}")
                r.name = _child_text(elem, "name")
                r.notes = _child_text(elem, "desc") or _child_text(elem, "cmt")
                r.date = _child_text(elem, "time")
                r.status = normalize_verdict(_child_text(elem, "type"))
                try:
                    r.lon, _ = parse_coord(elem.get("lon"))
                    r.lat, _ = parse_coord(elem.get("lat"))
                except ValueError as exc:
                    r.error = f"bad lat/lon attributes: {exc}"
                yield r
                elem.clear()
            elif tag == "trkpt":
                n_track += 1
                elem.clear()
    except ET.ParseError as exc:
        raise SurveyFormatError(f"{path}: not well-formed GPX XML ({exc}) after {n} waypoints") from None
    if n == 0:
        extra = f" (only {n_track} unnamed track points)" if n_track else ""
        raise SurveyFormatError(f"{path}: no waypoints (<wpt>/<rtept>) found{extra}")


def _kml_coords(text: str | None) -> list[tuple[float, float]]:
    out = []
    for tup in (text or "").split():
        parts = tup.split(",")
        if len(parts) >= 2:
            out.append((float(parts[0]), float(parts[1])))
    return out


def _iter_kml_stream(source: Any, path: Path) -> Iterator[SurveyRow]:
    n = 0
    try:
        for _, elem in ET.iterparse(source, events=("end",)):
            if _local(elem.tag) != "Placemark":
                continue
            n += 1
            r = SurveyRow(row=n, where=f"placemark {n}")
            r.name = _child_text(elem, "name")
            r.notes = _child_text(elem, "description")
            extra: dict[str, str] = {}
            when = None
            point = None
            other: list[tuple[float, float]] = []
            bad = None
            for sub in elem.iter():
                t = _local(sub.tag)
                if t == "Data" and sub.get("name"):
                    extra[sub.get("name")] = _child_text(sub, "value") or ""
                elif t == "SimpleData" and sub.get("name"):
                    extra[sub.get("name")] = (sub.text or "").strip()
                elif t == "when" and when is None:
                    when = (sub.text or "").strip() or None
                elif t == "Point":
                    for c in sub:
                        if _local(c.tag) == "coordinates":
                            try:
                                pts = _kml_coords(c.text)
                            except ValueError:
                                bad = f"bad <coordinates> {(c.text or '').strip()[:40]!r}"
                                pts = []
                            if pts and point is None:
                                point = pts[0]
                elif t == "coordinates" and point is None:
                    try:
                        other.extend(_kml_coords(sub.text))
                    except ValueError:
                        bad = f"bad <coordinates> {(sub.text or '').strip()[:40]!r}"
            mapping = _map_header(list(extra.keys()))
            values = list(extra.values())
            for role, attr in (("fid", "fid"), ("notes", "notes"), ("date", "date")):
                if role in mapping and getattr(r, attr) is None:
                    setattr(r, attr, values[mapping[role]] or None)
            if r.name is None and "name" in mapping:
                r.name = values[mapping["name"]] or None
            r.status = (normalize_verdict(values[mapping["result"]]) if "result" in mapping else None) or (
                normalize_verdict(values[mapping["status"]]) if "status" in mapping else None)
            r.date = r.date or when
            if point is not None:
                r.lon, r.lat = point
            elif other:
                r.lon = sum(p[0] for p in other) / len(other)
                r.lat = sum(p[1] for p in other) / len(other)
                r.message = f"placemark is not a point; used the mean of its {len(other)} vertices"
            else:
                r.error = bad or "placemark has no coordinates"
            yield r
            elem.clear()
    except ET.ParseError as exc:
        raise SurveyFormatError(f"{path}: not well-formed KML XML ({exc}) after {n} placemarks") from None
    if n == 0:
        raise SurveyFormatError(f"{path}: no placemarks found")


def _iter_kml(path: Path) -> Iterator[SurveyRow]:
    if path.suffix.lower() == ".kmz" or zipfile.is_zipfile(path):
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise SurveyFormatError(f"{path}: not a readable KMZ ({exc})") from None
        with zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".kml")]
            if not names:
                raise SurveyFormatError(f"{path}: KMZ archive contains no .kml file")
            main = "doc.kml" if "doc.kml" in names else names[0]
            with zf.open(main) as fh:
                yield from _iter_kml_stream(fh, path)
    else:
        yield from _iter_kml_stream(str(path), path)


# --------------------------------------------------------------------------- entry points

def _sniff_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".gpx":
        return "gpx"
    if suffix in (".kml", ".kmz"):
        return "kml"
    if suffix == ".xls":
        raise SurveyFormatError(f"{path}: old binary .xls workbooks are not supported; "
                                "save it as .xlsx or .csv")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    text = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if text.startswith(b"<?xml") or text.startswith(b"<"):
        if b"<gpx" in head.lower():
            return "gpx"
        if b"<kml" in head.lower():
            return "kml"
    return "csv"


def iter_survey(path: str | os.PathLike) -> Iterator[SurveyRow]:
    """Stream the rows of a survey file (format from the suffix, else sniffed from content).

    Raises :class:`SurveyFormatError` (at the first ``next()``) for files that cannot be
    read as a survey at all; row-level problems are reported in ``SurveyRow.error``.
    """
    p = Path(path)
    if not p.exists():
        raise SurveyFormatError(f"{p}: no such file")
    if p.is_dir():
        raise SurveyFormatError(f"{p}: is a directory, not a survey file")
    if p.stat().st_size == 0:
        raise SurveyFormatError(f"{p}: the file is empty")
    kind = _sniff_kind(p)
    if kind == "xlsx":
        yield from _iter_xlsx(p)
    elif kind == "gpx":
        yield from _iter_gpx(p)
    elif kind == "kml":
        yield from _iter_kml(p)
    else:
        yield from _iter_csv(p)


def read_survey(path: str | os.PathLike) -> list[SurveyRow]:
    """All rows of a survey file as a list (see :func:`iter_survey`)."""
    return list(iter_survey(path))


def text_survey(text: str, name: str = "survey.csv") -> Iterator[SurveyRow]:
    """Rows from CSV text in memory (convenience for tools and tests of the parser)."""
    rows = ((cells, str(i)) for i, cells in enumerate(csv.reader(io.StringIO(text)), start=1))
    yield from _rows_from_table(Path(name), rows, where_fmt="line {loc}")
