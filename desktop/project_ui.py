"""Projects in the window: *File › Open project / Save project / Save project as / Recent*.

    win.projects.save("珠江.planatlas.json")     # layers, order, styles, plans shown, extent, bookmarks
    problems = win.projects.open("珠江.planatlas.json")   # missing files reported, skipped
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from planatlas.desktop.i18n import tr
from planatlas.layers.errors import InputError, OperationError
from planatlas.layers.project import (
    PROJECT_SUFFIX, Project, apply_project, load_project, recent_projects, save_project,
)

__all__ = ["ProjectUI"]


class ProjectUI:
    def __init__(self, win):
        self.win = win
        self.path: str | None = None
        self.last_problems: list[str] = []

    # ------------------------------------------------------------------ model
    def current(self) -> Project:
        win = self.win
        state = win.state
        plans = sorted({la.source["plan"] for la in state.stack.find(kind="plan_category")
                        if la.visible})
        return Project(state.stack, tuple(win.canvas.view.extent_lonlat()), plans,
                       list(getattr(win, "user_bookmarks", [])), win.windowTitle())

    def save(self, path: str | Path) -> Path:
        try:
            p = save_project(self.current(), path)
        except OSError as exc:
            raise OperationError(f"cannot save the project to {path}: {exc}") from None
        self.path = str(p)
        self.win.statusBar().showMessage(tr("project.saved", path=p), 8000)
        return p

    def open(self, path: str | Path, *, interactive: bool = False) -> list[str]:
        """Show the project; returns the problems (layers skipped and why)."""
        proj, problems = load_project(path)
        win = self.win
        state = win.state
        # a layer whose file is there but unreadable is skipped too, with the reason
        from planatlas.layers.tiles import open_tiles
        from planatlas.layers.userdata import REGISTRY
        for layer in list(proj.stack):
            try:
                if layer.kind == "user_vector":
                    REGISTRY.vector(layer)
                elif layer.kind == "tile_layer":
                    open_tiles(layer.source)
            except (InputError, OSError) as exc:
                problems.append(f"{exc} — skipped")
                proj.stack.remove(layer.id)
        apply_project(state.stack, proj)
        ctl = getattr(win, "user_layers", None)
        if ctl is not None:
            ctl._stack_changed("added", tuple(state.stack.ids()))
        if proj.bookmarks:
            win.user_bookmarks = [dict(b) for b in proj.bookmarks]
        if proj.extent:
            state.frame(proj.extent)
        self.path = str(path)
        self.last_problems = problems
        win.statusBar().showMessage(tr("project.opened", path=path), 8000)
        if problems and interactive:
            QMessageBox.warning(win, tr("act.open_project"),
                                tr("project.problems") + "\n\n" + "\n".join(problems))
        return problems

    # ------------------------------------------------------------------ dialogs
    def open_dialog(self) -> None:
        path, _f = QFileDialog.getOpenFileName(self.win, tr("act.open_project"), "",
                                               tr("project.filter"))
        if path:
            self._open_reporting(path)

    def _open_reporting(self, path: str) -> None:
        try:
            self.open(path, interactive=True)
        except InputError as exc:
            QMessageBox.warning(self.win, tr("act.open_project"), str(exc))

    def save_dialog(self, *, ask: bool = False) -> None:
        path = self.path
        if ask or not path:
            path, _f = QFileDialog.getSaveFileName(self.win, tr("act.save_project_as"),
                                                   f"PlanAtlas{PROJECT_SUFFIX}", tr("project.filter"))
        if path:
            try:
                self.save(path)
            except OperationError as exc:
                QMessageBox.warning(self.win, tr("act.save_project"), str(exc))

    def fill_recent(self, menu: QMenu) -> None:
        menu.clear()
        items = recent_projects()
        if not items:
            menu.addAction(tr("recent.none")).setEnabled(False)
        for p in items:
            menu.addAction(Path(p).name + "  —  " + str(Path(p).parent)).triggered.connect(
                lambda _c=False, path=p: self._open_reporting(path))
