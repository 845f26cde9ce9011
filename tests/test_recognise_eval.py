"""Place recognition measured on real plan texts from cities other than the seeds' (tests/plans/).

The labels were written by hand before the recogniser was run on a text; see tests/plans/README.md
for what counts as a place and for which texts were held out.  Figures: benchmarks/recognise.py.
"""
import json
from pathlib import Path

from planatlas.layers.evaluate import score_set, totals

PLANS = Path(__file__).parent / "plans"
SEED_CITIES = ("天津", "广州", "中山", "南通", "海门")


def test_the_set_is_real_and_from_other_cities():
    labels = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(PLANS.glob("*.labels.json"))]
    assert len(labels) >= 5
    for lab in labels:
        text = (PLANS / lab["text"]).read_text(encoding="utf-8")
        assert text.startswith("# 来源 source: http")             # every excerpt cites its source
        assert not any(c in lab["region"].get("city", "") for c in SEED_CITIES)
        assert len(text) >= 600                                  # excerpts of several hundred characters or more
    assert sum(len(lab["places"]) for lab in labels) >= 50
    assert any(lab["held_out"] for lab in labels) and not all(lab["held_out"] for lab in labels)


def test_recall_and_precision_on_the_labelled_set():
    t = totals(score_set(PLANS))
    assert t["recall"] >= 0.90, t
    assert t["precision"] >= 0.85, t


def test_every_labelled_organisation_and_generic_phrase_stays_out():
    for s in score_set(PLANS):
        lab = json.loads((PLANS / f"{s.name}.labels.json").read_text(encoding="utf-8"))
        assert not set(lab["not_places"]) & set(s.spurious), s.name
