"""Wiring the user's own data into the main window: the *Layer* menu, project actions in *File*,
the attribute-table and identify docks, layer context actions and drag-and-drop of files.

``install(win)`` is called once by :class:`planatlas.desktop.app.MainWindow`; it sets
``win.user_layers`` (:class:`~planatlas.desktop.userlayers.UserLayers`), ``win.projects``
(:class:`~planatlas.desktop.project_ui.ProjectUI`), ``win.attribute_table`` and ``win.identify_panel``.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from planatlas.desktop.attribute_table import AttributeTable
from planatlas.desktop.i18n import tr
from planatlas.desktop.identify_panel import IdentifyPanel
from planatlas.desktop.project_ui import ProjectUI
from planatlas.desktop.userlayers import UserLayers
from planatlas.layers.userdata import TILE_LAYER, USER_VECTOR

__all__ = ["install"]


def install(win) -> None:
    ctl = UserLayers(win.state, win.canvas, win)
    win.user_layers = ctl
    win.projects = ProjectUI(win)
    win.attribute_table = AttributeTable(ctl)
    win.identify_panel = IdentifyPanel(win.state, ctl)
    win._dock("attributes", win.attribute_table, Qt.BottomDockWidgetArea).hide()  # shown with a layer
    win._dock("identify", win.identify_panel, Qt.RightDockWidgetArea).hide()   # shown on a click
    ctl.message.connect(lambda text: win.statusBar().showMessage(text, 12000))
    ctl.layerAdded.connect(lambda lid: _show_attributes(win, lid))
    win.canvas.identified.connect(ctl.on_identified)
    win.canvas.identified.connect(win.identify_panel.show_hits)
    win.canvas.identified.connect(lambda hits: _show_identify(win, hits))
    _menus(win, ctl)
    win.layers_panel.menu_extensions.append(lambda menu, lid: _layer_actions(win, menu, lid))
    from planatlas.desktop.dropping import install as install_drops
    win._drops = install_drops(win, data_handler=ctl.add_paths)   # data files; plan texts: the importer
    win.state.languageChanged.connect(lambda _l: _retranslate(win))
    _retranslate(win)


def _menus(win, ctl: UserLayers) -> None:
    p = win.projects
    a_open = win._act("act.open_project", p.open_dialog, QKeySequence.Open)
    a_save = win._act("act.save_project", lambda: p.save_dialog(), QKeySequence.Save)
    a_save_as = win._act("act.save_project_as", lambda: p.save_dialog(ask=True), "Ctrl+Shift+S")
    first = win.menu_file.actions()[0] if win.menu_file.actions() else None
    win.menu_recent = QMenu(win)
    win.menu_recent.aboutToShow.connect(lambda: p.fill_recent(win.menu_recent))
    for a in (a_open, a_save, a_save_as):
        win.menu_file.insertAction(first, a)
    win.menu_file.insertMenu(first, win.menu_recent)
    win.menu_file.insertSeparator(first)
    win.menu_layer = QMenu(win)
    win.menuBar().insertMenu(win.menu_tools.menuAction(), win.menu_layer)
    win.menu_layer.addAction(win._act("act.add_vector", lambda: _add_vector_dialog(win), "Ctrl+Shift+V"))
    win.menu_layer.addAction(win._act("act.add_basemap", lambda: _add_basemap_dialog(win), "Ctrl+Shift+B"))
    win.menu_layer.addAction(win._act("act.add_basemap_dir", lambda: _add_folder_dialog(win)))
    win.menu_layer.addAction(win._act("act.add_online", lambda: _add_online_dialog(win)))
    win.menu_layer.addSeparator()
    win.menu_layer.addAction(win.docks["attributes"].toggleViewAction())
    win.menu_layer.addAction(win.docks["identify"].toggleViewAction())
    win.menu_panels.addAction(win.docks["attributes"].toggleViewAction())
    win.menu_panels.addAction(win.docks["identify"].toggleViewAction())


def _retranslate(win) -> None:
    for key, a in win.actions_by_key.items():
        a.setText(tr(key))
    win.menu_layer.setTitle(tr("menu.layer"))
    win.menu_recent.setTitle(tr("menu.recent"))
    for name in ("attributes", "identify"):
        win.docks[name].setWindowTitle(tr(f"dock.{name}"))
    win.attribute_table.retranslate()
    win.identify_panel.retranslate()


def _show_identify(win, hits: list[str]) -> None:
    if not any("#" in h for h in hits) and len(hits) < 2:
        return                       # one plan place: the feature panel shows it
    dock = win.docks["identify"]
    if not dock.isVisible() and "feature" in win.docks and win.docks["feature"].isVisible():
        win.tabifyDockWidget(win.docks["feature"], dock)
    dock.show()
    dock.raise_()


def _show_attributes(win, layer_id: str) -> None:
    layer = win.state.stack.get(layer_id)
    if layer is not None and layer.kind == USER_VECTOR:
        win.attribute_table.show_layer(layer_id)
        dock = win.docks["attributes"]
        if not dock.isVisible() and "sites" in win.docks and win.docks["sites"].isVisible():
            win.tabifyDockWidget(win.docks["sites"], dock)
        dock.show()
        dock.raise_()


def _layer_actions(win, menu: QMenu, layer_id: str) -> None:
    layer = win.state.stack.get(layer_id)
    if layer is None or layer.kind not in (USER_VECTOR, TILE_LAYER):
        return
    menu.addSeparator()
    if layer.kind == USER_VECTOR:
        menu.addAction(tr("act.style"), lambda: style_dialog(win, layer_id))
        menu.addAction(tr("act.attr_table"), lambda: (_show_attributes(win, layer_id),
                                                      win.docks["attributes"].show(),
                                                      win.docks["attributes"].raise_()))
    menu.addAction(tr("act.remove_layer"), lambda: win.user_layers.remove(layer_id))


def style_dialog(win, layer_id: str) -> None:
    from planatlas.desktop.userlayer_dialogs import StyleDialog
    layer = win.state.stack[layer_id]
    data = win.user_layers.data(layer_id)
    dlg = StyleDialog(layer, data.fields if data is not None else [], win)
    if dlg.exec():
        style, opacity = dlg.values()
        with win.state.stack.batch():
            win.state.stack.set_style(layer_id, **style)
            win.state.stack.set_opacity(layer_id, opacity)


def _add_vector_dialog(win) -> None:
    paths, _f = QFileDialog.getOpenFileNames(win, tr("act.add_vector"), "", tr("file.vector_filter"))
    for p in paths:
        win.user_layers.add_vector(p)


def _add_basemap_dialog(win) -> None:
    path, _f = QFileDialog.getOpenFileName(win, tr("act.add_basemap"), "", tr("file.basemap_filter"))
    if path:
        win.user_layers.add_basemap(path)


def _add_folder_dialog(win) -> None:
    path = QFileDialog.getExistingDirectory(win, tr("act.add_basemap_dir"))
    if path:
        win.user_layers.add_basemap(path)


def _add_online_dialog(win) -> None:
    from planatlas.desktop.userlayer_dialogs import OnlineSourceDialog
    dlg = OnlineSourceDialog(win)
    if dlg.exec():
        win.user_layers.add_online(dlg.source())
