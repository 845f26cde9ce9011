"""Where the bundled Chinese font lives (Qt-free).

The target machines have no CJK fonts installed, so PlanAtlas ships Noto Sans SC through the
PyPI package ``pylopdf-fonts-zh-cn``. The desktop registers it with Qt
(:mod:`planatlas.desktop.fonts`); charts drawn with matplotlib (:mod:`planatlas.layers.charts`)
register the same file with matplotlib's font manager.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["font_path", "FontError"]


class FontError(RuntimeError):
    """The bundled Chinese font is missing or could not be loaded."""


def font_path() -> Path:
    """Path of NotoSansSC-Regular.otf inside the installed ``pylopdf-fonts-zh-cn`` package."""
    try:
        import pylopdf_fonts_zh_cn as pkg
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise FontError(
            "the Chinese font package is not installed: pip install pylopdf-fonts-zh-cn"
        ) from exc
    path = Path(pkg.sans_path()) if hasattr(pkg, "sans_path") else None
    if path is None or not path.exists():
        candidates = sorted(Path(pkg.__file__).parent.glob("NotoSansSC*.[ot]tf"))
        if not candidates:
            raise FontError(f"no NotoSansSC font file in {Path(pkg.__file__).parent}")
        path = candidates[0]
    return path
