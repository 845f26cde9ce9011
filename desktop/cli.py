"""The ``planatlas`` console entry point.

With no arguments it opens the desktop app; with a command it is the CLI.  Qt-free commands come
from :mod:`layers.cli`; commands that paint (screenshot, map export, PDF site lists) are added here
and import Qt only when they run.
"""
from __future__ import annotations

import sys


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = text.lower().split("x")
        return int(w), int(h)
    except ValueError:
        raise ValueError(f"--size must look like 1600x1000, got {text!r}") from None


def cmd_screenshot(args) -> int:
    from .screenshot import screenshot
    screenshot(args.plan, _size(args.size), args.out)
    print(args.out)
    return 0


def cmd_app(args) -> int:
    from .app import main as app_main
    return app_main([])


def add_desktop_commands(sub) -> None:
    p = sub.add_parser("screenshot", help="render the main window offscreen, framed on a plan, to PNG")
    p.add_argument("--plan", required=True)
    p.add_argument("--size", default="1600x1000", help="WIDTHxHEIGHT in pixels")
    p.add_argument("--out", required=True, help="output .png")
    p.set_defaults(func=cmd_screenshot)
    p = sub.add_parser("app", help="open the desktop app (same as no command)")
    p.set_defaults(func=cmd_app)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        from .app import main as app_main
        return app_main([])
    from planatlas.layers.cli import main as cli_main
    extra = [add_desktop_commands]
    try:
        from .export_map import add_map_command
        extra.append(add_map_command)
    except ImportError:
        pass
    return cli_main(argv, extra)


if __name__ == "__main__":
    sys.exit(main())
