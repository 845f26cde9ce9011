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
from .splat import SpriteBatch
from .symbols import add_symbols, halo_drawer, paint_halos, schematic_drawer, symbol_drawer
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
    """Rows of the visible features meeting the view (plus a margin), north first."""
    x0, y0, x1, y1 = view.extent()
    m = margin_px * view.res
    rows = scene.rows_in(x0 - m, y0 - m, x1 + m, y1 + m)
    return rows[visible[rows]]


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
        sizes = run.sizes * scale
        idx_all = _in_view(view, scene, run.own.visible, float(sizes.max()) + 4)
        if not len(idx_all):
            return
        wpx = (scene.bx1[idx_all] - scene.bx0[idx_all]) / view.res
        hpx = (scene.by1[idx_all] - scene.by0[idx_all]) / view.res
        small = (wpx < 5 * scale) & (hpx < 5 * scale)
        kinds = scene.kind[idx_all]
        shapes_idx = idx_all[(kinds != POINT) & ~small]
        point_idx = idx_all[(kinds == POINT) | small]
        sel = ctx.sel_mask
        hl = scene.index.get(ctx.highlight) if ctx.highlight else None
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing, True)
        if len(shapes_idx):
            base_opacity = painter.opacity()

            def opacity(k: int) -> None:
                o = base_opacity * run.layers[k].opacity
                if o != painter.opacity():
                    painter.setOpacity(o)

            self._paint_shapes(painter, view, scene, run, shapes_idx, sel, hl, scale, opacity)
            painter.setOpacity(base_opacity)
        if len(point_idx):
            self._paint_points(painter, view, ctx, run, point_idx, sel, hl)
        painter.restore()

    @staticmethod
    def _paint_points(painter, view, ctx, run, point_idx, sel, hl) -> None:
        """Halos, then symbols layer by layer (bottom layer first; within a layer from the top
        of the screen down), then the selection and the hovered feature on top."""
        scene, scale = ctx.scene, ctx.scale
        raster = is_raster(painter)
        sizes = run.sizes * scale
        owner = run.own.owner
        px, py = view.to_screen(scene.ax[point_idx], scene.ay[point_idx])
        which = owner[point_idx]
        # precision halos: a faint disc of radius precision_m (ground metres), for the
        # selected features and for every feature of the layers that have them switched on
        r_px = scene.precision[point_idx] * scene.merc_k[point_idx] / view.res
        halo_on = np.array([bool(layer.style.get("halos")) for layer in run.layers])
        halo = (scene.approx[point_idx] & (r_px > sizes[which] * 0.6)
                & (halo_on[which] | sel[point_idx]))
        if halo.any():
            paint_halos(painter, px[halo], py[halo], r_px[halo], run.styles, which[halo], scale,
                        [layer.opacity for layer in run.layers], scene if raster else None)
        painter.setRenderHint(QPainter.Antialiasing, raster is False)
        batch = SpriteBatch()
        psel = sel[point_idx]
        for k, m in _bottom_up(which):
            st = run.styles[k]
            add_symbols(batch, painter, px[m], py[m], st, scene, st.size * scale, "normal",
                        raster, scale, run.layers[k].opacity)
        batch.draw(painter)
        batch = SpriteBatch()
        for k, m in _bottom_up(which[psel]):
            st = run.styles[k]
            add_symbols(batch, painter, px[psel][m], py[psel][m], st, scene,
                        st.size * scale * 1.25, "selected", raster, scale)
        if hl is not None:
            pos = np.flatnonzero(point_idx == hl)
            if len(pos):
                j = int(pos[0])
                st = run.styles[int(which[j])]
                add_symbols(batch, painter, px[j:j + 1], py[j:j + 1], st, scene,
                            st.size * scale * 1.25, "hover", raster, scale)
        batch.draw(painter)

    @staticmethod
    def _paint_shapes(painter, view, scene, run, shapes_idx, sel, hl, scale, opacity) -> None:
        """Areas (largest first so small areas stay on top), lines, then selection outlines.
        Thousands of shapes (a user's layer) are drawn as one path per layer and kind."""
        if not is_raster(painter):       # SVG/PDF: plain page paths, hatching as lines
            return paint_shapes(painter, view, scene, run, shapes_idx, sel, hl, scale, opacity)
        owner = run.own.owner
        order = shapes_idx[np.argsort(-scene.area[shapes_idx], kind="stable")]
        polys = order[scene.kind[order] == POLYGON]
        lines = order[scene.kind[order] == LINE]
        painter.save()
        painter.setWorldTransform(view.transform(), True)
        if len(polys) + len(lines) > BULK_SHAPES:
            _bulk_shapes(painter, scene, run, polys, lines, scale, opacity)
            polys = lines = polys[:0]
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
        they tie), then lines, then areas (smaller first). Only the rows the spatial index
        finds near the pixel are looked at (a hover stays cheap at a million features)."""
        scene = ctx.scene
        run = resolve(layers, ctx)
        if not len(scene.ids) or not run.layers:
            return []
        visible, owner = run.own.visible, run.own.owner
        mx, my = view.to_map(px, py)
        mx, my = float(mx), float(my)
        reach_px = float(run.sizes.max()) / 2.0 + tol
        near = scene.rows_in(mx - reach_px * view.res, my - reach_px * view.res,
                             mx + reach_px * view.res, my + reach_px * view.res)
        near = near[visible[near]]
        r_px = run.sizes[owner[near]] / 2.0 + tol
        # point-like: points, and areas/lines smaller than a few pixels (drawn as symbols)
        d = np.hypot(scene.ax[near] - mx, scene.ay[near] - my) / view.res
        small = (((scene.bx1[near] - scene.bx0[near]) / view.res < 4)
                 & ((scene.by1[near] - scene.by0[near]) / view.res < 4))
        pointlike = (scene.kind[near] == POINT) | small
        hit = pointlike & (d <= r_px)
        rows, dist = near[hit], d[hit]
        rows = rows[np.lexsort((rows, owner[rows], dist))]
        out = [scene.ids[i] for i in rows]
        reach = tol * view.res
        cand = near[~pointlike]
        cand = cand[(scene.bx1[cand] >= mx - reach) & (scene.bx0[cand] <= mx + reach)
                    & (scene.by1[cand] >= my - reach) & (scene.by0[cand] <= my + reach)]
        if len(cand):
            dist = shapely.distance(scene.geoms[cand], shapely.Point(mx, my))
            ok = dist <= reach
            cand, dist = cand[ok], dist[ok]
            # lines before areas; smaller areas before larger ones
            order = np.lexsort((cand, scene.area[cand], scene.kind[cand], dist > 0))
            out += [scene.ids[i] for i in cand[order] if scene.ids[i] not in out]
        return out

    def ids_in_rect(self, view, rect: QRectF, layers, ctx) -> list[str]:
        """Visible features intersecting a pixel rectangle of the view (rubber band)."""
        scene = ctx.scene
        visible = resolve(layers, ctx).own.visible
        x0, y1 = view.to_map(rect.left(), rect.top())
        x1, y0 = view.to_map(rect.right(), rect.bottom())
        cand = np.sort(scene.rows_in(float(x0), float(y0), float(x1), float(y1)))
        cand = cand[visible[cand]]
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
            plan = scene.plan_label(layer.source["plan"], lang)
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
        """Feature names next to their symbols: selected features first (their labels are
        always placed, overlapping if they must), then by importance — tier, area, short
        names. With more candidates than the placer tries, a grid computed in bulk keeps the
        best few per cell of about one label's size (the others would find no room)."""
        scene, scale = ctx.scene, placer.scale
        run = resolve(layers, ctx)
        if not len(scene.ids) or not run.layers:
            return
        owner = run.own.owner
        sizes = run.sizes * scale
        feat_idx = _in_view(view, scene, run.own.visible, 0)
        if not len(feat_idx):
            return
        z, W, H = view.zoom, view.width, view.height
        fsize = min(max(11.0 + (z - 11.0) * 0.8, 11.0), 15.0) * scale
        ffont = label_font(fsize)
        fsel = label_font(fsize * 1.08, bold=True)
        sel_mask = ctx.sel_mask
        order = np.lexsort((scene.label_rank[feat_idx], ~sel_mask[feat_idx]))
        feat_idx = feat_idx[order]
        if len(feat_idx) > placer.max_tries:
            feat_idx = _thin(feat_idx, view, scene, sel_mask, fsize * 3.0, fsize * 1.5)
        feat_idx = feat_idx[:placer.max_tries]
        px, py = view.to_screen(scene.ax[feat_idx], scene.ay[feat_idx])
        wpx = (scene.bx1[feat_idx] - scene.bx0[feat_idx]) / view.res
        hpx = (scene.by1[feat_idx] - scene.by0[feat_idx]) / view.res
        # reserve the symbols of the most important visible points so labels do not cover them
        top = slice(0, min(len(feat_idx), 600))
        sym = (scene.kind[feat_idx[top]] == POINT) | ((wpx[top] < 5) & (hpx[top] < 5))
        r = sizes[owner[feat_idx[top]]] / 2.0
        for x0, y0, x1, y1, k in np.column_stack([px[top] - r, py[top] - r, px[top] + r,
                                                  py[top] + r, np.arange(len(r))])[sym].tolist():
            placer.reserve((x0, y0, x1, y1), k)
        major = scene.tier[feat_idx] <= 2          # national, provincial, city-level places
        fm_h = QFontMetricsF(ffont).height()
        halo, black = QColor(255, 255, 255, 235), QColor("#000000")
        labelled = [bool(layer.style.get("labels")) for layer in run.layers]
        colors = [st.qcolor().darker(170) for st in run.styles]
        kinds = scene.kind[feat_idx].tolist()
        for k, i in enumerate(feat_idx.tolist()):
            selected = bool(sel_mask[i])
            if placer.full and not selected:
                break
            li = int(owner[i])
            if not labelled[li]:
                continue
            name = scene.names[i]
            font = fsel if selected else ffont
            tw = scene.text_width(name, font)
            th = fm_h * (1.08 if selected else 1.0)
            x, y = float(px[k]), float(py[k])
            if x < -tw or x > W + tw or y < -th or y > H + th:
                continue
            big = kinds[k] != POINT and (wpx[k] > tw * 1.1 or hpx[k] > th * 3)
            r = sizes[li] / 2.0 + 2 * scale
            if big:
                cands = [(x - tw / 2, y - th / 2), (x - tw / 2, y + th * 0.6),
                         (x - tw / 2, y - th * 1.6)]
            else:
                cands = [(x + r, y - th / 2), (x - r - tw, y - th / 2),
                         (x - tw / 2, y - r - th), (x - tw / 2, y + r)]
            placer.try_place(font, cands, tw, th, name, black if selected else colors[li], halo,
                             opacity=run.layers[li].opacity, force=selected, counted=not selected,
                             over=float(k) + 1.0 if major[k] else None)


BULK_SHAPES = 400


def _area_pen(st: LayerStyle, scale: float, schematic: bool) -> QPen:
    pen = QPen(st.qcolor().darker(115), 1.6 * scale)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.RoundJoin)
    if schematic:
        pen.setStyle(Qt.DashLine)
    return pen


def _bulk_shapes(painter, scene, run, polys, lines, scale, opacity) -> None:
    """Areas and lines as one path per (layer, schematic): one fill and one outline each
    (overlapping areas of one layer are filled once), bottom layer first."""
    owner = run.own.owner
    for k in sorted(set(owner[polys].tolist()) | set(owner[lines].tolist()), reverse=True):
        opacity(k)
        st = run.styles[k]
        for schematic in (False, True):
            rows = polys[(owner[polys] == k) & (scene.schematic[polys] == schematic)]
            if len(rows):
                path = scene.combined_path(rows)
                # fill without anti-aliasing, then a 1 px anti-aliased outline over its edge:
                # Qt's cosmetic stroker draws 1 px lines some hundred times faster than wider
                painter.setRenderHint(QPainter.Antialiasing, False)
                painter.setPen(Qt.NoPen)
                painter.setBrush(st.qcolor(28 if schematic else 60))
                painter.drawPath(path)
                painter.setRenderHint(QPainter.Antialiasing, True)
                pen = _area_pen(st, scale, schematic)
                pen.setWidthF(1.0 * scale)
                painter.setPen(pen)
                painter.setBrush(Qt.NoBrush)
                painter.drawPath(path)
                if schematic:
                    brush = QBrush(st.qcolor(150), Qt.BDiagPattern)
                    if scale != 1.0:
                        brush.setTransform(QTransform.fromScale(scale, scale))
                    painter.setPen(Qt.NoPen)
                    painter.setBrush(brush)
                    painter.drawPath(path)
            rows = lines[(owner[lines] == k) & (scene.schematic[lines] == schematic)]
            if len(rows):
                path = scene.combined_path(rows)
                casing = QPen(QColor(255, 255, 255, 230), 6.5 * scale)
                casing.setCosmetic(True)
                casing.setCapStyle(Qt.RoundCap)
                casing.setJoinStyle(Qt.RoundJoin)
                painter.setBrush(Qt.NoBrush)
                painter.setPen(casing)
                painter.drawPath(path)
                pen = QPen(st.qcolor(), 3.8 * scale)
                pen.setCosmetic(True)
                pen.setCapStyle(Qt.FlatCap if schematic else Qt.RoundCap)
                pen.setJoinStyle(Qt.RoundJoin)
                if schematic:
                    pen.setStyle(Qt.DashLine)
                painter.setPen(pen)
                painter.drawPath(path)


def _thin(rows: np.ndarray, view: MapView, scene: MapScene, sel: np.ndarray, cw: float,
          ch: float, per_cell: int = 2) -> np.ndarray:
    """``rows`` (best first) less those with ``per_cell`` better ones anchored in the same
    cell of a ``cw × ch`` screen grid; selected rows are always kept. Vectorised."""
    px, py = view.to_screen(scene.ax[rows], scene.ay[rows])
    gx = np.floor(px / cw).astype(np.int64)
    gy = np.floor(py / ch).astype(np.int64)
    cell = (gy - gy.min()) * (int(gx.max() - gx.min()) + 1) + (gx - gx.min())
    order = np.argsort(cell, kind="stable")          # by cell, best first within a cell
    c = cell[order]
    first = np.r_[0, np.flatnonzero(c[1:] != c[:-1]) + 1]
    rank_in_cell = np.arange(len(c)) - np.repeat(first, np.diff(np.r_[first, len(c)]))
    keep = np.zeros(len(rows), dtype=bool)
    keep[order[rank_in_cell < per_cell]] = True
    keep |= sel[rows]
    return rows[keep]
