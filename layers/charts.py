"""Charts of the target comparison, drawn with matplotlib (no Qt, no pyplot state).

* :func:`bars_figure` — grouped bars per indicator across plans (one bar per target year; counts
  stacked from the targets that make them up; a level implied by a relative target hatched);
* :func:`timeline_figure` — the target years of each plan over its plan period;
* :func:`growth_figure` — annual growth rates, stated or computed (see :mod:`layers.compare`).

The same figures are shown in the desktop *Targets* window (embedded with matplotlib's Qt
canvas), saved as PNG/SVG/PDF (:func:`save_figure`) and put into the XLSX data export
(:func:`png_bytes`). Text is drawn with the bundled Noto Sans SC (:mod:`layers.fonts`), so Chinese
renders as real glyphs on machines without CJK fonts; SVG text is stored as outlines.
"""
from __future__ import annotations

import io
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable

from .errors import InputError
from .fonts import font_path
from .compare import COMPARATOR_SIGNS as _CMP
from .indicators import OTHER, Vocabulary, vocabulary

__all__ = ["bars_figure", "timeline_figure", "growth_figure", "save_figure", "png_bytes",
           "bar_data", "missing_glyphs", "chart_font", "CHART_FORMATS", "new_figure"]

CHART_FORMATS = ("png", "svg", "pdf")
# Okabe–Ito, colour-blind safe; one colour per target year / plan
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
TEXT = {
    "bars.title": ("{label}：各规划目标", "{label}: targets by plan"),
    "bars.implied": ("斜线 = 由相对目标推算（{how}）", "hatched = implied by a relative target ({how})"),
    "bars.stacked": ("分段 = 同一年份的多项目标（合计标于柱顶）", "segments = several targets of one year (total on top)"),
    "bars.noyear": ("空心 = 未写明年份，按规划期末绘制", "hollow = no year stated, drawn at the plan's last year"),
    "bars.none": ("所选规划没有该指标的目标", "no targets of this indicator in the chosen plans"),
    "timeline.title": ("各规划目标年份", "Target years by plan"),
    "timeline.period": ("规划期", "plan period"),
    "timeline.count": ("圆内数字 = 该年目标数（空心 = 未写明年份）", "number = targets for that year (hollow = no year stated)"),
    "growth.title": ("年均增速", "Annual growth rates"),
    "growth.axis": ("年均增长（%）", "annual growth (%)"),
    "growth.stated": ("规划明示", "stated in the plan"),
    "growth.cagr": ("由基期与目标推算", "computed from base and target"),
    "growth.multiple": ("由倍数目标推算", "computed from a multiple"),
    "growth.none": ("所选规划没有可比的增速", "no growth rates in the chosen plans"),
    "source": ("来源：各规划原文（条款与行号见目标表）· PlanAtlas", "Source: the plan texts (clauses and lines in the table) · PlanAtlas"),
}
_family: str | None = None


def _t(key: str, lang: str, **fmt) -> str:
    zh, en = TEXT[key]
    return (zh if lang == "zh" else en).format(**fmt)


def chart_font() -> str:
    """Register the bundled Noto Sans SC with matplotlib (once) and return its family name."""
    global _family
    if _family is None:
        from matplotlib import font_manager
        path = str(font_path())
        font_manager.fontManager.addfont(path)
        _family = font_manager.FontProperties(fname=path).get_name()
    return _family


@contextmanager
def _style():
    import matplotlib
    with matplotlib.rc_context({
        "font.family": [chart_font(), "DejaVu Sans"], "axes.unicode_minus": False,
        "svg.fonttype": "path", "pdf.fonttype": 42, "axes.spines.top": False,
        "axes.spines.right": False, "axes.titlesize": 13, "axes.titleweight": "normal",
        "font.size": 10}):
        yield


def new_figure(width: float = 9.0, height: float = 5.0, dpi: int = 100):
    """A matplotlib Figure not tied to pyplot (safe in a server, a test or a Qt canvas)."""
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=dpi, layout="constrained")


def _plan_name(row, lang: str) -> str:
    from .pinyin import romanise
    return row.plan_label if lang == "zh" else romanise(row.plan_label)


def _num(v: float) -> str:
    return f"{v:,.1f}".rstrip("0").rstrip(".") if abs(v) < 1e6 else f"{v:,.0f}"


# --------------------------------------------------------------------------- data

def bar_data(rows: Iterable, key: str) -> dict[str, Any]:
    """What a bar chart of ``key`` shows: ``{"unit", "counts", "plans": [(plan, label_zh)],
    "years", "bars": {(plan, year, noyear): {"parts": [(value, row)], "total", "upper",
    "comparator", "implied", "noyear"}}}`` in display units; a target without a year is its own
    bar at the plan's last year (``noyear``). Duplicates are dropped; counts of one plan and
    year add up (5 + 2 + 4 商圈); for other levels the largest figure of the year is shown."""
    rows = [r for r in rows if r.key == key and r.duplicate_of is None and r.quantity is not None
            and r.target.kind == "target"]
    bars: dict[tuple[str, int], dict[str, Any]] = {}
    plans: dict[str, str] = {}
    units: set[str] = set()
    level_dims = {r.quantity.dim for r in rows if r.quantity.dim != "ratio"}
    for r in rows:
        q, t = r.quantity, r.target
        value, upper, shown_unit, implied = q.display, q.display_upper, q.display_unit, None
        if q.dim == "ratio" and level_dims:
            if not r.implied:
                continue            # a multiple without its basis figure cannot share the axis
            value, upper, shown_unit, implied = r.implied["display"], None, r.implied["display_unit"], r.implied
        year = r.year if r.year is not None else r.period_end
        units.add(shown_unit)
        plans.setdefault(r.plan, r.plan_label)
        b = bars.setdefault((r.plan, year, r.year is None), {
            "parts": [], "total": 0.0, "upper": None, "comparator": t.comparator, "implied": None,
            "noyear": r.year is None})
        if q.dim == "count":
            was_range = b["upper"] is not None
            b["upper"] = (b["upper"] if was_range else b["total"]) + (upper if upper is not None else value)
            if upper is None and not was_range:
                b["upper"] = None
            b["parts"].append((value, r))
            b["total"] += value
        elif value >= b["total"]:
            b.update(parts=[(value, r)], total=value, upper=upper, implied=implied,
                     comparator=implied["comparator"] if implied else t.comparator)
    years = sorted({y for _, y, _ in bars})
    unit = units.pop() if len(units) == 1 else ("个数" if rows and rows[0].quantity.dim == "count" else "")
    counts = bool(rows) and all(r.quantity.dim == "count" for r in rows)
    return {"unit": unit, "plans": list(plans.items()), "years": years, "bars": bars,
            "counts": counts}


# --------------------------------------------------------------------------- charts

def bars_figure(rows, keys: str | list[str], *, lang: str = "zh", fig=None,
                vocab: Vocabulary | None = None):
    """Grouped bars: for each indicator in ``keys`` one panel, plans along x, one bar per year."""
    vocab = vocab or vocabulary()
    rows = list(rows)
    keys = [keys] if isinstance(keys, str) else [k for k in keys if k != OTHER]
    with _style():
        fig = fig or new_figure(9.0, 5.0 if len(keys) <= 1 else 3.2 * ((len(keys) + 1) // 2))
        fig.clear()
        ncols = 1 if len(keys) <= 1 else 2
        nrows = max(1, (len(keys) + ncols - 1) // ncols)
        notes: list[str] = []
        data = {key: bar_data(rows, key) for key in keys or [OTHER]}
        years = sorted({y for d in data.values() for y in d["years"]})
        colors = {y: PALETTE[i % len(PALETTE)] for i, y in enumerate(years)}
        for i, (key, d) in enumerate(data.items()):
            ax = fig.add_subplot(nrows, ncols, i + 1)
            _bars_panel(ax, d, vocab.label(key, lang), lang, notes, colors)
        if years:
            from matplotlib.patches import Patch
            fig.legend([Patch(color=colors[y]) for y in years], [str(y) for y in years],
                       title="目标年份" if lang == "zh" else "target year", loc="outside right upper",
                       frameon=False, fontsize=8.5, title_fontsize=8.5)
        _footnote(fig, [_t("source", lang), *dict.fromkeys(notes)])
    return fig


def _footnote(fig, lines: list[str]) -> None:
    """Source and notes under the plot, with room made for them."""
    fig.text(0.005, 0.005, "\n".join(lines), fontsize=7.5, color="#555", ha="left", va="bottom")
    share = min(0.4, len(lines) * 0.16 / fig.get_figheight())
    fig.get_layout_engine().set(rect=(0, share, 1, 1 - share))


def _bars_panel(ax, data: dict, label: str, lang: str, notes: list[str], colors: dict) -> None:
    ax.set_title(_t("bars.title", lang, label=label), loc="left")
    if not data["bars"]:
        ax.text(0.5, 0.5, _t("bars.none", lang), ha="center", va="center", transform=ax.transAxes,
                color="#777")
        ax.set_axis_off()
        return
    plans, years = data["plans"], data["years"]
    width = min(0.8 / max(1, len(years)), 0.3)
    top = max(max(b["total"], b["upper"] or 0) for b in data["bars"].values())
    for pi, (pid, _label) in enumerate(plans):
        own = sorted((y, n) for p, y, n in data["bars"] if p == pid)   # this plan's bars, centred
        for k, (year, noyear) in enumerate(own):
            b, color = data["bars"][(pid, year, noyear)], colors[year]
            x = pi + width * (k - (len(own) - 1) / 2)
            bottom = 0.0
            for value, _row in b["parts"]:
                ax.bar(x, value, width * 0.92, bottom=bottom, color="white" if b["noyear"] else color,
                       edgecolor=color if b["noyear"] else "white", linewidth=1.2,
                       hatch="///" if b["implied"] else None)
                bottom += value
            if b["upper"] is not None:
                ax.errorbar(x, b["upper"], yerr=[[b["upper"] - b["total"]], [0]], color="#333",
                            capsize=3, linewidth=1)
            text = _CMP.get(b["comparator"], "") + _num(b["total"])
            if b["upper"] is not None:
                text = f"{_num(b['total'])}–{_num(b['upper'])}"
            if len(b["parts"]) > 1:
                text += "\n(" + "+".join(_num(v) for v, _ in b["parts"]) + ")"
                notes.append(_t("bars.stacked", lang))
            ax.text(x, max(b["total"], b["upper"] or 0) + top * 0.015, text, ha="center",
                    va="bottom", fontsize=8.5)
            if b["implied"]:
                notes.append(_t("bars.implied", lang, how=b["implied"]["how"]))
            if b["noyear"]:
                notes.append(_t("bars.noyear", lang))
    ax.set_xticks(range(len(plans)), [lbl if lang == "zh" else pid for pid, lbl in plans])
    ax.set_xlim(-0.5, len(plans) - 0.5)
    ax.set_ylabel(data["unit"])
    ax.set_ylim(0, top * 1.22)
    if data["counts"]:
        from matplotlib.ticker import MaxNLocator
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color="#ddd", linewidth=0.6)
    ax.set_axisbelow(True)


def timeline_figure(rows, plans: list[tuple[str, str, tuple[int, int]]], *, lang: str = "zh",
                    fig=None):
    """Target years per plan: the plan period as a band, a disc per target year sized and
    labelled by the number of targets (duplicates once). ``plans``: (id, label, period)."""
    rows = [r for r in rows if r.duplicate_of is None and r.target.kind == "target"]
    with _style():
        fig = fig or new_figure(9.0, 1.2 + 0.75 * max(1, len(plans)))
        fig.clear()
        ax = fig.add_subplot(1, 1, 1)
        ax.set_title(_t("timeline.title", lang), loc="left")
        counts: dict[tuple[str, int, bool], int] = defaultdict(int)
        for r in rows:
            counts[(r.plan, r.year if r.year is not None else r.period_end, r.year is None)] += 1
        years = [y for (_, y, _) in counts] + [y for _, _, per in plans for y in per]
        for i, (pid, label, (start, end)) in enumerate(plans):
            yy = len(plans) - 1 - i
            ax.barh(yy, end - start + 1, left=start - 0.5, height=0.5, color="#e8e8e8",
                    edgecolor="#bbb", label=_t("timeline.period", lang) if i == 0 else None)
            for (p, year, noyear), n in sorted(counts.items()):
                if p != pid:
                    continue
                color = PALETTE[i % len(PALETTE)]
                ax.scatter([year], [yy], s=120 + 40 * n, color="white" if noyear else color,
                           edgecolors=color, linewidths=1.5, zorder=3)
                ax.text(year, yy, str(n), ha="center", va="center", fontsize=8, zorder=4,
                        color=color if noyear else "white")
        ax.set_yticks(range(len(plans)), [lbl if lang == "zh" else pid for pid, lbl, _ in reversed(plans)])
        if years:
            lo, hi = min(years), max(years)
            ax.set_xlim(lo - 1, hi + 1)
            ax.set_xticks(range(lo, hi + 1))
        ax.set_ylim(-0.7, len(plans) - 0.3)
        ax.grid(axis="x", color="#ddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        _footnote(fig, [_t("timeline.count", lang), _t("source", lang)])
    return fig


def growth_figure(rows, *, lang: str = "zh", fig=None, vocab: Vocabulary | None = None,
                  limit: int = 24):
    """Horizontal bars of annual growth rates (% per year), one per plan × indicator; the
    method (stated / computed from base and target / from a multiple) is the hatching."""
    vocab = vocab or vocabulary()
    items = [r for r in rows if r.growth and r.duplicate_of is None and r.target.kind == "target"]
    items = items[:limit]
    hatch = {"stated": None, "cagr": "xx", "multiple": "///"}
    with _style():
        fig = fig or new_figure(9.0, 1.4 + 0.36 * max(3, len(items)))
        fig.clear()
        ax = fig.add_subplot(1, 1, 1)
        ax.set_title(_t("growth.title", lang), loc="left")
        if not items:
            ax.text(0.5, 0.5, _t("growth.none", lang), ha="center", va="center",
                    transform=ax.transAxes, color="#777")
            ax.set_axis_off()
            return fig
        plan_colors: dict[str, str] = {}
        labels = []
        for i, r in enumerate(items):
            g = r.growth
            color = plan_colors.setdefault(r.plan, PALETTE[len(plan_colors) % len(PALETTE)])
            key = vocab.get(r.key)
            base_key = key.growth_of if key and key.growth_of else r.key
            labels.append(f"{_plan_name(r, lang)} · {vocab.label(base_key, lang)} {r.year or ''}")
            y = len(items) - 1 - i
            ax.barh(y, g["annual_pct"], height=0.6, color=color if g["method"] == "stated" else "white",
                    edgecolor=color, hatch=hatch.get(g["method"]), linewidth=1.2)
            ax.text(g["annual_pct"], y, f" {_CMP.get(g['comparator'], '')}{g['annual_pct']:.1f}%",
                    va="center", ha="left", fontsize=8.5)
        ax.set_yticks(range(len(items)), list(reversed(labels)))
        ax.set_xlabel(_t("growth.axis", lang))
        ax.set_xlim(0, max(r.growth["annual_pct"] for r in items) * 1.2)
        ax.grid(axis="x", color="#ddd", linewidth=0.6)
        ax.set_axisbelow(True)
        from matplotlib.patches import Patch
        used = list(dict.fromkeys(r.growth["method"] for r in items))
        ax.legend([Patch(facecolor="#999" if m == "stated" else "white", edgecolor="#555",
                         hatch=hatch[m]) for m in used], [_t(f"growth.{m}", lang) for m in used],
                  frameon=False, fontsize=8, loc="lower right")
        _footnote(fig, [_t("source", lang)])
    return fig


# --------------------------------------------------------------------------- output

def png_bytes(fig, dpi: int = 150) -> bytes:
    """The figure as PNG bytes (for the XLSX export and tests)."""
    buf = io.BytesIO()
    with _style():
        fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_figure(fig, out, fmt: str | None = None, dpi: int = 200) -> Path:
    """Write ``fig`` as PNG, SVG or PDF (from ``fmt`` or the file name), atomically."""
    from .fsutil import atomic_write_bytes
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in CHART_FORMATS:
        raise InputError(f"cannot write a chart as {fmt or out.name!r}; use one of {', '.join(CHART_FORMATS)}")
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: no such folder for the chart")
    buf = io.BytesIO()
    with _style():
        fig.savefig(buf, format=fmt, dpi=dpi)
    atomic_write_bytes(out, buf.getvalue(), 0o644)
    return out


def missing_glyphs(fig) -> set[str]:
    """Characters of the figure's texts that the bundled font cannot draw (would be boxes)."""
    from matplotlib.ft2font import FT2Font
    from matplotlib.text import Text
    charmap = FT2Font(str(font_path())).get_charmap()
    out = set()
    for t in fig.findobj(Text):
        for ch in t.get_text():
            if not ch.isspace() and ord(ch) not in charmap:
                out.add(ch)
    return out
