"""Team store under load (issue 17): 8 concurrent clients against one PostGIS, each accepting
1,000 survey rows (100 accept operations of 10 rows, each based on the versions of its sites it
just read — a colleague's commit in between is a conflict)
and placing 200 features; then the same workload on the embedded GeoPackage with one client.

    python benchmarks/store.py [--clients 8] [--rows 1000] [--places 200]

Starts a throwaway PostgreSQL + PostGIS cluster (tests/pgcluster.py; Debian packages
postgresql postgis). Prints throughput, latency percentiles, and the bookkeeping that proves
nothing was lost: applied + reported-conflict = attempted, and every operation a client was told
"applied" is in the store's log (and nothing else is).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _client(url: str, seed: int, rows: int, places: int, batch: int) -> None:
    """One client process: prepare, wait for "go", run, print one JSON line."""
    import shapely

    from planatlas.layers import store
    from planatlas.layers.gazetteer import load_features
    from planatlas.layers.survey import SurveyRow, check_rows

    rnd = random.Random(seed)
    feats = [f for f in load_features() if f.geometry.geom_type == "Point"]
    reports = []
    for k in range(rows // batch):
        chosen = rnd.sample(feats, batch)
        srows = [SurveyRow(row=i + 1, where=f"r{i + 1}", name=f.name,
                           lon=f.geometry.x + rnd.uniform(-0.002, 0.002),
                           lat=f.geometry.y + rnd.uniform(-0.002, 0.002)) for i, f in enumerate(chosen)]
        reports.append(check_rows(srows, chosen, crs="wgs84", source=f"client{seed}-{k}.csv"))
    s = store.open_store(url, offline_ok=False)
    s.last_seq()
    print("ready", flush=True)
    sys.stdin.readline()
    lat, applied, conflicts, ops, accepted_rows = [], 0, 0, [], 0
    jobs = [("accept", r) for r in reports] + [("place", i) for i in range(places)]
    rnd.shuffle(jobs)
    t_start = time.perf_counter()
    for kind, job in jobs:
        t0 = time.perf_counter()
        try:
            if kind == "accept":
                res = s.accept(job, base_versions=s.versions(list(job.features)))
                ops.append(res["op"])
                accepted_rows += len(res["accepted"])
            else:
                op = s.place_feature(f"压测点{seed}-{job}", shapely.Point(113.2 + rnd.random() * 0.3,
                                                                      23.0 + rnd.random() * 0.2),
                                     "guangzhou", "commercial_district", 25)
                ops.append(op.op_id)
            applied += 1
        except store.ConflictError:
            conflicts += 1
        lat.append(time.perf_counter() - t0)
    print(json.dumps({"applied": applied, "conflicts": conflicts, "attempted": len(jobs), "ops": ops,
                      "lat": lat, "rows": accepted_rows, "wall": time.perf_counter() - t_start}), flush=True)


def _run(url: str, clients: int, rows: int, places: int, batch: int) -> dict:
    procs = [subprocess.Popen([sys.executable, __file__, "--client", url, str(i), str(rows), str(places),
                               str(batch)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ)) for i in range(clients)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    t0 = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [json.loads(p.stdout.readline()) for p in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.wait()
    from planatlas.layers import store
    s = store.open_store(url, offline_ok=False)
    logged = {o.op_id for o in s.operations() if o.kind in ("accept", "place")}
    s.close()
    claimed = [op for r in results for op in r["ops"]]
    lat = sorted(x for r in results for x in r["lat"])
    q = statistics.quantiles(lat, n=100)
    return {"clients": clients, "attempted": sum(r["attempted"] for r in results),
            "applied": sum(r["applied"] for r in results), "conflicts": sum(r["conflicts"] for r in results),
            "rows": sum(r["rows"] for r in results), "wall": wall, "ops_per_s": len(lat) / wall,
            "p50_ms": q[49] * 1000, "p95_ms": q[94] * 1000, "p99_ms": q[98] * 1000,
            "lost": len(set(claimed) - logged), "unclaimed": len(logged - set(claimed))}


def _print(name: str, r: dict) -> None:
    ok = r["applied"] + r["conflicts"] == r["attempted"] and r["lost"] == 0 and r["unclaimed"] == 0
    print(f"{name}: {r['clients']} client(s), {r['attempted']} operations in {r['wall']:.1f} s — "
          f"{r['ops_per_s']:.0f} op/s; latency p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, "
          f"p99 {r['p99_ms']:.0f} ms")
    print(f"   applied {r['applied']} + reported conflicts {r['conflicts']} = {r['applied'] + r['conflicts']}"
          f" of {r['attempted']} attempted; survey rows accepted {r['rows']}; lost {r['lost']}, "
          f"in the log but never reported {r['unclaimed']} → {'OK' if ok else 'FAILED'}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        url, seed, rows, places, batch = sys.argv[2], *map(int, sys.argv[3:7])
        _client(url, seed, rows, places, batch)
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--places", type=int, default=200)
    ap.add_argument("--batch", type=int, default=10, help="survey rows per accept operation")
    args = ap.parse_args()
    from pgcluster import Cluster
    from planatlas.layers.store.postgis import init_server

    with Cluster() as pg:
        url = pg.new_database("bench")
        init_server(url)
        _print("PostGIS", _run(url, args.clients, args.rows, args.places, args.batch))
    with tempfile.TemporaryDirectory() as d:
        _print("GeoPackage", _run(str(Path(d) / "store.gpkg"), 1, args.rows, args.places, args.batch))


if __name__ == "__main__":
    main()
