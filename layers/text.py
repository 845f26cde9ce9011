"""Reading plan texts: encoding detection and normalisation of messy official documents.

The seeds are exported from PDFs and web pages: hard line breaks mid-phrase, page numbers
(``- 3 -``), table-of-contents dot leaders, markdown ``**`` residue, footnotes (``¹ …``) placed in
the middle of the sentence they annotate, and tab-separated tables.  :func:`paragraphs` turns the
original lines into logical paragraphs while remembering, for every character, the original
1-based line it came from — every clause and target can then cite its source line.
"""
from __future__ import annotations

from planatlas.layers.errors import InputError

import re
import statistics
import unicodedata
from dataclasses import dataclass, field


class PlanTextError(InputError):
    """A plan file that cannot be read: says what is wrong and where."""


def decode(data: bytes, path: str = "<bytes>") -> tuple[str, str]:
    """Decode a plan file. Returns ``(text, encoding)``.

    Accepts UTF-8 (with or without BOM), UTF-16 with BOM and GB18030 (a superset of GBK/GB2312).
    """
    if not data or not data.strip():
        raise PlanTextError(f"{path}: the file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8", path, "utf-8-sig"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16", path, "utf-16"), "utf-16"
    if b"\x00" in data:
        nul = data.index(b"\x00")
        raise PlanTextError(f"{path}: binary data (NUL byte at offset {nul}), not a text file")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[: utf8_error.start].count(b"\n") + 1
            raise PlanTextError(
                f"{path}: cannot decode as UTF-8 (line {line}, byte offset {utf8_error.start}) "
                "nor as GB18030/GBK") from None
        if _cjk_ratio(text) < 0.2:
            raise PlanTextError(f"{path}: decodes as GB18030 but does not look like Chinese text")
        return text, "gb18030"


def _strict(data: bytes, codec: str, path: str, label: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise PlanTextError(f"{path}: invalid {label} at byte offset {exc.start}") from None


def _cjk_ratio(text: str) -> float:
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return 0.0
    return sum(1 for c in visible if "\u4e00" <= c <= "\u9fff") / len(visible)


def split_lines(text: str) -> list[str]:
    """Original lines as an editor numbers them (``\\n`` separated, ``\\r`` dropped)."""
    return [ln.rstrip("\r") for ln in text.split("\n")]


# ---------------------------------------------------------------- line classification
_CN = "一二三四五六七八九十百零〇两"
PAGE_NUMBER = re.compile(r"^[-—–－]\s*\d{1,4}\s*[-—–－]$|^第\s*\d{1,4}\s*页$|^\d{1,3}\s*/\s*\d{1,3}$")
TOC_TITLE = re.compile(r"^目\s*录$")
TOC_LINE = re.compile(r"(\.{3,}|…{2,}|·{3,}|．{3,}|-{4,})\s*\d{0,4}$")
FOOTNOTE = re.compile(r"^([¹²³⁴⁵⁶⁷⁸⁹⁰]+|\[\d{1,2}\]|注\s*\d{1,2}\s*[:：])\s*")
FOOTNOTE_MARK = re.compile(r"[¹²³⁴⁵⁶⁷⁸⁹⁰]+")
MARKDOWN = re.compile(r"\*\*|__|^#{1,6}\s+|^>\s+")
SENTENCE_END = "。！？；"
SOFT_END = "。！？；：:”’）)」』】"


def clean_line(raw: str) -> str:
    """Strip white space (incl. full-width) and markdown residue from one line."""
    s = raw.replace("\u3000", " ").replace("\ufeff", "").strip()
    s = MARKDOWN.sub("", s).strip()
    return s


@dataclass
class Paragraph:
    """A logical paragraph: its text and, per segment, where it starts and which line it came from."""
    text: str = ""
    spans: list[tuple[int, int]] = field(default_factory=list)   # (offset in text, original line)
    kind: str = "text"           # text | table_row

    @property
    def first_line(self) -> int:
        return self.spans[0][1]

    @property
    def last_line(self) -> int:
        return self.spans[-1][1]

    def add(self, segment: str, line: int) -> None:
        if self.text and segment:
            if self.text[-1].isascii() and self.text[-1].isalnum() and segment[0].isascii() and segment[0].isalnum():
                self.text += " "
        self.spans.append((len(self.text), line))
        self.text += segment


@dataclass
class Footnote:
    marker: str
    text: str
    line: int


def _is_hard_wrapped(lines: list[str]) -> tuple[bool, float]:
    """Does the document break lines mid-sentence at a fixed width? Returns (hard, width)."""
    content = [clean_line(l) for l in lines]
    content = [c for c in content if c and not PAGE_NUMBER.match(c) and not TOC_LINE.search(c)]
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
        if cur is not None and cur.text:
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
        if TOC_LINE.search(s) and (in_toc or re.search(r"\d\s*$", s)):
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
            prev_end = cur.text[-1]
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
