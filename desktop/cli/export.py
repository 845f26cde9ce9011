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

    emit_json(export_html(get_atlas(), args.plan, args.out, categories=args.category,
                          title=args.title))
    return 0


def _painting_app():
    """The Qt application for painting on the command line: offscreen unless the user chose a
    platform, and a QApplication (not just a QGuiApplication) so that widgets created later in
    the same process (the app, tests) can share it."""
    import os

    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        return QApplication(["planatlas"])
    return QApplication.instance()


def cmd_export_map(args) -> int:
    from planatlas.desktop.export_map import export_map   # paints with Qt

    _painting_app()
    emit_json(export_map(get_atlas(), args.plan, args.out, fmt=args.format, layers=args.layers,
                         paper=args.paper, orientation=args.orientation, dpi=args.dpi,
                         extent=args.extent, title=args.title, subtitle=args.subtitle,
                         labels=not args.no_labels))
    return 0


def register(sub) -> None:
    from planatlas.layers.export.data import CRS_CHOICES, FORMATS

    export = sub.add_parser(
        "export", help="export sites for GIS tools, phones, spreadsheets, browsers and print",
        description="Export the places of one or more plans. Sub-commands: data, html, map.")
    esub = export.add_subparsers(dest="export_command", metavar="{data,html,map}")
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
    p.add_argument("--out", required=True, help="output .html file")
    p.set_defaults(func=cmd_export_html)

    p = esub.add_parser("map", help="map page for print or slides: PNG, SVG or PDF",
                        description="Draw the plans' sites on a page with title, legend, scale "
                                    "bar, north arrow and sources, with the canvas painter.")
    p.add_argument("--plan", required=True, help="plan id(s), comma separated")
    p.add_argument("--layers", default=None, help="categories to show, comma separated (default all)")
    p.add_argument("--format", default=None, choices=MAP_FORMATS, help="default: from --out")
    p.add_argument("--paper", default="A4", help="A4, A3, A2 or WIDTHxHEIGHTpx (default A4)")
    p.add_argument("--orientation", default="landscape", choices=("landscape", "portrait"))
    p.add_argument("--dpi", type=float, default=None,
                   help="dots per inch (default 300 for A-sizes, 96 for pixel sizes)")
    p.add_argument("--extent", default="plan", help="'plan' or minlon,minlat,maxlon,maxlat")
    p.add_argument("--title", default=None)
    p.add_argument("--subtitle", default=None)
    p.add_argument("--no-labels", action="store_true", help="do not label the sites")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export_map)
