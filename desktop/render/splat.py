"""Bulk sprite compositing: thousands of copies of a few small images in one compiled loop.

``QPainter.drawImage`` costs a few microseconds per call plus the Python loop around it; at a
million symbols that is seconds. Here every symbol of a frame is blended into the QImage's
buffer by one numba-compiled, GIL-free loop that does exactly what Qt's raster engine does for
an unscaled premultiplied-ARGB32 image at an integer position (``qt_blend_argb32_on_argb32``:
SourceOver with Qt's 8-bit ``BYTE_MUL`` rounding and the painter's opacity as ``const_alpha``),
so the pixels are equal to drawing the sprites one by one (``tests/test_splat.py`` proves it).

    batch = SpriteBatch()
    batch.add(sprite_image, xs, ys, opacity)   # top-left corners, in drawing order
    batch.draw(painter)                        # compiled when possible, else drawImage per sprite

:func:`draw_order` puts symbols in the order the map draws them — top of the screen first,
left to right within a pixel row — which also brings a sprite drawn twice at one pixel next to
itself, where the compiled loop blends it as one entry with a count.

The compiled path is taken on a QImage of ``Format_ARGB32_Premultiplied`` painted with a pure
integer translation, SourceOver and at most a rectangular clip, for at least ``SPLAT_MIN``
sprites (numba is imported only then, so small maps never pay for it); otherwise the sprites go
through ``drawImage`` — same pixels, only slower.
"""
from __future__ import annotations

import importlib.util
import math
import os
import threading

import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPainter, QTransform

__all__ = ["SpriteBatch", "SPLAT_MIN", "available", "draw_order", "image_array", "sprite_array"]

SPLAT_MIN = int(os.environ.get("PLANATLAS_SPLAT_MIN", "1500"))
OCCLUSION_MIN = 20000          # entries before hidden sprites are looked for first
_KERNEL = None
_KERNEL_LOCK = threading.Lock()


def available() -> bool:
    """True when numba is installed (the compiled loop can be used)."""
    return importlib.util.find_spec("numba") is not None


def _kernel():
    global _KERNEL
    with _KERNEL_LOCK:
        if _KERNEL is None:
            from ._splat_kernel import occluded, splat
            _KERNEL = (splat, occluded)
        return _KERNEL


def _row_spans(nz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi) from the first to the last True column of each row (empty rows: 0, 0)."""
    any_ = nz.any(axis=1)
    lo = np.where(any_, nz.argmax(axis=1), 0)
    hi = np.where(any_, nz.shape[1] - nz[:, ::-1].argmax(axis=1), 0)
    return lo.astype(np.int64), hi.astype(np.int64)


def _opaque_spans(sprite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The longest run of opaque pixels in each row, as [lo, hi) (none: 0, 0)."""
    lo = np.zeros(sprite.shape[0], dtype=np.int64)
    hi = np.zeros(sprite.shape[0], dtype=np.int64)
    for r, row in enumerate(sprite >= 0xFF000000):
        best, start = (0, 0), None
        for c, v in enumerate(list(row) + [False]):
            if v and start is None:
                start = c
            elif not v and start is not None:
                if c - start > best[1] - best[0]:
                    best = (start, c)
                start = None
        lo[r], hi[r] = best
    return lo, hi


def image_array(img: QImage) -> np.ndarray:
    """The pixels of a 32-bit QImage as a writable (height, width) uint32 view."""
    bpl = img.bytesPerLine()
    buf = np.frombuffer(img.bits(), dtype=np.uint32, count=img.height() * bpl // 4)
    return buf.reshape(img.height(), bpl // 4)[:, :img.width()]


def sprite_array(img: QImage) -> np.ndarray:
    """A sprite's pixels as a contiguous premultiplied-ARGB32 uint32 array (a copy)."""
    if img.format() != QImage.Format_ARGB32_Premultiplied:
        img = img.convertToFormat(QImage.Format_ARGB32_Premultiplied)
    bpl = img.constBits()
    arr = np.frombuffer(bpl, dtype=np.uint32, count=img.height() * img.bytesPerLine() // 4)
    return arr.reshape(img.height(), img.bytesPerLine() // 4)[:, :img.width()].copy()


def _target(painter: QPainter):
    """(pixel array, dx, dy, clip x0, y0, x1, y1) when the compiled path can draw for the
    painter, else None."""
    dev = painter.device()
    if not isinstance(dev, QImage) or dev.format() != QImage.Format_ARGB32_Premultiplied:
        return None
    if painter.compositionMode() != QPainter.CompositionMode_SourceOver:
        return None
    t = painter.deviceTransform()
    if t.type().value > QTransform.TransformationType.TxTranslate.value:
        return None
    dx, dy = t.dx(), t.dy()
    if dx != math.floor(dx) or dy != math.floor(dy):
        return None
    x0, y0, x1, y1 = 0, 0, dev.width(), dev.height()
    if painter.hasClipping():
        region = painter.clipRegion()
        if region.rectCount() > 1:
            return None
        r: QRect = t.mapRect(region.boundingRect()) if region.rectCount() else QRect()
        if r.isEmpty():
            return (None, 0, 0, 0, 0, 0, 0)
        x0, y0 = max(x0, r.left()), max(y0, r.top())
        x1, y1 = min(x1, r.right() + 1), min(y1, r.bottom() + 1)
    return image_array(dev), int(dx), int(dy), x0, y0, x1, y1


def draw_order(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """Stable order of integer sprite positions by pixel row, then column (input that is
    already nearly in row order — as the spatial index returns it — sorts fast)."""
    if len(ix) < 2:
        return np.arange(len(ix))
    x0 = int(ix.min())
    span = int(ix.max()) - x0 + 1
    key = (iy.astype(np.int64) - int(iy.min())) * span + (ix.astype(np.int64) - x0)
    return np.argsort(key, kind="stable")


class SpriteBatch:
    """Sprites to blend in order: ``add`` runs of (image, x, y) top-left corners, then ``draw``."""

    def __init__(self):
        self.runs: list[tuple[QImage, np.ndarray, np.ndarray, float]] = []

    def __len__(self) -> int:
        return sum(len(r[1]) for r in self.runs)

    def add(self, img: QImage, xs, ys, opacity: float = 1.0) -> None:
        xs = np.asarray(xs, dtype=np.int64)
        ys = np.asarray(ys, dtype=np.int64)
        if len(xs) and opacity > 0:
            self.runs.append((img, xs, ys, float(opacity)))

    def draw(self, painter: QPainter, *, compiled: bool | None = None) -> str:
        """Blend every run into the painter's device; returns "compiled", "qpainter" or "".
        ``compiled`` forces (True) or forbids (False) the compiled loop."""
        if not self.runs:
            return ""
        use = compiled if compiled is not None else (len(self) >= SPLAT_MIN and available())
        target = _target(painter) if use else None
        if target is None:
            self._draw_qpainter(painter)
            return "qpainter"
        arr, dx, dy, cx0, cy0, cx1, cy1 = target
        if arr is None:
            return "compiled"                       # clipped away entirely
        sprites, index = [], {}
        for img, *_ in self.runs:
            if img.cacheKey() not in index:
                index[img.cacheKey()] = len(sprites)
                sprites.append(sprite_array(img))
        sp_w = np.array([s.shape[1] for s in sprites], dtype=np.int64)
        sp_h = np.array([s.shape[0] for s in sprites], dtype=np.int64)
        sp_off = np.zeros(len(sprites), dtype=np.int64)
        sp_off[1:] = np.cumsum(sp_w * sp_h)[:-1]
        flat = np.concatenate([s.ravel() for s in sprites]).astype(np.uint32)
        row_lo = np.zeros((len(sprites), int(sp_h.max())), dtype=np.int64)
        row_hi, opq_lo, opq_hi = (np.zeros_like(row_lo) for _ in range(3))
        for k, s in enumerate(sprites):
            row_lo[k, :s.shape[0]], row_hi[k, :s.shape[0]] = _row_spans(s != 0)
            opq_lo[k, :s.shape[0]], opq_hi[k, :s.shape[0]] = _opaque_spans(s)
        base = painter.opacity()
        b_sprite = np.array([index[r[0].cacheKey()] for r in self.runs], dtype=np.int64)
        # Qt (QRasterPaintEngine::opacityChanged): intOpacity = (int) (opacity * 256)
        b_alpha = np.array([int(min(max(base * r[3], 0.0), 1.0) * 256) for r in self.runs],
                           dtype=np.int64)
        # the same sprite drawn again at the same place right after itself: one entry, a count
        xs_l, ys_l, cnt_l = [], [], []
        for _img, rx, ry, _o in self.runs:
            first = np.ones(len(rx), dtype=bool)
            first[1:] = (rx[1:] != rx[:-1]) | (ry[1:] != ry[:-1])
            starts = np.flatnonzero(first)
            xs_l.append(rx[starts])
            ys_l.append(ry[starts])
            cnt_l.append(np.diff(np.append(starts, len(rx))))
        b_start = np.zeros(len(self.runs) + 1, dtype=np.int64)
        b_start[1:] = np.cumsum([len(v) for v in xs_l])
        xs = np.concatenate(xs_l) + dx
        ys = np.concatenate(ys_l) + dy
        counts = np.concatenate(cnt_l).astype(np.int64)
        splat, occluded = _kernel()
        if len(xs) >= OCCLUSION_MIN:
            hidden = occluded(arr.shape[0], arr.shape[1], cx0, cy0, cx1, cy1, sp_w, sp_h, row_lo,
                              row_hi, opq_lo, opq_hi, b_sprite, b_alpha, b_start, xs, ys)
        else:
            hidden = np.zeros(len(xs), dtype=np.bool_)
        splat(arr, cx0, cy0, cx1, cy1, flat, sp_off, sp_w, sp_h, row_lo, row_hi, b_sprite,
              b_alpha, b_start, xs, ys, counts, hidden)
        return "compiled"

    def _draw_qpainter(self, painter: QPainter) -> None:
        base = painter.opacity()
        draw = painter.drawImage
        for img, xs, ys, opacity in self.runs:
            o = base * opacity
            if painter.opacity() != o:
                painter.setOpacity(o)
            for x, y in zip(xs.tolist(), ys.tolist()):
                draw(x, y, img)
        if painter.opacity() != base:
            painter.setOpacity(base)
