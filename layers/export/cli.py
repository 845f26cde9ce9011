"""``planatlas export …`` sub-commands (Qt-free: ``data`` and ``html``).

``add_export_commands(subparsers)`` registers ``export`` with ``data`` and ``html`` and returns
the ``export`` sub-subparsers, so the desktop entry point can add ``export map``
(``desktop.export_map.add_map_command``), which needs Qt.

Each command prints a JSON summary of what it wrote; bad input raises ``ExportError`` (a
``ValueError``), which ``layers.cli.run`` reports as ``planatlas export: error: …`` (exit 2).
"""
from __future__ import annotations

import argparse
import json
import sys

from .data import CRS_CHOICES, FORMATS

__all__ = ["add_export_commands", "export_subparsers"]


def _atlas():
    from planatlas.layers.atlas import load_atlas
    return load_atlas()


def _emit(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def cmd_export_data(args) -> int:
    from .data import export_data
    _emit(export_data(_atlas(), args.plan, args.category, args.format, args.crs, args.out))
    return 0


def cmd_export_html(args) -> int:
    from .html import export_html
    _emit(export_html(_atlas(), args.plan, args.out, categories=args.category, title=args.title))
    return 0


def export_subparsers(subparsers) -> argparse._SubParsersAction:
    """The sub-subparsers of ``export`` given either them or the top-level subparsers."""
    if "export" not in getattr(subparsers, "choices", {}):
        return subparsers
    parser = subparsers.choices["export"]
    found = getattr(parser, "_planatlas_subparsers", None)
    if found is None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                found = action
                break
    if found is None:
        raise RuntimeError("the 'export' command has no sub-commands to extend")
    return found


def add_export_commands(subparsers) -> argparse._SubParsersAction:
    """Register ``export data`` and ``export html``; return the ``export`` sub-subparsers."""
    export = subparsers.add_parser(
        "export", help="export sites for GIS tools, phones, spreadsheets, browsers and print",
        description="Export the places of one or more plans. Sub-commands: data, html "
                    "(and map, from the desktop entry point).")
    sub = export.add_subparsers(dest="export_command", metavar="{data,html,map}")
    sub.required = True
    export._planatlas_subparsers = sub

    p = sub.add_parser("data", help="site lists and geodata: GeoJSON, GeoPackage, KML/KMZ, GPX, CSV, XLSX",
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

    p = sub.add_parser("html", help="interactive offline map page (Leaflet inlined, no network)",
                       description="Write one self-contained HTML map of the plans' sites.")
    p.add_argument("--plan", required=True, help="plan id(s), comma separated")
    p.add_argument("--category", default=None, help="categories, comma separated (default: all)")
    p.add_argument("--title", default=None, help="page title (default: the plan titles)")
    p.add_argument("--out", required=True, help="output .html file")
    p.set_defaults(func=cmd_export_html)
    return sub
