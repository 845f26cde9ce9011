"""What is not a place: responsible-unit lists, organisations, events, brands and generic phrases.

A plan of this genre names its places among many words that look like places but are not:
``(责任单位：区商务局、天津港集团、东疆综保区管委会）`` lists the *units* that act;
``杨柳青镇政府`` is a government, ``白云机场商务航空展`` an event, ``余东酱油`` a brand, and
``夜商圈`` / ``重点商圈`` / ``特色街区`` are generic phrases.  The recogniser and the linker both ask
this module before they count a mention as a place.

The word lists live in ``layers/data/nonplace.toml`` (reviewable by a planner); the rules are here:

* :func:`responsible_spans` — ``(start, end)`` of every responsible-unit span in a text;
* :func:`is_org_context` — why a mention at ``text[start:end]`` is not a place (or ``None``);
* :func:`name_reason` — why a candidate name on its own is not a place (or ``None``);
* :func:`is_generic` — a generic phrase (modifiers + a place suffix only).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["responsible_spans", "is_org_context", "in_org_list", "name_reason", "is_generic", "is_slogan", "only_modifiers",
           "org_suffix",
           "event_suffix", "brand_suffix", "Words", "words"]

DATA = Path(__file__).resolve().parent / "data" / "nonplace.toml"

# Characters that end a word run (a mention is never continued across them).
PUNCT = set("，,。；;：:、！？!?（）()《》〈〉【】[]“”\"‘’'「」『』—…·•/\\|\n\r\t ")
OPEN, CLOSE = "（(", "）)"
# Verbs and function words that end the run of a name to the right of a mention: in
# "天津港加快建设" nothing after 天津港 belongs to its name, in "天津港集团" 集团 does.
BREAK_WORDS = (
    "打造", "建设", "推进", "推动", "提升", "加快", "加强", "围绕", "发挥", "支持", "鼓励", "构建", "培育",
    "建成", "形成", "放大", "扩大", "完成", "开工", "实现", "结合", "发展", "串联", "增设", "联动",
    "依托", "引导", "引进", "举办", "办好", "开展", "组织", "策划", "推出", "做强", "做优", "做大",
    "提质", "改造", "升级", "完善", "优化", "创建", "申报", "争创", "积极", "重点", "全面", "进一步",
    "为主", "为核心", "为重点", "为龙头", "为中心", "为依托", "为载体", "等", "和", "及", "与",
    "以及", "的", "在", "以", "将", "把", "向", "对", "由", "从", "为", "是", "有", "到", "至",
)
_BREAK_RE = re.compile("|".join(sorted(map(re.escape, BREAK_WORDS), key=len, reverse=True)))
MAX_RUN = 12          # a name part to the right of a mention is at most this long


@dataclass(frozen=True)
class Words:
    labels: tuple[str, ...]
    closing_verbs: tuple[str, ...]
    org_suffixes: tuple[str, ...]
    not_org_endings: tuple[str, ...]
    unit_words: tuple[str, ...]
    event_suffixes: tuple[str, ...]
    not_event_endings: tuple[str, ...]
    product_words: tuple[str, ...]
    list_markers: tuple[str, ...]
    modifiers: tuple[str, ...]
    generic_suffixes: tuple[str, ...]


def _longest_first(items) -> tuple[str, ...]:
    return tuple(sorted(dict.fromkeys(items), key=len, reverse=True))


@lru_cache(maxsize=1)
def words() -> Words:
    """The word lists of ``layers/data/nonplace.toml`` (longest first within each list)."""
    with open(DATA, "rb") as fh:
        d = tomllib.load(fh)
    return Words(
        labels=_longest_first(d["responsible"]["labels"]),
        closing_verbs=_longest_first(d["responsible"]["closing_verbs"]),
        org_suffixes=_longest_first(d["organisation"]["suffixes"]),
        not_org_endings=_longest_first(d["organisation"]["not_org_endings"]),
        unit_words=_longest_first(d["organisation"]["unit_words"]),
        event_suffixes=_longest_first(d["event"]["suffixes"]),
        not_event_endings=_longest_first(d["event"]["not_event_endings"]),
        product_words=_longest_first(d["brand"]["product_words"]),
        list_markers=_longest_first(d["brand"]["list_markers"]),
        modifiers=_longest_first(d["generic"]["modifiers"]),
        generic_suffixes=_longest_first(d["generic"]["suffixes"]),
    )


# ---------------------------------------------------------------- responsible-unit spans
def _match_close(text: str, i: int) -> int:
    """Index just past the bracket closing the one at ``i`` (mixed ( and ） allowed), or -1."""
    depth = 0
    for j in range(i, min(len(text), i + 400)):
        ch = text[j]
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth -= 1
            if depth == 0:
                return j + 1
        elif ch == "\n" or ch == "。":
            return -1
    return -1


def _is_unit_list(inner: str) -> bool:
    """``区商务局、区财政局、各开发区管委会`` — every item is a unit (organisation or unit word)."""
    w = words()
    items = [s.strip() for s in re.split(r"[、，,；;]", inner) if s.strip()]
    if len(items) < 2:
        return False
    def unit(s: str) -> bool:
        s = re.sub(r"(等|等相关部门|等有关部门)$", "", s)
        return bool(s) and (s.endswith(w.org_suffixes) or s in w.unit_words or s.endswith(w.unit_words)
                            or s.endswith(w.closing_verbs))
    return all(unit(s) for s in items)


def _responsible_inner(inner: str) -> bool:
    w = words()
    s = inner.strip()
    for label in w.labels:
        if s.startswith(label) and (label not in ("牵头", "责任") or s[len(label):len(label) + 1] in "：:"):
            return True
    if re.search(r"^(?:{})\s*[:：]".format("|".join(map(re.escape, w.labels))), s):
        return True
    if s.endswith(w.closing_verbs):
        # "(区科技局牵头,发改委、财政局、各区镇配合)", "（各区政府负责）"
        head = re.split(r"[、，,；;]", s)[0]
        head = re.sub("(?:{})$".format("|".join(map(re.escape, w.closing_verbs))), "", head)
        return bool(head) and (head.endswith(w.org_suffixes) or head.endswith(w.unit_words)
                               or "单位" in head or _is_unit_list(s))
    if re.search(r"(?:牵头|负责)[，,、]", s):
        head = re.split(r"牵头|负责", s)[0]
        return head.endswith(w.org_suffixes) or head.endswith(w.unit_words)
    return _is_unit_list(s)


@lru_cache(maxsize=1)
def _label_run() -> re.Pattern:
    labels = [l for l in words().labels if l not in ("牵头", "责任")]
    return re.compile(r"(?:{})\s*[:：]".format("|".join(map(re.escape, labels))))


def responsible_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each responsible-unit span in ``text``, brackets included.

    * a bracketed group whose content opens with 责任单位/牵头单位/… (``（牵头单位：市商务局）``),
      ends with 负责/牵头/配合 after a unit (``(区科技局牵头,发改委、各区镇配合)``, ``（各区政府负责）``)
      or is a list of units only;
    * an unbracketed ``责任单位：…`` label, to the end of its sentence;
    * a bracketed label left open by a truncated text, to the end of the line.
    """
    return list(_responsible_spans(text))


@lru_cache(maxsize=4096)
def _responsible_spans(text: str) -> tuple[tuple[int, int], ...]:
    label_run = _label_run()
    spans: list[tuple[int, int]] = []
    for i, ch in enumerate(text):
        if ch not in OPEN:
            continue
        if spans and i < spans[-1][1]:
            continue
        j = _match_close(text, i)
        inner_end = j - 1 if j > 0 else len(text)
        if j < 0:
            nl = text.find("\n", i)
            inner_end = nl if nl >= 0 else len(text)
        inner = text[i + 1:inner_end]
        if not inner.strip():
            continue
        if j < 0 and not label_run.match(inner.strip()):
            continue
        if _responsible_inner(inner):
            spans.append((i, j if j > 0 else inner_end))
    for m in label_run.finditer(text):
        if any(s <= m.start() < e for s, e in spans):
            continue
        end = len(text)
        for k in range(m.end(), len(text)):
            if text[k] in "。\n；;" or text[k] in CLOSE:
                end = k + (1 if text[k] in CLOSE else 0)
                break
        spans.append((m.start(), end))
    return tuple(sorted(spans))


# ---------------------------------------------------------------- names
def _ends_with(name: str, suffixes: tuple[str, ...]) -> str | None:
    for s in suffixes:
        if name.endswith(s) and len(name) > len(s):
            return s
    return None


def org_suffix(name: str) -> str | None:
    """The organisation suffix ``name`` ends with (``天津港集团`` → 集团), else ``None``."""
    w = words()
    if name.endswith(w.not_org_endings):
        return None
    return _ends_with(name, w.org_suffixes)


def event_suffix(name: str) -> str | None:
    """The event suffix ``name`` ends with (``白云机场商务航空展`` → 航空展), else ``None``."""
    w = words()
    if name.endswith(w.not_event_endings):
        return None
    return _ends_with(name, w.event_suffixes)


# brand words that, after a place suffix, name the place's own brand ("东布洲长滩特色街区品牌" is
# the street district of 东布洲长滩 promoted as a brand, not a product)
_PLACE_BRAND_WORDS = ("品牌", "牌")


def brand_suffix(name: str) -> str | None:
    """The product word ``name`` ends with (``余东酱油`` → 酱油), else ``None``.
    A place promoted as a brand (``东布洲长滩特色街区品牌``) is not a product brand."""
    s = _ends_with(name, words().product_words)
    if s in _PLACE_BRAND_WORDS and name[: len(name) - len(s)].endswith(words().generic_suffixes):
        return None
    return s


def name_reason(name: str) -> str | None:
    """Why ``name`` on its own is not a place: ``organisation: 集团`` / ``event: 展`` /
    ``brand: 酱油`` / ``generic phrase``, or ``None`` when it may be one."""
    name = name.strip()
    if not name:
        return "empty"
    s = org_suffix(name)
    if s:
        return f"organisation: {s}"
    if name in words().unit_words:
        return "organisation: unit word"
    s = event_suffix(name)
    if s:
        return f"event: {s}"
    s = brand_suffix(name)
    if s:
        return f"brand: {s}"
    if is_generic(name):
        return "generic phrase"
    return None


_SLOGAN = re.compile(r"^[一二两三四五六七八九十]{1,2}[\u4e00-\u9fff]{1,2}[一二两三四五六七八九十百]{1,2}[\u4e00-\u9fff]{1,2}$|"
                     r"\d+\s*[+＋]\s*\d+")


def is_slogan(name: str) -> bool:
    """``两圈四街``, ``一江两岸``, ``1+10+N`` — a numbered slogan, not a place."""
    return bool(_SLOGAN.search(re.sub(r"\s+", "", name)))


_NUMERAL = re.compile(r"^(?:[\d一二两三四五六七八九十百千]+(?:个|条|大|座|家|处|批|片|类|级|种|型)?)")


def _only_modifiers(rest: str, single_ok: bool) -> bool:
    """Can ``rest`` be written as a sequence of generic modifiers (and numerals)?"""
    mods = words().modifiers
    ok = [False] * (len(rest) + 1)
    ok[0] = True
    for i in range(len(rest)):
        if not ok[i]:
            continue
        m = _NUMERAL.match(rest[i:])
        if m:
            ok[i + m.end()] = True
        for mod in mods:
            if (single_ok or len(mod) > 1) and rest.startswith(mod, i):
                ok[i + len(mod)] = True
    return ok[len(rest)]


def only_modifiers(name: str) -> bool:
    """``旅游消费``, ``特色`` — generic modifiers only, no place word at all."""
    n = re.sub(r"\s+", "", name)
    return bool(n) and _only_modifiers(n, single_ok=False)


def is_generic(name: str) -> bool:
    """``夜商圈``, ``重点商圈``, ``特色街区``, ``示范夜街区``, ``五大商圈`` — a place suffix with only
    generic modifiers before it.  ``中华路商圈`` and ``大港`` are not generic (a one-character
    suffix like 港/湾/岛 needs more than a one-character modifier to be generic)."""
    n = re.sub(r"\s+", "", name)
    if not n:
        return False
    for suffix in words().generic_suffixes:
        if not n.endswith(suffix):
            continue
        rest = n[: len(n) - len(suffix)]
        if not rest:
            return True
        if _only_modifiers(rest, single_ok=len(suffix) > 1):
            return True
    return False


# ---------------------------------------------------------------- mentions in context
def _run_right(text: str, end: int) -> int:
    """End of the name run that continues a mention ending at ``end`` (to punctuation or a verb)."""
    j = end
    limit = min(len(text), end + MAX_RUN)
    while j < limit and text[j] not in PUNCT:
        if _BREAK_RE.match(text, j):
            break
        j += 1
    return j


def _in_brand_list(text: str, start: int, end: int) -> str | None:
    """``“余东酱油”“颐生”“淘米记”等老字号品牌`` — a quoted item of a list of brands."""
    q0 = text.rfind("“", 0, start)
    q1 = text.find("”", end)
    if q0 < 0 or q1 < 0 or "”" in text[q0 + 1:start] or "“" in text[end:q1]:
        return None
    k = q1 + 1
    while k < len(text) and text[k] in "“、，,":          # further quoted items of the same list
        close = text.find("”", k)
        if text[k] != "“" and text[k + 1:k + 2] != "“":
            break
        if close < 0:
            break
        k = close + 1
    tail = text[k:k + 10]
    for marker in words().list_markers:
        if marker in tail:
            return f"brand: quoted in a list of {marker}"
    return None


def in_org_list(text: str, start: int, end: int) -> str | None:
    """``两江新区、重庆高新区、万盛经开区管委会``: items listed before a shared organisation suffix
    are organisations too.  Returns the list's last item, else ``None``."""
    a = max(text.rfind(ch, 0, start) for ch in "，,。；;：:（(\n") + 1
    bs = [i for i in (text.find(ch, end) for ch in "，,。；;：:）)\n") if i >= 0]
    b = min(bs) if bs else len(text)
    seg = text[a:b]
    if "、" not in seg:
        return None
    last = seg.split("、")[-1].strip()
    if org_suffix(last) and text[end:b].startswith("、"):
        return last
    return None


def is_org_context(text: str, start: int, end: int) -> str | None:
    """Why the mention ``text[start:end]`` is not a place, or ``None`` if it may be one.

    Reasons: ``responsible unit list`` (inside ``(责任单位：…）`` and the like),
    ``organisation: 天津港集团`` (the mention's name run ends in 集团/管委会/政府/局/公司…),
    ``event: 白云机场商务航空展``, ``brand: 余东酱油`` (or a quoted list of brands).
    """
    for s, e in _responsible_spans(text):
        if s <= start and end <= e or (start < e and s < end):
            return "responsible unit list"
    j = _run_right(text, end)
    for k in range(j, end - 1, -1):            # the longest reading wins: 青岛国际啤酒节 is an event
        candidate = text[start:k]
        # inside the run only suffixes of two or more characters count (天津港集团拓展 → 集团, but
        # not 天津港节能 → 节); a one-character suffix must end the run (区商务局。)
        for what, suffix in (("organisation", org_suffix(candidate)), ("event", event_suffix(candidate)),
                             ("brand", brand_suffix(candidate))):
            if suffix and (k == j or len(suffix) > 1):
                return f"{what}: {candidate}"
    last = in_org_list(text, start, end)
    if last:
        return f"organisation: listed before {last}"
    return _in_brand_list(text, start, end)
