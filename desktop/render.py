"""The one map painter of PlanAtlas, used for the screen canvas and for paper/image exports.

    view  = MapView.fit((113.2, 23.0, 113.5, 23.2), (1200, 800))   # Web-Mercator view
    scene = MapScene.from_atlas(atlas)                               # build once, reuse
    paint_map(painter, QRectF(0, 0, 1200, 800), view, scene, labels=True, scale=1.0)

* ``MapView`` — an immutable Web-Mercator (EPSG:3857) view: centre ``(cx, cy)`` in metres,
  ``res`` metres per pixel and a pixel size ``(width, height)``.
* ``MapScene`` — everything that is drawn: the projected basemap (districts, city outlines,
  water), the thematic features grouped in layers ``(plan, category)``, per-layer styles,
  visibility, selection and hover highlight. Projection (pyproj, vectorised) happens once when
  the scene is built; painting only applies an affine transform.
* ``paint_map`` draws the view into ``rect`` of any QPainter (QImage, QWidget, QPdfWriter,
  QSvgGenerator …). ``scale`` multiplies symbol sizes, line widths and label sizes (use
  ``dpi / 96`` for print). On raster devices point symbols are pre-rendered sprites; on vector
  devices they are real vector shapes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence

import numpy as np
import shapely
import shiboken6
from pyproj import Transformer
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPaintEngine, QPen,
    QPolygonF, QTransform,
)

from planatlas.layers.model import CATEGORIES, CATEGORY_COLORS, Feature

__all__ = [
    "MapView", "MapScene", "LayerStyle", "paint_map", "paint_basemap", "paint_features",
    "paint_labels", "lonlat_to_merc", "merc_to_lonlat", "CATEGORY_SYMBOLS", "default_style",
    "symbol_path",
]

R_EARTH = 6378137.0
RES_Z0 = 2 * math.pi * R_EARTH / 256.0          # metres per pixel at zoom 0
MAX_MERC_Y = 20037508.342789244

_TO_MERC = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
_TO_LONLAT = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)


def lonlat_to_merc(lon, lat):
    """WGS-84 lon/lat (scalars or arrays) -> Web-Mercator metres (pyproj, vectorised)."""
    lat = np.clip(np.asarray(lat, dtype=np.float64), -85.05112878, 85.05112878)
    return _TO_MERC.transform(np.asarray(lon, dtype=np.float64), lat)


def merc_to_lonlat(x, y):
    return _TO_LONLAT.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))


# --------------------------------------------------------------------------------- view
@dataclass(frozen=True)
class MapView:
    """Web-Mercator view: centre (cx, cy) in EPSG:3857 metres, ``res`` metres/pixel, pixel size."""
    cx: float
    cy: float
    res: float
    width: int
    height: int

    MIN_RES = 0.15          # ~zoom 20
    MAX_RES = 20000.0       # ~zoom 3

    def __post_init__(self):
        for name in ("cx", "cy", "res"):
            v = getattr(self, name)
            if not math.isfinite(v):
                raise ValueError(f"MapView.{name} must be finite, got {v!r}")
        if self.res <= 0:
            raise ValueError(f"MapView.res must be > 0, got {self.res!r}")
        if self.width < 1 or self.height < 1:
            raise ValueError(f"MapView size must be at least 1x1, got {self.width}x{self.height}")

    # -- geometry
    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def zoom(self) -> float:
        """Slippy-map zoom level equivalent of ``res`` (z=12 ≈ 38 m/px)."""
        return math.log2(RES_Z0 / self.res)

    def to_screen(self, xs, ys):
        """Map metres -> pixel coordinates (origin top-left of the view). Arrays or scalars."""
        px = (np.asarray(xs, dtype=np.float64) - self.cx) / self.res + self.width / 2.0
        py = self.height / 2.0 - (np.asarray(ys, dtype=np.float64) - self.cy) / self.res
        return px, py

    def to_map(self, px, py):
        """Pixel coordinates -> map metres."""
        xs = self.cx + (np.asarray(px, dtype=np.float64) - self.width / 2.0) * self.res
        ys = self.cy - (np.asarray(py, dtype=np.float64) - self.height / 2.0) * self.res
        return xs, ys

    def to_lonlat(self, px, py):
        return merc_to_lonlat(*self.to_map(px, py))

    def extent(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in EPSG:3857 metres."""
        hw, hh = self.width * self.res / 2.0, self.height * self.res / 2.0
        return (self.cx - hw, self.cy - hh, self.cx + hw, self.cy + hh)

    def extent_lonlat(self) -> tuple[float, float, float, float]:
        """(minlon, minlat, maxlon, maxlat) of the view."""
        x0, y0, x1, y1 = self.extent()
        lon, lat = merc_to_lonlat([x0, x1], [max(y0, -MAX_MERC_Y), min(y1, MAX_MERC_Y)])
        return (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))

    def center_lonlat(self) -> tuple[float, float]:
        lon, lat = merc_to_lonlat(self.cx, self.cy)
        return (float(lon), float(lat))

    def transform(self) -> QTransform:
        """QTransform from map metres to view pixels."""
        s = 1.0 / self.res
        return QTransform(s, 0.0, 0.0, -s, self.width / 2.0 - self.cx * s,
                          self.height / 2.0 + self.cy * s)

    def ground_resolution(self) -> float:
        """True metres per pixel at the view centre (Mercator scale corrected)."""
        _, lat = self.center_lonlat()
        return self.res * math.cos(math.radians(lat))

    # -- constructors / changes (views are immutable)
    @classmethod
    def fit(cls, lonlat_bbox: Sequence[float], size: Sequence[int], *, margin: float = 0.06,
            min_res: float = 1.0) -> "MapView":
        """View of pixel ``size`` that shows ``lonlat_bbox`` (minlon, minlat, maxlon, maxlat)."""
        try:
            minlon, minlat, maxlon, maxlat = (float(v) for v in lonlat_bbox)
        except (TypeError, ValueError):
            raise ValueError(f"MapView.fit: bbox must be 4 numbers, got {lonlat_bbox!r}") from None
        if not all(math.isfinite(v) for v in (minlon, minlat, maxlon, maxlat)):
            raise ValueError(f"MapView.fit: bbox has non-finite values: {lonlat_bbox!r}")
        if minlon > maxlon or minlat > maxlat:
            raise ValueError(f"MapView.fit: bbox is inverted: {lonlat_bbox!r}")
        w, h = max(1, int(size[0])), max(1, int(size[1]))
        xs, ys = lonlat_to_merc([minlon, maxlon], [minlat, maxlat])
        bw, bh = float(xs[1] - xs[0]), float(ys[1] - ys[0])
        usable_w, usable_h = max(1.0, w * (1 - 2 * margin)), max(1.0, h * (1 - 2 * margin))
        res = max(bw / usable_w, bh / usable_h, min_res)
        res = min(res, cls.MAX_RES)
        return cls(float(xs[0] + xs[1]) / 2.0, float(ys[0] + ys[1]) / 2.0, res, w, h)

    def framed(self, lonlat_bbox: Sequence[float], *, margin: float = 0.06,
               min_res: float = 1.0) -> "MapView":
        return MapView.fit(lonlat_bbox, self.size, margin=margin, min_res=min_res)

    def resized(self, width: int, height: int) -> "MapView":
        return replace(self, width=max(1, int(width)), height=max(1, int(height)))

    def panned(self, dx: float, dy: float) -> "MapView":
        """Move the content by (dx, dy) pixels (drag right -> map moves right)."""
        return replace(self, cx=self.cx - dx * self.res, cy=self.cy + dy * self.res)

    def zoomed(self, factor: float, anchor: tuple[float, float] | None = None) -> "MapView":
        """Zoom in by ``factor`` (>1 = closer) keeping the map point under ``anchor`` fixed."""
        new_res = min(max(self.res / factor, self.MIN_RES), self.MAX_RES)
        if anchor is None:
            return replace(self, res=new_res)
        ax, ay = self.to_map(anchor[0], anchor[1])
        ax, ay = float(ax), float(ay)
        f = new_res / self.res
        return replace(self, res=new_res, cx=ax + (self.cx - ax) * f, cy=ay + (self.cy - ay) * f)

    def to_dict(self) -> dict[str, float]:
        return {"cx": self.cx, "cy": self.cy, "res": self.res,
                "width": self.width, "height": self.height}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MapView":
        try:
            return cls(float(d["cx"]), float(d["cy"]), float(d["res"]),
                       int(d["width"]), int(d["height"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a map view: {d!r} ({exc})") from None


def _view_for_rect(view: MapView, rect: QRectF) -> MapView:
    """The view drawn into ``rect``: same centre and ground width, rect's pixel size."""
    w, h = max(1, int(round(rect.width()))), max(1, int(round(rect.height())))
    if (w, h) == view.size:
        return view
    return MapView(view.cx, view.cy, view.res * view.width / w, w, h)


# ------------------------------------------------------------------------------ styles
# category -> (symbol shape, default colour). Colours are from a colour-blind-safe set and
# differ in hue and lightness; shapes differ too, so the map also reads in grey scale.
CATEGORY_SYMBOLS: dict[str, tuple[str, str]] = {
    cat: (shape, CATEGORY_COLORS[cat]) for cat, shape in (
        ("commercial_district", "circle"), ("night_economy", "diamond"),
        ("logistics_hub", "square"), ("scenic_area", "triangle"))
}
SELECT_COLOR = "#ffb000"
HOVER_COLOR = "#00a6d6"


@dataclass
class LayerStyle:
    color: str = "#d1495b"       # "#rrggbb"
    size: float = 10.0           # symbol size in pixels at scale 1
    shape: str = "circle"        # circle | square | diamond | triangle

    def qcolor(self, alpha: int | None = None) -> QColor:
        c = QColor(self.color)
        if not c.isValid():
            c = QColor("#888888")
        if alpha is not None:
            c.setAlpha(alpha)
        return c

    def to_dict(self) -> dict[str, Any]:
        return {"color": self.color, "size": self.size, "shape": self.shape}


def default_style(category: str) -> LayerStyle:
    shape, color = CATEGORY_SYMBOLS.get(category, ("circle", "#666666"))
    return LayerStyle(color=color, size=10.0, shape=shape)


def symbol_path(shape: str, size: float) -> QPainterPath:
    """A symbol outline centred on (0, 0) that fits a ``size`` x ``size`` box."""
    r = size / 2.0
    path = QPainterPath()
    if shape == "square":
        s = r * 0.86
        path.addRect(QRectF(-s, -s, 2 * s, 2 * s))
    elif shape == "diamond":
        path.addPolygon(QPolygonF([QPointF(0, -r), QPointF(r, 0), QPointF(0, r), QPointF(-r, 0)]))
        path.closeSubpath()
    elif shape == "triangle":
        h = r * 1.0
        path.addPolygon(QPolygonF([QPointF(0, -h), QPointF(r * 0.95, h * 0.75),
                                   QPointF(-r * 0.95, h * 0.75)]))
        path.closeSubpath()
    else:
        path.addEllipse(QPointF(0, 0), r * 0.9, r * 0.9)
    return path


def _qpolygon(coords: np.ndarray) -> QPolygonF:
    """Nx2 float array -> QPolygonF (one memcpy, no per-point Python)."""
    coords = np.ascontiguousarray(coords[:, :2], dtype=np.float64)
    n = len(coords)
    poly = QPolygonF()
    if n == 0:
        return poly
    poly.resize(n)
    buf = np.frombuffer(shiboken6.VoidPtr(poly.data(), n * 16, True), dtype=np.float64, count=2 * n)
    buf[:] = coords.ravel()
    return poly


def _geom_path(geom) -> QPainterPath:
    """Projected shapely geometry -> QPainterPath (polygons closed, holes via odd-even fill)."""
    path = QPainterPath()
    path.setFillRule(Qt.OddEvenFill)
    if geom is None or geom.is_empty:
        return path
    gt = geom.geom_type
    if gt == "Polygon":
        for ring in (geom.exterior, *geom.interiors):
            path.addPolygon(_qpolygon(np.asarray(ring.coords)))
            path.closeSubpath()
    elif gt == "LineString" or gt == "LinearRing":
        path.addPolygon(_qpolygon(np.asarray(geom.coords)))
    elif gt.startswith("Multi") or gt == "GeometryCollection":
        for part in geom.geoms:
            sub = _geom_path(part)
            path.addPath(sub)
    return path


def _project_geoms(geoms: Sequence) -> np.ndarray:
    """shapely geometries lon/lat -> EPSG:3857, all coordinates in one pyproj call."""
    arr = np.asarray(list(geoms), dtype=object)
    if len(arr) == 0:
        return arr

    def fn(c: np.ndarray) -> np.ndarray:
        x, y = lonlat_to_merc(c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(arr, fn)


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


# ------------------------------------------------------------------------------ scene
class MapScene:
    """Projected basemap + feature layers + styles + visibility + selection (build once)."""

    KIND_POINT, KIND_LINE, KIND_POLYGON = 0, 1, 2

    def __init__(self, features: Iterable[Feature] = (), *, basemap: Any = None,
                 plans: Sequence[str] | None = None,
                 plans_of: dict[str, Sequence[str]] | None = None):
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
        self.layers: list[tuple[str, str]] = [(p, c) for p in self.plans for c in CATEGORIES]
        self.layer_index = {k: i for i, k in enumerate(self.layers)}
        self.styles: dict[tuple[str, str], LayerStyle] = {k: default_style(k[1]) for k in self.layers}
        self.visible: set[tuple[str, str]] = set(self.layers)
        self.selection: set[str] = set()
        self.highlight: str | None = None
        self.revision = 0          # bumped on every change that alters the drawing
        self._build_features()
        self._build_basemap(basemap)
        self._update_visibility()
        self._sel_mask = np.zeros(len(self.ids), dtype=bool)
        self._sprites: dict[tuple, QImage] = {}
        self._paths: dict[int, QPainterPath] = {}
        self._text_width: dict[tuple[str, int], float] = {}
        self._labels: dict[tuple, QImage] = {}

    @classmethod
    def from_atlas(cls, atlas: Any) -> "MapScene":
        feats = list(atlas.features.values())
        plans_of = None
        if hasattr(atlas, "plans_of"):
            plans_of = {f.id: atlas.plans_of(f.id) for f in feats}
        plans = list(getattr(atlas, "plans", {}) or {})
        extra = [p for f in feats for p in (plans_of or {}).get(f.id, f.plans) if p not in plans]
        plans += list(dict.fromkeys(extra))
        return cls(feats, basemap=getattr(atlas, "basemap", None), plans=plans, plans_of=plans_of)

    def replace_features(self, updated) -> None:
        """Swap in new versions of features with the same ids (e.g. positions verified in the
        field) and re-project them; styles, visibility and selection are kept."""
        by_id = {f.id: f for f in updated if f.id in self.index}
        if not by_id:
            return
        self.features = [by_id.get(f.id, f) for f in self.features]
        self._build_features()
        self._update_visibility()
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
        proj = _project_geoms(geoms)
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
        L = len(self.layers)
        member = np.zeros((n, L), dtype=bool)
        for i, f in enumerate(feats):
            for p in self._plans_of[f.id]:
                for c in f.categories:
                    li = self.layer_index.get((p, c))
                    if li is not None:
                        member[i, li] = True
        self.member = member
        # features belonging to no (plan, category) layer are still drawn under their category
        # in an "unassigned" state? No: every feature must sit in a layer to be toggled.
        self.orphans = ~member.any(axis=1) if n else np.zeros(0, dtype=bool)
        # static label priority: tier, then polygons by size, then shorter names, then id
        keys = sorted(range(n), key=lambda i: (_tier_rank(feats[i].tier), -self.area[i],
                                               len(feats[i].name), feats[i].id))
        self.label_rank = np.empty(n, dtype=np.int64)
        self.label_rank[np.asarray(keys, dtype=np.int64)] = np.arange(n)
        self.tree = shapely.STRtree(proj) if n else None

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
            geoms = _project_geoms(list(gdf.geometry))
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
        self.bm_plan_areas = []
        d = getattr(basemap, "districts", None)
        if d is not None and len(d) and "plan" in d.columns:
            for pid in sorted({p for p in d["plan"] if isinstance(p, str) and p}):
                geom = shapely.union_all(list(d[d["plan"] == pid].geometry), grid_size=1e-6)
                g = _project_geoms([geom])[0]
                self.bm_plan_areas.append({"plan": pid, "geom": g, "paths": {},
                                           "bounds": g.bounds})
        self.bm_cities = rows(getattr(basemap, "cities", None))
        self.bm_water = rows(getattr(basemap, "water", None))

    # ---------------------------------------------------------------- state
    def _bump(self) -> None:
        self.revision += 1

    def _update_visibility(self) -> None:
        vis = np.array([k in self.visible for k in self.layers], dtype=bool)
        m = self.member & vis[None, :] if len(self.layers) else self.member
        self.any_visible = m.any(axis=1) if len(self.ids) else np.zeros(0, dtype=bool)
        self.first_layer = m.argmax(axis=1) if (len(self.ids) and len(self.layers)) \
            else np.zeros(len(self.ids), dtype=np.int64)
        self._bump()

    def set_visible(self, key: tuple[str, str], on: bool) -> None:
        if key not in self.layer_index:
            raise KeyError(f"unknown layer {key!r}")
        (self.visible.add if on else self.visible.discard)(key)
        self._update_visibility()

    def set_visible_layers(self, keys: Iterable[tuple[str, str]]) -> None:
        self.visible = {tuple(k) for k in keys if tuple(k) in self.layer_index}
        self._update_visibility()

    def set_style(self, key: tuple[str, str], *, color: str | None = None,
                  size: float | None = None) -> None:
        st = self.styles[key]
        if color is not None:
            if not QColor(color).isValid():
                raise ValueError(f"invalid colour {color!r} for layer {key}")
            st.color = QColor(color).name()
        if size is not None:
            if not (2 <= float(size) <= 60):
                raise ValueError(f"symbol size must be between 2 and 60 px, got {size}")
            st.size = float(size)
        self._bump()

    def set_selection(self, ids: Iterable[str]) -> None:
        self.selection = {i for i in ids if i in self.index}
        mask = np.zeros(len(self.ids), dtype=bool)
        if self.selection:
            mask[[self.index[i] for i in self.selection]] = True
        self._sel_mask = mask
        self._bump()

    def set_highlight(self, fid: str | None) -> None:
        self.highlight = fid if fid in self.index else None
        self._bump()

    # ---------------------------------------------------------------- queries
    def layer_count(self, key: tuple[str, str]) -> int:
        li = self.layer_index[key]
        return int(self.member[:, li].sum())

    def layer_of(self, fid: str) -> tuple[str, str] | None:
        """The visible layer a feature is drawn in (None if hidden)."""
        i = self.index[fid]
        if not self.any_visible[i]:
            return None
        return self.layers[int(self.first_layer[i])]

    def is_visible(self, fid: str) -> bool:
        return bool(self.any_visible[self.index[fid]])

    def bbox_lonlat(self, ids: Iterable[str]) -> tuple[float, float, float, float] | None:
        idx = [self.index[i] for i in ids if i in self.index]
        if not idx:
            return None
        b = self.lonlat_bounds[idx]
        return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))

    def _in_extent(self, x0, y0, x1, y1) -> np.ndarray:
        return (self.bx1 >= x0) & (self.bx0 <= x1) & (self.by1 >= y0) & (self.by0 <= y1)

    def ids_in_view(self, view: MapView, *, visible_only: bool = True) -> list[str]:
        m = self._in_extent(*view.extent())
        if visible_only:
            m &= self.any_visible
        return [self.ids[i] for i in np.flatnonzero(m)]

    def ids_in_rect(self, view: MapView, rect: QRectF) -> list[str]:
        """Visible features intersecting a pixel rectangle of the view (rubber band)."""
        x0, y1 = view.to_map(rect.left(), rect.top())
        x1, y0 = view.to_map(rect.right(), rect.bottom())
        cand = np.flatnonzero(self._in_extent(float(x0), float(y0), float(x1), float(y1))
                              & self.any_visible)
        if len(cand) == 0:
            return []
        box = shapely.box(float(x0), float(y0), float(x1), float(y1))
        pts = self.kind[cand] == self.KIND_POINT
        hit = np.zeros(len(cand), dtype=bool)
        hit[pts] = True     # bbox of a point is the point
        if (~pts).any():
            hit[~pts] = shapely.intersects(self.geoms[cand[~pts]], box)
        return [self.ids[i] for i in cand[hit]]

    def hit_test(self, view: MapView, px: float, py: float, tol: float = 5.0) -> list[str]:
        """Visible features under pixel (px, py), nearest first (points, then lines, then areas)."""
        if not len(self.ids):
            return []
        mx, my = view.to_map(px, py)
        mx, my = float(mx), float(my)
        sizes = np.array([self.styles[k].size for k in self.layers]) if self.layers else np.zeros(1)
        r_px = sizes[self.first_layer] / 2.0 + tol
        # point-like: points, and areas/lines smaller than a few pixels (drawn as symbols)
        d = np.hypot(self.ax - mx, self.ay - my) / view.res
        small = ((self.bx1 - self.bx0) / view.res < 4) & ((self.by1 - self.by0) / view.res < 4)
        pointlike = (self.kind == self.KIND_POINT) | small
        near = np.flatnonzero(self.any_visible & pointlike & (d <= r_px))
        near = near[np.argsort(d[near], kind="stable")]
        out = [self.ids[i] for i in near]
        reach = tol * view.res
        cand = np.flatnonzero(self._in_extent(mx - reach, my - reach, mx + reach, my + reach)
                              & self.any_visible & ~pointlike)
        if len(cand):
            p = shapely.Point(mx, my)
            dist = shapely.distance(self.geoms[cand], p)
            ok = dist <= reach
            cand, dist = cand[ok], dist[ok]
            # lines before areas; smaller areas before larger ones
            order = np.lexsort((self.area[cand], self.kind[cand], dist > 0))
            out += [self.ids[i] for i in cand[order] if self.ids[i] not in out]
        return out

    def screen_position(self, view: MapView, fid: str) -> tuple[float, float]:
        """Pixel position of a feature's anchor (symbol centre / label point)."""
        i = self.index[fid]
        px, py = view.to_screen(self.ax[i], self.ay[i])
        return float(px), float(py)

    # ---------------------------------------------------------------- drawing caches
    @staticmethod
    def basemap_path(rec: dict[str, Any], res: float) -> QPainterPath:
        """Basemap geometry simplified to ~half a pixel at ``res`` (cached per zoom level)."""
        bucket = int(math.floor(math.log2(max(res, 1e-3))))
        path = rec["paths"].get(bucket)
        if path is None:
            tol = (2.0 ** bucket) * 0.5
            g = shapely.simplify(rec["geom"], tol, preserve_topology=True)
            path = _geom_path(g if not g.is_empty else rec["geom"])
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
            p = _geom_path(self.geoms[i])
            self._paths[i] = p
        return p

    def sprite(self, shape: str, color: str, size: float, variant: str = "normal") -> QImage:
        key = (shape, color, round(size * 4) / 4, variant)
        img = self._sprites.get(key)
        if img is None:
            img = _make_sprite(shape, QColor(color), size, variant)
            self._sprites[key] = img
        return img

    def text_width(self, text: str, font: QFont) -> float:
        key = (text, font.pixelSize())
        w = self._text_width.get(key)
        if w is None:
            w = QFontMetricsF(font).horizontalAdvance(text)
            self._text_width[key] = w
        return w


def _make_sprite(shape: str, color: QColor, size: float, variant: str) -> QImage:
    pad = 3 if variant == "normal" else 6
    dim = int(math.ceil(size)) + 2 * pad
    img = QImage(dim, dim, QImage.Format_ARGB32_Premultiplied)
    img.fill(Qt.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    p.translate(dim / 2.0, dim / 2.0)
    _draw_symbol(p, shape, color, size, variant, 1.0)
    p.end()
    return img


def _draw_symbol(p: QPainter, shape: str, color: QColor, size: float, variant: str,
                 scale: float) -> None:
    path = symbol_path(shape, size)
    if variant in ("selected", "hover"):
        ring = QPen(QColor(SELECT_COLOR if variant == "selected" else HOVER_COLOR), 3.5 * scale)
        ring.setJoinStyle(Qt.RoundJoin)
        p.setPen(ring)
        p.setBrush(Qt.NoBrush)
        p.drawPath(path)
    outline = QPen(QColor(255, 255, 255), 1.4 * scale)
    outline.setJoinStyle(Qt.RoundJoin)
    p.setPen(outline)
    p.setBrush(color)
    p.drawPath(path)
    inner = QPen(color.darker(160), 0.8 * scale)
    p.setPen(inner)
    p.setBrush(Qt.NoBrush)
    p.drawPath(symbol_path(shape, size + 1.6 * scale))


# ------------------------------------------------------------------------------ painting
PAPER = QColor("#eef0ec")
LAND = QColor("#fbfaf6")
PLAN_LAND = QColor("#fffdf4")
DISTRICT_EDGE = QColor("#c4bcae")
CITY_EDGE = QColor("#9a9182")
PLAN_EDGE = QColor("#d8a24a")
WATER = QColor("#b5d5e6")
WATER_EDGE = QColor("#8fbad3")
LABEL = QColor("#2b2b2b")
DISTRICT_LABEL = QColor("#7a7163")


def _is_raster(painter: QPainter) -> bool:
    eng = painter.paintEngine()
    return eng is not None and eng.type() == QPaintEngine.Raster


def paint_map(painter: QPainter, rect: QRectF, view: MapView, scene: MapScene, *,
              labels: bool = True, scale: float = 1.0) -> None:
    """Draw basemap, features and (optionally) labels of ``view`` into ``rect``.

    If ``rect`` has another pixel size than ``view`` the same ground extent (width) is fitted
    into it. ``scale`` multiplies symbol sizes, line widths and text (``dpi / 96`` for print).
    """
    v = _view_for_rect(view, rect)
    painter.save()
    painter.setClipRect(rect, Qt.IntersectClip)
    painter.translate(rect.topLeft())
    try:
        paint_basemap(painter, v, scene, scale=scale)
        paint_features(painter, v, scene, scale=scale)
        if labels:
            paint_labels(painter, v, scene, scale=scale)
    finally:
        painter.restore()


def paint_basemap(painter: QPainter, view: MapView, scene: MapScene, *, scale: float = 1.0) -> None:
    """Background, districts (plan areas tinted), water and city outlines. View pixel coords."""
    painter.save()
    painter.fillRect(QRectF(0, 0, view.width, view.height), PAPER)
    painter.setRenderHint(QPainter.Antialiasing, True)
    x0, y0, x1, y1 = view.extent()

    def visible(rec) -> bool:
        bx0, by0, bx1, by1 = rec["bounds"]
        return bx1 >= x0 and bx0 <= x1 and by1 >= y0 and by0 <= y1

    painter.setWorldTransform(view.transform(), True)
    edge = QPen(DISTRICT_EDGE, 0.9 * scale)
    edge.setCosmetic(True)
    edge.setJoinStyle(Qt.RoundJoin)
    raster = _is_raster(painter)
    districts = [r for r in scene.bm_districts if visible(r)]
    waters = [r for r in scene.bm_water if visible(r)]

    def fill_then_outline(records, brush_of, pen) -> None:
        # raster: fills without anti-aliasing (fast; the AA outline drawn next hides the edge)
        paths = [scene.basemap_path(rec, view.res) for rec in records]
        painter.setRenderHint(QPainter.Antialiasing, not raster)
        painter.setPen(Qt.NoPen)
        for rec, path in zip(records, paths):
            painter.setBrush(brush_of(rec))
            painter.drawPath(path)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(pen)
        for path in paths:
            painter.drawPath(path)

    fill_then_outline(districts, lambda rec: PLAN_LAND if rec["plan"] else LAND, edge)
    wpen = QPen(WATER_EDGE, 0.8 * scale)
    wpen.setCosmetic(True)
    fill_then_outline([r for r in waters if "Line" not in r["kind"]], lambda rec: WATER, wpen)
    lp = QPen(WATER, 2.2 * scale)
    lp.setCosmetic(True)
    lp.setCapStyle(Qt.RoundCap)
    painter.setPen(lp)
    for rec in waters:
        if "Line" in rec["kind"]:
            painter.drawPath(scene.basemap_path(rec, view.res))
    # plan-area outline over water, then city outlines
    painter.setBrush(Qt.NoBrush)
    ppen = QPen(PLAN_EDGE, 2.0 * scale)
    ppen.setCosmetic(True)
    ppen.setStyle(Qt.DashLine)
    painter.setPen(ppen)
    for rec in scene.bm_plan_areas:
        if visible(rec):
            painter.drawPath(scene.basemap_path(rec, view.res))
    cpen = QPen(CITY_EDGE, 1.4 * scale)
    cpen.setCosmetic(True)
    painter.setPen(cpen)
    for rec in scene.bm_cities:
        if visible(rec):
            painter.drawPath(scene.basemap_path(rec, view.res))
    painter.restore()


def _features_in_view(view: MapView, scene: MapScene, margin_px: float) -> np.ndarray:
    x0, y0, x1, y1 = view.extent()
    m = margin_px * view.res
    return scene._in_extent(x0 - m, y0 - m, x1 + m, y1 + m) & scene.any_visible


def paint_features(painter: QPainter, view: MapView, scene: MapScene, *, scale: float = 1.0) -> None:
    """Thematic layers: areas, lines, precision halos, point symbols, selection. View pixels."""
    n = len(scene.ids)
    if n == 0 or not scene.visible:
        return
    raster = _is_raster(painter)
    sizes = np.array([scene.styles[k].size for k in scene.layers]) * scale
    inview = _features_in_view(view, scene, float(sizes.max()) + 4)
    if not inview.any():
        return
    idx_all = np.flatnonzero(inview)
    wpx = (scene.bx1[idx_all] - scene.bx0[idx_all]) / view.res
    hpx = (scene.by1[idx_all] - scene.by0[idx_all]) / view.res
    small = (wpx < 5 * scale) & (hpx < 5 * scale)
    kinds = scene.kind[idx_all]
    shapes_idx = idx_all[(kinds != MapScene.KIND_POINT) & ~small]
    point_idx = idx_all[(kinds == MapScene.KIND_POINT) | small]
    sel = scene._sel_mask
    hl = scene.index.get(scene.highlight) if scene.highlight else None

    painter.save()
    painter.setRenderHint(QPainter.Antialiasing, True)
    # ---- areas (largest first so small areas stay on top), then lines
    if len(shapes_idx):
        order = shapes_idx[np.argsort(-scene.area[shapes_idx], kind="stable")]
        polys = order[scene.kind[order] == MapScene.KIND_POLYGON]
        lines = order[scene.kind[order] == MapScene.KIND_LINE]
        painter.save()
        painter.setWorldTransform(view.transform(), True)
        for i in polys.tolist():
            st = scene.styles[scene.layers[int(scene.first_layer[i])]]
            col = st.qcolor()
            pen = QPen(col.darker(115), 1.6 * scale)
            pen.setCosmetic(True)
            pen.setJoinStyle(Qt.RoundJoin)
            if scene.schematic[i]:
                pen.setStyle(Qt.DashLine)
                brush = QBrush(st.qcolor(150), Qt.BDiagPattern)
                if scale != 1.0:
                    brush.setTransform(QTransform.fromScale(scale, scale))
                painter.setPen(pen)
                painter.setBrush(st.qcolor(28))
                painter.drawPath(scene.path(i))
                painter.setPen(Qt.NoPen)
                painter.setBrush(brush)
            else:
                painter.setPen(pen)
                painter.setBrush(st.qcolor(60))
            painter.drawPath(scene.path(i))
        for i in lines.tolist():
            st = scene.styles[scene.layers[int(scene.first_layer[i])]]
            casing = QPen(QColor(255, 255, 255, 230), 6.5 * scale)
            casing.setCosmetic(True)
            casing.setCapStyle(Qt.RoundCap)
            casing.setJoinStyle(Qt.RoundJoin)
            painter.setPen(casing)
            painter.setBrush(Qt.NoBrush)
            painter.drawPath(scene.path(i))
            pen = QPen(st.qcolor(), 3.8 * scale)
            pen.setCosmetic(True)
            pen.setCapStyle(Qt.RoundCap)
            pen.setJoinStyle(Qt.RoundJoin)
            if scene.schematic[i]:
                pen.setStyle(Qt.DashLine)
                pen.setCapStyle(Qt.FlatCap)
            painter.setPen(pen)
            painter.drawPath(scene.path(i))
        # selected / hovered shapes: bright outline
        for i in [*np.flatnonzero(sel[shapes_idx]).tolist(), -1]:
            j = shapes_idx[i] if i >= 0 else hl
            if j is None or (i < 0 and j not in set(shapes_idx.tolist())):
                continue
            pen = QPen(QColor(SELECT_COLOR if i >= 0 else HOVER_COLOR), 3.2 * scale)
            pen.setCosmetic(True)
            pen.setJoinStyle(Qt.RoundJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.NoBrush)
            painter.drawPath(scene.path(int(j)))
        painter.restore()

    if len(point_idx):
        px, py = view.to_screen(scene.ax[point_idx], scene.ay[point_idx])
        layer = scene.first_layer[point_idx]
        # ---- uncertainty halos: a faint disc of radius precision_m (ground metres)
        r_px = scene.precision[point_idx] * scene.merc_k[point_idx] / view.res
        halo = scene.approx[point_idx] & (r_px > sizes[layer] * 0.6)
        if halo.any():
            _paint_halos(painter, px[halo], py[halo], r_px[halo], layer[halo], scene, scale,
                         raster)
        # ---- symbols, one batch per layer
        painter.setRenderHint(QPainter.Antialiasing, raster is False)
        for li in np.unique(layer).tolist():
            m = layer == li
            st = scene.styles[scene.layers[li]]
            _paint_symbols(painter, px[m], py[m], st, scene, st.size * scale, "normal", raster,
                           scale)
        # ---- selection and hover on top
        psel = sel[point_idx]
        if psel.any():
            for li in np.unique(layer[psel]).tolist():
                m = psel & (layer == li)
                st = scene.styles[scene.layers[li]]
                _paint_symbols(painter, px[m], py[m], st, scene, st.size * scale * 1.25,
                               "selected", raster, scale)
        if hl is not None:
            pos = np.flatnonzero(point_idx == hl)
            if len(pos):
                k = int(pos[0])
                st = scene.styles[scene.layers[int(layer[k])]]
                _paint_symbols(painter, px[k:k + 1], py[k:k + 1], st, scene,
                               st.size * scale * 1.25, "hover", raster, scale)
    painter.restore()


def _paint_halos(painter, px, py, r, layer, scene, scale, raster) -> None:
    painter.save()
    if len(px) <= 400:
        painter.setRenderHint(QPainter.Antialiasing, True)
        for x, y, rr, li in zip(px.tolist(), py.tolist(), r.tolist(), layer.tolist()):
            st = scene.styles[scene.layers[li]]
            pen = QPen(st.qcolor(110), 1.0 * scale, Qt.DotLine)
            painter.setPen(pen)
            painter.setBrush(st.qcolor(34))
            painter.drawEllipse(QPointF(x, y), rr, rr)
    else:
        # many halos: one drawPoints call per (layer, radius bucket) with a round pen
        painter.setRenderHint(QPainter.Antialiasing, False)
        rb = np.round(np.log2(np.maximum(r, 1.0)) * 4) / 4     # quarter-octave buckets
        for li in np.unique(layer).tolist():
            st = scene.styles[scene.layers[li]]
            m = layer == li
            for b in np.unique(rb[m]).tolist():
                mm = m & (rb == b)
                pen = QPen(st.qcolor(30), 2.0 * (2.0 ** b))
                pen.setCapStyle(Qt.RoundCap)
                painter.setPen(pen)
                painter.drawPoints(_qpolygon(np.column_stack([px[mm], py[mm]])))
    painter.restore()


def _paint_symbols(painter, px, py, style: LayerStyle, scene: MapScene, size: float,
                   variant: str, raster: bool, scale: float) -> None:
    if not len(px):
        return
    if raster:
        img = scene.sprite(style.shape, style.color, size, variant)
        half = img.width() / 2.0
        xs = np.rint(px - half).astype(np.int64).tolist()
        ys = np.rint(py - half).astype(np.int64).tolist()
        draw = painter.drawImage
        for x, y in zip(xs, ys):
            draw(x, y, img)
    else:
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing, True)
        col = style.qcolor()
        for x, y in zip(px.tolist(), py.tolist()):
            painter.save()
            painter.translate(x, y)
            _draw_symbol(painter, style.shape, col, size, variant, scale)
            painter.restore()
        painter.restore()


def _label_font(px_size: float, *, bold: bool = False, spacing: float = 0.0) -> QFont:
    from planatlas.desktop.fonts import font_family
    f = QFont(font_family())
    f.setPixelSize(max(6, int(round(px_size))))
    f.setBold(bold)
    if spacing:
        f.setLetterSpacing(QFont.AbsoluteSpacing, spacing)
    f.setHintingPreference(QFont.PreferNoHinting)
    return f


class _Grid:
    """Greedy label collision grid (rectangles in pixels)."""

    def __init__(self, cell: float = 48.0):
        self.cell = cell
        self.cells: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}

    def _keys(self, r):
        c = self.cell
        for gx in range(int(r[0] // c), int(r[2] // c) + 1):
            for gy in range(int(r[1] // c), int(r[3] // c) + 1):
                yield (gx, gy)

    def free(self, r) -> bool:
        for k in self._keys(r):
            for o in self.cells.get(k, ()):
                if r[0] < o[2] and r[2] > o[0] and r[1] < o[3] and r[3] > o[1]:
                    return False
        return True

    def add(self, r) -> None:
        for k in self._keys(r):
            self.cells.setdefault(k, []).append(r)


def paint_labels(painter: QPainter, view: MapView, scene: MapScene, *, scale: float = 1.0,
                 max_labels: int = 350, max_tries: int = 2500) -> list[tuple[str, QRectF]]:
    """Feature and district labels, greedy placement without overlaps. View pixel coords.

    Returns the placed labels as (text, box incl. padding) in view pixels.
    """
    z = view.zoom
    grid = _Grid(48.0 * scale)
    placed: list[tuple[QFont, float, float, str, QColor, QColor]] = []
    W, H = view.width, view.height
    pad = 2.0 * scale

    fsize = min(max(11.0 + (z - 11.0) * 0.8, 11.0), 15.0) * scale
    ffont = _label_font(fsize)
    fsel = _label_font(fsize * 1.08, bold=True)
    sizes = np.array([scene.styles[k].size for k in scene.layers]) * scale if scene.layers \
        else np.zeros(1)

    # reserve the symbols of the most important visible points so labels do not cover them
    feat_idx = np.zeros(0, dtype=np.int64)
    if len(scene.ids) and scene.visible:
        inview = _features_in_view(view, scene, 0)
        feat_idx = np.flatnonzero(inview)
    if len(feat_idx):
        sel = scene._sel_mask[feat_idx]
        order = np.lexsort((scene.label_rank[feat_idx], ~sel))
        feat_idx = feat_idx[order][:max_tries]
        px, py = view.to_screen(scene.ax[feat_idx], scene.ay[feat_idx])
        wpx = (scene.bx1[feat_idx] - scene.bx0[feat_idx]) / view.res
        hpx = (scene.by1[feat_idx] - scene.by0[feat_idx]) / view.res
        for k in range(min(len(feat_idx), 600)):
            if scene.kind[feat_idx[k]] == MapScene.KIND_POINT or (wpx[k] < 5 and hpx[k] < 5):
                r = sizes[scene.first_layer[feat_idx[k]]] / 2.0
                grid.add((px[k] - r, py[k] - r, px[k] + r, py[k] + r))

        fm_h = QFontMetricsF(ffont).height()
        for k, i in enumerate(feat_idx.tolist()):
            if len(placed) >= max_labels:
                break
            name = scene.names[i]
            selected = bool(scene._sel_mask[i])
            font = fsel if selected else ffont
            tw = scene.text_width(name, font)
            th = fm_h * (1.08 if selected else 1.0)
            x, y = float(px[k]), float(py[k])
            if x < -tw or x > W + tw or y < -th or y > H + th:
                continue
            big = scene.kind[i] != MapScene.KIND_POINT and (wpx[k] > tw * 1.1 or hpx[k] > th * 3)
            r = sizes[scene.first_layer[i]] / 2.0 + 2 * scale
            if big:
                cands = [(x - tw / 2, y - th / 2), (x - tw / 2, y + th * 0.6),
                         (x - tw / 2, y - th * 1.6)]
            else:
                cands = [(x + r, y - th / 2), (x - r - tw, y - th / 2),
                         (x - tw / 2, y - r - th), (x - tw / 2, y + r)]
            for lx, ly in cands:
                rr = (lx - pad, ly - pad, lx + tw + pad, ly + th + pad)
                if rr[0] < 0 or rr[1] < 0 or rr[2] > W or rr[3] > H:
                    continue
                if grid.free(rr):
                    grid.add(rr)
                    st = scene.styles[scene.layers[int(scene.first_layer[i])]]
                    color = QColor(st.color).darker(170) if not selected else QColor("#000000")
                    placed.append((font, lx, ly, name, color, QColor(255, 255, 255, 235)))
                    break

    # district (or, zoomed out, city) names: big, grey, only where the area is large enough
    recs = scene.bm_districts if z >= 8.5 else scene.bm_cities
    dsize = min(max(12.0 + (z - 9.0) * 1.5, 12.0), 20.0) * scale
    dfont = _label_font(dsize, spacing=2.0 * scale)
    dh = QFontMetricsF(dfont).height()
    x0, y0, x1, y1 = view.extent()
    for rec in sorted(recs, key=lambda r: -r["area"]):
        if not rec["name"]:
            continue
        bx0, by0, bx1, by1 = rec["bounds"]
        if bx1 < x0 or bx0 > x1 or by1 < y0 or by0 > y1:
            continue
        tw = scene.text_width(rec["name"], dfont) + 2 * scale * len(rec["name"])
        if (bx1 - bx0) / view.res < tw * 1.3:
            continue
        lx, ly = view.to_screen(*rec["label"])
        lx, ly = float(lx) - tw / 2, float(ly) - dh / 2
        rr = (lx - pad, ly - pad, lx + tw + pad, ly + dh + pad)
        if rr[0] < 0 or rr[1] < 0 or rr[2] > W or rr[3] > H or not grid.free(rr):
            continue
        grid.add(rr)
        placed.insert(0, (dfont, lx, ly, rec["name"], DISTRICT_LABEL, QColor(255, 255, 255, 200)))

    boxes = [(text, QRectF(lx - pad, ly - pad, scene.text_width(text, font) + 2 * pad,
                           QFontMetricsF(font).height() + 2 * pad))
             for font, lx, ly, text, _c, _h in placed]
    if not placed:
        return boxes
    painter.save()
    if _is_raster(painter):
        dev = painter.device()
        dpr = float(dev.devicePixelRatioF()) if dev is not None else 1.0
        hw = 3.0 * scale
        for font, lx, ly, text, color, halo in placed:
            img = scene.label_sprite(text, font, color, halo, hw, dpr)
            painter.drawImage(QPointF(lx - hw - 1, ly - hw - 1), img)
        painter.restore()
        return boxes
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setRenderHint(QPainter.TextAntialiasing, True)
    for font, lx, ly, text, color, halo in placed:
        # vector output (SVG/PDF): the halo is a stroked outline, the label itself real text,
        # so it stays selectable and searchable
        path = QPainterPath()
        ascent = QFontMetricsF(font).ascent()
        path.addText(QPointF(lx, ly + ascent), font, text)
        pen = QPen(halo, 3.0 * scale)
        pen.setJoinStyle(Qt.RoundJoin)
        painter.strokePath(path, pen)
        painter.setFont(font)
        painter.setPen(color)
        painter.drawText(QPointF(lx, ly + ascent), text)
    painter.restore()
    return boxes
