"""Map images for print and slides: PNG, SVG and PDF pages of a print layout.

    planatlas export map --plan guangzhou --format pdf --paper A3 --dpi 300 --out gz.pdf
    planatlas export map --plan guangzhou --layout my-a3.layout.json --extent district:天河区 -o th.pdf

``export_map(atlas, plans, out, …)`` draws one page of a print layout
(:mod:`planatlas.layers.layout`; the standard one unless ``layout`` is given) with
:func:`desktop.layout_render.render_layout`: title and subtitle, the map, a legend of the
visible layers only, north arrow, scale bar (true at the map centre's latitude), sources and
date, an overview map, and callouts (an enlarged inset and/or a numbered key) where site names
do not fit. Every map on the page is painted by the canvas renderers from a layer stack
(:mod:`planatlas.layers.stack`): the window passes its own, so a layer hidden on screen is
absent from the page, its legend and its text, and a restyled layer prints restyled.

* ``extent``: ``plan`` (default) | ``all`` | ``view`` | ``district:NAME`` | ``bookmark:NAME`` |
  a lon/lat box (:mod:`planatlas.layers.extent`); ``view`` is the window's view (``view=``) or
  a project's saved extent.
* PNG: exactly ``paper × dpi`` pixels (A3 landscape at 300 dpi is 4961×3508), DPI stored.
* SVG: plain page-pixel paths, hatching as line paths, maps clipped to their frames
  (:mod:`desktop.svgclip`) — rsvg, Chromium, Inkscape and Qt draw it alike; page text is text.
* PDF: vector, text extracts as printed (:mod:`desktop.pdftext`).
* ``progress(percent) -> bool`` returning ``False`` cancels (:class:`ExportCancelled`); nothing
  is left behind (the page is built under a temporary name and moved into place when complete).

Needs a ``QGuiApplication`` (the CLI creates an offscreen one).
"""
from __future__ import annotations

import datetime as _dt
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Sequence

from planatlas.desktop.page import MM_PER_INCH, PAPERS_MM, PageSpec, page_spec, scale_denominator
from planatlas.desktop.pdftext import fix_pdf_tounicode
from planatlas.layers.export.data import ExportError, atomic_path, resolve_categories, resolve_plans
from planatlas.layers.extent import ExtentError, ExtentSpec, resolve_extent
from planatlas.layers.extent import parse_extent as _parse_extent
from planatlas.layers.fsutil import WriteFailed
from planatlas.layers.layout import Layout, default_layout, load_template
from planatlas.layers.safetext import xml_safe

__all__ = ["PAPERS_MM", "PageSpec", "page_spec", "parse_extent", "export_map", "ExportCancelled",
           "FORMATS", "fix_pdf_tounicode", "ensure_app", "page_layout", "page_context",
           "page_texts", "page_device", "finish_page_file"]

FORMATS = ("png", "svg", "pdf")
PNG_QUALITY = 80          # Qt maps PNG quality q to zlib level (100 - q) * 9 // 91: 80 is level 1


class ExportCancelled(Exception):
    """The progress callback asked to stop; no file was written."""


def parse_extent(value) -> tuple[float, float, float, float] | ExtentSpec | None:
    """``None``/``"plan"`` → ``None`` (fit the plans); a lon/lat box → tuple; ``view``, ``all``,
    ``district:NAME``, ``bookmark:NAME`` → :class:`ExtentSpec`. Bad values raise ExportError."""
    try:
        spec = _parse_extent(value)
    except ExtentError as exc:
        raise ExportError(str(exc)) from None
    if spec.mode == "plan":
        return None
    return spec.arg if spec.mode == "bbox" else spec


def _plan_short(plan) -> str:
    r = plan.region
    return r.district or r.city or plan.id


def _paren(*parts) -> str:
    """"（a，b）" of the non-empty parts; "" when none (never "（，）")."""
    parts = [str(p).strip() for p in parts if p is not None and str(p).strip()]
    return f"（{'，'.join(parts)}）" if parts else ""


def page_texts(atlas, plan_ids: Sequence[str], title: str | None = None,
               subtitle: str | None = None) -> tuple[str, str, list[str]]:
    """(title, subtitle, attribution lines) of a page of ``plan_ids``. The default subtitle is
    the plan's title, or for several plans their count and short names (never a list of every
    full title, which no page width holds)."""
    plans = [atlas.plans[p] for p in plan_ids]
    shorts = list(dict.fromkeys(_plan_short(p) for p in plans))
    page_title = title if title is not None else f"{'、'.join(shorts[:4])}{' 等' if len(shorts) > 4 else ''} · 规划点位图"
    if subtitle is None:
        subtitle = plans[0].title if len(plans) == 1 else \
            f"{len(plans)} 项规划：" + "、".join(shorts[:6]) + (" 等" if len(shorts) > 6 else "")
    from planatlas.layers.export.html import basemap_attribution

    attribution = [
        "规划：" + "；".join(f"{p.title}{_paren(p.issuer, p.issued)}" for p in plans),
        "底图：" + basemap_attribution(getattr(atlas, "basemap", None)).replace("PlanAtlas 内置底图：", ""),
        "点位：PlanAtlas 整理（多为近似位置，精度见数据导出）；Web 墨卡托投影，WGS-84",
    ]
    return page_title, subtitle, attribution


def page_layout(layout=None, paper: str | None = None, orientation: str | None = None,
                dpi: float | None = None, callouts: str | None = None) -> tuple[Layout, PageSpec]:
    """The layout to draw (``layout``: a :class:`Layout`, a template path or None for the
    standard one) on ``paper``/``orientation``/``dpi`` (None: the template's, else A4 landscape
    300 dpi), and the exact page pixels."""
    if isinstance(layout, (str, os.PathLike)):
        layout = load_template(layout)
    if layout is None:
        spec = page_spec(paper or "A4", orientation or "landscape", dpi)
        lay = default_layout(spec.paper, spec.orientation, spec.dpi)
    else:
        spec = page_spec(paper or layout.paper, orientation or layout.orientation,
                         dpi if dpi is not None else layout.dpi)
        lay = layout.copy()
        lay.dpi = spec.dpi
        w_mm, h_mm = lay.size_mm
        if abs(w_mm - spec.width_mm) > 0.5 or abs(h_mm - spec.height_mm) > 0.5:
            lay = lay.resized_to(spec.paper, spec.orientation)
    if callouts is not None:
        lay.callouts = callouts
        Layout.__post_init__(lay)
    return lay, spec


def page_context(atlas, plan_ids, cats, *, scene=None, stack=None, dpi: float = 96.0):
    """The render context of a page: ``stack`` (copied; default: the atlas' standard stack)
    with plan layers of other plans or categories hidden. The caller's stack is not changed."""
    from planatlas.desktop.render import MapScene, context

    if scene is None:
        scene = MapScene.from_atlas(atlas)
    page_stack = stack.copy() if stack is not None else scene.default_stack()
    with page_stack.batch():
        for layer in page_stack.find(kind="plan_category"):
            if layer.source["plan"] not in plan_ids or layer.source["category"] not in cats:
                page_stack.set_visible(layer.id, False)
    return context(scene, page_stack, scale=dpi / 96.0, selection=False)


def frame_box(atlas, plan_ids, ctx, extent, *, view=None, bookmarks=()) -> tuple[float, ...]:
    """The lon/lat box a page frames (see :mod:`planatlas.layers.extent`)."""
    from planatlas.desktop.render import visible_extent

    if isinstance(extent, tuple) and len(extent) == 4 and all(isinstance(v, (int, float)) for v in extent):
        return tuple(float(v) for v in extent)
    content = visible_extent(ctx)
    try:
        return resolve_extent(extent, atlas, plan_ids, content=content, view=view,
                              bookmarks=bookmarks)
    except ExtentError as exc:
        raise ExportError(str(exc)) from None


def _check_format(fmt: str | None, out: Path) -> str:
    key = (fmt or out.suffix.lstrip(".")).lower()
    if key not in FORMATS:
        raise ExportError(f"unknown map format {fmt or out.suffix!r}; expected one of {', '.join(FORMATS)}")
    return key


def export_map(atlas, plans, out, *, fmt: str | None = None, layers=None, paper: str | None = None,
               orientation: str | None = None, dpi: float | None = None, extent=None,
               title: str | None = None, subtitle: str | None = None, labels: bool = True,
               scene=None, stack=None, layout=None, callouts: str | None = None, view=None,
               bookmarks=(), progress: Callable[[int], bool] | None = None) -> dict[str, Any]:
    """Write a map page of ``plans`` (ids, list or ``"a,b"``) to ``out`` as PNG/SVG/PDF.

    ``stack``: the layer stack to draw (e.g. the window's, so order, visibility, opacity and
    styles carry over; it is not changed). Without one, the standard stack of the atlas.
    Either way plan layers of other plans, or of categories not in ``layers`` (default all),
    are left out — a hidden layer is never shown. ``scene``: a prepared
    :class:`desktop.render.MapScene` to reuse. ``layout``: a :class:`Layout` or template path;
    ``callouts``: auto | key | inset | none (default: the layout's). ``extent``: see the module
    doc; ``view``: the window's current lon/lat box (for ``extent="view"``), ``bookmarks``:
    ``[{"name", "bbox"}]``. ``progress(percent)`` returning ``False`` cancels.

    Returns ``{"path", "format", "width_px", "height_px", "dpi", "page_mm", "extent", "plans",
    "layers", "legend", "callouts", "inset_extent", …}``.
    """
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        raise RuntimeError("export_map needs a QGuiApplication (see desktop.export_map.ensure_app)")
    out = Path(out)
    fmt = _check_format(fmt, out)
    lay, spec = page_layout(layout, paper, orientation, dpi, callouts)
    want = parse_extent(extent) or "plan"           # validated before any painting
    plan_ids = resolve_plans(atlas, plans)
    cats = resolve_categories(layers)

    def step(percent: int) -> None:
        if progress is not None and progress(int(percent)) is False:
            raise ExportCancelled(f"map export to {out} cancelled at {percent}%")

    step(0)
    ctx = page_context(atlas, plan_ids, cats, scene=scene, stack=stack, dpi=spec.dpi)
    step(10)
    box = frame_box(atlas, plan_ids, ctx, want, view=view, bookmarks=bookmarks)
    page_title, page_sub, attribution = page_texts(atlas, plan_ids, title, subtitle)
    from planatlas.desktop.layout_render import PageContent

    content = PageContent(ctx, box, page_title, page_sub, attribution,
                          _dt.date.today().isoformat(), labels=labels)
    with atomic_path(out, create=False) as tmp:
        with page_device(tmp, fmt, spec, page_title, page_sub) as painter:
            result = _draw(painter, lay, content, spec, step)
        finish_page_file(tmp, fmt)
    step(100)
    result.update({"path": str(out), "format": fmt, "dpi": spec.dpi,
                   "page_mm": [round(spec.width_mm, 1), round(spec.height_mm, 1)],
                   "extent": [round(v, 6) for v in box], "plans": plan_ids, "layers": cats,
                   "title": page_title, "subtitle": page_sub, "layout": lay.name})
    return result


def _draw(painter, lay: Layout, content, spec: PageSpec, step) -> dict[str, Any]:
    """One layout page on ``painter``; the result's keys for the caller."""
    from planatlas.desktop.layout_render import render_layout

    step(25)
    res = render_layout(painter, lay, content, dpi=spec.dpi, progress=step)
    view = res.pop("view")
    res.update({"width_px": spec.width_px, "height_px": spec.height_px,
                "view_extent": [round(v, 6) for v in view.extent_lonlat()],
                "scale_m_per_px": view.ground_resolution(),
                "scale": scale_denominator(view, spec.dpi)})
    return res


@contextmanager
def page_device(tmp: Path, fmt: str, spec: PageSpec, title: str, subtitle: str, *,
                pages: list | None = None):
    """A QPainter on a PNG image, PDF or SVG page of ``spec`` written to ``tmp`` when the block
    ends. ``pages``: for a multi-page PDF, a list that receives a ``new_page()`` callable."""
    from PySide6.QtCore import QMarginsF, QRect, QSize, QSizeF
    from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

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
        if pages is not None:
            pages.append(device.newPage)
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
        yield painter
    finally:
        painter.end()
    if fmt == "png":
        # The page is opaque: RGB without alpha, zlib level 1 (Qt quality 80). A3 300 dpi
        # (benchmarks/exports.py): 0.76 s and 1,067 KB instead of 1.80 s and 1,042 KB.
        device = device.convertToFormat(QImage.Format_RGB888)
        if not device.save(str(tmp), "PNG", PNG_QUALITY):
            raise WriteFailed("Qt could not write the PNG")
    del device


def finish_page_file(path: Path, fmt: str) -> None:
    """After Qt wrote ``path``: SVG clip groups and font fallbacks, PDF ToUnicode repair."""
    if fmt == "svg":
        from planatlas.desktop.svgclip import clip_svg

        clip_svg(path)
        _svg_font_fallbacks(path)
    elif fmt == "pdf":
        from planatlas.desktop.fonts import ensure_fonts

        fix_pdf_tounicode(path, ensure_fonts())


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
