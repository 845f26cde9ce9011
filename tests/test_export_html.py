"""Interactive HTML export (layers.export.html): offline, escaped, layered, with clause popups."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from export_fixtures import EVIL_NAME, TRICKY_NAME, SyntheticAtlas
from planatlas.layers.export.data import ExportError
from planatlas.layers.export.html import export_html, external_references, h

HTTP = re.compile(r"https?://[^\s\"'<>()`]*", re.I)


@pytest.fixture(scope="module")
def atlas():
    return SyntheticAtlas()


@pytest.fixture(scope="module")
def page(atlas, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("html") / "map.html"
    summary = export_html(atlas, "guangzhou,binhai", out)
    assert summary["sites"] == len(atlas.features)
    return out, out.read_text(encoding="utf-8")


def test_no_network_resource_at_all(page):
    _, text = page
    assert external_references(text) == []
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|@import", text, re.I)
    # the only absolute URLs left are XML namespace names inside Leaflet (never fetched)
    assert {u for u in HTTP.findall(text)} <= {"http://www.w3.org/2000/svg"}
    assert "L.tileLayer(" not in text                  # no tile server, own basemap instead
    assert "L.map(" in text and "jQuery v3.7.1" in text and "Leaflet 1.9.4" in text


def test_external_reference_detector_catches_leaks():
    assert external_references('<script src="https://cdn.example/x.js"></script>')
    assert external_references("<link rel=stylesheet href='//cdn.example/x.css'>")
    assert external_references("<style>a { background: url( 'http://x/y.png') }</style>")
    assert external_references("<div style=\"background:url(//x/y.png)\">x</div>")
    # escaped text that merely talks about resources is not markup
    assert not external_references("<p>参见 &lt;script src=//cdn.example/x.js&gt; url(//x)</p>")
    assert external_references('<img src=http://x/y.png>')
    assert not external_references('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    assert not external_references('<a title="x">leafletjs.com</a>')


def test_names_and_clause_text_are_escaped(page):
    _, text = page
    assert EVIL_NAME not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    # template-literal syntax from the data cannot reach the JavaScript
    assert "${alert(2)}" not in text and "`${" not in text
    assert h(TRICKY_NAME) in text
    assert h(TRICKY_NAME) == "Tom &amp; &quot;Jerry&quot; &#96;&#36;{alert(2)}&#96; 夜市"


def test_layers_legend_and_popups(page, atlas):
    _, text = page
    overlays = re.search(r"overlays\s*:\s*\{(.*?)\}", text, re.S).group(1)
    names = [json.loads(f'"{m}"') for m in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', overlays)]
    plain = [re.sub(r"<[^>]+>", "", n).strip() for n in names]
    assert plain == ["底图 Basemap", "● 广州市 · 商圈与商业街区 (3)", "● 广州市 · 夜间经济 (2)",
                     "● 广州市 · 物流枢纽与港口 (2)", "● 滨海新区 · 物流枢纽与港口 (1)",
                     "● 滨海新区 · 景区与文旅 (1)"]
    assert 'class="pa-box pa-legend"' in text and "图例 Legend" in text
    # popups cite plan, clause number, heading, snippet with the mention marked, and targets
    assert '<span class="pa-cite">guangzhou 二.(四).1 L120</span> 广州市 1. <b>建设国际物流枢纽</b>' in text
    assert "提升<mark>南沙港区</mark>集装箱吞吐能力" in text
    assert "集装箱吞吐量 ≥2500万标准箱 (2025)" in text
    assert text.count('class="pa-popup"') == 8 + 1       # one per layer membership (road is in 2)
    assert "滨海新区" in text and "越秀区" in text         # basemap district names (tooltips)


def test_category_filter_and_errors(atlas, tmp_path):
    out = tmp_path / "scenic.html"
    summary = export_html(atlas, ["binhai"], out, categories="scenic_area", title="<b>航母</b>")
    assert summary["sites"] == 1
    text = out.read_text(encoding="utf-8")
    assert "<title>&lt;b&gt;航母&lt;/b&gt;</title>" in text
    assert "<h4>滨海航母主题公园</h4>" in text and "<h4>天津港集装箱码头</h4>" not in text
    with pytest.raises(ExportError, match="unknown plan"):
        export_html(atlas, "atlantis", tmp_path / "x.html")
    with pytest.raises(ExportError, match="nothing to export"):
        export_html(atlas, "binhai", tmp_path / "y.html", categories="night_economy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenic.html"]


_HARNESS = """
<script>
window.__xss = 0; window.__errors = [];
window.alert = function () { window.__xss++; };
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
setTimeout(function () {
  var opened = 0, texts = [];
  for (var k in window) {
    if (k.indexOf('feature_group_') !== 0) continue;
    var g = window[k];
    if (!g || !g.getPopup || !g.getPopup()) continue;
    var leaf = g.getLayers()[g.getLayers().length - 1];
    var ll = leaf.getLatLng ? leaf.getLatLng() : leaf.getBounds().getCenter();
    leaf.fire('click', {latlng: ll}, true);
    var el = g.getPopup().getElement();
    if (el) { opened++; texts.push(el.textContent); }
  }
  var pre = document.createElement('pre');
  pre.id = 'pa-result';
  pre.textContent = JSON.stringify({opened: opened, xss: window.__xss, errors: window.__errors,
                                    texts: texts, overlays: document.querySelectorAll(
                                      '.leaflet-control-layers-overlays label').length});
  document.body.appendChild(pre);
}, 500);
</script>
"""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_page_runs_offline_in_headless_chromium(page, tmp_path):
    """Open every popup in a real browser with no network; no script from the data runs."""
    src, text = page
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</html>", _HARNESS + "</html>"), encoding="utf-8")
    proc = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--virtual-time-budget=3000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="pa-result">(.*?)</pre>', proc.stdout, re.S)
    assert m, proc.stderr[-2000:]
    import html as _html
    result = json.loads(_html.unescape(m.group(1)))
    assert result["errors"] == [] and result["xss"] == 0
    assert result["overlays"] == 6                      # basemap + 5 plan × category groups
    assert result["opened"] == 9
    joined = "\n".join(result["texts"])
    assert EVIL_NAME in joined and TRICKY_NAME in joined   # shown as text, verbatim
    assert "guangzhou 二.(二).5 L77" in joined and "binhai 三.(一).2 L40" in joined


def test_real_atlas_page(tmp_path):
    try:
        from planatlas.layers.atlas import load_atlas
        atlas = load_atlas()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"real atlas not loadable: {exc}")
    if not atlas.features_for(plans=list(atlas.plans)):
        pytest.skip("no curated features yet")
    out = tmp_path / "all.html"
    summary = export_html(atlas, list(atlas.plans), out)
    text = out.read_text(encoding="utf-8")
    assert external_references(text) == []
    assert {u for u in HTTP.findall(text)} <= {"http://www.w3.org/2000/svg"}
    assert summary["sites"] == len(atlas.features_for(plans=list(atlas.plans)))
    for f in atlas.features_for(plans=list(atlas.plans)):
        assert h(f.name) in text


def test_templates_compiled_once_render_the_same_page(atlas, monkeypatch):
    """folium's rendered pieces are not compiled again as jinja2 templates: the page is the
    one jinja would make, byte for byte (element ids made deterministic for the comparison),
    including text with newlines, CR and template-like characters."""
    import itertools

    import branca.element

    from planatlas.layers.export.html import _template, build_map, templates_compiled_once

    def page(compile_once: bool) -> str:
        ids = itertools.count()
        monkeypatch.setattr(branca.element.Element, "_generate_id",
                            classmethod(lambda cls: f"{next(ids):032x}"))
        if compile_once:
            with templates_compiled_once():
                m = build_map(atlas, "guangzhou,binhai")[0]
                return m.get_root().render()
        m = build_map(atlas, "guangzhou,binhai")[0]
        return m.get_root().render()

    assert page(True) == page(False)
    from jinja2 import Template
    for text in ("a\r\nb\rc\n", "x\n\n", "{{ 1 + 1 }}\n", "{% if 1 %}y{% endif %}", "plain", "",
                 "\n", "a{b}c #{x}"):
        assert _template(text).render(this=None, kwargs={}) == Template(text).render(), repr(text)
