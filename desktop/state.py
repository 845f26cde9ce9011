"""The desktop's single source of truth (napari-style model/view split).

``AtlasState`` holds what the user sees and has chosen: the layer stack (order, visibility,
opacity and style of every layer — :mod:`planatlas.layers.stack`), the selection (feature ids),
the current feature, the selected clause, the map extent and the language. Canvas, panels,
exports and the site list change things only through it and listen to its signals, so e.g.
"click a clause" is ONE call (``select_clause``) that updates the map, the feature panel, the
plan panel and the site list together.
"""
from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import QObject, Signal

from planatlas.desktop.render import MapScene, MapView, context
from planatlas.desktop.render.features import feature_owners
from planatlas.layers.stack import Layer, LayerStack, StackEvent, make_layer, plan_layer_id

__all__ = ["AtlasState", "LayerKey"]

LayerKey = str | tuple[str, str]      # a layer id, or (plan, category) for a plan layer


class AtlasState(QObject):
    layersChanged = Signal()                 # anything in the layer stack changed
    stackChanged = Signal(str, tuple)        # (event type, layer ids): added/removed/moved/…
    selectionChanged = Signal(list)          # selected feature ids (ordered)
    currentFeatureChanged = Signal(str)      # feature shown in the feature panel ("" = none)
    clauseChanged = Signal(str)              # selected clause id ("" = none)
    frameRequested = Signal(tuple)           # (minlon, minlat, maxlon, maxlat) to show
    viewChanged = Signal(object)             # MapView after pan/zoom/resize
    hoverChanged = Signal(str)               # feature under the mouse ("" = none)
    languageChanged = Signal(str)            # "zh" | "en"

    def __init__(self, atlas: Any, scene: MapScene | None = None, parent: QObject | None = None,
                 *, stack: LayerStack | None = None):
        super().__init__(parent)
        self.atlas = atlas
        self.scene = scene if scene is not None else MapScene.from_atlas(atlas)
        self.stack = stack if stack is not None else self.scene.default_stack()
        self._unsubscribe = self.stack.subscribe(self._stack_event)
        self._selection: list[str] = []
        self._current: str = ""
        self._clause: str = ""
        self._hover: str = ""
        self.view: MapView | None = None
        self.language = "zh"

    # ------------------------------------------------------------- layers
    def _stack_event(self, event: StackEvent) -> None:
        self.stackChanged.emit(event.type, event.ids)
        self.layersChanged.emit()

    @staticmethod
    def layer_id(key: LayerKey) -> str:
        return plan_layer_id(*key) if isinstance(key, tuple) else str(key)

    def layer(self, key: LayerKey) -> Layer:
        return self.stack[self.layer_id(key)]

    def render_context(self, *, scale: float = 1.0, selection: bool = True):
        """What the painter needs to draw the stack as the user sees it."""
        return context(self.scene, self.stack, scale=scale, lang=self.language,
                       selection=selection)

    def is_layer_visible(self, key: LayerKey) -> bool:
        return self.layer(key).visible

    def set_layer_visible(self, key: LayerKey, on: bool) -> None:
        self.stack.set_visible(self.layer_id(key), bool(on))

    def set_layers_visible(self, keys: Iterable[LayerKey], on: bool | None = None) -> None:
        """With ``on`` None: of the non-basemap layers exactly ``keys`` visible. Else switch
        ``keys`` on/off together. One change notification."""
        ids = {self.layer_id(k) for k in keys} & set(self.stack.ids())
        with self.stack.batch():
            if on is None:
                for layer in self.stack.find():
                    if layer.role != "basemap":
                        self.stack.set_visible(layer.id, layer.id in ids)
            else:
                self.stack.set_visibility(ids, bool(on))

    def set_layer_style(self, key: LayerKey, **style) -> None:
        """Change style keys of a layer (e.g. ``color="#123456", size=14``); None is ignored."""
        self.stack.set_style(self.layer_id(key), **{k: v for k, v in style.items() if v is not None})

    def set_layer_opacity(self, key: LayerKey, opacity: float) -> None:
        self.stack.set_opacity(self.layer_id(key), opacity)

    def set_overlay(self, kind: str, source: dict[str, Any]) -> Layer:
        """Show an overlay (``survey_report``, ``position_history``, …) with ``source``; it
        replaces the data of an overlay of that kind already in the stack."""
        layer_id = f"overlay/{kind}"
        if layer_id in self.stack:
            self.stack.set_source(layer_id, **source)
        else:
            self.stack.add(make_layer(kind, layer_id, source=source))
        return self.stack[layer_id]

    def remove_overlay(self, kind: str) -> None:
        if f"overlay/{kind}" in self.stack:
            self.stack.remove(f"overlay/{kind}")

    def feature_layer(self, fid: str) -> Layer | None:
        """The visible plan × category layer a feature is drawn in (None if hidden)."""
        run = feature_owners(self.render_context())
        i = self.scene.index.get(fid)
        if i is None or not run.own.visible[i]:
            return None
        return run.layers[int(run.own.owner[i])]

    def ids_in_view(self, view: MapView) -> list[str]:
        """Features shown in ``view`` (in a visible layer, bounds meeting the view)."""
        return self.scene.ids_in_view(view, feature_owners(self.render_context()).own.visible)

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

    def select_target(self, target_id: str, *, frame: bool = True) -> list[str]:
        """Select a target: its clause becomes the current clause (its text stays shown) and the
        place(s) the target is about are selected — its scope, or the mention nearest its number,
        else its clause's places (``Atlas.places_of_target``). Returns the selected ids."""
        t = self.atlas.target(target_id)           # KeyError for an unknown target
        if hasattr(self.atlas, "places_of_target"):
            ids = self.atlas.places_of_target(target_id)
        else:
            ids = self.atlas.features_of(t.clause)
        ids = [f for f in ids if f in self.scene.index]
        if t.clause != self._clause:
            self._clause = t.clause
            self.clauseChanged.emit(t.clause)
        current = self._current if self._current in ids else (ids[0] if ids else "")
        self.select_features(ids, current=current, keep_clause=True)
        if frame and ids:
            self.frame_features(ids)
        return ids

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
