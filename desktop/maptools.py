"""Map tools: what a mouse press, drag, release, double click or key does on the map.

The QgsMapTool pattern: the canvas sends its input to the one active tool and asks it to paint
its overlay (rubber band, measured line, …) on top of the map. A tool returns True from an
event handler when it used the event. New tools register themselves in :data:`TOOLS`; the
canvas builds each tool once, on first use (``canvas.set_tool(name)``).

Built in: ``pan`` (drag pans, click identifies — a list of every feature under the cursor when
several overlap —, Shift-drag selects with a rubber band, right-click opens the map's menu: what is
here, copy coordinates, measure from here, bookmark), ``measure`` (click adds a vertex, double or
right click ends; geodesic length on the WGS-84 ellipsoid) and ``measure_area`` (the same for a
polygon: geodesic area and perimeter).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPainterPath, QPen

from planatlas.desktop.render import HOVER_COLOR, ids_in_rect

__all__ = ["MapTool", "PanTool", "MeasureTool", "AreaTool", "TOOLS", "register_tool",
           "format_distance", "format_area", "geodesic_length", "geodesic_area"]

_GEOD = None          # pyproj.Geod(ellps="WGS84"), made on first use (pyproj is not needed to start)


def _geod():
    global _GEOD
    if _GEOD is None:
        from pyproj import Geod
        _GEOD = Geod(ellps="WGS84")
    return _GEOD


def geodesic_length(lonlats) -> float:
    """Length in metres of a WGS-84 polyline on the ellipsoid."""
    pts = list(lonlats)
    if len(pts) < 2:
        return 0.0
    return float(_geod().line_length([q[0] for q in pts], [q[1] for q in pts]))


def geodesic_area(lonlats) -> tuple[float, float]:
    """(area m², perimeter m) of a WGS-84 polygon (closed implicitly) on the ellipsoid."""
    pts = list(lonlats)
    if len(pts) < 3:
        return 0.0, geodesic_length(pts + pts[:1]) if len(pts) == 2 else 0.0
    area, perimeter = _geod().polygon_area_perimeter([q[0] for q in pts], [q[1] for q in pts])
    return abs(float(area)), float(perimeter)


def format_area(m2: float) -> str:
    if m2 < 10_000:
        return f"{m2:,.0f} m²"
    if m2 < 1_000_000:
        return f"{m2 / 10_000:.2f}".rstrip("0").rstrip(".") + " ha"
    return f"{m2 / 1e6:.3g} km²" if m2 < 1e8 else f"{m2 / 1e6:,.0f} km²"


def format_distance(m: float) -> str:
    if m < 1000:
        return f"{m:.0f} m"
    if m < 100_000:
        return f"{m / 1000:.2f}".rstrip("0").rstrip(".") + " km"
    return f"{m / 1000:.0f} km"


class MapTool:
    """Base tool: ignores everything (handlers return False), paints nothing."""
    name = ""
    cursor = Qt.ArrowCursor

    def __init__(self, canvas):        # a desktop.canvas.MapCanvas
        self.canvas = canvas

    def activate(self) -> None:
        pass

    def deactivate(self) -> None:
        pass

    def press(self, ev: QMouseEvent) -> bool:
        return False

    def move(self, ev: QMouseEvent) -> bool:
        return False

    def release(self, ev: QMouseEvent) -> bool:
        return False

    def double_click(self, ev: QMouseEvent) -> bool:
        return False

    def key(self, ev: QKeyEvent) -> bool:
        return False

    def paint(self, painter: QPainter) -> None:
        pass


TOOLS: dict[str, type[MapTool]] = {}


def register_tool(cls: type[MapTool]) -> type[MapTool]:
    """Class decorator: make a tool available to ``canvas.set_tool(cls.name)``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    TOOLS[cls.name] = cls
    return cls


@register_tool
class PanTool(MapTool):
    """Drag to pan, click to identify, Shift-drag to select with a rubber band."""
    name = "pan"

    def __init__(self, canvas):
        super().__init__(canvas)
        self._press: QPointF | None = None
        self._last = QPointF()
        self._moved = False
        self._band: QRectF | None = None
        self.menu = None           # the last popup (identify list or map menu), for tests

    def press(self, ev):
        if ev.button() == Qt.RightButton:
            from planatlas.desktop.map_menus import map_context_menu
            self.menu = map_context_menu(self.canvas, ev.position(), ev.globalPosition().toPoint())
            return True
        if ev.button() != Qt.LeftButton:
            return False
        self._press = self._last = ev.position()
        self._moved = False
        self._band = QRectF(ev.position(), ev.position()) if ev.modifiers() & Qt.ShiftModifier \
            else None
        return True

    def move(self, ev):
        if self._press is None or not ev.buttons() & Qt.LeftButton:
            return False
        pos = ev.position()
        if (pos - self._press).manhattanLength() > 3:
            self._moved = True
        if self._band is not None:
            self._band = QRectF(self._press, pos).normalized()
            self.canvas.update()
        elif self._moved:
            d = pos - self._last
            self._last = pos
            self.canvas.drag_by(d.x(), d.y())
        return True

    def release(self, ev):
        if ev.button() != Qt.LeftButton or self._press is None:
            return False
        pos, band, moved = ev.position(), self._band, self._moved
        self._press, self._band = None, None
        c = self.canvas
        if band is not None:
            if band.width() > 2 and band.height() > 2:
                c.state.select_features(ids_in_rect(c.view, band, c.state.render_context()))
            c.update()
        elif moved:
            d = pos - self._last
            c.drag_by(d.x(), d.y())
            c.drag_end()
        else:
            self.identify(pos, ev.globalPosition().toPoint())
        return True

    def identify(self, pos: QPointF, global_pos=None) -> list[str]:
        """Select the top feature under ``pos``; when several overlap, list them all in a popup
        to pick another (or select them all)."""
        c = self.canvas
        hits = c.identify(pos.x(), pos.y())
        if len(hits) > 1:
            from planatlas.desktop.map_menus import identify_menu
            self.menu = identify_menu(c, hits, global_pos if global_pos is not None
                                      else c.mapToGlobal(pos.toPoint()))
        return hits

    def key(self, ev):
        if ev.key() == Qt.Key_Escape and self._band is not None:
            self._band = None
            self._press = None
            self.canvas.update()
            return True
        return False

    def paint(self, p):
        if self._band is not None:
            p.setPen(QPen(QColor(HOVER_COLOR), 1.2, Qt.DashLine))
            p.setBrush(QColor(0, 166, 214, 40))
            p.drawRect(self._band)


@register_tool
class MeasureTool(MapTool):
    """Click adds a vertex, double (or right) click ends the line, Esc clears; geodesic length."""
    name = "measure"
    cursor = Qt.CrossCursor
    closed = False

    def __init__(self, canvas):
        super().__init__(canvas)
        self.points: list[tuple[float, float]] = []      # WGS-84 lon/lat vertices
        self.done = False

    def deactivate(self):
        self.clear()

    def clear(self) -> None:
        self.points = []
        self.done = False
        self.canvas.measureChanged.emit(0.0, 0)
        self.canvas.update()

    def add_point(self, lon: float, lat: float) -> float:
        if self.done:
            self.points, self.done = [], False
        self.points.append((float(lon), float(lat)))
        d = self.report()
        self.canvas.update()
        return d

    def report(self) -> float:
        d = geodesic_length(self.points)
        self.canvas.measureChanged.emit(d, max(0, len(self.points) - 1))
        return d

    def finish(self) -> None:
        self.done = True
        self.canvas.update()

    def press(self, ev):
        if ev.button() == Qt.RightButton and self.points and not self.done:
            self.finish()
            return True
        if ev.button() != Qt.LeftButton:
            return False
        self.add_point(*self.canvas.lonlat_at(ev.position()))
        return True

    def move(self, ev):
        if self.points and not self.done:
            self.canvas.update()
        return False           # hover keeps working while measuring

    def release(self, ev):
        return ev.button() == Qt.LeftButton

    def double_click(self, ev):
        self.finish()
        return True

    def key(self, ev):
        if ev.key() == Qt.Key_Escape:
            self.clear()
            return True
        return False

    def label(self, pts) -> str:
        return format_distance(geodesic_length(pts))

    def paint(self, p):
        if not self.points:
            return
        pts = list(self.points)
        cursor = self.canvas._cursor
        if not self.done and cursor is not None:
            pts.append(self.canvas.lonlat_at(cursor))
        qp = self.canvas.screen_points(pts)
        path = QPainterPath()
        path.moveTo(qp[0])
        for q in qp[1:]:
            path.lineTo(q)
        if self.closed and len(qp) > 2:
            path.closeSubpath()
            p.fillPath(path, QColor(228, 87, 46, 45))
        p.setBrush(Qt.NoBrush)
        p.setPen(QPen(QColor(255, 255, 255, 220), 5, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        p.drawPath(path)
        p.setPen(QPen(QColor("#e4572e"), 2.2, Qt.DashLine, Qt.RoundCap, Qt.RoundJoin))
        p.drawPath(path)
        p.setPen(QPen(QColor("#e4572e"), 1.5))
        p.setBrush(QColor("white"))
        for q in qp:
            p.drawEllipse(q, 3.5, 3.5)
        f = QFont(self.canvas.font())
        f.setPixelSize(13)
        f.setBold(True)
        tp = QPainterPath()
        tp.addText(qp[-1] + QPointF(8, -8), f, self.label(pts))
        p.strokePath(tp, QPen(QColor(255, 255, 255, 235), 3.5))
        p.fillPath(tp, QColor("#b5361a"))


class AreaSignals(QObject):
    changed = Signal(float, float, int)       # area m², perimeter m, vertices


@register_tool
class AreaTool(MeasureTool):
    """Click adds a vertex of a polygon, double (or right) click closes it, Esc clears; geodesic
    area and perimeter on the WGS-84 ellipsoid (pyproj.Geod.polygon_area_perimeter)."""
    name = "measure_area"
    closed = True

    def __init__(self, canvas):
        self.signals = AreaSignals()
        super().__init__(canvas)

    def clear(self) -> None:
        self.points = []
        self.done = False
        self.signals.changed.emit(0.0, 0.0, 0)
        self.canvas.update()

    def report(self) -> float:
        area, perimeter = geodesic_area(self.points)
        self.signals.changed.emit(area, perimeter, len(self.points))
        return area

    def label(self, pts) -> str:
        area, perimeter = geodesic_area(pts)
        return f"{format_area(area)} · {format_distance(perimeter)}"
