"""*File › Import plan…* (and a plan file dropped on the window): preview, correct, import.

``ImportDialog(window, path)`` analyses the file in a worker thread
(:func:`planatlas.layers.importer.preview_plan`, with progress and cancel) and shows what
PlanAtlas made of it: the detected kind and encoding, title, issuer, issue date, the period with
its evidence (asked for only when the text says nothing), the region (ranked guesses from the
administrative names in the text), the clause tree, the targets and every place found with how
it would be located. The user corrects what was guessed; *Import* stores the plan through the
window's store (:func:`planatlas.layers.catalog.import_plan`, one undoable operation) in the
worker and emits ``imported(plan)`` — the window then adds it to the atlas, live.

Bad input (empty, binary, a scanned PDF, an old .doc, a file over 20 MB) is refused with the
reason in the dialog and nothing is written.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox, QDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar,
    QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QTabWidget, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import category_label, tr
from planatlas.layers.errors import Cancelled, PlanAtlasError
from planatlas.layers.model import Region

__all__ = ["ImportDialog", "Worker", "suggest_plan_id", "location_text", "unit_name", "refusal_text",
           "why_text"]

NO_YEAR = 1899                   # the period spin boxes' "not given" value


class Worker(QObject):
    """Runs ``fn(progress=, cancel=)`` in a QThread; reports progress, result or reason."""
    progress = Signal(int, str)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, fn: Callable[..., Any]):
        super().__init__()
        self.fn = fn
        self.cancel_event = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn(progress=lambda f, stage: self.progress.emit(int(round(f * 100)), stage),
                             cancel=self.cancel_event.is_set)
        except Cancelled:
            self.cancelled.emit()
        except PlanAtlasError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bad file must never take the app down
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit(result)


def suggest_plan_id(path: Path, taken: set[str]) -> str:
    """A free plan id from the file name (ASCII letters and digits), else ``plan-N``."""
    from planatlas.layers.ids import WINDOWS_RESERVED

    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    stem = re.sub(r"^[^a-z]+", "", stem)[:24].rstrip("-")
    base = stem if len(stem) >= 2 and stem not in WINDOWS_RESERVED else "plan"
    if base not in taken and base != "plan":
        return base
    n = 2 if base != "plan" else 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def unit_name(adcode: str) -> str:
    """The name of an administrative unit (its adcode if unknown)."""
    from planatlas.layers import admin

    units = admin.by_adcode().get(str(adcode)) or []
    return units[0].name if units else str(adcode)


def location_text(loc) -> str:
    """How a found place would be located, for a table cell."""
    if loc.status == "gazetteer":
        return tr("import.loc_gazetteer", ref=loc.ref, m=f"{loc.precision_m:g}")
    if loc.status == "admin":
        km = (loc.precision_m or 0) / 1000
        return tr("import.loc_admin", ref=unit_name(loc.ref), km=f"{km:.0f}")
    return tr("import.loc_none")


_WHY = ((re.compile(r"^enumeration before (.+) \(heading\)$"), "why.enum_heading"),
        (re.compile(r"^enumeration before (.+)$"), "why.enum"),
        (re.compile(r"^suffix (.+)$"), "why.suffix"),
        (re.compile(r"^quoted name$"), "why.quoted"),
        (re.compile(r"^segmenter ns \((.+)\)$"), "why.segmenter"))


def why_text(why: str) -> str:
    """The recogniser's evidence ("enumeration before 五大商圈") in the UI language."""
    for pattern, key in _WHY:
        m = pattern.match(why)
        if m:
            return tr(key, x=m.group(1) if m.groups() else "")
    return why


# why a file was refused (layers.importer / layers.text write English): pattern -> i18n key
_REFUSALS = [(re.compile(p), k) for p, k in (
    (r"^the file is empty$", "refuse.empty"),
    (r"^cannot decode as UTF-8 \(line (?P<line>\d+), byte offset (?P<off>\d+)\); (?P<rest>.*)$", "refuse.utf8"),
    (r"^binary data \(NUL byte at offset (?P<off>\d+)\), not a text file$", "refuse.binary"),
    (r"^decoded as (?P<enc>\S+) it does not look like Chinese text$", "refuse.not_chinese"),
    (r"^(?P<mb>[\d.]+) MB is more than a plan text can be \((?P<max>\d+) MB at most\); is this the right file\?$",
     "refuse.too_big"),
    (r"^a scanned PDF — (?P<p>\d+) page\(s\) but only (?P<c>\d+) characters of text; .*$", "refuse.scanned"),
    (r"^an old Word \.doc \(or other OLE\) file; .*$", "refuse.doc"),
    (r"^an image, not a plan text; .*$", "refuse.image"),
    (r"^the PDF is encrypted; .*$", "refuse.encrypted"),
    (r"^a ZIP archive, not a Word \.docx or plan text$", "refuse.zip"),
    (r"^a damaged ZIP/\.docx file$", "refuse.damaged_zip"),
    (r"^the Word file has no text$", "refuse.empty_docx"),
    (r"^no such file$", "refuse.missing"),
    (r"^is a folder, not a plan file$", "refuse.folder"),
)]


def refusal_text(message: str) -> str:
    """A refusal from the readers in the UI language ("f.txt: the file is empty" →
    "f.txt：文件为空"); a message no pattern knows is shown as written."""
    name, sep, why = message.partition(": ")
    if not sep:
        name, why = "", message
    for pattern, key in _REFUSALS:
        m = pattern.match(why)
        if m:
            groups = m.groupdict()
            if "rest" in groups:
                groups["rest"] = refusal_text(groups["rest"])
            text = tr(key, **groups)
            return f"{name}{tr('refuse.sep')}{text}" if name else text
    return message


def _item(text: Any, tip: str | None = None) -> QTableWidgetItem:
    it = QTableWidgetItem("" if text is None else str(text))
    it.setFlags(it.flags() & ~Qt.ItemIsEditable)
    if tip:
        it.setToolTip(tip)
    return it


class ImportDialog(QDialog):
    imported = Signal(object)                # the stored Plan
    previewFinished = Signal(str)            # "done" | "failed" | "cancelled"

    def __init__(self, window, path: str | Path, parent: QWidget | None = None):
        super().__init__(parent if parent is not None else window)
        self.win = window
        self.path = Path(path)
        self.preview = None
        self.error = ""
        self._thread: QThread | None = None
        self._worker: Worker | None = None
        self._task = ""
        self._on_done: Callable[[Any], None] = lambda _v: None
        self._region_used: Region | None = None
        self.setWindowTitle(tr("import.title", name=self.path.name))
        self._build()
        self.resize(980, 760)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.file_label = QLabel(str(self.path))
        self.file_label.setTextFormat(Qt.PlainText)
        self.kind_label = QLabel("")
        self.kind_label.setTextFormat(Qt.PlainText)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.stage_label = QLabel("")
        self.cancel_button = QPushButton(tr("import.stop"))
        self.cancel_button.clicked.connect(self.cancel_work)
        self.error_label = QLabel("")
        self.error_label.setTextFormat(Qt.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color:#b3261e; font-weight:bold")
        self.error_label.hide()
        run = QHBoxLayout()
        run.addWidget(self.progress, 1)
        run.addWidget(self.stage_label)
        run.addWidget(self.cancel_button)

        self.id_edit = QLineEdit()
        self.title_edit = QLineEdit()
        self.issuer_edit = QLineEdit()
        self.issued_edit = QLineEdit()
        self.issued_edit.setPlaceholderText("2024-01-12")
        self.start_spin, self.end_spin = QSpinBox(), QSpinBox()
        for sp in (self.start_spin, self.end_spin):
            sp.setRange(NO_YEAR, 2100)
            sp.setSpecialValueText("—")
            sp.setValue(NO_YEAR)
        self.period_note = QLabel("")
        self.period_note.setTextFormat(Qt.PlainText)
        self.period_note.setWordWrap(True)
        period = QHBoxLayout()
        period.addWidget(self.start_spin)
        period.addWidget(QLabel("–"))
        period.addWidget(self.end_spin)
        period.addWidget(self.period_note, 1)
        self.region_box = QComboBox()
        self.region_box.currentIndexChanged.connect(self._region_chosen)
        self.province_edit, self.city_edit, self.county_edit = QLineEdit(), QLineEdit(), QLineEdit()
        for e in (self.province_edit, self.city_edit, self.county_edit):
            e.textEdited.connect(self._region_edited)
        self.adcode = ""
        self.relocate_button = QPushButton(tr("import.relocate"))
        self.relocate_button.clicked.connect(self.relocate)
        self.relocate_button.setEnabled(False)
        region = QHBoxLayout()
        region.addWidget(self.region_box, 2)
        for lab, e in ((tr("import.province"), self.province_edit), (tr("import.city"), self.city_edit),
                       (tr("import.county"), self.county_edit)):
            region.addWidget(QLabel(lab))
            region.addWidget(e, 1)
        region.addWidget(self.relocate_button)
        form = QFormLayout()
        form.addRow(tr("import.id"), self.id_edit)
        form.addRow(tr("import.plan_title"), self.title_edit)
        form.addRow(tr("import.issuer"), self.issuer_edit)
        form.addRow(tr("import.issued"), self.issued_edit)
        form.addRow(tr("import.period"), period)
        form.addRow(tr("import.region"), region)
        self.form_box = QWidget()
        self.form_box.setLayout(form)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([tr("import.clause"), tr("import.text")])
        self.targets = QTableWidget(0, 6)
        self.targets.setHorizontalHeaderLabels([tr("col.indicator"), tr("col.year"), tr("col.comparator"),
                                                tr("col.value"), tr("col.unit"), tr("col.line")])
        self.places = QTableWidget(0, 7)
        self.places.setHorizontalHeaderLabels([tr("sites.name"), tr("sites.categories"), tr("import.confidence"),
                                               tr("import.located"), tr("col.clause"), tr("col.line"),
                                               tr("import.why")])
        for t in (self.targets, self.places):
            t.verticalHeader().setVisible(False)
            t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
            t.horizontalHeader().setStretchLastSection(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.places, tr("import.places"))
        self.tabs.addTab(self.tree, tr("import.clauses"))
        self.tabs.addTab(self.targets, tr("import.targets"))

        self.import_button = QPushButton(tr("import.do"))
        self.import_button.setDefault(True)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.do_import)
        close = QPushButton(tr("import.close"))
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.import_button)

        lay = QVBoxLayout(self)
        lay.addWidget(self.file_label)
        lay.addWidget(self.kind_label)
        lay.addLayout(run)
        lay.addWidget(self.error_label)
        lay.addWidget(self.form_box)
        lay.addWidget(self.tabs, 1)
        lay.addLayout(buttons)
        self.form_box.setEnabled(False)

    # ------------------------------------------------------------------ work in a thread
    @property
    def busy(self) -> bool:
        return self._thread is not None

    def _start(self, task: str, fn: Callable[..., Any], done: Callable[[Any], None]) -> None:
        self._task, self._on_done = task, done
        self._worker = Worker(fn)
        self._thread = QThread(self)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        # bound methods of the dialog: queued into the GUI thread
        self._worker.progress.connect(self._progress)
        self._worker.done.connect(self._worker_done)
        self._worker.failed.connect(self._worker_failed)
        self._worker.cancelled.connect(self._worker_cancelled)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.setEnabled(True)
        self.import_button.setEnabled(False)
        self.relocate_button.setEnabled(False)
        self._thread.start()

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread.deleteLater()
            self._thread = None
        if self._worker is not None:
            self._worker.deleteLater()
            self._worker = None
        self.cancel_button.setEnabled(False)

    def _progress(self, pct: int, stage: str) -> None:
        self.progress.setValue(pct)
        self.stage_label.setText(tr(f"import.stage.{stage}"))

    def _worker_done(self, result: Any) -> None:
        self._finish("done", result)

    def _worker_failed(self, message: str) -> None:
        self._finish("failed", message)

    def _worker_cancelled(self) -> None:
        self._finish("cancelled", None)

    def _finish(self, outcome: str, value: Any) -> None:
        task, done = self._task, self._on_done
        self._stop_thread()
        if outcome == "done":
            done(value)
        elif outcome == "failed":
            self.show_error(value)
        else:
            self.stage_label.setText(tr("import.cancelled"))
        if task == "preview":
            self.previewFinished.emit(outcome)
        self._update_buttons()

    def cancel_work(self) -> None:
        if self._worker is not None:
            self._worker.cancel_event.set()
            self.stage_label.setText(tr("import.stopping"))

    def show_error(self, message: str) -> None:
        self.error = message
        self.error_label.setText(tr("import.refused", why=refusal_text(message)))
        self.error_label.show()

    def _update_buttons(self) -> None:
        ok = self.preview is not None and not self.busy
        self.form_box.setEnabled(ok)
        self.import_button.setEnabled(ok)
        self.relocate_button.setEnabled(ok and self._region() != self._region_used)

    # ------------------------------------------------------------------ preview
    def start_preview(self, region: Region | None = None) -> None:
        """Analyse the file (again, with ``region`` if given) in the worker."""
        from planatlas.layers.importer import preview_plan

        features = list(self.win.atlas.features.values())
        path, name = self.path, self.path.name
        self.error_label.hide()

        def run(progress, cancel):
            return preview_plan(path, name=name, region=region, features=features,
                                progress=progress, cancel=cancel)
        self._start("preview", run, self._show_preview)

    def _show_preview(self, pv) -> None:
        first = self.preview is None
        self.preview = pv
        self._region_used = pv.region
        kind = tr(f"import.kind.{pv.kind}", enc=pv.encoding)
        self.kind_label.setText(tr("import.found", kind=kind, c=len(pv.clauses), t=len(pv.targets),
                                   p=len(pv.places)))
        if first:
            taken = set(self.win.atlas.plans)
            self.id_edit.setText(suggest_plan_id(self.path, taken))
            self.title_edit.setText(pv.title)
            self.issuer_edit.setText(pv.issuer)
            self.issued_edit.setText(pv.issued)
            if pv.period is not None:
                self.start_spin.setValue(pv.period.start)
                self.end_spin.setValue(pv.period.end)
            self.period_note.setText(self._period_text(pv))
            self.region_box.blockSignals(True)
            self.region_box.clear()
            for g in pv.regions[:8]:
                label = "".join(x for x in (g["province"], g["city"], g["county"]) if x) or g["adcode"]
                self.region_box.addItem(tr("import.region_guess", name=label, ev="、".join(g["evidence"][:3])), g)
            self.region_box.addItem(tr("import.region_other"), None)
            self.region_box.blockSignals(False)
            self._set_region(pv.region)
            self._fill_tree(pv)
            self._fill_targets(pv)
        self._fill_places(pv)

    @staticmethod
    def _period_text(pv) -> str:
        g = pv.period
        if g is None:
            return tr("import.period_missing")
        if g.end_min is not None and g.end_min != g.end:
            return tr("import.period_range", ev=g.evidence, a=g.end_min, b=g.end)
        return tr("import.period_found", ev=g.evidence)

    def _set_region(self, r: Region) -> None:
        self.province_edit.setText(r.province)
        self.city_edit.setText(r.city)
        self.county_edit.setText(r.district)
        self.adcode = r.adcode

    def _region(self) -> Region:
        return Region(self.province_edit.text().strip(), self.city_edit.text().strip(),
                      self.county_edit.text().strip(), self.adcode)

    def _region_chosen(self, _i: int) -> None:
        g = self.region_box.currentData()
        if g:
            self._set_region(Region(g["province"], g["city"], g["county"], g["adcode"]))
        self._update_buttons()

    def _region_edited(self, _t: str) -> None:
        self.adcode = ""                     # typed by hand: located by the names
        self.region_box.blockSignals(True)
        self.region_box.setCurrentIndex(self.region_box.count() - 1)
        self.region_box.blockSignals(False)
        self._update_buttons()

    def relocate(self) -> None:
        """Analyse again with the region as corrected (places are located inside it)."""
        self.start_preview(self._region())

    def _fill_tree(self, pv) -> None:
        self.tree.clear()
        items: dict[str, QTreeWidgetItem] = {}
        for c in pv.clauses:
            it = QTreeWidgetItem([f"{c.number} {c.heading}".strip(), c.text[:80].replace("\n", " ")])
            it.setToolTip(1, c.text[:400])
            parent = items.get(c.parent) if c.parent else None
            (parent.addChild(it) if parent is not None else self.tree.addTopLevelItem(it))
            items[c.id] = it
        self.tree.expandToDepth(0)
        self.tabs.setTabText(1, f"{tr('import.clauses')} ({len(pv.clauses)})")

    def _fill_targets(self, pv) -> None:
        rows = [t for t in pv.targets if t.kind == "target"]
        self.targets.setRowCount(len(rows))
        for r, t in enumerate(rows):
            value = f"{t.value:g}" + (f"–{t.upper:g}" if t.upper is not None else "")
            for col, v in enumerate((t.indicator, t.year or "", t.comparator, value, t.unit, t.line)):
                self.targets.setItem(r, col, _item(v, t.surface))
        self.tabs.setTabText(2, f"{tr('import.targets')} ({len(rows)})")

    def _fill_places(self, pv) -> None:
        clauses = {c.id: c for c in pv.clauses}
        self.places.setRowCount(len(pv.places))
        for r, fp in enumerate(pv.places):
            m, loc = fp.mention, fp.location
            c = clauses.get(m.clause)
            cells = (m.name, category_label(m.category, short=True), f"{m.confidence:.2f}",
                     location_text(loc), c.number if c else m.clause, m.line, why_text(m.why))
            for col, v in enumerate(cells):
                self.places.setItem(r, col, _item(v, loc.note or None))
        located = sum(1 for fp in pv.places if fp.location.status != "unlocated")
        self.tabs.setTabText(0, tr("import.places_n", n=len(pv.places), k=located))

    # ------------------------------------------------------------------ import
    def values(self) -> dict[str, Any]:
        """The corrected metadata as keyword arguments of ``catalog.import_plan``."""
        r = self._region()
        start, end = self.start_spin.value(), self.end_spin.value()
        return {"plan_id": self.id_edit.text().strip(), "title": self.title_edit.text().strip() or None,
                "issuer": self.issuer_edit.text().strip(), "issued": self.issued_edit.text().strip(),
                "period": None if NO_YEAR in (start, end) else (start, end),
                "province": r.province, "city": r.city, "district": r.district, "adcode": r.adcode}

    def check(self) -> str:
        """Why the import cannot go ahead as filled in ("" if it can)."""
        from planatlas.layers.ids import check_plan_id

        v = self.values()
        if self.preview is None:
            return self.error or tr("import.not_ready")
        try:
            check_plan_id(v["plan_id"])
        except PlanAtlasError:
            return tr("import.bad_id", id=v["plan_id"])
        if v["plan_id"] in self.win.atlas.plans:
            return tr("import.id_taken", id=v["plan_id"])
        if v["period"] is None:
            return tr("import.need_period")
        if v["period"][0] > v["period"][1]:
            return tr("import.bad_period", a=v["period"][0], b=v["period"][1])
        return ""

    def do_import(self) -> bool:
        """Store the plan (in the worker); False with the reason shown if it cannot start."""
        from planatlas.layers.catalog import import_plan

        why = self.check()
        if why:
            self.show_error(why)
            return False
        self.error_label.hide()
        v = self.values()
        store = self.win.store_link.store
        path = self.path

        def run(progress, cancel):
            progress(0.1, "store")
            if cancel():
                raise Cancelled("import cancelled before anything was written")
            pid = v.pop("plan_id")
            plan = import_plan(path, pid, store=store, **v)
            progress(1.0, "store")
            return plan
        self._start("import", run, self._imported)
        return True

    def _imported(self, plan) -> None:
        self.imported.emit(plan)
        self.accept()

    def done(self, result: int) -> None:           # accept()/reject() end here
        if self._worker is not None:
            self._worker.cancel_event.set()
        self._stop_thread()
        super().done(result)
