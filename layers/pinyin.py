"""Pinyin for searching Chinese names with a Latin keyboard, and romanised place names.

``tianhelu``, ``tian he lu`` and ``thl`` all find 天河路; ``changlong`` finds 长隆 although the
dictionary's first reading of 长 is zhang (every reading of a heteronym is tried). Readings come
from ``pypinyin`` (MIT, its dictionaries ship in the wheel; nothing is fetched).

:func:`romanise` gives an English form of an administrative name (滨海新区 → Binhai New Area,
广州市 → Guangzhou) for the English UI.
"""
from __future__ import annotations

import itertools
import re
from functools import lru_cache

__all__ = ["PinyinKey", "pinyin_keys", "match_pinyin", "is_pinyin_query", "romanise"]

_MAX_READINGS = 16          # combinations of heteronym readings kept per name
_HAN = re.compile(r"[\u3400-\u9fff]")


class PinyinKey(tuple):
    """(full, initials, syllable starts) — ``("tianhelu", "thl", (0, 4, 6))``."""
    __slots__ = ()

    @property
    def full(self) -> str:
        return self[0]

    @property
    def initials(self) -> str:
        return self[1]

    @property
    def starts(self) -> tuple[int, ...]:
        return self[2]


def _readings(text: str) -> list[list[str]]:
    from pypinyin import Style, pinyin
    out: list[list[str]] = []
    for chunk in pinyin(text, style=Style.NORMAL, heteronym=True, errors=lambda s: list(s)):
        alts = [re.sub(r"[^a-z0-9]", "", a.lower().replace("ü", "v")) for a in chunk]
        alts = list(dict.fromkeys(a for a in alts if a))
        if alts:
            out.append(alts)
    return out


@lru_cache(maxsize=4096)
def pinyin_keys(name: str) -> tuple[PinyinKey, ...]:
    """Search keys of a Chinese name: the usual reading, each other reading of one character,
    and (while few) whole combinations of heteronym readings."""
    if not _HAN.search(name or ""):
        return ()
    from pypinyin import Style, lazy_pinyin
    first = [re.sub(r"[^a-z0-9]", "", s.lower().replace("ü", "v"))
             for s in lazy_pinyin(name, style=Style.NORMAL, errors=lambda s: list(s))]
    first = [s for s in first if s]
    readings = _readings(name)
    combos = [first]
    if len(readings) == len(first):
        # every other reading of one character at a time, then whole combinations while few
        for i, alts in enumerate(readings):
            combos += [first[:i] + [a] + first[i + 1:] for a in alts if a != first[i]]
        combos += [list(c) for c in itertools.islice(itertools.product(*readings), _MAX_READINGS)]
    keys: dict[PinyinKey, None] = {}
    for syl in combos:
        starts, pos = [], 0
        for s in syl:
            starts.append(pos)
            pos += len(s)
        keys[PinyinKey(("".join(syl), "".join(s[0] for s in syl), tuple(starts)))] = None
    return tuple(keys)


def is_pinyin_query(text: str) -> bool:
    """True for a query of Latin letters (and spaces/apostrophes) of at least two letters."""
    q = re.sub(r"[\s']", "", text or "")
    return len(q) >= 2 and q.isascii() and q.isalpha()


def match_pinyin(query: str, name: str) -> int | None:
    """How well a Latin-letter ``query`` matches ``name`` by pinyin: 0 whole name (full pinyin or
    initials), 1 a prefix, 2 from a syllable inside the name; None for no match."""
    q = re.sub(r"[\s']", "", query or "").lower().replace("ü", "v")
    if not is_pinyin_query(q):
        return None
    best: int | None = None
    for key in pinyin_keys(name):
        if q == key.full or q == key.initials:
            return 0
        if key.full.startswith(q) or (len(q) >= 2 and key.initials.startswith(q)):
            best = 1 if best is None else min(best, 1)
        elif best is None and (any(key.full.startswith(q, s) for s in key.starts[1:])
                               or (len(q) >= 3 and q in key.initials)):
            best = 2
    return best


# ------------------------------------------------------------------ English names of places
_ADMIN_SUFFIX = (("新区", " New Area"), ("自治州", " Prefecture"), ("自治县", " County"),
                 ("特别行政区", " SAR"), ("省", " Province"), ("市", ""), ("区", " District"),
                 ("县", " County"), ("镇", " Town"), ("街道", " Subdistrict"))


@lru_cache(maxsize=512)
def romanise(name: str) -> str:
    """English form of a Chinese administrative name: pinyin of the stem, capitalised, with the
    unit translated (海门区 → Haimen District, 天津市 → Tianjin). Non-Chinese text is returned."""
    name = (name or "").strip()
    if not _HAN.search(name):
        return name
    stem, tail = name, ""
    for zh, en in _ADMIN_SUFFIX:
        if name.endswith(zh) and len(name) > len(zh) + 1:
            stem, tail = name[:-len(zh)], en
            break
    from pypinyin import Style, lazy_pinyin
    syl = [s for s in lazy_pinyin(stem, style=Style.NORMAL) if s.strip()]
    # an apostrophe where a syllable starting with a vowel would run into the one before (Xi'an)
    word = "".join(("'" if i and s[0] in "aeo" else "") + s for i, s in enumerate(syl))
    return word[:1].upper() + word[1:] + tail
