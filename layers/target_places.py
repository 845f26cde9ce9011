"""Which place(s) a target is about.

A target's clause may name many places (广州's 二、（一）names 26); the target is usually about
one of them, or about an enumeration right before its number ("天河路—珠江新城、长隆—万博、…5个世界级
地标商圈"). In order:

1. ``scope`` — the target's scope is a place's name (通海港区通海作业区), or a place carries the
   target's indicator (the port's 集装箱吞吐量) — the links' scoped targets;
2. ``nearest`` — in the phrase holding the number (up to the nearest comma or sentence end), the
   mention nearest the number with the mentions enumerated together with it (A、B和C); a mention
   with another figure between it and the number belongs to that figure;
3. ``clause`` — the target names no place: every place of its clause.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Clause, Target

__all__ = ["TargetPlaces", "places_of_target", "number_offset", "target_counts"]

# the phrase of the number: up to the nearest comma, colon or sentence end on either side
_PHRASE_END = re.compile(r"[。；;！？!?\n，,：:]")
# what may stand between two places of one enumeration: 、 和 及 与 以及 dashes, brackets, quotes
_ENUM_GAP = re.compile(r"^(?:[、\s—–\-－~～（）()“”\"'‘’《》]|和|及|与|以及|或)*$")


@dataclass(frozen=True)
class TargetPlaces:
    ids: list[str]
    how: str                 # scope | nearest | clause | none


def _value_texts(t: Target) -> list[str]:
    v = t.value
    out = []
    if isinstance(v, float) and v.is_integer():
        out.append(str(int(v)))
    out.append(f"{v:g}" if isinstance(v, float) else str(v))
    return list(dict.fromkeys(out))


def number_offset(clause: Clause, t: Target) -> int | None:
    """Offset in the clause text of the target's number (its surface text, on its source line)."""
    text = clause.text
    squeeze = re.sub(r"\s+", "", t.surface or "")
    spans: list[tuple[int, int]] = []
    if t.surface:
        spans = [(m.start(), m.end()) for m in re.finditer(re.escape(t.surface), text)]
    if not spans and squeeze:
        flexible = r"\s*".join(re.escape(ch) for ch in squeeze)
        spans = [(m.start(), m.end()) for m in re.finditer(flexible, text)]
    on_line = [s for s in spans if clause.line_at(s[0]) <= t.line <= clause.line_at(max(s[0], s[1] - 1))]
    span = (on_line or spans or [None])[0]
    values = _value_texts(t)
    if span is not None:
        seg = text[span[0]:span[1]]
        for v in values:
            i = seg.find(v)
            if i >= 0:
                return span[0] + i
        return span[0]
    for v in values:                      # the number itself, on its line
        for m in re.finditer(re.escape(v), text):
            if clause.line_at(m.start()) == t.line:
                return m.start()
    return None


def _phrase(text: str, pos: int) -> tuple[int, int]:
    start = 0
    for m in _PHRASE_END.finditer(text, 0, pos):
        start = m.end()
    m = _PHRASE_END.search(text, pos)
    return start, (m.start() if m else len(text))


def _other_figure_between(text: str, start: int, end: int, pos: int) -> bool:
    """True when another figure stands between a mention and the number (…5个枢纽、10个… : the
    places before 5个 are not what 10个 is about)."""
    if end <= pos:
        gap = text[end:pos]
    else:
        m = re.match(r"[\d.]+", text[pos:])
        gap = text[pos + (m.end() if m else 0):start]
    return bool(re.search(r"\d", gap))


def _nearest_group(text: str, pos: int, spans: list[tuple[int, int, str]]) -> list[str]:
    """The mention nearest ``pos`` and those enumerated with it (only gaps of 、/和/及/— …)."""
    def dist(s):
        return 0 if s[0] <= pos < s[1] else min(abs(pos - s[0]), abs(pos - s[1]))
    spans = sorted(set(spans))
    best = min(spans, key=lambda s: (dist(s), s[0] > pos))
    i = spans.index(best)
    group = [best]
    j = i - 1
    while j >= 0 and (spans[j][1] > group[0][0] or _ENUM_GAP.match(text[spans[j][1]:group[0][0]])):
        group.insert(0, spans[j])
        j -= 1
    j = i + 1
    while j < len(spans) and (spans[j][0] < group[-1][1] or _ENUM_GAP.match(text[group[-1][1]:spans[j][0]])):
        group.append(spans[j])
        j += 1
    return list(dict.fromkeys(s[2] for s in group))


def places_of_target(atlas, target_id: str) -> TargetPlaces:
    """The places ``target_id`` is about, and how they were found (see the module doc)."""
    t = atlas.target(target_id)
    scoped = [fid for fid, tids in atlas.links.scoped_targets.items() if target_id in tids]
    if scoped:
        return TargetPlaces(scoped, "scope")
    try:
        clause = atlas.clause(t.clause)
    except KeyError:
        return TargetPlaces([], "none")
    in_clause = atlas.features_of(clause.id)
    pos = number_offset(clause, t)
    if pos is not None and in_clause:
        a, b = _phrase(clause.text, pos)
        spans = [(m.start, m.end, fid) for fid in in_clause for m in atlas.mentions(fid)
                 if m.clause == clause.id and m.in_note is None and a <= m.start and m.end <= b
                 and not _other_figure_between(clause.text, m.start, m.end, pos)]
        if spans:
            return TargetPlaces(_nearest_group(clause.text, pos, spans), "nearest")
    return TargetPlaces(list(in_clause), "clause" if in_clause else "none")


_AREA_WIDE = re.compile(r"^(?:全|整个|本)(?:市|区|县|镇|省|国|域)")


def target_counts(atlas, plans=None, kinds=("target",), skip=frozenset()) -> dict[str, int]:
    """Number of targets tied to each place, for the map's target badges: a target counts for the
    places :func:`places_of_target` gives (what a click on it selects), except a plan-wide target
    (scope 全市/全区/…) that only shares a clause with places — it is about the whole area, not
    about them. Places with no target are left out. ``plans``: only these plans' targets;
    ``kinds``: target kinds counted (baselines are not targets); ``skip``: target ids left out
    (:meth:`Atlas.target_counts` skips a figure stated twice, summary and body)."""
    wanted = None if plans is None else set(plans)
    counts: dict[str, int] = {}
    for pid, plan in atlas.plans.items():
        if wanted is not None and pid not in wanted:
            continue
        for t in plan.targets:
            if t.kind not in kinds or t.id in skip:
                continue
            tied = places_of_target(atlas, t.id)
            if tied.how == "clause" and _AREA_WIDE.match(t.scope or ""):
                continue
            for fid in dict.fromkeys(tied.ids):
                if fid in atlas.features:
                    counts[fid] = counts.get(fid, 0) + 1
    return counts
