"""A store client in its own process, for the concurrency and kill -9 tests and the benchmark.

    python store_worker.py loop URL TMP SEED       # accept/place/undo forever (until killed)
    python store_worker.py trials URL TMP FIRST N  # on each "go" line: one accept, print the outcome

``FIRST``..``FIRST+N`` selects which survey features this client accepts (two clients with
overlapping ranges meet conflicts; disjoint ones must both land).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from planatlas.layers import store  # noqa: E402
from planatlas.layers.survey import check_survey  # noqa: E402
from test_sites_data import point_features, survey_features, survey_points, write_csv  # noqa: E402


def reports(tmp: Path, feats, tag: str, k: int = 4):
    out = []
    for i in range(k):
        rows = [[f.name, x, y] for f, x, y in survey_points(feats, seed=i, noise_m=20 + 30 * i)]
        out.append(check_survey(write_csv(tmp / f"{tag}-{i}.csv", ["名称", "经度", "纬度"], rows), feats))
    return out


def main() -> None:
    mode, url, tmp = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    s = store.open_store(url, offline_ok=False)
    feats = point_features(survey_features())
    if mode == "loop":
        import shapely
        seed = int(sys.argv[4])
        reps = reports(tmp, feats[:10], f"loop{seed}")
        print("ready", flush=True)
        i = 0
        while True:
            try:
                s.accept(reps[i % len(reps)])
                s.place_feature(f"点{i}", shapely.Point(113.2 + (i % 50) / 1000, 23.1), "guangzhou",
                                "scenic_area", 10)
                if i % 3 == 2:
                    s.undo()
            except store.ConflictError:
                pass
            i += 1
    first, n = int(sys.argv[4]), int(sys.argv[5])
    mine = feats[first:first + n]
    reps = reports(tmp, mine, f"t{first}")
    base = s.versions()              # what this client "saw" before the signal
    print("ready", flush=True)
    i = 0
    for line in sys.stdin:
        if line.strip() != "go":
            break
        try:
            res = s.accept(reps[i % len(reps)], base_versions=base)
            out = {"op": res["op"]}
        except store.ConflictError as exc:
            out = {"conflict": str(exc)[:200]}
        i += 1
        base = s.versions()
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
