"""Layer records and layer kinds: what a drawable layer is (Qt-free model).

A :class:`Layer` is an immutable record — stable ``id``, ``kind``, display ``name`` (zh and en),
``visible``, ``opacity``, ``style`` and kind-specific ``source`` (a plan and a category, survey
points, …) plus the ``group`` it is shown under in the layers panel. Change layers through a
:class:`planatlas.layers.stack.LayerStack`, which orders them and tells its subscribers.

Layer kinds are an open registry (:func:`register_kind`): a kind names its role (basemap,
thematic, overlay), default group, display name, style (whose keys are the only ones a layer of
that kind accepts) and required source keys. Drawing a kind is the business of one renderer in
``planatlas.desktop.render``; nothing here imports Qt or ``desktop``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Mapping

from planatlas.layers.model import CATEGORY_COLORS

__all__ = ["Layer", "LayerKind", "StackError", "register_kind", "layer_kind", "kinds",
           "make_layer", "category_style", "CATEGORY_SHAPES", "SHAPES", "ROLES"]

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


# ------------------------------------------------------------------------- built-in kinds
def category_style(cat: str) -> dict[str, Any]:
    """Symbol colour, size and shape; labels on; precision halos of approximate positions off
    (the map shows them for the selected and hovered features, and for every feature of a
    layer whose ``halos`` is switched on)."""
    return {"color": CATEGORY_COLORS.get(cat, "#666666"), "size": 10.0,
            "shape": CATEGORY_SHAPES.get(cat, "circle"), "labels": True, "halos": False}


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
                        category_style(""), source_keys=("plan", "category")))
register_kind(LayerKind("survey_report", "overlay", {"zh": "现场核查结果", "en": "Survey report"},
                        {"size": 9.0}, source_keys=("points",), group="overlays"))
register_kind(LayerKind("position_history", "overlay",
                        {"zh": "核实前的位置", "en": "Positions before verification"},
                        {"color": "#5a5a5a"}, source_keys=("moves",), group="overlays"))
register_kind(LayerKind("target_counts", "overlay",
                        {"zh": "目标数徽标", "en": "Target count badges"},
                        {"color": "#34495e"}, source_keys=("counts",), group="overlays"))
