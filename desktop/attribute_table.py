"""The attribute table of a user layer: sortable, filterable, its selection synced with the map.

The model reads straight from the layer's Arrow table (:class:`planatlas.layers.userdata.
VectorData`): sorting and filtering are Arrow compute kernels over the whole column, and rows
are fetched only when shown, so a million-row layer opens at once.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QTableView,
    QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import tr
from planatlas.layers.userdata import REGISTRY, USER_VECTOR
from planatlas.layers.userdata.vector import VectorData

__all__ = ["AttributeModel", "AttributeTable"]


class AttributeModel(QAbstractTableModel):
    def __init__(self, data: VectorData | None = None, parent=None):
        super().__init__(parent)
        self.set_data(data)

    def set_data(self, data: VectorData | None) -> None:
        self.beginResetModel()
        self.vd = data
        self.fields = data.fields if data is not None else []
        self.order = np.arange(data.n if data is not None else 0, dtype=np.int64)
        self._cols: dict[str, np.ndarray] = {}
        self.endResetModel()

    def _col(self, name: str) -> np.ndarray:
        c = self._cols.get(name)
        if c is None:
            c = self.vd.column(name)
            self._cols[name] = c
        return c

    def rowCount(self, parent=QModelIndex()) -> int:      # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.order)

    def columnCount(self, parent=QModelIndex()) -> int:   # noqa: N802
        return 0 if parent.isValid() else len(self.fields)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.DisplayRole, Qt.ToolTipRole):
            return None
        v = self._col(self.fields[index.column()])[self.order[index.row()]]
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        if isinstance(v, (float, np.floating)):
            return f"{float(v):.10g}"
        return str(v)

    def headerData(self, section: int, orientation, role=Qt.DisplayRole):   # noqa: N802
        if role != Qt.DisplayRole:
            return None
        if orientation == Qt.Horizontal:
            return self.fields[section] if section < len(self.fields) else None
        return str(int(self.order[section]) + 1) if section < len(self.order) else None

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        if self.vd is None or not (0 <= column < len(self.fields)):
            return
        import pyarrow.compute as pc
        col = self.vd.attrs.column(self.fields[column]).take(self.order)
        how = "ascending" if order == Qt.AscendingOrder else "descending"
        idx = pc.array_sort_indices(col, order=how, null_placement="at_end")
        self.layoutAboutToBeChanged.emit()
        self.order = self.order[np.asarray(idx, dtype=np.int64)]
        self.layoutChanged.emit()

    def filter(self, text: str, field: str | None = None) -> None:
        """Keep the rows where ``field`` (or any field) contains ``text`` (case-insensitive)."""
        if self.vd is None:
            return
        import pyarrow as pa
        import pyarrow.compute as pc
        self.beginResetModel()
        text = text.strip()
        if not text:
            self.order = np.arange(self.vd.n, dtype=np.int64)
        else:
            names = [field] if field else self.fields
            mask = np.zeros(self.vd.n, dtype=bool)
            for name in names:
                col = self.vd.attrs.column(name)
                try:
                    s = pc.cast(col, pa.string())
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    continue
                hit = pc.match_substring(s, text, ignore_case=True)
                mask |= np.asarray(pc.fill_null(hit, False), dtype=bool)
            self.order = np.flatnonzero(mask)
        self.endResetModel()


class AttributeTable(QWidget):
    """Dock content: layer chooser, filter, counts, the table and *zoom to selection*."""
    zoomRequested = Signal(str, object)        # layer id, rows

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctl = controller
        self.layer_id: str | None = None
        self.layer_box = QComboBox()
        self.field_box = QComboBox()
        self.filter_edit = QLineEdit()
        self.filter_edit.setClearButtonEnabled(True)
        self.count = QLabel()
        self.crs = QLabel()
        self.crs.setWordWrap(True)
        self.crs.setStyleSheet("color:#666")
        self.btn_zoom = QPushButton()
        self.model = AttributeModel(None, self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.verticalHeader().setDefaultSectionSize(22)
        top = QHBoxLayout()
        top.addWidget(self.layer_box, 2)
        top.addWidget(self.field_box, 1)
        top.addWidget(self.filter_edit, 2)
        top.addWidget(self.btn_zoom)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(top)
        box.addWidget(self.crs)
        box.addWidget(self.view, 1)
        box.addWidget(self.count)
        self.layer_box.currentIndexChanged.connect(self._layer_chosen)
        self.filter_edit.textChanged.connect(self._filter)
        self.field_box.currentIndexChanged.connect(lambda _i: self._filter())
        self.view.selectionModel().selectionChanged.connect(self._view_selection)
        self.btn_zoom.clicked.connect(self._zoom)
        self._syncing = False
        controller.selectionChanged.connect(self._map_selection)
        controller.state.stackChanged.connect(lambda *_a: self.refresh_layers())
        self.retranslate()
        self.refresh_layers()

    def retranslate(self) -> None:
        self.filter_edit.setPlaceholderText(tr("user.filter"))
        self.btn_zoom.setText(tr("user.zoom_sel"))
        if self.field_box.count():
            self.field_box.setItemText(0, tr("user.all_fields"))
        self._update_count()

    def refresh_layers(self) -> None:
        layers = [la for la in reversed(self.ctl.state.stack.layers) if la.kind == USER_VECTOR]
        ids = [la.id for la in layers]
        current = self.layer_id if self.layer_id in ids else (ids[0] if ids else None)
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for la in layers:
            self.layer_box.addItem(la.title(self.ctl.state.language), la.id)
        if not layers:
            self.layer_box.addItem(tr("user.no_layer"), None)
        self.layer_box.setCurrentIndex(ids.index(current) if current in ids else 0)
        self.layer_box.blockSignals(False)
        if current != self.layer_id or current is None:
            self.show_layer(current)

    def show_layer(self, layer_id: str | None) -> None:
        self.layer_id = layer_id
        data = self.ctl.data(layer_id) if layer_id else None
        self.model.set_data(data)
        self.field_box.blockSignals(True)
        self.field_box.clear()
        self.field_box.addItem(tr("user.all_fields"), None)
        for f in self.model.fields:
            self.field_box.addItem(f, f)
        self.field_box.blockSignals(False)
        self.crs.setText(f"{tr('user.crs_title')}: {data.crs_note}" if data is not None else "")
        if layer_id is not None and layer_id in [self.layer_box.itemData(i) for i in range(self.layer_box.count())]:
            self.layer_box.blockSignals(True)
            self.layer_box.setCurrentIndex([self.layer_box.itemData(i) for i in range(self.layer_box.count())].index(layer_id))
            self.layer_box.blockSignals(False)
        self._map_selection(layer_id or "")

    def _layer_chosen(self, _i: int) -> None:
        self.show_layer(self.layer_box.currentData())

    def _filter(self, *_a) -> None:
        self.model.filter(self.filter_edit.text(), self.field_box.currentData())
        self._map_selection(self.layer_id or "")

    def selected_rows(self) -> np.ndarray:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return self.model.order[np.asarray(rows, dtype=np.int64)] if rows else np.zeros(0, np.int64)

    def _view_selection(self, *_a) -> None:
        if self._syncing or self.layer_id is None:
            return
        self.ctl.select(self.layer_id, self.selected_rows(), source=self)
        self._update_count()

    def _map_selection(self, layer_id: str, source=None) -> None:
        if source is self or layer_id != (self.layer_id or ""):
            self._update_count()
            return
        sel = REGISTRY.selected(self.layer_id) if self.layer_id else np.zeros(0, np.int64)
        self._syncing = True
        try:
            sm = self.view.selectionModel()
            sm.clearSelection()
            if len(sel):
                pos = np.flatnonzero(np.isin(self.model.order, sel))[:5000]
                qs = QItemSelection()
                last = self.model.columnCount() - 1
                for r in pos.tolist():
                    qs.select(self.model.index(r, 0), self.model.index(r, max(0, last)))
                sm.select(qs, QItemSelectionModel.Select | QItemSelectionModel.Rows)
                if len(pos):
                    self.view.scrollTo(self.model.index(int(pos[0]), 0))
        finally:
            self._syncing = False
        self._update_count()

    def _update_count(self) -> None:
        total = self.model.vd.n if self.model.vd is not None else 0
        sel = len(REGISTRY.selected(self.layer_id)) if self.layer_id else 0
        self.count.setText(tr("user.rows", shown=f"{len(self.model.order):,}", total=f"{total:,}",
                              sel=f"{sel:,}"))

    def _zoom(self) -> None:
        if self.layer_id:
            self.ctl.zoom_to_rows(self.layer_id, REGISTRY.selected(self.layer_id))
