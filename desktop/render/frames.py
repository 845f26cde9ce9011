"""Map frames rendered off the UI thread (QGIS' parallel renderer job and render cache).

A :class:`Frame` is the map drawn into a QImage for a view *larger* than the widget (a
quarter of the widget on every side), so a pan over ground already rendered needs no new
rendering at all — the basemap and labels included — and the frame shows shifted at once.
:class:`FrameWorker` renders frames in a worker thread (QImage painting is thread-safe, QPixmap
is not): the newest request wins, one render at a time, and the bottom run of static layers
(the basemap) is kept as an image per frame view, so a selection change redraws only the
features and labels. The canvas shows the newest frame, scaled and shifted to the current view,
until the one it asked for arrives (``wait`` lets tests and screenshots block for it).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPainter, QTransform

from .labels import draw_labels, place_labels
from .paint import paint_background, paint_layers
from .renderers import RenderContext, renderer_for
from .view import MapView

__all__ = ["Frame", "FrameRequest", "FrameWorker", "frame_transform", "frame_view", "render_frame",
           "MARGIN"]

MARGIN = 0.25              # frame = view + this share of the view's size on every side


def frame_view(view: MapView, margin: float = MARGIN) -> MapView:
    """The larger view a frame is rendered for: same centre and resolution."""
    mx, my = int(round(view.width * margin)), int(round(view.height * margin))
    return MapView(view.cx, view.cy, view.res, view.width + 2 * mx, view.height + 2 * my)


def frame_transform(fv: MapView, v: MapView) -> QTransform:
    """Pixels of a frame rendered for ``fv`` -> pixels of the view ``v`` (whole pixels when
    they are whole pixels apart at one resolution, so the frame is shown as rendered)."""
    s = fv.res / v.res
    tx = (fv.cx - v.cx) / v.res + v.width / 2.0 - fv.width / 2.0 * s
    ty = (v.cy - fv.cy) / v.res + v.height / 2.0 - fv.height / 2.0 * s
    if abs(s - 1.0) < 1e-9 and abs(tx - round(tx)) < 1e-6 and abs(ty - round(ty)) < 1e-6:
        s, tx, ty = 1.0, float(round(tx)), float(round(ty))
    return QTransform(s, 0, 0, s, tx, ty)


@dataclass
class Frame:
    image: QImage
    view: MapView                 # what the image shows (its own pixel size)
    key: tuple                    # content: scene revision, stack revision, dpr
    ms: float = 0.0               # rendering time
    serial: int = 0

    def covers(self, view: MapView, key: tuple) -> bool:
        """True when this frame shows ``view`` as it is now, pixel for pixel."""
        if key != self.key or abs(self.view.res - view.res) > 1e-9 * view.res:
            return False
        fx0, fy0, fx1, fy1 = self.view.extent()
        x0, y0, x1, y1 = view.extent()
        eps = 1e-6 * view.res
        return x0 >= fx0 - eps and y0 >= fy0 - eps and x1 <= fx1 + eps and y1 <= fy1 + eps


@dataclass
class FrameRequest:
    view: MapView                 # the frame view (see frame_view)
    key: tuple
    ctx: RenderContext            # a snapshot: stack copy, selection mask
    dpr: float = 1.0
    label_scale: float = 1.0      # frame area / widget area (labels per screen stay the same)
    base: tuple[Any, QImage] | None = None      # (key, image) of the basemap run, if cached
    serial: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    result: Frame | None = None
    base_out: tuple[Any, QImage] | None = None
    error: BaseException | None = None


def render_frame(req: FrameRequest) -> Frame:
    """Draw the map of ``req`` (in the calling thread): background and basemap run (reused
    from ``req.base`` when its key matches), the other layers, then labels."""
    t0 = time.perf_counter()
    v, dpr, ctx = req.view, req.dpr, req.ctx
    scene = ctx.scene
    layers = ctx.stack.visible_layers()
    n_static = 0
    while n_static < len(layers) and renderer_for(layers[n_static].kind).static:
        n_static += 1
    base_key = (v, dpr, tuple(layers[:n_static]), scene.basemap is not None)
    with scene.lock:
        if req.base is not None and req.base[0] == base_key:
            base = req.base[1]
        else:
            base = QImage(int(round(v.width * dpr)), int(round(v.height * dpr)),
                          QImage.Format_ARGB32_Premultiplied)
            base.setDevicePixelRatio(dpr)
            p = QPainter(base)
            paint_background(p, v)
            paint_layers(p, v, ctx, layers[:n_static])
            p.end()
        frame = base.copy()
        frame.setDevicePixelRatio(dpr)
        p = QPainter(frame)
        paint_layers(p, v, ctx, layers[n_static:])
        placer = place_labels(v, ctx, max_labels=int(350 * req.label_scale))
        draw_labels(p, placer, ctx)
        p.end()
    req.base_out = (base_key, base)
    return Frame(frame, v, req.key, (time.perf_counter() - t0) * 1000, req.serial)


_WARM = False


def warm_enums() -> None:
    """Create, in the UI thread, every Qt enum type the painters use. PySide builds enum types
    lazily on first attribute access, and two threads building them at once (the UI thread in
    a paint event, the worker in a renderer) can crash the process; so the worker only ever
    meets enum types that exist. The names are read from the painter modules' own source."""
    global _WARM
    if _WARM:
        return
    import re
    from pathlib import Path

    from PySide6 import QtCore, QtGui
    here = Path(__file__).resolve().parent
    names = set()
    for path in [*here.glob("*.py"), here.parent / "page.py"]:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        names |= set(re.findall(r"\b(Qt|Q[A-Z][A-Za-z]+)\.([A-Za-z][A-Za-z0-9_]*)\b", text))
    for owner, attr in sorted(names):
        cls = getattr(QtCore, owner, None) or getattr(QtGui, owner, None)
        if isinstance(cls, type) or owner == "Qt":
            try:
                getattr(cls, attr)
            except AttributeError:
                pass
    _WARM = True


class FrameWorker(QObject):
    """Renders :class:`FrameRequest` s in one worker thread; ``frameReady(request)`` is
    delivered in the thread that owns the worker (the UI thread). A request waiting to start
    is replaced by a newer one; the one being rendered runs to its end and is delivered too."""
    frameReady = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        warm_enums()
        self._cond = threading.Condition()
        self.running: FrameRequest | None = None
        self.pending: FrameRequest | None = None
        self._stop = False
        self._thread: threading.Thread | None = None
        self.destroyed.connect(self._on_destroyed)

    @property
    def busy(self) -> bool:
        return self.running is not None or self.pending is not None

    def request(self, req: FrameRequest) -> None:
        with self._cond:
            if self.pending is not None:           # never started: done, without a frame
                self.pending.done.set()
            self.pending = req
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="planatlas-frames",
                                                daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _loop(self) -> None:                                   # worker thread
        while True:
            with self._cond:
                while self.pending is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                req, self.pending = self.pending, None
                self.running = req
            try:
                req.result = render_frame(req)
            except BaseException as exc:  # noqa: BLE001 - reported to the UI thread
                req.error = exc
            with self._cond:
                self.running = None
                req.done.set()
                self._cond.notify_all()
            try:
                if shiboken6.isValid(self):
                    self.frameReady.emit(req)
            except RuntimeError:                 # the canvas went away meanwhile
                return

    def wait(self, timeout: float = 30.0) -> list[FrameRequest]:
        """Block until no render is running or waiting; returns the requests finished while
        waiting (newest last), for the caller to take their frames at once."""
        out: list[FrameRequest] = []
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.running is not None or self.pending is not None:
                req = self.running or self.pending
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
                if req.done.is_set() and req not in out:
                    out.append(req)
        return out

    def shutdown(self) -> None:
        with self._cond:
            self._stop = True
            self.pending = None
            self._cond.notify_all()

    def _on_destroyed(self, *_args) -> None:
        self.shutdown()
