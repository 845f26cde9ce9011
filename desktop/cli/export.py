"""``planatlas export data|html|map`` — files for GIS tools, phones, spreadsheets, browsers, print."""
from __future__ import annotations

from .output import emit_json, get_atlas

__all__ = ["register"]

MAP_FORMATS = ("png", "svg", "pdf")


def cmd_export_data(args) -> int:
    from planatlas.layers.export.data import export_data

    emit_json(export_data(get_atlas(), args.plan, args.category, args.format, args.crs, args.out))
    return 0


def cmd_export_html(args) -> int:
    from planatlas.layers.export.html import export_html
    from planatlas.layers.extent import parse_extent, resolve_extent

    atlas = get_atlas()
    stack, view, bookmarks = None, None, []
    if args.project:
        from planatlas.layers.project import apply_project, load_project
        from planatlas.layers.stack import plan_ids, standard_stack

        proj, _problems = load_project(args.project)
        stack = standard_stack(plan_ids(atlas))
        apply_project(stack, proj)
        view, bookmarks = proj.extent, list(proj.bookmarks)
    spec = parse_extent(args.extent or ("view" if view is not None else "plan"))
    box = None if spec.mode in ("plan", "all") else \
        resolve_extent(spec, atlas, [p.strip() for p in args.plan.split(",")], view=view,
                       bookmarks=bookmarks)
    emit_json(export_html(atlas, args.plan, args.out, categories=args.category,
                          title=args.title, stack=stack, extent=box))
    return 0


def _map_inputs(args, atlas):
    """(scene, stack, view, bookmarks) from ``--project`` and ``--layer``: the project's layer
    stack, its saved extent (``--extent view``) and bookmarks (``--extent bookmark:NAME``)."""
    scene = stack = view = None
    bookmarks: list = []
    if args.project or args.layer:
        import sys

        from planatlas.desktop.render import MapScene
        from planatlas.layers.project import add_files, apply_project, load_project

        scene = MapScene.from_atlas(atlas)
        stack = scene.default_stack()
        problems: list[str] = []
        if args.project:
            proj, problems = load_project(args.project)
            apply_project(stack, proj)
            view, bookmarks = proj.extent, list(proj.bookmarks)
        problems += add_files(stack, args.layer)[1]
        for problem in problems:
            print(f"planatlas export: {problem}", file=sys.stderr)
    return scene, stack, view, bookmarks


def _page_options(args) -> dict:
    return dict(layers=args.layers, paper=args.paper, orientation=args.orientation, dpi=args.dpi,
                title=args.title, subtitle=args.subtitle, labels=not args.no_labels,
                layout=args.layout, callouts=args.callouts)


def cmd_export_map(args) -> int:
    from planatlas.desktop.export_map import ensure_app, export_map   # paints with Qt

    ensure_app()
    atlas = get_atlas()
    scene, stack, view, bookmarks = _map_inputs(args, atlas)
    extent = args.extent or ("view" if view is not None else "plan")
    res = export_map(atlas, args.plan, args.out, fmt=args.format, extent=extent, scene=scene,
                     stack=stack, view=view, bookmarks=bookmarks, **_page_options(args))
    res.pop("labels", None)
    emit_json(res)
    return 0


def cmd_export_atlas(args) -> int:
    from planatlas.desktop.export_atlas import export_atlas
    from planatlas.desktop.export_map import ensure_app

    ensure_app()
    atlas = get_atlas()
    scene, stack, _view, _bm = _map_inputs(args, atlas)
    emit_json(export_atlas(atlas, args.plan, args.out, by=args.by, fmt=args.format, scene=scene,
                           stack=stack, **_page_options(args)))
    return 0


def _add_page_options(p, *, paper_default: str | None = None) -> None:
    p.add_argument("--plan", required=True, help="plan id(s), comma separated")
    p.add_argument("--layers", default=None, help="categories to show, comma separated (default all)")
    p.add_argument("--paper", "--page", default=paper_default,
                   help="A4, A3, A2 or WIDTHxHEIGHTpx (default: the layout's, else A4)")
    p.add_argument("--orientation", default=None, choices=("landscape", "portrait"),
                   help="default: the layout's, else landscape")
    p.add_argument("--dpi", type=float, default=None,
                   help="dots per inch (default 300 for A-sizes, 96 for pixel sizes)")
    p.add_argument("--layout", default=None, metavar="FILE",
                   help="print layout template (JSON, saved from the layout window)")
    p.add_argument("--callouts", default=None, choices=("auto", "key", "inset", "none"),
                   help="sites whose names do not fit: enlarged inset + numbered key (auto), "
                        "only numbers, only the inset, or nothing (default: the layout's)")
    p.add_argument("--title", default=None)
    p.add_argument("--subtitle", default=None)
    p.add_argument("--no-labels", action="store_true", help="do not label the sites")
    from .app import add_data_options
    add_data_options(p)


def register(sub) -> None:
    from planatlas.layers.export.data import CRS_CHOICES, FORMATS

    export = sub.add_parser(
        "export", help="export sites for GIS tools, phones, spreadsheets, browsers and print",
        description="Export the places of one or more plans. Sub-commands: data, html, map, atlas.")
    esub = export.add_subparsers(dest="export_command", metavar="{data,html,map,atlas}")
    esub.required = True

    p = esub.add_parser("data", help="site lists and geodata: GeoJSON, GeoPackage, KML/KMZ, GPX, CSV, XLSX",
                        description="Write the sites of the plans with their clause citations, "
                                    "coordinates in the chosen system.")
    p.add_argument("--plan", required=True, help="plan id(s), comma separated (e.g. guangzhou,binhai)")
    p.add_argument("--category", default=None,
                   help="categories, comma separated (default: all): commercial_district, "
                        "night_economy, logistics_hub, scenic_area")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--crs", default="wgs84", choices=CRS_CHOICES,
                   help="coordinate system of the output (default wgs84; gcj02 for Amap/Tencent, "
                        "bd09 for Baidu)")
    p.add_argument("--out", required=True, help="output file")
    p.set_defaults(func=cmd_export_data)

    p = esub.add_parser("html", help="interactive offline map page (Leaflet inlined, no network)",
                        description="Write one self-contained HTML map of the plans' sites.")
    p.add_argument("--plan", required=True, help="plan id(s), comma separated")
    p.add_argument("--category", default=None, help="categories, comma separated (default: all)")
    p.add_argument("--title", default=None, help="page title (default: the plan titles)")
    p.add_argument("--project", metavar="FILE",
                   help="a PlanAtlas project: its visible layers and saved view")
    p.add_argument("--extent", default=None,
                   help="plan (default; a --project's saved view if it has one), view, "
                        "district:NAME, bookmark:NAME or minlon,minlat,maxlon,maxlat")
    p.add_argument("--out", required=True, help="output .html file")
    p.set_defaults(func=cmd_export_html)

    p = esub.add_parser("map", help="map page for print or slides: PNG, SVG or PDF",
                        description="Draw the plans' sites on a print layout page with title, "
                                    "legend, scale bar, north arrow, sources, overview map and "
                                    "callouts for dense areas, with the canvas painter.")
    p.add_argument("--format", default=None, choices=MAP_FORMATS, help="default: from --out")
    p.add_argument("--extent", default=None,
                   help="plan (default; a --project's saved view if it has one), all, view "
                        "(the --project's saved view), district:NAME, bookmark:NAME or "
                        "minlon,minlat,maxlon,maxlat")
    _add_page_options(p)
    p.add_argument("--out", "-o", required=True)
    p.set_defaults(func=cmd_export_map)

    p = esub.add_parser("atlas", help="map series: one page per plan, district or category",
                        description="One layout page per unit, each framed on it, into one "
                                    "multi-page PDF or a folder of PNG/SVG pages.")
    p.add_argument("--by", default="district", choices=("district", "plan", "category"))
    p.add_argument("--format", default=None, choices=MAP_FORMATS,
                   help="default: pdf for a .pdf --out, else png pages in the --out folder")
    _add_page_options(p)
    p.add_argument("--out", "-o", required=True, help="a .pdf file or a folder")
    p.set_defaults(func=cmd_export_atlas)
