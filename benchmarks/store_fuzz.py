"""Fuzz the embedded store (issue 10): N damaged/hostile store files per kind, each opened and
used as the app and the CLI would (overlay, log, history, plan texts, undo, redo, place, move).

    python benchmarks/store_fuzz.py [N]      # default 10,000 per kind

Prints per kind: cases, bad outcomes (a traceback-type exception, lost features or a touched
foreign file — must be 0), quarantined files, the slowest case and peak memory.
"""
from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from store_fuzzing import break_bytes, break_sql, exercise, template  # noqa: E402
from test_sites_data import point_features, survey_features  # noqa: E402


def main() -> None:
    import random

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    pts = point_features(survey_features())[:10]
    with tempfile.TemporaryDirectory() as d:
        valid = template(Path(d) / "store.gpkg", pts)
    for kind in ("bytes", "values"):
        bad, quarantined, slowest, examples = 0, 0, 0.0, []
        t0 = time.perf_counter()
        for seed in range(n):
            rnd = random.Random(seed)
            with tempfile.TemporaryDirectory(prefix="planatlas-fuzz-") as d:
                path = Path(d) / "store.gpkg"
                if kind == "bytes":
                    path.write_bytes(break_bytes(valid, rnd))
                else:
                    path.write_bytes(valid)
                    break_sql(path, rnd)
                t = time.perf_counter()
                problems = exercise(path, pts)
                slowest = max(slowest, time.perf_counter() - t)
                quarantined += any(p.name.startswith("store.gpkg.quarantined") for p in Path(d).iterdir())
            if problems:
                bad += 1
                examples.append((seed, problems[0]))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{kind:<7} cases {n:>6}  bad {bad:>4}  quarantined {quarantined:>6}  "
              f"slowest {slowest:.2f} s  total {time.perf_counter() - t0:.0f} s  peak RSS {peak:.0f} MB")
        for seed, what in examples[:5]:
            print(f"   seed {seed}: {what}")


if __name__ == "__main__":
    main()
