"""What happens once when the main window starts: Qt's own translations, the first layout and
the first framing, fitting a restored window onto the screen it now opens on.

* **Qt's dialogs in Chinese**: the file, colour and message dialogs and the OK/Cancel buttons
  are Qt's; :func:`install_qt_translations` loads the ``qtbase_zh_CN`` catalogue PySide6 ships
  (``QLibraryInfo.TranslationsPath``) when the UI is Chinese and removes it for English.
* **First start**: the default plan is framed when the map has its real size — the window's
  layout only settles after it is shown, so :class:`FirstFrame` re-frames the plan on every
  resize of the map until the user moves it.
* **Restore**: a saved geometry bigger than the current screen, or off it (a monitor that is
  gone), is fitted into the screen's available area.
"""
from __future__ import annotations

import signal

from PySide6.QtCore import QEvent, QLibraryInfo, QLocale, QObject, Qt, QTimer, QTranslator
from PySide6.QtWidgets import QApplication

__all__ = ["install_qt_translations", "fit_to_screen", "default_layout", "FirstFrame",
           "quit_on_sigint", "DOCK_SHARE"]

_translators: list[QTranslator] = []
# share of the window each dock area gets at a first start (the map keeps ≥ 60 % each way)
DOCK_SHARE = {"left": (0.16, 220, 320), "right": (0.21, 280, 440), "bottom": (0.17, 130, 230)}


def install_qt_translations(lang: str) -> bool:
    """Qt's own strings (standard buttons, file and colour dialogs) in ``lang``; True if a
    catalogue was loaded."""
    app = QApplication.instance()
    for t in _translators:
        if app is not None:
            app.removeTranslator(t)
    _translators.clear()
    if lang != "zh" or app is None:
        return False
    path = QLibraryInfo.path(QLibraryInfo.TranslationsPath)
    loaded = False
    for name in ("qtbase", "qt"):
        t = QTranslator(app)
        if t.load(QLocale(QLocale.Chinese, QLocale.China), name, "_", path):
            app.installTranslator(t)
            _translators.append(t)
            loaded = True
            break                     # qt_zh_CN only includes qtbase_zh_CN again
    return loaded


def fit_to_screen(win) -> bool:
    """Shrink/move ``win`` into the available area of its screen; True if it had to."""
    screen = win.screen() or QApplication.primaryScreen()
    if screen is None:
        return False
    avail = screen.availableGeometry()
    if win.isMaximized() or win.isFullScreen():
        return False
    frame = win.frameGeometry()
    extra_w, extra_h = frame.width() - win.width(), frame.height() - win.height()
    w = min(win.width(), avail.width() - extra_w)
    h = min(win.height(), avail.height() - extra_h)
    changed = (w, h) != (win.width(), win.height())
    if changed:
        win.resize(max(w, 200), max(h, 150))
        frame = win.frameGeometry()
    x = min(max(frame.x(), avail.x()), avail.right() - frame.width() + 1)
    y = min(max(frame.y(), avail.y()), avail.bottom() - frame.height() + 1)
    if (x, y) != (frame.x(), frame.y()):
        win.move(x, y)
        changed = True
    return changed


def _share(size: int, key: str) -> int:
    frac, lo, hi = DOCK_SHARE[key]
    return int(min(max(size * frac, lo), hi))


def default_layout(win) -> None:
    """Dock sizes for a first start: layers over search on the left, the plan text on the
    right (raised: it is what the map is framed on), the site list below."""
    w, h = max(win.width(), 800), max(win.height(), 600)
    d = win.docks
    win.resizeDocks([d["layers"], d["feature"]], [_share(w, "left"), _share(w, "right")],
                    Qt.Horizontal)
    win.resizeDocks([d["sites"]], [_share(h, "bottom")], Qt.Vertical)
    rest = h - _share(h, "bottom") - 120
    win.resizeDocks([d["layers"], d["search"]], [int(rest * 0.6), int(rest * 0.4)], Qt.Vertical)
    d["plan"].raise_()


class FirstFrame(QObject):
    """Frame ``bbox`` on the canvas now and again whenever the canvas is resized, until anything
    else moves the map (the user, a search, a clause) or the user presses on it."""

    def __init__(self, canvas, bbox):
        super().__init__(canvas)
        self.canvas = canvas
        self.bbox = tuple(bbox)
        self._framing = False
        canvas.installEventFilter(self)
        canvas.viewCommitted.connect(self._committed)
        self._reframe()

    def _committed(self, view) -> None:
        if self.bbox is not None and not self._framing:
            self.stop()

    def eventFilter(self, obj, ev) -> bool:
        t = ev.type()
        if t == QEvent.Resize:
            QTimer.singleShot(0, self._reframe)
        elif t in (QEvent.MouseButtonPress, QEvent.Wheel, QEvent.KeyPress):
            self.stop()
        return False

    def _reframe(self) -> None:
        if self.bbox is not None:
            self._framing = True
            try:
                self.canvas.frame_bbox(self.bbox)
            finally:
                self._framing = False

    def stop(self) -> None:
        if self.bbox is not None:
            self.bbox = None
            self.canvas.removeEventFilter(self)
            self.canvas.viewCommitted.disconnect(self._committed)


def quit_on_sigint(app) -> None:
    """Ctrl+C (SIGINT) or SIGTERM in the terminal closes the windows — saving the layout —
    instead of killing the process (Python only sees signals while it runs, hence the timer)."""
    def close(*_a):
        QTimer.singleShot(0, app.closeAllWindows)
    signal.signal(signal.SIGINT, close)
    signal.signal(signal.SIGTERM, close)
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)
    app._planatlas_signal_timer = timer
