"""The print layout window: a live preview of the page where the items can be moved and resized.

    win = LayoutWindow(main_window)         # File › Export › 打印版式…
    win.show()

The page is drawn by :func:`desktop.layout_render.render_layout` — the same code as the exports —
from the main window's layer stack and current view, into a preview image; every layout item
(map, title, legend, scale bar, north arrow, overview, inset, numbered key, sources) is a frame
on top of it that can be dragged, and resized by its corner handle. Each change updates the
model (:class:`planatlas.layers.layout.Layout`, millimetres) and redraws the preview a moment
later. The side panel sets paper, orientation, callouts and which items show, and edits the
selected item's position and size exactly. Templates save as JSON and open again here or in
``planatlas export map --layout FILE`` / ``export atlas --layout FILE``, which draw the same page.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGraphicsItem,
    QGraphicsPixmapItem, QGraphicsRectItem, QGraphicsScene, QGraphicsView, QHBoxLayout, QLabel,
    QListWidget, QListWidgetItem, QMainWindow, QPushButton, QVBoxLayout, QWidget,
)

from planatlas.layers.errors import PlanAtlasError
from planatlas.layers.layout import CALLOUTS, MM_PER_INCH, Layout, default_layout, load_template, save_template

from .i18n import language
from .plaintext import warn

__all__ = ["LayoutWindow", "open_layout_window"]

PREVIEW_DPI = 60.0
_PX = PREVIEW_DPI / MM_PER_INCH          # preview pixels per millimetre
_NAMES = {"map": ("地图", "Map"), "title": ("标题", "Title"), "subtitle": ("副标题", "Subtitle"),
          "legend": ("图例", "Legend"), "scalebar": ("比例尺", "Scale bar"),
          "north": ("指北针", "North arrow"), "attribution": ("来源与日期", "Sources and date"),
          "overview": ("鹰眼图", "Overview map"), "inset": ("放大图", "Inset"),
          "key": ("编号注记", "Numbered key")}
_CALLOUT_NAMES = {"auto": ("自动（放大图＋编号）", "Automatic (inset + numbers)"),
                  "key": ("仅编号注记", "Numbered key only"), "inset": ("仅放大图", "Inset only"),
                  "none": ("不标注", "None")}


def _t(zh: str, en: str) -> str:
    return en if language() == "en" else zh


def _name(kind: str) -> str:
    return _t(*_NAMES.get(kind, (kind, kind)))


class _Handle(QGraphicsRectItem):
    """The corner square that resizes its frame."""

    def __init__(self, frame: "_ItemFrame"):
        super().__init__(-8, -8, 8, 8, frame)      # inside the corner: never under a neighbour
        self.frame = frame
        self.setBrush(QBrush(QColor("#1f6feb")))
        self.setPen(QPen(Qt.white, 1))
        self.setFlag(QGraphicsItem.ItemIsMovable, True)
        self.setFlag(QGraphicsItem.ItemSendsGeometryChanges, True)
        self.setCursor(Qt.SizeFDiagCursor)

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemPositionChange and not self.frame.syncing:
            p = QPointF(value)
            self.frame.resize_to(max(p.x(), 3 * _PX), max(p.y(), 3 * _PX))
            return QPointF(self.frame.rect().width(), self.frame.rect().height())
        return super().itemChange(change, value)

    def mouseReleaseEvent(self, ev):
        super().mouseReleaseEvent(ev)
        self.frame.commit()


class _ItemFrame(QGraphicsRectItem):
    """One layout item on the preview: drag to move, corner handle to resize."""

    def __init__(self, window: "LayoutWindow", item_id: str):
        super().__init__()
        self.window, self.item_id, self.syncing = window, item_id, False
        self.setFlags(QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable
                      | QGraphicsItem.ItemSendsGeometryChanges)
        self.setBrush(Qt.NoBrush)               # the preview shows through; tinted when selected
        self.setPen(QPen(QColor("#1f6feb"), 1, Qt.DashLine))
        self.setCursor(Qt.SizeAllCursor)
        self.handle = _Handle(self)
        self.sync()

    def sync(self) -> None:
        """Follow the model."""
        it = self.window.layout.item(self.item_id)
        self.syncing = True
        self.setPos(it.x * _PX, it.y * _PX)
        self.setRect(0, 0, it.w * _PX, it.h * _PX)
        self.handle.setPos(it.w * _PX, it.h * _PX)
        self.setVisible(it.visible)
        self.setToolTip(_name(it.kind))
        self.syncing = False

    def resize_to(self, w: float, h: float) -> None:
        self.setRect(0, 0, w, h)

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemSelectedHasChanged:
            self.setBrush(QBrush(QColor(31, 111, 235, 28)) if value else Qt.NoBrush)
            if value:
                self.window.select_item(self.item_id)
        return super().itemChange(change, value)

    def mouseReleaseEvent(self, ev):
        super().mouseReleaseEvent(ev)
        self.commit()

    def commit(self) -> None:
        """Put the frame's place and size into the model; redraw the preview soon."""
        if self.syncing:
            return
        r = self.rect()
        self.window.set_item_rect(self.item_id, self.pos().x() / _PX, self.pos().y() / _PX,
                                  r.width() / _PX, r.height() / _PX)


class LayoutWindow(QMainWindow):
    """Edit a print layout on a live preview of the main window's map (see module doc)."""
    changed = Signal()

    def __init__(self, main_window, layout: Layout | None = None, *, plans: list[str] | None = None):
        super().__init__(main_window)
        self.main = main_window
        self.setWindowTitle(_t("打印版式", "Print layout"))
        self.layout = layout.copy() if layout is not None else default_layout("A4", "landscape")
        self.plans = plans or self._shown_plans()
        self.page_info: dict = {}
        self.frames: dict[str, _ItemFrame] = {}
        self.scene = QGraphicsScene(self)
        self.view = QGraphicsView(self.scene)
        self.view.setRenderHint(QPainter.Antialiasing, True)
        self.view.setBackgroundBrush(QColor("#d9d9d9"))
        self.page = QGraphicsPixmapItem()
        self.page.setZValue(-1)
        self.scene.addItem(self.page)
        self._timer = QTimer(self, singleShot=True, interval=250)
        self._timer.timeout.connect(self.render_preview)
        self._build_side()
        central = QWidget()
        lay = QHBoxLayout(central)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.side)
        self.setCentralWidget(central)
        self.resize(1250, 760)
        self.rebuild()

    # ----------------------------------------------------------------- widgets
    def _build_side(self) -> None:
        self.side = QWidget()
        self.side.setFixedWidth(280)
        v = QVBoxLayout(self.side)
        form = QFormLayout()
        self.paper = QComboBox()
        self.paper.addItems(["A4", "A3", "A2"])
        self.orientation = QComboBox()
        self.orientation.addItem(_t("横向", "Landscape"), "landscape")
        self.orientation.addItem(_t("纵向", "Portrait"), "portrait")
        self.callouts = QComboBox()
        for key in CALLOUTS:
            self.callouts.addItem(_t(*_CALLOUT_NAMES[key]), key)
        form.addRow(_t("纸张", "Paper"), self.paper)
        form.addRow(_t("方向", "Orientation"), self.orientation)
        form.addRow(_t("密集处标注", "Dense areas"), self.callouts)
        v.addLayout(form)
        v.addWidget(QLabel(_t("版式元素（勾选＝显示）", "Layout items (checked = shown)")))
        self.items_list = QListWidget()
        v.addWidget(self.items_list, 1)
        geo = QFormLayout()
        self.spins = {}
        for key, zh, en in (("x", "左（毫米）", "Left (mm)"), ("y", "上（毫米）", "Top (mm)"),
                            ("w", "宽（毫米）", "Width (mm)"), ("h", "高（毫米）", "Height (mm)")):
            s = QDoubleSpinBox()
            s.setRange(0 if key in "xy" else 3, 2000)
            s.setDecimals(1)
            s.editingFinished.connect(self._spins_changed)
            self.spins[key] = s
            geo.addRow(_t(zh, en), s)
        v.addLayout(geo)
        row = QHBoxLayout()
        for zh, en, slot in (("打开模板…", "Open template…", self.open_template_dialog),
                             ("保存模板…", "Save template…", self.save_template_dialog)):
            b = QPushButton(_t(zh, en))
            b.clicked.connect(slot)
            row.addWidget(b)
        v.addLayout(row)
        b = QPushButton(_t("按此版式导出地图…", "Export map with this layout…"))
        b.clicked.connect(self.export_dialog)
        v.addWidget(b)
        self.status = QLabel()
        self.status.setWordWrap(True)
        v.addWidget(self.status)
        self.paper.currentTextChanged.connect(self._page_changed)
        self.orientation.currentIndexChanged.connect(self._page_changed)
        self.callouts.currentIndexChanged.connect(self._callouts_changed)
        self.items_list.itemChanged.connect(self._visibility_changed)
        self.items_list.currentRowChanged.connect(
            lambda r: self.select_item(self.layout.items[r].id) if 0 <= r < len(self.layout.items) else None)

    def _shown_plans(self) -> list[str]:
        shown = [la.source["plan"] for la in self.main.state.stack.find(kind="plan_category") if la.visible]
        return list(dict.fromkeys(shown)) or list(self.main.atlas.plans)

    # ----------------------------------------------------------------- model ↔ view
    def rebuild(self) -> None:
        """Widgets and frames from the model (after a new template or paper)."""
        for w in (self.paper, self.orientation, self.callouts, self.items_list):
            w.blockSignals(True)
        if self.paper.findText(self.layout.paper) < 0:
            self.paper.addItem(self.layout.paper)
        self.paper.setCurrentText(self.layout.paper)
        self.orientation.setCurrentIndex(max(0, self.orientation.findData(self.layout.orientation)))
        self.callouts.setCurrentIndex(max(0, self.callouts.findData(self.layout.callouts)))
        self.items_list.clear()
        for it in self.layout.items:
            li = QListWidgetItem(_name(it.kind))
            li.setFlags(li.flags() | Qt.ItemIsUserCheckable)
            li.setCheckState(Qt.Checked if it.visible else Qt.Unchecked)
            li.setData(Qt.UserRole, it.id)
            self.items_list.addItem(li)
        for w in (self.paper, self.orientation, self.callouts, self.items_list):
            w.blockSignals(False)
        for f in self.frames.values():
            self.scene.removeItem(f)
        self.frames = {it.id: _ItemFrame(self, it.id) for it in self.layout.items}
        for z, f in enumerate(self.frames.values()):
            f.setZValue(z + 1)
            self.scene.addItem(f)
        w, h = self.layout.size_mm
        self.scene.setSceneRect(QRectF(-10, -10, w * _PX + 20, h * _PX + 20))
        self.render_preview()

    def set_item_rect(self, item_id: str, x: float, y: float, w: float, h: float) -> None:
        it = self.layout.item(item_id)
        if abs(it.x - x) > 0.05 or abs(it.y - y) > 0.05:
            it.move(round(x, 2), round(y, 2))
        if abs(it.w - w) > 0.05 or abs(it.h - h) > 0.05:      # a move keeps the size exactly
            it.resize(round(w, 2), round(h, 2))
        self.frames[item_id].sync()
        self.select_item(item_id)
        self.changed.emit()
        self._timer.start()

    def select_item(self, item_id: str) -> None:
        it = self.layout.item(item_id)
        self._selected = item_id
        for key, s in self.spins.items():
            s.blockSignals(True)
            s.setValue(getattr(it, key))
            s.blockSignals(False)
        row = [i.id for i in self.layout.items].index(item_id)
        if self.items_list.currentRow() != row:
            self.items_list.blockSignals(True)
            self.items_list.setCurrentRow(row)
            self.items_list.blockSignals(False)

    def _spins_changed(self) -> None:
        item_id = getattr(self, "_selected", None)
        if item_id is not None:
            self.set_item_rect(item_id, *(self.spins[k].value() for k in "xywh"))

    def _visibility_changed(self, li: QListWidgetItem) -> None:
        it = self.layout.item(li.data(Qt.UserRole))
        it.visible = li.checkState() == Qt.Checked
        self.frames[it.id].sync()
        self.changed.emit()
        self._timer.start()

    def _page_changed(self, *_a) -> None:
        try:
            self.layout = self.layout.resized_to(self.paper.currentText(), self.orientation.currentData())
        except PlanAtlasError as exc:
            warn(self, self.windowTitle(), exc)
            return
        self.changed.emit()
        self.rebuild()

    def _callouts_changed(self, *_a) -> None:
        self.layout.callouts = self.callouts.currentData()
        self.changed.emit()
        self._timer.start()

    # ----------------------------------------------------------------- preview
    def page_options(self) -> dict:
        """What the page shows: the main window's plans, layer stack and current view."""
        return {"plans": self.plans, "scene": self.main.state.scene, "stack": self.main.state.stack,
                "view": self.main.canvas.view.extent_lonlat(), "extent": "view"}

    def render_preview(self) -> QImage:
        """Draw the page at the preview resolution with the exports' own code."""
        from .export_map import frame_box, page_context, page_texts
        from .layout_render import PageContent, render_layout

        opts = self.page_options()
        lay = self.layout.copy()
        lay.dpi = PREVIEW_DPI
        w, h = (int(round(v * _PX)) for v in lay.size_mm)
        img = QImage(max(1, w), max(1, h), QImage.Format_ARGB32_Premultiplied)
        img.fill(Qt.white)
        atlas = self.main.atlas
        ctx = page_context(atlas, opts["plans"], list(_categories()), scene=opts["scene"],
                           stack=opts["stack"], dpi=PREVIEW_DPI)
        box = frame_box(atlas, opts["plans"], ctx, opts["extent"], view=opts["view"])
        title, sub, attribution = page_texts(atlas, opts["plans"])
        p = QPainter(img)
        try:
            self.page_info = render_layout(p, lay, PageContent(ctx, box, title, sub, attribution,
                                                                _dt.date.today().isoformat()),
                                           dpi=PREVIEW_DPI)
        finally:
            p.end()
        self.page.setPixmap(QPixmap.fromImage(img))
        for item_id, (x, y, w, h) in (self.page_info.get("placed_mm") or {}).items():
            frame = self.frames.get(item_id)
            if frame is not None and self.layout.item(item_id).props.get("place") == "auto":
                frame.syncing = True               # shown where the page put it; still "auto"
                frame.setPos(x * _PX, y * _PX)
                frame.syncing = False
        n = len(self.page_info.get("callouts") or [])
        self.status.setText(_t(f"预览 {lay.paper}；编号注记 {n} 处", f"Preview {lay.paper}; {n} numbered sites"))
        return img

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self.view.fitInView(self.scene.sceneRect(), Qt.KeepAspectRatio)

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        self.view.fitInView(self.scene.sceneRect(), Qt.KeepAspectRatio)

    # ----------------------------------------------------------------- files
    def save_template(self, path) -> Path:
        return save_template(self.layout, path)

    def load_template(self, path) -> None:
        self.layout = load_template(path)
        self.rebuild()

    def save_template_dialog(self) -> None:
        path, _f = QFileDialog.getSaveFileName(self, _t("保存版式模板", "Save layout template"),
                                               "layout.json", _t("版式模板 (*.json)", "Layout templates (*.json)"))
        if path:
            try:
                self.save_template(path)
            except (PlanAtlasError, OSError) as exc:
                warn(self, self.windowTitle(), exc)

    def open_template_dialog(self) -> None:
        path, _f = QFileDialog.getOpenFileName(self, _t("打开版式模板", "Open layout template"), "",
                                               _t("版式模板 (*.json)", "Layout templates (*.json)"))
        if path:
            try:
                self.load_template(path)
            except PlanAtlasError as exc:
                warn(self, self.windowTitle(), exc)

    def export(self, out, *, fmt: str | None = None, dpi: float | None = None) -> dict | None:
        """Export the page as it is previewed (the exports' code, at ``dpi``)."""
        from .export_dialog import run_map_export

        opts = self.page_options()
        return run_map_export(self, self.main.atlas, Path(out), fmt=fmt, dpi=dpi,
                              layout=self.layout, **opts)

    def export_dialog(self) -> None:
        path, _f = QFileDialog.getSaveFileName(self, _t("导出地图", "Export map"), "map.pdf",
                                               "PDF (*.pdf);;PNG (*.png);;SVG (*.svg)")
        if path:
            self.export(path)


def _categories():
    from planatlas.layers.model import CATEGORIES
    return CATEGORIES


def open_layout_window(main_window) -> LayoutWindow:
    win = LayoutWindow(main_window)
    win.show()
    return win
