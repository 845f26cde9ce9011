"""QGIS side of benchmarks/render.py — run with the system Python that has PyQGIS:

    /usr/bin/python3 benchmarks/qgis_render.py FILE.gpkg LAYER SIZE REPEATS OUT.png

Loads the GeoPackage layer, styles it like PlanAtlas (one 10 px marker per category: circle,
diamond, square, triangle in the PlanAtlas colours), renders it into a SIZE × SIZE image in Web
Mercator with QgsMapRendererSequentialJob (one thread, like a print/export render), REPEATS
times, and saves the PNG each time. Prints one JSON line: load time, draw times, draw + save
times, peak RSS. Imports nothing of PlanAtlas.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication, QgsCategorizedSymbolRenderer, QgsCoordinateReferenceSystem,
    QgsCoordinateTransform, QgsMapRendererSequentialJob, QgsMapSettings, QgsMarkerSymbol,
    QgsProject, QgsRendererCategory, QgsUnitTypes, QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

STYLE = {"commercial_district": ("circle", "#d1495b"), "night_economy": ("diamond", "#7b4fc4"),
         "logistics_hub": ("square", "#1f78b4"), "scenic_area": ("triangle", "#2a9d55")}


def main() -> None:
    path, layer_name, size, reps, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4]), sys.argv[5]
    app = QgsApplication([], False)
    app.initQgis()
    t0 = time.perf_counter()
    layer = QgsVectorLayer(f"{path}|layername={layer_name}", layer_name, "ogr")
    n = layer.featureCount()
    load = time.perf_counter() - t0
    cats = []
    for value, (shape, color) in STYLE.items():
        sym = QgsMarkerSymbol.createSimple({"name": shape, "color": color, "outline_color": "white",
                                            "outline_width": "0.4", "size": "10"})
        sym.setSizeUnit(QgsUnitTypes.RenderPixels)
        sym.setOutputUnit(QgsUnitTypes.RenderPixels)
        cats.append(QgsRendererCategory(value, sym, value))
    layer.setRenderer(QgsCategorizedSymbolRenderer("category", cats))
    QgsProject.instance().addMapLayer(layer)
    merc = QgsCoordinateReferenceSystem("EPSG:3857")
    ext = QgsCoordinateTransform(layer.crs(), merc, QgsProject.instance()).transformBoundingBox(
        layer.extent())
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(merc)
    settings.setOutputSize(QSize(size, size))
    settings.setBackgroundColor(QColor("white"))
    settings.setExtent(ext)
    draws, saves = [], []
    for _ in range(reps):
        t = time.perf_counter()
        job = QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        img = job.renderedImage()
        t1 = time.perf_counter()
        img.save(out, "PNG")
        draws.append(t1 - t)
        saves.append(time.perf_counter() - t)
    print(json.dumps({"features": n, "load_s": load, "draw_s": draws, "draw_save_s": saves,
                      "png_bytes": os.path.getsize(out),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    QgsProject.instance().removeAllMapLayers()
    app.exitQgis()


if __name__ == "__main__":
    main()
