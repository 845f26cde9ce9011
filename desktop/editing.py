"""Editing in the main window: importing plans, placing what the text names, Undo/Redo.

``install(window)`` (called once by :class:`planatlas.desktop.app.MainWindow`) adds

* *File › Import plan…* (Ctrl+I) and drag-and-drop of plan files (:mod:`.dropping`) → the
  import dialog (:mod:`.import_dialog`); an imported plan joins the atlas live: its layers, the
  plan panel, search, site list, bookmarks and the *Unlocated* dock;
* the *Unlocated* dock (:mod:`.unlocated_panel`) with the ``place`` and ``move`` map tools
  (:mod:`.placetools`) and the edit form (:mod:`.feature_edit`);
* *Edit › Undo / Redo* (Ctrl+Z, Ctrl+Y) over the store's operation log, the menu saying what
  will be undone ("撤销 放置 青泥洼商圈"); a refused undo shows the store's reason;
* *Edit › Edit place… / Delete place / Move places* for the places the user put on the map.

Every write goes through the window's store link (``window.store_link``), so a colleague's
newer change is a conflict, never overwritten. Sets ``window.editing``.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from planatlas.desktop import dropping
from planatlas.desktop.i18n import tr
from planatlas.desktop.placetools import PlaceRequest
from planatlas.desktop.target_badges import refresh_target_badges
from planatlas.desktop.unlocated_panel import UnlocatedPanel
from planatlas.layers.placing import PLACED_SOURCE

__all__ = ["Editing", "install", "op_label"]


def _subject(op) -> str:
    names = []
    for it in op.items:
        state = it.after or it.before or {}
        n = state.get("name") or state.get("title") or it.id
        if n not in names:
            names.append(n)
    if op.kind == "accept":
        return tr("op.accept_subject", n=len(op.items), src=op.source)
    if len(names) > 2:
        return tr("op.more", names="、".join(names[:2]), n=len(names))
    return "、".join(names)


def op_label(op) -> str:
    """What an operation of the log did, for a menu: "放置 青泥洼商圈" / "place 青泥洼商圈"."""
    return f"{tr('op.' + op.kind)} {_subject(op)}".strip()


class Editing(QObject):
    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.dialog = None
        self.queue: list[Path] = []
        self.panel = UnlocatedPanel(win.state)
        dock = win._dock("unlocated", self.panel, Qt.RightDockWidgetArea)
        dock.hide()            # until a plan is imported or the user opens it (View › Panels)
        dock.toggleViewAction().toggled.connect(lambda on: on and self.show_dock())
        self.panel.placeRequested.connect(self.start_placing)
        self.panel.editRequested.connect(self.edit_feature)
        self.panel.moveRequested.connect(self.move_feature)
        self.panel.deleteRequested.connect(self.delete_feature)
        self._actions()
        win.menu_panels.addAction(dock.toggleViewAction())
        dropping.install(win, self.import_files)
        win.store_link.opsApplied.connect(self.after_ops)
        win.state.languageChanged.connect(lambda _l: self.retranslate())
        win.state.currentFeatureChanged.connect(lambda _f: self._enable())
        win.state.clauseChanged.connect(self._follow_clause)
        self.retranslate()

    # ------------------------------------------------------------------ actions and menus
    def _actions(self) -> None:
        win = self.win
        self.act_import = win._act("act.import_plan", lambda: self.import_dialog(), "Ctrl+I")
        first = win.menu_file.actions()[0] if win.menu_file.actions() else None
        if first is None:
            win.menu_file.addAction(self.act_import)
        else:
            win.menu_file.insertAction(first, self.act_import)
            win.menu_file.insertSeparator(first)
        self.act_undo = QAction(win)                       # dynamic texts: not in actions_by_key
        self.act_undo.setShortcuts(QKeySequence.keyBindings(QKeySequence.Undo))
        self.act_undo.triggered.connect(self.undo)
        self.act_redo = QAction(win)
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        self.act_redo.triggered.connect(self.redo)
        self.act_edit = win._act("act.edit_place", lambda: self.edit_feature(), "F2")
        self.act_delete = win._act("act.delete_place", lambda: self.delete_feature(), QKeySequence.Delete)
        self.act_move = win._act("act.move_places", lambda: self.start_moving(), checkable=True)
        pan = win.actions_by_key.get("act.pan")
        if pan is not None and pan.actionGroup() is not None:
            pan.actionGroup().addAction(self.act_move)
        win.menu_tools.addAction(self.act_move)
        win.toolbar.addAction(self.act_move)
        for a in (self.act_undo, self.act_redo):
            win.addAction(a)                               # shortcuts work with the menu closed
        self.menu_edit = QMenu(win)
        win.menuBar().insertMenu(win.menu_view.menuAction(), self.menu_edit)
        for a in (self.act_undo, self.act_redo, None, self.act_edit, self.act_delete, self.act_move):
            if a is None:
                self.menu_edit.addSeparator()
            else:
                self.menu_edit.addAction(a)
        self.menu_edit.aboutToShow.connect(self.refresh_undo)
        win.canvas._tool("move").on_move = self.moved

    def _follow_clause(self, clause_id: str) -> None:
        """Picking a clause of another plan shows that plan's unlocated places."""
        pid = clause_id.split(":", 1)[0] if clause_id else ""
        if pid in self.win.atlas.plans:
            self.panel.set_plan(pid)

    def retranslate(self) -> None:
        self.menu_edit.setTitle(tr("menu.edit"))
        self.panel.retranslate()
        self.refresh_undo()

    def _enable(self) -> None:
        f = self.win.atlas.features.get(self.win.state.current_feature)
        mine = f is not None and f.origin == "user"
        self.act_edit.setEnabled(mine)
        self.act_delete.setEnabled(mine)

    def refresh_undo(self) -> None:
        """Say in the menu what Undo and Redo would do now (the store's log)."""
        from planatlas.layers.errors import PlanAtlasError

        store = self.win.store_link.store
        for act, peek, word in ((self.act_undo, "next_undo", "undo"), (self.act_redo, "next_redo", "redo")):
            try:
                op = getattr(store, peek)()
            except PlanAtlasError:
                op = None
            act.setEnabled(op is not None)
            act.setText(tr(f"edit.{word}", what=op_label(op)) if op is not None else tr(f"edit.{word}_none"))
        self._enable()

    # ------------------------------------------------------------------ import
    def import_dialog(self, path: str | Path | None = None):
        """Open the import dialog for ``path`` (asked for if None); returns the dialog."""
        from planatlas.desktop.import_dialog import ImportDialog

        if path is None:
            path, _f = QFileDialog.getOpenFileName(self.win, tr("act.import_plan"), "", tr("import.filter"))
            if not path:
                return None
        dlg = ImportDialog(self.win, path)
        dlg.imported.connect(self.join_plan)
        dlg.finished.connect(self._next_file)
        self.dialog = dlg
        dlg.open()
        dlg.start_preview()
        return dlg

    def import_files(self, paths: list[Path]) -> None:
        """Plan files dropped on the window: one import dialog after the other."""
        self.queue += list(paths)
        if self.dialog is None or not self.dialog.isVisible():
            self._next_file()

    def _next_file(self, *_a) -> None:
        if self.queue:
            self.import_dialog(self.queue.pop(0))

    def join_plan(self, plan) -> None:
        """An imported plan joins the atlas live: layers, panels, search, bookmarks."""
        win = self.win
        win.atlas.add_plan(plan)
        win.store_link.rebuild_scene()
        win.canvas.invalidate()
        self.plans_changed()
        self.panel.set_plan(plan.id)
        self.show_dock()
        try:
            win.frame_plan(plan.id)
        except KeyError:
            pass
        n = len(self.panel.items)
        win.statusBar().showMessage(tr("import.done", title=plan.title, n=n), 15000)
        self.refresh_undo()

    def show_dock(self) -> None:
        """Show the Unlocated dock as a tab next to the plan panel, in front."""
        win = self.win
        dock, plan = win.docks["unlocated"], win.docks.get("plan")
        if (plan is not None and dock not in win.tabifiedDockWidgets(plan) and not dock.isFloating()
                and win.dockWidgetArea(plan) == win.dockWidgetArea(dock)):
            win.tabifyDockWidget(plan, dock)
        dock.show()
        dock.raise_()

    def plans_changed(self) -> None:
        win = self.win
        if hasattr(win.plan_panel, "reload_plans"):
            win.plan_panel.reload_plans()
        win.site_panel.retranslate()               # refills the plan filter
        self.panel.reload_plans()
        refresh_target_badges(win)

    # ------------------------------------------------------------------ placing
    def start_placing(self, request: PlaceRequest) -> None:
        request.on_done = self.placed
        self.win.set_map_tool("place")
        tool = self.win.canvas.active_tool
        tool.start(request)
        self.win.canvas.setFocus()
        self.win.statusBar().showMessage(tr(f"place.hint_{request.kind}",
                                            m=f"{tool.precision():g}") + f" — {request.name}", 15000)

    def placed(self, request: PlaceRequest, geometry, precision_m: float):
        """The place tool finished: save the place through the store, back to panning."""
        op = self.win.store_link.place(request.name, geometry, request.plan, request.category,
                                       precision_m, PLACED_SOURCE, aliases=request.aliases or None)
        self.win.set_map_tool("pan")
        if op is not None:
            fid = op.ids[0]
            self.win.state.select_features([fid], current=fid)
            n = len(self.win.atlas.clauses_of(fid)) if hasattr(self.win.atlas, "clauses_of") else 0
            self.win.statusBar().showMessage(tr("place.done", name=request.name, n=n,
                                                m=f"{precision_m:g}"), 15000)
        return op

    def start_moving(self, fid: str | None = None) -> None:
        """The move tool; with ``fid``, that place is selected (its vertices get handles) and
        brought into view if it is not."""
        c = self.win.canvas
        self.win.set_map_tool("move")
        self.act_move.setChecked(True)
        if fid and fid in self.win.atlas.features:
            self.win.state.select_features([fid], current=fid)
            if fid not in self.win.state.ids_in_view(c.view):
                f = self.win.atlas.features[fid]
                x0, y0, x1, y1 = f.geometry.bounds
                pad = f.precision_m / 111_000                  # the place and its uncertainty
                self.win.state.frame((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
        self.win.statusBar().showMessage(tr("move.hint"), 15000)

    def move_feature(self, fid: str) -> None:
        self.start_moving(fid)

    def moved(self, fid: str, geometry):
        return self.win.store_link.move(fid, geometry)

    def _target(self, fid: str | None) -> str:
        fid = fid or self.win.state.current_feature
        f = self.win.atlas.features.get(fid)
        return fid if f is not None and f.origin == "user" else ""

    def context_actions(self, menu, pos) -> None:
        """Right-click on a place the user put on the map: edit, move or delete it."""
        feats = self.win.atlas.features
        mine = [f for f in self.win.canvas.hit_test(pos.x(), pos.y()) if getattr(feats.get(f), "origin", "") == "user"]
        if not mine:
            return
        fid = mine[0]
        menu.addSeparator()
        for key, slot in (("act.edit_place", self.edit_feature), ("unloc.move", self.move_feature),
                          ("act.delete_place", self.delete_feature)):
            a = menu.addAction(f"{tr(key)} · {feats[fid].name}")
            a.setData(f"place:{key}")
            a.triggered.connect(lambda _c=False, f=fid, s=slot: s(f))

    def edit_feature(self, fid: str | None = None):
        from planatlas.desktop.feature_edit import FeatureEditDialog

        fid = self._target(fid)
        if not fid:
            return None
        dlg = FeatureEditDialog(self.win, fid)
        dlg.open()
        self.edit_dialog = dlg
        return dlg

    def delete_feature(self, fid: str | None = None):
        fid = self._target(fid)
        if not fid:
            return None
        name = self.win.atlas.features[fid].name
        op = self.win.store_link.delete(fid)
        if op is not None:
            self.win.statusBar().showMessage(tr("edit.deleted", name=name), 10000)
        return op

    # ------------------------------------------------------------------ undo / redo
    def undo(self):
        return self._undo_redo("undo")

    def redo(self):
        return self._undo_redo("redo")

    def _undo_redo(self, word: str):
        link = self.win.store_link
        op = link.undo() if word == "undo" else link.redo()
        if op is not None:
            self.win.statusBar().showMessage(tr(f"edit.{word}_done", what=op_label(op)), 10000)
        self.refresh_undo()
        return op

    def after_ops(self, ops: list) -> None:
        """Operations reached the map (own or a colleague's): the lists and menus follow."""
        state = self.win.state
        if any(it.entity == "plan" for op in ops for it in op.items):
            self.plans_changed()
        else:
            self.panel.refresh()
            if hasattr(self.win.plan_panel, "reload_plans"):
                self.win.plan_panel.reload_plans()      # clause badges (◆n) follow
            refresh_target_badges(self.win)             # target badges on the map follow
        cur = state.current_feature if state.current_feature in state.scene.index else None
        state.select_features(state.selection, current=cur, keep_clause=True)   # drop what is gone
        changed = {it.id for op in ops for it in op.items}
        if state.current_feature in changed:
            self.win.feature_panel.show_feature(state.current_feature)
        self.refresh_undo()


def install(win) -> Editing:
    win.editing = Editing(win)
    return win.editing
