"""Measure the place recogniser against hand-labelled plan texts (``tests/plans/*.labels.json``).

Matching is per mention: a recognised mention counts as correct when a labelled mention of the
same text has the same normalised name (``normalise_name``) and has not been matched yet (so two
labelled 东港 need two recognised 东港).  Precision = correct / recognised, recall = correct /
labelled.  Category agreement is reported among the correct ones (not part of either figure).
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .recognise import recognise_plan
from .text import normalise_name

__all__ = ["TextScore", "score_text", "score_set", "load_labels"]


@dataclass
class TextScore:
    name: str
    held_out: bool
    labelled: int
    recognised: int
    correct: int
    same_category: int
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.recognised if self.recognised else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.labelled if self.labelled else 1.0


def load_labels(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def score_text(labels_path: Path) -> TextScore:
    from .importer import preview_plan
    labels = load_labels(labels_path)
    text_path = labels_path.with_name(labels["text"])
    preview = preview_plan(text_path, period=(2000, 2000))
    found = recognise_plan(preview.plan)
    want = Counter(normalise_name(p["surface"]) for p in labels["places"])
    cats: dict[str, list[str]] = {}
    for p in labels["places"]:
        cats.setdefault(normalise_name(p["surface"]), []).append(p["category"])
    correct = same = 0
    spurious = []
    for m in found:
        k = m.key
        if want[k] > 0:
            want[k] -= 1
            correct += 1
            if cats[k] and m.category in cats[k]:
                cats[k].remove(m.category)
                same += 1
        else:
            spurious.append(m.surface)
    missed = [k for k, n in want.items() for _ in range(n)]
    return TextScore(labels_path.name.split(".")[0], bool(labels.get("held_out")), len(labels["places"]),
                     len(found), correct, same, missed, spurious)


def score_set(folder: Path) -> list[TextScore]:
    return [score_text(p) for p in sorted(Path(folder).glob("*.labels.json"))]


def totals(scores: list[TextScore]) -> dict:
    lab = sum(s.labelled for s in scores)
    rec = sum(s.recognised for s in scores)
    cor = sum(s.correct for s in scores)
    same = sum(s.same_category for s in scores)
    return {"texts": len(scores), "labelled": lab, "recognised": rec, "correct": cor,
            "precision": cor / rec if rec else 1.0, "recall": cor / lab if lab else 1.0,
            "category_agreement": same / cor if cor else 1.0}
