"""One entry point for everything PlanAtlas knows: plans, features, links, basemap, search.

A script can ``from layers.atlas import load_atlas`` and answer every question the GUI answers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from .catalog import load_plans
from .gazetteer import load_excluded, load_features
from .links import LinkIndex, build_links
from .model import Clause, Feature, Mention, Plan, Target
from .text import normalise_name


@dataclass
class Atlas:
    plans: dict[str, Plan]
    features: dict[str, Feature]
    links: LinkIndex
    versions: dict[str, int] = field(default_factory=dict)   # feature id -> user-store version
    _targets: dict[str, Target] = field(default_factory=dict, repr=False)
    _clauses: dict[str, Clause] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        for plan in self.plans.values():
            for c in plan.clauses:
                self._clauses[c.id] = c
            for t in plan.targets:
                self._targets[t.id] = t

    # ------------------------------------------------------------ live changes
    def add_plan(self, plan: Plan) -> None:
        """Add (or replace) a plan while the atlas lives — an import from the app — and link
        it to the features at once."""
        if plan.id in self.plans:
            self._forget_plan(plan.id)
        self.plans[plan.id] = plan
        for c in plan.clauses:
            self._clauses[c.id] = c
        for t in plan.targets:
            self._targets[t.id] = t
        self.relink()

    def remove_plan(self, plan_id: str) -> Plan | None:
        """Drop a plan (an undone import); returns it, or None if the atlas had no such plan."""
        if plan_id not in self.plans:
            return None
        plan = self._forget_plan(plan_id)
        self.relink()
        return plan

    def _forget_plan(self, plan_id: str) -> Plan:
        plan = self.plans.pop(plan_id)
        for c in plan.clauses:
            self._clauses.pop(c.id, None)
        for t in plan.targets:
            self._targets.pop(t.id, None)
        self.__dict__.get("_places_cache", {}).pop(plan_id, None)
        return plan

    def relink(self) -> None:
        """Rebuild the feature ⇄ clause ⇄ target links after features or plans changed (a
        place put on the map, renamed or deleted; ≈80 ms for the five seed plans)."""
        self.links = build_links(self.plans, list(self.features.values()))

    # ------------------------------------------------------------ lookups
    def clause(self, clause_id: str) -> Clause:
        try:
            return self._clauses[clause_id]
        except KeyError:
            raise KeyError(f"unknown clause {clause_id!r}") from None

    def target(self, target_id: str) -> Target:
        try:
            return self._targets[target_id]
        except KeyError:
            raise KeyError(f"unknown target {target_id!r}") from None

    def feature(self, feature_id: str) -> Feature:
        try:
            return self.features[feature_id]
        except KeyError:
            raise KeyError(f"unknown feature {feature_id!r}") from None

    def features_for(self, plans=None, categories=None) -> list[Feature]:
        plans = set(plans) if plans else None
        cats = set(categories) if categories else None
        out = []
        for f in self.features.values():
            if plans is not None and not (plans & set(self.plans_of(f.id))):
                continue
            if cats is not None and not (cats & set(f.categories)):
                continue
            out.append(f)
        return out

    def plans_of(self, feature_id: str) -> list[str]:
        """Plans that name the feature (curated list plus any plan the links found, e.g. imports)."""
        f = self.features[feature_id]
        seen = dict.fromkeys(f.plans)
        for m in self.links.mentions(feature_id):
            seen.setdefault(m.plan)
        return list(seen)

    def mentions(self, feature_id: str) -> list[Mention]:
        return self.links.mentions(feature_id)

    def clauses_of(self, feature_id: str) -> list[Clause]:
        return [self._clauses[c] for c in self.links.clause_ids(feature_id)]

    def targets_of(self, feature_id: str) -> list[Target]:
        return [self._targets[t] for t in self.links.target_ids(feature_id)]

    def features_of(self, clause_id: str) -> list[str]:
        return self.links.features_of(clause_id)

    def places_of_target(self, target_id: str) -> list[str]:
        """The places a target is about: its scope, else the mention nearest its number (with
        the places enumerated with it), else its clause's places (``layers/target_places.py``)."""
        from .target_places import places_of_target
        return places_of_target(self, target_id).ids

    # ------------------------------------------------------------ canonical indicators
    def indicator_of(self, target_id: str):
        """The canonical indicator of a target: a ``layers.indicators.Match`` (key, evidence)."""
        return self.compare_row(target_id).match

    def compare_row(self, target_id: str):
        """The target as a ``layers.compare.CompareRow`` (canonical indicator, normalised value,
        duplicate mark, annual growth)."""
        from .compare import rows_of
        t = self.target(target_id)
        for r in rows_of(self, t.plan):
            if r.target.id == target_id:
                return r
        raise KeyError(f"unknown target {target_id!r}")    # pragma: no cover - same plan, same ids

    def target_counts(self, plans=None, kinds=("target",)) -> dict[str, int]:
        """Feature id -> number of targets about it (its scope, or the place named next to the
        figure, or a local target of a clause naming it — not a 全市/全区 target that merely shares
        the clause), of the given kinds and plans; a figure stated twice counts once. The map's
        target badges show these counts (:func:`target_places.target_counts`)."""
        from .compare import rows_of
        from .target_places import target_counts
        dup = {r.target.id for pid in self.plans for r in rows_of(self, pid) if r.duplicate_of}
        return target_counts(self, plans or None, kinds, frozenset(dup))

    def places(self, plan_id: str):
        """Every place the recogniser finds in the plan (:class:`recognise.PlaceMention`), cached."""
        cache = self.__dict__.setdefault("_places_cache", {})
        if plan_id not in cache:
            from .recognise import recognise_plan
            cache[plan_id] = recognise_plan(self.plans[plan_id])
        return cache[plan_id]

    def unlocated(self, plan_id: str) -> list[dict]:
        """Recognised places of the plan that no gazetteer feature covers, with how each would be
        located (``location``: admin unit or unlocated) and ``explained`` (curated exclusion reason)."""
        from .locate import unlocated
        plan = self.plans[plan_id]
        linked: dict[str, list[tuple[int, int, int | None]]] = {}
        for fid in {f for c in plan.clauses for f in self.features_of(c.id)}:
            for m in self.mentions(fid):
                if m.plan == plan_id:
                    linked.setdefault(m.clause, []).append((m.start, m.end, m.in_note))
        return unlocated(plan, self.places(plan_id), linked, list(self.features.values()), load_excluded())

    @cached_property
    def basemap(self):
        from .basemap import load_basemap
        return load_basemap()

    # ------------------------------------------------------------ search
    def _name_norms(self, f: Feature) -> tuple[str, ...]:
        cache = self.__dict__.setdefault("_norm_cache", {})
        key = (f.id, id(f))          # a replaced feature (verified position) is re-normalised
        if key not in cache:
            cache[key] = tuple(normalise_name(n) for n in (f.name, *f.aliases, *f.other_names))
        return cache[key]

    def search(self, text: str, limit: int = 200, *, crs: str = "wgs84") -> list[dict]:
        """A coordinate pair first (``113.32,23.11``, ``23.11N 113.32E``, with an optional system
        word such as ``gcj02``; ``crs`` is the system otherwise assumed), then places (name,
        aliases, other names; by Chinese text or by pinyin — ``tianhelu``/``thl`` → 天河路), then
        clauses whose text contains ``text``."""
        from .coords import parse_location
        from .pinyin import is_pinyin_query, match_pinyin
        q = normalise_name(text)
        raw = re.sub(r"\s+", "", text)
        if not q and not raw:
            return []
        hits: list[dict] = []
        loc = parse_location(text, crs)          # InputError for an impossible pair
        if loc is not None:
            hits.append({"type": "location", "id": f"{loc.lon:.6f},{loc.lat:.6f}", "plan": "",
                         "label": f"{loc.typed[0]:.6f}, {loc.typed[1]:.6f} ({loc.crs})",
                         "snippet": f"WGS-84 {loc.lon:.6f}, {loc.lat:.6f}", **loc.to_dict()})
            return hits
        latin = is_pinyin_query(text)
        scored = []
        for f in self.features.values():
            norms = self._name_norms(f)
            if q and any(q == n for n in norms):
                scored.append((0, f))
            elif q and any(q in n for n in norms):
                scored.append((1, f))
            elif latin:
                m = [s for s in (match_pinyin(text, n) for n in (f.name, *f.aliases, *f.other_names))
                     if s is not None]
                if m:
                    scored.append((2 + min(m), f))
        for score, f in sorted(scored, key=lambda s: (s[0], s[1].name)):
            hits.append({"type": "feature", "id": f.id, "plan": ",".join(self.plans_of(f.id)),
                         "label": f.name, "snippet": f"{f.subtype} · {f.district}",
                         "match": "pinyin" if score >= 2 else "text"})
        for plan in self.plans.values():
            for c in plan.clauses:
                flat = c.text
                i = flat.find(raw) if raw else -1
                if i < 0:
                    continue
                a, b = max(0, i - 20), min(len(flat), i + len(raw) + 20)
                snippet = ("…" if a else "") + flat[a:b].replace("\n", " ") + ("…" if b < len(flat) else "")
                hits.append({"type": "clause", "id": c.id, "plan": plan.id,
                             "label": f"{plan.id} {c.number} {c.heading}", "snippet": snippet,
                             "lines": [c.lines[0], c.lines[1]]})
        return hits[:limit]


_CACHE: dict[str, Atlas] = {}


def build_atlas() -> Atlas:
    """A fresh atlas (not cached): seed + user plans, shipped features with the user store's
    verified positions applied and placed features added. Safe to call from a worker thread."""
    from .store import user_layer

    plans = load_plans()
    features, versions = user_layer(load_features())
    return Atlas(plans=plans, features={f.id: f for f in features}, links=build_links(plans, features),
                 versions=versions)


def load_atlas(reload: bool = False) -> Atlas:
    """The atlas (seed + user plans, shipped features with the user's verified positions applied)."""
    if "atlas" in _CACHE and not reload:
        return _CACHE["atlas"]
    atlas = build_atlas()
    _CACHE["atlas"] = atlas
    return atlas
