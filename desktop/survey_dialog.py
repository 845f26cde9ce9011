"""Import-survey dialog: check a field survey against the atlas and accept the results.

``SurveyDialog(atlas, parent)``: pick a file (CSV/XLSX/GPX/KML), the coordinate system (auto or
manual), the tolerance and the plans; the check (:func:`planatlas.layers.survey.check_survey`) runs in a
worker thread with progress and cancel; rows are shown coloured by status; *Accept selected*
writes confirmed/moved rows into the user store (:mod:`layers.store`, undoable with
``planatlas undo-accept``) and emits ``accepted_features(list[str])``; *Export report* saves
CSV/XLSX. ``report_ready(report)`` is emitted after each check so the main window can show
:func:`planatlas.layers.survey.report_layer` on the map.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QObject, QSortFilterProxyModel, Qt,
                            QThread, Signal, Slot)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QListWidget, QListWidgetItem, QProgressBar, QPushButton, QVBoxLayout,
    QWidget,
)

from planatlas.layers.survey import STATUS_COLORS, CheckCancelled, SurveyReport, check_survey, write_report
from planatlas.layers.survey import SUPPORTED_SUFFIXES, SurveyFormatError

from planatlas.desktop.i18n import STRINGS, crs_label, language, plan_name, tr
from planatlas.desktop.site_table import sorted_table
from planatlas.desktop.survey_text import survey_message
from planatlas.layers.errors import PlanAtlasError

from .plaintext import tooltip, warn

__all__ = ["SurveyDialog", "ReportModel"]

CRS_CHOICES = ("auto", "wgs84", "gcj02", "bd09", "cgcs2000")


def _status_label(status: str) -> str:
    return tr(f"survey.{status}") if status in ("confirmed", "moved", "unmatched", "invalid") \
        else status


class ReportModel(QAbstractTableModel):
    """Rows of a :class:`SurveyReport`: row, name, feature, status, distance, message."""

    HEADERS = ("sv.col_row", "sv.col_name", "sv.col_feature", "sv.col_status", "sv.col_distance",
               "sv.col_message")

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.report: SurveyReport | None = None

    def set_report(self, report: SurveyReport | None) -> None:
        self.beginResetModel()
        self.report = report
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() or self.report is None else len(self.report.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return tr(self.HEADERS[section])
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid() or self.report is None:
            return None
        r = self.report.rows[index.row()]
        col = index.column()
        if role == Qt.ToolTipRole:           # escaped: survey names and messages are data
            shown = f"{r.where}: {survey_message(r.message, language())}" if col == 5 \
                else self.data(index, Qt.DisplayRole)
            return tooltip(shown) if shown not in (None, "") else None
        if role == Qt.DisplayRole:
            if col == 0:
                return r.row
            if col == 1:
                return r.name or r.fid or ""
            if col == 2:
                if not r.feature:
                    return ""
                f = self.report.features.get(r.feature)
                return f.name if f else r.feature
            if col == 3:
                return _status_label(r.status)
            if col == 4:
                return None if r.distance_m is None else round(r.distance_m)
            if col == 5:
                return survey_message(r.message, language())
        if role == Qt.BackgroundRole:
            c = QColor(STATUS_COLORS.get(r.status, "#999999"))
            c.setAlpha(255 if col == 3 else 40)
            return c
        if role == Qt.ForegroundRole and col == 3:
            return QColor("#ffffff")
        if role == Qt.UserRole:
            return r.status
        if role == Qt.TextAlignmentRole and col in (0, 4):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def row_result(self, row: int):
        return self.report.rows[row] if self.report is not None else None


class _CheckWorker(QObject):
    progress = Signal(int, str)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, path: str, features, others, crs: str, tolerance: float, plans):
        super().__init__()
        self.path, self.features, self.others = path, features, others
        self.crs, self.tolerance, self.plans = crs, tolerance, plans
        self.cancel_event = threading.Event()

    @Slot()
    def run(self) -> None:
        def progress(frac: float, text: str) -> None:
            self.progress.emit(int(round(frac * 100)), text)

        try:
            report = check_survey(self.path, self.features, crs=self.crs, tolerance_m=self.tolerance,
                                  plans=self.plans, other_features=self.others, progress=progress,
                                  cancel=self.cancel_event.is_set)
        except CheckCancelled:
            self.cancelled.emit()
        except (SurveyFormatError, ValueError, OSError) as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bad file must never take the app down
            self.failed.emit(f"unexpected error while checking {self.path}: {exc!r}")
        else:
            self.done.emit(report)


class SurveyDialog(QDialog):
    """Import a field survey, check it, accept rows into the user gazetteer."""

    accepted_features = Signal(list)      # feature ids whose verified position was saved
    report_ready = Signal(object)         # SurveyReport after each successful check
    check_finished = Signal(str)          # "done" | "failed" | "cancelled"

    def __init__(self, atlas: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.atlas = atlas
        self.report: SurveyReport | None = None
        self._thread: QThread | None = None
        self._worker: _CheckWorker | None = None
        self.setWindowTitle(tr("sv.title"))
        self.resize(1000, 640)

        self.file_edit = QLineEdit()
        self.file_edit.setPlaceholderText("CSV / XLSX / GPX / KML …")
        browse = QPushButton(tr("sv.browse"))
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(browse)

        self.crs_combo = QComboBox()
        for key in CRS_CHOICES:
            self.crs_combo.addItem(tr("sv.auto") if key == "auto" else crs_label(key), key)
        self.tolerance = QDoubleSpinBox()
        self.tolerance.setRange(1.0, 50_000.0)
        self.tolerance.setDecimals(0)
        self.tolerance.setSingleStep(50.0)
        self.tolerance.setValue(200.0)
        self.tolerance.setSuffix(tr("sv.meters"))
        self.plan_list = QListWidget()
        self.plan_list.setMaximumHeight(90)
        for pid, plan in getattr(atlas, "plans", {}).items():
            item = QListWidgetItem(f"{plan_name(atlas, pid)} · {plan.title}")
            item.setData(Qt.UserRole, pid)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Unchecked)
            self.plan_list.addItem(item)
        self.plan_list.setToolTip(tr("sv.plans_tip"))

        form = QFormLayout()
        form.addRow(tr("sv.file"), file_row)
        form.addRow(tr("sv.crs"), self.crs_combo)
        form.addRow(tr("sv.tolerance"), self.tolerance)
        form.addRow(tr("sv.plans"), self.plan_list)

        self.check_button = QPushButton(tr("sv.check"))
        self.check_button.setDefault(True)
        self.check_button.clicked.connect(self.start_check)
        self.cancel_button = QPushButton(tr("sv.cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_check)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        run_row = QHBoxLayout()
        run_row.addWidget(self.check_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)

        self.summary = QLabel(tr("sv.pick"))
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.PlainText)      # names and messages are never HTML

        self.model = ReportModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = sorted_table(self.proxy)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

        self.accept_button = QPushButton(tr("sv.accept"))
        self.accept_button.setEnabled(False)
        self.accept_button.clicked.connect(self.accept_selected)
        self.export_button = QPushButton(tr("sv.export"))
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(lambda: self.export_report())
        close = QPushButton(tr("sv.close"))
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(run_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    # ------------------------------------------------------------------ inputs
    def _browse(self) -> None:
        pattern = " ".join(f"*{s}" for s in SUPPORTED_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(
            self, tr("sv.file_dialog"), self.file_edit.text(),
            f"{tr('sv.file_filter')} ({pattern});;{tr('sv.all_files')} (*)")
        if path:
            self.file_edit.setText(path)

    def set_file(self, path: str | Path) -> None:
        self.file_edit.setText(str(path))

    def selected_plans(self) -> list[str] | None:
        out = []
        for i in range(self.plan_list.count()):
            item = self.plan_list.item(i)
            if item.checkState() == Qt.Checked:
                out.append(item.data(Qt.UserRole))
        return out or None

    def set_crs(self, key: str) -> None:
        i = self.crs_combo.findData(key)
        if i < 0:
            raise ValueError(f"unknown CRS {key!r}")
        self.crs_combo.setCurrentIndex(i)

    # ------------------------------------------------------------------ checking
    def is_running(self) -> bool:
        return self._thread is not None

    def start_check(self) -> bool:
        """Start checking the chosen file in a worker thread; False if it cannot start."""
        if self.is_running():
            return False
        path = self.file_edit.text().strip()
        if not path:
            self._show_error(tr("sv.choose_file"))
            return False
        plans = self.selected_plans()
        features = self.atlas.features_for(plans=plans)
        others = list(self.atlas.features.values()) if plans else []
        self._worker = _CheckWorker(path, features, others, self.crs_combo.currentData(),
                                    float(self.tolerance.value()), plans)
        self._thread = QThread(self)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self.check_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.accept_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.summary.setText(tr("sv.checking", name=Path(path).name))
        self._thread.start()
        return True

    def cancel_check(self) -> None:
        if self._worker is not None:
            self._worker.cancel_event.set()
            self.summary.setText(tr("sv.cancelling"))

    def _finish_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread.deleteLater()
        if self._worker is not None:
            self._worker.deleteLater()
        self._thread = None
        self._worker = None
        self.check_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 100)

    @Slot(int, str)
    def _on_progress(self, percent: int, text: str) -> None:
        if percent <= 0:
            self.progress.setRange(0, 0)          # still reading: size unknown
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(percent)
        self.progress.setFormat(f"%p% · {survey_message(text, language())}")

    @Slot(object)
    def _on_done(self, report: SurveyReport) -> None:
        self._finish_thread()
        self.progress.setValue(100)
        self.report = report
        self.model.set_report(report)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.Stretch)
        self.summary.setText(self.summary_text(report))
        self.export_button.setEnabled(True)
        self._update_buttons()
        self.report_ready.emit(report)
        self.check_finished.emit("done")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._finish_thread()
        self.progress.setValue(0)
        self.summary.setText(tr("sv.failed", msg=survey_message(message, language())))
        self.check_finished.emit("failed")

    @Slot()
    def _on_cancelled(self) -> None:
        self._finish_thread()
        self.progress.setValue(0)
        self.summary.setText(tr("sv.cancelled"))
        self.check_finished.emit("cancelled")

    @staticmethod
    def summary_text(report: SurveyReport) -> str:
        c = report.counts
        crs = report.crs
        conf = "" if crs.confidence is None else f", {crs.confidence:.0%}"
        status = tr(f"sv.crs_{crs.status}") if f"sv.crs_{crs.status}" in STRINGS else crs.status
        lines = [tr("sv.summary", name=Path(report.source).name, rows=len(report.rows),
                    **{k: c[k] for k in ("confirmed", "moved", "unmatched", "invalid",
                                         "not_surveyed")}),
                 tr("sv.summary_crs", crs=crs_label(crs.chosen), status=status, conf=conf)]
        lines += [survey_message(m, language()) for m in report.messages]
        return "\n".join(lines)

    # ------------------------------------------------------------------ results
    def selected_rows(self) -> list[int]:
        """1-based survey row numbers of the selected table rows."""
        rows = []
        for idx in self.table.selectionModel().selectedRows():
            r = self.model.row_result(self.proxy.mapToSource(idx).row())
            if r is not None:
                rows.append(r.row)
        return sorted(rows)

    def _update_buttons(self, *args) -> None:
        ok = False
        if self.report is not None and not self.is_running():
            by_row = {r.row: r for r in self.report.rows}
            ok = any(by_row[n].status in ("confirmed", "moved") for n in self.selected_rows())
        self.accept_button.setEnabled(ok)

    def accept_selected(self) -> dict | None:
        """Accept the selected confirmed/moved rows into the user store; returns the result."""
        from planatlas.layers.errors import PlanAtlasError
        from planatlas.layers.store import ConflictError, current_store

        if self.report is None:
            return None
        rows = self.selected_rows()
        if not rows:
            return None
        try:
            result = current_store().accept(self.report, rows=rows,
                                            base_versions=getattr(self.atlas, "versions", None))
        except ConflictError as exc:
            lines = [c.describe() for c in exc.conflicts[:8]]
            self._show_error("其他人已修改同一地点，未保存 / Someone changed the same place since; "
                             "nothing was saved:\n" + "\n".join(lines))
            return None
        except (PlanAtlasError, ValueError, OSError) as exc:
            self._show_error(str(exc))
            return None
        ids = [a["feature"] for a in result["accepted"]]
        skipped = len(result["skipped"])
        self.summary.setText(self.summary_text(self.report) + "\n" + tr("sv.accepted", n=len(ids))
                             + (tr("sv.skipped", n=skipped) if skipped else "") + tr("sv.undo"))
        self.accepted_features.emit(ids)
        return result

    def export_report(self, path: str | Path | None = None) -> Path | None:
        if self.report is None:
            return None
        if path is None:
            default = str(Path(self.report.source).with_name(Path(self.report.source).stem + "-report.xlsx"))
            path, _ = QFileDialog.getSaveFileName(self, tr("sv.export_title"), default,
                                                  "Excel (*.xlsx);;CSV (*.csv)")
            if not path:
                return None
        try:
            return write_report(self.report, path)
        except (PlanAtlasError, ValueError, OSError) as exc:
            self._show_error(tr("sv.cannot_write", msg=exc))
            return None

    def _show_error(self, text: str) -> None:
        self.summary.setText(text)
        if self.isVisible():
            warn(self, "PlanAtlas", text)          # plain text: names and paths are data

    # ------------------------------------------------------------------ closing
    def done(self, result: int) -> None:  # accept()/reject() end here
        if self._worker is not None:
            self._worker.cancel_event.set()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(10_000)
        super().done(result)
