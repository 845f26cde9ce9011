"""Time to export an A3 300-dpi PNG map of all plans (``python benchmarks/export.py [REPEATS]``).

Exports the same page three ways in one run and prints the timings side by side:

* PlanAtlas ``export_map`` (canvas painter, page layout, legend, labels) — PNG, and also PDF
  and SVG for reference;
* geopandas + matplotlib drawing the same basemap and features (Web Mercator) at the same
  pixel size — if matplotlib is installed (it is not a PlanAtlas dependency);
* the data and HTML exports of all plans, for scale.

Uses the real atlas (five seed plans). Prints figures; asserts nothing.
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

from planatlas.layers.atlas import load_atlas  # noqa: E402


def timed(fn, repeats: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times), result


def matplotlib_page(atlas, plans, extent, size_px, dpi, out: Path) -> None:
    import geopandas as gpd
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    from planatlas.desktop.fonts import font_path

    font_manager.fontManager.addfont(str(font_path()))      # same Chinese font, real glyphs
    plt.rcParams["font.family"] = font_manager.FontProperties(fname=str(font_path())).get_name()
    from pyproj import Transformer

    from planatlas.layers.export.data import CATEGORY_COLORS

    tr = Transformer.from_crs(4326, 3857, always_xy=True)
    x0, y0 = tr.transform(extent[0], extent[1])
    x1, y1 = tr.transform(extent[2], extent[3])
    fig = plt.figure(figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi)
    ax = fig.add_axes([0.02, 0.03, 0.74, 0.85])
    bm = atlas.basemap
    bm.districts.to_crs(3857).plot(ax=ax, facecolor="#fbfaf6", edgecolor="#c4bcae", linewidth=0.4)
    if len(bm.water):
        bm.water.to_crs(3857).plot(ax=ax, facecolor="#b9d6ee", edgecolor="#9cc3e0", linewidth=0.3)
    feats = atlas.features_for(plans=plans)
    gdf = gpd.GeoDataFrame({"name": [f.name for f in feats],
                            "cat": [f.categories[0] for f in feats]},
                           geometry=[f.geometry for f in feats], crs=4326).to_crs(3857)
    for cat, part in gdf.groupby("cat"):
        part.plot(ax=ax, color=CATEGORY_COLORS[cat], markersize=12, alpha=0.85, linewidth=1.0)
    for _, row in gdf.iterrows():
        p = row.geometry.representative_point()
        ax.annotate(row["name"], (p.x, p.y), fontsize=4, xytext=(3, 0), textcoords="offset points")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_axis_off()
    fig.suptitle("PlanAtlas", x=0.02, ha="left")
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    from planatlas.desktop.export_map import ensure_app, export_map, page_spec

    ensure_app()
    from planatlas.desktop.render import MapScene
    from planatlas.layers.export.data import export_data
    from planatlas.layers.export.html import export_html

    t = time.perf_counter()
    atlas = load_atlas()
    t_atlas = time.perf_counter() - t
    plans = list(atlas.plans)
    n_feat = len(atlas.features_for(plans=plans))
    t = time.perf_counter()
    scene = MapScene.from_atlas(atlas)
    t_scene = time.perf_counter() - t
    spec = page_spec("A3", "landscape", 300)
    print(f"atlas: {len(plans)} plans, {n_feat} features; load {t_atlas:.2f} s, "
          f"MapScene build {t_scene:.2f} s")
    print(f"page: A3 landscape 300 dpi = {spec.width_px}×{spec.height_px} px; {repeats} runs each "
          f"(min / median)\n")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for fmt in ("png", "pdf", "svg"):
            out = tmp / f"all.{fmt}"
            mn, med, res = timed(lambda: export_map(atlas, plans, out, paper="A3", dpi=300,
                                                    scene=scene), repeats)
            rows.append((f"PlanAtlas export_map {fmt.upper()}", mn, med, out.stat().st_size))
        extent = tuple(res["view_extent"])
        mn, med, _ = timed(lambda: export_map(atlas, plans, tmp / "fresh.png", paper="A3", dpi=300),
                           1)
        rows.append(("  same PNG incl. MapScene build", mn, med, (tmp / "fresh.png").stat().st_size))
        import importlib.util

        if importlib.util.find_spec("matplotlib") is None:
            print("matplotlib is not installed: skipping the geopandas/matplotlib comparison "
                  "(pip install matplotlib to run it)\n")
        else:
            out = tmp / "mpl.png"
            mn, med, _ = timed(lambda: matplotlib_page(atlas, plans, extent, (spec.width_px, spec.height_px),
                                                       300, out), repeats)
            rows.append(("geopandas + matplotlib PNG (same size)", mn, med, out.stat().st_size))
        for fmt in ("gpkg", "geojson", "kml", "gpx", "csv", "xlsx"):
            out = tmp / f"all.{fmt}"
            mn, med, _ = timed(lambda: export_data(atlas, plans, None, fmt, "gcj02", out), repeats)
            rows.append((f"export data {fmt} (gcj02)", mn, med, out.stat().st_size))
        out = tmp / "all.html"
        mn, med, _ = timed(lambda: export_html(atlas, plans, out), repeats)
        rows.append(("export html (offline page)", mn, med, out.stat().st_size))

    w = max(len(r[0]) for r in rows)
    print(f"{'export':<{w}}  {'min s':>7}  {'median s':>8}  {'size':>10}")
    for name, mn, med, size in rows:
        print(f"{name:<{w}}  {mn:7.2f}  {med:8.2f}  {size / 1024:8.0f} KB")
    print(f"\nextent of the page map: {', '.join(f'{v:.3f}' for v in extent)} (lon/lat)")


if __name__ == "__main__":
    main()
