"""The layer stack: the ordered list of everything the map draws (Qt-free model).

    stack = default_stack(atlas)                  # today's map, bottom layer first
    stack.set_visible(plan_layer_id("guangzhou", "scenic_area"), False)
    stack.set_style("plan/guangzhou/night_economy", color="#123456", size=14)
    stack.move_group("plan:binhai", +1)           # a whole plan above its neighbour
    text = json.dumps(stack.to_dict())            # project files, layout templates
    again = LayerStack.from_dict(json.loads(text))

A :class:`LayerStack` holds :class:`~planatlas.layers.layer.Layer` records in paint order
(index 0 is painted first, at the bottom). Every change goes through it, bumps ``revision`` and
tells its subscribers, so a Qt wrapper can re-emit signals; the canvas, the image exports and
the layers panel all read the same stack. Layer records and the open registry of layer kinds
live in :mod:`planatlas.layers.layer` (re-exported here).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from planatlas.layers.layer import (
    CATEGORY_SHAPES, SHAPES, Layer, LayerKind, StackError, category_style, kinds, layer_kind,
    make_layer, register_kind,
)
from planatlas.layers.model import CATEGORIES, CATEGORY_LABELS

__all__ = [
    "Layer", "LayerKind", "LayerStack", "StackEvent", "StackError", "register_kind", "layer_kind",
    "kinds", "make_layer", "default_stack", "standard_stack", "plan_ids", "plan_layer_id",
    "CATEGORY_SHAPES", "SHAPES", "STACK_VERSION",
]

STACK_VERSION = 1


@dataclass(frozen=True)
class StackEvent:
    type: str            # added | removed | moved | visibility | opacity | style | source | changed
    ids: tuple[str, ...]
    revision: int


# ------------------------------------------------------------------------- stack
class LayerStack:
    """Layers in paint order (index 0 at the bottom), with change notification."""

    def __init__(self, layers: Iterable[Layer] = ()):
        self._layers: list[Layer] = []
        self._subscribers: list[Callable[[StackEvent], None]] = []
        self._batch: list[StackEvent] | None = None
        self.revision = 0
        for layer in layers:
            self._insert(layer, len(self._layers))

    # -- reading
    def __iter__(self) -> Iterator[Layer]:
        return iter(list(self._layers))

    def __len__(self) -> int:
        return len(self._layers)

    def __contains__(self, layer_id: object) -> bool:
        return any(layer.id == layer_id for layer in self._layers)

    def __getitem__(self, layer_id: str) -> Layer:
        for layer in self._layers:
            if layer.id == layer_id:
                return layer
        raise KeyError(f"unknown layer {layer_id!r}")

    def get(self, layer_id: str, default: Layer | None = None) -> Layer | None:
        return self[layer_id] if layer_id in self else default

    @property
    def layers(self) -> tuple[Layer, ...]:
        return tuple(self._layers)

    def ids(self) -> list[str]:
        return [layer.id for layer in self._layers]

    def index(self, layer_id: str) -> int:
        for i, layer in enumerate(self._layers):
            if layer.id == layer_id:
                return i
        raise KeyError(f"unknown layer {layer_id!r}")

    def find(self, kind: str | None = None, group: str | None = None, role: str | None = None,
             **source) -> list[Layer]:
        """Layers matching every given criterion (``source`` items compare with ``layer.source``)."""
        return [layer for layer in self._layers
                if (kind is None or layer.kind == kind) and (group is None or layer.group == group)
                and (role is None or layer.role == role)
                and all(layer.source.get(k) == v for k, v in source.items())]

    def visible_layers(self) -> list[Layer]:
        """Visible layers, bottom first (the order they are painted in)."""
        return [layer for layer in self._layers if layer.visible]

    def groups(self) -> list[tuple[str, list[str]]]:
        """Runs of consecutive layers sharing a group, bottom first: ``[(group, [ids]), …]``."""
        runs: list[tuple[str, list[str]]] = []
        for layer in self._layers:
            if runs and runs[-1][0] == layer.group:
                runs[-1][1].append(layer.id)
            else:
                runs.append((layer.group, [layer.id]))
        return runs

    # -- changing
    def subscribe(self, callback: Callable[[StackEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` after every change; returns the function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    @contextmanager
    def batch(self):
        """Changes inside the block reach subscribers as ONE ``changed`` event."""
        if self._batch is not None:
            yield self
            return
        self._batch = []
        try:
            yield self
        finally:
            events, self._batch = self._batch, None
            if events:
                ids = tuple(dict.fromkeys(i for e in events for i in e.ids))
                self._notify(StackEvent("changed", ids, self.revision))

    def _emit(self, type_: str, *ids: str) -> None:
        self.revision += 1
        event = StackEvent(type_, tuple(ids), self.revision)
        if self._batch is not None:
            self._batch.append(event)
        else:
            self._notify(event)

    def _notify(self, event: StackEvent) -> None:
        for cb in list(self._subscribers):
            cb(event)

    def _insert(self, layer: Layer, index: int) -> None:
        if not isinstance(layer, Layer):
            raise StackError(f"not a Layer: {layer!r:.80}")
        if layer.id in self:
            raise StackError(f"the stack already has a layer {layer.id!r}")
        self._layers.insert(index, layer)

    def add(self, layer: Layer, index: int | None = None) -> Layer:
        """Insert ``layer`` at ``index`` (bottom = 0). By default overlays go on top and every
        other layer just below the overlays."""
        if index is None:
            index = len(self._layers)
            if layer.role != "overlay":
                while index and self._layers[index - 1].role == "overlay":
                    index -= 1
        self._insert(layer, max(0, min(int(index), len(self._layers))))
        self._emit("added", layer.id)
        return layer

    def remove(self, layer_id: str) -> Layer:
        layer = self._layers.pop(self.index(layer_id))
        self._emit("removed", layer_id)
        return layer

    def move(self, layer_id: str, index: int) -> None:
        """Put a layer at ``index`` (bottom = 0) of the list."""
        i = self.index(layer_id)
        j = max(0, min(int(index), len(self._layers) - 1))
        if i != j:
            self._layers.insert(j, self._layers.pop(i))
            self._emit("moved", layer_id)

    def reorder(self, ids: Iterable[str]) -> None:
        """Set the whole order (bottom first); ``ids`` must name every layer once."""
        ids = list(ids)
        if sorted(ids) != sorted(self.ids()):
            raise StackError("reorder needs every layer id exactly once")
        if ids != self.ids():
            by_id = {layer.id: layer for layer in self._layers}
            self._layers = [by_id[i] for i in ids]
            self._emit("moved", *ids)

    def move_within_group(self, layer_id: str, delta: int) -> bool:
        """Swap a layer with its neighbour above (+1) or below (-1) if that is in its group."""
        i = self.index(layer_id)
        j = i + (1 if delta > 0 else -1)
        if not 0 <= j < len(self._layers) or self._layers[j].group != self._layers[i].group:
            return False
        self.move(layer_id, j)
        return True

    def move_group(self, group: str, delta: int) -> bool:
        """Swap a group's block of layers with the neighbouring block above (+1) / below (-1)."""
        runs = self.groups()
        at = [k for k, (g, _ids) in enumerate(runs) if g == group]
        if len(at) != 1:
            raise StackError(f"group {group!r} is not one block of layers" if at else
                             f"unknown group {group!r}")
        k = at[0]
        j = k + (1 if delta > 0 else -1)
        if not 0 <= j < len(runs):
            return False
        runs[k], runs[j] = runs[j], runs[k]
        self.reorder([i for _g, ids in runs for i in ids])
        return True

    def replace(self, layer: Layer) -> None:
        """Put a changed record (same id) in place of the old one."""
        i = self.index(layer.id)
        old = self._layers[i]
        if layer == old:
            return
        self._layers[i] = layer
        what = [f for f in ("visible", "opacity", "style", "source")
                if getattr(layer, f) != getattr(old, f)]
        kind = what[0] if len(what) == 1 else "changed"
        self._emit("visibility" if kind == "visible" else kind, layer.id)

    def set_visible(self, layer_id: str, on: bool = True) -> None:
        self.replace(self[layer_id].changed(visible=bool(on)))

    def set_visibility(self, ids: Iterable[str], on: bool) -> None:
        with self.batch():
            for i in ids:
                self.set_visible(i, on)

    def set_opacity(self, layer_id: str, opacity: float) -> None:
        self.replace(self[layer_id].changed(opacity=opacity))

    def set_style(self, layer_id: str, **style) -> None:
        self.replace(self[layer_id].changed(style=style))

    def set_source(self, layer_id: str, **source) -> None:
        self.replace(self[layer_id].changed(source=source))

    # -- saving
    def to_dict(self, *, sources: bool = True) -> dict[str, Any]:
        """JSON-ready: ``{"version": 1, "layers": [layer, …]}`` bottom first (``sources=False``
        leaves out the source data, e.g. for saving only what the user chose)."""
        layers = [layer.to_dict() for layer in self._layers]
        if not sources:
            for d in layers:
                d.pop("source")
        return {"version": STACK_VERSION, "layers": layers}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "LayerStack":
        if not isinstance(d, Mapping) or not isinstance(d.get("layers"), list):
            raise StackError("not a layer stack: expected {'version': 1, 'layers': [...]}")
        if d.get("version", STACK_VERSION) != STACK_VERSION:
            raise StackError(f"layer stack version {d.get('version')!r} is not supported "
                             f"(this PlanAtlas reads version {STACK_VERSION})")
        layers = []
        for k, rec in enumerate(d["layers"]):
            try:
                layers.append(Layer.from_dict(rec))
            except StackError as exc:
                raise StackError(f"layers[{k}]: {exc}") from None
        return cls(layers)

    def copy(self) -> "LayerStack":
        """An independent stack with the same layers (no subscribers)."""
        return LayerStack(self._layers)

    def apply_state(self, d: Mapping[str, Any]) -> None:
        """Take visibility, opacity, style and order from a saved stack for the layers both
        have; layers only one of them has are left alone. Bad records are skipped."""
        recs = [r for r in (d or {}).get("layers", [])
                if isinstance(r, Mapping) and r.get("id") in self]
        with self.batch():
            for r in recs:
                layer = self[r["id"]]
                try:
                    changes = {"visible": r.get("visible", layer.visible),
                               "opacity": r.get("opacity", layer.opacity)}
                    style = {k: v for k, v in (r.get("style") or {}).items() if k in layer.style}
                    self.replace(layer.changed(style=style, **changes))
                except (StackError, TypeError):
                    continue
            saved = [r["id"] for r in recs]
            slots = iter(saved)
            keep = set(saved)
            self.reorder([next(slots) if i in keep else i for i in self.ids()])



def plan_layer_id(plan: str, category: str) -> str:
    return f"plan/{plan}/{category}"


def plan_ids(atlas: Any) -> list[str]:
    """The atlas' plans, then any plan only its features name (in first-seen order)."""
    plans = list(getattr(atlas, "plans", {}) or {})
    plans_of = getattr(atlas, "plans_of", None)
    seen = dict.fromkeys(plans)
    for f in getattr(atlas, "features", {}).values():
        for p in (plans_of(f.id) if plans_of else f.plans):
            seen.setdefault(p, None)
    return list(seen)


def standard_stack(plans: Iterable[str], *, basemap: bool = True) -> LayerStack:
    """Basemap (districts with labels, water, city outlines, plan-area outlines), then one layer
    per plan × category — the first plan and first category on top, as the layers panel lists
    them. Overlays (survey report, verified-position history) are added on top when shown."""
    layers = []
    if basemap:
        # plan areas above the city outlines: a city-level plan's (广州, 中山) dashed area line
        # lies on its city outline and must stay visible
        layers += [make_layer("districts", "basemap/districts"), make_layer("water", "basemap/water"),
                   make_layer("city_outlines", "basemap/city_outlines"),
                   make_layer("plan_areas", "basemap/plan_areas")]
    for plan in reversed(list(plans)):
        for cat in reversed(CATEGORIES):
            zh, en = CATEGORY_LABELS[cat]
            layers.append(Layer(plan_layer_id(plan, cat), "plan_category", {"zh": zh, "en": en},
                                style=category_style(cat), source={"plan": plan, "category": cat},
                                group=f"plan:{plan}"))
    return LayerStack(layers)


def default_stack(atlas: Any) -> LayerStack:
    """Today's map of ``atlas`` (see :func:`standard_stack`)."""
    return standard_stack(plan_ids(atlas), basemap=getattr(atlas, "basemap", None) is not None)
