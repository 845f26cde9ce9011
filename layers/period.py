"""The period a plan covers, read from its text.

Understood, strongest first: a bracketed range in the title or text (``(2023-2027年)``,
``（2022—2024年）``), a five-year-plan name (``十四五`` → 2021–2025, ``十五五`` → 2026–2030),
``从2019年起，力争3-5年时间`` (start 2019, end 2022–2024: an uncertain end), ``用3年时间`` with an
issue year, and ``到2025年`` targets (end = the latest target year, start = the issue year or the
earliest year the text names from now on).  Nothing found → ``None``: the user must say.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PeriodGuess", "infer_period", "FIVE_YEAR_PLANS"]

FIVE_YEAR_PLANS = {"十二五": (2011, 2015), "十三五": (2016, 2020), "十四五": (2021, 2025), "十五五": (2026, 2030)}
CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
RANGE = re.compile(r"[（(]\s*(20\d\d)\s*[-—–－~～至到]\s*(20\d\d)\s*年?\s*[)）]")
FROM_YEARS = re.compile(r"(?:从|自)\s*(20\d\d)\s*年(?:起|开始)?[^。；;]{0,12}?(?:力争|争取|用|经过)?\s*"
                        r"([\d一二两三四五六七八九十]+)\s*(?:[-—–－~～至到]\s*([\d一二两三四五六七八九十]+))?\s*年(?:时间|左右)?")
USE_YEARS = re.compile(r"(?:用|经过|力争用?|通过)\s*([\d一二两三四五六七八九十]+)\s*(?:[-—–－~～至到]\s*([\d一二两三四五六七八九十]+))?"
                       r"\s*年(?:左右)?(?:时间|的努力)")
BY_YEAR = re.compile(r"(?:到|至|力争到|争取到|到了)\s*(20\d\d)\s*年")
ISSUE_DATE = re.compile(r"(20\d\d)\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")


@dataclass(frozen=True)
class PeriodGuess:
    start: int
    end: int                     # the latest possible end when ``end_min`` is set
    end_min: int | None          # an uncertain end: between end_min and end ("3-5年")
    evidence: str                # the words the guess rests on

    @property
    def uncertain(self) -> bool:
        return self.end_min is not None and self.end_min != self.end

    def as_tuple(self) -> tuple[int, int]:
        return self.start, self.end

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "end_min": self.end_min, "evidence": self.evidence}


def _num(s: str) -> int:
    if s.isdigit():
        return int(s)
    if len(s) == 1:
        return CN[s]
    if s.startswith("十"):
        return 10 + CN.get(s[1:], 0)
    return CN[s[0]] * 10 + (CN.get(s[2:], 0) if len(s) > 2 else 0)


def infer_period(text: str, title: str = "", issued_year: int | None = None) -> PeriodGuess | None:
    head = title + "\n" + text[:3000]
    m = RANGE.search(title) or _own_range(head)
    if m and int(m.group(1)) <= int(m.group(2)):
        return PeriodGuess(int(m.group(1)), int(m.group(2)), None, m.group(0))
    for name, (a, b) in FIVE_YEAR_PLANS.items():
        if name in title:
            return PeriodGuess(a, b, None, name)
    m = FROM_YEARS.search(text)
    if m:
        start = int(m.group(1))
        lo = _num(m.group(2))
        hi = _num(m.group(3)) if m.group(3) else lo
        return PeriodGuess(start, start + hi, start + lo if hi != lo else None, m.group(0))
    for name, (a, b) in FIVE_YEAR_PLANS.items():
        if name in head and name != "十三五" and name != "十二五":
            return PeriodGuess(a, b, None, name)
    issued = issued_year
    if issued is None:
        d = ISSUE_DATE.search(head)
        issued = int(d.group(1)) if d else None
    by = [int(y) for y in BY_YEAR.findall(text)]
    m = USE_YEARS.search(text)
    if m and issued:
        lo = _num(m.group(1))
        hi = _num(m.group(2)) if m.group(2) else lo
        return PeriodGuess(issued, issued + hi, issued + lo if hi != lo else None, m.group(0))
    if by:
        end = max(by)
        named = [int(y) for y in re.findall(r"(?<![〔\[(（\d])(20\d\d)\s*(?:年|[和、至-]\s*20\d\d\s*年)", text) if end - 5 <= int(y) <= end]
        start = issued if issued and issued <= end else min(named + [end])
        return PeriodGuess(start, end, None, f"到{end}年")
    return None


CITING = re.compile(r"贯彻|落实|根据|按照|依据|精神|《")


def _own_range(head: str):
    """A bracketed range that is not part of another document's cited title."""
    for m in RANGE.finditer(head):
        sentence_start = max(head.rfind(ch, 0, m.start()) for ch in "。\n")
        before = head[sentence_start + 1:m.start()]
        if CITING.search(before):
            continue
        return m
    return None
