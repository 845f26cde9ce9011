"""Target extraction checked against hand-verified lists (Binhai and Haimen, read line by line)."""
import pytest

from planatlas.layers.catalog import load_plans

PLANS = load_plans(include_user=False)


def key(t):
    return (t.line, t.year, t.indicator, t.comparator, t.value, t.upper, t.unit)


# Binhai lines 26-27 (工作目标), 35 (亲海消费新平台) and 46 (便民生活圈): every target, verified by hand.
# Lines 35 and 46 name no year, so their targets have none (re-checked: no 20XX年 on either line).
BINHAI = [
    (26, 2025, "社会消费品零售总额", ">", 1500, None, "亿元"),
    (26, 2025, "国内外旅游人数", "=", 2000, None, "万人次"),
    (26, 2025, "国内国际旅游花费", ">", 100, None, "亿元"),
    (26, 2025, "一刻钟便民生活圈全覆盖", "=", 100, None, "%"),
    (26, 2025, "商品销售总额", ">", 3.5, None, "万亿元"),
    (26, 2025, "货物进出口规模", "=", 7000, None, "亿元"),
    (26, 2025, "港口集装箱吞吐量", "=", 2200, None, "万标准箱"),
    (26, 2025, "口岸贸易本地结算率", "=", 35, None, "%"),
    (26, 2025, "机场货邮吞吐量", "=", 40, None, "万吨"),
    (26, 2025, "跨境电商进出口规模", "=", 130, None, "亿元"),
    (26, 2025, "平行进口汽车通关规模保持全国", ">=", 80, None, "%"),
    (26, 2025, "租赁资产总规模", "=", 2.5, None, "万亿元"),
    (26, 2025, "网络货运实现货运量", "=", 2.4, None, "亿吨"),
    (27, 2027, "社会消费品零售总额较2025年", "=", 2, None, "倍"),
    (27, 2027, "国内外旅游人数", "=", 2300, None, "万人次"),
    (27, 2027, "国内国际旅游花费", ">", 120, None, "亿元"),
    (27, 2027, "商品销售总额", ">", 4, None, "万亿元"),
    (27, 2027, "货物进出口规模", "=", 7800, None, "亿元"),
    (27, 2027, "港口集装箱吞吐量", "=", 2700, None, "万标准箱"),
    (27, 2027, "口岸贸易本地结算率", "=", 40, None, "%"),
    (27, 2027, "机场货邮吞吐量", "=", 45, None, "万吨"),
    (27, 2027, "跨境电商进出口规模", "=", 180, None, "亿元"),
    (27, 2027, "租赁资产总规模", "=", 2.7, None, "万亿元"),
    (27, 2027, "网络货运实现货运量", "=", 2.6, None, "亿吨"),
    (35, None, "推出亲海旅游精品线路", "=", 20, None, "条"),
    (35, None, "开辟亲海消费核心节点", "=", 10, None, "个"),
    (46, None, "实现滨城社区全覆盖", "=", 100, None, "%"),
]


def test_binhai_targets_match_the_hand_verified_list_exactly():
    got = [key(t) for t in PLANS["binhai"].targets]
    assert got == [(l, y, i, c, float(v), u if u is None else float(u), unit) for l, y, i, c, v, u, unit in BINHAI]
    assert all(t.kind == "target" and t.scope == "全区" for t in PLANS["binhai"].targets)


def test_relative_target_keeps_its_basis():
    t = next(t for t in PLANS["binhai"].targets if t.unit == "倍")
    assert t.basis == "较2025年" and t.surface.endswith("翻一番")


# Haimen: a hand-verified selection covering counts, growth, ranges, task clauses and a place scope.
# Lines 14-18 take 2024 from their section's opening "二、发展目标 到2024年，…"; lines 48 (the 160万标箱
# sentence), 70 and 86 name no year, so none is imputed.
HAIMEN = [
    (14, 2024, "新增规模以上服务业企业", "=", 170, None, "家"),
    (14, 2024, "生产性服务业企业", ">=", 100, None, "家"),
    (14, 2024, "社会消费品零售额年均增长", "~", 10, None, "%"),
    (14, 2024, "社会消费品零售额总量", ">", 650, None, "亿元"),
    (16, 2024, "两业融合标杆企业", "=", 6, None, "家"),
    (18, 2024, "累计新增服务业从业人员", "=", 2, None, "万人"),
    (30, 2024, "建成科创核心区", "=", 1, None, "个"),
    (30, 2024, "创业孵化集聚区", "=", 3, None, "个"),
    (48, None, "集装箱吞吐量", ">", 160, None, "万标箱"),
    (48, 2024, "沿江沿海港口货物吞吐量", ">", 3000, None, "万吨"),
    (50, 2024, "农村物流服务站点覆盖率", ">", 90, None, "%"),
    (70, None, "打造有影响力的特色商业街区", "range", 1, 2, "个"),
    (70, None, "招引高端品牌首店", "~", 20, None, "家"),
    (70, None, "再创省级文旅夜间消费集聚区", "range", 1, 2, "个"),
    (74, 2024, "博物馆年接待参观总量", "=", 120, None, "万人次"),
    (74, 2024, "旅游总收入", ">", 55, None, "亿元"),
    (74, 2024, "接待游客", ">", 640, None, "万人次"),
    (86, None, "每季度组织服务业招商活动", "range", 1, 2, "场"),
    (108, 2024, "纳税超5000万元楼宇", "=", 12, None, "幢"),
]


@pytest.mark.parametrize("expected", HAIMEN, ids=[h[2] for h in HAIMEN])
def test_haimen_hand_verified_targets(expected):
    l, y, i, c, v, u, unit = expected
    got = [key(t) for t in PLANS["haimen"].targets]
    assert (l, y, i, c, float(v), None if u is None else float(u), unit) in got


def test_haimen_has_no_spurious_numbers():
    got = {(t.value, t.unit) for t in PLANS["haimen"].targets}
    # "12条制造业产业链", "12+2", "5G", "1806文旅景区", "4A级" are not targets
    assert (12.0, "条") not in got and all(u != "G" for _, u in got)
    assert len(PLANS["haimen"].targets) == 62          # 60 + the 各1个 sentence split into three


def test_target_scoped_to_a_named_place():
    t = next(t for t in PLANS["haimen"].targets if t.unit == "万标箱")
    assert t.scope == "通海港区通海作业区"


def test_zhongshan_table_rows_become_targets():
    table = [t for t in PLANS["zhongshan"].targets if t.clause.endswith("表1")]
    got = {(t.line, t.indicator, t.value, t.unit, t.period) for t in table}
    assert (140, "社会消费品零售总额", 1800.0, "亿元", None) in got
    assert (140, "社会消费品零售总额年均增长", 5.0, "%", "2021-2025") in got
    assert (142, "跨境电子商务进出口额年均增长", 136.9, "%", "2021-2025") in got
    assert (143, "市场采购出口额", 100.0, "亿元", None) in got
    assert (147, "实际吸收外商直接投资额（2021-2025年累计）", 27.0, "亿美元", "2021-2025") in got
    assert (148, "对外直接投资额（2021-2025年累计）", 2.5, "亿美元", "2021-2025") in got
    assert len(table) == 12            # "—" cells carry no value
    assert all(t.year == 2025 for t in table)


def test_past_figures_are_baselines():
    zs = PLANS["zhongshan"]
    base = [t for t in zs.targets if t.kind == "baseline"]
    assert base and all(zs.clause(t.clause).id.startswith("zhongshan:第一章") for t in base)
    retail_2020 = next(t for t in base if t.value == 1407.2)
    assert retail_2020.year == 2020 and retail_2020.unit == "亿元"
    assert not any(t.kind == "baseline" for t in PLANS["binhai"].targets)


def test_guangzhou_task_clause_targets():
    got = {(t.line, t.value, t.unit) for t in PLANS["guangzhou"].targets}
    assert (125, 800.0, "公里") in got                 # 地铁运营里程达800公里 (到2025年底)
    assert (77, 5.0, "个") in got and (77, 4.0, "个") in got
    cover = next(t for t in PLANS["guangzhou"].targets if t.line == 83)
    assert cover.value == 100 and cover.unit == "%"      # 15分钟便民生活圈全覆盖


def test_target_lines_point_at_the_number_in_the_original():
    for plan in PLANS.values():
        for t in plan.targets:
            if t.unit == "倍" or ("全覆盖" in t.surface and "%" not in t.surface):
                continue
            src = plan.source_lines[t.line - 1].replace(" ", "")
            assert f"{t.value:g}" in src, (t.id, t.line)


def test_enumerated_target_becomes_one_target_per_item():
    """Haimen line 76: 新增4A级旅游景区、省级旅游度假区和旅游休闲街区各1个 (issue 12, old t046)."""
    got = [(t.indicator, t.value, t.unit, t.year) for t in PLANS["haimen"].targets if t.line == 76 and t.unit == "个"]
    assert got == [("新增4A级旅游景区", 1.0, "个", 2024), ("新增省级旅游度假区", 1.0, "个", 2024),
                   ("新增旅游休闲街区", 1.0, "个", 2024)]


def test_rates_keep_their_period():
    quarterly = next(t for t in PLANS["haimen"].targets if t.indicator == "每季度组织服务业招商活动")
    yearly = next(t for t in PLANS["haimen"].targets if t.indicator.startswith("每年纳入"))
    assert quarterly.period == "每季度" and yearly.period == "每年"


def test_no_year_is_imputed_where_the_text_gives_none():
    for plan in PLANS.values():
        for t in plan.targets:
            if t.year is None or t.kind == "baseline" or t.clause.endswith("表1"):
                continue
            clause = plan.clause(t.clause)
            ancestors, c = [], clause
            while c is not None:
                ancestors.append(c.text)
                c = plan.clause(c.parent) if c.parent else None
            assert any(str(t.year) in text for text in ancestors), (t.id, t.year, t.surface)


def test_target_ids_are_stable_across_runs():
    from planatlas.layers.targets import extract_targets
    again = extract_targets(PLANS["haimen"])
    assert [(t.id, t.indicator, t.value) for t in again] == [(t.id, t.indicator, t.value)
                                                             for t in PLANS["haimen"].targets]


def test_indicators_are_whole_noun_phrases_on_an_unseen_plan():
    """The 大连 plan (tests/plans): "示范夜商圈5个以上、示范夜街区5个以上…" — no leading 以上、."""
    from pathlib import Path
    from planatlas.layers.importer import preview_plan
    p = preview_plan(Path(__file__).parent / "plans" / "dalian.txt")
    inds = [t.indicator for t in p.targets]
    assert inds[:5] == ["打造市级示范夜商圈", "示范夜街区", "示范夜市场", "示范夜门店", "示范夜活动"]
    assert not any(i.startswith(("以上", "、", "左右")) for i in inds)
    assert all(t.year is None for t in p.targets)       # 从2019年起…3-5年: no target year in the text
