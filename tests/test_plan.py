"""Clause trees of the five seed plans: structure, source lines, normalisation."""
import re

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from planatlas.layers.catalog import load_plans, seeds_dir
from planatlas.layers.plan import parse_plan_bytes, parse_text
from planatlas.layers.text import PlanTextError, decode, squeeze

PLANS = load_plans(include_user=False)


def clause(pid, cid):
    return PLANS[pid].clause(f"{pid}:{cid}")


def test_five_seed_plans_with_manifest_metadata():
    assert list(PLANS) == ["binhai", "zhongshan", "haimen", "xiqing", "guangzhou"]
    bh = PLANS["binhai"]
    assert bh.region.adcode == "120116" and bh.region.district == "滨海新区"
    assert bh.period == (2023, 2027) and bh.issued == "2024-01-12"
    assert PLANS["haimen"].region.adcode == "320614"
    assert PLANS["zhongshan"].region.adcode == "442000"


def test_seeds_are_byte_identical_to_shared_input():
    import pathlib
    shared = pathlib.Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("shared seeds not beside the checkout")
    for src in shared.glob("*.txt"):
        assert (seeds_dir() / src.name).read_bytes() == src.read_bytes()


def test_guangzhou_world_class_districts_clause_sits_under_section_two():
    c = clause("guangzhou", "二.(二).5")
    assert c.number == "5."
    assert c.heading == "建设国际知名商圈"
    assert c.parent == "guangzhou:二.(二)"
    assert clause("guangzhou", "二.(二)").parent == "guangzhou:二"
    assert c.level == 3
    assert c.lines == (75, 77)
    assert "天河路—珠江新城" in c.text and "南沙湾（南沙国际游轮母港）" in c.text


def test_guangzhou_items_number_continuously_across_sections():
    items = [c for c in PLANS["guangzhou"].clauses if c.kind == "arabic"]
    assert [int(c.number.rstrip(".")) for c in items] == list(range(1, 33))


def test_footnote_is_a_note_and_does_not_split_its_sentence():
    c = clause("guangzhou", "二.(四).20")
    assert "物流枢纽体系建设。结合全国供应链创新与应用示范城市建设" in c.text
    assert "¹" not in c.text and "白云神山物流枢纽" not in c.text
    assert len(c.notes) == 1 and "白云神山物流枢纽" in c.notes[0]
    assert c.note_lines == [129]
    assert c.lines == (127, 131)


def test_xiqing_hard_wrapped_text_is_joined_without_page_numbers():
    plan = PLANS["xiqing"]
    for c in plan.clauses:
        assert not re.search(r"-\s*\d+\s*-", c.text), c.id
        assert "\n\n" not in c.text
    c2 = clause("xiqing", "二.(一).2")
    assert c2.heading == "建强西青特色活力商圈"
    # the page number "- 3 -" (line 68) sat between 交付中 and 心
    assert "高端汽车摩托车交付中心" in c2.text
    assert "\n" not in c2.text
    assert "国民夜市" in clause("xiqing", "二.(一).1").text
    assert "天津美术学院" in clause("xiqing", "二.(二).7").text
    assert "（责任单位：区运管局、区住建委）" in clause("xiqing", "二.(五).18").text


def test_xiqing_structure():
    ids = [c.id for c in PLANS["xiqing"].clauses]
    assert ids[:4] == ["xiqing:preamble", "xiqing:一", "xiqing:二", "xiqing:二.(一)"]
    items = [c for c in PLANS["xiqing"].clauses if c.kind == "arabic"]
    assert len(items) == 21 and items[-1].heading == "健全完善监管体系"


def test_zhongshan_chapters_boxes_table_and_toc():
    plan = PLANS["zhongshan"]
    chapters = [c for c in plan.clauses if c.kind == "chapter"]
    assert len(chapters) == 9                       # the table of contents is not read as chapters
    assert chapters[0].lines == (58, 58)
    box = clause("zhongshan", "第三章.第四节.专栏1")
    assert box.heading == "畅通外贸新渠道工程"
    kids = [c for c in plan.clauses if c.parent == box.id]
    assert len(kids) == 11 and kids[0].heading == "紧紧把握 RCEP 新机遇"
    table = clause("zhongshan", "第二章.第三节.表1")
    assert table.heading == "中山市“十四五”时期商务发展主要预期性指标"
    assert "社会消费品零售总额" in table.text          # broken cell "社会消费品零售 总额" repaired
    assert "**" not in "".join(c.text for c in plan.clauses)
    assert clause("zhongshan", "前言").level == 1


def test_binhai_and_haimen_structure():
    bh = clause("binhai", "四.(四).4")
    assert bh.heading == "支持“夜滨城”场景建设" and bh.lines == (48, 48)
    hm = clause("haimen", "三.(七).17")
    assert hm.heading == "构建多层次消费商圈" and hm.parent == "haimen:三.(七)"
    assert clause("haimen", "二.1").heading == "规模效益显著提升"


@pytest.mark.parametrize("pid", list(PLANS))
def test_every_clause_cites_lines_containing_its_first_characters(pid):
    plan = PLANS[pid]
    for c in plan.clauses:
        first, last = c.lines
        assert 1 <= first <= last <= len(plan.source_lines), c.id
        original = squeeze("".join(plan.source_lines[first - 1:last])).replace("*", "")
        head = squeeze(c.text)[:8]
        assert head and head in original, (c.id, head)
        # every line the clause maps to is inside its range
        assert all(first <= ln <= last for _, ln in c.line_map), c.id


def test_gbk_copy_parses_identically():
    for entry_id in ("xiqing", "guangzhou"):
        plan = PLANS[entry_id]
        raw = open(plan.file, "rb").read()
        gbk = raw.decode("utf-8").encode("gb18030")
        other = parse_plan_bytes(gbk, plan.id, path="gbk-copy.txt", period=plan.period, region=plan.region)
        assert other.encoding == "gb18030"
        assert [c.to_dict() for c in other.clauses] == [c.to_dict() for c in plan.clauses]
        assert [t.to_dict() for t in other.targets] == [t.to_dict() for t in plan.targets]


def test_utf8_bom_is_accepted():
    raw = open(PLANS["haimen"].file, "rb").read()
    text, enc = decode(b"\xef\xbb\xbf" + raw)
    assert enc == "utf-8-sig" and text.startswith("南通市海门区")


@pytest.mark.parametrize("data,message", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"\x00\x01\x02binary", "binary"),
    (b"abc \x80\x80\x80 def\n" * 3, "cannot decode"),
    ("这是一段没有任何编号结构的文字。\n只是两行。\n".encode("utf-8"), "no numbered structure"),
])
def test_bad_input_gets_a_clear_error(data, message):
    with pytest.raises(PlanTextError, match=message):
        parse_plan_bytes(data, "bad", path="bad.txt", period=(2023, 2025))


BINHAI_TEXT = open(PLANS["binhai"].file, encoding="utf-8").read()


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(width=st.integers(min_value=24, max_value=40), blank=st.booleans())
def test_hard_wrapping_a_plan_does_not_change_its_clauses(width, blank):
    """Re-wrapping every paragraph at a fixed width (like the Xiqing PDF export) keeps the clauses."""
    wrapped = []
    for line in BINHAI_TEXT.split("\n"):
        s = line.strip()
        pieces = [s[i:i + width] for i in range(0, len(s), width)] or [""]
        for p in pieces:
            wrapped.append(p)
            if blank:
                wrapped.append("")
    original = parse_text(BINHAI_TEXT, "binhai")
    rewrapped = parse_text("\n".join(wrapped), "binhai")
    body = lambda cs: [(c.id, c.heading, squeeze(c.text)) for c in cs if c.kind != "preamble"]
    assert body(rewrapped) == body(original)
