"""The curated gazetteer: completeness, honesty of positions, containment, links."""
import json

import pytest
from pyproj import Geod

from planatlas.layers.atlas import load_atlas
from planatlas.layers.gazetteer import GazetteerError, load_file, validate
from planatlas.layers.model import CATEGORIES

ATLAS = load_atlas()
FEATURES = list(ATLAS.features.values())
GEOD = Geod(ellps="WGS84")


def by_name(name):
    return next(f for f in FEATURES if f.name == name or name in f.aliases)


def test_well_over_150_features_in_all_four_categories_and_five_plans():
    assert len(FEATURES) > 150
    assert {c for f in FEATURES for c in f.categories} == set(CATEGORIES)
    assert {p for f in FEATURES for p in f.plans} == set(ATLAS.plans) - {
        p for p, plan in ATLAS.plans.items() if plan.origin == "user"}


def test_the_gazetteer_validates_against_plans_and_basemap():
    """Names and aliases occur in the plan texts, evidence quotes are verbatim,
    and every feature lies inside the district polygon it claims."""
    assert validate(FEATURES, ATLAS.plans, ATLAS.basemap) == []


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.id)
def test_every_feature_inside_its_claimed_district(feature):
    """Every vertex (not one representative point) within DISTRICT_TOLERANCE_M of the district,
    plausible area, not mostly at sea unless the feature says why."""
    from planatlas.layers.gazetteer import check_containment
    assert check_containment(feature, ATLAS.basemap) == []


def test_every_feature_is_mentioned_and_honest_about_precision():
    for f in FEATURES:
        assert ATLAS.mentions(f.id), f.id
        assert f.status in ("approximate", "verified")
        if f.status == "approximate":
            assert f.precision_m >= 100, f.id          # general knowledge is never 50 m
        assert f.source
        if f.schematic:
            assert f.geometry.geom_type != "Point"


def test_known_spot_positions():
    tower = by_name("广州塔")
    assert tower.district == "海珠区"
    # within 300 m of the Haizhu-tram 广州塔 stop (Baidu-derived, WGS-84; tests/data/anchors.csv)
    _, _, d = GEOD.inv(tower.geometry.x, tower.geometry.y, 113.3166290, 23.1099685)
    assert d < 300
    # and not at 113.3245, 23.1064 — the GCJ-02 (Amap) value the first gazetteer used
    _, _, d_gcj = GEOD.inv(tower.geometry.x, tower.geometry.y, 113.3245, 23.1064)
    assert d_gcj > 400
    assert ATLAS.basemap.district("海珠区").contains(tower.geometry)
    ylq = by_name("杨柳青古镇")
    assert ylq.district == "西青区" and ATLAS.basemap.district("120111").contains(ylq.geometry)
    port = by_name("天津港")
    assert port.district == "滨海新区"
    assert ATLAS.basemap.district("120116").buffer(1e-9).contains(port.geometry.representative_point())


def test_feature_links_clauses_with_mention_offsets_and_targets():
    f = by_name("天河路—珠江新城")
    clause = ATLAS.clause("guangzhou:二.(二).5")
    assert clause in ATLAS.clauses_of(f.id)
    m = next(m for m in ATLAS.mentions(f.id) if m.clause == clause.id)
    assert clause.text[m.start:m.end] == m.surface == "天河路—珠江新城"
    assert m.line == 77
    assert {t.id for t in ATLAS.targets_of(f.id)} >= {t.id for t in ATLAS.plans["guangzhou"].targets
                                                      if t.clause == clause.id}
    assert f.id in ATLAS.features_of(clause.id)


def test_target_scoped_to_the_feature_itself():
    f = by_name("通海港区通海作业区")
    container = next(t for t in ATLAS.plans["haimen"].targets if t.unit == "万标箱")
    assert container.id in [t.id for t in ATLAS.targets_of(f.id)]
    airport = by_name("滨海国际机场")
    assert {t.indicator for t in ATLAS.targets_of(airport.id)} == {"机场货邮吞吐量"}


def test_footnote_hubs_are_linked_through_the_note():
    f = by_name("白云神山物流枢纽")
    m = ATLAS.mentions(f.id)[0]
    assert m.in_note == 0 and m.line == 129
    assert ATLAS.clause(m.clause).notes[0][m.start:m.end] == "白云神山物流枢纽"
    assert f.tier


def test_longest_name_wins():
    # 梅江会展中心商圈 is the 商圈, not also a mention of the venue 梅江会展中心
    venue = by_name("梅江会展中心")
    district = by_name("梅江会展中心商圈")
    assert venue.id != district.id
    venue_surfaces = {m.surface for m in ATLAS.mentions(venue.id)}
    assert "梅江会展中心商圈" not in venue_surfaces


@pytest.mark.parametrize("plan", ["binhai", "xiqing", "guangzhou", "zhongshan", "haimen"])
def test_unlocated_lists_nothing_unexplained(plan):
    items = ATLAS.unlocated(plan)
    assert [i for i in items if not i["explained"]] == []


def test_unlocated_finds_a_new_place_in_an_imported_plan(tmp_path, monkeypatch):
    from planatlas.layers import atlas as atlas_mod
    from planatlas.layers.catalog import import_plan
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path))
    text = ("某区消费行动方案（2024-2026年）\n一、重点任务\n"
            "1.建设商圈。重点打造天河路—珠江新城和金沙湾夜市，建设翠微湖物流园。到2026年，新增品牌首店30家。\n")
    src = tmp_path / "p.txt"
    src.write_text(text, encoding="utf-8")
    import_plan(src, "mini")
    atlas = atlas_mod.load_atlas(reload=True)
    try:
        surfaces = {i["surface"] for i in atlas.unlocated("mini")}
        assert "金沙湾夜市" in surfaces and "翠微湖物流园" in surfaces
        f = by_name("天河路—珠江新城")
        assert "mini" in atlas.plans_of(f.id)
        assert any(t.plan == "mini" for t in atlas.targets_of(f.id))
    finally:
        atlas_mod._CACHE.clear()


def write_fc(tmp_path, features):
    p = tmp_path / "x.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                 encoding="utf-8")
    return p


def feature_json(**overrides):
    props = {"id": "t1", "name": "某商圈", "categories": ["commercial_district"], "subtype": "商圈",
             "plans": ["guangzhou"], "district": "天河区", "adcode": "440106", "precision_m": 500,
             "source": "test", "status": "approximate"}
    geometry = overrides.pop("geometry", {"type": "Point", "coordinates": [113.33, 23.13]})
    props.update(overrides)
    return {"type": "Feature", "properties": props, "geometry": geometry}


@pytest.mark.parametrize("feature,message", [
    (feature_json(geometry={"type": "Point", "coordinates": [23.13, 113.33]}), "swapped"),
    (feature_json(geometry={"type": "Point", "coordinates": [200, 23]}), "out of range"),
    (feature_json(geometry={"type": "Point", "coordinates": [-73.9, 40.7]}), "outside China"),
    (feature_json(categories=["shopping"]), "categories"),
    (feature_json(status="exact"), "status"),
    (feature_json(precision_m=-5), "positive"),
    (feature_json(name=""), "missing name"),
])
def test_bad_features_get_clear_errors(tmp_path, feature, message):
    with pytest.raises(GazetteerError, match=message):
        load_file(write_fc(tmp_path, [feature]))


def test_malformed_geojson_names_line_and_column(tmp_path):
    p = tmp_path / "bad.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [\n  {"type": }\n]}', encoding="utf-8")
    with pytest.raises(GazetteerError, match=r"line 2, column"):
        load_file(p)
