"""Identify: every feature under the clicked pixel — plan places and user features of every
visible layer, topmost first — with their attributes."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from planatlas.desktop.i18n import category_label, tr
from planatlas.layers.userdata import REGISTRY, parse_feature_id

__all__ = ["IdentifyPanel"]

MAX_FIELDS = 40


class IdentifyPanel(QWidget):
    def __init__(self, state, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.ctl = controller
        self.head = QLabel()
        self.head.setWordWrap(True)
        self.setMinimumWidth(0)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderHidden(True)
        self.tree.itemClicked.connect(self._clicked)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.head)
        box.addWidget(self.tree, 1)
        self.hits: list[str] = []
        self.show_hits([])

    def retranslate(self) -> None:
        self.show_hits(self.hits)

    def show_hits(self, hits: list[str]) -> None:
        self.hits = list(hits)
        self.tree.clear()
        self.head.setText(tr("identify.hits", n=len(hits)) if hits else tr("identify.none"))
        atlas = self.state.atlas
        for fid in hits:
            parsed = parse_feature_id(fid)
            if parsed is not None:
                layer = self.state.stack.get(parsed[0])
                if layer is None:
                    continue
                try:
                    row = REGISTRY.vector(layer).row(parsed[1])
                except Exception:            # noqa: BLE001 - the file may be gone
                    continue
                label = next((str(v) for k, v in row.items()
                              if str(k).lower() in ("name", "名称", "title") and v), f"#{parsed[1] + 1}")
                top = QTreeWidgetItem([label, layer.title(self.state.language)])
                for k, v in list(row.items())[:MAX_FIELDS]:
                    top.addChild(QTreeWidgetItem([str(k), "" if v is None else str(v)]))
            else:
                f = atlas.features.get(fid)
                if f is None:
                    continue
                cats = "、".join(category_label(c, short=True) for c in f.categories)
                top = QTreeWidgetItem([f.name, cats])
                for k, v in (("id", f.id), (tr("feature.district"), f.district),
                             (tr("feature.precision"), f"±{f.precision_m:.0f} m"),
                             (tr("feature.source"), f.source)):
                    top.addChild(QTreeWidgetItem([k, str(v)]))
            top.setData(0, Qt.UserRole, fid)
            self.tree.addTopLevelItem(top)
        if self.tree.topLevelItemCount():
            self.tree.topLevelItem(0).setExpanded(True)
        self.tree.resizeColumnToContents(0)

    def _clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        while item.parent() is not None:
            item = item.parent()
        fid = item.data(0, Qt.UserRole)
        parsed = parse_feature_id(fid) if fid else None
        if parsed is not None:
            self.ctl.select(parsed[0], [parsed[1]])
        elif fid in self.state.scene.index:
            self.state.select_features([fid], current=fid)
