"""The compiled SourceOver loop of :mod:`.splat` (imported only when it is needed: numba's own
import costs about half a second). Arithmetic as in Qt's ``qt_blend_argb32_on_argb32``
(qblendfunctions.cpp, and the SSE2/AVX2 versions, which round the same way)."""
from __future__ import annotations

import numba
import numpy as np

__all__ = ["splat", "occluded"]


@numba.njit(inline="always")
def _byte_mul(x, a):
    # Qt's BYTE_MUL: every 8-bit channel of x times a / 255, rounded as Qt rounds
    t = (x & 0xFF00FF) * a
    t = ((t + ((t >> 8) & 0xFF00FF) + 0x800080) >> 8) & 0xFF00FF
    u = ((x >> 8) & 0xFF00FF) * a
    u = (u + ((u >> 8) & 0xFF00FF) + 0x800080) & 0xFF00FF00
    return u | t


@numba.njit(inline="always")
def _over(sp, d, ca, ca255):
    if ca < 256:
        sp = _byte_mul(sp, ca255)
    return (sp + _byte_mul(d, 255 - (sp >> 24))) & 0xFFFFFFFF


@numba.njit(nogil=True, cache=True)
def splat(dst, cx0, cy0, cx1, cy1, sprites, sp_off, sp_w, sp_h, row_lo, row_hi, b_sprite,
          b_alpha, b_start, xs, ys, counts, hidden):
    """Blend runs of sprites into ``dst`` ((h, w) uint32, premultiplied ARGB) in order.

    Run b draws sprite ``b_sprite[b]`` (``sp_h × sp_w`` pixels at ``sp_off`` in ``sprites``;
    row r of it is transparent outside columns ``[row_lo[s, r], row_hi[s, r])``) with top-left
    corners ``xs/ys[b_start[b]:b_start[b+1]]``, each ``counts[k]`` times in a row, and Qt's
    integer opacity ``b_alpha[b]`` (0..256), clipped to ``[cx0, cx1) × [cy0, cy1)``.

    Entries with ``hidden[k]`` set (see :func:`occluded`) are skipped. The blend is branch-free: ``s + BYTE_MUL(d, 255 - alpha(s))`` leaves ``d`` unchanged for a
    transparent ``s`` and gives ``s`` for an opaque one, exactly as Qt's shortcuts do. A sprite
    drawn n times at one place is blended n times per pixel, stopping early once the pixel no
    longer changes (blending is a function of the pixel alone, so the rest would change
    nothing either).
    """
    for b in range(len(b_sprite)):
        s = b_sprite[b]
        off = sp_off[s]
        w = sp_w[s]
        h = sp_h[s]
        ca = b_alpha[b]
        if ca <= 0:
            continue
        ca255 = (ca * 255) >> 8
        for k in range(b_start[b], b_start[b + 1]):
            if hidden[k]:
                continue
            x = xs[k]
            y = ys[k]
            n = counts[k]
            ay0 = max(y, cy0)
            ay1 = min(y + h, cy1)
            if ay0 >= ay1 or x >= cx1 or x + w <= cx0:
                continue
            for yy in range(ay0, ay1):
                r = yy - y
                lo = max(x + row_lo[s, r], cx0)
                hi = min(x + row_hi[s, r], cx1)
                base = off + r * w - x
                if n == 1:
                    for xx in range(lo, hi):
                        dst[yy, xx] = _over(np.int64(sprites[base + xx]),
                                            np.int64(dst[yy, xx]), ca, ca255)
                else:
                    for xx in range(lo, hi):
                        sp = np.int64(sprites[base + xx])
                        d = np.int64(dst[yy, xx])
                        for _ in range(n):
                            nd = _over(sp, d, ca, ca255)
                            if nd == d:
                                break
                            d = nd
                        dst[yy, xx] = d


@numba.njit(nogil=True, cache=True)
def occluded(height, width, cx0, cy0, cx1, cy1, sp_w, sp_h, row_lo, row_hi, opq_lo, opq_hi,
             b_sprite, b_alpha, b_start, xs, ys):
    """Which entries can be skipped: every pixel they would touch is later covered by an
    opaque pixel of a sprite drawn after them (SourceOver of an opaque pixel ignores what is
    under it, so skipping them changes nothing). Walks the entries backwards with a byte
    mask of covered pixels; ``opq_lo/opq_hi`` are each sprite row's opaque span."""
    n = len(xs)
    hidden = np.zeros(n, dtype=np.bool_)
    sealed = np.zeros((height, width), dtype=np.bool_)
    for b in range(len(b_sprite) - 1, -1, -1):
        s = b_sprite[b]
        w = sp_w[s]
        h = sp_h[s]
        full = b_alpha[b] >= 256            # with opacity < 1 nothing is opaque
        for k in range(b_start[b + 1] - 1, b_start[b] - 1, -1):
            x = xs[k]
            y = ys[k]
            ay0 = max(y, cy0)
            ay1 = min(y + h, cy1)
            if ay0 >= ay1 or x >= cx1 or x + w <= cx0:
                hidden[k] = True
                continue
            seen = True
            for yy in range(ay0, ay1):
                r = yy - y
                lo = max(x + row_lo[s, r], cx0)
                hi = min(x + row_hi[s, r], cx1)
                for xx in range(lo, hi):
                    if not sealed[yy, xx]:
                        seen = False
                        break
                if not seen:
                    break
            if seen:
                hidden[k] = True
                continue
            if full:
                for yy in range(ay0, ay1):
                    r = yy - y
                    lo = max(x + opq_lo[s, r], cx0)
                    hi = min(x + opq_hi[s, r], cx1)
                    for xx in range(lo, hi):
                        sealed[yy, xx] = True
    return hidden
