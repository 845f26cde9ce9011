"""Reading plan texts: encoding detection and normalisation of messy official documents.

The seeds are exported from PDFs and web pages: hard line breaks mid-phrase, page numbers
(``- 3 -``), table-of-contents dot leaders, markdown ``**`` residue, footnotes (``¹ …``) placed in
the middle of the sentence they annotate, and tab-separated tables.  :func:`paragraphs` turns the
original lines into logical paragraphs while remembering, for every character, the original
1-based line it came from — every clause and target can then cite its source line.
"""
from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass

from planatlas.layers.encoding import EncodingGuess, guess_encoding
from planatlas.layers.errors import InputError


class PlanTextError(InputError):
    """A plan file that cannot be read: says what is wrong and where."""


def decode(data: bytes, path: str = "<bytes>") -> tuple[str, str]:
    """Decode a plan file. Returns ``(text, encoding)``.

    Accepts UTF-8 (with or without BOM), UTF-16 with BOM, GB18030 (a superset of GBK/GB2312)
    and Big5 (``cp950``); GB18030 and Big5 are told apart by :mod:`planatlas.layers.encoding`.
    """
    if not data or not data.strip():
        raise PlanTextError(f"{path}: the file is empty")
    try:
        encoding, text = guess_encoding(data)
    except EncodingGuess as exc:
        raise PlanTextError(f"{path}: {_utf8_problem(data)}{exc}") from None
    if encoding == "utf-8-sig":
        return _strict(data[3:], "utf-8", path, "utf-8-sig"), "utf-8-sig"
    if encoding == "utf-16":
        return _strict(data, "utf-16", path, "utf-16"), "utf-16"
    if encoding != "utf-8" and _cjk_ratio(text) < 0.2:
        raise PlanTextError(f"{path}: {_utf8_problem(data)}decoded as {encoding} it does not look "
                            "like Chinese text")
    return text, encoding


def _utf8_problem(data: bytes) -> str:
    """Where UTF-8 decoding fails ("cannot decode as UTF-8 (line 3, byte offset 17); ")."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"cannot decode as UTF-8 (line {line}, byte offset {exc.start}); "
    return ""


def _strict(data: bytes, codec: str, path: str, label: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise PlanTextError(f"{path}: invalid {label} at byte offset {exc.start}") from None


def _cjk_ratio(text: str, sample: int = 1 << 20) -> float:
    """Share of CJK ideographs among the visible characters of (the start of) ``text``."""
    head = text[:sample]
    visible = len(head) - len(_SPACE_RE.findall(head))
    if visible <= 0:
        return 0.0
    return len(_CJK_RE.findall(head)) / visible


_SPACE_RE = re.compile(r"\s")
_CJK_RE = re.compile("[\u4e00-\u9fff]")
# line breaks an editor shows: LF, CRLF, CR (old Mac), NEL, LINE and PARAGRAPH SEPARATOR
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
# other control characters inside a line: form feed / vertical tab (PDF page breaks) become
# spaces, the rest (C0 and C1 controls, DEL, zero-width no-break space) are dropped
_CONTROL_SPACE = re.compile("[\x0b\x0c\x1c-\x1f]")
_CONTROL_DROP = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ufeff]")


def split_lines(text: str) -> list[str]:
    """Original lines as an editor numbers them: split at LF, CRLF, CR, NEL, U+2028, U+2029."""
    if "\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text:
        return _LINE_BREAK.split(text)
    return text.split("\n")          # the common case, several times faster


# ---------------------------------------------------------------- line classification
_CN = "一二三四五六七八九十百零〇两"
PAGE_NUMBER = re.compile(r"^[-—–－]\s*\d{1,4}\s*[-—–－]$|^第\s*\d{1,4}\s*页$|^\d{1,3}\s*/\s*\d{1,3}$")
TOC_TITLE = re.compile(r"^目\s*录$")
_TOC_LEADERS = ("...", "……", "···", "．．．", "----")


def toc_line(s: str) -> bool:
    """A table-of-contents line: dot leaders (``....``, ``……``, ``···``) then a page number.

    (Checked from the end of the line; a regular expression searched over a long line of dots
    would take quadratic time.)"""
    t = s.rstrip()
    k = 0
    while k < 5 and k < len(t) and t[-1 - k].isdecimal():
        k += 1
    if k > 4:
        return False
    return t[: len(t) - k].rstrip().endswith(_TOC_LEADERS)


def _ends_with_digit(s: str) -> bool:
    return s.rstrip()[-1:].isdecimal()
FOOTNOTE = re.compile(r"^([¹²³⁴⁵⁶⁷⁸⁹⁰]+|\[\d{1,2}\]|注\s*\d{1,2}\s*[:：])\s*")
FOOTNOTE_MARK = re.compile(r"[¹²³⁴⁵⁶⁷⁸⁹⁰]+")
MARKDOWN = re.compile(r"\*\*|__|^#{1,6}\s+|^>\s+")
SENTENCE_END = "。！？；"
SOFT_END = "。！？；：:”’）)」』】"


def clean_line(raw: str) -> str:
    """Strip white space (incl. full-width), control characters and markdown residue from a line."""
    s = _CONTROL_DROP.sub("", _CONTROL_SPACE.sub(" ", raw)).replace("\u3000", " ").strip()
    s = MARKDOWN.sub("", s).strip()
    return s


class Paragraph:
    """A logical paragraph: its text and, per segment, where it starts and which line it came from.

    Segments are collected in a list and joined once (building a long paragraph by string
    concatenation would take quadratic time)."""

    __slots__ = ("_parts", "_len", "_last", "spans", "kind")

    def __init__(self, kind: str = "text"):
        self._parts: list[str] = []
        self._len = 0
        self._last = ""
        self.spans: list[tuple[int, int]] = []     # (offset in text, original line)
        self.kind = kind                           # text | table_row

    @property
    def text(self) -> str:
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @property
    def first_line(self) -> int:
        return self.spans[0][1]

    @property
    def last_line(self) -> int:
        return self.spans[-1][1]

    @property
    def last_char(self) -> str:
        return self._last

    def add(self, segment: str, line: int) -> None:
        if self._len and segment:
            if self._last.isascii() and self._last.isalnum() and segment[0].isascii() \
                    and segment[0].isalnum():
                self._parts.append(" ")
                self._len += 1
        self.spans.append((self._len, line))
        if segment:
            self._parts.append(segment)
            self._len += len(segment)
            self._last = segment[-1]

    def __len__(self) -> int:
        return self._len


@dataclass
class Footnote:
    marker: str
    text: str
    line: int


def _is_hard_wrapped(lines: list[str]) -> tuple[bool, float]:
    """Does the document break lines mid-sentence at a fixed width? Returns (hard, width)."""
    content = [clean_line(l) for l in lines]
    content = [c for c in content if c and not PAGE_NUMBER.match(c) and not toc_line(c)]
    if len(content) < 10:
        return False, 0.0
    lengths = [len(c) for c in content]
    width = statistics.quantiles(lengths, n=4)[2] if len(lengths) >= 4 else max(lengths)
    open_ends = sum(1 for c in content if c[-1] not in SOFT_END)
    return (open_ends / len(content) > 0.45 and width < 80), float(width)


def paragraphs(lines: list[str], is_heading, is_table_start) -> tuple[list[Paragraph], list[Footnote]]:
    """Group original lines into logical paragraphs.

    ``is_heading(text) -> bool`` and ``is_table_start(text) -> bool`` come from the clause parser
    (headings always start a new paragraph; a heading without a full stop stands alone).
    """
    hard, width = _is_hard_wrapped(lines)
    out: list[Paragraph] = []
    notes: list[Footnote] = []
    cur: Paragraph | None = None
    in_toc = False
    in_table = False
    last_raw_len = 0

    def close():
        nonlocal cur
        if cur is not None and len(cur):
            out.append(cur)
        cur = None

    for number, raw in enumerate(lines, start=1):
        has_tab = "\t" in raw
        s = clean_line(raw)
        if not s:
            continue
        if PAGE_NUMBER.match(s):
            continue
        if TOC_TITLE.match(s):
            in_toc = True
            continue
        if toc_line(s) and (in_toc or _ends_with_digit(s)):
            continue
        in_toc = False
        m = FOOTNOTE.match(s)
        if m and not is_heading(s):
            notes.append(Footnote(m.group(1), s[m.end():].strip(), number))
            continue
        if is_table_start(s):
            close()
            cur = Paragraph()
            cur.add(s, number)
            close()
            in_table = True
            continue
        if in_table and has_tab:
            close()
            cells = [re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", c.strip()) for c in raw.split("\t")]
            row = Paragraph(kind="table_row")
            row.add("\t".join(cells).rstrip("\t"), number)
            if row.text.strip():
                out.append(row)
            continue
        in_table = False
        if is_heading(s):
            close()
            cur = Paragraph()
            cur.add(s, number)
            if "。" not in s and len(s) <= 60:
                close()           # a title line stands alone
            last_raw_len = len(s)
            continue
        if cur is not None:
            prev_end = cur.last_char
            if hard:
                join = not (prev_end in "。！？；）)" and last_raw_len < 0.85 * width)
            else:
                join = prev_end not in SOFT_END
            if join:
                cur.add(s, number)
                last_raw_len = len(s)
                continue
            close()
        cur = Paragraph()
        cur.add(s, number)
        last_raw_len = len(s)
    close()
    return out, notes


def squeeze(text: str) -> str:
    """Remove all white space (for tolerant comparisons with the original text)."""
    return re.sub(r"\s+", "", text)


def normalise_name(text: str) -> str:
    """Tolerant form of a Chinese place name: NFKC, no spaces/punctuation, case-folded."""
    t = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\-—–·・.,，、。:：;；'\"“”‘’()（）\[\]【】《》<>]+", "", t)
