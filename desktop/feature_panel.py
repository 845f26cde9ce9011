"""Feature panel: the current feature's record, the clauses naming it, its targets."""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import (
    QAbstractItemView, QHeaderView, QLabel, QSplitter, QTableWidget, QTableWidgetItem,
    QTextBrowser, QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import category_label, language, plan_name, tr
from planatlas.desktop.state import AtlasState
from .plaintext import tooltip

__all__ = ["FeaturePanel", "TargetsTable", "highlight_mentions", "format_value", "canonical_of",
           "clause_citation"]

ROLE_ROW = Qt.UserRole + 1
ROLE_SORT = Qt.UserRole + 2


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


def clause_citation(atlas, clause) -> str:
    """``广州市 二、（二）5. 建设国际知名商圈 · 第75–77行`` in the UI language (parents included)."""
    from planatlas.layers.cite import citation
    plan = getattr(atlas, "plans", {}).get(clause.plan)
    if plan is None:
        return " · ".join(p for p in (clause.number, clause.heading) if p)
    return citation(plan, clause, language())


class _SortItem(QTableWidgetItem):
    """A cell that sorts by its ROLE_SORT value (numbers as numbers, empty years last)."""

    def __lt__(self, other) -> bool:
        a, b = self.data(ROLE_SORT), other.data(ROLE_SORT)
        if a is None or b is None:
            return super().__lt__(other)
        return a < b


def canonical_of(atlas, target) -> tuple[str, str]:
    """The canonical indicator of ``target`` in the UI language and why (the evidence)."""
    from planatlas.layers.indicators import classify, vocabulary
    try:
        text = atlas.clause(target.clause).text
    except KeyError:
        text = None
    m = classify(target, text)
    lang = language()
    return vocabulary().label(m.key, lang), m.evidence.describe(lang)


class TargetsTable(QTableWidget):
    """Targets as rows (indicator, year, comparator, value, unit, scope[, line][, canonical
    indicator]), sortable by any column (numbers as numbers); the full indicator and the source
    text are the tooltip (the evidence on the canonical indicator); activating a row calls
    ``on_activate(target)``. ``canonical(target)`` → (label, evidence)."""
    COLS = ("col.indicator", "col.year", "col.comparator", "col.value", "col.unit", "col.scope")

    def __init__(self, on_activate, *, with_line: bool = False, double_click: bool = False,
                 canonical=None, parent=None):
        self.cols = (self.COLS + (("col.line",) if with_line else ())
                     + (("col.canonical",) if canonical is not None else ()))
        self.canonical = canonical
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
        hh.setSortIndicator(-1, Qt.AscendingOrder)       # document order until a header is clicked
        self.setSortingEnabled(True)
        (self.cellDoubleClicked if double_click else self.cellClicked).connect(self._activated)

    def retranslate(self) -> None:
        self.setHorizontalHeaderLabels([tr(k) for k in self.cols])

    def set_targets(self, targets) -> None:
        self.rows = list(targets)
        sort_col, order = self.horizontalHeader().sortIndicatorSection(), \
            self.horizontalHeader().sortIndicatorOrder()
        self.setSortingEnabled(False)
        self.clearContents()
        self.setRowCount(len(self.rows))
        for r, t in enumerate(self.rows):
            label, why = self.canonical(t) if self.canonical else ("", "")
            vals = {"col.indicator": t.indicator, "col.canonical": label,
                    "col.year": "" if t.year is None else str(t.year), "col.comparator": t.comparator,
                    "col.value": format_value(t), "col.unit": t.unit, "col.scope": t.scope,
                    "col.line": str(t.line)}
            keys = {"col.year": t.year if t.year is not None else 10_000,
                    "col.value": float(t.value) if isinstance(t.value, (int, float)) else 0.0,
                    "col.line": int(t.line)}
            tip = t.surface if t.surface and t.surface != t.indicator else ""
            for col, key in enumerate(self.cols):
                item = _SortItem(vals[key])
                item.setData(ROLE_ROW, r)
                item.setData(ROLE_SORT, keys.get(key, vals[key]))
                if key == "col.value":
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if key == "col.canonical":
                    item.setToolTip(tooltip(why))
                elif key == "col.indicator":
                    item.setToolTip(tooltip("\n".join(p for p in (t.indicator, tip) if p)))
                else:
                    item.setToolTip(tooltip(t.surface))
                self.setItem(r, col, item)
        self.setSortingEnabled(True)
        if 0 <= sort_col < len(self.cols):
            self.sortItems(sort_col, order)

    def target_at(self, row: int):
        """The target shown in (sorted) table row ``row``."""
        item = self.item(row, 0)
        i = item.data(ROLE_ROW) if item is not None else None
        return self.rows[i] if i is not None and 0 <= i < len(self.rows) else None

    def _activated(self, row: int, _col: int) -> None:
        t = self.target_at(row)
        if t is not None:
            self.on_activate(t)


class FeaturePanel(QWidget):

    def __init__(self, state: AtlasState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.info = QTextBrowser()
        self.info.setOpenLinks(False)
        self.info.anchorClicked.connect(self._link)
        self.targets_label = QLabel()
        self.targets_label.setStyleSheet("font-weight: bold; padding: 2px;")
        self.targets = TargetsTable(lambda t: self.state.select_target(t.id), double_click=True,
                                    canonical=lambda t: canonical_of(self.state.atlas, t))
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
            (tr("feature.precision"), tr("feature.precision_value", m=f"{f.precision_m:g}") +
             ("" if f.referenced or f.status == "verified" else f" · {tr('feature.unverified')}")),
            (tr("feature.status"), tr(f"status.{f.status}") +
             (f" · {tr('schematic')}" if f.schematic else "")),
            (tr("feature.method"), tr(f"method.{f.method}") if f.method else "—"),
            (tr("feature.source"), f.source_label(language()) or "—"),
        ]
        if f.ref_crs and f.conversion and f.conversion != "none":
            rows.append((tr("feature.conversion"), tr("feature.converted", conv=f.conversion)))
        html = [f"<h3 style='margin:2px 0 6px 0'>{escape(f.name)}</h3>",
                "<table cellspacing='0' cellpadding='2'>"]
        for k, v in rows:
            html.append(f"<tr><td style='color:#666;padding-right:8px'>{escape(k)}</td>"
                        f"<td>{escape(str(v))}</td></tr>")
        if f.ref:
            html.append(f"<tr><td style='color:#666;padding-right:8px'>{escape(tr('feature.ref'))}</td>"
                        f"<td>{_ref_html(f.ref)}</td></tr>")
        html.append("</table>")
        note = f.note_label(language()) if hasattr(f, "note_label") else f.note
        if note:
            html.append(f"<p style='color:#555'>{escape(note)}</p>")
        html.append(f"<h4 style='margin:10px 0 4px 0'>{escape(tr('feature.clauses'))}</h4>")
        mentions = atlas.mentions(fid)
        clauses = atlas.clauses_of(fid)
        self.clause_ids = [c.id for c in clauses]
        if not clauses:
            html.append(f"<p style='color:#777'>{escape(tr('feature.no_clauses'))}</p>")
        for c in clauses:
            spans = [(m.start, m.end) for m in mentions if m.clause == c.id]
            head = clause_citation(atlas, c)
            html.append(
                f"<p style='margin:6px 0 2px 0'><a href='clause:{escape(c.id, quote=True)}' "
                f"style='font-weight:bold;text-decoration:none;color:#1f4e8c'>{escape(head)}</a></p>"
                f"<p style='margin:0 0 6px 10px;color:#222'>{highlight_mentions(c.text, spans)}</p>")
        self.info.setHtml("".join(html))
        self.targets.set_targets(atlas.targets_of(fid))

    def _plan_name(self, pid: str) -> str:
        return plan_name(self.state.atlas, pid)

    def _link(self, url: QUrl) -> None:
        s = url.toString()
        if s.startswith("clause:"):
            self.state.select_clause(s[len("clause:"):])
        elif url.scheme() in ("http", "https"):
            open_reference(url)


def open_reference(url: QUrl) -> bool:
    """Open a reference URL in the user's browser — only when the user clicks it; the app itself
    never fetches it."""
    from PySide6.QtGui import QDesktopServices
    return QDesktopServices.openUrl(url)


def _ref_html(ref: str) -> str:
    """The reference as text, its URL (if it has one) as a clickable link."""
    import re
    m = re.match(r"(https?://\S+)(.*)$", ref)
    if not m:
        return escape(ref)
    url, rest = m.group(1), m.group(2)
    return (f"<a href='{escape(url, quote=True)}' style='color:#1f4e8c'>{escape(url)}</a>"
            f"{escape(rest)}")

