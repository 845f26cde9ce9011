"""Quantitative targets (and baselines) read from clause text and indicator tables.

A target is a number with a unit in a clause, with the indicator it measures, the year it is set
for, a comparator (突破 ">", 不少于/以上 ">=", 达到 "=", 左右 "~", 1-2个 "range"), the scope (全区/
全市 or the named place it is about) and the original source line.  Figures that describe the past
(十三五 achievements, a year before the plan period, a 发展基础 section) are ``kind="baseline"``.
"""
from __future__ import annotations

import re
import unicodedata

from .model import Clause, Plan, Target
from .text import PlanTextError

UNITS = sorted([
    "万亿元", "亿美元", "万美元", "亿元", "万元", "万标准箱", "万标箱", "标准箱", "万人次", "人次",
    "万人", "人", "万吨", "亿吨", "吨", "万平方米", "平方米", "公里", "个百分点", "%", "倍",
    "家", "个", "项", "条", "幢", "座", "场", "宗", "所", "处", "批", "只", "艘", "架次", "亿件", "万件",
], key=len, reverse=True)
_UNIT_RE = "|".join(re.escape(u) for u in UNITS)
NUM = r"(\d+(?:\.\d+)?)"
QUANTITY = re.compile(
    rf"(?<![\d.A-Za-z+＋·])(?<!第){NUM}(?:\s*[-—–～~至]\s*{NUM})?\s*({_UNIT_RE})(?![A-Za-z+＋])")
DOUBLE = re.compile(r"翻(一|两|二|三)番")
FULL_COVERAGE = re.compile(r"全覆盖")
YEAR_TARGET = re.compile(r"(?:到|至|力争到|争取到)\s*(20\d\d)\s*年(?:底|末)?|(20\d\d)\s*年(?:底|末)?前")
YEAR_BARE = re.compile(r"(?<![到至较比从自\d])(20\d\d)\s*年(?!\s*[-—–至起])(?!以来|开始)")
BASIS = re.compile(r"(?:较|比)\s*(20\d\d)\s*年")
PAST_MARKERS = re.compile(r"十三五|十二五|截至|截止|以来|已达|已建成|获批")
BASELINE_HEADING = re.compile(r"基础|回顾|成就|现状|成效|发展环境")
SEPARATORS = re.compile(r"[，,；;：:。！？\n]")
SENTENCE = re.compile(r"[^。！？\n]+[。！？]?")
LEAD_NOISE = re.compile(
    r"^(?:(?:到|至|力争到|争取到)?\s*20\d\d\s*年(?:底|末)?(?:前)?|其中|在?全区|在?全市|在?全县|我区|我市|力争|确保|同时|并且|并|"
    r"以上|左右|以内|以下|以及|和|及|、|，|\s|“|”)+")
RATE = re.compile(r"每(?:年|季度|季|月|周|半年)")
EACH = re.compile(r"各$")
TRAIL_NOISE = re.compile(
    r"(?:突破|超过|超出|超|高于|不少于|不低于|至少|达到|达|保持在|保持|稳定在|控制在|在|为|约|各|实现|增加|提高到|提升至|提高至)+$")
GROWTH_ONLY = re.compile(r"^(?:年均)?(?:增长率?|增幅|增速)$|^(?:总量|总规模|规模|总额)$")
GROWTH_SUFFIX = re.compile(r"(?:年均)?(?:增长率?|增幅|增速)$")
DESCRIPTIVE_LEAD = re.compile(r"^(?:聚焦|围绕|依托|借助|对标|对接|按照|结合)")
SCOPE_PLACE = re.compile(
    r"^(?:推动|支持|推进|加快|促进|依托|鼓励)?([\u4e00-\u9fff]{2,10}?(?:港区[\u4e00-\u9fff]{2,6}?作业区|港区|作业区|"
    r"物流园区?|产业园|机场|商圈|步行街|景区|新城|小镇|古镇|综合保税区|综保区|保税港区))"
    r"(?=实现|积极|要|力争|加快|重点|建成|打造|基本|将|以)")
HAS_FIGURE = re.compile(r"\d|翻[一两二三]番|全覆盖")
CN_DIGITS = {"一": 2, "两": 4, "二": 4, "三": 8}
_AFTER_WINDOW = 200      # text after a number that can still name its indicator (uses <= 26)
MAX_TARGETS = 20_000     # real plans set a few hundred; a text with more is not a plan (bounded time)


def _norm(text: str) -> str:
    return text.replace("％", "%").replace("\u3000", " ")


def extract_targets(plan: Plan) -> list[Target]:
    out: list[Target] = []
    by_id = {c.id: c for c in plan.clauses}
    for clause in plan.clauses:
        if clause.kind in ("preamble", "trailer"):
            continue
        baseline_section = _in_baseline_section(clause, by_id)
        if clause.kind == "table":
            out.extend(_table_targets(plan, clause))
        else:
            out.extend(_prose_targets(plan, clause, baseline_section, _section_year(clause, by_id),
                                      budget=MAX_TARGETS - len(out)))
        _check_count(plan, len(out))
    for i, t in enumerate(out, start=1):
        t.id = f"{plan.id}:t{i:03d}"
    return out


def _check_count(plan: Plan, n: int) -> None:
    if n > MAX_TARGETS:
        raise PlanTextError(f"{plan.file or plan.id}: more than {MAX_TARGETS:,} quantitative targets — "
                            f"real plans set at most a few hundred; is this a plan text?")


def _section_year(clause: Clause, by_id: dict[str, Clause]) -> int | None:
    """The target year an enclosing section states in its opening words (``二、发展目标 到2024年，…``
    covers the items 1., 2., 3. under it); ``None`` when no enclosing section says one."""
    c = by_id.get(clause.parent) if clause.parent else None
    while c is not None:
        m = YEAR_TARGET.search(_norm(c.text)[:80])
        if m:
            return int(m.group(1) or m.group(2))
        c = by_id.get(c.parent) if c.parent else None
    return None


def _in_baseline_section(clause: Clause, by_id: dict[str, Clause]) -> bool:
    c: Clause | None = clause
    while c is not None:
        if c.kind in ("chapter", "section", "cn", "paren_cn") and BASELINE_HEADING.search(c.heading):
            return True
        c = by_id.get(c.parent) if c.parent else None
    return False


def _prose_targets(plan: Plan, clause: Clause, baseline_section: bool, section_year: int | None = None,
                   budget: int = MAX_TARGETS) -> list[Target]:
    text = _norm(clause.text)
    out: list[Target] = []
    start, end = plan.period if plan.period and plan.period[0] else (None, None)
    for para_match in re.finditer(r"[^\n]+", text):
        para_start = para_match.start()
        para = para_match.group(0)
        year_ctx = section_year
        for sm in SENTENCE.finditer(para):
            sentence = sm.group(0)
            s_off = para_start + sm.start()
            if not HAS_FIGURE.search(sentence):
                continue
            explicit = YEAR_TARGET.findall(sentence)
            targets_years = [int(a or b) for a, b in explicit]
            if targets_years:
                year_ctx = targets_years[0]
            basis_years = {int(y) for y in BASIS.findall(sentence)}
            bare_years = [int(y) for y in YEAR_BARE.findall(sentence)
                          if int(y) not in basis_years and int(y) not in targets_years]
            past = bool(PAST_MARKERS.search(sentence)) or (start is not None and any(y < start for y in bare_years))
            kind = "baseline" if (baseline_section or (past and not targets_years)) else "target"
            if kind == "baseline":
                year = max(bare_years) if bare_years else (2020 if "十三五" in sentence else None)
            else:
                # the year the text gives (this sentence, else earlier in the paragraph); never imputed
                milestone = [y for y in bare_years if start is None or start <= y <= end + 10]
                year = targets_years[0] if targets_years else milestone[0] if milestone else year_ctx
            out.extend(_sentence_targets(plan, clause, sentence, s_off, kind, year, basis_years,
                                         budget - len(out)))
            _check_count(plan, MAX_TARGETS - budget + len(out))
    return out


def _sentence_targets(plan, clause, sentence, s_off, kind, year, basis_years,
                      budget: int = MAX_TARGETS) -> list[Target]:
    out: list[Target] = []
    prev_indicator = ""
    scope = plan.scope_word
    start = plan.period[0] if plan.period and plan.period[0] else None
    place = _scope(sentence)           # once per sentence, not per target (linear time)
    pos = 0
    segments = []
    for m in SEPARATORS.finditer(sentence + "。"):
        segments.append((pos, sentence[pos:m.start()]))
        pos = m.end()
    for seg_off, seg in segments:
        if not seg.strip():
            continue
        if DESCRIPTIVE_LEAD.match(seg.strip()):
            continue
        found = []
        for m in QUANTITY.finditer(seg):
            found.append(("qty", m))
        for m in DOUBLE.finditer(seg):
            found.append(("double", m))
        if not found and FULL_COVERAGE.search(seg):
            found.append(("cover", FULL_COVERAGE.search(seg)))
        found.sort(key=lambda f: f[1].start())
        found = _merge_qualifiers(seg, found)
        surface = seg.strip()              # once per segment, shared by its targets (linear time)
        first_rate = RATE.search(seg)      # a rate word (每年) before a number applies to it
        cursor = 0
        for how, m in found:
            before = seg[cursor:m.start()]
            after_all = seg[m.end():m.end() + _AFTER_WINDOW].lstrip()   # bounded: linear time
            comparator, upper = "=", None
            after = after_all
            if how == "qty":
                value = float(m.group(1))
                unit = m.group(3)
                if m.group(2):
                    comparator, upper = "range", float(m.group(2))
                head = after_all[:2]
                if head == "以上":
                    comparator, after = ">=", after_all[2:]
                elif head == "左右":
                    comparator, after = "~", after_all[2:]
                elif head in ("以内", "以下"):
                    comparator, after = "<=", after_all[2:]
                elif comparator == "=":
                    comparator = _comparator_before(before)
            elif how == "double":
                value, unit = float(CN_DIGITS[m.group(1)]), "倍"
            else:
                value, unit = 100.0, "%"
                after = ""
            consumed = len(after_all) - len(after) if how == "qty" else 0
            after = re.split(r"[并且和及与，、]", after, maxsplit=1)[0]
            each = bool(EACH.search(before.rstrip()))
            indicator = _indicator(before, after if how != "cover" else "全覆盖", prev_indicator)
            if not indicator:
                cursor = m.end() + consumed
                continue
            basis = None
            if how == "double":
                bm = BASIS.search(before + m.group(0))
                basis = f"较{bm.group(1)}年" if bm else (f"较{start - 1}年" if start else None)
            elif basis_years and BASIS.search(before):
                basis = f"较{BASIS.search(before).group(1)}年"
            offset = s_off + seg_off + m.start()
            rate = first_rate if first_rate is not None and first_rate.end() <= m.start() else None
            for ind in (_each_items(indicator) if each else [indicator]):
                out.append(Target(
                    id="", plan=plan.id, clause=clause.id, indicator=ind, year=year,
                    comparator=comparator, value=value, unit=unit, scope=place or scope,
                    line=clause.line_at(offset), surface=surface, kind=kind, upper=upper, basis=basis,
                    period=rate.group(0) if rate else None))
            prev_indicator = indicator
            cursor = m.end() + consumed
            if len(out) > budget:
                _check_count(plan, MAX_TARGETS + 1)
    return out


_EACH_VERB = re.compile(r"^(新增|新创建|创建|建成|新建|打造|培育|争创|申报|引进|招引|新认定|认定)")


def _each_items(indicator: str) -> list[str]:
    """``新增4A级旅游景区、省级旅游度假区和旅游休闲街区`` (…各1个) → one indicator per item, each
    with the shared verb: 新增4A级旅游景区 / 新增省级旅游度假区 / 新增旅游休闲街区."""
    vm = _EACH_VERB.match(indicator)
    verb = vm.group(1) if vm else ""
    body = indicator[len(verb):]
    items = [i for i in re.split(r"、|和|及|以及|与", body) if i]
    if len(items) < 2:
        return [indicator]
    return [verb + i for i in items]


def _merge_qualifiers(seg: str, found: list) -> list:
    """``纳税超5000万元楼宇达12幢``: a quantity that only qualifies the next one's noun is not a target."""
    if len(found) < 2:
        return found
    keep = []
    for i, (how, m) in enumerate(found):
        if i + 1 < len(found):
            between = seg[m.end():found[i + 1][1].start()]
            if between and not re.search(r"[、和及与，]", between) and re.search(r"(达到|达|超过|突破)$", between):
                continue
        keep.append((how, m))
    return keep


def _comparator_before(before: str) -> str:
    tail = before.rstrip()[-4:]
    if re.search(r"(突破|超过|超出|超|高于)$", tail):
        return ">"
    if re.search(r"(不少于|不低于|至少)$", tail):
        return ">="
    if re.search(r"约$", tail):
        return "~"
    return "="


def _indicator(before: str, after: str, prev: str) -> str:
    ind = LEAD_NOISE.sub("", before.strip())
    ind = TRAIL_NOISE.sub("", ind).strip("、，, “”")
    tail = after.strip().strip("、，, ")
    if tail and len(tail) <= 24 and not re.match(r"^\d", tail):
        ind = ind + tail
    ind = re.sub(r"\s+", "", ind) if re.search(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]", ind) else ind.strip()
    if not ind or GROWTH_ONLY.match(ind):
        subject = GROWTH_SUFFIX.sub("", prev) if prev else ""
        ind = subject + ind if subject else ind
    return ind


def _scope(sentence: str) -> str | None:
    """The place a sentence is about, when it opens with one (推动通海港区通海作业区实现…)."""
    m = SCOPE_PLACE.match(sentence.strip())
    return m.group(1) if m and not m.group(1).startswith(("全", "各", "重点")) else None


# ---------------------------------------------------------------- tables
def _table_targets(plan: Plan, clause: Clause) -> list[Target]:
    rows = clause.text.split("\n")
    offsets, pos = [], 0
    for r in rows:
        offsets.append(pos)
        pos += len(r) + 1
    header = " ".join(r for r in rows[:4] if not re.search(r"\t\d{1,2}\t", r))
    ym = re.search(r"(20\d\d)\s*年", header)
    year = int(ym.group(1)) if ym else None
    pm = re.search(r"(20\d\d)\s*[-—–]\s*(20\d\d)", header)
    period = (f"{pm.group(1)}-{pm.group(2)}" if pm else
              f"{plan.period[0]}-{plan.period[1]}" if plan.period and plan.period[0] else None)
    columns = ["value", "growth", "cumulative"]
    out: list[Target] = []
    for row, off in zip(rows, offsets):
        cells = [unicodedata.normalize("NFKC", c).strip() for c in row.split("\t")]
        idx = next((i for i, c in enumerate(cells) if re.fullmatch(r"\d{1,2}", c)), None)
        if idx is None:
            continue
        rest = cells[idx + 1:]
        unit_i = next((i for i, c in enumerate(rest) if _is_unit_cell(c)), None)
        if unit_i is None:
            continue
        indicator = "".join(c for c in rest[:unit_i] if c)
        indicator = re.sub(r"^其中", "", indicator)
        unit = rest[unit_i]
        values = rest[unit_i + 1:]
        line = clause.line_at(off)
        for col, raw in zip(columns, values):
            vm = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(%?)", raw)
            if not vm:
                continue      # "—", "——" or empty: no value in this cell
            value = float(vm.group(1))
            if col == "value":
                ind, u, per = indicator, unit, None
            elif col == "growth":
                ind, u, per = f"{indicator}年均增长", "%", period
            else:
                ind, u, per = f"{indicator}（{period}年累计）", unit, period
            out.append(Target(
                id="", plan=plan.id, clause=clause.id, indicator=ind, year=year, comparator="=",
                value=value, unit=u, scope=plan.scope_word, line=line,
                surface=re.sub(r"\t+", " | ", row.strip("\t")), kind="target", period=per))
    return out


def _is_unit_cell(cell: str) -> bool:
    return bool(cell) and len(cell) <= 6 and bool(re.fullmatch(rf"(?:{_UNIT_RE}|万?[亿]?[美]?元|万?人次?)", cell))
