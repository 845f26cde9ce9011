"""Canonical indicators: the vocabulary, unit normalisation and the mapper, measured on a
hand-checked list of every target the seed plans set (tests/data/seed_targets.tsv)."""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from planatlas.layers.atlas import load_atlas
from planatlas.layers.errors import InputError
from planatlas.layers.indicators import (
    OTHER, Vocabulary, _windows, classify, normalise, unit_dimension, vocabulary,
)
from planatlas.layers.model import Target
from planatlas.layers.targets import UNITS

CHECKED = Path(__file__).with_name("data") / "seed_targets.tsv"


def _checked() -> list[dict]:
    with open(CHECKED, encoding="utf-8") as fh:
        return list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t"))


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def _find(atlas, entry) -> list[Target]:
    """The targets an entry is about: same plan, source line, value and unit, with the fragment
    in their text; those whose indicator phrase holds the fragment first (a split enumeration)."""
    found = [t for t in atlas.plans[entry["plan"]].targets
             if t.kind == "target" and t.line == int(entry["line"]) and t.unit == entry["unit"]
             and t.value == pytest.approx(float(entry["value"]))
             and entry["fragment"] in t.surface + t.indicator]
    own = [t for t in found if entry["fragment"] in t.indicator]
    return own or found


def _key(atlas, t: Target) -> str:
    return classify(t, atlas.clause(t.clause).text).key


# --------------------------------------------------------------------------- hand-checked list

def test_hand_checked_list_covers_every_seed_target(atlas):
    entries = _checked()
    claimed = {t.id for e in entries for t in _find(atlas, e)}
    every = {t.id for p in atlas.plans.values() if p.origin == "seed" for t in p.targets
             if t.kind == "target"}
    missing = [e for e in entries if not _find(atlas, e)]
    assert not missing, f"hand-checked targets no longer extracted: {missing}"
    assert every <= claimed, f"seed targets not on the hand-checked list: {sorted(every - claimed)}"


def test_at_least_90_percent_of_seed_targets_map_and_every_mapping_is_the_checked_one(atlas):
    entries = _checked()
    wrong, mapped = [], 0
    for e in entries:
        keys = {_key(atlas, t) for t in _find(atlas, e)}
        if keys != {e["expected"]}:
            wrong.append((e["plan"], e["line"], e["value"], e["fragment"], e["expected"], sorted(keys)))
        mapped += e["expected"] != OTHER and keys == {e["expected"]}
    assert not wrong, wrong
    share = mapped / len(entries)
    print(f"\ncoverage: {mapped}/{len(entries)} = {share:.1%} of the seed plans' targets map to a "
          "canonical indicator")
    assert len(entries) >= 100 and share >= 0.90
    assert {e["expected"] for e in entries} - {OTHER} <= set(vocabulary().indicators)


@pytest.mark.parametrize("change", ["no_indicator", "phrase_before_figure", "longer_phrase",
                                    "no_year", "fullwidth_percent"])
def test_mapper_does_not_depend_on_the_extracted_indicator_phrase(atlas, change):
    """Target extraction is being improved (longer indicator phrases, no imputed years): the
    same figure must keep its canonical indicator whatever the phrase. (Items of one
    enumeration with one figure — 4A级旅游景区、省级旅游度假区和旅游休闲街区各1个 — share their
    text; only their indicator phrases tell them apart, so they keep theirs.)"""
    shared = Counter((t.plan, t.line, t.value, t.unit, t.surface)
                     for p in atlas.plans.values() for t in p.targets)
    for e in _checked():
        for t in _find(atlas, e):
            if shared[(t.plan, t.line, t.value, t.unit, t.surface)] > 1 and change != "no_year":
                continue
            win = _windows(t.surface, t)
            before = win[0] if win else t.surface
            t2 = {"no_indicator": replace(t, indicator=""),
                  "phrase_before_figure": replace(t, indicator=before),
                  "longer_phrase": replace(t, indicator="到2025年，全区" + before),
                  "no_year": replace(t, year=None),
                  "fullwidth_percent": replace(t, surface=t.surface.replace("%", "％"))}[change]
            assert _key(atlas, t2) == e["expected"], (change, e)


def test_evidence_says_where_the_synonym_was_found(atlas):
    t = next(t for t in atlas.plans["haimen"].targets
             if t.line == 68 and t.unit == "%" and t.kind == "target")
    m = classify(replace(t, indicator="年均增长"), atlas.clause(t.clause).text)
    assert m.key == "retail_sales_growth"
    assert (m.evidence.field, m.evidence.matched, m.evidence.growth) == ("sentence", "社会消费品零售额", "年均增长")
    assert m.evidence.describe("en") == "sentence has “社会消费品零售额”; “年均增长” + % → growth"
    own = classify(t, atlas.clause(t.clause).text)
    assert own.evidence.field == "indicator" and "社会消费品零售额" in own.evidence.describe("zh")


def _target(indicator, value, unit, surface=None, **kw) -> Target:
    return Target(id="x:t001", plan="x", clause="x:一", indicator=indicator, year=2025,
                  comparator="=", value=value, unit=unit, scope="全市", line=1,
                  surface=surface or f"{indicator}{value:g}{unit}", **kw)


@pytest.mark.parametrize("indicator,value,unit,expected", [
    ("社零额", 800, "亿元", "retail_sales"),
    ("全区社会消费品零售总额", 8_000_000, "万元", "retail_sales"),
    ("社会消费品零售总额年均增长", 8, "%", "retail_sales_growth"),
    ("跨境电商进出口规模", 130, "亿元", "cross_border_ecommerce"),   # not foreign trade
    ("夜间经济营业额", 300, "亿元", "night_economy_turnover"),
    ("网络零售额", 90, "亿元", "online_retail_sales"),
    ("特色夜市", 3, "个", "night_markets"),
    ("市级步行街", 2, "条", "pedestrian_streets"),
    ("港口集装箱吞吐量", 300, "万TEU", "container_throughput"),
    ("天河路商圈销售额", 1000, "亿元", "district_sales"),      # 商圈 with 亿元 is not a count of 商圈
    ("国际知名商圈", 1000, "亿元", OTHER),
    ("比2015年增加", 200.6, "亿元", OTHER),                     # an increase, not a level
    ("某某指标", 3, "光年", OTHER),                             # unknown unit
])
def test_synonyms_units_and_vetoes(indicator, value, unit, expected):
    assert classify(_target(indicator, value, unit)).key == expected


def test_enumerated_items_are_read_item_by_item():
    surface = "培育形成现代服务业高质量发展集聚示范区3家、两业融合标杆企业6家、高质量发展领军企业9家"
    keys = [classify(_target("", v, "家", surface)).key for v in (3, 6, 9)]
    assert keys == ["clusters", "enterprises", "enterprises"]
    after = "做强做大天河路—珠江新城、长隆—万博5个世界级地标商圈"
    assert classify(_target("", 5, "个", after)).evidence.matched == "商圈"
    veto = "平行进口汽车通关规模保持全国80%以上并提升本地结算率"
    assert classify(_target("", 80, "%", veto)).key == OTHER


# --------------------------------------------------------------------------- units

@pytest.mark.parametrize("value,unit,base,base_unit,shown,shown_unit", [
    (1500, "亿元", 1.5e11, "元", 1500, "亿元"),
    (3.5, "万亿元", 3.5e12, "元", 35000, "亿元"),
    (800, "万元", 8e6, "元", 0.08, "亿元"),
    (2200, "万标准箱", 2.2e7, "TEU", 2200, "万标箱"),
    (160, "万标箱", 1.6e6, "TEU", 160, "万标箱"),
    (40, "万吨", 4e5, "t", 40, "万吨"),
    (2.4, "亿吨", 2.4e8, "t", 24000, "万吨"),
    (640, "万人次", 6.4e6, "人次", 640, "万人次"),
    (5, "亿美元", 5e8, "美元", 5, "亿美元"),
    (7.7, "%", 7.7, "%", 7.7, "%"),
    (12, "幢", 12, "count", 12, "幢"),
])
def test_normalise(value, unit, base, base_unit, shown, shown_unit):
    q = normalise(value, unit)
    assert q.value == pytest.approx(base) and q.unit == base_unit
    assert q.display == pytest.approx(shown) and q.display_unit == shown_unit


def test_every_unit_the_extractor_reads_is_known():
    assert normalise(1, "光年") is None
    assert [u for u in UNITS if not unit_dimension(u)] == []
    q = normalise(1, "个", upper=2)
    assert (q.display, q.display_upper) == (1, 2)


# --------------------------------------------------------------------------- the vocabulary file

def test_vocabulary_keys_groups_and_resolution():
    v = vocabulary()
    assert v.resolve("retail_sales") == ["retail_sales"]
    assert set(v.resolve("logistics_throughput")) >= {"container_throughput", "cargo_throughput"}
    assert v.resolve(["business_districts,other"]) == ["business_districts", OTHER]
    assert v.get("retail_sales_growth").growth_of == "retail_sales"
    with pytest.raises(InputError, match="did you mean retail_sales"):
        v.resolve("retail_sale")


@pytest.mark.parametrize("body,message", [
    ('[[indicator]]\nkey = "x"\nzh = "x"\nen = "x"\ngroup = "g"\ndims = ["count"]\n', "unknown group"),
    ('[groups]\ng = ["g", "g"]\n[[indicator]]\nkey = "x"\nzh = "x"\nen = "x"\ngroup = "g"\ndims = ["parsecs"]\n',
     "unknown or missing dims"),
    ('[groups]\ng = ["g", "g"]\n[dimensions]\ncount = { base = "count" }\n[[indicator]]\nkey = "x"\nzh = "x"\n'
     'en = "x"\ngroup = "g"\ndims = ["count"]\nsynonyms = ["(unclosed"]\n', "bad pattern"),
    ('[groups]\ng = ["g", "g"]\n[dimensions]\ncount = { base = "count" }\n[[indicator]]\nkey = "x"\nzh = "x"\n'
     'en = "x"\ngroup = "g"\ndims = ["count"]\n[[indicator]]\nkey = "x"\nzh = "y"\nen = "y"\ngroup = "g"\n'
     'dims = ["count"]\n', "bad or repeated key"),
    ("not = [toml", "cannot read"),
])
def test_a_broken_vocabulary_is_reported_with_its_file(tmp_path, body, message):
    path = tmp_path / "vocab.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        vocabulary.__wrapped__(str(path))
    assert str(path) in str(err.value)


def test_the_shipped_vocabulary_is_installed_with_the_package():
    import tomllib
    root = Path(__file__).resolve().parents[1]
    cfg = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert "data/*" in cfg["tool"]["setuptools"]["package-data"]["planatlas.layers"]
    assert isinstance(vocabulary(), Vocabulary) and len(vocabulary().order) >= 30
