"""Structural checks of a freshly written file, before it replaces the previous one.

Qt's PDF and SVG writers and GDAL's GPX writer do not report failed writes (a full disk gives a
silently truncated file), so :func:`planatlas.layers.fsutil.durable_path` verifies every file by
its type before moving it into place:

* PDF — header, the ``startxref`` offset points at the cross-reference table and every object
  it lists starts where the table says (catches truncation and holes);
* PNG — signature, every chunk's length and CRC, ending with ``IEND``;
* XML (SVG, GPX, KML) — well-formed to the end (streamed through expat);
* ZIP (XLSX, KMZ) — central directory readable and every member's CRC correct;
* SQLite (GeoPackage) — ``PRAGMA quick_check`` is ``ok``;
* JSON (GeoJSON) — parses.

Other types (CSV, HTML, text) are written by Python code whose writes raise on failure.
"""
from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path

from .errors import WriteFailed

__all__ = ["FileCheckError", "check_output", "KINDS"]

KINDS = {".pdf": "pdf", ".png": "png", ".svg": "xml", ".gpx": "xml", ".kml": "xml",
         ".xlsx": "zip", ".kmz": "zip", ".gpkg": "sqlite", ".geojson": "json", ".json": "json"}


class FileCheckError(WriteFailed):
    """A written file is incomplete or damaged (the writer failed without saying so)."""


def check_output(path: str | Path, suffix: str | None = None) -> None:
    """Raise :class:`FileCheckError` if the file at ``path`` is not a complete file of the type
    its ``suffix`` (default: the path's own) names; unknown types only need to exist."""
    path = Path(path)
    kind = KINDS.get((suffix if suffix is not None else path.suffix).lower())
    if kind is None:
        return
    if path.stat().st_size == 0:
        raise FileCheckError("the written file is empty")
    globals()[f"_check_{kind}"](path)


def _check_pdf(path: Path) -> None:
    data = path.read_bytes()
    if not data.startswith(b"%PDF-"):
        raise FileCheckError("the PDF has no header")
    tail = data[-1024:]
    if b"%%EOF" not in tail:
        raise FileCheckError("the PDF is truncated (no %%EOF marker)")
    m = list(re.finditer(rb"startxref\s+(\d+)", tail))
    if not m:
        raise FileCheckError("the PDF is truncated (no startxref)")
    xref = int(m[-1].group(1))
    if data[xref:xref + 4] != b"xref":
        if re.match(rb"\d+\s+\d+\s+obj", data[xref:xref + 32]):
            return            # a cross-reference stream (PDF 1.5): the offset itself checks out
        raise FileCheckError("the PDF's cross-reference offset is wrong (file damaged)")
    pos = xref + 4
    section = re.compile(rb"\s*(\d+)\s+(\d+)\s*\r?\n")
    entry = re.compile(rb"(\d{10}) (\d{5}) ([nf])\s{1,2}")
    while True:
        sm = section.match(data, pos)
        if not sm:
            break
        pos = sm.end()
        for _ in range(int(sm.group(2))):
            em = entry.match(data, pos)
            if not em:
                raise FileCheckError("the PDF's cross-reference table is damaged")
            pos = em.end()
            if em.group(3) == b"n":
                off = int(em.group(1))
                if not re.match(rb"\d+\s+\d+\s+obj", data[off:off + 32]):
                    raise FileCheckError(f"the PDF is damaged (no object at offset {off})")


def _check_png(path: Path) -> None:
    with open(path, "rb") as fh:
        if fh.read(8) != b"\x89PNG\r\n\x1a\n":
            raise FileCheckError("the PNG has no signature")
        while True:
            head = fh.read(8)
            if len(head) < 8:
                raise FileCheckError("the PNG is truncated (no IEND chunk)")
            length, ctype = struct.unpack(">I4s", head)
            crc = zlib.crc32(ctype)
            left = length
            while left:
                block = fh.read(min(left, 1 << 20))
                if not block:
                    raise FileCheckError("the PNG is truncated")
                crc = zlib.crc32(block, crc)
                left -= len(block)
            stored = fh.read(4)
            if len(stored) < 4 or struct.unpack(">I", stored)[0] != crc:
                raise FileCheckError(f"the PNG is damaged (bad CRC in {ctype!r} chunk)")
            if ctype == b"IEND":
                return


def _check_xml(path: Path) -> None:
    import pyexpat

    parser = pyexpat.ParserCreate()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                parser.Parse(block, False)
            parser.Parse(b"", True)
    except pyexpat.ExpatError as exc:
        raise FileCheckError(f"the XML is not well-formed ({exc})") from None


def _check_zip(path: Path) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise FileCheckError(f"the ZIP container is damaged ({exc})") from None
    if bad is not None:
        raise FileCheckError(f"the ZIP member {bad} is damaged")


def _check_sqlite(path: Path) -> None:
    import sqlite3

    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = con.execute("PRAGMA quick_check").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise FileCheckError(f"the database is damaged ({exc})") from None
    if not row or row[0] != "ok":
        raise FileCheckError(f"the database is damaged ({row[0] if row else 'no answer'})")


def _check_json(path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FileCheckError(f"the JSON is incomplete ({exc})") from None
