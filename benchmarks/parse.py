"""Time to parse all five seed plans (decode, normalise, clause tree, targets), after imports.

Run: python benchmarks/parse.py
"""
import statistics
import time
from pathlib import Path

from planatlas.layers.catalog import seed_entries, seeds_dir
from planatlas.layers.plan import parse_plan_bytes

entries = seed_entries()
blobs = [(e["id"], (seeds_dir() / e["file"]).read_bytes(), e) for e in entries]
total_bytes = sum(len(b) for _, b, _ in blobs)


def parse_all():
    n_clauses = n_targets = 0
    for pid, data, e in blobs:
        plan = parse_plan_bytes(data, pid, period=(e["period"]["start"], e["period"]["end"]))
        n_clauses += len(plan.clauses)
        n_targets += len(plan.targets)
    return n_clauses, n_targets


parse_all()  # warm-up (regex compilation)
runs = []
for _ in range(20):
    t0 = time.perf_counter()
    counts = parse_all()
    runs.append((time.perf_counter() - t0) * 1000)
print(f"plans: {len(blobs)}  bytes: {total_bytes:,}  clauses: {counts[0]}  targets+baselines: {counts[1]}")
print(f"parse all five plans: median {statistics.median(runs):.1f} ms, min {min(runs):.1f} ms, "
      f"max {max(runs):.1f} ms over {len(runs)} runs")
