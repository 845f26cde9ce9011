"""``planatlas tiles build`` — PlanAtlas' own basemap rendered into an MBTiles file."""
from __future__ import annotations

from planatlas.layers.errors import InputError

from .output import emit_json, get_atlas

__all__ = ["register"]


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        v = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"--bbox must be minlon,minlat,maxlon,maxlat, got {text!r}") from None
    if len(v) != 4 or not (-180 <= v[0] < v[2] <= 180 and -85 <= v[1] < v[3] <= 85):
        raise InputError(f"--bbox must be minlon,minlat,maxlon,maxlat (min < max), got {text!r}")
    return v


def _zooms(text: str) -> list[int]:
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
            return list(range(a, b + 1))
        return [int(x) for x in text.split(",")]
    except ValueError:
        raise InputError(f"--zoom must look like 10-13 or 10,12, got {text!r}") from None


def cmd_tiles_build(args) -> int:
    from planatlas.desktop.export_map import ensure_app
    from planatlas.desktop.tilegen import build_mbtiles

    ensure_app()
    emit_json(build_mbtiles(get_atlas(), _bbox(args.bbox), _zooms(args.zoom), args.out))
    return 0


def register(sub) -> None:
    tiles = sub.add_parser("tiles", help="make tile basemaps (MBTiles) from PlanAtlas' own basemap",
                           description="Render the offline basemap into tiles. Sub-command: build.")
    tsub = tiles.add_subparsers(dest="tiles_command", metavar="{build}")
    p = tsub.add_parser("build", help="render districts, water and plan areas into an MBTiles file")
    p.add_argument("--bbox", required=True, help="minlon,minlat,maxlon,maxlat")
    p.add_argument("--zoom", default="9-12", help="zoom levels, e.g. 10-13 (default 9-12)")
    p.add_argument("--out", required=True, help="output .mbtiles")
    p.set_defaults(func=cmd_tiles_build)
