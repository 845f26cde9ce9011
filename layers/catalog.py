"""The plans PlanAtlas knows: the seed plans (``seeds/plans.toml``) and plans the user imported.

User plans live in the user store (:mod:`planatlas.layers.store`: original bytes + metadata,
embedded GeoPackage or the team's PostGIS) and are treated exactly like seed plans by every
command and by the app. Parsed plans are cached by the SHA-256 of their text.
"""
from __future__ import annotations

import json
import tomllib
from functools import lru_cache
from pathlib import Path

from .errors import PlanAtlasError
from .fsutil import user_data_dir
from .ids import check_plan_id, clean_label
from .model import Plan, Region
from .plancache import parse_plan_cached
from .text import PlanTextError

def seeds_dir() -> Path:
    here = Path(__file__).resolve().parent.parent / "seeds"
    if (here / "plans.toml").exists():
        return here
    from importlib.resources import files
    return Path(str(files("planatlas.seeds")))


def user_plans_dir() -> Path:
    """Where PlanAtlas before the store kept imported plans (moved into the store on first use)."""
    return user_data_dir() / "plans"


def _entry_to_kwargs(entry: dict, where: str) -> dict:
    try:
        period = entry["period"]
        region = entry.get("region", {})
        return dict(
            title=entry.get("title"), issuer=entry.get("issuer", ""), issued=str(entry.get("issued", "")),
            period=(int(period["start"]), int(period["end"])) if period else None,
            region=Region(region.get("province", ""), region.get("city", ""), region.get("district", ""),
                          str(region.get("adcode", ""))),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanTextError(f"{where}: bad manifest entry {entry.get('id')!r}: {exc}") from None


@lru_cache(maxsize=64)
def _parse_cached(path: str, mtime_ns: int, size: int, plan_id: str, meta_json: str, origin: str) -> Plan:
    meta = json.loads(meta_json)
    region = Region(**meta.pop("region"))
    period = tuple(meta.pop("period")) if meta.get("period") else None
    return parse_plan_cached(Path(path).read_bytes(), plan_id, path=path, region=region,
                             period=period, origin=origin, **meta)   # user plans: disk cache


def _load(path: Path, plan_id: str, kwargs: dict, origin: str) -> Plan:
    st = path.stat()
    meta = dict(kwargs)
    meta["region"] = kwargs["region"].to_dict()
    return _parse_cached(str(path), st.st_mtime_ns, st.st_size, plan_id,
                         json.dumps(meta, ensure_ascii=False), origin)


def seed_entries() -> list[dict]:
    manifest = seeds_dir() / "plans.toml"
    with open(manifest, "rb") as fh:
        return tomllib.load(fh)["plan"]


_STORED: dict[tuple[str, str, str], Plan] = {}


def stored_plan(store, plan_id: str, rec: dict) -> Plan:
    """The parsed plan of a store's plan record ``rec`` (cached by text hash and metadata)."""
    return _stored_plan(store, plan_id, rec)


def _stored_plan(store, plan_id: str, rec: dict) -> Plan:
    meta = {"title": rec["title"], "issuer": rec.get("issuer") or "", "issued": rec.get("issued") or "",
            "period": (rec["period_start"], rec["period_end"]),
            "region": Region(rec.get("province") or "", rec.get("city") or "", rec.get("district") or "",
                             rec.get("adcode") or "")}
    key = (rec["text_sha256"], plan_id, repr(meta))
    plan = _STORED.get(key)
    if plan is None:
        data = store.plan_text(rec["text_sha256"])      # parsed once per content (disk cache)
        plan = parse_plan_cached(data, plan_id, path=f"store:plans/{plan_id}", origin="user", **meta)
        if len(_STORED) > 64:
            _STORED.clear()
        _STORED[key] = plan
    return plan


def _user_plans(plans: dict[str, Plan]) -> None:
    import warnings

    from .store import StoreWarning, current_store
    from .store.geom import BadValue

    try:
        store = current_store()
        records = store.plan_records()
    except PlanAtlasError as exc:
        warnings.warn(f"imported plans not loaded: {exc}", StoreWarning, stacklevel=3)
        return
    for pid, rec in sorted(records.items()):
        if pid in plans:
            warnings.warn(f"imported plan {pid!r} ignored: a seed plan has the same id", StoreWarning,
                          stacklevel=3)
            continue
        try:
            plans[pid] = _stored_plan(store, pid, rec)
        except (PlanAtlasError, BadValue) as exc:
            warnings.warn(f"skipping imported plan {pid}: {exc}", StoreWarning, stacklevel=3)


def load_plans(include_user: bool = True) -> dict[str, Plan]:
    """All plans by id, seeds first (manifest order), then user imports (sorted by id)."""
    plans: dict[str, Plan] = {}
    sdir = seeds_dir()
    for entry in seed_entries():
        plans[entry["id"]] = _load(sdir / entry["file"], entry["id"],
                                   _entry_to_kwargs(entry, "seeds/plans.toml"), "seed")
    if include_user:
        _user_plans(plans)
    return plans


def load_plan(plan_id: str) -> Plan:
    plans = load_plans()
    if plan_id not in plans:
        raise KeyError(f"unknown plan {plan_id!r}; known plans: {', '.join(plans)}")
    return plans[plan_id]


def import_plan(file: str | Path, plan_id: str, *, title: str | None = None, issuer: str = "",
                issued: str = "", period: tuple[int, int] | None = None, province: str = "",
                city: str = "", district: str = "", adcode: str = "", replace: bool = False,
                store=None) -> Plan:
    """Parse ``file`` and, only if it parses, store it as a user plan (original bytes and
    metadata, one atomic store operation, undoable) in ``store`` (default: the configured
    one). Nothing is written on error."""
    from .store import current_store

    plan_id = check_plan_id(plan_id)      # whole string, no Windows device names
    title, issuer, issued, province, city, district, adcode = (
        clean_label(v) if v is not None else None
        for v in (title, issuer, issued, province, city, district, adcode))
    existing = {e["id"] for e in seed_entries()}
    if plan_id in existing:
        raise PlanTextError(f"plan id {plan_id!r} is a seed plan; choose another id")
    store = store if store is not None else current_store()
    if not replace and plan_id in store.plan_records():
        raise PlanTextError(f"a user plan {plan_id!r} already exists in the store ({store.label}); "
                            f"use --replace")
    path = Path(file)
    from .importer import read_source          # text, text PDF or .docx; InputError otherwise
    from .period import infer_period
    from .plan import parse_plan_text
    src = read_source(path)
    if period is None:
        guess = infer_period(src.text, title or "")
        if guess is None:
            raise PlanTextError(f"{path}: cannot tell the plan period: give it explicitly (the text has no "
                                "'(2023-2027年)', 十四五, 到YYYY年 or 从YYYY年起…N年)")
        period = guess.as_tuple()
    region = Region(province, city, district, adcode)
    plan = parse_plan_text(src.text, plan_id, encoding=src.encoding, path=str(path), title=title, issuer=issuer,
                           issued=issued, period=period, region=region, origin="user")
    data = src.data if src.kind == "text" else src.text.encode("utf-8")
    meta = {"title": plan.title, "issuer": issuer, "issued": issued, "period_start": plan.period[0],
            "period_end": plan.period[1], **region.to_dict(),
            "imported_from": str(path.resolve())}
    store.store_plan(plan_id, data, meta, replace=replace, source=path.name)
    return _stored_plan(store, plan_id, store.plan_records()[plan_id])


def remove_plan(plan_id: str) -> None:
    """Remove an imported plan from the store (undoable with ``planatlas undo``)."""
    from .store import current_store

    current_store().remove_plan(plan_id)
