"""User layers at scale: load, full redraw, pan frame, identify and memory at 10k / 100k / 1M
points (and 100k polygons), beside QGIS (PyQGIS under /usr/bin/python3) and matplotlib on the
same files in the same run.

    python benchmarks/userlayers.py [--sizes 10000,100000,1000000] [--rounds 5]

What is timed (medians of ``--rounds`` runs; the machine is shared, so expect noise):
* load — reading the GeoPackage into the columnar layer (PlanAtlas: pyogrio → Arrow → arrays;
  QGIS: opening the layer and iterating every feature's geometry; matplotlib: geopandas read);
  the first PlanAtlas run is reported separately as "cold".
* redraw — the user layer alone drawn into a 1400×900 image at the full extent of the data
  (PlanAtlas: the renderer; QGIS: QgsMapRendererSequentialJob, 7 px simple markers;
  matplotlib: scatter, Agg, 1400×900 at 100 dpi, draw only).
* pan frame — what the canvas paints per mouse move while panning: the last frame shifted
  (one ``drawImage`` of a 1400×900 image); the re-render happens when the pan pauses.
* identify — the hit test under a cursor at 200 random feature positions (median).
* RSS — the process' resident memory after loading (psutil), and its growth from the load.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
CACHE = Path(tempfile.gettempdir()) / "planatlas-bench-userlayers"
W, H = 1400, 900


def _points_file(n: int) -> Path:
    """Clustered points (50 Gaussian clusters around Guangzhou) with three attributes."""
    import pyarrow as pa
    import pyogrio
    path = CACHE / f"points-{n}.gpkg"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n)
    centres = np.column_stack([113.1 + rng.random(50) * 0.5, 22.9 + rng.random(50) * 0.4])
    which = rng.integers(0, 50, n)
    lon = centres[which, 0] + rng.normal(0, 0.02, n)
    lat = centres[which, 1] + rng.normal(0, 0.015, n)
    wkb = np.zeros((n, 21), dtype=np.uint8)
    wkb[:, 0] = 1
    wkb[:, 1:5] = np.frombuffer(np.uint32(1).tobytes(), dtype=np.uint8)
    wkb[:, 5:21] = np.column_stack([lon, lat]).astype("<f8").view(np.uint8)
    geom = pa.array([bytes(r) for r in wkb], type=pa.binary())
    kinds = np.array(["餐饮", "零售", "住宿", "文娱"])[rng.integers(0, 4, n)]
    table = pa.table({"name": pa.array([f"p{i}" for i in range(n)]), "kind": pa.array(kinds),
                      "value": pa.array(rng.random(n) * 100), "geom": geom})
    pyogrio.write_arrow(table, str(path), layer="points", driver="GPKG", geometry_name="geom",
                        geometry_type="Point", crs="EPSG:4326")
    return path


def _polygons_file(n: int) -> Path:
    import pyarrow as pa
    import pyogrio
    import shapely
    path = CACHE / f"polygons-{n}.gpkg"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n + 1)
    x = 113.1 + rng.random(n) * 0.5
    y = 22.9 + rng.random(n) * 0.4
    s = 0.0005 + rng.random(n) * 0.002
    geoms = shapely.box(x, y, x + s, y + s * 0.8)
    table = pa.table({"code": pa.array([f"L{i}" for i in range(n)]),
                      "use": pa.array(np.array(["商业", "居住", "工业"])[rng.integers(0, 3, n)]),
                      "geom": pa.array(shapely.to_wkb(geoms).tolist(), type=pa.binary())})
    pyogrio.write_arrow(table, str(path), layer="parcels", driver="GPKG", geometry_name="geom",
                        geometry_type="Polygon", crs="EPSG:4326")
    return path


def _median(fn, rounds: int) -> float:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def planatlas_figures(path: Path, rounds: int, categorized: bool) -> dict:
    import psutil
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QGuiApplication, QImage, QPainter, QTransform
    QGuiApplication.instance() or QGuiApplication([])
    from planatlas.desktop.render import MapScene, MapView, context, paint_layers, renderer_for
    from planatlas.layers.stack import LayerStack
    from planatlas.layers.userdata import UserData, vector_layer
    import planatlas.layers.userdata as ud

    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    t0 = time.perf_counter()
    reg = UserData()
    layer, data = vector_layer(path, registry=reg)
    cold = time.perf_counter() - t0
    rss = proc.memory_info().rss
    load = _median(lambda: UserData().load({"path": str(path), "layer": None, "crs": "auto"}), rounds)
    old, ud.REGISTRY = ud.REGISTRY, reg
    import planatlas.desktop.render.userlayers as ul
    ul.REGISTRY = reg
    try:
        if categorized:
            layer = layer.changed(style={"mode": "categorized", "field": data.fields[1]})
        stack = LayerStack([layer])
        scene = MapScene([])
        ctx = context(scene, stack)
        view = MapView.fit(data.extent_lonlat(), (W, H))
        img = QImage(W, H, QImage.Format_ARGB32_Premultiplied)

        def redraw():
            img.fill(0xFFFFFFFF)
            p = QPainter(img)
            paint_layers(p, view, ctx)
            p.end()
        redraw()
        draw = _median(redraw, rounds)
        screen = QImage(W, H, QImage.Format_ARGB32_Premultiplied)

        def pan_frame():
            p = QPainter(screen)
            p.setTransform(QTransform.fromTranslate(13, 7))
            p.drawImage(QPointF(0, 0), img)
            p.end()
        pan = _median(pan_frame, max(rounds, 20))
        rng = np.random.default_rng(1)
        pick = rng.integers(0, data.n, 200)
        r = renderer_for(layer.kind)
        times = []
        for i in pick.tolist():
            px, py = view.to_screen(data.mx[i], data.my[i])
            t1 = time.perf_counter()
            hits = r.hit_test(view, float(px), float(py), layer, ctx)
            times.append(time.perf_counter() - t1)
            assert hits
        ident = statistics.median(times)
    finally:
        ud.REGISTRY = old
        ul.REGISTRY = old
    return {"n": data.n, "load_cold_s": cold, "load_s": load, "redraw_s": draw, "pan_frame_ms": pan * 1000,
            "identify_ms": ident * 1000, "rss_mb": rss / 1e6, "rss_growth_mb": (rss - rss0) / 1e6}


QGIS_SCRIPT = r"""
import json, statistics, sys, time, os, resource
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import (QgsApplication, QgsVectorLayer, QgsMapSettings, QgsMapRendererSequentialJob,
                       QgsMarkerSymbol, QgsSingleSymbolRenderer, QgsFillSymbol)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
app = QgsApplication([], False); app.initQgis()
path, rounds, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def load():
    lyr = QgsVectorLayer(path, "l", "ogr")
    n = 0
    for f in lyr.getFeatures():
        f.geometry(); n += 1
    return lyr, n
times = []
for _ in range(rounds):
    t0 = time.perf_counter(); lyr, n = load(); times.append(time.perf_counter() - t0)
if lyr.geometryType() == 0:
    lyr.setRenderer(QgsSingleSymbolRenderer(QgsMarkerSymbol.createSimple({"size": "1.85", "size_unit": "MM"})))
ms = QgsMapSettings(); ms.setLayers([lyr]); ms.setOutputSize(QSize(w, h)); ms.setExtent(lyr.extent())
ms.setBackgroundColor(QColor("white"))
draws = []
for _ in range(rounds):
    job = QgsMapRendererSequentialJob(ms); t0 = time.perf_counter(); job.start(); job.waitForFinished()
    draws.append(time.perf_counter() - t0)
print(json.dumps({"n": n, "load_s": statistics.median(times), "redraw_s": statistics.median(draws),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3}))
app.exitQgis()
"""


def qgis_figures(path: Path, rounds: int) -> dict | None:
    if not Path("/usr/bin/python3").exists():
        return None
    try:
        out = subprocess.run(["/usr/bin/python3", "-c", QGIS_SCRIPT, str(path), str(rounds), str(W),
                              str(H)], capture_output=True, text=True, timeout=1200)
    except subprocess.TimeoutExpired:
        return None
    lines = [ln for ln in out.stdout.strip().splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else None      # (PyQGIS 3.22 may crash at exit)


def matplotlib_figures(path: Path, rounds: int) -> dict:
    import geopandas as gpd
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    load = _median(lambda: gpd.read_file(path, engine="pyogrio"), max(1, min(rounds, 3)))
    g = gpd.read_file(path, engine="pyogrio")

    def draw():
        fig = plt.figure(figsize=(W / 100, H / 100), dpi=100)
        ax = fig.add_axes([0, 0, 1, 1])
        if g.geom_type.iloc[0] == "Point":
            ax.scatter(g.geometry.x, g.geometry.y, s=20, edgecolors="#3c3c3c", linewidths=0.5)
        else:
            g.plot(ax=ax, edgecolor="#333333", linewidth=0.4)
        fig.canvas.draw()
        plt.close(fig)
    return {"load_s": load, "redraw_s": _median(draw, max(1, min(rounds, 3)))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--polygons", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-qgis", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    jobs = [("points", int(s)) for s in args.sizes.split(",")]
    if args.polygons:
        jobs.append(("polygons", args.polygons))
    for what, n in jobs:
        path = _points_file(n) if what == "points" else _polygons_file(n)
        pa_ = planatlas_figures(path, args.rounds, categorized=(what == "points"))
        q = None if args.no_qgis else qgis_figures(path, args.rounds)
        m = matplotlib_figures(path, args.rounds)
        rows.append({"layer": f"{n:,} {what}", "planatlas": pa_, "qgis": q, "matplotlib": m})
        print(f"{n:>9,} {what:8}  PlanAtlas load {pa_['load_s']:.2f} s (cold {pa_['load_cold_s']:.2f}) "
              f"redraw {pa_['redraw_s']:.3f} s  pan frame {pa_['pan_frame_ms']:.1f} ms  identify "
              f"{pa_['identify_ms']:.2f} ms  RSS {pa_['rss_mb']:.0f} MB (+{pa_['rss_growth_mb']:.0f})"
              + (f" | QGIS load {q['load_s']:.2f} s redraw {q['redraw_s']:.3f} s RSS {q['rss_mb']:.0f} MB"
                 if q else " | QGIS n/a")
              + f" | matplotlib load {m['load_s']:.2f} s draw {m['redraw_s']:.3f} s", flush=True)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
