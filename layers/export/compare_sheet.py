"""The target comparison in the XLSX data export: a ``compare`` sheet (one row per target with its
canonical indicator, value as written and normalised, annual growth and citation) and a
``charts`` sheet with the comparison charts as PNG images (:mod:`planatlas.layers.charts`)."""
from __future__ import annotations

import hashlib
import io
import json
from collections import OrderedDict
from typing import Any, Callable, Sequence

from planatlas.layers.compare import CompareRow, plan_label

COLUMNS = ("plan", "plan_label", "indicator", "label", "group", "kind", "year", "comparator",
           "value", "upper", "unit", "normalised_value", "normalised_unit", "display_value",
           "display_unit", "annual_growth_pct", "growth_method", "growth_how", "implied_display",
           "note", "target", "clause", "citation", "source_indicator", "surface", "evidence")
WIDTHS = {"plan_label": 12, "indicator": 24, "label": 20, "citation": 28, "clause": 24,
          "source_indicator": 30, "surface": 50, "evidence": 30, "growth_how": 30}


def _record(r: CompareRow) -> list[Any]:
    d = r.to_dict()
    n, g, imp = d["normalised"] or {}, d["growth"] or {}, d["implied"]
    note = [x for x in (f"same as {d['duplicate_of']}" if d["duplicate_of"] else "",
                        "cumulative" if d["cumulative"] else "") if x]
    return [d["plan"], d["plan_label"], d["indicator"], d["label"], d["group"], d["kind"], d["year"],
            d["comparator"], d["value"], d["upper"], d["unit"], n.get("value"), n.get("unit"),
            n.get("display"), n.get("display_unit"), g.get("annual_pct"), g.get("method"),
            g.get("how"), f"{imp['display']:g} {imp['display_unit']}" if imp else None,
            "; ".join(note), d["target"], d["clause"], d["citation"], d["source_indicator"],
            d["surface"], d["evidence"]["text"]]


_CHARTS: OrderedDict[str, list[tuple[str, bytes]]] = OrderedDict()
_CHARTS_KEPT = 8


def chart_images(atlas, rows: Sequence[CompareRow], plan_ids: Sequence[str],
                 dpi: int = 110) -> list[tuple[str, bytes]]:
    """(title, PNG) of the bars of the indicators several plans share (else the most frequent),
    the timeline of target years and the annual growth rates.

    matplotlib takes seconds for the three; the PNGs are kept for the last few inputs (keyed
    by the rows' content, the plans' periods and ``dpi``), so exporting the same plans again
    costs nothing for the charts."""
    targets = [r for r in rows if r.target.kind == "target" and r.key != "other"]
    periods = [(p, plan_label(atlas.plans[p]), atlas.plans[p].period) for p in plan_ids]
    key = hashlib.sha256(json.dumps([[r.to_dict() for r in targets], periods, dpi],
                                    sort_keys=True, default=str).encode()).hexdigest()
    if key in _CHARTS:
        _CHARTS.move_to_end(key)
        return list(_CHARTS[key])
    from planatlas.layers import charts
    plans_by_key: dict[str, set[str]] = {}
    for r in targets:
        if r.quantity is not None and r.quantity.dim not in ("percent", "pp"):
            plans_by_key.setdefault(r.key, set()).add(r.plan)
    keys = sorted(plans_by_key, key=lambda k: -len(plans_by_key[k]))
    shared = [k for k in keys if len(plans_by_key[k]) >= 2] or keys[:4]
    out = []
    if shared:
        out.append(("bars", charts.png_bytes(charts.bars_figure(targets, shared[:8]), dpi)))
    out.append(("timeline", charts.png_bytes(charts.timeline_figure(targets, periods), dpi)))
    out.append(("growth", charts.png_bytes(charts.growth_figure(targets), dpi)))
    _CHARTS[key] = out
    while len(_CHARTS) > _CHARTS_KEPT:
        _CHARTS.popitem(last=False)
    return list(out)


def add_compare_sheets(wb, atlas, plan_ids: Sequence[str], add_sheet: Callable) -> None:
    """Append the ``compare`` and ``charts`` sheets for ``plan_ids`` to the (write-only)
    workbook ``wb``."""
    from openpyxl.drawing.image import Image
    from planatlas.layers.compare import compare
    rows = compare(atlas, None, plan_ids, baselines=True, include_other=True)
    add_sheet(wb.create_sheet("compare"), COLUMNS, (_record(r) for r in rows), WIDTHS)
    ws = wb.create_sheet("charts")
    ws.append(["Charts of the 'compare' sheet (PlanAtlas; values in display units, see "
               "layers/data/indicators.toml)"])
    ws.append([])
    row = 3
    for title, png in chart_images(atlas, rows, plan_ids):
        img = Image(io.BytesIO(png))
        ws.append([title])
        ws.add_image(img, f"A{row + 1}")
        step = 2 + int(img.height / 20) + 1      # default rows are 20 px high
        for _ in range(step - 1):
            ws.append([])
        row += step
