"""Clipping in SVG pages: Qt's SVG generator writes no clip paths, so a map frame is marked while
painting and turned into a real ``<clipPath>`` afterwards.

    with svg_clip(painter, frame):          # everything drawn inside is clipped to ``frame``
        paint_map(painter, frame, …)
    …
    clip_svg(path)                           # once the file is written

On other devices :func:`svg_clip` just sets the painter's clip rectangle. The marks are two
``fillRect`` calls in colours no map uses; :func:`clip_svg` replaces the first by an opening
``<g clip-path="url(#pa-clipN)">`` with the rectangle as its clip path, the second by ``</g>``.
Qt writes one flat ``<g>`` per painter state, so the groups between the marks nest cleanly.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEngine

from planatlas.layers.errors import WriteFailed

__all__ = ["svg_clip", "clip_svg", "is_svg"]

_OPEN, _CLOSE = "#fd0b0b", "#fd0e0e"
_GROUP = r'<g fill="{c}"[^>]*>\s*<rect x="([-\d.e]+)" y="([-\d.e]+)" width="([-\d.e]+)" height="([-\d.e]+)"\s*/>\s*</g>'


def is_svg(painter: QPainter) -> bool:
    eng = painter.paintEngine()
    return eng is not None and eng.type() == QPaintEngine.SVG


def _mark(painter: QPainter, rect: QRectF, color: str) -> None:
    painter.save()
    painter.resetTransform()
    painter.setOpacity(1.0)
    painter.fillRect(rect, QColor(color))
    painter.restore()


@contextmanager
def svg_clip(painter: QPainter, rect: QRectF):
    """Clip what is drawn inside the block to ``rect`` (device coordinates), in SVG too."""
    svg = is_svg(painter)
    painter.save()
    if svg:
        _mark(painter, rect, _OPEN)
    else:
        painter.setClipRect(rect, Qt.IntersectClip)
    try:
        yield
    finally:
        painter.restore()
        if svg:
            _mark(painter, QRectF(0, 0, 1, 1), _CLOSE)


def clip_svg(path: Path | str) -> int:
    """Turn the marks of :func:`svg_clip` in the SVG at ``path`` into clip groups; returns how many."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    defs: list[str] = []

    def opening(m: "re.Match[str]") -> str:
        x, y, w, h = m.groups()
        n = len(defs)
        defs.append(f'<clipPath id="pa-clip{n}"><rect x="{x}" y="{y}" width="{w}" height="{h}"/></clipPath>')
        return f'<g clip-path="url(#pa-clip{n})">'

    text = re.sub(_GROUP.format(c=_OPEN), opening, text)
    text, closed = re.subn(_GROUP.format(c=_CLOSE), "</g>", text)
    if len(defs) != closed:       # Qt's SVG writer stopped part-way (it reports no errors)
        raise WriteFailed(f"the SVG is incomplete ({len(defs)} clip groups opened, {closed} "
                          "closed): the disk may be full")
    if defs:
        block = "\n".join(defs)
        if "<defs>" in text:
            text = text.replace("<defs>", "<defs>\n" + block, 1)
        else:
            text = re.sub(r"(<svg\b[^>]*>)", lambda m: m.group(1) + f"\n<defs>\n{block}\n</defs>", text, count=1)
        path.write_text(text, encoding="utf-8")
    return len(defs)
