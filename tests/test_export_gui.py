"""The GUI's Export menu: map image, HTML and data, with progress and cancel."""
from __future__ import annotations

import json
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from planatlas.layers.atlas import load_atlas  # noqa: E402


@pytest.fixture
def win(qtbot, tmp_path):
    from planatlas.desktop.app import MainWindow
    w = MainWindow(load_atlas(), settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w.frame_plan("haimen")
    return w


def test_export_menu_has_map_html_and_data(win):
    titles = [a.text() for a in win.menu_export.actions()]
    assert len(titles) == 4 and any("HTML" in t for t in titles) and any("GPKG" in t for t in titles)
    assert any("版式" in t for t in titles)


def test_export_data_from_the_window_in_gcj02(win, tmp_path):
    from planatlas.desktop.export_dialog import export_from_window
    out = tmp_path / "sites.geojson"
    info = export_from_window(win, "data", {"out": out, "fmt": "geojson", "crs": "gcj02"})
    assert info["path"] == str(out)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["features"]) > 100
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]     # no temp files left


def test_export_html_from_the_window(win, tmp_path):
    from planatlas.desktop.export_dialog import export_from_window
    out = tmp_path / "map.html"
    export_from_window(win, "html", {"out": out, "title": "海门 <i>test</i>"})
    html = out.read_text(encoding="utf-8")
    assert "https://" not in html.replace("http://www.w3.org", "")
    assert "海门 &lt;i&gt;test&lt;/i&gt;" in html


def test_export_map_from_the_window_uses_the_view(win, tmp_path):
    from planatlas.desktop.export_dialog import export_from_window
    out = tmp_path / "view.png"
    info = export_from_window(win, "map", {"out": out, "fmt": "png", "paper": "800x600px",
                                           "orientation": "landscape", "dpi": 96, "title": "视图",
                                           "subtitle": None})
    img = QImage(str(out))
    assert (img.width(), img.height()) == (800, 600)
    box = info["extent"]
    view = win.canvas.view.extent_lonlat()
    assert box[0] == pytest.approx(view[0], abs=1e-6) and box[3] == pytest.approx(view[3], abs=1e-6)


def test_map_export_from_the_window_shows_its_layer_stack(win, tmp_path):
    from planatlas.desktop.export_dialog import export_from_window
    opts = {"fmt": "png", "paper": "800x600px", "orientation": "landscape", "dpi": 96,
            "title": None, "subtitle": None}
    before = export_from_window(win, "map", {"out": tmp_path / "a.png", **opts})
    assert any("海门区 · 商圈" in r for r in before["legend"])
    win.layers_panel.items["plan/haimen/commercial_district"].setCheckState(0, Qt.Unchecked)
    win.state.set_layer_visible("basemap/water", False)
    after = export_from_window(win, "map", {"out": tmp_path / "b.png", **opts})
    assert not any("海门区 · 商圈" in r for r in after["legend"])
    assert any("海门区 · " in r for r in after["legend"]) and "水系" not in after["legend"]
    assert "水系" in before["legend"]
    assert not win.state.is_layer_visible("basemap/water")          # the window's stack is as it was


def test_cancelling_a_slow_export_leaves_nothing_and_keeps_the_old_file(win, tmp_path):
    from planatlas.desktop.export_dialog import run_in_thread
    out = tmp_path / "old.csv"
    out.write_text("old", encoding="utf-8")

    def slow(tmp):
        time.sleep(1.0)
        tmp.write_text("new", encoding="utf-8")
        return {}

    def cancel():
        dlg = QApplication.activeModalWidget()
        if dlg is not None and hasattr(dlg, "cancel"):
            dlg.cancel()
        else:
            QTimer.singleShot(50, cancel)

    QTimer.singleShot(100, cancel)
    assert run_in_thread(win, "t", out, slow) is None
    assert out.read_text(encoding="utf-8") == "old"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]      # no temp file left


def test_map_export_progress_can_cancel(win, tmp_path, monkeypatch):
    from planatlas.desktop import export_dialog
    out = tmp_path / "c.png"
    monkeypatch.setattr(export_dialog.QProgressDialog, "wasCanceled", lambda self: True)
    assert export_dialog.run_map_export(win, win.atlas, out, plans=["haimen"], paper="800x600px",
                                        dpi=96, fmt="png") is None
    assert not out.exists()


def test_site_list_dock_prints_the_filtered_checklist(win, tmp_path):
    from openpyxl import load_workbook
    panel = win.site_panel
    panel.set_filters(plan="haimen", category="scenic_area")
    listed = panel.visible_features()
    assert listed and all("scenic_area" in f.categories for f in listed)
    out = tmp_path / "list.xlsx"
    panel.print_checklist(out, crs="gcj02")
    wb = load_workbook(out)
    text = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert all(f.name in text for f in listed)
    pdf = tmp_path / "list.pdf"
    panel.print_checklist(pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_survey_report_is_drawn_as_a_map_layer(win, qtbot):
    from planatlas.layers.survey import STATUS_COLORS
    f = win.atlas.features["hm-tonghai-terminal"]
    win.canvas.set_view(win.canvas.view.framed((f.geometry.x - 0.05, f.geometry.y - 0.05,
                                               f.geometry.x + 0.05, f.geometry.y + 0.05)))
    qtbot.wait(20)
    win.state.set_overlay("survey_report", {"points": [(f.geometry.x + 0.01, f.geometry.y + 0.01, "moved", "x")]})
    img = win.canvas.grab().toImage()
    from planatlas.desktop.render import lonlat_to_merc
    x, y = win.canvas.view.to_screen(*lonlat_to_merc([f.geometry.x + 0.01], [f.geometry.y + 0.01]))
    c = img.pixelColor(int(round(float(x[0]))), int(round(float(y[0]))))
    assert c.name() == STATUS_COLORS["moved"]
    win.state.remove_overlay("survey_report")
    assert win.canvas.grab().toImage().pixelColor(int(round(float(x[0]))), int(round(float(y[0])))).name() != STATUS_COLORS["moved"]


def test_accepted_survey_moves_the_feature_live_and_keeps_the_shipped_position(qtbot, tmp_path, monkeypatch):
    """Field round trip in the window: accept a moved site → the map shows it verified at
    once, the site list says so, and the shipped position stays visible as history."""
    from PySide6.QtCore import QSettings
    from planatlas.desktop.app import MainWindow
    from planatlas.layers import atlas as atlas_mod
    from planatlas.layers import store
    from planatlas.layers.survey import check_survey
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    atlas_mod._CACHE.clear()
    try:
        atlas = load_atlas(reload=True)
        w = MainWindow(atlas, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
        qtbot.addWidget(w)
        w.show()
        f = atlas.features["hm-tonghai-terminal"]
        survey = tmp_path / "survey.csv"
        survey.write_text(f"名称,经度,纬度\n{f.name},{f.geometry.x + 0.01:.6f},{f.geometry.y:.6f}\n", encoding="utf-8")
        report = check_survey(survey, list(atlas.features.values()), crs="wgs84", plans=["haimen"])
        assert report.rows[0].status == "moved"
        store.accept(report)
        w.apply_accepted([f.id])
        g = w.atlas.features[f.id]
        assert g.status == "verified" and abs(g.geometry.x - (f.geometry.x + 0.01)) < 1e-6
        i = w.state.scene.index[f.id]
        from planatlas.desktop.render import lonlat_to_merc
        x, _y = lonlat_to_merc([g.geometry.x], [g.geometry.y])
        assert abs(w.state.scene.ax[i] - float(x[0])) < 1.0           # the scene was re-projected
        assert any(r.id == f.id and r.status == "verified" for r in w.site_panel.model.rows)
        moves = w.state.stack["overlay/position_history"].source["moves"]
        assert [m[0] for m in moves] == [f.id]
        assert abs(moves[0][1] - f.geometry.x) < 1e-9                   # shipped position kept
        w.state.frame((f.geometry.x - 0.02, f.geometry.y - 0.02, f.geometry.x + 0.02, f.geometry.y + 0.02))
        sx, sy = w.canvas.view.to_screen(*lonlat_to_merc([f.geometry.x], [f.geometry.y]))
        assert f.id in w.canvas.hit_test(float(sx[0]), float(sy[0]))     # the grey ring is its history
    finally:
        atlas_mod._CACHE.clear()
