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
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath

from planatlas.layers.columns import Categorical, FeatureColumns, StringColumn
from planatlas.layers.model import CATEGORIES, Feature
from planatlas.layers.stack import plan_ids, standard_stack

from .paths import geom_path, project_geoms, rings_of
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


class _Ids:
    """Feature ids of a columnar scene as strings, without a Python string per row."""

    def __init__(self, raw: np.ndarray):
        self.raw = raw

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            return str(self.raw[i])
        return [str(v) for v in self.raw[i]]

    def __iter__(self):
        return (str(v) for v in self.raw.tolist())


class _IdIndex:
    """id -> row for a columnar scene: integer ids by binary search, others by a dict built on
    first use."""

    def __init__(self, raw: np.ndarray):
        self.raw = raw
        self.ints = raw.dtype.kind in "iu"
        self._dict: dict[str, int] | None = None
        if self.ints:
            self.order = np.argsort(raw, kind="stable")
            self.sorted = raw[self.order]

    def get(self, fid, default=None):
        if fid is None:
            return default
        if not self.ints:
            if self._dict is None:
                self._dict = {str(v): i for i, v in enumerate(self.raw.tolist())}
            return self._dict.get(str(fid), default)
        try:
            v = int(str(fid))
        except ValueError:
            return default
        if str(v) != str(fid):
            return default
        k = int(np.searchsorted(self.sorted, v))
        return int(self.order[k]) if k < len(self.sorted) and self.sorted[k] == v else default

    def __getitem__(self, fid) -> int:
        i = self.get(fid)
        if i is None:
            raise KeyError(fid)
        return i

    def __contains__(self, fid) -> bool:
        return self.get(fid) is not None

    def __len__(self) -> int:
        return len(self.raw)


def _char_counts(names) -> np.ndarray:
    """Number of characters of each name (UTF-8 continuation bytes not counted)."""
    if isinstance(names, StringColumn):
        if not len(names):
            return np.zeros(0, dtype=np.int64)
        lead = ((names.data & 0xC0) != 0x80).astype(np.int64)
        csum = np.concatenate([[0], np.cumsum(lead)])
        return csum[names.offsets[1:]] - csum[names.offsets[:-1]]
    return np.array([len(n) for n in names], dtype=np.int64)


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
            self.ids = _Ids(raw)
            self.index = _IdIndex(raw)
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
        keys = np.lexsort((idkey, _char_counts(self.names), -self.area, trank))
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
            tab = tables(name) if tables is not None else _GdfTable(getattr(basemap, name, None))
            setattr(self, f"bm_{name}", _records(tab))
        areas = getattr(basemap, "plan_areas_projected", None)
        if areas is not None:
            items = areas()
        else:
            items = _plan_areas_of(getattr(basemap, "districts", None))
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
        return self.ids[rows] if isinstance(self.ids, _Ids) else [self.ids[i] for i in rows]

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
        for key, img in zip((t[0] for t in todo), _label_images(todo, halo_w, dpr)):
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


# ----------------------------------------------------------------------------- label images
def _label_images(todo, halo_w: float, dpr: float) -> list[QImage]:
    """Label images for ``todo`` [(key, text, font, colour, halo colour)] (see
    MapScene.prepare_labels)."""
    pad = halo_w + 1
    boxes = []
    for _key, text, font, _c, _h in todo:
        fm = QFontMetricsF(font)
        w = int(math.ceil((fm.horizontalAdvance(text) + 2 * pad + 2) * dpr))
        h = int(math.ceil((fm.height() + 2 * pad) * dpr))
        boxes.append((w, h, fm.ascent()))
    # shelf packing onto one sheet, a pixel apart so halos do not touch
    sheet_w = max(1024, max(b[0] for b in boxes) + 2)
    spots, x, y, row_h = [], 0, 0, 0
    for w, h, _a in boxes:
        if x + w > sheet_w:
            x, y, row_h = 0, y + row_h + 2, 0
        spots.append((x, y))
        x += w + 2
        row_h = max(row_h, h)
    sheet = QImage(sheet_w, y + row_h + 2, QImage.Format_ARGB32_Premultiplied)
    sheet.fill(Qt.transparent)
    p = QPainter(sheet)
    p.setRenderHint(QPainter.Antialiasing, True)
    p.scale(dpr, dpr)
    for (_k, text, font, color, _h), (x, y), (_w, _hh, ascent) in zip(todo, spots, boxes):
        path = QPainterPath()
        path.addText(QPointF(x / dpr + pad, y / dpr + pad + ascent), font, text)
        p.fillPath(path, color)
    p.end()
    bpl = sheet.bytesPerLine()
    cover = np.frombuffer(sheet.constBits(), dtype=np.uint8, count=sheet.height() * bpl)
    cover = cover.reshape(sheet.height(), bpl // 4, 4)[:, :sheet.width(), 3]
    grown = _dilate(cover, halo_w * dpr / 2.0)
    # the halo sheet: premultiplied halo colour at the dilated coverage (a table lookup per
    # pixel), then the glyphs blended over it by Qt
    merged = QImage(sheet.width(), sheet.height(), QImage.Format_ARGB32_Premultiplied)
    target = np.frombuffer(merged.bits(), dtype=np.uint32,
                           count=merged.height() * merged.bytesPerLine() // 4)
    target = target.reshape(merged.height(), merged.bytesPerLine() // 4)[:, :merged.width()]
    for hc in dict.fromkeys(t[4].rgba() for t in todo):
        halo = QColor.fromRgba(hc)
        a = (np.arange(256, dtype=np.uint32) * halo.alpha() + 127) // 255
        lut = (a << 24) | (((a * halo.red() + 127) // 255) << 16) | \
            (((a * halo.green() + 127) // 255) << 8) | ((a * halo.blue() + 127) // 255)
        if hc == todo[0][4].rgba():
            target[:] = lut[grown]
        else:                                   # rare: labels with another halo colour
            for t, (x, y), (w, h, _a) in zip(todo, spots, boxes):
                if t[4].rgba() == hc:
                    target[y:y + h, x:x + w] = lut[grown[y:y + h, x:x + w]]
    p = QPainter(merged)
    p.drawImage(0, 0, sheet)
    p.end()
    images = []
    for (x, y), (w, h, _a) in zip(spots, boxes):
        img = merged.copy(x, y, w, h)
        img.setDevicePixelRatio(dpr)
        images.append(img)
    return images


def _dilate(cover: np.ndarray, r: float) -> np.ndarray:
    """Grey-level dilation of ``cover`` by a disc of radius ``r`` pixels (a square when the
    disc is one: radius < 2, separable)."""
    R = int(math.ceil(r))
    grown = cover.copy()
    if R == 1:
        for axis in (1, 0):
            src = grown.copy()
            a = [slice(None)] * 2
            b = [slice(None)] * 2
            a[axis], b[axis] = slice(1, None), slice(None, -1)
            np.maximum(grown[tuple(a)], src[tuple(b)], out=grown[tuple(a)])
            np.maximum(grown[tuple(b)], src[tuple(a)], out=grown[tuple(b)])
        return grown
    H, W = cover.shape
    for dy in range(-R, R + 1):
        for dx in range(-R, R + 1):
            if dx * dx + dy * dy > r * r + 0.25:
                continue
            src = cover[max(0, -dy):H - max(0, dy), max(0, -dx):W - max(0, dx)]
            dst = grown[max(0, dy):H - max(0, -dy), max(0, dx):W - max(0, -dx)]
            np.maximum(dst, src, out=dst)
    return grown


# ----------------------------------------------------------------------------- basemap records
class _GdfTable:
    """A GeoDataFrame seen as a basemap table (for basemaps handed in as GeoDataFrames)."""

    def __init__(self, gdf):
        self.gdf = gdf

    def __len__(self) -> int:
        return 0 if self.gdf is None else len(self.gdf)

    def projected(self) -> np.ndarray:
        return project_geoms(list(self.gdf.geometry))

    def values(self, name: str) -> list:
        if name not in self.gdf.columns:
            return [None] * len(self.gdf)
        return list(self.gdf[name])


def _records(tab) -> list[dict[str, Any]]:
    if tab is None or len(tab) == 0:
        return []
    geoms = tab.projected()
    names, plans, kinds = tab.values("name"), tab.values("plan"), tab.values("kind")
    out = []
    for k, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        name = names[k] if isinstance(names[k], str) else None
        lp = g.representative_point() if g.geom_type.endswith("Polygon") else \
            g.interpolate(0.5, normalized=True) if "Line" in g.geom_type else g.centroid
        out.append({"geom": g, "paths": {}, "name": name, "bounds": g.bounds,
                    "label": (lp.x, lp.y), "area": g.area, "kind": g.geom_type,
                    "plan": plans[k] if isinstance(plans[k], str) else None, "wkind": kinds[k]})
    return out


def _plan_areas_of(d) -> list[tuple[str, Any]]:
    """(plan, projected union of its districts) from a districts GeoDataFrame."""
    if d is None or not len(d) or "plan" not in d.columns:
        return []
    out = []
    for pid in sorted({p for p in d["plan"] if isinstance(p, str) and p}):
        geom = shapely.union_all(list(d[d["plan"] == pid].geometry), grid_size=1e-6)
        out.append((pid, project_geoms([geom])[0]))
    return out



