"""Survey readers on hostile files: damaged archives, bombs, entities, huge tokens, limits,
cancel inside long rows and members, bounded memory."""
from __future__ import annotations

import io
import re
import tracemalloc
import zipfile

import pytest

from planatlas.desktop.cli import main
from timing import cpu_time as _cpu
from planatlas.layers.survey import CheckCancelled, SurveyFormatError, iter_survey, read_survey
from planatlas.layers.survey import guard as guardmod

KML_HEAD = b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
PLACEMARK = b"<Placemark><name>x</name><Point><coordinates>113.3,23.1</coordinates></Point></Placemark>"
KML = KML_HEAD + PLACEMARK + b"</Document></kml>"
GPX = (b'<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
       b'<wpt lat="23.1" lon="113.3"><name>a</name></wpt></gpx>')


def _xlsx_bytes(rows=(("名称", "经度", "纬度"), ("天河路", 113.33, 23.13))) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for r in rows:
        wb.active.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rezip(data: bytes, change=None, method=zipfile.ZIP_DEFLATED) -> bytes:
    """Rewrite a ZIP, applying ``change(name, bytes) -> bytes`` and compression ``method``."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for n in src.namelist():
            z.writestr(n, change(n, src.read(n)) if change else src.read(n))
    return out.getvalue()


def _kmz(kml: bytes = KML, method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        z.writestr("doc.kml", kml)
    return out.getvalue()


def _flip_in_member_data(data: bytes, member: str | None = None) -> bytes:
    """Damage the compressed data of a member (the first by default): a CRC or zlib error."""
    b = bytearray(data)
    at = 0
    if member is not None:
        at = zipfile.ZipFile(io.BytesIO(data)).getinfo(member).header_offset
    start = at + 30 + int.from_bytes(b[at + 26:at + 28], "little") + int.from_bytes(b[at + 28:at + 30], "little")
    for i in range(start + 2, start + 12):
        b[i] ^= 0x5A
    return bytes(b)


def _encrypted_flag(data: bytes) -> bytes:
    """Set the 'encrypted' bit of every member in the central directory and local headers."""
    b = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = b.find(sig)
        while i >= 0:
            b[i + off] |= 1
            i = b.find(sig, i + 4)
    return bytes(b)


DAMAGED = {
    "kmz truncated": (".kmz", lambda: _kmz()[:-30]),
    "kmz bad data": (".kmz", lambda: _flip_in_member_data(_kmz(KML * 1))),
    "kmz encrypted": (".kmz", lambda: _encrypted_flag(_kmz())),
    "kmz lzma": (".kmz", lambda: _kmz(method=zipfile.ZIP_LZMA)),
    "kmz bzip2": (".kmz", lambda: _kmz(method=zipfile.ZIP_BZIP2)),
    "kmz bad xml": (".kmz", lambda: _kmz(KML[:-20])),
    "kmz no kml": (".kmz", lambda: _rezip(_kmz(), lambda n, d: d)[:0] + _zip_of({"a.txt": b"x"})),
    "xlsx truncated": (".xlsx", lambda: _xlsx_bytes()[:-100]),
    "xlsx bad data": (".xlsx", lambda: _flip_in_member_data(_xlsx_bytes(), "xl/worksheets/sheet1.xml")),
    "xlsx bad styles": (".xlsx", lambda: _flip_in_member_data(_xlsx_bytes(), "xl/styles.xml")),
    "xlsx encrypted": (".xlsx", lambda: _encrypted_flag(_xlsx_bytes())),
    "xlsx lzma": (".xlsx", lambda: _rezip(_xlsx_bytes(), method=zipfile.ZIP_LZMA)),
    "xlsx bad sheet xml": (".xlsx", lambda: _rezip(_xlsx_bytes(), lambda n, d: d[:-40] if "sheet1" in n else d)),
    "xlsx bad shared string": (".xlsx", lambda: _rezip(_xlsx_bytes(), lambda n, d: d.replace(
        b't="inlineStr"><is><t>', b't="s"><v>99</v><is><t>') if "sheet1" in n else d)),
    "xlsx no workbook": (".xlsx", lambda: _zip_of({"xl/other.xml": b"<a/>"})),
    "xlsx entity bomb": (".xlsx", lambda: _rezip(_xlsx_bytes(), lambda n, d: _bomb_xml() if "sheet1" in n else d)),
}


def _zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members.items():
            z.writestr(n, d)
    return out.getvalue()


def _bomb_xml() -> bytes:
    ents = "".join(f'<!ENTITY e{i} "&e{i - 1};&e{i - 1};&e{i - 1};&e{i - 1};&e{i - 1};">' for i in range(1, 12))
    return (f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e0 "boom">{ents}]>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&e11;</t></is></c></row>'
            '</sheetData></worksheet>').encode()


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_damaged_archives_are_a_format_error_with_the_reason(name, tmp_path):
    suffix, make = DAMAGED[name]
    path = tmp_path / f"survey{suffix}"
    path.write_bytes(make())
    with pytest.raises(SurveyFormatError) as e:
        read_survey(path)
    msg = str(e.value)
    assert msg.startswith(str(path)) and "\n" not in msg and len(msg) < 600


def test_the_cli_reports_a_damaged_kmz_on_one_line(tmp_path, capsys):
    path = tmp_path / "bad.kmz"
    path.write_bytes(_flip_in_member_data(_kmz()))
    assert main(["check-sites", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.kmz" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- bombs and entities

def test_zip_bomb_is_refused_before_extraction(tmp_path):
    path = tmp_path / "bomb.kmz"
    path.write_bytes(_kmz(KML_HEAD + b"<!--" + b"a" * (16 << 20) + b"-->" + PLACEMARK + b"</Document></kml>"))
    assert path.stat().st_size < 40_000
    with pytest.raises(SurveyFormatError, match=r"compressed [\d,]+:1 \(limit 100:1"):
        read_survey(path)


@pytest.mark.parametrize("suffix,doc", [(".kml", KML), (".gpx", GPX)])
@pytest.mark.parametrize("dtd", [
    '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
])
def test_entity_declarations_are_refused(tmp_path, suffix, doc, dtd):
    head, body = doc.split(b"?>", 1)
    path = tmp_path / f"e{suffix}"
    path.write_bytes(head + b"?>" + dtd.encode() + body)
    with pytest.raises(SurveyFormatError, match="entity declarations|not well-formed"):
        read_survey(path)



def test_a_huge_xml_comment_costs_linear_time(tmp_path):
    """A 16 MB comment took 36 s: expat < 2.6 re-scans an unfinished token on every feed."""
    def kml(size: int):
        p = tmp_path / f"c{size}.kml"
        p.write_bytes(KML_HEAD + b"<!--" + b"a" * size + b"-->" + PLACEMARK + b"</Document></kml>")
        return lambda: read_survey(p)
    # 16x the size: linear 16 (up to ~4x more when the big input no longer fits the CPU caches
    # another job shares: ≈36 seen under load), quadratic 256 (the bug: 36 s for 16 MB)
    ratio = _cpu(kml(16 << 20)) / max(_cpu(kml(1 << 20)), 1e-3)
    assert ratio < 120


def test_an_xml_token_over_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("planatlas.layers.survey.read_xml.MAX_XML_TOKEN", 1 << 20)
    p = tmp_path / "t.gpx"
    p.write_bytes(GPX.replace(b"<wpt", b"<!--" + b"a" * (3 << 20) + b"--><wpt"))
    with pytest.raises(SurveyFormatError, match="single XML token"):
        read_survey(p)


# ----------------------------------------------------------------------------- XLSX memory

def test_xlsx_of_empty_rows_claiming_the_whole_sheet_reads_in_flat_memory(tmp_path):
    """A workbook whose dimension says A1:XFD1048576 and whose rows are empty: openpyxl's
    iter_rows padded each row to 16,384 cells (gigabytes); rows now come unpadded."""
    def change(name, data):
        if "sheet1" not in name:
            return data
        rows = b"".join(b'<row r="%d" ht="15" customHeight="1" spans="1:16384"/>' % i
                        for i in range(3, 30_003))
        head, tail = data.split(b"</sheetData>")
        head = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', head)
        assert b"XFD1048576" in head
        return head + rows + ('<row r="30004"><c r="A30004" t="inlineStr"><is><t>末行</t></is></c><c r="B30004">'
                              '<v>113.3</v></c><c r="C30004"><v>23.1</v></c></row></sheetData>').encode() + tail
    path = tmp_path / "empty.xlsx"
    path.write_bytes(_rezip(_xlsx_bytes(), change))
    tracemalloc.start()
    try:
        rows = read_survey(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.name for r in rows] == ["天河路", "末行"]
    assert rows[1].where == "row 30004" and rows[1].row == 30003
    assert peak < 40 * 2**20


def test_xlsx_sheet_over_excels_row_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("planatlas.layers.survey.read_xlsx.MAX_SHEET_ROWS", 50)
    rows = [("名称", "经度", "纬度")] + [(f"s{i}", 113.3, 23.1) for i in range(60)]
    path = tmp_path / "many.xlsx"
    path.write_bytes(_xlsx_bytes(rows))
    with pytest.raises(SurveyFormatError, match="more than 50 rows"):
        read_survey(path)


# ----------------------------------------------------------------------------- CSV limits

def test_csv_limits_are_named(tmp_path, monkeypatch):
    long_line = tmp_path / "long.csv"
    long_line.write_text("名称,经度,纬度\n天河路,113.3,23.1\n" + "x" * (guardmod.MAX_LINE_CHARS + 10) + "\n",
                         encoding="utf-8")
    with pytest.raises(SurveyFormatError, match=r"line 3 is longer than 1,000,000 characters"):
        read_survey(long_line)
    unclosed = tmp_path / "quote.csv"
    unclosed.write_text("名称,经度,纬度\n\"天河路,113.3,23.1\n" + "a,1,2\n" * 800_000, encoding="utf-8")
    with pytest.raises(SurveyFormatError, match="an unclosed quote|field larger than field limit"):
        read_survey(unclosed)
    monkeypatch.setattr(guardmod, "MAX_ROWS", 100)
    many = tmp_path / "many.csv"
    many.write_text("名称,经度,纬度\n" + "天河路,113.3,23.1\n" * 101, encoding="utf-8")
    with pytest.raises(SurveyFormatError, match="more than 100 data rows"):
        read_survey(many)


def test_kept_text_limit_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(guardmod, "MAX_TEXT_CHARS", 1000)
    path = tmp_path / "notes.csv"
    path.write_text("名称,经度,纬度,备注\n" + ("天河路,113.3,23.1," + "备" * 100 + "\n") * 20, encoding="utf-8")
    with pytest.raises(SurveyFormatError, match="more than 1,000 characters of names and notes"):
        read_survey(path)


# ----------------------------------------------------------------------------- cancel

def _cancel_after(n: int):
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) >= n
    return cancel, calls


def _big_inputs(tmp_path) -> dict:
    """Each file's first data row (or placemark) is several MB: cancel must act inside it."""
    huge = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(1_000_000))   # not compressible
    csv_path = tmp_path / "big.csv"
    csv_path.write_text('名称,经度,纬度,备注\n天河路,113.3,23.1,"' + "\n".join(
        huge[i:i + 1000] for i in range(0, len(huge), 1000)) + '"\n', encoding="utf-8")
    kml_path = tmp_path / "big.kml"
    kml_path.write_bytes(KML_HEAD + b"<Placemark><name>x</name><description>" + huge.encode()
                         + b"</description><Point><coordinates>113.3,23.1</coordinates></Point>"
                           b"</Placemark></Document></kml>")
    kmz_path = tmp_path / "big.kmz"
    kmz_path.write_bytes(_kmz(kml_path.read_bytes()))
    gpx_path = tmp_path / "big.gpx"
    gpx_path.write_bytes(GPX.replace(b"<name>a</name>", b"<name>a</name><desc>" + huge.encode() + b"</desc>"))
    rows = [("名称", "经度", "纬度")] + [(f"点{i}" + huge[i * 250:(i + 1) * 250], 113.3, 23.1)
                                     for i in range(4000)]        # compresses like real text
    xlsx_path = tmp_path / "big.xlsx"
    xlsx_path.write_bytes(_xlsx_bytes(rows))
    return {"csv": csv_path, "kml": kml_path, "kmz": kmz_path, "gpx": gpx_path, "xlsx": xlsx_path}


@pytest.mark.parametrize("fmt", ["csv", "kml", "kmz", "gpx", "xlsx"])
def test_cancel_is_polled_inside_long_rows_and_members(fmt, tmp_path, monkeypatch):
    monkeypatch.setattr(guardmod, "CANCEL_POLL_S", 0.0)       # poll on every opportunity
    path = _big_inputs(tmp_path)[fmt]
    cancel, calls = _cancel_after(5)
    it = iter_survey(path, cancel=cancel)
    with pytest.raises(CheckCancelled):
        next(it)                       # cancelled before the first (huge) row is complete
    assert len(calls) == 5


def test_check_survey_passes_cancel_to_the_reader(tmp_path, monkeypatch):
    from planatlas.layers.survey import check_survey

    monkeypatch.setattr(guardmod, "CANCEL_POLL_S", 0.0)
    path = _big_inputs(tmp_path)["kml"]
    cancel, calls = _cancel_after(3)
    with pytest.raises(CheckCancelled):
        check_survey(path, [], cancel=cancel)
