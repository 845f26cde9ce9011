"""Map tools for putting the user's places on the map and moving them later.

* ``place`` (:class:`PlaceTool`): started with a :class:`PlaceRequest` (name, plan, category …)
  and a geometry kind. A point is placed by one click; a line or an area by clicking its
  vertices and double-clicking (or Enter) to finish — Backspace removes the last vertex, Esc
  cancels. Dragging still pans. The rubber band, the vertices, the place's name and — when the
  text puts the place in a county — the county's circle of uncertainty are painted by the tool.
  The default precision is :func:`planatlas.layers.placing.click_precision_m` of the zoom.
* ``move`` (:class:`MoveTool`): every place the user put on the map that is drawn in view gets a
  handle (a white square); dragging it moves the whole place, and the vertices of the current
  (selected) line or area have small handles of their own. Releasing saves the move through the
  store (``on_move``); anything that is not a handle pans, selects and identifies as usual.

Both are registered with :func:`planatlas.desktop.maptools.register_tool`; the canvas is not
changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen

from planatlas.desktop.i18n import tr
from planatlas.desktop.maptools import MapTool, PanTool, register_tool
from planatlas.layers.errors import InputError
from planatlas.layers.placing import click_precision_m, placed_geometry

__all__ = ["PlaceRequest", "PlaceTool", "MoveTool", "HANDLE_PX", "vertex_lists", "with_vertex",
           "region_marks"]

HANDLE_PX = 7.0                 # half size of a move handle; also its grab radius
INK = QColor("#c2185b")
HALO = QColor(255, 255, 255, 230)


@dataclass
class PlaceRequest:
    """What the place tool is placing and what to do with the result."""
    name: str
    plan: str
    category: str
    kind: str = "point"                                   # point | line | polygon
    precision_m: float | None = None                      # None: from the zoom
    aliases: list[str] = field(default_factory=list)
    guide: tuple[float, float, float] | None = None       # lon, lat, radius_m of "somewhere here"
    on_done: Callable[["PlaceRequest", object, float], object] | None = None


def _text(p: QPainter, at: QPointF, text: str, font: QFont, color: QColor = INK) -> None:
    path = QPainterPath()
    path.addText(at, font, text)
    p.strokePath(path, QPen(HALO, 3.5))
    p.fillPath(path, color)


def banner(p: QPainter, canvas, text: str, *, error: bool = False) -> None:
    """A one-line note across the top of the map (what the tool expects, or what went wrong)."""
    font = QFont(canvas.font())
    font.setPixelSize(12)
    p.setFont(font)
    fm = p.fontMetrics()
    text = fm.elidedText(text, Qt.ElideRight, max(50, canvas.width() - 40))
    rect = QRectF(8, 8, fm.horizontalAdvance(text) + 16, fm.height() + 10)
    p.setPen(Qt.NoPen)
    p.setBrush(QColor(255, 255, 255, 225))
    p.drawRoundedRect(rect, 4, 4)
    p.setPen(QColor("#b3261e") if error else QColor("#333333"))
    p.drawText(rect, Qt.AlignCenter, text)


_MARKS: dict[tuple, list] = {}


def region_marks(region) -> list[tuple[str, float, float]]:
    """(name, lon, lat) of the county-level units of a plan's region (the region itself if it
    is a county): reference marks while placing, where the basemap may have no boundaries."""
    from planatlas.layers import admin
    from planatlas.layers.locate import region_unit

    key = (region.province, region.city, region.district, region.adcode)
    if key not in _MARKS:
        unit = region_unit(*key)
        if unit is None:
            marks = []
        elif unit.level == "county":
            marks = [(unit.name, unit.lon, unit.lat)]
        else:
            marks = [(u.name, u.lon, u.lat) for u in admin.units()
                     if u.level == "county" and admin.within(u, unit)]
        _MARKS[key] = marks
    return _MARKS[key]


def paint_region_marks(p: QPainter, canvas, plan_id: str) -> None:
    """A grey cross and name at each county of the plan's region."""
    plan = canvas.state.atlas.plans.get(plan_id)
    if plan is None:
        return
    marks = region_marks(plan.region)
    if not marks:
        return
    font = QFont(canvas.font())
    font.setPixelSize(11)
    grey = QColor("#6b6b6b")
    for (name, _lon, _lat), q in zip(marks, canvas.screen_points([(m[1], m[2]) for m in marks])):
        if not (-50 <= q.x() <= canvas.width() + 50 and -50 <= q.y() <= canvas.height() + 50):
            continue
        p.setPen(QPen(grey, 1.2))
        p.drawLine(q + QPointF(-4, 0), q + QPointF(4, 0))
        p.drawLine(q + QPointF(0, -4), q + QPointF(0, 4))
        _text(p, q + QPointF(6, -4), name, font, grey)


@register_tool
class PlaceTool(MapTool):
    name = "place"
    cursor = Qt.CrossCursor

    def __init__(self, canvas):
        super().__init__(canvas)
        self.request: PlaceRequest | None = None
        self.vertices: list[tuple[float, float]] = []
        self.message = ""
        self._press: QPointF | None = None
        self._last = QPointF()
        self._moved = False

    def start(self, request: PlaceRequest) -> None:
        self.request = request
        self.vertices = []
        self.message = ""
        self.canvas.update()

    def deactivate(self) -> None:
        self.request = None
        self.vertices = []
        self.canvas.update()

    def precision(self) -> float:
        r = self.request
        if r is not None and r.precision_m is not None:
            return float(r.precision_m)
        return click_precision_m(self.canvas.view.ground_resolution())

    # ------------------------------------------------------------------ input
    def press(self, ev):
        if ev.button() != Qt.LeftButton:
            return False
        self._press = self._last = ev.position()
        self._moved = False
        return True

    def move(self, ev):
        if self._press is not None and ev.buttons() & Qt.LeftButton:
            pos = ev.position()
            if (pos - self._press).manhattanLength() > 3:
                self._moved = True
            if self._moved:
                d = pos - self._last
                self._last = pos
                self.canvas.drag_by(d.x(), d.y())
            return True
        if self.vertices:
            self.canvas.update()
        return False

    def release(self, ev):
        if ev.button() != Qt.LeftButton or self._press is None:
            return False
        pos, moved = ev.position(), self._moved
        self._press = None
        if moved:
            d = pos - self._last
            self.canvas.drag_by(d.x(), d.y())
            self.canvas.drag_end()
            return True
        self.add_vertex(*self.canvas.lonlat_at(pos))
        return True

    def double_click(self, ev):
        if self.request is not None and self.request.kind != "point":
            self.finish()
        return True

    def key(self, ev):
        k = ev.key()
        if k == Qt.Key_Escape:
            self.cancel()
            return True
        if k == Qt.Key_Backspace and self.vertices:
            self.vertices.pop()
            self.canvas.update()
            return True
        if k in (Qt.Key_Return, Qt.Key_Enter) and self.vertices:
            self.finish()
            return True
        return False

    # ------------------------------------------------------------------ work
    def add_vertex(self, lon: float, lat: float):
        """A click at (lon, lat): places a point at once, else adds a vertex."""
        if self.request is None:
            return None
        self.vertices.append((float(lon), float(lat)))
        self.canvas.update()
        if self.request.kind == "point":
            return self.finish()
        return None

    def finish(self):
        """Build the geometry and hand it to the request's ``on_done``; returns its result."""
        req = self.request
        if req is None:
            return None
        try:
            geom = placed_geometry(req.kind, self.vertices)
        except InputError as exc:
            self.message = str(exc)
            self.canvas.update()
            return None
        precision = self.precision()
        self.request, self.vertices, self.message = None, [], ""
        self.canvas.update()
        return req.on_done(req, geom, precision) if req.on_done is not None else geom

    def cancel(self) -> None:
        self.request, self.vertices, self.message = None, [], ""
        self.canvas.set_tool("pan")

    # ------------------------------------------------------------------ drawing
    def paint(self, p: QPainter) -> None:
        req = self.request
        if req is None:
            return
        c = self.canvas
        paint_region_marks(p, c, req.plan)
        font = QFont(c.font())
        font.setPixelSize(13)
        font.setBold(True)
        if req.guide is not None:                 # the county the text puts the place in
            lon, lat, radius = req.guide
            centre = c.screen_points([(lon, lat)])[0]
            r_px = radius / max(c.view.ground_resolution(), 1e-6)
            p.setPen(QPen(INK, 1.2, Qt.DashLine))
            p.setBrush(QColor(194, 24, 91, 25))
            p.drawEllipse(centre, r_px, r_px)
        pts = list(self.vertices)
        cursor = c._cursor
        if cursor is not None and req.kind != "point":
            pts.append(c.lonlat_at(cursor))
        qp = c.screen_points(pts)
        if len(qp) >= 2:
            path = QPainterPath()
            path.moveTo(qp[0])
            for q in qp[1:]:
                path.lineTo(q)
            if req.kind == "polygon" and len(qp) >= 3:
                path.closeSubpath()
                p.setBrush(QColor(194, 24, 91, 40))
            else:
                p.setBrush(Qt.NoBrush)
            p.setPen(QPen(HALO, 5, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
            p.drawPath(path)
            p.setPen(QPen(INK, 2, Qt.DashLine, Qt.RoundCap, Qt.RoundJoin))
            p.drawPath(path)
        p.setPen(QPen(INK, 1.5))
        p.setBrush(QColor("white"))
        for q in c.screen_points(self.vertices):
            p.drawEllipse(q, 4, 4)
        anchor = qp[-1] if qp else (cursor if cursor is not None else None)
        if anchor is not None:
            _text(p, anchor + QPointF(10, -10), req.name, font)
        banner(p, c, f"{req.name} · " + (self.message or tr(f"place.hint_{req.kind}", m=f"{self.precision():g}")),
               error=bool(self.message))


def vertex_lists(geom) -> list[tuple[float, float]]:
    """Editable vertices of a placed line or area (an area's ring without its closing vertex)."""
    if geom.geom_type == "LineString":
        return [tuple(map(float, xy)) for xy in geom.coords]
    if geom.geom_type == "Polygon" and not geom.interiors:
        return [tuple(map(float, xy)) for xy in geom.exterior.coords][:-1]
    return []


def with_vertex(geom, index: int, lonlat: tuple[float, float]):
    """``geom`` with vertex ``index`` moved to ``lonlat`` (InputError if that breaks it)."""
    pts = vertex_lists(geom)
    pts[index] = (float(lonlat[0]), float(lonlat[1]))
    return placed_geometry("line" if geom.geom_type == "LineString" else "polygon", pts)


@register_tool
class MoveTool(MapTool):
    name = "move"
    cursor = Qt.OpenHandCursor

    def __init__(self, canvas):
        super().__init__(canvas)
        self.pan = PanTool(canvas)               # what is not a handle pans, selects, identifies
        self.on_move: Callable[[str, object], object] | None = None
        self.drag: dict | None = None            # feature, vertex (None: whole), start, geometry
        self.message = ""
        self._in_view: tuple | None = None

    def deactivate(self) -> None:
        self.drag = None
        self.message = ""
        self.canvas.update()

    def placed_in_view(self) -> list[str]:
        """The user's own places drawn in the current view (cached per view and revision)."""
        c = self.canvas
        key = (c.view, c.state.scene.revision, c.state.stack.revision, id(c.state.scene))
        if self._in_view is None or self._in_view[0] != key:
            feats = c.state.atlas.features
            ids = [fid for fid in c.state.ids_in_view(c.view)
                   if getattr(feats.get(fid), "origin", "") == "user"]
            self._in_view = (key, ids)
        return self._in_view[1]

    def handles(self) -> list[tuple[str, int | None, QPointF]]:
        """(feature id, vertex index or None for the whole place, screen position)."""
        c = self.canvas
        feats = c.state.atlas.features
        out = []
        current = c.state.current_feature
        for fid in self.placed_in_view():
            g = feats[fid].geometry
            anchor = g if g.geom_type == "Point" else g.representative_point()
            out.append((fid, None, c.screen_points([(anchor.x, anchor.y)])[0]))
            if fid == current:
                for i, q in enumerate(c.screen_points(vertex_lists(g))):
                    out.append((fid, i, q))
        return out

    def handle_at(self, pos: QPointF) -> tuple[str, int | None] | None:
        best, best_d = None, HANDLE_PX + 2
        for fid, idx, q in self.handles():
            d = max(abs(q.x() - pos.x()), abs(q.y() - pos.y()))
            if d <= best_d and (best is None or idx is not None or d < best_d):
                best, best_d = (fid, idx), d
        return best

    def press(self, ev):
        if ev.button() != Qt.LeftButton:
            return False
        hit = self.handle_at(ev.position())
        if hit is None:
            return self.pan.press(ev)
        fid, idx = hit
        g = self.canvas.state.atlas.features[fid].geometry
        self.drag = {"feature": fid, "vertex": idx, "start": self.canvas.lonlat_at(ev.position()),
                     "original": g, "geometry": g}
        self.message = ""
        self.canvas.setCursor(Qt.ClosedHandCursor)
        return True

    def _dragged(self, pos: QPointF, d: dict | None = None):
        from shapely import affinity

        d = d if d is not None else self.drag
        lon, lat = self.canvas.lonlat_at(pos)
        if d["vertex"] is None:
            return affinity.translate(d["original"], xoff=lon - d["start"][0], yoff=lat - d["start"][1])
        return with_vertex(d["original"], d["vertex"], (lon, lat))

    def move(self, ev):
        if self.drag is None:
            return self.pan.move(ev)
        try:
            self.drag["geometry"] = self._dragged(ev.position())
            self.message = ""
        except InputError as exc:
            self.message = str(exc)
        self.canvas.update()
        return True

    def release(self, ev):
        if self.drag is None:
            return self.pan.release(ev)
        d, self.drag = self.drag, None
        self.canvas.setCursor(self.cursor)
        self.canvas.update()
        if ev.button() != Qt.LeftButton or self.message:
            return True
        try:
            geom = self._dragged(ev.position(), d)
        except InputError as exc:
            self.message = str(exc)
            return True
        if geom.equals(d["original"]):
            return True
        if self.on_move is not None:
            self.on_move(d["feature"], geom)
        return True

    def key(self, ev):
        if ev.key() == Qt.Key_Escape and self.drag is not None:
            self.drag = None
            self.canvas.setCursor(self.cursor)
            self.canvas.update()
            return True
        return self.pan.key(ev)

    def paint(self, p: QPainter) -> None:
        self.pan.paint(p)
        c = self.canvas
        feats = c.state.atlas.features
        for pid in dict.fromkeys(feats[f].plans[0] for f in self.placed_in_view() if feats[f].plans):
            paint_region_marks(p, c, pid)            # the regions of the places shown
        d = self.drag
        if d is not None:
            g = d["geometry"]
            p.setPen(QPen(INK, 2, Qt.DashLine))
            p.setBrush(QColor(194, 24, 91, 40))
            if g.geom_type == "Point":
                q = c.screen_points([(g.x, g.y)])[0]
                p.drawEllipse(q, 6, 6)
            else:
                ring = list(g.exterior.coords) if g.geom_type == "Polygon" else list(g.coords)
                path = QPainterPath()
                qs = c.screen_points(ring)
                path.moveTo(qs[0])
                for q in qs[1:]:
                    path.lineTo(q)
                if g.geom_type != "Polygon":
                    p.setBrush(Qt.NoBrush)
                p.drawPath(path)
        handles = self.handles()
        for fid, idx, q in handles:
            s = HANDLE_PX if idx is None else HANDLE_PX * 0.6
            p.setPen(QPen(QColor("#222222"), 1.4))
            p.setBrush(QColor(255, 255, 255, 150) if idx is None else QColor("#ffe082"))
            p.drawRect(QRectF(q.x() - s, q.y() - s, 2 * s, 2 * s))
        if self.message:
            banner(p, c, self.message, error=True)
        elif handles and d is None:
            banner(p, c, tr("move.hint"))
