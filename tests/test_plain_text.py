"""Untrusted text stays plain in the Qt UI: clause-tree, survey-table and site-list tooltips,
message boxes; plus the HTML export's offline check and control characters in SVG."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtGui import QTextDocument, Qt

from desktop_fixture import SyntheticAtlas

HOSTILE = "<img src='file:///etc/passwd'><a href='http://127.0.0.1:9/x'>点我</a><b>粗</b>"


def _shows_literally(markup: str, text: str) -> bool:
    """Qt renders ``markup`` as rich text and the visible text is ``text`` itself."""
    doc = QTextDocument()
    doc.setHtml(markup)
    return Qt.mightBeRichText(markup) and doc.toPlainText() == text


def test_tooltip_markup_shows_hostile_text_literally(qapp):
    from planatlas.desktop.plaintext import tooltip

    assert _shows_literally(tooltip(HOSTILE), HOSTILE)
    assert "<img" not in tooltip(HOSTILE)


@pytest.fixture
def hostile_atlas():
    atlas = SyntheticAtlas()
    gz = atlas.plans["guangzhou"]
    gz.clauses[0].text = HOSTILE + gz.clauses[0].text
    atlas.features["gz-pati"].aliases = [HOSTILE]
    return atlas


def test_clause_tree_tooltips_are_plain(qtbot, hostile_atlas):
    from planatlas.desktop.plan_panel import PlanPanel
    from planatlas.desktop.state import AtlasState

    state = AtlasState(hostile_atlas)
    panel = PlanPanel(state)
    qtbot.addWidget(panel)
    panel.show_plan("guangzhou")
    tip = panel.tree.topLevelItem(0).toolTip(0)
    assert _shows_literally(tip, hostile_atlas.plans["guangzhou"].clauses[0].text[:300])


def test_site_list_tooltips_are_plain(qtbot, hostile_atlas):
    from planatlas.desktop.site_table import SiteTableModel

    model = SiteTableModel(hostile_atlas, list(hostile_atlas.features))
    row = [f.id for f in model.rows].index("gz-pati")
    tip = model.data(model.index(row, 0), Qt.ToolTipRole)
    assert _shows_literally(tip, "、".join(hostile_atlas.features["gz-pati"].names))


def test_survey_table_tooltips_and_error_box_are_plain(qtbot, tmp_path, monkeypatch):
    from planatlas.desktop import plaintext
    from planatlas.desktop.survey_dialog import ReportModel
    from planatlas.layers.survey import check_rows
    from planatlas.layers.survey.rows import SurveyRow

    atlas = SyntheticAtlas()
    row = SurveyRow(row=1, where="line 2", name=HOSTILE, lon=113.3, lat=23.1)
    report = check_rows([row], list(atlas.features.values()), crs="wgs84")
    model = ReportModel()
    model.set_report(report)
    assert _shows_literally(model.data(model.index(0, 1), Qt.ToolTipRole), HOSTILE)
    message = model.data(model.index(0, 5), Qt.ToolTipRole)
    assert "&lt;img" in message and "<img" not in message

    shown = {}

    def fake_exec(box):
        shown["format"], shown["text"] = box.textFormat(), box.text()
        return 0
    monkeypatch.setattr(plaintext.QMessageBox, "exec", fake_exec)
    plaintext.warn(None, "PlanAtlas", f"cannot read {HOSTILE}.csv")
    assert shown == {"format": Qt.PlainText, "text": f"cannot read {HOSTILE}.csv"}


# ----------------------------------------------------------------------------- exports

def test_html_offline_check_is_not_fooled_by_clause_text(tmp_path):
    """A clause near a place that says ``src=//cdn…`` is text on the page, not a resource."""
    from export_fixtures import SyntheticAtlas as ExportAtlas
    from planatlas.layers.export.html import export_html

    atlas = ExportAtlas()
    for plan in atlas.plans.values():
        for c in plan.clauses:
            c.text = c.text + ' 参见 <script src=//cdn.example.com/x.js></script> src="https://x.y/z.png"'
    out = tmp_path / "m.html"
    export_html(atlas, list(atlas.plans), out)
    page = out.read_text(encoding="utf-8")
    assert "cdn.example.com" in page                   # the text is there, escaped
    assert "<script src=//cdn" not in page


def test_html_offline_check_still_catches_a_real_resource(tmp_path, monkeypatch):
    from export_fixtures import SyntheticAtlas as ExportAtlas
    from planatlas.layers.export import html as html_mod

    real = html_mod.build_map

    def leaky(*a, **k):
        import folium

        m, *rest = real(*a, **k)
        m.get_root().header.add_child(folium.Element('<script src="https://cdn.example.com/x.js"></script>'))
        return (m, *rest)
    monkeypatch.setattr(html_mod, "build_map", leaky)
    with pytest.raises(Exception, match="network resources"):
        html_mod.export_html(ExportAtlas(), list(ExportAtlas().plans), tmp_path / "m.html")
    assert not (tmp_path / "m.html").exists()


def test_svg_map_with_control_characters_in_the_title_is_valid_xml(tmp_path, qapp):
    from planatlas.desktop.export_map import export_map
    from export_fixtures import SyntheticAtlas as ExportAtlas

    out = tmp_path / "m.svg"
    export_map(ExportAtlas(), None, out, paper="600x400px", title="标题\x0b第二行\x0c完",
               subtitle="副\x01标题")
    root = ET.parse(out).getroot()
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == "标题第二行完"
