"""Your own data in the real window: a shapefile, a GCJ-02 CSV and an MBTiles basemap added,
styled by category, saved as a project, reopened and exported; identify, attribute table,
drag-and-drop; and a cached online basemap with the network cut (no route)."""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent, QImage  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from planatlas.layers.atlas import load_atlas  # noqa: E402
from planatlas.layers.crs import wgs84_to_gcj02  # noqa: E402
from planatlas.layers.userdata import REGISTRY  # noqa: E402
from planatlas.layers.userdata.style import PALETTE  # noqa: E402

from userdata_fixtures import TileServer, make_mbtiles  # noqa: E402

BOX = (113.27, 23.08, 113.37, 23.15)
TILE_RGB = (200, 60, 60)
PARCEL_RGB = (0, 170, 0)


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def _window(qtbot, atlas, tmp_path, name="s.ini"):
    from planatlas.desktop.app import MainWindow
    w = MainWindow(atlas, settings=QSettings(str(tmp_path / name), QSettings.IniFormat), persist=False)
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    qtbot.waitExposed(w)
    w.user_layers.interactive = False
    return w


def _files(tmp_path: Path):
    import geopandas as gpd
    from planatlas.layers.gazetteer import load_features
    d = tmp_path / "data"
    d.mkdir()
    parcels = [shapely.box(113.29, 23.09, 113.30, 23.10), shapely.box(113.34, 23.125, 113.355, 23.135)]
    shp = d / "地块.shp"
    gpd.GeoDataFrame({"code": ["A", "B"], "use": ["商业", "居住"]}, geometry=parcels,
                     crs=4326).to_file(shp, engine="pyogrio", encoding="utf-8")
    feats = [f for f in load_features() if f.geometry.geom_type == "Point"
             and BOX[0] < f.geometry.x < BOX[2] and BOX[1] < f.geometry.y < BOX[3]][:20]
    assert len(feats) >= 6
    lon = np.array([f.geometry.x for f in feats])
    lat = np.array([f.geometry.y for f in feats])
    glon, glat = wgs84_to_gcj02(lon, lat)
    pois = d / "pois_gcj.csv"
    with open(pois, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["名称", "经度", "纬度", "类型"])
        for k, (f, a, b) in enumerate(zip(feats, glon, glat)):
            w.writerow([f.name, f"{a:.7f}", f"{b:.7f}", "甲" if k % 2 else "乙"])
    mb = make_mbtiles(d / "base.mbtiles", bbox=(113.2, 23.0, 113.45, 23.2), zooms=range(10, 14),
                      color=TILE_RGB)
    return shp, pois, mb, (lon, lat)


def _count(img: QImage, rgb, tol=6) -> int:
    img = img.convertToFormat(QImage.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    b, g, r = arr[..., 0].astype(int), arr[..., 1].astype(int), arr[..., 2].astype(int)
    return int(((abs(r - rgb[0]) <= tol) & (abs(g - rgb[1]) <= tol) & (abs(b - rgb[2]) <= tol)).sum())


def _hex_rgb(h: str):
    return tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))


def test_add_style_save_reopen_export(qtbot, atlas, tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "userdata"))
    shp, pois, mb, (lon, lat) = _files(tmp_path)
    win = _window(qtbot, atlas, tmp_path)
    ctl = win.user_layers
    parcels = ctl.add_vector(shp)
    tiles = ctl.add_basemap(mb)
    # the CSV as a drop on the window (Qt only delivers drops from a real drag, so the
    # window's drop filter is handed the event directly)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(pois))])
    drop = QDropEvent(QPointF(300, 300), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    assert win._drops.eventFilter(win, drop) is True
    assert not ctl.errors, ctl.errors
    csv_layer = [la for la in win.state.stack if la.kind == "user_vector" and la.id != parcels.id][0]
    assert parcels and tiles and not ctl.errors
    src = csv_layer.source
    assert src["crs"] == "gcj02" and "detected" in src["crs_note"]
    data = REGISTRY.vector(csv_layer)
    order = np.argsort(np.argsort(lon))          # the CSV rows are the features' in order
    assert np.allclose(np.sort(data.lon), np.sort(lon), atol=2e-6)
    assert order is not None
    assert "GCJ-02" in win.attribute_table.crs.text()
    # style the CSV by category through the style dialog
    from planatlas.desktop import userdata_ui

    def fill():
        dlg = QApplication.activeModalWidget()
        dlg.mode.setCurrentIndex(dlg.mode.findData("categorized"))
        dlg.field.setCurrentIndex(dlg.field.findData("类型"))
        dlg.label.setCurrentIndex(dlg.label.findData("名称"))
        dlg.accept()
    QTimer.singleShot(50, fill)
    userdata_ui.style_dialog(win, csv_layer.id)
    st = win.state.stack[csv_layer.id].style
    assert st["mode"] == "categorized" and st["field"] == "类型" and st["label_field"] == "名称"
    win.state.stack.set_style(parcels.id, color="#00aa00", fill_alpha=1.0)
    win.state.frame(BOX)
    # identify: a click on a CSV point lists it and selects it in the attribute table
    x, y = data.mx[0], data.my[0]
    px, py = win.canvas.view.to_screen(x, y)
    hits = win.canvas.identify(float(px), float(py))
    assert f"{csv_layer.id}#0" in hits
    assert win.identify_panel.tree.topLevelItemCount() >= 1
    assert REGISTRY.selected(csv_layer.id).tolist() == [0]
    win.attribute_table.show_layer(csv_layer.id)
    assert win.attribute_table.selected_rows().tolist() == [0]
    # save, reopen in a new window
    proj = tmp_path / "work.planatlas.json"
    win.projects.save(proj)
    win.close()
    REGISTRY.clear_selection()
    win2 = _window(qtbot, atlas, tmp_path, "s2.ini")
    problems = win2.projects.open(proj)
    assert problems == []
    kinds = [la.kind for la in win2.state.stack]
    assert kinds.count("user_vector") == 2 and kinds.count("tile_layer") == 1
    assert win2.state.stack[csv_layer.id].style["mode"] == "categorized"
    # export a PNG of the window's map: all three show
    from planatlas.desktop.export_dialog import export_from_window
    out = tmp_path / "map.png"
    export_from_window(win2, "map", {"out": out, "fmt": "png", "paper": "1200x900px",
                                     "orientation": "landscape", "dpi": 96, "title": "我的数据",
                                     "subtitle": None})
    img = QImage(str(out))
    assert _count(img, TILE_RGB) > 20000                       # the MBTiles basemap
    assert _count(img, PARCEL_RGB) > 300                       # the shapefile's parcels
    cats = [_count(img, _hex_rgb(PALETTE[k])) for k in (0, 1)]
    assert min(cats) > 20, cats                                # both categories of the CSV
    win2.close()


def test_bad_file_is_one_clear_message_and_nothing_added(qtbot, atlas, tmp_path):
    win = _window(qtbot, atlas, tmp_path)
    bad = tmp_path / "broken.geojson"
    bad.write_text("{not json", encoding="utf-8")
    n = len(win.state.stack)
    assert win.user_layers.add_paths([bad]) == []
    assert len(win.state.stack) == n
    assert len(win.user_layers.errors) == 1 and "broken.geojson" in win.user_layers.errors[0]
    win.close()


@pytest.mark.skipif(shutil.which("unshare") is None or sys.platform != "linux",
                    reason="needs unshare(1) to cut the network")
def test_cached_online_source_with_no_route(tmp_path, atlas):
    """Cache two tiles from a local server, then start the app in a network namespace with no
    route: it draws the cached tiles, marks the missing ones, and does not hang."""
    unshare = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if unshare.returncode != 0:
        pytest.skip("unprivileged network namespaces are not available here")
    from planatlas.layers.project import Project, save_project
    from planatlas.layers.stack import standard_stack
    from planatlas.layers.tiles import OnlineXYZSource
    from planatlas.layers.tiles.write import lonlat_tile_range
    from planatlas.layers.userdata import tile_layer

    env = dict(os.environ, PLANATLAS_DATA_DIR=str(tmp_path / "userdata"), QT_QPA_PLATFORM="offscreen")
    server = TileServer(color=(40, 160, 40))
    cache = tmp_path / "cache"
    try:
        src = OnlineXYZSource(server.template, cache, timeout=2.0)
        x0, y0, x1, y1 = lonlat_tile_range((113.325, 23.12, 113.325, 23.12), 12)
        want = [(12, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        for t in want:
            src.fetch(*t)
        deadline = time.monotonic() + 15
        while src.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(src.cached(*t) for t in want)
        src.close()
        stack = standard_stack(list(atlas.plans))
        layer = tile_layer({"type": "online", "url": server.template, "cache": str(cache),
                            "maxzoom": 12, "name": "local", "attribution": "local server"},
                           taken=stack.ids())
        stack.add(layer, stack.index("basemap/water") + 1)
        proj = save_project(Project(stack, (113.22, 23.07, 113.43, 23.17)), tmp_path / "online.planatlas.json")
    finally:
        server.stop()
    out = tmp_path / "offline.png"
    t0 = time.monotonic()
    run = subprocess.run(["unshare", "-rn", sys.executable, "-m", "planatlas", "screenshot",
                          "--project", str(proj), "--size", "1600x1000", "--out", str(out)],
                         capture_output=True, text=True, env=env, timeout=240)
    elapsed = time.monotonic() - t0
    assert run.returncode == 0, run.stderr
    img = QImage(str(out))
    assert _count(img, (40, 160, 40)) > 2000                    # cached tiles drawn
    assert _count(img, (236, 233, 226), tol=2) > 2000           # missing tiles marked
    assert elapsed < 120
