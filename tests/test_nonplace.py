"""What is not a place: responsible units, organisations, events, brands, generic phrases."""
import re

import pytest

from planatlas.layers.catalog import load_plans
from planatlas.layers.nonplace import (
    is_generic, is_org_context, name_reason, responsible_spans,
)

PLANS = load_plans(include_user=False)


def _first(plan_id: str, surface: str, name: str):
    """(text, start, end) of ``name`` at the first occurrence of ``surface`` in the plan."""
    for c in PLANS[plan_id].clauses:
        i = c.text.find(surface)
        if i >= 0:
            j = c.text.index(name, i)
            return c.text, j, j + len(name)
    raise AssertionError(f"{surface} not in {plan_id}")


# The audit's examples (issue 12), in the real seed texts.
@pytest.mark.parametrize("plan,surface,name,reason", [
    ("binhai", "天津港集团", "天津港", "responsible unit list"),
    ("binhai", "东疆综保区管委会", "东疆", "responsible unit list"),
    ("xiqing", "杨柳青镇政府", "杨柳青", "responsible unit list"),
    ("xiqing", "南站公司", "南站", "responsible unit list"),
    ("haimen", "余东酱油", "余东", "brand: 余东酱油"),
    ("guangzhou", "白云机场商务航空展", "白云机场", "event: 白云机场商务航空展"),
])
def test_audit_examples_in_the_seed_texts(plan, surface, name, reason):
    text, s, e = _first(plan, surface, name)
    assert is_org_context(text, s, e) == reason


@pytest.mark.parametrize("text,name,reason", [
    # the same names outside any responsible list: the name run itself says organisation
    ("支持天津港集团拓展航线。", "天津港", "organisation: 天津港集团"),
    ("由东疆综保区管委会统筹推进。", "东疆", "organisation: 东疆综保区管委会"),
    ("杨柳青镇政府要制定方案。", "杨柳青", "organisation: 杨柳青镇政府"),
    ("成都市商务局组织实施。", "成都", "organisation: 成都市商务局"),
    ("办好广州国际购物节、美食节。", "广州", "event: 广州国际购物节"),
    ("举办青岛国际啤酒节", "青岛", "event: 青岛国际啤酒节"),
    ("推广郫县豆瓣等川味", "郫县", "brand: 郫县豆瓣"),
    ("叫响“苏洪鲜食”“余东酱油”“颐生”等老字号品牌", "苏洪鲜食", "brand: quoted in a list of 老字号"),
])
def test_organisations_events_brands_outside_lists(text, name, reason):
    s = text.index(name)
    assert is_org_context(text, s, s + len(name)) == reason


@pytest.mark.parametrize("text,name", [
    ("加快天津港建设，提升天津港集装箱吞吐量。", "天津港"),
    ("推动天津港发展壮大", "天津港"),            # 发展 ends in 展 but is a verb
    ("打造东疆港区、天津港保税区", "东疆港区"),
    ("升级白云机场综合交通枢纽", "白云机场"),
    ("形成以青泥洼--天津街为核心的新格局", "青泥洼--天津街"),   # 格局 is not 局
    ("完善春熙路商圈周边配套", "春熙路商圈"),
    ("（一）建设“夜广州”消费地标", "夜广州"),      # a heading's bracket is not a unit list
    ("重点建设（天河路、北京路、上下九）商圈", "天河路"),
])
def test_places_stay_places(text, name):
    s = text.index(name)
    assert is_org_context(text, s, s + len(name)) is None


def test_responsible_spans_forms():
    t = ("建设步行街。（责任单位：市商务局、各区政府）推进夜市(区科技局牵头,发改委、各区镇配合)"
         "打造商圈（各区人民政府负责）。责任单位：市文旅局，各区县。完善配套（牵头单位：市商务局）")
    spans = [t[s:e] for s, e in responsible_spans(t)]
    assert spans == ["（责任单位：市商务局、各区政府）", "(区科技局牵头,发改委、各区镇配合)",
                     "（各区人民政府负责）", "责任单位：市文旅局，各区县", "（牵头单位：市商务局）"]


def test_responsible_spans_leave_other_brackets_alone():
    t = "打造国际消费中心城市（2023-2027年），建设春熙路（含太古里）商圈，培育夜市（如宽窄巷子夜市）。"
    assert responsible_spans(t) == []


def test_responsible_span_left_open_by_a_truncated_text_runs_to_the_line_end():
    t = "提升品质。（责任单位：市商务局、市文旅局\n二、保障措施"
    (s, e), = responsible_spans(t)
    assert t[s:e] == "（责任单位：市商务局、市文旅局"


def test_every_responsible_list_of_the_seeds_is_found():
    """Binhai and Xiqing write (责任单位：…); Haimen (区X局牵头,…配合) and (…按职责分工负责)."""
    for plan_id, pattern in [("binhai", r"责任单位"), ("xiqing", r"责任单位"),
                             ("haimen", r"[(（][^()（）]{0,80}(?:牵头|负责)[^()（）]{0,80}[)）]")]:
        for c in PLANS[plan_id].clauses:
            spans = responsible_spans(c.text)
            for m in re.finditer(pattern, c.text):
                assert any(s <= m.start() < e for s, e in spans), (plan_id, c.id, c.text[m.start():m.start() + 40])


@pytest.mark.parametrize("name", ["夜商圈", "重点商圈", "特色街区", "夜街区", "示范夜街区", "五大商圈",
                                  "步行街", "一刻钟便民生活圈", "特色夜市", "国际机场", "城市公园",
                                  "三条步行街", "高品质步行街"])
def test_generic_phrases(name):
    assert is_generic(name) and name_reason(name) == "generic phrase"


@pytest.mark.parametrize("name", ["中华路商圈", "青泥洼--天津街", "大港", "新港", "滨海国际机场",
                                  "春熙路步行街", "宽窄巷子", "天津港", "西安路", "南站", "人民公园"])
def test_named_places_are_not_generic(name):
    assert not is_generic(name) and name_reason(name) is None


@pytest.mark.parametrize("name,reason", [
    ("天津港集团", "organisation: 集团"), ("东疆综保区管委会", "organisation: 管委会"),
    ("杨柳青镇政府", "organisation: 政府"), ("区发改委", "organisation: 委"),
    ("西营门街道办事处", "organisation: 街道办事处"), ("余东酱油", "brand: 酱油"),
    ("白云机场商务航空展", "event: 航空展"), ("中国西部国际博览会", "event: 博览会"),
    ("夜间经济发展论坛", "event: 论坛"), ("各相关部门", "organisation: unit word"),
])
def test_name_reasons(name, reason):
    assert name_reason(name) == reason
