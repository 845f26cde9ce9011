"""Limits every survey reader enforces, cancellation, and archives opened with care.

Survey files come from phones, GPS receivers and spreadsheets made by other people, so a reader
must never let a small file take unbounded memory or time. The stated limits (refused with a
message naming the limit, as :class:`SurveyFormatError`):

* at most :data:`MAX_ROWS` data rows (Excel's limit, 1,048,576), and :data:`MAX_TEXT_CHARS`
  characters of kept text (names, ids, notes, dates) in one survey — the check keeps every row,
  as columns (a million rows check in well under 500 MB);
* a CSV line may be :data:`MAX_LINE_CHARS` long and one record (quoted line breaks included)
  :data:`MAX_RECORD_CHARS`;
* in an XML file (GPX/KML) no single token (comment, tag, attribute) above :data:`MAX_XML_TOKEN`
  bytes and no entity declarations (entity bombs, external entities);
* ZIP archives (XLSX, KMZ): at most :data:`MAX_MEMBERS` members, only *stored* or *deflated*
  members, no encrypted ones, each member below its size limit and — for members over 1 MB —
  a compression ratio of at most :data:`MAX_RATIO`; all checked from the central directory
  before anything is extracted, and the bytes really extracted are counted again.

``cancel`` callables are polled at least every :data:`CANCEL_POLL_S` seconds while a file is
read, also inside long rows and archive members.
"""
from __future__ import annotations

import time
import zipfile
import zlib
from pathlib import Path
from typing import Callable

from .rows import SurveyFormatError, SurveyRow

__all__ = ["MAX_ROWS", "MAX_TEXT_CHARS", "MAX_LINE_CHARS", "MAX_RECORD_CHARS", "MAX_XML_TOKEN",
           "MAX_MEMBERS", "MAX_RATIO", "Guard", "SafeZip", "CANCEL_POLL_S"]

MAX_ROWS = 1_048_576               # Excel's own row limit; a checked row costs ~200 bytes
MAX_TEXT_CHARS = 50_000_000
MAX_LINE_CHARS = 1_000_000
MAX_RECORD_CHARS = 4_000_000
MAX_XML_TOKEN = 32 * 2**20
MAX_XML_BYTES = 1024 * 2**20        # uncompressed GPX/KML
MAX_MEMBERS = 4096
MAX_RATIO = 100
MAX_SHEET_BYTES = 128 * 2**20       # one uncompressed worksheet
MAX_STRINGS_BYTES = 32 * 2**20      # shared strings (openpyxl holds them all)
MAX_PART_BYTES = 16 * 2**20         # any other XLSX part (styles, workbook, relationships)
MAX_SHEET_ROWS = 1_048_576          # Excel's own limit
CANCEL_POLL_S = 0.05


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


class Guard:
    """Counts rows and kept text of one survey and polls ``cancel``."""

    def __init__(self, path: Path, cancel: Callable[[], bool] | None = None):
        self.path = path
        self.cancel = cancel
        self.rows = 0
        self.chars = 0
        self._next_poll = 0.0

    def poll(self) -> None:
        """Raise :class:`CheckCancelled` if ``cancel()`` says so (polled at most every 50 ms)."""
        if self.cancel is None:
            return
        now = time.monotonic()
        if now < self._next_poll:
            return
        self._next_poll = now + CANCEL_POLL_S
        if self.cancel():
            from .model import CheckCancelled

            raise CheckCancelled(f"reading {self.path.name} cancelled")

    def take(self, row: SurveyRow) -> SurveyRow:
        """Account for one row about to be yielded; refuse above the limits."""
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise SurveyFormatError(
                f"{self.path}: more than {MAX_ROWS:,} data rows (the limit of one survey); "
                "split the file")
        for text in (row.name, row.fid, row.notes, row.date, row.status):
            if text is not None:
                self.chars += len(text)
        if self.chars > MAX_TEXT_CHARS:
            raise SurveyFormatError(
                f"{self.path}: more than {MAX_TEXT_CHARS:,} characters of names and notes "
                f"(the limit of one survey) by {row.where}; split the file")
        self.poll()
        return row


    def take_many(self, rows: int, chars: int, where: str) -> None:
        """Account for ``rows`` rows with ``chars`` characters of kept text at once (a chunk
        read column-wise; ``where`` is its last row); the same limits as :meth:`take`."""
        self.rows += rows
        if self.rows > MAX_ROWS:
            raise SurveyFormatError(
                f"{self.path}: more than {MAX_ROWS:,} data rows (the limit of one survey); "
                "split the file")
        self.chars += chars
        if self.chars > MAX_TEXT_CHARS:
            raise SurveyFormatError(
                f"{self.path}: more than {MAX_TEXT_CHARS:,} characters of names and notes "
                f"(the limit of one survey) by {where}; split the file")
        self.poll()


def zip_failure(path: Path, exc: BaseException, what: str = "archive",
                member: str | None = None) -> SurveyFormatError:
    """The message for a damaged ZIP (XLSX/KMZ), from any error the zip/zlib/lzma code raises."""
    reason = " ".join(str(exc).split())[:200] or type(exc).__name__
    where = f"; member {member} is damaged" if member else ""
    return SurveyFormatError(f"{path}: not a readable {what}{where} ({type(exc).__name__}: {reason})")


ZIP_ERRORS: tuple[type[BaseException], ...] = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error,
                                               EOFError, NotImplementedError, RuntimeError,
                                               OSError, ValueError, KeyError, IndexError)
try:  # the lzma module is optional in CPython builds
    import lzma

    ZIP_ERRORS += (lzma.LZMAError,)
except ImportError:  # pragma: no cover
    pass


class _Member:
    """A readable archive member that counts what it extracts, polls cancel and converts errors."""

    def __init__(self, raw, info: zipfile.ZipInfo, limit: int, zf: "SafeZip"):
        self.raw = raw
        self.info = info
        self.limit = limit
        self.zf = zf
        self.count = 0
        self.since_markup = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while block := self.read(1 << 20):
                parts.append(block)
            return b"".join(parts)
        self.zf.guard.poll()
        try:
            data = self.raw.read(max(n, self.zf.chunk))
        except SurveyFormatError:
            raise
        except ZIP_ERRORS as exc:
            raise zip_failure(self.zf.path, exc, self.zf.what, self.info.filename) from None
        self.count += len(data)
        if self.count > self.limit:
            raise SurveyFormatError(
                f"{self.zf.path}: member {self.info.filename} extracts to more than "
                f"{_mb(self.limit)} (the limit)")
        if self.zf.markup_run:
            cut = data.rfind(b"<")
            self.since_markup = (len(data) - cut) if cut >= 0 else self.since_markup + len(data)
            if self.since_markup > self.zf.markup_run:
                raise SurveyFormatError(
                    f"{self.zf.path}: member {self.info.filename} has over "
                    f"{_mb(self.zf.markup_run)} without markup (a giant cell, comment or tag)")
        return data

    def close(self) -> None:
        self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SafeZip(zipfile.ZipFile):
    """A ZipFile whose members are vetted from the central directory before any extraction and
    whose reads are counted, cancellable and raise :class:`SurveyFormatError` when damaged.

    ``limits(name) -> int`` gives the largest uncompressed size allowed for a member.
    ``markup_run`` (bytes) refuses members with a longer run without ``<`` (XML only).
    """

    def __init__(self, path: Path, guard: Guard, *, what: str, limits: Callable[[str], int],
                 markup_run: int = 0, chunk: int = 256 * 1024):
        self.path = path
        self.guard = guard
        self.what = what
        self.member_limit = limits
        self.markup_run = markup_run
        self.chunk = chunk
        try:
            super().__init__(path)
        except ZIP_ERRORS as exc:
            raise zip_failure(path, exc, what) from None
        try:
            self._vet()
        except BaseException:
            self.close()
            raise

    def _vet(self) -> None:
        infos = self.infolist()
        if len(infos) > MAX_MEMBERS:
            raise SurveyFormatError(f"{self.path}: {len(infos):,} archive members (limit {MAX_MEMBERS:,})")
        for info in infos:
            name = info.filename
            if info.flag_bits & 0x1:
                raise SurveyFormatError(f"{self.path}: member {name} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise SurveyFormatError(
                    f"{self.path}: member {name} uses compression method {info.compress_type} "
                    "(only stored and deflated members are read)")
            limit = self.member_limit(name)
            if info.file_size > limit:
                raise SurveyFormatError(f"{self.path}: member {name} extracts to "
                                        f"{_mb(info.file_size)} (limit {_mb(limit)})")
            if info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise SurveyFormatError(
                    f"{self.path}: member {name} is compressed {info.file_size / max(info.compress_size, 1):,.0f}:1 "
                    f"(limit {MAX_RATIO}:1; a zip bomb?)")

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):  # noqa: D102
        if mode != "r":
            raise ValueError("SafeZip is read-only")
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        try:
            raw = super().open(info, "r")
        except ZIP_ERRORS as exc:
            raise zip_failure(self.path, exc, self.what, info.filename) from None
        return _Member(raw, info, self.member_limit(info.filename), self)

    def read(self, name, pwd=None) -> bytes:  # noqa: D102
        with self.open(name) as fh:
            return fh.read()
