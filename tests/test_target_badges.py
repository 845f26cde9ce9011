"""Target badges on the map (issue 18, item 3): how many targets are tied to each place, as a
map overlay with a legend entry, switched on from View and following the atlas."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QRectF, QSettings  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402

from planatlas.desktop import i18n  # noqa: E402
from planatlas.layers.atlas import load_atlas  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def test_badges_show_the_atlas_counts(atlas):
    """The badge numbers are ``Atlas.target_counts`` (its rule is tested in test_compare.py)."""
    counts = atlas.target_counts()
    assert counts and all(n > 0 for n in counts.values())
    assert atlas.target_counts(plans=["guangzhou"]).keys() <= counts.keys()


@pytest.fixture(scope="module")
def win(qapp, atlas, tmp_path_factory):
    from planatlas.desktop.app import MainWindow
    i18n.set_language("zh")
    ini = tmp_path_factory.mktemp("settings") / "s.ini"
    w = MainWindow(atlas, settings=QSettings(str(ini), QSettings.IniFormat), persist=False,
                   restore=False)
    w.resize(1200, 800)
    w.show()
    yield w
    w.close()
    w.deleteLater()


def _render(win, view) -> QImage:
    from planatlas.desktop.render import paint_map
    img = QImage(view.width, view.height, QImage.Format_ARGB32)
    p = QPainter(img)
    paint_map(p, QRectF(0, 0, view.width, view.height), view, win.state.scene,
              stack=win.state.stack, labels=False, selection=False)
    p.end()
    return img


def _badge_pixels(img: QImage, color: str) -> int:
    c = QColor(color)
    ptr = img.constBits()
    a = np.frombuffer(ptr, dtype=np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    b, g, r = a[..., 0].astype(int), a[..., 1].astype(int), a[..., 2].astype(int)
    return int(((abs(r - c.red()) < 12) & (abs(g - c.green()) < 12) & (abs(b - c.blue()) < 12)).sum())


def test_view_menu_switches_badges_with_legend(win, qtbot):
    from planatlas.desktop.render import MapView, legend
    from planatlas.desktop.render.paint import context
    counts = win.atlas.target_counts()
    fid = max(counts, key=counts.get)
    lon, lat = win.atlas.features[fid].geometry.representative_point().coords[0]
    view = MapView.fit((lon - 0.02, lat - 0.015, lon + 0.02, lat + 0.015), (600, 450))
    action = win.actions_by_key["act.target_badges"]
    assert action.text() == "按目标数标注地点"
    color = "#34495e"
    before = _badge_pixels(_render(win, view), color)

    action.trigger()
    layer = win.state.stack["overlay/target_counts"]
    assert layer.visible and dict(layer.source["counts"]) == counts
    img = _render(win, view)
    assert _badge_pixels(img, color) > before + 40          # a badge is drawn near the place
    px, py = win.state.scene.screen_position(view, fid)
    crop = img.copy(int(px), int(py) - 20, 24, 24)          # upper right of the symbol
    assert _badge_pixels(crop, color) > 20
    labels = [e.label for e in legend(context(win.state.scene, win.state.stack), view)]
    assert any(lab.startswith("针对该地点的目标数（最多 ") for lab in labels), labels

    # a hidden plan layer hides its places' badges too
    from planatlas.desktop.render.features import feature_owners
    ctx = context(win.state.scene, win.state.stack)
    assert feature_owners(ctx).own.visible[win.state.scene.index[fid]]
    hidden = [lay.id for lay in win.state.stack if lay.kind == "plan_category"]
    win.state.stack.set_visibility(hidden, False)
    try:
        assert _badge_pixels(_render(win, view), color) <= before
    finally:
        win.state.stack.set_visibility(hidden, True)

    action.trigger()
    assert "overlay/target_counts" not in win.state.stack
    assert _badge_pixels(_render(win, view), color) == before


def test_badges_are_not_saved_in_projects(win, tmp_path, monkeypatch):
    """The counts belong to the atlas of the session, not to the project file."""
    from planatlas.layers.project import Project, load_project, save_project
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    win.actions_by_key["act.target_badges"].trigger()
    try:
        assert "overlay/target_counts" in win.state.stack
        path = save_project(Project(win.state.stack.copy()), tmp_path / "p.planatlas.json")
        project, problems = load_project(path)
        assert not problems
        assert "overlay/target_counts" not in project.stack
        assert any(lay.kind == "plan_category" for lay in project.stack)
    finally:
        win.actions_by_key["act.target_badges"].trigger()
