"""Map rendering benchmark for the desktop painter (desktop.render / desktop.canvas).

    python benchmarks/render.py            # all sizes
    python benchmarks/render.py --quick    # fewer repetitions

Prints, for 1k / 10k / 100k synthetic point features (+10,000 polygons for the largest) at
1920x1080 over the real basemap:
  * scene build (projection, indexes), full redraw (basemap + features + labels),
    redraw after a selection change (basemap cached), fast-mode frame while panning, and the
    canvas refine after a pan;
  * saving a 2000x2000 PNG of 100,000 points with the painter, and the same with
    geopandas/matplotlib when matplotlib is installed (optional);
  * the process time from start to the first painted map of the real app (subprocess).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from shapely.geometry import Point, Polygon  # noqa: E402

from planatlas.layers.model import CATEGORIES, Feature  # noqa: E402

BBOX = (113.15, 22.65, 113.65, 23.55)      # Guangzhou
W, H = 1920, 1080


def synthetic_features(n_points: int, n_polygons: int = 0, seed: int = 7) -> list[Feature]:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(BBOX[0], BBOX[2], n_points + n_polygons)
    lat = rng.uniform(BBOX[1], BBOX[3], n_points + n_polygons)
    cats = rng.integers(0, len(CATEGORIES), n_points + n_polygons)
    approx = rng.random(n_points + n_polygons) < 0.3
    prec = rng.choice([50.0, 200.0, 800.0, 2000.0], n_points + n_polygons)
    feats = []
    for i in range(n_points + n_polygons):
        if i < n_points:
            geom = Point(lon[i], lat[i])
        else:      # small irregular hexagons, 150-600 m across
            r = rng.uniform(0.0007, 0.003)
            ang = np.linspace(0, 2 * np.pi, 7)[:-1] + rng.uniform(0, 1)
            rr = r * rng.uniform(0.7, 1.0, 6)
            geom = Polygon(np.column_stack([lon[i] + rr * np.cos(ang),
                                            lat[i] + rr * np.sin(ang) * 0.92]))
        feats.append(Feature(
            id=f"f{i}", name=f"地点{i}", aliases=[], categories=[CATEGORIES[int(cats[i])]],
            subtype="", tier=None, plans=["guangzhou"], district="", adcode="",
            geometry=geom, precision_m=float(prec[i]),
            status="approximate" if approx[i] else "verified", source="synthetic",
            schematic=(i >= n_points and i % 5 == 0)))
    return feats


class _MiniAtlas:
    def __init__(self, feats, basemap):
        self.features = {f.id: f for f in feats}
        self.plans = {}
        self.basemap = basemap


def _ms(xs) -> str:
    return f"{statistics.median(xs):8.1f} ms"


def bench_size(n_points: int, n_polygons: int, reps: int, basemap) -> None:
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QImage, QPainter, QTransform
    from PySide6.QtWidgets import QApplication

    from planatlas.desktop.canvas import MapCanvas
    from planatlas.desktop.render import MapScene, MapView, paint_map
    from planatlas.desktop.state import AtlasState

    feats = synthetic_features(n_points, n_polygons)
    t = time.perf_counter()
    scene = MapScene(feats, basemap=basemap, plans=["guangzhou"])
    build = (time.perf_counter() - t) * 1000
    view = MapView.fit(BBOX, (W, H))
    img = QImage(W, H, QImage.Format_ARGB32_Premultiplied)

    def full():
        p = QPainter(img)
        t0 = time.perf_counter()
        paint_map(p, QRectF(0, 0, W, H), view, scene)
        p.end()
        return (time.perf_counter() - t0) * 1000

    full()                                   # warm caches (paths, sprites, glyphs)
    full_ms = [full() for _ in range(reps)]

    # the canvas: frame image, fast pan frames, refine after pan
    state = AtlasState(_MiniAtlas(feats, basemap), scene=scene)
    canvas = MapCanvas(state)
    canvas.resize(W, H)
    canvas.show()
    QApplication.processEvents()
    canvas.set_view(view)
    canvas.repaint()
    fast = []
    for k in range(30):
        canvas._pending = QTransform.fromTranslate(7.0 * (k + 1), 3.0 * (k + 1))
        t0 = time.perf_counter()
        canvas.repaint()
        fast.append((time.perf_counter() - t0) * 1000)
    refine = []
    for k in range(reps):          # back and forth, so the same features stay in view
        sign = 1 if k % 2 == 0 else -1
        canvas._pending = QTransform.fromTranslate(150 * sign, 60 * sign)
        canvas.commit()
        t0 = time.perf_counter()
        canvas.repaint()
        refine.append((time.perf_counter() - t0) * 1000)
    # selection change: features + labels redrawn on the cached basemap
    sel = []
    for k in range(reps):
        state.select_features([f"f{k}", f"f{k + 1}"])
        t0 = time.perf_counter()
        canvas.repaint()
        sel.append((time.perf_counter() - t0) * 1000)
    canvas.close()
    label = f"{n_points:>7,} points" + (f" + {n_polygons:,} polygons" if n_polygons else "")
    print(f"{label:<34} build {build:8.1f} ms | full redraw {_ms(full_ms)} | "
          f"selection redraw {_ms(sel)} | pan frame {_ms(fast)} "
          f"(max {max(fast):.1f}) | refine after pan {_ms(refine)}")


def bench_png(n: int = 100_000, size: int = 2000) -> None:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QImage, QPainter

    from planatlas.desktop.render import MapScene, MapView, paint_map

    feats = synthetic_features(n, 0)
    scene = MapScene(feats, plans=["guangzhou"])
    view = MapView.fit(BBOX, (size, size))
    out = Path(tempfile.gettempdir()) / "planatlas_bench_points.png"
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        img = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
        img.fill(Qt.white)
        p = QPainter(img)
        paint_map(p, QRectF(0, 0, size, size), view, scene, labels=False)
        p.end()
        t1 = time.perf_counter()
        img.save(str(out), "PNG")
        times.append((t1 - t0, time.perf_counter() - t0))
    d, s = min(times, key=lambda x: x[1])
    print(f"PlanAtlas painter: {n:,} points -> {size}x{size} PNG: draw {d:.2f} s, "
          f"draw + save {s:.2f} s")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import geopandas as gpd
        import matplotlib.pyplot as plt
    except ImportError:
        print("geopandas/matplotlib: matplotlib not installed - comparison skipped")
        return
    gdf = gpd.GeoDataFrame({"cat": [f.categories[0] for f in feats]},
                           geometry=[f.geometry for f in feats], crs="EPSG:4326").to_crs(3857)
    t0 = time.perf_counter()
    fig, ax = plt.subplots(figsize=(size / 100, size / 100), dpi=100)
    gdf.plot(ax=ax, column="cat", markersize=12)
    ax.set_axis_off()
    fig.savefig(str(out.with_name("planatlas_bench_points_mpl.png")), dpi=100)
    plt.close(fig)
    print(f"geopandas/matplotlib: same points (projected beforehand) -> {size}x{size} PNG: "
          f"plot + save {time.perf_counter() - t0:.2f} s")


def bench_startup(runs: int = 3) -> None:
    code = textwrap.dedent("""
        import os, sys, time, tempfile
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        sys.path.insert(0, %r)
        from PySide6.QtCore import QSettings, QTimer
        from PySide6.QtWidgets import QApplication
        app = QApplication(["planatlas"])
        from planatlas.desktop.app import MainWindow
        from planatlas.layers.atlas import load_atlas
        tmp = tempfile.mkdtemp()
        win = MainWindow(load_atlas(), settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.IniFormat),
                         persist=False)
        def done():
            print("FIRST_PAINT", time.time(), flush=True)
            QTimer.singleShot(0, app.quit)
        win.canvas.firstPainted.connect(done)
        win.resize(1600, 1000)
        win.show()
        app.exec()
    """ % str(ROOT))
    got = []
    for _ in range(runs):
        t0 = time.time()
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        line = [ln for ln in r.stdout.splitlines() if ln.startswith("FIRST_PAINT")]
        if r.returncode != 0 or not line:
            print("startup: the app did not paint:", r.stderr[-800:])
            return
        got.append(float(line[0].split()[1]) - t0)
    print(f"start-up to first painted map (real atlas, 1600x1000, new process): "
          f"median {statistics.median(got):.2f} s (runs: {', '.join(f'{g:.2f}' for g in got)})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(["bench"])
    from planatlas.desktop.fonts import ensure_fonts
    from planatlas.layers.basemap import load_basemap
    ensure_fonts()
    basemap = load_basemap()
    reps = 3 if args.quick else 7
    print(f"PlanAtlas map rendering, {W}x{H}, basemap: {len(basemap.districts)} districts, "
          f"{len(basemap.water)} water features; CPU count {os.cpu_count()}")
    for n_points, n_polys in ((1_000, 0), (10_000, 0), (100_000, 10_000)):
        bench_size(n_points, n_polys, reps, basemap)
    bench_png()
    bench_startup(2 if args.quick else 3)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
