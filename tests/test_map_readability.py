"""A readable map (issue 13.5): precision halos only where asked for, labels that prefer the
important places and never hide a selected one, a legend that shows all its rows; and the
canvas that renders off the UI thread (frames reused for pans over rendered ground)."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QRectF, QSettings  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402

from desktop_fixture import SyntheticAtlas  # noqa: E402


@pytest.fixture(scope="module")
def synth():
    return SyntheticAtlas()


def _render(scene, stack, view, *, labels=False) -> np.ndarray:
    from planatlas.desktop.render import paint_map
    from planatlas.desktop.render.splat import image_array
    img = QImage(view.width, view.height, QImage.Format_ARGB32_Premultiplied)
    p = QPainter(img)
    paint_map(p, QRectF(0, 0, view.width, view.height), view, scene, stack=stack, labels=labels)
    p.end()
    return image_array(img).copy()


def _halo_pixels(scene, stack, view, fid) -> int:
    """Pixels changed in a ring between the symbol and the precision radius of ``fid``."""
    from planatlas.desktop.render import MapScene
    x, y = scene.screen_position(view, fid)
    i = scene.index[fid]
    r = scene.precision[i] * scene.merc_k[i] / view.res
    yy, xx = np.mgrid[0:view.height, 0:view.width]
    d = np.hypot(xx - x, yy - y)
    ring = (d > 12) & (d < r - 2)
    without = stack.copy()
    for layer in without.find(kind="plan_category"):
        without.set_visible(layer.id, False)
    assert isinstance(scene, MapScene)
    return int((_render(scene, stack, view) != _render(scene, without, view))[ring].sum())


def test_halos_only_for_the_selection_or_on_demand(qapp, synth):
    from planatlas.desktop.render import MapScene, MapView
    scene = MapScene.from_atlas(synth)
    stack = scene.default_stack()
    fid = "gz-chimelong"                         # approximate, ±500 m
    f = synth.features[fid]
    view = MapView.fit((f.geometry.x - 0.02, f.geometry.y - 0.02, f.geometry.x + 0.02,
                        f.geometry.y + 0.02), (300, 300))
    assert _halo_pixels(scene, stack, view, fid) == 0           # default: no halo
    scene.set_selection([fid])
    assert _halo_pixels(scene, stack, view, fid) > 200          # the selected feature has one
    scene.set_selection([])
    stack.set_style("plan/guangzhou/scenic_area", halos=True)   # asked for: every one has one
    assert _halo_pixels(scene, stack, view, fid) > 200


def test_selected_label_is_never_hidden_and_tiers_come_first(qapp):
    from shapely.geometry import Point

    from planatlas.desktop.render import MapScene, MapView, context
    from planatlas.desktop.render.labels import place_labels
    from planatlas.layers.model import Feature

    def feat(i, tier):
        return Feature(id=f"p{i}", name=f"地点名称{i}号", aliases=[], categories=["commercial_district"],
                       subtype="", tier=tier, plans=["guangzhou"], district="", adcode="",
                       geometry=Point(113.30 + (i % 7) * 0.0004, 23.10 + (i // 7) * 0.0003),
                       precision_m=50.0, source="t", status="verified")

    feats = [feat(i, "国家级" if i == 30 else None) for i in range(49)]
    scene = MapScene(feats, plans=["guangzhou"])
    view = MapView.fit(scene.bbox_lonlat(scene.ids), (260, 200), margin=0.3)
    placed = {lb.text for lb in place_labels(view, context(scene)).placed}
    assert "地点名称30号" in placed                     # the national-tier place is labelled
    assert len(placed) < 49                           # crowded: most names cannot fit
    hidden = next(f for f in feats if f.name not in placed)
    scene.set_selection([hidden.id])
    placed = {lb.text for lb in place_labels(view, context(scene)).placed}
    assert hidden.name in placed and "地点名称30号" in placed


def test_legend_fits_restyled_rows_and_toggles_halos(qtbot, synth, tmp_path):
    from planatlas.desktop.app import MainWindow
    win = MainWindow(synth, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    panel, state = win.layers_panel, win.state
    for k, layer in enumerate(state.stack.find(kind="plan_category")):     # every row restyled
        state.set_layer_style(layer.id, color=f"#{(k * 37) % 256:02x}40a0", size=8 + k % 5)
    rows = [panel.legend_box.itemAt(i).widget() for i in range(panel.legend_box.count())]
    assert len(rows) == len(panel.legend_entries) > 8
    content = panel.legend_scroll.widget()

    def whole(row) -> bool:
        label = row.findChildren(type(panel.legend_title))[-1]
        return (label.height() >= label.heightForWidth(label.width()) - 1
                and row.geometry().bottom() <= content.height())

    qtbot.waitUntil(lambda: all(whole(row) for row in rows), timeout=5000)
    # the rows need more room than the pane has: it scrolls instead of squeezing them
    assert content.height() > panel.legend_scroll.viewport().height()
    # the halo switch turns halos on for every plan layer, and off again
    assert panel.halos.isVisible() and not panel.halos.isChecked()
    panel.halos.setChecked(True)
    assert all(la.style["halos"] for la in state.stack.find(kind="plan_category"))
    panel.halos.setChecked(False)
    assert not any(la.style["halos"] for la in state.stack.find(kind="plan_category"))


def test_canvas_renders_off_thread_and_reuses_rendered_ground(qtbot, synth):
    from planatlas.desktop.canvas import MapCanvas
    from planatlas.desktop.render.splat import image_array
    from planatlas.desktop.state import AtlasState
    state = AtlasState(synth)
    canvas = MapCanvas(state)
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.frame_bbox((113.25, 23.05, 113.40, 23.17))
    assert canvas.wait_for_frame()
    renders = len(canvas.stats["full_ms"])
    first = image_array(canvas.grab().toImage().convertToFormat(QImage.Format_ARGB32_Premultiplied)).copy()
    # a pan of 40 px stays on the ground the frame already has: shown at once, nothing rendered
    canvas.pan_by(40, -25, animate=False)
    canvas.repaint()
    assert canvas._good_frame() is not None and len(canvas.stats["full_ms"]) == renders
    shifted = image_array(canvas.grab().toImage().convertToFormat(QImage.Format_ARGB32_Premultiplied))
    # the map moved 40 px right and 25 px up (the scale bar at the bottom left stays put)
    assert np.array_equal(shifted[0:300 - 25 - 40, 40:400], first[25:300 - 40, 0:400 - 40])
    # new ground: painting does not wait — the old frame is shown shifted until the new
    # one, asked of the worker thread, arrives
    canvas.pan_by(-390, 0, animate=False)
    assert canvas._good_frame() is None
    canvas.render(QImage(400, 300, QImage.Format_ARGB32_Premultiplied))     # a paint event
    assert canvas.stats["fast_ms"] and canvas._reqs
    assert canvas.wait_for_frame()
    assert len(canvas.stats["full_ms"]) == renders + 1
    # back to where we were: the kept frame fits again, nothing is rendered
    canvas.pan_by(350, 25, animate=False)
    canvas.repaint()
    assert canvas._good_frame() is not None and len(canvas.stats["full_ms"]) == renders + 1
