"""Whole process to the first painted map: ``python benchmarks/startup.py [RUNS]``.

What is timed: from launching a new Python process until the main window's map has painted
its first real frame (``MapCanvas.firstPainted``), the path ``planatlas`` takes — QApplication,
imports, the atlas (plans, gazetteer, links, the user store, as ``desktop.app.main`` loads
it), the window, the first frame rendered in the worker and shown — with the real atlas at
1600 × 1000, fresh settings, offscreen. The median of RUNS runs (default 7) is printed with
the load average before and after (the idle check: the target is for an idle machine), the
split inside the process, and which heavy modules were (not) imported by then.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_data  # noqa: E402

HEAVY = ("pandas", "geopandas", "matplotlib", "numba", "pyarrow", "pyogrio",
         "planatlas.layers.survey", "planatlas.layers.export", "planatlas.desktop.export_map",
         "planatlas.desktop.survey_dialog", "planatlas.desktop.targets_window")

CODE = textwrap.dedent("""
    import os, sys, time, json, tempfile
    t_py = time.time()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication(["planatlas"])
    t_qt = time.time()
    from planatlas.desktop.app import MainWindow
    from planatlas.desktop.store_live import load_atlas_noting
    t_imp = time.time()
    atlas, _notices = load_atlas_noting()
    t_atlas = time.time()
    tmp = tempfile.mkdtemp()
    win = MainWindow(atlas, settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.IniFormat),
                     persist=False, panels_after_paint=True)     # as desktop.app.main does
    t_win = time.time()
    def done():
        t = time.time()
        print("FIRST_PAINT", json.dumps({"t": t, "py": t_py, "qt": t_qt - t_py, "imports": t_imp - t_qt,
              "atlas": t_atlas - t_imp, "window": t_win - t_atlas, "paint": t - t_win,
              "loaded": [m for m in %(heavy)r if m in sys.modules]}), flush=True)
        QTimer.singleShot(0, app.quit)
    win.canvas.firstPainted.connect(done)
    win.resize(1600, 1000)
    win.show()
    app.exec()
""")


def run_once() -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PLANATLAS_DATA_DIR":
           os.environ.get("PLANATLAS_BENCH_DATA_DIR", str(bench_data.CACHE / "userdata"))}
    import resource
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    r = subprocess.run([sys.executable, "-c", CODE % {"heavy": HEAVY}], capture_output=True,
                       text=True, timeout=300, env=env, cwd=str(ROOT))
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("FIRST_PAINT")]
    if r.returncode != 0 or not line:
        raise SystemExit(f"the app did not paint:\n{r.stderr[-1500:]}")
    d = json.loads(line[0].split(" ", 1)[1])
    d["total"] = d["t"] - t0
    d["interpreter"] = d["py"] - t0
    # CPU time of the whole process (to its exit, a moment after the first paint): what the
    # start costs without the waits for a core on a busy machine
    d["cpu"] = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    return d


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    before = bench_data.load_average()
    run_once()                                 # warm the OS file cache and the plan cache
    got = [run_once() for _ in range(runs)]
    after = bench_data.load_average()
    tot = [g["total"] for g in got]
    print(f"start-up to first painted map (real atlas, 1600x1000, new process, fresh settings): "
          f"median {statistics.median(tot):.2f} s over {runs} runs "
          f"(min {min(tot):.2f}, max {max(tot):.2f})")
    print(f"  idle check: before {before}; after {after}")
    print(f"  CPU time of the process (user + system, to its exit just after the first paint): "
          f"median {statistics.median(g['cpu'] for g in got):.2f} s")
    parts = ("interpreter", "qt", "imports", "atlas", "window", "paint")
    print("  split (medians): " + ", ".join(f"{p} {statistics.median(g[p] for g in got):.2f} s"
                                            for p in parts))
    loaded = got[-1]["loaded"]
    print(f"  heavy modules imported by the first paint: {', '.join(loaded) or 'none'} "
          f"(of {', '.join(HEAVY)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
