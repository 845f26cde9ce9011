"""*Targets* window: what the plans promise, side by side.

A table of plan × canonical indicator (value as written and normalised, year, comparator,
annual growth, clause citation; sortable; a click selects the clause so that it and its places
show on the map) and three charts drawn by :mod:`planatlas.layers.charts` and embedded with
matplotlib's Qt canvas: grouped bars per indicator across plans, the target years of each plan,
and annual growth rates. Each chart exports to PNG or SVG.

    win = TargetsWindow(state)        # desktop.state.AtlasState
    win.show()
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
    QMenu, QMessageBox, QPushButton, QTableView, QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import language, plan_name, tr
from planatlas.desktop.state import AtlasState
from planatlas.layers.compare import COMPARATOR_SIGNS as _CMP
from planatlas.layers.errors import PlanAtlasError

__all__ = ["TargetsWindow", "open_targets_window", "CHARTS"]

CHARTS = ("bars", "timeline", "growth")
COLUMNS = ("tcol.plan", "tcol.indicator", "tcol.year", "tcol.comparator", "tcol.display",
           "tcol.display_unit", "tcol.written", "tcol.growth", "tcol.clause", "tcol.note",
           "tcol.source", "tcol.evidence")
NUMERIC = (2, 4, 6, 7)          # year, target, as written, growth sort as numbers
SORT_ROLE = Qt.UserRole + 1
CLAUSE_ROLE = Qt.UserRole + 2
TARGET_ROLE = Qt.UserRole + 3


def _cite(atlas, target) -> str:
    """``滨海新区 三、（一） 发展目标 · 第26行`` — plan name, clause path and the target's line."""
    from planatlas.layers.cite import citation, lines_label
    try:
        plan, clause = atlas.plans[target.plan], atlas.clause(target.clause)
    except KeyError:
        return target.clause
    lang = language()
    return f"{citation(plan, clause, lang, lines=False)} · {lines_label(target.line, target.line, lang)}"


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:,.6g}"


class TargetsWindow(QWidget):
    """The comparison table and charts for the plans of ``state.atlas``."""

    def __init__(self, state: AtlasState, parent: QWidget | None = None):
        super().__init__(parent, Qt.Window)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from planatlas.layers import charts
        from planatlas.layers.indicators import vocabulary
        self.state = state
        self.vocab = vocabulary()
        self.setObjectName("targets_window")
        self.resize(1200, 760)
        atlas = state.atlas
        self.plan_ids = list(atlas.plans)
        self.checked_plans = set(self.plan_ids)
        self.rows: list = []
        self._stale: set[str] = set(CHARTS)      # charts drawn when shown (or asked for)

        self.indicator = QComboBox()
        self.indicator.setMinimumWidth(260)
        self.plans_button = QToolButton()
        self.plans_button.setPopupMode(QToolButton.InstantPopup)
        self.plans_menu = QMenu(self)
        self.plan_actions: dict[str, QAction] = {}
        for pid in self.plan_ids:
            a = self.plans_menu.addAction(plan_name(atlas, pid))
            a.setCheckable(True)
            a.setChecked(True)
            a.toggled.connect(lambda on, p=pid: self._toggle_plan(p, on))
            self.plan_actions[pid] = a
        self.plans_button.setMenu(self.plans_menu)
        self.baselines = QCheckBox()
        self.other = QCheckBox()
        self.indicator_label = QLabel()
        top = QHBoxLayout()
        for w in (self.indicator_label, self.indicator, self.plans_button, self.baselines, self.other):
            top.addWidget(w)
        top.addStretch(1)

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)   # vocabulary order
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.clicked.connect(self._clicked)

        self.figures = {name: charts.new_figure() for name in CHARTS}
        self.canvases = {name: FigureCanvasQTAgg(fig) for name, fig in self.figures.items()}
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "")
        for name in CHARTS:
            page = QWidget()
            lay = QVBoxLayout(page)
            lay.addWidget(self.canvases[name], 1)
            buttons = QHBoxLayout()
            buttons.addStretch(1)
            for fmt in ("png", "svg"):
                b = QPushButton()
                b.setObjectName(f"export_{name}_{fmt}")
                b.clicked.connect(lambda _c=False, n=name, f=fmt: self.export_dialog(n, f))
                buttons.addWidget(b)
            lay.addLayout(buttons)
            self.tabs.addTab(page, "")
        self.status = QLabel()
        self.status.setStyleSheet("color:#555; padding:2px;")
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.status)

        self.tabs.currentChanged.connect(lambda _i: self.draw_charts())
        self.indicator.currentIndexChanged.connect(lambda _i: self.refresh())
        self.baselines.toggled.connect(lambda _on: self.refresh())
        self.other.toggled.connect(lambda _on: self.refresh())
        state.languageChanged.connect(lambda _l: self.retranslate())
        self.retranslate()

    # ------------------------------------------------------------------ filters
    def _fill_indicators(self) -> None:
        from planatlas.layers.compare import rows_of
        present = {r.key for pid in self.plan_ids for r in rows_of(self.state.atlas, pid)}
        current = self.indicator.currentData()
        self.indicator.blockSignals(True)
        self.indicator.clear()
        lang = language()
        self.indicator.addItem(tr("targets.all"), None)
        groups = list(dict.fromkeys(self.vocab.indicators[k].group for k in self.vocab.indicators
                                    if k in present))
        for g in groups:
            self.indicator.addItem(tr("targets.group", name=self.vocab.group_label(g, lang)), g)
            for k, ind in self.vocab.indicators.items():
                if ind.group == g and k in present:
                    self.indicator.addItem("    " + ind.label(lang), k)
        i = self.indicator.findData(current)
        self.indicator.setCurrentIndex(max(0, i))
        self.indicator.blockSignals(False)

    def set_indicator(self, key: str | None) -> None:
        """Show one indicator key or group (``None``: all)."""
        i = self.indicator.findData(key)
        if i < 0:
            raise KeyError(f"no targets of indicator {key!r} in these plans")
        if i == self.indicator.currentIndex():
            self.refresh()
        else:
            self.indicator.setCurrentIndex(i)        # refreshes

    def set_plans(self, plan_ids) -> None:
        wanted = set(plan_ids)
        for pid, a in self.plan_actions.items():
            a.blockSignals(True)
            a.setChecked(pid in wanted)
            a.blockSignals(False)
        self.checked_plans = wanted & set(self.plan_ids)
        self.refresh()

    def _toggle_plan(self, pid: str, on: bool) -> None:
        (self.checked_plans.add if on else self.checked_plans.discard)(pid)
        self.refresh()

    # ------------------------------------------------------------------ data
    def refresh(self) -> None:
        from planatlas.layers.compare import compare
        plans = [p for p in self.plan_ids if p in self.checked_plans]
        key = self.indicator.currentData()
        self.plans_button.setText(tr("targets.plans", n=len(plans), total=len(self.plan_ids)))
        self.rows = compare(self.state.atlas, key, plans, baselines=self.baselines.isChecked(),
                            include_other=self.other.isChecked()) if plans else []
        self._fill_table()
        self._stale = set(CHARTS)
        self.draw_charts()
        self._status(plans)

    def _status(self, plans) -> None:
        from planatlas.layers.compare import rows_of
        from planatlas.layers.indicators import OTHER
        targets = [r for p in plans for r in rows_of(self.state.atlas, p) if r.target.kind == "target"]
        mapped = sum(r.key != OTHER for r in targets)
        share = f"{100 * mapped / len(targets):.0f}" if targets else "0"
        self.status.setText(tr("targets.status", rows=len(self.rows), plans=len(plans),
                               mapped=mapped, total=len(targets), share=share))

    def _fill_table(self) -> None:
        lang = language()
        self.table.setSortingEnabled(False)
        self.model.removeRows(0, self.model.rowCount())
        for r in self.rows:
            d = r.to_dict(self.vocab)
            q, g = d["normalised"] or {}, d["growth"]
            notes = []
            if d["kind"] == "baseline":
                notes.append(tr("targets.note_base"))
            if d["duplicate_of"]:
                notes.append(tr("targets.note_dup", id=d["duplicate_of"].split(":")[1]))
            if d["cumulative"]:
                notes.append(tr("targets.note_cum"))
            if d["implied"]:
                imp = d["implied"]
                notes.append(tr("targets.note_implied", value=f"{_num(imp['display'])}{imp['display_unit']}"))
            display = _num(q.get("display"))
            if q.get("display_upper") is not None:
                display += f"–{_num(q['display_upper'])}"
            written = f"{d['value']:g}" + (f"–{d['upper']:g}" if d["upper"] is not None else "") + d["unit"]
            cells = [
                (plan_name(self.state.atlas, d["plan"]), d["plan"]),
                (self.vocab.label(d["indicator"], lang), d["indicator"]),
                ("" if d["year"] is None else str(d["year"]), d["year"] or r.period_end),
                (_CMP.get(d["comparator"], d["comparator"]) or "=", d["comparator"]),
                (display, q.get("value") if q else d["value"]),
                (q.get("display_unit", d["unit"]), q.get("display_unit", d["unit"])),
                (written, d["value"]),
                (f"{_CMP.get(g['comparator'], '')}{g['annual_pct']:.1f}% · {tr('growth.' + g['method'])}"
                 if g else "", g["annual_pct"] if g else -1e18),
                (_cite(self.state.atlas, r.target), (d["plan"], d["line"])),
                ("；".join(notes), "；".join(notes)),
                (d["source_indicator"], d["source_indicator"]),
                (r.match.evidence.describe(lang), d["evidence"]["field"]),
            ]
            items = []
            for col, (text, sort) in enumerate(cells):
                it = QStandardItem(text)
                if col in NUMERIC:
                    sort = -1e18 if sort is None else float(sort)
                elif isinstance(sort, tuple):        # clause: plan, then source line
                    sort = f"{sort[0]}:{sort[1]:06d}"
                it.setData(sort if sort is not None else "", SORT_ROLE)
                it.setData(d["clause"], CLAUSE_ROLE)
                it.setData(r.target.id, TARGET_ROLE)
                it.setToolTip(d["surface"])
                items.append(it)
            for i in (4, 6, 7):
                items[i].setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            if g and g["method"] != "stated":
                items[7].setToolTip(g["how"])
            items[11].setToolTip(d["evidence"]["text"])
            self.model.appendRow(items)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        for col in (10, 11):
            self.table.setColumnWidth(col, min(self.table.columnWidth(col), 260))

    def _clicked(self, index) -> None:
        """The row's target: its clause in the plan panel, the place(s) it is about selected."""
        tid, clause = index.data(TARGET_ROLE), index.data(CLAUSE_ROLE)
        try:
            if tid:
                self.state.select_target(tid)
            elif clause:
                self.state.select_clause(clause)
        except KeyError:
            pass                       # a plan removed while the window was open

    # ------------------------------------------------------------------ charts
    def chart_keys(self) -> list[str]:
        """Indicators the bar chart shows: the chosen key or group, else those ≥ 2 plans share."""
        from planatlas.layers.indicators import OTHER
        keys = list(dict.fromkeys(r.key for r in self.rows if r.key != OTHER and r.quantity is not None
                                  and r.quantity.dim not in ("percent", "pp")))
        if self.indicator.currentData() is None:
            shared = [k for k in keys if len({r.plan for r in self.rows if r.key == k}) >= 2]
            keys = shared or keys
        return keys[:8]

    def draw_chart(self, name: str, fig=None):
        from planatlas.layers import charts
        from planatlas.layers.compare import plan_label
        lang = language()
        atlas = self.state.atlas
        if name == "bars":
            return charts.bars_figure(self.rows, self.chart_keys(), lang=lang, fig=fig, vocab=self.vocab)
        if name == "timeline":
            plans = [(p, plan_label(atlas.plans[p]), atlas.plans[p].period)
                     for p in self.plan_ids if p in self.checked_plans]
            return charts.timeline_figure(self.rows, plans, lang=lang, fig=fig)
        return charts.growth_figure(self.rows, lang=lang, fig=fig, vocab=self.vocab)

    def chart(self, name: str):
        """The on-screen figure of chart ``name``, brought up to date."""
        if name in self._stale:
            self._stale.discard(name)
            self.draw_chart(name, self.figures[name])
            self.canvases[name].draw_idle()
        return self.figures[name]

    def draw_charts(self) -> None:
        """Redraw the chart on the current tab (the others when they are shown)."""
        i = self.tabs.currentIndex()
        if i >= 1:
            self.chart(CHARTS[i - 1])

    def export_chart(self, name: str, path) -> Path:
        """Save chart ``name`` at slide size (9 × 5 in at 200 dpi for PNG), whatever the window size."""
        from planatlas.layers import charts
        return charts.save_figure(self.draw_chart(name), path)

    def export_dialog(self, name: str, fmt: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, tr(f"targets.export_{fmt}"),
                                              f"planatlas-{name}.{fmt}", f"{fmt.upper()} (*.{fmt})")
        if not path:
            return None
        if not path.lower().endswith(f".{fmt}"):
            path += f".{fmt}"
        try:
            out = self.export_chart(name, path)
        except (PlanAtlasError, OSError) as exc:
            QMessageBox.warning(self, "PlanAtlas", str(exc))
            return None
        self.status.setText(tr("targets.exported", path=str(out)))
        return out

    # ------------------------------------------------------------------ language
    def retranslate(self) -> None:
        self.setWindowTitle(tr("targets.title"))
        self.indicator_label.setText(tr("targets.indicator"))
        self.baselines.setText(tr("targets.baselines"))
        self.other.setText(tr("targets.other"))
        for i, key in enumerate(("targets.tab_table", "targets.tab_bars", "targets.tab_timeline",
                                 "targets.tab_growth")):
            self.tabs.setTabText(i, tr(key))
        for b in self.findChildren(QPushButton):
            if b.objectName().startswith("export_"):
                b.setText(tr(f"targets.export_{b.objectName().rsplit('_', 1)[1]}"))
        self.model.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self._fill_indicators()
        self.refresh()


def open_targets_window(main_window) -> TargetsWindow:
    """Show the main window's Targets window (made once, then raised)."""
    win = getattr(main_window, "targets_window", None)
    if win is None:
        win = TargetsWindow(main_window.state, main_window)
        main_window.targets_window = win
    win.show()
    win.raise_()
    win.activateWindow()
    return win
