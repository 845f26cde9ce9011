"""Map images for print and slides: PNG, SVG and PDF pages drawn by the canvas painter.

    planatlas export map --plan guangzhou --format pdf --paper A3 --dpi 300 --out gz.pdf

``export_map(atlas, plans, out, …)`` lays out one page — title and subtitle, the map, a legend
of the visible layers only, a north arrow, a scale bar correct for the latitude of the map
centre (Web Mercator exaggerates distances by 1/cos(lat)), the data sources, plan names and the
date — and draws the map with :func:`desktop.render.paint_map`, the same painter as the
screen canvas, from a layer stack (:mod:`planatlas.layers.stack`): the window passes its own,
so a layer hidden on screen is hidden on the page and absent from its legend, and a restyled
layer prints restyled.

* PNG: exactly ``paper × dpi`` pixels (A3 landscape at 300 dpi is 4961×3508), with the DPI
  stored in the file.
* SVG (QSvgGenerator) and PDF (QPdfWriter): vector; the page furniture (title, legend, scale
  bar labels, sources) is written with ``drawText`` so it is real, selectable text.
* ``progress(percent) -> bool`` is called along the way; returning ``False`` cancels, raises
  :class:`ExportCancelled` and leaves nothing behind (the page is built under a temporary name
  and moved into place only when complete).

Needs a ``QGuiApplication`` (the CLI creates an offscreen one). Chinese text uses the bundled
font from :mod:`desktop.fonts`.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
import re
from pathlib import Path
from typing import Any, Callable, Sequence

from planatlas.desktop.page import (
    MM_PER_INCH, PAPERS_MM, PageInfo, PageSpec, page_frames, page_spec, render_page,
)
from planatlas.desktop.pdftext import fix_pdf_tounicode
from planatlas.layers.export.data import ExportError, atomic_path, resolve_categories, resolve_plans
from planatlas.layers.fsutil import WriteFailed
from planatlas.layers.safetext import xml_safe

__all__ = ["PAPERS_MM", "PageSpec", "page_spec", "parse_extent", "map_extent", "export_map",
           "render_page", "ExportCancelled", "FORMATS", "fix_pdf_tounicode", "ensure_app"]

FORMATS = ("png", "svg", "pdf")


class ExportCancelled(Exception):
    """The progress callback asked to stop; no file was written."""


def parse_extent(value: str | Sequence[float] | None):
    """``None``/``"plan"`` → ``None`` (fit the plans); ``"minlon,minlat,maxlon,maxlat"`` → tuple."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "plan")):
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    try:
        nums = [float(p) for p in parts]
    except (TypeError, ValueError):
        raise ExportError(f"--extent must be 'plan' or minlon,minlat,maxlon,maxlat, got {value!r}") from None
    if len(nums) != 4 or not all(math.isfinite(v) for v in nums):
        raise ExportError(f"--extent needs 4 numbers minlon,minlat,maxlon,maxlat, got {value!r}")
    minlon, minlat, maxlon, maxlat = nums
    if not (-180 <= minlon < maxlon <= 180 and -85 <= minlat < maxlat <= 85):
        raise ExportError(f"--extent {value!r} is not a valid lon/lat box (min < max, |lat| ≤ 85)")
    return (minlon, minlat, maxlon, maxlat)


def map_extent(atlas, plans: Sequence[str], ctx=None) -> tuple[float, float, float, float]:
    """Lon/lat box covering the plans' areas (basemap) and what the visible non-basemap layers
    of the render context ``ctx`` draw."""
    boxes = []
    basemap = getattr(atlas, "basemap", None)
    for pid in plans:
        try:
            boxes.append(tuple(basemap.plan_extent(pid)))
        except Exception:  # noqa: BLE001 - user plans have no area in the basemap
            pass
    if ctx is not None:
        from planatlas.desktop.render import visible_extent

        b = visible_extent(ctx)
        if b is not None:
            boxes.append(b)
    if not boxes:
        raise ExportError(f"nothing to frame: plans {', '.join(plans)} have no area in the "
                          "basemap and no visible features; give --extent")
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _plan_short(plan) -> str:
    r = plan.region
    return r.district or r.city or plan.id


def _legend_entries(ctx, view) -> list[tuple[str, Any]]:
    """Legend rows of the page: what the visible layers show in the map frame, topmost layer
    first, with the number of features in view."""
    from planatlas.desktop.render import legend

    return [(f"{e.label}（{e.count}）" if e.count is not None else e.label, e.draw)
            for e in legend(ctx, view)]


# ----------------------------------------------------------------------------- entry point


def _check_format(fmt: str | None, out: Path) -> str:
    key = (fmt or out.suffix.lstrip(".")).lower()
    if key not in FORMATS:
        raise ExportError(f"unknown map format {fmt or out.suffix!r}; expected one of {', '.join(FORMATS)}")
    return key


def export_map(atlas, plans, out, *, fmt: str | None = None, layers=None, paper: str = "A4",
               orientation: str | None = "landscape", dpi: float | None = None, extent=None,
               title: str | None = None, subtitle: str | None = None, labels: bool = True,
               scene=None, stack=None, progress: Callable[[int], bool] | None = None) -> dict[str, Any]:
    """Write a map page of ``plans`` (ids, list or ``"a,b"``) to ``out`` as PNG/SVG/PDF.

    ``stack``: the layer stack to draw (e.g. the window's, so order, visibility, opacity and
    styles carry over; it is not changed). Without one, the standard stack of the atlas.
    Either way plan layers of other plans, or of categories not in ``layers`` (default all),
    are left out — a hidden layer is never shown. ``scene``: a prepared
    :class:`desktop.render.MapScene` to reuse (saves projecting the data again). ``extent``:
    ``None``/``"plan"`` or a lon/lat box. ``progress(percent)`` returning ``False`` cancels
    (:class:`ExportCancelled`, nothing written).

    Returns ``{"path", "format", "width_px", "height_px", "dpi", "page_mm", "extent", "plans",
    "layers", "legend"}``.
    """
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        raise RuntimeError("export_map needs a QGuiApplication (see desktop.export_map.ensure_app)")
    out = Path(out)
    fmt = _check_format(fmt, out)
    spec = page_spec(paper, orientation, dpi)
    box = parse_extent(extent)
    plan_ids = resolve_plans(atlas, plans)
    cats = resolve_categories(layers)

    def step(percent: int) -> None:
        if progress is not None and progress(int(percent)) is False:
            raise ExportCancelled(f"map export to {out} cancelled at {percent}%")

    step(0)
    from planatlas.desktop.render import MapScene, context

    if scene is None:
        scene = MapScene.from_atlas(atlas)
    page_stack = stack.copy() if stack is not None else scene.default_stack()
    with page_stack.batch():
        for layer in page_stack.find(kind="plan_category"):
            if layer.source["plan"] not in plan_ids or layer.source["category"] not in cats:
                page_stack.set_visible(layer.id, False)
    ctx = context(scene, page_stack, scale=spec.dpi / 96.0, selection=False)
    step(10)
    if box is None:
        box = map_extent(atlas, plan_ids, ctx)
    plans_txt = "、".join(atlas.plans[p].title for p in plan_ids)
    page_title = title if title is not None else (
        f"{'、'.join(_plan_short(atlas.plans[p]) for p in plan_ids)} · 规划点位图")
    page_sub = subtitle if subtitle is not None else plans_txt
    from planatlas.layers.export.html import basemap_attribution

    attribution = [
        "规划：" + "；".join(f"{atlas.plans[p].title}（{atlas.plans[p].issuer}，{atlas.plans[p].issued}）"
                           for p in plan_ids),
        "底图：" + basemap_attribution(getattr(atlas, "basemap", None)).replace("PlanAtlas 内置底图：", ""),
        "点位：PlanAtlas 整理（多为近似位置，精度见数据导出）；Web 墨卡托投影，WGS-84",
    ]
    date = _dt.date.today().isoformat()

    with atomic_path(out, create=False) as tmp:
        result = _paint_to_file(tmp, fmt, spec, ctx, box, labels, page_title, page_sub,
                                attribution, date, step)
    step(100)
    result.update({"path": str(out), "format": fmt, "dpi": spec.dpi,
                   "page_mm": [round(spec.width_mm, 1), round(spec.height_mm, 1)],
                   "extent": [round(v, 6) for v in box], "plans": plan_ids, "layers": cats,
                   "title": page_title})
    return result


def _paint_to_file(tmp: Path, fmt: str, spec: PageSpec, ctx, box, labels, title, subtitle,
                   attribution, date, step) -> dict[str, Any]:
    from PySide6.QtCore import QMarginsF, QRect, QSize, QSizeF
    from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

    from planatlas.desktop.render import MapView

    device = None
    if fmt == "png":
        device = QImage(spec.width_px, spec.height_px, QImage.Format_ARGB32_Premultiplied)
        if device.isNull():
            raise ExportError(f"not enough memory for a {spec.width_px}×{spec.height_px} image")
        dpm = int(round(spec.dpi / MM_PER_INCH * 1000))
        device.setDotsPerMeterX(dpm)
        device.setDotsPerMeterY(dpm)
        device.fill(0xFFFFFFFF)
    elif fmt == "pdf":
        device = QPdfWriter(str(tmp))
        device.setResolution(int(round(spec.dpi)))
        if spec.named:
            size = QPageSize(getattr(QPageSize.PageSizeId, spec.paper))
            orient = QPageLayout.Landscape if spec.orientation == "landscape" else QPageLayout.Portrait
        else:
            size = QPageSize(QSizeF(spec.width_mm, spec.height_mm), QPageSize.Millimeter,
                             spec.paper, QPageSize.ExactMatch)
            orient = QPageLayout.Portrait
        device.setPageLayout(QPageLayout(size, orient, QMarginsF(0, 0, 0, 0)))
        device.setTitle(title)
        device.setCreator("PlanAtlas")
    else:
        from PySide6.QtSvg import QSvgGenerator

        device = QSvgGenerator()
        device.setFileName(str(tmp))
        device.setSize(QSize(spec.width_px, spec.height_px))
        device.setViewBox(QRect(0, 0, spec.width_px, spec.height_px))
        device.setResolution(int(round(spec.dpi)))
        device.setTitle(title)
        device.setDescription(subtitle)

    painter = QPainter()
    if not painter.begin(device):
        raise ExportError(f"cannot write {fmt.upper()} to {tmp.parent}")
    try:
        w, h = painter.device().width(), painter.device().height()
        frames = page_frames(w, h, spec, title, subtitle)
        mr = frames.map_rect
        view = MapView.fit(box, (max(1, int(round(mr.width()))), max(1, int(round(mr.height())))),
                           margin=0.03, min_res=0.05)
        legend = _legend_entries(ctx, view)
        info = PageInfo(title, subtitle, legend, attribution, date)
        step(25)
        render_page(painter, w, h, spec, view, ctx.scene, info, labels=labels,
                    progress=lambda pc: step(pc), stack=ctx.stack)
        step(90)
    finally:
        painter.end()
    if fmt == "png":
        if not device.save(str(tmp), "PNG"):
            raise WriteFailed("Qt could not write the PNG")
    del device
    if fmt == "svg":
        _svg_font_fallbacks(tmp)
    if fmt == "pdf":
        from planatlas.desktop.fonts import ensure_fonts

        fix_pdf_tounicode(tmp, ensure_fonts())
    return {"width_px": w, "height_px": h, "legend": [label for label, _ in legend],
            "map_rect_px": [round(mr.left(), 2), round(mr.top(), 2), view.width, view.height],
            "view_extent": [round(v, 6) for v in view.extent_lonlat()],
            "scale_m_per_px": view.ground_resolution()}


_SVG_FONTS = "'Noto Sans SC', 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', " \
             "'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif"


def _svg_font_fallbacks(path: Path) -> None:
    """Let SVG viewers without the bundled font fall back to a system Chinese sans font."""
    text = xml_safe(path.read_text(encoding="utf-8"))   # Qt writes control characters verbatim
    text = re.sub(r'font-family="([^"]*)"',
                  lambda m: f'font-family="{_SVG_FONTS}"' if "Noto Sans SC" in m.group(1) else m.group(0),
                  text)
    path.write_text(text, encoding="utf-8")


# ----------------------------------------------------------------------------- command line


def ensure_app():
    """The Qt application for command-line painting: offscreen (no window is ever shown, so no
    display or X11 library is needed) unless the user chose a platform in QT_QPA_PLATFORM; a
    QApplication, not just a QGuiApplication, so widgets created later in the same process
    (the app, tests) can share it."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["planatlas"])
    return app
