"""Desktop viewer tests: drive the real main window (pytest-qt, offscreen)."""
from __future__ import annotations

import math
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QPointF, QPoint, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

from desktop_fixture import SyntheticAtlas  # noqa: E402
from planatlas.layers.stack import plan_layer_id  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def synth():
    return SyntheticAtlas()


@pytest.fixture
def settings_path(tmp_path):
    return str(tmp_path / "planatlas.ini")


def _window(qtbot, atlas, settings_path, size=(1400, 900)):
    from planatlas.desktop.app import MainWindow
    win = MainWindow(atlas, settings=QSettings(settings_path, QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    qtbot.wait(20)
    return win


@pytest.fixture
def win(qtbot, synth, settings_path):
    w = _window(qtbot, synth, settings_path)
    w.frame_plan("guangzhou")
    qtbot.wait(10)
    return w


def _grab(canvas) -> QImage:
    canvas.repaint()
    return canvas.grab().toImage().convertToFormat(QImage.Format_RGB32)


def _pixels(img: QImage) -> np.ndarray:
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes())
    return arr.reshape(img.height(), img.bytesPerLine() // 4, 4)[:, :img.width(), 2::-1].copy()   # BGRA in memory -> RGB


def _frame_on(win, qtbot, fids, margin_deg=0.01):
    b = win.state.scene.bbox_lonlat(fids)
    win.state.frame((b[0] - margin_deg, b[1] - margin_deg, b[2] + margin_deg, b[3] + margin_deg))
    qtbot.wait(10)


# ---------------------------------------------------------------------------- window
def test_toggling_a_layer_changes_the_map(win, qtbot):
    from planatlas.layers.model import CATEGORIES
    before = _pixels(_grab(win.canvas))
    key = ("guangzhou", "logistics_hub")
    item = win.layers_panel.items[plan_layer_id(*key)]
    assert item.checkState(0) == Qt.Checked
    item.setCheckState(0, Qt.Unchecked)             # the user unticks the box
    assert not win.state.is_layer_visible(key)
    after = _pixels(_grab(win.canvas))
    changed = (before != after).any(axis=2)
    assert changed.sum() > 50
    # the change is where the logistics features are drawn
    xs, ys = [], []
    for fid in win.state.scene.ids:
        f = win.atlas.features[fid]
        if "logistics_hub" in f.categories and "guangzhou" in f.plans:
            x, y = win.state.scene.screen_position(win.canvas.view, fid)
            xs.append(x)
            ys.append(y)
    near = changed[max(0, int(min(ys)) - 15):int(max(ys)) + 15,
                   max(0, int(min(xs)) - 15):int(max(xs)) + 15]
    assert near.any()
    item.setCheckState(0, Qt.Checked)
    again = _pixels(_grab(win.canvas))
    assert (again == before).all()
    assert set(CATEGORIES) == {la.source["category"] for la in win.state.stack.find(plan="guangzhou")
                               if la.visible}


def test_layers_panel_reorders_and_the_map_follows(win, qtbot):
    panel, stack = win.layers_panel, win.state.stack
    tops = lambda: [panel.tree.topLevelItem(i).data(0, Qt.UserRole + 1)[1]  # noqa: E731
                    for i in range(panel.tree.topLevelItemCount())][-3:]     # under any overlays
    assert tops() == ["plan:guangzhou", "plan:binhai", "basemap"]     # topmost first
    panel.tree.setCurrentItem(panel.group_items["plan:binhai"])
    panel.btn_up.click()
    assert [g for g, _ in stack.groups()][:3] == ["basemap", "plan:guangzhou", "plan:binhai"]
    assert tops() == ["plan:binhai", "plan:guangzhou", "basemap"]
    assert panel.tree.currentItem() is panel.group_items["plan:binhai"]
    scenic = plan_layer_id("guangzhou", "scenic_area")
    panel.tree.setCurrentItem(panel.items[scenic])
    panel.btn_up.click()
    group = panel.group_items["plan:guangzhou"]
    assert [group.child(i).data(0, Qt.UserRole + 1)[1] for i in range(group.childCount())][2] == scenic
    # opacity: the features of a faded layer blend with the map under them
    fid = "gz-yuexiu-park"
    _frame_on(win, qtbot, [fid])
    x, y = (round(v) for v in win.state.scene.screen_position(win.canvas.view, fid))
    opaque = _pixels(_grab(win.canvas))[y, x].astype(int)
    win.state.set_layer_opacity(scenic, 0.2)
    faded = _pixels(_grab(win.canvas))[y, x].astype(int)
    assert np.abs(opaque - faded).sum() > 60
    assert "20%" in panel.items[scenic].toolTip(0)


def test_click_on_feature_shows_clauses_and_targets(win, qtbot, synth):
    fid = "gz-tianhe-road"
    _frame_on(win, qtbot, [fid])
    x, y = win.state.scene.screen_position(win.canvas.view, fid)
    qtbot.mouseClick(win.canvas, Qt.LeftButton, pos=QPoint(round(x), round(y)))
    assert win.state.selection == [fid]
    panel = win.feature_panel
    assert panel.feature_id == fid
    clauses = synth.clauses_of(fid)
    assert clauses and panel.clause_ids == [c.id for c in clauses]
    html = panel.info.toHtml()
    for c in clauses:
        assert c.heading in html
    text = panel.info.toPlainText()
    assert "天河路商圈" in text and "第5–7行" in text
    # the mention is highlighted: a span with a background colour around the surface text
    assert "background-color:#ffe08a" in html.replace(" ", "")
    targets = synth.targets_of(fid)
    assert panel.targets.rowCount() == len(targets) > 0
    rows = {tuple(panel.targets.item(r, c).text() for c in range(5))
            for r in range(panel.targets.rowCount())}
    assert ("社会消费品零售总额", "2025", ">=", "2000", "亿元") in rows


def test_click_on_empty_map_clears_selection(win, qtbot):
    win.state.select_features(["gz-pati"])
    qtbot.mouseClick(win.canvas, Qt.LeftButton, pos=QPoint(5, 5))
    assert win.state.selection == []


def test_selecting_a_clause_selects_its_features_on_map_and_in_list(win, qtbot, synth):
    cid = "guangzhou:二.(一)"
    expected = set(synth.features_of(cid))
    assert len(expected) >= 2
    before = _pixels(_grab(win.canvas))
    item = win.plan_panel.items[cid]
    win.plan_panel.tree.setCurrentItem(item)             # the user clicks the clause
    assert win.state.clause == cid
    assert set(win.state.selection) == expected
    assert win.state.scene.selection == expected
    assert set(win.site_panel.selected_ids()) == expected
    # framed: every selected feature is inside the view
    x0, y0, x1, y1 = win.canvas.view.extent_lonlat()
    b = win.state.scene.bbox_lonlat(expected)
    assert x0 <= b[0] and y0 <= b[1] and x1 >= b[2] and y1 >= b[3]
    # source view shows the clause lines
    assert win.plan_panel.source.highlighted == synth.clause(cid).lines
    after = _pixels(_grab(win.canvas))
    assert (before != after).any()
    # and back: selecting rows in the list changes the map selection
    win.site_panel.table.clearSelection()
    assert win.state.selection == []


def test_feature_panel_clause_link_selects_clause(win, qtbot):
    win.state.select_features(["gz-beijing-road"], current="gz-beijing-road")
    cid = win.feature_panel.clause_ids[0]
    from PySide6.QtCore import QUrl
    win.feature_panel.info.anchorClicked.emit(QUrl(f"clause:{cid}"))
    assert win.state.clause == cid
    assert win.plan_panel.source.highlighted is not None
    assert win.feature_panel.feature_id == "gz-beijing-road"


def test_rubber_band_selection(win, qtbot):
    fids = ["gz-yuexiu-park", "gz-beijing-road"]
    _frame_on(win, qtbot, fids, margin_deg=0.02)
    pts = [win.state.scene.screen_position(win.canvas.view, f) for f in fids]
    x0 = int(min(p[0] for p in pts)) - 12
    y0 = int(min(p[1] for p in pts)) - 12
    x1 = int(max(p[0] for p in pts)) + 12
    y1 = int(max(p[1] for p in pts)) + 12
    qtbot.mousePress(win.canvas, Qt.LeftButton, Qt.ShiftModifier, QPoint(x0, y0))
    qtbot.mouseMove(win.canvas, QPoint((x0 + x1) // 2, (y0 + y1) // 2))
    qtbot.mouseMove(win.canvas, QPoint(x1, y1))
    qtbot.mouseRelease(win.canvas, Qt.LeftButton, Qt.ShiftModifier, QPoint(x1, y1))
    assert set(fids) <= set(win.state.selection)
    assert "bh-dongjiang" not in win.state.selection
    assert set(win.site_panel.selected_ids()) == set(win.state.selection)


def test_pan_by_drag_and_keys_and_zoom(win, qtbot):
    c = win.canvas
    v0 = c.view
    qtbot.mousePress(c, Qt.LeftButton, pos=QPoint(400, 300))
    for x in range(410, 520, 10):
        qtbot.mouseMove(c, QPoint(x, 300))
    qtbot.mouseRelease(c, Qt.LeftButton, pos=QPoint(520, 300))
    assert math.isclose(c.view.cx, v0.cx - 120 * v0.res, rel_tol=1e-9)
    assert math.isclose(c.view.res, v0.res)
    v1 = c.view
    c.setFocus()
    qtbot.keyClick(c, Qt.Key_Right)
    qtbot.waitUntil(lambda: c.view != v1, timeout=2000)
    assert c.view.cx > v1.cx
    v2 = c.view
    qtbot.keyClick(c, Qt.Key_Plus)
    qtbot.waitUntil(lambda: c.view.res != v2.res, timeout=2000)
    assert math.isclose(c.view.res, v2.res / 2, rel_tol=1e-6)
    assert c.stats["fast_ms"], "animation frames are drawn in fast mode"


def test_distance_tool_is_geodesic(win, qtbot):
    c = win.canvas
    win.actions_by_key["act.measure"].trigger()
    assert c.tool == "measure"
    c.add_measure_point(113.0, 23.0)
    d = c.add_measure_point(113.0, 24.0)
    # one degree of latitude near 23.5°N on the WGS-84 ellipsoid: 110.77 km (independent value)
    assert abs(d - 110_770) < 150
    assert "km" in win.lbl_measure.text()


def test_measure_tool_by_mouse_and_escape(win, qtbot):
    c = win.canvas
    c.set_tool("measure")
    assert c.cursor().shape() == Qt.CrossCursor
    qtbot.mouseClick(c, Qt.LeftButton, pos=QPoint(200, 200))
    qtbot.mouseClick(c, Qt.LeftButton, pos=QPoint(400, 200))
    a, b = c.lonlat_at(QPointF(200, 200)), c.lonlat_at(QPointF(400, 200))
    from pyproj import Geod
    expected = Geod(ellps="WGS84").line_length([a[0], b[0]], [a[1], b[1]])
    assert abs(c.tools["measure"].points[-1][0] - b[0]) < 1e-9
    assert abs(c.measured_distance(c.tools["measure"].points) - expected) < 1e-6
    assert "km" in win.lbl_measure.text() or " m" in win.lbl_measure.text()
    qtbot.keyClick(c, Qt.Key_Escape)
    assert c.tools["measure"].points == []
    c.set_tool("pan")
    assert c.cursor().shape() == Qt.ArrowCursor


def test_a_registered_tool_gets_the_map_input(win, qtbot):
    from planatlas.desktop.maptools import TOOLS, MapTool, register_tool

    seen = []

    @register_tool
    class Probe(MapTool):
        name = "probe-test"

        def press(self, ev):
            seen.append(("press", self.canvas.lonlat_at(ev.position())))
            return True

        def paint(self, p):
            seen.append(("paint",))
    try:
        c = win.canvas
        c.set_tool("probe-test")
        v0 = c.view
        qtbot.mousePress(c, Qt.LeftButton, pos=QPoint(300, 250))
        qtbot.mouseMove(c, QPoint(380, 250))
        qtbot.mouseRelease(c, Qt.LeftButton, pos=QPoint(380, 250))
        c.repaint()
        assert seen[0][0] == "press" and ("paint",) in seen
        assert c.view == v0                          # the probe did not pan
        with pytest.raises(ValueError, match="unknown map tool"):
            c.set_tool("no-such-tool")
    finally:
        TOOLS.pop("probe-test", None)
        win.canvas.set_tool("pan")


def test_status_bar_shows_wgs84_and_gcj02(win, qtbot):
    c = win.canvas
    qtbot.mouseMove(c, QPoint(300, 200))
    lon, lat = c.view.to_lonlat(300, 200)
    text = win.lbl_coords.text()
    assert f"{float(lon):.5f}, {float(lat):.5f}" in text
    from planatlas.layers.crs import wgs84_to_gcj02
    g = wgs84_to_gcj02(float(lon), float(lat))
    assert f"{float(g[0]):.5f}, {float(g[1]):.5f}" in text


def test_hover_highlights_feature(win, qtbot):
    fid = "gz-pati"
    _frame_on(win, qtbot, [fid])
    x, y = win.state.scene.screen_position(win.canvas.view, fid)
    qtbot.mouseMove(win.canvas, QPoint(round(x), round(y)))
    assert win.state.hover == fid


def test_site_list_filters(win, qtbot, synth):
    sp = win.site_panel
    sp.set_filters(plan="binhai")
    assert set(sp.visible_ids()) == {f.id for f in synth.features_for(plans=["binhai"])}
    sp.set_filters(plan="", category="logistics_hub")
    assert set(sp.visible_ids()) == {f.id for f in synth.features_for(categories=["logistics_hub"])}
    sp.set_filters(category="", status="approximate")
    assert set(sp.visible_ids()) == {f.id for f in synth.features.values() if f.status == "approximate"}
    sp.set_filters(status="", district="越秀区")
    assert set(sp.visible_ids()) == {"gz-beijing-road", "gz-yuexiu-park"}
    sp.set_filters(district="", in_view=True)
    assert set(sp.visible_ids()) == set(win.state.ids_in_view(win.canvas.view))
    sp.set_filters(in_view=False)
    # sorting by precision (numeric)
    sp.table.sortByColumn(6, Qt.DescendingOrder)
    vals = [float(sp.proxy.index(r, 6).data()) for r in range(sp.proxy.rowCount())]
    assert vals == sorted(vals, reverse=True)


def test_bookmarks_frame_plan_areas(win, qtbot, synth):
    win.frame_plan("binhai")
    x0, y0, x1, y1 = win.canvas.view.extent_lonlat()
    b = synth.basemap.plan_extent("binhai")
    assert x0 <= b[0] + 1e-6 and y0 <= b[1] + 1e-6 and x1 >= b[2] - 1e-6 and y1 >= b[3] - 1e-6
    win._fill_bookmarks()
    texts = [a.text() for a in win.menu_bookmarks.actions()]
    # plan areas by name, never by id
    assert "滨海新区" in texts and "广州市" in texts
    assert not any("binhai" in t or "guangzhou" in t for t in texts)


def test_settings_survive_restart(qtbot, synth, settings_path):
    w1 = _window(qtbot, synth, settings_path)
    w1.frame_plan("binhai")
    w1.state.set_layer_visible(("guangzhou", "scenic_area"), False)
    w1.state.set_layer_style(("binhai", "logistics_hub"), color="#123456", size=14)
    w1.state.set_layer_opacity("basemap/water", 0.5)
    w1.state.stack.move_group("plan:binhai", +1)
    w1.canvas.pan_by(37, -21, animate=False)
    w1.add_bookmark("东疆", (117.8, 39.0, 117.85, 39.05))
    w1.set_language("en")
    w1.docks["search"].hide()
    view1 = w1.canvas.view
    w1.close()

    w2 = _window(qtbot, synth, settings_path)
    assert not w2.state.is_layer_visible(("guangzhou", "scenic_area"))
    assert w2.layers_panel.items["plan/guangzhou/scenic_area"].checkState(0) == Qt.Unchecked
    st = w2.state.layer(("binhai", "logistics_hub")).style
    assert (st["color"], st["size"]) == ("#123456", 14.0)
    assert w2.state.layer("basemap/water").opacity == 0.5
    assert [g for g, _ in w2.state.stack.groups()][:3] == ["basemap", "plan:guangzhou", "plan:binhai"]
    v = w2.canvas.view
    assert math.isclose(v.cx, view1.cx, abs_tol=1e-6) and math.isclose(v.cy, view1.cy, abs_tol=1e-6)
    assert math.isclose(v.res, view1.res)
    assert [b["name"] for b in w2.user_bookmarks] == ["东疆"]
    assert w2.windowTitle() == "PlanAtlas"
    assert w2.docks["layers"].windowTitle() == "Layers"
    assert not w2.docks["search"].isVisible()
    w2.set_language("zh")
    assert w2.docks["layers"].windowTitle() == "图层"
    w2.close()


# ---------------------------------------------------------------------------- real atlas
@pytest.fixture(scope="module")
def real_atlas():
    from planatlas.layers.atlas import load_atlas
    return load_atlas()


def test_search_tianhe_road_frames_it(qtbot, real_atlas, settings_path):
    w = _window(qtbot, real_atlas, settings_path)
    w.frame_plan("binhai")                         # start far away
    # Chinese is typed through an input method: it commits the composed text
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtWidgets import QApplication
    w.search_panel.edit.setFocus()
    ev = QInputMethodEvent()
    ev.setCommitString("天河路")
    QApplication.sendEvent(w.search_panel.edit, ev)
    assert w.search_panel.edit.text() == "天河路"
    qtbot.keyClick(w.search_panel.edit, Qt.Key_Return)
    hits = w.search_panel.hits
    assert hits and hits[0]["type"] == "feature"
    fid = hits[0]["id"]
    assert any("天河路" in n for n in real_atlas.features[fid].names)
    assert w.state.selection == [fid]
    b = w.state.scene.bbox_lonlat([fid])
    x0, y0, x1, y1 = w.canvas.view.extent_lonlat()
    assert x0 <= b[0] and y0 <= b[1] and x1 >= b[2] and y1 >= b[3]
    assert (x1 - x0) < 0.5                         # a street-level frame, not the whole city
    assert w.feature_panel.feature_id == fid
    w.close()


def test_screenshot_writes_png(tmp_path, qapp, real_atlas):
    from planatlas.desktop.screenshot import screenshot
    out = tmp_path / "gz.png"
    screenshot("guangzhou", (1200, 800), str(out), atlas=real_atlas)
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1200, 800)
    a = _pixels(img.convertToFormat(QImage.Format_RGB32))
    assert len(np.unique(a.reshape(-1, 3), axis=0)) > 50      # a real picture, not blank
    # the map itself is in the picture (it renders in a worker; the panels' icons alone give
    # ≈130 pixels of the 商圈 red, the framed Guangzhou plan ≈1,500)
    r, g, b = (a[..., i].astype(int) for i in range(3))
    assert int(((r > 180) & (g < 110) & (b < 120)).sum()) > 600
    with pytest.raises(KeyError, match="unknown plan"):
        screenshot("atlantis", (1200, 800), str(tmp_path / "x.png"), atlas=real_atlas)
    with pytest.raises(ValueError, match=".png"):
        screenshot("guangzhou", (1200, 800), str(tmp_path / "x.jpg"), atlas=real_atlas)


def test_export_menu_writes_map_of_current_view(win, qtbot, tmp_path, monkeypatch):
    pytest.importorskip("desktop.export_map")
    from PySide6.QtWidgets import QDialog
    from planatlas.desktop.export_dialog import ExportDialog
    out = tmp_path / "view.png"

    def fill_and_accept(dlg):          # what a user does in the Export map dialog
        dlg.paper.setCurrentText("1200x800px")
        dlg.dpi.setValue(96)
        dlg.out.edit.setText(str(out))
        return QDialog.Accepted

    monkeypatch.setattr(ExportDialog, "exec", fill_and_accept)
    win.actions_by_key["act.export_png"].trigger()
    assert out.exists() and QImage(str(out)).width() == 1200


def test_click_real_feature_shows_its_clauses_and_targets(qtbot, real_atlas, settings_path):
    # a point place that the plans name together with quantitative targets
    fid = next(f.id for f in real_atlas.features.values()
               if f.geometry.geom_type == "Point" and real_atlas.targets_of(f.id)
               and real_atlas.clauses_of(f.id))
    w = _window(qtbot, real_atlas, settings_path)
    f = real_atlas.features[fid]
    w.state.frame((f.geometry.x - 0.002, f.geometry.y - 0.002,
                   f.geometry.x + 0.002, f.geometry.y + 0.002))
    qtbot.wait(10)
    x, y = w.state.scene.screen_position(w.canvas.view, fid)
    qtbot.mouseClick(w.canvas, Qt.LeftButton, pos=QPoint(round(x), round(y)))
    assert w.state.selection[0] == fid
    assert w.feature_panel.feature_id == fid
    assert w.feature_panel.clause_ids == [c.id for c in real_atlas.clauses_of(fid)]
    targets = real_atlas.targets_of(fid)
    assert w.feature_panel.targets.rowCount() == len(targets)
    assert {w.feature_panel.targets.item(r, 0).text()
            for r in range(len(targets))} == {t.indicator for t in targets}
    text = w.feature_panel.info.toPlainText()
    for m in real_atlas.mentions(fid)[:3]:
        assert m.surface in text
    w.close()


def test_hover_tooltip_names_the_top_feature_and_counts_the_rest(win, real_atlas):
    from planatlas.desktop.tooltips import feature_tooltip
    feats = list(real_atlas.features.values())
    a, b = feats[0], feats[1]
    one = feature_tooltip(real_atlas, win.state.scene, [a.id])
    assert f"<b>{a.name}</b>" in one and "另有" not in one
    two = feature_tooltip(real_atlas, win.state.scene, [a.id, b.id])
    assert two.startswith(one) and "此处另有 1 个要素，单击列出全部" in two
    assert feature_tooltip(real_atlas, win.state.scene, ["user-layer:7"]) is None


def test_legend_names_plans_in_the_legend_language(qapp, real_atlas):
    from planatlas.desktop.render import MapScene, legend
    from planatlas.desktop.render.paint import context
    scene = MapScene.from_atlas(real_atlas)
    zh = [e.label for e in legend(context(scene, lang="zh"))]
    en = [e.label for e in legend(context(scene, lang="en"))]
    assert any(lab.startswith("广州市 · ") for lab in zh)
    assert any(lab.startswith("Guangzhou · ") for lab in en)
    assert not any("广州" in lab or "滨海" in lab for lab in en), en
