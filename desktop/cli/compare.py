"""Commands that compare targets across plans: ``compare`` and ``indicators``."""
from __future__ import annotations

from planatlas.layers.errors import InputError

from .output import emit_json, get_atlas, print_table, split_list

__all__ = ["register"]

CHARTS = ("bars", "timeline", "growth")


def _value(d: dict) -> str:
    v = f"{d['value']:g}"
    return f"{v}–{d['upper']:g}" if d["upper"] is not None else v


def _normalised(d: dict) -> str:
    n = d["normalised"]
    if n is None:
        return ""
    text = f"{n['display']:,.6g}"
    if n["display_upper"] is not None:
        text += f"–{n['display_upper']:,.6g}"
    return f"{text} {n['display_unit']}"


def _growth(d: dict) -> str:
    g = d["growth"]
    if not g:
        return ""
    from planatlas.layers.compare import COMPARATOR_SIGNS
    cmp_ = COMPARATOR_SIGNS.get(g["comparator"], "")
    return f"{cmp_}{g['annual_pct']:.1f}%/yr {g['method']}"


def _note(d: dict) -> str:
    notes = []
    if d["kind"] == "baseline":
        notes.append("baseline")
    if d["duplicate_of"]:
        notes.append(f"same as {d['duplicate_of'].split(':')[1]}")
    if d["cumulative"]:
        notes.append("cumulative")
    if d["implied"]:
        notes.append(f"= {d['implied']['display']:,.6g} {d['implied']['display_unit']}")
    return ", ".join(notes)


def cmd_compare(args) -> int:
    from planatlas.layers.compare import compare
    atlas = get_atlas()
    indicators = split_list(args.indicator)
    if args.out and not args.chart:
        raise InputError("--out needs --chart (bars, timeline or growth)")
    if args.chart and not args.out:
        raise InputError("--chart needs --out FILE.png|svg|pdf")
    rows = compare(atlas, indicators, split_list(args.plan), baselines=args.baselines,
                   include_other=args.all)
    if args.chart:
        return _chart(atlas, args, rows, indicators)
    dicts = [r.to_dict() for r in rows]
    if args.json:
        emit_json(dicts)
        return 0
    print_table([[d["plan"], d["indicator"], d["year"] or "—", d["comparator"], _value(d), d["unit"],
                  _normalised(d), _growth(d), d["citation"], _note(d), d["source_indicator"]]
                 for d in dicts],
                ["plan", "indicator", "year", "cmp", "value", "unit", "normalised", "growth",
                 "clause", "note", "as written"], max_width=30)
    plans = sorted({d["plan"] for d in dicts})
    print(f"\n{len(dicts)} rows from {len(plans)} plans; vocabulary: layers/data/indicators.toml "
          "('planatlas indicators' lists the keys)")
    return 0


def _chart(atlas, args, rows, indicators) -> int:
    from planatlas.layers import charts
    from planatlas.layers.compare import plan_label
    rows = [r for r in rows if r.key != "other"]
    if args.chart == "bars":
        keys = list(dict.fromkeys(r.key for r in rows if r.quantity is not None
                                  and r.quantity.dim not in ("percent", "pp")))
        if not indicators:        # the indicators that at least two plans set
            keys = [k for k in keys if len({r.plan for r in rows if r.key == k}) >= 2]
        if not keys:
            raise InputError("nothing to chart: no level or count targets for these indicators and plans")
        fig = charts.bars_figure(rows, keys[:8], lang=args.lang)
    elif args.chart == "timeline":
        plan_ids = list(dict.fromkeys(r.plan for r in rows)) or list(atlas.plans)
        plans = [(p, plan_label(atlas.plans[p]), atlas.plans[p].period) for p in plan_ids]
        fig = charts.timeline_figure(rows, plans, lang=args.lang)
    else:
        fig = charts.growth_figure(rows, lang=args.lang)
    out = charts.save_figure(fig, args.out, dpi=args.dpi)
    print(f"wrote {out}")
    return 0


def cmd_indicators(args) -> int:
    from planatlas.layers.compare import rows_of
    from planatlas.layers.indicators import OTHER, VOCABULARY_PATH, vocabulary
    vocab = vocabulary()
    atlas = get_atlas()
    counts: dict[str, int] = {}
    total = mapped = 0
    for pid in atlas.plans:
        for r in rows_of(atlas, pid):
            if r.target.kind != "target":
                continue
            total += 1
            mapped += r.key != OTHER
            counts[r.key] = counts.get(r.key, 0) + 1
    if args.json:
        emit_json({"vocabulary": str(VOCABULARY_PATH),
                   "indicators": [dict(ind.to_dict(), targets=counts.get(k, 0))
                                  for k, ind in vocab.indicators.items()],
                   "coverage": {"targets": total, "mapped": mapped, "other": counts.get(OTHER, 0)}})
        return 0
    print_table([[k, ind.group, ind.zh, ind.en, counts.get(k, 0), "、".join(ind.synonyms)]
                 for k, ind in vocab.indicators.items()],
                ["key", "group", "zh", "en", "targets", "synonyms"], max_width=34)
    share = f"{100 * mapped / total:.1f}" if total else "0"
    print(f"\n{mapped} of {total} targets ({share} %) map to a canonical indicator; "
          f"{counts.get(OTHER, 0)} are '{OTHER}'. Vocabulary: {VOCABULARY_PATH}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("compare", help="targets of all plans side by side by canonical indicator")
    p.add_argument("--indicator", action="append",
                   help="indicator key or group, e.g. retail_sales, business_districts, "
                        "logistics_throughput, other (repeat or comma-separate; default: all)")
    p.add_argument("--plan", action="append", help="plan ids (repeat or comma-separate; default: all)")
    p.add_argument("--baselines", action="store_true",
                   help="also list baselines (figures describing the past)")
    p.add_argument("--all", action="store_true", help="also list targets that map to 'other'")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--chart", choices=CHARTS, help="draw a chart instead of listing (needs --out)")
    p.add_argument("--out", help="chart file (.png, .svg or .pdf)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="chart language (default zh)")
    p.add_argument("--dpi", type=int, default=200, help="PNG resolution (default 200)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("indicators", help="the canonical indicator vocabulary and its coverage")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_indicators)
