"""The feature panel shows where a position comes from, in the UI language, with a reference
link that is opened (by the user's browser) only when clicked."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl

from planatlas.desktop import feature_panel as fp
from planatlas.desktop.i18n import set_language


@pytest.fixture(scope="module")
def atlas():
    from planatlas.layers.atlas import load_atlas
    return load_atlas()


@pytest.fixture
def panel(qtbot, atlas):
    from planatlas.desktop.state import AtlasState
    p = fp.FeaturePanel(AtlasState(atlas))
    qtbot.addWidget(p)
    yield p
    set_language("zh")


def test_source_and_method_in_the_ui_language(panel, monkeypatch):
    opened = []
    monkeypatch.setattr(fp, "open_reference", lambda url: opened.append(url.toString()) or True)
    set_language("zh")
    panel.show_feature("gz-haizhu-square")
    text = panel.info.toPlainText()
    assert "代理点" in text and "地铁海珠广场站" in text and "±200 米" in text
    assert "bd09→gcj02→wgs84" in text
    html = panel.info.toHtml()
    assert "href=\"https://github.com/littleHiuman/GZsubway-canvas" in html
    assert opened == []                                   # nothing is opened by showing it
    set_language("en")
    panel.show_feature("gz-haizhu-square")
    text = panel.info.toPlainText()
    assert "proxy (e.g. the metro station under it)" in text and "metro station 海珠广场" in text
    panel.show_feature("hm-yudong")
    text = panel.info.toPlainText()
    assert "estimate (no published coordinate)" in text and "unverified estimate" in text
    panel._link(QUrl("https://en.wikipedia.org/wiki/Haizhu_Square"))
    assert opened == ["https://en.wikipedia.org/wiki/Haizhu_Square"]
