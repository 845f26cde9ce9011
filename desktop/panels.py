"""The main window's docked panels, built when they are first needed.

``planatlas`` shows the map first and builds the panels a moment later (after the map's first
paint); anything that asks for a panel before then (a test, a menu action, a search) builds it
at once. :class:`LazyPanelsMixin` gives the window an attribute per panel in :data:`PANELS`.
"""
from __future__ import annotations

import importlib

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

__all__ = ["PANELS", "LazyPanelsMixin"]

# attribute -> (dock, module of planatlas.desktop, class, dock area, how it follows a language change)
PANELS = {
    "layers_panel": ("layers", "layers_panel", "LayersPanel", Qt.LeftDockWidgetArea, "rebuild"),
    "search_panel": ("search", "search_panel", "SearchPanel", Qt.LeftDockWidgetArea, "retranslate"),
    "feature_panel": ("feature", "feature_panel", "FeaturePanel", Qt.RightDockWidgetArea, "retranslate"),
    "plan_panel": ("plan", "plan_panel", "PlanPanel", Qt.RightDockWidgetArea, "retranslate"),
    "site_panel": ("sites", "site_table", "SiteListPanel", Qt.BottomDockWidgetArea, "retranslate"),
}


class LazyPanelsMixin:
    """For the main window: ``self.docks`` holds a dock per panel (first with an empty widget),
    ``self.state`` is what the panels are built on."""
    _shown_plan: str | None = None

    def __getattr__(self, name: str):
        if name in PANELS:                     # a panel asked for before it was built
            return self._panel(name)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def _panel(self, attr: str) -> QWidget:
        dock, module, cls, _area, _r = PANELS[attr]
        widget = getattr(importlib.import_module(f"planatlas.desktop.{module}"), cls)(self.state)
        self.__dict__[attr] = widget
        self.docks[dock].setWidget(widget)
        if attr == "plan_panel" and self._shown_plan:
            widget.show_plan(self._shown_plan)
        return widget

    def build_panels(self) -> None:
        """Build the docked panels not built yet (`planatlas` does it after the map's first
        paint: the map shows first, the panels fill in a moment later)."""
        for attr in PANELS:
            if attr not in self.__dict__:
                self._panel(attr)

    def _show_plan(self, plan_id: str) -> None:
        self._shown_plan = plan_id
        if "plan_panel" in self.__dict__:
            self.plan_panel.show_plan(plan_id)
