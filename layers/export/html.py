"""Interactive HTML export: one self-contained, offline folium/Leaflet page.

``export_html(atlas, plans, out)`` draws PlanAtlas's own basemap (district boundaries and
water, no tile server) and the sites of the chosen plans, one toggleable layer per
plan × category, with a legend, a scale bar and popups that cite the clauses naming each site
(plan, clause number, heading, a snippet with the mention highlighted) and their targets.

The page opens with no network: Leaflet and jQuery (needed by folium's popups) are inlined
from ``layers/export/assets/`` and folium's CDN defaults are dropped, so the file contains no
``http(s)://`` resource reference. All text from plans and the gazetteer is HTML-escaped and
made inert inside folium's JavaScript template literals.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import re
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely

from planatlas.layers.layer import CATEGORY_SHAPES
from planatlas.layers.model import CATEGORY_COLORS, CATEGORY_LABELS

from .data import ExportError, selection
from .records import Site, atomic_path, format_target, representative_point

__all__ = ["export_html", "build_map", "h", "external_references", "basemap_attribution"]

ASSETS = Path(__file__).with_name("assets")
_LEAFLET_PREFIX_LINK = '<a href="https://leafletjs.com" title="A JavaScript library for interactive maps">'


def h(value: Any) -> str:
    """Escape text for HTML that folium embeds in a JavaScript template literal.

    ``html.escape`` handles ``<>&"'``; backquote, ``$`` and backslash become character
    references too, so the text can neither end the template literal nor start a
    ``${…}`` substitution. The page shows the original characters.
    """
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


# Resource references a browser would fetch or follow — only where they are markup: an
# attribute inside a real tag (``<img src=//…>``, also inside the HTML strings folium puts in its
# scripts), or a CSS ``url()``/``@import`` inside a <style> element or a style attribute. Text
# from the plans is escaped (``&lt;img src=//…``) and is not markup, so it cannot trip the check.
_TAG_RESOURCE_RE = re.compile(
    r"""<[A-Za-z][\w:-]*(?:\s[^<>]*?)?\s(?:src|href|srcset|poster|data|action|xlink:href)\s*=\s*"""
    r"""["']?\s*(?:https?:)?//""", re.IGNORECASE)
_STYLE_BLOCK_RE = re.compile(r"<style\b[^<>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
_STYLE_ATTR_RE = re.compile(r"""<[A-Za-z][^<>]*?\sstyle\s*=\s*("[^"]*"|'[^']*')""", re.IGNORECASE)
_CSS_URL_RE = re.compile(r"""url\(\s*["']?\s*(?:https?:)?//|@import\s+["']?(?:https?:)?//""",
                         re.IGNORECASE)


def external_references(page: str) -> list[str]:
    """Snippets of ``page`` that reference a network resource (empty list = offline-safe)."""
    spans = [m.span() for m in _TAG_RESOURCE_RE.finditer(page)]
    for rx, group in ((_STYLE_BLOCK_RE, 1), (_STYLE_ATTR_RE, 1)):
        for block in rx.finditer(page):
            base = block.start(group)
            spans += [(base + m.start(), base + m.end())
                      for m in _CSS_URL_RE.finditer(block.group(group))]
    return [page[max(0, a - 40):b + 40] for a, b in sorted(spans)]


@lru_cache(maxsize=1)
def _inline_assets() -> tuple[str, str]:
    """(inline CSS, inline JS) from the vendored assets, sanitised for offline use."""
    css = (ASSETS / "leaflet" / "leaflet.css").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)

    def data_uri(m: re.Match) -> str:
        name = m.group(1)
        img = ASSETS / "leaflet" / "images" / name
        if not img.is_file():   # marker icons are never used (circle markers only)
            return "url(data:,)"
        return "url(data:image/png;base64," + base64.b64encode(img.read_bytes()).decode() + ")"

    css = re.sub(r"url\(\s*['\"]?images/([\w.-]+)['\"]?\s*\)", data_uri, css)
    leaflet = (ASSETS / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    if _LEAFLET_PREFIX_LINK not in leaflet:
        raise RuntimeError("vendored leaflet.js changed: update _LEAFLET_PREFIX_LINK in html.py")
    leaflet = leaflet.replace(_LEAFLET_PREFIX_LINK, '<a title="A JavaScript library for interactive maps">')
    # the licence banner keeps its text; only the URL loses its scheme
    leaflet = leaflet.replace("https://leafletjs.com", "leafletjs.com")
    jquery = (ASSETS / "jquery" / "jquery.slim.min.js").read_text(encoding="utf-8")
    js = "\n".join(re.sub(r"^//# sourceMappingURL=.*$", "", src, flags=re.M) for src in (jquery, leaflet))
    if "</script" in js.lower() or "</style" in css.lower():
        raise RuntimeError("vendored asset contains a closing tag and cannot be inlined")
    return css, js


_PAGE_CSS = """
.leaflet-container { background: #f3f1ec; font-family: "Noto Sans CJK SC", "Source Han Sans SC",
  "PingFang SC", "Microsoft YaHei", sans-serif; }
.pa-popup { font-size: 13px; line-height: 1.45; max-width: 420px; }
.pa-popup h4 { margin: 0 0 4px 0; font-size: 15px; }
.pa-popup .pa-meta { color: #555; margin-bottom: 6px; }
.pa-popup .pa-sec { font-weight: bold; margin-top: 6px; }
.pa-popup ul { margin: 2px 0 0 0; padding-left: 18px; }
.pa-popup li { margin-bottom: 4px; }
.pa-popup .pa-cite { font-family: monospace; color: #333; background: #f1f1f1; padding: 0 3px; }
.pa-popup .pa-snip { color: #333; }
.pa-popup mark { background: #ffe27a; padding: 0 1px; }
.pa-box { position: absolute; z-index: 1000; background: rgba(255,255,255,0.93);
  border-radius: 5px; box-shadow: 0 1px 5px rgba(0,0,0,0.35); padding: 8px 10px;
  font: 12px/1.4 "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
.pa-title { top: 10px; left: 60px; max-width: 55%; }
.pa-title .t { font-size: 16px; font-weight: bold; }
.pa-legend { bottom: 64px; left: 10px; max-width: 320px; }
.pa-legend .row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.pa-legend .sw { width: 14px; height: 14px; border-radius: 50%; border: 1px solid #fff;
  box-shadow: 0 0 0 1px rgba(0,0,0,0.25); flex: none; }
.pa-legend .sw.poly { border-radius: 2px; }
.pa-legend .src { color: #666; margin-top: 6px; font-size: 11px; }
.leaflet-control-layers-overlays .pa-dot { font-size: 14px; }
.pa-mark { background: none; border: none; }
.pa-label { background: rgba(255,255,255,0.85); border: none; box-shadow: none; padding: 0 3px;
  font-size: 12px; color: #333; }
.pa-label::before { display: none; }
.pa-far .pa-label { display: none; }
"""


def basemap_attribution(basemap) -> str:
    """Short credit line for the basemap, from its manifest (package, data, licence)."""
    sources = (getattr(basemap, "manifest", None) or {}).get("sources") or []
    parts = []
    for src in sources:
        if not isinstance(src, dict):
            continue
        name = src.get("package") or src.get("name")
        if not name:
            continue
        lic = src.get("licence") or src.get("license")
        parts.append(f"{name}" + (f" ({lic.split(' ')[0]})" if lic else ""))
    return "PlanAtlas 内置底图" + (f"：{'; '.join(parts)}" if parts else "（行政区划、水系）")


def _plan_short(plan) -> str:
    r = plan.region
    return r.district or r.city or plan.id


def _popup_html(site: Site, atlas) -> str:
    f = site.feature
    cats = " · ".join(CATEGORY_LABELS.get(c, (c, c))[0] for c in f.categories)
    meta = [cats]
    if f.subtype:
        meta.append(f.subtype)
    if f.district:
        meta.append(f.district)
    meta.append(f"精度约 {f.precision_m:g} m")
    meta.append("已核实" if f.status == "verified" else "位置为近似")
    if f.schematic:
        meta.append("示意位置")
    parts = [f'<div class="pa-popup"><h4>{h(f.name)}</h4>',
             f'<div class="pa-meta">{h(" · ".join(meta))}</div>']
    if f.aliases:
        parts.append(f'<div class="pa-meta">又称 {h("、".join(f.aliases))}</div>')
    if site.citations:
        parts.append('<div class="pa-sec">条款 Clauses</div><ul>')
        for c in site.citations:
            plan = atlas.plans.get(c.plan) if hasattr(atlas.plans, "get") else None
            plan_name = _plan_short(plan) if plan is not None else c.plan
            parts.append(
                f'<li><span class="pa-cite">{h(c.label)}</span> {h(plan_name)} {h(c.number)} '
                f'<b>{h(c.heading)}</b><br><span class="pa-snip">{h(c.before)}<mark>{h(c.surface)}</mark>'
                f'{h(c.after)}</span></li>')
        parts.append("</ul>")
    if site.targets:
        parts.append('<div class="pa-sec">目标 Targets</div><ul>')
        for t in site.targets:
            parts.append(f'<li>{h(format_target(t))} <span class="pa-cite">{h(t.plan)} L{t.line}</span></li>')
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


def _bounds(sites: list[Site]) -> tuple[float, float, float, float]:
    geoms = [s.feature.geometry for s in sites]
    minx, miny, maxx, maxy = shapely.GeometryCollection(geoms).bounds
    dx = max(maxx - minx, 0.01) * 0.08
    dy = max(maxy - miny, 0.01) * 0.08
    return minx - dx, miny - dy, maxx + dx, maxy + dy


def _basemap_layer(gdf, bounds, style: dict[str, Any], name_field: str | None):
    """Clip and simplify one basemap GeoDataFrame to the map area; None if nothing is left."""
    import folium

    if gdf is None or len(gdf) == 0:
        return None
    feats = _basemap_features(gdf, bounds, name_field)
    if feats is None:
        return None
    tooltip = None
    if name_field and any("label" in f["properties"] for f in feats):
        tooltip = folium.GeoJsonTooltip(fields=["label"], labels=False, sticky=True)
    feats = [{"type": "Feature", "properties": dict(f["properties"]), "geometry": f["geometry"]}
             for f in feats]                   # folium may add to a feature's properties
    return folium.GeoJson({"type": "FeatureCollection", "features": feats},
                          style_function=lambda _f, s=dict(style): s, tooltip=tooltip,
                          smooth_factor=1.0)


_BASEMAP_FEATURES: dict[tuple, tuple[Any, list | None]] = {}


def _basemap_features(gdf, bounds, name_field: str | None) -> list[dict] | None:
    """The GeoJSON features of ``gdf`` clipped and simplified to the map area, made once per
    (frame, area): the basemap does not change while the app runs (the frame is kept in the
    cache beside its result, so its id cannot be reused)."""
    key = (id(gdf), len(gdf), tuple(round(float(v), 9) for v in bounds), name_field)
    hit = _BASEMAP_FEATURES.get(key)
    if hit is not None and hit[0] is gdf:
        return hit[1]
    feats = _clip_basemap(gdf, bounds, name_field)
    if len(_BASEMAP_FEATURES) > 16:
        _BASEMAP_FEATURES.clear()
    _BASEMAP_FEATURES[key] = (gdf, feats)
    return feats


def _clip_basemap(gdf, bounds, name_field: str | None) -> list[dict] | None:
    minx, miny, maxx, maxy = bounds
    span = max(maxx - minx, maxy - miny)
    box = shapely.box(minx - 3 * span, miny - 3 * span, maxx + 3 * span, maxy + 3 * span)
    g = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    g = g[g.geometry.notna() & g.intersects(box)]
    if len(g) == 0:
        return None
    g = g.copy()
    g["geometry"] = g.geometry.intersection(box).simplify(span / 3000.0, preserve_topology=True)
    g = g[~g.geometry.is_empty]
    feats = []
    for _, row in g.iterrows():
        props = {}
        if name_field and name_field in g.columns and row[name_field] is not None:
            props["label"] = h(row[name_field])
        feats.append({"type": "Feature", "properties": props,
                      "geometry": shapely.geometry.mapping(row.geometry)})
    return feats


_SHAPE_SVG = {   # the map's category shapes, 14×14 px (layers.layer.CATEGORY_SHAPES)
    "circle": '<circle cx="7" cy="7" r="5.6"/>',
    "diamond": '<polygon points="7,0.8 13.2,7 7,13.2 0.8,7"/>',
    "square": '<rect x="1.6" y="1.6" width="10.8" height="10.8"/>',
    "triangle": '<polygon points="7,1 13.4,12.6 0.6,12.6"/>',
}


def _shape_svg(shape: str, color: str, size: int, *, schematic: bool = False) -> str:
    """The category's shape as inline SVG (no image files, no network)."""
    dash = ' stroke-dasharray="2 1.5"' if schematic else ""
    fill = "#ffffff" if schematic else color
    stroke = color if schematic else "#ffffff"
    svg = (f'<svg width="{size}" height="{size}" viewBox="0 0 14 14">'
           f'<g fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}>'
           f'{_SHAPE_SVG.get(shape, _SHAPE_SVG["circle"])}</g></svg>')
    return svg


def _marker_icon(shape: str, color: str, *, schematic: bool, small: bool):
    import folium

    size = 12 if small else 16
    svg = _shape_svg(shape, color, size, schematic=schematic)
    return folium.DivIcon(html=svg, icon_size=(size, size), icon_anchor=(size // 2, size // 2),
                          class_name="pa-mark")


def _site_layers(site: Site, color: str, shape: str = "circle"):
    """Folium objects drawing one site: real geometry plus a marker in the category's shape,
    and a name label (permanent; shown from zoom 11 on, see _LABEL_JS)."""
    import folium

    geom = site.feature.geometry
    out = []
    if geom.geom_type != "Point":
        out.append(folium.GeoJson(
            shapely.geometry.mapping(geom),
            style_function=lambda _f, c=color, d=("6 4" if site.feature.schematic else None): {
                "color": c, "weight": 3, "opacity": 0.95, "fillColor": c, "fillOpacity": 0.22,
                "dashArray": d}))
    pt = representative_point(geom)
    marker = folium.Marker(location=[pt.y, pt.x],
                           icon=_marker_icon(shape, color, schematic=bool(site.feature.schematic),
                                             small=geom.geom_type != "Point"))
    folium.Tooltip(h(site.feature.name), permanent=True, direction="right", offset=(8, 0),
                   class_name="pa-label").add_to(marker)
    out.append(marker)
    return out


# labels only where they are readable: hidden below zoom 11 (the whole-plan view)
def _labels_script():
    from branca.element import MacroElement
    from jinja2 import Template

    el = MacroElement()
    el._template = Template("{% macro script(this, kwargs) %}" + _LABEL_JS + "{% endmacro %}")
    return el


_LABEL_JS = """
(function () {
  var map = {{ this._parent.get_name() }};
  function update() { map.getContainer().classList.toggle("pa-far", map.getZoom() < 11); }
  map.on("zoomend", update); update();
  if (map.attributionControl) { map.attributionControl.setPrefix("Leaflet"); }
})();
"""


def _stack_filter(stack):
    """From a layer stack (the window's): the shown (plan, category) pairs with their colours,
    and the basemap layers shown. ``None`` shows everything in the default colours."""
    if stack is None:
        return None, {"districts", "water", "plan_areas"}
    pairs = {(la.source["plan"], la.source["category"]): la.style.get("color")
             for la in stack.find(kind="plan_category") if la.visible}
    base = {la.kind for la in stack if la.visible and la.kind in ("districts", "water", "plan_areas")}
    return pairs, base


def build_map(atlas, plans=None, categories=None, *, title: str | None = None, stack=None,
              extent=None):
    """The folium Map (not yet rendered) and the selected sites. ``stack``: show only its
    visible plan layers (in their colours) and basemap layers; ``extent``: open on this lon/lat
    box (e.g. the window's view) instead of the sites' bounds."""
    import folium

    plan_ids, cats, sites = selection(atlas, plans, categories)
    pairs, shown_base = _stack_filter(stack)
    if pairs is not None:
        sites = [s for s in sites if any((p, c) in pairs for p in s.plans for c in s.categories)]
        if not sites:
            raise ExportError("nothing to export: every layer of these plans is hidden")
    bounds = _bounds(sites) if extent is None else tuple(float(v) for v in extent)
    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=11, tiles=None,
                   control_scale=True, prefer_canvas=False)
    # No CDN: drop folium's default <script src>/<link href>, inline the vendored assets.
    m.default_js = []
    m.default_css = []
    css, js = _inline_assets()
    root = m.get_root()
    root.header.add_child(folium.Element(f"<style>{css}</style>"), name="pa_leaflet_css")
    root.header.add_child(folium.Element(f"<style>{_PAGE_CSS}</style>"), name="pa_page_css")
    root.header.add_child(folium.Element(f"<script>{js}</script>"), name="pa_js")
    plan_titles = [atlas.plans[p].title for p in plan_ids]
    page_title = title or "PlanAtlas — " + "、".join(plan_titles)
    root.header.add_child(folium.Element(f"<title>{h(page_title)}</title>"), name="pa_title")

    basemap = getattr(atlas, "basemap", None)
    base = folium.FeatureGroup(name="底图 Basemap", control=True, show=True)
    added = False
    for attr, style, field in ((a, st, f) for a, st, f in (
            ("districts", {"color": "#8a8a8a", "weight": 1, "opacity": 0.9, "fillColor": "#ffffff",
                           "fillOpacity": 0.55, "interactive": True}, "name"),
            ("water", {"color": "#8fb8d8", "weight": 0.6, "opacity": 1.0, "fillColor": "#b9d6ee",
                       "fillOpacity": 1.0, "interactive": False}, None)) if a in shown_base):
        layer = _basemap_layer(getattr(basemap, attr, None), bounds, style, field)
        if layer is not None:
            layer.add_to(base)
            added = True
    districts = getattr(basemap, "districts", None)
    if "plan_areas" in shown_base and districts is not None and len(districts) and "plan" in districts.columns:
        areas = districts[districts["plan"].isin(plan_ids)]
        if len(areas):
            outline = areas.dissolve(by="plan")
            layer = _basemap_layer(outline.reset_index()[["geometry"]], bounds,
                                   {"color": "#d8a24a", "weight": 2, "opacity": 0.9, "fill": False,
                                    "dashArray": "6 4", "interactive": False}, None)
            if layer is not None:
                layer.add_to(base)
                added = True
    if added:
        base.add_to(m)

    used_cats: list[str] = []
    used_colors: dict[str, str] = {}
    for pid in plan_ids:
        plan = atlas.plans[pid]
        for cat in cats:
            members = [s for s in sites if pid in s.plans and cat in s.categories]
            if not members or (pairs is not None and (pid, cat) not in pairs):
                continue
            color = (pairs or {}).get((pid, cat)) or CATEGORY_COLORS[cat]
            if cat not in used_cats:
                used_cats.append(cat)
                used_colors[cat] = color
            label = (f'<span class="pa-dot" style="color:{color}">●</span> '
                     f'{h(_plan_short(plan))} · {h(CATEGORY_LABELS[cat][0])} ({len(members)})')
            group = folium.FeatureGroup(name=label, show=True).add_to(m)
            for s in members:
                holder = folium.FeatureGroup(control=False).add_to(group)
                for layer in _site_layers(s, color, CATEGORY_SHAPES.get(cat, "circle")):
                    layer.add_to(holder)
                folium.Popup(_popup_html(s, atlas), max_width=440, lazy=True).add_to(holder)
    folium.LayerControl(collapsed=False).add_to(m)
    _labels_script().add_to(m)          # after the map and its layers exist
    m.fit_bounds([[miny, minx], [maxy, maxx]])

    # Title box and legend (static HTML, everything escaped).
    subtitle = " / ".join(f"{atlas.plans[p].issuer} {atlas.plans[p].issued}" for p in plan_ids)
    root.html.add_child(folium.Element(
        f'<div class="pa-box pa-title"><div class="t">{h(page_title)}</div>'
        f'<div>{h(subtitle)}</div></div>'), name="pa_titlebox")
    rows = []
    for cat in used_cats:
        zh, en = CATEGORY_LABELS[cat]
        rows.append(f'<div class="row">{_shape_svg(CATEGORY_SHAPES.get(cat, "circle"), used_colors[cat], 14)}'
                    f'{h(zh)} <span style="color:#777">{h(en)}</span></div>')
    if added:
        for kind, row in (("districts", '<div class="row"><span class="sw poly" style="background:#fff;'
                                        'box-shadow:0 0 0 1px #8a8a8a"></span>行政区界 Districts</div>'),
                          ("water", '<div class="row"><span class="sw poly" style="background:#b9d6ee">'
                                    '</span>水系 Water</div>'),
                          ("plan_areas", '<div class="row"><span class="sw poly" style="background:#fff;'
                                         'border:2px dashed #d8a24a;box-shadow:none"></span>规划范围 Plan area</div>')):
            if kind in shown_base:
                rows.append(row)
    source = basemap_attribution(basemap)
    today = _dt.date.today().isoformat()
    rows.append(f'<div class="src">{h(source)}<br>规划：{h("；".join(plan_titles))}<br>'
                f'位置为整理所得，精度见各点说明 · PlanAtlas {h(today)}</div>')
    root.html.add_child(folium.Element(
        '<div class="pa-box pa-legend"><b>图例 Legend</b>' + "".join(rows) + "</div>"),
        name="pa_legend")
    return m, sites, plan_ids, cats


class _Literal:
    """Stands in for a jinja2 Template of text with no template syntax: renders to the text as
    jinja would (newlines normalised, one trailing newline dropped), without compiling it."""
    __slots__ = ("text",)

    def __init__(self, text: str):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.text = text[:-1] if text.endswith("\n") else text

    def render(self, *_args, **_kwargs) -> str:
        return self.text


@lru_cache(maxsize=512)
def _compiled(text: str):
    from jinja2 import Template

    return Template(text)


def _template(text: str):
    """branca's ``Template`` during a render: folium wraps every piece it has *rendered* in a
    new ``Element(rendered_text)``, and branca compiles that text as a jinja2 template again
    (1,355 compilations, 60 % of the export). Text without template syntax is kept as is;
    real templates are compiled once per process."""
    if "{{" in text or "{%" in text or "{#" in text:
        return _compiled(text)
    return _Literal(text)


_RENDER_LOCK = threading.Lock()


@contextmanager
def templates_compiled_once():
    """While rendering a folium map: branca's Element compiles through :func:`_template`."""
    import branca.element

    with _RENDER_LOCK:
        original = branca.element.Template
        branca.element.Template = _template
        try:
            yield
        finally:
            branca.element.Template = original


def export_html(atlas, plans, out, *, categories=None, title: str | None = None, stack=None,
                extent=None) -> dict[str, Any]:
    """Write the interactive offline map of ``plans`` to ``out`` (atomic). ``stack`` and
    ``extent``: as :func:`build_map` (the window passes its layer stack and view).

    Returns ``{"path", "plans", "categories", "sites", "bytes"}``. Raises
    :class:`~layers.export.data.ExportError` for unknown plans/categories or an empty
    selection, and :class:`RuntimeError` if the page would reference a network resource.
    """
    with templates_compiled_once():
        m, sites, plan_ids, cats = build_map(atlas, plans, categories, title=title, stack=stack,
                                             extent=extent)
        page = m.get_root().render()
    leaks = external_references(page)
    if leaks:
        raise RuntimeError(f"HTML export would load network resources: {leaks[:3]}")
    data = page.encode("utf-8")
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
    return {"path": str(out), "plans": plan_ids, "categories": cats, "sites": len(sites),
            "bytes": len(data)}

