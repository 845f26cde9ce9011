"""Feature panel: the current feature's record, the clauses naming it, its targets."""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import (
    QAbstractItemView, QHeaderView, QLabel, QSplitter, QTableWidget, QTableWidgetItem,
    QTextBrowser, QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import category_label, tr
from planatlas.desktop.state import AtlasState
from .plaintext import tooltip

__all__ = ["FeaturePanel", "TargetsTable", "highlight_mentions", "format_value"]


def highlight_mentions(text: str, spans: list[tuple[int, int]]) -> str:
    """Escape ``text`` to HTML, wrapping each (start, end) span in <mark>. Spans may overlap."""
    spans = sorted((max(0, s), min(len(text), e)) for s, e in spans if e > s)
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        out.append(escape(text[pos:s]))
        out.append('<span style="background-color:#ffe08a;font-weight:bold;">'
                   f'{escape(text[s:e])}</span>')
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out)


def format_value(t) -> str:
    v = t.value
    s = f"{v:g}" if isinstance(v, float) else str(v)
    if getattr(t, "upper", None) is not None:
        s += f"–{t.upper:g}"
    return s


def _lines(a: int, b: int) -> str:
    return tr("feature.line", a=a) if a == b else tr("feature.lines", a=a, b=b)


class TargetsTable(QTableWidget):
    """Targets as rows (indicator, year, comparator, value, unit, scope[, line]); the source
    text is the tooltip; activating a row calls ``on_activate(target)``."""
    COLS = ("col.indicator", "col.year", "col.comparator", "col.value", "col.unit", "col.scope")

    def __init__(self, on_activate, *, with_line: bool = False, double_click: bool = False, parent=None):
        self.cols = self.COLS + (("col.line",) if with_line else ())
        super().__init__(0, len(self.cols), parent)
        self.rows: list = []
        self.on_activate = on_activate
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.verticalHeader().setVisible(False)
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeToContents)
        hh.setSectionResizeMode(0, QHeaderView.Stretch)      # long indicators are elided
        hh.setStretchLastSection(False)
        self.setTextElideMode(Qt.ElideMiddle)
        (self.cellDoubleClicked if double_click else self.cellClicked).connect(self._activated)

    def retranslate(self) -> None:
        self.setHorizontalHeaderLabels([tr(k) for k in self.cols])

    def set_targets(self, targets) -> None:
        self.rows = list(targets)
        self.setRowCount(len(self.rows))
        for r, t in enumerate(self.rows):
            vals = [t.indicator, "" if t.year is None else str(t.year), t.comparator,
                    format_value(t), t.unit, t.scope, str(t.line)][:len(self.cols)]
            for col, v in enumerate(vals):
                item = QTableWidgetItem(v)
                if col == 3:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                item.setToolTip(tooltip(t.surface))
                self.setItem(r, col, item)

    def _activated(self, row: int, _col: int) -> None:
        if 0 <= row < len(self.rows):
            self.on_activate(self.rows[row])


class FeaturePanel(QWidget):

    def __init__(self, state: AtlasState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.info = QTextBrowser()
        self.info.setOpenLinks(False)
        self.info.anchorClicked.connect(self._link)
        self.targets_label = QLabel()
        self.targets_label.setStyleSheet("font-weight: bold; padding: 2px;")
        self.targets = TargetsTable(lambda t: self.state.select_clause(t.clause), double_click=True)
        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.targets_label)
        bl.addWidget(self.targets)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.info)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)
        self.feature_id = ""
        self.clause_ids: list[str] = []
        state.currentFeatureChanged.connect(self.show_feature)
        self.show_feature(state.current_feature)

    def retranslate(self) -> None:
        self.show_feature(self.feature_id)

    def show_feature(self, fid: str) -> None:
        self.feature_id = fid or ""
        atlas = self.state.atlas
        self.targets.retranslate()
        self.targets_label.setText(tr("feature.targets"))
        if not fid or fid not in atlas.features:
            self.info.setHtml(f"<p style='color:#777'>{escape(tr('feature.none'))}</p>")
            self.clause_ids = []
            self.targets.set_targets([])
            return
        f = atlas.features[fid]
        rows = [
            (tr("feature.aliases"), "、".join(f.aliases) or "—"),
            (tr("feature.categories"), "、".join(category_label(c) for c in f.categories)),
            (tr("feature.tier"), f.tier or "—"),
            (tr("feature.district"), f.district or "—"),
            (tr("feature.plans"), "、".join(self._plan_name(p) for p in f.plans)),
            (tr("feature.precision"), f"±{f.precision_m:g} m"),
            (tr("feature.status"), tr(f"status.{f.status}") +
             (f" · {tr('schematic')}" if f.schematic else "")),
            (tr("feature.source"), f.source or "—"),
        ]
        html = [f"<h3 style='margin:2px 0 6px 0'>{escape(f.name)}</h3>",
                "<table cellspacing='0' cellpadding='2'>"]
        for k, v in rows:
            html.append(f"<tr><td style='color:#666;padding-right:8px'>{escape(k)}</td>"
                        f"<td>{escape(str(v))}</td></tr>")
        html.append("</table>")
        if f.note:
            html.append(f"<p style='color:#555'>{escape(f.note)}</p>")
        html.append(f"<h4 style='margin:10px 0 4px 0'>{escape(tr('feature.clauses'))}</h4>")
        mentions = atlas.mentions(fid)
        clauses = atlas.clauses_of(fid)
        self.clause_ids = [c.id for c in clauses]
        if not clauses:
            html.append(f"<p style='color:#777'>{escape(tr('feature.no_clauses'))}</p>")
        for c in clauses:
            spans = [(m.start, m.end) for m in mentions if m.clause == c.id]
            head = " · ".join([self._plan_name(c.plan), c.number, c.heading or "",
                               _lines(*c.lines)])
            html.append(
                f"<p style='margin:6px 0 2px 0'><a href='clause:{escape(c.id, quote=True)}' "
                f"style='font-weight:bold;text-decoration:none;color:#1f4e8c'>{escape(head)}</a></p>"
                f"<p style='margin:0 0 6px 10px;color:#222'>{highlight_mentions(c.text, spans)}</p>")
        self.info.setHtml("".join(html))
        self.targets.set_targets(atlas.targets_of(fid))

    def _plan_name(self, pid: str) -> str:
        plan = self.state.atlas.plans.get(pid)
        if plan is None:
            return pid
        r = plan.region
        return r.district or r.city or pid

    def _link(self, url: QUrl) -> None:
        s = url.toString()
        if s.startswith("clause:"):
            self.state.select_clause(s[len("clause:"):])

