"""Time to check a 100,000-row survey (``python benchmarks/sites.py [ROWS]``).

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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    feats = _features()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "survey.csv"
        t0 = time.perf_counter()
        build_survey(path, feats, n)
        t1 = time.perf_counter()
        report = check_survey(path, feats, crs="auto", tolerance_m=200)
        t2 = time.perf_counter()
        write_report(report, Path(tmp) / "report.csv")
        t3 = time.perf_counter()
        size = path.stat().st_size
    c = report.counts
    print(f"features: {len(feats)}; survey rows: {n:,} ({size / 1e6:.1f} MB CSV, built in {t1 - t0:.2f} s)")
    print(f"check_survey (auto CRS): {t2 - t1:.2f} s  ({n / (t2 - t1):,.0f} rows/s)")
    print(f"  crs: {report.crs.chosen} ({report.crs.status}, confidence "
          f"{report.crs.confidence if report.crs.confidence is None else round(report.crs.confidence, 3)})")
    print(f"  confirmed {c['confirmed']:,}  moved {c['moved']:,}  unmatched {c['unmatched']:,}  "
          f"invalid {c['invalid']:,}  not surveyed {c['not_surveyed']}")
    print(f"write_report (CSV): {t3 - t2:.2f} s")
    if not math.isfinite(t2 - t1):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
