"""Field surveys: read survey files, check them against the gazetteer, report.

* :func:`iter_survey` (:mod:`.read`) streams rows from CSV (UTF-8/GBK), XLSX, GPX, KML/KMZ;
* :func:`check_survey` (:mod:`.check`) matches each row to a curated feature by id or by
  name/alias (:mod:`.names`, tolerant Chinese normalisation), works out which coordinate system
  the file uses (:mod:`.crs_detect`: WGS-84 / GCJ-02 / BD-09) and gives every row a status —
  ``confirmed`` (within ``tolerance_m``), ``moved``, ``unmatched`` or ``invalid`` (with the
  reason); features nobody reported are listed as not surveyed;
* :func:`write_report`, :func:`format_report` and :func:`report_layer` (:mod:`.report`) give
  CSV/XLSX files, a text summary and the points of a map layer.
"""
from .check import check_rows, check_survey
from .crs_detect import DETECT_CRS, detect_crs
from .model import (
    ROW_STATUSES, STATUS_COLORS, CheckCancelled, CrsChoice, RowResult, SurveyReport, feature_anchor,
)
from .names import NameIndex, normalize_name
from .read import (
    SUPPORTED_SUFFIXES, SurveyFormatError, SurveyRow, detect_encoding, iter_survey, normalize_verdict,
    parse_coord, read_survey, text_survey,
)
from .report import REPORT_COLUMNS, format_report, report_layer, write_report

__all__ = [
    "check_rows", "check_survey", "DETECT_CRS", "detect_crs", "ROW_STATUSES", "STATUS_COLORS",
    "CheckCancelled", "CrsChoice", "RowResult", "SurveyReport", "feature_anchor", "NameIndex",
    "normalize_name", "SUPPORTED_SUFFIXES", "SurveyFormatError", "SurveyRow", "detect_encoding",
    "iter_survey", "normalize_verdict", "parse_coord", "read_survey", "text_survey",
    "REPORT_COLUMNS", "format_report", "report_layer", "write_report",
]
