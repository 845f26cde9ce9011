"""*File › Team store…* and the edit-conflict dialog.

``StoreDialog`` chooses the store: a PostGIS server (``postgresql://user@host/db`` or
``service=NAME``) or the embedded GeoPackage. *Test connection* runs in a thread (the window
never freezes) and reports who is connected, the schema and the role — or one clear reason:
unreachable host, wrong password, no permission, no PlanAtlas schema. The password field is
used for the test only: it is never written to the settings or shown; the user may save it in
libpq's own password file (``~/.pgpass``, mode 0600), from where every later connection reads it.

``ConflictDialog`` shows both values of an edit that met a newer change (who, when, where, which
version) and lets the user keep theirs or use mine; ``choice`` is ``"mine"`` or ``"theirs"``.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import tr
from planatlas.layers.errors import InputError, PlanAtlasError

__all__ = ["StoreDialog", "ConflictDialog"]


def _plain(label: QLabel) -> QLabel:
    label.setTextFormat(Qt.PlainText)
    label.setWordWrap(True)
    return label


class StoreDialog(QDialog):
    tested = Signal(str)                     # the connection test's one-line result

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        from planatlas.layers.store.config import configured, sanitize

        self.setWindowTitle(tr("store.title"))
        url, origin = configured()
        self.current = _plain(QLabel(tr("store.current", what=f"{sanitize(url)} ({origin})")))
        self.url = QLineEdit(sanitize(url) if url else "")
        self.url.setPlaceholderText(tr("store.url_hint"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.save_pgpass = QCheckBox(tr("store.save_pgpass"))
        self.result = _plain(QLabel(""))
        self.test_button = QPushButton(tr("store.test"))
        self.use_button = QPushButton(tr("store.use"))
        self.embedded_button = QPushButton(tr("store.embedded"))
        self.test_button.clicked.connect(self.test_connection)
        self.use_button.clicked.connect(self.use_team)
        self.embedded_button.clicked.connect(self.use_embedded)
        self.tested.connect(self._show_result)
        form = QFormLayout()
        form.addRow(tr("store.url"), self.url)
        form.addRow(tr("store.password"), self.password)
        form.addRow("", self.save_pgpass)
        buttons = QHBoxLayout()
        for b in (self.test_button, self.use_button, self.embedded_button):
            buttons.addWidget(b)
        close = QDialogButtonBox(QDialogButtonBox.Close)
        close.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.current)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.result)
        lay.addWidget(close)
        self._thread: threading.Thread | None = None
        self.resize(640, 260)

    def _url(self) -> str:
        from planatlas.layers.store.config import parse_target

        url = self.url.text().strip()
        kind, _t = parse_target(url)
        if kind != "postgis":
            raise InputError(f"not a PostgreSQL URL: {url!r}")
        return url

    def test_connection(self) -> None:
        """Start the test in a thread; the result arrives through ``tested``."""
        from planatlas.layers.store.postgis import check_connection

        try:
            url = self._url()
        except PlanAtlasError as exc:
            self._show_result(str(exc))
            return
        password = self.password.text() or None
        self.result.setText(tr("store.testing"))
        self.test_button.setEnabled(False)

        def run() -> None:
            try:
                self.tested.emit(check_connection(url, password=password))
            except PlanAtlasError as exc:
                self.tested.emit(str(exc))
            except Exception as exc:  # noqa: BLE001 - never a traceback in the UI
                self.tested.emit(f"{type(exc).__name__}: {exc}")

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def _show_result(self, text: str) -> None:
        self.result.setText(text)
        self.test_button.setEnabled(True)

    def use_team(self) -> None:
        from planatlas.layers.store import config, reset

        try:
            url = self._url()
            if self.save_pgpass.isChecked() and self.password.text():
                config.add_pgpass(url, self.password.text())
            config.save_choice(url)
        except (PlanAtlasError, OSError) as exc:
            self._show_result(str(exc))
            return
        reset()
        self._switch(config.sanitize(url))

    def use_embedded(self) -> None:
        from planatlas.layers.store import config, reset

        config.save_choice(None)
        reset()
        self._switch(tr("store.embedded_name"))

    def _switch(self, what: str) -> None:
        """The window (if any) reloads its data from the store now chosen."""
        link = getattr(self.parent(), "store_link", None)
        if link is None:
            self.result.setText(tr("store.saved", what=what))
            return
        try:
            link.switch()
        except PlanAtlasError as exc:
            self.result.setText(tr("store.switch_failed", what=what, why=str(exc)))
            return
        self.result.setText(tr("store.switched", what=what))


def _describe(state) -> list[str]:
    if state is None:
        return ["—", "", ""]
    g = state.get("geometry")
    where = ""
    if g is not None:
        p = g if g.geom_type == "Point" else g.representative_point()
        where = f"{p.x:.6f}, {p.y:.6f}"
    return [str(state.get("name") or state.get("title") or ""), where, str(state.get("source") or "")]


class ConflictDialog(QDialog):
    """Both values of a conflicting edit; the user picks one."""

    def __init__(self, error, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(tr("conflict.title"))
        self.error = error
        self.choice = "theirs"
        c = error.conflicts[0] if error.conflicts else {"id": "?", "version": "?", "base_version": "?"}
        self.text = _plain(QLabel(tr("conflict.text", name=c.get("name") or c["id"], who=c.get("by") or "?",
                                     when=(c.get("at") or "?")[:19].replace("T", " "), v=c["version"],
                                     base=c["base_version"])))
        self.table = QTableWidget(3, 2)
        self.table.setHorizontalHeaderLabels([tr("conflict.mine"), tr("conflict.theirs")])
        self.table.setVerticalHeaderLabels(["name", "lon, lat (WGS-84)", "source"])
        for col, state in enumerate((c.get("mine"), c.get("theirs"))):
            for row, value in enumerate(_describe(state)):
                item = QTableWidgetItem(value)
                item.setFlags(item.flags() & ~Qt.ItemIsEditable)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.mine_button = QPushButton(tr("conflict.keep_mine"))
        self.theirs_button = QPushButton(tr("conflict.keep_theirs"))
        self.mine_button.clicked.connect(lambda: self._choose("mine"))
        self.theirs_button.clicked.connect(lambda: self._choose("theirs"))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.theirs_button)
        buttons.addWidget(self.mine_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(self.table)
        lay.addLayout(buttons)
        self.resize(620, 240)

    def _choose(self, which: str) -> None:
        self.choice = which
        self.accept()
