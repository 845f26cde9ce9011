"""The plan × category layers: one renderer for all of them, over the scene's shared features.

A run of visible ``plan_category`` layers is drawn in one vectorised pass: areas (largest first,
so small ones stay visible), lines, precision halos, then point symbols layer by layer from the
bottom of the run to its top, then the selection. A feature in several layers is drawn once,
in the style and opacity of the topmost of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen, QTransform

from planatlas.desktop.i18n import tr
from planatlas.layers.stack import Layer

from .labels import LabelPlacer, label_font
from .renderers import LayerRenderer, LegendEntry, RenderContext, is_raster, register_renderer
from .scene import MapScene, Ownership
from .styles import HOVER_COLOR, SELECT_COLOR, LayerStyle
from .symbols import halo_drawer, paint_halos, paint_symbols, schematic_drawer, symbol_drawer
from .vector import paint_shapes
from .view import MapView

__all__ = ["PlanCategoryRenderer", "resolve", "feature_owners"]

POINT, LINE, POLYGON = MapScene.KIND_POINT, MapScene.KIND_LINE, MapScene.KIND_POLYGON


@dataclass
class Run:
    """A run of plan × category layers resolved against the scene (layers topmost first)."""
    layers: list[Layer]
    styles: list[LayerStyle]
    sizes: np.ndarray            # symbol size per layer, unscaled
    own: Ownership               # own.owner indexes ``layers``


def _key(layer: Layer) -> tuple[str, str]:
    return (str(layer.source["plan"]), str(layer.source["category"]))


def resolve(layers: list[Layer], ctx: RenderContext) -> Run:
    """``layers`` bottom first -> the run, topmost first, with who owns which feature."""
    scene = ctx.scene
    top = [layer for layer in reversed(layers) if _key(layer) in scene.column_index]
    cache_key = ("run", tuple(id(layer) for layer in top))
    run = ctx.cache.get(cache_key)
    if run is None:
        styles = [LayerStyle.of(layer.style) for layer in top]
        run = Run(top, styles, np.array([s.size for s in styles] or [0.0]),
                  scene.ownership([_key(layer) for layer in top]))
        ctx.cache[cache_key] = run
    return run


def feature_owners(ctx: RenderContext) -> Run:
    """All visible plan × category layers as one run: which feature is shown, and in which
    layer (the topmost that holds it)."""
    kind = PlanCategoryRenderer.kind
    return resolve([layer for layer in ctx.stack.visible_layers() if layer.kind == kind], ctx)


def _in_view(view: MapView, scene: MapScene, visible: np.ndarray, margin_px: float) -> np.ndarray:
    x0, y0, x1, y1 = view.extent()
    m = margin_px * view.res
    return scene.in_extent(x0 - m, y0 - m, x1 + m, y1 + m) & visible


def _bottom_up(owner: np.ndarray):
    """(layer index, mask) for the layers in ``owner``, bottom layer first."""
    for k in sorted(np.unique(owner).tolist(), reverse=True):
        yield k, owner == k


@register_renderer
class PlanCategoryRenderer(LayerRenderer):
    kind = "plan_category"
    batched = True
    label_priority = 0

    # ------------------------------------------------------------------ painting
    def paint_run(self, painter: QPainter, view: MapView, layers: list[Layer],
                  ctx: RenderContext) -> None:
        scene, scale = ctx.scene, ctx.scale
        run = resolve(layers, ctx)
        if not len(scene.ids) or not run.layers:
            return
        raster = is_raster(painter)
        sizes = run.sizes * scale
        inview = _in_view(view, scene, run.own.visible, float(sizes.max()) + 4)
        if not inview.any():
            return
        owner = run.own.owner
        idx_all = np.flatnonzero(inview)
        wpx = (scene.bx1[idx_all] - scene.bx0[idx_all]) / view.res
        hpx = (scene.by1[idx_all] - scene.by0[idx_all]) / view.res
        small = (wpx < 5 * scale) & (hpx < 5 * scale)
        kinds = scene.kind[idx_all]
        shapes_idx = idx_all[(kinds != POINT) & ~small]
        point_idx = idx_all[(kinds == POINT) | small]
        sel = ctx.sel_mask
        hl = scene.index.get(ctx.highlight) if ctx.highlight else None
        base_opacity = painter.opacity()

        def opacity(k: int) -> None:
            o = base_opacity * run.layers[k].opacity
            if o != painter.opacity():
                painter.setOpacity(o)

        painter.save()
        painter.setRenderHint(QPainter.Antialiasing, True)
        if len(shapes_idx):
            self._paint_shapes(painter, view, scene, run, shapes_idx, sel, hl, scale, opacity)
        if len(point_idx):
            px, py = view.to_screen(scene.ax[point_idx], scene.ay[point_idx])
            which = owner[point_idx]
            # uncertainty halos: a faint disc of radius precision_m (ground metres)
            r_px = scene.precision[point_idx] * scene.merc_k[point_idx] / view.res
            halo = scene.approx[point_idx] & (r_px > sizes[which] * 0.6)
            if halo.any():
                paint_halos(painter, px[halo], py[halo], r_px[halo], run.styles, which[halo], scale,
                            [layer.opacity for layer in run.layers])
            # symbols, one batch per layer, bottom layer first
            painter.setRenderHint(QPainter.Antialiasing, raster is False)
            for k, m in _bottom_up(which):
                opacity(k)
                st = run.styles[k]
                paint_symbols(painter, px[m], py[m], st, scene, st.size * scale, "normal",
                              raster, scale)
            if painter.opacity() != base_opacity:
                painter.setOpacity(base_opacity)
            # selection and hover on top
            psel = sel[point_idx]
            for k, m in _bottom_up(which[psel]):
                st = run.styles[k]
                paint_symbols(painter, px[psel][m], py[psel][m], st, scene, st.size * scale * 1.25,
                              "selected", raster, scale)
            if hl is not None:
                pos = np.flatnonzero(point_idx == hl)
                if len(pos):
                    j = int(pos[0])
                    st = run.styles[int(which[j])]
                    paint_symbols(painter, px[j:j + 1], py[j:j + 1], st, scene,
                                  st.size * scale * 1.25, "hover", raster, scale)
        painter.restore()

    @staticmethod
    def _paint_shapes(painter, view, scene, run, shapes_idx, sel, hl, scale, opacity) -> None:
        """Areas (largest first so small areas stay on top), lines, then selection outlines."""
        if not is_raster(painter):       # SVG/PDF: plain page paths, hatching as lines
            return paint_shapes(painter, view, scene, run, shapes_idx, sel, hl, scale, opacity)
        owner = run.own.owner
        order = shapes_idx[np.argsort(-scene.area[shapes_idx], kind="stable")]
        polys = order[scene.kind[order] == POLYGON]
        lines = order[scene.kind[order] == LINE]
        painter.save()
        painter.setWorldTransform(view.transform(), True)
        for i in polys.tolist():
            k = int(owner[i])
            opacity(k)
            st = run.styles[k]
            pen = QPen(st.qcolor().darker(115), 1.6 * scale)
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
            k = int(owner[i])
            opacity(k)
            st = run.styles[k]
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
        # selected / hovered shapes: bright outline, fully opaque
        painter.setOpacity(1.0)
        marks = [(int(i), SELECT_COLOR) for i in shapes_idx[sel[shapes_idx]]]
        if hl is not None and hl in set(shapes_idx.tolist()):
            marks.append((hl, HOVER_COLOR))
        for i, colour in marks:
            pen = QPen(QColor(colour), 3.2 * scale)
            pen.setCosmetic(True)
            pen.setJoinStyle(Qt.RoundJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.NoBrush)
            painter.drawPath(scene.path(i))
        painter.restore()

    # ------------------------------------------------------------------ queries
    def hit_test_run(self, view, px, py, layers, ctx, tol: float = 5.0) -> list[str]:
        """Features under the pixel: point-like ones nearest first (the upper layer first where
        they tie), then lines, then areas (smaller first)."""
        scene = ctx.scene
        run = resolve(layers, ctx)
        if not len(scene.ids) or not run.layers:
            return []
        visible, owner = run.own.visible, run.own.owner
        mx, my = view.to_map(px, py)
        mx, my = float(mx), float(my)
        r_px = run.sizes[owner] / 2.0 + tol
        # point-like: points, and areas/lines smaller than a few pixels (drawn as symbols)
        d = np.hypot(scene.ax - mx, scene.ay - my) / view.res
        small = ((scene.bx1 - scene.bx0) / view.res < 4) & ((scene.by1 - scene.by0) / view.res < 4)
        pointlike = (scene.kind == POINT) | small
        near = np.flatnonzero(visible & pointlike & (d <= r_px))
        near = near[np.lexsort((owner[near], d[near]))]
        out = [scene.ids[i] for i in near]
        reach = tol * view.res
        cand = np.flatnonzero(scene.in_extent(mx - reach, my - reach, mx + reach, my + reach)
                              & visible & ~pointlike)
        if len(cand):
            dist = shapely.distance(scene.geoms[cand], shapely.Point(mx, my))
            ok = dist <= reach
            cand, dist = cand[ok], dist[ok]
            # lines before areas; smaller areas before larger ones
            order = np.lexsort((scene.area[cand], scene.kind[cand], dist > 0))
            out += [scene.ids[i] for i in cand[order] if scene.ids[i] not in out]
        return out

    def ids_in_rect(self, view, rect: QRectF, layers, ctx) -> list[str]:
        """Visible features intersecting a pixel rectangle of the view (rubber band)."""
        scene = ctx.scene
        visible = resolve(layers, ctx).own.visible
        x0, y1 = view.to_map(rect.left(), rect.top())
        x1, y0 = view.to_map(rect.right(), rect.bottom())
        cand = np.flatnonzero(scene.in_extent(float(x0), float(y0), float(x1), float(y1)) & visible)
        if len(cand) == 0:
            return []
        box = shapely.box(float(x0), float(y0), float(x1), float(y1))
        pts = scene.kind[cand] == POINT
        hit = np.zeros(len(cand), dtype=bool)
        hit[pts] = True     # bbox of a point is the point
        if (~pts).any():
            hit[~pts] = shapely.intersects(scene.geoms[cand[~pts]], box)
        return [scene.ids[i] for i in cand[hit]]

    def extent(self, layer, ctx):
        scene = ctx.scene
        members = np.flatnonzero(scene.column_mask([_key(layer)]))
        return scene.bbox_lonlat(scene.ids[i] for i in members)

    def count(self, layer, ctx) -> int:
        return ctx.scene.column_count(_key(layer))

    def icon(self, layer, ctx):
        return symbol_drawer(LayerStyle.of(layer.style))

    # ------------------------------------------------------------------ legend
    def legend_run(self, layers, ctx, view=None) -> list[LegendEntry]:
        """One row per layer with features (in ``view`` if given), then the position-quality
        symbols that occur among them."""
        scene, lang = ctx.scene, ctx.lang
        run = resolve(layers, ctx)
        where = scene.in_extent(*view.extent()) if view is not None else \
            np.ones(len(scene.ids), dtype=bool)
        shown = run.own.visible & where
        out = []
        for layer, st in zip(run.layers, run.styles):
            count = int((scene.column_mask([_key(layer)]) & where).sum())
            if not count:
                continue
            plan = scene.plan_labels.get(layer.source["plan"], layer.source["plan"])
            out.append(LegendEntry(f"{plan} · {layer.title(lang)}", symbol_drawer(st), count,
                                   ("symbol", st.shape, st.color, st.size), layer.title(lang),
                                   layer.id))
        if bool((scene.approx & (scene.kind == POINT) & shown).any()):
            out.append(LegendEntry(tr("legend.approx", lang=lang), halo_drawer(), key=("approx",)))
        if bool((scene.schematic & shown).any()):
            out.append(LegendEntry(tr("legend.schematic", lang=lang), schematic_drawer(),
                                   key=("schematic",)))
        return out

    # ------------------------------------------------------------------ labels
    def place_labels(self, placer: LabelPlacer, view, layers, ctx) -> None:
        """Feature names next to their symbols (selected and important places first)."""
        scene, scale = ctx.scene, placer.scale
        run = resolve(layers, ctx)
        if not len(scene.ids) or not run.layers:
            return
        owner = run.own.owner
        sizes = run.sizes * scale
        feat_idx = np.flatnonzero(_in_view(view, scene, run.own.visible, 0))
        if not len(feat_idx):
            return
        z, W, H = view.zoom, view.width, view.height
        fsize = min(max(11.0 + (z - 11.0) * 0.8, 11.0), 15.0) * scale
        ffont = label_font(fsize)
        fsel = label_font(fsize * 1.08, bold=True)
        sel_mask = ctx.sel_mask
        order = np.lexsort((scene.label_rank[feat_idx], ~sel_mask[feat_idx]))
        feat_idx = feat_idx[order][:placer.max_tries]
        px, py = view.to_screen(scene.ax[feat_idx], scene.ay[feat_idx])
        wpx = (scene.bx1[feat_idx] - scene.bx0[feat_idx]) / view.res
        hpx = (scene.by1[feat_idx] - scene.by0[feat_idx]) / view.res
        # reserve the symbols of the most important visible points so labels do not cover them
        for k in range(min(len(feat_idx), 600)):
            if scene.kind[feat_idx[k]] == POINT or (wpx[k] < 5 and hpx[k] < 5):
                r = sizes[owner[feat_idx[k]]] / 2.0
                placer.reserve((px[k] - r, py[k] - r, px[k] + r, py[k] + r))
        fm_h = QFontMetricsF(ffont).height()
        halo, black = QColor(255, 255, 255, 235), QColor("#000000")
        labelled = [bool(layer.style.get("labels")) for layer in run.layers]
        colors = [st.qcolor().darker(170) for st in run.styles]
        for k, i in enumerate(feat_idx.tolist()):
            if placer.full:
                break
            li = int(owner[i])
            if not labelled[li]:
                continue
            name = scene.names[i]
            selected = bool(sel_mask[i])
            font = fsel if selected else ffont
            tw = scene.text_width(name, font)
            th = fm_h * (1.08 if selected else 1.0)
            x, y = float(px[k]), float(py[k])
            if x < -tw or x > W + tw or y < -th or y > H + th:
                continue
            big = scene.kind[i] != POINT and (wpx[k] > tw * 1.1 or hpx[k] > th * 3)
            r = sizes[li] / 2.0 + 2 * scale
            if big:
                cands = [(x - tw / 2, y - th / 2), (x - tw / 2, y + th * 0.6),
                         (x - tw / 2, y - th * 1.6)]
            else:
                cands = [(x + r, y - th / 2), (x - r - tw, y - th / 2),
                         (x - tw / 2, y - r - th), (x - tw / 2, y + r)]
            placer.try_place(font, cands, tw, th, name, black if selected else colors[li], halo,
                             opacity=run.layers[li].opacity)
