"""How fast Cancel stops a survey check: ``python benchmarks/cancel.py [REPEATS]``.

For big inputs in every format — a CSV of 190,000 rows, a KML/KMZ/GPX whose first placemark or
waypoint has a 15 MB description (cancel must act inside it), an XLSX of 150,000 rows — a ``cancel()`` callable starts returning True 0.2 s into ``check_survey``; the time from then
until :class:`CheckCancelled` arrives is the latency. Prints median and worst of REPEATS runs
(default 5) per format; asserts nothing. Machine load makes these figures noisy.
"""
from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planatlas.layers.gazetteer import load_features  # noqa: E402
from planatlas.layers.survey import CheckCancelled, check_survey  # noqa: E402

AFTER_S = 0.2


def _inputs(folder: Path) -> dict[str, Path]:
    huge = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(5_000_000))
    out = {}
    p = folder / "big.csv"
    p.write_text("名称,经度,纬度,备注\n" + "".join(f"站点{i},{113.3 + i * 1e-6:.6f},23.1,备注备注\n"
                                               for i in range(190_000)), encoding="utf-8")
    out["csv"] = p
    kml = ('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
           f"<name>x</name><description>{huge}</description><Point><coordinates>113.3,23.1"
           "</coordinates></Point></Placemark></Document></kml>").encode()
    (folder / "big.kml").write_bytes(kml)
    out["kml"] = folder / "big.kml"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("doc.kml", kml)
    (folder / "big.kmz").write_bytes(buf.getvalue())
    out["kmz"] = folder / "big.kmz"
    (folder / "big.gpx").write_bytes(
        ('<?xml version="1.0"?><gpx version="1.1" creator="t"><wpt lat="23.1" lon="113.3">'
         f"<name>a</name><desc>{huge}</desc></wpt></gpx>").encode())
    out["gpx"] = folder / "big.gpx"
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("s")
    ws.append(["名称", "经度", "纬度", "备注"])
    for i in range(150_000):
        ws.append([f"站点{i}", 113.3 + i * 1e-6, 23.1, "备注" * 10])
    wb.save(folder / "big.xlsx")
    out["xlsx"] = folder / "big.xlsx"
    return out


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    feats = load_features()
    with tempfile.TemporaryDirectory(prefix="planatlas-cancel-") as tmp:
        inputs = _inputs(Path(tmp))
        print(f"cancel latency, {repeats} runs per format (cancel() turns True {AFTER_S} s in)")
        for fmt, path in inputs.items():
            lat = []
            for _ in range(repeats):
                wanted = time.perf_counter() + AFTER_S      # the moment the user presses Cancel
                try:
                    check_survey(path, feats, cancel=lambda: time.perf_counter() >= wanted)
                    lat.append(float("nan"))      # finished before Cancel was pressed
                except CheckCancelled:
                    lat.append(time.perf_counter() - wanted)
            print(f"  {fmt:<5} {path.stat().st_size / 2**20:6.1f} MB  median {statistics.median(lat) * 1000:6.0f} ms"
                  f"  worst {max(lat) * 1000:6.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
