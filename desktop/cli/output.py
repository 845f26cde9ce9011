"""Output helpers shared by every command: readable tables, stable JSON, list arguments."""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from typing import Any, Sequence

from planatlas.layers.errors import InputError

__all__ = ["print_table", "emit_json", "split_list", "get_atlas", "plan_of", "plan_list"]


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _cut(s: str, n: int) -> str:
    if _width(s) <= n:
        return s
    out, w = "", 0
    for ch in s:
        cw = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if w + cw > n - 1:
            return out + "…"
        out += ch
        w += cw
    return out


def print_table(rows: list[list[Any]], headers: list[str], max_width: int = 40, out=None) -> None:
    """Print rows as aligned columns (CJK characters count double), cells cut at ``max_width``."""
    out = out or sys.stdout
    cells = [[_cut(str("" if v is None else v).replace("\n", " "), max_width) for v in r] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(vals):
        return "  ".join(v + " " * (widths[i] - _width(v)) for i, v in enumerate(vals)).rstrip()

    print(line(headers), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in cells:
        print(line(r), file=out)


def emit_json(obj: Any, *, indent: int = 2) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=indent)
    sys.stdout.write("\n")


def split_list(values: str | Sequence[str] | None) -> list[str] | None:
    """``"a,b"`` or ``["a,b", "c"]`` (repeated options) → ``["a", "b", "c"]``; empty → None."""
    if not values:
        return None
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        out += [x.strip() for x in re.split(r"[,，\s]+", v) if x.strip()]
    return out or None


def get_atlas():
    from planatlas.layers.atlas import load_atlas
    return load_atlas()


def plan_of(at, pid: str):
    if pid not in at.plans:
        raise InputError(f"unknown plan {pid!r}; known plans: {', '.join(at.plans)}")
    return at.plans[pid]


def plan_list(at, value: str | Sequence[str] | None) -> list[str] | None:
    ids = split_list(value)
    for pid in ids or []:
        plan_of(at, pid)
    return ids
