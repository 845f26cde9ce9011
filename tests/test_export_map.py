"""Map page exports (desktop.export_map): PNG pixel sizes, PDF pages with text, SVG text,
scale bars, legends of visible layers only, cancellation, CLI."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import math
import re
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("PySide6")
from PySide6.QtGui import QColor, QImage  # noqa: E402

from planatlas.desktop.export_map import (  # noqa: E402
    ExportCancelled, export_map, page_spec, parse_extent,
)
from export_fixtures import SyntheticAtlas  # noqa: E402
from planatlas.layers.export.data import ExportError  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def atlas():
    return SyntheticAtlas()


@pytest.fixture(autouse=True)
def app(qapp):
    return qapp


def test_page_sizes_follow_paper_and_dpi():
    assert (page_spec("A3", "landscape", 300).width_px, page_spec("A3", "landscape", 300).height_px) == (4961, 3508)
    assert (page_spec("A3", "portrait", 300).width_px, page_spec("A3", "portrait", 300).height_px) == (3508, 4961)
    a4 = page_spec("a4", None, None)
    assert (a4.width_px, a4.height_px, a4.dpi) == (3508, 2480, 300.0)
    a2 = page_spec("A2", "landscape", 150)
    assert (a2.width_px, a2.height_px) == (3508, 2480)
    px = page_spec("1920x1080px", "portrait", None)          # pixel sizes are taken as given
    assert (px.width_px, px.height_px, px.dpi) == (1920, 1080, 96.0)
    assert px.width_mm == pytest.approx(1920 / 96 * 25.4)
    for bad in ("A7", "12x", "0x0px", "99999x10px"):
        with pytest.raises(ExportError, match="paper"):
            page_spec(bad)
    with pytest.raises(ExportError, match="dpi"):
        page_spec("A4", "landscape", 5000)
    with pytest.raises(ExportError, match="orientation"):
        page_spec("A4", "sideways", 300)


def test_extent_parsing():
    assert parse_extent("plan") is None and parse_extent(None) is None
    assert parse_extent("113.1,22.9,113.6,23.4") == (113.1, 22.9, 113.6, 23.4)
    for bad in ("113,22,112,23", "a,b,c,d", "1,2,3", "0,-89,10,0"):
        with pytest.raises(ExportError, match="extent"):
            parse_extent(bad)


def _colour_present(img: QImage, hex_color: str, rect, tol: int = 40) -> bool:
    target = QColor(hex_color)
    x0, y0, w, h = (int(v) for v in rect)
    step = 2
    for y in range(y0, y0 + h, step):
        for x in range(x0, x0 + w, step):
            c = img.pixelColor(x, y)
            if (abs(c.red() - target.red()) + abs(c.green() - target.green())
                    + abs(c.blue() - target.blue())) < tol:
                return True
    return False


def test_png_exact_size_dpi_and_content(atlas, tmp_path):
    out = tmp_path / "gz.png"
    res = export_map(atlas, "guangzhou", out, paper="A4", orientation="landscape", dpi=100,
                     title="广州 <测试>")
    img = QImage(str(out))
    spec = page_spec("A4", "landscape", 100)
    assert (img.width(), img.height()) == (spec.width_px, spec.height_px) == (1169, 827)
    assert res["width_px"] == 1169 and res["height_px"] == 827
    assert img.dotsPerMeterX() == round(100 / 0.0254)
    # legend: only guangzhou's visible layers (no binhai, no empty scenic layer)
    layer_rows = [r for r in res["legend"] if " · " in r]
    assert layer_rows == ["广州市 · 商圈与商业街区（3）", "广州市 · 夜间经济（2）", "广州市 · 物流枢纽与港口（2）"]
    # the map frame really shows commercial (red) and logistics (blue) symbols
    x, y, w, h = res["map_rect_px"]
    assert _colour_present(img, "#d1495b", (x, y, w, h))
    assert _colour_present(img, "#1f78b4", (x, y, w, h))
    assert img.pixelColor(3, 3) == QColor("white")          # page margin stays paper white


def test_a3_300dpi_png_is_4961_by_3508(atlas, tmp_path):
    out = tmp_path / "a3.png"
    export_map(atlas, "guangzhou,binhai", out, fmt="png", paper="A3", orientation="landscape", dpi=300)
    img = QImage(str(out))
    assert (img.width(), img.height()) == (4961, 3508)


def test_layers_filter_changes_legend(atlas, tmp_path):
    res = export_map(atlas, "guangzhou,binhai", tmp_path / "scenic.png", layers="scenic_area",
                     paper="800x600px")
    assert [r for r in res["legend"] if " · " in r] == ["滨海新区 · 景区与文旅（1）"]
    assert (res["width_px"], res["height_px"]) == (800, 600)


def test_scale_bar_uses_true_ground_resolution(atlas, tmp_path):
    """Web Mercator pixels are 1/cos(lat) too long on the ground; the scale must correct it."""
    from pyproj import Geod

    for plan in ("guangzhou", "binhai"):           # ~23°N and ~39°N
        res = export_map(atlas, plan, tmp_path / f"{plan}.png", paper="A4", dpi=96)
        minlon, minlat, maxlon, maxlat = res["view_extent"]
        lat = (minlat + maxlat) / 2
        # geodesic length of 1 degree of longitude along the map's centre latitude
        _, _, dist = Geod(ellps="WGS84").inv(minlon, lat, maxlon, lat)
        width_px = res["map_rect_px"][2]
        assert res["scale_m_per_px"] == pytest.approx(dist / width_px, rel=0.01)
        # and that is clearly not the raw Mercator resolution
        merc_res = (maxlon - minlon) / 360 * 2 * math.pi * 6378137 / width_px
        assert res["scale_m_per_px"] == pytest.approx(merc_res * math.cos(math.radians(lat)), rel=0.01)


def test_pdf_page_size_and_extractable_title(atlas, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "gz.pdf"
    title = "广州市 · 国际消费中心城市点位 2025"
    export_map(atlas, "guangzhou", out, paper="A4", orientation="landscape", dpi=150,
               title=title, subtitle="青年 人民 见证")
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(297 / 25.4 * 72, abs=1.0)      # A4 landscape in pt
    assert float(box.height) == pytest.approx(210 / 25.4 * 72, abs=1.0)
    text = reader.pages[0].extract_text()
    flat = re.sub(r"\s+", " ", text)     # extraction breaks lines where the script changes
    # real text, with the exact code points (no Kangxi radicals for 广/见, digits kept)
    assert title in flat
    assert "青年 人民 见证" in flat
    assert "图例" in flat and "广州市 · 商圈与商业街区（3）" in flat
    assert "制图 PlanAtlas" in flat
    assert reader.metadata.title == title


def test_pdf_a3_portrait_page(atlas, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "a3.pdf"
    export_map(atlas, "binhai", out, paper="A3", orientation="portrait", dpi=72)
    box = pypdf.PdfReader(str(out)).pages[0].mediabox
    assert (float(box.width), float(box.height)) == (pytest.approx(841.9, abs=1.0), pytest.approx(1190.6, abs=1.0))


def test_svg_has_text_elements_and_paper_size(atlas, tmp_path):
    out = tmp_path / "tj.svg"
    export_map(atlas, "binhai", out, paper="A3", orientation="landscape", dpi=96,
               title="滨海 <b>新区</b> & 港口")
    root = ET.parse(out).getroot()
    assert root.attrib["width"].endswith("mm") and float(root.attrib["width"][:-2]) == pytest.approx(420, abs=0.5)
    assert float(root.attrib["height"][:-2]) == pytest.approx(297, abs=0.5)
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    joined = "".join(texts)      # Qt writes one <text> per script run
    assert "滨海 <b>新区</b> & 港口" in joined                # escaped markup, shown as text
    assert not list(root.iter(f"{SVG}b")) and not list(root.iter("b"))
    assert "图例 Legend" in joined and "滨海新区 · 景区与文旅（1）" in joined
    assert any(t.startswith("比例尺 1:") for t in texts)
    assert "N" in texts
    assert any("Noto Sans SC" in t.attrib.get("font-family", "") and "sans-serif" in t.attrib["font-family"]
               for t in root.iter(f"{SVG}text"))


def test_cancel_leaves_nothing_and_keeps_old_file(atlas, tmp_path):
    for fmt in ("png", "pdf", "svg"):
        out = tmp_path / f"map.{fmt}"
        out.write_bytes(b"old map")
        seen = []

        def progress(pc, seen=seen):
            seen.append(pc)
            return pc < 80
        with pytest.raises(ExportCancelled):
            export_map(atlas, "guangzhou", out, paper="A4", dpi=72, progress=progress)
        assert seen[-1] == 80 and seen[0] == 0
        assert out.read_bytes() == b"old map"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.pdf", "map.png", "map.svg"]
    # progress reaches 100 when not cancelled
    seen = []
    export_map(atlas, "guangzhou", tmp_path / "ok.png", paper="A4", dpi=72,
               progress=lambda pc: seen.append(pc) or True)
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)


def test_a_given_scene_and_stack_are_left_as_they_were(atlas, tmp_path):
    from planatlas.desktop.render import MapScene
    from planatlas.layers.stack import plan_layer_id

    scene = MapScene.from_atlas(atlas)
    stack = scene.default_stack()
    stack.set_visible(plan_layer_id("binhai", "scenic_area"), False)
    scene.set_selection(["gz-evil"])
    before = (stack.to_dict(), set(scene.selection))
    res = export_map(atlas, "binhai", tmp_path / "b.png", paper="A4", dpi=72, scene=scene,
                     stack=stack)
    # binhai's layers as the stack shows them: the hidden scenic layer stays hidden
    assert [r for r in res["legend"] if " · " in r] == ["滨海新区 · 物流枢纽与港口（1）"]
    assert (stack.to_dict(), set(scene.selection)) == before


def test_bad_requests(atlas, tmp_path):
    with pytest.raises(ExportError, match="unknown plan"):
        export_map(atlas, "mars", tmp_path / "x.png")
    with pytest.raises(ExportError, match="unknown map format"):
        export_map(atlas, "binhai", tmp_path / "x.tiff")
    with pytest.raises(ExportError, match="unknown category"):
        export_map(atlas, "binhai", tmp_path / "x.png", layers="zoo")
    with pytest.raises(ExportError, match="does not exist"):
        export_map(atlas, "binhai", tmp_path / "no" / "x.png", dpi=72)
    assert list(tmp_path.iterdir()) == []


def test_cli_export_map(tmp_path, capsys, monkeypatch, atlas):
    import planatlas.layers.atlas
    from planatlas.desktop.cli import main

    monkeypatch.setattr(planatlas.layers.atlas, "load_atlas", lambda *a, **k: atlas)
    out = tmp_path / "cli.png"
    code = main(["export", "map", "--plan", "binhai", "--paper", "640x480px", "--extent",
                 "117.6,38.8,117.9,39.05", "--title", "CLI", "--out", str(out)])
    assert code == 0
    res = json.loads(capsys.readouterr().out)
    assert res["format"] == "png" and res["extent"] == [117.6, 38.8, 117.9, 39.05]
    assert (QImage(str(out)).width(), QImage(str(out)).height()) == (640, 480)
    code = main(["export", "map", "--plan", "binhai", "--paper", "B5", "--out", str(out)])
    assert code == 2 and "unknown --paper 'B5'" in capsys.readouterr().err


def test_real_atlas_map(tmp_path):
    try:
        from planatlas.layers.atlas import load_atlas
        atlas = load_atlas()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"real atlas not loadable: {exc}")
    plan = next((p for p in atlas.plans if atlas.features_for(plans=[p])), None)
    if plan is None:
        pytest.skip("no curated features yet")
    res = export_map(atlas, plan, tmp_path / "real.png", paper="A4", dpi=96)
    assert (res["width_px"], res["height_px"]) == (1123, 794)
    assert any(" · " in r for r in res["legend"])


def test_place_labels_are_selectable_text_in_svg_and_pdf(tmp_path):
    """Map labels, not only the page furniture, are real text in vector output."""
    from planatlas.layers.atlas import load_atlas
    real = load_atlas()
    svg = tmp_path / "xq.svg"
    export_map(real, "xiqing", svg, paper="A4", dpi=96)
    joined = "".join("".join(t.itertext()) for t in ET.parse(svg).getroot().iter(f"{SVG}text"))
    assert "杨柳青古镇" in joined and "梅江会展中心" in joined
    pdf = tmp_path / "xq.pdf"
    export_map(real, "xiqing", pdf, paper="A4", dpi=150)
    import pypdf
    assert "梅江会展中心" in pypdf.PdfReader(str(pdf)).pages[0].extract_text()


def _page_texts(path) -> str:
    if path.suffix == ".svg":
        return "".join("".join(t.itertext()) for t in ET.parse(path).getroot().iter(f"{SVG}text"))
    import pypdf
    return re.sub(r"\s+", "", pypdf.PdfReader(str(path)).pages[0].extract_text())


def test_a_hidden_layer_is_absent_from_every_format_and_the_legend(atlas, tmp_path):
    """The window passes its stack: what is hidden on screen is not on the page."""
    pytest.importorskip("pypdf")
    from planatlas.desktop.render import MapScene
    from planatlas.layers.stack import plan_layer_id

    scene = MapScene.from_atlas(atlas)
    stack = scene.default_stack()
    box = "113.25,22.6,113.75,23.2"
    kw = dict(paper="1000x700px", dpi=96, extent=box, scene=scene, stack=stack)
    shown = {f: export_map(atlas, "guangzhou", tmp_path / f"shown.{f}", **kw) for f in ("png", "svg", "pdf")}
    stack.set_visible(plan_layer_id("guangzhou", "logistics_hub"), False)
    hidden = {f: export_map(atlas, "guangzhou", tmp_path / f"hidden.{f}", **kw) for f in ("png", "svg", "pdf")}
    for fmt in ("png", "svg", "pdf"):
        assert any("物流枢纽" in r for r in shown[fmt]["legend"])
        assert not any("物流枢纽" in r for r in hidden[fmt]["legend"])
    rect = shown["png"]["map_rect_px"]
    assert _colour_present(QImage(str(tmp_path / "shown.png")), "#1f78b4", rect)
    assert not _colour_present(QImage(str(tmp_path / "hidden.png")), "#1f78b4", rect)
    assert _colour_present(QImage(str(tmp_path / "hidden.png")), "#d1495b", rect)
    for fmt in ("svg", "pdf"):                     # labels and legend rows are real text
        before, after = _page_texts(tmp_path / f"shown.{fmt}"), _page_texts(tmp_path / f"hidden.{fmt}")
        assert "南沙港区" in before and "物流枢纽与港口" in before
        assert "南沙港区" not in after and "物流枢纽与港口" not in after
        assert "天河路商圈" in after


def test_a_restyled_layer_exports_restyled(atlas, tmp_path):
    from planatlas.desktop.render import MapScene
    from planatlas.layers.stack import plan_layer_id

    scene = MapScene.from_atlas(atlas)
    stack = scene.default_stack()
    stack.set_style(plan_layer_id("guangzhou", "commercial_district"), color="#00c000", size=16)
    res = export_map(atlas, "guangzhou", tmp_path / "green.png", paper="1000x700px", dpi=96,
                     scene=scene, stack=stack)
    img = QImage(str(tmp_path / "green.png"))
    assert _colour_present(img, "#00c000", res["map_rect_px"], tol=20)
    assert not _colour_present(img, "#d1495b", res["map_rect_px"], tol=20)
