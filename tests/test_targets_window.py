"""The Targets window (pytest-qt, offscreen): table, click → clause on the map, charts rendered
to PNG with real Chinese glyphs, exports; the canonical indicator in the feature panel."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

from planatlas.desktop import i18n  # noqa: E402
from planatlas.layers import charts  # noqa: E402
from planatlas.layers.atlas import load_atlas  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


@pytest.fixture(scope="module")
def main_window(qapp, atlas, tmp_path_factory):
    """One main window for the module (building it on the real atlas takes seconds)."""
    from planatlas.desktop.app import MainWindow
    i18n.set_language("zh")
    ini = tmp_path_factory.mktemp("settings") / "s.ini"
    win = MainWindow(atlas, settings=QSettings(str(ini), QSettings.IniFormat), persist=False,
                     restore=False)
    win.resize(1200, 800)
    win.show()
    yield win
    win.close()
    win.deleteLater()
    i18n.set_language("zh")


@pytest.fixture
def tw(main_window, qtbot):
    main_window.actions_by_key["act.targets"].trigger()       # View › 目标对比… (Ctrl+T)
    win = main_window.targets_window
    win.resize(1300, 800)
    qtbot.waitExposed(win)
    yield win
    if i18n.language() != "zh":
        main_window.set_language("zh")
    win.set_plans(win.plan_ids)
    win.set_indicator(None)
    win.tabs.setCurrentIndex(0)


def _column(tw, key):
    from planatlas.desktop.targets_window import COLUMNS
    return COLUMNS.index(key)


def _cells(tw, col):
    return [tw.proxy.index(r, col).data() for r in range(tw.proxy.rowCount())]


def _busy_fraction(png: bytes) -> float:
    img = QImage.fromData(png).convertToFormat(QImage.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
    px = arr.reshape(img.height(), img.bytesPerLine() // 4, 4)[:, :img.width(), :3]
    return float((px.min(axis=2) < 245).mean())          # share of pixels that are not white


def test_menu_opens_one_window_with_every_mapped_target(tw, main_window, atlas):
    assert tw.isVisible() and tw.windowTitle().startswith("目标对比")
    main_window.actions_by_key["act.targets"].trigger()
    assert main_window.targets_window is tw                      # raised, not duplicated
    keys = set(_cells(tw, _column(tw, "tcol.indicator")))
    assert {"社会消费品零售总额", "商圈数量", "集装箱吞吐量"} <= keys
    assert "其他" not in keys and tw.proxy.rowCount() == len(tw.rows) > 100
    assert "已归类目标" in tw.status.text()


def test_filter_sort_and_click_shows_the_clause_on_the_map(tw, main_window, qtbot, atlas):
    tw.set_indicator("retail_sales")
    assert set(_cells(tw, _column(tw, "tcol.plan"))) == {"滨海新区", "中山市", "海门区"}
    col = _column(tw, "tcol.display")
    tw.table.sortByColumn(col, Qt.DescendingOrder)
    values = [float(v.replace(",", "")) for v in _cells(tw, col)]
    assert values == sorted(values, reverse=True)               # numeric, not text order
    tw.set_indicator("business_districts")
    row = 0
    clause = tw.proxy.index(row, 0).data(Qt.UserRole + 2)
    rect = tw.table.visualRect(tw.proxy.index(row, _column(tw, "tcol.clause")))
    qtbot.mouseClick(tw.table.viewport(), Qt.LeftButton, pos=rect.center())
    assert main_window.state.clause == clause == "guangzhou:二.(二).5"
    # the target's places (the five 商圈 enumerated before 5个), not all 26 of its clause
    tid = tw.proxy.index(row, 0).data(Qt.UserRole + 3)
    assert main_window.state.selection == atlas.places_of_target(tid)
    assert "gz-tianhe-road-zhujiang-new-town" in main_window.state.selection
    assert len(main_window.state.selection) < len(atlas.features_of(clause))
    tw.set_plans(["binhai"])
    assert tw.proxy.rowCount() == 0 and "规划（1/5）" in tw.plans_button.text()


@pytest.mark.parametrize("name", ["bars", "timeline", "growth"])
def test_charts_render_to_png_with_chinese_glyphs(tw, name, tmp_path):
    tw.tabs.setCurrentIndex(1 + ["bars", "timeline", "growth"].index(name))   # draws it
    fig = tw.chart(name)
    assert charts.missing_glyphs(fig) == set()                  # every character has a glyph
    texts = "".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
    assert any("\u4e00" <= ch <= "\u9fff" for ch in texts)      # and there is Chinese to draw
    canvas = tw.canvases[name]
    canvas.draw()
    shot = canvas.grab().toImage()
    path = tmp_path / f"{name}-screen.png"
    assert shot.width() > 300 and shot.height() > 200 and shot.save(str(path), "PNG")
    assert _busy_fraction(path.read_bytes()) > 0.03             # not blank
    tw.set_indicator("retail_sales")                            # exports: one panel is enough
    svg = tw.export_chart(name, tmp_path / f"{name}.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "<text" not in svg                 # text as glyph outlines
    png = tw.export_chart(name, tmp_path / f"{name}.png").read_bytes()
    assert png[:4] == b"\x89PNG" and _busy_fraction(png) > 0.03


def test_empty_selection_draws_a_message_not_an_error(tw):
    tw.set_indicator("retail_sales")
    tw.set_plans(["guangzhou"])
    assert tw.rows == []
    assert charts.missing_glyphs(tw.chart("bars")) == set()
    assert _busy_fraction(charts.png_bytes(tw.chart("growth"), dpi=60)) > 0.0005


def test_english_ui(tw, main_window):
    main_window.set_language("en")
    assert tw.windowTitle().startswith("Targets at a glance")
    header = [tw.model.headerData(i, Qt.Horizontal) for i in range(tw.model.columnCount())]
    assert header[:3] == ["Plan", "Indicator", "Year"]
    tw.set_indicator("retail_sales")
    assert "Retail sales of consumer goods" in _cells(tw, _column(tw, "tcol.indicator"))
    bars = tw.chart("bars")
    assert "Retail sales of consumer goods: targets by plan" in [a.get_title(loc="left") for a in bars.axes]


def test_feature_panel_shows_the_canonical_indicator(main_window):
    panel = main_window.feature_panel
    main_window.state.select_features(["hm-tonghai-terminal"], current="hm-tonghai-terminal")
    table = panel.targets
    col = table.cols.index("col.canonical")
    labels = [table.item(r, col).text() for r in range(table.rowCount())]
    assert "集装箱吞吐量" in labels
    row = labels.index("集装箱吞吐量")
    assert "集装箱吞吐量" in table.item(row, col).toolTip()        # the evidence
    assert table.horizontalHeaderItem(col).text() == "规范指标"
