"""Presenter-grade output (issue 14): exports show the window's layer stack, extents, site-list
PDF text, SVG that renders alike in rsvg and Chromium, dense-area callouts, the atlas."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage  # noqa: E402

from planatlas.layers.atlas import load_atlas  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
HIDDEN = "plan/guangzhou/scenic_area"
MAGENTA = "#ff00ff"


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


@pytest.fixture
def win(qtbot, tmp_path, atlas):
    from planatlas.desktop.app import MainWindow
    w = MainWindow(atlas, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w.frame_plan("guangzhou")
    return w


def _magenta_pixels(path) -> int:
    img = QImage(str(path)).convertToFormat(QImage.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    b, g, r = arr[..., 0].astype(int), arr[..., 1].astype(int), arr[..., 2].astype(int)
    return int(((r > 150) & (b > 150) & (g < 120) & (np.abs(r - b) < 40)).sum())


def _svg_text(path) -> str:
    return "".join("".join(t.itertext()) for t in ET.parse(path).getroot().iter(f"{SVG}text"))


def _pdf_text(path) -> str:
    pypdf = pytest.importorskip("pypdf")
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in pypdf.PdfReader(str(path)).pages))


def test_a_hidden_layer_is_absent_from_png_svg_pdf_and_html(win, tmp_path, atlas):
    """Restyle guangzhou's scenic layer magenta: it shows in every export; hide it in the
    layers panel: its pixels, legend row, labels and HTML markers are gone."""
    from planatlas.desktop.export_dialog import export_from_window

    win.state.set_layers_visible([la.id for la in win.state.stack.find(kind="plan_category")
                                  if la.source["plan"] != "guangzhou"], False)
    win.state.set_layer_style(HIDDEN, color=MAGENTA)
    others = {f.name for f in atlas.features_for(plans=["guangzhou"])
              if set(f.categories) != {"scenic_area"}}
    only_scenic = {f.name for f in atlas.features_for(plans=["guangzhou"], categories=["scenic_area"])
                   if f.name not in others and not any(f.name in o for o in others)}
    page = {"paper": "A4", "orientation": "landscape", "dpi": 110, "title": "测试", "subtitle": None,
            "extent": "plan"}
    legend_row = "广州市 · 景区与文旅"

    def export_all(tag):
        out = {}
        for fmt in ("png", "svg", "pdf"):
            out[fmt] = tmp_path / f"{tag}.{fmt}"
            info = export_from_window(win, "map", {"out": out[fmt], "fmt": fmt, **page})
            assert info is not None
        out["html"] = tmp_path / f"{tag}.html"
        assert export_from_window(win, "html", {"out": out["html"], "title": None, "extent": "plan"})
        return out

    shown = export_all("shown")
    assert _magenta_pixels(shown["png"]) > 200
    svg, pdf = _svg_text(shown["svg"]), _pdf_text(shown["pdf"])
    html = shown["html"].read_text(encoding="utf-8")
    assert legend_row in svg and legend_row.replace(" ", "") in pdf
    labelled = {n for n in only_scenic if n in svg}
    assert len(labelled) >= 3                              # some scenic-only sites are labelled
    assert MAGENTA in html and all(n in html for n in list(only_scenic)[:10])

    win.layers_panel.items[HIDDEN].setCheckState(0, win.layers_panel.items[HIDDEN].checkState(0).Unchecked)
    assert not win.state.is_layer_visible(HIDDEN)
    hidden = export_all("hidden")
    assert _magenta_pixels(hidden["png"]) == 0
    svg, pdf = _svg_text(hidden["svg"]), _pdf_text(hidden["pdf"])
    html = hidden["html"].read_text(encoding="utf-8")
    assert legend_row not in svg and legend_row.replace(" ", "") not in pdf
    assert not [n for n in labelled if n in svg or n.replace(" ", "") in pdf]
    assert "magenta" not in html and MAGENTA not in html
    assert not [n for n in only_scenic if f">{n}<" in html or f"`{n}`" in html]
    assert "商圈与商业街区" in html                          # the visible layers are still there


def test_export_extent_from_the_dialog_options_and_the_cli(win, tmp_path, atlas, capsys, monkeypatch):
    from planatlas.desktop.export_dialog import ExportDialog, export_from_window

    dlg = ExportDialog("map", ["guangzhou"], win, districts=["天河区", "越秀区"])
    values = [dlg.extent.itemData(i) for i in range(dlg.extent.count())]
    assert values == ["view", "plan", "all", "district:天河区", "district:越秀区"]
    dlg.extent.setCurrentIndex(3)
    assert dlg.options()["extent"] == "district:天河区"
    dlg.deleteLater()
    th = atlas.basemap.district("天河区").bounds
    info = export_from_window(win, "map", {"out": tmp_path / "th.png", "fmt": "png",
                                           "paper": "800x600px", "orientation": "landscape",
                                           "dpi": 96, "title": None, "subtitle": None,
                                           "extent": "district:天河区"})
    assert info["extent"] == pytest.approx(list(th), abs=1e-6)
    # the window's view: what the canvas shows
    win.canvas.frame_bbox((113.30, 23.10, 113.36, 23.14))
    info = export_from_window(win, "map", {"out": tmp_path / "v.png", "fmt": "png",
                                           "paper": "800x600px", "orientation": "landscape",
                                           "dpi": 96, "title": None, "subtitle": None,
                                           "extent": "view"})
    assert info["extent"] == pytest.approx(list(win.canvas.view.extent_lonlat()), abs=1e-6)

    import planatlas.layers.atlas
    from planatlas.desktop.cli import main
    monkeypatch.setattr(planatlas.layers.atlas, "load_atlas", lambda *a, **k: atlas)
    assert main(["export", "map", "--plan", "guangzhou", "--paper", "640x480px", "--extent",
                 "district:越秀区", "-o", str(tmp_path / "yx.png")]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["extent"] == pytest.approx(list(atlas.basemap.district("越秀区").bounds), abs=1e-6)
    assert main(["export", "map", "--plan", "guangzhou", "--extent", "view",
                 "-o", str(tmp_path / "x.png")]) == 2
    assert "--extent view needs a saved view" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_default_page_texts_fit_and_never_read_empty_brackets(atlas):
    from planatlas.desktop.export_map import page_texts

    _t, sub, attribution = page_texts(atlas, list(atlas.plans))
    assert sub.startswith(f"{len(atlas.plans)} 项规划：") and len(sub) < 60
    assert "（，）" not in "".join(attribution) and "（）" not in "".join(attribution)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_site_list_pdf_text_extracts_as_printed(tmp_path, atlas, qapp):
    from planatlas.desktop.sitelist import write_sitelist_pdf

    feats = [f for f in atlas.features_for(plans=["guangzhou"])]
    assert any(f.precision_m == 3000 for f in feats)
    out = write_sitelist_pdf(feats, tmp_path / "list.pdf", atlas=atlas,
                             title="广州市 现场核查清单")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "广州" in text and "±3000" in text
    assert "⼴" not in text                                  # no Kangxi radical for 广


def _chromium() -> str | None:
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)


@pytest.mark.skipif(shutil.which("rsvg-convert") is None or _chromium() is None,
                    reason="needs rsvg-convert (librsvg2-bin) and chromium")
def test_svg_renders_alike_in_rsvg_and_chromium_at_two_sizes(tmp_path, atlas, qapp):
    from PIL import Image

    from planatlas.desktop.export_map import export_map

    svg = tmp_path / "gz.svg"
    export_map(atlas, "guangzhou", svg, paper="A4", dpi=96)
    text = svg.read_text(encoding="utf-8")
    assert "non-scaling-stroke" not in text and "<pattern" not in text and "<mask" not in text
    assert "clip-path=" in text
    for width in (700, 1400):
        height = round(width * 210 / 297)
        a, b = tmp_path / f"rsvg{width}.png", tmp_path / f"chrome{width}.png"
        subprocess.run(["rsvg-convert", "-w", str(width), "-h", str(height), "-b", "white",
                        str(svg), "-o", str(a)], check=True, timeout=120)
        page = tmp_path / f"p{width}.html"
        page.write_text(f"<html><body style='margin:0;background:#fff'><img src='gz.svg' "
                        f"style='width:{width}px;height:{height}px;display:block'></body></html>")
        subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--window-size={width},{height}",
                        f"--screenshot={b}", page.as_uri()], check=True, timeout=120,
                       capture_output=True)
        ia = np.asarray(Image.open(a).convert("RGB"), dtype=np.int16)
        ib = np.asarray(Image.open(b).convert("RGB"), dtype=np.int16)[:height, :width]
        assert ia.shape == ib.shape
        # the map frame (left 2/3 of the page) has boundaries, rivers, symbols: compare blocks
        # of 8×8 pixels (anti-aliasing and font hinting differ by a pixel between renderers)
        k = 8
        h8, w8 = height // k * k, width // k * k
        ba = ia[:h8, :w8].reshape(h8 // k, k, w8 // k, k, 3).mean(axis=(1, 3))
        bb = ib[:h8, :w8].reshape(h8 // k, k, w8 // k, k, 3).mean(axis=(1, 3))
        diff = np.abs(ba - bb).max(axis=2)
        assert diff.mean() < 4.0, (width, diff.mean())
        assert (diff > 40).mean() < 0.02, (width, (diff > 40).mean())
        # and both really drew the map: water blue and boundary ink inside the frame
        water = (np.abs(ia - np.array([181, 213, 230])).sum(axis=2) < 30).mean()
        assert water > 0.01


def test_dense_centre_of_guangzhou_gets_an_inset_and_a_numbered_key(tmp_path, atlas, qapp):
    from planatlas.desktop.export_map import export_map

    res = export_map(atlas, "guangzhou", tmp_path / "gz.png", paper="A4", dpi=120)
    x0, y0, x1, y1 = res["inset_extent"]
    centre = [f for f in atlas.features_for(plans=["guangzhou"]) if f.district in ("天河区", "越秀区", "荔湾区")]
    pts = [f.geometry.representative_point() for f in centre]
    inside = [p for p in pts if x0 <= p.x <= x1 and y0 <= p.y <= y1]
    assert len(centre) >= 30 and len(inside) >= 20           # the inset is on central Guangzhou
    assert res["callouts"] and [c["no"] for c in res["callouts"]] == list(range(1, len(res["callouts"]) + 1))
    none = export_map(atlas, "guangzhou", tmp_path / "plain.png", paper="A4", dpi=120, callouts="none")
    assert none["inset_extent"] is None and none["callouts"] == []


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed")
def test_a3_atlas_of_guangzhou_by_district_is_one_command(tmp_path, atlas, capsys, monkeypatch):
    import planatlas.layers.atlas
    from planatlas.desktop.cli import main

    monkeypatch.setattr(planatlas.layers.atlas, "load_atlas", lambda *a, **k: atlas)
    out = tmp_path / "gz.pdf"
    assert main(["export", "atlas", "--plan", "guangzhou", "--by", "district", "--paper", "A3",
                 "--dpi", "72", "-o", str(out)]) == 0
    res = json.loads(capsys.readouterr().out)
    districts = [n for n, p in zip(atlas.basemap.table("districts").values("name"),
                                   atlas.basemap.table("districts").values("plan")) if p == "guangzhou"]
    assert [p["name"] for p in res["pages"]] == sorted(districts, key=lambda n: str(
        atlas.basemap.district_info(n)["adcode"]))
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert re.search(rf"Pages:\s+{len(districts)}\b", info) and "A3" in info
    for page in res["pages"]:                                  # each page framed on its district
        b = atlas.basemap.district(page["name"]).bounds
        assert page["extent"] == pytest.approx(list(b), abs=1e-6)
    text = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(out), "-"], capture_output=True,
                          text=True).stdout
    assert "越秀区" in text and "第 2 / 11 页" in text
    # a folder of PNG pages
    folder = tmp_path / "pages"
    assert main(["export", "atlas", "--plan", "guangzhou", "--by", "plan", "--paper", "600x400px",
                 "-o", str(folder)]) == 0
    capsys.readouterr()
    assert [p.name for p in folder.iterdir()] == ["01-guangzhou.png"]
    img = QImage(str(folder / "01-guangzhou.png"))
    assert (img.width(), img.height()) == (600, 400) and img.pixelColor(2, 2) == QColor("white")


def test_a_layout_made_in_the_window_reproduces_from_the_cli(win, qtbot, tmp_path, atlas, capsys,
                                                             monkeypatch):
    """Drag the legend and resize the title in the layout window, save the template; the CLI
    with ``--layout`` draws the same page as the window's own export."""
    from PIL import Image
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    from planatlas.desktop.layout_window import LayoutWindow
    from planatlas.layers.layout import load_template

    win.state.set_layers_visible([la.id for la in win.state.stack.find(kind="plan_category")
                                  if la.source["plan"] != "guangzhou"], False)
    lw = LayoutWindow(win)
    qtbot.addWidget(lw)
    lw.show()
    qtbot.waitExposed(lw)
    legend0 = lw.layout.item("legend").rect
    frame = lw.frames["legend"]
    vp = lw.view.viewport()
    start = lw.view.mapFromScene(frame.mapToScene(frame.rect().center()))
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    for k in range(1, 6):                              # drag 150 px left, 40 px down
        QTest.mouseMove(vp, start + QPoint(-30 * k, 8 * k))
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, start + QPoint(-150, 40))
    moved = lw.layout.item("legend").rect
    assert moved[0] < legend0[0] - 20 and moved[1] > legend0[1] + 5 and moved[2:] == legend0[2:]
    # resize the title by its corner handle
    handle = lw.frames["title"].handle
    hp = lw.view.mapFromScene(handle.mapToScene(QPointF(-4, -4)))
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, hp)
    QTest.mouseMove(vp, hp + QPoint(-200, 5))
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, hp + QPoint(-200, 5))
    title0 = 297 - 2 * 7.35
    assert lw.layout.item("title").w < title0 - 30
    lw.callouts.setCurrentIndex(lw.callouts.findData("key"))
    tpl = lw.save_template(tmp_path / "my.layout.json")
    assert load_template(tpl).to_dict()["items"] == lw.layout.to_dict()["items"]

    in_window = lw.export(tmp_path / "window.png", fmt="png", dpi=96)
    assert in_window["callouts"] and in_window["inset_extent"] is None       # "key" only

    import planatlas.layers.atlas
    from planatlas.desktop.cli import main
    monkeypatch.setattr(planatlas.layers.atlas, "load_atlas", lambda *a, **k: atlas)
    box = ",".join(repr(v) for v in win.canvas.view.extent_lonlat())
    assert main(["export", "map", "--plan", ",".join(lw.plans), "--layout", str(tpl),
                 "--extent", box, "--dpi", "96", "-o", str(tmp_path / "cli.png")]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["legend"] == in_window["legend"] and cli["map_rect_px"] == in_window["map_rect_px"]
    a = np.asarray(Image.open(tmp_path / "window.png").convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(tmp_path / "cli.png").convert("RGB"), dtype=np.int16)
    assert a.shape == b.shape and np.abs(a - b).mean() < 0.5
    # the legend really is where it was dragged: legend text rows start left of the map's edge
    lx = moved[0] * 96 / 25.4
    assert lx < cli["map_rect_px"][0] + cli["map_rect_px"][2]
    lw.close()


def test_xlsx_exports_print_one_page_wide_with_room_for_the_header(tmp_path, atlas):
    from openpyxl import load_workbook

    from planatlas.layers import sitelist
    from planatlas.layers.export.data import export_data

    export_data(atlas, "guangzhou", None, "xlsx", "wgs84", tmp_path / "sites.xlsx")
    feats = atlas.features_for(plans=["guangzhou"])
    sitelist.write_sitelist_xlsx(feats, tmp_path / "list.xlsx", crs="wgs84", title="广州")
    for path in (tmp_path / "sites.xlsx", tmp_path / "list.xlsx"):
        for ws in load_workbook(path).worksheets:
            if ws.max_row < 3 or not ws.auto_filter.ref:        # tables, not the charts sheet
                continue
            ps, m = ws.page_setup, ws.page_margins
            assert ps.orientation == "landscape" and ps.fitToWidth == 1, (path.name, ws.title)
            assert ws.sheet_properties.pageSetUpPr.fitToPage
            assert m.top - m.header >= 0.4 and m.bottom - m.footer >= 0.4    # header not clipped
    ws = load_workbook(tmp_path / "sites.xlsx")["sites"]
    assert ws.column_dimensions["A"].width >= max(len(f.id) for f in feats)    # ids shown whole


def test_html_markers_have_the_category_shapes_and_readable_labels(tmp_path, atlas):
    from planatlas.layers.export.html import export_html

    out = tmp_path / "gz.html"
    export_html(atlas, "guangzhou", out, extent=atlas.basemap.district("越秀区").bounds)
    page = out.read_text(encoding="utf-8")
    assert page.count("7,1 13.4,12.6 0.6,12.6") >= 30            # scenic sites as triangles
    assert page.count('width=\\"10.8\\"') + page.count('width="10.8"') >= 20   # logistics squares
    assert "L.circleMarker(" not in page                          # no folium circle markers
    assert page.count('"permanent": true') >= 100                # name labels …
    assert 'classList.toggle("pa-far", map.getZoom() < 11)' in page   # … hidden when zoomed out
    assert 'setPrefix("Leaflet")' in page                        # no flag in the attribution
    lon0, lat0, lon1, lat1 = atlas.basemap.district("越秀区").bounds
    assert f"[[{lat0}, {lon0}], [{lat1}, {lon1}]]" in page       # opens on the chosen extent


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_png_and_pdf_state_the_same_scale_and_district_names_are_searchable(tmp_path, atlas, qapp):
    from planatlas.desktop.export_map import export_map

    png = export_map(atlas, "guangzhou", tmp_path / "gz.png", paper="A4", dpi=150)
    pdf = export_map(atlas, "guangzhou", tmp_path / "gz.pdf", paper="A4", dpi=150)
    text = subprocess.run(["pdftotext", str(tmp_path / "gz.pdf"), "-"], capture_output=True,
                          text=True).stdout
    assert png["scale"] == pdf["scale"] and f"比例尺 1:{pdf['scale']:,}" in text
    assert "佛冈县" in text                                   # no letter-spacing in district labels


def test_data_dialog_names_a_file_not_in_wgs84_after_its_system(win):
    from planatlas.desktop.export_dialog import ExportDialog

    dlg = ExportDialog("data", ["guangzhou"], win, names=["广州"])
    dlg.format.setCurrentText("gpx")
    dlg.crs.setCurrentIndex(dlg.crs.findData("gcj02"))
    assert dlg.options()["out"].name.endswith("-gcj02.gpx")
    dlg.crs.setCurrentIndex(dlg.crs.findData("wgs84"))
    assert not dlg.options()["out"].stem.endswith("gcj02")
    dlg.deleteLater()
