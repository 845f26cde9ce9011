"""Plan reading on hostile input: linear time, encodings (Big5 vs GB18030), every line break,
control characters, plan ids and labels, and the parsed-plan cache."""
from __future__ import annotations

import json

import pytest

from planatlas.desktop.cli import main
from timing import cpu_time as _cpu
from planatlas.layers import catalog, plan as planmod, plancache
from planatlas.layers.encoding import BIG5, guess_encoding
from planatlas.layers.errors import InputError
from planatlas.layers.ids import check_plan_id
from planatlas.layers.plan import parse_plan_bytes, parse_text
from planatlas.layers.text import PlanTextError, decode, split_lines

SEEDS = catalog.seeds_dir()
XIQING = (SEEDS / "003_b41deb7bd8aec23f.txt").read_text(encoding="utf-8")

TRADITIONAL = """臺中市促進商業發展與消費升級實施方案（2024—2026年）

一、總體要求
堅持以人民為中心的發展思想，推動商圈提升改造，建設國際消費中心城市。到2026年，全市社會消費品零售總額突破3000億元，年均增長6%以上。
二、重點任務
（一）建設國際知名商圈。支持七期商圈、一中商圈提升改造，發展夜間經濟，建設特色商業步行街3條。
（二）完善物流體系。推動港區與機場聯動發展，貨櫃吞吐量達到1500萬標準箱。
（三）培育消費新業態。鼓勵老字號企業創新發展，新增品牌首店50家。
三、保障措施
（一）加強組織領導。各區政府要建立工作機制，確保各項任務落實到位。
"""



def _grows_linearly(make, n: int) -> float:
    """CPU time ratio of parsing an input of size 4n to one of size n (linear ~4, quadratic ~16)."""
    small, big = make(n).encode("utf-8"), make(4 * n).encode("utf-8")
    parse = lambda data: (lambda: _parse_or_refuse(data))   # noqa: E731
    return _cpu(parse(big)) / max(_cpu(parse(small)), 1e-4)


def _parse_or_refuse(data: bytes) -> None:
    try:
        parse_plan_bytes(data, "p", period=(2021, 2025))
    except PlanTextError:
        pass


# ----------------------------------------------------------------------------- linear time

WORST_CASES = {
    # found by fuzzing: 20,000 identical headings took > 200 s (duplicate ids resolved in O(n²))
    "identical 一、 headings": lambda n: "一、标题\n" * n,
    # one 2.8 MB comma-only sentence took 22 s (_scope computed per target over the sentence)
    "comma-only sentence": lambda n: "一、标题\n" + "建成1个，" * n + "。\n",
    "numbers without separators": lambda n: "一、标题\n" + "1个2家" * n + "。\n",
    "one unterminated paragraph": lambda n: "一、标题\n" + "这是没有句号的长句子\n" * n,
    "footnote per line": lambda n: "一、标题\n" + "文字¹\n¹ 注释\n" * n,
    "a line of dots": lambda n: "一、标题\n" + "." * (10 * n) + "x\n",
}


@pytest.mark.parametrize("name", sorted(WORST_CASES))
def test_parsing_time_grows_linearly(name):
    ratio = _grows_linearly(WORST_CASES[name], 2000)
    assert ratio < 8, f"{name}: 4x the input took {ratio:.1f}x the CPU time"


def test_twenty_thousand_identical_headings_get_unique_ids():
    clauses = parse_text("一、标题\n" * 20000, "p")
    ids = [c.id for c in clauses]
    assert len(ids) == 20000 == len(set(ids))
    assert ids[:3] == ["p:一", "p:一~2", "p:一~3"] and ids[-1] == "p:一~20000"


def test_plan_size_limit_is_named():
    with pytest.raises(PlanTextError, match="20 MB, the limit"):
        parse_plan_bytes(b"x" * (planmod.MAX_PLAN_BYTES + 1), "p")


# ----------------------------------------------------------------------------- encodings

def test_big5_plan_is_read_as_big5_not_gb18030_mojibake():
    data = TRADITIONAL.encode("cp950")
    data.decode("gb18030")                       # GB18030 accepts these bytes: the trap
    plan = parse_plan_bytes(data, "tc")
    assert plan.encoding == BIG5
    assert plan.title.startswith("臺中市促進商業發展")
    assert [c.heading for c in plan.clauses if c.kind == "cn"] == ["總體要求", "重點任務", "保障措施"]
    assert any("貨櫃吞吐量達到1500萬標準箱" in c.text for c in plan.clauses)


@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_gb18030_plans_stay_gb18030(seed):
    text = (SEEDS / seed).read_text(encoding="utf-8")
    for cut in (300, 3000, len(text)):            # short and long files
        data = text[:cut].encode("gb18030")
        enc, decoded = guess_encoding(data)
        assert enc == "gb18030" and decoded == text[:cut]


def test_gbk_text_that_also_decodes_as_big5_stays_gbk():
    text = "商贸物流中心建设规划纲要"                # every byte pair is valid Big5 too
    data = text.encode("gbk")
    data.decode(BIG5)
    assert guess_encoding(data) == ("gb18030", text)


# ----------------------------------------------------------------------------- line breaks, controls

@pytest.mark.parametrize("sep", ["\r", "\r\n", "\u2028", "\u2029", "\x85"])
def test_every_line_break_gives_the_same_clauses_and_lines(sep):
    reference = parse_plan_bytes(XIQING.encode("utf-8"), "x")
    other = parse_plan_bytes(XIQING.replace("\n", sep).encode("utf-8"), "x")
    assert [c.to_dict() for c in other.clauses] == [c.to_dict() for c in reference.clauses]
    assert [t.to_dict() for t in other.targets] == [t.to_dict() for t in reference.targets]
    assert len(other.source_lines) == len(reference.source_lines)


def test_split_lines_numbers_lines_like_an_editor():
    assert split_lines("a\rb\r\nc\nd\u2028e\u2029f\x85g") == list("abcdefg")
    assert split_lines("a\n") == ["a", ""]


def test_control_characters_are_dropped_and_page_breaks_are_spaces():
    noisy = XIQING.replace("一、", "\x0c一、", 1).replace("。", "。\x7f\x1b", 3)
    reference = parse_plan_bytes(XIQING.encode("utf-8"), "x")
    other = parse_plan_bytes(noisy.encode("utf-8"), "x")
    assert [(c.id, c.text) for c in other.clauses] == [(c.id, c.text) for c in reference.clauses]


def test_binary_and_undecodable_files_are_refused():
    with pytest.raises(PlanTextError, match="binary"):
        decode(b"\x00abc")
    with pytest.raises(PlanTextError, match="cannot decode as UTF-8 .line 1"):
        decode(b"abc \x80\x80\x80 def\n" * 3)


# ----------------------------------------------------------------------------- ids and labels

@pytest.mark.parametrize("bad", ["abc\n", "con", "nul", "com1", "lpt9", "aux", "A-b", "x", "中文",
                                 "a" * 33, "1abc", "ab c"])
def test_bad_plan_ids_are_refused(bad):
    with pytest.raises(InputError):
        check_plan_id(bad)


@pytest.mark.parametrize("bad", ["abc\n", "con", "com1"])
def test_import_plan_refuses_bad_ids(bad, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    src = tmp_path / "p.txt"
    src.write_text(XIQING, encoding="utf-8")
    assert main(["import-plan", str(src), "--id", bad]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "plan id" in err
    assert not (tmp_path / "data" / "plans").exists()


def test_title_with_control_characters_keeps_the_plan_visible(capsys, tmp_path, monkeypatch):
    from planatlas.layers import atlas

    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    catalog._parse_cached.cache_clear()
    atlas._CACHE.clear()
    src = tmp_path / "p.txt"
    src.write_text(XIQING, encoding="utf-8")
    assert main(["import-plan", str(src), "--id", "ctl", "--title", "a\x7fb\x0bc",
                 "--issuer", "某\x00局\u2028办公室"]) == 0
    from planatlas.layers.store import current_store
    record = current_store().plan_records()["ctl"]          # what the store keeps
    assert record["title"] == "ab c" and record["issuer"] == "某局 办公室"
    capsys.readouterr()
    assert main(["plans", "--json"]) == 0
    listed = {p["id"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["ctl"]["title"] == "ab c"
    catalog._parse_cached.cache_clear()
    atlas._CACHE.clear()


# ----------------------------------------------------------------------------- parsed-plan cache

def test_imported_plans_are_cached_parsed(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    calls = []
    real = planmod.parse_text
    monkeypatch.setattr(planmod, "parse_text", lambda *a, **k: calls.append(1) or real(*a, **k))
    data = XIQING.encode("gb18030")
    first = plancache.parse_plan_cached(data, "xq", path="a.txt", origin="user", title="T")
    assert len(calls) == 1 and plancache.cache_path("xq").exists()
    again = plancache.parse_plan_cached(data, "xq", path="b.txt", origin="user", title="U")
    assert len(calls) == 1                                   # served from the cache
    assert [c.to_dict() for c in again.clauses] == [c.to_dict() for c in first.clauses]
    assert [c.line_map for c in again.clauses] == [c.line_map for c in first.clauses]
    assert [t.to_dict() for t in again.targets] == [t.to_dict() for t in first.targets]
    assert again.title == "U" and again.file == "b.txt" and again.encoding == "gb18030"
    # changed content, period or region: parsed again
    plancache.parse_plan_cached(data + "\n五、补充\n".encode("gb18030"), "xq", origin="user")
    assert len(calls) == 2
    plancache.parse_plan_cached(data, "xq", origin="user", period=(2020, 2030))
    assert len(calls) == 3
    # a damaged or foreign cache file costs a re-parse, never an error
    plancache.cache_path("xq").write_bytes(b'{"format": 1, "key": "nope"')
    plancache.parse_plan_cached(data, "xq", origin="user")
    assert len(calls) == 4
    # seed plans are never cached
    plancache.parse_plan_cached(data, "seedish", origin="seed")
    assert not plancache.cache_path("seedish").exists()


def test_a_read_only_cache_folder_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data" / "cache").mkdir(parents=True)
    (tmp_path / "data" / "cache" / "plans").write_bytes(b"not a folder")
    plan = plancache.parse_plan_cached(XIQING.encode("utf-8"), "xq", origin="user")
    assert plan.clauses
