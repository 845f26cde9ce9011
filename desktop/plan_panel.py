"""Plan panel: per plan, the clause tree, the source text with line numbers, and targets."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QSplitter, QTabWidget, QTextEdit, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

from planatlas.desktop.feature_panel import TargetsTable, canonical_of
from planatlas.desktop.i18n import tr
from planatlas.desktop.state import AtlasState
from .plaintext import tooltip

__all__ = ["PlanPanel", "SourceView"]

ROLE_ID = Qt.UserRole + 1


class _LineNumbers(QWidget):
    def __init__(self, editor: "SourceView"):
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self.editor.number_width(), 0)

    def paintEvent(self, ev) -> None:
        self.editor.paint_numbers(ev)


class SourceView(QPlainTextEdit):
    """Read-only source text with a line-number gutter and highlighted line ranges."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        self.numbers = _LineNumbers(self)
        self.blockCountChanged.connect(lambda _n: self._update_margin())
        self.updateRequest.connect(self._update_area)
        self._update_margin()
        self.highlighted: tuple[int, int] | None = None

    def number_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        return 10 + self.fontMetrics().horizontalAdvance("9") * digits

    def _update_margin(self) -> None:
        self.setViewportMargins(self.number_width(), 0, 0, 0)

    def _update_area(self, rect, dy) -> None:
        if dy:
            self.numbers.scroll(0, dy)
        else:
            self.numbers.update(0, rect.y(), self.numbers.width(), rect.height())

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        cr = self.contentsRect()
        self.numbers.setGeometry(QRect(cr.left(), cr.top(), self.number_width(), cr.height()))

    def paint_numbers(self, ev) -> None:
        p = QPainter(self.numbers)
        p.fillRect(ev.rect(), QColor("#f1f1ee"))
        block = self.firstVisibleBlock()
        n = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        hl = self.highlighted
        while block.isValid() and top <= ev.rect().bottom():
            if block.isVisible() and bottom >= ev.rect().top():
                line = n + 1
                on = hl is not None and hl[0] <= line <= hl[1]
                p.setPen(QColor("#b0620c") if on else QColor("#999999"))
                p.drawText(0, top, self.numbers.width() - 5, self.fontMetrics().height(),
                           Qt.AlignRight, str(line))
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            n += 1

    def set_lines(self, lines: list[str]) -> None:
        self.highlighted = None
        self.setExtraSelections([])
        self.setPlainText("\n".join(lines))

    def highlight_lines(self, first: int, last: int) -> None:
        """Highlight 1-based lines first..last and scroll them into view."""
        doc = self.document()
        first = max(1, min(first, doc.blockCount()))
        last = max(first, min(last, doc.blockCount()))
        sel = QTextEdit.ExtraSelection()
        sel.format.setBackground(QColor("#fff1c2"))
        sel.format.setProperty(QTextFormat.FullWidthSelection, True)
        cur = QTextCursor(doc.findBlockByNumber(first - 1))
        end = doc.findBlockByNumber(last - 1)
        cur.setPosition(end.position() + max(0, end.length() - 1), QTextCursor.KeepAnchor)
        sel.cursor = cur
        self.setExtraSelections([sel])
        self.highlighted = (first, last)
        # scroll: put the last line in view first, then the first line (so the start shows)
        self.setTextCursor(QTextCursor(end))
        self.ensureCursorVisible()
        self.setTextCursor(QTextCursor(doc.findBlockByNumber(first - 1)))
        self.ensureCursorVisible()
        self.numbers.update()

    def first_visible_line(self) -> int:
        return self.firstVisibleBlock().blockNumber() + 1


class PlanPanel(QWidget):

    def __init__(self, state: AtlasState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.combo = QComboBox()
        # long plan titles must not make the dock wide (the map keeps its share)
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(14)
        self.combo_label = QLabel()
        for pid, plan in state.atlas.plans.items():
            self.combo.addItem(plan.title, pid)
        self.combo.currentIndexChanged.connect(lambda _i: self.show_plan(self.combo.currentData()))
        top = QHBoxLayout()
        top.addWidget(self.combo_label)
        top.addWidget(self.combo, 1)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.itemSelectionChanged.connect(self._tree_selected)
        self.source = SourceView()
        self.targets = TargetsTable(lambda t: self.state.select_target(t.id), with_line=True,
                                    canonical=lambda t: canonical_of(self.state.atlas, t))
        self.tabs = QTabWidget()
        clause_split = QSplitter(Qt.Vertical)
        clause_split.addWidget(self.tree)
        clause_split.addWidget(self.source)
        clause_split.setStretchFactor(0, 2)
        clause_split.setStretchFactor(1, 3)
        self.tabs.addTab(clause_split, "")
        self.tabs.addTab(self.targets, "")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top)
        lay.addWidget(self.tabs)
        self.plan_id = ""
        self.items: dict[str, QTreeWidgetItem] = {}
        self._syncing = False
        state.clauseChanged.connect(self.show_clause)
        self.retranslate()
        if self.combo.count():
            self.show_plan(self.combo.itemData(0))

    def retranslate(self) -> None:
        self.combo_label.setText(tr("plan.select"))
        self.tabs.setTabText(0, f"{tr('plan.clauses')} / {tr('plan.source')}")
        self.tabs.setTabText(1, tr("plan.targets"))
        self.targets.retranslate()

    def reload_plans(self) -> None:
        """The atlas' plans changed (an import, an undone import) or their links did (a place
        put on the map): refill the plan box and redraw the shown plan."""
        plans = self.state.atlas.plans
        current = self.plan_id if self.plan_id in plans else next(iter(plans), "")
        self.combo.blockSignals(True)
        self.combo.clear()
        for pid, plan in plans.items():
            self.combo.addItem(plan.title, pid)
        self.combo.blockSignals(False)
        self.plan_id = ""
        if current:
            self.show_plan(current)
            if self.state.clause.split(":", 1)[0] == current:
                self.show_clause(self.state.clause)
        else:
            self.tree.clear()
            self.source.set_lines([])
            self.targets.set_targets([])

    def show_plan(self, pid: str) -> None:
        if not pid or pid == self.plan_id:
            return
        plan = self.state.atlas.plans[pid]
        self.plan_id = pid
        i = self.combo.findData(pid)
        if i >= 0 and self.combo.currentIndex() != i:
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(i)
            self.combo.blockSignals(False)
        self._syncing = True
        self.tree.clear()
        self.items = {}
        for c in plan.clauses:
            label = f"{c.number} {c.heading}".strip() or c.text[:24]
            it = QTreeWidgetItem([label])
            it.setData(0, ROLE_ID, c.id)
            it.setToolTip(0, tooltip(c.text[:300]))  # plain: clause text is data
            n = len(self.state.atlas.features_of(c.id))
            if n:
                it.setText(0, f"{label}  ◆{n}")
            parent = self.items.get(c.parent) if c.parent else None
            (parent.addChild(it) if parent is not None else self.tree.addTopLevelItem(it))
            self.items[c.id] = it
        self.tree.expandToDepth(0)
        self.source.set_lines(plan.source_lines)
        self.targets.set_targets(plan.targets)
        self._syncing = False

    def show_clause(self, clause_id: str) -> None:
        """State -> tree selection + source highlight (no state change)."""
        if not clause_id:
            self._syncing = True
            self.tree.clearSelection()
            self._syncing = False
            return
        pid = clause_id.split(":", 1)[0]
        if pid in self.state.atlas.plans:
            self.show_plan(pid)
        it = self.items.get(clause_id)
        c = self.state.atlas.clause(clause_id)
        self._syncing = True
        if it is not None:
            self.tree.setCurrentItem(it)
            self.tree.scrollToItem(it)
        self._syncing = False
        self.source.highlight_lines(*c.lines)

    def _tree_selected(self) -> None:
        if self._syncing:
            return
        items = self.tree.selectedItems()
        if items:
            self.state.select_clause(items[0].data(0, ROLE_ID))

