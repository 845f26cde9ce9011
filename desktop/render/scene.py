"""The projected map data, built once and shared by every renderer.

``MapScene`` holds the thematic features as columnar arrays — kind, anchor point, bounds,
precision, … projected to Web Mercator in one vectorised pyproj call — with a membership matrix
``member[feature, column]`` over the (plan, category) columns (a feature can be in several
plans and categories), the projected basemap records, the selection and hover highlight, and the
drawing caches (paths, sprites, label images). Which columns are shown, in which order and
style, is the layer stack's business: :meth:`MapScene.ownership` resolves it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import shapely
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

from planatlas.layers.model import CATEGORIES, Feature
from planatlas.layers.stack import plan_ids, standard_stack

from .paths import geom_path, project_geoms
from .symbols import make_sprite
from .view import MapView

__all__ = ["MapScene", "Ownership"]


def _tier_rank(tier: str | None) -> int:
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
                 plan_labels: dict[str, str] | None = None):
        feats = list(features)
        # plans a feature belongs to (curated list, or the atlas' list incl. linked plans)
        self._plans_of = {f.id: list((plans_of or {}).get(f.id, f.plans)) for f in feats}
        self.features: list[Feature] = feats
        self.ids: list[str] = [f.id for f in feats]
        self.index: dict[str, int] = {fid: i for i, fid in enumerate(self.ids)}
        if len(self.index) != len(self.ids):
            dup = sorted({x for x in self.ids if self.ids.count(x) > 1})[:5]
            raise ValueError(f"MapScene: duplicate feature ids {dup}")
        if plans is None:
            seen: dict[str, None] = {}
            for f in feats:
                for p in self._plans_of[f.id]:
                    seen.setdefault(p, None)
            plans = list(seen)
        self.plans: list[str] = list(plans)
        self.plan_labels = {p: (plan_labels or {}).get(p, p) for p in self.plans}
        self.columns: list[tuple[str, str]] = [(p, c) for p in self.plans for c in CATEGORIES]
        self.column_index = {k: i for i, k in enumerate(self.columns)}
        self.selection: set[str] = set()
        self.highlight: str | None = None
        self.revision = 0          # bumped on every change of features, selection or highlight
        self._build_features()
        self._build_basemap(basemap)
        self.sel_mask = np.zeros(len(self.ids), dtype=bool)
        self._owners: dict[tuple, Ownership] = {}
        self._sprites: dict[tuple, QImage] = {}
        self._paths: dict[int, QPainterPath] = {}
        self._text_width: dict[tuple[str, int], float] = {}
        self._labels: dict[tuple, QImage] = {}
        self._memo: dict[Any, tuple[Any, Any]] = {}

    @classmethod
    def from_atlas(cls, atlas: Any) -> "MapScene":
        feats = list(atlas.features.values())
        plans_of = None
        if hasattr(atlas, "plans_of"):
            plans_of = {f.id: atlas.plans_of(f.id) for f in feats}
        labels = {}
        for pid, plan in (getattr(atlas, "plans", {}) or {}).items():
            r = getattr(plan, "region", None)
            labels[pid] = (r.district or r.city or pid) if r is not None else pid
        return cls(feats, basemap=getattr(atlas, "basemap", None), plans=plan_ids(atlas),
                   plans_of=plans_of, plan_labels=labels)

    def default_stack(self):
        """The standard layer stack for this scene's plans (and basemap, if it has one)."""
        return standard_stack(self.plans, basemap=self.basemap is not None)

    def replace_features(self, updated) -> None:
        """Swap in new versions of features with the same ids (e.g. positions verified in the
        field) and re-project them; selection is kept."""
        by_id = {f.id: f for f in updated if f.id in self.index}
        if not by_id:
            return
        self.features = [by_id.get(f.id, f) for f in self.features]
        self._build_features()
        self._owners.clear()
        self._paths.clear()
        self._labels.clear()
        self.revision += 1

    # ---------------------------------------------------------------- build
    def _build_features(self) -> None:
        feats = self.features
        n = len(feats)
        geoms = [f.geometry for f in feats]
        for f in feats:
            if f.geometry is None or f.geometry.is_empty:
                raise ValueError(f"MapScene: feature {f.id!r} ({f.name}) has no geometry")
        self.lonlat_bounds = (shapely.bounds(np.asarray(geoms, dtype=object))
                              if n else np.zeros((0, 4)))
        proj = project_geoms(geoms)
        self.geoms = proj
        kinds = np.zeros(n, dtype=np.uint8)
        ax = np.zeros(n)
        ay = np.zeros(n)
        for i, g in enumerate(proj):
            gt = g.geom_type
            if gt in ("Point", "MultiPoint"):
                kinds[i] = self.KIND_POINT
                p = g if gt == "Point" else g.centroid
            elif "LineString" in gt:
                kinds[i] = self.KIND_LINE
                p = shapely.line_interpolate_point(g, 0.5, normalized=True) if gt == "LineString" \
                    else g.representative_point()
            else:
                kinds[i] = self.KIND_POLYGON
                p = g.representative_point()
            ax[i], ay[i] = p.x, p.y
        self.kind = kinds
        self.ax, self.ay = ax, ay
        b = shapely.bounds(proj) if n else np.zeros((0, 4))
        self.bx0, self.by0, self.bx1, self.by1 = (b[:, 0], b[:, 1], b[:, 2], b[:, 3])
        lat = self.lonlat_bounds[:, 1] * 0.5 + self.lonlat_bounds[:, 3] * 0.5 if n else np.zeros(0)
        self.merc_k = 1.0 / np.cos(np.radians(lat))           # Mercator scale factor
        self.precision = np.array([float(f.precision_m or 0.0) for f in feats])
        self.approx = np.array([f.status != "verified" for f in feats], dtype=bool)
        self.schematic = np.array([bool(f.schematic) for f in feats], dtype=bool)
        self.names = [f.name for f in feats]
        self.area = np.where(kinds == self.KIND_POLYGON, shapely.area(proj) if n else 0.0, 0.0)
        member = np.zeros((n, len(self.columns)), dtype=bool)
        for i, f in enumerate(feats):
            for p in self._plans_of[f.id]:
                for c in f.categories:
                    col = self.column_index.get((p, c))
                    if col is not None:
                        member[i, col] = True
        self.member = member
        # static label priority: tier, then polygons by size, then shorter names, then id
        keys = sorted(range(n), key=lambda i: (_tier_rank(feats[i].tier), -self.area[i],
                                               len(feats[i].name), feats[i].id))
        self.label_rank = np.empty(n, dtype=np.int64)
        self.label_rank[np.asarray(keys, dtype=np.int64)] = np.arange(n)

    def _build_basemap(self, basemap: Any) -> None:
        self.basemap = basemap
        self.bm_districts: list[dict[str, Any]] = []
        self.bm_cities: list[dict[str, Any]] = []
        self.bm_water: list[dict[str, Any]] = []
        self.bm_plan_areas: list[dict[str, Any]] = []
        if basemap is None:
            return

        def rows(gdf, name_col="name"):
            if gdf is None or len(gdf) == 0:
                return []
            geoms = project_geoms(list(gdf.geometry))
            out = []
            cols = set(gdf.columns)
            for k, g in enumerate(geoms):
                if g is None or g.is_empty:
                    continue
                rec = gdf.iloc[k]
                name = rec[name_col] if name_col in cols else None
                if not isinstance(name, str):
                    name = None
                lp = g.representative_point() if g.geom_type.endswith("Polygon") else \
                    g.interpolate(0.5, normalized=True) if "Line" in g.geom_type else g.centroid
                x0, y0, x1, y1 = g.bounds
                out.append({"geom": g, "paths": {}, "name": name, "bounds": (x0, y0, x1, y1),
                            "label": (lp.x, lp.y), "area": g.area, "kind": g.geom_type,
                            "plan": rec["plan"] if "plan" in cols and isinstance(rec["plan"], str) else None,
                            "wkind": rec["kind"] if "kind" in cols else None})
            return out

        self.bm_districts = rows(getattr(basemap, "districts", None))
        # one outline per plan area (union of its districts), drawn dashed over the districts
        d = getattr(basemap, "districts", None)
        if d is not None and len(d) and "plan" in d.columns:
            for pid in sorted({p for p in d["plan"] if isinstance(p, str) and p}):
                geom = shapely.union_all(list(d[d["plan"] == pid].geometry), grid_size=1e-6)
                g = project_geoms([geom])[0]
                self.bm_plan_areas.append({"plan": pid, "geom": g, "paths": {},
                                           "bounds": g.bounds})
        self.bm_cities = rows(getattr(basemap, "cities", None))
        self.bm_water = rows(getattr(basemap, "water", None))

    # ---------------------------------------------------------------- state
    def set_selection(self, ids: Iterable[str]) -> None:
        self.selection = {i for i in ids if i in self.index}
        mask = np.zeros(len(self.ids), dtype=bool)
        if self.selection:
            mask[[self.index[i] for i in self.selection]] = True
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
        idx = [self.index[i] for i in ids if i in self.index]
        if not idx:
            return None
        b = self.lonlat_bounds[idx]
        return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))

    def in_extent(self, x0, y0, x1, y1) -> np.ndarray:
        return (self.bx1 >= x0) & (self.bx0 <= x1) & (self.by1 >= y0) & (self.by0 <= y1)

    def ids_in_view(self, view: MapView, visible: np.ndarray | None = None) -> list[str]:
        """Features whose bounds meet the view (among ``visible`` if given)."""
        m = self.in_extent(*view.extent())
        if visible is not None:
            m &= visible
        return [self.ids[i] for i in np.flatnonzero(m)]

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

    def label_sprite(self, text: str, font: QFont, color: QColor, halo: QColor,
                     halo_w: float, dpr: float = 1.0) -> QImage:
        """A label with its halo, pre-rendered (raster devices draw labels as images)."""
        key = (text, font.pixelSize(), font.bold(), font.letterSpacing(), color.rgba(),
               halo.rgba(), round(halo_w, 2), dpr)
        img = self._labels.get(key)
        if img is None:
            if len(self._labels) > 20000:
                self._labels.clear()
            fm = QFontMetricsF(font)
            pad = halo_w + 1
            w = fm.horizontalAdvance(text) + 2 * pad + 2
            h = fm.height() + 2 * pad
            img = QImage(int(math.ceil(w * dpr)), int(math.ceil(h * dpr)),
                         QImage.Format_ARGB32_Premultiplied)
            img.setDevicePixelRatio(dpr)
            img.fill(Qt.transparent)
            p = QPainter(img)
            p.setRenderHint(QPainter.Antialiasing, True)
            path = QPainterPath()
            path.addText(QPointF(pad, pad + fm.ascent()), font, text)
            pen = QPen(halo, halo_w)
            pen.setJoinStyle(Qt.RoundJoin)
            p.strokePath(path, pen)
            p.fillPath(path, color)
            p.end()
            self._labels[key] = img
        return img

    def path(self, i: int) -> QPainterPath:
        p = self._paths.get(i)
        if p is None:
            p = geom_path(self.geoms[i])
            self._paths[i] = p
        return p

    def sprite(self, shape: str, color: str, size: float, variant: str = "normal") -> QImage:
        key = (shape, color, round(size * 4) / 4, variant)
        img = self._sprites.get(key)
        if img is None:
            img = make_sprite(shape, QColor(color), size, variant)
            self._sprites[key] = img
        return img

    def text_width(self, text: str, font: QFont) -> float:
        key = (text, font.pixelSize())
        w = self._text_width.get(key)
        if w is None:
            w = QFontMetricsF(font).horizontalAdvance(text)
            self._text_width[key] = w
        return w
