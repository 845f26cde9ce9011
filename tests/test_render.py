"""The map painter (planatlas.desktop.render): views, the projected scene, renderers of every
layer kind painting a layer stack in order, labels, hit tests and legends."""
from __future__ import annotations

import math
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from shapely.geometry import Point, box  # noqa: E402

from desktop_fixture import SyntheticAtlas  # noqa: E402
from planatlas.desktop.render import (  # noqa: E402
    MapScene, MapView, context, hit_test, legend, paint_map,
)
from planatlas.layers.model import Feature  # noqa: E402
from planatlas.layers.stack import make_layer, plan_layer_id, standard_stack  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def synth():
    return SyntheticAtlas()


@pytest.fixture(scope="module")
def real_atlas():
    from planatlas.layers.atlas import load_atlas
    return load_atlas()


def _pixels(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
    # BGRA in memory -> RGB
    return arr.reshape(img.height(), img.bytesPerLine() // 4, 4)[:, :img.width(), 2::-1].copy()


def _feature(fid, cat, plan, geom, name=None):
    return Feature(id=fid, name=name or fid, aliases=[], categories=[cat], subtype="", tier=None,
                   plans=[plan], district="", adcode="", geometry=geom, precision_m=5.0, source="t",
                   status="verified")


SPOT = (113.30, 23.10)
RED, GREEN, PAPER = (0xd1, 0x49, 0x5b), (0x2a, 0x9d, 0x55), (0xee, 0xf0, 0xec)


@pytest.fixture
def two_plans(qapp):
    """Plan a: a commercial point; plan b: a scenic point at the same spot and a park around it."""
    feats = [_feature("a-shop", "commercial_district", "a", Point(*SPOT)),
             _feature("b-park", "scenic_area", "b", Point(*SPOT)),
             _feature("b-area", "scenic_area", "b", box(SPOT[0] - 0.01, SPOT[1] - 0.01,
                                                        SPOT[0] + 0.01, SPOT[1] + 0.01))]
    scene = MapScene(feats, plans=["a", "b"])
    return scene, standard_stack(["a", "b"], basemap=False)


def _draw(scene, stack, view, size=(200, 200), labels=False):
    img = QImage(*size, QImage.Format_ARGB32_Premultiplied)
    p = QPainter(img)
    paint_map(p, QRectF(0, 0, *size), view, scene, stack=stack, labels=labels)
    p.end()
    return _pixels(img).astype(int)


def _centre(a):
    h, w = a.shape[:2]
    return tuple(a[h // 2, w // 2])


def _close(c, ref, tol=40):
    return sum(abs(int(x) - y) for x, y in zip(c, ref)) < tol


def test_mapview_roundtrip_and_fit():
    from planatlas.desktop.render import MapView
    bbox = (113.2, 23.0, 113.5, 23.2)
    v = MapView.fit(bbox, (800, 600))
    minlon, minlat, maxlon, maxlat = v.extent_lonlat()
    assert minlon <= 113.2 and maxlon >= 113.5 and minlat <= 23.0 and maxlat >= 23.2
    px, py = np.array([0.0, 400.0, 799.0]), np.array([0.0, 300.0, 599.0])
    x, y = v.to_map(px, py)
    qx, qy = v.to_screen(x, y)
    assert np.allclose(qx, px) and np.allclose(qy, py)
    z = v.zoomed(2.0, anchor=(100, 100))
    assert math.isclose(z.res, v.res / 2)
    ax, ay = v.to_map(100, 100)
    bx, by = z.to_map(100, 100)
    assert math.isclose(float(ax), float(bx)) and math.isclose(float(ay), float(by))
    with pytest.raises(ValueError, match="inverted"):
        MapView.fit((114, 23, 113, 24), (100, 100))



def test_paint_scale_grows_symbols(qapp, synth):
    from planatlas.desktop.render import MapScene, MapView, paint_map
    scene = MapScene(list(synth.features.values()))        # no basemap: only symbols on paper
    view = MapView.fit(scene.bbox_lonlat(["gz-yuexiu-park", "gz-baiyun-airport"]), (400, 400))

    def coloured(scale):
        img = QImage(400, 400, QImage.Format_RGB32)
        img.fill(Qt.white)
        p = QPainter(img)
        paint_map(p, QRectF(0, 0, 400, 400), view, scene, labels=False, scale=scale)
        p.end()
        a = _pixels(img).astype(int)
        paper = np.array([0xee, 0xf0, 0xec])
        return int((np.abs(a - paper).sum(axis=2) > 60).sum())

    assert coloured(2.0) > coloured(1.0) * 1.8



def test_real_atlas_scene_has_every_feature(qapp, real_atlas):
    from planatlas.desktop.render import MapScene
    scene = MapScene.from_atlas(real_atlas)
    assert len(scene.ids) == len(real_atlas.features)
    assert set(scene.plans) >= set(real_atlas.plans)
    for f in real_atlas.features.values():
        assert scene.member[scene.index[f.id]].any(), f"{f.id} is in no layer"



def test_labels_do_not_overlap_and_scale_with_zoom(qapp):
    from planatlas.desktop.render import MapScene, MapView, paint_labels
    from planatlas.layers.model import Feature
    rng = np.random.default_rng(3)
    feats = [Feature(id=f"p{i}", name=f"测试地点{i}", aliases=[], categories=["scenic_area"],
                     subtype="", tier=None, plans=["x"], district="", adcode="",
                     geometry=Point(113.3 + rng.uniform(0, 0.05), 23.1 + rng.uniform(0, 0.05)),
                     precision_m=10, source="t", status="verified") for i in range(400)]
    scene = MapScene(feats)
    img = QImage(800, 600, QImage.Format_ARGB32_Premultiplied)

    def place(view):
        p = QPainter(img)
        boxes = paint_labels(p, view, scene)
        p.end()
        return boxes

    view = MapView.fit((113.3, 23.1, 113.35, 23.15), (800, 600))
    boxes = place(view)
    assert 10 < len(boxes) < 400                  # dense: only some fit
    inner = [b.adjusted(2, 2, -2, -2) for _t, b in boxes]
    for i in range(len(inner)):
        for j in range(i + 1, len(inner)):
            assert not inner[i].intersects(inner[j]), (boxes[i], boxes[j])
    near = place(view.zoomed(4.0))
    assert near and near[0][1].height() > boxes[0][1].height()    # bigger text closer in


# ----------------------------------------------------------------------------- the layer stack
def test_reordering_layers_changes_paint_order(two_plans):
    scene, stack = two_plans
    view = MapView.fit((SPOT[0] - 0.02, SPOT[1] - 0.02, SPOT[0] + 0.02, SPOT[1] + 0.02), (200, 200))
    assert _close(_centre(_draw(scene, stack, view)), RED)       # plan a is on top
    stack.move_group("plan:b", +1)
    assert _close(_centre(_draw(scene, stack, view)), GREEN)     # now plan b's symbol covers it
    # an overlay between the two plans' runs is painted between them
    stack.add(make_layer("survey_report", "overlay/s", source={"points": [(*SPOT, "invalid", "x")]}))
    stack.move("overlay/s", stack.index(plan_layer_id("b", "scenic_area")))
    from planatlas.layers.survey import STATUS_COLORS
    from PySide6.QtGui import QColor
    c = QColor(STATUS_COLORS["invalid"])
    assert _close(_centre(_draw(scene, stack, view)), GREEN)
    stack.move("overlay/s", len(stack) - 1)
    assert _close(_centre(_draw(scene, stack, view)), (c.red(), c.green(), c.blue()))


def test_hidden_and_transparent_layers(two_plans):
    scene, stack = two_plans
    view = MapView.fit((SPOT[0] - 0.02, SPOT[1] - 0.02, SPOT[0] + 0.02, SPOT[1] + 0.02), (200, 200))
    shop = plan_layer_id("a", "commercial_district")
    stack.set_opacity(shop, 0.5)
    half = _centre(_draw(scene, stack, view))
    stack.set_opacity(shop, 1.0)
    full = _centre(_draw(scene, stack, view))
    stack.set_visible(shop, False)
    hidden = _centre(_draw(scene, stack, view))
    assert _close(full, RED) and _close(hidden, GREEN)
    # half opacity: half-way between the red symbol and what lies under it (the green one)
    assert all(abs(h - (f + u) / 2) < 20 for h, f, u in zip(half, full, hidden))
    stack.set_visible(plan_layer_id("b", "scenic_area"), False)
    assert _close(_centre(_draw(scene, stack, view)), PAPER, 6)


def test_hit_test_returns_every_overlapping_feature_topmost_first(two_plans):
    scene, stack = two_plans
    view = MapView.fit((SPOT[0] - 0.05, SPOT[1] - 0.05, SPOT[0] + 0.05, SPOT[1] + 0.05), (400, 400))
    hits = lambda: hit_test(view, 200, 200, context(scene, stack))  # noqa: E731
    assert hits() == ["a-shop", "b-park", "b-area"]     # points (upper layer first), then the area
    stack.move_group("plan:b", +1)
    assert hits() == ["b-park", "a-shop", "b-area"]
    stack.add(make_layer("position_history", "overlay/h",
                         source={"moves": [("b-park", *SPOT, SPOT[0] + 0.01, SPOT[1])]}))
    assert hits()[0] == "b-park" and len(hits()) == 3     # the ring names the same feature once
    stack.set_visible(plan_layer_id("a", "commercial_district"), False)
    assert hits() == ["b-park", "b-area"]
    assert hit_test(view, 5, 5, context(scene, stack)) == []


def test_a_shared_feature_is_drawn_once_in_its_topmost_layer(qapp):
    both = Feature(id="x", name="x", aliases=[], categories=["commercial_district", "scenic_area"],
                   subtype="", tier=None, plans=["a"], district="", adcode="", geometry=Point(*SPOT),
                   precision_m=5.0, source="t", status="verified")
    scene = MapScene([both], plans=["a"])
    stack = standard_stack(["a"], basemap=False)
    view = MapView.fit((SPOT[0] - 0.02, SPOT[1] - 0.02, SPOT[0] + 0.02, SPOT[1] + 0.02), (200, 200))
    assert _close(_centre(_draw(scene, stack, view)), RED)       # commercial is the upper layer
    stack.move_within_group(plan_layer_id("a", "scenic_area"), +1)
    stack.move_within_group(plan_layer_id("a", "scenic_area"), +1)
    stack.move_within_group(plan_layer_id("a", "scenic_area"), +1)
    assert stack.ids()[-1] == plan_layer_id("a", "scenic_area")
    assert _close(_centre(_draw(scene, stack, view)), GREEN)
    rows = [(e.label, e.count) for e in legend(context(scene, stack))]
    assert rows == [("a · 景区与文旅", 1), ("a · 商圈与商业街区", 1)]


def test_legend_lists_only_visible_layers_that_show_something(synth):
    scene = MapScene.from_atlas(synth)
    stack = scene.default_stack()
    ctx = context(scene, stack)
    gz = MapView.fit((113.2, 22.6, 113.75, 23.45), (800, 800))
    labels = [e.label for e in legend(ctx, gz)]
    assert "广州市 · 物流枢纽与港口" in labels and not any("滨海" in t for t in labels)
    # basemap under the places; the plan area over the city outline (广州 is a city-level plan)
    assert labels[-4:] == ["规划范围", "市界", "水系", "区县界"]
    stack.set_visible(plan_layer_id("guangzhou", "logistics_hub"), False)
    stack.set_visible("basemap/water", False)
    labels = [e.label for e in legend(context(scene, stack), gz)]
    assert "广州市 · 物流枢纽与港口" not in labels and "水系" not in labels
    stack.set_style(plan_layer_id("guangzhou", "scenic_area"), color="#00ff00")
    row = next(e for e in legend(context(scene, stack, lang="en"), gz) if "Scenic" in e.label)
    assert row.key[2] == "#00ff00" and row.count == 2 and row.label == "Guangzhou · Scenic areas"


def test_legend_symbols_are_as_faded_as_their_layer(synth):
    scene = MapScene.from_atlas(synth)
    stack = scene.default_stack()
    scenic = plan_layer_id("guangzhou", "scenic_area")

    def swatch():
        row = next(e for e in legend(context(scene, stack)) if e.layer == scenic)
        img = QImage(40, 40, QImage.Format_ARGB32_Premultiplied)
        img.fill(Qt.white)
        p = QPainter(img)
        row.draw(p, QRectF(0, 0, 40, 40))
        p.end()
        return _pixels(img)[22, 20].astype(int)          # inside the triangle
    solid = swatch()
    stack.set_opacity(scenic, 0.3)
    faded = swatch()
    assert _close(solid, GREEN, 30)
    assert all(f > s + 60 for f, s in zip(faded[[0, 2]], solid[[0, 2]]))   # towards white
