"""Make the README's picture of your own data: a plan over a tile basemap built here from
PlanAtlas' own basemap (``planatlas tiles build``) and a user layer (a GCJ-02 CSV of points
around the plan's places, styled by category), saved as a project and shot with
``planatlas screenshot``. The points are made up for the picture (stated in the README).

    python benchmarks/readme_userdata.py desktop/doc/screenshot-userdata.png
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def main(out: str) -> None:
    from planatlas.layers.crs import wgs84_to_gcj02
    from planatlas.layers.gazetteer import load_features
    from planatlas.layers.project import Project, save_project
    from planatlas.layers.stack import standard_stack
    from planatlas.layers.atlas import load_atlas
    from planatlas.layers.userdata import tile_layer, vector_layer

    tmp = Path(tempfile.mkdtemp(prefix="planatlas-readme-"))
    bbox = (113.22, 23.04, 113.42, 23.17)
    mb = tmp / "gz-basemap.mbtiles"
    subprocess.run([sys.executable, "-m", "planatlas", "tiles", "build", "--bbox",
                    ",".join(map(str, bbox)), "--zoom", "9-14", "--out", str(mb)], check=True,
                   stdout=subprocess.DEVNULL)
    rng = np.random.default_rng(2024)
    centres = [f.geometry.representative_point() for f in load_features()
               if "guangzhou" in f.plans]
    kinds = ["餐饮", "零售", "住宿", "文娱"]
    rows = []
    for c in centres:
        n = int(rng.integers(20, 90))
        lon = c.x + rng.normal(0, 0.004, n)
        lat = c.y + rng.normal(0, 0.003, n)
        glon, glat = wgs84_to_gcj02(lon, lat)
        rows += [(f"网点{len(rows) + i + 1}", a, b, kinds[int(rng.integers(0, 4))])
                 for i, (a, b) in enumerate(zip(glon, glat))]
    pois = tmp / "网点_gcj02.csv"
    with open(pois, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["名称", "经度", "纬度", "业态"])
        w.writerows(rows)
    atlas = load_atlas()
    stack = standard_stack(list(atlas.plans))
    tiles = tile_layer({"path": str(mb)}, taken=stack.ids(), name="PlanAtlas 底图瓦片")
    stack.add(tiles, stack.index("basemap/water") + 1)
    layer, data = vector_layer(pois, crs="gcj02", taken=stack.ids(), name="商业网点（示例）")
    stack.add(layer)
    stack.set_style(layer.id, mode="categorized", field="业态", size=5.0)
    for la in stack.find(kind="plan_category"):
        if la.source["plan"] != "guangzhou":
            stack.set_visible(la.id, False)
    proj = save_project(Project(stack, (113.255, 23.085, 113.375, 23.150), ["guangzhou"]),
                        tmp / "readme.planatlas.json")
    subprocess.run([sys.executable, "-m", "planatlas", "screenshot", "--project", str(proj),
                    "--size", "1600x1000", "--out", out], check=True)
    print(json.dumps({"points": data.n, "tiles": str(mb), "project": str(proj)}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "screenshot-userdata.png")
