"""Measure the target comparison: mapping every target to a canonical indicator, and drawing the
charts (PNG at 200 dpi, SVG). Prints medians of N runs (default 7).

    python benchmarks/compare.py [N]
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _median_ms(fn, n: int) -> tuple[float, float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times), max(times)


def main(n: int = 7) -> None:
    code = ("import time; t = time.perf_counter(); from PySide6.QtWidgets import QApplication; "
            "t1 = time.perf_counter(); import matplotlib; from matplotlib.figure import Figure; "
            "from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg; "
            "print((time.perf_counter() - t1) * 1000)")
    imports = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(n)]
    print(f"import matplotlib + Qt canvas after PySide6: {statistics.median(imports):.0f} ms median "
          f"({min(imports):.0f}-{max(imports):.0f}, {n} fresh processes)")

    from planatlas.layers import charts
    from planatlas.layers.atlas import load_atlas
    from planatlas.layers.compare import compare, map_plan
    from planatlas.layers.indicators import vocabulary

    atlas = load_atlas()
    vocabulary()
    targets = sum(len(p.targets) for p in atlas.plans.values())
    med, lo, hi = _median_ms(lambda: [map_plan(p) for p in atlas.plans.values()], n)
    print(f"map {targets} targets of {len(atlas.plans)} plans (classify, normalise, duplicates, "
          f"growth): {med:.0f} ms median ({lo:.0f}-{hi:.0f})")
    rows = compare(atlas)
    plans = [(p.id, p.region.district or p.region.city, p.period) for p in atlas.plans.values()]
    charts.chart_font()
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in [
            ("bars, 1 indicator", lambda: charts.bars_figure(rows, "retail_sales")),
            ("bars, 8 indicators", lambda: charts.bars_figure(rows, [
                "retail_sales", "foreign_trade", "cross_border_ecommerce", "service_outsourcing",
                "container_throughput", "visitors", "tourism_revenue", "logistics_hubs"])),
            ("timeline", lambda: charts.timeline_figure(rows, plans)),
            ("growth", lambda: charts.growth_figure(rows)),
        ]:
            for fmt in ("png", "svg"):
                out = Path(tmp) / f"c.{fmt}"
                med, lo, hi = _median_ms(lambda: charts.save_figure(make(), out), n)
                print(f"chart {name} → {fmt.upper()}: {med:.0f} ms median ({lo:.0f}-{hi:.0f}), "
                      f"{out.stat().st_size // 1024} kB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
