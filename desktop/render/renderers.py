"""One renderer per layer kind (QGIS' layer/renderer split), and what they are given.

A renderer paints a :class:`planatlas.layers.stack.Layer` of its kind, says which features a
pixel hits, its extent and its legend entries. Renderers hold no layer state: the layer record
(visibility, opacity, style, source) comes from the stack, the projected data and caches from
the :class:`MapScene` in the :class:`RenderContext`.

Kinds whose layers share one data set (the plan × category layers share the scene's features)
set ``batched = True``: consecutive visible layers of that kind are painted, hit-tested and
listed in the legend as one *run*, so e.g. all areas stay under all point symbols while the
order of the layers still decides whose symbols are on top and whose style a shared feature
takes.

Adding a layer kind is one :class:`planatlas.layers.stack.LayerKind` and one renderer class
decorated with :func:`register_renderer`; the canvas, exports, legend and layers panel pick it up.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPaintEngine

from planatlas.layers.stack import Layer, LayerStack

from .scene import MapScene
from .view import MapView

__all__ = ["LayerRenderer", "RenderContext", "LegendEntry", "register_renderer", "renderer_for",
           "runs", "is_raster"]


def is_raster(painter: QPainter) -> bool:
    eng = painter.paintEngine()
    return eng is not None and eng.type() == QPaintEngine.Raster


@dataclass
class RenderContext:
    """What renderers share for one drawing: the data, the stack, symbol scale, language.

    ``selection=False`` draws no selection or hover highlight (page exports). :meth:`snapshot`
    freezes the stack and the selection for a drawing in another thread."""
    scene: MapScene
    stack: LayerStack
    scale: float = 1.0
    lang: str = "zh"
    selection: bool = True
    cache: dict = field(default_factory=dict)        # per-drawing values (e.g. ownership)
    frozen: tuple | None = None                      # (selection mask, highlight) of a snapshot

    @property
    def sel_mask(self) -> np.ndarray:
        if not self.selection:
            return np.zeros(len(self.scene.ids), dtype=bool)
        return self.frozen[0] if self.frozen is not None else self.scene.sel_mask

    @property
    def highlight(self) -> str | None:
        if not self.selection:
            return None
        return self.frozen[1] if self.frozen is not None else self.scene.highlight

    def snapshot(self) -> "RenderContext":
        """A copy that keeps drawing today's stack and selection whatever changes later."""
        return RenderContext(self.scene, self.stack.copy(), self.scale, self.lang,
                             self.selection, {}, (self.scene.sel_mask, self.scene.highlight))


@dataclass
class LegendEntry:
    """One legend row: ``label`` (in the context's language), ``draw(painter, box)``, the
    number of features it stands for (None for basemap entries), its symbol ``key`` and the
    ``short`` label used when the layers panel merges rows with the same symbol."""
    label: str
    draw: Callable[[QPainter, QRectF], None]
    count: int | None = None
    key: tuple = ()
    short: str = ""
    layer: str | None = None


class LayerRenderer:
    """Base class: a kind that draws nothing, hits nothing and has no legend."""
    kind: str = ""
    batched = False            # consecutive layers of this kind form one run
    static = False             # drawing depends on the view and the layer only (cacheable)
    label_priority: int | None = None   # labels placed in this order (None: no labels)

    # -- per layer (batched kinds get runs of one)
    def paint(self, painter: QPainter, view: MapView, layer: Layer, ctx: RenderContext) -> None:
        self.paint_run(painter, view, [layer], ctx)

    def hit_test(self, view: MapView, px: float, py: float, layer: Layer,
                 ctx: RenderContext) -> list[str]:
        return self.hit_test_run(view, px, py, [layer], ctx)

    def legend(self, layer: Layer, ctx: RenderContext, view: MapView | None = None) -> list[LegendEntry]:
        return self.legend_run([layer], ctx, view)

    def extent(self, layer: Layer, ctx: RenderContext) -> tuple[float, float, float, float] | None:
        """Lon/lat box of what the layer draws (None: nothing)."""
        return None

    def icon(self, layer: Layer, ctx: RenderContext) -> Callable[[QPainter, QRectF], None] | None:
        """What the layers panel shows beside the layer (default: its first legend drawing)."""
        entries = self.legend(layer, ctx)
        return entries[0].draw if entries else None

    def count(self, layer: Layer, ctx: RenderContext) -> int | None:
        """Number of features the layer holds (None: not a feature layer)."""
        return None

    # -- per run (layers bottom first)
    def paint_run(self, painter: QPainter, view: MapView, layers: list[Layer],
                  ctx: RenderContext) -> None:
        raise NotImplementedError(f"{type(self).__name__} paints nothing")

    def hit_test_run(self, view: MapView, px: float, py: float, layers: list[Layer],
                     ctx: RenderContext) -> list[str]:
        return []

    def legend_run(self, layers: list[Layer], ctx: RenderContext,
                   view: MapView | None = None) -> list[LegendEntry]:
        return []

    def ids_in_rect(self, view: MapView, rect: QRectF, layers: list[Layer],
                    ctx: RenderContext) -> list[str]:
        return []

    def place_labels(self, placer: Any, view: MapView, layers: list[Layer],
                     ctx: RenderContext) -> None:
        """Offer labels to the shared collision-aware placer (see :mod:`.labels`)."""


_RENDERERS: dict[str, LayerRenderer] = {}


def register_renderer(cls: type[LayerRenderer]) -> type[LayerRenderer]:
    """Class decorator: the renderer of ``cls.kind``."""
    if not cls.kind:
        raise ValueError(f"{cls.__name__} has no kind")
    _RENDERERS[cls.kind] = cls()
    return cls


def renderer_for(kind: str) -> LayerRenderer:
    try:
        return _RENDERERS[kind]
    except KeyError:
        raise KeyError(f"no renderer for layer kind {kind!r} "
                       f"(known: {', '.join(sorted(_RENDERERS))})") from None


def runs(layers: list[Layer]) -> list[tuple[LayerRenderer, list[Layer]]]:
    """Group layers (in the given order) into runs: consecutive layers of a batched kind form
    one run, every other layer is a run of its own."""
    out: list[tuple[LayerRenderer, list[Layer]]] = []
    for layer in layers:
        r = renderer_for(layer.kind)
        if out and r.batched and out[-1][0] is r:
            out[-1][1].append(layer)
        else:
            out.append((r, [layer]))
    return out
