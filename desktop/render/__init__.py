"""The one map painter of PlanAtlas, used by the screen canvas and by paper/image exports.

    view  = MapView.fit((113.2, 23.0, 113.5, 23.2), (1200, 800))   # Web-Mercator view
    scene = MapScene.from_atlas(atlas)                               # projected data, build once
    stack = default_stack(atlas)                                     # what is drawn, in order
    paint_map(painter, QRectF(0, 0, 1200, 800), view, scene, stack=stack, scale=1.0)

* :mod:`.view` — ``MapView``, an immutable Web-Mercator view; lon/lat ↔ Mercator.
* :mod:`.scene` — ``MapScene``: the features as projected columnar arrays shared by the plan ×
  category layers, the projected basemap, selection and drawing caches.
* :mod:`.styles`, :mod:`.symbols`, :mod:`.paths` — colours and symbol shapes; sprites, halos
  and legend drawings; shapely → QPainterPath.
* :mod:`.renderers` — the renderer base class and registry (one renderer per layer kind) and the
  render context; :mod:`.basemap`, :mod:`.features`, :mod:`.overlays` — the renderers.
* :mod:`.labels` — one collision-aware label pass over the visible labelled layers.
* :mod:`.paint` — painting a whole stack into a rect; stack-wide hit test, legend, extent.

``scale`` multiplies symbol sizes, line widths and label sizes (``dpi / 96`` for print). On
raster devices point symbols and labels are pre-rendered images; on vector devices (SVG/PDF)
they are real vector shapes and selectable text.
"""
from __future__ import annotations

from planatlas.layers.stack import default_stack

from . import basemap, features, overlays, targetbadges, tiles, userlayers  # noqa: F401  (register every kind)
from .labels import LabelPlacer
from .paint import (
    context, hit_test, ids_in_rect, legend, paint_background, paint_basemap, paint_features,
    paint_labels, paint_layers, paint_map, visible_extent,
)
from .renderers import LayerRenderer, LegendEntry, RenderContext, register_renderer, renderer_for
from .scene import MapScene
from .styles import (
    CATEGORY_SYMBOLS, HOVER_COLOR, PAPER, SELECT_COLOR, LayerStyle, default_style, qcolor,
    symbol_path,
)
from .view import MapView, lonlat_to_merc, merc_to_lonlat

__all__ = [
    "MapView", "MapScene", "LayerStyle", "paint_map", "paint_basemap", "paint_features",
    "paint_labels", "paint_layers", "paint_background", "lonlat_to_merc", "merc_to_lonlat",
    "CATEGORY_SYMBOLS", "default_style", "symbol_path", "qcolor", "PAPER", "SELECT_COLOR",
    "HOVER_COLOR", "context", "hit_test", "ids_in_rect", "legend", "visible_extent",
    "LayerRenderer", "LegendEntry", "RenderContext", "register_renderer", "renderer_for",
    "LabelPlacer", "default_stack",
]
