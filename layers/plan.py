"""A plan as a cited clause tree.

Chinese official numbering, from the outside in::

    第X章  >  第X节  >  一、  >  （一）/(一)  >  [专栏N | 表N]  >  1. / 1、 / 1．  >  （1）

A heading of a given rank closes every open clause of the same or deeper rank, so missing
levels (a plan without chapters, 1. items directly under 一、) need no special case.  Each clause
keeps the 1-based line range of the ORIGINAL file it was read from.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path

from .model import Clause, Plan, Region
from .safetext import one_line
from .text import FOOTNOTE_MARK, Paragraph, PlanTextError, decode, paragraphs, split_lines

_CN = "一二三四五六七八九十百零〇两"
MAX_PLAN_BYTES = 20 * 2**20      # refused above this: real plans are well under 1 MB (memory ~5x the text)


@dataclass(frozen=True)
class HeadingKind:
    name: str
    rank: float
    pattern: re.Pattern


HEADINGS = (
    HeadingKind("chapter", 1, re.compile(rf"^第\s*([{_CN}\d]+)\s*章\s*(.*)$")),
    HeadingKind("section", 2, re.compile(rf"^第\s*([{_CN}\d]+)\s*节\s*(.*)$")),
    HeadingKind("cn", 3, re.compile(rf"^([{_CN}]{{1,3}})\s*[、，]\s*(?![、，。])(.+)$")),
    HeadingKind("paren_cn", 4, re.compile(rf"^[（(]\s*([{_CN}]{{1,3}})\s*[）)]\s*(.+)$")),
    HeadingKind("box", 4.5, re.compile(r"^专栏\s*(\d{1,2})\s*(.*)$")),
    HeadingKind("table", 4.5, re.compile(r"^表\s*(\d{1,2})\s+(.*)$")),
    HeadingKind("arabic", 5, re.compile(r"^(\d{1,3})\s*[.．、](?!\d)\s*(.+)$")),
    HeadingKind("paren_arabic", 6, re.compile(r"^[（(]\s*(\d{1,2})\s*[）)]\s*(.+)$")),
    HeadingKind("unnumbered", 1, re.compile(r"^(前\s*言|序\s*言|结\s*语|附\s*则)$")),
)
TRAILER = re.compile(r"^(公开方式|抄送|印发|主送)\s*[:：]")


def match_heading(text: str) -> tuple[HeadingKind, str, str] | None:
    """``(kind, number, rest)`` if ``text`` starts with a heading number."""
    for kind in HEADINGS:
        m = kind.pattern.match(text)
        if m:
            if kind.name == "unnumbered":
                return kind, re.sub(r"\s+", "", m.group(1)), ""
            number, rest = m.group(1), m.group(2).strip()
            if kind.name == "cn" and len(rest) > 0 and rest[0] in "是要":
                continue   # "一是…" style prose, not a heading
            return kind, number, rest
    return None


def printed_number(kind: HeadingKind, number: str) -> str:
    return {
        "chapter": f"第{number}章", "section": f"第{number}节", "cn": f"{number}、",
        "paren_cn": f"（{number}）", "box": f"专栏{number}", "table": f"表{number}",
        "arabic": f"{number}.", "paren_arabic": f"（{number}）", "unnumbered": number,
    }[kind.name]


def id_part(kind: HeadingKind, number: str) -> str:
    return {
        "chapter": f"第{number}章", "section": f"第{number}节", "cn": number,
        "paren_cn": f"({number})", "box": f"专栏{number}", "table": f"表{number}",
        "arabic": number, "paren_arabic": f"({number})", "unnumbered": number,
    }[kind.name]


def heading_title(rest: str) -> str:
    """The short title of a heading line: its first sentence when short, else the whole title line."""
    m = re.match(r"^(.{1,40}?)[。；]", rest)
    if m:
        return m.group(1).strip()
    if "。" not in rest and len(rest) <= 60:
        return rest.rstrip("。；：:，, ")
    return rest[:24].rstrip("，,、") + "…"


class _Builder:
    """Builds the clause list in one pass, in time linear in the text: clause texts are
    collected as lists of parts and joined once (:meth:`finish`), duplicate ids get their
    ``~N`` suffix from a counter."""

    def __init__(self, plan_id: str):
        self.plan_id = plan_id
        self.clauses: list[Clause] = []
        self.stack: list[tuple[float, Clause]] = []
        self.ids: set[str] = set()
        self.dups: dict[str, int] = {}
        self.parts: list[list[str]] = []       # text parts per clause, in clause order
        self.lengths: list[int] = []
        self.current: Clause | None = None

    def start(self, cid: str, number: str, heading: str, parent: str | None, level: int, kind: str,
              para: Paragraph | None, body: str) -> Clause:
        if cid in self.ids:
            n = self.dups.get(cid, 1)
            while True:
                n += 1
                if f"{cid}~{n}" not in self.ids:
                    break
            self.dups[cid] = n
            cid = f"{cid}~{n}"
        self.ids.add(cid)
        line = para.first_line if para else 1
        clause = Clause(id=cid, plan=self.plan_id, number=number, heading=heading, text="",
                        parent=parent, level=level, lines=(line, line), kind=kind)
        self.clauses.append(clause)
        self.parts.append([])
        self.lengths.append(0)
        self.current = clause
        if para is not None and body:
            self._append_spans(para, body)
        return clause

    def _append_spans(self, para: Paragraph, body: str, sep: str = "") -> None:
        # ``body`` is a suffix of ``para.text`` (heading number removed) — map its offsets.
        clause = self.current
        skip = len(para) - len(body)
        base = self.lengths[-1] + len(sep)
        if sep:
            self.parts[-1].append(sep)
        self.parts[-1].append(body)
        self.lengths[-1] = base + len(body)
        for off, line in para.spans:       # offsets only grow: line_map stays sorted
            clause.line_map.append((base + max(off - skip, 0), line))
        clause.lines = (clause.lines[0] if clause.line_map else para.first_line,
                        max(clause.lines[1], para.last_line))

    def append(self, para: Paragraph) -> None:
        if self.current is None:
            clause = self.start(f"{self.plan_id}:preamble", "", "（文件头）", None, 0, "preamble",
                                para, "")
            clause.lines = (para.first_line, para.first_line)
        sep = "\n" if self.lengths[-1] else ""
        self._append_spans(para, para.text, sep)

    def finish(self) -> list[Clause]:
        for clause, parts in zip(self.clauses, self.parts):
            clause.text = "".join(parts)
        self.parts = []
        return self.clauses


def parse_text(text: str, plan_id: str) -> list[Clause]:
    """Parse decoded plan text into clauses (document order)."""
    lines = split_lines(text)
    memo: dict[str, tuple | None] = {}      # each line is matched once, not three times

    def heading(s: str):
        h = memo.get(s, memo)
        if h is memo:
            h = memo[s] = match_heading(s)
        return h

    def is_heading(s: str) -> bool:
        return heading(s) is not None or bool(TRAILER.match(s))

    def is_table_start(s: str) -> bool:
        h = heading(s)
        return bool(h and h[0].name == "table")

    paras, footnotes = paragraphs(lines, is_heading, is_table_start)
    b = _Builder(plan_id)
    for para in paras:
        if TRAILER.match(para.text):
            if b.current is None or b.current.kind != "trailer":
                b.stack.clear()
                b.start(f"{plan_id}:trailer", "", "（文件尾）", None, 0, "trailer", para, para.text)
            else:
                b.append(para)
            continue
        h = heading(para.text) if para.kind == "text" else None
        if h is None:
            b.append(para)
            continue
        kind, number, rest = h
        while b.stack and b.stack[-1][0] >= kind.rank:
            b.stack.pop()
        parent = b.stack[-1][1] if b.stack else None
        path = (parent.id.split(":", 1)[1] + "." if parent else "") + id_part(kind, number)
        title = heading_title(rest) if rest else printed_number(kind, number)
        clause = b.start(f"{plan_id}:{path}", printed_number(kind, number), title,
                         parent.id if parent else None, (parent.level + 1) if parent else 1,
                         kind.name, para, rest)
        b.stack.append((kind.rank, clause))

    b.finish()
    _attach_footnotes(b.clauses, footnotes)
    if not any(c.kind not in ("preamble", "trailer") for c in b.clauses):
        raise PlanTextError("no numbered structure found (no 第X章, 一、, （一）, 1. headings): "
                            "this does not look like a plan text")
    return b.clauses


def _attach_footnotes(clauses: list[Clause], footnotes) -> None:
    """Remove footnote markers from clause text; keep each footnote as a note of the clause citing it.

    A footnote ``¹ …`` belongs to the nearest citation of its marker at or above its line (else
    the first one below); a footnote nobody cites stays with the clause whose lines surround it.
    Linear in the text and the number of footnotes (markers are removed in one pass per clause,
    citations and clause ranges are bisected)."""
    cites: dict[str, list[tuple[int, int]]] = {}      # marker -> [(line of citation, clause index)]
    for ci, clause in enumerate(clauses):
        marks = list(FOOTNOTE_MARK.finditer(clause.text))
        if not marks:
            continue
        for m in marks:
            cites.setdefault(m.group(0), []).append((clause.line_at(m.start()), ci))
        pieces, starts, removed, pos, total = [], [], [], 0, 0
        for m in marks:
            pieces.append(clause.text[pos:m.start()])
            total += m.end() - m.start()
            starts.append(m.start())
            removed.append(total)
            pos = m.end()
        pieces.append(clause.text[pos:])
        clause.text = "".join(pieces)
        new_map = []
        for o, ln in clause.line_map:
            i = bisect_left(starts, o)      # markers starting strictly before ``o`` are gone
            new_map.append((o - removed[i - 1] if i else o, ln))
        clause.line_map = new_map
    for occ in cites.values():
        occ.sort()
    firsts = [c.lines[0] for c in clauses]          # non-decreasing: clauses follow the lines
    for fn in footnotes:
        occ = cites.get(fn.marker)
        if occ:
            i = bisect_right(occ, (fn.line, len(clauses))) - 1
            target = occ[max(i, 0)][1]
        else:   # an orphan footnote stays with the clause whose lines surround it
            j = bisect_right(firsts, fn.line) - 1
            target = None
            while j >= 0 and clauses[j].lines[1] + 2 >= fn.line:
                if clauses[j].lines[0] <= fn.line:
                    target = j
                j -= 1
            if target is None:
                continue
        clauses[target].notes.append(fn.text)
        clauses[target].note_lines.append(fn.line)


def parse_plan_file(path: str | Path, plan_id: str, *, title: str | None = None, issuer: str = "",
                    issued: str = "", period: tuple[int, int] | None = None, region: Region | None = None,
                    origin: str = "seed") -> Plan:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanTextError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_plan_bytes(data, plan_id, path=str(path), title=title, issuer=issuer, issued=issued,
                            period=period, region=region, origin=origin)


def parse_plan_bytes(data: bytes, plan_id: str, *, path: str = "<bytes>", title: str | None = None,
                     issuer: str = "", issued: str = "", period: tuple[int, int] | None = None,
                     region: Region | None = None, origin: str = "seed") -> Plan:
    """Decode and parse a plan file's bytes into a :class:`Plan` (clauses and targets)."""
    if len(data) > MAX_PLAN_BYTES:
        raise PlanTextError(f"{path}: {len(data):,} bytes is more than a plan text may be "
                            f"({MAX_PLAN_BYTES // 2**20} MB, the limit; real plans are under 1 MB)")
    text, encoding = decode(data, path)
    return parse_plan_text(text, plan_id, encoding=encoding, path=path, title=title, issuer=issuer,
                           issued=issued, period=period, region=region, origin=origin)


def parse_plan_text(text: str, plan_id: str, *, encoding: str = "utf-8", path: str = "<text>",
                    title: str | None = None, issuer: str = "", issued: str = "",
                    period: tuple[int, int] | None = None, region: Region | None = None,
                    origin: str = "seed", clauses: list[Clause] | None = None,
                    targets: list | None = None) -> Plan:
    """Parse decoded plan text (from a text file, or extracted from a PDF or Word file);
    ``clauses``/``targets`` already parsed (a cache) are used as they are."""
    from .targets import extract_targets

    if clauses is None:
        try:
            clauses = parse_text(text, plan_id)
        except PlanTextError as exc:
            raise PlanTextError(f"{path}: {exc}") from None
    source_lines = split_lines(text)
    if period is None:
        period = guess_period(text)
    plan = Plan(id=plan_id, title=one_line(title) or guess_title(source_lines),
                issuer=one_line(issuer), issued=one_line(issued), period=period,
                region=region or Region("", "", "", ""), file=path, encoding=encoding,
                source_lines=source_lines, clauses=clauses, origin=origin)
    plan.targets = extract_targets(plan) if targets is None else targets
    return plan


def guess_period(text: str) -> tuple[int, int]:
    """The plan period read from the text (:func:`planatlas.layers.period.infer_period`); an
    uncertain end ("从2019年起，力争3-5年时间") becomes its latest year."""
    from .period import infer_period

    guess = infer_period(text, guess_title(split_lines(text)))
    if guess is None:
        raise PlanTextError("cannot tell the plan period: give it explicitly (the text has no "
                            "'(2023-2027年)', 十四五, 到YYYY年 or 从YYYY年起…N年)")
    return guess.as_tuple()


def guess_title(lines: list[str]) -> str:
    for raw in lines[:40]:
        s = one_line(raw[:200])
        if re.search(r"[:：,，、]|https?//|^#", s):
            continue                  # metadata ("# 来源: …", "发文字号：…") or prose, not a title
        if re.search(r"(规划|方案|计划|意见|纲要)", s) and 6 <= len(s) <= 80 and "印发" not in s:
            return s.strip("《》")
    for raw in lines:
        s = one_line(raw[:200])
        if s and not s.startswith("#"):
            return s[:60]
    return ""
