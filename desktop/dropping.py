"""Files dropped on the main window, dispatched by type through ONE place.

``install(win, plan_handler=…, data_handler=…)`` makes the window accept drops (ONE event filter
on the window; the canvas passes drops up to it) and returns the :class:`Drops` object,
``win.drops``; a second call sets the other handler on the same object:

* plan texts (:data:`PLAN_SUFFIXES`: ``.txt``, ``.pdf``, ``.docx``, and ``.doc`` so that an old
  Word file gets its clear refusal) go to ``plan_handler(paths)`` — the import dialog
  (:mod:`planatlas.desktop.editing`);
* everything else goes to ``data_handler(paths)`` — the user's data layers (shapefiles, CSV,
  GeoPackage, tiles …: :mod:`planatlas.desktop.userdata_ui` sets ``ctl.add_paths``). Without
  one, such files are refused with a message naming them; without a plan handler, plan texts
  go to the data handler too.

:func:`split_paths` is the one rule deciding which is which (tests and scripts use it too).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Signal

from planatlas.desktop.i18n import tr

__all__ = ["PLAN_SUFFIXES", "split_paths", "Drops", "install"]

PLAN_SUFFIXES = (".txt", ".text", ".pdf", ".docx", ".doc")


def split_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """(plan texts, other files) among dropped ``paths``, in the order given."""
    plans, others = [], []
    for p in paths:
        path = Path(p)
        (plans if path.suffix.lower() in PLAN_SUFFIXES and not path.is_dir() else others).append(path)
    return plans, others


class Drops(QObject):
    """The window's drop target: accepts local files, hands them on by type."""
    dispatched = Signal(list, list)          # plan paths, data paths (as str)
    refused = Signal(str)                    # data files dropped while no data handler is set

    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.plan_handler: Callable[[list[Path]], object] | None = None
        self.data_handler: Callable[[list[Path]], object] | None = None

    def eventFilter(self, obj, ev) -> bool:          # noqa: N802 - Qt API
        t = ev.type()
        if t in (QEvent.DragEnter, QEvent.DragMove):
            md = ev.mimeData()
            if md.hasUrls() and any(u.isLocalFile() for u in md.urls()):
                ev.acceptProposedAction()
                return True
            return False
        if t == QEvent.Drop and ev.mimeData().hasUrls():
            paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
            ev.acceptProposedAction()
            self.dispatch(paths)
            return True
        return False

    def dispatch(self, paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
        """Send plan texts to the import dialog and other files to the data hook."""
        plans, others = split_paths(paths)
        if self.plan_handler is None:
            plans, others = [], plans + others
        if others:
            if self.data_handler is not None:
                self.data_handler(others)
            else:
                msg = tr("drop.unsupported", files=", ".join(p.name for p in others[:3]),
                         plans=" ".join(PLAN_SUFFIXES))
                self.win.statusBar().showMessage(msg, 15000)
                self.refused.emit(msg)
        if plans:
            self.plan_handler(plans)
        self.dispatched.emit([str(p) for p in plans], [str(p) for p in others])
        return plans, others


def install(win, plan_handler: Callable[[list[Path]], object] | None = None, *,
            data_handler: Callable[[list[Path]], object] | None = None) -> Drops:
    """Make ``win`` accept dropped files (see the module docstring); sets ``win.drops`` once
    and the handlers given."""
    drops = getattr(win, "drops", None)
    if not isinstance(drops, Drops):
        drops = Drops(win)
        win.setAcceptDrops(True)
        win.installEventFilter(drops)
        win.canvas.setAcceptDrops(False)      # drops on the map go up to the window
        win.drops = drops
    if plan_handler is not None:
        drops.plan_handler = plan_handler
    if data_handler is not None:
        drops.data_handler = data_handler
    return drops
