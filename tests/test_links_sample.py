"""Links that mean places (issue 12): the hand-checked sample and the exclusions files.

``tests/data/link_sample.json`` holds 121 mentions read one by one in their sentence and found to
mean the place (``place: true``), drawn at random (seed 12) from the linker's output, plus every
mention of a feature name in the five seed plans that is a responsible unit, an organisation, an
event or a brand (``place: false``).  The linker must keep the first and drop the second; the
precision on the sample is reported in geodata/README.md.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from planatlas.layers.gazetteer import load_excluded
from planatlas.layers.nonplace import name_reason

SAMPLE = Path(__file__).parent / "data" / "link_sample.json"
NOT_A_PLACE = re.compile(r"^(?:organisation|company|office|event|brand|government|responsible)", re.I)


@pytest.fixture(scope="module")
def atlas():
    from planatlas.layers.atlas import load_atlas
    return load_atlas()


@pytest.fixture(scope="module")
def emitted(atlas):
    return {(m.plan, m.clause, m.in_note, m.start, m.end, m.feature)
            for f in atlas.features for m in atlas.mentions(f)}


def _key(item):
    return (item["plan"], item["clause"], item["in_note"], item["start"], item["end"], item["feature"])


def test_sample_is_big_enough_and_points_at_the_texts(atlas):
    items = json.loads(SAMPLE.read_text(encoding="utf-8"))["mentions"]
    assert sum(i["place"] for i in items) >= 100
    assert sum(not i["place"] for i in items) >= 20
    for i in items:
        c = atlas.plans[i["plan"]].clause(i["clause"])
        text = c.text if i["in_note"] is None else c.notes[i["in_note"]]
        assert text[i["start"]:i["end"]] == i["surface"], i


def test_link_precision_on_the_hand_checked_sample(emitted):
    items = json.loads(SAMPLE.read_text(encoding="utf-8"))["mentions"]
    kept = [i for i in items if _key(i) in emitted]
    correct = [i for i in kept if i["place"]]
    precision = len(correct) / len(kept)
    assert precision >= 0.98, [i["context"] for i in kept if not i["place"]]
    lost = [i["context"] for i in items if i["place"] and _key(i) not in emitted]
    assert not lost, lost
    wrong = [i["context"] for i in items if not i["place"] and _key(i) in emitted]
    assert not wrong, wrong


def test_issue_examples_are_not_places(atlas):
    surfaces = {(m.plan, m.surface) for f in atlas.features for m in atlas.mentions(f)}
    by_feature = {f: [m for m in atlas.mentions(f)] for f in atlas.features}
    texts = lambda fid: [atlas.plans[m.plan].clause(m.clause).text[m.start:m.end + 3]
                         for m in by_feature[fid] if m.in_note is None]
    assert not any(t.startswith("天津港集团") for t in texts("tj-bh-tianjin-port"))
    assert not any(t.startswith("东疆综保") for t in texts("tj-bh-dongjiang"))
    assert not any(t.startswith("杨柳青镇政") for t in texts("tj-xq-yangliuqing-town-night-zone"))
    assert not any(t.startswith("余东酱油") for t in texts("hm-yudong"))
    assert not any(t.startswith("白云机场商") for t in texts("gz-baiyun-airport"))
    # missed places now found: 南沙港 in the Zhongshan plan, 全球优品国际分拨中心 in Guangzhou
    assert ("zhongshan", "南沙港") in surfaces
    assert ("guangzhou", "全球优品国际分拨中心") in surfaces


def test_exclusions_and_linker_agree(atlas, emitted):
    """An exclusion that calls its surface an organisation, event or brand holds no linked mention,
    and every excluded surface the nonplace rules reject is also excluded for that kind of reason."""
    clashes = []
    for e in load_excluded():
        s = e["surface"]
        says_not_place = bool(NOT_A_PLACE.match(e["reason"])) or name_reason(s) is not None
        if not says_not_place:
            continue
        for pid, plan in atlas.plans.items():
            if e["plan"] not in (pid, "*"):
                continue
            for c in plan.clauses:
                for note_i, text in [(None, c.text), *enumerate(c.notes)]:
                    for occ in re.finditer(re.escape(s), text):
                        clashes += [(pid, s, k[5]) for k in emitted
                                    if k[:3] == (pid, c.id, note_i) and occ.start() <= k[3] and k[4] <= occ.end()
                                    and (k[3], k[4]) != occ.span()]
    assert clashes == []


def test_unlocated_explains_nonplace_candidates(atlas):
    items = atlas.unlocated("binhai")
    assert not [i for i in items if not i["explained"]]
