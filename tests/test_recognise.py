"""The place recogniser on the genre's ways of naming places, and what it must leave alone."""
import pytest

from planatlas.layers.recognise import recognise_text

DALIAN = ("重点打造青泥洼--天津街、西安路、香炉礁、奥林匹克广场、中华路五大商圈,积极推进东港、星海湾、机场前等区域"
          "商圈建设。(相关区市县政府、先导区管委会负责,市商务局、市文化和旅游局等配合)")


def names(text, **kw):
    return [m.name for m in recognise_text(text, **kw)]


def test_enumeration_before_a_counted_collective_noun():
    ms = recognise_text(DALIAN)
    assert [m.name for m in ms] == ["青泥洼-天津街", "西安路", "香炉礁", "奥林匹克广场", "中华路",
                                    "东港", "星海湾", "机场前"]
    five = ms[:5]
    assert all(m.confidence == 0.95 and m.category == "commercial_district" for m in five)   # 5 items = 五大
    assert five[0].surface == "青泥洼--天津街" and five[0].why.startswith("enumeration")
    assert DALIAN[five[0].start:five[0].end] == five[0].surface


def test_enumeration_with_joined_items_and_a_quoted_count():
    text = "加快推进吴家山和滠口、大花岭以及阳逻、光谷南、常福“1+2+3”三级铁路物流基地节点布局。"
    assert names(text) == ["吴家山", "滠口", "大花岭", "阳逻", "光谷南", "常福"]
    assert {m.category for m in recognise_text(text)} == {"logistics_hub"}


@pytest.mark.parametrize("text,expected", [
    ("改造提升万达十六道金街,高质量布局吾悦高杆街商业业态", ["万达十六道金街", "吾悦高杆街"]),
    ("推动阳逻港区三作业区一期后续工程,完善汉南港区集装箱作业区建设。", ["阳逻港区三作业区", "汉南港区集装箱作业区"]),
    ("聚焦知花小镇、壹然文旅广场、浙商步行街等商业聚集区", ["知花小镇", "壹然文旅广场", "浙商步行街"]),
    ("推动南塘老街建设成为省级高品质步行街", ["南塘老街"]),
    ("高品位规划建设“美食文化街”", []),                # a quoted generic name is not a place
])
def test_suffix_and_quoted_names(text, expected):
    assert names(text) == expected


@pytest.mark.parametrize("text", [
    "打造市级示范夜商圈5个以上、示范夜街区5个以上",      # generic phrases
    "培育一批特色街区和重点商圈,建设夜街区",
    "(责任单位:区商务局、天津港集团、东疆综保区管委会)",    # responsible-unit list
    "支持天津港集团拓展航线,办好白云机场商务航空展",      # organisation, event
    "推动“余东酱油”“颐生”等老字号品牌与电商平台合作",      # brands
    "着力推进“两圈四街”等核心商圈商街建设",              # slogan
    "统筹武汉港口型、陆港型、空港型、商贸服务型等五型国家物流枢纽布局建设",   # kinds, not places
    "持续推进“绿水青山就是金山银山”实践创新基地建设",       # a quote is one unit
    "加快建设一批集分拣中心、智能仓储、冷链物流等业态于一体的综合性物流园区",   # functions
])
def test_what_is_not_a_place(text):
    assert names(text) == []


def test_administrative_units_are_not_places():
    assert names("市中心城区(指信州区、广信区,下同)至少建成一条高品质夜间经济街区") == []


def test_bare_list_under_a_heading_that_names_the_collective():
    text = "重点打造塔河湾、小平岛、星海湾、付家庄、老虎滩、渔人码头、东港……"
    assert names(text, heading_context="重点打造塔河湾 打造夜街区") == [
        "塔河湾", "小平岛", "星海湾", "付家庄", "老虎滩", "渔人码头", "东港"]
    assert names(text, heading_context="完善配套服务") == ["塔河湾", "小平岛", "星海湾", "渔人码头"]  # suffixes only


def test_mentions_carry_clause_line_and_reason():
    from planatlas.layers.importer import preview_plan
    from pathlib import Path
    p = preview_plan(Path(__file__).parent / "plans" / "dalian.txt")
    first = p.places[0]
    d = first.to_dict()
    assert d["surface"] == "青泥洼--天津街" and d["clause"] == "preview:二.(一)" and d["line"] == 15
    assert d["why"].startswith("enumeration") and d["key"] == "青泥洼天津街"
    assert set(d) >= {"surface", "name", "clause", "start", "end", "line", "category", "confidence", "why",
                      "location"}
