"""The layer stack: the ordered list of everything the map draws (Qt-free model).

    stack = default_stack(atlas)                  # today's map, bottom layer first
    stack.set_visible(plan_layer_id("guangzhou", "scenic_area"), False)
    stack.set_style("plan/guangzhou/night_economy", color="#123456", size=14)
    stack.move_group("plan:binhai", +1)           # a whole plan above its neighbour
    text = json.dumps(stack.to_dict())            # project files, layout templates
    again = LayerStack.from_dict(json.loads(text))

A :class:`Layer` is an immutable record — stable ``id``, ``kind``, display ``name`` (zh and en),
``visible``, ``opacity``, ``style`` and kind-specific ``source`` (a plan and a category, survey
points, …) plus the ``group`` it is shown under in the layers panel. A :class:`LayerStack`
holds layers in paint order (index 0 is painted first, at the bottom); every change goes
through it, bumps ``revision`` and tells its subscribers, so a Qt wrapper can re-emit signals.

Layer kinds are an open registry (:func:`register_kind`): a kind names its default group, display
name, style (whose keys are the only ones a layer of that kind accepts) and required source
keys. Drawing a kind is the business of one renderer in ``planatlas.desktop.render``; nothing
here imports Qt or ``desktop``.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Callable, Iterable, Iterator, Mapping

from planatlas.layers.model import CATEGORIES, CATEGORY_COLORS, CATEGORY_LABELS

__all__ = [
    "Layer", "LayerKind", "LayerStack", "StackEvent", "StackError", "register_kind", "layer_kind",
    "kinds", "make_layer", "default_stack", "standard_stack", "plan_ids", "plan_layer_id",
    "CATEGORY_SHAPES", "SHAPES", "STACK_VERSION",
]

STACK_VERSION = 1
SHAPES = ("circle", "square", "diamond", "triangle")
# one symbol shape per category, so the map also reads in grey scale
CATEGORY_SHAPES = {"commercial_district": "circle", "night_economy": "diamond",
                   "logistics_hub": "square", "scenic_area": "triangle"}
ROLES = ("basemap", "thematic", "overlay")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


class StackError(ValueError):
    """A layer or stack that is not valid (unknown kind, bad style value, unknown id …)."""


@dataclass(frozen=True)
class LayerKind:
    """What a kind of layer is: its role, default group, name and style, required source keys."""
    name: str
    role: str                                   # basemap | thematic | overlay
    title: Mapping[str, str]                    # default display name {"zh", "en"}
    style: Mapping[str, Any] = field(default_factory=dict)
    source_keys: tuple[str, ...] = ()
    group: str = ""

    def __post_init__(self):
        if self.role not in ROLES:
            raise StackError(f"layer kind {self.name!r}: role must be one of {ROLES}, got {self.role!r}")


_KINDS: dict[str, LayerKind] = {}


def register_kind(kind: LayerKind) -> LayerKind:
    """Add a layer kind (or replace the one of the same name); returns it."""
    _KINDS[kind.name] = kind
    return kind


def layer_kind(name: str) -> LayerKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise StackError(f"unknown layer kind {name!r} (known: {', '.join(sorted(_KINDS))})") from None


def kinds() -> dict[str, LayerKind]:
    return dict(_KINDS)


# ------------------------------------------------------------------------- values
def _freeze(value: Any) -> Any:
    if isinstance(value, MappingProxyType):        # made by _freeze: already read-only
        return value
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def _style_value(kind: str, key: str, value: Any, default: Any) -> Any:
    where = f"style {key!r} of a {kind!r} layer"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise StackError(f"{where} must be true or false, got {value!r}")
        return value
    if isinstance(default, (int, float)):
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise StackError(f"{where} must be a number, got {value!r}") from None
        if key == "size" and not 2 <= v <= 60:
            raise StackError(f"symbol size must be between 2 and 60 px, got {value!r}")
        if not 0 < v <= 1000:
            raise StackError(f"{where} must be > 0, got {value!r}")
        return v
    if key == "shape":
        if value not in SHAPES:
            raise StackError(f"{where} must be one of {', '.join(SHAPES)}, got {value!r}")
        return value
    if isinstance(default, str) and _HEX.fullmatch(default):
        if not isinstance(value, str) or not _HEX.fullmatch(value.strip()):
            raise StackError(f"invalid colour {value!r} for {where} (use #rrggbb)")
        v = value.strip().lower()
        return "#" + "".join(c * 2 for c in v[1:]) if len(v) == 4 else v
    return value


def _name(value: Any, default: Mapping[str, str]) -> Mapping[str, str]:
    if value is None:
        value = default
    if isinstance(value, str):
        value = {"zh": value, "en": value}
    if not isinstance(value, Mapping) or not value.get("zh"):
        raise StackError(f"a layer name needs a Chinese text: {{'zh': …, 'en': …}}, got {value!r}")
    return MappingProxyType({"zh": str(value["zh"]), "en": str(value.get("en") or value["zh"])})


@dataclass(frozen=True)
class Layer:
    """One drawable layer (immutable: change it through :class:`LayerStack`)."""
    id: str
    kind: str
    name: Mapping[str, str] | None = None      # {"zh", "en"}; default: the kind's title
    visible: bool = True
    opacity: float = 1.0
    style: Mapping[str, Any] = field(default_factory=dict)   # only the kind's style keys
    source: Mapping[str, Any] = field(default_factory=dict)  # kind-specific parameters
    group: str | None = None                   # layers-panel group; default: the kind's

    def __post_init__(self):
        k = layer_kind(self.kind)
        if not isinstance(self.id, str) or not self.id.strip():
            raise StackError(f"a layer needs a non-empty id, got {self.id!r}")
        try:
            opacity = float(self.opacity)
        except (TypeError, ValueError):
            opacity = float("nan")
        if not 0.0 <= opacity <= 1.0:
            raise StackError(f"opacity of layer {self.id!r} must be between 0 and 1, got {self.opacity!r}")
        unknown = sorted(set(self.style) - set(k.style))
        if unknown:
            raise StackError(f"layer {self.id!r} ({self.kind}): unknown style keys {unknown} "
                             f"(known: {', '.join(k.style)})")
        style = {key: _style_value(self.kind, key, self.style.get(key, d), d)
                 for key, d in k.style.items()}
        missing = [s for s in k.source_keys if s not in self.source]
        if missing:
            raise StackError(f"layer {self.id!r} ({self.kind}) needs source keys {missing}")
        set_ = object.__setattr__
        set_(self, "name", _name(self.name, k.title))
        set_(self, "visible", bool(self.visible))
        set_(self, "opacity", opacity)
        set_(self, "style", MappingProxyType(style))
        set_(self, "source", _freeze(self.source))
        set_(self, "group", k.group if self.group is None else str(self.group))

    @property
    def role(self) -> str:
        return layer_kind(self.kind).role

    def title(self, lang: str = "zh") -> str:
        return self.name.get(lang) or self.name["zh"]

    def changed(self, **changes) -> "Layer":
        """A validated copy with ``changes`` (style/source are merged, not replaced)."""
        for key in ("style", "source"):
            if key in changes:
                changes[key] = {**getattr(self, key), **changes[key]}
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": dict(self.name), "group": self.group,
                "visible": self.visible, "opacity": self.opacity, "style": _thaw(self.style),
                "source": _thaw(self.source)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Layer":
        if not isinstance(d, Mapping) or "id" not in d or "kind" not in d:
            raise StackError(f"not a layer record (needs 'id' and 'kind'): {d!r:.120}")
        return cls(id=d["id"], kind=d["kind"], name=d.get("name"), visible=d.get("visible", True),
                   opacity=d.get("opacity", 1.0), style=d.get("style") or {},
                   source=d.get("source") or {}, group=d.get("group"))


def make_layer(kind: str, layer_id: str | None = None, **fields) -> Layer:
    """A layer of ``kind`` with the kind's defaults; the id defaults to the kind's name."""
    return Layer(id=layer_id or kind, kind=kind, **fields)


@dataclass(frozen=True)
class StackEvent:
    type: str                     # added | removed | moved | visibility | opacity | style | source | changed
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
        recs = [r for r in (d or {}).get("layers", []) if isinstance(r, Mapping) and r.get("id") in self]
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


# ------------------------------------------------------------------------- built-in kinds
def _category_style(cat: str) -> dict[str, Any]:
    return {"color": CATEGORY_COLORS.get(cat, "#666666"), "size": 10.0,
            "shape": CATEGORY_SHAPES.get(cat, "circle"), "labels": True}


register_kind(LayerKind("districts", "basemap", {"zh": "区县界", "en": "Districts"},
                        {"fill": "#fbfaf6", "plan_fill": "#fffdf4", "edge": "#c4bcae",
                         "label_color": "#7a7163", "labels": True}, group="basemap"))
register_kind(LayerKind("water", "basemap", {"zh": "水系", "en": "Water"},
                        {"fill": "#b5d5e6", "edge": "#8fbad3"}, group="basemap"))
register_kind(LayerKind("plan_areas", "basemap", {"zh": "规划范围", "en": "Plan areas"},
                        {"edge": "#d8a24a"}, group="basemap"))
register_kind(LayerKind("city_outlines", "basemap", {"zh": "市界", "en": "City outlines"},
                        {"edge": "#9a9182"}, group="basemap"))
register_kind(LayerKind("plan_category", "thematic", {"zh": "规划点位", "en": "Plan places"},
                        _category_style(""), source_keys=("plan", "category")))
register_kind(LayerKind("survey_report", "overlay", {"zh": "现场核查结果", "en": "Survey report"},
                        {"size": 9.0}, source_keys=("points",), group="overlays"))
register_kind(LayerKind("position_history", "overlay",
                        {"zh": "核实前的位置", "en": "Positions before verification"},
                        {"color": "#5a5a5a"}, source_keys=("moves",), group="overlays"))


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
    """Basemap (districts with labels, water, plan-area outlines, city outlines), then one layer
    per plan × category — the first plan and first category on top, as the layers panel lists
    them. Overlays (survey report, verified-position history) are added on top when shown."""
    layers = []
    if basemap:
        layers += [make_layer("districts", "basemap/districts"), make_layer("water", "basemap/water"),
                   make_layer("plan_areas", "basemap/plan_areas"),
                   make_layer("city_outlines", "basemap/city_outlines")]
    for plan in reversed(list(plans)):
        for cat in reversed(CATEGORIES):
            zh, en = CATEGORY_LABELS[cat]
            layers.append(Layer(plan_layer_id(plan, cat), "plan_category", {"zh": zh, "en": en},
                                style=_category_style(cat), source={"plan": plan, "category": cat},
                                group=f"plan:{plan}"))
    return LayerStack(layers)


def default_stack(atlas: Any) -> LayerStack:
    """Today's map of ``atlas`` (see :func:`standard_stack`)."""
    return standard_stack(plan_ids(atlas), basemap=getattr(atlas, "basemap", None) is not None)
