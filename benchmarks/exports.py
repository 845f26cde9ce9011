"""Data exports of the five plans, and the PNG save of an A3 300-dpi page:
``python benchmarks/exports.py [RUNS]``.

What is timed (all five seed plans, 213 sites, GCJ-02 coordinates like a phone app wants):

* each export (GeoPackage, XLSX, HTML, and GeoJSON/CSV/KML/GPX for scale) end to end through
  ``export_data`` / ``export_html`` — selection, records, writing, the durable save (fsync,
  rename) — *cold* (the first call in this process: its lazy imports, pyproj CRS, folium's
  class templates, the XLSX comparison charts drawn by matplotlib) and *warm* (median and
  range of RUNS further calls, default 7);
* the PNG encoder alone on the A3 300-dpi page image (4961×3508, rendered once by
  ``export_map``): ``QImage.save`` at several quality settings (Qt maps quality to the zlib
  level), with the file size of each — the trade-off the map export's PNG setting is chosen by.

Prints the load average before and after (this 2-core machine is shared). Asserts nothing.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _runs(fn, n: int) -> tuple[float, list[float]]:
    t = time.perf_counter()
    fn()
    cold = time.perf_counter() - t
    warm = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t)
    return cold, warm


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    from planatlas.layers.atlas import load_atlas

    t = time.perf_counter()
    atlas = load_atlas()
    print(f"atlas: {len(atlas.plans)} plans, {len(atlas.features_for(plans=list(atlas.plans)))} "
          f"features, loaded in {time.perf_counter() - t:.2f} s; {runs} warm runs each\n")
    plans = list(atlas.plans)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def data(fmt):
            from planatlas.layers.export.data import export_data
            return lambda: export_data(atlas, plans, None, fmt, "gcj02", tmp / f"all.{fmt}")

        def html():
            from planatlas.layers.export.html import export_html
            export_html(atlas, plans, tmp / "all.html")

        for name, fn, out in (("GeoPackage", data("gpkg"), "all.gpkg"),
                              ("XLSX (with compare + charts sheets)", data("xlsx"), "all.xlsx"),
                              ("HTML (offline folium page)", html, "all.html"),
                              ("GeoJSON", data("geojson"), "all.geojson"),
                              ("CSV", data("csv"), "all.csv"),
                              ("KML", data("kml"), "all.kml"),
                              ("GPX", data("gpx"), "all.gpx")):
            cold, warm = _runs(fn, runs)
            rows.append((name, cold, warm, (tmp / out).stat().st_size))
        w = max(len(r[0]) for r in rows)
        print(f"{'export (5 plans)':<{w}}  {'cold s':>7}  {'warm median s':>13}  {'range':>13}  size")
        for name, cold, warm, size in rows:
            print(f"{name:<{w}}  {cold:7.3f}  {statistics.median(warm):13.3f}  "
                  f"{min(warm):5.3f}–{max(warm):5.3f}  {size / 1024:6.0f} KB")

        from planatlas.desktop.export_map import ensure_app, export_map
        ensure_app()
        from PySide6.QtGui import QImage
        page = tmp / "page.png"
        t = time.perf_counter()
        export_map(atlas, plans, page, paper="A3", dpi=300)
        t_page = time.perf_counter() - t
        img = QImage(str(page))
        print(f"\nA3 300 dpi page {img.width()}×{img.height()}: export_map {t_page:.2f} s "
              f"(first call); QImage.save alone, median of {runs}:")
        print(f"{'PNG quality':>12}  {'save s':>7}  {'size':>8}")
        for q in (-1, 0, 50, 80, 90, 95, 100):
            out = tmp / f"q{q}.png"
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                img.save(str(out), "PNG", q)
                times.append(time.perf_counter() - t)
            print(f"{q:>12}  {statistics.median(times):7.3f}  {out.stat().st_size / 1024:6.0f} KB")
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
