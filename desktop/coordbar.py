"""The status bar's coordinate readout: the point under the mouse in WGS-84, GCJ-02, BD-09 and
CGCS2000 (each can be hidden); a click opens a menu to copy the point in any of them."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QToolButton

from planatlas.desktop.i18n import crs_label, tr
from planatlas.desktop.map_menus import coordinate_menu
from planatlas.layers.coords import to_crs
from planatlas.layers.crs import CRS_NAMES

__all__ = ["CoordinateReadout"]


class CoordinateReadout(QToolButton):
    def __init__(self, canvas, parent=None, shown=CRS_NAMES):
        super().__init__(parent)
        self.canvas = canvas
        self.shown = [s for s in CRS_NAMES if s in shown] or ["wgs84"]
        self.lonlat: tuple[float, float] | None = None
        self.setAutoRaise(True)
        self.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.setPopupMode(QToolButton.InstantPopup)
        self.menu_ = QMenu(self)
        self.menu_.aboutToShow.connect(self._fill)
        self.setMenu(self.menu_)
        self.retranslate()

    def retranslate(self) -> None:
        self.setToolTip(tr("status.coords_tip"))
        self.show_point(*self.lonlat) if self.lonlat else self.setText("")

    def show_point(self, lon: float, lat: float) -> None:
        self.lonlat = (float(lon), float(lat))
        parts = []
        for system in self.shown:
            x, y = to_crs(lon, lat, system) if system != "wgs84" else (lon, lat)
            parts.append(f"{tr('status.' + system)} {x:.5f}, {y:.5f}")
        self.setText("   ".join(parts))

    def set_shown(self, systems) -> None:
        self.shown = [s for s in CRS_NAMES if s in systems] or ["wgs84"]
        if self.lonlat:
            self.show_point(*self.lonlat)

    def _fill(self) -> None:
        m = self.menu_
        m.clear()
        if self.lonlat is not None:
            head = m.addAction(tr("map.copy_coords"))
            head.setEnabled(False)
            coordinate_menu(m, *self.lonlat, self.canvas)
            m.addSeparator()
        show = m.addMenu(tr("status.show_crs"))
        for system in CRS_NAMES:
            a = show.addAction(crs_label(system))
            a.setCheckable(True)
            a.setChecked(system in self.shown)
            a.toggled.connect(lambda on, s=system: self.set_shown(
                [x for x in CRS_NAMES if (x in self.shown and x != s) or (x == s and on)]))
