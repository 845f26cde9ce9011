"""The canvas part of benchmarks/render.py: frame arrival times and an event-loop probe.

``run_canvas(n_points, n_polygons, repeats)`` builds the canvas (1920 × 1080, real basemap,
labels) over clustered points (+ hexagons) read from the benchmark GeoPackage, then

* pans over ground already rendered (the kept frame is shown; no render expected),
* pans to new ground and zooms, timing from the view change to the moment the full-quality
  frame is installed (the worker renders meanwhile; the UI thread keeps spinning),
* posts real input events through the event loop — a drag, hover moves, wheel steps,
  another drag — and times every top-level event the UI thread handles (QApplication.notify,
  paint events and the delivery of frames included): wall time, and the UI thread's own CPU
  time (time.thread_time — what it spends, without the waits for a core on a busy machine).
"""
from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

import bench_data

W, H = 1920, 1080


class _Atlas:
    """What AtlasState needs of an atlas for a map of columns (no curated features)."""
    def __init__(self, basemap):
        self.features, self.plans, self.basemap = {}, {}, basemap


class ProbeApp(QApplication):
    """QApplication that times every top-level event it delivers while ``active``."""
    active = False
    depth = 0
    durations: list[float] = []         # wall time per top-level event, ms
    cpu: list[float] = []               # the UI thread's own CPU time per event, ms
    kinds: list[tuple] = []

    def notify(self, receiver, event):
        cls = ProbeApp
        if not cls.active or cls.depth:
            cls.depth += 1
            try:
                return super().notify(receiver, event)
            finally:
                cls.depth -= 1
        cls.depth += 1
        t = time.perf_counter()
        c = time.thread_time()
        try:
            return super().notify(receiver, event)
        finally:
            dt = (time.perf_counter() - t) * 1000
            cls.durations.append(dt)
            cls.cpu.append((time.thread_time() - c) * 1000)
            cls.kinds.append((dt, event.type().name, type(receiver).__name__))
            cls.depth -= 1


def _scene(n_points: int, n_polygons: int):
    from planatlas.desktop.render import MapScene
    from planatlas.layers.basemap import load_basemap
    from planatlas.layers.columns import FeatureColumns
    path = bench_data.gpkg(n_points, n_polygons)
    parts = [FeatureColumns.read(path, "points", categorical=["category", "status"])]
    if n_polygons:
        parts.append(FeatureColumns.read(path, "polygons", categorical=["category", "status"]))
    cols = FeatureColumns.concat(parts)
    return MapScene.from_columns(cols, plan="guangzhou", basemap=load_basemap())


def _spin_until(app, cond, timeout=120.0) -> float:
    t = time.perf_counter()
    while not cond():
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() - t > timeout:
            raise TimeoutError("the frame did not arrive")
    return time.perf_counter() - t


def _mouse(kind, pos, button, buttons):
    p = QPointF(*pos)
    return QMouseEvent(kind, p, p, button, buttons, Qt.NoModifier)


def run_canvas(n_points: int, n_polygons: int, repeats: int) -> dict:
    from planatlas.desktop.canvas import MapCanvas
    from planatlas.desktop.render import MapView
    from planatlas.desktop.state import AtlasState
    app = QApplication.instance()
    if not isinstance(app, ProbeApp):
        raise RuntimeError("run_canvas needs the application to be a canvas_probe.ProbeApp")
    scene = _scene(n_points, n_polygons)
    state = AtlasState(_Atlas(scene.basemap), scene=scene)
    canvas = MapCanvas(state)
    canvas.resize(W, H)
    canvas.show()
    app.processEvents()
    # a city-district zoom (~12 m per pixel) near the south-west of the data, so that pans
    # to new ground (0.6 of the view, a zig-zag eastwards) and zooms stay over the points
    full = MapView.fit(bench_data.BBOX, (W, H))
    res = full.res / 8
    from planatlas.layers.mercator import lonlat_to_merc
    mx, my = lonlat_to_merc([bench_data.BBOX[0], bench_data.BBOX[2]],
                            [bench_data.BBOX[1], bench_data.BBOX[3]])
    start = MapView(float(mx[0]) + W * res * 0.7, float(my[0] + my[1]) / 2, res, W, H)
    canvas.set_view(start)
    _spin_until(app, lambda: canvas._good_frame() is not None)
    out = {"frame": [], "pan_arrival": [], "zoom_arrival": [], "reuse_paint_ms": []}
    # pans over rendered ground: the kept frame fits, nothing is rendered
    renders = len(canvas.stats["full_ms"])
    for k in range(repeats):
        canvas.pan_by(60 if k % 2 else -60, 30, animate=False)
        t = time.perf_counter()
        canvas.repaint()
        out["reuse_paint_ms"].append((time.perf_counter() - t) * 1000)
    out["reuse_renders"] = len(canvas.stats["full_ms"]) - renders
    # pans to new ground (a zig-zag eastwards), then zooms, each to a resolution not seen yet
    moves = [(-0.6 * W, 0), (0, 0.6 * H), (-0.6 * W, 0), (0, -0.6 * H), (-0.6 * W, 0),
             (0, 0.6 * H), (0.6 * W, 0)]
    for k in range(repeats):
        dx, dy = moves[k % len(moves)]
        canvas.pan_by(dx, dy, animate=False)
        app.processEvents()
        out["pan_arrival"].append(_spin_until(app, lambda: canvas._good_frame() is not None))
        out["frame"].append(canvas.stats["full_ms"][-1] / 1000)
    factors = [2.0, 0.55, 1.7, 0.62, 1.45, 0.7, 1.3]
    for k in range(repeats):
        canvas.zoom_by(factors[k % len(factors)], QPointF(W * (0.3 + 0.1 * k % 0.5), H * 0.5),
                       animate=False)
        app.processEvents()
        out["zoom_arrival"].append(_spin_until(app, lambda: canvas._good_frame() is not None))
    # event-loop probe: input posted through the event loop, every event timed
    script = []
    cx, cy = W / 2, H / 2
    script.append((0, _mouse(QEvent.MouseButtonPress, (cx, cy), Qt.LeftButton, Qt.LeftButton)))
    for i in range(1, 41):
        script.append((16 * i, _mouse(QEvent.MouseMove, (cx - 14 * i, cy - 5 * i), Qt.NoButton,
                                      Qt.LeftButton)))
    script.append((16 * 41, _mouse(QEvent.MouseButtonRelease, (cx - 560, cy - 200), Qt.LeftButton,
                                   Qt.NoButton)))
    t0 = 16 * 42
    for i in range(30):                       # hover: hit tests through the spatial index
        script.append((t0 + 16 * i, _mouse(QEvent.MouseMove, (300 + 37 * i, 200 + 21 * i),
                                           Qt.NoButton, Qt.NoButton)))
    t0 += 16 * 30
    for i in range(6):                        # wheel steps, then the refine timer commits
        p = QPointF(800 + 40 * i, 500)
        script.append((t0 + 60 * i, QWheelEvent(p, p, QPoint(0, 0), QPoint(0, 120 if i < 4 else -120),
                                                Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase,
                                                False)))
    t0 += 60 * 6 + 300
    script.append((t0, _mouse(QEvent.MouseButtonPress, (cx, cy), Qt.LeftButton, Qt.LeftButton)))
    for i in range(1, 31):
        script.append((t0 + 16 * i, _mouse(QEvent.MouseMove, (cx + 11 * i, cy + 9 * i), Qt.NoButton,
                                           Qt.LeftButton)))
    script.append((t0 + 16 * 31, _mouse(QEvent.MouseButtonRelease, (cx + 330, cy + 270),
                                        Qt.LeftButton, Qt.NoButton)))
    renders = len(canvas.stats["full_ms"])
    ProbeApp.durations, ProbeApp.cpu, ProbeApp.kinds = [], [], []
    ProbeApp.active = True
    t_start = time.perf_counter()
    for at_ms, ev in script:
        while (time.perf_counter() - t_start) * 1000 < at_ms:
            app.processEvents()
            time.sleep(0.0005)
        QApplication.postEvent(canvas, ev)
    _spin_until(app, lambda: canvas._good_frame() is not None and not canvas.moving)
    ProbeApp.active = False
    out["event_ms"] = list(ProbeApp.durations)
    out["event_cpu_ms"] = list(ProbeApp.cpu)
    out["slowest"] = sorted(ProbeApp.kinds, reverse=True)[:8]
    out["probe_renders"] = len(canvas.stats["full_ms"]) - renders
    canvas.close()
    canvas.worker.shutdown()
    return out
