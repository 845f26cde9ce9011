"""What a user can do to the store: place, move, edit and delete features, accept survey rows,
import and remove plans. Each call builds the changed entity states and hands them to the
engine's versioned commit (:meth:`planatlas.layers.store.engine.Store.commit`), so each returns
an :class:`~planatlas.layers.store.records.OpRecord` and may raise
:class:`~planatlas.layers.store.errors.ConflictError`.

``base_version`` arguments are the version the caller's view was based on (the app passes
what it shows; the CLI's ``--if-version``); without one the change is based on what the store
holds when the call reads it.
"""
from __future__ import annotations

import hashlib
import math
import re
import uuid
from pathlib import Path
from typing import Any, Sequence

from planatlas.layers.errors import InputError
from planatlas.layers.model import CATEGORIES

from .geom import BadValue, check_geometry
from .records import Item, OpRecord, clean_state


def _clean(entity: str, state: dict, where: str = "") -> dict:
    """A state built from the caller's input: a bad value is the caller's (InputError)."""
    try:
        return clean_state(entity, state, where)
    except BadValue as exc:
        raise InputError(str(exc)) from None

__all__ = ["Edits", "SURVEY_PRECISION_M", "FEATURE_ID", "aliases_text"]

SURVEY_PRECISION_M = 30.0      # typical hand-held GNSS / phone accuracy recorded for surveyed points
FEATURE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def _geometry(geom, where: str):
    from planatlas.layers.gazetteer import check_lonlat

    import shapely

    if isinstance(geom, shapely.Geometry) and not geom.is_empty:
        minx, miny, maxx, maxy = geom.bounds          # clear messages first: swapped, outside China
        check_lonlat(minx, miny, where)
        check_lonlat(maxx, maxy, where)
    try:
        return check_geometry(geom, where)
    except BadValue as exc:
        raise InputError(str(exc)) from None


def _text(value, what: str, *, required: bool = True, limit: int = 200) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError(f"{what} must not be empty")
        return None
    if not isinstance(value, str):
        raise InputError(f"{what} must be text")
    value = " ".join(value.split())
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise InputError(f"{what} is too long (over {limit} characters) or has control characters")
    return value


MAX_ALIASES = 20


def aliases_text(value, name: str | None = None) -> str | None:
    """Aliases (a list of names, or text separated by ``|``, ``、``, ``,``, ``;`` or new lines)
    as the store keeps them: ``|``-joined, trimmed, without duplicates or the name itself."""
    if value is None:
        return None
    if isinstance(value, str):
        value = re.split(r"[|、,，;；\n]", value)
    if not isinstance(value, (list, tuple)):
        raise InputError("aliases must be a list of names")
    out: list[str] = []
    for v in value:
        a = _text(v, "alias", required=False, limit=64)
        if a and a != name and a not in out:
            out.append(a)
    if len(out) > MAX_ALIASES:
        raise InputError(f"at most {MAX_ALIASES} aliases, got {len(out)}")
    return "|".join(out) or None


def _precision(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"precision must be a number of metres, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or v > 1_000_000:
        raise InputError(f"precision must be 0–1,000,000 m, got {value!r}")
    return v


def new_geometry(old, point, survey_status: str):
    """New geometry for a feature observed at ``point``: a point takes the observation; a line
    or polygon keeps its shape and, if *moved*, is translated so that its nearest point lands
    on the observation (a *confirmed* one is kept as it is)."""
    import shapely
    from shapely import affinity

    if old is None or old.is_empty or old.geom_type == "Point":
        return point
    if survey_status == "confirmed":
        return old
    near = shapely.get_point(shapely.shortest_line(old, point), 0)
    return affinity.translate(old, xoff=point.x - near.x, yoff=point.y - near.y)


class Edits:
    """Mixed into :class:`planatlas.layers.store.engine.Store`."""

    # ------------------------------------------------------------------ placed features
    def _current(self, entity: str, key: str) -> tuple[dict | None, int]:
        rows = self.entities(entity, [key], include_deleted=True)
        row = rows.get(key)
        if row is None:
            return None, 0
        return (None if row["deleted"] else row), row["version"]

    def place_feature(self, name: str, geometry, plan: str, category: str,
                      precision_m: float = 50.0, source: str = "placed by hand", *,
                      note: str | None = None, crs: str | None = None,
                      feature_id: str | None = None, aliases=None) -> OpRecord:
        """Put a new feature on the map (WGS-84 ``geometry``, a shapely geometry)."""
        if category not in CATEGORIES:
            raise InputError(f"unknown category {category!r}; known: {', '.join(CATEGORIES)}")
        name = _text(name, "feature name")
        state = {"name": name, "plan": _text(plan, "plan id", limit=64),
                 "aliases": aliases_text(aliases, name),
                 "category": category, "precision_m": _precision(precision_m),
                 "source": _text(source, "source", required=False, limit=500),
                 "note": _text(note, "note", required=False, limit=2000),
                 "crs": _text(crs, "crs", required=False, limit=100),
                 "geometry": _geometry(geometry, f"feature {name!r}")}
        if feature_id is None:
            feature_id = "user-" + uuid.uuid4().hex[:12]
            base = 0
        else:
            if not FEATURE_ID.match(feature_id):
                raise InputError(f"feature id {feature_id!r} must be 1-64 letters, digits, '_', '.', ':' or '-'")
            live, base = self._current("feature", feature_id)
            if live is not None:
                raise InputError(f"feature {feature_id!r} is already placed (version {base}); move or edit it")
        return self.commit("place", [Item("feature", feature_id, None, _clean("feature", state), base)],
                           source=state["source"] or "", summary=f"place {state['name']}")

    def _placed(self, feature_id: str) -> tuple[dict, int]:
        live, version = self._current("feature", feature_id)
        if live is None:
            raise InputError(f"no placed feature {feature_id!r} in {self.label}"
                             + (" (it was deleted)" if version else ""))
        return {k: live.get(k) for k in ("name", "plan", "category", "precision_m", "source", "note",
                                         "crs", "aliases", "geometry")}, version

    def move_feature(self, feature_id: str, geometry, *, base_version: int | None = None,
                     name: str | None = None, precision_m: float | None = None,
                     source: str | None = None) -> OpRecord:
        """Move a placed feature, or give a shipped feature a new (verified) position."""
        geometry = _geometry(geometry, f"feature {feature_id!r}")
        placed, version = self._current("feature", feature_id)
        if placed is not None:
            before, version = self._placed(feature_id)
            after = dict(before, geometry=geometry)
            if precision_m is not None:
                after["precision_m"] = _precision(precision_m)
            if source:
                after["source"] = _text(source, "source", limit=500)
            item = Item("feature", feature_id, before, _clean("feature", after),
                        version if base_version is None else base_version)
            return self.commit("move", [item], source=source or "map", summary=f"move {before['name']}")
        if version:          # a deleted placed feature
            raise InputError(f"placed feature {feature_id!r} was deleted; undo the deletion first")
        pos, pversion = self._current("position", feature_id)
        after = {"name": _text(name, "feature name", required=False) or (pos or {}).get("name"),
                 "status": "verified", "survey_date": None,
                 "source": _text(source, "source", required=False, limit=500) or f"moved by {self.user}",
                 "survey_row": None, "survey_status": "edited",
                 "distance_m": None, "precision_m": _precision(precision_m) if precision_m is not None
                 else (pos or {}).get("precision_m"), "crs": "wgs84", "geometry": geometry}
        item = Item("position", feature_id, pos and {k: v for k, v in pos.items() if k not in
                                                     ("version", "deleted", "changed_by", "changed_at", "op_id")},
                    _clean("position", after), pversion if base_version is None else base_version)
        return self.commit("move", [item], source=after["source"], summary=f"move {after['name'] or feature_id}")

    def edit_feature(self, feature_id: str, *, base_version: int | None = None, **changes) -> OpRecord:
        """Change attributes of a placed feature: name, aliases, plan, category, precision_m,
        source, note."""
        allowed = {"name", "aliases", "plan", "category", "precision_m", "source", "note"}
        bad = sorted(set(changes) - allowed)
        if bad:
            raise InputError(f"cannot edit {', '.join(bad)}; editable: {', '.join(sorted(allowed))}")
        if not changes:
            raise InputError("nothing to edit")
        before, version = self._placed(feature_id)
        after = dict(before)
        for k, v in changes.items():
            if k == "precision_m":
                after[k] = _precision(v)
            elif k == "category":
                if v not in CATEGORIES:
                    raise InputError(f"unknown category {v!r}; known: {', '.join(CATEGORIES)}")
                after[k] = v
            elif k == "aliases":
                after[k] = aliases_text(v, changes.get("name") or before["name"])
            else:
                after[k] = _text(v, k, required=k in ("name", "plan"), limit=64 if k == "plan" else 2000)
        item = Item("feature", feature_id, before, _clean("feature", after),
                    version if base_version is None else base_version)
        return self.commit("edit", [item], source="edit", summary=f"edit {after['name']}: {', '.join(sorted(changes))}")

    def delete_feature(self, feature_id: str, *, base_version: int | None = None) -> OpRecord:
        """Delete a placed feature (undoable). Shipped features cannot be deleted."""
        before, version = self._placed(feature_id)
        item = Item("feature", feature_id, before, None, version if base_version is None else base_version)
        return self.commit("delete", [item], source="delete", summary=f"delete {before['name']}")

    # ------------------------------------------------------------------ plans
    def store_plan(self, plan_id: str, data: bytes, meta: dict[str, Any], *, replace: bool = False,
                   source: str = "import") -> OpRecord:
        """Store an imported plan's original bytes and metadata (one atomic operation)."""
        live, version = self._current("plan", plan_id)
        if live is not None and not replace:
            raise InputError(f"a user plan {plan_id!r} already exists in {self.label}; use --replace")
        sha = hashlib.sha256(data).hexdigest()
        state = _clean("plan", dict(meta, text_sha256=sha, size=len(data)), f"plan {plan_id}")
        before = None if live is None else {k: live[k] for k in state}
        return self.commit("import_plan", [Item("plan", plan_id, before, state, version)],
                           texts={sha: bytes(data)}, source=source,
                           summary=f"{'replace' if before else 'import'} plan {plan_id}: {state['title']}")

    def remove_plan(self, plan_id: str) -> OpRecord:
        live, version = self._current("plan", plan_id)
        if live is None:
            raise InputError(f"no user plan {plan_id!r} in {self.label}")
        before = {k: v for k, v in live.items() if k not in ("version", "deleted", "changed_by",
                                                              "changed_at", "op_id")}
        return self.commit("remove_plan", [Item("plan", plan_id, before, None, version)],
                           source="remove", summary=f"remove plan {plan_id}")

    # ------------------------------------------------------------------ survey
    def accept(self, report, rows: Sequence[int] | None = None, *,
               statuses: Sequence[str] = ("confirmed", "moved"), dry_run: bool = False,
               precision_m: float = SURVEY_PRECISION_M,
               base_versions: dict[str, int] | None = None) -> dict[str, Any]:
        """Accept survey rows of ``report`` (a :class:`planatlas.layers.survey.SurveyReport`).

        ``rows``: 1-based data row numbers (default: every row whose status is in
        ``statuses``). Rows that are invalid, unmatched or reported *missing* are skipped with a
        reason; if a feature has several rows the last one wins. ``base_versions`` (feature id
        -> store version when the report's features were loaded, e.g. ``atlas.versions``) makes
        an accept over a colleague's newer position a conflict instead of an overwrite.
        Returns ``{"op", "path", "accepted": [...], "skipped": [...]}``; raises InputError if
        nothing can be accepted.
        """
        import shapely

        statuses = tuple(statuses) or ("confirmed", "moved")
        bad = [s for s in statuses if s not in ("confirmed", "moved")]
        if bad:
            raise InputError(f"only confirmed or moved rows can be accepted, not {', '.join(bad)}")
        by_row = {r.row: r for r in report.rows}
        if rows is None:
            chosen = [r for r in report.rows if r.status in statuses]
        else:
            missing = [n for n in rows if n not in by_row]
            if missing:
                raise InputError(f"{report.source}: no data row(s) {', '.join(map(str, missing))}")
            chosen = [by_row[n] for n in dict.fromkeys(rows)]
        skipped: list[dict[str, Any]] = []
        picked: dict[str, Any] = {}
        for r in chosen:
            if r.status not in ("confirmed", "moved"):
                skipped.append({"row": r.row, "reason": f"status is {r.status}: {r.message}"})
            elif r.reported == "missing":
                skipped.append({"row": r.row, "reason": "the surveyor reported the site missing"})
            elif r.feature not in report.features:
                skipped.append({"row": r.row, "reason": f"feature {r.feature} is not in the report"})
            else:
                if r.feature in picked:
                    skipped.append({"row": picked[r.feature].row,
                                    "reason": f"row {r.row} reports {r.feature} too; the later row wins"})
                picked[r.feature] = r
        if not picked:
            why = "; ".join(f"row {s['row']}: {s['reason']}" for s in skipped[:5])
            raise InputError(f"nothing to accept from {report.source}" + (f" ({why})" if why else
                             " (no confirmed or moved rows)"))
        source = Path(report.source).name
        accepted, items, hints = [], [], {}
        placed = self.entities("feature", list(picked), include_deleted=True)
        current = self.entities("position", list(picked), include_deleted=True)
        for fid, r in picked.items():
            f = report.features[fid]
            geom = new_geometry(f.geometry, shapely.Point(r.lon, r.lat), r.status)
            date = r.date if r.date and len(r.date) >= 10 and r.date[4] == "-" else report.survey_date
            accepted.append({"feature": fid, "name": f.name, "row": r.row, "survey_status": r.status,
                             "distance_m": r.distance_m or 0.0, "lon": r.lon, "lat": r.lat,
                             "survey_date": date})
            p = placed.get(fid)
            if p is not None and not p["deleted"]:
                state = {k: p.get(k) for k in ("name", "plan", "category", "note", "crs", "aliases")}
                state.update(geometry=geom, precision_m=precision_m,
                             source=f"field survey {source} ({date or 'undated'})")
                base = p["version"]
                entity, before = "feature", {**state, "geometry": p["geometry"], "source": p["source"],
                                             "precision_m": p["precision_m"]}
            else:
                cur = current.get(fid)
                before = None if cur is None or cur["deleted"] else {
                    k: v for k, v in cur.items() if k not in ("version", "deleted", "changed_by", "changed_at", "op_id")}
                base = cur["version"] if cur is not None else 0
                entity = "position"
                state = {"name": f.name, "status": "verified", "survey_date": date, "source": source,
                         "survey_row": r.row, "survey_status": r.status, "distance_m": r.distance_m,
                         "precision_m": precision_m, "crs": report.crs.chosen, "geometry": geom}
                if before is None:
                    hints[fid] = {"geometry": f.geometry, "status": f.status, "source": f.source,
                                  "name": f.name}
            if base_versions is not None:
                base = int(base_versions.get(fid, 0))
            items.append(Item(entity, fid, before, _clean(entity, state, f"feature {fid}"), base))
        result = {"op": None, "path": self.label, "accepted": accepted, "skipped": skipped}
        if dry_run:
            return result
        op = self.commit("accept", items, source=source, hints=hints,
                         summary=f"accept {len(items)} feature(s) from {source}")
        result["op"] = op.op_id
        return result
