"""Layers panel: the layer stack as a tree (topmost first), and the legend of the visible layers.

Groups (basemap, each plan, overlays) hold their layers; every row has a checkbox, the layer's
symbol and its feature count. Up/down (buttons or right-click) reorder a layer within its group
or a whole group; right-click also zooms to a layer and changes its colour, size or opacity.
Everything goes through :class:`desktop.state.AtlasState`, so the map, the exports and this
panel always show the same stack.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox, QColorDialog, QFrame, QHBoxLayout, QInputDialog, QLabel, QMenu, QPushButton,
    QScrollArea, QSplitter, QToolButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import language, plan_name, tr
from planatlas.desktop.render import LayerStyle, context, legend, renderer_for
from planatlas.desktop.render.symbols import symbol_drawer
from planatlas.desktop.state import AtlasState

__all__ = ["LayersPanel", "drawer_pixmap"]

ROLE_KEY = Qt.UserRole + 1


def drawer_pixmap(draw, size: int = 22) -> QPixmap:
    """A legend drawing (``draw(painter, box)``) on a transparent ``size``² pixmap."""
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    if draw is not None:
        p = QPainter(pm)
        p.setRenderHint(QPainter.Antialiasing)
        draw(p, QRectF(1, 1, size - 2, size - 2))
        p.end()
    return pm


class LayersPanel(QWidget):
    def __init__(self, state: AtlasState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.menu_extensions: list = []      # callables (menu, layer id) adding layer actions
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
        self.btn_up = QToolButton()
        self.btn_down = QToolButton()
        self.btn_up.setArrowType(Qt.UpArrow)
        self.btn_down.setArrowType(Qt.DownArrow)
        non_basemap = lambda: [la.id for la in state.stack if la.role != "basemap"]  # noqa: E731
        self.btn_all.clicked.connect(lambda: state.set_layers_visible(non_basemap(), None))
        self.btn_none.clicked.connect(lambda: state.set_layers_visible([], None))
        self.btn_up.clicked.connect(lambda: self.move_current(+1))
        self.btn_down.clicked.connect(lambda: self.move_current(-1))
        for b in (self.btn_all, self.btn_none, self.btn_up, self.btn_down):
            btns.addWidget(b)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.tree)
        tl.addLayout(btns)
        split = QSplitter(Qt.Vertical)
        split.addWidget(top)
        # the legend scrolls when its entries need more room than the splitter gives it, so
        # restyled rows (which name their plans) are never cut off
        self.halos = QCheckBox()
        self.halos.toggled.connect(self._toggle_halos)
        leg = QWidget()
        ll = QVBoxLayout(leg)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.legend_title)
        ll.addWidget(self.legend)
        ll.addWidget(self.halos)
        ll.addStretch(1)
        self.legend_scroll = QScrollArea()
        self.legend_scroll.setWidgetResizable(True)
        self.legend_scroll.setFrameShape(QFrame.NoFrame)
        self.legend_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.legend_scroll.setWidget(leg)
        split.addWidget(self.legend_scroll)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([380, 260])
        self.split = split
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)
        self._updating = False
        self.rebuild()
        state.stackChanged.connect(self._stack_changed)

    # ------------------------------------------------------------------ build
    def _ctx(self):
        return context(self.state.scene, self.state.stack, lang=language())

    def _group_title(self, group: str, ids: list[str]) -> str:
        if group.startswith("plan:"):
            pid = group[5:]
            scene = self.state.scene
            total = int(scene.column_mask([k for k in scene.columns if k[0] == pid]).sum())
            return f"{plan_name(self.state.atlas, pid)}  ({total})"       # a name, never the id
        if group in ("basemap", "overlays", "user"):
            return tr(f"layers.group.{group}")
        return group or "—"

    def _layer_text(self, layer, ctx) -> str:
        n = renderer_for(layer.kind).count(layer, ctx)
        return layer.title(ctx.lang) + (f"  ({n})" if n is not None else "")

    def rebuild(self) -> None:
        """Stack -> tree (topmost group and layer first), then the legend."""
        self._updating = True
        current = self._current_key()
        self.tree.clear()
        self.items: dict[str, QTreeWidgetItem] = {}
        self.group_items: dict[str, QTreeWidgetItem] = {}
        for group, ids in reversed(self.state.stack.groups()):
            git = QTreeWidgetItem([self._group_title(group, ids)])
            git.setData(0, ROLE_KEY, ("group", group))
            git.setFlags(git.flags() | Qt.ItemIsUserCheckable | Qt.ItemIsAutoTristate)
            self.tree.addTopLevelItem(git)
            self.group_items[group] = git
            for layer_id in reversed(ids):
                it = QTreeWidgetItem()
                it.setData(0, ROLE_KEY, ("layer", layer_id))
                it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
                git.addChild(it)
                self.items[layer_id] = it
            git.setExpanded(group != "basemap")
        self.btn_all.setText(tr("layers.all_on"))
        self.btn_none.setText(tr("layers.all_off"))
        self.btn_up.setToolTip(tr("layers.up"))
        self.btn_down.setToolTip(tr("layers.down"))
        self.legend_title.setText(tr("layers.legend"))
        self.halos.setText(tr("legend.halos"))
        self._updating = False
        self.sync()
        if current in self.items or current in self.group_items:
            self.tree.setCurrentItem(self.items.get(current) or self.group_items[current])

    def _stack_changed(self, kind: str, _ids: tuple) -> None:
        if kind in ("added", "removed", "moved", "changed"):
            self.rebuild()
        else:
            self.sync()

    def sync(self) -> None:
        """Stack -> checkboxes, icons, texts, legend."""
        self._updating = True
        ctx = self._ctx()
        for layer in self.state.stack:
            it = self.items.get(layer.id)
            if it is None:
                continue
            want = Qt.Checked if layer.visible else Qt.Unchecked
            if it.checkState(0) != want:
                it.setCheckState(0, want)
            it.setText(0, self._layer_text(layer, ctx))
            it.setIcon(0, QIcon(drawer_pixmap(renderer_for(layer.kind).icon(layer, ctx))))
            it.setToolTip(0, f"{layer.title(ctx.lang)} · {round(layer.opacity * 100)}%")
        self._updating = False
        self._rebuild_legend(ctx)

    def _rebuild_legend(self, ctx) -> None:
        while self.legend_box.count():
            w = self.legend_box.takeAt(0).widget()
            if w is not None:
                w.hide()
                w.setParent(None)
                w.deleteLater()
        # rows with the same symbol and short label are merged (a category over all plans);
        # where a plan's layer was restyled, its rows name their plans
        groups: dict[tuple, list] = {}
        for e in legend(ctx):
            groups.setdefault((e.key, e.short or e.label), []).append(e)
        shorts = [short for _key, short in groups]
        entries = []
        for (_key, short), rows in groups.items():
            label = short
            if shorts.count(short) > 1:
                label += " · " + "、".join(e.label.split(" · ")[0] for e in rows)
            entries.append((drawer_pixmap(rows[0].draw), label))
        sample = symbol_drawer(LayerStyle("#888888", 10, "circle"), "selected")
        entries.append((drawer_pixmap(sample), tr("legend.selected")))
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
        plan_layers = self.state.stack.find(kind="plan_category")
        self.halos.setVisible(bool(plan_layers) and bool(self.state.scene.approx.any()))
        self._fit_legend()
        on = bool(plan_layers) and all(la.style.get("halos") for la in plan_layers)
        if self.halos.isChecked() != on:
            self.halos.blockSignals(True)
            self.halos.setChecked(on)
            self.halos.blockSignals(False)

    def _fit_legend(self) -> None:
        """Give the legend the height its rows need, as far as the layer tree can spare: the
        tree keeps what its expanded rows need, or at least half the panel (160 px at least);
        beyond that the legend scrolls."""
        split = getattr(self, "split", None)
        if split is None:
            return
        need = self.legend_scroll.widget().sizeHint().height() + 4
        tree_h, leg_h = split.sizes()
        total = tree_h + leg_h
        if total > 0 and need > leg_h:
            rows, it = 0, self.tree.topLevelItem(0)
            while it is not None:
                rows += 1
                it = self.tree.itemBelow(it)
            tree_need = rows * max(self.tree.sizeHintForRow(0), 18) + 48     # + buttons
            keep = max(160, min(tree_need, total // 2))
            leg_h = max(leg_h, min(need, total - keep))
            split.setSizes([total - leg_h, leg_h])

    # ------------------------------------------------------------------ interaction
    def _toggle_halos(self, on: bool) -> None:
        """Precision halos of every approximate position on (or off) in all plan layers."""
        self.set_halos([la.id for la in self.state.stack.find(kind="plan_category")], on)

    def set_halos(self, layer_ids, on: bool) -> None:
        with self.state.stack.batch():
            for layer_id in layer_ids:
                self.state.set_layer_style(layer_id, halos=bool(on))

    def _current_key(self) -> str | None:
        it = self.tree.currentItem() if hasattr(self, "items") else None
        data = it.data(0, ROLE_KEY) if it is not None else None
        return data[1] if data else None

    def _item_changed(self, it: QTreeWidgetItem, _col: int) -> None:
        if self._updating:
            return
        data = it.data(0, ROLE_KEY)
        if not data:
            return
        if data[0] == "layer":
            self.state.set_layer_visible(data[1], it.checkState(0) == Qt.Checked)
        elif it.checkState(0) != Qt.PartiallyChecked:
            self.state.set_layers_visible(self._ids_of(it), it.checkState(0) == Qt.Checked)

    def _ids_of(self, it: QTreeWidgetItem) -> list[str]:
        data = it.data(0, ROLE_KEY)
        if not data:
            return []
        if data[0] == "layer":
            return [data[1]]
        return [i for g, ids in self.state.stack.groups() if g == data[1] for i in ids]

    def move_current(self, delta: int) -> bool:
        """Move the current layer within its group, or the current group, up (+1) or down."""
        it = self.tree.currentItem()
        data = it.data(0, ROLE_KEY) if it is not None else None
        if not data:
            return False
        if data[0] == "layer":
            return self.state.stack.move_within_group(data[1], delta)
        return self.state.stack.move_group(data[1], delta)

    def _zoom_item(self, it: QTreeWidgetItem) -> None:
        ctx = self._ctx()
        boxes = [renderer_for(self.state.stack[i].kind).extent(self.state.stack[i], ctx)
                 for i in self._ids_of(it)]
        boxes = [b for b in boxes if b is not None]
        if boxes:
            self.state.frame((min(b[0] for b in boxes), min(b[1] for b in boxes),
                              max(b[2] for b in boxes), max(b[3] for b in boxes)))
            return
        data = it.data(0, ROLE_KEY)
        bm = self.state.scene.basemap
        if data and str(data[1]).startswith("plan:") and hasattr(bm, "plan_extent"):
            try:
                self.state.frame(bm.plan_extent(data[1][5:]))
            except LookupError:
                pass

    def _menu(self, pos) -> None:
        it = self.tree.itemAt(pos)
        if it is None:
            return
        self.tree.setCurrentItem(it)
        data = it.data(0, ROLE_KEY)
        m = QMenu(self)
        m.addAction(tr("layers.zoom_to"), lambda: self._zoom_item(it))
        if data[0] == "layer":
            style = self.state.stack[data[1]].style
            if "color" in style:
                m.addAction(tr("layers.color"), lambda: self._pick_color(data[1]))
            if "size" in style:
                m.addAction(tr("layers.size"), lambda: self._pick_size(data[1]))
            if "halos" in style:
                a = m.addAction(tr("layers.halos"))
                a.setCheckable(True)
                a.setChecked(bool(style["halos"]))
                a.toggled.connect(lambda on, lid=data[1]: self.set_halos([lid], on))
            m.addAction(tr("layers.opacity"), lambda: self._pick_opacity(data[1]))
        m.addAction(tr("layers.up"), lambda: self.move_current(+1))
        m.addAction(tr("layers.down"), lambda: self.move_current(-1))
        if data[0] == "layer":
            for extend in self.menu_extensions:      # e.g. style / attribute table / remove
                extend(m, data[1])
        m.exec(self.tree.viewport().mapToGlobal(pos))

    def _pick_color(self, layer_id: str) -> None:
        c = QColorDialog.getColor(QColor(self.state.stack[layer_id].style["color"]), self)
        if c.isValid():
            self.state.set_layer_style(layer_id, color=c.name())

    def _pick_size(self, layer_id: str) -> None:
        v, ok = QInputDialog.getDouble(self, tr("layers.size"), tr("layers.size_prompt"),
                                       self.state.stack[layer_id].style["size"], 2, 60, 1)
        if ok:
            self.state.set_layer_style(layer_id, size=v)

    def _pick_opacity(self, layer_id: str) -> None:
        v, ok = QInputDialog.getInt(self, tr("layers.opacity"), tr("layers.opacity_prompt"),
                                    round(self.state.stack[layer_id].opacity * 100), 0, 100, 5)
        if ok:
            self.state.set_layer_opacity(layer_id, v / 100.0)
