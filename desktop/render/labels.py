"""Labels: ONE collision-aware pass over the visible labelled layers.

Renderers offer labels (and reserve the boxes of their symbols) to a :class:`LabelPlacer` in
order of their ``label_priority``; the placer keeps a greedy grid of taken rectangles and finally
draws everything — as cached label images on raster devices, as real (selectable) text with a
stroked halo in SVG/PDF.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen

from .renderers import RenderContext, is_raster, runs
from .view import MapView

__all__ = ["LabelPlacer", "label_font", "place_labels", "draw_labels"]


def label_font(px_size: float, *, bold: bool = False, spacing: float = 0.0) -> QFont:
    from planatlas.desktop.fonts import font_family
    f = QFont(font_family())
    f.setPixelSize(max(6, int(round(px_size))))
    f.setBold(bold)
    if spacing:
        f.setLetterSpacing(QFont.AbsoluteSpacing, spacing)
    f.setHintingPreference(QFont.PreferNoHinting)
    return f


class _Grid:
    """Greedy label collision grid (rectangles in pixels). A rectangle may carry a rank (a
    reserved symbol: the label rank of its feature); ``free(r, below=k)`` then ignores the
    symbols ranked k or later."""

    def __init__(self, cell: float = 48.0):
        self.cell = cell
        self.cells: dict[tuple[int, int], list[tuple[float, float, float, float, float]]] = {}

    def _keys(self, r):
        c = self.cell
        for gx in range(int(r[0] // c), int(r[2] // c) + 1):
            for gy in range(int(r[1] // c), int(r[3] // c) + 1):
                yield (gx, gy)

    def free(self, r, below: float | None = None) -> bool:
        for k in self._keys(r):
            for o in self.cells.get(k, ()):
                if r[0] < o[2] and r[2] > o[0] and r[1] < o[3] and r[3] > o[1]:
                    if below is None or o[4] < below:
                        return False
        return True

    def add(self, r, rank: float = -1.0) -> None:
        rec = (r[0], r[1], r[2], r[3], rank)
        for k in self._keys(r):
            self.cells.setdefault(k, []).append(rec)


@dataclass
class _Label:
    font: QFont
    x: float
    y: float
    text: str
    color: QColor
    halo: QColor
    opacity: float


class LabelPlacer:
    """Places labels of one drawing without overlaps (view pixel coordinates)."""

    def __init__(self, view: MapView, scale: float = 1.0, max_labels: int = 350,
                 max_tries: int = 2500):
        self.view = view
        self.scale = scale
        self.max_labels = max_labels
        self.max_tries = max_tries
        self.pad = 2.0 * scale
        self.grid = _Grid(48.0 * scale)
        self.placed: list[_Label] = []
        self.count = 0              # labels placed by try_place(..., counted=True)

    @property
    def full(self) -> bool:
        return self.count >= self.max_labels

    def reserve(self, rect: tuple[float, float, float, float], rank: float = -1.0) -> None:
        """Keep labels off ``rect`` (e.g. a symbol); a label tried with ``over=k`` may cover
        the rectangles reserved with a rank of k or more (less important symbols)."""
        self.grid.add(rect, rank)

    def try_place(self, font: QFont, candidates, tw: float, th: float, text: str, color: QColor,
                  halo: QColor, *, opacity: float = 1.0, under: bool = False,
                  counted: bool = True, force: bool = False, over: float | None = None) -> bool:
        """Put ``text`` (``tw × th`` px) at the first free top-left candidate inside the view;
        ``under`` draws it beneath the labels placed so far. ``over=k``: where every candidate
        is blocked, it may cover the symbols reserved with rank k or more (an important place
        over lesser ones). ``force`` places it at its first candidate (moved inside the view)
        even where it overlaps, e.g. a selected feature's name, which must never be hidden."""
        pad, W, H = self.pad, self.view.width, self.view.height
        spots = [(lx, ly, False, None) for lx, ly in candidates]
        if over is not None:
            spots += [(lx, ly, False, over) for lx, ly in candidates]
        if force and candidates:
            lx, ly = candidates[0]
            spots.append((min(max(lx, pad), W - tw - pad), min(max(ly, pad), H - th - pad), True,
                          None))
        for lx, ly, forced, below in spots:
            rr = (lx - pad, ly - pad, lx + tw + pad, ly + th + pad)
            if not forced and (rr[0] < 0 or rr[1] < 0 or rr[2] > W or rr[3] > H
                               or not self.grid.free(rr, below)):
                continue
            self.grid.add(rr)
            label = _Label(font, lx, ly, text, color, halo, opacity)
            if under:
                self.placed.insert(0, label)
            else:
                self.placed.append(label)
            self.count += bool(counted)
            return True
        return False

    def boxes(self, scene) -> list[tuple[str, QRectF]]:
        pad = self.pad
        return [(lb.text, QRectF(lb.x - pad, lb.y - pad, scene.text_width(lb.text, lb.font) + 2 * pad,
                                 QFontMetricsF(lb.font).height() + 2 * pad)) for lb in self.placed]


def place_labels(view: MapView, ctx: RenderContext, *, max_labels: int = 350,
                 max_tries: int = 2500) -> LabelPlacer:
    """Let every visible labelled layer offer its labels, by renderer priority."""
    placer = LabelPlacer(view, ctx.scale, max_labels, max_tries)
    labelled = [la for la in reversed(ctx.stack.visible_layers()) if la.style.get("labels")]
    groups = [(r, run) for r, run in runs(labelled) if r.label_priority is not None]
    for r, run in sorted(groups, key=lambda g: g[0].label_priority):
        r.place_labels(placer, view, run[::-1], ctx)          # the run bottom first
    return placer


def draw_labels(painter: QPainter, placer: LabelPlacer, ctx: RenderContext) -> None:
    if not placer.placed:
        return
    scale = ctx.scale
    painter.save()
    if is_raster(painter):
        dev = painter.device()
        dpr = float(dev.devicePixelRatioF()) if dev is not None else 1.0
        hw = 3.0 * scale
        ctx.scene.prepare_labels([(lb.text, lb.font, lb.color, lb.halo) for lb in placer.placed],
                                 hw, dpr)
        for lb in placer.placed:
            img = ctx.scene.label_sprite(lb.text, lb.font, lb.color, lb.halo, hw, dpr)
            if lb.opacity != painter.opacity():
                painter.setOpacity(lb.opacity)
            painter.drawImage(QPointF(lb.x - hw - 1, lb.y - hw - 1), img)
        painter.restore()
        return
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setRenderHint(QPainter.TextAntialiasing, True)
    for lb in placer.placed:
        # vector output (SVG/PDF): the halo is a stroked outline, the label itself real text,
        # so it stays selectable and searchable
        if lb.opacity != painter.opacity():
            painter.setOpacity(lb.opacity)
        path = QPainterPath()
        ascent = QFontMetricsF(lb.font).ascent()
        path.addText(QPointF(lb.x, lb.y + ascent), lb.font, lb.text)
        pen = QPen(lb.halo, 3.0 * scale)
        pen.setJoinStyle(Qt.RoundJoin)
        painter.strokePath(path, pen)
        painter.setFont(lb.font)
        painter.setPen(lb.color)
        painter.drawText(QPointF(lb.x, lb.y + ascent), lb.text)
    painter.restore()
