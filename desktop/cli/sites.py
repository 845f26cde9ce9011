"""Field commands: ``check-sites``, ``accept-survey`` (undo: ``planatlas undo``), ``sitelist``."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from planatlas.layers.errors import InputError
from planatlas.layers.model import CATEGORIES

from .output import emit_json, get_atlas, plan_list, split_list

__all__ = ["register"]


def _select_features(plans, categories=None, districts=None):
    from planatlas.layers.survey import normalize_name

    at = get_atlas()
    plans = plan_list(at, plans)
    bad = [c for c in categories or [] if c not in CATEGORIES]
    if bad:
        raise InputError(f"unknown categor{'y' if len(bad) == 1 else 'ies'} {', '.join(bad)}; "
                         f"known: {', '.join(CATEGORIES)}")
    feats = at.features_for(plans=plans, categories=categories)
    if districts:
        keys = [normalize_name(d) for d in districts]
        feats = [f for f in feats if any(k and k in normalize_name(f.district or "") for k in keys)]
    return at, plans, feats


def _parse_rows(spec: str | None) -> list[int] | None:
    if not spec:
        return None
    out: list[int] = []
    for part in re.split(r"[,\s]+", spec.strip()):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise InputError(f"bad --rows item {part!r}; use e.g. 3,5-9")
        a = int(m.group(1))
        out += list(range(a, int(m.group(2) or a) + 1))
    return out


def _add_check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="survey file: CSV (UTF-8/GBK), XLSX, GPX, KML/KMZ")
    p.add_argument("--plan", action="append", metavar="P[,P…]",
                   help="check against features of these plans (default: all)")
    p.add_argument("--crs", default="auto", choices=("auto", "wgs84", "gcj02", "bd09", "cgcs2000"),
                   help="coordinate system of the file (default: detect)")
    p.add_argument("--tolerance-m", type=float, default=200.0,
                   help="distance within which a site is confirmed (default 200 m)")


def _run_check(args):
    from planatlas.layers.survey import check_survey

    if not args.tolerance_m > 0:
        raise InputError("--tolerance-m must be positive")
    at, plans, feats = _select_features(args.plan)
    others = list(at.features.values()) if plans else []
    return check_survey(args.file, feats, crs=args.crs, tolerance_m=args.tolerance_m,
                        plans=plans, other_features=others)


def cmd_check(args) -> int:
    from planatlas.layers.survey import format_report, write_report

    report = _run_check(args)
    if args.report:
        out = write_report(report, args.report)
        print(f"report written to {out}", file=sys.stderr)
    if args.json:
        emit_json(report.to_dict(), indent=1)
    else:
        print(format_report(report, limit=args.limit))
    return 0


def cmd_accept(args) -> int:
    from planatlas.layers.store import current_store, describe

    report = _run_check(args)
    statuses = tuple(split_list(args.status) or ())
    store = current_store()
    # positions as the check saw them: a colleague's newer accept is a conflict, not overwritten
    versions = getattr(get_atlas(), "versions", None)
    result = store.accept(report, rows=_parse_rows(args.rows), statuses=statuses,
                          dry_run=args.dry_run, base_versions=versions)
    if args.json:
        emit_json(result, indent=1)
        return 0
    verb = "would accept" if args.dry_run else "accepted"
    print(f"{verb} {len(result['accepted'])} feature(s) from {Path(args.file).name}"
          + ("" if args.dry_run else f" as operation {result['op']} (undo: planatlas undo)"))
    for a in result["accepted"]:
        print(f"  {a['feature']:<28} {a['name']}  row {a['row']} ({a['survey_status']}, "
              f"{a['distance_m']:.0f} m)")
    for s in result["skipped"]:
        print(f"  skipped row {s['row']}: {s['reason']}")
    if not args.dry_run:
        print(f"store: {describe(store)}")
    return 0


def cmd_sitelist(args) -> int:
    from planatlas.layers import sitelist

    fmt = args.format or Path(args.out).suffix.lstrip(".").lower()
    if fmt not in ("pdf", "xlsx"):
        raise InputError("--format must be pdf or xlsx (or give --out a .pdf/.xlsx name)")
    at, plans, feats = _select_features(args.plan, split_list(args.category),
                                        split_list(args.district))
    if not feats:
        raise InputError("no features match the selection")
    title = sitelist.list_title(at, plans)
    if fmt == "xlsx":
        out = sitelist.write_sitelist_xlsx(feats, args.out, crs=args.crs, title=title)
    else:
        from planatlas.desktop.sitelist import write_sitelist_pdf   # paints with Qt

        out = write_sitelist_pdf(feats, args.out, crs=args.crs, title=title, atlas=at)
    n_d = len({f.district for f in feats})
    print(f"site list with {len(feats)} sites in {n_d} district(s) written to {out}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("check-sites", help="check a field survey against the gazetteer",
                       description="Match each survey row to a feature by name or id, detect the "
                                   "coordinate system, and report confirmed / moved / unmatched / "
                                   "invalid rows and sites not surveyed.")
    _add_check_args(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--report", metavar="FILE.csv|FILE.xlsx", help="also write the report to a file")
    p.add_argument("--limit", type=int, default=200, help="rows listed in the text output")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("accept-survey",
                       help="accept confirmed/moved survey rows into the user store (undoable)")
    _add_check_args(p)
    p.add_argument("--rows", help="only these data rows, e.g. 3,5-9 (default: all confirmed and moved)")
    p.add_argument("--status", default="confirmed,moved",
                   help="row statuses to accept (default confirmed,moved)")
    p.add_argument("--dry-run", action="store_true", help="show what would be accepted")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accept)

    p = sub.add_parser("sitelist", help="printable field checklist of sites (PDF or XLSX)")
    p.add_argument("--plan", action="append", metavar="P[,P…]")
    p.add_argument("--category", action="append", metavar="C[,C…]",
                   help=f"one of {', '.join(CATEGORIES)}")
    p.add_argument("--district", action="append", metavar="D[,D…]",
                   help="only districts whose name contains this")
    p.add_argument("--crs", default="wgs84", choices=("wgs84", "gcj02", "bd09", "cgcs2000"),
                   help="coordinate system of the printed coordinates (default wgs84)")
    p.add_argument("--format", choices=("pdf", "xlsx"), help="default: from --out's suffix")
    p.add_argument("--out", required=True, help="output file")
    p.set_defaults(func=cmd_sitelist)
