"""Start fast (issue 15.4): building and painting the main window imports none of the heavy
modules a first start does not use — geopandas/pandas, matplotlib, the survey readers, the
exporters. Run in a fresh interpreter, through the real window."""
from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("pandas", "geopandas", "matplotlib", "planatlas.layers.survey", "planatlas.layers.export",
         "planatlas.desktop.export_map", "planatlas.desktop.survey_dialog",
         "planatlas.desktop.targets_window")

SCRIPT = """
import json, sys
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from planatlas.desktop.app import MainWindow
from planatlas.layers.atlas import load_atlas
w = MainWindow(load_atlas(), settings=QSettings(sys.argv[1], QSettings.IniFormat), persist=False,
               restore=False, panels_after_paint=True)
w.resize(1200, 800)
w.show()
for _ in range(5):
    app.processEvents()
w.canvas.wait_for_frame()
print(json.dumps(sorted(m for m in sys.modules if m in %r)))
w.close()
""" % (HEAVY,)


def test_first_paint_imports_no_heavy_module(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PLANATLAS_DATA_DIR=str(tmp_path / "data"))
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "s.ini")], capture_output=True,
                         text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    loaded = json.loads(run.stdout.strip().splitlines()[-1])
    assert loaded == [], f"imported at start: {loaded}"
