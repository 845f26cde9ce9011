"""The projected map data, built once and shared by every renderer.

``MapScene`` holds the thematic features in the columnar store
(:class:`planatlas.layers.columns.FeatureColumns`: kind, anchor point, bounds, precision, …
projected to Web Mercator in one vectorised pyproj call, with a bulk spatial index) and a
membership matrix ``member[feature, column]`` over the (plan, category) columns (a feature can
be in several plans and categories), the projected basemap records, the selection and hover
highlight, and the drawing caches (paths, sprites, label images). Which columns are shown, in
which order and style, is the layer stack's business: :meth:`MapScene.ownership` resolves it.

Build it from curated features (``MapScene(features)`` / :meth:`from_atlas`) or straight from
columns (:meth:`from_columns`, e.g. a million points read from a GeoPackage): both end in the
same arrays. Renderers may run in a worker thread; they take :attr:`lock` while painting.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import shapely
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainterPath

from planatlas.layers.columns import Categorical, FeatureColumns
from planatlas.layers.model import CATEGORIES, Feature
from planatlas.layers.stack import plan_ids, standard_stack

from .label_images import label_images
from .paths import geom_path, rings_of
from .records import GdfTable, IdIndex, Ids, basemap_records, char_counts, plan_areas_of
from .symbols import make_halo, make_sprite
from .view import MapView

__all__ = ["MapScene", "Ownership", "tier_rank"]


def tier_rank(tier: str | None) -> int:
    if not tier:
        return 4
    t = str(tier).lower()
    if "国" in t or "national" in t or "international" in t or "国际" in t:
        return 0
    if "省" in t or "provinc" in t or "region" in t:
        return 1
    if "市" in t or "city" in t or "municipal" in t:
        return 2
    return 3


@dataclass(frozen=True)
class Ownership:
    """Who draws each feature: ``keys`` are the visible (plan, category) columns, topmost first;
    ``visible[i]`` says feature i is in one of them, ``owner[i]`` is the index in ``keys`` of
    its topmost one (it is drawn once, in that layer's style)."""
    keys: tuple[tuple[str, str], ...]
    visible: np.ndarray
    owner: np.ndarray


class MapScene:
    """Projected thematic features + basemap + selection + drawing caches (build once)."""

    KIND_POINT, KIND_LINE, KIND_POLYGON = 0, 1, 2

    def __init__(self, features: Iterable[Feature] = (), *, basemap: Any = None,
                 plans: Sequence[str] | None = None,
                 plans_of: dict[str, Sequence[str]] | None = None,
                 plan_labels: dict[str, str] | None = None,
                 columns: FeatureColumns | None = None, member: np.ndarray | None = None):
        feats = list(features)
        if columns is not None and feats:
            raise ValueError("MapScene: give features or columns, not both")
        self.features: list[Feature] = feats
        self.lock = threading.RLock()            # held by renderers (canvas worker, exports)
        if columns is None:
            # plans a feature belongs to (curated list, or the atlas' list incl. linked plans)
            self._plans_of = {f.id: list((plans_of or {}).get(f.id, f.plans)) for f in feats}
            ids = [f.id for f in feats]
            if len(set(ids)) != len(ids):
                dup = sorted({x for x in ids if ids.count(x) > 1})[:5]
                raise ValueError(f"MapScene: duplicate feature ids {dup}")
            for f in feats:
                if f.geometry is None or f.geometry.is_empty:
                    raise ValueError(f"MapScene: feature {f.id!r} ({f.name}) has no geometry")
            if plans is None:
                plans = list(dict.fromkeys(p for f in feats for p in self._plans_of[f.id]))
        elif plans is None:
            raise ValueError("MapScene(columns=...) needs the plans its member matrix covers")
        self.plans: list[str] = list(plans)
        # plan id -> its name, one string or {"zh": …, "en": …} (see plan_label)
        self.plan_labels = {p: (plan_labels or {}).get(p, p) for p in self.plans}
        self.columns: list[tuple[str, str]] = [(p, c) for p in self.plans for c in CATEGORIES]
        self.column_index = {k: i for i, k in enumerate(self.columns)}
        self.selection: set[str] = set()
        self.highlight: str | None = None
        self.revision = 0          # bumped on every change of features, selection or highlight
        self._given_member = member
        self._build_features(columns)
        self._build_basemap(basemap)
        self.sel_mask = np.zeros(len(self.ids), dtype=bool)
        self._owners: dict[tuple, Ownership] = {}
        self._sprites: dict[tuple, QImage] = {}
        self._paths: dict[int, QPainterPath] = {}
        self._rings: dict[int, list] = {}
        self._text_width: dict[tuple[str, int], float] = {}
        self._labels: dict[tuple, QImage] = {}
        self._memo: dict[Any, tuple[Any, Any]] = {}

    def plan_label(self, plan: str, lang: str = "zh") -> str:
        """The plan's name in ``lang`` (its id when the scene was given no name)."""
        label = self.plan_labels.get(plan, plan)
        return label if isinstance(label, str) else label.get(lang) or label.get("zh") or plan

    @classmethod
    def from_atlas(cls, atlas: Any) -> "MapScene":
        feats = list(atlas.features.values())
        plans_of = None
        if hasattr(atlas, "plans_of"):
            plans_of = {f.id: atlas.plans_of(f.id) for f in feats}
        from planatlas.layers.cite import plan_label
        labels = {pid: {lang: plan_label(plan, lang) for lang in ("zh", "en")}
                  for pid, plan in (getattr(atlas, "plans", {}) or {}).items()}
        return cls(feats, basemap=getattr(atlas, "basemap", None), plans=plan_ids(atlas),
                   plans_of=plans_of, plan_labels=labels)

    @classmethod
    def from_columns(cls, cols: FeatureColumns, *, plan: str | Sequence[str] = "layer",
                     category: str = "category", basemap: Any = None,
                     plan_labels: dict[str, str] | None = None) -> "MapScene":
        """A scene over a columnar layer: ``plan`` is an attribute holding each row's plan
        (or one plan id for every row), ``category`` the attribute holding its category
        (a :class:`Categorical` or strings; unknown categories are in no layer)."""
        n = len(cols)
        if isinstance(plan, str) and plan in cols.attrs:
            pcol = cols.attrs[plan]
            pcol = pcol if isinstance(pcol, Categorical) else Categorical.from_values(pcol)
            plans = [p for p in pcol.categories]
            pcodes = pcol.codes
        else:
            plans = [plan] if isinstance(plan, str) else list(plan)
            pcodes = np.zeros(n, dtype=np.int32)
        ccol = cols.attrs.get(category)
        if ccol is None:
            raise ValueError(f"from_columns: no category attribute {category!r} "
                             f"(attributes: {', '.join(cols.attrs)})")
        ccol = ccol if isinstance(ccol, Categorical) else Categorical.from_values(ccol)
        cat_pos = np.array([CATEGORIES.index(c) if c in CATEGORIES else -1
                            for c in ccol.categories] + [-1], dtype=np.int64)
        cpos = cat_pos[ccol.codes]                 # code -1 -> last entry -> -1
        member = np.zeros((n, len(plans) * len(CATEGORIES)), dtype=bool)
        ok = (cpos >= 0) & (pcodes >= 0)
        rows = np.flatnonzero(ok)
        member[rows, pcodes[rows] * len(CATEGORIES) + cpos[rows]] = True
        return cls(basemap=basemap, plans=plans, plan_labels=plan_labels, columns=cols,
                   member=member)

    def default_stack(self):
        """The standard layer stack for this scene's plans (and basemap, if it has one)."""
        return standard_stack(self.plans, basemap=self.basemap is not None)

    def replace_features(self, updated) -> None:
        """Swap in new versions of features with the same ids (e.g. positions verified in the
        field) and re-project them; selection is kept."""
        if self.cols.source != "gazetteer":
            raise ValueError("replace_features: this scene was built from columns")
        by_id = {f.id: f for f in updated if f.id in self.index}
        if not by_id:
            return
        with self.lock:
            self.features = [by_id.get(f.id, f) for f in self.features]
            self._build_features(None)
            self._owners.clear()
            self._paths.clear()
            self._rings.clear()
            self._labels.clear()
            self.revision += 1

    # ---------------------------------------------------------------- build
    def _build_features(self, cols: FeatureColumns | None) -> None:
        feats = self.features
        if cols is None:
            cols = FeatureColumns.from_features(feats)
            self.ids: Sequence[str] = list(cols.ids)
            self.index: Any = {fid: i for i, fid in enumerate(self.ids)}
            self.names: Any = [f.name for f in feats]
        else:
            raw = np.asarray(cols.ids)
            self.ids = Ids(raw)
            self.index = IdIndex(raw)
            names = cols.attrs.get("name")
            self.names = names if names is not None else self.ids
        self.cols = cols
        n = len(cols)
        self.kind = cols.kind
        self.ax, self.ay = cols.x, cols.y
        self.bx0, self.by0, self.bx1, self.by1 = cols.bound_columns()
        self.lonlat_bounds = cols.lonlat_bounds
        self.merc_k = cols.merc_scale()
        a = cols.attrs
        self.precision = np.asarray(a["precision_m"], dtype=float) if "precision_m" in a else \
            np.zeros(n)
        status = a.get("status")
        if isinstance(status, Categorical):
            self.approx = status.codes != status.code("verified")
        elif status is not None:
            self.approx = np.asarray([s != "verified" for s in status], dtype=bool)
        else:
            self.approx = np.zeros(n, dtype=bool)
        self.schematic = np.asarray(a["schematic"], dtype=bool) if "schematic" in a else \
            np.zeros(n, dtype=bool)
        self.area = cols.area()
        if self._given_member is not None:
            self.member = self._given_member
        else:
            member = np.zeros((n, len(self.columns)), dtype=bool)
            for i, f in enumerate(feats):
                for p in self._plans_of[f.id]:
                    for c in f.categories:
                        col = self.column_index.get((p, c))
                        if col is not None:
                            member[i, col] = True
            self.member = member
        # static label priority: tier, then polygons by size, then shorter names, then id
        tier = a.get("tier")
        if isinstance(tier, Categorical):
            ranks = np.array([tier_rank(t) for t in tier.categories] + [4], dtype=np.int64)
            trank = ranks[tier.codes]
        else:
            trank = np.full(n, 4, dtype=np.int64)
        self.tier = trank                     # 0 national … 2 city-level, 3 other, 4 none
        raw = np.asarray(cols.ids)
        idkey = raw if raw.dtype.kind in "iu" else raw.astype(str)
        keys = np.lexsort((idkey, char_counts(self.names), -self.area, trank))
        self.label_rank = np.empty(n, dtype=np.int64)
        self.label_rank[keys] = np.arange(n)

    @property
    def geoms(self) -> np.ndarray:
        """Projected shapely geometries (made on first use for point layers)."""
        return self.cols.projected()

    def rows_in(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Rows whose bounds meet a Web-Mercator box, north first (the drawing order)."""
        return self.cols.query(x0, y0, x1, y1)

    def _build_basemap(self, basemap: Any) -> None:
        self.basemap = basemap
        self.bm_districts: list[dict[str, Any]] = []
        self.bm_cities: list[dict[str, Any]] = []
        self.bm_water: list[dict[str, Any]] = []
        self.bm_plan_areas: list[dict[str, Any]] = []
        if basemap is None:
            return
        tables = getattr(basemap, "table", None)
        for name in ("districts", "cities", "water"):
            tab = tables(name) if tables is not None else GdfTable(getattr(basemap, name, None))
            setattr(self, f"bm_{name}", basemap_records(tab))
        areas = getattr(basemap, "plan_areas_projected", None)
        if areas is not None:
            items = areas()
        else:
            items = plan_areas_of(getattr(basemap, "districts", None))
        for pid, g in items:
            self.bm_plan_areas.append({"plan": pid, "geom": g, "paths": {}, "bounds": g.bounds})

    # ---------------------------------------------------------------- state
    def set_selection(self, ids: Iterable[str]) -> None:
        sel = set()
        rows = []
        for i in ids:
            r = self.index.get(i)
            if r is not None:
                sel.add(i)
                rows.append(r)
        mask = np.zeros(len(self.ids), dtype=bool)
        if rows:
            mask[rows] = True
        self.selection = sel
        self.sel_mask = mask
        self.revision += 1

    def set_highlight(self, fid: str | None) -> None:
        self.highlight = fid if fid in self.index else None
        self.revision += 1

    # ---------------------------------------------------------------- queries
    def ownership(self, keys: Sequence[tuple[str, str]]) -> Ownership:
        """Resolve the visible (plan, category) ``keys``, topmost first (cached)."""
        keys = tuple((str(p), str(c)) for p, c in keys if (p, c) in self.column_index)
        own = self._owners.get(keys)
        if own is None:
            n = len(self.ids)
            if keys and n:
                m = self.member[:, [self.column_index[k] for k in keys]]
                own = Ownership(keys, m.any(axis=1), m.argmax(axis=1))
            else:
                own = Ownership(keys, np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64))
            if len(self._owners) > 16:
                self._owners.clear()
            self._owners[keys] = own
        return own

    def column_mask(self, keys: Iterable[tuple[str, str]]) -> np.ndarray:
        """Features in any of the (plan, category) columns ``keys``."""
        cols = [self.column_index[k] for k in keys if k in self.column_index]
        if not cols or not len(self.ids):
            return np.zeros(len(self.ids), dtype=bool)
        return self.member[:, cols].any(axis=1)

    def column_count(self, key: tuple[str, str]) -> int:
        col = self.column_index.get(tuple(key))
        return int(self.member[:, col].sum()) if col is not None else 0

    def bbox_lonlat(self, ids: Iterable[str]) -> tuple[float, float, float, float] | None:
        idx = [r for r in (self.index.get(i) for i in ids) if r is not None]
        if not idx:
            return None
        return self.cols.bbox_lonlat(idx)

    def in_extent(self, x0, y0, x1, y1) -> np.ndarray:
        return (self.bx1 >= x0) & (self.bx0 <= x1) & (self.by1 >= y0) & (self.by0 <= y1)

    def ids_in_view(self, view: MapView, visible: np.ndarray | None = None) -> list[str]:
        """Features whose bounds meet the view (among ``visible`` if given), in row order."""
        rows = np.sort(self.rows_in(*view.extent()))
        if visible is not None:
            rows = rows[visible[rows]]
        return self.ids[rows] if isinstance(self.ids, Ids) else [self.ids[i] for i in rows]

    def screen_position(self, view: MapView, fid: str) -> tuple[float, float]:
        """Pixel position of a feature's anchor (symbol centre / label point)."""
        i = self.index[fid]
        px, py = view.to_screen(self.ax[i], self.ay[i])
        return float(px), float(py)

    # ---------------------------------------------------------------- drawing caches
    def memo(self, key: Any, source: Any, build) -> Any:
        """``build()`` once per ``key`` while ``source`` is the same object (renderer caches)."""
        hit = self._memo.get(key)
        if hit is None or hit[0] is not source:
            hit = (source, build())
            self._memo[key] = hit
        return hit[1]

    @staticmethod
    def basemap_path(rec: dict[str, Any], res: float) -> QPainterPath:
        """Basemap geometry simplified to ~half a pixel at ``res`` (cached per zoom level)."""
        bucket = int(math.floor(math.log2(max(res, 1e-3))))
        path = rec["paths"].get(bucket)
        if path is None:
            tol = (2.0 ** bucket) * 0.5
            g = shapely.simplify(rec["geom"], tol, preserve_topology=True)
            path = geom_path(g if not g.is_empty else rec["geom"])
            rec["paths"][bucket] = path
        return path

    @staticmethod
    def _label_key(text, font, color, halo, halo_w, dpr) -> tuple:
        return (text, font.pixelSize(), font.bold(), font.letterSpacing(), color.rgba(),
                halo.rgba(), round(halo_w, 2), dpr)

    def label_sprite(self, text: str, font: QFont, color: QColor, halo: QColor,
                     halo_w: float, dpr: float = 1.0) -> QImage:
        """A label with its halo, pre-rendered (raster devices draw labels as images)."""
        key = self._label_key(text, font, color, halo, halo_w, dpr)
        img = self._labels.get(key)
        if img is None:
            self.prepare_labels([(text, font, color, halo)], halo_w, dpr)
            img = self._labels[key]
        return img

    def prepare_labels(self, items, halo_w: float, dpr: float = 1.0) -> None:
        """Pre-render the (text, font, colour, halo colour) labels not cached yet, all at once:
        the glyphs go onto one sheet, the halo is their coverage dilated by half the halo
        width (a disc) in one numpy pass over the sheet, then each label is cut out. Same look
        as a stroked outline, at a small fraction of the cost of stroking CJK glyph paths."""
        todo, seen = [], set()
        for text, font, color, halo in items:
            key = self._label_key(text, font, color, halo, halo_w, dpr)
            if key not in self._labels and key not in seen:
                seen.add(key)
                todo.append((key, text, font, color, halo))
        if not todo:
            return
        if len(self._labels) + len(todo) > 20000:
            self._labels.clear()
        for key, img in zip((t[0] for t in todo), label_images(todo, halo_w, dpr)):
            self._labels[key] = img

    def path(self, i: int) -> QPainterPath:
        p = self._paths.get(i)
        if p is None:
            p = geom_path(self.geoms[i])
            self._paths[i] = p
        return p

    def combined_path(self, rows: np.ndarray) -> QPainterPath:
        """One path (map coordinates, winding fill) of the areas or lines ``rows``: rings
        oriented so that overlapping areas unite and holes stay holes. Each row's rings are
        made once, in bulk."""
        missing = [int(i) for i in rows if int(i) not in self._rings]
        if missing:
            self._rings.update(zip(missing, rings_of(self.geoms[missing])))
        path = QPainterPath()
        path.setFillRule(Qt.WindingFill)
        add = path.addPolygon
        rings = self._rings
        for i in rows.tolist():
            for ring in rings[i]:
                add(ring)
        return path

    def sprite(self, shape: str, color: str, size: float, variant: str = "normal") -> QImage:
        key = (shape, color, round(size * 4) / 4, variant)
        img = self._sprites.get(key)
        if img is None:
            img = make_sprite(shape, QColor(color), size, variant)
            self._sprites[key] = img
        return img

    def halo_sprite(self, color: str, radius: float, scale: float) -> QImage:
        key = ("halo", color, round(radius, 3), scale)
        img = self._sprites.get(key)
        if img is None:
            img = make_halo(color, radius, scale)
            self._sprites[key] = img
        return img

    def text_width(self, text: str, font: QFont) -> float:
        key = (text, font.pixelSize())
        w = self._text_width.get(key)
        if w is None:
            if len(self._text_width) > 200000:
                self._text_width.clear()
            w = QFontMetricsF(font).horizontalAdvance(text)
            self._text_width[key] = w
        return w
