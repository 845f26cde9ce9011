"""Search box (places, aliases, clause text; Chinese input) -> results -> frame/select."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from planatlas.desktop.i18n import tr
from planatlas.desktop.state import AtlasState

__all__ = ["SearchPanel"]

ROLE_HIT = Qt.UserRole + 1


class SearchPanel(QWidget):
    def __init__(self, state: AtlasState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.edit = QLineEdit()
        self.edit.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.setAlternatingRowColors(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.edit)
        lay.addWidget(self.results)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.run)
        self.edit.textChanged.connect(lambda _t: self._timer.start(250))
        self.edit.returnPressed.connect(self._enter)
        self.results.itemActivated.connect(self.activate)
        self.results.itemClicked.connect(self.activate)
        self.hits: list[dict] = []
        self.retranslate()

    def retranslate(self) -> None:
        self.edit.setPlaceholderText(tr("search.placeholder"))

    def run(self, text: str | None = None) -> list[dict]:
        self._timer.stop()
        text = self.edit.text() if text is None else text
        self.results.clear()
        self.hits = self.state.atlas.search(text) if text.strip() else []
        for hit in self.hits:
            kind = tr("search.feature") if hit.get("type") == "feature" else tr("search.clause")
            plan = hit.get("plan") or ""
            line = f"[{kind}] {hit.get('label', '')}"
            if plan:
                line += f"  · {plan}"
            snippet = (hit.get("snippet") or "").replace("\n", " ").strip()
            if snippet:
                line += f"\n{snippet[:80]}"
            it = QListWidgetItem(line)
            it.setData(ROLE_HIT, hit)
            self.results.addItem(it)
        if text.strip() and not self.hits:
            it = QListWidgetItem(tr("search.none"))
            it.setFlags(Qt.NoItemFlags)
            self.results.addItem(it)
        return self.hits

    def _enter(self) -> None:
        self.run()
        if self.hits:
            self.results.setCurrentRow(0)
            self.activate(self.results.item(0))

    def activate(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        hit = item.data(ROLE_HIT)
        if not hit:
            return
        if hit.get("type") == "feature":
            self.state.select_features([hit["id"]], current=hit["id"], frame=True)
        elif hit.get("type") == "clause":
            self.state.select_clause(hit["id"])
