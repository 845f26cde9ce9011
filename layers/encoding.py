"""Which encoding a Chinese text file uses: UTF-8/UTF-16 (BOM), GB18030 (GBK, GB2312) or Big5.

GB18030 accepts almost any byte string, so Big5 text (Taiwan, Hong Kong, older Windows files)
decodes "successfully" as GB18030 — into mojibake. When both decodings are valid the one whose
characters look like real Chinese text wins. What a wrong decoding produces is well defined:

* Big5 read as GB18030: Big5 punctuation (``，`` A141, ``。`` A143) lands in GB18030's private
  use area, Big5's most frequent hanzi (lead bytes A4–AF) become kana, Greek, Cyrillic and box
  drawing, and every character with a trail byte below 0x7F becomes a rare GBK/4 hanzi;
* GB18030 read as Big5: full-width punctuation and digits (A3xx) become bopomofo and tone
  marks, and level-1 hanzi with lead bytes C9–D7 become rare Big5 level-2 hanzi.

So the score of a decoding is the share of "odd" characters among the non-ASCII ones: private
use, bopomofo, kana, Greek/Cyrillic, box drawing, vertical/compatibility forms, and hanzi that are
neither GB2312 hanzi nor Big5 level-1 (frequent) hanzi. Correct decodings of real plans score
near 0, mojibake 0.3–0.7. Only a sample (the first 64k non-ASCII characters) is scored.
"""
from __future__ import annotations

import codecs
import unicodedata
from functools import lru_cache

__all__ = ["EncodingGuess", "guess_encoding", "BIG5"]

BIG5 = "cp950"          # Microsoft's Big5 (the Big5 of Windows files), a superset of plain big5
_SAMPLE_CHARS = 65536


class EncodingGuess(ValueError):
    """The bytes are not text in any supported encoding (message says why)."""


@lru_cache(maxsize=65536)
def _odd(ch: str) -> bool:
    o = ord(ch)
    if o < 0x80:
        return False
    if 0xE000 <= o <= 0xF8FF or 0xF0000 <= o:                       # private use
        return True
    if 0x3040 <= o <= 0x30FF or 0x3100 <= o <= 0x312F or 0x31A0 <= o <= 0x31BF:
        return True                                                   # kana, bopomofo
    if 0x0370 <= o <= 0x04FF or 0x2500 <= o <= 0x259F or 0xFE10 <= o <= 0xFE6F:
        return True                                                   # Greek, Cyrillic, boxes, forms
    if 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FFFF:               # CJK extension A/B+
        return True
    if 0x4E00 <= o <= 0x9FFF:                                         # a hanzi: a common one?
        try:
            ch.encode("gb2312")
            return False
        except UnicodeEncodeError:
            pass
        try:
            code = int.from_bytes(ch.encode(BIG5), "big")
        except UnicodeEncodeError:
            return True
        return not 0xA440 <= code <= 0xC67E
    return unicodedata.category(ch) in ("Co", "Cn", "Cs")


def oddness(text: str) -> float:
    """Share of odd characters among the first non-ASCII characters of ``text`` (0 if none)."""
    n = odd = 0
    for ch in text:
        if ch < "\x80":
            continue
        n += 1
        odd += _odd(ch)
        if n >= _SAMPLE_CHARS:
            break
    return odd / n if n else 0.0


def _try(data: bytes, codec: str, complete: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(codec)().decode(data, final=complete)
    except UnicodeDecodeError:
        return None


def guess_encoding(data: bytes, *, complete: bool = True) -> tuple[str, str | None]:
    """``(encoding, text)`` for ``data``: a BOM, else UTF-8, else GB18030 or Big5 (the decoding
    that looks like Chinese). ``complete=False`` means ``data`` is only the start of a file
    (a character may be cut at the end). ``text`` is the decoded data (``None`` for BOM codecs,
    which the caller decodes itself). Raises :class:`EncodingGuess` for binary data or bytes
    that are valid in none of them."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise EncodingGuess(f"binary data (NUL byte at offset {nul}), not a text file")
    text = _try(data, "utf-8", complete)
    if text is not None:
        return "utf-8", text
    # score both legacy decodings on a sample; decode the whole data with the better one only
    sample = data[: 1 << 20]
    whole = len(sample) == len(data)
    scored = []
    for codec in ("gb18030", BIG5):
        t = _try(sample, codec, complete if whole else False)
        if t is not None:
            scored.append((oddness(t), codec, t))
    scored.sort(key=lambda x: x[0])
    for _, codec, t in scored:
        full = t if whole else _try(data, codec, complete)
        if full is not None:
            return codec, full
    raise EncodingGuess("not UTF-8, GB18030/GBK or Big5 text")
