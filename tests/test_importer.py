"""Import preview: encodings, PDF/Word, bad input, period, issuer, region, found places with locations."""
import io
from pathlib import Path

import pytest

from planatlas.layers.errors import InputError
from planatlas.layers.importer import MAX_BYTES, guess_issuer, preview_plan, read_source
from planatlas.layers.period import infer_period

PLANS = Path(__file__).parent / "plans"
DALIAN = (PLANS / "dalian.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("codec,label", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"),
                                         ("gb18030", "gb18030")])
def test_encodings_are_detected(codec, label):
    p = preview_plan(DALIAN.encode(codec), name="dalian.txt")
    assert p.encoding == label and p.kind == "text"
    assert [m.mention.name for m in p.places][:2] == ["青泥洼-天津街", "西安路"]


def test_preview_of_the_dalian_plan():
    p = preview_plan(PLANS / "dalian.txt")
    assert p.title == "推进大连市夜间经济发展的指导意见" or "大连" in p.title
    assert (p.period.start, p.period.end_min, p.period.end) == (2019, 2022, 2024) and p.period.uncertain
    assert not p.period_required
    assert p.regions[0]["city"] == "大连市" and p.region.city == "大连市"
    assert len(p.places) == 15 and p.targets and p.clauses
    d = p.to_dict()
    assert d["period"]["evidence"].startswith("从2019年起") and d["places"][0]["location"]["status"] in (
        "unlocated", "admin", "gazetteer")


@pytest.mark.parametrize("text,expected", [
    ("滨海新区行动方案（2023-2027年）\n一、目标\n", (2023, 2027, None)),
    ("中山市商务发展“十四五”规划\n一、目标\n", (2021, 2025, None)),
    ("从2019年起,力争3-5年时间,打造夜商圈", (2019, 2024, 2022)),
    ("一、目标\n到2025年,社会消费品零售总额达到1000亿元。2023年先行启动。", (2023, 2025, None)),
])
def test_period_inference(text, expected):
    g = infer_period(text, text.splitlines()[0])
    assert (g.start, g.end, g.end_min) == expected


def test_a_cited_documents_range_is_not_the_plans_period():
    text = ("为贯彻落实市进一步激发商贸消费潜力三年行动计划(2019-2024年),制定本方案。\n"
            "一、工作目标\n到2024年底,建成夜间经济体系。2023年底前建成一条街区。")
    g = infer_period(text)
    assert (g.start, g.end) == (2023, 2024)


def test_no_period_in_the_text_means_the_user_must_say():
    p = preview_plan(PLANS / "wuhan_logistics.txt")
    assert p.period is None and p.period_required


def test_issuer_and_date_from_the_signature_block():
    lines = ["关于印发某方案的通知", "各区人民政府:", "现将方案印发给你们。", "武汉市人民政府", "2021年6月30日"]
    assert guess_issuer(lines) == ("武汉市人民政府", "2021-06-30")
    assert guess_issuer(["长沙市人民政府办公厅关于加快推进夜间经济发展的实施意见"]) == ("长沙市人民政府办公厅", "")


def test_region_from_administrative_names():
    p = preview_plan(PLANS / "shangrao.txt")
    assert p.regions[0]["city"] == "上饶市"           # 信州区、广信区 both vote for 上饶市


@pytest.mark.parametrize("data,match", [
    (b"", "empty"),
    (b"   \n\t ", "empty"),
    (b"\x00\x01\x02binary\x00", "binary"),
    (b"\x89PNG\r\n\x1a\n....", "image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old Word"),
    (b"PK\x03\x04" + b"\x00" * 64, "ZIP"),
    ("没有任何编号的普通文字，不是规划。".encode("utf-8"), "no numbered structure"),
])
def test_bad_input_is_refused_clearly(data, match):
    with pytest.raises(InputError, match=match):
        preview_plan(data, name="bad")


def test_a_100_mb_text_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.seek(100 * 1024 * 1024)
        fh.write(b"\n")
    with pytest.raises(InputError, match="MB"):
        read_source(big)
    with pytest.raises(InputError, match="MB"):
        read_source(b"x" * (MAX_BYTES + 1))


def _pdf(text_lines: list[str] | None) -> bytes:
    """A one-page PDF with a text layer (CJK via a Type0 font the extractor can map), or none."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject
    w = PdfWriter()
    page = w.add_blank_page(width=595, height=842)
    if text_lines is not None:
        ops = ["BT /F1 12 Tf 50 800 Td 14 TL"]
        for line in text_lines:
            ops.append("<" + line.encode("utf-16-be").hex() + "> Tj T*")
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("ascii"))
        page[NameObject("/Contents")] = w._add_object(stream)
        from pypdf.generic import DictionaryObject, ArrayObject, NumberObject, TextStringObject
        cmap = DecodedStreamObject()
        cmap.set_data(b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /U def "
                      b"1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfrange <0000> <FFFF> <0000> "
                      b"endbfrange endcmap CMapName currentdict /CMap defineresource pop end end")
        font = DictionaryObject({
            NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type0"),
            NameObject("/BaseFont"): NameObject("/STSong-Light"), NameObject("/Encoding"): NameObject("/Identity-H"),
            NameObject("/ToUnicode"): w._add_object(cmap),
            NameObject("/DescendantFonts"): ArrayObject([w._add_object(DictionaryObject({
                NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/CIDFontType0"),
                NameObject("/BaseFont"): NameObject("/STSong-Light"),
                NameObject("/CIDSystemInfo"): DictionaryObject({
                    NameObject("/Registry"): TextStringObject("Adobe"),
                    NameObject("/Ordering"): TextStringObject("GB1"),
                    NameObject("/Supplement"): NumberObject(4)})}))])})
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): w._add_object(font)})})
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def test_text_pdf_is_imported():
    lines = ["大连市夜间经济指导意见（2019-2022年）", "一、工作目标",
             "重点打造青泥洼--天津街、西安路、香炉礁、奥林匹克广场、中华路五大商圈。"]
    p = preview_plan(_pdf(lines), name="plan.pdf")
    assert p.kind == "pdf" and "西安路" in [f.mention.name for f in p.places]
    assert p.period.as_tuple() == (2019, 2022)


def test_scanned_pdf_is_refused_with_the_reason():
    with pytest.raises(InputError, match="scanned PDF.*no text layer"):
        preview_plan(_pdf(None), name="scan.pdf")


def test_docx_is_imported(tmp_path):
    import docx
    d = docx.Document()
    for line in ["开远市推动夜间经济发展实施方案", "一、总体要求",
                 "聚焦知花小镇、壹然文旅广场、浙商步行街等商业聚集区,用3年时间打造夜间经济集聚区。"]:
        d.add_paragraph(line)
    path = tmp_path / "plan.docx"
    d.save(path)
    p = preview_plan(path)
    assert p.kind == "docx" and [f.mention.name for f in p.places] == ["知花小镇", "壹然文旅广场", "浙商步行街"]
    assert p.regions[0]["county"] == "开远市"


def test_import_plan_stores_docx_text_and_infers_the_period(tmp_path, monkeypatch):
    import docx
    from planatlas.layers import catalog
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    d = docx.Document()
    for line in ["大连市夜间经济指导意见", "一、工作目标", "从2019年起,力争3-5年时间,打造示范夜街区5个以上。"]:
        d.add_paragraph(line)
    d.save(tmp_path / "p.docx")
    plan = catalog.import_plan(tmp_path / "p.docx", "dl-night")
    assert plan.period == (2019, 2024) and plan.encoding == "utf-8"
    from planatlas.layers.store import current_store
    rec = current_store().plan_records()["dl-night"]          # the text, in the user store
    assert "从2019年起" in current_store().plan_text(rec["text_sha256"]).decode("utf-8")
    catalog.remove_plan("dl-night")


def test_nothing_is_written_on_bad_input(tmp_path, monkeypatch):
    from planatlas.layers import catalog
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "scan.pdf").write_bytes(_pdf(None))
    with pytest.raises(InputError):
        catalog.import_plan(tmp_path / "scan.pdf", "scanned")
    (tmp_path / "noperiod.txt").write_text("一、任务\n建设物流园区。\n", encoding="utf-8")
    with pytest.raises(InputError, match="period"):
        catalog.import_plan(tmp_path / "noperiod.txt", "noperiod")
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.txt"))
