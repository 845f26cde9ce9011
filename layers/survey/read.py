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
Range checks, swapped columns and CRS handling are done by :mod:`planatlas.layers.survey.check`.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
from pathlib import Path
from typing import Callable, Iterator

from .guard import Guard
from .read_table import _iter_csv, _rows_from_table, detect_encoding
from .read_xlsx import _iter_xlsx
from .read_xml import _iter_gpx, _iter_kml
from .rows import SUPPORTED_SUFFIXES, SurveyFormatError, SurveyRow
from .values import normalize_verdict, parse_coord

__all__ = [
    "SurveyRow", "SurveyFormatError", "iter_survey", "read_survey", "detect_encoding",
    "parse_coord", "normalize_verdict", "SUPPORTED_SUFFIXES", "text_survey",
]

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


def survey_kind(p: Path) -> str:
    """``csv``, ``xlsx``, ``gpx`` or ``kml`` for an existing, non-empty survey file; a missing,
    empty or unreadable file (or a folder) is a :class:`SurveyFormatError` saying which."""
    try:
        if not p.exists():
            raise SurveyFormatError(f"{p}: no such file")
        if p.is_dir():
            raise SurveyFormatError(f"{p}: is a directory, not a survey file")
        if p.stat().st_size == 0:
            raise SurveyFormatError(f"{p}: the file is empty")
        return _sniff_kind(p)
    except OSError as exc:
        raise SurveyFormatError(f"{p}: cannot read ({exc.strerror or exc})") from None


def iter_survey(path: str | os.PathLike,
                cancel: Callable[[], bool] | None = None) -> Iterator[SurveyRow]:
    """Stream the rows of a survey file (format from the suffix, else sniffed from content).

    Raises :class:`SurveyFormatError` (at the first ``next()``) for files that cannot be
    read as a survey at all, or that exceed the limits of :mod:`.guard`; row-level problems are
    reported in ``SurveyRow.error``. ``cancel()`` returning True stops the reading (within
    50 ms, also inside long rows and archive members) with :class:`CheckCancelled`.
    """
    p = Path(path)
    kind = survey_kind(p)
    guard = Guard(p, cancel)
    reader = {"xlsx": _iter_xlsx, "gpx": _iter_gpx, "kml": _iter_kml}.get(kind, _iter_csv)
    try:
        yield from reader(p, guard)
    except UnicodeDecodeError as exc:
        raise SurveyFormatError(f"{p}: cannot decode ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise SurveyFormatError(f"{p}: cannot read ({exc.strerror or exc})") from None


def read_survey(path: str | os.PathLike) -> list[SurveyRow]:
    """All rows of a survey file as a list (see :func:`iter_survey`)."""
    return list(iter_survey(path))


def text_survey(text: str, name: str = "survey.csv") -> Iterator[SurveyRow]:
    """Rows from CSV text in memory (convenience for tools and tests of the parser)."""
    rows = ((cells, str(i), i) for i, cells in enumerate(csv.reader(io.StringIO(text)), start=1))
    yield from _rows_from_table(Path(name), rows, where_fmt="line {loc}")
