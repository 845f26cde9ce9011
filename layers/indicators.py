"""Canonical indicators: which comparable quantity an extracted target measures.

Plans name the same quantity differently (社会消费品零售总额 / 社零额 / 社会消费品零售额总量)
and write it in different units (亿元, 万元, 万亿元; 万标箱, 万标准箱). The vocabulary in
``layers/data/indicators.toml`` — data, reviewed by hand — lists the canonical indicators with their
synonyms and the units; this module maps every :class:`~planatlas.layers.model.Target` to a
canonical key (or ``other``) and says why (:class:`Evidence`), and normalises its value
(:func:`normalise`: 亿元 → 元 shown in 亿元, 万标箱 → TEU, 万吨 → t, 万人次 → 人次, % stays %).

    from planatlas.layers.indicators import classify, normalise
    m = classify(target, clause_text)      # Match(key="retail_sales", evidence=Evidence(...))
    q = normalise(target.value, target.unit)   # Quantity(value=1.5e11, unit="元", display=1500, display_unit="亿元")

The mapper does not trust the extracted indicator phrase alone (its boundaries shift as target
extraction improves): it looks in the indicator phrase first, then in the target's own text next
to the figure, then in the sentence before the figure, and it checks that the unit fits.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import InputError
from .model import Target

__all__ = [
    "OTHER", "VOCABULARY_PATH", "Indicator", "Evidence", "Match", "Quantity", "Vocabulary",
    "vocabulary", "classify", "normalise", "unit_dimension", "GROWTH_WORDS",
]

OTHER = "other"
VOCABULARY_PATH = Path(__file__).resolve().parent / "data" / "indicators.toml"
GROWTH_WORDS = re.compile(r"年均增长率?|年平均增速|年均增速|增长率|增速|增幅|增长")
# separators of enumerated items inside one target text (集聚示范区3家、两业融合标杆企业6家)
_ITEM_BREAK = re.compile(r"[、，,；;。：:！？\n]")
_AFTER_LEAD = re.compile(r"^(?:以上|左右|以内|以下)")
_AFTER_CUT = re.compile(r"[并且和及与]")
# a figure that is an increase over a past period (比2015年增加200.6亿元) is not a level
_INCREASE = re.compile(r"(?:比|较)\s*(?:20\d\d\s*年|“?[十]?[二三四五]五”?(?:期间|时期)?).{0,12}?(?:增加|增长|提高|多|减少|压缩|下降)")
# what is left of an indicator phrase without its growth words and time words
_NOT_A_SUBJECT = re.compile(r"左右|以上|以内|以下|突破|超过|超|达到|达|不少于|不低于|保持在|保持|稳定在|力争|确保|其中|年均|年平均|增长率?|增速|增幅|仍|五年|三年|全面|实现|总量|总规模|规模|比|较|\d+|年|[^\u4e00-\u9fff]")


@dataclass(frozen=True)
class Indicator:
    key: str
    zh: str
    en: str
    group: str
    dims: tuple[str, ...]
    synonyms: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    growth_of: str | None = None          # set on the derived ``<key>_growth`` indicators

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "zh": self.zh, "en": self.en, "group": self.group,
                "dims": list(self.dims), "synonyms": list(self.synonyms),
                "exclude": list(self.exclude), "growth_of": self.growth_of}


@dataclass(frozen=True)
class Evidence:
    """Why a target got its key: where the synonym was found and what it matched."""
    field: str                 # "indicator" | "surface" | "sentence" | "" (nothing matched)
    synonym: str = ""          # the vocabulary pattern
    matched: str = ""          # the text it matched
    growth: str = ""           # the growth word that made it a growth rate (年均增长)
    unit_dim: str = ""         # the dimension of the target's unit
    note: str = ""             # why nothing was taken (e.g. a synonym with the wrong unit)

    def describe(self, lang: str = "zh") -> str:
        """One line for people: ``指标名称含“社会消费品零售总额”`` / ``indicator has “…”``."""
        zh = lang == "zh"
        if not self.field:
            text = "词表无匹配" if zh else "no synonym in the vocabulary matched"
            return text + ((f"（{self.note}）" if zh else f" ({self.note})") if self.note else "")
        where = {"indicator": ("指标名称", "indicator"), "surface": ("目标原文", "target text"),
                 "sentence": ("所在句", "sentence")}[self.field][0 if zh else 1]
        text = f"{where}含“{self.matched}”" if zh else f"{where} has “{self.matched}”"
        if self.synonym != self.matched:
            text += f"（{self.synonym}）" if zh else f" ({self.synonym})"
        if self.growth:
            text += f"；“{self.growth}”+% → 增速" if zh else f"; “{self.growth}” + % → growth"
        return text

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "synonym": self.synonym, "matched": self.matched,
                "growth": self.growth, "unit_dim": self.unit_dim, "note": self.note,
                "text": self.describe("zh")}


@dataclass(frozen=True)
class Match:
    key: str                   # canonical key or "other"
    evidence: Evidence

    @property
    def is_other(self) -> bool:
        return self.key == OTHER


@dataclass(frozen=True)
class Quantity:
    """A value in the base unit of its dimension, and as displayed (亿元, 万标箱 …)."""
    value: float
    unit: str                  # base unit: 元, 美元, TEU, t, 人次, 人, %, 倍, count, km …
    dim: str
    display: float
    display_unit: str          # 亿元, 万标箱, 万吨, 万人次; the unit as written for counts
    upper: float | None = None
    display_upper: float | None = None


@dataclass
class Vocabulary:
    indicators: dict[str, Indicator]
    order: list[str]                       # keys with synonyms, in precedence order
    dimensions: dict[str, dict[str, Any]]
    units: dict[str, tuple[str, float]]
    groups: dict[str, tuple[str, str]]
    growth_keys: dict[str, str] = field(default_factory=dict)    # level key -> growth key
    _patterns: dict[str, list[tuple[str, re.Pattern]]] = field(default_factory=dict, repr=False)
    _excludes: dict[str, list[re.Pattern]] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        units = "|".join(re.escape(u) for u in sorted(self.units, key=len, reverse=True))
        self.figure = re.compile(rf"\d+(?:\.\d+)?\s*(?:{units})")
        for key in self.order:
            ind = self.indicators[key]
            self._patterns[key] = [(s, re.compile(s)) for s in ind.synonyms]
            self._excludes[key] = [re.compile(s) for s in ind.exclude]

    def get(self, key: str) -> Indicator | None:
        return self.indicators.get(key)

    def label(self, key: str, lang: str = "zh") -> str:
        ind = self.indicators.get(key)
        if ind is None:
            return "其他" if lang == "zh" and key == OTHER else ("other" if key == OTHER else key)
        return ind.label(lang)

    def group_label(self, group: str, lang: str = "zh") -> str:
        pair = self.groups.get(group)
        return (pair[0] if lang == "zh" else pair[1]) if pair else group

    def resolve(self, names) -> list[str]:
        """Keys for ``names`` (keys, groups or ``other``; a list or ``"a,b"``).

        Raises :class:`InputError` naming the unknown ones and the known keys and groups.
        """
        if isinstance(names, str):
            names = [names]
        out: list[str] = []
        unknown = []
        for raw in names:
            for name in (n.strip() for n in str(raw).split(",")):
                if not name:
                    continue
                if name in self.indicators or name == OTHER:
                    keys = [name]
                elif name in self.groups:
                    keys = [k for k, ind in self.indicators.items() if ind.group == name]
                else:
                    unknown.append(name)
                    continue
                out += [k for k in keys if k not in out]
        if unknown:
            import difflib
            close = [m for u in unknown for m in difflib.get_close_matches(
                u, [*self.indicators, *self.groups], n=3, cutoff=0.6)]
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise InputError(
                f"unknown indicator {', '.join(map(repr, unknown))}; {hint}groups: "
                f"{', '.join(self.groups)}; keys: 'planatlas indicators' lists them "
                f"({VOCABULARY_PATH.name})")
        return out


def _load(path: Path) -> Vocabulary:
    where = str(path)
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{where}: cannot read the indicator vocabulary: {exc}") from None
    dims = doc.get("dimensions", {})
    units = {}
    for u, spec in doc.get("units", {}).items():
        if spec.get("dim") not in dims:
            raise InputError(f"{where}: unit {u!r} has unknown dimension {spec.get('dim')!r}")
        units[u] = (spec["dim"], float(spec.get("factor", 1)))
    groups = {g: (v[0], v[1]) for g, v in doc.get("groups", {}).items()}
    indicators: dict[str, Indicator] = {}
    order: list[str] = []
    growth_keys: dict[str, str] = {}
    for i, e in enumerate(doc.get("indicator", []), start=1):
        key = e.get("key", "")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key) or key in indicators or key == OTHER:
            raise InputError(f"{where}: indicator #{i}: bad or repeated key {key!r}")
        if e.get("group") not in groups:
            raise InputError(f"{where}: indicator {key!r}: unknown group {e.get('group')!r}")
        bad = [d for d in e.get("dims", []) if d not in dims]
        if bad or not e.get("dims"):
            raise InputError(f"{where}: indicator {key!r}: unknown or missing dims {bad}")
        for pat in [*e.get("synonyms", []), *e.get("exclude", [])]:
            try:
                re.compile(pat)
            except re.error as exc:
                raise InputError(f"{where}: indicator {key!r}: bad pattern {pat!r}: {exc}") from None
        indicators[key] = Indicator(key, e["zh"], e["en"], e["group"], tuple(e["dims"]),
                                    tuple(e.get("synonyms", [])), tuple(e.get("exclude", [])))
        order.append(key)
        if e.get("growth"):
            gk = f"{key}_growth"
            indicators[gk] = Indicator(gk, f"{e['zh']}年均增速", f"{e['en']}, annual growth",
                                       e["group"], ("percent",), growth_of=key)
            growth_keys[key] = gk
    dup = [k for k in growth_keys.values() if k in order]
    if dup:
        raise InputError(f"{where}: derived growth keys clash with indicators: {', '.join(dup)}")
    return Vocabulary(indicators, order, dims, units, groups, growth_keys)


@lru_cache(maxsize=4)
def vocabulary(path: str | None = None) -> Vocabulary:
    """The vocabulary (``layers/data/indicators.toml`` unless ``path`` is given), parsed once."""
    return _load(Path(path) if path else VOCABULARY_PATH)


# --------------------------------------------------------------------------- units

def unit_dimension(unit: str, vocab: Vocabulary | None = None) -> str:
    """``"亿元"`` → ``"CNY"``; an unknown unit → ``""``."""
    vocab = vocab or vocabulary()
    spec = vocab.units.get((unit or "").strip())
    return spec[0] if spec else ""


def normalise(value: float, unit: str, upper: float | None = None,
              vocab: Vocabulary | None = None) -> Quantity | None:
    """The value in the base unit of its dimension and in the display unit; ``None`` for a
    unit the vocabulary does not know (the caller keeps the value as written)."""
    vocab = vocab or vocabulary()
    spec = vocab.units.get((unit or "").strip())
    if spec is None:
        return None
    dim, factor = spec
    d = vocab.dimensions[dim]
    base = float(value) * factor
    base_up = None if upper is None else float(upper) * factor
    shown_by = float(d.get("factor", 1))
    display_unit = d.get("display") or unit
    if not d.get("display"):          # counts: shown as written (个, 家, 条)
        shown_by = factor
    return Quantity(value=base, unit=d["base"], dim=dim, display=base / shown_by,
                    display_unit=display_unit, upper=base_up,
                    display_upper=None if base_up is None else base_up / shown_by)


# --------------------------------------------------------------------------- mapping

def _figure_pattern(value: float, unit: str) -> re.Pattern:
    num = f"{value:g}"
    if "e" in num:                     # very large numbers are written out in the text
        num = f"{value:.0f}"
    unit_re = re.escape(unit).replace("%", "[%％]") if unit else ""
    return re.compile(rf"(?<![\d.]){re.escape(num)}(?:\.0+)?\s*(?:[-—–～~至]\s*\d+(?:\.\d+)?)?\s*{unit_re}")


def _windows(text: str, target: Target) -> tuple[str, str] | None:
    """The words of ``text`` before and after the target's figure, cut at item separators
    (the item ``两业融合标杆企业6家`` out of ``集聚示范区3家、两业融合标杆企业6家``)."""
    text = text.replace("％", "%")
    m = _figure_pattern(target.value, target.unit).search(text)
    if m is None:
        return None
    before = _ITEM_BREAK.split(text[:m.start()])[-1]
    after = _ITEM_BREAK.split(text[m.end():], maxsplit=1)[0]
    after = _AFTER_CUT.split(_AFTER_LEAD.sub("", after), maxsplit=1)[0]   # 5个世界级地标商圈, not …并提升本地结算率
    return before, after


def _sentence_before(clause_text: str, target: Target, vocab: Vocabulary) -> list[str]:
    """Text of the sentence before the target's figure, back to the previous figure; and, when
    that stretch names no subject (``，年均增长10%`` after ``社会消费品零售额突破650亿元``), the
    stretch before the previous figure too — the subject the growth rate is about."""
    text = clause_text.replace("％", "%")
    surface = target.surface.replace("％", "%").strip()
    at = text.find(surface) if surface else -1
    m = _figure_pattern(target.value, target.unit).search(text, at if at >= 0 else 0)
    if m is not None:
        end = m.start()
    elif at >= 0:                  # 全覆盖, 翻一番: no figure written, the target text ends it
        end = at + len(surface)
    else:
        return []
    start = max(text.rfind(ch, 0, end) for ch in "。！？\n") + 1
    head = text[start:end]
    cuts = [f.end() for f in vocab.figure.finditer(head)]
    since = head[cuts[-1]:] if cuts else head
    out = [since]
    if cuts and len(_NOT_A_SUBJECT.sub("", since)) < 4:
        out.append(head[cuts[-2] if len(cuts) > 1 else 0:cuts[-1]])
    return out


def _growth_word(texts: list[str], dim: str) -> str:
    """The growth word (年均增长, 增幅 …) that makes a percentage a growth rate, or ``""``."""
    if dim != "percent":
        return ""
    for text in texts:
        words = GROWTH_WORDS.findall(text)
        if words:
            return words[-1]
    return ""


def _find(vocab: Vocabulary, text: str, dim: str, growth: bool, *, nearest: bool) -> tuple | None:
    """The first indicator (file order) with a synonym in ``text`` that fits the unit, and the
    longest synonym of it that matched. With ``nearest`` the text is read item by item from its
    end (the item closest to the figure wins), file order within an item."""
    if nearest:
        for piece in reversed(_ITEM_BREAK.split(text)):
            hit = _find(vocab, piece, dim, growth, nearest=False) if piece.strip() else None
            if hit is not None:
                return hit
        return None
    for key in vocab.order:
        ind = vocab.indicators[key]
        if growth:
            if key not in vocab.growth_keys and "percent" not in ind.dims:
                continue
        elif dim not in ind.dims:
            continue
        if any(x.search(text) for x in vocab._excludes[key]):
            continue
        hits = [m.group(0) for _, rx in vocab._patterns[key] for m in rx.finditer(text)]
        if hits:
            matched = max(hits, key=len)
            syn = next(syn for syn, rx in vocab._patterns[key] if rx.search(matched))
            return key, syn, matched
    return None


def _wrong_unit(vocab: Vocabulary, text: str, dim: str) -> str:
    for key in vocab.order:
        for syn, rx in vocab._patterns[key]:
            if rx.search(text):
                return f"“{rx.search(text).group(0)}” ≠ {dim or '?'}"
    return ""


def classify(target: Target, clause_text: str | None = None,
             vocab: Vocabulary | None = None) -> Match:
    """The canonical indicator of ``target`` (``other`` when nothing fits) with the evidence.

    Looks in (1) the indicator phrase, (2) the words next to the figure in the target's own text,
    (3) with ``clause_text``, the sentence before the figure (nearest synonym wins). A
    percentage next to 增长/增速/增幅 maps to the ``<key>_growth`` indicator.
    """
    vocab = vocab or vocabulary()
    dim = unit_dimension(target.unit, vocab)
    fields: list[tuple[str, str, bool]] = [("indicator", target.indicator or "", False)]
    win = _windows(target.surface or "", target)
    if win is not None:
        fields.append(("surface", win[0], False))
        fields.append(("surface", win[1], False))
    else:
        fields.append(("surface", target.surface or "", False))
    if clause_text and (dim == "percent" or len(_NOT_A_SUBJECT.sub("", target.indicator or "")) < 4):
        fields += [("sentence", text, True) for text in _sentence_before(clause_text, target, vocab)]
    growth_word = _growth_word([target.indicator or "", fields[1][1]], dim)
    growth = bool(growth_word) or (dim == "percent" and bool(target.period)
                                   and "累计" not in (target.indicator or ""))
    if growth and not growth_word:
        growth_word = "年均增长"
    if dim not in ("percent", "ratio") and _INCREASE.search((target.indicator or "") + (win[0] if win else "")):
        return Match(OTHER, Evidence("", unit_dim=dim, note="an increase over a past period, not a level"))
    for name, text, nearest in fields:
        if not text:
            continue
        hit = _find(vocab, text, dim, growth, nearest=nearest)
        if hit is None:
            continue
        key, syn, matched = hit
        if growth and key in vocab.growth_keys:
            key = vocab.growth_keys[key]
        ev = Evidence(name, syn, matched, growth_word if growth else "", dim)
        return Match(key, ev)
    note = _wrong_unit(vocab, " ".join(f[1] for f in fields), dim) if dim else f"unit {target.unit!r} unknown"
    return Match(OTHER, Evidence("", unit_dim=dim, note=note))
