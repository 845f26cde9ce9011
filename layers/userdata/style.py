"""Styles of user vector layers: single symbol, categorized or graduated by a field (Qt-free).

:func:`classify` turns a layer's style and its data into a class index per feature, a colour
per class and a legend label per class; renderers only paint what it says.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from planatlas.layers.errors import InputError

from .vector import VectorData

__all__ = ["Classes", "classify", "MODES", "PALETTE", "RAMPS", "MAX_CATEGORIES"]

MODES = ("single", "categorized", "graduated")
MAX_CATEGORIES = 12
# colour-blind-safe qualitative palette (Okabe–Ito, then Tableau 10 tones)
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
           "#000000", "#8c564b", "#7f7f7f", "#bcbd22", "#17becf")
OTHER = "#b0b0b0"
RAMPS = {   # sequential, light to dark (ColorBrewer YlOrRd / Blues / Greens)
    "reds": ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    "blues": ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"),
    "greens": ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"),
}


@dataclass
class Classes:
    index: np.ndarray            # int32 class per feature
    colors: list[str]            # hex per class
    labels: list[str]            # legend label per class
    counts: list[int]
    mode: str
    field: str = ""


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i:i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb))


def ramp_colors(name: str, n: int) -> list[str]:
    stops = RAMPS.get(name, RAMPS["reds"])
    if n <= 1:
        return [stops[-1]]
    out = []
    for k in range(n):
        pos = k / (n - 1) * (len(stops) - 1)
        i = min(int(pos), len(stops) - 2)
        out.append(_mix(stops[i], stops[i + 1], pos - i))
    return out


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".")


def classify(data: VectorData, style: Mapping[str, Any], lang: str = "zh") -> Classes:
    mode = str(style.get("mode") or "single")
    if mode not in MODES:
        raise InputError(f"style mode must be one of {', '.join(MODES)}, got {mode!r}")
    n = data.n
    field = str(style.get("field") or "")
    if mode == "single" or not field:
        return Classes(np.zeros(n, dtype=np.int32), [str(style.get("color", PALETTE[0]))], [""],
                       [n], "single")
    values = data.column(field)
    if mode == "categorized":
        return _categorized(values, style, field, lang)
    return _graduated(values, style, field, lang)


def _categorized(values: np.ndarray, style, field: str, lang: str) -> Classes:
    import pandas as pd
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    order = np.argsort(-counts, kind="stable")
    keep = order[:MAX_CATEGORIES]
    fixed: Mapping[str, str] = style.get("categories") or {}
    cls_of = np.full(len(uniques) + 1, len(keep), dtype=np.int32)      # last: other / empty
    cls_of[keep] = np.arange(len(keep), dtype=np.int32)
    index = cls_of[np.where(codes >= 0, codes, len(uniques))]
    labels = [str(uniques[k]) for k in keep]
    colors = [str(fixed.get(lab, PALETTE[i % len(PALETTE)])) for i, lab in enumerate(labels)]
    cnt = [int(counts[k]) for k in keep]
    rest = int(len(values) - sum(cnt))
    if rest:
        labels.append("其他" if lang == "zh" else "other")
        colors.append(OTHER)
        cnt.append(rest)
    return Classes(index, colors, labels, cnt, "categorized", field)


def _graduated(values: np.ndarray, style, field: str, lang: str) -> Classes:
    import pandas as pd
    num = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
    ok = np.isfinite(num)
    if not ok.any():
        raise InputError(f"field {field!r} has no numbers to grade by")
    k = int(max(2, min(9, float(style.get("classes", 5)))))
    breaks = np.unique(np.quantile(num[ok], np.linspace(0, 1, k + 1)))
    if len(breaks) < 2:
        breaks = np.array([breaks[0], breaks[0]])
    inner = breaks[1:-1]
    index = np.searchsorted(inner, num, side="right").astype(np.int32)
    nclass = len(breaks) - 1
    colors = ramp_colors(str(style.get("ramp") or "reds"), nclass)
    labels = [f"{_fmt(breaks[i])} – {_fmt(breaks[i + 1])}" for i in range(nclass)]
    counts = np.bincount(index[ok], minlength=nclass).tolist()
    if (~ok).any():
        index[~ok] = nclass
        colors.append(OTHER)
        labels.append("无数值" if lang == "zh" else "no value")
        counts.append(int((~ok).sum()))
    return Classes(index, colors, labels, [int(c) for c in counts], "graduated", field)
