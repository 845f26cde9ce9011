"""Chinese font for the desktop app.

The target machines have no CJK fonts installed, so Noto Sans SC (shipped in the PyPI package
``pylopdf-fonts-zh-cn``) is registered with Qt at start-up and used for every piece of text:
widgets (application font) and the map painter (labels).

    from planatlas.desktop.fonts import ensure_fonts, ui_font
    family = ensure_fonts()        # after a QGuiApplication exists; idempotent
"""
from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication

from planatlas.layers.fonts import FontError, font_path

__all__ = ["ensure_fonts", "font_family", "font_path", "ui_font", "FontError"]

_FALLBACK_FAMILY = "Noto Sans SC"
_family: str | None = None


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
