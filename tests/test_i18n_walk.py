"""Every string the main window and its dialogs show, in Chinese and in English.

The walk collects window titles, dock titles, menus and their actions (with submenus), labels,
buttons, placeholders, tooltips, combo-box items, tab titles, tree/list/table items and headers,
and the text of text views, with a feature, a clause and a survey loaded so that the panels are
full. It fails on

* an i18n key shown instead of its text (``sv.title``),
* in Chinese: a sentence in English (two or more Latin words and no Chinese character, or more
  letters of English words than Chinese characters) that is not a technical name (WGS-84,
  GeoJSON, PNG …), and any plan id (``guangzhou``) anywhere.
"""
from __future__ import annotations

import os
import html
import re

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QAbstractButton, QAbstractItemView, QComboBox, QDockWidget, QLabel, QLineEdit, QListWidget,
    QMenu, QPlainTextEdit, QTabWidget, QTextEdit, QTreeWidget, QWidget,
)

from planatlas.desktop.i18n import STRINGS  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# Latin words that are names, not sentences (formats, systems, units, the product)
TECHNICAL = {
    "planatlas", "wgs", "gcj", "bd", "cgcs", "epsg", "gps", "png", "pdf", "svg", "html", "geojson",
    "gpkg", "kml", "kmz", "gpx", "csv", "xlsx", "dpi", "km", "ha", "px", "zh", "en", "amap",
    "tencent", "baidu", "ctrl", "shift", "esc", "lon", "lat", "lng", "longitude", "latitude", "x",
    "y", "coordinates", "undo", "accept", "wpt", "rtept", "utf", "gbk", "gb", "placemark",
}
_WORDS = re.compile(r"[A-Za-z][A-Za-z']*(?:-[A-Za-z]+)*")
_HAN = re.compile(r"[\u3400-\u9fff]")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$")


def _model_texts(view: QAbstractItemView) -> list[str]:
    m = view.model()
    if m is None:
        return []
    out = []
    for orient, n in ((Qt.Horizontal, m.columnCount()), (Qt.Vertical, 0)):
        for i in range(n):
            out.append(m.headerData(i, orient, Qt.DisplayRole))
    rows = min(m.rowCount(), 60)
    for r in range(rows):
        for c in range(m.columnCount()):
            idx = m.index(r, c)
            out += [idx.data(Qt.DisplayRole), idx.data(Qt.ToolTipRole)]
    return [str(t) for t in out if t not in (None, "")]


def _tree_texts(tree: QTreeWidget) -> list[str]:
    out = []

    def visit(item):
        for c in range(item.columnCount()):
            out.extend([item.text(c), item.toolTip(c)])
        for i in range(item.childCount()):
            visit(item.child(i))
    for i in range(tree.topLevelItemCount()):
        visit(tree.topLevelItem(i))
    return out


def _menu_texts(menu: QMenu) -> list[str]:
    menu.aboutToShow.emit()                       # menus filled on demand (bookmarks, coordinates)
    out = [menu.title()]
    for a in menu.actions():
        out += [a.text(), a.toolTip() if a.toolTip() != a.text().replace("&", "") else ""]
        if a.menu() is not None:
            out += _menu_texts(a.menu())
    return out


def visible_strings(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) of every string ``root`` and its children show."""
    out: list[tuple[str, str]] = []

    def add(where, texts):
        for t in texts:
            if t:
                out.append((where, str(t)))
    add(type(root).__name__, [root.windowTitle()])
    for w in [root, *root.findChildren(QWidget)]:
        name = f"{type(w).__name__}:{w.objectName()}"
        add(name, [w.toolTip(), w.statusTip(), w.whatsThis()])
        if isinstance(w, QDockWidget):
            add(name, [w.windowTitle()])
        if isinstance(w, QLabel):
            add(name, [w.text()])
        elif isinstance(w, QAbstractButton):
            add(name, [w.text()])
            if getattr(w, "menu", None) and w.menu() is not None:
                add(name, _menu_texts(w.menu()))
        elif isinstance(w, QLineEdit):
            add(name, [w.placeholderText()])
        elif isinstance(w, QComboBox):
            add(name, [w.itemText(i) for i in range(w.count())])
        elif isinstance(w, QTabWidget):
            add(name, [w.tabText(i) for i in range(w.count())])
        elif isinstance(w, QTreeWidget):
            add(name, _tree_texts(w))
        elif isinstance(w, QListWidget):
            add(name, [w.item(i).text() for i in range(w.count())])
        elif isinstance(w, (QTextEdit,)):
            add(name, [w.toPlainText()])
        if isinstance(w, QAbstractItemView) and not isinstance(w, (QTreeWidget, QListWidget)):
            add(name, _model_texts(w))
        if isinstance(w, QMenu):
            add(name, _menu_texts(w))
    for a in root.actions():
        add("action", [a.text(), a.toolTip()])
    mb = getattr(root, "menuBar", None)
    if callable(mb):
        for a in mb().actions():
            if a.menu() is not None:
                add("menu", _menu_texts(a.menu()))
    return out


def problems(strings, lang: str, plan_ids) -> list[str]:
    bad = []
    ids = re.compile(r"(?<![A-Za-z])(?:" + "|".join(map(re.escape, plan_ids)) + r")(?![A-Za-z])",
                     re.IGNORECASE)
    for where, text in strings:
        if text.lstrip().startswith("<"):          # rich-text tooltips: read what they show
            text = html.unescape(re.sub(r"<[^>]+>", "\n", text))
        for line in text.splitlines() or [text]:
            s = line.strip()
            if not s:
                continue
            if _KEY.match(s) or s in STRINGS:
                bad.append(f"{where}: untranslated key {s!r}")
                continue
            if lang != "zh":
                continue
            if ids.search(s):
                bad.append(f"{where}: plan id in {s[:80]!r}")
            prose = [w for w in _WORDS.findall(s)
                     if len(w) > 1 and w.lower() not in TECHNICAL and not w.isupper()]
            han = len(_HAN.findall(s))
            if (not han and len(prose) >= 2) or (len(prose) >= 3 and sum(map(len, prose)) > han):
                bad.append(f"{where}: English sentence {s[:80]!r}")
    return sorted(set(bad))


@pytest.fixture(scope="module")
def atlas():
    from planatlas.layers.atlas import load_atlas
    return load_atlas()


def _survey_csv(path, atlas):
    from planatlas.layers.crs import wgs84_to_gcj02
    feats = [f for f in atlas.features.values() if f.geometry.geom_type == "Point"][:4]
    rows = ["名称,经度,纬度,备注"]
    for i, f in enumerate(feats):
        x, y = wgs84_to_gcj02(f.geometry.x + (0.01 if i == 0 else 0), f.geometry.y)
        rows.append(f"{f.name},{float(x):.6f},{float(y):.6f},已核查")
    rows.append("不存在的地点,113.3,23.1,")
    rows.append("坏坐标,abc,23.1,")
    path.write_text("\n".join(rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_visible_string_is_translated(qtbot, atlas, tmp_path, lang):
    from planatlas.desktop import i18n
    from planatlas.desktop.app import MainWindow
    from planatlas.desktop.export_dialog import ExportDialog
    from planatlas.desktop.map_menus import identify_menu, map_context_menu
    from planatlas.desktop.survey_dialog import SurveyDialog
    from planatlas.desktop.targets_window import open_targets_window

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    settings.setValue("ui/language", lang)
    win = MainWindow(atlas, settings=settings, persist=False)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    try:
        # a full window: a clause with its places, a feature with its record, a search, a target
        win.state.select_clause("guangzhou:二.(二).5")
        # a place whose curator note was written in English (shown in the UI language)
        fid = next(f.id for f in atlas.features.values()
                   if f.note and "guangzhou" in f.plans and not _HAN.search(f.note[:12]))
        win.state.select_features([fid], current=fid)
        win.search_panel.edit.setText("tianhelu")
        win.search_panel.run()
        win.lbl_coords.show_point(113.32, 23.11)
        strings = visible_strings(win)
        c = win.canvas
        hits = list(win.state.selection[:3]) or [fid]
        for m in (map_context_menu(c, c.rect().center(), c.mapToGlobal(c.rect().center())),
                  identify_menu(c, hits, c.mapToGlobal(c.rect().center())), win.lbl_coords.menu()):
            strings += [("popup", t) for t in _menu_texts(m)]
            m.close()
        win.search_panel.edit.setText("113.32,23.11 gcj02")
        win.search_panel.run()
        strings += [("search", win.search_panel.results.item(0).text())]
        for kind in ("map", "html", "data"):
            dlg = ExportDialog(kind, list(atlas.plans), win,
                               names=[i18n.plan_name(atlas, p) for p in atlas.plans])
            strings += visible_strings(dlg)
            dlg.deleteLater()
        from planatlas.desktop.layout_window import LayoutWindow
        lw = LayoutWindow(win)
        strings += visible_strings(lw)
        lw.close()
        sd = SurveyDialog(atlas, win)
        sd.set_file(_survey_csv(tmp_path / "survey.csv", atlas))
        with qtbot.waitSignal(sd.check_finished, timeout=60_000):
            sd.start_check()
        strings += visible_strings(sd)
        sd.deleteLater()
        tw = open_targets_window(win)
        qtbot.addWidget(tw)
        strings += visible_strings(tw)
        tw.close()
        assert len(strings) > 300
        bad = problems(strings, lang, list(atlas.plans))
        assert not bad, "\n".join(bad[:40])
    finally:
        win.close()
        i18n.set_language("zh")
