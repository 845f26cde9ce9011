"""Survey check messages in the UI language.

``layers.survey`` writes its row, file and coordinate-system messages in English (they are also
what the CLI and the XLSX report print). The dialog shows them in Chinese by translating each
"; "-separated part with the patterns below — numbers, names and values are kept as they are.
A part no pattern knows is shown as written (a test runs every message a real check produces).
"""
from __future__ import annotations

import re

__all__ = ["survey_message", "PATTERNS"]

_DIRS = {"N": "北", "NE": "东北", "E": "东", "SE": "东南", "S": "南", "SW": "西南", "W": "西",
         "NW": "西北"}
_CRS = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09", "cgcs2000": "CGCS2000"}


def _crs(m: re.Match, key: str) -> str:
    return _CRS.get(m.group(key), m.group(key))


# (pattern, Chinese) — the Chinese is a format string over the pattern's named groups, or a function
PATTERNS: list[tuple[re.Pattern, object]] = [(re.compile(p), z) for p, z in [
    (r"^(?P<d>\d+) m from (?P<name>.+)$", "距 {name} {d} 米"),
    (r"^(?P<d>\d+) m (?P<dir>N|NE|E|SE|S|SW|W|NW) of (?P<name>.+) \(tolerance (?P<tol>[\d.]+) m\)$",
     lambda m: f"在 {m['name']} 以{_DIRS[m['dir']]} {m['d']} 米（容差 {m['tol']} 米）"),
    (r"^(?P<name>.+) \((?P<id>[^()]+)\) is not in the selected plans \((?P<plans>.*)\)$",
     "{name} 不在所选规划中（它属于：{plans}）"),
    (r"^no feature named (?P<name>.+)$", "没有名为 {name} 的地点"),
    (r"^row has no name or id$", "该行没有名称或编号"),
    (r"^(?P<n>\d+) features share this name$", "{n} 个地点同名"),
    (r"^(?:nearest chosen)$", "已取最近者"),
    (r"^surveyor reported: (?P<s>.+)$",
     lambda m: "调查员记录：" + {"found": "找到", "moved": "移位", "missing": "缺失"}.get(m["s"], m["s"])),
    (r"^matched by core name (?P<n>.+)$", "按核心名称 {n} 匹配"),
    (r"^matched by partial name (?P<n>.+)$", "按部分名称 {n} 匹配"),
    (r"^hemisphere letters show latitude and longitude were swapped; swapped back$",
     "半球字母表明经纬度填反，已纠正"),
    (r"^lat/lon read swapped$", "经纬度按互换读取"),
    (r"^latitude and longitude were swapped in this row; swapped back$", "本行经纬度填反，已纠正"),
    (r"^longitude and latitude columns appear swapped \((?P<a>\d+) of (?P<b>\d+) rows only make "
     r"sense swapped\); read them swapped$", "经度、纬度两列似乎填反（{b} 行中有 {a} 行互换后才合理），已按互换读取"),
    (r"^coordinates are not numbers$", "坐标不是数字"),
    (r"^latitude (?P<v>\S+) is outside -90\.\.90$", "纬度 {v} 超出 -90～90"),
    (r"^longitude (?P<v>\S+) is outside -180\.\.180$", "经度 {v} 超出 -180～180"),
    (r"^coordinates are 0,0 \(no GPS fix\?\)$", "坐标为 0,0（GPS 未定位？）"),
    (r"^position (?P<p>\S+) is outside China$", "位置 {p} 在中国境外"),
    (r"^no name, id or coordinates in the recognised columns$", "识别出的列中没有名称、编号或坐标"),
    (r"^both values are marked as latitudes$", "两个值都标为纬度"),
    (r"^both values are marked as longitudes$", "两个值都标为经度"),
    (r"^undecodable bytes replaced \(file read as (?P<e>.+)\)$", "无法解码的字节已替换（按 {e} 读取）"),
    (r"^bad lat/lon attributes: (?P<e>.+)$", "lat/lon 属性无效：{e}"),
    (r"^placemark is not a point; used the mean of its (?P<n>\d+) vertices$", "地标不是点，取其 {n} 个顶点的平均位置"),
    (r"^placemark has no coordinates$", "地标没有坐标"),
    (r"^longitude is empty$", "经度为空"),
    (r"^latitude is empty$", "纬度为空"),
    (r"^no (?P<what>longitude|latitude|coordinates)$", lambda m: "缺少" + {"longitude": "经度", "latitude": "纬度",
                                               "coordinates": "坐标"}.get(m["what"], m["what"])),
    (r"^(?P<which>longitude|latitude) (?P<rest>.+)$",
     lambda m: ("经度" if m["which"] == "longitude" else "纬度") + survey_message(m["rest"], "zh")),
    (r"^empty$", "为空"),
    (r"^not a coordinate: (?P<v>.+)$", "不是坐标：{v}"),
    (r"^not a number: (?P<v>.+)$", "不是数字：{v}"),
    (r"^minutes/seconds out of range in (?P<v>.+)$", "分/秒超出范围：{v}"),
    (r"^coordinates read as (?P<req>\w+) as requested, but the data look like (?P<g>\w+) \((?P<why>.+)\)$",
     lambda m: f"已按指定的 {_crs(m, 'req')} 读取坐标，但数据看起来是 {_crs(m, 'g')}（{_votes(m['why'])}）"),
    (r"^coordinate system undetermined \(only (?P<n>\d+) matched row\(s\) with usable coordinates, "
     r"need (?P<k>\d+)\); assumed wgs84 — pass --crs to choose$",
     "无法判断坐标系（只有 {n} 行匹配且坐标可用，至少需要 {k} 行）；按 WGS-84 处理——可手动选择坐标系"),
    (r"^coordinate system undetermined \(only (?P<n>\d+) of (?P<m>\d+) matched rows tell the systems "
     r"apart, need (?P<k>\d+)\); assumed wgs84 — pass --crs to choose$",
     "无法判断坐标系（{m} 行匹配中只有 {n} 行能区分各坐标系，至少需要 {k} 行）；按 WGS-84 处理——可手动选择坐标系"),
    (r"^coordinate system detected: (?P<c>\w+) \(confidence (?P<p>\d+%): (?P<why>.+)\)$",
     lambda m: f"识别出坐标系：{_crs(m, 'c')}（置信度 {m['p']}：{_votes(m['why'])}）"),
    # file-level problems ("<file>: <what>")
    (r"^(?P<path>.+\.(?:csv|tsv|txt|xlsx|xls|gpx|kml|kmz|zip)): (?P<rest>.+)$",
     lambda m: f"{m['path']}：{survey_message(m['rest'], 'zh')}"),
    (r"^no longitude column found$", "找不到经度列"),
    (r"^no latitude column found$", "找不到纬度列"),
    (r"^no coordinate columns found$", "找不到坐标列"),
    (r"^headers were: (?P<h>.+?) \(expected e\.g\. .+\)$",
     "表头为：{h}（应有 经度/lon/lng/longitude/x 与 纬度/lat/latitude/y，或 坐标/coordinates 列）"),
    (r"^no data rows$", "没有数据行"),
    (r"^the workbook has no data rows$", "工作簿没有数据行"),
    (r"^the file is empty(?: \(no header row\))?$", "文件为空"),
    (r"^no such file$", "文件不存在"),
    (r"^is a directory, not a survey file$", "这是文件夹，不是核查文件"),
    (r"^no placemarks found$", "没有找到地标（Placemark）"),
    (r"^no waypoints \(<wpt>/<rtept>\) found.*$", "没有找到航点（<wpt>/<rtept>）"),
    (r"^binary data \(NUL bytes\), not a text file$", "二进制数据，不是文本文件"),
    (r"^not UTF-8 or GBK/GB18030 text$", "不是 UTF-8 或 GBK/GB18030 文本"),
    (r"^not a readable XLSX workbook \((?P<e>.+)\)$", "不是可读取的 XLSX 工作簿（{e}）"),
    (r"^KMZ archive contains no \.kml file$", "KMZ 压缩包中没有 .kml 文件"),
    # progress of a check
    (r"^read (?P<n>[\d,]+) rows$", "已读取 {n} 行"),
    (r"^matching$", "正在匹配"),
    (r"^matching names$", "正在匹配名称"),
    (r"^matched (?P<n>[\d,]+) rows$", "已匹配 {n} 行"),
    (r"^detecting coordinate system$", "正在识别坐标系"),
    (r"^converting from (?P<c>\w+)$", lambda m: f"正在从 {_crs(m, 'c')} 转换"),
    (r"^classifying$", "正在分类"),
    (r"^done$", "完成"),
    (r"^even so most rows are far from their features — check the file$", "但多数行离对应地点很远——请检查文件"),
]]

_VOTES = re.compile(r"^(?P<v>\d+) of (?P<n>\d+) matched rows voted for (?P<c>\w+); median distance "
                    r"(?P<d>\d+) m(?:; next best (?P<c2>\w+) (?P<d2>\d+) m)?$")


def _votes(text: str) -> str:
    m = _VOTES.match(text)
    if not m:
        return text
    out = f"{m['n']} 行匹配中 {m['v']} 行支持 {_crs(m, 'c')}，距离中位数 {m['d']} 米"
    if m["c2"]:
        out += f"；其次为 {_crs(m, 'c2')}，{m['d2']} 米"
    return out


def _one(part: str) -> str:
    for pat, zh in PATTERNS:
        m = pat.match(part)
        if m:
            return zh(m) if callable(zh) else zh.format(**m.groupdict())
    return part


def survey_message(text: str | None, lang: str) -> str:
    """``text`` (parts joined by "; ") in ``lang``: as written for "en", translated for "zh"."""
    if not text or lang != "zh":
        return text or ""
    return "；".join(_one(p.strip()) for p in re.split(r"; (?![^()]*\))", text) if p.strip())
