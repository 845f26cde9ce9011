"""Layers panel: plan → category tree with checkboxes, counts, zoom-to, colour/size; legend."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QColorDialog, QHBoxLayout, QInputDialog, QLabel, QMenu, QPushButton, QSplitter,
    QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import category_label, tr
from planatlas.desktop.render import (
    DISTRICT_EDGE, LAND, PLAN_EDGE, SELECT_COLOR, WATER, WATER_EDGE, LayerStyle, symbol_path,
)
from planatlas.desktop.state import AtlasState
from planatlas.layers.model import CATEGORIES

__all__ = ["LayersPanel", "symbol_icon"]

ROLE_KEY = Qt.UserRole + 1


def symbol_pixmap(style: LayerStyle, kind: str = "normal", size: int = 22) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    c = style.qcolor()
    if kind == "approx":
        p.setPen(QPen(style.qcolor(120), 1, Qt.DotLine))
        p.setBrush(style.qcolor(40))
        p.drawEllipse(QPointF(size / 2, size / 2), size / 2 - 1, size / 2 - 1)
        kind = "normal"
    if kind == "schematic":
        pen = QPen(c.darker(115), 1.4, Qt.DashLine)
        p.setPen(pen)
        p.setBrush(style.qcolor(28))
        r = QRectF(2, 4, size - 4, size - 8)
        p.drawRect(r)
        p.setBrush(QBrush(style.qcolor(150), Qt.BDiagPattern))
        p.setPen(Qt.NoPen)
        p.drawRect(r)
    else:
        p.translate(size / 2, size / 2)
        s = min(style.size, size - 6)
        if kind == "selected":
            p.setPen(QPen(QColor(SELECT_COLOR), 3.5))
            p.setBrush(Qt.NoBrush)
            p.drawPath(symbol_path(style.shape, s))
        p.setPen(QPen(QColor("white"), 1.4))
        p.setBrush(c)
        p.drawPath(symbol_path(style.shape, s))
        p.setPen(QPen(c.darker(160), 0.8))
        p.setBrush(Qt.NoBrush)
        p.drawPath(symbol_path(style.shape, s + 1.6))
    p.end()
    return pm


def symbol_icon(style: LayerStyle) -> QIcon:
    return QIcon(symbol_pixmap(style))


def _swatch(fill: QColor, edge: QColor, dashed: bool = False, size: int = 22) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(QPen(edge, 1.6, Qt.DashLine if dashed else Qt.SolidLine))
    p.setBrush(fill)
    p.drawRect(QRectF(2, 4, size - 4, size - 8))
    p.end()
    return pm


class LayersPanel(QWidget):
    zoomToLayer = Signal(tuple)

    def __init__(self, state: AtlasState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(20, 20))
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemDoubleClicked.connect(lambda it, _c: self._zoom_item(it))
        self.legend = QWidget()
        self.legend_box = QVBoxLayout(self.legend)
        self.legend_box.setContentsMargins(6, 4, 6, 4)
        self.legend_box.setSpacing(2)
        self.legend_title = QLabel()
        self.legend_title.setStyleSheet("font-weight: bold;")
        btns = QHBoxLayout()
        self.btn_all = QPushButton()
        self.btn_none = QPushButton()
        self.btn_all.clicked.connect(lambda: state.set_layers_visible(state.layers, None))
        self.btn_none.clicked.connect(lambda: state.set_layers_visible([], None))
        btns.addWidget(self.btn_all)
        btns.addWidget(self.btn_none)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.tree)
        tl.addLayout(btns)
        split = QSplitter(Qt.Vertical)
        split.addWidget(top)
        leg = QWidget()
        ll = QVBoxLayout(leg)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.legend_title)
        ll.addWidget(self.legend)
        ll.addStretch(1)
        split.addWidget(leg)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([380, 260])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)
        self._updating = False
        self.rebuild()
        state.layersChanged.connect(self.sync)

    # ------------------------------------------------------------------ build
    def _plan_title(self, pid: str) -> str:
        plan = self.state.atlas.plans.get(pid)
        if plan is None:
            return pid
        r = plan.region
        name = r.district or r.city or plan.title
        return f"{name}（{pid}）" if self._zh() else f"{pid} — {name}"

    @staticmethod
    def _zh() -> bool:
        from planatlas.desktop.i18n import language
        return language() == "zh"

    def rebuild(self) -> None:
        self._updating = True
        self.tree.clear()
        self.items: dict[tuple[str, str], QTreeWidgetItem] = {}
        self.plan_items: dict[str, QTreeWidgetItem] = {}
        scene = self.state.scene
        for pid in scene.plans:
            total = int(scene.member[:, [scene.layer_index[(pid, c)] for c in CATEGORIES]]
                        .any(axis=1).sum()) if len(scene.ids) else 0
            pit = QTreeWidgetItem([f"{self._plan_title(pid)}  ({total})"])
            pit.setData(0, ROLE_KEY, ("plan", pid))
            pit.setFlags(pit.flags() | Qt.ItemIsUserCheckable | Qt.ItemIsAutoTristate)
            self.tree.addTopLevelItem(pit)
            self.plan_items[pid] = pit
            for cat in CATEGORIES:
                key = (pid, cat)
                it = QTreeWidgetItem([f"{category_label(cat)}  ({scene.layer_count(key)})"])
                it.setData(0, ROLE_KEY, ("layer", pid, cat))
                it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
                it.setCheckState(0, Qt.Checked if key in scene.visible else Qt.Unchecked)
                it.setIcon(0, symbol_icon(scene.styles[key]))
                pit.addChild(it)
                self.items[key] = it
            pit.setExpanded(True)
        self.btn_all.setText(tr("layers.all_on"))
        self.btn_none.setText(tr("layers.all_off"))
        self.legend_title.setText(tr("layers.legend"))
        self._updating = False
        self._rebuild_legend()

    def sync(self) -> None:
        """State -> checkboxes, icons, legend."""
        self._updating = True
        scene = self.state.scene
        for key, it in self.items.items():
            want = Qt.Checked if key in scene.visible else Qt.Unchecked
            if it.checkState(0) != want:
                it.setCheckState(0, want)
            it.setIcon(0, symbol_icon(scene.styles[key]))
        self._updating = False
        self._rebuild_legend()

    def _rebuild_legend(self) -> None:
        while self.legend_box.count():
            w = self.legend_box.takeAt(0).widget()
            if w is not None:
                w.hide()
                w.setParent(None)
                w.deleteLater()
        scene = self.state.scene
        # one entry per distinct symbol among visible layers, labelled with its layers
        groups: dict[tuple, list[tuple[str, str]]] = {}
        for key in scene.layers:
            if key in scene.visible:
                st = scene.styles[key]
                groups.setdefault((st.shape, st.color, st.size, key[1]), []).append(key)
        entries = []
        for (shape, color, size, cat), keys in groups.items():
            label = category_label(cat)
            if sum(1 for g in groups if g[3] == cat) > 1:    # a plan's layer was restyled
                label += " · " + "、".join(k[0] for k in keys)
            entries.append((symbol_pixmap(LayerStyle(color, size, shape)), label))
        sample = LayerStyle("#888888", 10, "circle")
        entries.append((symbol_pixmap(sample, "approx"), tr("legend.approx")))
        entries.append((symbol_pixmap(sample, "schematic"), tr("legend.schematic")))
        entries.append((symbol_pixmap(sample, "selected"), tr("legend.selected")))
        entries.append((_swatch(LAND, PLAN_EDGE, dashed=True), tr("legend.plan_area")))
        entries.append((_swatch(WATER, WATER_EDGE), tr("legend.water")))
        for pm, text in entries:
            row = QWidget()
            h = QHBoxLayout(row)
            h.setContentsMargins(0, 0, 0, 0)
            icon = QLabel()
            icon.setPixmap(pm)
            icon.setFixedWidth(26)
            h.addWidget(icon)
            lab = QLabel(text)
            lab.setWordWrap(True)
            h.addWidget(lab, 1)
            self.legend_box.addWidget(row)
        self.legend_entries = [t for _pm, t in entries]

    # ------------------------------------------------------------------ interaction
    def _item_changed(self, it: QTreeWidgetItem, _col: int) -> None:
        if self._updating:
            return
        data = it.data(0, ROLE_KEY)
        if not data:
            return
        if data[0] == "layer":
            self.state.set_layer_visible((data[1], data[2]), it.checkState(0) == Qt.Checked)
        elif data[0] == "plan" and it.checkState(0) != Qt.PartiallyChecked:
            on = it.checkState(0) == Qt.Checked
            self.state.set_layers_visible([(data[1], c) for c in CATEGORIES], on)

    def _keys_of(self, it: QTreeWidgetItem) -> list[tuple[str, str]]:
        data = it.data(0, ROLE_KEY)
        if not data:
            return []
        if data[0] == "layer":
            return [(data[1], data[2])]
        return [(data[1], c) for c in CATEGORIES]

    def _zoom_item(self, it: QTreeWidgetItem) -> None:
        keys = self._keys_of(it)
        scene = self.state.scene
        idx = [scene.layer_index[k] for k in keys]
        ids = [scene.ids[i] for i in range(len(scene.ids)) if scene.member[i, idx].any()]
        if ids:
            self.state.frame_features(ids)
        else:
            data = it.data(0, ROLE_KEY)
            bm = scene.basemap
            if bm is not None and hasattr(bm, "plan_extent"):
                try:
                    self.state.frame(bm.plan_extent(data[1]))
                except LookupError:
                    pass

    def _menu(self, pos) -> None:
        it = self.tree.itemAt(pos)
        if it is None:
            return
        keys = self._keys_of(it)
        m = QMenu(self)
        m.addAction(tr("layers.zoom_to"), lambda: self._zoom_item(it))
        if len(keys) == 1:
            m.addAction(tr("layers.color"), lambda: self._pick_color(keys[0]))
            m.addAction(tr("layers.size"), lambda: self._pick_size(keys[0]))
        m.exec(self.tree.viewport().mapToGlobal(pos))

    def _pick_color(self, key) -> None:
        c = QColorDialog.getColor(QColor(self.state.scene.styles[key].color), self)
        if c.isValid():
            self.state.set_layer_style(key, color=c.name())

    def _pick_size(self, key) -> None:
        v, ok = QInputDialog.getDouble(self, tr("layers.size"), tr("layers.size_prompt"),
                                       self.state.scene.styles[key].size, 2, 60, 1)
        if ok:
            self.state.set_layer_style(key, size=v)
