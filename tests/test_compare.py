"""Comparing targets across plans: rows, growth rates, the CLI, charts, XLSX and imported plans.

Rows are found by stable facts (plan, source line, value), never by target ids, which shift as
target extraction improves; a year the plan does not write next to the figure may be read as the
plan's last year or as none (``_year``)."""
from __future__ import annotations

import json

import pytest

from planatlas.desktop.cli import main
from planatlas.layers import charts
from planatlas.layers.atlas import load_atlas
from planatlas.layers.compare import compare

IMPORTED = """某某区促进消费三年行动方案（2024-2026年）

一、总体目标
到2026年，全区社会消费品零售总额达到800亿元，年均增长8%，港口集装箱吞吐量突破300万标箱。

二、重点任务
（一）建设特色商圈
打造3个区域级商圈，建成2条市级步行街。
"""


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def _year(actual, expected) -> bool:
    return actual in (expected, None)


def run_json(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def _row(rows, plan, line, value):
    found = [r for r in rows if r.plan == plan and r.target.line == line and r.target.value == value]
    assert found, (plan, line, value)
    return found[0]


# --------------------------------------------------------------------------- the done-when commands

def test_compare_retail_sales_json_lists_every_seed_plan_that_sets_one(capsys, datadir):
    rows = run_json(capsys, "compare", "--indicator", "retail_sales", "--json")
    assert {r["plan"] for r in rows} == {"binhai", "zhongshan", "haimen"}   # xiqing, guangzhou set none
    for r in rows:
        assert r["indicator"] == "retail_sales" and r["kind"] == "target"
        assert r["value"] > 0 and r["unit"] in ("亿元", "倍") and r["year"] in (2024, 2025, 2027, None)
        assert r["clause"].startswith(r["plan"] + ":") and r["citation"].endswith(f"L{r['line']}")
        assert r["normalised"]["unit"] in ("元", "倍")
    bh = next(r for r in rows if r["plan"] == "binhai" and r["year"] == 2025)
    assert (bh["value"], bh["unit"], bh["comparator"]) == (1500, "亿元", ">")
    assert bh["normalised"] == {"value": 1.5e11, "upper": None, "unit": "元", "dimension": "CNY",
                                "display": 1500, "display_upper": None, "display_unit": "亿元"}
    assert bh["clause"] == "binhai:三" and bh["line"] == 26 and "社会消费品零售总额" in bh["surface"]


def test_compare_counts_of_business_districts(capsys, datadir):
    rows = run_json(capsys, "compare", "--indicator", "business_districts", "--json")
    assert sorted((r["plan"], r["value"], r["unit"], r["clause"], r["line"]) for r in rows) == [
        ("guangzhou", 2.0, "个", "guangzhou:二.(二).5", 77),
        ("guangzhou", 4.0, "个", "guangzhou:二.(二).5", 77),
        ("guangzhou", 5.0, "个", "guangzhou:二.(二).5", 77)]
    assert all(r["normalised"]["unit"] == "count" and _year(r["year"], 2025) for r in rows)


def test_compare_logistics_throughput_group(capsys, datadir):
    rows = run_json(capsys, "compare", "--indicator", "logistics_throughput", "--json")
    got = {(r["plan"], r["indicator"], r["line"], r["value"], r["unit"], r["normalised"]["unit"])
           for r in rows}
    assert {("binhai", "container_throughput", 26, 2200, "万标准箱", "TEU"),
            ("binhai", "container_throughput", 27, 2700, "万标准箱", "TEU"),
            ("haimen", "container_throughput", 48, 160, "万标箱", "TEU"),
            ("haimen", "cargo_throughput", 48, 3000, "万吨", "t"),
            ("binhai", "air_cargo_throughput", 26, 40, "万吨", "t")} <= got
    assert {r["year"] for r in rows if r["plan"] == "binhai"} == {2025, 2027}
    teu = next(r for r in rows if r["plan"] == "haimen" and r["unit"] == "万标箱")
    assert teu["normalised"]["value"] == 1.6e6 and teu["scope"] == "通海港区通海作业区"


def test_cli_text_output_filters_and_errors(capsys, datadir):
    assert main(["compare", "--indicator", "visitors", "--plan", "haimen"]) == 0
    out = capsys.readouterr().out
    assert "haimen" in out and "binhai" not in out and "640 万人次" in out
    assert main(["compare", "--indicator", "retail_sale"]) == 2
    assert "did you mean retail_sales" in capsys.readouterr().err
    assert main(["compare", "--plan", "atlantis"]) == 2
    assert main(["compare", "--out", "x.png"]) == 2
    assert "--out needs --chart" in capsys.readouterr().err
    cov = run_json(capsys, "indicators", "--json")["coverage"]
    assert cov["mapped"] / cov["targets"] >= 0.9


@pytest.mark.parametrize("chart,fmt", [("bars", "png"), ("timeline", "svg"), ("growth", "pdf")])
def test_cli_writes_charts(capsys, datadir, tmp_path, chart, fmt):
    out = tmp_path / f"c.{fmt}"
    assert main(["compare", "--chart", chart, "--out", str(out), "--dpi", "60"]) == 0
    head = out.read_bytes()[:8]
    assert head.startswith({"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}[fmt])
    assert main(["compare", "--chart", chart, "--out", str(tmp_path / "c.gif")]) == 2


# --------------------------------------------------------------------------- rows

def test_duplicates_growth_and_implied_levels(atlas):
    rows = compare(atlas, ["retail_sales", "retail_sales_growth"], baselines=True)
    zs = [_row(rows, "zhongshan", 126, 1800), _row(rows, "zhongshan", 140, 1800)]   # prose and 表1
    kept = [r for r in zs if r.duplicate_of is None]
    assert len(kept) == 1 and [r.duplicate_of for r in zs if r not in kept] == [kept[0].target.id]
    g = kept[0].growth             # 2020 baseline 1407.2 亿元 → 2025 target 1800 亿元
    assert g["method"] == "cagr" and g["base"]["year"] == 2020 and g["base"]["kind"] == "baseline"
    assert g["annual_pct"] == pytest.approx(((1800 / 1407.2) ** (1 / 5) - 1) * 100)
    assert g["annual_pct"] == pytest.approx(5.05, abs=0.01)       # the plan states 5 %
    stated = _row(rows, "zhongshan", 126, 5)
    assert stated.key == "retail_sales_growth" and stated.growth["method"] == "stated"
    double = _row(rows, "binhai", 27, 2)          # 较2025年翻一番 by 2027
    assert double.growth["method"] == "multiple"
    assert double.growth["annual_pct"] == pytest.approx((2 ** 0.5 - 1) * 100)
    assert double.implied["display"] == 3000 and double.implied["display_unit"] == "亿元"
    assert double.implied["comparator"] == ">"     # 2 × (more than 1500)
    tourists = _row(compare(atlas, "visitors"), "binhai", 27, 2300)
    assert tourists.growth["base"]["year"] == 2025 and tourists.growth["comparator"] == "="
    assert tourists.growth["annual_pct"] == pytest.approx(((2300 / 2000) ** 0.5 - 1) * 100)


def test_cumulative_sums_are_not_annualised(atlas):
    fdi = compare(atlas, "fdi", "zhongshan", baselines=True)
    assert fdi and all(r.cumulative for r in fdi) and not any(r.growth for r in fdi)


def test_target_counts_per_feature(atlas):
    from planatlas.layers.target_places import places_of_target
    counts = atlas.target_counts()
    tonghai = counts["hm-tonghai-terminal"]     # container throughput scoped to the terminal
    assert tonghai >= 1
    assert counts == {k: v for k, v in counts.items() if v > 0}
    only_gz = atlas.target_counts(plans=["guangzhou"])
    assert "hm-tonghai-terminal" not in only_gz
    assert only_gz.get("gz-airport-logistics-hub", 0) >= 1     # 5 特大型 + 10 大型物流枢纽
    # a figure stated twice (goals summary and body) counts once; a 全市/全区 target that only
    # shares a clause with places is about the whole area and counts for none of them
    dup_ids = {r.target.id for r in compare(atlas) if r.duplicate_of}
    expected: dict[str, int] = {}
    for plan in atlas.plans.values():
        for t in plan.targets:
            if t.kind != "target" or t.id in dup_ids:
                continue
            tied = places_of_target(atlas, t.id)
            if tied.how == "clause" and t.scope in ("全市", "全区"):
                continue
            for fid in set(tied.ids):
                expected[fid] = expected.get(fid, 0) + 1
    assert counts == expected
    assert "zs-lihe-lighting-expo-centre" not in counts    # shares a clause with 43 全市 targets


def test_imported_plan_joins_the_comparison(capsys, datadir, tmp_path):
    src = tmp_path / "plan.txt"
    src.write_bytes(IMPORTED.encode("gb18030"))
    run_json(capsys, "import-plan", str(src), "--id", "mouqu", "--district", "某某区", "--json")
    rows = run_json(capsys, "compare", "--indicator", "retail_sales,retail_sales_growth,"
                                       "container_throughput,places", "--plan", "mouqu", "--json")
    got = {(r["indicator"], r["value"], r["unit"]) for r in rows}
    assert got == {("retail_sales", 800, "亿元"), ("retail_sales_growth", 8, "%"),
                   ("container_throughput", 300, "万标箱"),
                   ("business_districts", 3, "个"), ("pedestrian_streets", 2, "条")}
    assert all(_year(r["year"], 2026) for r in rows)
    assert next(r for r in rows if r["indicator"] == "retail_sales")["year"] == 2026   # 到2026年
    all_rows = run_json(capsys, "compare", "--indicator", "retail_sales", "--json")
    assert {"binhai", "zhongshan", "haimen", "mouqu"} == {r["plan"] for r in all_rows}


# --------------------------------------------------------------------------- charts and XLSX

def test_charts_use_real_chinese_glyphs(atlas):
    from matplotlib import font_manager
    from planatlas.layers.fonts import font_path
    family = charts.chart_font()
    assert font_manager.findfont(font_manager.FontProperties(family=family)) == str(font_path())
    rows = compare(atlas)
    fig = charts.bars_figure(rows, ["retail_sales", "business_districts"])
    assert charts.missing_glyphs(fig) == set()
    texts = "".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
    assert "社会消费品零售总额" in texts and "滨海新区" in texts and "＞3,000" in texts
    fig.axes[0].set_title("\U0010fffd")                 # a character no font has …
    assert charts.missing_glyphs(fig) == {"\U0010fffd"}  # … is caught


def test_bar_data_sums_counts_and_keeps_the_largest_level(atlas):
    rows = compare(atlas)

    def bar(key, plan, year):
        bars = charts.bar_data(rows, key)["bars"]
        found = [b for (p, y, _noyear), b in bars.items() if p == plan and y == year]
        assert len(found) == 1, (key, plan, year, list(bars))
        return found[0]

    gz = bar("business_districts", "guangzhou", 2025)        # 5 + 2 + 4 商圈 in one clause
    assert gz["total"] == 11 and sorted(v for v, _ in gz["parts"]) == [2, 4, 5]
    rs = charts.bar_data(rows, "retail_sales")
    assert rs["unit"] == "亿元" and not rs["counts"] and bar("retail_sales", "binhai", 2027)["implied"]
    zs = bar("retail_sales", "zhongshan", 2025)              # prose and 表1: one bar, not two
    assert zs["total"] == 1800 and len(zs["parts"]) == 1
    streets = [b for (p, _y, _n), b in charts.bar_data(rows, "pedestrian_streets")["bars"].items()
               if p == "haimen"]
    ranged = [b for b in streets if b["upper"] is not None]  # 1-2个特色商业街区
    assert [(b["total"], b["upper"]) for b in ranged] == [(1, 2)]
    assert sum(b["total"] for b in streets) == 2              # and 1 旅游休闲街区


def test_xlsx_export_has_the_comparison_and_its_charts(atlas, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    from planatlas.layers.export.data import export_data
    out = tmp_path / "plans.xlsx"
    export_data(atlas, ["binhai", "zhongshan", "guangzhou"], None, "xlsx", "wgs84", out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["sites", "citations", "targets", "compare", "charts", "about"]
    ws = wb["compare"]
    header = [c.value for c in ws[1]]
    recs = [dict(zip(header, [c.value for c in r])) for r in ws.iter_rows(min_row=2)]
    assert {r["plan"] for r in recs} == {"binhai", "zhongshan", "guangzhou"}
    bh = next(r for r in recs if r["indicator"] == "retail_sales" and r["year"] == 2025)
    assert (bh["value"], bh["unit"], bh["normalised_value"], bh["display_unit"], bh["citation"]) == (
        1500, "亿元", 1.5e11, "亿元", "binhai 三 L26")
    assert any(r["indicator"] == "other" for r in recs) and any(r["kind"] == "baseline" for r in recs)
    images = wb["charts"]._images
    assert len(images) == 3
    assert all(img._data()[:4] == b"\x89PNG" for img in images)
