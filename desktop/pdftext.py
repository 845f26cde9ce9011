"""Text that extracts as printed from every PDF PlanAtlas writes (map pages, site lists, atlases).

Two things break copy/search in Qt's PDF output with the bundled Noto Sans SC, and both are
handled here, once, for every PDF writer:

* the font's ``locl`` feature swaps digits and Latin letters for glyphs outside its cmap — they
  print, but Qt cannot map them back to Unicode ("±3000 m" extracts as "±     m"), and Qt fakes
  bold by drawing text twice (doubled in extraction): :func:`pdf_font` turns both off;
* Qt's PDF writer maps each glyph back to the LOWEST code point that uses it, so 广 (U+5E7F)
  extracts as the Kangxi radical ⼴ (U+2F34): :func:`fix_pdf_tounicode` rewrites the ToUnicode
  maps of the finished file.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

__all__ = ["pdf_font", "fix_pdf_tounicode"]

_RADICALS = range(0x2E80, 0x2FE0)      # CJK Radicals Supplement + Kangxi Radicals


def pdf_font(family: str, px: float, *, bold: bool = False):
    """``family`` at ``px`` device pixels, set up so that its text extracts as printed.

    ``bold`` is accepted for symmetry but ignored: the bundled font has one weight and Qt would
    fake bold by drawing the text twice; emphasis comes from size instead."""
    from PySide6.QtGui import QFont

    f = QFont(family)
    f.setPixelSize(max(1, int(round(px))))
    f.setBold(False)
    f.setHintingPreference(QFont.PreferNoHinting)
    if hasattr(f, "setFeature"):
        f.setFeature(QFont.Tag("locl"), 0)
    return f


@lru_cache(maxsize=4)
def _radical_map(family: str) -> tuple[tuple[int, int], ...]:
    """(radical code point, unified ideograph drawn with the same glyph in ``family``) pairs."""
    from PySide6.QtGui import QRawFont

    raw = QRawFont.fromFont(pdf_font(family, 32))
    if not raw.isValid():
        return ()
    unified = "".join(chr(c) for c in range(0x4E00, 0xA000))
    by_glyph: dict[int, int] = {}
    for c, g in zip(range(0x4E00, 0xA000), raw.glyphIndexesForString(unified)):
        if g:
            by_glyph.setdefault(int(g), c)
    rads = "".join(chr(c) for c in _RADICALS)
    return tuple((c, by_glyph[int(g)]) for c, g in zip(_RADICALS, raw.glyphIndexesForString(rads))
                 if g and int(g) in by_glyph)


def fix_pdf_tounicode(path: Path, family: str) -> int:
    """Rewrite radical code points in the PDF's ToUnicode maps to the ideographs they stand for.

    Works in place on Qt's uncompressed CMaps, replacing 4-hex-digit destination codes with
    4-hex-digit codes, so no byte offset changes. Returns the number of codes replaced.
    """
    mapping = dict(_radical_map(family))
    if not mapping:
        return 0
    path = Path(path)
    data = path.read_bytes()
    count = 0
    hexmap = {f"{k:04X}".encode(): f"{v:04X}".encode() for k, v in mapping.items()}

    def fix_dst(m: "re.Match[bytes]") -> bytes:
        nonlocal count
        code = m.group(1).upper()
        if code in hexmap:
            count += 1
            return b"<" + hexmap[code] + b">"
        return m.group(0)

    def fix_cmap(m: "re.Match[bytes]") -> bytes:
        lines = []
        for line in m.group(0).split(b"\n"):
            mm = re.match(rb"^(<[0-9A-Fa-f]{4}>\s+<[0-9A-Fa-f]{4}>\s+)(.*)$", line) or \
                re.match(rb"^(<[0-9A-Fa-f]{4}>\s+)(<[0-9A-Fa-f]{4}>.*)$", line)
            if mm and b"codespacerange" not in line:
                line = mm.group(1) + re.sub(rb"<([0-9A-Fa-f]{4})>", fix_dst, mm.group(2))
            lines.append(line)
        return b"\n".join(lines)

    fixed = re.sub(rb"(?s)beginbf(?:range|char).*?endbf(?:range|char)", fix_cmap, data)
    if len(fixed) != len(data):      # pragma: no cover - same-length substitution by design
        raise RuntimeError("PDF ToUnicode fix changed the file length")
    if count:
        path.write_bytes(fixed)
    return count
