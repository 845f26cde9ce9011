"""Place recogniser: precision and recall per labelled text (tests/plans/), and its speed.

    python benchmarks/recognise.py

Prints, per text, labelled / recognised / correct mentions, precision, recall and category
agreement, then totals for the development texts, the held-out texts and all; then the median
time to recognise the places of the five seed plans (several runs; the machine is shared, so
treat times as ±30 %).
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

from planatlas.layers.catalog import load_plans
from planatlas.layers.evaluate import score_set, totals
from planatlas.layers.recognise import recognise_plan

PLANS = Path(__file__).resolve().parents[1] / "tests" / "plans"


def main() -> None:
    scores = score_set(PLANS)
    print(f"{'text':20} {'set':5} {'labelled':>8} {'found':>6} {'correct':>8} {'P':>6} {'R':>6} {'cat':>5}")
    for s in scores:
        print(f"{s.name:20} {'held' if s.held_out else 'dev':5} {s.labelled:8} {s.recognised:6} {s.correct:8} "
              f"{s.precision:6.2f} {s.recall:6.2f} {s.same_category:5}")
        if s.missed:
            print(f"{'':27}missed: {'、'.join(s.missed)}")
        if s.spurious:
            print(f"{'':27}spurious: {'、'.join(s.spurious)}")
    for label, group in (("development", [s for s in scores if not s.held_out]),
                         ("held out", [s for s in scores if s.held_out]), ("all", scores)):
        t = totals(group)
        print(f"{label:12} texts {t['texts']:2}  labelled {t['labelled']:3}  found {t['recognised']:3}  "
              f"correct {t['correct']:3}  precision {t['precision']:.3f}  recall {t['recall']:.3f}  "
              f"category agreement {t['category_agreement']:.3f}")
    plans = load_plans(include_user=False)
    for p in plans.values():          # warm up jieba and the caches once
        recognise_plan(p)
    runs = []
    for _ in range(5):
        from planatlas.layers import recognise
        recognise._tokens.cache_clear()
        recognise._descriptive.cache_clear()
        t0 = time.perf_counter()
        n = sum(len(recognise_plan(p)) for p in plans.values())
        runs.append(time.perf_counter() - t0)
    print(f"five seed plans: {n} mentions in {statistics.median(runs) * 1000:.0f} ms median of 5 runs "
          f"({min(runs) * 1000:.0f}-{max(runs) * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
