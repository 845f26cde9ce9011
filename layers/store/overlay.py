"""The user layer on top of the shipped gazetteer: verified positions replace shipped ones,
placed features join them. A store that cannot be read never stops the atlas from loading:
the reason becomes a warning and the shipped features are used."""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Iterable

from planatlas.layers.errors import PlanAtlasError
from planatlas.layers.model import Feature

from .errors import StoreWarning

__all__ = ["placed_feature", "with_position", "user_layer", "apply_user_overrides"]


def placed_feature(fid: str, rec: dict[str, Any]) -> Feature:
    """A :class:`Feature` for a feature the user placed (``origin="user"``)."""
    when = (rec.get("changed_at") or "")[:10]
    who = rec.get("changed_by") or "user"
    src = rec.get("source") or "placed by hand"
    surveyed = src.startswith("field survey")
    crs = rec.get("crs") or "wgs84"
    aliases = [a for a in (rec.get("aliases") or "").split("|") if a]
    return Feature(id=fid, name=rec["name"], aliases=aliases, categories=[rec["category"]],
                   subtype="user", tier=None, plans=[rec["plan"]], district="", adcode="",
                   geometry=rec["geometry"], precision_m=float(rec["precision_m"]),
                   source=f"{src} — {who} {when}".strip(),
                   source_zh=f"{'实地核查' if surveyed else '用户标注'}：{who} {when}".strip(),
                   status="verified" if surveyed else "approximate",
                   note=rec.get("note"), origin="user", method="survey" if surveyed else "placed",
                   ref=f"user store, placed by {who}",
                   conversion=f"{crs.split()[0]}→wgs84" if not crs.startswith("wgs84") else None)


def with_position(f: Feature, rec: dict[str, Any]) -> Feature:
    """``f`` at the user's verified position ``rec`` (the shipped source kept as "previously")."""
    date = rec.get("survey_date") or (rec.get("changed_at") or "")[:10]
    src = rec.get("source") or "edit"
    surveyed = rec.get("survey_row") is not None
    how = f"field survey {src}" if surveyed else src
    how_zh = f"实地核查 {src}" if surveyed else f"用户修改（{src}）"
    crs = rec.get("crs")
    return dataclasses.replace(
        f, geometry=rec["geometry"], status="verified",
        precision_m=rec["precision_m"] if rec.get("precision_m") is not None else f.precision_m,
        source=f"{how} ({date}); previously: {f.source}",
        source_zh=f"{how_zh}（{date}）；此前：{f.source_label('zh')}",
        method="survey" if surveyed else "estimate",
        ref=f"survey file {src}" if surveyed else f"user store, {rec.get('changed_by') or 'user'}",
        ref_crs=None, ref_lonlat=None,
        conversion=f"{crs}→wgs84" if crs and crs != "wgs84" else None)


def user_layer(features: Iterable[Feature], store=None) -> tuple[list[Feature], dict[str, int]]:
    """(shipped features with verified positions applied + placed features, feature id ->
    store version). Any store failure gives a warning and the features unchanged."""
    items = list(features)
    try:
        if store is None:
            from . import current_store
            store = current_store()
        positions = store.positions()
        placed = store.user_features()
        versions = store.versions()
    except PlanAtlasError as exc:
        warnings.warn(f"user store ignored: {exc}", StoreWarning, stacklevel=2)
        return items, {}
    out = []
    seen = set()
    for f in items:
        seen.add(f.id)
        rec = positions.get(f.id)
        out.append(f if rec is None else with_position(f, rec))
    clash = []
    for fid, rec in placed.items():
        if fid in seen:
            clash.append(fid)
            continue
        out.append(placed_feature(fid, rec))
    if clash:
        warnings.warn(f"placed feature(s) {', '.join(clash[:5])} ignored: a shipped feature has the "
                      f"same id", StoreWarning, stacklevel=2)
    return out, versions


def apply_user_overrides(features, store=None):
    """Features with the user's verified positions applied and placed features added (same
    container type back: a list, or a dict id -> Feature)."""
    is_dict = isinstance(features, dict)
    out, _versions = user_layer(features.values() if is_dict else features, store)
    return {f.id: f for f in out} if is_dict else out
