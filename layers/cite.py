"""How a clause is cited: the plan's name, the clause number with all its parents, its heading
and its source lines — "广州市 二、（二）5. 建设国际知名商圈 · 第75–77行".

Plan names, not ids, are what people read: :func:`plan_label` is the plan area's name
(滨海新区, 广州市) or, in English, its romanised form (Binhai New Area, Guangzhou).
"""
from __future__ import annotations

from .model import Clause, Plan
from .pinyin import romanise

__all__ = ["plan_label", "clause_path", "citation", "lines_label"]


def plan_label(plan: Plan, lang: str = "zh") -> str:
    """The plan area's name in ``lang`` ("zh" or "en"); the title when the plan has no region."""
    r = plan.region
    zh = r.district or r.city or r.province
    if not zh:
        return plan.title or plan.id
    return zh if lang == "zh" else romanise(zh)


def clause_path(plan: Plan, clause: Clause) -> str:
    """The numbers of the clause and its parents, outermost first: ``二、（二）5.``."""
    by_id = {c.id: c for c in plan.clauses} if len(plan.clauses) < 64 else None
    chain: list[str] = []
    c: Clause | None = clause
    seen: set[str] = set()
    while c is not None and c.id not in seen:
        seen.add(c.id)
        if c.number and c.kind not in ("preamble", "trailer"):
            chain.append(c.number)
        if not c.parent:
            break
        try:
            c = by_id[c.parent] if by_id is not None else plan.clause(c.parent)
        except KeyError:
            break
    parts = list(reversed(chain))
    # 第三章 / 第一节 read better followed by a space; 二、（二）5. run together as printed
    return "".join(p + (" " if p.startswith("第") and p[-1] in "章节编部篇" else "")
                   for p in parts).strip()


# text before the first heading and the 抄送/公开方式 end matter
_FRAME = {"preamble": {"zh": "（文件头）", "en": "(document head)"},
          "trailer": {"zh": "（文件尾）", "en": "(document end)"}}


def lines_label(first: int, last: int, lang: str = "zh") -> str:
    if lang == "zh":
        return f"第{first}行" if first == last else f"第{first}–{last}行"
    return f"line {first}" if first == last else f"lines {first}–{last}"


def citation(plan: Plan, clause: Clause, lang: str = "zh", *, lines: bool = True,
             name: bool = True) -> str:
    """``广州市 二、（二）5. 建设国际知名商圈 · 第75–77行`` (``lines``/``name`` leave parts out)."""
    heading = _FRAME.get(clause.kind, {}).get(lang, clause.heading or "")
    head = " ".join(p for p in ((plan_label(plan, lang) if name else ""), clause_path(plan, clause),
                                heading) if p)
    if lines:
        head += " · " + lines_label(clause.lines[0], clause.lines[1], lang)
    return head
