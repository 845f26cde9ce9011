"""Project files: the whole map in one JSON file (Qt-free).

    proj = Project(stack=stack, extent=(113.2, 23.0, 113.5, 23.2), plans=["guangzhou"],
                   bookmarks=[{"name": "珠江新城", "bbox": [...]}])
    save_project(proj, "珠江.planatlas.json")          # atomic; paths stored relative to it
    proj, problems = load_project("珠江.planatlas.json")   # missing files: reported, skipped

A project holds the layer stack — every layer's order, visibility, opacity and style, and for
the user's own layers (vector files, tile basemaps) their source with the file path *relative
to the project file* — plus the plans shown, the map extent (lon/lat) and bookmarks. Session
overlays (a survey report, position history) are not saved. Opening a project whose files have
moved or gone reports each such layer in ``problems`` and leaves it out; the rest opens.

Recent projects are remembered in ``recent-projects.json`` in the user data directory.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from planatlas.layers.errors import InputError
from planatlas.layers.fsutil import atomic_write_text, user_data_dir
from planatlas.layers.stack import Layer, LayerStack, StackError

from . import userdata  # noqa: F401  (registers the user layer kinds)

__all__ = ["Project", "save_project", "load_project", "apply_project", "add_files", "recent_projects", "add_recent",
           "PROJECT_VERSION", "PROJECT_SUFFIX", "SESSION_KINDS", "FILE_KINDS"]

PROJECT_VERSION = 1
PROJECT_SUFFIX = ".planatlas.json"
FORMAT = "planatlas-project"
SESSION_KINDS = ("survey_report", "position_history", "target_counts")   # made by the session
FILE_KINDS = ("user_vector", "tile_layer")
MAX_RECENT = 10


@dataclass
class Project:
    stack: LayerStack
    extent: tuple[float, float, float, float] | None = None
    plans: list[str] = field(default_factory=list)
    bookmarks: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    path: str | None = None

    def file_layers(self) -> list[Layer]:
        return [layer for layer in self.stack if layer.kind in FILE_KINDS]


def _rel(path: str, base: Path) -> str:
    p = Path(path)
    try:
        return Path(os.path.relpath(p, base)).as_posix()
    except ValueError:                 # another drive (Windows): keep it absolute
        return str(p)


def _abs(path: str, base: Path) -> str:
    p = Path(path)
    return str(p if p.is_absolute() else (base / p).resolve())


def to_dict(project: Project, where: Path) -> dict[str, Any]:
    base = where.resolve().parent
    layers = []
    for rec in project.stack.to_dict()["layers"]:
        if rec["kind"] in SESSION_KINDS:
            continue
        src = rec.get("source") or {}
        if rec["kind"] in FILE_KINDS:
            for k in ("path", "cache"):
                if src.get(k):
                    src[k] = _rel(src[k], base)
        layers.append(rec)
    return {"format": FORMAT, "version": PROJECT_VERSION, "title": project.title,
            "layers": layers, "plans": list(project.plans),
            "extent": [float(v) for v in project.extent] if project.extent else None,
            "bookmarks": [{"name": str(b["name"]), "bbox": [float(v) for v in b["bbox"]]}
                          for b in project.bookmarks]}


def save_project(project: Project, path: str | os.PathLike) -> Path:
    """Write ``project`` to ``path`` (atomically) and add it to the recent projects."""
    p = Path(path)
    if not p.name.endswith(".json"):
        p = p.with_name(p.name + PROJECT_SUFFIX)
    text = json.dumps(to_dict(project, p), ensure_ascii=False, indent=1)
    atomic_write_text(p, text + "\n")
    project.path = str(p)
    add_recent(p)
    return p


def _missing(rec: Mapping[str, Any], base: Path) -> str | None:
    src = rec.get("source") or {}
    if rec.get("kind") == "tile_layer" and src.get("type") == "online":
        return None
    path = src.get("path")
    if not path:
        return f"layer {rec.get('id')!r} has no file path"
    if not Path(path).exists():
        return f"{path}: file not found (layer {rec.get('name', {}).get('zh') or rec.get('id')})"
    return None


def load_project(path: str | os.PathLike) -> tuple[Project, list[str]]:
    """Read a project; returns it and the problems met (layers skipped, with why)."""
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: no such project file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{p}: not a PlanAtlas project ({exc})") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise InputError(f"{p}: not a PlanAtlas project (no \"format\": \"{FORMAT}\")")
    if d.get("version") != PROJECT_VERSION:
        raise InputError(f"{p}: project version {d.get('version')!r} is not supported "
                         f"(this PlanAtlas reads version {PROJECT_VERSION})")
    base = p.resolve().parent
    problems: list[str] = []
    layers: list[Layer] = []
    for k, rec in enumerate(d.get("layers") or []):
        if not isinstance(rec, dict):
            problems.append(f"layers[{k}]: not a layer record — skipped")
            continue
        if rec.get("kind") in FILE_KINDS:
            rec = json.loads(json.dumps(rec))
            src = rec.setdefault("source", {})
            for key in ("path", "cache"):
                if src.get(key):
                    src[key] = _abs(src[key], base)
            why = _missing(rec, base)
            if why:
                problems.append(f"{why} — skipped")
                continue
        try:
            layer = Layer.from_dict(rec)
        except StackError as exc:
            problems.append(f"layers[{k}]: {exc} — skipped")
            continue
        if any(x.id == layer.id for x in layers):
            problems.append(f"layers[{k}]: duplicate id {layer.id!r} — skipped")
            continue
        layers.append(layer)
    ext = d.get("extent")
    extent = None
    if isinstance(ext, list) and len(ext) == 4:
        try:
            extent = tuple(float(v) for v in ext)
        except (TypeError, ValueError):
            problems.append("extent is not four numbers — ignored")
    bookmarks = [b for b in d.get("bookmarks") or []
                 if isinstance(b, dict) and "name" in b and len(b.get("bbox") or []) == 4]
    proj = Project(LayerStack(layers), extent, [str(x) for x in d.get("plans") or []], bookmarks,
                   str(d.get("title") or ""), str(p))
    add_recent(p)
    return proj, problems


def apply_project(stack: LayerStack, project: Project) -> None:
    """Make ``stack`` (the app's, built from the atlas) show ``project``: the user's file layers
    are replaced by the project's, placed where the project has them; the built-in layers take
    the project's visibility, opacity, style and order. One change notification."""
    saved = project.stack.to_dict()
    with stack.batch():
        for layer in [x for x in stack if x.kind in FILE_KINDS]:
            stack.remove(layer.id)
        stack.apply_state(saved)
        prev: str | None = None
        for layer in project.stack:
            if layer.kind in FILE_KINDS and layer.id not in stack:
                at = stack.index(prev) + 1 if prev is not None and prev in stack else 0
                stack.add(layer, at)
            if layer.id in stack:
                prev = layer.id


# ----------------------------------------------------------------------------- recent
def _recent_file() -> Path:
    return user_data_dir() / "recent-projects.json"


def recent_projects() -> list[str]:
    """Recently saved or opened projects, newest first (files that no longer exist dropped)."""
    try:
        items = json.loads(_recent_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(x) for x in items if isinstance(x, str) and Path(x).exists()][:MAX_RECENT]


def add_recent(path: str | os.PathLike, items: Iterable[str] | None = None) -> list[str]:
    p = str(Path(path).resolve())
    rest = [x for x in (recent_projects() if items is None else items) if x != p]
    out = [p, *rest][:MAX_RECENT]
    try:
        atomic_write_text(_recent_file(), json.dumps(out, ensure_ascii=False, indent=1))
    except OSError:
        pass                      # a read-only data dir must not stop saving the project
    return out


def add_files(stack: LayerStack, paths: Iterable[str | os.PathLike]) -> tuple[list[Layer], list[str]]:
    """Add files to ``stack`` as the app's ``--layer`` does: tile stores, tile folders and
    georeferenced images become basemaps (above the land and water fills), anything else a
    vector layer. Returns (layers added, problems)."""
    from planatlas.layers.tiles import tile_kind
    from planatlas.layers.userdata import tile_layer, vector_layer

    added, problems = [], []
    for path in paths:
        p = Path(path)
        kind = tile_kind(p)
        georef = kind not in ("raster",) or p.suffix.lower() in (".tif", ".tiff") or any(
            p.with_suffix(s).exists() for s in (".pgw", ".pngw", ".jgw", ".jpgw", ".wld"))
        try:
            if kind is not None and georef:
                layer = tile_layer({"path": str(p)}, taken=stack.ids())
                below = [i for i, la in enumerate(stack.layers) if la.kind in ("districts", "water")]
                stack.add(layer, (max(below) + 1) if below else 0)
            else:
                layer, _data = vector_layer(p, taken=stack.ids())
                stack.add(layer)
            added.append(layer)
        except InputError as exc:
            problems.append(str(exc))
    return added, problems
