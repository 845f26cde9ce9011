"""Map rendering benchmark: PlanAtlas beside QGIS 3.22 and matplotlib, in one run.

    python benchmarks/render.py              # everything (about 10–15 minutes on 2 cores)
    python benchmarks/render.py --quick      # 100k only, fewer repeats
    python benchmarks/render.py --no-1m      # skip the million-point rows

What is timed (every figure is a median of REPEATS runs, ≥ 5 by default, for every tool; the
data are realistic clustered points — benchmarks/bench_data.py — read from the same
GeoPackage by every tool):

1. Load: a GeoPackage layer of N points into the columnar store (FeatureColumns.read),
   the spatial index and the scene build (MapScene.from_columns) — cold (a new process,
   imports included) and warm; peak RSS of that process. QGIS: QgsVectorLayer + featureCount.
2. Draw N points into a 2000 × 2000 image (PlanAtlas paint_map of the points layer: symbols,
   no basemap or labels — as QGIS and matplotlib draw them), then draw + save the PNG. Cold =
   the first draw in a new process (numba's compiled loop loaded from its cache); warm =
   medians in-process. PNG size at Qt's default zlib level and at the fast level used for
   exports (quality 80 → zlib 1) is printed.
3. The canvas (1920 × 1080 over the real basemap, with labels): rendering a frame in the
   worker, a pan over ground already rendered, a pan to new ground and a zoom (time until the
   full-quality frame is shown), and an event-loop probe — the longest time the UI thread
   spends on one event while the map is dragged, wheel-zoomed and hovered — at 100k and at
   1M points + 10,000 polygons.
"""
from __future__ import annotations

import argparse
import json
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
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

import bench_data  # noqa: E402

SIZE = 2000
QGIS_PYTHON = "/usr/bin/python3"


def med(xs) -> float:
    return statistics.median(xs)


def fmt_s(xs) -> str:
    return f"{med(xs):6.3f} s" if xs else "   n/a  "


# ----------------------------------------------------------------------------- PlanAtlas
def load_scene(path: Path, layer: str = "points"):
    from planatlas.desktop.render import MapScene
    from planatlas.layers.columns import FeatureColumns
    cols = FeatureColumns.read(path, layer, categorical=["category", "status"])
    cols.index
    return MapScene.from_columns(cols, plan="guangzhou")


def draw_points(scene, size=SIZE):
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from planatlas.desktop.render import MapView, paint_map
    view = MapView.fit(bench_data.BBOX, (size, size), margin=0.0)
    img = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    img.fill(Qt.white)
    p = QPainter(img)
    paint_map(p, QRectF(0, 0, size, size), view, scene, labels=False)
    p.end()
    return img


COLD = textwrap.dedent("""
    import json, os, sys, time, resource
    t0 = time.perf_counter()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, %(root)r); sys.path.insert(0, %(bench)r)
    from PySide6.QtWidgets import QApplication
    app = QApplication(["bench"])
    import render as R
    t1 = time.perf_counter()
    scene = R.load_scene(%(path)r)
    t2 = time.perf_counter()
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    img = R.draw_points(scene)
    t3 = time.perf_counter()
    img.save(%(out)r, "PNG", 80)
    t4 = time.perf_counter()
    print(json.dumps({"imports": t1 - t0, "load": t2 - t1, "draw": t3 - t2, "save": t4 - t3,
                      "rss_loaded": rss_loaded,
                      "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def planatlas_cold(path: Path, out: Path) -> dict:
    code = COLD % {"root": str(ROOT), "bench": str(ROOT / "benchmarks"), "path": str(path),
                   "out": str(out)}
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t
    if r.returncode:
        raise SystemExit(f"cold PlanAtlas run failed:\n{r.stderr[-2000:]}")
    d = json.loads(r.stdout.strip().splitlines()[-1])
    d["process"] = wall
    return d


def planatlas_warm(path: Path, reps: int, out: Path) -> dict:
    from planatlas.desktop.render import splat
    load, draw, save_default, save_fast = [], [], [], []
    scene = None
    for _ in range(reps):
        t = time.perf_counter()
        scene = load_scene(path)
        load.append(time.perf_counter() - t)
    for _ in range(reps):
        t = time.perf_counter()
        img = draw_points(scene)
        draw.append(time.perf_counter() - t)
        t = time.perf_counter()
        img.save(str(out), "PNG")
        save_default.append(time.perf_counter() - t)
        size_default = out.stat().st_size
        t = time.perf_counter()
        img.save(str(out), "PNG", 80)
        save_fast.append(time.perf_counter() - t)
        size_fast = out.stat().st_size
    return {"load": load, "draw": draw, "save_default": save_default, "save_fast": save_fast,
            "png_default": size_default, "png_fast": size_fast, "compiled": splat.available()}


# ----------------------------------------------------------------------------- QGIS, matplotlib
def qgis(path: Path, reps: int, out: Path) -> dict | None:
    if not Path(QGIS_PYTHON).exists():
        return None
    r = subprocess.run([QGIS_PYTHON, str(ROOT / "benchmarks" / "qgis_render.py"), str(path),
                        "points", str(SIZE), str(reps), str(out)], capture_output=True, text=True,
                       timeout=3600, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    if r.returncode:
        print("  QGIS run failed:", r.stderr.strip().splitlines()[-1:] or r.returncode)
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def matplotlib_run(path: Path, reps: int, out: Path) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from planatlas.layers.columns import FeatureColumns
    t = time.perf_counter()
    cols = FeatureColumns.read(path, "points", categorical=["category"])
    load = time.perf_counter() - t
    cat = cols.attrs["category"].codes
    colors = np.array(["#d1495b", "#7b4fc4", "#1f78b4", "#2a9d55"])[cat]
    markers = ["o", "D", "s", "^"]
    draws, saves = [], []
    for _ in range(reps):
        t = time.perf_counter()
        fig = Figure(figsize=(SIZE / 100, SIZE / 100), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        for k, m in enumerate(markers):
            sel = cat == k
            # 10 px markers: s is in points², 10 px = 7.2 pt at 100 dpi
            ax.scatter(cols.x[sel], cols.y[sel], s=7.2 ** 2, c=colors[sel], marker=m,
                       edgecolors="white", linewidths=0.5)
        ax.set_axis_off()
        fig.canvas.draw()
        t1 = time.perf_counter()
        fig.savefig(str(out), dpi=100)
        draws.append(t1 - t)
        saves.append(time.perf_counter() - t)
    return {"load": load, "draw": draws, "draw_save": saves}


def png_section(n: int, reps: int, tmp: Path, with_qgis: bool) -> None:
    path = bench_data.gpkg(n)
    print(f"\n== {n:,} clustered points -> {SIZE}x{SIZE} PNG ({bench_data.load_average()})")
    cold = planatlas_cold(path, tmp / "pa_cold.png")
    warm = planatlas_warm(path, reps, tmp / "pa.png")
    mpl = matplotlib_run(path, reps, tmp / "mpl.png")
    q = qgis(path, reps, tmp / "qgis.png") if with_qgis else None
    d, s_fast = med(warm["draw"]), med(warm["save_fast"])
    print(f"  PlanAtlas  load+index+scene {fmt_s(warm['load'])} warm, {cold['load']:.3f} s cold "
          f"(+{cold['imports']:.2f} s imports; peak RSS {cold['rss_loaded']:.0f} MB loaded, "
          f"{cold['rss_peak']:.0f} MB after drawing)")
    print(f"  PlanAtlas  draw {d:6.3f} s warm, {cold['draw']:.3f} s cold (first draw in a new "
          f"process{'; compiled splat' if warm['compiled'] else '; numba missing'})")
    print(f"  PlanAtlas  draw + save {d + s_fast:6.3f} s (fast zlib: save {s_fast:.3f} s, "
          f"{warm['png_fast'] / 1e6:.2f} MB) | default zlib: save {med(warm['save_default']):.3f} s, "
          f"{warm['png_default'] / 1e6:.2f} MB")
    if q:
        print(f"  QGIS 3.22  load {q['load_s']:.3f} s | draw {fmt_s(q['draw_s'])} | draw + save "
              f"{fmt_s(q['draw_save_s'])} | peak RSS {q['peak_rss_mb']:.0f} MB "
              f"({q['png_bytes'] / 1e6:.2f} MB PNG)")
    else:
        print("  QGIS 3.22  not run")
    print(f"  matplotlib draw {fmt_s(mpl['draw'])} | draw + save {fmt_s(mpl['draw_save'])}")


# ----------------------------------------------------------------------------- the canvas
def canvas_section(n: int, n_poly: int, reps: int) -> None:
    from canvas_probe import run_canvas
    r = run_canvas(n, n_poly, reps)
    print(f"\n== canvas 1920x1080, real basemap + labels: {n:,} points"
          + (f" + {n_poly:,} polygons" if n_poly else "") + f" ({bench_data.load_average()})")
    print(f"  frame render (worker, frame 1.5x the view each way) {fmt_s(r['frame'])}; "
          f"pan over rendered ground: {r['reuse_renders']} renders, paint {med(r['reuse_paint_ms']):.1f} ms")
    print(f"  full-quality frame after a pan to new ground {fmt_s(r['pan_arrival'])}, "
          f"after a zoom {fmt_s(r['zoom_arrival'])}")
    ev, cpu = np.asarray(r["event_ms"]), np.asarray(r["event_cpu_ms"])
    print(f"  event-loop probe, {len(ev)} events while dragging, wheel-zooming and hovering "
          f"({r['probe_renders']} frames rendered meanwhile): UI-thread CPU per event longest "
          f"{cpu.max():.1f} ms, 99th percentile {np.percentile(cpu, 99):.1f} ms; wall time "
          f"longest {ev.max():.1f} ms, 99th percentile {np.percentile(ev, 99):.1f} ms, median "
          f"{np.median(ev):.2f} ms")
    print(f"  slowest events (wall ms, type): "
          + ", ".join(f"{d:.0f} {k}" for d, k, _r in r["slowest"][:4]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-1m", action="store_true")
    ap.add_argument("--no-qgis", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    from canvas_probe import ProbeApp
    app = ProbeApp(["bench"])
    from planatlas.desktop.fonts import ensure_fonts
    ensure_fonts()
    reps = 3 if args.quick else max(5, args.repeats)
    print(f"PlanAtlas rendering benchmark; {bench_data.load_average()}; medians of {reps} runs")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        png_section(100_000, reps, tmp, not args.no_qgis)
        if not (args.quick or args.no_1m):
            png_section(1_000_000, reps, tmp, not args.no_qgis)
    canvas_section(100_000, 10_000, reps)
    if not (args.quick or args.no_1m):
        canvas_section(1_000_000, 10_000, reps)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
