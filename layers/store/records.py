"""What the store holds: three kinds of entity with versions, and the operation records.

* ``feature``  — a place the user put on the map (table ``features``, key ``feature_id``;
  ``aliases`` is its other names joined by ``|``, schema 3 on);
* ``position`` — an accepted or edited position of a shipped feature (table ``positions``);
* ``plan``     — an imported plan: metadata here, original bytes in ``plan_texts`` by SHA-256.

Every entity row carries ``version`` (1, 2, … — never reused, bumped by every change, undo and
redo included), ``deleted`` (a tombstone, so a deletion has a version too), ``changed_by``,
``changed_at`` and ``op_id``. An entity *state* is a plain dict of its data columns
(``geometry`` a shapely geometry); ``None`` means absent/deleted. States travel through the
operation log as JSON with the geometry as hex WKB.

Nothing read from a store is trusted: :func:`clean_state` checks every column's type, length
and range and raises :class:`BadValue` (the row is then skipped with a warning).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from planatlas.layers.model import CATEGORIES

from .geom import BadValue, check_geometry, from_wkb, wkb_hex

__all__ = ["ENTITIES", "Entity", "Item", "OpRecord", "clean_state", "state_to_json",
           "state_from_json", "ROW_COLUMNS", "MAX_TEXT"]

MAX_TEXT = 10_000
ROW_COLUMNS = ("version", "deleted", "changed_by", "changed_at", "op_id")


@dataclass(frozen=True)
class Entity:
    name: str                 # feature | position | plan
    table: str
    key: str                  # key column
    columns: tuple[tuple[str, str, bool], ...]   # (column, kind, required); kind: text|real|int
    geometry: bool            # has a ``geom`` column
    added: tuple[tuple[str, int], ...] = ()      # (column, schema version that added it)

    def columns_at(self, version: int) -> tuple[tuple[str, str, bool], ...]:
        """The data columns a store of schema ``version`` has (later additions left out)."""
        since = dict(self.added)
        return tuple(c for c in self.columns if since.get(c[0], 1) <= version)


ENTITIES: dict[str, Entity] = {
    "feature": Entity("feature", "features", "feature_id", (
        ("name", "text", True), ("plan", "text", True), ("category", "text", True),
        ("precision_m", "real", True), ("source", "text", False), ("note", "text", False),
        ("crs", "text", False), ("aliases", "text", False)), True, (("aliases", 3),)),
    "position": Entity("position", "positions", "feature_id", (
        ("name", "text", False), ("status", "text", True), ("survey_date", "text", False),
        ("source", "text", False), ("survey_row", "int", False), ("survey_status", "text", False),
        ("distance_m", "real", False), ("precision_m", "real", False), ("crs", "text", False)), True),
    "plan": Entity("plan", "plans", "plan_id", (
        ("title", "text", True), ("issuer", "text", False), ("issued", "text", False),
        ("period_start", "int", True), ("period_end", "int", True), ("province", "text", False),
        ("city", "text", False), ("district", "text", False), ("adcode", "text", False),
        ("imported_from", "text", False), ("text_sha256", "text", True), ("size", "int", True)),
        False),
}


def _check_value(value: Any, kind: str, required: bool, where: str):
    if value is None:
        if required:
            raise BadValue(f"{where}: missing")
        return None
    if kind == "text":
        if not isinstance(value, str):
            raise BadValue(f"{where}: not text")
        if len(value) > MAX_TEXT or "\x00" in value:
            raise BadValue(f"{where}: text too long or with NUL characters")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadValue(f"{where}: not a number")
    if kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise BadValue(f"{where}: not an integer")
        value = int(value)
        if abs(value) > 2**53:
            raise BadValue(f"{where}: integer out of range")
        return value
    value = float(value)
    if not math.isfinite(value):
        raise BadValue(f"{where}: not a finite number")
    return value


def clean_state(entity: str, data: dict[str, Any], where: str = "") -> dict[str, Any]:
    """A validated state of ``entity`` from ``data`` (extra keys ignored); BadValue if unusable."""
    ent = ENTITIES[entity]
    where = where or ent.table
    out: dict[str, Any] = {}
    for col, kind, required in ent.columns:
        out[col] = _check_value(data.get(col), kind, required, f"{where}.{col}")
    if ent.geometry:
        out["geometry"] = check_geometry(data.get("geometry"), f"{where}.geometry")
    if entity == "feature" and out["category"] not in CATEGORIES:
        raise BadValue(f"{where}.category: unknown category {out['category']!r}")
    if entity == "plan":
        sha = out["text_sha256"]
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise BadValue(f"{where}.text_sha256: not a SHA-256 hex digest")
    if out.get("precision_m") is not None and out["precision_m"] < 0:
        raise BadValue(f"{where}.precision_m: negative")
    return out


def state_to_json(entity: str, state: dict[str, Any] | None) -> str | None:
    if state is None:
        return None
    d = {k: v for k, v in state.items() if k != "geometry"}
    if ENTITIES[entity].geometry:
        d["geometry"] = wkb_hex(state["geometry"])
    return json.dumps(d, ensure_ascii=False, sort_keys=True)


def state_from_json(entity: str, text: Any, where: str = "") -> dict[str, Any] | None:
    if text is None:
        return None
    if not isinstance(text, str) or len(text) > 20 * MAX_TEXT + 4 * 16 * 200_000:
        raise BadValue(f"{where}: state is not JSON text")
    try:
        d = json.loads(text)
    except (ValueError, RecursionError):
        raise BadValue(f"{where}: state is not valid JSON") from None
    if not isinstance(d, dict):
        raise BadValue(f"{where}: state is not a JSON object")
    if ENTITIES[entity].geometry:
        d["geometry"] = from_wkb(d.get("geometry")) if d.get("geometry") is not None else None
    return clean_state(entity, d, where)


def states_equal(entity: str, a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return a is b
    return state_to_json(entity, a) == state_to_json(entity, b)


@dataclass
class Item:
    """One entity changed by an operation."""
    entity: str
    id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    base_version: int = 0         # the version the change was based on (0 = never existed)
    version: int = 0              # the version the entity has while this operation is in effect
    undo_version: int | None = None   # the version after the operation was undone

    def to_dict(self) -> dict[str, Any]:
        def js(state):
            if state is None:
                return None
            d = {k: v for k, v in state.items() if k != "geometry"}
            if "geometry" in state and state["geometry"] is not None:
                d["geometry"] = state["geometry"].wkt
            return d
        return {"entity": self.entity, "id": self.id, "before": js(self.before),
                "after": js(self.after), "base_version": self.base_version,
                "version": self.version}


@dataclass
class OpRecord:
    """An operation in the log: what changed, who, when, from what, and whether it is undone."""
    op_id: str
    kind: str                 # accept | place | move | edit | delete | import_plan | remove_plan | undo | redo | migrate
    user: str
    created_at: str
    source: str = ""          # survey file name, "map", "command line", …
    summary: str = ""
    state: str = "done"       # done | undone | dropped (undone, then a newer operation) | log
    target_op: str | None = None   # for undo/redo records: the operation undone / redone
    seq: int | None = None
    client: str = ""
    items: list[Item] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.items]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["op"] = self.op_id
        d["items"] = [i.to_dict() for i in self.items]
        d["n_features"] = sum(1 for i in self.items if i.entity != "plan")
        return d
