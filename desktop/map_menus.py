"""Popups of the map's pan tool: the list of every feature under the cursor (identify), and the
right-click menu (what is here, copy coordinates in four systems, measure from here, bookmark).

Menus open with ``popup`` (never a blocking ``exec``) and are returned, so a test can trigger
their actions. They reach the main window only through methods it may have
(``set_map_tool``, ``add_bookmark_dialog``, ``statusBar``), so a bare canvas works too.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

from planatlas.desktop.i18n import category_label, crs_label, plan_name, tr
from planatlas.layers.coords import format_lonlat
from planatlas.layers.crs import CRS_NAMES

__all__ = ["identify_menu", "map_context_menu", "copy_coordinates", "feature_line",
           "coordinate_menu"]


def feature_line(atlas, fid: str) -> str:
    """``天河路商圈 · 商圈 · 广州市`` — how a feature is listed where several are offered."""
    f = atlas.features[fid]
    cats = "、".join(category_label(c, short=True) for c in f.categories)
    plans = "、".join(plan_name(atlas, p) for p in f.plans)
    return " · ".join(p for p in (f.name, cats, plans) if p)


def _status(canvas, text: str, ms: int = 8000) -> None:
    win = canvas.window()
    if hasattr(win, "statusBar"):
        win.statusBar().showMessage(text, ms)


def copy_coordinates(lon: float, lat: float, system: str, canvas=None) -> str:
    """Put "lon, lat" of a WGS-84 point in ``system`` on the clipboard; returns the text."""
    text = format_lonlat(lon, lat, system)
    QGuiApplication.clipboard().setText(text)
    if canvas is not None:
        _status(canvas, tr("status.copied", crs=crs_label(system), text=text))
    return text


def coordinate_menu(menu: QMenu, lon: float, lat: float, canvas=None) -> QMenu:
    """Add one "copy" action per coordinate system (with the value it copies) to ``menu``."""
    for system in CRS_NAMES:
        a = menu.addAction(f"{crs_label(system)}\t{format_lonlat(lon, lat, system)}")
        a.setData(system)
        a.triggered.connect(lambda _c=False, s=system: copy_coordinates(lon, lat, s, canvas))
    return menu


def identify_menu(canvas, hits: list[str], global_pos: QPoint) -> QMenu:
    """Every feature under the cursor: pick one to select it, or select them all."""
    state = canvas.state
    menu = QMenu(canvas)
    head = menu.addAction(tr("map.hits", n=len(hits)))
    head.setEnabled(False)
    for fid in hits:
        a = menu.addAction(feature_line(state.atlas, fid))
        a.setData(fid)
        a.setCheckable(True)
        a.setChecked(fid == state.current_feature)
        a.triggered.connect(lambda _c=False, f=fid: state.select_features([f], current=f))
    menu.addSeparator()
    every = menu.addAction(tr("map.select_all", n=len(hits)))
    every.setData("*")
    every.triggered.connect(lambda: state.select_features(hits, current=hits[0]))
    menu.popup(global_pos)
    return menu


def map_context_menu(canvas, pos: QPointF, global_pos: QPoint) -> QMenu:
    """Right-click on the map."""
    lon, lat = canvas.lonlat_at(pos)
    win = canvas.window()
    menu = QMenu(canvas)
    here = menu.addAction(tr("map.what_here"))
    here.setData("what_here")

    def what_here():
        hits = canvas.identify(pos.x(), pos.y())
        if len(hits) > 1:
            tool = canvas.active_tool
            tool.menu = identify_menu(canvas, hits, global_pos)
        elif not hits:
            _status(canvas, tr("map.nothing_here", coords=format_lonlat(lon, lat, "wgs84", 5)))
    here.triggered.connect(what_here)
    sub = coordinate_menu(menu.addMenu(tr("map.copy_coords")), lon, lat, canvas)
    sub.menuAction().setData("copy")
    menu.addSeparator()
    for key, tool in (("map.measure_here", "measure"), ("map.area_here", "measure_area")):
        a = menu.addAction(tr(key))
        a.setData(tool)

        def start(_c=False, name=tool):
            if hasattr(win, "set_map_tool"):
                win.set_map_tool(name)
            else:
                canvas.set_tool(name)
            canvas.active_tool.add_point(lon, lat)
        a.triggered.connect(start)
    if hasattr(win, "editing"):                 # a place of the user's own: edit, move, delete
        win.editing.context_actions(menu, pos)
    if hasattr(win, "add_bookmark_dialog"):
        menu.addSeparator()
        b = menu.addAction(tr("map.bookmark_here"))
        b.setData("bookmark")
        b.triggered.connect(lambda: win.add_bookmark_dialog(center=(lon, lat)))
    menu.popup(global_pos)
    return menu
