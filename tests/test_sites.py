"""Survey checking: reading CSV/XLSX/GPX/KML, CRS detection, statuses, reports, CLI."""
from __future__ import annotations

import csv
import json
import zipfile

import pytest
from shapely.geometry import Point, box

from planatlas.layers.model import Feature
from planatlas.layers.survey import (check_survey, feature_anchor, normalize_name, report_layer,
                          write_report)
from planatlas.layers.survey import SurveyFormatError, iter_survey, parse_coord
from test_sites_data import offset, point_features, survey_features, survey_points, write_csv


@pytest.fixture(scope="module")
def feats():
    return survey_features()


@pytest.fixture(scope="module")
def pts(feats):
    """Point features only (detection tests must not depend on polygon sizes)."""
    p = point_features(feats)
    assert len(p) >= 10
    return p[:40]


# ----------------------------------------------------------------------------- CRS detection

@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_crs_is_detected_from_the_data(tmp_path, pts, crs):
    rows = [[f.name, x, y] for f, x, y in survey_points(pts, crs=crs)]
    path = write_csv(tmp_path / f"{crs}.csv", ["名称", "经度", "纬度"], rows)
    report = check_survey(path, pts, crs="auto")
    assert report.crs.chosen == crs
    assert report.crs.detected is True
    assert report.crs.status == "detected"
    assert report.crs.confidence >= 0.8
    assert report.counts["confirmed"] == len(rows)
    assert report.not_surveyed == []
    # the winning CRS brings rows much closer than the others
    others = [m for k, m in report.crs.medians_m.items() if k != crs]
    assert report.crs.medians_m[crs] * 5 < min(others)


def test_reading_gcj02_as_wgs84_moves_every_site(tmp_path, pts):
    rows = [[f.name, x, y] for f, x, y in survey_points(pts, crs="gcj02")]
    path = write_csv(tmp_path / "g.csv", ["name", "lon", "lat"], rows)
    report = check_survey(path, pts, crs="wgs84")
    assert report.crs.chosen == "wgs84" and report.crs.detected is False
    assert report.counts["moved"] == len(rows)
    assert "look like gcj02" in report.crs.message


def test_crs_undetermined_with_too_few_matched_rows(tmp_path, pts):
    rows = [[f.name, x, y] for f, x, y in survey_points(pts[:2], crs="gcj02")]
    rows.append(["一个不存在的地方", 113.3, 23.1])
    path = write_csv(tmp_path / "few.csv", ["名称", "经度", "纬度"], rows)
    report = check_survey(path, pts)
    assert report.crs.status == "undetermined"
    assert report.crs.detected is False
    assert report.crs.confidence is None
    assert report.crs.chosen == "wgs84"
    assert any("undetermined" in m for m in report.messages)


# ----------------------------------------------------------------------------- statuses

def test_moved_site_reported_with_distance_and_direction(tmp_path, pts):
    moved = pts[3]
    rows = [[f.name, x, y] for f, x, y in survey_points(pts, crs="wgs84", noise_m=5,
                                                         moved={moved.id: 800.0})]
    path = write_csv(tmp_path / "m.csv", ["名称", "经度", "纬度"], rows)
    report = check_survey(path, pts, tolerance_m=200)
    r = report.row(4)
    assert r.feature == moved.id
    assert r.status == "moved"
    assert 770 < r.distance_m < 830
    assert " E of " in r.message
    assert sum(1 for x in report.rows if x.status == "moved") == 1
    # a wider tolerance confirms it
    report2 = check_survey(path, pts, tolerance_m=1000)
    assert report2.row(4).status == "confirmed"


def test_polygon_distance_is_to_the_geometry():
    park = Feature(id="t-park", name="越秀公园", aliases=[], categories=["scenic_area"], subtype="park",
                   tier=None, plans=["guangzhou"], district="越秀区", adcode="440104",
                   geometry=box(113.2600, 23.1360, 113.2720, 23.1440), precision_m=100,
                   source="test", status="approximate")
    inside = (113.2610, 23.1370)                       # a corner, far from the centroid
    east = offset(113.2720, 23.1400, 500.0, 0.0)       # 500 m east of the east edge
    rows = [SurveyLike("越秀公园", *inside), SurveyLike("越秀公园", *east)]
    from planatlas.layers.survey import check_rows
    report = check_rows(rows, [park], crs="wgs84", tolerance_m=200)
    a, b = report.rows
    assert a.status == "confirmed" and a.distance_m == pytest.approx(0.0, abs=0.5)
    assert b.status == "moved" and b.distance_m == pytest.approx(500.0, abs=5.0)


def SurveyLike(name, lon, lat, row=[0]):  # noqa: N802 - tiny factory for check_rows
    from planatlas.layers.survey import SurveyRow

    row[0] += 1
    return SurveyRow(row=row[0], where=f"item {row[0]}", name=name, lon=lon, lat=lat)


def test_bad_rows_are_invalid_with_reasons_and_do_not_stop_the_check(tmp_path, pts):
    good = [[f.name, x, y] for f, x, y in survey_points(pts[:6], crs="wgs84")]
    bad = [
        [pts[6].name, "abc", "23.1"],            # unparsable
        [pts[7].name, "", "23.1"],               # empty longitude
        [pts[8].name, "113.3", "95.5"],          # impossible latitude (not fixable by swapping)
        [pts[9].name, "0", "0"],                 # null island
        [pts[6].name, "113°75'00\"E", "23.1"],   # minutes out of range
        ["", "", ""],                            # blank row: skipped, not an error
        [pts[7].name],                           # short row
    ]
    path = write_csv(tmp_path / "bad.csv", ["名称", "经度", "纬度"], good + bad)
    report = check_survey(path, pts)
    st = {r.row: r for r in report.rows}
    assert all(st[i].status == "confirmed" for i in range(1, 7))
    assert "not a coordinate" in st[7].message and st[7].status == "invalid"
    assert "longitude is empty" in st[8].message
    assert "latitude 95.5" in st[9].message
    assert "0,0" in st[10].message
    assert "minutes/seconds out of range" in st[11].message
    assert 12 not in st                          # the blank row
    assert st[13].status == "invalid" and "no coordinates" in st[13].message
    # invalid rows still name their feature, but the feature counts as not surveyed
    assert st[7].feature == pts[6].id
    assert pts[8].id in report.not_surveyed
    assert st[9].where == "line 10"


def test_swapped_columns_are_detected_and_fixed(tmp_path, pts):
    rows = [[f.name, y, x] for f, x, y in survey_points(pts, crs="gcj02")]   # lat under "lon"
    path = write_csv(tmp_path / "sw.csv", ["name", "lon", "lat"], rows)
    report = check_survey(path, pts)
    assert report.counts["confirmed"] == len(rows)
    assert report.crs.chosen == "gcj02"
    assert any("swapped" in m for m in report.messages)


def test_single_swapped_row_is_fixed_with_a_message(tmp_path, pts):
    rows = [[f.name, x, y] for f, x, y in survey_points(pts, crs="wgs84")]
    rows[2] = [rows[2][0], rows[2][2], rows[2][1]]
    path = write_csv(tmp_path / "sw1.csv", ["name", "lon", "lat"], rows)
    report = check_survey(path, pts)
    r = report.row(3)
    assert r.status == "confirmed"
    assert "swapped" in r.message
    assert not report.messages or not any("columns appear swapped" in m for m in report.messages)


def test_unmatched_rows_and_not_surveyed(tmp_path, pts):
    rows = [[f.name, x, y] for f, x, y in survey_points(pts[:5])]
    rows.append(["火星基地", 113.3, 23.1])
    rows.append(["", 113.3, 23.1])
    path = write_csv(tmp_path / "u.csv", ["名称", "经度", "纬度"], rows)
    report = check_survey(path, pts)
    assert report.row(6).status == "unmatched"
    assert "no feature named '火星基地'" in report.row(6).message
    assert "no name or id" in report.row(7).message
    assert set(report.not_surveyed) == {f.id for f in pts[5:]}


def test_feature_of_another_plan_is_explained(tmp_path, feats):
    by_plan = {}
    for f in point_features(feats):
        by_plan.setdefault(f.plans[0] if f.plans else "", []).append(f)
    plans = [p for p in by_plan if p]
    assert len(plans) >= 2
    mine, other = by_plan[plans[0]], by_plan[plans[1]][0]
    path = write_csv(tmp_path / "o.csv", ["名称", "经度", "纬度"],
                     [[other.name, *feature_anchor(other)]])
    report = check_survey(path, mine, plans=[plans[0]], other_features=feats)
    r = report.rows[0]
    assert r.status == "unmatched"
    assert other.id in r.message and "not in the selected plans" in r.message


def test_names_match_tolerantly_through_aliases_and_ids():
    f = Feature(id="t-tianhe", name="天河路商圈", aliases=["天河路"], categories=["commercial_district"],
                subtype="商圈", tier=None, plans=["guangzhou"], district="天河区", adcode="440106",
                geometry=Point(113.329, 23.1375), precision_m=100, source="t", status="approximate",
                other_names=["Tianhe Road Business District"])
    g = Feature(id="t-dxg", name="大西关（上下九—永庆坊）", aliases=[], categories=["commercial_district"],
                subtype="商圈", tier=None, plans=["guangzhou"], district="荔湾区", adcode="440103",
                geometry=Point(113.248, 23.120), precision_m=100, source="t", status="approximate")
    assert normalize_name("天河路 商圈") == normalize_name("天河路商圈")
    assert normalize_name("ＡＢＣ·ｄ－1") == "abcd1"
    from planatlas.layers.survey import check_rows
    from planatlas.layers.survey import SurveyRow

    names = ["天河路 商圈", "天河路", "TIANHE ROAD business-district", "大西关(上下九-永庆坊)",
             "大西关 （上下九 — 永庆坊）"]
    rows = [SurveyRow(row=i + 1, where="x", name=n, lon=113.2485 if "西" in n else 113.3291,
                      lat=23.1201 if "西" in n else 23.1376) for i, n in enumerate(names)]
    rows.append(SurveyRow(row=9, where="x", name="别的名字", fid="T-TIANHE", lon=113.3291, lat=23.1376))
    report = check_rows(rows, [f, g], crs="wgs84")
    assert [r.feature for r in report.rows] == ["t-tianhe"] * 3 + ["t-dxg"] * 2 + ["t-tianhe"]
    assert all(r.status == "confirmed" for r in report.rows)


def test_shared_name_picks_the_nearest_feature():
    a = Feature(id="t-a", name="中心广场", aliases=[], categories=["scenic_area"], subtype="x", tier=None,
                plans=["p"], district="甲区", adcode="0", geometry=Point(113.0, 23.0), precision_m=50,
                source="t", status="approximate")
    b = Feature(id="t-b", name="中心广场", aliases=[], categories=["scenic_area"], subtype="x", tier=None,
                plans=["p"], district="乙区", adcode="0", geometry=Point(117.7, 39.0), precision_m=50,
                source="t", status="approximate")
    from planatlas.layers.survey import check_rows
    from planatlas.layers.survey import SurveyRow

    rows = [SurveyRow(row=1, where="x", name="中心广场", lon=117.7001, lat=39.0001),
            SurveyRow(row=2, where="x", name="中心广场", lon=113.0001, lat=23.0001)]
    report = check_rows(rows, [a, b], crs="wgs84")
    assert [r.feature for r in report.rows] == ["t-b", "t-a"]
    assert "share this name" in report.rows[0].message


# ----------------------------------------------------------------------------- file formats

@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings(tmp_path, pts, encoding):
    rows = [[f.name, f"{x:.6f}", f"{y:.6f}", "备注：正常"] for f, x, y in survey_points(pts[:8])]
    path = write_csv(tmp_path / f"{encoding}.csv", ["名称", "经度", "纬度", "备注"], rows,
                     encoding=encoding)
    report = check_survey(path, pts)
    assert [r.name for r in report.rows] == [f.name for f in pts[:8]]
    assert report.counts["confirmed"] == 8
    assert report.rows[0].notes == "备注：正常"


def test_any_column_order_english_headers_semicolons_dms_fullwidth(tmp_path, pts):
    f0, f1, f2 = pts[:3]
    (x0, y0), (x1, y1), (x2, y2) = (feature_anchor(f) for f in (f0, f1, f2))

    def dms(v, pos, neg):
        h = pos if v >= 0 else neg
        v = abs(v)
        d = int(v)
        m = int((v - d) * 60)
        s = (v - d - m / 60) * 3600
        return f"{d}°{m}'{s:.3f}\"{h}"

    full = str.maketrans("0123456789.", "０１２３４５６７８９．")
    text = ("Notes;Latitude;ID;Longitude;Site;Date\n"
            f"ok;{dms(y0, 'N', 'S')};;{dms(x0, 'E', 'W')};{f0.name};2024-05-03\n"
            f"ok;{f'{y1:.6f}'.translate(full)};;{f'{x1:.6f}'.translate(full)};{f1.name};2024/5/4\n"
            f"by id;{y2:.6f};{f2.id};{x2:.6f};whatever;\n")
    path = tmp_path / "semi.csv"
    path.write_text(text, encoding="utf-8")
    report = check_survey(path, pts)
    assert [r.status for r in report.rows] == ["confirmed"] * 3
    assert [r.feature for r in report.rows] == [f0.id, f1.id, f2.id]
    assert report.rows[0].distance_m < 1.0
    assert report.rows[1].date == "2024-05-04"


def test_xlsx_with_title_rows_and_numbers(tmp_path, pts):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["某区商圈现场核查"])
    ws.append([])
    ws.append(["备注", "纬度", "站点", "经度", "编号"])
    for f, x, y in survey_points(pts[:6], crs="bd09"):
        ws.append(["", y, f.name, x, None])
    ws.append(["坏行", "北纬二十三度", pts[6].name, 113.3, None])
    path = tmp_path / "s.xlsx"
    wb.save(path)
    report = check_survey(path, pts)
    assert report.counts["confirmed"] == 6
    assert report.rows[-1].status == "invalid" and "latitude not a coordinate" in report.rows[-1].message
    assert report.rows[0].where == "row 4"


def test_gpx_waypoints(tmp_path, pts):
    wpts = "\n".join(
        f'<wpt lat="{y:.7f}" lon="{x:.7f}"><name>{f.name}</name><desc>ok &amp; open</desc>'
        f"<time>2024-05-03T09:00:00Z</time></wpt>"
        for f, x, y in survey_points(pts[:7], crs="gcj02"))
    gpx = (f'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="t" '
           f'xmlns="http://www.topografix.com/GPX/1/1">{wpts}'
           f'<wpt lat="bad" lon="113"><name>x</name></wpt>'
           f'<trk><trkseg><trkpt lat="23" lon="113"/></trkseg></trk></gpx>')
    path = tmp_path / "s.gpx"
    path.write_text(gpx, encoding="utf-8")
    report = check_survey(path, pts)
    assert report.crs.chosen == "gcj02"
    assert [r.status for r in report.rows] == ["confirmed"] * 7 + ["invalid"]
    assert report.rows[0].notes == "ok & open"
    assert report.rows[0].date == "2024-05-03"
    assert report.rows[-1].where == "waypoint 8"


def _kml(pts_iter, extra=""):
    marks = "\n".join(
        f"<Placemark><name>{f.name}</name><ExtendedData><Data name=\"状态\"><value>found</value></Data>"
        f"</ExtendedData><Point><coordinates>{x:.7f},{y:.7f},0</coordinates></Point></Placemark>"
        for f, x, y in pts_iter)
    return ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
            f"<Document>{marks}{extra}</Document></kml>")


def test_kml_and_kmz_placemarks(tmp_path, pts):
    extra = "<Placemark><name>无坐标</name></Placemark>"
    text = _kml(survey_points(pts[:6], crs="bd09"), extra)
    kml = tmp_path / "s.kml"
    kml.write_text(text, encoding="utf-8")
    report = check_survey(kml, pts)
    assert report.crs.chosen == "bd09"
    assert [r.status for r in report.rows] == ["confirmed"] * 6 + ["invalid"]
    assert report.rows[0].reported == "found"
    assert "no coordinates" in report.rows[-1].message
    kmz = tmp_path / "s.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.writestr("doc.kml", text)
    assert [r.status for r in check_survey(kmz, pts).rows] == ["confirmed"] * 6 + ["invalid"]


def test_file_level_errors_are_clear(tmp_path, pts):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SurveyFormatError, match="empty"):
        check_survey(empty, pts)
    nocoord = write_csv(tmp_path / "nc.csv", ["名称", "备注"], [["天河路", "x"]])
    with pytest.raises(SurveyFormatError, match=r"no longitude column found; headers were: '名称', '备注'"):
        check_survey(nocoord, pts)
    nolat = write_csv(tmp_path / "nl.csv", ["名称", "经度"], [["天河路", "113"]])
    with pytest.raises(SurveyFormatError, match="no latitude column found"):
        check_survey(nolat, pts)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(SurveyFormatError, match="cannot decode"):
        check_survey(binary, pts)
    header_only = write_csv(tmp_path / "h.csv", ["名称", "经度", "纬度"], [])
    with pytest.raises(SurveyFormatError, match="no data rows"):
        check_survey(header_only, pts)
    with pytest.raises(SurveyFormatError, match="no such file"):
        check_survey(tmp_path / "missing.csv", pts)
    notxlsx = tmp_path / "x.xlsx"
    notxlsx.write_text("hello", encoding="utf-8")
    with pytest.raises(SurveyFormatError, match="not a readable XLSX"):
        check_survey(notxlsx, pts)
    broken = tmp_path / "b.gpx"
    broken.write_text('<gpx><wpt lat="23" lon="113"><name>a</name></wpt><wpt', encoding="utf-8")
    with pytest.raises(SurveyFormatError, match="not well-formed GPX"):
        check_survey(broken, pts)


def test_rows_are_streamed(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "lon", "lat"])
        for i in range(50_000):
            w.writerow([f"p{i}", 113.0, 23.0])
    it = iter_survey(path)
    first = next(it)
    assert first.name == "p0" and first.row == 1
    it.close()


def test_parse_coord_formats():
    assert parse_coord("113°19'30\"E") == (pytest.approx(113.325), "E")
    assert parse_coord("东经113度19分30秒")[0] == pytest.approx(113.325)
    assert parse_coord("S 10 30")[0] == pytest.approx(-10.5)
    assert parse_coord("１１３．５")[0] == 113.5
    for bad in ("abc", "113.3.3", "nan", "", "113°61'"):
        with pytest.raises(ValueError):
            parse_coord(bad)


# ----------------------------------------------------------------------------- reports & CLI

def test_report_files_and_layer(tmp_path, pts):
    evil = Feature(id="t-evil", name="=HYPERLINK(\"http://x\")<b>", aliases=[], categories=["scenic_area"],
                   subtype="x", tier=None, plans=["p"], district="区", adcode="0",
                   geometry=Point(113.5, 23.5), precision_m=50, source="t", status="approximate")
    rows = [[f.name, x, y] for f, x, y in survey_points(pts[:4])] + [[evil.name, 113.5, 23.5],
                                                                      ["?", "bad", 1]]
    path = write_csv(tmp_path / "r.csv", ["名称", "经度", "纬度"], rows)
    report = check_survey(path, [*pts[:6], evil], crs="wgs84")
    out = write_report(report, tmp_path / "out.csv")
    with open(out, encoding="utf-8-sig", newline="") as fh:
        recs = list(csv.DictReader(fh))
    assert [r["status"] for r in recs[:6]] == ["confirmed"] * 5 + ["invalid"]
    assert recs[4]["name"].startswith("'=")          # no formula injection
    assert sum(1 for r in recs if r["status"] == "not_surveyed") == 2
    xl = write_report(report, tmp_path / "out.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(xl)
    ws = wb["report"]
    assert ws.cell(row=6, column=3).data_type == "s"
    assert ws.cell(row=6, column=3).value == evil.name
    assert ws.cell(row=2, column=7).value == "confirmed"
    layer = report_layer(report)
    assert len(layer) == 5
    assert layer[0][2] == "confirmed" and layer[0][3] == pts[0].name
    with pytest.raises(ValueError):
        write_report(report, tmp_path / "out.txt")
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_check_sites_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    from planatlas.layers.atlas import load_atlas

    atlas = load_atlas()
    plan = next(p for p in atlas.plans if point_features(atlas.features_for(plans=[p])))
    feats = point_features(atlas.features_for(plans=[plan]))[:12]
    if len(feats) < 3:
        pytest.skip("the gazetteer has too few located features yet")
    rows = [[f.name, x, y] for f, x, y in survey_points(feats, crs="gcj02", moved={feats[0].id: 900})]
    rows.append(["不存在的地点", "113.1", "23.1"])
    rows.append([feats[1].name, "x", "y"])
    path = write_csv(tmp_path / "s.csv", ["名称", "经度", "纬度"], rows)
    from planatlas.desktop.cli import main as cli_main

    code = cli_main(["check-sites", str(path), "--plan", plan, "--json",
                     "--report", str(tmp_path / "rep.xlsx")])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["crs"]) >= {"chosen", "confidence", "detected"}
    assert data["crs"]["chosen"] == "gcj02" and data["crs"]["detected"] is True
    assert set(data["rows"][0]) >= {"row", "name", "feature", "status", "distance_m", "message"}
    st = [r["status"] for r in data["rows"]]
    assert st[0] == "moved" and st[-2:] == ["unmatched", "invalid"]
    assert data["rows"][0]["distance_m"] > 700
    surveyed = {r["feature"] for r in data["rows"] if r["status"] in ("confirmed", "moved")}
    assert set(data["not_surveyed"]) == {f.id for f in atlas.features_for(plans=[plan])} - surveyed
    assert (tmp_path / "rep.xlsx").exists()
    # human output and a clear error for a bad file
    assert cli_main(["check-sites", str(path), "--plan", plan]) == 0
    assert "moved" in capsys.readouterr().out
    bad = write_csv(tmp_path / "bad.csv", ["名称"], [["x"]])
    assert cli_main(["check-sites", str(bad)]) == 2
    assert "no longitude column found" in capsys.readouterr().err
