"""Find the places an unseen plan names.

A plan of this genre names its places in a few recurring ways; each finder returns
:class:`PlaceMention` records and says *why* in ``why``:

* **enumeration** — items listed before a collective noun: ``青泥洼--天津街、西安路、香炉礁、
  奥林匹克广场、中华路五大商圈`` (a count that equals the number of items is the strongest
  evidence), ``东港、星海湾、机场前等区域商圈``, ``吴家山和滠口、…、常福“1+2+3”三级铁路物流基地``;
  a list right after 打造/建设 in a clause whose heading names the collective (``（二）打造夜街区``
  › ``重点打造塔河湾、小平岛、…``) counts with lower confidence;
* **suffix** — a name ending in one of the genre's place suffixes (商圈, 步行街, 港区, 物流园, 景区,
  公园, 湾, 岛 …, ``layers/data/places.toml``), cut on its left at punctuation, verbs (jieba
  part-of-speech tags plus a word list) and numbers;
* **quoted** — a quoted name with a place suffix (“美食文化街”);
* **segmenter** — a jieba ``ns`` (place name) token with a geographic ending (滨江路, 信江).

Everything :mod:`planatlas.layers.nonplace` rejects is dropped: responsible-unit lists,
organisations (…集团, …管委会), events, brands, slogans and generic phrases (夜商圈, 重点商圈), and
administrative units (they are regions, located by :mod:`planatlas.layers.locate`).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from . import nonplace
from .model import Clause, Plan
from .text import normalise_name

__all__ = ["PlaceMention", "recognise_text", "recognise_clause", "recognise_plan", "context_of",
           "warm_up"]

DATA = Path(__file__).resolve().parent / "data" / "places.toml"
PUNCT = set("，,。；;：:、！？!?（）()《》〈〉【】[]“”\"‘’'「」『』…·•/\\|\n\r\t 　<>")
DIGITS = set("0123456789０１２３４５６７８９%％.+＋")
# jieba part-of-speech flags that never sit inside a place name: verbs, prepositions, conjunctions,
# particles, adverbs, locality words (前, 周边, 两岸)
BREAK_FLAGS = {"v", "vd", "vn", "p", "c", "u", "uj", "ul", "uz", "ud", "ug", "uv", "d", "ad", "f", "l", "i"}
LEAD_FLAGS = {"v", "vd", "vn", "p", "d", "ad", "l", "i"}
PROPER_FLAGS = {"ns", "nz", "nrt"}     # jieba also tags common words nr (智慧, 温泉): not trusted
COMMON_FREQ = 300            # a word jieba has seen this often is a common word, not a name
STREET_ENDINGS = tuple("路街道巷桥门里坊")
GEO_ENDINGS = tuple("路街江河湖山岛湾港滩礁洲巷坊桥")
MAX_NAME = 16
WORD_GOES_ON = "地型式性化者"
MAX_ITEM = 12                # an enumerated name is at most this long
TYPE_ENDINGS = ("型", "式", "类", "性", "化")     # 港口型, 商贸服务型: kinds, not places
# between "等" and the collective noun these say the items are functions, not places
# ("分拣中心、智能仓储、冷链物流等业态于一体的综合性物流园区")
FUNCTION_WORDS = re.compile(r"业态|功能|于一体|为一体|领域|产业|行业|方面|服务|要素|资源|项目|设施")
BUILD_VERB = re.compile(r"(?:重点|着力|全力|加快|积极)?(?:打造|建设|培育|提升改造|改造提升|新建|规划建设)")
COUNT = re.compile(r"[一二两三四五六七八九十百\d]+(?:大|个|条|座|处|家|级|类|片)")


@dataclass
class PlaceMention:
    surface: str                 # as written in the clause
    name: str                    # display name: quotes and spaces removed, dashes unified
    clause: str                  # clause id ("" for bare text)
    start: int                   # offsets in the clause text (or in the note, see in_note)
    end: int
    line: int                    # original 1-based source line (0 when unknown)
    category: str                # proposed: commercial_district | night_economy | logistics_hub | scenic_area
    confidence: float            # 0..1
    why: str                     # which finder, with its evidence
    in_note: int | None = None

    @property
    def key(self) -> str:
        """Tolerant matching key (``normalise_name``)."""
        return normalise_name(self.name)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["key"] = self.key
        return d


@dataclass(frozen=True)
class _Words:
    suffixes: dict[str, str]
    suffix_list: tuple[str, ...]
    compound_after: tuple[str, ...]
    word_endings: tuple[str, ...]
    never: frozenset[str]
    nouns: dict[str, str]
    noun_list: tuple[str, ...]
    lead: tuple[str, ...]
    lead_re: re.Pattern


@lru_cache(maxsize=1)
def _words() -> _Words:
    with open(DATA, "rb") as fh:
        d = tomllib.load(fh)
    lead = tuple(sorted(set(d["verbs"]["lead"]), key=len, reverse=True))
    return _Words(
        suffixes=dict(d["suffixes"]),
        suffix_list=tuple(sorted(d["suffixes"], key=len, reverse=True)),
        compound_after=tuple(d["compound"]["after"]),
        word_endings=tuple(d["compound"]["endings"]),
        never=frozenset(d["compound"]["never"]),
        nouns=dict(d["nouns"]),
        noun_list=tuple(sorted(d["nouns"], key=len, reverse=True)),
        lead=lead,
        lead_re=re.compile("|".join(map(re.escape, lead))),
    )


@lru_cache(maxsize=1)
def _jieba():
    """jieba's part-of-speech tagger (MIT; its dictionary ships in the wheel, so it works offline)."""
    import logging

    import jieba
    import jieba.posseg as pseg
    jieba.setLogLevel(logging.WARNING)
    return pseg


@lru_cache(maxsize=4096)
def _descriptive(stem: str) -> bool:
    """Is the part of a name before its suffix made of common descriptive words only
    (品质型高端, 时尚活力核心, 汽车, 友好) rather than a proper name (梅江, 浙商, 知花)?

    Judged by jieba: a word jieba's dictionary has seen fewer than :data:`COMMON_FREQ` times (or a
    place/brand-tagged word seen fewer than ten times that) makes it a name; a street (…路,
    …街) is a name even when made of common words (青年路, 航空路)."""
    import jieba
    stem = re.sub(r"[-—－–\s]", "", stem)
    if not stem or stem.endswith(STREET_ENDINGS):
        return False
    if stem.endswith(TYPE_ENDINGS):          # 精品化园区, 枢纽型商圈
        return True
    jieba.dt.check_initialized()
    freq = jieba.dt.FREQ
    admin = _admin_names()
    for tok in _jieba().cut(stem, HMM=True):
        if tok.word in admin:
            return False
        f = freq.get(tok.word) or 0
        if f < COMMON_FREQ or (tok.flag in PROPER_FLAGS and f < 10 * COMMON_FREQ):
            return False
    return True


@lru_cache(maxsize=2048)
def _tokens(text: str) -> tuple[tuple[int, int, str, str], ...]:
    out, pos = [], 0
    for tok in _jieba().cut(text, HMM=True):
        w, flag = tok.word, tok.flag
        out.append((pos, pos + len(w), w, flag))
        pos += len(w)
    return tuple(out)


def _admin_names() -> frozenset[str]:
    from .admin import admin_names
    return admin_names()


# ---------------------------------------------------------------- helpers
def _breakers(text: str) -> list[bool]:
    """Per character: may this character NOT be part of a place name?"""
    w = _words()
    brk = [ch in PUNCT or ch in DIGITS for ch in text]
    for m in re.finditer(r"——|……|…", text):       # 破折号: punctuation (a single — or -- joins names)
        for i in range(m.start(), m.end()):
            brk[i] = True
    for m in w.lead_re.finditer(text):
        for i in range(m.start(), m.end()):
            brk[i] = True
    for s, e, word, flag in _tokens(text):
        if flag in BREAK_FLAGS and word not in ("-", "--"):
            for i in range(s, e):
                brk[i] = True
    return brk


def _suffix_at(name: str) -> str | None:
    """The place suffix ``name`` ends with, if its name part is long enough."""
    w = _words()
    for suf in w.suffix_list:
        if name.endswith(suf):
            stem = name[: len(name) - len(suf)]
            if len(suf) == 1 and len(re.sub(r"[-—－]", "", stem)) < 2:
                continue
            if not stem and suf not in ("奥特莱斯",):
                continue
            return suf
    return None


def display_name(surface: str) -> str:
    s = re.sub(r"\s+", "", surface).strip("“”\"'‘’「」『』")
    return re.sub(r"[-—－–]{1,3}", "-", s)


def _reject(text: str, s: int, e: int) -> str | None:
    """Why ``text[s:e]`` is not a place (nonplace rules, admin units, slogans), else ``None``."""
    name = display_name(text[s:e])
    if len(name) < 2 or len(name) > MAX_NAME:
        return "length"
    if name in _words().never:
        return "never"
    if re.search(r"\d", name):
        return "number"
    reason = nonplace.name_reason(name) or nonplace.is_org_context(text, s, e)
    if reason:
        return reason
    if nonplace.is_slogan(name):
        return "slogan"
    if name.endswith(TYPE_ENDINGS):
        return "type word"
    if name.startswith(("各", "一批", "一些", "多个", "若干", "全域", "全市", "全区")):
        return "collective"
    if re.search(r"人民政府|政府|管委会|委员会|印发", name):
        return "organisation inside"
    if name in _admin_names():
        return "administrative unit"
    return None


def _strip_lead(text: str, s: int, e: int) -> int:
    """Move ``s`` past leading verbs/modifiers (``重点打造青泥洼`` → ``青泥洼``)."""
    w = _words()
    changed = True
    while changed and s < e:
        changed = False
        for lead in w.lead:
            if text.startswith(lead, s) and s + len(lead) < e:
                s += len(lead)
                changed = True
                break
    # and past the last verb/preposition/adverb jieba finds inside the item (not a conjunction:
    # 吴家山和滠口 is two names)
    for ts, te, word, flag in _tokens(text):
        if s <= ts and te < e and flag in LEAD_FLAGS and te > s:
            s = te
    return s


def _category(suffix_or_noun: str, table: dict[str, str], context: str) -> str:
    cat = table.get(suffix_or_noun, "commercial_district")
    if cat in ("commercial_district",) and re.search(r"夜间|夜经济|夜市|夜商圈|夜街区|不夜", context):
        return "night_economy"
    return cat


# ---------------------------------------------------------------- finders
def _suffix_mentions(text: str, brk: list[bool], context: str) -> list[tuple[int, int, str, float, str]]:
    w = _words()
    out = []
    i, n = 0, len(text)
    while i < n:
        if brk[i]:
            i += 1
            continue
        j = i
        while j < n and not brk[j]:
            j += 1
        run_end, last = j, None
        for k in range(i + 2, run_end + 1):
            cand = text[i:k]
            suf = _suffix_at(cand)
            if not suf:
                continue
            nxt = text[k:k + 2]
            if len(suf) == 1 and any(nxt.startswith(c[1:]) for c in w.compound_after if c[0] == suf):
                continue
            if len(suf) == 1 and cand.endswith(w.word_endings):
                continue
            if nxt[:1] and nxt[0] in WORD_GOES_ON:
                continue              # 岭南文化中心地, 枢纽型: the word goes on past the suffix
            last = (k, suf)
        if last:
            k, suf = last
            s = _strip_lead(text, i, k)
            while s < k and text[s] in "个条座家处批所项" and s > 0 and text[s - 1] in DIGITS:
                s += 1
            if k - s > MAX_NAME:
                s = k - MAX_NAME
            stem = text[s:k - len(suf)]
            if _suffix_at(text[s:k]) and not _descriptive(stem) and not _reject(text, s, k):
                conf = 0.8 if len(suf) > 1 else 0.6
                out.append((s, k, _category(suf, w.suffixes, context), conf, f"suffix {suf}"))
        i = j
    return out


_SEGMENT = re.compile(r"[^，,。；;：:\n（）()]+")


def _enumeration_mentions(text: str, context: str, heading_context: str) -> list[tuple[int, int, str, float, str]]:
    w = _words()
    out = []
    for seg in _SEGMENT.finditer(text):
        body, base = seg.group(0), seg.start()
        if "、" not in body and not re.search(r"[\u4e00-\u9fff]和[\u4e00-\u9fff]", body):
            continue
        parts = body.split("、")
        if len(parts) < 2:
            continue
        # the tail: a collective noun after the last item ("五大商圈", "等区域商圈", "“1+2+3”三级…物流基地")
        last = parts[-1]
        cut, noun, fallback = None, None, False
        marker = re.search(r"等|“|" + COUNT.pattern, last)
        if marker:
            tail = last[marker.start():marker.start() + 24]
            for nn in w.noun_list:
                if nn in tail and not FUNCTION_WORDS.search(tail[:tail.find(nn)]):
                    cut, noun = marker.start(), nn
                    break
        if cut is None:
            best = None
            for nn in w.noun_list:
                if len(nn) < 3:
                    continue          # 街, 街区, 商圈 right after a name are part of it (南正街…)
                p = last.find(nn)
                if p > 0 and (best is None or p < best[0]):
                    best = (p, nn)
            if best:
                cut, noun = best
                fallback = True
        items: list[tuple[int, int]] = []
        off = base
        lead_len = len(parts[0]) - len(parts[0][_strip_lead(parts[0], 0, len(parts[0])):])
        if any("的" in p for p in parts[1:-1]) or "的" in parts[0][lead_len:] or \
                any(len(p) > MAX_ITEM for p in parts[1:-1]):
            continue
        for idx, part in enumerate(parts):
            p_end = off + (cut if (idx == len(parts) - 1 and cut is not None) else len(part))
            items.append((off, p_end))
            off += len(part) + 1
        last_name = last[:cut] if cut is not None else last
        if "的" in last_name or len(last_name) > MAX_ITEM + 4:
            continue
        why_noun, conf = None, 0.0
        if noun:
            why_noun, conf = noun, 0.85
            cm = COUNT.match(last[cut:]) if cut is not None else None
            if cm:
                num = _cn_number(cm.group(0))
                conf = 0.95 if num == _count_items(text, items) else 0.7
        else:
            # a bare list right after a verb, in a clause whose heading names the collective
            head = re.search(r"(?:打造|建设|培育|提升|发展)[^，。]{0,4}?(" + "|".join(map(re.escape, w.noun_list))
                             + ")", heading_context)
            head_noun = head.group(1) if head else None
            first = body[: len(parts[0])]
            if head_noun and len(parts) >= 3 and BUILD_VERB.match(first.lstrip()) and all(
                    1 <= len(p.strip("…").strip()) <= 8 and "等" not in p for p in parts[1:]):
                why_noun, conf = head_noun, 0.6
                items = [(s, e - len(text[s:e]) + len(text[s:e].rstrip("…. "))) for s, e in items]
        if not why_noun:
            continue
        if cut is not None and noun:
            evidence = last[cut:last.find(noun, cut) + len(noun)]
        else:
            evidence = f"{why_noun} (heading)"
        for k, (s, e) in enumerate(items):
            for s2, e2 in _split_joined(text, s, e, first=(k == 0)):
                if e2 - s2 < 2 or (fallback and _descriptive(text[s2:e2])):
                    continue
                out.append((s2, e2, w.nouns.get(why_noun, "commercial_district"), conf, f"enumeration before {evidence}"))
    return out


def _split_joined(text: str, s: int, e: int, first: bool):
    """An item may hold ``A和B`` / ``A以及B`` (吴家山和滠口); the first item starts after its verb.

    Pieces that are verb phrases (做强做大, 港澳所需) or generic words only (旅游消费) are dropped."""
    if first:
        s = _strip_lead(text, s, e)
    item = text[s:e]
    pieces = re.split(r"(以及|和|及|与)", item)
    pos = s
    for p in pieces:
        if p in ("以及", "和", "及", "与"):
            pos += len(p)
            continue
        ps, pe = pos, pos + len(p)
        pos = pe
        if first and len(pieces) > 1:
            ps = _strip_lead(text, ps, pe)
        piece = text[ps:pe]
        toks = [t for t in _jieba().cut(piece) if t.word.strip("-—")]
        if not toks or (toks[-1].flag in BREAK_FLAGS - {"f"} and len(toks) > 1) or all(t.flag in BREAK_FLAGS for t in toks):
            continue
        if nonplace.only_modifiers(piece):
            continue
        yield ps, pe


def _count_items(text: str, items) -> int:
    n = 0
    for k, (s, e) in enumerate(items):
        n += sum(1 for _ in _split_joined(text, s, e, first=(k == 0)))
    return n


CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _cn_number(count: str) -> int | None:
    digits = re.sub(r"(大|个|条|座|处|家|级|类|片)$", "", count)
    if digits.isdigit():
        return int(digits)
    if len(digits) == 1:
        return CN_NUM.get(digits)
    if len(digits) == 2 and digits[0] == "十":
        return 10 + CN_NUM.get(digits[1], 0)
    if len(digits) == 2 and digits[1] == "十":
        return CN_NUM.get(digits[0], 0) * 10
    return None


def _quoted_mentions(text: str, context: str) -> list[tuple[int, int, str, float, str]]:
    w = _words()
    out = []
    for m in re.finditer(r"[“\"「『]([^”\"」』]{2,14})[”\"」』]", text):
        name = m.group(1)
        suf = _suffix_at(name)
        stem = name[: len(name) - len(suf)] if suf else ""
        if suf and not _descriptive(stem) and not any(
                t.flag in BREAK_FLAGS for t in _jieba().cut(stem)):
            out.append((m.start(1), m.end(1), _category(suf, w.suffixes, context), 0.75, "quoted name"))
    return out


def _segmenter_mentions(text: str, context: str) -> list[tuple[int, int, str, float, str]]:
    out = []
    for s, e, word, flag in _tokens(text):
        # two-character ns tokens (新港, 东港) are as often a district or a generic word as a place
        if flag != "ns" or len(word) < 3 or not word.endswith(GEO_ENDINGS):
            continue
        if text[e:e + 1] and text[e] in "型式性化口澳务航城区":
            continue
        out.append((s, e, "night_economy" if "夜" in context else "scenic_area", 0.45, f"segmenter ns ({word})"))
    return out


# ---------------------------------------------------------------- public
def recognise_text(text: str, *, clause: str = "", heading_context: str = "", line_at=None,
                   in_note: int | None = None) -> list[PlaceMention]:
    """Place mentions in one text (a clause's text or one of its notes), in text order."""
    if not text.strip():
        return []
    brk = _breakers(text)
    blocked = nonplace.responsible_spans(text)
    found = []
    ctx = heading_context + text
    found += [(*f, 3) for f in _enumeration_mentions(text, ctx, heading_context)]
    found += [(*f, 2) for f in _quoted_mentions(text, ctx)]
    found += [(*f, 1) for f in _suffix_mentions(text, brk, ctx)]
    found += [(*f, 0) for f in _segmenter_mentions(text, ctx)]
    # the best reading of each span: higher confidence first, then the finder's rank, then longer
    found.sort(key=lambda f: (-f[3], -f[5], -(f[1] - f[0]), f[0]))
    quotes = [(m.start(1), m.end(1)) for m in re.finditer(r"[“\"「『]([^”\"」』]{1,40})[”\"」』]", text)]
    kept: list[tuple] = []
    for f in found:
        s, e = f[0], f[1]
        if any(bs <= s < be or bs < e <= be for bs, be in blocked):
            continue
        if any(qs <= s and e <= qe and (s, e) != (qs, qe) for qs, qe in quotes):
            continue              # a quote is one unit: “绿水青山就是金山银山” holds no place
        if any(s < ke and ks < e for ks, ke, *_ in kept):
            continue
        if _reject(text, s, e):
            continue
        kept.append(f)
    kept.sort(key=lambda f: f[0])
    out = []
    for s, e, cat, conf, why, _rank in kept:
        surface = text[s:e]
        out.append(PlaceMention(surface=surface, name=display_name(surface), clause=clause, start=s, end=e,
                                line=line_at(s) if line_at else 0, category=cat, confidence=round(conf, 2),
                                why=why, in_note=in_note))
    return out


def context_of(clause: Clause, by_id: dict[str, Clause]) -> str:
    """Headings of the clause and its ancestors (a list under ``（二）打造夜街区`` is about 夜街区)."""
    parts, c = [], clause
    while c is not None:
        parts.append(c.heading)
        c = by_id.get(c.parent) if c.parent else None
    return " ".join(parts)


def recognise_clause(clause: Clause, by_id: dict[str, Clause] | None = None) -> list[PlaceMention]:
    ctx = context_of(clause, by_id or {})
    out = recognise_text(clause.text, clause=clause.id, heading_context=ctx, line_at=clause.line_at)
    for i, note in enumerate(clause.notes):
        line = clause.note_lines[i] if i < len(clause.note_lines) else clause.lines[1]
        out += recognise_text(note, clause=clause.id, heading_context=ctx, line_at=lambda _o, ln=line: ln,
                              in_note=i)
    return out


def warm_up() -> None:
    """Load jieba's dictionary now (≈5 s the first time in a process) — a worker thread calls
    this first so that its progress can say so."""
    import jieba
    _jieba()
    jieba.dt.check_initialized()


def recognise_plan(plan: Plan, *, progress=None, cancel=None) -> list[PlaceMention]:
    """Every place mention of a plan, in document order (end matter — 抄送, 公开方式 — skipped).

    ``progress(fraction)`` is called after each clause; ``cancel()`` returning True stops with
    :class:`planatlas.layers.errors.Cancelled`."""
    by_id = {c.id: c for c in plan.clauses}
    out: list[PlaceMention] = []
    n = max(1, len(plan.clauses))
    for i, clause in enumerate(plan.clauses):
        if cancel is not None and cancel():
            from .errors import Cancelled
            raise Cancelled("place recognition cancelled")
        if clause.kind != "trailer":
            out += recognise_clause(clause, by_id)
        if progress is not None:
            progress((i + 1) / n)
    return out
