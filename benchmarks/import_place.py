"""Import a plan from the app and place its places: how long each step takes.

* the import preview (``preview_plan``: read, parse, region, recognise, locate) — the first one
  in a process loads jieba's dictionary — on the 大连 excerpt and on the largest seed plan;
* an imported plan joining a live atlas (``Atlas.add_plan``: index + relink);
* relinking after a place was put on the map (``Atlas.relink``);
* the map's new scene after a place was added (``StoreLink.rebuild_scene``'s ``MapScene``).

Run: QT_QPA_PLATFORM=offscreen python benchmarks/import_place.py [runs]
(medians of ``runs`` runs, default 5; the machine is shared, so the spread is printed too).
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PLANATLAS_DATA_DIR"] = tempfile.mkdtemp(prefix="planatlas-bench-")

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5


def timed(fn, runs=RUNS):
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def show(label, ms):
    print(f"{label:<58} median {statistics.median(ms):8.1f} ms  (min {min(ms):.1f}, max {max(ms):.1f}, n={len(ms)})")


from planatlas.layers.importer import preview_plan  # noqa: E402

dalian = ROOT / "tests" / "plans" / "dalian.txt"
t0 = time.perf_counter()
pv = preview_plan(dalian)
print(f"first preview in this process (loads jieba's dictionary): {(time.perf_counter() - t0) * 1000:.0f} ms")
show(f"preview dalian.txt ({dalian.stat().st_size} B, {len(pv.places)} places)", timed(lambda: preview_plan(dalian)))
from planatlas.layers.catalog import seed_entries, seeds_dir  # noqa: E402

biggest = max((seeds_dir() / e["file"] for e in seed_entries()), key=lambda p: p.stat().st_size)
pv_big = preview_plan(biggest)
show(f"preview the largest seed plan ({biggest.stat().st_size // 1024} kB, {len(pv_big.places)} places)",
     timed(lambda: preview_plan(biggest), max(3, RUNS // 2)))

from planatlas.layers.atlas import load_atlas  # noqa: E402
from planatlas.layers.catalog import import_plan  # noqa: E402

atlas = load_atlas(reload=True)
plan = import_plan(dalian, "dalian-night", province="辽宁省", city="大连市", adcode="210200")
show(f"join a live atlas: add_plan ({len(atlas.plans)} plans + 1, {len(atlas.features)} features)",
     timed(lambda: atlas.add_plan(plan)))
show("relink after a place was put on the map", timed(atlas.relink))

from PySide6.QtWidgets import QApplication  # noqa: E402

app = QApplication.instance() or QApplication([])
from planatlas.desktop.render import MapScene  # noqa: E402

MapScene.from_atlas(atlas)
show("the map's new scene (MapScene.from_atlas)", timed(lambda: MapScene.from_atlas(atlas)))
