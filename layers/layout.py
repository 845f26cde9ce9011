"""Print layouts: a page and the items on it, positioned in page millimetres (Qt-free model).

    layout = default_layout("A3", "landscape", dpi=300)
    layout.item("legend").move(300, 40).resize(100, 120)
    save_template(layout, "my-a3.layout.json")          # durable write
    layout = load_template("my-a3.layout.json")           # InputError says what and where

Like a QGIS print layout, a :class:`Layout` is a list of :class:`LayoutItem` — the map, title,
subtitle, legend, scale bar, north arrow, attribution (sources, plans, date), an overview map,
an enlarged inset of the densest area and the numbered key of sites whose names did not fit —
each with a rectangle ``x, y, w, h`` in millimetres from the page's top-left corner, a
visibility and kind-specific ``props``. ``desktop.layout_render`` draws it, the layout window
edits it, ``planatlas export map --template`` and ``planatlas export atlas`` apply it.

Items whose ``props["place"]`` is ``"auto"`` (the inset and the overview by default) are put
in the corner of the map frame that covers the fewest sites when the page is drawn; moving one
in the layout window fixes it where it was put.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from planatlas.layers.errors import InputError
from planatlas.layers.fsutil import durable_write_text

__all__ = ["Layout", "LayoutItem", "LayoutError", "items_of", "ITEM_KINDS", "PAPERS_MM", "MM_PER_INCH", "CALLOUTS",
           "paper_mm", "default_layout", "save_template", "load_template", "LAYOUT_VERSION"]

LAYOUT_VERSION = 1
FORMAT = "planatlas-layout"
MM_PER_INCH = 25.4
# landscape width × height in millimetres (ISO 216)
PAPERS_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0), "A2": (594.0, 420.0)}
ITEM_KINDS = ("map", "title", "subtitle", "legend", "scalebar", "north", "attribution",
              "overview", "inset", "key")
# what to do with sites whose names do not fit: an enlarged inset of the densest area plus
# numbers keyed beside the map (auto), only numbers, only the inset, or nothing
CALLOUTS = ("auto", "key", "inset", "none")
MIN_MM = 3.0


class LayoutError(InputError):
    """A layout or template that cannot be used (names the item and the problem)."""


@dataclass
class LayoutItem:
    """One thing on the page; ``x, y, w, h`` in millimetres from the top-left corner."""
    id: str
    kind: str
    x: float
    y: float
    w: float
    h: float
    visible: bool = True
    props: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in ITEM_KINDS:
            raise LayoutError(f"layout item {self.id!r}: unknown kind {self.kind!r} "
                              f"(known: {', '.join(ITEM_KINDS)})")
        for name in ("x", "y", "w", "h"):
            try:
                v = float(getattr(self, name))
            except (TypeError, ValueError):
                v = float("nan")
            if not math.isfinite(v):
                raise LayoutError(f"layout item {self.id!r}: {name} must be a number of "
                                  f"millimetres, got {getattr(self, name)!r}")
            setattr(self, name, v)
        if self.w < MIN_MM or self.h < MIN_MM:
            raise LayoutError(f"layout item {self.id!r} is {self.w:g}×{self.h:g} mm; items "
                              f"need at least {MIN_MM:g} mm each way")
        self.visible = bool(self.visible)
        self.props = dict(self.props or {})

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.w, self.h)

    def move(self, x: float, y: float) -> "LayoutItem":
        self.x, self.y = float(x), float(y)
        if self.props.get("place") == "auto":
            self.props["place"] = "fixed"
        return self

    def resize(self, w: float, h: float) -> "LayoutItem":
        self.w, self.h = max(MIN_MM, float(w)), max(MIN_MM, float(h))
        if self.props.get("place") == "auto":
            self.props["place"] = "fixed"
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "x": round(self.x, 2), "y": round(self.y, 2),
                "w": round(self.w, 2), "h": round(self.h, 2), "visible": self.visible,
                "props": dict(self.props)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "LayoutItem":
        if not isinstance(d, Mapping):
            raise LayoutError(f"a layout item must be an object, got {d!r:.80}")
        missing = [k for k in ("kind", "x", "y", "w", "h") if k not in d]
        if missing:
            raise LayoutError(f"layout item {d.get('id', '?')!r} lacks {', '.join(missing)}")
        props = d.get("props") or {}
        if not isinstance(props, Mapping):
            raise LayoutError(f"layout item {d.get('id')!r}: props must be an object")
        return cls(str(d.get("id") or d["kind"]), str(d["kind"]), d["x"], d["y"], d["w"], d["h"],
                   d.get("visible", True), dict(props))


def paper_mm(paper: str, orientation: str | None = "landscape", dpi: float | None = None
             ) -> tuple[str, float, float, float]:
    """``(paper, width_mm, height_mm, dpi)`` for A4/A3/A2 (with ``orientation``) or
    ``WIDTHxHEIGHTpx`` (pixel pages: 96 dpi unless given)."""
    key = str(paper).strip().upper()
    if orientation not in (None, "landscape", "portrait"):
        raise LayoutError(f"orientation must be landscape or portrait, got {orientation!r}")
    if key in PAPERS_MM:
        w, h = PAPERS_MM[key]
        if orientation == "portrait":
            w, h = h, w
        return key, w, h, 300.0 if dpi is None else float(dpi)
    m = re.fullmatch(r"(\d{2,5})\s*[x×]\s*(\d{2,5})\s*(?:px)?", str(paper).strip(), re.I)
    if not m:
        raise LayoutError(f"unknown paper {paper!r}; use A4, A3, A2 or WIDTHxHEIGHTpx")
    d = 96.0 if dpi is None else float(dpi)
    wpx, hpx = int(m.group(1)), int(m.group(2))
    return f"{wpx}x{hpx}px", wpx / d * MM_PER_INCH, hpx / d * MM_PER_INCH, d


@dataclass
class Layout:
    """A page (paper, orientation, dpi) and its items, drawn in list order."""
    paper: str = "A4"
    orientation: str = "landscape"
    dpi: float | None = None
    items: list[LayoutItem] = field(default_factory=list)
    callouts: str = "auto"
    name: str = ""

    def __post_init__(self):
        if self.callouts not in CALLOUTS:
            raise LayoutError(f"callouts must be one of {', '.join(CALLOUTS)}, got {self.callouts!r}")
        ids = [it.id for it in self.items]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise LayoutError(f"layout items share ids: {', '.join(dup)}")
        paper_mm(self.paper, self.orientation, self.dpi)        # validates

    @property
    def size_mm(self) -> tuple[float, float]:
        _p, w, h, _d = paper_mm(self.paper, self.orientation, self.dpi)
        return w, h

    def item(self, item_id: str) -> LayoutItem:
        for it in self.items:
            if it.id == item_id:
                return it
        raise LayoutError(f"the layout has no item {item_id!r} "
                          f"(it has: {', '.join(i.id for i in self.items)})")

    def get(self, item_id: str) -> LayoutItem | None:
        return next((it for it in self.items if it.id == item_id), None)

    def of_kind(self, kind: str) -> list[LayoutItem]:
        return [it for it in self.items if it.kind == kind]

    @property
    def map_item(self) -> LayoutItem:
        maps = self.of_kind("map")
        if not maps:
            raise LayoutError("a layout needs a map item")
        return maps[0]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": LAYOUT_VERSION, "name": self.name,
                "paper": self.paper, "orientation": self.orientation, "dpi": self.dpi,
                "callouts": self.callouts, "items": [it.to_dict() for it in self.items]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, where: str = "layout") -> "Layout":
        if not isinstance(d, Mapping) or d.get("format") != FORMAT:
            raise LayoutError(f"{where}: not a PlanAtlas layout (needs \"format\": \"{FORMAT}\")")
        if d.get("version") != LAYOUT_VERSION:
            raise LayoutError(f"{where}: layout version {d.get('version')!r} is not supported "
                              f"(this PlanAtlas reads version {LAYOUT_VERSION})")
        items = d.get("items")
        if not isinstance(items, list):
            raise LayoutError(f"{where}: \"items\" must be a list")
        out = []
        for k, rec in enumerate(items):
            try:
                out.append(LayoutItem.from_dict(rec))
            except LayoutError as exc:
                raise LayoutError(f"{where}: items[{k}]: {exc}") from None
        try:
            lay = cls(str(d.get("paper", "A4")), str(d.get("orientation", "landscape")),
                      d.get("dpi"), out, str(d.get("callouts", "auto")), str(d.get("name", "")))
        except LayoutError as exc:
            raise LayoutError(f"{where}: {exc}") from None
        lay.map_item
        return lay

    def copy(self) -> "Layout":
        return Layout.from_dict(json.loads(json.dumps(self.to_dict())))

    def resized_to(self, paper: str, orientation: str | None = None) -> "Layout":
        """The same layout on another paper: every item scaled with the page."""
        w0, h0 = self.size_mm
        lay = self.copy()
        lay.paper, lay.orientation = paper, orientation or self.orientation
        w1, h1 = lay.size_mm
        sx, sy = w1 / w0, h1 / h0
        for it in lay.items:
            it.x, it.y, it.w, it.h = it.x * sx, it.y * sy, it.w * sx, it.h * sy
            if "pt" in it.props:                  # text grows with the page
                it.props["pt"] = round(float(it.props["pt"]) * math.sqrt(sx * sy), 2)
        return lay


def default_layout(paper: str = "A4", orientation: str | None = "landscape",
                   dpi: float | None = None, *, subtitle: bool = True,
                   callouts: str = "auto") -> Layout:
    """PlanAtlas' standard page: title and subtitle on top, the map, a side panel (landscape)
    or bottom panel (portrait) with north arrow, scale bar, legend, the numbered key and the
    sources; an overview map and the auto inset inside the map frame."""
    paper, W, H, dpi = paper_mm(paper, orientation, dpi)
    k = max(0.5, min(W, H) / 210.0)
    m = 0.035 * min(W, H)
    title_h = 20 * k * MM_PER_INCH / 72 * 1.35
    sub_h = 11 * k * MM_PER_INCH / 72 * 1.4 if subtitle else 0.0
    body = 8.5 * k * MM_PER_INCH / 72
    gap = 0.75 * body
    items = [LayoutItem("title", "title", m, m, W - 2 * m, title_h, props={"pt": 20 * k}),
             LayoutItem("subtitle", "subtitle", m, m + title_h, W - 2 * m, max(sub_h, MIN_MM),
                        visible=subtitle, props={"pt": 11 * k})]
    top = m + title_h + sub_h + gap
    bottom, left, right = H - m, m, W - m
    ns_h = body * 5.2
    if W >= H:
        panel_w = 0.235 * (right - left)
        map_r = (left, top, right - left - panel_w - gap, bottom - top)
        px0 = map_r[0] + map_r[2] + gap
        pw = right - px0
        north = (px0, top, ns_h * 0.55, ns_h)
        scale = (north[0] + north[2] + gap, top + body * 0.6, right - north[0] - north[2] - gap, ns_h)
        attr_h = (bottom - top) * 0.22
        attr = (px0, bottom - attr_h, pw, attr_h)
        below = top + ns_h + gap * 2
        room = attr[1] - gap - below
        legend = (px0, below, pw, room * 0.5)
        key = (px0, below + room * 0.5 + gap, pw, room * 0.5 - gap)
    else:
        panel_h = 0.27 * (bottom - top)
        map_r = (left, top, right - left, bottom - top - panel_h - gap)
        py0 = map_r[1] + map_r[3] + gap
        split = left + (right - left) * 0.36
        split2 = left + (right - left) * 0.68
        legend = (left, py0, split - left - gap, bottom - py0)
        key = (split, py0, split2 - split - gap, bottom - py0)
        north = (split2, py0, ns_h * 0.55, ns_h)
        scale = (north[0] + north[2] + gap, py0 + body * 0.6, right - north[0] - north[2] - gap, ns_h)
        attr = (split2, py0 + ns_h + gap, right - split2, bottom - (py0 + ns_h + gap))
    mw, mh = map_r[2], map_r[3]
    ov_w = min(mw, mh) * 0.30
    ins_w = min(mw * 0.40, mh * 0.52)
    items += [
        LayoutItem("map", "map", *map_r),
        LayoutItem("overview", "overview", map_r[0] + 2, map_r[1] + mh - ov_w * 0.8 - 2, ov_w,
                   ov_w * 0.8, props={"place": "auto"}),
        LayoutItem("inset", "inset", map_r[0] + mw - ins_w - 2, map_r[1] + 2, ins_w, ins_w,
                   props={"place": "auto"}),
        LayoutItem("north", "north", *north),
        LayoutItem("scalebar", "scalebar", *scale, props={"pt": 8.5 * k}),
        LayoutItem("legend", "legend", *legend, props={"pt": 8.5 * k}),
        LayoutItem("key", "key", *key, props={"pt": 7.5 * k}),
        LayoutItem("attribution", "attribution", *attr, props={"pt": 6.8 * k}),
    ]
    return Layout(paper, orientation or "landscape", dpi, items, callouts,
                  f"PlanAtlas {paper} {orientation or 'landscape'}")


def save_template(layout: Layout, path) -> Path:
    """Write ``layout`` as a JSON template (durably: complete or not at all)."""
    text = json.dumps(layout.to_dict(), ensure_ascii=False, indent=1) + "\n"
    return durable_write_text(path, text)


def load_template(path) -> Layout:
    """Read a JSON layout template; :class:`LayoutError` names the file and the problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LayoutError(f"layout template {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(f"cannot read layout template {p}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LayoutError(f"{p}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    lay = Layout.from_dict(data, where=str(p))
    lay.name = lay.name or p.stem
    return lay


def items_of(layout: Layout, kinds: Iterable[str]) -> list[LayoutItem]:
    wanted = set(kinds)
    return [it for it in layout.items if it.kind in wanted and it.visible]
