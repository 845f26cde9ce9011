"""Painting a whole layer stack into a rectangle, and the stack-wide queries (hit test, legend,
extent) — what the canvas, every image export and the layers panel call.

    ctx = context(scene, stack, scale=dpi / 96)
    paint_map(painter, QRectF(0, 0, 1200, 800), view, scene, stack=stack, scale=dpi / 96)
    hit_test(view, px, py, ctx)       # every feature under the pixel, topmost layer first
    legend(ctx, view)                 # rows for the visible layers that show something in view
"""
from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from planatlas.layers.stack import Layer, LayerStack

from .labels import draw_labels, place_labels
from .renderers import LegendEntry, RenderContext, renderer_for, runs
from .scene import MapScene
from .styles import PAPER
from .view import MapView, view_for_rect

__all__ = ["context", "paint_map", "paint_background", "paint_layers", "paint_basemap",
           "paint_features", "paint_labels", "hit_test", "ids_in_rect", "legend",
           "visible_extent"]


def context(scene: MapScene, stack: LayerStack | None = None, *, scale: float = 1.0,
            lang: str = "zh", selection: bool = True) -> RenderContext:
    """The render context of ``scene`` drawn as ``stack`` (default: the scene's standard stack)."""
    return RenderContext(scene, stack if stack is not None else scene.default_stack(), scale, lang,
                         selection)


def paint_background(painter: QPainter, view: MapView) -> None:
    painter.fillRect(QRectF(0, 0, view.width, view.height), PAPER)


def paint_layers(painter: QPainter, view: MapView, ctx: RenderContext,
                 layers: Iterable[Layer] | None = None) -> None:
    """Paint ``layers`` (default: the visible layers of the stack) bottom first. View pixels."""
    todo = list(ctx.stack.visible_layers() if layers is None else layers)
    for r, run in runs(todo):
        if r.batched:
            r.paint_run(painter, view, run, ctx)
        else:
            r.paint(painter, view, run[0], ctx)


def paint_labels(painter: QPainter, view: MapView, scene: MapScene, *,
                 stack: LayerStack | None = None, scale: float = 1.0, max_labels: int = 350,
                 max_tries: int = 2500, ctx: RenderContext | None = None) -> list[tuple[str, QRectF]]:
    """Labels of the visible labelled layers, placed without overlaps. View pixel coords.

    Returns the placed labels as (text, box incl. padding) in view pixels.
    """
    ctx = ctx or context(scene, stack, scale=scale)
    placer = place_labels(view, ctx, max_labels=max_labels, max_tries=max_tries)
    draw_labels(painter, placer, ctx)
    return placer.boxes(ctx.scene)


def paint_map(painter: QPainter, rect: QRectF, view: MapView, scene: MapScene, *,
              stack: LayerStack | None = None, labels: bool = True, scale: float = 1.0,
              lang: str = "zh", selection: bool = True) -> None:
    """Draw the background, the visible layers of ``stack`` (bottom first) and, optionally, the
    labels of ``view`` into ``rect``.

    If ``rect`` has another pixel size than ``view`` the same ground extent (width) is fitted
    into it. ``scale`` multiplies symbol sizes, line widths and text (``dpi / 96`` for print).
    """
    v = view_for_rect(view, rect)
    ctx = context(scene, stack, scale=scale, lang=lang, selection=selection)
    painter.save()
    painter.setClipRect(rect, Qt.IntersectClip)
    painter.translate(rect.topLeft())
    try:
        paint_background(painter, v)
        paint_layers(painter, v, ctx)
        if labels:
            paint_labels(painter, v, scene, ctx=ctx)
    finally:
        painter.restore()


def _by_role(ctx: RenderContext, basemap: bool) -> list[Layer]:
    return [layer for layer in ctx.stack.visible_layers() if (layer.role == "basemap") == basemap]


def paint_basemap(painter: QPainter, view: MapView, scene: MapScene, *,
                  stack: LayerStack | None = None, scale: float = 1.0) -> None:
    """Background and the visible basemap layers. View pixel coords."""
    ctx = context(scene, stack, scale=scale)
    paint_background(painter, view)
    paint_layers(painter, view, ctx, _by_role(ctx, True))


def paint_features(painter: QPainter, view: MapView, scene: MapScene, *,
                   stack: LayerStack | None = None, scale: float = 1.0) -> None:
    """The visible thematic and overlay layers (no labels). View pixel coords."""
    ctx = context(scene, stack, scale=scale)
    paint_layers(painter, view, ctx, _by_role(ctx, False))


# ----------------------------------------------------------------------------- queries
def _top_down_runs(ctx: RenderContext):
    for r, run in runs(list(reversed(ctx.stack.visible_layers()))):
        yield r, run[::-1]                     # each run bottom first, runs topmost first


def hit_test(view: MapView, px: float, py: float, ctx: RenderContext) -> list[str]:
    """Every feature under pixel (px, py) in the visible layers, the topmost layer's first."""
    out: dict[str, None] = {}
    for r, run in _top_down_runs(ctx):
        hits = r.hit_test_run(view, px, py, run, ctx) if r.batched else \
            r.hit_test(view, px, py, run[0], ctx)
        out.update(dict.fromkeys(hits))
    return list(out)


def ids_in_rect(view: MapView, rect: QRectF, ctx: RenderContext) -> list[str]:
    """Features of the visible layers that meet a pixel rectangle (rubber-band selection)."""
    out: dict[str, None] = {}
    for r, run in _top_down_runs(ctx):
        out.update(dict.fromkeys(r.ids_in_rect(view, rect, run, ctx)))
    return list(out)


def legend(ctx: RenderContext, view: MapView | None = None) -> list[LegendEntry]:
    """Legend rows of the visible layers, topmost first; with ``view``, only what shows in it
    (with counts in view). Rows with the same symbol and label appear once."""
    out: dict[tuple, LegendEntry] = {}
    for r, run in _top_down_runs(ctx):
        entries = r.legend_run(run, ctx, view) if r.batched else r.legend(run[0], ctx, view)
        for e in entries:
            opacity = ctx.stack[e.layer].opacity if e.layer in ctx.stack else 1.0
            if opacity < 1.0:                          # the symbol as faded as on the map
                e.draw, e.key = _faded(e.draw, opacity), (*e.key, opacity)
            out.setdefault((e.key, e.label), e)
    return list(out.values())


def _faded(draw, opacity: float):
    def faded(p: QPainter, r: QRectF) -> None:
        p.save()
        p.setOpacity(p.opacity() * opacity)
        draw(p, r)
        p.restore()
    return faded


def visible_extent(ctx: RenderContext, roles=("thematic", "overlay")):
    """Lon/lat box of what the visible layers of ``roles`` draw (None: nothing)."""
    boxes = [renderer_for(layer.kind).extent(layer, ctx) for layer in ctx.stack.visible_layers()
             if layer.role in roles]
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))
