"""One observed site of a survey file, and the error for files that cannot be read as surveys."""
from __future__ import annotations

import math
from dataclasses import dataclass

from planatlas.layers.errors import InputError

__all__ = ["SurveyRow", "SurveyFormatError", "NoSurveyHeader", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".gpx", ".kml", ".kmz")


class SurveyFormatError(InputError):
    """The file as a whole cannot be read as a survey (says which file and why)."""


class NoSurveyHeader(SurveyFormatError):
    """A table (a CSV file, an XLSX sheet) has no header row with coordinate columns."""


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
