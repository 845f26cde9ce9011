"""Coordinates as people type and copy them: parse "113.32,23.11", "23.11N 113.32E",
"113°19'30\"E 23°6'36\"N gcj02" in any of WGS-84 / GCJ-02 / BD-09 / CGCS2000, and format a
WGS-84 point in any of them.

    >>> p = parse_location("113.3245,23.1123 gcj02")
    >>> p.crs, round(p.lon, 4), round(p.lat, 4)          # converted once, to WGS-84
    ('gcj02', 113.3192, 23.1148)

Order: hemisphere letters (N/E, 北纬/东经) decide; otherwise a value beyond ±90 is the longitude;
otherwise the larger value is the longitude (true everywhere in China, where GCJ-02/BD-09 apply)
and "lon,lat" is assumed for the rest of the world.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from . import crs as _crs
from .errors import InputError

__all__ = ["Location", "parse_location", "format_lonlat", "to_crs", "CRS_ALIASES"]

# words naming a coordinate system, as people write them after (or before) the numbers
CRS_ALIASES = {
    "wgs84": ("wgs84", "wgs-84", "wgs 84", "gps", "epsg:4326", "4326"),
    "gcj02": ("gcj02", "gcj-02", "gcj", "火星", "高德", "腾讯", "amap", "gaode", "tencent"),
    "bd09": ("bd09", "bd-09", "bd09ll", "百度", "baidu"),
    "cgcs2000": ("cgcs2000", "cgcs-2000", "cgcs", "国家2000", "epsg:4490", "4490"),
}
_CRS_RE = re.compile(
    r"(?:^|(?<=[\s,;:，；：(（]))(" + "|".join(
        sorted((re.escape(a) for v in CRS_ALIASES.values() for a in v), key=len, reverse=True))
    + r")(?=$|[\s,;:，；：)）])", re.IGNORECASE)
_ALIAS_OF = {a.lower(): k for k, v in CRS_ALIASES.items() for a in v}
# a decimal point, degree/minute marks or a hemisphere: "2025 2027" is not a place
_COORD_MARK = re.compile(r"\d\.\d|[°'\"度分秒]|[NSEWnsew东西南北]")
_LOOKS_NUMERIC = re.compile(r"^[\s\d.,;，；°'\"度分秒:+\-NSEWnsew东西南北经纬]+$")


@dataclass(frozen=True)
class Location:
    lon: float              # WGS-84
    lat: float
    crs: str                # the system the text was in
    typed: tuple[float, float]   # (lon, lat) as typed, in ``crs``

    def to_dict(self) -> dict:
        return {"lon": self.lon, "lat": self.lat, "crs": self.crs, "typed": list(self.typed)}


def _split_crs(text: str) -> tuple[str, str | None]:
    found = None
    for m in _CRS_RE.finditer(text):
        found = _ALIAS_OF[m.group(1).lower()]
    rest = _CRS_RE.sub(" ", text).strip(" ,;:，；：()（）")
    return rest, found


def parse_location(text: str, default_crs: str = "wgs84") -> Location | None:
    """A coordinate pair in ``text`` (with an optional CRS word), converted to WGS-84.

    Returns None when the text is not a coordinate pair at all (so a search can go on with
    names); raises :class:`InputError` when it is one but cannot be a place (latitude 123).
    """
    # the survey readers' number parsing (imported here: the survey package is not needed at start)
    from .survey.values import _clean_text, _parse_pair

    if default_crs not in _crs.CRS_NAMES:
        raise InputError(f"unknown coordinate system {default_crs!r}; "
                         f"use one of {', '.join(_crs.CRS_NAMES)}")
    s = _clean_text(text or "")
    rest, named = _split_crs(s)
    if (not rest or not _LOOKS_NUMERIC.match(rest) or len(re.findall(r"\d", rest)) < 2
            or not _COORD_MARK.search(rest)):
        return None
    try:
        a, ha, b, hb = _parse_pair(rest)
    except ValueError:
        return None
    if ha in ("N", "S") or hb in ("E", "W"):
        lat, lon = a, b
    elif ha in ("E", "W") or hb in ("N", "S"):
        lon, lat = a, b
    elif abs(a) > 90 >= abs(b):
        lon, lat = a, b
    elif abs(b) > 90 >= abs(a):
        lat, lon = a, b
    elif 0 < a < b:                          # both ≤ 90: in China the longitude is the larger
        lat, lon = a, b
    else:
        lon, lat = a, b
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"{text.strip()!r}: longitude must be within ±180° and latitude within "
                         f"±90°, got {lon:g}, {lat:g}")
    system = named or default_crs
    x, y = _crs.convert(lon, lat, system, "wgs84")
    return Location(float(np.ravel(x)[0]), float(np.ravel(y)[0]), system, (float(lon), float(lat)))


def to_crs(lon: float, lat: float, system: str) -> tuple[float, float]:
    """A WGS-84 point in ``system`` (wgs84, gcj02, bd09, cgcs2000)."""
    x, y = _crs.convert(lon, lat, "wgs84", system)
    return float(np.ravel(x)[0]), float(np.ravel(y)[0])


def format_lonlat(lon: float, lat: float, system: str = "wgs84", decimals: int = 6) -> str:
    """"lon, lat" of a WGS-84 point in ``system`` — what the copy-coordinates menu puts on the
    clipboard (6 decimals ≈ 0.1 m)."""
    x, y = to_crs(lon, lat, system)
    return f"{x:.{decimals}f}, {y:.{decimals}f}"
