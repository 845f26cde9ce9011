"""Run with the system Python that has QGIS (Debian ``python3-qgis``): open the team store's
PostGIS tables as QGIS would, with their default styles from ``layer_styles``, and render them.

    /usr/bin/python3 tests/qgis_check.py HOST PORT DBNAME USER OUT.png

Prints one JSON line: per table whether the layer is valid, its feature count and the renderer
QGIS loaded (``categorizedSymbol`` means the PlanAtlas style was applied).
"""
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (QgsApplication, QgsDataSourceUri, QgsMapRendererSequentialJob,  # noqa: E402
                       QgsMapSettings, QgsRectangle, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def main():
    host, port, db, user, out = sys.argv[1:6]
    app = QgsApplication([], False)
    app.initQgis()
    result, layers = {}, []
    for table in ("positions", "features", "history"):
        uri = QgsDataSourceUri()
        uri.setConnection(host, port, db, user, "")
        uri.setDataSource("planatlas", table, "geom", "", "fid")
        layer = QgsVectorLayer(uri.uri(False), table, "postgres")
        info = {"valid": layer.isValid()}
        if layer.isValid():
            info["count"] = layer.featureCount()
            info["renderer"] = layer.renderer().type() if layer.renderer() else None
            if info["renderer"] == "categorizedSymbol":
                info["categories"] = [c.value() for c in layer.renderer().categories()]
                info["colours"] = [c.symbol().color().name() for c in layer.renderer().categories()]
            layers.append(layer)
        result[table] = info
    if layers:
        settings = QgsMapSettings()
        settings.setLayers(layers[::-1])
        settings.setBackgroundColor(QColor("white"))
        settings.setOutputSize(QSize(900, 600))
        ext = QgsRectangle()
        for lyr in layers:
            ext.combineExtentWith(lyr.extent())
        ext.grow(max(ext.width(), ext.height()) * 0.15 + 0.002)
        settings.setExtent(ext)
        job = QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        job.renderedImage().save(out)
    print(json.dumps(result))
    app.exitQgis()


if __name__ == "__main__":
    main()
