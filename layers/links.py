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
from .nonplace import is_org_context
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
