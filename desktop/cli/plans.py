"""Commands about plan texts: ``plans``, ``clauses``, ``targets``, ``search``, ``import-plan``."""
from __future__ import annotations

from planatlas.layers.errors import InputError

from .output import get_atlas, emit_json, print_table

__all__ = ["register"]


def cmd_plans(args) -> int:
    from planatlas.layers.catalog import load_plans
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
    from planatlas.layers.catalog import load_plan
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
    from planatlas.layers.catalog import load_plan
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
    atlas = get_atlas()
    hits = atlas.search(args.text, crs=args.crs)
    if args.plan:
        hits = [h for h in hits if args.plan in h["plan"].split(",")]
    out = []
    for h in hits:
        if h["type"] == "clause":
            c = atlas.clause(h["id"])
            out.append({"type": "clause", "plan": h["plan"], "clause": c.id, "number": c.number,
                        "heading": c.heading, "lines": [c.lines[0], c.lines[1]], "snippet": h["snippet"]})
        elif h["type"] == "location":
            out.append({"type": "location", "plan": "", "feature": h["id"], "crs": h["crs"],
                        "lon": h["lon"], "lat": h["lat"], "snippet": f"{h['label']} → {h['snippet']}"})
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
    from planatlas.layers.catalog import import_plan
    period = None
    if args.period:
        try:
            a, b = args.period.split("-")
            period = (int(a), int(b))
        except ValueError:
            raise InputError(f"--period must look like 2023-2027, got {args.period!r}") from None
    plan = import_plan(args.file, args.id, title=args.title, issuer=args.issuer or "", issued=args.issued or "",
                       period=period, province=args.province or "", city=args.city or "",
                       district=args.district or "", adcode=args.adcode or "", replace=args.replace)
    from planatlas.layers.importer import found_places
    places = [p.to_dict() for p in found_places(plan)]
    summary = plan.summary()
    if args.json:
        emit_json({**summary, "places": places})
    else:
        print(f"imported {plan.id}: {plan.title} — {summary['counts']['clauses']} clauses, "
              f"{summary['counts']['targets']} targets ({plan.encoding}) → {plan.file}")
        print_places(places)
    return 0


def print_places(places: list[dict]) -> None:
    """The found places as a table: name, category, confidence, how it would be located, where."""
    def where(loc: dict) -> str:
        if loc["status"] == "unlocated":
            return "unlocated"
        return f"{loc['status']}: {loc['ref']} ±{loc['precision_m']:g} m ({loc['method']})"
    print_table([[p["name"], p["category"], f"{p['confidence']:.2f}", where(p["location"]), p["clause"],
                  p["line"], p["why"]] for p in places],
                ["place", "category", "conf", "located", "clause", "line", "why"], max_width=40)
    located = sum(1 for p in places if p["location"]["status"] != "unlocated")
    print(f"{len(places)} place mention(s) found, {located} located, {len(places) - located} unlocated")


def register(sub) -> None:
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

    p = sub.add_parser("search", help="search places (names, aliases, pinyin), clause text, or "
                                      "coordinates (113.32,23.11 / 23.11N 113.32E [gcj02])")
    p.add_argument("text")
    p.add_argument("--plan", help="only this plan")
    p.add_argument("--crs", default="wgs84", choices=("wgs84", "gcj02", "bd09", "cgcs2000"),
                   help="system of typed coordinates without a system word (default wgs84)")
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
