"""Tolerant matching of survey names to gazetteer features (ids, names, aliases, core names)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable

from planatlas.layers.model import Feature

__all__ = ["normalize_name", "NameIndex"]

_NAME_PUNCT = re.compile(
    r"[\s·•・\-—–―‐_~～.,，。、;；:：'\"“”‘’()（）\[\]【】{}<>《》〈〉「」『』!！?？/\\|&＋+*#@]+")
_GENERIC_SUFFIXES = sorted(
    ["商圈", "步行街", "商业街", "商业区", "商业街区", "商业中心", "特色街区", "街区", "景区",
     "风景区", "风景名胜区", "旅游区", "旅游度假区", "度假区", "物流园", "物流园区", "产业园",
     "园区", "集聚区", "夜间经济集聚区", "夜市", "市场", "专业市场", "港区", "枢纽", "公园",
     "博物馆", "古镇"], key=len, reverse=True)


@lru_cache(maxsize=200_000)
def normalize_name(text: str) -> str:
    """Tolerant comparison key: NFKC (full/half width), case-folded, spaces and punctuation removed."""
    s = unicodedata.normalize("NFKC", str(text)).casefold()
    return _NAME_PUNCT.sub("", s)


def _core(key: str) -> str:
    for suf in _GENERIC_SUFFIXES:
        if key.endswith(suf) and len(key) - len(suf) >= 2:
            return key[: -len(suf)]
    return key


class NameIndex:
    """Feature lookup by id and by normalised name / alias / other_names."""

    def __init__(self, features: Iterable[Feature]):
        self.by_id: dict[str, Feature] = {}
        self.by_key: dict[str, list[str]] = {}
        self.by_core: dict[str, list[str]] = {}
        for f in features:
            self.by_id[f.id] = f
            names = [f.name, *f.aliases, *getattr(f, "other_names", ())]
            for n in names:
                if not n:
                    continue
                key = normalize_name(n)
                if not key:
                    continue
                lst = self.by_key.setdefault(key, [])
                if f.id not in lst:
                    lst.append(f.id)
                lst = self.by_core.setdefault(_core(key), [])
                if f.id not in lst:
                    lst.append(f.id)
        self._id_lower = {k.casefold(): k for k in self.by_id}
        self._by_first: dict[str, list[str]] = {}
        for k in self.by_key:
            if len(k) >= 3:
                self._by_first.setdefault(k[0], []).append(k)
        self._joined = "\x00".join(self.by_key)
        self._partial_cache: dict[str, tuple[list[str], str | None]] = {}

    def lookup(self, name: str | None, fid: str | None = None) -> tuple[list[str], str | None]:
        """Candidate feature ids and a note on how they were matched (None = exact)."""
        if fid:
            real = self._id_lower.get(str(fid).strip().casefold())
            if real:
                return [real], None
        if not name:
            return [], None
        key = normalize_name(name)
        if not key:
            return [], None
        hit = self.by_key.get(key)
        if hit:
            return hit, None
        return self._partial(key)

    def _partial(self, key: str) -> tuple[list[str], str | None]:
        cached = self._partial_cache.get(key)
        if cached is not None:
            return cached
        res: tuple[list[str], str | None] = ([], None)
        core = _core(key)
        hit = self.by_core.get(core)
        if hit and len(core) >= 2:
            res = (hit, f"matched by core name {core!r}")
        elif len(key) >= 3:
            cands: set[str] = set()
            via = None
            # feature names contained in the row's name
            for pos, ch in enumerate(key):
                for k in self._by_first.get(ch, ()):
                    if key.startswith(k, pos):
                        cands.update(self.by_key[k])
                        via = k
            # the row's name contained in a feature name
            if key in self._joined:
                for k, ids in self.by_key.items():
                    if len(k) >= 3 and key in k:
                        cands.update(ids)
                        via = k
            if len(cands) == 1:
                res = (sorted(cands), f"matched by partial name {via!r}")
        if len(self._partial_cache) < 100_000:
            self._partial_cache[key] = res
        return res
