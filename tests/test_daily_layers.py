"""Qt-free pieces of the planner's daily flow: citations with parents, the places a target is
about, coordinate parsing in four systems, pinyin search, plan names."""
from __future__ import annotations

import pytest

from planatlas.layers import crs
from planatlas.layers.atlas import load_atlas
from planatlas.layers.cite import citation, clause_path, plan_label
from planatlas.layers.coords import format_lonlat, parse_location
from planatlas.layers.errors import InputError
from planatlas.layers.pinyin import match_pinyin, romanise
from planatlas.layers.target_places import places_of_target


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def _target(atlas, plan, fragment):
    for t in atlas.plans[plan].targets:
        if fragment in t.surface:
            return t
    raise AssertionError(f"no target with {fragment!r} in {plan}")


# ------------------------------------------------------------------ citations and names
def test_citation_has_the_parents_and_lines(atlas):
    plan = atlas.plans["guangzhou"]
    c = next(c for c in plan.clauses if c.heading == "建设国际知名商圈")
    assert clause_path(plan, c) == "二、（二）5."
    assert citation(plan, c) == "广州市 二、（二）5. 建设国际知名商圈 · 第75–77行"
    assert citation(plan, c, "en") == "Guangzhou 二、（二）5. 建设国际知名商圈 · lines 75–77"
    pre = plan.clauses[0]
    assert pre.kind == "preamble" and "(document head)" in citation(plan, pre, "en")


def test_plan_names_in_both_languages(atlas):
    assert {pid: plan_label(p) for pid, p in atlas.plans.items()} == {
        "binhai": "滨海新区", "zhongshan": "中山市", "haimen": "海门区", "xiqing": "西青区",
        "guangzhou": "广州市"}
    assert plan_label(atlas.plans["binhai"], "en") == "Binhai New Area"
    assert romanise("西安市") == "Xi'an" and romanise("海门区") == "Haimen District"


# ------------------------------------------------------------------ target -> place
def test_a_target_scoped_to_a_place_selects_that_place(atlas):
    t = _target(atlas, "haimen", "集装箱吞吐量")
    got = places_of_target(atlas, t.id)
    assert got.how == "scope"
    assert [atlas.features[i].name for i in got.ids] == ["通海港区通海作业区"]


def test_a_target_selects_the_enumeration_before_its_number(atlas):
    t = _target(atlas, "guangzhou", "5个世界级地标商圈")
    clause_places = atlas.features_of(t.clause)
    got = places_of_target(atlas, t.id)
    assert got.how == "nearest"
    assert [atlas.features[i].name for i in got.ids] == [
        "天河路—珠江新城", "长隆—万博", "金融城—黄埔湾", "白鹅潭", "广州塔—琶洲"]
    assert len(clause_places) > 20 and set(got.ids) < set(clause_places)
    assert atlas.places_of_target(t.id) == got.ids


def test_places_before_another_figure_are_not_the_targets(atlas):
    # 由…等5个特大型物流枢纽、10个大型物流枢纽: the named hubs are the 5, not the 10
    five = _target(atlas, "guangzhou", "5个特大型物流枢纽")
    ten = next(t for t in atlas.plans["guangzhou"].targets
               if t.clause == five.clause and t.value == 10 and "大型物流枢纽" in t.indicator)
    assert places_of_target(atlas, five.id).how == "nearest"
    got = places_of_target(atlas, ten.id)
    assert got.how == "clause" and got.ids == atlas.features_of(ten.clause)


def test_a_target_naming_no_place_falls_back_to_its_clause(atlas):
    t = _target(atlas, "guangzhou", "地铁运营里程")
    got = places_of_target(atlas, t.id)
    assert got.ids == atlas.features_of(t.clause)
    assert got.how == ("clause" if got.ids else "none")


# ------------------------------------------------------------------ coordinates
@pytest.mark.parametrize("text", ["113.32,23.11", "113.32 23.11", "23.11, 113.32", "23.11N 113.32E",
                                  "北纬23.11 东经113.32", "113°19'12\"E 23°6'36\"N", "(113.32，23.11)"])
def test_coordinate_pairs_in_the_usual_spellings(text):
    loc = parse_location(text)
    assert loc.crs == "wgs84"
    assert loc.lon == pytest.approx(113.32, abs=1e-6) and loc.lat == pytest.approx(23.11, abs=1e-6)


@pytest.mark.parametrize("word,system", [("gcj02", "gcj02"), ("GCJ-02", "gcj02"), ("高德", "gcj02"),
                                         ("bd09", "bd09"), ("百度", "bd09"), ("cgcs2000", "cgcs2000")])
def test_a_system_word_converts_once_to_wgs84(word, system):
    wgs = (113.3245, 23.1123)
    x, y = crs.convert(*wgs, "wgs84", system)
    loc = parse_location(f"{float(x):.7f},{float(y):.7f} {word}")
    assert loc.crs == system
    assert loc.lon == pytest.approx(wgs[0], abs=2e-6) and loc.lat == pytest.approx(wgs[1], abs=2e-6)
    # and the copy format gives back what was typed
    back = [float(v) for v in format_lonlat(loc.lon, loc.lat, system).split(", ")]
    assert back == pytest.approx([float(x), float(y)], abs=2e-6)


def test_the_default_system_applies_without_a_word():
    g = parse_location("113.3245,23.1123", "gcj02")
    w = parse_location("113.3245,23.1123")
    assert g.crs == "gcj02" and w.crs == "wgs84"
    assert abs(g.lon - w.lon) > 1e-3          # the GCJ-02 shift (~500 m) was undone


@pytest.mark.parametrize("text", ["天河路", "2025", "2025 2027", "", "113.32", "A3 300dpi"])
def test_text_that_is_not_a_coordinate_pair(text):
    assert parse_location(text) is None


def test_an_impossible_pair_is_an_input_error():
    with pytest.raises(InputError, match="latitude"):
        parse_location("123.5N 200.1E")


# ------------------------------------------------------------------ pinyin search
@pytest.mark.parametrize("query,score", [("tianhelu", 0), ("thl", 0), ("tian he lu", 0), ("tianhe", 1),
                                         ("helu", 2), ("xyz", None), ("t", None)])
def test_pinyin_matching(query, score):
    assert match_pinyin(query, "天河路") == score


def test_heteronyms_are_tried():
    assert match_pinyin("changlong", "长隆旅游度假区") is not None     # 长 read chang, not zhang


def test_atlas_search_by_pinyin_and_by_coordinates(atlas):
    by_full = [h["label"] for h in atlas.search("tianhelu") if h["type"] == "feature"]
    by_initials = [h["label"] for h in atlas.search("thl") if h["type"] == "feature"]
    assert any("天河路" in n for n in by_full) and by_full[0] == by_initials[0]
    hit = atlas.search("113.3245,23.1123 gcj02")[0]
    assert hit["type"] == "location" and hit["crs"] == "gcj02"
    x, y = crs.convert(hit["lon"], hit["lat"], "wgs84", "gcj02")
    assert (float(x), float(y)) == pytest.approx((113.3245, 23.1123), abs=1e-6)


def test_the_readme_lists_every_debian_package_the_display_check_names():
    from pathlib import Path

    from planatlas.desktop.cli.app import XCB_PACKAGES
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set-up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    missing = sorted(p for p in set(XCB_PACKAGES.values()) if p not in setup)
    assert not missing, f"README set-up lacks {missing}"
