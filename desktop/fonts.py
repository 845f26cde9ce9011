"""Chinese font for the desktop app.

The target machines have no CJK fonts installed, so Noto Sans SC (shipped in the PyPI package
``pylopdf-fonts-zh-cn``) is registered with Qt at start-up and used for every piece of text:
widgets (application font) and the map painter (labels).

    from planatlas.desktop.fonts import ensure_fonts, ui_font
    family = ensure_fonts()        # after a QGuiApplication exists; idempotent
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication

__all__ = ["ensure_fonts", "font_family", "font_path", "ui_font", "FontError"]

_FALLBACK_FAMILY = "Noto Sans SC"
_family: str | None = None


class FontError(RuntimeError):
    """The bundled Chinese font is missing or Qt refused it."""


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


def ensure_fonts() -> str:
    """Register Noto Sans SC with Qt (once) and make it the application font.

    Returns the family name to use for Chinese text. Needs a QGuiApplication.
    """
    global _family
    if _family is not None:
        return _family
    app = QGuiApplication.instance()
    if app is None:
        raise FontError("ensure_fonts() needs a QGuiApplication/QApplication first")
    path = font_path()
    fid = QFontDatabase.addApplicationFont(str(path))
    if fid < 0:
        raise FontError(f"Qt could not load the font file {path}")
    families = QFontDatabase.applicationFontFamilies(fid)
    _family = families[0] if families else _FALLBACK_FAMILY
    font = QFont(_family)
    font.setPointSizeF(max(app.font().pointSizeF(), 9.0))
    app.setFont(font)
    return _family


def font_family() -> str:
    """The registered family (registers it if needed)."""
    return ensure_fonts()


def ui_font(pixel_size: int | None = None, *, bold: bool = False) -> QFont:
    f = QFont(font_family())
    if pixel_size is not None:
        f.setPixelSize(max(1, int(round(pixel_size))))
    f.setBold(bold)
    return f
