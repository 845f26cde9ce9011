"""QGIS styles for the store's tables (``layer_styles``), built from the GeoPackage export's
:func:`planatlas.layers.export.gpkg.qml_style` so QGIS shows the same colours as the app.

* ``features``  — categorised by ``category`` (the thematic layer colours); deleted rows have
  no category and are not drawn;
* ``positions`` — categorised by ``status``: only ``verified`` rows are drawn (tombstones of
  undone accepts have none);
* ``history``   — previous positions, grey.
"""
from __future__ import annotations

import html
import re

from planatlas.layers.model import CATEGORIES, CATEGORY_COLORS, CATEGORY_LABELS

__all__ = ["style_rows", "VERIFIED_COLOR", "HISTORY_COLOR"]

VERIFIED_COLOR = "#e07b00"
HISTORY_COLOR = "#8a8a8a"


def _symbol(kind: str, color: str, name: str) -> tuple[str, str]:
    """(symbol XML renamed to ``name``, the rest of the QML around ``<symbols>``)."""
    from planatlas.layers.export.gpkg import qml_style

    qml = qml_style(kind, color)
    m = re.search(r"<symbols>(.*?)</symbols>", qml, re.S)
    symbol = re.sub(r'name="0"', f'name="{name}"', m.group(1), count=1)
    return symbol, qml


def _categorised(attr: str, values: list[tuple[str, str, str]], kind: str = "points") -> str:
    """A categorizedSymbol renderer on ``attr``: (value, label, colour) each."""
    symbols, cats, base = [], [], ""
    for i, (value, label, color) in enumerate(values):
        sym, base = _symbol(kind, color, str(i))
        symbols.append(sym)
        cats.append(f'<category render="true" symbol="{i}" value="{html.escape(value)}" '
                    f'label="{html.escape(label)}"/>')
    renderer = (f'<renderer-v2 type="categorizedSymbol" attr="{html.escape(attr)}" symbollevels="0" '
                f'forceraster="0" enableorderby="0"><categories>{"".join(cats)}</categories>'
                f'<symbols>{"".join(symbols)}</symbols><rotation/><sizescale/></renderer-v2>')
    return re.sub(r"<renderer-v2 .*?</renderer-v2>", lambda _m: renderer, base, count=1, flags=re.S)


def style_rows() -> list[dict[str, str]]:
    """One default style per geometry table: table, column, name, QML, description."""
    from planatlas.layers.export.gpkg import qml_style

    cats = [(c, f"{CATEGORY_LABELS[c][0]} {CATEGORY_LABELS[c][1]}", CATEGORY_COLORS[c]) for c in CATEGORIES]
    return [
        {"table": "features", "column": "geom", "name": "planatlas_features",
         "qml": _categorised("category", cats),
         "description": "PlanAtlas: places put on the map, coloured by thematic layer"},
        {"table": "positions", "column": "geom", "name": "planatlas_positions",
         "qml": _categorised("status", [("verified", "核实位置 verified", VERIFIED_COLOR)]),
         "description": "PlanAtlas: verified positions of shipped features"},
        {"table": "history", "column": "geom", "name": "planatlas_history",
         "qml": qml_style("points", HISTORY_COLOR),
         "description": "PlanAtlas: previous positions (one per change)"},
    ]
