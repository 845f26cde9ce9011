"""Map series (atlas): the same print layout, one page per plan, district or category.

    planatlas export atlas --plan guangzhou --by district --paper A3 -o gz-districts.pdf
    planatlas export atlas --plan guangzhou --by district --format png -o gz-pages/

``export_atlas`` frames each unit of :func:`planatlas.layers.series.series_units` in turn with
the layout (standard or a template), its overview map showing where the unit lies in the plan,
and writes one multi-page PDF or a folder of numbered PNG/SVG pages (``01-荔湾区.png`` …).
The PDF is written under a temporary name and moved into place only when every page is done;
page files are each written atomically.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Callable

from planatlas.desktop.export_map import (
    ExportCancelled, finish_page_file, frame_box, page_context, page_device, page_layout,
    page_texts,
)
from planatlas.layers.export.data import ExportError, atomic_path, resolve_categories, resolve_plans
from planatlas.layers.series import file_stem, series_units

__all__ = ["export_atlas"]

_BY_ZH = {"district": "区县", "plan": "规划", "category": "类别"}


def _format(fmt: str | None, out: Path) -> str:
    key = (fmt or ("pdf" if out.suffix.lower() == ".pdf" else "png")).lower()
    if key not in ("pdf", "png", "svg"):
        raise ExportError(f"unknown atlas format {key!r}; expected pdf, png or svg")
    if key == "pdf" and out.suffix.lower() != ".pdf":
        raise ExportError(f"a PDF atlas is one file: give --out ending in .pdf, got {out}")
    if key != "pdf" and out.suffix.lower() in (".pdf", ".png", ".svg"):
        raise ExportError(f"{key.upper()} pages go into a folder: give --out as a folder, got {out}")
    return key


def export_atlas(atlas, plans, out, *, by: str = "district", fmt: str | None = None,
                 layers=None, paper: str | None = None, orientation: str | None = None,
                 dpi: float | None = None, layout=None, callouts: str | None = None,
                 title: str | None = None, subtitle: str | None = None, labels: bool = True,
                 scene=None, stack=None,
                 progress: Callable[[int], bool] | None = None) -> dict[str, Any]:
    """Write a series of pages of ``plans`` ``by`` district | plan | category to ``out``
    (a .pdf file, or a folder for PNG/SVG pages). Options as :func:`export_map`; ``title``
    prefixes each page's own title. Returns ``{"path", "format", "pages": [{"page", "name",
    "extent", "file"?, "callouts"}], …}``."""
    from planatlas.desktop.layout_render import PageContent
    from planatlas.desktop.render import MapScene

    from .export_map import _draw

    out = Path(out)
    fmt = _format(fmt, out)
    lay, spec = page_layout(layout, paper, orientation, dpi, callouts)
    plan_ids = resolve_plans(atlas, plans)
    cats = resolve_categories(layers)
    units = series_units(atlas, plan_ids, by, cats)
    if fmt != "pdf":
        if out.exists() and not out.is_dir():
            raise ExportError(f"{out} exists and is not a folder")
        if not out.parent.is_dir():
            raise ExportError(f"output folder {out.parent} does not exist (for {out})")
        out.mkdir(exist_ok=True)
    scene = scene if scene is not None else MapScene.from_atlas(atlas)
    date = _dt.date.today().isoformat()
    total = len(units)

    def page(painter, n: int, unit) -> dict[str, Any]:
        if progress is not None and progress(int(100 * n / total)) is False:
            raise ExportCancelled(f"atlas export to {out} cancelled at page {n + 1}")
        ctx = page_context(atlas, list(unit.plans), list(unit.categories), scene=scene,
                           stack=stack, dpi=spec.dpi)
        box = frame_box(atlas, list(unit.plans), ctx, unit.extent)
        base, sub, attribution = page_texts(atlas, list(unit.plans), None, subtitle)
        head = title or base.replace(" · 规划点位图", "")
        page_title = head if by == "plan" else f"{head} · {unit.name}"
        attribution.append(f"第 {n + 1} / {total} 页（按{_BY_ZH[by]}）")
        content = PageContent(ctx, box, page_title, sub, attribution, date,
                              overview_extent=unit.context, labels=labels)
        res = _draw(painter, lay, content, spec, lambda _pc: None)
        return {"page": n + 1, "name": unit.name, "title": page_title,
                "extent": [round(v, 6) for v in box], "legend": res["legend"],
                "callouts": len(res["callouts"]), "inset": res["inset_extent"] is not None}

    pages: list[dict[str, Any]] = []
    if fmt == "pdf":
        new_page: list = []
        with atomic_path(out, create=False) as tmp:
            with page_device(tmp, "pdf", spec, title or "PlanAtlas", "", pages=new_page) as painter:
                for n, unit in enumerate(units):
                    if n and not new_page[0]():
                        raise ExportError(f"Qt could not start page {n + 1} of {out}")
                    pages.append(page(painter, n, unit))
            finish_page_file(tmp, "pdf")
    else:
        for n, unit in enumerate(units):
            target = out / f"{file_stem(n + 1, unit.name)}.{fmt}"
            with atomic_path(target, create=False) as tmp:
                with page_device(tmp, fmt, spec, unit.name, "") as painter:
                    info = page(painter, n, unit)
                finish_page_file(tmp, fmt)
            pages.append({**info, "file": str(target)})
    if progress is not None:
        progress(100)
    return {"path": str(out), "format": fmt, "by": by, "plans": plan_ids, "layout": lay.name,
            "paper": spec.paper, "orientation": spec.orientation, "dpi": spec.dpi,
            "pages": pages}
