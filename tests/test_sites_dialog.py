"""The Import-survey dialog (pytest-qt, offscreen)."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
from dataclasses import dataclass, field

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from planatlas.layers import store
from planatlas.layers.model import Feature, Plan
from planatlas.layers.survey import STATUS_COLORS
from test_sites_data import point_features, survey_features, survey_points, write_csv


@dataclass
class _Atlas:
    """The part of the atlas API the dialog uses."""
    features: dict[str, Feature]
    plans: dict[str, Plan] = field(default_factory=dict)

    def features_for(self, plans=None, categories=None):
        return [f for f in self.features.values() if not plans or set(plans) & set(f.plans)]


@pytest.fixture()
def atlas(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    return _Atlas({f.id: f for f in survey_features()})


@pytest.fixture()
def dialog(qtbot, atlas):
    from planatlas.desktop.survey_dialog import SurveyDialog

    d = SurveyDialog(atlas)
    qtbot.addWidget(d)
    return d


def _survey(tmp_path, atlas):
    pts = point_features(list(atlas.features.values()))[:8]
    rows = [[f.name, x, y] for f, x, y in survey_points(pts, crs="gcj02", moved={pts[1].id: 900})]
    rows += [["不存在的地点", 113.1, 23.1], [pts[2].name, "bad", "23"]]
    return pts, write_csv(tmp_path / "survey.csv", ["名称", "经度", "纬度"], rows)


def _select(dialog, statuses):
    sel = dialog.table.selectionModel()
    sel.clearSelection()
    for i in range(dialog.proxy.rowCount()):
        idx = dialog.proxy.index(i, 0)
        if dialog.proxy.data(idx, Qt.UserRole) in statuses:
            sel.select(idx, QItemSelectionModel.Select | QItemSelectionModel.Rows)


def test_check_accept_and_export(qtbot, dialog, atlas, tmp_path):
    pts, path = _survey(tmp_path, atlas)
    dialog.set_file(path)
    reports = []
    dialog.report_ready.connect(reports.append)
    with qtbot.waitSignal(dialog.check_finished, timeout=60_000) as blocker:
        assert dialog.start_check()
    assert blocker.args == ["done"]
    assert not dialog.is_running()
    report = reports[0]
    assert report.crs.chosen == "gcj02"
    assert dialog.model.rowCount() == 10
    # in the UI language: GCJ-02 named as in the rest of the app, statuses in Chinese
    assert "GCJ-02" in dialog.summary.text() and "移位 1" in dialog.summary.text()
    # rows are coloured by status
    src = dialog.model
    for i, r in enumerate(report.rows):
        bg = src.data(src.index(i, 3), Qt.BackgroundRole)
        assert bg.name() == STATUS_COLORS[r.status]
    # nothing selected: accept disabled; select confirmed + moved and accept
    assert not dialog.accept_button.isEnabled()
    _select(dialog, {"confirmed", "moved"})
    assert dialog.accept_button.isEnabled()
    with qtbot.waitSignal(dialog.accepted_features, timeout=10_000) as acc:
        dialog.accept_button.click()
    assert sorted(acc.args[0]) == sorted(f.id for f in pts)
    assert set(store.current_store().positions()) == {f.id for f in pts}
    # invalid/unmatched rows alone cannot be accepted
    _select(dialog, {"invalid", "unmatched"})
    assert not dialog.accept_button.isEnabled()
    out = dialog.export_report(tmp_path / "report.csv")
    assert out.exists()
    with open(out, encoding="utf-8-sig") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) >= 10


def test_manual_crs_and_bad_file(qtbot, dialog, atlas, tmp_path):
    pts, path = _survey(tmp_path, atlas)
    dialog.set_file(path)
    dialog.set_crs("wgs84")
    dialog.tolerance.setValue(100)
    with qtbot.waitSignal(dialog.check_finished, timeout=60_000):
        dialog.start_check()
    assert dialog.report.crs.chosen == "wgs84" and dialog.report.crs.detected is False
    assert dialog.report.tolerance_m == 100
    assert dialog.report.counts["confirmed"] == 0          # GCJ-02 read as WGS-84: all moved
    bad = write_csv(tmp_path / "bad.csv", ["名称", "备注"], [["天河路", "已关闭"]])
    dialog.set_file(bad)
    with qtbot.waitSignal(dialog.check_finished, timeout=60_000) as blocker:
        dialog.start_check()
    assert blocker.args == ["failed"]
    assert "找不到经度列" in dialog.summary.text()
    assert dialog.check_button.isEnabled()


def test_cancel_a_long_check(qtbot, dialog, atlas, tmp_path):
    f = point_features(list(atlas.features.values()))[0]
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["名称", "经度", "纬度"])
        for i in range(300_000):
            w.writerow([f.name, 113.0 + i * 1e-7, 23.0])
    dialog.set_file(path)
    with qtbot.waitSignal(dialog.check_finished, timeout=120_000) as blocker:
        dialog.start_check()
        dialog.cancel_check()
    assert blocker.args == ["cancelled"]
    assert dialog.report is None
    assert dialog.check_button.isEnabled() and not dialog.cancel_button.isEnabled()
