"""Printable site lists: XLSX (Qt-free) and PDF (Qt), and the list → survey → check round trip."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from planatlas.layers import crs as crsmod
from planatlas.layers.sitelist import COLUMNS, sitelist_groups, write_sitelist_xlsx
from planatlas.desktop.cli import main as sites_main
from planatlas.layers.survey import check_survey, feature_anchor
from test_sites_data import offset, survey_features


@pytest.fixture(scope="module")
def feats():
    return survey_features()


def test_groups_by_district_with_converted_coordinates(feats):
    groups = sitelist_groups(feats, "gcj02")
    assert sum(len(v) for v in groups.values()) == len(feats)
    assert list(groups) == sorted(groups)
    nos = [r.no for rows in groups.values() for r in rows]
    assert nos == list(range(1, len(feats) + 1))
    for district, rows in groups.items():
        for r in rows:
            assert r.district == district == (r.feature.district or "（未注明区县）")
            lon, lat = feature_anchor(r.feature)
            gx, gy = crsmod.convert(lon, lat, "wgs84", "gcj02")
            assert (r.lon, r.lat) == (pytest.approx(float(gx)), pytest.approx(float(gy)))


def test_xlsx_layout(tmp_path, feats):
    out = write_sitelist_xlsx(feats, tmp_path / "list.xlsx", crs="bd09", title="清单 <script>&")
    wb = load_workbook(out)
    groups = sitelist_groups(feats, "bd09")
    assert wb.sheetnames[-1] == "说明 Guide"
    assert len(wb.sheetnames) == len(groups) + 1
    ws = wb.worksheets[0]
    district, rows = next(iter(groups.items()))
    assert ws["A1"].value == "清单 <script>&"
    assert district in ws["A2"].value and "BD-09" in ws["A2"].value
    header = [c.value for c in ws[4]]
    assert header[0] == COLUMNS[0][0] and "BD-09" in header[5]
    assert ws.freeze_panes == "C5"
    assert ws.print_title_rows == "$4:$4"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    first = [c.value for c in ws[5]]
    assert first[1] == rows[0].id and first[2] == rows[0].name
    assert first[8:11] == ["☐", "☐", "☐"]
    assert first[5] == pytest.approx(rows[0].lon, abs=1e-6)
    validations = {dv.formula1: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert validations['"found,moved,missing"'] == f"L5:L{4 + len(rows)}"
    assert '"☐,☑"' in validations
    assert not list(tmp_path.glob(".*.tmp"))


def test_filled_in_xlsx_checks_as_a_survey(tmp_path, feats):
    """Round trip: print the list (GCJ-02), fill in phone readings, check it."""
    out = write_sitelist_xlsx(feats, tmp_path / "list.xlsx", crs="gcj02")
    wb = load_workbook(out)
    by_id = {f.id: f for f in feats}
    filled = 0
    moved_id = None
    for ws in wb.worksheets[:-1]:
        for r in range(5, ws.max_row + 1):
            fid = ws.cell(r, 2).value
            if fid not in by_id or filled >= 12:
                continue
            lon, lat = feature_anchor(by_id[fid])
            if moved_id is None and by_id[fid].geometry.geom_type == "Point":
                moved_id = fid
                lon, lat = offset(lon, lat, 0, 1500)          # 1.5 km north
                ws.cell(r, 12).value = "moved"
            else:
                ws.cell(r, 9).value = "☑"
            gx, gy = crsmod.convert(lon, lat, "wgs84", "gcj02")
            ws.cell(r, 13).value, ws.cell(r, 14).value = float(gx), float(gy)
            ws.cell(r, 15).value = "2024-06-01"
            filled += 1
    wb.save(tmp_path / "filled.xlsx")
    report = check_survey(tmp_path / "filled.xlsx", feats)
    assert len(report.rows) == filled == 12                 # rows nobody filled in are skipped
    assert report.crs.chosen == "gcj02"
    st = {r.feature: r for r in report.rows}
    assert st[moved_id].status == "moved" and st[moved_id].reported == "moved"
    assert st[moved_id].distance_m == pytest.approx(1500, abs=30)
    assert sum(r.status == "confirmed" for r in report.rows) == 11
    assert all(r.reported in ("found", "moved") for r in report.rows)
    assert len(report.not_surveyed) == len(feats) - 12


def test_pdf_has_pages_maps_and_chinese_glyphs(tmp_path, feats, qapp):
    from planatlas.desktop.sitelist import paginate, write_sitelist_pdf

    out = write_sitelist_pdf(feats, tmp_path / "list.pdf", crs="wgs84", title="现场核查清单 测试")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    groups = sitelist_groups(feats, "wgs84")
    pages = paginate(groups)
    assert len(pages) >= len(groups)
    n_pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert n_pages == len(pages)
    assert b"NotoSansSC" in data                            # the Chinese font is embedded
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                              text=True, check=True).stdout
        first_district = next(iter(groups))
        first = groups[first_district][0]
        assert "现场核查清单 测试" in text
        assert first.name in text.replace(" ", "")
        assert re.search(rf"第\s*1\s*/\s*{len(pages)}\s", text)       # page n of N
        assert f"{first.lon:.6f}" in text
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "20", "-png", "-f", "1", "-l", "1", str(out),
                        str(tmp_path / "p")], check=True)
        from PySide6.QtGui import QImage

        png = next(tmp_path.glob("p*.png"))
        img = QImage(str(png))
        colours = {img.pixelColor(x, y).name() for x in range(0, img.width(), 3)
                   for y in range(0, img.height() // 2, 3)}
        assert len(colours) > 20                            # a painted map, not a blank page


def test_cli_sitelist_xlsx_and_pdf(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    from planatlas.layers.atlas import load_atlas

    atlas = load_atlas()
    plan = next((p for p in atlas.plans if atlas.features_for(plans=[p])), None)
    if plan is None:
        pytest.skip("the gazetteer has no features yet")
    n = len(atlas.features_for(plans=[plan], categories=["commercial_district"]))
    assert sites_main(["sitelist", "--plan", plan, "--category", "commercial_district",
                       "--crs", "gcj02", "--format", "xlsx", "--out", str(tmp_path / "a.xlsx")]) == 0
    assert f"{n} sites" in capsys.readouterr().out
    wb = load_workbook(tmp_path / "a.xlsx")
    assert sum(ws.max_row - 4 for ws in wb.worksheets[:-1]) == n
    assert sites_main(["sitelist", "--plan", plan, "--out", str(tmp_path / "b.pdf")]) == 0
    assert (tmp_path / "b.pdf").read_bytes().startswith(b"%PDF")
    assert sites_main(["sitelist", "--plan", "nowhere", "--out", str(tmp_path / "c.xlsx")]) == 2
    assert "unknown plan" in capsys.readouterr().err
    assert sites_main(["sitelist", "--district", "不存在的区", "--out", str(tmp_path / "d.xlsx")]) == 2
    assert "no features match" in capsys.readouterr().err
