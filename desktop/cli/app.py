"""``planatlas app`` (also: no command) and ``planatlas screenshot``.

Before Qt is started on a real display, :func:`display_problem` checks that there is a display
and that the system libraries Qt's X11 plugin loads are installed — without them Qt aborts the
process with a multi-line message (exit 134); here the user gets one line naming the Debian
packages to install.
"""
from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

from planatlas.layers.errors import InputError, OperationError

__all__ = ["register", "add_app_options", "add_data_options", "run_app", "display_problem", "XCB_PACKAGES"]

# shared library (soname) Qt's xcb platform plugin needs -> the Debian package that has it
XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3", "libX11-xcb.so.1": "libx11-xcb1",
}
_HEADLESS_PLATFORMS = {"offscreen", "minimal", "vnc", "eglfs", "linuxfb", "minimalegl", "vkkhrdisplay"}


def _missing_xcb_libraries() -> list[str]:
    """Sonames the xcb plugin (and the libxcb-cursor it loads at run time) cannot find."""
    try:
        import PySide6
    except ImportError:
        return []
    qt = Path(PySide6.__file__).parent / "Qt"
    missing: set[str] = set()
    for lib in (qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6"):
        if not lib.exists():
            continue
        try:
            out = subprocess.run(["ldd", str(lib)], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        missing.update(line.split()[0] for line in out.splitlines() if "not found" in line)
    if ctypes.util.find_library("xcb-cursor") is None:
        missing.add("libxcb-cursor.so.0")
    return sorted(missing)


def display_problem() -> str | None:
    """Why a window cannot open here (one line naming what to install), or None if it can."""
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if platform in _HEADLESS_PLATFORMS:
        return None
    if platform == "wayland" or (not platform and os.environ.get("WAYLAND_DISPLAY")
                                 and not os.environ.get("DISPLAY")):
        return None
    if not os.environ.get("DISPLAY"):
        return ("no display to open a window on (DISPLAY is not set); run it in a desktop session "
                "or under xvfb-run (Debian package xvfb), or make images without a window with "
                "'planatlas screenshot' / 'planatlas export map'")
    missing = _missing_xcb_libraries()
    if missing:
        pkgs = sorted({XCB_PACKAGES.get(m, m) for m in missing})
        return ("Qt's X11 support needs system libraries that are missing "
                f"({', '.join(missing)}); install them with: "
                f"sudo apt-get install {' '.join(pkgs)}")
    return None


def run_app(*, plan: str | None = None, lang: str | None = None, reset: bool = False,
            layers: list[str] | None = None, project: str | None = None) -> int:
    for f in [*(layers or []), *([project] if project else [])]:
        if not Path(f).exists():
            raise InputError(f"{f}: no such file")
    problem = display_problem()
    if problem:
        raise OperationError(problem)
    from planatlas.desktop.app import main as app_main

    return app_main(plan=plan, lang=lang, reset=reset, layers=layers, project=project)


def add_app_options(p) -> None:
    p.add_argument("--plan", help="frame this plan's area at start")
    p.add_argument("--lang", choices=("zh", "en"), help="UI language (saved for next time)")
    p.add_argument("--reset", action="store_true",
                   help="forget the saved window layout, layers, styles and language")
    add_data_options(p)


def add_data_options(p) -> None:
    p.add_argument("--layer", action="append", default=[], metavar="FILE",
                   help="add a file as a layer (vector: GPKG, SHP, GeoJSON, KML/KMZ, GPX, FGB, "
                        "CSV/XLSX with coordinates …; basemap: MBTiles, PMTiles, a tile folder, "
                        "GeoTIFF); repeatable")
    p.add_argument("--project", metavar="FILE", help="open a PlanAtlas project (.planatlas.json)")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = text.lower().split("x")
        w, h = int(w), int(h)
    except ValueError:
        raise InputError(f"--size must look like 1600x1000, got {text!r}") from None
    if not (200 <= w <= 10000 and 150 <= h <= 10000):
        raise InputError(f"--size {text!r}: width must be 200–10000 and height 150–10000 px")
    return w, h


def cmd_screenshot(args) -> int:
    from planatlas.desktop.screenshot import screenshot

    extent = None
    if args.extent:
        from planatlas.desktop.export_map import parse_extent
        extent = parse_extent(args.extent)
    screenshot(args.plan, _size(args.size), args.out, layers=args.layer, project=args.project,
               panel=args.panel, tool=args.tool, extent=extent)
    print(args.out)
    return 0


def cmd_app(args) -> int:
    return run_app(plan=args.plan, lang=args.lang, reset=args.reset, layers=args.layer,
                   project=args.project)


def register(sub) -> None:
    p = sub.add_parser("app", help="open the desktop app (same as no command)")
    add_app_options(p)
    p.set_defaults(func=cmd_app)

    p = sub.add_parser("screenshot", help="render the main window offscreen, framed on a plan, to PNG")
    p.add_argument("--plan", help="frame this plan (default: the project's extent, the last "
                                  "--layer, or the window as a first start shows it)")
    add_data_options(p)
    p.add_argument("--size", default="1600x1000", help="WIDTHxHEIGHT in pixels")
    p.add_argument("--out", required=True, help="output .png")
    p.add_argument("--panel", help="bring this dock to the front (layers, search, feature, plan, "
                                   "sites, unlocated)")
    p.add_argument("--tool", help="make this map tool active (pan, measure, move …)")
    p.add_argument("--extent", metavar="MINLON,MINLAT,MAXLON,MAXLAT",
                   help="show this WGS-84 box instead of the plan's area")
    p.set_defaults(func=cmd_screenshot)
