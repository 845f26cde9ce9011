"""Render the real main window offscreen, framed on a plan, and save it as PNG.

    from planatlas.desktop.screenshot import screenshot
    screenshot("guangzhou", (1600, 1000), "/tmp/gz.png")

The window is built with throw-away settings (nothing of the user's layout is read or written),
so the picture is reproducible. The PNG is written durably (:func:`planatlas.layers.fsutil.durable_path`).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

__all__ = ["screenshot", "grab_window"]


def _app():
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    if app is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication(["planatlas-screenshot"])
    return app


def grab_window(win, size: tuple[int, int]):
    """Resize, show, settle and grab a MainWindow -> QImage."""
    from PySide6.QtWidgets import QApplication
    win.resize(int(size[0]), int(size[1]))
    win.show()
    for _ in range(3):
        QApplication.processEvents()
    win.canvas.commit()
    win.canvas.wait_for_frame()      # the map renders in a worker: take its finished frame
    win.canvas.repaint()
    QApplication.processEvents()
    return win.grab().toImage()


def _show_panel(win, panel: str | None, plan: str | None) -> None:
    if not panel:
        return
    if panel not in win.docks:
        raise ValueError(f"unknown panel {panel!r} (known: {', '.join(win.docks)})")
    if panel == "unlocated" and hasattr(win, "editing"):
        if plan is not None:
            win.editing.panel.set_plan(plan)
        win.editing.show_dock()
    else:
        win.docks[panel].show()
        win.docks[panel].raise_()


def screenshot(plan: str | None, size: tuple[int, int], out: str, *, atlas=None,
               layers=(), project: str | None = None, panel: str | None = None,
               tool: str | None = None,
               extent: tuple[float, float, float, float] | None = None) -> None:
    """Render the main window of ``size`` (w, h) to PNG ``out``: with ``project`` (a project
    file) opened and ``layers`` (files) added, framed on plan ``plan`` — or, without one, on
    the project's extent or the last layer added; with none of them, the window as a first
    start shows it. ``extent`` (a WGS-84 box) is shown instead; ``panel`` brings that dock to
    the front (its plan-specific view on ``plan``), ``tool`` makes that map tool active."""
    w, h = (int(size[0]), int(size[1]))
    if not (200 <= w <= 10000 and 150 <= h <= 10000):
        raise ValueError(f"screenshot size must be between 200x150 and 10000x10000, got {w}x{h}")
    out_path = Path(out)
    if out_path.suffix.lower() != ".png":
        raise ValueError(f"screenshot output must be a .png file, got {out!r}")
    if not out_path.parent.exists():
        raise FileNotFoundError(f"output folder {out_path.parent} does not exist")
    app = _app()
    from PySide6.QtCore import QSettings

    from planatlas.desktop.app import MainWindow
    from planatlas.desktop.fonts import ensure_fonts
    ensure_fonts()
    if atlas is None:
        from planatlas.layers.atlas import load_atlas
        atlas = load_atlas()
    if plan is not None and plan not in atlas.plans:
        raise KeyError(f"unknown plan {plan!r} (known: {', '.join(atlas.plans)})")
    with tempfile.TemporaryDirectory(prefix="planatlas-shot-") as tmp:
        settings = QSettings(os.path.join(tmp, "settings.ini"), QSettings.IniFormat)
        win = MainWindow(atlas, settings=settings, persist=False, restore=False)
        try:
            win.resize(w, h)
            win.show()
            app.processEvents()
            if plan is not None:
                win.frame_plan(plan)
            if project:
                for problem in win.projects.open(project):
                    print(f"planatlas screenshot: {problem}", file=sys.stderr)
            if layers:
                win.user_layers.interactive = False
                added = win.user_layers.add_paths(layers)
                for err in win.user_layers.errors:
                    print(f"planatlas screenshot: {err}", file=sys.stderr)
                if added and plan is None and not project:
                    win.user_layers.zoom_to_layer(added[-1].id)
            if extent is not None:
                win.state.frame(extent)
            _show_panel(win, panel, plan)
            if tool:
                from planatlas.desktop.maptools import TOOLS
                if tool not in TOOLS:
                    raise ValueError(f"unknown map tool {tool!r} (known: {', '.join(TOOLS)})")
                if tool == "move" and hasattr(win, "editing"):
                    win.editing.start_moving()          # also checks its toolbar button
                else:
                    win.set_map_tool(tool)
            app.processEvents()
            win.canvas.commit()
            win.user_layers.wait_tiles()      # online basemaps: cached, fetched or marked missing
            img = grab_window(win, (w, h))
        finally:
            win.close()
            win.deleteLater()
            app.processEvents()
    from planatlas.layers.fsutil import WriteFailed, durable_path

    with durable_path(out_path) as tmp_png:
        if not img.save(str(tmp_png), "PNG"):
            raise WriteFailed("Qt could not write the PNG")
