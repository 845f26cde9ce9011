"""``planatlas`` command line (Qt-free commands). JSON output is stable: other tools read it."""
from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from typing import Any, Callable

from .text import PlanTextError


class CliError(Exception):
    pass


# ---------------------------------------------------------------- output helpers
def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _cut(s: str, n: int) -> str:
    out, w = "", 0
    for ch in s:
        cw = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if w + cw > n - 1 and _width(s) > n:
            return out + "…"
        out += ch
        w += cw
    return out


def print_table(rows: list[list[Any]], headers: list[str], max_width: int = 40, out=None) -> None:
    out = out or sys.stdout
    cells = [[_cut(str("" if v is None else v).replace("\n", " "), max_width) for v in r] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = lambda vals: "  ".join(v + " " * (widths[i] - _width(v)) for i, v in enumerate(vals)).rstrip()
    print(line(headers), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in cells:
        print(line(r), file=out)


def emit_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _atlas():
    from .atlas import load_atlas
    return load_atlas()


def _plan(atlas, pid: str):
    if pid not in atlas.plans:
        raise CliError(f"unknown plan {pid!r}; known plans: {', '.join(atlas.plans)}")
    return atlas.plans[pid]


def _plan_list(atlas, value: str | None) -> list[str] | None:
    if not value:
        return None
    ids = [p.strip() for p in value.split(",") if p.strip()]
    for pid in ids:
        _plan(atlas, pid)
    return ids


# ---------------------------------------------------------------- commands
def cmd_plans(args) -> int:
    from .catalog import load_plans
    plans = load_plans()
    rows = [p.summary() for p in plans.values()]
    if args.json:
        emit_json(rows)
    else:
        print_table([[r["id"], r["title"], f"{r['region']['city']}{r['region']['district']}",
                      f"{r['period']['start']}-{r['period']['end']}", r["counts"]["clauses"],
                      r["counts"]["targets"], r["origin"]] for r in rows],
                    ["id", "title", "region", "period", "clauses", "targets", "origin"], max_width=44)
    return 0


def cmd_clauses(args) -> int:
    from .catalog import load_plan
    plan = load_plan(args.plan)
    rows = [c.to_dict() for c in plan.clauses]
    if args.json:
        emit_json(rows)
    else:
        print_table([["  " * max(c["level"] - 1, 0) + (c["number"] or "·"), c["heading"], c["id"],
                      f"{c['lines'][0]}-{c['lines'][1]}"] for c in rows],
                    ["number", "heading", "id", "lines"], max_width=48)
    return 0


def cmd_targets(args) -> int:
    from .catalog import load_plan
    plan = load_plan(args.plan)
    rows = [t.to_dict() for t in plan.targets if args.all or t.kind == "target"]
    if args.json:
        emit_json(rows)
    else:
        def value(t):
            v = f"{t['value']:g}"
            return f"{v}–{t['upper']:g}" if t["upper"] is not None else v
        print_table([[t["id"].split(":")[1], t["kind"], t["year"], t["indicator"], t["comparator"], value(t),
                      t["unit"], t["scope"], t["line"]] for t in rows],
                    ["id", "kind", "year", "indicator", "cmp", "value", "unit", "scope", "line"], max_width=36)
    return 0


def cmd_search(args) -> int:
    atlas = _atlas()
    hits = atlas.search(args.text)
    if args.plan:
        hits = [h for h in hits if args.plan in h["plan"].split(",")]
    out = []
    for h in hits:
        if h["type"] == "clause":
            c = atlas.clause(h["id"])
            out.append({"type": "clause", "plan": h["plan"], "clause": c.id, "number": c.number,
                        "heading": c.heading, "lines": [c.lines[0], c.lines[1]], "snippet": h["snippet"]})
        else:
            out.append({"type": "feature", "plan": h["plan"], "feature": h["id"], "name": h["label"],
                        "snippet": h["snippet"]})
    if args.json:
        emit_json(out)
    else:
        print_table([[o["type"], o["plan"], o.get("clause") or o.get("feature"),
                      "-".join(map(str, o["lines"])) if "lines" in o else "", o["snippet"]] for o in out],
                    ["type", "plan", "id", "lines", "snippet"], max_width=60)
    return 0


def cmd_import_plan(args) -> int:
    from .catalog import import_plan
    period = None
    if args.period:
        try:
            a, b = args.period.split("-")
            period = (int(a), int(b))
        except ValueError:
            raise CliError(f"--period must look like 2023-2027, got {args.period!r}") from None
    plan = import_plan(args.file, args.id, title=args.title, issuer=args.issuer or "", issued=args.issued or "",
                       period=period, province=args.province or "", city=args.city or "",
                       district=args.district or "", adcode=args.adcode or "", replace=args.replace)
    summary = plan.summary()
    if args.json:
        emit_json(summary)
    else:
        print(f"imported {plan.id}: {plan.title} — {summary['counts']['clauses']} clauses, "
              f"{summary['counts']['targets']} targets ({plan.encoding}) → {plan.file}")
    return 0


def _feature_props(atlas, f) -> dict:
    props = f.properties()
    props["plans"] = atlas.plans_of(f.id)
    props["mentions"] = [{"plan": m.plan, "clause": m.clause, "line": m.line, "surface": m.surface}
                         for m in atlas.mentions(f.id)]
    props["targets"] = atlas.links.target_ids(f.id)
    return props


def cmd_features(args) -> int:
    from shapely.geometry import mapping
    atlas = _atlas()
    cats = [c.strip() for c in args.category.split(",")] if args.category else None
    from .model import CATEGORIES
    for c in cats or []:
        if c not in CATEGORIES:
            raise CliError(f"unknown category {c!r}; choose from {', '.join(CATEGORIES)}")
    feats = atlas.features_for(_plan_list(atlas, args.plan), cats)
    if args.json:
        emit_json({"type": "FeatureCollection",
                   "features": [{"type": "Feature", "id": f.id, "properties": _feature_props(atlas, f),
                                 "geometry": mapping(f.geometry)} for f in feats]})
    else:
        print_table([[f.id, f.name, ",".join(f.categories), f.district, f"{f.precision_m:g}", f.status,
                      len(atlas.mentions(f.id))] for f in feats],
                    ["id", "name", "categories", "district", "±m", "status", "mentions"], max_width=34)
    return 0


def cmd_feature(args) -> int:
    from shapely.geometry import mapping
    atlas = _atlas()
    if args.id not in atlas.features:
        hits = [h for h in atlas.search(args.id) if h["type"] == "feature"]
        if len(hits) == 1:
            args.id = hits[0]["id"]
        else:
            raise CliError(f"unknown feature {args.id!r}" + (
                f"; did you mean {', '.join(h['id'] for h in hits[:5])}?" if hits else ""))
    f = atlas.feature(args.id)
    clauses = []
    for c in atlas.clauses_of(f.id):
        ms = [m for m in atlas.mentions(f.id) if m.clause == c.id]
        clauses.append({"plan": c.plan, "clause": c.id, "number": c.number, "heading": c.heading,
                        "lines": [c.lines[0], c.lines[1]], "text": c.text,
                        "mentions": [{"start": m.start, "end": m.end, "line": m.line, "surface": m.surface,
                                      "in_note": m.in_note} for m in ms]})
    out = {"type": "Feature", "id": f.id, "properties": _feature_props(atlas, f),
           "geometry": mapping(f.geometry), "clauses": clauses,
           "targets": [t.to_dict() for t in atlas.targets_of(f.id)]}
    if args.json:
        emit_json(out)
    else:
        p = out["properties"]
        print(f"{f.name}  [{f.id}]")
        print(f"  {', '.join(f.categories)} · {f.subtype}{' · ' + f.tier if f.tier else ''} · {f.district} ({f.adcode})")
        if f.aliases:
            print(f"  aliases: {'、'.join(f.aliases)}")
        print(f"  position: {f.geometry.representative_point().x:.4f}, {f.geometry.representative_point().y:.4f} "
              f"(±{f.precision_m:g} m, {f.status}; {f.source})")
        print(f"  plans: {', '.join(p['plans'])}")
        for c in clauses:
            print(f"  · {c['plan']} {c['number']} {c['heading']} (lines {c['lines'][0]}–{c['lines'][1]})")
        if out["targets"]:
            print_table([[t["id"], t["year"], t["indicator"], t["comparator"], f"{t['value']:g}", t["unit"]]
                         for t in out["targets"]], ["target", "year", "indicator", "cmp", "value", "unit"])
    return 0


def cmd_unlocated(args) -> int:
    atlas = _atlas()
    _plan(atlas, args.plan)
    items = atlas.unlocated(args.plan)
    if not args.all:
        items = [i for i in items if not i["explained"]]
    if args.json:
        emit_json(items)
    else:
        print_table([[i["surface"], i["clause"], i["line"], i["explained"] or ""] for i in items],
                    ["surface", "clause", "line", "explained"], max_width=50)
        print(f"{len(items)} place-like mention(s) without a feature")
    return 0


def cmd_validate(args) -> int:
    from .gazetteer import validate
    atlas = _atlas()
    try:
        basemap = atlas.basemap
    except (ImportError, FileNotFoundError) as exc:
        basemap = None
        print(f"warning: basemap unavailable, containment not checked ({exc})", file=sys.stderr)
    problems = validate(list(atlas.features.values()), atlas.plans, basemap)
    for f in atlas.features.values():
        if not atlas.mentions(f.id):
            problems.append(f"{f.id}: no mention in any plan")
    if args.json:
        emit_json(problems)
    else:
        for p in problems:
            print(p)
        print(f"{len(atlas.features)} features, {len(problems)} problem(s)")
    return 1 if problems else 0


# ---------------------------------------------------------------- parser
def build_parser(extra: list[Callable] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planatlas",
        description="PlanAtlas — offline map of Chinese city commerce plans. Without a command, opens the app.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("plans", help="list the plans (seed and imported)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plans)

    p = sub.add_parser("clauses", help="the clause tree of a plan, with source lines")
    p.add_argument("plan")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_clauses)

    p = sub.add_parser("targets", help="quantitative targets of a plan")
    p.add_argument("plan")
    p.add_argument("--all", action="store_true", help="include baselines (figures describing the past)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_targets)

    p = sub.add_parser("search", help="search places and clause text")
    p.add_argument("text")
    p.add_argument("--plan", help="only this plan")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("import-plan", help="import a plan text into the user's data directory")
    p.add_argument("file")
    p.add_argument("--id", required=True, help="plan id (lowercase letters, digits, - or _)")
    p.add_argument("--title")
    p.add_argument("--issuer")
    p.add_argument("--issued", help="issue date, e.g. 2024-01-12")
    p.add_argument("--period", help="e.g. 2023-2027 (guessed from the text when omitted)")
    p.add_argument("--province")
    p.add_argument("--city")
    p.add_argument("--district")
    p.add_argument("--adcode")
    p.add_argument("--replace", action="store_true", help="replace an imported plan with the same id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import_plan)

    p = sub.add_parser("features", help="gazetteer features as GeoJSON (with mentions and targets)")
    p.add_argument("--plan", help="comma-separated plan ids")
    p.add_argument("--category", help="comma-separated categories")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_features)

    p = sub.add_parser("feature", help="one feature with its clauses and targets")
    p.add_argument("id", help="feature id (or a unique name)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_feature)

    p = sub.add_parser("unlocated", help="place-like mentions in a plan that match no feature")
    p.add_argument("plan")
    p.add_argument("--all", action="store_true", help="also list mentions explained in geodata/features/*.excluded.json")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_unlocated)

    p = sub.add_parser("validate", help="check the gazetteer against the plans and the basemap")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_validate)

    for add in extra or []:
        add(sub)
    return parser


def qt_free_extensions() -> list[Callable]:
    """Sub-command groups from other ``layers`` modules (exports, site lists)."""
    out = []
    try:
        from .export.cli import add_export_commands
        out.append(add_export_commands)
    except ImportError:
        pass
    try:
        from .sites import add_site_commands
        out.append(add_site_commands)
    except ImportError:
        pass
    return out


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .gazetteer import GazetteerError
    try:
        return args.func(args)
    except (CliError, PlanTextError, GazetteerError, KeyError, FileNotFoundError, ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"planatlas {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


def main(argv: list[str] | None = None, extra: list[Callable] | None = None) -> int:
    """Parse and run a command; ``extra`` adds sub-command groups (the desktop adds its own)."""
    parser = build_parser(qt_free_extensions() + list(extra or []))
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    return run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
