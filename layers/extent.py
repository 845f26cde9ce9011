"""What area an export shows: ``--extent view | plan | district:NAME | all | bookmark:NAME |
minlon,minlat,maxlon,maxlat`` (Qt-free; shared by map pages, atlases and the HTML export).

    spec = parse_extent("district:天河区")            # ExtentSpec("district", "天河区")
    box = resolve_extent(spec, atlas, ["guangzhou"], view=(…), bookmarks=[…], content=box)

* ``plan`` (the default): the plans' areas and what the visible layers draw (``content``);
* ``all``: everything the visible layers draw and every plan area shown;
* ``view``: the current view — the window's, a project's saved extent or the last view the app
  saved; without one it is an error that says how to give one;
* ``district:NAME``: a district or city of the basemap (名称 or adcode);
* ``bookmark:NAME``: one of the user's bookmarks;
* four numbers: a lon/lat box.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from planatlas.layers.errors import InputError

__all__ = ["ExtentSpec", "parse_extent", "resolve_extent", "union", "EXTENT_MODES", "ExtentError"]

EXTENT_MODES = ("view", "plan", "district", "all", "bookmark", "bbox")
Box = tuple[float, float, float, float]


class ExtentError(InputError):
    """An extent that cannot be used (says which and why)."""


@dataclass(frozen=True)
class ExtentSpec:
    mode: str
    arg: Any = None


def _bbox(nums: Sequence[Any], value: Any) -> Box:
    try:
        vals = [float(p) for p in nums]
    except (TypeError, ValueError):
        raise ExtentError(f"--extent must be view, plan, district:NAME, all, bookmark:NAME or "
                          f"minlon,minlat,maxlon,maxlat, got {value!r}") from None
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise ExtentError(f"--extent needs 4 numbers minlon,minlat,maxlon,maxlat, got {value!r}")
    minlon, minlat, maxlon, maxlat = vals
    if not (-180 <= minlon < maxlon <= 180 and -85 <= minlat < maxlat <= 85):
        raise ExtentError(f"--extent {value!r} is not a valid lon/lat box (min < max, |lat| ≤ 85)")
    return (minlon, minlat, maxlon, maxlat)


def parse_extent(value: Any) -> ExtentSpec:
    """``None``/``""``/``"plan"`` → plan; ``"view"``, ``"all"``, ``"district:NAME"``,
    ``"bookmark:NAME"``; a ``"a,b,c,d"`` string or 4 numbers → bbox."""
    if isinstance(value, ExtentSpec):
        return value
    if value is None:
        return ExtentSpec("plan")
    if not isinstance(value, str):
        return ExtentSpec("bbox", _bbox(list(value), value))
    text = value.strip()
    low = text.lower()
    if low in ("", "plan"):
        return ExtentSpec("plan")
    if low in ("view", "all"):
        return ExtentSpec(low)
    for mode in ("district", "bookmark"):
        if low.startswith(mode + ":") or low.startswith(mode + "="):
            name = text[len(mode) + 1:].strip()
            if not name:
                raise ExtentError(f"--extent {mode}: needs a name, e.g. {mode}:天河区")
            return ExtentSpec(mode, name)
    if low in ("district", "bookmark"):
        raise ExtentError(f"--extent {low} needs a name: {low}:NAME")
    return ExtentSpec("bbox", _bbox(text.split(","), value))


def union(boxes: Iterable[Box | None]) -> Box | None:
    bs = [b for b in boxes if b is not None]
    if not bs:
        return None
    return (min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs), max(b[3] for b in bs))


def _plan_boxes(atlas, plans: Sequence[str]) -> list[Box]:
    basemap = getattr(atlas, "basemap", None)
    out = []
    for pid in plans:
        try:
            out.append(tuple(float(v) for v in basemap.plan_extent(pid)))
        except Exception:  # noqa: BLE001 - imported plans have no area in the basemap
            pass
    return out


def resolve_extent(spec: Any, atlas, plans: Sequence[str], *, content: Box | None = None,
                   view: Box | None = None, bookmarks: Sequence[Mapping[str, Any]] = ()) -> Box:
    """The lon/lat box of ``spec`` (see the module doc). ``content``: what the visible layers
    draw; ``view``: the current/saved view, if any; ``bookmarks``: ``[{"name", "bbox"}]``."""
    spec = parse_extent(spec)
    if spec.mode == "bbox":
        return spec.arg
    if spec.mode == "view":
        if view is None:
            raise ExtentError("--extent view needs a saved view: open the map in the app once "
                              "(the last view is saved), give --project with an extent, or use "
                              "--extent bookmark:NAME")
        return tuple(float(v) for v in view)
    if spec.mode == "bookmark":
        for bm in bookmarks or ():
            if str(bm.get("name", "")).strip() == spec.arg:
                return _bbox(bm.get("bbox") or (), f"bookmark {spec.arg!r}")
        names = ", ".join(str(b.get("name")) for b in bookmarks or ()) or "(none saved)"
        raise ExtentError(f"no bookmark named {spec.arg!r} (bookmarks: {names})")
    if spec.mode == "district":
        basemap = getattr(atlas, "basemap", None)
        try:
            geom = basemap.district(spec.arg)
        except Exception as exc:  # noqa: BLE001 - the basemap says which names it knows
            raise ExtentError(f"--extent district:{spec.arg}: {exc}") from None
        if geom is None or geom.is_empty:
            raise ExtentError(f"--extent district:{spec.arg}: no such district in the basemap")
        return tuple(float(v) for v in geom.bounds)
    boxes = _plan_boxes(atlas, plans)
    if spec.mode == "all":
        boxes += _plan_boxes(atlas, [p for p in getattr(atlas, "plans", {}) if p not in plans])
    box = union([*boxes, content])
    if box is None:
        raise ExtentError(f"nothing to frame: plans {', '.join(plans)} have no area in the "
                          "basemap and no visible features; give --extent")
    return box
