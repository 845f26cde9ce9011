"""Compare what plans promise: targets of every plan side by side by canonical indicator.

    from planatlas.layers.compare import compare
    rows = compare(atlas, indicators=["retail_sales"], plans=None)
    rows[0].to_dict()   # plan, indicator, value as written and normalised, year, clause, citation …

Every target of every plan (seed or imported) is mapped with :func:`layers.indicators.classify`
(its clause text as context). A row keeps the value and unit as written and adds the value
normalised to the base unit of its dimension (元, TEU, t, 人次 …) and in the display unit
(亿元, 万标箱, 万吨, 万人次).

Annual growth (``CompareRow.growth``), where the plan makes it possible, is one of:

* ``stated`` — the plan states a growth rate (社会消费品零售总额年均增长 5%); taken as written;
* ``cagr`` — the plan gives a base and a target of the same indicator: a baseline figure or an
  earlier target (2020 年 1407.2 亿元 → 2025 年 1800 亿元);
  annual % = ((target / base) ** (1 / (target year − base year)) − 1) × 100;
* ``multiple`` — a relative target (较2025年翻一番 by 2027): annual % =
  (multiple ** (1 / (target year − basis year)) − 1) × 100; the implied level (2 × the 2025
  target) is given as ``implied`` when the plan states the basis-year figure.

Only levels measured in amounts, containers, tonnes, visits or persons are annualised (not counts,
shares or cumulative 累计 sums); a target without a year is not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from .export.records import citation_label
from .indicators import OTHER, Match, Quantity, Vocabulary, classify, normalise, vocabulary
from .model import Plan, Target

__all__ = ["CompareRow", "compare", "map_plan", "rows_of", "plan_label", "GROWABLE_DIMS",
           "COMPARATOR_SIGNS"]

GROWABLE_DIMS = ("CNY", "USD", "TEU", "t", "person_times", "persons", "pieces")
# how a comparator is shown before a number (突破 ＞1500, 不少于 ≥100, 左右 ≈10)
COMPARATOR_SIGNS = {">": "＞", ">=": "≥", "~": "≈", "<": "＜", "<=": "≤", "=": "", "range": ""}
_CUMULATIVE = re.compile(r"累计")
_BASIS_YEAR = re.compile(r"(20\d\d)")


@dataclass
class CompareRow:
    plan: str
    plan_label: str              # 滨海新区 / 中山市
    key: str                     # canonical indicator, or "other"
    target: Target
    match: Match
    clause_number: str
    clause_heading: str
    citation: str                # "binhai 三 L26"
    period_end: int              # the plan's last year (where a target without a year is drawn)
    quantity: Quantity | None    # normalised value (None for a unit the vocabulary lacks)
    duplicate_of: str | None = None      # the same figure stated again (summary and body)
    cumulative: bool = False             # a sum over the plan period (累计)
    implied: dict[str, Any] | None = None     # level implied by a relative target
    growth: dict[str, Any] | None = None      # annual growth, how computed

    @property
    def year(self) -> int | None:
        return self.target.year

    def to_dict(self, vocab: Vocabulary | None = None) -> dict[str, Any]:
        vocab = vocab or vocabulary()
        t, q = self.target, self.quantity
        ind = vocab.get(self.key)
        return {
            "plan": self.plan, "plan_label": self.plan_label,
            "indicator": self.key, "label": vocab.label(self.key, "zh"),
            "label_en": vocab.label(self.key, "en"), "group": ind.group if ind else OTHER,
            "year": t.year, "comparator": t.comparator, "value": t.value, "upper": t.upper,
            "unit": t.unit,
            "normalised": None if q is None else {
                "value": q.value, "upper": q.upper, "unit": q.unit, "dimension": q.dim,
                "display": q.display, "display_upper": q.display_upper,
                "display_unit": q.display_unit},
            "basis": t.basis, "period": t.period, "cumulative": self.cumulative,
            "scope": t.scope, "kind": t.kind,
            "target": t.id, "clause": t.clause, "clause_number": self.clause_number,
            "clause_heading": self.clause_heading, "line": t.line, "citation": self.citation,
            "source_indicator": t.indicator, "surface": t.surface,
            "evidence": self.match.evidence.to_dict(),
            "duplicate_of": self.duplicate_of, "implied": self.implied, "growth": self.growth,
        }


def plan_label(plan: Plan) -> str:
    from .cite import plan_label as label
    return label(plan, "zh")


def map_plan(plan: Plan, vocab: Vocabulary | None = None, *, clause_text=None) -> list[CompareRow]:
    """Every target of ``plan`` (targets and baselines) as a row with its canonical indicator,
    normalised value, duplicates marked and annual growth where computable."""
    vocab = vocab or vocabulary()
    clauses = {c.id: c for c in plan.clauses}
    rows: list[CompareRow] = []
    for t in plan.targets:
        c = clauses.get(t.clause)
        text = clause_text(t.clause) if clause_text else (c.text if c else None)
        match = classify(t, text, vocab)
        rows.append(CompareRow(
            plan=plan.id, plan_label=plan_label(plan), key=match.key, target=t, match=match,
            clause_number=c.number if c else "", clause_heading=c.heading if c else "",
            citation=citation_label(plan.id, t.clause, t.line), period_end=plan.period[1],
            quantity=normalise(t.value, t.unit, t.upper, vocab),
            cumulative=bool(_CUMULATIVE.search(f"{t.indicator} {t.surface}"))))
    _mark_duplicates(rows)
    _annualise(rows, vocab)
    return rows


def _mark_duplicates(rows: list[CompareRow]) -> None:
    """The same figure stated twice (a summary and a body clause, prose and 表1) is one target:
    same indicator, kind, comparator, value, unit and synonym, and the same year or no year.
    The first statement with a year is kept; the others point to it."""
    groups: dict[tuple, list[CompareRow]] = {}
    for r in rows:
        if r.key != OTHER:
            t = r.target
            groups.setdefault((r.key, t.kind, t.comparator, t.value, t.upper, t.unit, t.basis,
                               r.match.evidence.matched), []).append(r)
    for same in groups.values():
        years = sorted({r.year for r in same if r.year is not None}) or [None]
        for year in years:
            one = [r for r in same if r.year in (year, None)]
            keep = next((r for r in one if r.year is not None), one[0])
            for r in one:
                if r is not keep and r.duplicate_of is None:
                    r.duplicate_of = keep.target.id


def _annualise(rows: list[CompareRow], vocab: Vocabulary) -> None:
    levels = [r for r in rows if r.key != OTHER and r.quantity is not None and not r.cumulative
              and r.quantity.dim in GROWABLE_DIMS and r.year is not None and r.duplicate_of is None
              and r.target.comparator != "range"]
    for r in rows:
        t = r.target
        if r.key == OTHER:
            continue
        if _is_growth_key(r.key, vocab):
            r.growth = {"annual_pct": t.value, "comparator": t.comparator, "method": "stated",
                        "how": "stated in the plan"}
        elif r.quantity is not None and r.quantity.dim == "ratio" and t.basis and r.year:
            by = _BASIS_YEAR.search(t.basis)
            if not by or int(by.group(1)) >= r.year:
                continue
            y0 = int(by.group(1))
            pct = (t.value ** (1 / (r.year - y0)) - 1) * 100
            r.growth = {"annual_pct": pct, "comparator": t.comparator, "method": "multiple",
                        "how": f"({t.value:g}) ** (1 / ({r.year} - {y0})) - 1"}
            base = _base(levels, r, y0, exact=True)
            if base is not None:
                q = base.quantity
                r.implied = {"value": q.value * t.value, "unit": q.unit, "dimension": q.dim,
                             "display": q.display * t.value, "display_unit": q.display_unit,
                             "comparator": _stronger(base.target.comparator, t.comparator),
                             "from": base.target.id,
                             "how": f"{t.value:g} × {q.display:g}{q.display_unit} ({y0}, {base.citation})"}
        elif r in levels and t.kind == "target":
            base = _base(levels, r, r.year, exact=False)
            if base is None or base.quantity.value <= 0:
                continue
            y0 = base.year
            pct = ((r.quantity.value / base.quantity.value) ** (1 / (r.year - y0)) - 1) * 100
            bq = base.quantity
            # a CAGR from an exact base keeps the target's bound; from a bound it is approximate
            cmp_ = t.comparator if base.target.comparator == "=" else "~"
            r.growth = {"annual_pct": pct, "comparator": cmp_, "method": "cagr",
                        "base": {"target": base.target.id, "kind": base.target.kind, "year": y0,
                                 "display": bq.display, "display_unit": bq.display_unit},
                        "how": (f"({r.quantity.display:g} / {bq.display:g}) ** "
                                f"(1 / ({r.year} - {y0})) - 1")}


def _is_growth_key(key: str, vocab: Vocabulary) -> bool:
    ind = vocab.get(key)
    return bool(ind and ind.growth_of)


def _base(levels: list[CompareRow], row: CompareRow, year: int, *, exact: bool) -> CompareRow | None:
    """The level of the same plan and indicator in ``year`` (``exact``), else the latest one
    before ``year`` in the same dimension; a target wins over a baseline of the same year."""
    cands = [b for b in levels if b.plan == row.plan and b.key == row.key and b is not row]
    if exact:
        cands = [b for b in cands if b.year == year]
    else:
        cands = [b for b in cands if b.year < year and b.quantity.dim == row.quantity.dim]
    return max(cands, key=lambda b: (b.year, b.target.kind == "target")) if cands else None


def _stronger(a: str, b: str) -> str:
    return a if a in (">", ">=") else b


def compare(atlas, indicators: Iterable[str] | str | None = None,
            plans: Iterable[str] | str | None = None, *, baselines: bool = False,
            include_other: bool = False, vocab: Vocabulary | None = None) -> list[CompareRow]:
    """Rows of plan × canonical indicator, ordered by the vocabulary, then plan, year and line.

    ``indicators``: keys or groups (:meth:`Vocabulary.resolve`), ``None`` = every canonical
    indicator (and ``other`` too with ``include_other``); ``plans``: ids, ``None`` = all.
    Baselines (figures describing the past) are used for growth rates and listed only with
    ``baselines``. Unknown plans or indicators raise :class:`~planatlas.layers.errors.InputError`.
    """
    from .export.records import resolve_plans
    vocab = vocab or vocabulary()
    plan_ids = resolve_plans(atlas, plans)
    keys = vocab.resolve(indicators) if indicators else None
    order = {k: i for i, k in enumerate(vocab.indicators)}
    order[OTHER] = len(order)
    plan_order = {p: i for i, p in enumerate(plan_ids)}
    out: list[CompareRow] = []
    for pid in plan_ids:
        for r in rows_of(atlas, pid, vocab):
            if r.target.kind == "baseline" and not baselines:
                continue
            if keys is not None and r.key not in keys:
                continue
            if keys is None and r.key == OTHER and not include_other:
                continue
            out.append(r)
    out.sort(key=lambda r: (order.get(r.key, len(order)), plan_order[r.plan],
                            r.year if r.year is not None else r.period_end, r.target.line))
    return out


def rows_of(atlas, plan_id: str, vocab: Vocabulary | None = None) -> list[CompareRow]:
    """The mapped rows of one plan, cached on the atlas (plans do not change while it lives)."""
    vocab = vocab or vocabulary()
    cache = atlas.__dict__.setdefault("_compare_rows", {})
    plan = atlas.plans[plan_id]
    key = (plan_id, id(plan), id(vocab))
    if key not in cache:
        cache[key] = map_plan(plan, vocab)
    return cache[key]
