"""The plans PlanAtlas knows: the seed plans (``seeds/plans.toml``) and plans the user imported.

User plans live in ``<user data dir>/plans/<id>.txt`` with a ``<id>.toml`` manifest beside it and
are treated exactly like seed plans by every command and by the app.
"""
from __future__ import annotations

import json
import re
import tomllib
from functools import lru_cache
from pathlib import Path

from .fsutil import atomic_write_bytes, atomic_write_text, user_data_dir
from .ids import check_plan_id, clean_label
from .model import Plan, Region
from .plan import parse_plan_bytes
from .plancache import parse_plan_cached
from .text import PlanTextError

def seeds_dir() -> Path:
    here = Path(__file__).resolve().parent.parent / "seeds"
    if (here / "plans.toml").exists():
        return here
    from importlib.resources import files
    return Path(str(files("planatlas.seeds")))


def user_plans_dir() -> Path:
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


def load_plans(include_user: bool = True) -> dict[str, Plan]:
    """All plans by id, seeds first (manifest order), then user imports (sorted by id)."""
    plans: dict[str, Plan] = {}
    sdir = seeds_dir()
    for entry in seed_entries():
        plans[entry["id"]] = _load(sdir / entry["file"], entry["id"],
                                   _entry_to_kwargs(entry, "seeds/plans.toml"), "seed")
    if include_user and user_plans_dir().is_dir():
        for manifest in sorted(user_plans_dir().glob("*.toml")):
            try:
                with open(manifest, "rb") as fh:
                    entry = tomllib.load(fh)
                source = manifest.with_suffix(".txt")
                plans[entry["id"]] = _load(source, entry["id"], _entry_to_kwargs(entry, str(manifest)), "user")
            except (OSError, tomllib.TOMLDecodeError, PlanTextError, KeyError) as exc:
                import warnings
                warnings.warn(f"skipping imported plan {manifest}: {exc}")
    return plans


def load_plan(plan_id: str) -> Plan:
    plans = load_plans()
    if plan_id not in plans:
        raise KeyError(f"unknown plan {plan_id!r}; known plans: {', '.join(plans)}")
    return plans[plan_id]


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def import_plan(file: str | Path, plan_id: str, *, title: str | None = None, issuer: str = "",
                issued: str = "", period: tuple[int, int] | None = None, province: str = "",
                city: str = "", district: str = "", adcode: str = "", replace: bool = False) -> Plan:
    """Parse ``file`` and, only if it parses, store it as a user plan. Nothing is written on error."""
    plan_id = check_plan_id(plan_id)      # whole string, no Windows device names
    title, issuer, issued, province, city, district, adcode = (
        clean_label(v) if v is not None else None
        for v in (title, issuer, issued, province, city, district, adcode))
    existing = {e["id"] for e in seed_entries()}
    if plan_id in existing:
        raise PlanTextError(f"plan id {plan_id!r} is a seed plan; choose another id")
    target = user_plans_dir() / f"{plan_id}.txt"
    if target.exists() and not replace:
        raise PlanTextError(f"a user plan {plan_id!r} already exists ({target}); use --replace")
    path = Path(file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanTextError(f"{path}: cannot read ({exc.strerror})") from None
    region = Region(province, city, district, adcode)
    plan = parse_plan_bytes(data, plan_id, path=str(path), title=title, issuer=issuer, issued=issued,
                            period=period, region=region, origin="user")
    manifest = "\n".join([
        f"id = {_toml_str(plan_id)}",
        f"title = {_toml_str(plan.title)}",
        f"issuer = {_toml_str(issuer)}",
        f"issued = {_toml_str(issued)}",
        f"imported_from = {_toml_str(str(path.resolve()))}",
        f"period = {{ start = {plan.period[0]}, end = {plan.period[1]} }}",
        "region = { " + ", ".join(f"{k} = {_toml_str(v)}" for k, v in region.to_dict().items()) + " }",
        "",
    ])
    atomic_write_bytes(target, data)
    atomic_write_text(target.with_suffix(".toml"), manifest)
    _parse_cached.cache_clear()
    return load_plans()[plan_id]


def remove_plan(plan_id: str) -> None:
    for suffix in (".toml", ".txt"):
        p = user_plans_dir() / f"{plan_id}{suffix}"
        if p.exists():
            p.unlink()
    _parse_cached.cache_clear()
