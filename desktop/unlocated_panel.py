"""The *Unlocated* dock: per plan, the places its text names that nothing puts on the map yet,
and the places the user has put there.

The upper list is :meth:`planatlas.layers.atlas.Atlas.unlocated` — name, proposed category,
clause, source line and, where the text names a county, that county as a rough guide (places a
curated exclusion explains, e.g. generic tier names of the seed plans, are shown only on
request). Pick one, check name and category, then *Place point* (one click on the map), *Draw
area* or *Draw line* (click the vertices, double-click to finish). The lower list holds the
plan's places put on the map by the user, with *Edit…*, *Move*, *Delete* and *Zoom to*.

The panel only asks; the window's editing controller (:mod:`planatlas.desktop.editing`) starts
the map tools and writes through the store.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QHeaderView,
    QLabel, QLineEdit, QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import category_label, plan_name, tr
from planatlas.desktop.import_dialog import unit_name
from planatlas.desktop.placetools import PlaceRequest
from planatlas.layers.model import CATEGORIES

__all__ = ["UnlocatedPanel"]

ROLE = Qt.UserRole + 1


def _item(text, data=None, tip: str | None = None, grey: bool = False) -> QTableWidgetItem:
    it = QTableWidgetItem("" if text is None else str(text))
    it.setFlags(it.flags() & ~Qt.ItemIsEditable)
    if data is not None:
        it.setData(ROLE, data)
    if tip:
        it.setToolTip(tip)
    if grey:
        it.setForeground(Qt.gray)
    return it


def _table(columns: int) -> QTableWidget:
    t = QTableWidget(0, columns)
    t.setSelectionBehavior(QAbstractItemView.SelectRows)
    t.setSelectionMode(QAbstractItemView.SingleSelection)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(22)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


class UnlocatedPanel(QWidget):
    placeRequested = Signal(object)          # PlaceRequest
    editRequested = Signal(str)              # feature id
    moveRequested = Signal(str)
    deleteRequested = Signal(str)

    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.plan_id = ""
        self.items: list[dict] = []
        self.plan_box = QComboBox()
        self.plan_box.currentIndexChanged.connect(lambda _i: self.set_plan(self.plan_box.currentData() or ""))
        self.explained_box = QCheckBox()
        self.explained_box.toggled.connect(lambda _on: self.refresh())
        self.table = _table(5)
        self.table.itemSelectionChanged.connect(self._picked)
        self.table.doubleClicked.connect(lambda _i: self.request("point"))
        self.name_edit = QLineEdit()
        self.category_box = QComboBox()
        self.auto_precision = QCheckBox()
        self.auto_precision.setChecked(True)
        self.precision_spin = QDoubleSpinBox()
        self.precision_spin.setRange(0, 1_000_000)
        self.precision_spin.setDecimals(0)
        self.precision_spin.setSuffix(" m")
        self.precision_spin.setValue(100)
        self.precision_spin.setEnabled(False)
        self.auto_precision.toggled.connect(lambda on: self.precision_spin.setEnabled(not on))
        prec = QHBoxLayout()
        prec.addWidget(self.auto_precision)
        prec.addWidget(self.precision_spin, 1)
        self.form = QFormLayout()
        self.lbl_name, self.lbl_cat, self.lbl_prec = QLabel(), QLabel(), QLabel()
        self.form.addRow(self.lbl_name, self.name_edit)
        self.form.addRow(self.lbl_cat, self.category_box)
        self.form.addRow(self.lbl_prec, prec)
        self.point_button, self.area_button, self.line_button = QPushButton(), QPushButton(), QPushButton()
        self.point_button.clicked.connect(lambda: self.request("point"))
        self.area_button.clicked.connect(lambda: self.request("polygon"))
        self.line_button.clicked.connect(lambda: self.request("line"))
        place_row = QHBoxLayout()
        for b in (self.point_button, self.area_button, self.line_button):
            place_row.addWidget(b)
        self.hint = QLabel()
        self.hint.setStyleSheet("color:#666")
        self.placed_label = QLabel()
        self.placed = _table(4)
        self.placed.itemSelectionChanged.connect(self._placed_picked)
        self.placed.doubleClicked.connect(lambda _i: self._emit_placed(self.editRequested))
        self.edit_button, self.move_button = QPushButton(), QPushButton()
        self.delete_button, self.zoom_button = QPushButton(), QPushButton()
        self.edit_button.clicked.connect(lambda: self._emit_placed(self.editRequested))
        self.move_button.clicked.connect(lambda: self._emit_placed(self.moveRequested))
        self.delete_button.clicked.connect(lambda: self._emit_placed(self.deleteRequested))
        self.zoom_button.clicked.connect(self._zoom_placed)
        placed_row = QHBoxLayout()
        for b in (self.edit_button, self.move_button, self.delete_button, self.zoom_button):
            placed_row.addWidget(b)

        top = QHBoxLayout()
        top.addWidget(self.plan_box, 1)
        top.addWidget(self.explained_box)
        upper = QWidget()
        ul = QVBoxLayout(upper)
        ul.setContentsMargins(0, 0, 0, 0)
        ul.addLayout(top)
        ul.addWidget(self.table, 1)
        ul.addLayout(self.form)
        ul.addLayout(place_row)
        ul.addWidget(self.hint)
        lower = QWidget()
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.placed_label)
        ll.addWidget(self.placed, 1)
        ll.addLayout(placed_row)
        split = QSplitter(Qt.Vertical)
        split.addWidget(upper)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)
        self.reload_plans()
        self.retranslate()

    # constant hints: the lists filling up never re-lay out the window (the map would jump)
    def sizeHint(self) -> QSize:                 # noqa: N802 - Qt API
        return QSize(360, 520)

    def minimumSizeHint(self) -> QSize:          # noqa: N802 - Qt API
        return QSize(220, 160)

    # ------------------------------------------------------------------ plans
    def reload_plans(self) -> None:
        """The atlas' plans changed (an import, an undone import): refill the plan box."""
        plans = self.state.atlas.plans
        keep = self.plan_id if self.plan_id in plans else ""
        self.plan_box.blockSignals(True)
        self.plan_box.clear()
        for pid, plan in plans.items():
            self.plan_box.addItem(plan_name(self.state.atlas, pid), pid)
            self.plan_box.setItemData(self.plan_box.count() - 1, plan.title, Qt.ToolTipRole)
        self.plan_box.blockSignals(False)
        self.plan_id = ""
        self.set_plan(keep or (next(reversed(list(plans))) if plans else ""))

    def set_plan(self, plan_id: str) -> None:
        i = self.plan_box.findData(plan_id)
        if i >= 0 and self.plan_box.currentIndex() != i:
            self.plan_box.blockSignals(True)
            self.plan_box.setCurrentIndex(i)
            self.plan_box.blockSignals(False)
        if plan_id != self.plan_id:
            self.plan_id = plan_id
            self.refresh()

    # ------------------------------------------------------------------ lists
    def refresh(self) -> None:
        """Re-read the plan's unlocated places and the user's placed ones."""
        atlas = self.state.atlas
        pid = self.plan_id
        picked = self.current_item()
        every = atlas.unlocated(pid) if pid in atlas.plans and hasattr(atlas, "unlocated") else []
        n_explained = sum(1 for u in every if u.get("explained"))
        self.explained_box.setText(tr("unloc.explained", n=n_explained))
        self.items = [u for u in every if self.explained_box.isChecked() or not u.get("explained")]
        t = self.table
        t.blockSignals(True)
        t.setRowCount(len(self.items))
        for r, u in enumerate(self.items):
            c = atlas.clause(u["clause"])
            loc = u.get("location") or {}
            where = (tr("unloc.near", ref=unit_name(loc.get("ref", "")),
                        km=f"{(loc.get('precision_m') or 0) / 1000:.0f}")
                     if loc.get("status") == "admin" else "—")
            grey = bool(u.get("explained"))
            tip = u.get("explained") or u.get("why")
            cells = (u["name"], category_label(u["category"], short=True), f"{c.number} {c.heading}".strip(),
                     u["line"], where)
            for col, v in enumerate(cells):
                t.setItem(r, col, _item(v, r if col == 0 else None, tip, grey))
        t.blockSignals(False)
        if picked is not None:
            for r, u in enumerate(self.items):
                if (u["name"], u["clause"], u["start"]) == (picked["name"], picked["clause"], picked["start"]):
                    t.selectRow(r)
                    break
        self._picked()
        self._refresh_placed()

    def _refresh_placed(self) -> None:
        atlas = self.state.atlas
        feats = [f for f in atlas.features.values() if f.origin == "user" and self.plan_id in f.plans]
        t = self.placed
        keep = self.current_placed()
        t.blockSignals(True)
        t.setRowCount(len(feats))
        for r, f in enumerate(feats):
            n = len(atlas.clauses_of(f.id)) if hasattr(atlas, "clauses_of") else 0
            cells = (f.name, category_label(f.categories[0], short=True), f"±{f.precision_m:g} m", n)
            for col, v in enumerate(cells):
                t.setItem(r, col, _item(v, f.id if col == 0 else None, "、".join(f.aliases) or None))
            if f.id == keep:
                t.selectRow(r)
        t.blockSignals(False)
        self.placed_label.setText(tr("unloc.placed", n=len(feats)))
        self._placed_buttons()

    def current_item(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        r = rows[0].row()
        return self.items[r] if 0 <= r < len(self.items) else None

    def select_name(self, name: str) -> bool:
        """Select the first unlocated place called ``name`` (for scripts and tests)."""
        for r, u in enumerate(self.items):
            if u["name"] == name:
                self.table.selectRow(r)
                return True
        return False

    def _picked(self) -> None:
        u = self.current_item()
        on = u is not None
        for w in (self.point_button, self.area_button, self.line_button, self.name_edit, self.category_box):
            w.setEnabled(on)
        if u is None:
            self.name_edit.clear()
            return
        self.name_edit.setText(u["name"])
        i = self.category_box.findData(u["category"])
        self.category_box.setCurrentIndex(max(i, 0))

    def current_placed(self) -> str:
        rows = self.placed.selectionModel().selectedRows() if self.placed.selectionModel() else []
        return self.placed.item(rows[0].row(), 0).data(ROLE) if rows else ""

    def _placed_buttons(self) -> str:
        fid = self.current_placed()
        for b in (self.edit_button, self.move_button, self.delete_button, self.zoom_button):
            b.setEnabled(bool(fid))
        return fid

    def _placed_picked(self) -> None:
        fid = self._placed_buttons()
        if fid:
            self.state.select_features([fid], current=fid)

    def _emit_placed(self, signal) -> None:
        fid = self.current_placed()
        if fid:
            signal.emit(fid)

    def _zoom_placed(self) -> None:
        fid = self.current_placed()
        if fid:
            self.state.select_features([fid], current=fid, frame=True)

    # ------------------------------------------------------------------ placing
    def request(self, kind: str) -> PlaceRequest | None:
        """Ask for the picked place to be placed as a ``kind`` (point | polygon | line)."""
        u = self.current_item()
        if u is None or not self.plan_id:
            return None
        name = " ".join(self.name_edit.text().split()) or u["name"]
        aliases = [a for a in dict.fromkeys((u["surface"].strip(), u["name"])) if a and a != name]
        loc = u.get("location") or {}
        guide = ((loc["lon"], loc["lat"], loc["precision_m"]) if loc.get("status") == "admin"
                 and loc.get("lon") is not None else None)
        req = PlaceRequest(name=name, plan=self.plan_id, category=self.category_box.currentData(),
                           kind=kind, aliases=aliases, guide=guide,
                           precision_m=None if self.auto_precision.isChecked() else self.precision_spin.value())
        self.placeRequested.emit(req)
        return req

    def retranslate(self) -> None:
        self.category_box.blockSignals(True)
        cur = self.category_box.currentData()
        self.category_box.clear()
        for c in CATEGORIES:
            self.category_box.addItem(category_label(c), c)
        self.category_box.setCurrentIndex(max(0, self.category_box.findData(cur)))
        self.category_box.blockSignals(False)
        self.table.setHorizontalHeaderLabels([tr("sites.name"), tr("sites.categories"), tr("col.clause"),
                                              tr("col.line"), tr("unloc.where")])
        self.placed.setHorizontalHeaderLabels([tr("sites.name"), tr("sites.categories"),
                                               tr("feature.precision"), tr("sites.clauses")])
        self.lbl_name.setText(tr("sites.name"))
        self.lbl_cat.setText(tr("sites.categories"))
        self.lbl_prec.setText(tr("feature.precision"))
        self.auto_precision.setText(tr("unloc.auto_precision"))
        self.point_button.setText(tr("unloc.point"))
        self.area_button.setText(tr("unloc.area"))
        self.line_button.setText(tr("unloc.line"))
        self.hint.setText(tr("unloc.hint"))
        self.edit_button.setText(tr("unloc.edit"))
        self.move_button.setText(tr("unloc.move"))
        self.delete_button.setText(tr("unloc.delete"))
        self.zoom_button.setText(tr("unloc.zoom"))
        self.refresh()
