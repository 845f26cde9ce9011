"""Fuzz inputs for the plan reader and the survey readers, drawn from a ``random.Random``.

Used by the hypothesis tests (``tests/test_fuzz.py``, with hypothesis' shrinkable randoms) and by
``benchmarks/fuzz.py`` (10,000 seeded cases per target). Each generator starts from something
valid (a real plan, a well-formed survey) and breaks it the ways real files and attackers do:
other encodings and line breaks, control characters, duplicated and giant structures, stray
quotes, bad numbers, entity declarations, huge comments, truncation, flipped bytes, and — for
archives — other compression methods, encrypted flags, damaged members and zip bombs.
"""
from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

__all__ = ["TARGETS", "plan_case", "csv_case", "xlsx_case", "gpx_case", "kml_case", "kmz_case",
           "run_case", "write_case", "survey_features"]

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))
_SEED_TEXTS: list[str] = []

HEADINGS = ["一、", "二、", "（一）", "(二)", "1.", "2、", "3．", "（1）", "第一章 ", "第二节 ", "专栏1 ",
            "表1 ", "前言", "结语", "抄送：", "十、", "一是", "¹ ", "[1] ", "注1："]
PLAN_NOISE = ["- 3 -", "目录", "第一章 总则 ...... 3", "……………… 12", "**重点**", "# 标题", "> 引用",
              "\t", "　", "\u2028", "\u2029", "\x85", "\r", "\ufeff",
              "到2025年", "突破1000亿元", "达到3个", "1-2个", "翻一番", "全覆盖", "以上", "左右",
              "较2020年", "¹", "²", "。", "，", "；", "：", "<img src=//x>", "&amp;"]
RARE = ["\x00", "\x0b", "\x0c", "\x7f", "\x1b", "\ud800", "\uffff", "\U0001F600", "\u202e"]
NAMES = ["天河路商圈", "北京路步行街", "南沙港区", "于家堡", "<b>x</b>", "=HYPERLINK(\"x\")", "",
         "名称", "一" * 300, "N/A", "天河路", "珠江琶醍", "越秀公园"]


def _noise(rng: random.Random) -> str:
    return rng.choice(RARE) if rng.random() < 0.03 else rng.choice(PLAN_NOISE)
COORDS = ["113.3", "23.1", "113°19'30\"E", "N23 7 12", "１１３．３", "113,35", "-0", "nan", "inf", "1e308",
          "", "abc", "113.3,23.1", "东经113.3", "91", "-181", "0", "23.1N", "1" * 400, "113.3.3"]
HEADER_WORDS = ["名称", "name", "经度", "lon", "纬度", "lat", "坐标", "coordinates", "编号", "id",
                "备注", "notes", "状态", "status", "日期", "date", "实测经度", "实测纬度", "找到", "移位",
                "缺失", "结果", "x", "y", ""]


def _seed_text(rng: random.Random) -> str:
    if not _SEED_TEXTS:
        _SEED_TEXTS.extend(p.read_text(encoding="utf-8") for p in SEEDS)
    text = rng.choice(_SEED_TEXTS)
    lines = text.split("\n")
    if rng.random() < 0.6:
        a = rng.randrange(len(lines))
        b = min(len(lines), a + rng.randint(1, 120))
        lines = lines[:3] + lines[a:b]
    return "\n".join(lines)


def _big(rng: random.Random) -> int:
    """A repeat count: mostly small, sometimes large (the inputs where quadratic code shows)."""
    r = rng.random()
    if r < 0.85:
        return rng.randint(1, 20)
    if r < 0.97:
        return rng.randint(20, 2000)
    return rng.randint(2000, 30000)


def _mutate_bytes(rng: random.Random, data: bytes, n_max: int = 6) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, n_max)):
        op = rng.random()
        if not b:
            b += bytes(rng.randrange(256) for _ in range(8))
        elif op < 0.3:
            i = rng.randrange(len(b))
            b[i] = rng.randrange(256)
        elif op < 0.45:
            del b[rng.randrange(len(b)):]
        elif op < 0.65:
            i = rng.randrange(len(b) + 1)
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op < 0.85:
            i = rng.randrange(len(b))
            j = min(len(b), i + rng.randint(1, 200))
            b[i:i] = b[i:j] * min(_big(rng), max(1, 400_000 // max(j - i, 1)))
        else:
            i = rng.randrange(len(b))
            del b[i:i + rng.randint(1, 64)]
    return bytes(b)


def _encode(rng: random.Random, text: str) -> bytes:
    enc = rng.choice(["utf-8", "utf-8", "utf-8", "utf-8-sig", "gb18030", "gbk", "big5", "utf-16",
                      "utf-16-le", "latin-1"])
    if enc.startswith("utf-8"):               # lone surrogates become invalid UTF-8 bytes
        return text.encode(enc, errors="surrogatepass")
    return text.encode(enc, errors="ignore")


# --------------------------------------------------------------------------- plans

def plan_case(rng: random.Random) -> tuple[str, bytes]:
    lines = _seed_text(rng).split("\n")
    for _ in range(rng.randint(0, 12)):
        op = rng.random()
        i = rng.randrange(len(lines) + 1)
        if op < 0.25:
            lines[i:i] = [rng.choice(HEADINGS) + rng.choice(["标题", "建设商圈。", "", "到2025年达到3个"])] * _big(rng)
        elif op < 0.45:
            lines.insert(i, "".join(_noise(rng) for _ in range(rng.randint(1, 6))))
        elif op < 0.55:
            unit = rng.choice(["，", "1个，", "1个2家", ".", " ", "……", "¹", "一、", "20", "亿元"])
            lines.insert(i, unit * (_big(rng) * rng.randint(1, 20)))
        elif op < 0.7 and lines:
            j = rng.randrange(len(lines))
            lines[i:i] = lines[j:j + rng.randint(1, 30)] * min(_big(rng), 200)
        elif op < 0.75:            # a long run of one character inside a sentence
            run = rng.choice([" ", "\t", "　", ".", "，", "1", "、", "一"]) * (_big(rng) * rng.randint(1, 30))
            lines.insert(i, rng.choice(["其中", "到2025年", "一、", "（1）", "建成"]) + run
                         + rng.choice(["1个。", "达到3家", "", "。", "x"]))
        elif op < 0.8 and lines:
            del lines[rng.randrange(len(lines)):][: rng.randint(1, 40)]
        else:
            lines.insert(i, rng.choice(NAMES))
    sep = rng.choice(["\n"] * 6 + ["\r\n", "\r", "\u2028", "\u2029", "\x85"])
    data = _encode(rng, sep.join(lines))
    if rng.random() < 0.2:
        data = _mutate_bytes(rng, data)
    return ".txt", data


# --------------------------------------------------------------------------- CSV

def _cell(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.02:             # long runs inside one cell (regular expressions must stay linear)
        return rng.choice(["1", "N23", "东经", "113.3"]) + rng.choice([" ", ",", ".", "°", "1"]) * min(
            _big(rng) * rng.randint(1, 40), 200_000) + rng.choice(["1", "e", "x", ""])
    if r < 0.35:
        return f"{rng.uniform(73, 135):.6f}" if rng.random() < 0.5 else f"{rng.uniform(18, 53):.6f}"
    if r < 0.6:
        return rng.choice(COORDS)
    if r < 0.85:
        return rng.choice(NAMES)
    return "".join(_noise(rng) for _ in range(rng.randint(1, 4)))


def csv_case(rng: random.Random) -> tuple[str, bytes]:
    delim = rng.choice([",", ",", ";", "\t", "|"])
    ncol = rng.randint(1, 8)
    header = [rng.choice(HEADER_WORDS) for _ in range(ncol)]
    if rng.random() < 0.7:
        header[:3] = ["名称", "经度", "纬度"][: len(header)]
    rows = [header]
    for _ in range(min(_big(rng) * rng.randint(1, 5), 20000)):
        rows.append([_cell(rng) for _ in range(rng.randint(0, ncol + 2))])
    out = []
    for r in rows:
        cells = []
        for c in r:
            if rng.random() < 0.1 or delim in c or '"' in c or "\n" in c:
                c = '"' + c.replace('"', '""' if rng.random() < 0.9 else '"') + '"'
            cells.append(c)
        out.append(delim.join(cells))
    eol = rng.choice(["\n", "\r\n", "\r", "\n\n"])
    text = eol.join(out)
    if rng.random() < 0.1:
        text = rng.choice(["标题行\n", "\n\n\n", "说明,,\n"]) * rng.randint(1, 30) + text
    data = _encode(rng, text)
    if rng.random() < 0.25:
        data = _mutate_bytes(rng, data)
    return rng.choice([".csv", ".csv", ".txt", ".tsv"]), data


# --------------------------------------------------------------------------- XLSX

def _xlsx_value(rng: random.Random):
    import datetime as dt

    r = rng.random()
    if r < 0.3:
        return rng.uniform(-200, 200)
    if r < 0.4:
        return rng.choice([True, False, None, 0, dt.datetime(2024, 5, 1), dt.date(2023, 1, 2)])
    if r < 0.5:
        return rng.choice(["=1+1", "=A1", "=SUM(A1:A3)"])
    return _cell(rng)


def _xml_mutation(rng: random.Random, data: bytes) -> bytes:
    op = rng.random()
    if op < 0.2:
        dtd = rng.choice([b'<!DOCTYPE x [<!ENTITY e "' + b"a" * 50 + b'">]>',
                          b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
                          b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'])
        i = data.find(b"?>")
        return data[:i + 2] + dtd + data[i + 2:] if i >= 0 else dtd + data
    if op < 0.35:
        i = data.rfind(b"<")
        return data[:i] + b"<!--" + b"c" * rng.choice([10, 1000, 100_000, 3_000_000]) + b"-->" + data[i:]
    if op < 0.5:
        i = rng.randrange(len(data) + 1)
        return data[:i] + rng.choice([b"<x>" * 2000 + b"</x>" * 2000, b"<![CDATA[<b>]]>", b"&e;",
                                      b"<a:b/>", b"\x00", b"</", b"<c r=\"XFD1048576\"><v>1</v></c>",
                                      b'<row r="1048576"/>', b'<row r="99999999999"/>',
                                      b'<c t="s"><v>999</v></c>', b'<c t="d"><v>x</v></c>']) + data[i:]
    return _mutate_bytes(rng, data, 3)


def _zip_mutation(rng: random.Random, data: bytes, xml_member_hint: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    op = rng.random()
    if op < 0.35:          # change a member's XML
        out = io.BytesIO()
        target = rng.choice([n for n in src.namelist() if xml_member_hint in n] or src.namelist())
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for n in src.namelist():
                z.writestr(n, _xml_mutation(rng, src.read(n)) if n == target else src.read(n))
        return out.getvalue()
    if op < 0.5:           # other compression methods
        out = io.BytesIO()
        method = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
        with zipfile.ZipFile(out, "w", method) as z:
            for n in src.namelist():
                z.writestr(n, src.read(n))
        return out.getvalue()
    if op < 0.6:           # encrypted flag
        b = bytearray(data)
        i = b.find(b"PK\x01\x02")
        if i >= 0:
            b[i + 8] |= 1
        return bytes(b)
    if op < 0.7:           # a bomb member
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for n in src.namelist():
                z.writestr(n, src.read(n) + (b" " * rng.choice([10**6, 3 * 10**6]) if xml_member_hint in n else b""))
        return out.getvalue()
    return _mutate_bytes(rng, data, 4)     # damaged bytes anywhere (CRC, headers, directory)


def xlsx_case(rng: random.Random) -> tuple[str, bytes]:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def value():
        v = _xlsx_value(rng)
        return ILLEGAL_CHARACTERS_RE.sub("", v).encode("utf-8", "replace").decode() if isinstance(v, str) else v

    wb = Workbook()
    for s in range(rng.randint(1, 3)):
        ws = wb.active if s == 0 else wb.create_sheet(rng.choice(["Sheet", "天河区", "<x>", "a" * 29]) + str(s))
        for _ in range(rng.randint(0, 3)):
            ws.append([rng.choice(["标题", None, "说明"])])
        ncol = rng.randint(1, 8)
        header = [rng.choice(HEADER_WORDS) for _ in range(ncol)]
        if rng.random() < 0.7:
            header[:3] = ["名称", "经度", "纬度"][: len(header)]
        ws.append(header)
        for _ in range(min(_big(rng), 3000)):
            ws.append([value() for _ in range(rng.randint(0, ncol + 1))])
        if rng.random() < 0.1:
            ws.cell(row=rng.randint(1, 5000), column=rng.randint(1, 3000), value="far")
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if rng.random() < 0.5:
        data = _zip_mutation(rng, data, "worksheets/sheet")
    return rng.choice([".xlsx", ".xlsx", ".xlsm", ".csv"]), data


# --------------------------------------------------------------------------- GPX / KML / KMZ

def _attr(rng: random.Random) -> str:
    v = rng.choice(COORDS + [f"{rng.uniform(-200, 200):.5f}"] * 5)
    return v.replace('"', "&quot;").replace("&", "&amp;").replace("<", "&lt;")


def _text(rng: random.Random) -> str:
    t = rng.choice(NAMES + ["found", "moved", "missing", "2024-05-01T10:00:00Z", "<![CDATA[<b>x</b>]]>"])
    return t if t.startswith("<![CDATA") else t.replace("&", "&amp;").replace("<", "&lt;")


def gpx_case(rng: random.Random) -> tuple[str, bytes]:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             rng.choice(['<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">',
                         '<gpx>', '<g:gpx xmlns:g="http://www.topografix.com/GPX/1/0">'])]
    close = "</g:gpx>" if parts[1].startswith("<g:") else "</gpx>"
    for _ in range(min(_big(rng) * rng.randint(1, 4), 20000)):
        tag = rng.choice(["wpt", "wpt", "rtept", "trkpt"])
        attrs = "".join(f' {k}="{_attr(rng)}"' for k in rng.sample(["lat", "lon", "ele"], rng.randint(0, 3)))
        kids = "".join(f"<{k}>{_text(rng)}</{k}>" for k in rng.sample(["name", "desc", "cmt", "time", "type", "sym"],
                                                                      rng.randint(0, 4)))
        if rng.random() < 0.05:
            kids = "<extensions>" + "<e>" * 50 + "x" + "</e>" * 50 + "</extensions>" + kids
        parts.append(f"<{tag}{attrs}>{kids}</{tag}>")
    parts.append(close)
    data = "".join(parts).encode("utf-8", errors="surrogatepass")
    if rng.random() < 0.4:
        data = _xml_mutation(rng, data)
    return ".gpx", data


def _kml_geometry(rng: random.Random) -> str:
    def coords(n: int) -> str:
        return " ".join(f"{_attr(rng)},{_attr(rng)}" + (",0" if rng.random() < 0.3 else "") for _ in range(n))
    kind = rng.random()
    if kind < 0.5:
        return f"<Point><coordinates>{coords(1)}</coordinates></Point>"
    if kind < 0.7:
        return f"<LineString><coordinates>{coords(rng.randint(0, 50))}</coordinates></LineString>"
    if kind < 0.85:
        return (f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords(rng.randint(0, 30))}"
                "</coordinates></LinearRing></outerBoundaryIs></Polygon>")
    return "<MultiGeometry>" + "".join(_kml_geometry(rng) for _ in range(rng.randint(0, 3))) + "</MultiGeometry>"


def kml_case(rng: random.Random) -> tuple[str, bytes]:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>']
    for _ in range(min(_big(rng) * rng.randint(1, 3), 10000)):
        pm = ["<Placemark>"]
        for k in rng.sample(["name", "description", "TimeStamp", "ExtendedData", "geometry", "Placemark"],
                            rng.randint(0, 5)):
            if k == "TimeStamp":
                pm.append(f"<TimeStamp><when>{_text(rng)}</when></TimeStamp>")
            elif k == "ExtendedData":
                pm.append("<ExtendedData>" + "".join(
                    f'<Data name="{rng.choice(HEADER_WORDS)}"><value>{_text(rng)}</value></Data>'
                    for _ in range(rng.randint(0, 5))) + "</ExtendedData>")
            elif k == "geometry":
                pm.append(_kml_geometry(rng))
            elif k == "Placemark":
                pm.append("<Placemark><name>nested</name></Placemark>")
            else:
                pm.append(f"<{k}>{_text(rng)}</{k}>")
        pm.append("</Placemark>")
        parts.append("".join(pm))
        if rng.random() < 0.05:
            parts.append("<Folder>" * 30 + "</Folder>" * 30)
    parts.append("</Document></kml>")
    data = "".join(parts).encode("utf-8", errors="surrogatepass")
    if rng.random() < 0.4:
        data = _xml_mutation(rng, data)
    return ".kml", data


def kmz_case(rng: random.Random) -> tuple[str, bytes]:
    _, kml = kml_case(rng)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        name = rng.choice(["doc.kml", "doc.kml", "a/b.kml", "x.txt"])
        z.writestr(name, kml)
        for i in range(rng.randint(0, 3)):
            z.writestr(rng.choice(["files/i.png", "other.kml", f"m{i}.dat"]), bytes(rng.randrange(256) for _ in range(64)))
    data = out.getvalue()
    if rng.random() < 0.5:
        data = _zip_mutation(rng, data, ".kml")
    return ".kmz", data


TARGETS = {"plan": plan_case, "csv": csv_case, "xlsx": xlsx_case, "gpx": gpx_case, "kml": kml_case,
           "kmz": kmz_case}


_FEATURES: list = []


def survey_features() -> list:
    """The shipped gazetteer's features (what a survey is checked against)."""
    if not _FEATURES:
        from planatlas.layers.gazetteer import load_features

        _FEATURES.extend(load_features())
    return _FEATURES


def write_case(suffix: str, data: bytes, folder: Path) -> Path:
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data)
    return path


def run_case(target: str, path: Path) -> str:
    """Run one input file through its reader: the plan parser (as ``import-plan`` reads a
    file), or the whole survey check.

    Returns ``"ok"`` or ``"refused"`` (a typed :class:`InputError`, the expected outcome for bad
    input); any other exception propagates (a traceback: a bug)."""
    from planatlas.layers.errors import InputError

    try:
        if target == "plan":
            from planatlas.layers.plan import parse_plan_bytes

            parse_plan_bytes(path.read_bytes(), "fuzz", path=str(path))
        else:
            from planatlas.layers.survey import check_survey

            check_survey(path, survey_features())
    except InputError:
        return "refused"
    return "ok"
