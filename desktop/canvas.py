"""The map canvas: a QWidget painting the state's layer stack with desktop.render.

Mouse and keyboard input on the map goes to the active map tool (``desktop/maptools.py``, the
QgsMapTool pattern): pan/select/identify, measure, and whatever later tools register; the canvas
itself keeps navigation (wheel, arrow keys, animation), hover and rendering.

Speed — the canvas never blocks: the map is rendered in a worker thread
(:mod:`planatlas.desktop.render.frames`) into a frame larger than the widget; the newest frame
is shown shifted and scaled to the current view until the one asked for arrives, and a pan
over ground already rendered shows the kept frame at once (basemap and labels are not redone).
While panning / wheel-zooming / animating only a transform changes (fast mode, ~1 ms); when the
interaction pauses the view is committed. ``wait_for_frame()`` blocks until the frame of the
current view is shown (tests, screenshots); ``grab()`` waits for it.
"""
from __future__ import annotations

import math
import time

from PySide6.QtCore import (
    QEasingCurve, QPointF, QSize, Qt, QTimer, QVariantAnimation, Signal,
)
from PySide6.QtGui import (
    QColor, QFont, QImage, QKeyEvent, QMouseEvent, QPainter, QPainterPath, QPen, QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from planatlas.desktop.maptools import TOOLS, MapTool, format_distance
from planatlas.desktop.render import HOVER_COLOR, PAPER, MapView, hit_test, lonlat_to_merc
from planatlas.desktop.render.frames import (
    Frame, FrameRequest, FrameWorker, frame_transform, frame_view, render_frame,
)
from planatlas.desktop.state import AtlasState
from planatlas.desktop.tooltips import feature_tooltip

__all__ = ["MapCanvas", "format_distance"]


class MapCanvas(QWidget):
    cursorMoved = Signal(float, float)          # lon, lat (WGS-84)
    measureChanged = Signal(float, int)         # metres, segments
    firstPainted = Signal()
    viewCommitted = Signal(object)              # MapView after a (re)render
    identified = Signal(list)                   # every feature id under a click, topmost first

    REFINE_MS = 160

    def __init__(self, state: AtlasState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.scene = state.scene
        self.stack = state.stack
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setAttribute(Qt.WA_OpaquePaintEvent, True)
        self.setMinimumSize(200, 150)
        bbox = self._all_bbox()
        self.view: MapView = MapView.fit(bbox, (max(self.width(), 1), max(self.height(), 1)))
        self._frame: Frame | None = None      # the newest frame (shown, shifted/scaled)
        self._frames: list[Frame] = []        # a few recent frames, reused when they fit
        self._base = None                     # (key, image) of the last basemap run
        self._serial = 0
        self._asked: tuple | None = None      # (frame view, content key) being rendered
        self._reqs: list[FrameRequest] = []   # sent to the worker, frame not yet taken
        self.worker = FrameWorker(self)
        self.worker.frameReady.connect(self._frame_ready)
        self._pending = QTransform()          # current view pixels -> screen pixels (fast mode)
        self._refine = QTimer(self)
        self._refine.setSingleShot(True)
        self._refine.timeout.connect(self.commit)
        self._anim = QVariantAnimation(self)
        self._anim.setDuration(180)
        self._anim.setEasingCurve(QEasingCurve.OutCubic)
        self._anim.setStartValue(0.0)
        self._anim.setEndValue(1.0)
        self._anim.valueChanged.connect(self._anim_step)
        self._anim.finished.connect(self.commit)
        self._anim_base = QTransform()
        self._anim_kind: tuple | None = None
        self._cursor: QPointF | None = None
        self.tools: dict[str, MapTool] = {}
        self.active_tool: MapTool = self._tool("pan")
        self._painted = False
        self.stats = {"full_ms": [], "fast_ms": []}
        self._last_tooltip = ""
        state.layersChanged.connect(self.update)
        state.selectionChanged.connect(lambda _ids: self.update())
        state.hoverChanged.connect(lambda _f: self.update())
        state.frameRequested.connect(self.frame_bbox)

    # ----------------------------------------------------------------- view
    def _all_bbox(self):
        s = self.scene
        if len(s.ids):
            b = s.lonlat_bounds
            return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()),
                    float(b[:, 3].max()))
        bm = s.basemap
        box = bm.total_bounds() if hasattr(bm, "total_bounds") else None
        if box is not None:
            return box
        return (73.0, 18.0, 135.0, 54.0)

    def sizeHint(self) -> QSize:
        return QSize(900, 650)

    def set_view(self, view: MapView) -> None:
        """Show ``view`` (resized to the widget) and re-render."""
        self._anim.stop()
        self._pending = QTransform()
        self.view = view.resized(max(self.width(), 1), max(self.height(), 1))
        self.state.set_view(self.view)
        self.viewCommitted.emit(self.view)
        self.update()

    def frame_bbox(self, bbox) -> None:
        """Frame a lon/lat bbox; a single point is shown at a street-level zoom."""
        v = MapView.fit(bbox, (max(self.width(), 1), max(self.height(), 1)), margin=0.12,
                        min_res=2.4)
        self.set_view(v)

    def zoom_full(self) -> None:
        self.frame_bbox(self._all_bbox())

    def zoom_by(self, factor: float, anchor: QPointF | None = None, *, animate: bool = True) -> None:
        a = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        if animate:
            self._start_anim(("zoom", factor, a.x(), a.y()))
        else:
            self._pending = self._pending * _zoom_t(factor, a.x(), a.y())
            self.commit()

    def pan_by(self, dx: float, dy: float, *, animate: bool = True) -> None:
        if animate:
            self._start_anim(("pan", dx, dy))
        else:
            self._pending = self._pending * QTransform.fromTranslate(dx, dy)
            self.commit()

    def drag_by(self, dx: float, dy: float) -> None:
        """Move the shown frame by (dx, dy) pixels now; re-render when the dragging pauses."""
        if dx or dy:
            self._pending = self._pending * QTransform.fromTranslate(dx, dy)
            self._refine.start(self.REFINE_MS * 2)
            self.update()

    def drag_end(self) -> None:
        self._refine.stop()
        self.commit()

    def _start_anim(self, kind: tuple) -> None:
        if self._anim.state() == QVariantAnimation.Running:
            self._anim.stop()
            self._anim_step(1.0)
        self._anim_base = QTransform(self._pending)
        self._anim_kind = kind
        self._anim.start()

    def _anim_step(self, p) -> None:
        if self._anim_kind is None:
            return
        p = float(p)
        k = self._anim_kind
        if k[0] == "pan":
            t = QTransform.fromTranslate(k[1] * p, k[2] * p)
        else:
            t = _zoom_t(k[1] ** p, k[2], k[3])
        self._pending = self._anim_base * t
        self.update()

    def commit(self) -> None:
        """Turn the pending fast-mode transform into a real view and re-render."""
        if self._anim.state() == QVariantAnimation.Running:
            return
        t = self._pending
        self._anim_kind = None
        if t.isIdentity():
            return
        inv, ok = t.inverted()
        if not ok or t.m11() <= 0:
            self._pending = QTransform()
            self.update()
            return
        if abs(t.m11() - 1.0) < 1e-12 and abs(t.m22() - 1.0) < 1e-12:
            # a pan: whole pixels, so the frame already rendered stays pixel-exact
            self.set_view(self.view.panned(round(t.dx()), round(t.dy())))
            return
        c = inv.map(QPointF(self.view.width / 2.0, self.view.height / 2.0))
        cx, cy = self.view.to_map(c.x(), c.y())
        res = min(max(self.view.res / t.m11(), MapView.MIN_RES), MapView.MAX_RES)
        self.set_view(MapView(float(cx), float(cy), res, self.view.width, self.view.height))

    # ----------------------------------------------------------------- rendering
    def _dpr(self) -> float:
        return max(1.0, float(self.devicePixelRatioF()))

    def _key(self) -> tuple:
        """What the map shows, apart from the view."""
        return (id(self.scene), self.scene.revision, self.stack.revision, self._dpr())

    def _request(self, *, sync: bool = False) -> FrameRequest:
        fv = frame_view(self.view)
        self._serial += 1
        req = FrameRequest(fv, self._key(), self.state.render_context().snapshot(), self._dpr(),
                           (fv.width * fv.height) / float(self.view.width * self.view.height),
                           self._base, self._serial)
        if sync:
            req.result = render_frame(req)
            req.done.set()
            self._take(req)
        else:
            self._asked = (fv, req.key)
            self._reqs.append(req)
            self.worker.request(req)
        return req

    def _frame_ready(self, req: FrameRequest) -> None:
        self._take(req)
        self.update()

    def _take(self, req: FrameRequest) -> None:
        if req in self._reqs:
            self._reqs.remove(req)
        if req.error is not None:
            if self._asked is not None and self._asked[0] == req.view:
                self._asked = None
            raise req.error
        f = req.result
        if f is None or any(g.serial == f.serial for g in self._frames):
            return
        self.stats["full_ms"].append(f.ms)
        if req.base_out is not None:
            self._base = req.base_out
        self._frames = [g for g in self._frames if g.key == f.key][-3:] + [f]
        if self._frame is None or f.serial > self._frame.serial:
            self._frame = f
        if self._asked is not None and self._asked[0] == f.view and self._asked[1] == f.key:
            self._asked = None

    def _good_frame(self) -> Frame | None:
        """A kept frame that shows the current view as it is now (newest first)."""
        key = self._key()
        for f in reversed(self._frames):
            if f.covers(self.view, key):
                return f
        return None

    def _ensure_frame(self) -> Frame | None:
        """The frame to show for the current view; asks the worker for a new one if none
        fits (the newest frame is shown meanwhile)."""
        good = self._good_frame()
        if good is not None:
            self._frame = good
            return good
        asked = self._asked
        if asked is None or asked[1] != self._key() or \
                not Frame(QImage(), asked[0], asked[1]).covers(self.view, self._key()):
            self._request()
        return None

    def render_frame(self) -> QImage:
        """Render the frame of the current view now, in this thread; returns its image."""
        self._request(sync=True)
        return self._frame.image

    def wait_for_frame(self, timeout: float = 60.0) -> bool:
        """Block until the frame of the current view is rendered and installed (tests,
        screenshots); True if it is."""
        deadline = time.monotonic() + timeout
        while self._good_frame() is None and time.monotonic() < deadline:
            for req in [r for r in self._reqs if r.done.is_set()]:
                self._take(req)
            if self._good_frame() is not None:
                break
            if not self._reqs:
                self._asked = None
                self._ensure_frame()
            if self._reqs:
                self._reqs[-1].done.wait(max(0.0, deadline - time.monotonic()))
        ok = self._good_frame() is not None
        if ok:
            self._frame = self._good_frame()
            self.update()
        return ok

    def grab(self, *args):
        """The widget as shown once the frame of the current view is in (see wait_for_frame)."""
        self.wait_for_frame()
        return super().grab(*args)

    def invalidate(self) -> None:
        """Forget every kept frame (the data under the scene changed)."""
        self._frames = []
        self._base = None
        self._asked = None
        self.update()

    def paintEvent(self, _ev) -> None:
        t0 = time.perf_counter()
        p = QPainter(self)
        good = None if self.moving else self._ensure_frame()
        f = good or self._frame
        exact = good is not None
        if f is None:
            p.fillRect(self.rect(), PAPER)
        else:
            t = frame_transform(f.view, self.view) * self._pending
            if not exact:
                p.fillRect(self.rect(), PAPER)
            # a preview: nearest-neighbour scaling keeps a paint of a large frame within a
            # few milliseconds (smooth scaling of 4 million pixels takes tens of them)
            p.setRenderHint(QPainter.SmoothPixmapTransform, False)
            p.setTransform(t)
            p.drawImage(QPointF(0, 0), f.image)
            p.resetTransform()
            if exact:
                self._paint_hover(p)
        self._paint_overlays(p)
        p.end()
        dt = (time.perf_counter() - t0) * 1000
        if not exact:
            self.stats["fast_ms"].append(dt)
        if not self._painted and exact:
            self._painted = True
            self.firstPainted.emit()
            QTimer.singleShot(400, self._warm_up)

    def _warm_up(self) -> None:
        """The first tooltip of a process costs ~0.3 s (PySide builds enum types): pay it now."""
        QToolTip.showText(self.mapToGlobal(self.rect().center()), "<b>·</b><br>·", self)
        QToolTip.hideText()

    def _paint_hover(self, p: QPainter) -> None:
        """A ring round the feature under the mouse, and its precision halo if its position
        is approximate (drawn here, not in the frame: hovering never re-renders)."""
        fid = self.state.hover
        layer = self.state.feature_layer(fid) if fid else None
        if layer is None:
            return
        x, y = self.scene.screen_position(self.view, fid)
        p.setRenderHint(QPainter.Antialiasing, True)
        i = self.scene.index[fid]
        size = float(layer.style.get("size", 10.0))
        r_halo = self.scene.precision[i] * self.scene.merc_k[i] / self.view.res
        if self.scene.approx[i] and r_halo > size * 0.6 and not self.scene.sel_mask[i]:
            c = QColor(HOVER_COLOR)
            c.setAlpha(120)
            p.setPen(QPen(c, 1.2, Qt.DotLine))
            c.setAlpha(30)
            p.setBrush(c)
            p.drawEllipse(QPointF(x, y), r_halo, r_halo)
        pen = QPen(QColor(HOVER_COLOR), 2.5)
        p.setPen(pen)
        p.setBrush(Qt.NoBrush)
        r = size * 0.5 + 5
        p.drawEllipse(QPointF(x, y), r, r)

    def hit_test(self, px: float, py: float) -> list[str]:
        """Every feature under the pixel, the topmost layer's first."""
        return hit_test(self.view, px, py, self.state.render_context())

    def _paint_overlays(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.Antialiasing, True)
        p.save()
        self.active_tool.paint(p)
        p.restore()
        self._paint_scalebar(p)

    # ----------------------------------------------------------------- coordinates
    @property
    def moving(self) -> bool:
        """True while a pan/zoom is shown as a transformed frame (not yet re-rendered)."""
        return not self._pending.isIdentity()

    def lonlat_at(self, pos: QPointF) -> tuple[float, float]:
        """WGS-84 lon/lat under a widget pixel (also while the frame is transformed)."""
        if self.moving:
            inv, _ok = self._pending.inverted()
            pos = inv.map(pos)
        lon, lat = self.view.to_lonlat(pos.x(), pos.y())
        return float(lon), float(lat)

    def screen_points(self, lonlats) -> list[QPointF]:
        """Widget pixels of WGS-84 lon/lat points, following an unfinished pan/zoom."""
        pts = list(lonlats)
        if not pts:
            return []
        xs, ys = lonlat_to_merc([q[0] for q in pts], [q[1] for q in pts])
        sx, sy = self.view.to_screen(xs, ys)
        out = [QPointF(float(a), float(b)) for a, b in zip(sx, sy)]
        return [self._pending.map(q) for q in out] if self.moving else out

    def _paint_scalebar(self, p: QPainter) -> None:
        if not self._pending.isIdentity():
            return
        gr = self.view.ground_resolution()
        target = gr * 110
        mag = 10 ** math.floor(math.log10(max(target, 1e-6)))
        nice = max(m * mag for m in (1, 2, 5) if m * mag <= target) if target >= mag else mag
        w = nice / gr
        x0, y0 = 14, self.height() - 18
        p.setRenderHint(QPainter.Antialiasing, True)
        p.setPen(QPen(QColor(255, 255, 255, 230), 5, Qt.SolidLine, Qt.FlatCap))
        p.drawLine(QPointF(x0, y0), QPointF(x0 + w, y0))
        p.setPen(QPen(QColor("#333333"), 2, Qt.SolidLine, Qt.FlatCap))
        p.drawLine(QPointF(x0, y0), QPointF(x0 + w, y0))
        p.drawLine(QPointF(x0, y0 - 5), QPointF(x0, y0))
        p.drawLine(QPointF(x0 + w, y0 - 5), QPointF(x0 + w, y0))
        f = QFont(self.font())
        f.setPixelSize(11)
        tp = QPainterPath()
        tp.addText(QPointF(x0 + 2, y0 - 6), f, format_distance(nice))
        p.strokePath(tp, QPen(QColor(255, 255, 255, 230), 3))
        p.fillPath(tp, QColor("#333333"))

    # ----------------------------------------------------------------- tools
    def _tool(self, name: str) -> MapTool:
        if name not in self.tools:
            if name not in TOOLS:
                raise ValueError(f"unknown map tool {name!r}; known: {', '.join(TOOLS)}")
            self.tools[name] = TOOLS[name](self)
        return self.tools[name]

    @property
    def tool(self) -> str:
        return self.active_tool.name

    def set_tool(self, name: str) -> MapTool:
        """Make the tool ``name`` (a key of ``maptools.TOOLS``) receive the map's input."""
        new = self._tool(name)
        if new is not self.active_tool:
            self.active_tool.deactivate()
            self.active_tool = new
            new.activate()
        self.setCursor(new.cursor)
        self.update()
        return new

    # measuring (kept on the canvas for scripts and tests; the work is the measure tool's)
    @staticmethod
    def measured_distance(pts) -> float:
        from planatlas.desktop.maptools import geodesic_length
        return geodesic_length(pts)

    def clear_measure(self) -> None:
        self._tool("measure").clear()

    def add_measure_point(self, lon: float, lat: float) -> float:
        return self._tool("measure").add_point(lon, lat)

    # ----------------------------------------------------------------- events
    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        w, h = max(self.width(), 1), max(self.height(), 1)
        if self.view.size != (w, h):
            self.view = self.view.resized(w, h)
            self.state.set_view(self.view)

    def wheelEvent(self, ev: QWheelEvent) -> None:
        steps = ev.angleDelta().y() / 120.0
        if steps == 0:
            steps = ev.pixelDelta().y() / 50.0
        if steps == 0:
            return
        self._pending = self._pending * _zoom_t(1.25 ** steps, ev.position().x(), ev.position().y())
        self.update()
        self._refine.start(self.REFINE_MS)
        ev.accept()

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        self.setFocus(Qt.MouseFocusReason)
        self.active_tool.press(ev)

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        pos = ev.position()
        self._cursor = pos
        self.cursorMoved.emit(*self.lonlat_at(pos))
        if self.active_tool.move(ev):
            return
        if not self.moving:
            hits = self.hit_test(pos.x(), pos.y())
            fid = hits[0] if hits else ""
            self.state.set_hover(fid)
            self._tooltip(ev, hits)

    def _tooltip(self, ev: QMouseEvent, hits: list[str]) -> None:
        fid = hits[0] if hits else ""
        if not fid:
            if self._last_tooltip:
                QToolTip.hideText()
                self._last_tooltip = ""
            return
        key = f"{fid}+{len(hits)}"
        if key == self._last_tooltip:
            return
        html = feature_tooltip(self.state.atlas, self.scene, hits)
        if html is not None:
            QToolTip.showText(ev.globalPosition().toPoint(), html, self)
            self._last_tooltip = key

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        self.active_tool.release(ev)

    def mouseDoubleClickEvent(self, ev: QMouseEvent) -> None:
        if not self.active_tool.double_click(ev) and ev.button() == Qt.LeftButton:
            self.zoom_by(2.0, ev.position())

    def identify(self, px: float, py: float) -> list[str]:
        """Click: select the top feature under the pixel (or clear the selection)."""
        hits = self.hit_test(px, py)
        plan_hits = [h for h in hits if h in self.scene.index]
        if plan_hits:
            self.state.select_features([plan_hits[0]], current=plan_hits[0])
        else:
            self.state.clear_selection()
        self.identified.emit(hits)
        return hits

    def keyPressEvent(self, ev: QKeyEvent) -> None:
        k = ev.key()
        if k == Qt.Key_Escape and self.active_tool.key(ev):
            return
        step_x, step_y = self.width() / 4.0, self.height() / 4.0
        if k == Qt.Key_Left:
            self.pan_by(step_x, 0)
        elif k == Qt.Key_Right:
            self.pan_by(-step_x, 0)
        elif k == Qt.Key_Up:
            self.pan_by(0, step_y)
        elif k == Qt.Key_Down:
            self.pan_by(0, -step_y)
        elif k in (Qt.Key_Plus, Qt.Key_Equal):
            self.zoom_by(2.0)
        elif k in (Qt.Key_Minus, Qt.Key_Underscore):
            self.zoom_by(0.5)
        elif not self.active_tool.key(ev):
            super().keyPressEvent(ev)

    def leaveEvent(self, _ev) -> None:
        self.state.set_hover("")
        self._cursor = None


def _zoom_t(factor: float, ax: float, ay: float) -> QTransform:
    return QTransform(factor, 0, 0, factor, ax - factor * ax, ay - factor * ay)
