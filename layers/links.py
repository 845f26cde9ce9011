"""Why is this place on the map?  Feature ⇄ clause ⇄ target links.

Every clause (and footnote) of every plan is scanned once for every feature name and alias
(longest match first, so 梅江会展中心商圈 is not also read as 梅江会展中心).  A feature's targets
are the targets of the clauses that mention it plus the targets whose scope is the feature itself
(通海港区通海作业区's container throughput).  User-imported plans are linked the same way.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from .model import Clause, Feature, Mention, Plan, Target
from .nonplace import is_org_context, name_reason
from .text import normalise_name


@dataclass
class LinkIndex:
    mentions_by_feature: dict[str, list[Mention]] = field(default_factory=dict)
    features_by_clause: dict[str, list[str]] = field(default_factory=dict)
    targets_by_feature: dict[str, list[str]] = field(default_factory=dict)
    scoped_targets: dict[str, list[str]] = field(default_factory=dict)

    def mentions(self, feature_id: str) -> list[Mention]:
        return self.mentions_by_feature.get(feature_id, [])

    def clause_ids(self, feature_id: str) -> list[str]:
        seen: dict[str, None] = {}
        for m in self.mentions(feature_id):
            seen.setdefault(m.clause)
        return list(seen)

    def features_of(self, clause_id: str) -> list[str]:
        return self.features_by_clause.get(clause_id, [])

    def target_ids(self, feature_id: str) -> list[str]:
        return self.targets_by_feature.get(feature_id, [])


def name_pattern(features: list[Feature]) -> tuple[re.Pattern | None, dict[str, list[str]]]:
    """One alternation of every name and alias, longest first, and name -> feature ids."""
    owners: dict[str, list[str]] = defaultdict(list)
    for f in features:
        for n in f.names:
            n = n.strip()
            if len(n) >= 2 and f.id not in owners[n]:
                owners[n].append(f.id)
    if not owners:
        return None, {}
    names = sorted(owners, key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in names)), dict(owners)


def place_matches(text: str, pattern: re.Pattern):
    """Name matches in ``text`` that mean the place: not inside responsible-unit text
    (（…负责）, （牵头单位：…）, 责任单位：…) and not part of an organisation, event or brand
    (天津港集团, 东疆综保区管委会, 白云机场商务航空展, 余东酱油) — see :mod:`planatlas.layers.nonplace`."""
    for m in pattern.finditer(text):
        if is_org_context(text, m.start(), m.end()) is None:
            yield m


def find_mentions(clause: Clause, pattern: re.Pattern, owners: dict[str, list[str]]) -> list[Mention]:
    out: list[Mention] = []
    for m in place_matches(clause.text, pattern):
        for fid in owners[m.group(0)]:
            out.append(Mention(fid, clause.plan, clause.id, m.start(), m.end(), clause.line_at(m.start()),
                               m.group(0)))
    for i, note in enumerate(clause.notes):
        line = clause.note_lines[i] if i < len(clause.note_lines) else clause.lines[1]
        for m in place_matches(note, pattern):
            for fid in owners[m.group(0)]:
                out.append(Mention(fid, clause.plan, clause.id, m.start(), m.end(), line, m.group(0), in_note=i))
    return out


def features_for_plan(plan: Plan, features: list[Feature]) -> list[Feature]:
    """Seed plans link only the features curated for them (a bare 空港 in Haimen is not Tianjin's
    空港); an imported plan is matched against the whole gazetteer."""
    if plan.origin == "seed":
        return [f for f in features if plan.id in f.plans]
    return features


def build_links(plans: dict[str, Plan], features: list[Feature]) -> LinkIndex:
    index = LinkIndex()
    if not features:
        return index
    by_norm: dict[str, list[str]] = defaultdict(list)
    for f in features:
        for n in f.names:
            by_norm[normalise_name(n)].append(f.id)
    clause_targets: dict[str, list[Target]] = defaultdict(list)
    for plan in plans.values():
        feats = features_for_plan(plan, features)
        pattern, owners = name_pattern(feats)
        if pattern is None:
            continue
        local = {f.id for f in feats}
        for t in plan.targets:
            clause_targets[t.clause].append(t)
            scoped = [fid for fid in by_norm.get(normalise_name(t.scope), []) if fid in local]
            scoped += [f.id for f in feats
                       if t.kind == "target" and any(ind and ind in t.indicator for ind in f.indicators)]
            for fid in dict.fromkeys(scoped):
                index.scoped_targets.setdefault(fid, []).append(t.id)
        for clause in plan.clauses:
            for m in find_mentions(clause, pattern, owners):
                index.mentions_by_feature.setdefault(m.feature, []).append(m)
                fl = index.features_by_clause.setdefault(clause.id, [])
                if m.feature not in fl:
                    fl.append(m.feature)
    for f in features:
        ids: dict[str, None] = {}
        for cid in index.clause_ids(f.id):
            for t in clause_targets.get(cid, []):
                ids.setdefault(t.id)
        for tid in index.scoped_targets.get(f.id, []):
            ids.setdefault(tid)
        index.targets_by_feature[f.id] = list(ids)
    return index


# ---------------------------------------------------------------- unlocated place-like mentions
PLACE_SUFFIX = (
    "商圈|步行街|商业街区|商业街|特色街区|街区|夜市|物流园区|物流园|物流枢纽|物流基地|冷链基地|港区|作业区|码头|"
    "国际邮轮母港|邮轮母港|游轮母港|机场|景区|公园|植物园|古镇|名镇|博物馆|纪念馆|艺术馆|记忆馆|故居|度假区|湿地|"
    "专业市场|批发市场|交易市场|水产市场|服装城|家纺城|博览城|广场|会展中心|文旅城|小镇|港|保税物流中心|综合保税区|"
    "奥特莱斯|购物中心|天街|印象城|万达广场|会员店|文化公园|武林园|文旅港|基地|产业园")
_BREAK = re.compile(r"[，,。；;：:、\s“”\"'（）()《》【】\[\]！？…—·\n]|以及|依托|打造|建设|推进|推动|提升|加快|围绕|"
                    r"发挥|支持|鼓励|构建|培育|建成|形成|放大|扩大|完成|开工|实现|结合|发展|串联|增设|联动|和|及|与|等|的|在|以|将|把|向|对|由|为|从")
_SUFFIX_AT_END = re.compile(rf"(?:{PLACE_SUFFIX})$")
GENERIC = re.compile(
    r"^(?:重点|各级|各类|特色|一批|城市|区域|核心|大型|现代|综合|国际|国家|标志性|传统|新型|知名|优质|全国|"
    r"高品质|高端|地标|品牌|主题|示范|省级|市级|区级|国家级|世界级|首批|现有|一流|智慧|智能|数字|全球|"
    r"物流|商业|消费|旅游|文旅|电商|跨境电商|产业|服务|创新|创业|生态|夜间|周边|沿线|沿海|沿江|主|新|老|大|小|"
    r"的|和|及|等|个|一|两|三|四|五|十|多|各|本|该|这|其|所有|相关|开放式|空港型|港口型|商贸服务型|综合性)*"
    r"(?:" + PLACE_SUFFIX + r")$")


def place_like_spans(text: str):
    """Candidate place names: a short run of text ending in a place suffix, cut at punctuation and verbs."""
    pos = 0
    for brk in list(_BREAK.finditer(text)) + [None]:
        end = brk.start() if brk else len(text)
        chunk = text[pos:end]
        if 2 <= len(chunk) <= 24 and _SUFFIX_AT_END.search(chunk):
            if not GENERIC.match(chunk) and not re.search(r"\d{4}", chunk):
                yield pos, end, chunk
        pos = brk.end() if brk else len(text)


def explain(norm: str, excluded: list[tuple[str, str]]) -> str | None:
    """Reason of the exclusion that fits a candidate best: exact match, else the longest overlap."""
    exact = [r for n, r in excluded if n == norm]
    if exact:
        return exact[0]
    overlapping = [(len(n), r) for n, r in excluded if n and (n in norm or norm in n)]
    return max(overlapping, key=lambda x: x[0])[1] if overlapping else None


def _nonplace_reason(text: str, start: int, end: int, chunk: str) -> str | None:
    """Why a place-like candidate is not a place according to :mod:`nonplace` (or None)."""
    why = is_org_context(text, start, end) or name_reason(chunk)
    return f"not a place ({why})" if why else None


def unlocated(plan: Plan, features: list[Feature], excluded: list[dict]) -> list[dict]:
    """Place-like mentions in ``plan`` that match no feature name/alias.

    Each item: ``{"surface", "clause", "line", "explained": reason-or-None}``; items covered by an
    ``excluded.json`` entry carry its reason.
    """
    pattern, owners = name_pattern(features_for_plan(plan, features))
    ex = [(normalise_name(e["surface"]), e["reason"]) for e in excluded if e.get("plan") in (plan.id, "*")]
    out: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for clause in plan.clauses:
        sources = [(clause.text, None)] + [(n, i) for i, n in enumerate(clause.notes)]
        for text, note_i in sources:
            covered = [(m.start(), m.end()) for m in pattern.finditer(text)] if pattern else []
            for s, e, chunk in place_like_spans(text):
                if any(s < ce and cs < e for cs, ce in covered):
                    continue
                key = (chunk, clause.id)
                if key in seen:
                    continue
                seen.add(key)
                norm = normalise_name(chunk)
                reason = explain(norm, ex) or _nonplace_reason(text, s, e, chunk)
                line = clause.line_at(s) if note_i is None else clause.note_lines[note_i]
                out.append({"surface": chunk, "clause": clause.id, "line": line, "explained": reason})
    return out
