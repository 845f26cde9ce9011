"""The user store on the command line: ``store use|init|migrate|sync|export|import|status|log``,
``place``, ``unplace``, ``undo``, ``redo`` (and ``undo-accept``, the old name of ``undo``).

Every write goes through :mod:`planatlas.layers.store`; a conflict (someone changed the same
feature since the version you based the change on) is printed with both values and exits 1.
"""
from __future__ import annotations

import getpass
import sys

from planatlas.layers.errors import InputError
from planatlas.layers.model import CATEGORIES

from .output import emit_json, get_atlas, plan_of, print_table

__all__ = ["register"]


def _store():
    from planatlas.layers.store import current_store
    return current_store()


def _lonlat(text: str, crs: str) -> tuple[float, float]:
    from planatlas.layers.crs import convert

    try:
        lon, lat = (float(v) for v in text.replace("，", ",").split(","))
    except ValueError:
        raise InputError(f"--lonlat must look like 113.3245,23.1371, got {text!r}") from None
    if crs != "wgs84":
        from planatlas.layers.gazetteer import check_lonlat

        check_lonlat(lon, lat, f"--lonlat ({crs})")
        x, y = convert([lon], [lat], crs, "wgs84")
        lon, lat = float(x[0]), float(y[0])
    return lon, lat


def _op_line(verb: str, op) -> str:
    n = len(op.items)
    return (f"{verb} operation {op.op_id} ({op.kind} of {n} item(s)"
            + (f" from {op.source}" if op.source else "") + f", {op.created_at})")


def _print_op(args, op, text: str) -> int:
    if args.json:
        emit_json(op.to_dict(), indent=1)
    else:
        print(text)
    return 0


# ------------------------------------------------------------------ place / unplace / undo / redo
def _placed_by_name(store, name: str, plan: str | None) -> list[tuple[str, dict]]:
    return [(fid, r) for fid, r in store.user_features().items()
            if r["name"] == " ".join(name.split()) and (plan is None or r["plan"] == plan)]


def cmd_place(args) -> int:
    import shapely

    store = _store()
    at = get_atlas()
    plan_of(at, args.plan)
    if args.category not in CATEGORIES:
        raise InputError(f"unknown category {args.category!r}; known: {', '.join(CATEGORIES)}")
    lon, lat = _lonlat(args.lonlat, args.crs)
    point = shapely.Point(lon, lat)
    crs_note = "wgs84" if args.crs == "wgs84" else f"{args.crs} converted to WGS-84"
    same = ([(args.id, store.user_features()[args.id])] if args.id and args.id in store.user_features()
            else _placed_by_name(store, args.name, args.plan) if not args.id else [])
    if args.id and args.id in at.features and at.features[args.id].origin != "user":
        raise InputError(f"{args.id!r} is a shipped feature's id; choose another --id")
    if len(same) > 1:
        raise InputError(f"{len(same)} placed features are named {args.name!r} in plan {args.plan}: "
                         f"{', '.join(f for f, _ in same)}; say which with --id")
    if same:
        fid, rec = same[0]
        if args.alias:
            raise InputError(f"{rec['name']} is already placed ({fid}): 'planatlas place' moves it; "
                             f"aliases of a placed feature are edited in the app (Edit › Edit place…)")
        op = store.move_feature(fid, point, base_version=args.if_version,
                                precision_m=args.precision_m, source=args.source)
        return _print_op(args, op, f"moved {rec['name']} ({fid}) to {lon:.6f},{lat:.6f} WGS-84 — "
                                   f"version {op.items[0].version}, operation {op.op_id}")
    if args.if_version not in (None, 0):
        raise InputError(f"--if-version {args.if_version}: no placed feature {args.name!r} in plan {args.plan}")
    op = store.place_feature(args.name, point, args.plan, args.category,
                             args.precision_m if args.precision_m is not None else 50.0,
                             args.source or "placed on the command line", crs=crs_note,
                             feature_id=args.id, aliases=args.alias or None)
    return _print_op(args, op, f"placed {args.name} as {op.ids[0]} at {lon:.6f},{lat:.6f} WGS-84"
                               + ("" if args.crs == "wgs84" else f" (converted from {args.crs})")
                               + f" — operation {op.op_id} (undo: planatlas undo)")


def cmd_unplace(args) -> int:
    store = _store()
    placed = store.user_features()
    if args.feature in placed:
        fid = args.feature
    else:
        same = _placed_by_name(store, args.feature, args.plan)
        if not same:
            raise InputError(f"no placed feature {args.feature!r} (give its id or name; "
                             f"'planatlas store status' counts them)")
        if len(same) > 1:
            raise InputError(f"{len(same)} placed features are named {args.feature!r}: "
                             f"{', '.join(f for f, _ in same)}; give the id")
        fid = same[0][0]
    op = store.delete_feature(fid, base_version=args.if_version)
    return _print_op(args, op, f"deleted {placed[fid]['name']} ({fid}) — operation {op.op_id} "
                               f"(undo: planatlas undo)")


def cmd_undo(args) -> int:
    op = _store().undo()
    return _print_op(args, op, _op_line("undid", op))


def cmd_redo(args) -> int:
    op = _store().redo()
    return _print_op(args, op, _op_line("redid", op))


# ------------------------------------------------------------------ store …
def cmd_use(args) -> int:
    from planatlas.layers import store as st
    from planatlas.layers.store import config

    url = None if args.url in ("embedded", "default") else args.url
    config.parse_target(url)
    if url is not None and config.has_password(url):
        if args.save_password:
            password = config.conninfo_parts(url).get("password", "")
            path = config.add_pgpass(url, password)
            print(f"password written to {path} (mode 0600), libpq's password file", file=sys.stderr)
        else:
            print("warning: the password in the URL is NOT saved; put it in ~/.pgpass "
                  "(host:port:db:user:password, mode 0600), PGPASSFILE or a service file, or "
                  "repeat with --save-password", file=sys.stderr)
    path = config.save_choice(url)
    st.reset()
    print(f"store: {config.sanitize(url)} (saved in {path})")
    if url is not None and not args.no_check:
        from planatlas.layers.store.postgis import check_connection

        print(check_connection(url))
    return 0


def cmd_init(args) -> int:
    from planatlas.layers.store import config, open_store

    url = args.url if args.url else config.configured()[0]
    kind, target = config.parse_target(url)
    if kind == "gpkg":
        store = open_store(url)
        before, after = store.migrate()
        print(f"embedded store ready: {store.label} (schema {after})")
        return 0
    from planatlas.layers.store.postgis import init_server

    for line in init_server(target, editors=args.editor or [], viewers=args.viewer or []):
        print(line)
    return 0


def cmd_migrate(args) -> int:
    from planatlas.layers.store import open_store

    store = open_store(offline_ok=False)
    before, after = store.migrate()
    print(f"{store.kind} store {_label(store)}: schema {before} → {after}"
          if before != after else f"{store.kind} store {_label(store)} is at schema {after}, nothing to migrate")
    return 0


def _label(store) -> str:
    from planatlas.layers.store.config import sanitize
    return sanitize(store.label) if store.kind == "postgis" else store.label


def cmd_status(args) -> int:
    from planatlas.layers.store import status

    info = status.status()
    if args.json:
        emit_json(info, indent=1)
        return 0
    for key, value in info.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = "; ".join(map(str, value)) or "none"
        print(f"{key:<14} {value}")
    return 0


def cmd_log(args) -> int:
    ops = _store().operations(limit=args.limit)
    if args.json:
        emit_json([o.to_dict() for o in ops], indent=1)
        return 0
    print_table([[o.seq, o.op_id, o.kind, o.state, o.user, o.created_at[:19], o.summary] for o in ops],
                ["seq", "operation", "kind", "state", "user", "when (UTC)", "what"], max_width=50)
    return 0


def cmd_sync(args) -> int:
    from planatlas.layers.store import sync

    report = sync.sync()
    for line in report.lines():
        print(line)
    return 1 if report.conflicts else 0


def cmd_export(args) -> int:
    from planatlas.layers.store import sync

    n = sync.copy_store(None, args.dest, replace=args.replace)
    print(f"copied {n} row(s) of the store to {sync.label_of(args.dest)}")
    return 0


def cmd_import(args) -> int:
    from planatlas.layers.store import sync

    n = sync.copy_store(args.source, None, replace=args.replace)
    print(f"copied {n} row(s) from {sync.label_of(args.source)} into the store")
    return 0


def register(sub) -> None:
    p = sub.add_parser("place", help="put a feature on the map (or move the placed one with that name)",
                       description="Place a named feature in a plan at a position (stored in WGS-84; "
                                   "GCJ-02/BD-09 input is converted once). If a feature of that name is "
                                   "already placed in the plan it is moved.")
    p.add_argument("name", metavar="FEATURE-NAME")
    p.add_argument("--plan", required=True)
    p.add_argument("--lonlat", required=True, metavar="LON,LAT")
    p.add_argument("--crs", default="wgs84", choices=("wgs84", "gcj02", "bd09", "cgcs2000"),
                   help="coordinate system of --lonlat (default wgs84)")
    p.add_argument("--category", default="commercial_district", metavar="C",
                   help=f"one of {', '.join(CATEGORIES)} (default commercial_district)")
    p.add_argument("--precision-m", type=float, help="position precision in metres (default 50)")
    p.add_argument("--source", help="where the position comes from (default: placed on the command line)")
    p.add_argument("--id", help="feature id (default: generated)")
    p.add_argument("--alias", action="append", metavar="NAME",
                   help="another name the plans use for it (repeatable; links those mentions too)")
    p.add_argument("--if-version", type=int, metavar="N",
                   help="only if the feature is still at version N (else: conflict, exit 1)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_place)

    p = sub.add_parser("unplace", help="delete a placed feature (undoable)")
    p.add_argument("feature", metavar="FEATURE", help="id or name of a placed feature")
    p.add_argument("--plan", help="when the name is used in several plans")
    p.add_argument("--if-version", type=int, metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_unplace)

    for name, func, text in (("undo", cmd_undo, "undo your last operation (accept, place, move, import …)"),
                             ("undo-accept", cmd_undo, "same as 'undo' (its old name)"),
                             ("redo", cmd_redo, "redo your last undone operation")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)

    p = sub.add_parser("store", help="the user store: embedded GeoPackage or the team's PostGIS",
                       description="Where imported plans, placed features, verified positions and "
                                   "the undo log live.")
    ss = p.add_subparsers(dest="store_command", metavar="SUBCOMMAND", required=True)
    q = ss.add_parser("use", help="choose the store: a postgresql:// URL, service=NAME, a .gpkg, or 'embedded'")
    q.add_argument("url")
    q.add_argument("--save-password", action="store_true",
                   help="write the URL's password to ~/.pgpass (PGPASSFILE) instead of dropping it")
    q.add_argument("--no-check", action="store_true", help="do not try to connect")
    q.set_defaults(func=cmd_use)
    q = ss.add_parser("init", help="create the store (PostGIS: extension, schema, tables, roles, grants)")
    q.add_argument("url", nargs="?", help="default: the configured store")
    q.add_argument("--editor", action="append", metavar="ROLE", help="grant the editor role to this login")
    q.add_argument("--viewer", action="append", metavar="ROLE", help="grant the viewer role to this login")
    q.set_defaults(func=cmd_init)
    q = ss.add_parser("migrate", help="bring the store's schema to this PlanAtlas' version")
    q.set_defaults(func=cmd_migrate)
    q = ss.add_parser("status", help="which store, schema, role, counts, queued operations")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_status)
    q = ss.add_parser("log", help="the operation log")
    q.add_argument("--limit", type=int, default=30)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_log)
    q = ss.add_parser("sync", help="push operations made offline to the team store, then refresh the local copy")
    q.set_defaults(func=cmd_sync)
    q = ss.add_parser("export", help="copy the whole store to a GeoPackage file or another PostGIS")
    q.add_argument("dest", help="a .gpkg path or a postgresql:// URL (must be empty)")
    q.add_argument("--replace", action="store_true", help="empty the destination first")
    q.set_defaults(func=cmd_export)
    q = ss.add_parser("import", help="copy a whole store (GeoPackage or PostGIS) into the current, empty store")
    q.add_argument("source", help="a .gpkg path or a postgresql:// URL")
    q.add_argument("--replace", action="store_true", help="empty the current store first")
    q.set_defaults(func=cmd_import)
