"""PlanAtlas desktop main window (PySide6, native Qt widgets).

    from planatlas.desktop.app import MainWindow, main
    win = MainWindow(atlas)          # any object with the layers.atlas.Atlas API (tests pass a small one)
    main([])                         # opens the window on the real atlas, returns the exit code

Everything the user changes goes through ``win.state`` (desktop.state.AtlasState); the canvas
and the panels listen to it. Settings (layout, visible layers, styles, last extent, language,
bookmarks) persist in QSettings.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QDockWidget, QLabel, QMainWindow, QToolBar,
    QWidget,
)

from planatlas.desktop import i18n
from planatlas.desktop.bookmarks import BookmarksMixin
from planatlas.layers.errors import InputError, OperationError
from planatlas.desktop.canvas import MapCanvas, format_distance
from planatlas.desktop.coordbar import CoordinateReadout
from planatlas.desktop.panels import PANELS, LazyPanelsMixin
from planatlas.desktop.fonts import ensure_fonts
from planatlas.desktop.i18n import tr
from planatlas.desktop.target_badges import show_target_badges
from planatlas.desktop.render import MapView
from planatlas.desktop.startup import (
    FirstFrame, default_layout, fit_to_screen, install_qt_translations, quit_on_sigint,
)
from planatlas.desktop.state import AtlasState
from planatlas.layers.stack import plan_layer_id

from .plaintext import critical

__all__ = ["MainWindow", "main", "ORG", "APP"]

ORG = "PlanAtlas"
APP = "PlanAtlas"
SETTINGS_VERSION = 1


class MainWindow(BookmarksMixin, LazyPanelsMixin, QMainWindow):
    def __init__(self, atlas: Any, *, settings: QSettings | None = None, persist: bool = True,
                 restore: bool = True, parent: QWidget | None = None, live: bool | None = None,
                 panels_after_paint: bool = False):
        super().__init__(parent)
        ensure_fonts()
        self.atlas = atlas
        self.settings = settings if settings is not None else QSettings(ORG, APP)
        self.persist = persist
        lang = str(self.settings.value("ui/language", "zh")) if restore else "zh"
        if lang not in i18n.LANGUAGES:
            lang = "zh"
        i18n.set_language(lang)
        install_qt_translations(lang)
        self.state = AtlasState(atlas, parent=self)
        self.state.language = lang
        self.canvas = MapCanvas(self.state, self)
        if any(f.status == "verified" for f in atlas.features.values()):
            self.refresh_history_layer()
        self.setCentralWidget(self.canvas)
        self.docks: dict[str, QDockWidget] = {}
        self._shown_plan: str | None = None
        for dock, _m, _c, area, _r in PANELS.values():
            self._dock(dock, QWidget(), area)
        if panels_after_paint:           # `planatlas` start: the map first, the panels next
            self.canvas.firstPainted.connect(lambda: QTimer.singleShot(0, self.build_panels))
        else:
            self.build_panels()
        self.tabifyDockWidget(self.docks["feature"], self.docks["plan"])
        self.docks["feature"].raise_()
        self._layout_done = False
        self._build_actions()
        self._build_status()
        from planatlas.desktop.userdata_ui import install as install_user_data
        install_user_data(self)     # Layer menu, projects, attribute table, identify, drops
        from planatlas.desktop.store_live import StoreLink
        self.store_link = StoreLink(self, live=live)     # edits, colleagues' changes, conflicts
        from planatlas.desktop.editing import install as install_editing
        install_editing(self)       # Import plan, drops, Unlocated dock, place/move, Edit › Undo/Redo
        self.user_bookmarks: list[dict[str, Any]] = []
        self.state.selectionChanged.connect(self._selection_status)
        self.state.currentFeatureChanged.connect(self._show_feature_dock)
        self.state.selectionChanged.connect(
            lambda ids: self._show_feature_dock(ids[0]) if len(ids) == 1 else None)
        self.state.clauseChanged.connect(self._show_plan_dock)
        self.state.viewChanged.connect(self._view_status)
        self.canvas.cursorMoved.connect(self._cursor_status)
        self.canvas.measureChanged.connect(self._measure_status)
        self.resize(1500, 950)
        fit_to_screen(self)                       # a small screen: the default size fits it
        self._restored_view: MapView | None = None
        self._pending_plan: str | None = None     # framed once the map has its real size
        self.first_frame: FirstFrame | None = None
        if restore:
            self.restore_settings()
        self.retranslate()
        if self._restored_view is not None:
            self.canvas.set_view(self._restored_view)
        else:
            self.frame_plan(self._default_plan())
        self.store_link.start()

    # ------------------------------------------------------------------ construction
    def _dock(self, name: str, widget: QWidget, area) -> QDockWidget:
        d = QDockWidget(self)
        d.setObjectName(f"dock_{name}")
        d.setWidget(widget)
        d.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable |
                      QDockWidget.DockWidgetClosable)
        self.addDockWidget(area, d)
        self.docks[name] = d
        return d

    def _act(self, key: str, slot, shortcut=None, checkable=False) -> QAction:
        a = QAction(self)
        a.setData(key)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        self.actions_by_key[key] = a
        return a

    def _build_actions(self) -> None:
        self.actions_by_key: dict[str, QAction] = {}
        c = self.canvas
        self._act("act.quit", self.close, QKeySequence.Quit)
        self._act("act.zoom_in", lambda: c.zoom_by(2.0), QKeySequence.ZoomIn)
        self._act("act.zoom_out", lambda: c.zoom_by(0.5), QKeySequence.ZoomOut)
        self._act("act.zoom_full", c.zoom_full, "Ctrl+0")
        self._act("act.zoom_selection", lambda: self.state.frame_features(self.state.selection),
                  "Ctrl+J")
        self._act("act.clear_selection", self.state.clear_selection, "Ctrl+Shift+A")
        tools = QActionGroup(self)
        pan = self._act("act.pan", lambda: self.set_map_tool("pan"), "P", checkable=True)
        meas = self._act("act.measure", lambda: self.set_map_tool("measure"), "M", checkable=True)
        area = self._act("act.measure_area", lambda: self.set_map_tool("measure_area"), "Shift+M",
                         checkable=True)
        pan.setChecked(True)
        for a in (pan, meas, area):
            tools.addAction(a)
        self._act("act.search", self._focus_search, QKeySequence.Find)
        self._act("act.add_bookmark", self.add_bookmark_dialog, "Ctrl+D")
        langs = QActionGroup(self)
        for lang in i18n.LANGUAGES:
            a = self._act(f"act.lang_{lang}", lambda _c=False, lg=lang: self.set_language(lg),
                          checkable=True)
            a.setChecked(lang == i18n.language())
            langs.addAction(a)
        export = self._export_action()
        mb = self.menuBar()
        self.menu_file = mb.addMenu("")
        if export is not None:
            self.menu_export = self.menu_file.addMenu("")
            self.menu_export.addAction(export)
            self.menu_export.addAction(self._act("act.export_html", self.export_html_dialog))
            self.menu_export.addAction(self._act("act.export_data", self.export_data_dialog))
            self.menu_export.addAction(self._act("act.layout", self.open_layout))
        if importlib.util.find_spec("planatlas.desktop.survey_dialog") is not None:
            self.menu_file.addAction(self._act("act.survey", self.survey_dialog))
            self.menu_file.addAction(self._act("act.clear_survey",
                                               lambda: self.state.remove_overlay("survey_report")))
        self.menu_file.addAction(self._act("act.team_store", self.store_dialog))
        self.menu_file.addSeparator()
        self.menu_file.addAction(self.actions_by_key["act.quit"])
        self.menu_view = mb.addMenu("")
        for k in ("act.zoom_in", "act.zoom_out", "act.zoom_full", "act.zoom_selection",
                  "act.clear_selection"):
            self.menu_view.addAction(self.actions_by_key[k])
        self.menu_view.addSeparator()
        self.menu_panels = self.menu_view.addMenu("")
        for d in self.docks.values():
            self.menu_panels.addAction(d.toggleViewAction())
        self.menu_lang = self.menu_view.addMenu("")
        for lang in i18n.LANGUAGES:
            self.menu_lang.addAction(self.actions_by_key[f"act.lang_{lang}"])
        self.menu_view.addSeparator()
        self.menu_view.addAction(self._act("act.targets", self.open_targets, "Ctrl+T"))
        self.menu_view.addAction(self._act("act.target_badges", lambda on: show_target_badges(self, on),
                                           checkable=True))
        self.menu_tools = mb.addMenu("")
        for a in (pan, meas, area, self.actions_by_key["act.search"]):
            self.menu_tools.addAction(a)
        self.menu_bookmarks = mb.addMenu("")
        self.menu_bookmarks.aboutToShow.connect(self._fill_bookmarks)
        self._fill_bookmarks()
        tb = QToolBar(self)
        tb.setObjectName("toolbar_main")
        tb.setMovable(False)
        for k in ("act.zoom_in", "act.zoom_out", "act.zoom_full", "act.zoom_selection"):
            tb.addAction(self.actions_by_key[k])
        tb.addSeparator()
        for a in (pan, meas, area):
            tb.addAction(a)
        self.addToolBar(Qt.TopToolBarArea, tb)
        self.toolbar = tb

    def set_map_tool(self, name: str) -> None:
        """Make a map tool active (toolbar, Tools menu and the map's right-click menu)."""
        tool = self.canvas.set_tool(name)
        if name == "measure_area" and not getattr(tool, "_status_connected", False):
            tool.signals.changed.connect(self._area_status)
            tool._status_connected = True
        key = {"pan": "act.pan", "measure": "act.measure", "measure_area": "act.measure_area"}
        if name in key:
            self.actions_by_key[key[name]].setChecked(True)
        self._measure_status(0.0, 0)

    def _focus_search(self) -> None:
        self.docks["search"].show()
        self.docks["search"].raise_()
        self.search_panel.edit.setFocus()
        self.search_panel.edit.selectAll()

    def open_targets(self):
        from planatlas.desktop.targets_window import open_targets_window
        return open_targets_window(self)

    def _export_action(self) -> QAction | None:
        """Map export (desktop.export_map: title, legend, scale bar around desktop.render);
        the module is imported when used."""
        if importlib.util.find_spec("planatlas.desktop.export_map") is None:
            return None
        return self._act("act.export_png", self.export_map_dialog, "Ctrl+E")

    def export_map_dialog(self) -> dict | None:
        from planatlas.desktop.export_dialog import export_from_window
        return self._after_export(export_from_window(self, "map"))

    def open_layout(self):
        from planatlas.desktop.layout_window import open_layout_window
        return open_layout_window(self)

    def export_html_dialog(self) -> dict | None:
        from planatlas.desktop.export_dialog import export_from_window
        return self._after_export(export_from_window(self, "html"))

    def export_data_dialog(self) -> dict | None:
        from planatlas.desktop.export_dialog import export_from_window
        return self._after_export(export_from_window(self, "data"))

    def _after_export(self, info: dict | None) -> dict | None:
        if info:
            self.statusBar().showMessage(str(info.get("path", "")), 8000)
        return info

    def apply_accepted(self, ids: list) -> None:
        """Positions accepted from a survey show at once; the shipped ones stay as history."""
        from planatlas.layers.atlas import load_atlas
        fresh = load_atlas(reload=True)
        changed = [fresh.features[i] for i in ids if i in fresh.features]
        for f in changed:
            self.atlas.features[f.id] = f
            self.atlas.versions[f.id] = fresh.versions.get(f.id, 0)
        self.state.scene.replace_features(changed)
        self.site_panel.refresh_rows()
        self.canvas.invalidate()
        self.refresh_history_layer()
        self.statusBar().showMessage(tr("survey.saved", n=len(ids)), 10000)

    def refresh_history_layer(self) -> None:
        """The overlay of shipped positions of field-verified features, linked to the new ones."""
        try:
            from planatlas.layers.gazetteer import load_features
            shipped = {f.id: f for f in load_features()}
        except (OSError, ValueError):
            return
        moves = []
        for f in self.atlas.features.values():
            old = shipped.get(f.id)
            if f.status == "verified" and old is not None and not old.geometry.equals(f.geometry):
                a, b = old.geometry.representative_point(), f.geometry.representative_point()
                moves.append((f.id, a.x, a.y, b.x, b.y))
        if moves:
            self.state.set_overlay("position_history", {"moves": moves})
        else:
            self.state.remove_overlay("position_history")

    def show_survey_report(self, report) -> None:
        """The checked survey as a map layer: one square per row, coloured by status."""
        from planatlas.layers.survey import report_layer
        self.state.set_overlay("survey_report", {"points": report_layer(report)})

    def store_dialog(self) -> None:
        from planatlas.desktop.store_dialog import StoreDialog
        StoreDialog(self).exec()

    def survey_dialog(self) -> None:
        from planatlas.desktop.survey_dialog import SurveyDialog
        dlg = SurveyDialog(self.atlas, self)
        dlg.report_ready.connect(self.show_survey_report)
        dlg.accepted_features.connect(self.apply_accepted)
        dlg.exec()

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.lbl_hint = QLabel()
        self.lbl_hint.setStyleSheet("color:#777")
        self.lbl_measure = QLabel()
        self.lbl_selected = QLabel()
        self.lbl_zoom = QLabel()
        shown = str(self.settings.value("ui/coordinates", "wgs84,gcj02,bd09,cgcs2000")).split(",")
        self.lbl_coords = CoordinateReadout(self.canvas, shown=shown)
        sb.addWidget(self.lbl_hint, 1)
        sb.addPermanentWidget(self.lbl_measure)
        sb.addPermanentWidget(self.lbl_selected)
        sb.addPermanentWidget(self.lbl_zoom)
        sb.addPermanentWidget(self.lbl_coords)

    def retranslate(self) -> None:
        self.setWindowTitle(tr("app.title"))
        for name, d in self.docks.items():
            d.setWindowTitle(tr(f"dock.{name}"))
        for key, a in self.actions_by_key.items():
            a.setText(tr(key))
        self.menu_file.setTitle(tr("menu.file"))
        if getattr(self, "menu_export", None) is not None:
            self.menu_export.setTitle(tr("menu.export"))
        self.menu_view.setTitle(tr("menu.view"))
        self.menu_panels.setTitle(tr("menu.panels"))
        self.menu_lang.setTitle(tr("menu.language"))
        self.menu_tools.setTitle(tr("menu.tools"))
        self.menu_bookmarks.setTitle(tr("menu.bookmarks"))
        self.lbl_hint.setText(tr("tool.hint"))
        self.lbl_coords.retranslate()
        for attr, (*_rest, follow) in PANELS.items():
            if attr in self.__dict__:            # panels not built yet start in the language
                getattr(self.__dict__[attr], follow)()
        self._selection_status(self.state.selection)
        if self.state.view is not None:
            self._view_status(self.state.view)

    def set_language(self, lang: str) -> None:
        i18n.set_language(lang)
        install_qt_translations(lang)
        self.state.set_language(lang)
        self.actions_by_key[f"act.lang_{lang}"].setChecked(True)
        self.retranslate()

    # ------------------------------------------------------------------ plans
    def _default_plan(self) -> str | None:
        scene = self.state.scene
        best, n = None, -1
        for pid in self.atlas.plans:
            if pid not in scene.plans:
                continue
            cnt = int(scene.column_mask([k for k in scene.columns if k[0] == pid]).sum())
            if cnt > n:
                best, n = pid, cnt
        return best

    def plan_bbox(self, plan_id: str) -> tuple[float, float, float, float]:
        """Plan area extent (the basemap's, else the plan region's), else its features' extent."""
        if plan_id not in self.atlas.plans:
            raise KeyError(f"unknown plan {plan_id!r} (known: {', '.join(self.atlas.plans)})")
        from planatlas.layers.locate import plan_area_bbox
        area = plan_area_bbox(self.atlas, plan_id)
        if area is not None:
            return area
        ids = [f.id for f in self.atlas.features_for(plans=[plan_id])]
        bbox = self.state.scene.bbox_lonlat(ids)
        if bbox is None:
            raise KeyError(f"plan {plan_id!r} has neither a plan area nor features to frame")
        return bbox

    def frame_plan(self, plan_id: str | None) -> None:
        """Show the plan's area and its text. Before the window is shown (its map is not yet
        its real size) the plan is framed when it is."""
        if plan_id:
            self.plan_bbox(plan_id)                 # KeyError for an unknown plan, now
        if not self._layout_done:
            self._pending_plan = plan_id or None
            if plan_id:
                self._show_plan(plan_id)
            return
        if not plan_id:
            self.canvas.zoom_full()
            return
        self.state.frame(self.plan_bbox(plan_id))
        self._show_plan(plan_id)

    # ------------------------------------------------------------------ status bar
    def _cursor_status(self, lon: float, lat: float) -> None:
        self.lbl_coords.show_point(lon, lat)

    def _view_status(self, view: MapView) -> None:
        m = view.ground_resolution()
        self.lbl_zoom.setText(tr("status.zoom", z=view.zoom, m=format_distance(m) if m >= 1
                                 else f"{m:.2f} m"))

    def _selection_status(self, ids) -> None:
        self.lbl_selected.setText(tr("status.selected", n=len(ids)) if ids else "")

    def _measure_status(self, metres: float, segments: int) -> None:
        if segments:
            self.lbl_measure.setText(tr("status.measure", d=format_distance(metres), n=segments))
        elif self.canvas.tool == "measure":
            self.lbl_measure.setText(tr("status.measure_hint"))
        elif self.canvas.tool == "measure_area":
            self.lbl_measure.setText(tr("status.area_hint"))
        else:
            self.lbl_measure.setText("")

    def _area_status(self, area: float, perimeter: float, vertices: int) -> None:
        from planatlas.desktop.maptools import format_area
        if vertices:
            self.lbl_measure.setText(tr("status.area", a=format_area(area),
                                        p=format_distance(perimeter), n=vertices))
        else:
            self._measure_status(0.0, 0)

    def _show_feature_dock(self, fid: str) -> None:
        """A feature picked on the map or in a list shows its details; one that became current
        because a clause or target was picked does not hide that clause's text."""
        if fid and not self.state.clause:
            self.docks["feature"].raise_()

    def _show_plan_dock(self, cid: str) -> None:
        if cid and self.sender() is self.state and not self.feature_panel.isVisible():
            self.docks["plan"].raise_()

    # ------------------------------------------------------------------ settings
    def restore_settings(self) -> None:
        s = self.settings
        geo = s.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
            fit_to_screen(self)
        st = s.value("window/state")
        if st is not None:
            self.restoreState(st, SETTINGS_VERSION)
        self._restore_stack(s)
        ext = s.value("map/extent")
        if ext:
            try:
                self._restored_view = MapView.from_dict(json.loads(ext))
            except (ValueError, TypeError):
                self._restored_view = None
        try:
            bms = json.loads(s.value("bookmarks", "[]") or "[]")
            self.user_bookmarks = [b for b in bms if isinstance(b, dict) and "name" in b
                                   and len(b.get("bbox", [])) == 4]
        except (ValueError, TypeError):
            self.user_bookmarks = []

    def _restore_stack(self, s: QSettings) -> None:
        """Order, visibility, opacity and styles of the layers saved last time (layers this
        atlas no longer has are skipped; earlier versions saved plan layers only)."""
        try:
            saved = json.loads(s.value("map/stack", "") or "null")
            if saved is None:          # settings of PlanAtlas before the layer stack
                styles = json.loads(s.value("map/styles", "{}") or "{}")
                vis = set(json.loads(s.value("map/visible", "null") or "null") or styles)
                keys = {plan_layer_id(*k.split("|", 1)): k for k in {*vis, *styles}}
                saved = {"layers": [{"id": i, "visible": keys[i] in vis, "style": styles.get(keys[i], {})}
                                    for i in self.state.stack.ids() if i in keys]}
            self.state.stack.apply_state(saved)
        except (ValueError, TypeError, AttributeError):
            pass        # unreadable: keep the defaults

    def save_settings(self) -> None:
        if not self.persist:
            return
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(SETTINGS_VERSION))
        s.setValue("map/stack", json.dumps(self.state.stack.to_dict(sources=False),
                                           ensure_ascii=False))
        s.setValue("map/extent", json.dumps(self.canvas.view.to_dict()))
        s.setValue("ui/language", i18n.language())
        s.setValue("ui/coordinates", ",".join(self.lbl_coords.shown))
        s.setValue("bookmarks", json.dumps(self.user_bookmarks, ensure_ascii=False))
        s.sync()

    def default_layout(self) -> None:
        """Dock sizes for a first start (a saved layout replaces them): ``startup.default_layout``."""
        default_layout(self)

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        if not self._layout_done:
            self._layout_done = True
            if self.settings.value("window/state") is None or not self.persist:
                self.default_layout()
            if self._pending_plan:
                self.first_frame = FirstFrame(self.canvas, self.plan_bbox(self._pending_plan))
                self._show_plan(self._pending_plan)
                self._pending_plan = None

    def closeEvent(self, ev) -> None:
        self.store_link.stop()
        self.save_settings()
        super().closeEvent(ev)


def main(*, plan: str | None = None, lang: str | None = None, reset: bool = False,
         layers: list[str] | None = None, project: str | None = None) -> int:
    """Open the main window on the real atlas; returns the Qt exit code.

    ``reset`` forgets the saved layout and settings, ``lang`` ("zh"/"en") is saved as the UI
    language, ``plan`` is framed once the window has its size, ``project`` (a project file) is
    opened and ``layers`` (files: vector layers or basemaps) are added. (Argument parsing lives
    in :mod:`planatlas.desktop.cli`.)
    """
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "planatlas"])
    app.setOrganizationName(ORG)
    app.setApplicationName(APP)
    quit_on_sigint(app)
    ensure_fonts()
    settings = QSettings(ORG, APP)
    if reset:
        settings.clear()
    if lang:
        if lang not in i18n.LANGUAGES:
            raise InputError(f"--lang must be one of {', '.join(i18n.LANGUAGES)}, got {lang!r}")
        settings.setValue("ui/language", lang)
    settings.sync()
    try:
        from planatlas.desktop.store_live import load_atlas_noting
        atlas, notices = load_atlas_noting()
    except Exception as exc:  # noqa: BLE001 - show the reason instead of a traceback
        critical(None, "PlanAtlas", f"无法加载数据 / cannot load the atlas:\n{exc}")
        raise OperationError(f"cannot load the atlas: {exc}") from None
    if plan and plan not in atlas.plans:
        raise InputError(f"unknown plan {plan!r}; known plans: {', '.join(atlas.plans)}")
    win = MainWindow(atlas, settings=settings, panels_after_paint=True)
    if plan:
        win.frame_plan(plan)
    win.show()
    win.store_link.show_notices(notices)     # a quarantined store, offline work: said, not hidden
    return run_event_loop(app, win)


def run_event_loop(app, win) -> int:
    """``app.exec()`` (a separate function so a test can drive the window ``main`` built)."""
    del win
    return app.exec()
