"""Site list dock: a sortable, filterable table of features synced with the map selection.

QAbstractTableModel (all features, built once) + QSortFilterProxyModel (plan, category, district,
status, name text, "in view only"). Table selection -> AtlasState.select_features; the state's
selection -> table selection (guarded, no feedback loop).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel, QItemSelection, QItemSelectionModel, QModelIndex,
    QSortFilterProxyModel, Qt, QTimer,
)
from PySide6.QtWidgets import (
    QPushButton,
    QAbstractItemView, QCheckBox, QComboBox, QGridLayout, QHeaderView, QLabel, QLineEdit,
    QTableView, QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import category_label, crs_label, plan_name, tr
from planatlas.desktop.state import AtlasState
from planatlas.layers.model import CATEGORIES, STATUSES
from planatlas.layers.errors import PlanAtlasError
from .plaintext import tooltip, warn

__all__ = ["SiteTableModel", "SiteFilterProxy", "SiteListPanel"]

ROLE_ID = Qt.UserRole + 1
ROLE_SORT = Qt.UserRole + 2


class SiteTableModel(QAbstractTableModel):
    COLUMNS = ("sites.name", "sites.categories", "sites.plans", "sites.district", "sites.tier",
               "sites.status", "sites.precision", "sites.clauses")

    def __init__(self, atlas: Any, ids: list[str], parent=None):
        super().__init__(parent)
        self.atlas = atlas
        self.ids = list(ids)
        self.rows = [atlas.features[i] for i in self.ids]
        self.row_of = {fid: r for r, fid in enumerate(self.ids)}
        self._nclauses: dict[str, int] = {}

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return tr(self.COLUMNS[section])
        return None

    def _clauses(self, fid: str) -> int:
        n = self._nclauses.get(fid)
        if n is None:
            n = len(self.atlas.clauses_of(fid))
            self._nclauses[fid] = n
        return n

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        f = self.rows[index.row()]
        col = index.column()
        if role == ROLE_ID:
            return f.id
        if role in (Qt.DisplayRole, ROLE_SORT):
            if col == 0:
                return f.name
            if col == 1:
                return "、".join(category_label(c, short=True) for c in f.categories)
            if col == 2:
                return "、".join(plan_name(self.atlas, p) for p in f.plans)
            if col == 3:
                return f.district
            if col == 4:
                return f.tier or ""
            if col == 5:
                return tr(f"status.{f.status}")
            if col == 6:
                return float(f.precision_m) if role == ROLE_SORT else f"{f.precision_m:g}"
            if col == 7:
                return self._clauses(f.id)
        if role == Qt.ToolTipRole and col == 0:
            return tooltip("、".join(f.names))
        if role == Qt.TextAlignmentRole and col in (6, 7):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def feature(self, row: int):
        return self.rows[row]


def _city(f) -> str:
    """The city (prefecture) a feature lies in: 广州市 for 天河区, 天津市 for 西青区."""
    from planatlas.layers.admin import by_adcode
    units = by_adcode().get(f.adcode or "", [])
    for u in units:
        if u.level in ("city", "county") and u.city:
            return u.city
    return f.district


def district_entries(features) -> list[tuple[str, str, bool]]:
    """The district filter's entries (label, value, is-city): each city, then its districts
    indented under it; features placed only at city level (they span several districts) get
    their own entry under their city, so cities and districts never mix in one list."""
    cities: dict[str, set[str]] = {}
    citywide: set[str] = set()
    for f in features:
        if not f.district:
            continue
        city = _city(f)
        cities.setdefault(city, set())
        if f.district == city:
            citywide.add(city)
        else:
            cities[city].add(f.district)
    out: list[tuple[str, str, bool]] = []
    for city in sorted(cities):
        districts = sorted(cities[city])
        out.append((tr("sites.city_all", city=city) if districts else city, f"city:{city}", True))
        for d in districts:
            out.append(("\u3000" + d, d, False))
        if districts and city in citywide:
            out.append(("\u3000" + tr("sites.citywide", city=city), city, False))
    return out


class SiteFilterProxy(QSortFilterProxyModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.plan = ""
        self.category = ""
        self.district = ""
        self.status = ""
        self.text = ""
        self.only: set[str] | None = None       # "in view" ids, None = no restriction
        self.city_of: dict[str, str] = {}       # feature id -> its city (for "city:…" filters)
        self.setSortRole(ROLE_SORT)
        self.setSortCaseSensitivity(Qt.CaseInsensitive)

    def set_filter(self, **kw) -> None:
        for k, v in kw.items():
            if not hasattr(self, k):
                raise AttributeError(f"unknown site filter {k!r}")
            setattr(self, k, v)
        self.invalidateFilter() if hasattr(self, "invalidateFilter") else self.invalidate()

    def filterAcceptsRow(self, row: int, parent) -> bool:
        f = self.sourceModel().feature(row)
        if self.plan and self.plan not in f.plans:
            return False
        if self.category and self.category not in f.categories:
            return False
        if self.district.startswith("city:"):
            if self.city_of.get(f.id) != self.district[5:]:
                return False
        elif self.district and f.district != self.district:
            return False
        if self.status and f.status != self.status:
            return False
        if self.text and not any(self.text in n for n in f.names):
            return False
        if self.only is not None and f.id not in self.only:
            return False
        return True


def sorted_table(proxy) -> QTableView:
    """A sortable, multi-row-selecting table view over a proxy model (site list, survey rows)."""
    table = QTableView()
    table.setModel(proxy)
    table.setSortingEnabled(True)
    table.sortByColumn(0, Qt.AscendingOrder)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.setSelectionMode(QAbstractItemView.ExtendedSelection)
    return table


class SiteListPanel(QWidget):
    def __init__(self, state: AtlasState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        atlas = state.atlas
        self.model = SiteTableModel(atlas, list(state.scene.ids), self)
        self.proxy = SiteFilterProxy(self)
        self.proxy.city_of = {f.id: _city(f) for f in self.model.rows}
        self.proxy.setSourceModel(self.model)
        self.table = sorted_table(self.proxy)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.Interactive)
        hh.setSectionResizeMode(0, QHeaderView.Stretch)
        hh.setStretchLastSection(False)
        for col, w in enumerate((220, 110, 110, 100, 120, 80, 90, 70)):
            if col:
                self.table.setColumnWidth(col, w)
        self.table.doubleClicked.connect(self._zoom_row)
        self.plan_box = QComboBox()
        self.cat_box = QComboBox()
        self.district_box = QComboBox()
        self.status_box = QComboBox()
        self.text_edit = QLineEdit()
        self.text_edit.setClearButtonEnabled(True)
        self.in_view = QCheckBox()
        self.count = QLabel()
        self.print_button = QPushButton()
        self.print_button.clicked.connect(self.print_checklist_dialog)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.text_edit, 0, 0, 1, 2)
        grid.addWidget(self.plan_box, 0, 2)
        grid.addWidget(self.cat_box, 0, 3)
        grid.addWidget(self.district_box, 0, 4)
        grid.addWidget(self.status_box, 0, 5)
        grid.addWidget(self.in_view, 0, 6)
        grid.addWidget(self.count, 0, 7)
        grid.addWidget(self.print_button, 0, 8)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(grid)
        lay.addWidget(self.table)
        self._fill_boxes()
        for box in (self.plan_box, self.cat_box, self.district_box, self.status_box):
            box.currentIndexChanged.connect(self._apply_filters)
        self.text_edit.textChanged.connect(self._apply_filters)
        self.in_view.toggled.connect(self._apply_filters)
        self._syncing = False
        self.table.selectionModel().selectionChanged.connect(self._table_selected)
        state.selectionChanged.connect(self.show_selection)
        self._view_timer = QTimer(self)
        self._view_timer.setSingleShot(True)
        self._view_timer.timeout.connect(self._view_changed)
        state.viewChanged.connect(lambda _v: self._view_timer.start(150))
        state.layersChanged.connect(lambda: self._view_timer.start(150))
        self._update_count()

    def _fill_boxes(self) -> None:
        atlas = self.state.atlas
        feats = self.model.rows
        self.plan_box.clear()
        self.plan_box.addItem(f"{tr('sites.plans')}: {tr('sites.all')}", "")
        for pid in self.state.scene.plans:
            self.plan_box.addItem(plan_name(atlas, pid), pid)
        self.cat_box.clear()
        self.cat_box.addItem(f"{tr('sites.categories')}: {tr('sites.all')}", "")
        for c in CATEGORIES:
            self.cat_box.addItem(category_label(c, short=True), c)
        self.district_box.clear()
        self.district_box.addItem(f"{tr('sites.district')}: {tr('sites.all')}", "")
        for label, value, _is_city in district_entries(feats):
            self.district_box.addItem(label, value)
        self.status_box.clear()
        self.status_box.addItem(f"{tr('sites.status')}: {tr('sites.all')}", "")
        for s in STATUSES:
            self.status_box.addItem(tr(f"status.{s}"), s)
        self.text_edit.setPlaceholderText(tr("sites.filter"))
        self.in_view.setText(tr("sites.in_view"))
        del atlas

    def refresh_rows(self) -> None:
        """Re-read the features (positions/status changed, e.g. after accepting a survey)."""
        m = self.model
        m.beginResetModel()
        m.rows = [self.state.atlas.features[i] for i in m.ids]
        m.endResetModel()
        self._update_count()

    def visible_features(self) -> list:
        """The features in the table as filtered and sorted now."""
        ids = [self.model.ids[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
               for r in range(self.proxy.rowCount())]
        return [self.state.atlas.features[i] for i in ids]

    def print_checklist(self, out, *, crs: str = "wgs84") -> str:
        """Write the printable field checklist (PDF or XLSX by suffix) of the listed sites."""
        from pathlib import Path

        from planatlas.layers.sitelist import list_title, write_sitelist_xlsx
        feats = self.visible_features()
        if not feats:
            raise ValueError("the site list is empty: relax the filters first")
        plans = sorted({p for f in feats for p in self.state.atlas.plans_of(f.id)})
        title = list_title(self.state.atlas, plans)
        out = Path(out)
        if out.suffix.lower() == ".xlsx":
            return str(write_sitelist_xlsx(feats, out, crs=crs, title=title))
        from planatlas.desktop.sitelist import write_sitelist_pdf
        return str(write_sitelist_pdf(feats, out, crs=crs, title=title, atlas=self.state.atlas))

    def print_checklist_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog, QInputDialog
        path, _f = QFileDialog.getSaveFileName(self, tr("site.print"), tr("site.print_file"),
                                               "PDF (*.pdf);;Excel (*.xlsx)")
        if not path:
            return
        systems = ["wgs84", "gcj02", "bd09", "cgcs2000"]
        labels = [crs_label(c) for c in systems]
        label, ok = QInputDialog.getItem(self, tr("site.print"), tr("site.print_crs"), labels, 0, False)
        if not ok:
            return
        crs = systems[labels.index(label)]
        try:
            self.print_checklist(path, crs=crs)
        except (PlanAtlasError, OSError, ValueError) as exc:   # a full disk is an OperationError
            warn(self, tr("site.print"), exc)

    def retranslate(self) -> None:
        self.print_button.setText(tr("site.print"))
        state = [b.currentIndex() for b in (self.plan_box, self.cat_box, self.district_box,
                                             self.status_box)]
        for b in (self.plan_box, self.cat_box, self.district_box, self.status_box):
            b.blockSignals(True)
        self._fill_boxes()
        for b, i in zip((self.plan_box, self.cat_box, self.district_box, self.status_box), state):
            b.setCurrentIndex(i)
            b.blockSignals(False)
        self.model.headerDataChanged.emit(Qt.Horizontal, 0, self.model.columnCount() - 1)
        self._update_count()

    def set_filters(self, *, plan: str | None = None, category: str | None = None,
                    district: str | None = None, status: str | None = None,
                    text: str | None = None, in_view: bool | None = None) -> None:
        """Programmatic filter change (also moves the widgets)."""
        for box, val in ((self.plan_box, plan), (self.cat_box, category),
                         (self.district_box, district), (self.status_box, status)):
            if val is not None:
                i = box.findData(val)
                if i < 0:
                    raise ValueError(f"no filter value {val!r}")
                box.setCurrentIndex(i)
        if text is not None:
            self.text_edit.setText(text)
        if in_view is not None:
            self.in_view.setChecked(in_view)
        self._apply_filters()

    def _apply_filters(self, *_a) -> None:
        only = None
        if self.in_view.isChecked() and self.state.view is not None:
            only = set(self.state.ids_in_view(self.state.view))
        self.proxy.set_filter(plan=self.plan_box.currentData() or "",
                              category=self.cat_box.currentData() or "",
                              district=self.district_box.currentData() or "",
                              status=self.status_box.currentData() or "",
                              text=self.text_edit.text().strip(), only=only)
        self._update_count()
        self.show_selection(self.state.selection)

    def _view_changed(self) -> None:
        if self.in_view.isChecked():
            self._apply_filters()

    def _update_count(self) -> None:
        self.count.setText(tr("sites.count", n=self.proxy.rowCount(), total=self.model.rowCount()))

    def visible_ids(self) -> list[str]:
        return [self.proxy.index(r, 0).data(ROLE_ID) for r in range(self.proxy.rowCount())]

    def selected_ids(self) -> list[str]:
        rows = self.table.selectionModel().selectedRows()
        return [r.data(ROLE_ID) for r in sorted(rows, key=lambda i: i.row())]

    def _table_selected(self, *_a) -> None:
        if self._syncing:
            return
        self.state.select_features(self.selected_ids())

    def show_selection(self, ids: list[str]) -> None:
        """State -> table rows (no feedback into the state)."""
        self._syncing = True
        try:
            sm = self.table.selectionModel()
            sel = QItemSelection()
            wanted = set(ids)
            first = None
            for fid in wanted:
                row = self.model.row_of.get(fid)
                if row is None:
                    continue
                pidx = self.proxy.mapFromSource(self.model.index(row, 0))
                if pidx.isValid():
                    sel.select(pidx, pidx.siblingAtColumn(self.model.columnCount() - 1))
                    if first is None or pidx.row() < first.row():
                        first = pidx
            sm.select(sel, QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)
            if first is not None:
                self.table.scrollTo(first)
        finally:
            self._syncing = False

    def _zoom_row(self, index) -> None:
        fid = index.data(ROLE_ID)
        if fid:
            self.state.select_features([fid], current=fid, frame=True)
