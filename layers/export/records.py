"""What a data export writes: the selected sites with citations and targets, as plain records;
the shared helpers (atomic output path, text cleaning, coordinate conversion)."""
from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from planatlas.layers import crs as _crs
from planatlas.layers.errors import InputError
from planatlas.layers.fsutil import durable_path
from planatlas.layers.safetext import xml_safe
from planatlas.layers.model import CATEGORIES, CATEGORY_LABELS, Clause, Feature, Target

FORMATS = ("geojson", "gpkg", "kml", "kmz", "gpx", "csv", "xlsx")
CRS_CHOICES = ("wgs84", "gcj02", "bd09", "cgcs2000")
CRS_LABELS = {
    "wgs84": "WGS-84 (EPSG:4326)",
    "gcj02": "GCJ-02 (国测局坐标 / Amap, Tencent)",
    "bd09": "BD-09 (百度坐标 / Baidu)",
    "cgcs2000": "CGCS2000 (EPSG:4490)",
}
# One colour per category, shared by every export (HTML map, GeoPackage styles, KML); the same
# values as the desktop painter's defaults (desktop.render.CATEGORY_SYMBOLS), so that a map
# image, the HTML page and QGIS show a category in the same colour.
_EXTENSIONS = {"geojson": (".geojson", ".json"), "gpkg": (".gpkg",), "kml": (".kml",),
               "kmz": (".kmz",), "gpx": (".gpx",), "csv": (".csv",), "xlsx": (".xlsx",)}
_COORD_DECIMALS = 7          # ~1 cm; the curated precision is tens of metres anyway
_SNIPPET_CONTEXT = 40        # characters either side of a mention in snippets


class ExportError(InputError):
    """Bad export request (unknown plan/category/format, nothing to export, bad path)."""


# --------------------------------------------------------------------------- selection

@dataclass
class Citation:
    """One place where a clause names a feature."""
    plan: str
    clause: str                  # clause id "guangzhou:二.(二).5"
    path: str                    # "二.(二).5"
    number: str                  # as printed "5."
    heading: str
    line: int
    surface: str
    before: str                  # snippet text before the mention (with leading "…")
    after: str                   # snippet text after the mention (with trailing "…")

    @property
    def label(self) -> str:
        return f"{self.plan} {self.path} L{self.line}"

    @property
    def snippet(self) -> str:
        return f"{self.before}{self.surface}{self.after}"


@dataclass
class Site:
    """A feature as exported: its selected plans/categories, citations and targets."""
    feature: Feature
    categories: list[str]        # the feature's categories that are selected, CATEGORIES order
    plans: list[str]             # the feature's plans that are selected, in selection order
    citations: list[Citation] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    @property
    def primary_category(self) -> str:
        return self.categories[0]


def _split(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def resolve_plans(atlas, plans: str | Iterable[str] | None) -> list[str]:
    """Validate plan ids (a list or ``"a,b"``); ``None``/empty means every plan of the atlas."""
    known = list(atlas.plans)
    wanted = _split(plans)
    if not wanted:
        if not known:
            raise ExportError("the atlas has no plans to export")
        return known
    unknown = [p for p in wanted if p not in atlas.plans]
    if unknown:
        raise ExportError(f"unknown plan {', '.join(map(repr, unknown))} in --plan; "
                          f"known plans: {', '.join(known) or '(none)'}")
    return wanted


def resolve_categories(categories: str | Iterable[str] | None) -> list[str]:
    """Validate category ids; ``None``/empty means all of :data:`CATEGORIES` (in that order)."""
    wanted = _split(categories)
    if not wanted:
        return list(CATEGORIES)
    unknown = [c for c in wanted if c not in CATEGORIES]
    if unknown:
        raise ExportError(f"unknown category {', '.join(map(repr, unknown))} in --category; "
                          f"known categories: {', '.join(CATEGORIES)}")
    return [c for c in CATEGORIES if c in wanted]


def citation_label(plan: str, clause_id: str, line: int) -> str:
    """``"guangzhou 二.(二).5 L77"`` for clause ``guangzhou:二.(二).5`` at line 77."""
    path = clause_id.split(":", 1)[1] if ":" in clause_id else clause_id
    return f"{plan} {path} L{line}"


def _snippet(text: str, start: int, end: int) -> tuple[str, str, str]:
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    a = max(0, start - _SNIPPET_CONTEXT)
    b = min(len(text), end + _SNIPPET_CONTEXT)
    before = ("…" if a > 0 else "") + text[a:start]
    after = text[end:b] + ("…" if b < len(text) else "")
    return before, text[start:end], after


def select_sites(atlas, plans: Sequence[str], categories: Sequence[str]) -> list[Site]:
    """The features of ``plans`` in ``categories`` with their citations and targets.

    ``plans`` and ``categories`` must already be validated (see :func:`resolve_plans`,
    :func:`resolve_categories`). Citations and targets are limited to the selected plans.
    Sites are ordered by plan (selection order), primary category, then name.
    """
    plan_rank = {p: i for i, p in enumerate(plans)}
    cat_rank = {c: i for i, c in enumerate(CATEGORIES)}
    sites: list[Site] = []
    plans_of = getattr(atlas, "plans_of", None)
    for feat in atlas.features_for(plans=list(plans), categories=list(categories)):
        cats = sorted((c for c in feat.categories if c in categories), key=cat_rank.__getitem__)
        feat_plans = plans_of(feat.id) if plans_of is not None else feat.plans
        fplans = sorted((p for p in feat_plans if p in plan_rank), key=plan_rank.__getitem__)
        if not cats or not fplans:
            continue
        cits: list[Citation] = []
        seen: set[tuple[str, int]] = set()
        clause_cache: dict[str, Clause] = {}
        for m in atlas.mentions(feat.id):
            if m.plan not in plan_rank or (m.clause, m.line) in seen:
                continue   # one citation per clause line (a line may name a place twice)
            seen.add((m.clause, m.line))
            clause = clause_cache.get(m.clause)
            if clause is None:
                clause = clause_cache[m.clause] = atlas.clause(m.clause)
            text = clause.text
            in_note = getattr(m, "in_note", None)   # mention inside a footnote of the clause
            if in_note is not None and 0 <= in_note < len(clause.notes):
                text = clause.notes[in_note]
            before, mid, after = _snippet(text, m.start, m.end)
            path = m.clause.split(":", 1)[1] if ":" in m.clause else m.clause
            cits.append(Citation(plan=m.plan, clause=m.clause, path=path, number=clause.number,
                                 heading=clause.heading, line=m.line, surface=mid or m.surface,
                                 before=before, after=after))
        cits.sort(key=lambda c: (plan_rank[c.plan], c.line, c.clause))
        targets = [t for t in atlas.targets_of(feat.id) if t.plan in plan_rank]
        sites.append(Site(feature=feat, categories=cats, plans=fplans, citations=cits,
                          targets=targets))
    sites.sort(key=lambda s: (plan_rank[s.plans[0]], cat_rank[s.primary_category],
                              s.feature.name, s.feature.id))
    return sites


_COMPARATORS = {">": "＞", ">=": "≥", "<": "＜", "<=": "≤", "=": "", "~": "约"}


def _num(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e15 else f"{v:.0f}"


def format_target(t: Target) -> str:
    """Human-readable target: ``"天河路商圈销售额 ＞1000亿元 (2025)"``."""
    if t.comparator == "range" and t.upper is not None:
        value = f"{_num(t.value)}–{_num(t.upper)}{t.unit}"
    else:
        value = f"{_COMPARATORS.get(t.comparator, t.comparator)}{_num(t.value)}{t.unit}"
    extra = [x for x in (t.basis, t.period, str(t.year) if t.year else None) if x]
    kind = "基期 " if t.kind == "baseline" else ""
    return f"{kind}{t.indicator} {value}" + (f" ({', '.join(extra)})" if extra else "")


# --------------------------------------------------------------------------- helpers

def clean_text(value: Any) -> str:
    """Text safe for XML/XLSX: characters XML 1.0 forbids are removed."""
    return xml_safe(value)


def _neutralise_formula(text: str) -> str:
    """Spreadsheet formula injection guard for CSV (OWASP): prefix a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@contextmanager
def atomic_path(out: str | os.PathLike, *, create: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; on success verify it and move it over ``out``
    (:func:`planatlas.layers.fsutil.durable_path`: checked, fsync'ed, the user's umask).

    With ``create=False`` the temporary name is reserved but the file is removed before
    yielding (for writers such as GDAL that refuse to write into an existing file). On any
    exception the temporary file (and SQLite side files) is deleted and ``out`` is untouched;
    a failed write is an :class:`~planatlas.layers.errors.OperationError`.
    """
    out = Path(out)
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ExportError(f"output path {out} is a folder, not a file")
    if not parent.is_dir():
        raise ExportError(f"output folder {parent} does not exist (for {out})")
    with durable_path(out, create=create) as tmp:
        yield tmp


def _round_geom(geom):
    return shapely.transform(geom, lambda c: np.round(c, _COORD_DECIMALS))


def representative_point(geom) -> shapely.Point:
    """The point a site is shown at when only a point will do (GPX, CSV, pins)."""
    if geom.geom_type == "Point":
        return geom
    if geom.is_empty:
        raise ExportError("feature has an empty geometry")
    return geom.representative_point()


def _convert(geom, crs: str):
    return _round_geom(_crs.convert_geometry(geom, "wgs84", crs))


def _category_label(cat: str) -> str:
    zh, en = CATEGORY_LABELS.get(cat, (cat, cat))
    return f"{zh} {en}"


def converted_geometries(sites: Sequence[Site], crs: str) -> np.ndarray:
    """The sites' geometries in ``crs``, rounded, converted in one call (an array)."""
    geoms = np.empty(len(sites), dtype=object)
    geoms[:] = [s.feature.geometry for s in sites]
    return _convert(geoms, crs)


def site_records(sites: Sequence[Site], crs: str) -> list[dict[str, Any]]:
    """:func:`_site_record` of every site, their points converted in one call; each export
    builds its records once with this and reuses them for every column and layer."""
    pts = np.empty(len(sites), dtype=object)
    pts[:] = [representative_point(s.feature.geometry) for s in sites]
    pts = _convert(pts, crs)
    return [_site_record(s, crs, pt) for s, pt in zip(sites, pts)]


def _site_record(site: Site, crs: str, pt=None) -> dict[str, Any]:
    """Flat, typed record of a site (lists kept as lists); ``pt`` is its representative point
    already in ``crs`` (converted here when not given)."""
    f = site.feature
    if pt is None:
        pt = _convert(representative_point(f.geometry), crs)
    return {
        "id": f.id,
        "name": f.name,
        "aliases": list(f.aliases),
        "categories": list(f.categories),
        "category_labels": [CATEGORY_LABELS.get(c, (c, c))[0] for c in f.categories],
        "subtype": f.subtype,
        "tier": f.tier,
        "plans": list(site.plans),
        "district": f.district,
        "adcode": f.adcode,
        "lon": round(float(pt.x), _COORD_DECIMALS),
        "lat": round(float(pt.y), _COORD_DECIMALS),
        "crs": crs,
        "precision_m": float(f.precision_m),
        "status": f.status,
        "schematic": bool(f.schematic),
        "citations": [c.label for c in site.citations],
        "targets": [format_target(t) for t in site.targets],
        "source": f.source,
        "note": f.note,
    }


_LIST_FIELDS = ("aliases", "categories", "category_labels", "plans", "citations", "targets")
_TABLE_COLUMNS = ("id", "name", "aliases", "categories", "category_labels", "subtype", "tier",
                  "plans", "district", "adcode", "lon", "lat", "crs", "precision_m", "status",
                  "schematic", "citations", "targets", "source", "note")


def _flat(rec: dict[str, Any]) -> dict[str, Any]:
    out = dict(rec)
    for k in _LIST_FIELDS:
        out[k] = "; ".join(out[k])
    return out


def _metadata(atlas, plans: Sequence[str], categories: Sequence[str], crs: str) -> dict[str, Any]:
    return {
        "generator": "PlanAtlas",
        "generated": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "crs": crs,
        "crs_label": CRS_LABELS[crs],
        "plans": [{"id": p, "title": atlas.plans[p].title, "issuer": atlas.plans[p].issuer,
                   "issued": atlas.plans[p].issued} for p in plans],
        "categories": list(categories),
    }


