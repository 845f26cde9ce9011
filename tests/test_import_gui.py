"""Issue 11 in the app (pytest-qt, offscreen, through the real MainWindow on the real atlas):
import a real plan excerpt from *File › Import plan…*, place three of its places by clicking on
the map, restart, and see them with their clauses; move, edit, delete, Undo/Redo (including an
accepted survey and a refused undo); drag-and-drop dispatch; bad input refused."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from planatlas.desktop.i18n import plan_name
from planatlas.layers import store
from planatlas.layers.placing import PLACED_SOURCE, click_precision_m
from store_fixtures import _reset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
DALIAN = Path(__file__).resolve().parent / "plans" / "dalian.txt"


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLANATLAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("PLANATLAS_STORE", raising=False)
    monkeypatch.delenv("PLANATLAS_USER", raising=False)
    _reset()
    yield tmp_path
    _reset()


def open_window(qtbot, tmp_path, name="main"):
    """A MainWindow on a freshly loaded atlas (as after a restart) with its own settings."""
    from planatlas.desktop.app import MainWindow
    from planatlas.layers.atlas import load_atlas

    w = MainWindow(load_atlas(reload=True), settings=QSettings(str(tmp_path / f"{name}.ini"),
                                                               QSettings.IniFormat))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def import_dalian(qtbot, w, monkeypatch, plan_id="dalian-night"):
    """File › Import plan… on the 大连 excerpt; checks the preview; returns the dialog."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(DALIAN), "")))
    w.editing.act_import.trigger()
    dlg = w.editing.dialog
    qtbot.waitUntil(lambda: dlg.preview is not None and not dlg.busy, timeout=90_000)
    dlg.id_edit.setText(plan_id)
    with qtbot.waitSignal(dlg.imported, timeout=30_000):
        dlg.import_button.click()
    return dlg


def click_place(qtbot, w, name, pos):
    """Pick ``name`` in the Unlocated dock, *Place point*, click the map at ``pos``."""
    panel, c = w.editing.panel, w.canvas
    assert panel.select_name(name), [u["name"] for u in panel.items]
    panel.point_button.click()
    assert c.tool == "place"
    qtbot.mouseClick(c, Qt.LeftButton, pos=pos)
    assert c.tool == "pan"
    fid = w.state.current_feature
    assert w.atlas.features[fid].name == name
    return fid


def test_import_place_three_by_clicking_restart_and_see_them_with_their_clauses(qtbot, env, monkeypatch,
                                                                              tmp_path):
    w = open_window(qtbot, tmp_path)
    n_layers = len(w.state.stack)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(DALIAN), "")))
    w.editing.act_import.trigger()                           # File › Import plan…
    dlg = w.editing.dialog
    qtbot.waitUntil(lambda: dlg.preview is not None and not dlg.busy, timeout=90_000)
    # the preview: kind, title, issuer, period with its evidence, region, clauses, targets, places
    assert "utf-8" in dlg.kind_label.text() and "15" in dlg.kind_label.text()
    assert dlg.title_edit.text() == "推进大连市夜间经济发展的指导意见"
    assert dlg.issuer_edit.text() == "大连市人民政府办公室"
    assert (dlg.start_spin.value(), dlg.end_spin.value()) == (2019, 2024)
    assert "从2019年起" in dlg.period_note.text() and "2022" in dlg.period_note.text()
    assert (dlg.province_edit.text(), dlg.city_edit.text()) == ("辽宁省", "大连市")
    assert dlg.tree.topLevelItemCount() >= 2 and dlg.targets.rowCount() >= 5
    names = [dlg.places.item(r, 0).text() for r in range(dlg.places.rowCount())]
    assert names[:5] == ["青泥洼-天津街", "西安路", "香炉礁", "奥林匹克广场", "中华路"]
    assert "五大商圈" in dlg.places.item(1, 6).text()
    dlg.grab().save(str(tmp_path / "import-dialog.png"))
    # the user corrects what was guessed, then imports
    dlg.id_edit.setText("dalian-night")
    dlg.issued_edit.setText("2019-12-31")
    with qtbot.waitSignal(dlg.imported, timeout=30_000):
        dlg.import_button.click()
    assert not dlg.isVisible()
    # live, no restart: layers, plan panel, search, site list, bookmarks, Unlocated dock
    assert "dalian-night" in w.atlas.plans and w.atlas.plans["dalian-night"].issued == "2019-12-31"
    assert "plan/dalian-night/commercial_district" in w.state.stack and len(w.state.stack) == n_layers + 4
    assert w.plan_panel.combo.findData("dalian-night") >= 0
    assert any(h["type"] == "clause" and h["plan"] == "dalian-night" for h in w.search_panel.run("香炉礁"))
    assert w.site_panel.plan_box.findData("dalian-night") >= 0
    w._fill_bookmarks()
    assert plan_name(w.atlas, "dalian-night") == "大连市"
    assert "大连市" in [a.text() for a in w.menu_bookmarks.actions()]
    assert w.plan_bbox("dalian-night")[0] == pytest.approx(120.9, abs=0.5)      # 大连市, from the region
    panel = w.editing.panel
    assert w.docks["unlocated"].isVisible() and w.docks["plan"] in w.tabifiedDockWidgets(w.docks["unlocated"])
    assert panel.plan_id == "dalian-night" and len(panel.items) == 15
    assert w.editing.act_undo.text() == "撤销 导入规划 推进大连市夜间经济发展的指导意见"
    # place three of its places by clicking on the map
    c = w.canvas
    placed = {}
    for i, name in enumerate(["西安路", "香炉礁", "星海湾"]):
        pos = QPoint(c.width() // 2 + 80 * (i - 1), c.height() // 2 + 30 * i)
        placed[name] = fid = click_place(qtbot, w, name, pos)
        f = w.atlas.features[fid]
        lon, lat = c.lonlat_at(QPointF(pos))
        assert (f.geometry.x, f.geometry.y) == pytest.approx((lon, lat), abs=1e-9)
        assert f.precision_m == click_precision_m(c.view.ground_resolution())
        assert f.method == "placed" and f.status == "approximate" and f.plans == ["dalian-night"]
        assert fid in w.state.scene.index and w.state.feature_layer(fid) is not None
    assert w.editing.act_undo.text() == "撤销 放置 星海湾"
    rows = store.open_store().user_features()
    assert {r["name"] for r in rows.values()} == set(placed)
    assert {r["source"] for r in rows.values()} == {PLACED_SOURCE}
    # linked to their clauses at once; gone from the Unlocated list; in the site list and export
    assert [cl.id for cl in w.atlas.clauses_of(placed["星海湾"])] == ["dalian-night:二.(一)",
                                                                      "dalian-night:二.(二).1"]
    assert [cl.heading for cl in w.atlas.clauses_of(placed["西安路"])] == ["打造夜商圈"]
    assert "打造夜商圈" in w.feature_panel.info.toPlainText()
    assert not {"西安路", "香炉礁", "星海湾"} & {u["name"] for u in panel.items}
    assert panel.placed.rowCount() == 3
    assert set(placed.values()) <= set(w.site_panel.model.ids)
    from planatlas.layers.export.data import export_data
    export_data(w.atlas, ["dalian-night"], None, "geojson", None, tmp_path / "dalian.geojson")
    out = json.loads((tmp_path / "dalian.geojson").read_text(encoding="utf-8"))
    assert {f["properties"]["name"] for f in out["features"]} == set(placed)
    w.grab().save(str(tmp_path / "placed.png"))
    w.close()
    # restart: a new window on a freshly loaded atlas, same data directory
    w2 = open_window(qtbot, tmp_path, "restart")
    for name, fid in placed.items():
        assert w2.atlas.features[fid].name == name
        assert w2.atlas.clauses_of(fid) and w2.atlas.clauses_of(fid)[0].plan == "dalian-night"
    w2.state.select_features([placed["香炉礁"]], current=placed["香炉礁"])
    text = w2.feature_panel.info.toPlainText()
    assert "香炉礁" in text and "打造夜商圈" in text
    w2.editing.panel.set_plan("dalian-night")
    assert not {"西安路", "香炉礁", "星海湾"} & {u["name"] for u in w2.editing.panel.items}
    assert w2.editing.act_undo.text() == "撤销 放置 星海湾"           # the log survives too


def _survey_csv(tmp_path, feature, east_m=60.0):
    from test_sites_data import offset, write_csv

    lon, lat = offset(feature.geometry.x, feature.geometry.y, east_m, 0)
    return write_csv(tmp_path / "survey.csv", ["名称", "经度", "纬度", "日期"],
                     [[feature.name, lon, lat, "2024-05-03"]])


def test_move_edit_delete_undo_redo_and_a_refused_undo(qtbot, env, monkeypatch, tmp_path):
    w = open_window(qtbot, tmp_path)
    import_dalian(qtbot, w, monkeypatch)
    c = w.canvas
    w.frame_plan("dalian-night")
    fid = click_place(qtbot, w, "中华路", QPoint(c.width() // 2, c.height() // 2))
    assert w.editing.act_undo.text() == "撤销 放置 中华路"
    # move: the move tool shows a handle on the place; drag it 40 px east
    w.editing.act_move.trigger()
    assert c.tool == "move"
    tool = c.active_tool
    q = next(q for f, i, q in tool.handles() if f == fid and i is None)
    start, end = q.toPoint(), q.toPoint() + QPoint(40, 0)
    qtbot.mousePress(c, Qt.LeftButton, pos=start)
    qtbot.mouseMove(c, pos=start + QPoint(20, 0))
    qtbot.mouseMove(c, pos=end)
    assert tool.drag is not None and tool.drag["feature"] == fid
    c.grab().save(str(tmp_path / "moving.png"))
    qtbot.mouseRelease(c, Qt.LeftButton, pos=end)
    lon, _lat = c.lonlat_at(QPointF(end))
    s = store.open_store()
    assert s.user_features()[fid]["geometry"].x == pytest.approx(lon, abs=1e-6)
    assert w.atlas.versions[fid] == 2 and w.editing.act_undo.text() == "撤销 移动 中华路"
    # edit: name, aliases, category, precision in the small form
    w.state.select_features([fid], current=fid)
    assert w.editing.act_edit.isEnabled() and w.editing.act_delete.isEnabled()
    w.editing.act_edit.trigger()
    dlg = w.editing.edit_dialog
    dlg.name_edit.setText("中华路商圈")
    dlg.aliases_edit.setText("中华路、中华路夜市")
    dlg.category_box.setCurrentIndex(dlg.category_box.findData("night_economy"))
    dlg.precision_spin.setValue(300)
    assert dlg.save() is not None
    f = w.atlas.features[fid]
    assert (f.name, f.aliases, f.categories, f.precision_m) == ("中华路商圈", ["中华路", "中华路夜市"],
                                                                ["night_economy"], 300)
    assert [cl.heading for cl in w.atlas.clauses_of(fid)] == ["打造夜商圈"]     # linked by its alias
    assert w.editing.act_undo.text() == "撤销 编辑 中华路商圈"
    # the map's right-click menu on the place offers edit, move, delete
    from planatlas.desktop.map_menus import map_context_menu
    q = QPointF(*w.state.scene.screen_position(c.view, fid))
    menu = map_context_menu(c, q, c.mapToGlobal(q.toPoint()))
    mine = {a.data(): a for a in menu.actions() if str(a.data()).startswith("place:")}
    assert set(mine) == {"place:act.edit_place", "place:unloc.move", "place:act.delete_place"}
    assert all("中华路商圈" in a.text() for a in mine.values())
    menu.close()
    # delete, undo, redo
    w.editing.act_delete.trigger()
    assert fid not in w.atlas.features and fid not in w.state.scene.index
    assert fid not in s.user_features() and "中华路" in [u["name"] for u in w.editing.panel.items]
    assert w.editing.act_undo.text() == "撤销 删除 中华路商圈"
    w.editing.act_undo.trigger()
    assert w.atlas.features[fid].name == "中华路商圈" and fid in w.state.scene.index
    assert w.editing.act_redo.text() == "重做 删除 中华路商圈"
    w.editing.act_redo.trigger()
    assert fid not in w.atlas.features
    w.editing.act_undo.trigger()                       # back again, then undo the edit
    w.editing.act_undo.trigger()
    assert w.atlas.features[fid].name == "中华路" and w.atlas.features[fid].aliases == []
    assert w.editing.act_undo.text() == "撤销 移动 中华路"
    # a colleague (another user of the same store) moves it: undoing my move is refused
    other = type(s)(s.path, user="li")
    other.move_feature(fid, shapely.Point(121.70, 38.95))
    other.close()
    w.editing.act_undo.trigger()
    assert "someone has changed" in w.store_link.last_refusal and "li" in w.store_link.last_refusal
    assert w.atlas.features[fid].geometry.equals(shapely.Point(121.70, 38.95))     # theirs shown
    # li renames it meanwhile: my stale edit opens the conflict dialog with both values
    other = type(s)(s.path, user="li")
    other.edit_feature(fid, name="中华路步行街")
    other.close()
    w.state.select_features([fid], current=fid)
    dlg = w.editing.edit_feature()
    dlg.name_edit.setText("中华路夜市")
    assert dlg.save() is None and dlg.isVisible()
    conflict = w.store_link.last_conflict
    assert conflict is not None and conflict.isVisible()
    assert conflict.table.item(0, 0).text() == "中华路夜市" and conflict.table.item(0, 1).text() == "中华路步行街"
    conflict.theirs_button.click()
    dlg.reject()
    assert w.atlas.features[fid].name == "中华路步行街" and s.user_features()[fid]["name"] == "中华路步行街"
    # accepting a survey is undone the same way
    w.editing.panel.set_plan("guangzhou")
    tower = next(f for f in w.atlas.features.values()
                 if f.geometry.geom_type == "Point" and "guangzhou" in f.plans and f.origin == "shipped")
    from planatlas.layers.survey import check_survey
    report = check_survey(_survey_csv(tmp_path, tower), [tower], crs="wgs84")
    w.store_link.store.accept(report)
    w.apply_accepted([tower.id])
    assert w.atlas.features[tower.id].status == "verified"
    w.editing.refresh_undo()
    assert w.editing.act_undo.text() == "撤销 接受核查 1 个地点（survey.csv）"
    w.editing.act_undo.trigger()
    assert w.atlas.features[tower.id].geometry.equals(tower.geometry)
    assert w.atlas.features[tower.id].status == tower.status
    w.set_language("en")
    assert w.editing.act_redo.text() == "Redo accept survey 1 place(s) (survey.csv)"
    assert w.editing.menu_edit.title() == "&Edit"


def test_drops_are_dispatched_by_type(qtbot, env, tmp_path):
    w = open_window(qtbot, tmp_path)
    drops = w.drops
    assert drops is w._drops                  # one drop target: the importer and the data layers
    assert drops.plan_handler == w.editing.import_files and drops.data_handler == w.user_layers.add_paths
    got: dict[str, list] = {"plans": [], "data": []}
    drops.plan_handler = lambda paths: got["plans"].extend(paths)
    drops.data_handler = None
    plan, shp, csv_ = tmp_path / "规划.txt", tmp_path / "parcels.shp", tmp_path / "pois.csv"
    for p in (plan, shp, csv_):
        p.write_text("x", encoding="utf-8")
    with qtbot.waitSignal(drops.refused) as refused:           # no data handler
        drops.dispatch([plan, shp])
    assert "parcels.shp" in refused.args[0] and got["plans"] == [plan]
    drops.data_handler = lambda paths: got["data"].extend(paths)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in (csv_, plan, tmp_path / "plan.PDF")])
    enter = QDragEnterEvent(QPoint(300, 300), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(w.canvas, enter)                   # over the map: the window takes it
    assert enter.isAccepted()
    ev = QDropEvent(QPointF(300, 300), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(drops.dispatched) as sent:
        QApplication.sendEvent(w.canvas, ev)
    assert ev.isAccepted()
    assert sent.args == [[str(plan), str(tmp_path / "plan.PDF")], [str(csv_)]]
    assert got["data"] == [csv_] and got["plans"][1:] == [plan, tmp_path / "plan.PDF"]


def _scanned_pdf(path: Path) -> Path:
    from pypdf import PdfWriter

    wr = PdfWriter()
    for _ in range(3):
        wr.add_blank_page(width=595, height=842)          # pages without a text layer
    with open(path, "wb") as fh:
        wr.write(fh)
    return path


def test_bad_input_gets_a_clear_message_and_nothing_is_written(qtbot, env, tmp_path):
    w = open_window(qtbot, tmp_path)
    w.drops.plan_handler = w.editing.import_files          # the real handler: the dialog
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 64)
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:                             # 100 MB (sparse)
        fh.truncate(100 * 1024 * 1024)
    cases = {empty: ("empty", "文件为空"), binary: ("binary", "二进制数据"),
             _scanned_pdf(tmp_path / "scan.pdf"): ("scanned PDF", "扫描版 PDF：3 页却只有 0 个字符"),
             big: ("104.9 MB", "104.9 MB，超过规划文本的上限（20 MB）")}
    for path, (why, shown) in cases.items():
        w.drops.dispatch([path])
        dlg = w.editing.dialog
        assert dlg.path == path
        qtbot.waitUntil(lambda: not dlg.busy, timeout=30_000)
        assert why in dlg.error and dlg.error_label.isVisible(), (path, dlg.error)
        assert shown in dlg.error_label.text() and "未写入任何内容" in dlg.error_label.text()
        assert not dlg.import_button.isEnabled() and dlg.preview is None
        assert dlg.do_import() is False
        dlg.reject()
    s = store.open_store()
    assert s.plan_records() == {} and s.operations() == []
    assert not (tmp_path / "data" / "store.gpkg").exists()
    assert w.editing.act_undo.text() == "撤销（无可撤销的操作）" and not w.editing.act_undo.isEnabled()


def test_long_work_runs_in_a_worker_and_stops_on_cancel(qtbot, env, tmp_path, monkeypatch):
    import planatlas.layers.importer as importer
    from planatlas.layers.errors import Cancelled

    started = []

    def slow_preview(path, *, progress=None, cancel=None, **_kw):
        started.append(1)
        for i in range(6000):                      # a long parse, stopped only by cancel()
            progress(i / 6000, "places")
            if cancel():
                raise Cancelled("stopped")
            import time
            time.sleep(0.005)
        raise AssertionError("cancel was not seen")
    monkeypatch.setattr(importer, "preview_plan", slow_preview)
    w = open_window(qtbot, tmp_path)
    dlg = w.editing.import_dialog(DALIAN)
    assert dlg.busy and dlg.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dlg.progress.value() > 0, timeout=10_000)   # the GUI thread is free
    with qtbot.waitSignal(dlg.previewFinished, timeout=10_000) as fin:
        dlg.cancel_button.click()
    assert fin.args == ["cancelled"] and not dlg.busy and started
    assert dlg.preview is None and not dlg.import_button.isEnabled()
    assert store.open_store().plan_records() == {}


def test_refusals_are_shown_in_the_ui_language(tmp_path):
    """Every refusal of the readers is translated; in English it reads as the reader wrote it."""
    from planatlas.desktop import i18n
    from planatlas.desktop.import_dialog import refusal_text
    from planatlas.layers.importer import read_source

    cases = [b"", bytes(range(256)) * 64, b"\x89PNG\r\n", b"PK\x03\x04broken", b"\xd0\xcf\x11\xe0old",
             _scanned_pdf(tmp_path / "s.pdf").read_bytes(), tmp_path / "missing.txt", tmp_path]
    messages = []
    for data in cases:
        with pytest.raises(Exception) as exc:
            read_source(data, name="规划.txt") if isinstance(data, bytes) else read_source(data)
        messages.append(str(exc.value))
    try:
        for m in messages:
            i18n.set_language("zh")
            zh = refusal_text(m)
            assert zh != m and "：" in zh, m
            i18n.set_language("en")
            assert refusal_text(m) == m
    finally:
        i18n.set_language("zh")
