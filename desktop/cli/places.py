"""Commands about places: ``features``, ``feature``, ``unlocated``, ``validate``."""
from __future__ import annotations

import sys

from planatlas.layers.errors import InputError

from .output import get_atlas, emit_json, plan_list, plan_of, print_table

__all__ = ["register"]


def _feature_props(atlas, f) -> dict:
    props = f.properties()
    props["plans"] = atlas.plans_of(f.id)
    props["mentions"] = [{"plan": m.plan, "clause": m.clause, "line": m.line, "surface": m.surface}
                         for m in atlas.mentions(f.id)]
    props["targets"] = atlas.links.target_ids(f.id)
    return props


def cmd_features(args) -> int:
    from shapely.geometry import mapping
    atlas = get_atlas()
    cats = [c.strip() for c in args.category.split(",")] if args.category else None
    from planatlas.layers.model import CATEGORIES
    for c in cats or []:
        if c not in CATEGORIES:
            raise InputError(f"unknown category {c!r}; choose from {', '.join(CATEGORIES)}")
    feats = atlas.features_for(plan_list(atlas, args.plan), cats)
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
    atlas = get_atlas()
    if args.id not in atlas.features:
        hits = [h for h in atlas.search(args.id) if h["type"] == "feature"]
        if len(hits) == 1:
            args.id = hits[0]["id"]
        else:
            raise InputError(f"unknown feature {args.id!r}" + (
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
    atlas = get_atlas()
    plan_of(atlas, args.plan)
    items = atlas.unlocated(args.plan)
    if not args.all:
        items = [i for i in items if not i["explained"]]
    if args.json:
        emit_json(items)
    else:
        def where(loc):
            return "—" if loc["status"] == "unlocated" else f"{loc['ref']} ±{loc['precision_m']:g} m"
        print_table([[i["name"], i["category"], f"{i['confidence']:.2f}", i["clause"], i["line"],
                      where(i["location"]), i["explained"] or ""] for i in items],
                    ["place", "category", "conf", "clause", "line", "approx. location", "explained"], max_width=40)
        print(f"{len(items)} place mention(s) without a gazetteer feature "
              f"({sum(1 for i in items if i['location']['status'] == 'unlocated')} not located at all)")
    return 0


def cmd_validate(args) -> int:
    from planatlas.layers.gazetteer import validate
    atlas = get_atlas()
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


def register(sub) -> None:
    p = sub.add_parser("features", help="gazetteer features as GeoJSON (with mentions and targets)")
    p.add_argument("--plan", help="comma-separated plan ids")
    p.add_argument("--category", help="comma-separated categories")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_features)

    p = sub.add_parser("feature", help="one feature with its clauses and targets")
    p.add_argument("id", help="feature id (or a unique name)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_feature)

    p = sub.add_parser("unlocated", help="places the recogniser finds in a plan that no gazetteer feature covers")
    p.add_argument("plan")
    p.add_argument("--all", action="store_true",
                   help="also list mentions explained in geodata/features/*.excluded.json")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_unlocated)

    p = sub.add_parser("validate", help="check the gazetteer against the plans and the basemap")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_validate)
