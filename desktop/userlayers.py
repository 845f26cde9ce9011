"""The user's own layers in the window: adding files and tile sources, selection, identify.

``UserLayers`` is the one place the window goes through for user data (the data and the
selection live Qt-free in :data:`planatlas.layers.userdata.REGISTRY`):

    ctl.add_paths(["parcels.shp", "pois.csv", "city.mbtiles"])     # drag-and-drop, --layer
    ctl.add_vector("pois.csv", crs="gcj02")                           # no dialog
    ctl.add_online({"url": "https://…/{z}/{x}/{y}.png", "datum": "gcj02"})
    ctl.select(layer_id, rows)                                        # map ⇄ attribute table

Reading shows a progress dialog with *Cancel*; a bad file shows one clear message. Tiles that
arrive from an online source in the background repaint the map (coalesced).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWidget

from planatlas.desktop.i18n import tr
from planatlas.layers.errors import Cancelled, InputError
from planatlas.layers.stack import Layer
from planatlas.layers.tiles import TILE_SUFFIXES, open_tiles, tile_kind
from planatlas.layers.userdata import (
    REGISTRY, TILE_LAYER, USER_VECTOR, VectorData, is_vector_file, parse_feature_id, tile_layer,
    vector_layer,
)
from planatlas.layers.userdata.vector import TABLE_SUFFIXES, lonlat_of_merc

__all__ = ["UserLayers", "CRS_CHOICES"]

CRS_CHOICES = ("auto", "wgs84", "cgcs2000", "gcj02", "bd09")


class UserLayers(QObject):
    selectionChanged = Signal(str, object)        # layer id, who changed it (or None)
    layerAdded = Signal(str)
    message = Signal(str)
    _tileArrived = Signal()

    def __init__(self, state, canvas, parent: QWidget | None = None, *, interactive: bool = True):
        super().__init__(parent)
        self.state = state
        self.canvas = canvas
        self.parent_widget = parent
        self.interactive = interactive
        self.errors: list[str] = []
        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(120)
        self._repaint.timeout.connect(self.canvas.invalidate)
        self._tileArrived.connect(self._repaint.start, Qt.QueuedConnection)
        state.stackChanged.connect(self._stack_changed)
        self._stack_changed("added", tuple(state.stack.ids()))

    # ------------------------------------------------------------------ reading
    def data(self, layer_id: str) -> VectorData | None:
        layer = self.state.stack.get(layer_id)
        if layer is None or layer.kind != USER_VECTOR:
            return None
        try:
            return REGISTRY.vector(layer)
        except (InputError, OSError):
            return None

    def user_layers(self) -> list[Layer]:
        return [la for la in self.state.stack if la.kind in (USER_VECTOR, TILE_LAYER)]

    def _stack_changed(self, _kind: str, ids: tuple) -> None:
        for lid in ids:                   # online sources tell the map when a tile arrives
            layer = self.state.stack.get(lid)
            if layer is not None and layer.kind == TILE_LAYER:
                try:
                    src = open_tiles(layer.source)
                except (InputError, OSError):
                    continue
                if getattr(src, "kind", "") == "online":
                    src.on_tile = lambda *_t: self._tileArrived.emit()

    def _fail(self, text: str) -> None:
        self.errors.append(text)
        self.message.emit(text)
        if self.interactive:
            QMessageBox.warning(self.parent_widget, tr("user.error"), text)

    def _progress(self, name: str):
        if not self.interactive:
            return None, None
        dlg = QProgressDialog(tr("user.loading", name=name), tr("user.cancel"), 0, 1000,
                              self.parent_widget)
        dlg.setWindowModality(Qt.WindowModal)
        dlg.setMinimumDuration(400)

        def cb(done: int, total: int) -> bool:
            dlg.setValue(int(1000 * done / max(total, 1)))
            QApplication.processEvents()
            return not dlg.wasCanceled()
        return dlg, cb

    def add_vector(self, path: str | Path, *, crs: str | None = None, layer: str | None = None,
                   name: str | None = None) -> Layer | None:
        """Read a vector file or table and add it on top of the user's layers."""
        p = Path(path)
        if crs is None:
            crs = self._ask_crs(p) if self.interactive else "auto"
            if crs is None:
                return None
        if layer is None and self.interactive and p.suffix.lower() not in TABLE_SUFFIXES:
            layer = self._ask_layer(p)
        dlg, cb = self._progress(p.name)
        try:
            rec, data = vector_layer(p, layer=layer, crs=crs, taken=self.state.stack.ids(),
                                     name=name, progress=cb)
        except Cancelled as exc:
            self.message.emit(str(exc))
            return None
        except (InputError, OSError) as exc:
            self._fail(str(exc))
            return None
        finally:
            if dlg is not None:
                dlg.close()
        self.state.stack.add(rec)
        note = data.crs_note + ("; " + "; ".join(data.messages) if data.messages else "")
        self.message.emit(tr("user.added", name=rec.title(self.state.language), n=f"{data.n:,}",
                             crs=note))
        self.layerAdded.emit(rec.id)
        return rec

    def add_basemap(self, path_or_source: str | Path | dict[str, Any], *,
                    name: str | None = None) -> Layer | None:
        """Add a tile or image basemap above the basemap's land and water fills."""
        source = dict(path_or_source) if isinstance(path_or_source, dict) else {"path": str(path_or_source)}
        try:
            rec = tile_layer(source, taken=self.state.stack.ids(), name=name)
        except (InputError, OSError) as exc:
            self._fail(str(exc))
            return None
        stack = self.state.stack
        below = [i for i, la in enumerate(stack.layers) if la.kind in ("districts", "water")]
        stack.add(rec, (max(below) + 1) if below else 0)
        self.message.emit(tr("user.added", name=rec.title(self.state.language), n="—",
                             crs=rec.source.get("datum", "wgs84")))
        self.layerAdded.emit(rec.id)
        return rec

    def add_online(self, source: dict[str, Any], *, name: str | None = None) -> Layer | None:
        return self.add_basemap({**source, "type": "online"}, name=name or source.get("name"))

    def add_paths(self, paths: Iterable[str | Path]) -> list[Layer]:
        """Files dropped on the window or given with --layer: basemaps and vector layers."""
        added = []
        for p in paths:
            p = Path(p)
            kind = tile_kind(p) if (p.is_dir() or p.suffix.lower() in TILE_SUFFIXES) else None
            if kind is not None and not (kind == "raster" and _has_no_georef(p)):
                rec = self.add_basemap(p)
            elif is_vector_file(p) or p.is_file():
                rec = self.add_vector(p)
            else:
                self._fail(f"{p}: no such file")
                rec = None
            if rec is not None:
                added.append(rec)
        return added

    def remove(self, layer_id: str) -> None:
        layer = self.state.stack.get(layer_id)
        if layer is None:
            return
        self.state.stack.remove(layer_id)
        REGISTRY.clear_selection(layer_id)

    def wait_tiles(self, timeout: float = 8.0) -> bool:
        """Let online sources finish the tiles asked for (screenshots); True if all settled."""
        import time
        from planatlas.layers.tiles import OnlineXYZSource
        deadline = time.monotonic() + timeout
        for _round in range(3):               # a frame may ask for more (e.g. after failures)
            self.canvas.invalidate()          # the next frame (rendered in the canvas' worker)
            self.canvas.wait_for_frame()      # asks for the tiles it shows
            QApplication.processEvents()
            sources = []
            for la in self.state.stack.visible_layers():
                if la.kind == TILE_LAYER:
                    try:
                        src = open_tiles(la.source)
                    except (InputError, OSError):
                        continue
                    if isinstance(src, OnlineXYZSource):
                        sources.append(src)
            if not any(s.pending() for s in sources):
                break
            while any(s.pending() for s in sources) and time.monotonic() < deadline:
                QApplication.processEvents()
                time.sleep(0.02)
        self.canvas.invalidate()              # the frame taken next shows the settled tiles
        return not any(s.pending() for s in sources)

    # ------------------------------------------------------------------ selection
    def select(self, layer_id: str, rows, *, source=None) -> None:
        REGISTRY.select(layer_id, rows)
        self.canvas.invalidate()
        self.selectionChanged.emit(layer_id, source)

    def on_identified(self, hits: list[str]) -> None:
        """A click on the map: the user features hit become the selection of their layers."""
        per: dict[str, list[int]] = {}
        for h in hits:
            parsed = parse_feature_id(h)
            if parsed:
                per.setdefault(parsed[0], []).append(parsed[1])
        top = None
        for h in hits:
            parsed = parse_feature_id(h)
            if parsed:
                top = parsed
                break
        for lid in [la.id for la in self.state.stack if la.kind == USER_VECTOR]:
            rows = [top[1]] if top and top[0] == lid else []
            if rows or len(REGISTRY.selected(lid)):
                self.select(lid, rows)

    def zoom_to_rows(self, layer_id: str, rows) -> None:
        data = self.data(layer_id)
        rows = np.asarray(rows, dtype=np.int64)
        if data is None or not len(rows):
            return
        if data.bounds is None:
            xs0 = xs1 = data.mx[rows]
            ys0 = ys1 = data.my[rows]
        else:
            b = data.bounds[rows]
            xs0, ys0, xs1, ys1 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
        lon0, lat0 = lonlat_of_merc(xs0.min(), ys0.min())
        lon1, lat1 = lonlat_of_merc(xs1.max(), ys1.max())
        self.state.frame((float(lon0), float(lat0), float(lon1), float(lat1)))

    def zoom_to_layer(self, layer_id: str) -> None:
        from planatlas.desktop.render import renderer_for
        layer = self.state.stack.get(layer_id)
        if layer is None:
            return
        box = renderer_for(layer.kind).extent(layer, self.state.render_context())
        if box is not None:
            self.state.frame(box)

    # ------------------------------------------------------------------ dialogs
    def _ask_crs(self, path: Path) -> str | None:
        from planatlas.desktop.userlayer_dialogs import ask_crs
        if path.suffix.lower() not in TABLE_SUFFIXES and _file_crs(path):
            return "auto"
        return ask_crs(self.parent_widget, path.name)

    def _ask_layer(self, path: Path) -> str | None:
        from planatlas.layers.userdata.vector import list_layers
        try:
            names = list_layers(path)
        except InputError:
            return None
        if len(names) < 2:
            return None
        from planatlas.desktop.userlayer_dialogs import ask_layer
        return ask_layer(self.parent_widget, path.name, names)


def _file_crs(path: Path) -> str | None:
    try:
        import pyogrio
        return pyogrio.read_info(str(path)).get("crs")
    except Exception:                   # noqa: BLE001 - unreadable: the reader will say why
        return "unknown"


def _has_no_georef(path: Path) -> bool:
    """A PNG/JPEG without a world file is not a basemap (it may be a table's picture)."""
    if path.suffix.lower() in (".tif", ".tiff"):
        return False
    return not any(path.with_suffix(s).exists() for s in (".pgw", ".pngw", ".jgw", ".jpgw", ".wld"))
