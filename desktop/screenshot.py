"""Render the real main window offscreen, framed on a plan, and save it as PNG.

    from planatlas.desktop.screenshot import screenshot
    screenshot("guangzhou", (1600, 1000), "/tmp/gz.png")

The window is built with throw-away settings (nothing of the user's layout is read or written),
so the picture is reproducible. The PNG is written durably (:func:`planatlas.layers.fsutil.durable_path`).
"""
from __future__ import annotations

import os
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
    win.canvas.repaint()
    QApplication.processEvents()
    return win.grab().toImage()


def screenshot(plan: str | None, size: tuple[int, int], out: str, *, atlas=None) -> None:
    """Render the main window of ``size`` (w, h) framed on plan ``plan`` to PNG ``out``; with
    ``plan`` None, the window as a first start shows it (framed on the default plan)."""
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
            img = grab_window(win, (w, h))
        finally:
            win.close()
            win.deleteLater()
            app.processEvents()
    from planatlas.layers.fsutil import WriteFailed, durable_path

    with durable_path(out_path) as tmp_png:
        if not img.save(str(tmp_png), "PNG"):
            raise WriteFailed("Qt could not write the PNG")
