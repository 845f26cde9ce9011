"""Bulk sprite compositing (desktop/render/splat.py) gives the same pixels as QPainter.drawImage.

The compiled loop blends with Qt's own integer arithmetic, skips sprites that later opaque
pixels cover and blends a sprite repeated at one pixel as one entry with a count; each of these
must leave every pixel exactly as drawing the sprites one by one with QPainter does.
"""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402

from planatlas.desktop.render import splat  # noqa: E402

pytestmark = pytest.mark.skipif(not splat.available(), reason="numba not installed")


@pytest.fixture(scope="module")
def app():
    from PySide6.QtWidgets import QApplication
    return QApplication.instance() or QApplication([])


def _sprites():
    from planatlas.desktop.render.symbols import make_halo, make_sprite
    return [make_sprite("circle", QColor("#d1495b"), 10, "normal"),
            make_sprite("diamond", QColor("#7b4fc4"), 13.5, "normal"),
            make_sprite("triangle", QColor("#2a9d55"), 9, "selected"),
            make_sprite("square", QColor("#1f78b4"), 12, "hover"),
            make_halo("#d1495b", 23.0, 1.0)]


def _clustered(rng, n, w, h):
    centres = rng.uniform([-20, -20], [w + 20, h + 20], (12, 2))
    k = rng.integers(0, len(centres), n)
    sd = rng.choice([1.0, 6.0, 40.0], len(centres))[k]
    x = np.rint(centres[k, 0] + rng.normal(0, 1, n) * sd).astype(np.int64)
    y = np.rint(centres[k, 1] + rng.normal(0, 1, n) * sd).astype(np.int64)
    return x, y


def _draw(compiled: bool, seed: int, *, n=6000, size=(420, 300), opacity=0.85,
          clip=True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w, h = size
    img = QImage(w, h, QImage.Format_ARGB32_Premultiplied)
    img.fill(QColor("#eef0ec"))
    p = QPainter(img)
    p.translate(9, 4)
    if clip:
        p.setClipRect(QRectF(-5, 3, w - 60, h - 40))
    p.setOpacity(opacity)
    batch = splat.SpriteBatch()
    for k, sprite in enumerate(_sprites()):
        x, y = _clustered(rng, n, w, h)
        order = splat.draw_order(x, y)
        batch.add(sprite, x[order], y[order], [1.0, 0.37, 1.0, 0.8, 0.5][k])
    how = batch.draw(p, compiled=compiled)
    p.end()
    assert how == ("compiled" if compiled else "qpainter")
    return splat.image_array(img).copy()


@pytest.mark.parametrize("seed", [1, 2])
def test_compiled_equals_qpainter(app, seed, monkeypatch):
    monkeypatch.setattr(splat, "OCCLUSION_MIN", 10 ** 9)          # plain blending
    assert np.array_equal(_draw(True, seed), _draw(False, seed))


def test_occlusion_and_repeats_change_no_pixel(app, monkeypatch):
    monkeypatch.setattr(splat, "OCCLUSION_MIN", 1)
    a = _draw(True, 3, n=9000, opacity=1.0, clip=False)
    b = _draw(False, 3, n=9000, opacity=1.0, clip=False)
    assert np.array_equal(a, b)
    # the data really had repeats and hidden sprites
    rng = np.random.default_rng(3)
    x, y = _clustered(rng, 9000, 420, 300)
    o = splat.draw_order(x, y)
    assert ((np.diff(x[o]) == 0) & (np.diff(y[o]) == 0)).sum() > 500


def test_fully_clipped_and_other_devices(app):
    img = QImage(50, 40, QImage.Format_RGB32)         # not premultiplied ARGB: QPainter path
    img.fill(Qt.white)
    p = QPainter(img)
    batch = splat.SpriteBatch()
    batch.add(_sprites()[0], [5, 10], [5, 10])
    assert batch.draw(p, compiled=True) == "qpainter"
    p.end()
    img = QImage(50, 40, QImage.Format_ARGB32_Premultiplied)
    img.fill(Qt.white)
    before = splat.image_array(img).copy()
    p = QPainter(img)
    p.setClipRect(QRectF(0, 0, 0, 0))
    batch = splat.SpriteBatch()
    batch.add(_sprites()[0], [5, 10], [5, 10])
    assert batch.draw(p, compiled=True) == "compiled"
    p.end()
    assert np.array_equal(before, splat.image_array(img))


def test_map_with_many_points_is_the_same_either_way(app, monkeypatch):
    """A whole map of 4,000 clustered points in four layers, some approximate with halos on,
    a selection: the renderer's compiled path and QPainter's give the same image."""
    from planatlas.desktop.render import MapScene, MapView, paint_map
    from planatlas.layers.columns import Categorical, FeatureColumns, StringColumn
    from planatlas.layers.model import CATEGORIES

    rng = np.random.default_rng(5)
    n = 4000
    c = rng.uniform([113.25, 23.05], [113.40, 23.18], (30, 2))
    k = rng.integers(0, 30, n)
    lon = c[k, 0] + rng.normal(0, 0.004, n)
    lat = c[k, 1] + rng.normal(0, 0.004, n)
    cols = FeatureColumns.from_points(
        lon, lat, category=Categorical.from_values(CATEGORIES[i % 4] for i in range(n)),
        name=StringColumn.from_list(f"点{i}" for i in range(n)),
        precision_m=rng.choice([50.0, 400.0, 900.0], n),
        status=Categorical.from_values(("approximate" if i % 3 else "verified") for i in range(n)))
    scene = MapScene.from_columns(cols, plan="guangzhou")
    scene.set_selection([str(i) for i in range(0, n, 97)])
    stack = scene.default_stack()
    stack.set_style("plan/guangzhou/night_economy", halos=True)
    stack.set_opacity("plan/guangzhou/scenic_area", 0.6)
    view = MapView.fit(cols.bbox_lonlat(), (500, 380))

    def render(min_sprites):
        monkeypatch.setattr(splat, "SPLAT_MIN", min_sprites)
        img = QImage(500, 380, QImage.Format_ARGB32_Premultiplied)
        p = QPainter(img)
        paint_map(p, QRectF(0, 0, 500, 380), view, scene, stack=stack, labels=False)
        p.end()
        return splat.image_array(img).copy()

    assert np.array_equal(render(1), render(10 ** 9))
