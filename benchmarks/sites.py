"""Time and memory to check big surveys (``python benchmarks/sites.py [ROWS …]``, default
100,000 and 1,000,000 rows; ``REPEATS=5``).

Builds a GCJ-02 CSV survey from the gazetteer features (the real atlas if it has located
features, else a synthetic set): every site repeated with GPS noise, 5 % of rows moved by
1 km, 3 % with unknown names, 1 % with broken coordinates. Then times ``check_survey`` with
CRS auto-detection, and the CSV report writing. Prints figures; asserts nothing.
"""
from __future__ import annotations

import csv
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planatlas.layers import crs as crsmod  # noqa: E402
from planatlas.layers.model import Feature  # noqa: E402
from planatlas.layers.survey import check_survey, feature_anchor, write_report  # noqa: E402
from shapely.geometry import Point  # noqa: E402


def _features() -> list[Feature]:
    try:
        from planatlas.layers.atlas import load_atlas

        feats = [f for f in load_atlas().features.values()
                 if f.geometry is not None and not f.geometry.is_empty]
    except Exception:  # noqa: BLE001
        feats = []
    if len(feats) >= 20:
        return feats
    rng = np.random.default_rng(1)
    out = []
    for i in range(300):
        lon, lat = 113.0 + rng.random() * 0.6, 22.8 + rng.random() * 0.6
        out.append(Feature(id=f"syn-{i}", name=f"测试站点{i}号", aliases=[f"站点{i}"],
                           categories=["commercial_district"], subtype="test", tier=None,
                           plans=["guangzhou"], district=f"区{i % 11}", adcode="440100",
                           geometry=Point(lon, lat), precision_m=100.0, source="synthetic",
                           status="approximate"))
    return out


def build_survey(path: Path, feats: list[Feature], n: int) -> None:
    rng = np.random.default_rng(42)
    idx = rng.integers(0, len(feats), n)
    anchors = np.array([feature_anchor(f) for f in feats])
    lon = anchors[idx, 0].copy()
    lat = anchors[idx, 1].copy()
    noise = rng.normal(0, 15, (n, 2))
    moved = rng.random(n) < 0.05
    noise[moved, 0] += 1000
    lat += noise[:, 1] / 111_320
    lon += noise[:, 0] / (111_320 * np.cos(np.radians(lat)))
    glon, glat = crsmod.convert(lon, lat, "wgs84", "gcj02")
    unknown = rng.random(n) < 0.03
    broken = rng.random(n) < 0.01
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["编号", "名称", "经度", "纬度", "备注"])
        for i in range(n):
            name = f"不存在的地点{i}" if unknown[i] else feats[idx[i]].name
            x = "abc" if broken[i] else f"{glon[i]:.6f}"
            w.writerow([i + 1, name, x, f"{glat[i]:.6f}", ""])


RUN = """
import json, resource, sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
import sites as S
from pathlib import Path
from planatlas.layers.survey import check_survey, write_report
feats = S._features()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter(); c0 = time.process_time()
report = check_survey({path!r}, feats, crs="auto", tolerance_m=200)
t1 = time.perf_counter(); c1 = time.process_time()
peak_check = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
write_report(report, Path({path!r}).with_name("report.csv"))
t2 = time.perf_counter(); c2 = time.process_time()
print(json.dumps({{"check": t1 - t0, "check_cpu": c1 - c0, "report": t2 - t1, "report_cpu": c2 - c1,
                  "rss_before": base, "rss_check": peak_check,
                  "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "counts": report.counts, "crs": [report.crs.chosen, report.crs.status,
                  report.crs.confidence], "features": len(feats)}}))
"""


def run(path: Path) -> dict:
    import json
    import subprocess
    code = RUN.format(root=str(ROOT), bench=str(ROOT / "benchmarks"), path=str(path))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800)
    if r.returncode:
        raise SystemExit(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    """Each size: the survey is written once, then checked (with CRS auto-detection) and the
    CSV report written in new processes (cold: imports and feature loading not counted, the
    check and report are), REPEATS times; medians, and the peak RSS of the process."""
    import os
    import statistics
    sizes = [int(a.replace("_", "")) for a in sys.argv[1:]] or [100_000, 1_000_000]
    repeats = int(os.environ.get("REPEATS", "5"))
    one, five, fifteen = os.getloadavg()
    print(f"survey check benchmark; load average {one:.2f} / {five:.2f} / {fifteen:.2f} "
          f"on {os.cpu_count()} cores; medians of {repeats} runs, each in a new process")
    feats = _features()
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "survey.csv"
            t0 = time.perf_counter()
            build_survey(path, feats, n)
            built = time.perf_counter() - t0
            runs = [run(path) for _ in range(repeats)]
            size = path.stat().st_size
        med = {k: statistics.median(r[k] for r in runs) for k in
               ("check", "check_cpu", "report", "report_cpu", "rss_check", "rss_peak", "rss_before")}
        c, crs = runs[0]["counts"], runs[0]["crs"]
        print(f"{n:>9,} rows ({size / 1e6:.1f} MB GCJ-02 CSV, {len(feats)} features; built in "
              f"{built:.1f} s): check {med['check']:.2f} s (CPU {med['check_cpu']:.2f} s), "
              f"report CSV {med['report']:.2f} s (CPU {med['report_cpu']:.2f} s); peak RSS "
              f"{med['rss_check']:.0f} MB after the check, {med['rss_peak']:.0f} MB after the report "
              f"({med['rss_before']:.0f} MB before)")
        print(f"          crs {crs[0]} ({crs[1]}, confidence {crs[2] if crs[2] is None else round(crs[2], 3)}); "
              f"confirmed {c['confirmed']:,}, moved {c['moved']:,}, unmatched {c['unmatched']:,}, "
              f"invalid {c['invalid']:,}, not surveyed {c['not_surveyed']}")


if __name__ == "__main__":
    main()
