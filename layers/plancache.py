"""Imported plans cached parsed, so that later commands do not re-parse a big plan.

:func:`parse_plan_cached` has the signature of :func:`planatlas.layers.plan.parse_plan_bytes`.
For user plans (``origin="user"``) it keeps the parsed clauses and targets in
``<user data dir>/cache/plans/<id>.json``, keyed by a BLAKE2 hash of the plan's bytes, of the
parser's own source (a changed parser invalidates every entry), the plan id, its period and
region (they shape the targets). Everything else (title, issuer, file) is applied on load.

The cache is an optimisation only: a missing, stale, damaged or foreign cache file is ignored
and rewritten; a cache that cannot be written (read-only or full disk) is skipped silently. It
is JSON — a cache file received from someone else can at worst cost a re-parse.
"""
from __future__ import annotations

import hashlib
from array import array
import json
from functools import lru_cache
from pathlib import Path

from .errors import PlanAtlasError
from .model import Clause, Plan, Region, Target
from .plan import MAX_PLAN_BYTES, guess_period, parse_plan_text
from .text import PlanTextError, decode

__all__ = ["parse_plan_cached", "cache_path", "FORMAT"]

FORMAT = 1
_PARSER_MODULES = ("text.py", "plan.py", "targets.py", "model.py", "encoding.py", "safetext.py",
                   "plancache.py")


def cache_path(plan_id: str) -> Path:
    from .fsutil import user_data_dir

    return user_data_dir() / "cache" / "plans" / f"{plan_id}.json"


@lru_cache(maxsize=1)
def _parser_fingerprint() -> str:
    h = hashlib.blake2b(f"planatlas-plan-cache-{FORMAT}".encode(), digest_size=16)
    here = Path(__file__).resolve().parent
    for name in _PARSER_MODULES:
        try:
            h.update((here / name).read_bytes())
        except OSError:  # pragma: no cover - installed without sources: the version must do
            from planatlas import __version__
            h.update(__version__.encode())
    return h.hexdigest()


def _key(data: bytes, plan_id: str, period: tuple[int, int], region: Region) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(_parser_fingerprint().encode())
    h.update(json.dumps([plan_id, list(period), region.to_dict()], ensure_ascii=False).encode())
    h.update(data)
    return h.hexdigest()


def _dump(plan: Plan, key: str) -> bytes:
    clauses = [[c.id, c.number, c.heading, c.text, c.parent, c.level, list(c.lines), c.kind,
                c.notes, c.note_lines, [x for pair in c.line_map for x in pair]]
               for c in plan.clauses]
    targets = [[t.id, t.clause, t.indicator, t.year, t.comparator, t.value, t.unit, t.scope,
                t.line, t.surface, t.kind, t.upper, t.basis, t.period] for t in plan.targets]
    return json.dumps({"format": FORMAT, "key": key, "clauses": clauses, "targets": targets},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _load(raw: bytes, key: str, plan_id: str) -> tuple[list[Clause], list[Target]]:
    doc = json.loads(raw)
    if doc.get("format") != FORMAT or doc.get("key") != key:
        raise ValueError("stale cache entry")
    clauses = []
    for (cid, number, heading, text, parent, level, lines, kind, notes, note_lines,
         flat) in doc["clauses"]:
        c = Clause(id=str(cid), plan=plan_id, number=str(number), heading=str(heading),
                   text=str(text), parent=parent, level=int(level),
                   lines=(int(lines[0]), int(lines[1])), kind=str(kind),
                   notes=[str(n) for n in notes], note_lines=[int(n) for n in note_lines])
        pairs = array("q", flat)          # TypeError unless all are integers
        c.line_map = list(zip(pairs[::2], pairs[1::2]))
        clauses.append(c)
    targets = [Target(id=str(tid), plan=plan_id, clause=str(clause), indicator=str(ind), year=year,
                      comparator=str(cmp), value=float(value), unit=str(unit), scope=str(scope),
                      line=int(line), surface=str(surface), kind=str(kind), upper=upper,
                      basis=basis, period=period)
               for (tid, clause, ind, year, cmp, value, unit, scope, line, surface, kind, upper,
                    basis, period) in doc["targets"]]
    return clauses, targets


def parse_plan_cached(data: bytes, plan_id: str, *, path: str = "<bytes>", title: str | None = None,
                      issuer: str = "", issued: str = "", period: tuple[int, int] | None = None,
                      region: Region | None = None, origin: str = "seed") -> Plan:
    """:func:`~planatlas.layers.plan.parse_plan_bytes`, with the disk cache for user plans."""
    from .plan import parse_plan_bytes

    kwargs = dict(path=path, title=title, issuer=issuer, issued=issued, period=period,
                  region=region, origin=origin)
    if origin != "user" or len(data) > MAX_PLAN_BYTES:
        return parse_plan_bytes(data, plan_id, **kwargs)
    text, encoding = decode(data, path)
    region = region or Region("", "", "", "")
    try:
        eff_period = period or guess_period(text)
    except PlanTextError:
        return parse_plan_bytes(data, plan_id, **kwargs)        # raises the same error
    key = _key(data, plan_id, eff_period, region)
    where = cache_path(plan_id)
    kwargs.update(period=eff_period, region=region)
    try:
        clauses, targets = _load(where.read_bytes(), key, plan_id)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        pass
    else:
        return parse_plan_text(text, plan_id, encoding=encoding, clauses=clauses, targets=targets,
                               **kwargs)
    plan = parse_plan_text(text, plan_id, encoding=encoding, **kwargs)
    try:
        from .fsutil import atomic_write_bytes

        atomic_write_bytes(where, _dump(plan, key))
    except (OSError, PlanAtlasError):
        pass       # the cache is only an optimisation
    return plan
