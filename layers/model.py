"""Records shared by every part of PlanAtlas (plans, clauses, targets, features, links).

These are plain dataclasses: the CLI prints them as JSON, the GUI shows them, exports cite them.
Identifiers are stable strings: plan ``binhai``, clause ``guangzhou:二.(二).5``, target
``guangzhou:t012``, feature ``gz-tianhe-road``.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from typing import Any

CATEGORIES = ("commercial_district", "night_economy", "logistics_hub", "scenic_area")
CATEGORY_LABELS = {
    "commercial_district": ("商圈与商业街区", "Commercial districts"),
    "night_economy": ("夜间经济", "Night economy"),
    "logistics_hub": ("物流枢纽与港口", "Logistics hubs"),
    "scenic_area": ("景区与文旅", "Scenic areas"),
}
# one colour per thematic layer, shared by the canvas, map images, HTML and GeoPackage styles
CATEGORY_COLORS = {
    "commercial_district": "#d1495b",
    "night_economy": "#7b4fc4",
    "logistics_hub": "#1f78b4",
    "scenic_area": "#2a9d55",
}
STATUSES = ("approximate", "verified")
# how a position was obtained from its reference (``Feature.method``)
METHODS = ("direct", "proxy", "area_centroid", "town_centroid", "estimate", "survey", "placed")
REF_CRSES = ("wgs84", "gcj02", "bd09")


@dataclass(frozen=True)
class Region:
    province: str
    city: str
    district: str
    adcode: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Clause:
    id: str                      # "guangzhou:二.(二).5"
    plan: str                    # "guangzhou"
    number: str                  # as printed: "5." / "（二）" / "第一章" / "专栏1" / "表1"
    heading: str                 # short title: "建设国际知名商圈"
    text: str                    # full text (without the number), footnote markers removed
    parent: str | None           # parent clause id
    level: int                   # 0 = preamble/trailer, 1 = top level, ...
    lines: tuple[int, int]       # 1-based first/last line in the ORIGINAL seed file
    kind: str = "item"           # preamble|chapter|section|cn|paren_cn|arabic|paren_arabic|box|table|unnumbered|trailer
    notes: list[str] = field(default_factory=list)   # footnotes attached to this clause
    note_lines: list[int] = field(default_factory=list)  # original line of each note
    # offset in ``text`` -> original line, as (offset, line) breakpoints sorted by offset
    line_map: list[tuple[int, int]] = field(default_factory=list, repr=False)

    def line_at(self, offset: int) -> int:
        """Original 1-based line of the character at ``offset`` in ``text``."""
        i = bisect_right(self.line_map, (offset, float("inf")))
        return self.line_map[i - 1][1] if i else self.lines[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "plan": self.plan, "number": self.number, "heading": self.heading,
            "text": self.text, "parent": self.parent, "level": self.level,
            "lines": [self.lines[0], self.lines[1]], "kind": self.kind,
            "notes": [{"text": n, "line": ln} for n, ln in zip(self.notes, self.note_lines)],
        }


@dataclass
class Target:
    id: str                      # "binhai:t003"
    plan: str
    clause: str                  # clause id
    indicator: str               # "社会消费品零售总额"
    year: int | None             # target year (or data year for baselines)
    comparator: str              # ">", ">=", "=", "~", "range"
    value: float
    unit: str                    # as written: "亿元", "%", "万标准箱", "家"
    scope: str                   # "全区" / "全市" / a named place
    line: int                    # original 1-based source line
    surface: str                 # the text the target was read from
    kind: str = "target"         # "target" | "baseline"
    upper: float | None = None   # upper value for ranges (1-2个)
    basis: str | None = None     # relative targets: "较2025年"
    period: str | None = None    # e.g. "2021-2025" for growth rates / cumulative values

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    id: str
    title: str
    issuer: str
    issued: str                  # ISO date or year-month as printed
    period: tuple[int, int]
    region: Region
    file: str                    # path of the source file
    encoding: str
    source_lines: list[str]      # the ORIGINAL lines (decoded), 1-based line n = source_lines[n-1]
    clauses: list[Clause] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    origin: str = "seed"         # "seed" | "user"

    @property
    def scope_word(self) -> str:
        return "全区" if self.region.district else "全市"

    def clause(self, clause_id: str) -> Clause:
        for c in self.clauses:
            if c.id == clause_id:
                return c
        raise KeyError(f"no clause {clause_id!r} in plan {self.id!r}")

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "issuer": self.issuer, "issued": self.issued,
            "period": {"start": self.period[0], "end": self.period[1]},
            "region": self.region.to_dict(), "origin": self.origin, "file": self.file,
            "counts": {
                "clauses": len(self.clauses),
                "targets": sum(1 for t in self.targets if t.kind == "target"),
                "baselines": sum(1 for t in self.targets if t.kind == "baseline"),
            },
        }


@dataclass
class Feature:
    """A curated real place, geometry in WGS-84 (shapely geometry)."""
    id: str
    name: str
    aliases: list[str]
    categories: list[str]
    subtype: str
    tier: str | None
    plans: list[str]
    district: str
    adcode: str
    geometry: Any                # shapely geometry, EPSG:4326 (lon, lat)
    precision_m: float
    source: str
    status: str                  # approximate | verified
    schematic: bool = False
    evidence: dict[str, str] = field(default_factory=dict)  # category -> quote naming the place in that role
    note: str | None = None
    other_names: list[str] = field(default_factory=list)   # official names not used by the plans (search/surveys)
    indicators: list[str] = field(default_factory=list)    # target indicators about this place (港口集装箱吞吐量)
    origin: str = "shipped"      # shipped | user
    # where the position comes from: ``source``/``source_zh`` are short labels (en/zh), ``ref`` a
    # URL or "dataset + id/row", ``ref_crs`` the CRS the reference publishes, ``ref_lonlat`` the
    # published coordinate (points), ``conversion`` what was applied to reach WGS-84
    source_zh: str = ""
    method: str = "estimate"     # one of METHODS
    ref: str | None = None
    ref_crs: str | None = None   # wgs84 | gcj02 | bd09
    ref_lonlat: tuple[float, float] | None = None
    conversion: str | None = None
    offshore: str | None = None  # why a polygon may lie mostly on basemap sea (port, reclaimed land)
    note_zh: str | None = None   # the curator note in Chinese where ``note`` was written in English

    @property
    def names(self) -> list[str]:
        return [self.name, *self.aliases]

    @property
    def referenced(self) -> bool:
        """True when the position cites a public reference (not an estimate)."""
        return self.method not in ("estimate", "placed") and bool(self.ref)

    def source_label(self, lang: str = "zh") -> str:
        """The short source label in ``lang`` ("zh" or "en"), falling back to the other."""
        if lang == "zh":
            return self.source_zh or self.source
        return self.source or self.source_zh

    def note_label(self, lang: str = "zh") -> str | None:
        """The curator note in ``lang``: ``note_zh`` for Chinese when there is one, else ``note``."""
        if lang == "zh" and self.note_zh:
            return self.note_zh
        return self.note or self.note_zh

    def properties(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "aliases": list(self.aliases),
            "categories": list(self.categories), "subtype": self.subtype, "tier": self.tier,
            "plans": list(self.plans), "district": self.district, "adcode": self.adcode,
            "schematic": self.schematic, "precision_m": self.precision_m, "source": self.source,
            "status": self.status, "evidence": dict(self.evidence), "note": self.note,
            "other_names": list(self.other_names), "indicators": list(self.indicators),
            "origin": self.origin, "source_zh": self.source_zh, "method": self.method,
            "ref": self.ref, "ref_crs": self.ref_crs,
            "ref_lonlat": list(self.ref_lonlat) if self.ref_lonlat else None,
            "conversion": self.conversion, "offshore": self.offshore, "note_zh": self.note_zh,
        }


@dataclass(frozen=True)
class Mention:
    feature: str                 # feature id
    plan: str
    clause: str                  # clause id
    start: int                   # offsets in Clause.text
    end: int
    line: int                    # original 1-based line
    surface: str                 # the matched text
    in_note: int | None = None   # index into Clause.notes when the mention is in a footnote (offsets then refer to it)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
