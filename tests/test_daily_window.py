"""A planner's day one, through the real main window (pytest-qt, offscreen): the first start,
restoring and fitting the window, `planatlas app --reset --lang en`, identify with overlapping
features, coordinate and pinyin search, copy coordinates, area measure, target → place and the
clause text staying in view."""
from __future__ import annotations

import math
import os
import signal

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialogButtonBox  # noqa: E402

from planatlas.layers import crs  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def atlas():
    from planatlas.layers.atlas import load_atlas
    return load_atlas()


def _window(qtbot, atlas, path, size=(1600, 1000), show=True):
    from planatlas.desktop.app import MainWindow
    win = MainWindow(atlas, settings=QSettings(str(path), QSettings.IniFormat))
    qtbot.addWidget(win)
    if size is not None:                 # None: keep what the settings restored
        win.resize(*size)
    if show:
        win.show()
        qtbot.waitExposed(win)
        qtbot.wait(60)
    return win


@pytest.fixture
def win(qtbot, atlas, tmp_path):
    w = _window(qtbot, atlas, tmp_path / "s.ini")
    yield w
    w.persist = False


def _shown(widget) -> bool:
    """On screen: visible and not a tabbed-away dock (those are moved off the window)."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def _plan_fill(win, plan_id):
    """Share of the map's width and height the plan's extent covers."""
    from planatlas.desktop.render.view import lonlat_to_merc
    x0, y0, x1, y1 = win.plan_bbox(plan_id)
    xs, ys = lonlat_to_merc([x0, x1], [y0, y1])
    sx, sy = win.canvas.view.to_screen(xs, ys)
    return abs(float(sx[1] - sx[0])) / win.canvas.width(), abs(float(sy[1] - sy[0])) / win.canvas.height()


# ------------------------------------------------------------------ first start and layout
def test_first_start_frames_the_default_plan_at_the_real_size(win):
    plan = win._default_plan()
    fw, fh = _plan_fill(win, plan)
    assert max(fw, fh) >= 0.5, (fw, fh)                     # fills at least half the map
    assert fw <= 1.0 + 1e-6 and fh <= 1.0 + 1e-6           # and all of it is in view
    assert win.canvas.width() >= 0.6 * win.width() and win.canvas.height() >= 0.6 * win.height()
    # the plan's text is what the right dock shows, not an empty feature panel
    assert _shown(win.plan_panel) and not _shown(win.feature_panel)
    assert win.plan_panel.plan_id == plan


def test_a_plan_asked_for_before_show_is_framed_after_it(qtbot, atlas, tmp_path):
    w = _window(qtbot, atlas, tmp_path / "s.ini", show=False)
    w.frame_plan("xiqing")
    w.show()
    qtbot.waitExposed(w)
    qtbot.wait(60)
    assert max(_plan_fill(w, "xiqing")) >= 0.5
    w.persist = False


def test_layout_restores_and_a_big_window_is_fitted_to_the_screen(qtbot, atlas, tmp_path):
    path = tmp_path / "s.ini"
    a = _window(qtbot, atlas, path, size=(760, 560))
    a.resizeDocks([a.docks["layers"]], [230], Qt.Horizontal)
    qtbot.wait(20)
    layers_w, size = a.docks["layers"].width(), a.size()
    a.close()
    b = _window(qtbot, atlas, path, size=None)
    assert b.size() == size and abs(b.docks["layers"].width() - layers_w) <= 2
    b.persist = False
    b.close()
    # saved on a bigger screen: restored inside this one
    huge = _window(qtbot, atlas, tmp_path / "h.ini", size=(3000, 2200))
    huge.close()
    c = _window(qtbot, atlas, tmp_path / "h.ini", size=None, show=False)
    avail = (c.screen() or QGuiApplication.primaryScreen()).availableGeometry()
    assert c.width() <= avail.width() and c.height() <= avail.height()
    c.persist = False


def test_planatlas_app_reset_lang_en(qtbot, monkeypatch, atlas):
    """`planatlas app --reset --lang en` through the real CLI: the settings are forgotten, the
    window opens in English framed on the default plan, and English is saved."""
    from planatlas.desktop import app as app_mod, i18n
    from planatlas.desktop.cli import main as cli_main
    s = QSettings(app_mod.ORG, app_mod.APP)
    s.setValue("ui/language", "zh")
    s.setValue("bookmarks", '[{"name": "旧书签", "bbox": [113, 23, 114, 24]}]')
    s.sync()
    seen = {}

    def fake_loop(app, window):
        qtbot.addWidget(window)
        qtbot.waitExposed(window)
        qtbot.wait(60)
        seen.update(title=window.windowTitle(), file=window.menu_file.title(),
                    bookmarks=list(window.user_bookmarks),
                    fill=max(_plan_fill(window, window._default_plan())))
        window.close()                                     # saves the settings
        return 0

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    monkeypatch.setattr(app_mod, "run_event_loop", fake_loop)
    try:
        assert cli_main(["app", "--reset", "--lang", "en"]) == 0
    finally:
        for sig, h in handlers.items():
            signal.signal(sig, h)
        i18n.set_language("zh")
    assert seen["title"] == "PlanAtlas" and seen["file"] == "&File"
    assert seen["bookmarks"] == [] and seen["fill"] >= 0.5
    s.sync()
    assert QSettings(app_mod.ORG, app_mod.APP).value("ui/language") == "en"


def test_qt_dialog_buttons_are_chinese(win):
    box = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    assert box.button(QDialogButtonBox.Cancel).text() == "取消"
    assert "确定" in box.button(QDialogButtonBox.Ok).text()
    win.set_language("en")
    try:
        box2 = QDialogButtonBox(QDialogButtonBox.Cancel)
        assert box2.button(QDialogButtonBox.Cancel).text() == "Cancel"
    finally:
        win.set_language("zh")


# ------------------------------------------------------------------ identify, menus, copy
def _point_under(win, fid):
    x, y = win.state.scene.screen_position(win.canvas.view, fid)
    return QPointF(float(x), float(y))


def _overlapping_pair(win, atlas):
    """A point feature lying inside a polygon feature of the same plan."""
    from shapely.geometry import Point
    polys = [f for f in atlas.features.values() if f.geometry.geom_type == "Polygon"]
    for f in atlas.features.values():
        if f.geometry.geom_type != "Point":
            continue
        for p in polys:
            if set(p.plans) & set(f.plans) and p.geometry.contains(Point(f.geometry.x, f.geometry.y)):
                return f.id, p.id
    raise AssertionError("no point inside a polygon in the gazetteer")


def test_identify_lists_every_feature_under_the_cursor(win, qtbot, atlas):
    pt, poly = _overlapping_pair(win, atlas)
    win.state.frame_features([pt])
    qtbot.wait(30)
    pos = _point_under(win, pt)
    hits = win.canvas.hit_test(pos.x(), pos.y())
    assert pt in hits and poly in hits
    qtbot.mouseClick(win.canvas, Qt.LeftButton, pos=pos.toPoint())
    menu = win.canvas.active_tool.menu
    assert menu is not None
    listed = [a.data() for a in menu.actions() if a.data() not in (None, "*")]
    assert listed == hits
    assert all(atlas.features[f].name in a.text() for f, a in
               zip(hits, [a for a in menu.actions() if a.data() in hits]))
    pick = next(a for a in menu.actions() if a.data() == poly)
    pick.trigger()
    assert win.state.selection == [poly] and win.state.current_feature == poly
    next(a for a in menu.actions() if a.data() == "*").trigger()
    assert win.state.selection == hits
    menu.close()


def test_right_click_menu_copies_coordinates_and_measures_from_here(win, qtbot):
    c = win.canvas
    pos = QPoint(c.width() // 2, c.height() // 2)
    lon, lat = c.lonlat_at(QPointF(pos))
    qtbot.mouseClick(c, Qt.RightButton, pos=pos)
    menu = c.active_tool.menu
    kinds = [a.data() for a in menu.actions() if a.data()]
    assert kinds[:2] == ["what_here", "copy"] and "measure" in kinds and "measure_area" in kinds
    copy = next(a for a in menu.actions() if a.data() == "copy").menu()
    by_system = {a.data(): a for a in copy.actions()}
    assert set(by_system) == {"wgs84", "gcj02", "bd09", "cgcs2000"}
    by_system["gcj02"].trigger()
    x, y = (float(v) for v in QGuiApplication.clipboard().text().split(", "))
    gx, gy = crs.convert(lon, lat, "wgs84", "gcj02")
    assert (x, y) == pytest.approx((float(gx), float(gy)), abs=2e-6)
    assert "GCJ-02" in win.statusBar().currentMessage()
    next(a for a in menu.actions() if a.data() == "measure_area").trigger()
    menu.close()
    assert c.tool == "measure_area" and win.actions_by_key["act.measure_area"].isChecked()
    assert c.active_tool.points == [pytest.approx((lon, lat))]
    win.set_map_tool("pan")


def test_status_bar_reads_out_all_four_systems(win, qtbot):
    c = win.canvas
    qtbot.mouseMove(c, QPoint(300, 200))
    lon, lat = c.lonlat_at(QPointF(300, 200))
    text = win.lbl_coords.text()
    for system in ("wgs84", "gcj02", "bd09", "cgcs2000"):
        x, y = crs.convert(lon, lat, "wgs84", system)
        assert f"{float(x):.5f}, {float(y):.5f}" in text
    assert all(w in text for w in ("WGS-84", "GCJ-02", "BD-09", "CGCS2000"))


def test_area_measure_is_geodesic(win, qtbot):
    from pyproj import Geod
    tool = win.canvas.set_tool("measure_area")
    win.set_map_tool("measure_area")
    square = [(113.30, 23.10), (113.31, 23.10), (113.31, 23.11), (113.30, 23.11)]
    for lon, lat in square:
        tool.add_point(lon, lat)
    area, perim = Geod(ellps="WGS84").polygon_area_perimeter([p[0] for p in square], [p[1] for p in square])
    assert "km²" in win.lbl_measure.text() or "ha" in win.lbl_measure.text()
    from planatlas.desktop.maptools import geodesic_area
    got = geodesic_area(square)
    assert got == pytest.approx((abs(area), perim))
    assert 1.1e6 < got[0] < 1.2e6                # ~1.02 km × 1.11 km at 23° N
    win.set_map_tool("pan")
    assert win.lbl_measure.text() == ""


# ------------------------------------------------------------------ search
def test_search_gcj02_coordinates_jumps_there_with_a_marker(win, qtbot):
    panel = win.search_panel
    panel.set_crs("gcj02")
    panel.edit.setText("113.3245, 23.1123")
    panel._enter()
    hit = panel.hits[0]
    assert hit["type"] == "location" and hit["crs"] == "gcj02"
    x, y = crs.convert(hit["lon"], hit["lat"], "wgs84", "gcj02")
    assert (float(x), float(y)) == pytest.approx((113.3245, 23.1123), abs=1e-6)
    layer = win.state.stack["overlay/marker"]
    assert layer.visible and tuple(layer.source["points"][0][:2]) == (hit["lon"], hit["lat"])
    qtbot.wait(20)
    cx, cy = win.canvas.view.to_lonlat(win.canvas.width() / 2, win.canvas.height() / 2)
    assert math.hypot(float(cx) - hit["lon"], float(cy) - hit["lat"]) < 1e-3
    # a suffix overrides the box; the marker moves
    panel.set_crs("wgs84")
    panel.edit.setText("23.1123N 113.3245E bd09")
    panel._enter()
    assert panel.hits[0]["crs"] == "bd09"
    assert len(win.state.stack["overlay/marker"].source["points"]) == 1
    assert "BD-09" in panel.results.item(0).text()


def test_search_by_pinyin(win):
    panel = win.search_panel
    for query in ("tianhelu", "thl"):
        panel.edit.setText(query)
        panel.run()
        names = [win.atlas.features[h["id"]].names for h in panel.hits if h["type"] == "feature"]
        assert any("天河路" in n for ns in names for n in ns), query
        assert "拼音" in panel.results.item(0).text()
    panel._enter()
    assert win.state.selection == [panel.hits[0]["id"]]


def test_search_results_use_names_and_full_citations(win):
    panel = win.search_panel
    panel.edit.setText("建设国际知名商圈")
    panel.run()
    texts = [panel.results.item(i).text() for i in range(panel.results.count())]
    assert any("广州市 二、（二）5. 建设国际知名商圈 · 第75–77行" in t for t in texts)
    assert not any("guangzhou" in t for t in texts)


# ------------------------------------------------------------------ text ⇄ map
def test_a_clause_keeps_its_text_in_view_and_cites_its_parents(win, qtbot, atlas):
    cid = "guangzhou:二.(二).5"
    win.state.select_clause(cid)
    qtbot.wait(10)
    assert len(win.state.selection) > 1 and win.state.current_feature
    assert _shown(win.plan_panel)                        # the dock did not flip to the feature
    assert win.plan_panel.source.highlighted == tuple(atlas.clause(cid).lines)
    html = win.feature_panel.info.toPlainText()
    assert "广州市 二、（二）5. 建设国际知名商圈 · 第75–77行" in html
    # picking a place on the map does show its details
    fid = win.state.selection[0]
    win.state.select_features([fid])
    qtbot.wait(10)
    assert _shown(win.feature_panel) and not _shown(win.plan_panel)


def test_targets_sort_show_the_whole_indicator_and_select_their_places(win, qtbot, atlas):
    win.frame_plan("guangzhou")
    table = win.plan_panel.targets
    t = next(t for t in atlas.plans["guangzhou"].targets if "5个世界级地标商圈" in t.surface)
    row = next(r for r in range(table.rowCount()) if table.target_at(r).id == t.id)
    assert t.indicator in table.item(row, 0).toolTip()          # elided in the cell, whole on hover
    col = table.cols.index("col.value")
    table.sortItems(col, Qt.DescendingOrder)
    values = [table.target_at(r).value for r in range(table.rowCount())]
    assert values == sorted(values, reverse=True)
    row = next(r for r in range(table.rowCount()) if table.target_at(r).id == t.id)
    rect = table.visualRect(table.model().index(row, 0))
    win.docks["plan"].raise_()
    win.plan_panel.tabs.setCurrentIndex(1)
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())
    assert win.state.selection == atlas.places_of_target(t.id)
    assert len(win.state.selection) == 5 and win.state.clause == t.clause
    qtbot.wait(10)
    assert _shown(win.plan_panel)
