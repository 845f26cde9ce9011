"""Drawing a print layout (:mod:`planatlas.layers.layout`) on any QPainter: QImage, PDF, SVG.

    content = PageContent(ctx, extent, title, subtitle, attribution, date)
    result = render_layout(painter, layout, content)

Every map on the page — the main map, the overview and the inset — is painted from the same
render context (the layer stack: visibility, order, styles), so the page shows what the canvas
shows. Labels are placed without overlaps; the sites whose names did not fit are *called out*:

* **inset** — the densest cluster of unlabelled sites (at least :data:`INSET_MIN` of them in a
  window about a fifth of the map wide) is drawn again, enlarged, in the layout's inset item,
  with a frame on the main map and a leader to the inset;
* **key** — every site still without a label gets a number beside its symbol and a row
  "number name" in the layout's key item.

Page text is real, selectable text (:mod:`desktop.pdftext` fonts); in SVG the maps are clipped
to their frames (:mod:`desktop.svgclip`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from planatlas.layers.layout import MM_PER_INCH, Layout, LayoutItem

__all__ = ["PageContent", "render_layout", "INSET_MIN", "item_rect_px"]

INSET_MIN = 5            # unlabelled sites that make a cluster worth an inset
KEY_MAX = 99             # more unlabelled sites than this: no key (frame less, or make an atlas)
INSET_ZOOM = 6.0         # how much the inset enlarges the densest area (about)
INK = "#222222"
FRAME_RED = "#c0392b"


@dataclass
class PageContent:
    """What a layout page shows: the render context (scene + stack), the main map's lon/lat
    ``extent``, the overview's (None: around the main map), and the page texts."""
    ctx: Any
    extent: tuple[float, float, float, float]
    title: str = ""
    subtitle: str = ""
    attribution: list[str] = field(default_factory=list)
    date: str = ""
    overview_extent: tuple[float, float, float, float] | None = None
    labels: bool = True


def item_rect_px(item: LayoutItem, px_per_mm: float):
    from PySide6.QtCore import QRectF

    return QRectF(item.x * px_per_mm, item.y * px_per_mm, item.w * px_per_mm, item.h * px_per_mm)


# ----------------------------------------------------------------------------- maps
def _paint_map(painter, rect, view, ctx, *, labels: bool, basemap_only: bool = False):
    """Paint ``ctx``'s visible layers into ``rect`` (clipped), return the label placer."""
    from PySide6.QtGui import QPainter

    from planatlas.desktop.render import paint_background, paint_layers
    from planatlas.desktop.render.labels import draw_labels, place_labels
    from planatlas.desktop.svgclip import svg_clip

    placer = None
    with svg_clip(painter, rect):
        painter.translate(rect.topLeft())
        painter.setRenderHint(QPainter.Antialiasing, True)
        paint_background(painter, view)
        layers = [la for la in ctx.stack.visible_layers()
                  if not basemap_only or la.role == "basemap"]
        paint_layers(painter, view, ctx, layers)
        if labels:
            placer = place_labels(view, ctx)
            draw_labels(painter, placer, ctx)
    return placer


def _candidates(view, ctx) -> np.ndarray:
    """Indices of the sites drawn in ``view`` by visible, labelled plan layers."""
    from planatlas.desktop.render.features import feature_owners

    scene = ctx.scene
    if not len(scene.ids):
        return np.zeros(0, dtype=np.int64)
    run = feature_owners(ctx)
    if not run.layers:
        return np.zeros(0, dtype=np.int64)
    labelled = np.array([bool(la.style.get("labels")) for la in run.layers] + [False])
    owner = np.where(run.own.visible, run.own.owner, len(run.layers))
    ok = run.own.visible & labelled[np.clip(owner, 0, len(run.layers))]
    x0, y0, x1, y1 = view.extent()
    return np.flatnonzero(ok & scene.in_extent(x0, y0, x1, y1))


def _unlabelled(view, ctx, placer) -> np.ndarray:
    cand = _candidates(view, ctx)
    placed = {lb.text for lb in (placer.placed if placer is not None else [])}
    names = ctx.scene.names
    return np.array([i for i in cand.tolist() if names[i] not in placed], dtype=np.int64)


def _densest(px: np.ndarray, py: np.ndarray, win: float) -> np.ndarray:
    """Indices (into px/py) of the points in the ``win``-wide window holding the most of them."""
    if not len(px):
        return np.zeros(0, dtype=np.int64)
    dx = np.abs(px[:, None] - px[None, :]) <= win / 2
    dy = np.abs(py[:, None] - py[None, :]) <= win / 2
    counts = (dx & dy).sum(axis=1)
    best = int(np.argmax(counts))
    return np.flatnonzero(dx[best] & dy[best])


def _corner_rects(map_rect, w, h, pad):
    from PySide6.QtCore import QRectF

    l, t, r, b = map_rect.left() + pad, map_rect.top() + pad, map_rect.right() - pad, map_rect.bottom() - pad
    return {"tr": QRectF(r - w, t, w, h), "tl": QRectF(l, t, w, h),
            "br": QRectF(r - w, b - h, w, h), "bl": QRectF(l, b - h, w, h)}


def _auto_place(rect, map_rect, points, taken, pad):
    """The corner of ``map_rect`` for a ``rect``-sized box covering the fewest ``points``."""
    best, best_n = None, None
    for name, cand in _corner_rects(map_rect, rect.width(), rect.height(), pad).items():
        if any(cand.intersects(t) for t in taken):
            continue
        n = sum(1 for x, y in points if cand.contains(x, y))
        if best_n is None or n < best_n:
            best, best_n = cand, n
    return best if best is not None else rect


# ----------------------------------------------------------------------------- numbers
def _draw_numbers(painter, origin, view, scene, idx, numbers, scale, family):
    """Circled numbers beside the sites ``idx`` (view of a map drawn at ``origin``)."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QPen

    from planatlas.desktop.page import page_font

    if not len(idx):
        return
    px, py = view.to_screen(scene.ax[idx], scene.ay[idx])
    r = 5.2 * scale
    painter.save()
    painter.setRenderHint(painter.RenderHint.Antialiasing, True)
    painter.setFont(page_font(family, 7.0 * scale))
    for x, y, n in zip(px.tolist(), py.tolist(), numbers):
        c = QPointF(origin.x() + x + r * 1.25, origin.y() + y - r * 1.25)
        text = str(n)
        rw = max(r, r * 0.62 * len(text))
        painter.setPen(QPen(QColor(INK), max(0.6, 0.5 * scale)))
        painter.setBrush(QColor(255, 255, 255, 240))
        painter.drawRoundedRect(QRectF(c.x() - rw, c.y() - r, 2 * rw, 2 * r), r, r)
        painter.drawText(QRectF(c.x() - rw, c.y() - r, 2 * rw, 2 * r), int(Qt.AlignCenter), text)
    painter.restore()


def _draw_key(painter, rect, rows, family, px, ink):
    """The numbered key: "n  name" rows in as many columns as fit."""
    from PySide6.QtCore import QRectF, Qt

    from planatlas.desktop.page import column_cells, fit_columns

    if not rows:
        return
    fit = fit_columns(family, px, rect, len(rows), 1.2, 0.8,
                      lambda fm: max(fm.horizontalAdvance(f"{n}  {name}") for n, name in rows))
    _head, _font, fm, _head_h, row_h, _per_col, _cols, col_w = fit
    painter.save()
    num_w = fm.horizontalAdvance(f"{rows[-1][0]} ") + fm.horizontalAdvance(" ")
    for k, x, y in column_cells(painter, rect, fit, "编号注记 Numbered sites", ink, len(rows)):
        n, name = rows[k]
        painter.drawText(QRectF(x, y, num_w, row_h), int(Qt.AlignRight | Qt.AlignVCenter), str(n))
        text = fm.elidedText(name, Qt.ElideRight, col_w - num_w - fm.horizontalAdvance(" ") * 2)
        painter.drawText(QRectF(x + num_w + fm.horizontalAdvance(" "), y, col_w - num_w, row_h),
                   int(Qt.AlignLeft | Qt.AlignVCenter), text)
    painter.restore()


# ----------------------------------------------------------------------------- page
def render_layout(painter, layout: Layout, content: PageContent, *, dpi: float,
                  progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Draw ``layout`` with ``content`` on ``painter`` (the whole device is the page).

    Returns ``{"map_rect_px", "view", "legend", "inset_extent", "callouts", "labels"}``."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen

    from planatlas.desktop.fonts import ensure_fonts
    from planatlas.desktop.page import fit_font, legend_box, north_arrow, scale_bar
    from planatlas.desktop.render import MapView, legend as stack_legend, merc_to_lonlat

    def step(pc: int) -> None:
        if progress is not None:
            progress(pc)

    family = ensure_fonts()
    dev = painter.device()
    width, height = dev.width(), dev.height()
    k = dpi / MM_PER_INCH                  # device pixels per millimetre (the same on every device)
    pt = k * MM_PER_INCH / 72.0                          # device pixels per point
    ctx = content.ctx
    scale = ctx.scale
    ink = QColor(INK)
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setRenderHint(QPainter.TextAntialiasing, True)
    painter.fillRect(QRectF(0, 0, width, height), QColor(Qt.white))

    # -- main map
    map_item = layout.map_item
    mr = item_rect_px(map_item, k)
    view = MapView.fit(content.extent, (max(1, int(round(mr.width()))), max(1, int(round(mr.height())))),
                       margin=0.03, min_res=0.05)
    placer = _paint_map(painter, mr, view, ctx, labels=content.labels)
    step(55)
    scene = ctx.scene
    unl = _unlabelled(view, ctx, placer) if content.labels else np.zeros(0, dtype=np.int64)
    cand = _candidates(view, ctx)
    cx, cy = view.to_screen(scene.ax[cand], scene.ay[cand]) if len(cand) else ([], [])
    site_pts = [(mr.left() + x, mr.top() + y) for x, y in zip(list(cx), list(cy))]

    # -- inset of the densest unlabelled cluster
    inset_item = layout.get("inset")
    key_item = layout.get("key")
    mode = layout.callouts
    inset_extent, inset_rect, inset_view, in_inset = None, None, None, np.zeros(0, dtype=np.int64)
    if mode in ("auto", "inset") and inset_item is not None and inset_item.visible and len(unl) >= INSET_MIN:
        ux, uy = view.to_screen(scene.ax[unl], scene.ay[unl])
        # a window the inset enlarges about INSET_ZOOM times
        win = min(inset_item.w, inset_item.h) * k / INSET_ZOOM
        members = unl[_densest(np.asarray(ux), np.asarray(uy), win)]
        if len(members) >= INSET_MIN:
            bx0, by0 = float(scene.ax[members].min()), float(scene.ay[members].min())
            bx1, by1 = float(scene.ax[members].max()), float(scene.ay[members].max())
            pad = max(bx1 - bx0, by1 - by0) * 0.08 + 300.0
            lon, lat = merc_to_lonlat([bx0 - pad, bx1 + pad], [by0 - pad, by1 + pad])
            inset_extent = (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))
    taken: list = []
    placed: dict = {}                        # where the auto-placed items went
    if inset_extent is not None:
        inset_rect = item_rect_px(inset_item, k)
        if inset_item.props.get("place", "auto") == "auto":
            inset_rect = _auto_place(inset_rect, mr, site_pts, taken, 2 * k)
        placed[inset_item.id] = inset_rect
        taken.append(inset_rect)
        inner = inset_rect.adjusted(k * 0.4, k * 0.4, -k * 0.4, -k * 0.4)
        inset_view = MapView.fit(inset_extent, (max(1, int(inner.width())), max(1, int(inner.height()))),
                                 margin=0.02)
        # where the inset is, on the main map
        ix0, iy0, ix1, iy1 = inset_view.extent()
        (fx0, fx1), (fy1, fy0) = view.to_screen(np.array([ix0, ix1]), np.array([iy1, iy0]))
        frame = QRectF(mr.left() + float(fx0), mr.top() + float(fy1), float(fx1 - fx0), float(fy0 - fy1))
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setBrush(Qt.NoBrush)
        pen = QPen(QColor(FRAME_RED), max(1.0, 0.35 * k))
        painter.setPen(pen)
        painter.drawRect(frame)
        a = min((frame.topLeft(), frame.topRight(), frame.bottomLeft(), frame.bottomRight()),
                key=lambda p: (p - inset_rect.center()).manhattanLength())
        b = min((inset_rect.topLeft(), inset_rect.topRight(), inset_rect.bottomLeft(), inset_rect.bottomRight()),
                key=lambda p: (p - frame.center()).manhattanLength())
        painter.drawLine(a, b)
        painter.fillRect(inset_rect, QColor(Qt.white))
        painter.restore()
        inset_placer = _paint_map(painter, inner, inset_view, ctx, labels=True)
        painter.save()
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(QColor(FRAME_RED), max(1.0, 0.35 * k)))
        painter.drawRect(inset_rect)
        painter.restore()
        x0, y0, x1, y1 = inset_view.extent()
        inside = (scene.ax[unl] >= x0) & (scene.ax[unl] <= x1) & (scene.ay[unl] >= y0) & (scene.ay[unl] <= y1)
        in_inset = _unlabelled(inset_view, ctx, inset_placer)
        unl = unl[~inside]
    step(70)

    # -- numbered key for what is still unlabelled
    key_rows: list[tuple[int, str]] = []
    if mode in ("auto", "key") and key_item is not None and key_item.visible and \
            0 < len(unl) + len(in_inset) <= KEY_MAX:
        n = 0
        for vw, origin, idx in ((view, mr.topLeft(), unl),
                                (inset_view, inset_rect.topLeft() + QPointF(k * 0.4, k * 0.4) if inset_rect else None,
                                 in_inset)):
            if vw is None or not len(idx):
                continue
            sx, sy = vw.to_screen(scene.ax[idx], scene.ay[idx])
            order = idx[np.lexsort((np.asarray(sx), np.round(np.asarray(sy) / (12 * scale))))]
            nums = list(range(n + 1, n + 1 + len(order)))
            n += len(order)
            key_rows += [(num, scene.names[i]) for num, i in zip(nums, order.tolist())]
            clip = QRectF(origin.x(), origin.y(), vw.width, vw.height)
            from planatlas.desktop.svgclip import svg_clip
            with svg_clip(painter, clip):
                _draw_numbers(painter, origin, vw, scene, order, nums, scale, family)

    # -- overview map
    ov_item = layout.get("overview")
    overview_extent = None
    if ov_item is not None and ov_item.visible:
        ov_rect = item_rect_px(ov_item, k)
        if ov_item.props.get("place", "auto") == "auto":
            ov_rect = _auto_place(ov_rect, mr, site_pts, taken, 2 * k)
        placed[ov_item.id] = ov_rect
        overview_extent = content.overview_extent or _around(content.extent, ctx)
        ov_view = MapView.fit(overview_extent, (max(1, int(ov_rect.width())), max(1, int(ov_rect.height()))),
                              margin=0.02)
        painter.fillRect(ov_rect, QColor(Qt.white))
        _paint_map(painter, ov_rect, ov_view, ctx, labels=False, basemap_only=True)
        ex0, ey0, ex1, ey1 = view.extent()
        (gx0, gx1), (gy1, gy0) = ov_view.to_screen(np.array([ex0, ex1]), np.array([ey1, ey0]))
        painter.save()
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(QColor(FRAME_RED), max(1.0, 0.4 * k)))
        box = QRectF(ov_rect.left() + float(gx0), ov_rect.top() + float(gy1),
                     max(2.0, float(gx1 - gx0)), max(2.0, float(gy0 - gy1)))
        painter.drawRect(box.intersected(ov_rect))
        painter.setPen(QPen(ink, max(1.0, 0.25 * k)))
        painter.drawRect(ov_rect)
        painter.restore()
    step(80)

    # -- frame and furniture (never over the map unless the layout puts it there)
    painter.setBrush(Qt.NoBrush)
    painter.setPen(QPen(ink, max(1.0, dpi / 150.0)))
    painter.drawRect(mr)
    legend_rows = [(f"{e.label}（{e.count}）" if e.count is not None else e.label, e.draw)
                   for e in stack_legend(ctx, view)]
    rects = _furniture_rects(layout, k, pt, family, len(legend_rows), bool(key_rows))
    for item in layout.items:
        if not item.visible or item.kind in ("map", "inset", "overview"):
            continue
        r = rects[item.id]
        size = float(item.props.get("pt", 8.5)) * pt
        if item.kind == "title" and content.title:
            painter.setPen(ink)
            painter.setFont(fit_font(family, size, content.title, r.width()))
            painter.drawText(r, int(Qt.AlignLeft | Qt.AlignVCenter), content.title)
        elif item.kind == "subtitle" and content.subtitle:
            painter.setPen(QColor("#555555"))
            painter.setFont(fit_font(family, size, content.subtitle, r.width()))
            painter.drawText(r, int(Qt.AlignLeft | Qt.AlignVCenter),
                       QFontMetricsF(painter.font()).elidedText(content.subtitle, Qt.ElideRight, r.width()))
        elif item.kind == "north":
            north_arrow(painter, r, family, ink)
        elif item.kind == "scalebar":
            scale_bar(painter, r, view, dpi, family, size, ink)
        elif item.kind == "legend":
            legend_box(painter, r, legend_rows, family, size, ink)
        elif item.kind == "key":
            _draw_key(painter, r, key_rows, family, size, ink)
        elif item.kind == "attribution":
            _attribution(painter, r, content, family, size)
    painter.restore()
    step(90)
    return {"map_rect_px": [round(mr.left(), 2), round(mr.top(), 2), view.width, view.height],
            "placed_mm": {i: [round(v / k, 2) for v in (r.left(), r.top(), r.width(), r.height())]
                          for i, r in placed.items()},
            "view": view, "legend": [label for label, _ in legend_rows],
            "inset_extent": [round(v, 6) for v in inset_extent] if inset_extent else None,
            "overview_extent": [round(v, 6) for v in overview_extent] if overview_extent else None,
            "callouts": [{"no": n, "name": name} for n, name in key_rows],
            "labels": [lb.text for lb in (placer.placed if placer is not None else [])]}


def _furniture_rects(layout: Layout, k: float, pt: float, family: str, n_legend: int,
                     has_key: bool) -> dict:
    """Item rectangles in device pixels. Where the numbered key sits right under the legend
    (the standard layouts) the legend takes only the height its rows need and the key the rest;
    without a key the legend keeps both."""
    from PySide6.QtGui import QFontMetricsF

    from planatlas.desktop.page import page_font

    rects = {it.id: item_rect_px(it, k) for it in layout.items}
    leg, key = layout.get("legend"), layout.get("key")
    if leg is None or key is None or not (leg.visible and key.visible):
        return rects
    a, b = rects[leg.id], rects[key.id]
    if abs(a.left() - b.left()) > 1 or abs(a.width() - b.width()) > 1 or b.top() < a.bottom() - 1:
        return rects
    if not has_key:
        a.setBottom(b.bottom())
        return rects
    fm = QFontMetricsF(page_font(family, float(leg.props.get("pt", 8.5)) * pt))
    need = fm.height() * (1.45 * n_legend + 1.5)
    if need < a.height():
        gap = b.top() - a.bottom()
        a.setHeight(need)
        b.setTop(a.bottom() + gap)
    return rects


def _attribution(painter, rect, content: PageContent, family: str, px: float) -> None:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor

    from planatlas.desktop.page import page_font

    text = "\n".join([*content.attribution, f"制图 PlanAtlas · {content.date}"])
    flags = int(Qt.AlignLeft | Qt.AlignBottom | Qt.TextWordWrap)
    size = px
    while True:
        painter.setFont(page_font(family, size))
        need = painter.boundingRect(QRectF(0, 0, rect.width(), 1e6), flags, text)
        if need.height() <= rect.height() or size <= px * 0.5:
            break
        size *= 0.92
    painter.setPen(QColor("#444444"))
    painter.drawText(rect, flags, text)


def _around(extent, ctx, factor: float = 3.0):
    """A box about ``factor`` times ``extent`` around it, cut to the basemap districts near it
    (the offline basemap covers the plan regions only: beyond them there is nothing to show)."""
    from planatlas.desktop.render import lonlat_to_merc, merc_to_lonlat

    x0, y0, x1, y1 = extent
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hw, hh = (x1 - x0) * factor / 2, (y1 - y0) * factor / 2
    box = (cx - hw, cy - hh, cx + hw, cy + hh)
    (mx0, mx1), (my0, my1) = lonlat_to_merc([box[0], box[2]], [box[1], box[3]])
    near = [r["bounds"] for r in getattr(ctx.scene, "bm_districts", [])
            if r["bounds"][2] >= mx0 and r["bounds"][0] <= mx1 and r["bounds"][3] >= my0
            and r["bounds"][1] <= my1]
    if not near:
        return box
    lon, lat = merc_to_lonlat([max(mx0, min(b[0] for b in near)), min(mx1, max(b[2] for b in near))],
                              [max(my0, min(b[1] for b in near)), min(my1, max(b[3] for b in near))])
    return (min(float(lon[0]), x0), min(float(lat[0]), y0), max(float(lon[1]), x1), max(float(lat[1]), y1))
