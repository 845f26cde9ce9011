"""XLSX surveys, read with openpyxl in read-only mode inside guard rails.

openpyxl's reader is used for the workbook structure, shared strings, styles (date cells) and
the cells of each row; what it does not bound is bounded here:

* the archive is a :class:`~planatlas.layers.survey.guard.SafeZip`: members vetted (size,
  compression ratio, method, encryption) before anything is extracted, every read counted,
  cancellable, damaged data (``BadZipFile``, ``zlib.error``, bad CRC) a ``SurveyFormatError``;
* rows come straight from openpyxl's worksheet parser, not from ``iter_rows``, which pads every
  missing row and every row to the sheet's claimed width (a 0.7 MB file of empty rows claiming
  ``A1:XFD1048576`` took gigabytes); empty rows are skipped, only the first
  :data:`MAX_COLUMNS` columns are kept, and row dimensions, conditional formats and the other
  per-row bookkeeping openpyxl keeps for editing are dropped;
* at most :data:`~planatlas.layers.survey.guard.MAX_SHEET_ROWS` rows per sheet (Excel's limit).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from .guard import (MAX_PART_BYTES, MAX_SHEET_BYTES, MAX_SHEET_ROWS, MAX_STRINGS_BYTES, Guard,
                    SafeZip)
from .read_table import _rows_from_table
from .rows import NoSurveyHeader, SurveyFormatError, SurveyRow

__all__ = ["MAX_COLUMNS"]

MAX_COLUMNS = 512


def _member_limit(name: str) -> int:
    low = name.lower()
    if low.startswith("xl/worksheets/") and low.endswith(".xml"):
        return MAX_SHEET_BYTES
    if low.endswith("sharedstrings.xml"):
        return MAX_STRINGS_BYTES
    return MAX_PART_BYTES


class _Discard(dict):
    """A dict that keeps nothing (openpyxl's per-row dimensions are not needed to read values)."""

    def __setitem__(self, key, value) -> None:
        pass


def _rows_parser():
    from openpyxl.worksheet._reader import WorkSheetParser

    class RowsOnly(WorkSheetParser):
        """openpyxl's worksheet parser without the bookkeeping an editor needs."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.row_dimensions = _Discard()

        def _skip(self, element) -> None:
            pass

        parse_column_dimensions = parse_formatting = parse_sheet_protection = _skip
        parse_extensions = parse_legacy = parse_row_breaks = parse_col_breaks = _skip
        parse_custom_views = _skip

    return RowsOnly


def _open_workbook(path: Path, zf: SafeZip):
    from openpyxl.reader.excel import ExcelReader

    from .model import CheckCancelled

    try:
        with open(path, "rb") as fh:
            reader = ExcelReader(fh, read_only=True, data_only=True)
            reader.archive.close()
        reader.archive = zf                      # every part is read through the guarded archive
        reader.valid_files = zf.namelist()
        reader.read()
    except (SurveyFormatError, CheckCancelled):
        raise
    except ValueError as exc:               # openpyxl wraps what its readers raise
        cause = exc.__cause__
        if isinstance(cause, (SurveyFormatError, CheckCancelled)):
            raise cause from None
        raise SurveyFormatError(f"{path}: not a readable XLSX workbook ({_short(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises anything on a damaged workbook
        raise SurveyFormatError(f"{path}: not a readable XLSX workbook "
                                f"({type(exc).__name__}: {_short(exc)})") from None
    return reader.wb


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


def _sheet_rows(wb, ws, path: Path, guard: Guard, parser_cls) -> Iterator[tuple[list, str, int]]:
    """``(cells, row number, row number)`` of the non-empty rows of one sheet."""
    from .model import CheckCancelled

    src = wb._archive.open(ws._worksheet_path)
    parser = parser_cls(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                        date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
    scanned = 0
    with src:
        try:
            for idx, cells in parser.parse():
                scanned += 1
                if scanned > MAX_SHEET_ROWS or idx > MAX_SHEET_ROWS:
                    raise SurveyFormatError(f"{path}: sheet {ws.title!r} has more than "
                                            f"{MAX_SHEET_ROWS:,} rows (Excel's limit)")
                width = 0
                for c in cells:
                    col = c["column"]
                    if c["value"] is not None and col <= MAX_COLUMNS and col > width:
                        width = col
                if not width:
                    continue
                row: list[Any] = [None] * width
                for c in cells:
                    col = c["column"]
                    if col <= width and c["value"] is not None:
                        row[col - 1] = c["value"]
                yield row, str(idx), idx
        except (SurveyFormatError, CheckCancelled):
            raise
        except Exception as exc:  # noqa: BLE001 - bad XML, bad cell values, bad references
            raise SurveyFormatError(f"{path}: sheet {ws.title!r} cannot be read "
                                    f"({type(exc).__name__}: {_short(exc)})") from None


def _iter_xlsx(path: Path, guard: Guard | None = None) -> Iterator[SurveyRow]:
    guard = guard or Guard(path)
    with SafeZip(path, guard, what="XLSX workbook", limits=_member_limit,
                 markup_run=1 << 20, chunk=64 * 1024) as zf:
        wb = _open_workbook(path, zf)
        parser_cls = _rows_parser()
        errors: list[str] = []
        found = False
        offset = 0
        multi = len(wb.worksheets) > 1
        for ws in wb.worksheets:
            if not hasattr(ws, "_worksheet_path"):    # chartsheets have no cells
                continue
            fmt = (f"sheet {ws.title} row {{loc}}" if multi else "row {loc}")
            try:
                last = 0
                for sr in _rows_from_table(path, _sheet_rows(wb, ws, path, guard, parser_cls),
                                           where_fmt=fmt, guard=guard):
                    found = True
                    last = sr.row
                    sr.row += offset
                    yield sr
                offset += last
            except NoSurveyHeader as exc:       # a sheet of notes, a cover sheet: try the next
                errors.append(f"sheet {ws.title!r}: {str(exc).split(': ', 1)[-1]}")
        if not found and errors:
            raise SurveyFormatError(f"{path}: " + "; ".join(errors))
        if not found:
            raise SurveyFormatError(f"{path}: the workbook has no data rows")
