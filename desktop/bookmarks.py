"""Bookmarks of the main window: one-click extents of each plan area (by the plan's name) and
the user's own views (saved in QSettings as JSON under ``bookmarks``)."""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import QInputDialog

from planatlas.desktop.i18n import plan_name, tr

__all__ = ["BookmarksMixin"]


class BookmarksMixin:
    """Needs ``atlas``, ``state``, ``canvas``, ``settings``, ``persist``, ``menu_bookmarks``,
    ``actions_by_key``, ``plan_bbox`` and ``frame_plan`` on the window."""
    user_bookmarks: list[dict[str, Any]]

    def _fill_bookmarks(self) -> None:
        m = self.menu_bookmarks
        m.clear()
        head = m.addAction(tr("bookmarks.plans"))
        head.setEnabled(False)
        for pid, plan in self.atlas.plans.items():
            try:
                self.plan_bbox(pid)
            except KeyError:
                continue
            a = m.addAction(plan_name(self.atlas, pid))
            a.triggered.connect(lambda _c=False, p=pid: self.frame_plan(p))
        m.addSeparator()
        head = m.addAction(tr("bookmarks.user"))
        head.setEnabled(False)
        for bm in self.user_bookmarks if hasattr(self, "user_bookmarks") else []:
            a = m.addAction(bm["name"])
            a.triggered.connect(lambda _c=False, b=tuple(bm["bbox"]): self.state.frame(b))
        m.addSeparator()
        m.addAction(self.actions_by_key["act.add_bookmark"])
        rm = m.addMenu(tr("act.remove_bookmark"))
        if not getattr(self, "user_bookmarks", None):
            rm.addAction(tr("bookmarks.none")).setEnabled(False)
        for i, bm in enumerate(getattr(self, "user_bookmarks", [])):
            a = rm.addAction(bm["name"])
            a.triggered.connect(lambda _c=False, k=i: self.remove_bookmark(k))

    def add_bookmark(self, name: str, bbox: tuple[float, float, float, float] | None = None) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a bookmark needs a name")
        if bbox is None:
            bbox = self.canvas.view.extent_lonlat()
        self.user_bookmarks = [b for b in self.user_bookmarks if b["name"] != name]
        self.user_bookmarks.append({"name": name, "bbox": [float(v) for v in bbox]})
        self._save_bookmarks()

    def remove_bookmark(self, index: int) -> None:
        del self.user_bookmarks[index]
        self._save_bookmarks()

    def _save_bookmarks(self) -> None:
        if self.persist:
            self.settings.setValue("bookmarks", json.dumps(self.user_bookmarks, ensure_ascii=False))
            self.settings.sync()

    def add_bookmark_dialog(self, center: tuple[float, float] | None = None) -> None:
        """Ask for a name and bookmark the current view (moved to be centred on ``center``)."""
        name, ok = QInputDialog.getText(self, tr("act.add_bookmark"), tr("bookmarks.name"))
        if ok and name.strip():
            bbox = None
            if center is not None:
                x0, y0, x1, y1 = self.canvas.view.extent_lonlat()
                hw, hh = (x1 - x0) / 2, (y1 - y0) / 2
                bbox = (center[0] - hw, center[1] - hh, center[0] + hw, center[1] + hh)
            self.add_bookmark(name, bbox)
