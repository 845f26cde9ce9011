"""Cell values of survey files: coordinates (decimal, DMS, full-width), verdicts, ticks, text."""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

__all__ = ["parse_coord", "normalize_verdict"]


def _norm_header(text: Any) -> str:
    s = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return re.sub(r"[\s_\-\.·:：()（）\[\]【】<>《》/\\|,，;；'\"°*#]+", "", s)




_HEMI = {"e": "E", "w": "W", "n": "N", "s": "S", "东经": "E", "西经": "W", "北纬": "N",
         "南纬": "S", "东": "E", "西": "W", "北": "N", "南": "S"}
_HEMI_RE = re.compile(r"^(东经|西经|北纬|南纬|[东西南北]|[ewns])\s*|\s*(东经|西经|北纬|南纬|[东西南北]|[ewns])$")
_NUM_RE = re.compile(r"[-+]?\d+(?:\.\d*)?|[-+]?\.\d+")


def _clean_text(value: Any) -> str:
    # white-space runs become one space: the patterns below then stay linear in the cell length
    s = " ".join(unicodedata.normalize("NFKC", str(value)).split())
    # NFKC keeps these quote/prime marks; unify them
    for a, b in (("′", "'"), ("’", "'"), ("‘", "'"), ("″", '"'), ("“", '"'), ("”", '"'),
                 ("º", "°"), ("˚", "°"), ("−", "-"), ("–", "-"), ("—", "-")):
        s = s.replace(a, b)
    return s


def parse_coord(value: Any) -> tuple[float, str | None]:
    """Parse one coordinate value; return ``(degrees, hemisphere)``.

    ``hemisphere`` is ``"E"``/``"W"``/``"N"``/``"S"`` when the text said so, else ``None``.
    Raises :class:`ValueError` with a short reason for anything that is not a coordinate.
    """
    if value is None:
        raise ValueError("empty")
    if isinstance(value, bool):
        raise ValueError(f"not a coordinate: {value!r}")
    if isinstance(value, (int, float)):
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"not a number: {value!r}")
        return v, None
    try:  # fast path: plain decimal text
        v = float(value)
    except (TypeError, ValueError):
        pass
    else:
        if not math.isfinite(v):
            raise ValueError(f"not a number: {str(value).strip()!r}")
        return v, None
    s = _clean_text(value)
    if not s:
        raise ValueError("empty")
    try:
        v = float(s)
    except ValueError:
        pass
    else:
        if not math.isfinite(v):
            raise ValueError(f"not a number: {s!r}")
        return v, None
    low = s.casefold().strip()
    hemi = None
    m = _HEMI_RE.search(low)
    if m:
        word = m.group(1) or m.group(2)
        hemi = _HEMI[word]
        low = low[:m.start()] + low[m.end():]
        low = low.strip()
    if re.fullmatch(r"[-+]?\d+,\d+", low):          # decimal comma: "113,35"
        low = low.replace(",", ".")
    if not low or re.search(r"[^\d.\-+°'\"度分秒:\s]", low):
        raise ValueError(f"not a coordinate: {s!r}")
    nums = _NUM_RE.findall(low)
    if not 1 <= len(nums) <= 3 or (len(nums) > 1 and not re.search(r"[°'\"度分秒:\s]", low)):
        raise ValueError(f"not a coordinate: {s!r}")
    try:
        parts = [float(n) for n in nums]
    except ValueError:
        raise ValueError(f"not a coordinate: {s!r}") from None
    neg = parts[0] < 0 or low.startswith("-")
    deg = abs(parts[0])
    minutes = parts[1] if len(parts) > 1 else 0.0
    seconds = parts[2] if len(parts) > 2 else 0.0
    if minutes < 0 or seconds < 0 or minutes >= 60 or seconds >= 60:
        raise ValueError(f"minutes/seconds out of range in {s!r}")
    v = deg + minutes / 60.0 + seconds / 3600.0
    if neg or hemi in ("W", "S"):
        v = -v
    return v, hemi


def _parse_pair(value: Any) -> tuple[float, str | None, float, str | None]:
    """A "lon,lat" cell (or "lat,lon" with hemisphere letters)."""
    if value is None or str(value).strip() == "":
        raise ValueError("empty")
    s = _clean_text(value)
    parts = [p for p in re.split(r"\s*[,;，；]\s*|\s+(?=[-+]?\d|[东西南北NSEWnsew])", s) if p]
    if len(parts) < 2:
        raise ValueError(f"expected 'lon,lat' in {s!r}")
    if len(parts) > 3:  # maybe "lon lat" as DMS with spaces; give up clearly
        raise ValueError(f"cannot split {s!r} into longitude and latitude")
    a, ha = parse_coord(parts[0])
    b, hb = parse_coord(parts[1])
    return a, ha, b, hb


_VERDICTS = {
    "found": ("found", "找到", "已找到", "存在", "正常", "确认", "confirmed", "ok", "yes", "是", "在"),
    "moved": ("moved", "移位", "已移位", "搬迁", "迁移", "位置变动", "位置有变", "变更", "relocated"),
    "missing": ("missing", "缺失", "未找到", "不存在", "消失", "已关闭", "关闭", "拆除", "gone",
                "closed", "notfound"),
}
_VERDICT_INDEX = {_norm_header(w): k for k, ws in _VERDICTS.items() for w in ws}
_TICKED = {"☑", "☒", "✓", "✔", "√", "x", "X", "×", "1", "是", "yes", "y", "true", "■", "●"}


def normalize_verdict(value: Any) -> str | None:
    """Map a surveyor's verdict to found | moved | missing; other text is returned as is."""
    if value is None:
        return None
    s = str(value).strip()
    if not s or s == "☐":
        return None
    return _VERDICT_INDEX.get(_norm_header(s), s)


def _ticked(value: Any) -> bool:
    if value is None:
        return False
    s = unicodedata.normalize("NFKC", str(value)).strip()
    return s in _TICKED or s.casefold() in _TICKED


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if value.__class__ is str:
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    s = str(value).strip()
    return s or None
