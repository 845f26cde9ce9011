"""The desktop's single source of truth (napari-style model/view split).

``AtlasState`` holds what the user sees and has chosen: visible layers (plan × category), layer
styles, the selection (feature ids), the current feature, the selected clause, the map extent
and the language. Canvas, panels and the site list change things only through it and listen to
its signals, so e.g. "click a clause" is ONE call (``select_clause``) that updates the map, the
feature panel, the plan panel and the site list together.
"""
from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import QObject, Signal

from planatlas.desktop.render import MapScene, MapView

__all__ = ["AtlasState"]


class AtlasState(QObject):
    layersChanged = Signal()                 # visibility or style of a layer changed
    selectionChanged = Signal(list)          # selected feature ids (ordered)
    currentFeatureChanged = Signal(str)      # feature shown in the feature panel ("" = none)
    clauseChanged = Signal(str)              # selected clause id ("" = none)
    frameRequested = Signal(tuple)           # (minlon, minlat, maxlon, maxlat) to show
    viewChanged = Signal(object)             # MapView after pan/zoom/resize
    hoverChanged = Signal(str)               # feature under the mouse ("" = none)
    languageChanged = Signal(str)            # "zh" | "en"

    def __init__(self, atlas: Any, scene: MapScene | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.atlas = atlas
        self.scene = scene if scene is not None else MapScene.from_atlas(atlas)
        self._selection: list[str] = []
        self._current: str = ""
        self._clause: str = ""
        self._hover: str = ""
        self.view: MapView | None = None
        self.language = "zh"

    # ------------------------------------------------------------- layers
    @property
    def layers(self) -> list[tuple[str, str]]:
        return list(self.scene.layers)

    @property
    def visible_layers(self) -> set[tuple[str, str]]:
        return set(self.scene.visible)

    def is_layer_visible(self, key: tuple[str, str]) -> bool:
        return tuple(key) in self.scene.visible

    def set_layer_visible(self, key: tuple[str, str], on: bool) -> None:
        key = tuple(key)
        if (key in self.scene.visible) == bool(on):
            return
        self.scene.set_visible(key, bool(on))
        self.layersChanged.emit()

    def set_layers_visible(self, keys: Iterable[tuple[str, str]], on: bool | None = None) -> None:
        """With ``on`` None: exactly ``keys`` visible. Else switch ``keys`` on/off together."""
        keys = [tuple(k) for k in keys]
        if on is None:
            new = set(keys)
        elif on:
            new = self.scene.visible | set(keys)
        else:
            new = self.scene.visible - set(keys)
        new &= set(self.scene.layers)
        if new == self.scene.visible:
            return
        self.scene.set_visible_layers(new)
        self.layersChanged.emit()

    def set_layer_style(self, key: tuple[str, str], *, color: str | None = None,
                        size: float | None = None) -> None:
        self.scene.set_style(tuple(key), color=color, size=size)
        self.layersChanged.emit()

    # ------------------------------------------------------------- selection
    @property
    def selection(self) -> list[str]:
        return list(self._selection)

    @property
    def current_feature(self) -> str:
        return self._current

    @property
    def clause(self) -> str:
        return self._clause

    def select_features(self, ids: Iterable[str], *, current: str | None = None,
                        frame: bool = False, keep_clause: bool = False) -> None:
        """Select features (unknown ids are ignored). ``current`` goes to the feature panel."""
        ids = list(dict.fromkeys(i for i in ids if i in self.scene.index))
        changed = ids != self._selection
        self._selection = ids
        if changed:
            self.scene.set_selection(ids)
        if not keep_clause and self._clause:
            self._clause = ""
            self.clauseChanged.emit("")
        if current is None:
            current = ids[0] if len(ids) == 1 else (self._current if self._current in ids else "")
        if changed:
            self.selectionChanged.emit(list(ids))
        if current != self._current:
            self._current = current
            self.currentFeatureChanged.emit(current)
        if frame and ids:
            self.frame_features(ids)

    def clear_selection(self) -> None:
        self.select_features([])

    def select_clause(self, clause_id: str, *, frame: bool = True) -> None:
        """Select a clause: its features become the selection and are framed on the map."""
        if not clause_id:
            if self._clause:
                self._clause = ""
                self.clauseChanged.emit("")
            return
        self.atlas.clause(clause_id)        # raises KeyError for an unknown clause
        ids = [f for f in self.atlas.features_of(clause_id) if f in self.scene.index]
        self._clause = clause_id
        self.clauseChanged.emit(clause_id)
        current = self._current if self._current in ids else (ids[0] if ids else "")
        self.select_features(ids, current=current, keep_clause=True)
        if frame and ids:
            self.frame_features(ids)

    # ------------------------------------------------------------- map extent
    def frame(self, lonlat_bbox: tuple[float, float, float, float]) -> None:
        self.frameRequested.emit(tuple(float(v) for v in lonlat_bbox))

    def frame_features(self, ids: Iterable[str]) -> None:
        bbox = self.scene.bbox_lonlat(ids)
        if bbox is not None:
            self.frame(bbox)

    def set_view(self, view: MapView) -> None:
        if view != self.view:
            self.view = view
            self.viewChanged.emit(view)

    def set_hover(self, fid: str | None) -> None:
        fid = fid or ""
        if fid != self._hover:
            self._hover = fid
            self.hoverChanged.emit(fid)

    @property
    def hover(self) -> str:
        return self._hover

    def set_language(self, lang: str) -> None:
        if lang not in ("zh", "en"):
            raise ValueError(f"language must be 'zh' or 'en', got {lang!r}")
        if lang != self.language:
            self.language = lang
            self.languageChanged.emit(lang)
